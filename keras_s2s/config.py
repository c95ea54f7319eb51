# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Frozen run configuration, passed explicitly and saved as JSON with every run.

A run is described by one `RunConfig`, made of five sections: model, tokenizer,
data, train and decode. Nothing is read from module-level globals: every function
that needs a hyperparameter receives the config (or one section of it).

Example:
    >>> cfg = RunConfig()
    >>> cfg = cfg.override(rnn="lstm", epochs=3)
    >>> RunConfig.from_json(cfg.to_json()) == cfg
    True
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

RNN_TYPES = ("gru", "lstm")
ATTENTION_TYPES = ("none", "bahdanau", "luong")
TOKENIZER_KINDS = ("sentencepiece", "char", "word")
SENTENCEPIECE_TYPES = ("unigram", "bpe")
NORMALIZATIONS = ("nmt_nfkc", "nfkc", "identity")
LUONG_SCORES = ("general", "dot")
CORPUS_FORMATS = ("tsv", "anki", "jsonl", "parallel")
STRATEGIES = ("none", "mirrored", "multiworker")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")  # keras_s2s.precision

# Special ids are part of the public contract (docs/design.md): every tokenizer,
# model and exported graph agrees on them.
PAD_ID = 0
UNK_ID = 1
SOS_ID = 2
EOS_ID = 3

# The widest beam any backend decodes: a bound on memory (the decoder state is
# [batch * beam, units]) that every backend enforces the same way.
MAX_BEAM_WIDTH = 64


class ConfigError(ValueError):
    """A configuration value is out of range or unknown."""


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if value <= 0:
        raise ConfigError(f"{name} must be positive; got {value!r}")


def _check_fraction(name: str, value: float, *, open_low: bool = False) -> None:
    if not (0.0 < value <= 1.0 if open_low else 0.0 <= value <= 1.0):
        raise ConfigError(f"{name} must be in {'(0' if open_low else '[0'}, 1]; got {value!r}")


def _field(
    default: Any,
    *,
    help: str | None = None,
    choices: tuple[str, ...] | None = None,
    flag: str | bool = True,
    metavar: str | None = None,
    command: str | None = None,
    default_help: str | None = None,
):
    """A config field and how the CLI offers it (`cli.config_flags` reads the metadata).

    Every field gets a flag named after it (`units` -> `--units`) unless `flag` says
    otherwise, so a new field is one edit here.

    Args:
        default: The field's default.
        help: A few words for `--help` (the default value is appended).
        choices: The allowed values of a string field.
        flag: `True`: `--field-name`; a string: that flag instead (fields that share
            one, like `--layers`, are all set by it); `False`: no flag.
        metavar: The value's name in `--help`.
        command: Offer the flag only on this command (the corpus flags: `train`).
        default_help: Replaces `default: VALUE` in `--help`.
    """
    metadata = {
        "help": help,
        "choices": choices,
        "flag": flag,
        "metavar": metavar,
        "command": command,
        "default_help": default_help,
    }
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Architecture of the encoder-decoder.

    Attributes:
        rnn: Recurrent cell type, `gru` or `lstm`.
        attention: `luong` (the default), `bahdanau`, or `none` (the final encoder state
            is the only link between encoder and decoder: the plain seq2seq model).
        embedding_dim: Size of the source and target token embeddings.
        units: Hidden size of every RNN layer (per direction for a bidirectional encoder).
        encoder_layers: Number of stacked encoder RNN layers.
        decoder_layers: Number of stacked decoder RNN layers; must equal `encoder_layers`
            because decoder layer i starts from encoder layer i's final state.
        bidirectional: Run the encoder in both directions. The forward and backward final
            states are summed, so the decoder keeps `units` hidden units.
        dropout: Dropout rate on embeddings and between RNN layers (never inside the cell,
            so the inference step is deterministic and converts to ONNX).
        teacher_forcing_ratio: Probability of feeding the true previous token while
            training. Below 1 enables scheduled sampling: the rest of the time the decoder
            is fed its own argmax prediction.
        luong_score: Luong attention score, `general` (`q . W m`) or `dot` (`q . m`;
            needs a memory as wide as the decoder, so not with `bidirectional`).
        luong_scaled: Divide Luong scores by `sqrt(units)` (scaled dot-product style;
            see `layers.LuongAttention`).
        input_feeding: Feed the previous attentional vector to the next decoder step
            (attention only; training then runs step by step, which is slower).
        target_vocabulary: Restrict the decoder (its embedding and output layer) to the
            pieces that occur in the training targets. With a vocabulary shared by two
            languages the output layer, the costliest layer, shrinks by about half;
            the decoder can then only write pieces it was trained to write. The
            tokenizer and the ids every signature takes and returns stay the joint ones.
    """

    rnn: str = _field("gru", choices=RNN_TYPES)
    attention: str = _field("luong", choices=ATTENTION_TYPES)
    embedding_dim: int = 128
    units: int = 256
    encoder_layers: int = _field(1, flag="--layers", help="encoder and decoder layers")
    decoder_layers: int = _field(1, flag="--layers", help="encoder and decoder layers")
    bidirectional: bool = _field(False, help="bidirectional encoder")
    dropout: float = 0.1
    teacher_forcing_ratio: float = _field(1.0, help="below 1: scheduled sampling")
    luong_score: str = _field("general", choices=LUONG_SCORES)
    luong_scaled: bool = _field(False, help="divide Luong scores by sqrt(units)")
    input_feeding: bool = _field(False, help="Luong input feeding")
    target_vocabulary: bool = _field(
        False, help="restrict the decoder to the pieces of the training targets"
    )

    def __post_init__(self):
        _check_choice("rnn", self.rnn, RNN_TYPES)
        _check_choice("luong_score", self.luong_score, LUONG_SCORES)
        if self.attention == "luong" and self.luong_score == "dot" and self.bidirectional:
            raise ConfigError(
                "luong_score 'dot' needs encoder outputs as wide as the decoder; "
                "use 'general' with a bidirectional encoder"
            )
        _check_choice("attention", self.attention, ATTENTION_TYPES)
        for name in ("embedding_dim", "units", "encoder_layers", "decoder_layers"):
            _check_positive(name, getattr(self, name))
        if self.encoder_layers != self.decoder_layers:
            raise ConfigError(
                "encoder_layers and decoder_layers must be equal (each decoder layer starts "
                f"from one encoder layer's state); got {self.encoder_layers} and "
                f"{self.decoder_layers}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1); got {self.dropout!r}")
        _check_fraction("teacher_forcing_ratio", self.teacher_forcing_ratio)


@dataclasses.dataclass(frozen=True)
class TokenizerConfig:
    """Subword, character or word tokenizer, all stored as one SentencePiece model.

    Attributes:
        kind: `sentencepiece` (subwords), `char` or `word`.
        model_type: SentencePiece algorithm for `kind="sentencepiece"`: `unigram` or `bpe`.
        vocab_size: Target vocabulary size, special ids included. It is an upper bound:
            a small corpus may yield fewer pieces.
        normalization: SentencePiece normalisation rule. `identity` keeps text and
            whitespace as they are (for code); `nmt_nfkc` is the default for prose.
        character_coverage: Share of training characters the vocabulary must cover;
            rarer characters become unk.
    """

    kind: str = _field("sentencepiece", choices=TOKENIZER_KINDS, flag="--tokenizer")
    model_type: str = _field("unigram", choices=SENTENCEPIECE_TYPES, help="SentencePiece")
    vocab_size: int = 4000
    normalization: str = _field("nmt_nfkc", choices=NORMALIZATIONS)
    character_coverage: float = _field(
        1.0, help="share of training characters the vocabulary covers"
    )

    def __post_init__(self):
        _check_choice("tokenizer", self.kind, TOKENIZER_KINDS)
        _check_choice("model_type", self.model_type, SENTENCEPIECE_TYPES)
        _check_choice("normalization", self.normalization, NORMALIZATIONS)
        if self.vocab_size < 8:
            raise ConfigError(f"vocab_size must be at least 8; got {self.vocab_size}")
        _check_fraction("character_coverage", self.character_coverage, open_low=True)


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Corpus reading and batching.

    Attributes:
        format: Corpus format: `tsv`, `anki`, `jsonl` or `parallel`.
        valid_fraction: Seeded share of the training file held out for validation when
            no validation file is given.
        max_source_length: Source tokens kept per sentence; longer sources are truncated
            (keeping the first tokens) and counted.
        max_target_length: Target tokens kept per sentence, `<eos>` included.
        skip_bad_lines: Skip malformed corpus lines instead of stopping, and report them.
    """

    format: str = _field(
        "tsv",
        choices=CORPUS_FORMATS,
        command="train",
        default_help="default: from a .tsv or .jsonl file name (optionally .gz), else tsv",
    )
    valid_fraction: float = _field(0.05, help="held-out share without --valid", command="train")
    max_source_length: int = _field(64, help="tokens; longer is cut")
    max_target_length: int = _field(64, help="tokens; longer is cut")
    skip_bad_lines: bool = _field(
        False,
        help="skip malformed lines",
        command="train",
        default_help="default: stop at the first one",
    )

    def __post_init__(self):
        _check_choice("format", self.format, CORPUS_FORMATS)
        if not 0.0 < self.valid_fraction < 1.0:
            raise ConfigError(f"valid_fraction must be in (0, 1); got {self.valid_fraction!r}")
        _check_positive("max_source_length", self.max_source_length)
        if self.max_target_length < 2:
            raise ConfigError(f"max_target_length must be at least 2; got {self.max_target_length}")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation.

    Attributes:
        batch_size: Sentence pairs per batch.
        epochs: Maximum number of epochs.
        learning_rate: Adam learning rate.
        clipnorm: Gradient clipping by global norm (0 disables it).
        patience: Epochs without validation-loss improvement before early stopping.
        seed: Seed for weights, shuffling, dropout and the validation hold-out.
        bucket_width: Width, in tokens, of the length buckets used for batching (0 turns
            bucketing off and pads every batch to its longest sentence).
        checkpoint_steps: Batches between resume checkpoints (besides every epoch end);
            a killed run resumes from the last one, at that exact batch.
        label_smoothing: Label smoothing of the training loss (0 turns it off).
        deterministic: Enable TensorFlow op determinism, so that a run (and a resumed
            run) is bit-for-bit reproducible, at some cost in speed.
        strategy: `none`, `mirrored` (local devices) or `multiworker` (workers listed in
            `TF_CONFIG`); see `keras_s2s.distribute`.
        time_budget_minutes: Wall-clock budget of the whole run, across epochs and
            resumes (0: none). Training stops after the batch that crosses it, then
            validates and saves. The learning rate follows the clock: held for the
            first half of the budget, then decayed linearly to a tenth at its end. A
            budgeted run is not bit-identical when resumed (the schedule follows time).
        jit_compile: XLA-compile the training and validation steps. Off by default:
            on CPU its compiling (once per batch shape) was not earned back (measured
            in docs/design.md, "XLA on CPU"). XLA draws other dropout masks than plain
            TensorFlow, so a run is reproduced (and resumed bit-identically) under the
            same setting.
        precision: `auto`, `float32` or `mixed_bfloat16` (float32 variables, bf16
            matmuls). `auto` trains in mixed_bfloat16 on a CPU with native bf16 (the
            `avx512_bf16` or `amx_bf16` flag), without GPU or distribution strategy,
            and in float32 elsewhere (`keras_s2s.precision`). The saved model and
            every export are float32 either way.
    """

    batch_size: int = 64
    epochs: int = 10
    learning_rate: float = 1e-3
    clipnorm: float = _field(1.0, help="gradient norm clipping; 0: off")
    patience: int = _field(3, help="epochs without improvement before stopping")
    seed: int = 0
    bucket_width: int = _field(4, help="length-bucket width in tokens; 0: off")
    checkpoint_steps: int = _field(200, help="batches between resume checkpoints")
    label_smoothing: float = 0.0
    deterministic: bool = _field(False, help="TensorFlow op determinism (bit-reproducible, slower)")
    strategy: str = _field(
        "none", choices=STRATEGIES, help="tf.distribute strategy (multiworker reads TF_CONFIG)"
    )
    time_budget_minutes: float = _field(
        0.0,
        flag="--time-budget",
        metavar="MINUTES",
        help="wall-clock budget of the whole run, across resumes; the learning rate "
        "decays with it; 0: none",
    )
    jit_compile: bool = _field(False, help="XLA-compile the train and validation steps")
    precision: str = _field(
        "auto",
        choices=PRECISIONS,
        help="training precision; auto: mixed_bfloat16 on CPUs with native bf16, "
        "else float32 (saved models are float32)",
    )

    def __post_init__(self):
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check_choice("precision", self.precision, PRECISIONS)
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"label_smoothing must be in [0, 1); got {self.label_smoothing!r}")
        for name in ("batch_size", "epochs", "learning_rate"):
            _check_positive(name, getattr(self, name))
        if (
            min(
                self.clipnorm,
                self.patience,
                self.bucket_width,
                self.checkpoint_steps,
                self.time_budget_minutes,
            )
            < 0
        ):
            raise ConfigError(
                "clipnorm, patience, bucket_width, checkpoint_steps and time_budget_minutes "
                "must not be negative"
            )


@dataclasses.dataclass(frozen=True)
class DecodeConfig:
    """Decoding defaults, used by `serving_default` and as the CLI defaults.

    Attributes:
        max_length: Upper bound on generated tokens; requests are capped by it.
        beam_width: 1 is greedy search.
        n_best: Hypotheses returned per sentence (at most `beam_width`).
        length_penalty: GNMT length-penalty alpha for beam search.
    """

    max_length: int = _field(64, help="most tokens per translation of the exported model")
    beam_width: int = _field(1, help="default beam width of the exported model")
    # Requests choose their own n-best; a default above 1 would change served output.
    n_best: int = _field(1, flag=False)
    length_penalty: float = _field(0.6, help="GNMT length-penalty alpha")

    def __post_init__(self):
        _check_positive("max_length", self.max_length)
        _check_positive("beam_width", self.beam_width)
        if self.beam_width > MAX_BEAM_WIDTH:
            raise ConfigError(f"beam_width must be at most {MAX_BEAM_WIDTH}; got {self.beam_width}")
        _check_positive("n_best", self.n_best)
        if self.n_best > self.beam_width:
            raise ConfigError(
                f"n_best ({self.n_best}) cannot exceed beam_width ({self.beam_width})"
            )


_SECTIONS = {
    "model": ModelConfig,
    "tokenizer": TokenizerConfig,
    "data": DataConfig,
    "train": TrainConfig,
    "decode": DecodeConfig,
}

# Flag names that differ from the field they set.
_ALIASES = {"tokenizer": ("tokenizer", "kind")}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; saved as `config.json` in the run dir."""

    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    tokenizer: TokenizerConfig = dataclasses.field(default_factory=TokenizerConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    decode: DecodeConfig = dataclasses.field(default_factory=DecodeConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Returns a JSON-ready nested dict."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Returns the config as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Builds a config from a (possibly partial) nested dict.

        Raises:
            ConfigError: on an unknown section or field, or an invalid value.
        """
        unknown = set(data) - set(_SECTIONS)
        if unknown:
            raise ConfigError(f"unknown config section(s): {', '.join(sorted(unknown))}")
        sections = {}
        for name, section_cls in _SECTIONS.items():
            values = data.get(name, {}) or {}
            fields = {f.name for f in dataclasses.fields(section_cls)}
            bad = set(values) - fields
            if bad:
                raise ConfigError(f"unknown field(s) in '{name}': {', '.join(sorted(bad))}")
            try:
                sections[name] = section_cls(**values)
            except TypeError as e:
                raise ConfigError(f"bad value in '{name}': {e}") from None
        return cls(**sections)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        """Parses JSON text made by `to_json` (or written by hand)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"config is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError("config JSON must be an object")
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike) -> RunConfig:
        """Reads a JSON config file."""
        try:
            with open(path, encoding="utf-8") as f:
                return cls.from_json(f.read())
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: damaged (not UTF-8 text)") from None
        except OSError as e:
            raise ConfigError(f"{path}: cannot be read ({e.strerror})") from None
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Writes the config as JSON (atomically, via a temporary file)."""
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.to_json() + "\n")
        os.replace(tmp, path)

    def get(self, key: str) -> Any:
        """The value of a flat field name, as `override` takes them (e.g. `"units"`,
        `"tokenizer"` for `tokenizer.kind`)."""
        section, field = _ALIASES.get(key, (None, key))
        return getattr(getattr(self, section or _field_section(key)), field)

    def override(self, **values: Any) -> RunConfig:
        """Returns a copy with flat field overrides, e.g. `override(rnn="lstm")`.

        Field names are unique across sections, so each maps to one section. `None`
        values are ignored, which lets CLI flags that were not given pass through.
        """
        updates: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            if value is None:
                continue
            section, field = _ALIASES.get(key, (None, key))
            if section is None:
                section = _field_section(key)
            updates.setdefault(section, {})[field] = value
        return dataclasses.replace(
            self,
            **{
                name: dataclasses.replace(getattr(self, name), **fields)
                for name, fields in updates.items()
            },
        )


def override_key(field: str) -> str:
    """The name `RunConfig.override` and `get` take for a field (its alias, if any)."""
    return next((key for key, (_, name) in _ALIASES.items() if name == field), field)


def _field_section(field: str) -> str:
    for name, section_cls in _SECTIONS.items():
        if field in {f.name for f in dataclasses.fields(section_cls)}:
            return name
    raise ConfigError(f"unknown config field {field!r}")
