# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Tokenizers that run inside the TensorFlow graph.

All three tokenizer kinds (subword, character, word) are stored the same way: as one
SentencePiece model, trained with the `sentencepiece` package (`model_type` unigram or
bpe, `char` or `word`). One storage format means one in-graph implementation
(`tensorflow_text.SentencepieceTokenizer`), one file to ship with an export, and, for
ONNX Runtime users, tokenization with the plain `sentencepiece` package and no
TensorFlow. The special ids are fixed: pad 0, unk 1, sos 2, eos 3. There is no byte
fallback, so characters never seen in training become unk.

Source and target share one vocabulary (the model still has separate embeddings);
that keeps one `tokenizer.model` per run.

Example:
    >>> tok = Tokenizer.train(["hello world", "hallo welt"], TokenizerConfig(vocab_size=30))
    >>> ids = tok.encode(["hello"])           # pure Python, list of id lists
    >>> tok.decode(ids)
    ['hello']
    >>> tok.tokenize(tf.constant(["hello"]))  # in the graph: tf.RaggedTensor [batch, (time)]
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID, UNK_ID, TokenizerConfig

MODEL_FILENAME = "tokenizer.model"

_MODEL_TYPES = {"char": "char", "word": "word"}
_REQUIRED_CHARS = re.compile(r"smaller than required_chars\. (\d+) vs (\d+)")


class Tokenizer:
    """A SentencePiece model usable in Python and inside TensorFlow graphs.

    Args:
        model_proto: The serialized SentencePiece `ModelProto`.
    """

    def __init__(self, model_proto: bytes):
        import sentencepiece as spm

        self.model_proto = bytes(model_proto)
        # Loading a model with identity normalization logs an INFO line to stderr.
        spm.set_min_log_level(1)
        self._sp = spm.SentencePieceProcessor(model_proto=self.model_proto)
        specials = (
            self._sp.pad_id(),
            self._sp.unk_id(),
            self._sp.bos_id(),
            self._sp.eos_id(),
        )
        if specials != (PAD_ID, UNK_ID, SOS_ID, EOS_ID):
            raise ValueError(
                f"tokenizer model must use pad=0, unk=1, sos=2, eos=3; this one uses {specials}"
            )

    @classmethod
    def train(cls, texts: Iterable[str], config: TokenizerConfig) -> Tokenizer:
        """Trains a SentencePiece model on `texts`.

        Args:
            texts: Training sentences (usually the source and target sides of the
                training split, never validation or test).
            config: Tokenizer settings.

        Returns:
            The trained tokenizer.

        Raises:
            ValueError: if `texts` holds no non-empty sentence.
        """
        sentences = [t for t in texts if t.strip()]
        if not sentences:
            raise ValueError("cannot train a tokenizer on an empty corpus")
        identity = config.normalization == "identity"
        vocab_size = config.vocab_size
        while True:
            writer = io.BytesIO()
            try:
                _train_sentencepiece(sentences, writer, config, vocab_size, identity)
                return cls(writer.getvalue())
            except RuntimeError as e:
                # SentencePiece needs one piece per covered character; a vocabulary too
                # small for the corpus's alphabet grows to fit instead of failing.
                needed = _REQUIRED_CHARS.search(str(e))
                if not needed or int(needed.group(1)) != vocab_size:
                    raise
                vocab_size = int(needed.group(2)) + 8

    @classmethod
    def load(cls, path: str | os.PathLike) -> Tokenizer:
        """Loads a tokenizer from a `.model` file or a directory that holds one.

        Raises:
            ModelPathError: naming the file, if it is missing or not a SentencePiece
                model with this package's special ids.
        """
        from keras_s2s.integrity import ModelPathError

        if os.path.isdir(path):
            path = os.path.join(path, MODEL_FILENAME)
        try:
            with open(path, "rb") as f:
                proto = f.read()
        except FileNotFoundError:
            raise ModelPathError(f"{path}: no such file") from None
        except OSError as e:
            raise ModelPathError(f"{path}: cannot be read ({e.strerror})") from None
        try:
            return cls(proto)
        except ValueError as e:
            raise ModelPathError(f"{path}: {e}") from None
        except Exception:  # SentencePiece raises RuntimeError/OSError on a bad proto
            raise ModelPathError(f"{path}: damaged (not a SentencePiece model)") from None

    def save(self, path: str | os.PathLike) -> str:
        """Writes the model to `path` (a file, or a directory to hold `tokenizer.model`)."""
        if os.path.isdir(path):
            path = os.path.join(path, MODEL_FILENAME)
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as f:
            f.write(self.model_proto)
        os.replace(tmp, path)
        return str(path)

    @property
    def vocab_size(self) -> int:
        """Number of ids, special ids included."""
        return self._sp.get_piece_size()

    def id_to_piece(self, ids: Sequence[int]) -> list[str]:
        """Returns the piece string of each id."""
        return [self._sp.id_to_piece(int(i)) for i in ids]

    # Pure Python: used by the ONNX backends, which never import TensorFlow.

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Tokenizes strings to id lists, without sos/eos."""
        return self._sp.encode(list(texts))

    def decode(self, ids: Sequence[Sequence[int]]) -> list[str]:
        """Turns id lists back into strings; stops each row at its first eos.

        pad, sos and eos produce no text; unk produces " ⁇ ", as SentencePiece does.
        """
        rows = []
        for row in ids:
            row = [int(i) for i in row]
            if EOS_ID in row:
                row = row[: row.index(EOS_ID)]
            rows.append([i for i in row if i not in (PAD_ID, SOS_ID)])
        return self._sp.decode(rows)

    # In the graph (tensorflow-text).

    def graph_tokenizer(self):
        """Returns a new `tensorflow_text.SentencepieceTokenizer` for this model.

        Call it inside the function being traced: tf2onnx converts the tokenizer only
        when it is created in the traced function (docs/design.md).
        """
        import tensorflow_text as tf_text

        return tf_text.SentencepieceTokenizer(model=self.model_proto, out_type="int32")

    def tokenize(self, texts):
        """Tokenizes a string tensor in the graph.

        Args:
            texts: `tf.string` tensor `[batch]`.

        Returns:
            `tf.RaggedTensor` of int32 ids `[batch, (time)]`, without sos/eos.
        """
        return self.graph_tokenizer().tokenize(texts)

    def tokenize_dense(self, texts):
        """Tokenizes in the graph to 0-padded ids `[batch, time]`, with `time >= 1`.

        The padding is built from the row splits with core ops rather than
        `RaggedTensor.to_tensor`: tf2onnx converts that op with a division by the
        longest row, which fails in ONNX Runtime when no row has a token (a batch of
        empty or whitespace-only strings). At least one column is kept so the encoder
        never sees zero time steps; an all-pad column is fully masked.

        Args:
            texts: `tf.string` tensor `[batch]`.

        Returns:
            int32 `[batch, max(1, longest row)]`.
        """
        import tensorflow as tf

        ragged = self.tokenize(texts)
        lengths = ragged.row_lengths()
        width = tf.maximum(tf.reduce_max(tf.concat([lengths, [0]], axis=0)), 1)
        positions = tf.range(width, dtype=lengths.dtype)[None, :]
        # One pad appended to the values: every position past a row's end reads it.
        values = tf.concat([ragged.values, [PAD_ID]], axis=0)
        pad_index = tf.shape(values, out_type=lengths.dtype)[0] - 1
        index = tf.where(
            positions < lengths[:, None], ragged.row_starts()[:, None] + positions, pad_index
        )
        return tf.gather(values, index)

    def surface_pieces(self) -> list[str]:
        """The text each id stands for, as SentencePiece decoding renders it.

        Control ids (pad, sos, eos) render as nothing and unk as the model's
        `unk_surface` (" ⁇ "); other pieces keep their "▁" word-boundary marks.
        """
        from sentencepiece import sentencepiece_model_pb2

        proto = sentencepiece_model_pb2.ModelProto()
        proto.ParseFromString(self.model_proto)
        unk_surface = proto.trainer_spec.unk_surface
        out = []
        for i in range(self.vocab_size):
            if self._sp.is_control(i):
                out.append("")
            elif self._sp.is_unknown(i):
                out.append(unk_surface)
            else:
                out.append(self._sp.id_to_piece(i))
        return out

    def _leading_space_rule(self) -> tuple[bool, bool]:
        """`(strip, stop_at_mark)`: how SentencePiece's decoder treats leading "▁".

        It drops one leading "▁" from the first pieces of a text when the model adds a
        dummy prefix or removes extra whitespace. With extra whitespace kept (identity
        normalization) it stops after the first piece that had a mark to drop, so runs
        of whitespace stay exact; otherwise it goes on until a piece renders as text.
        """
        from sentencepiece import sentencepiece_model_pb2

        proto = sentencepiece_model_pb2.ModelProto()
        proto.ParseFromString(self.model_proto)
        spec = proto.normalizer_spec
        strip = spec.add_dummy_prefix or spec.remove_extra_whitespaces
        return strip, not spec.remove_extra_whitespaces

    def detokenize(self, ids):
        """Turns padded ids back into strings in the graph, exactly as the
        `sentencepiece` package's `decode` does (so every backend agrees).

        Built only from ops that tf2onnx converts (ONNX Runtime with
        onnxruntime-extensions): gathers from piece tables, a cumulative sum, a string
        join and one regex replacement. tensorflow-text's detokenize op is not used: it
        has no ONNX converter, and it drops one space too many from identity-normalized
        text that starts with whitespace (`["▁", "▁▁▁▁", "x"]` gives 3 spaces, not 4).

        The rule for the start of a text is per piece: each leading piece loses one
        "▁" (see `_leading_space_rule` for where that stops); the remaining marks become
        spaces. pad, sos and eos render as nothing, unk as the model's `unk_surface`.

        Args:
            ids: int32 tensor `[batch, time]`, 0-padded; each row is cut at its first eos.

        Returns:
            `tf.string` tensor `[batch]`.
        """
        import tensorflow as tf

        ids = tf.convert_to_tensor(ids, tf.int32)
        # Pad renders as "", so masking with pad keeps the shape rectangular.
        ids = tf.where(_before_first_eos(ids), ids, PAD_ID)
        surface = self.surface_pieces()
        strip, stop_at_mark = self._leading_space_rule()
        marked = [strip and p.startswith("\u2581") for p in surface]
        stripped = [p[1:] if m else p for p, m in zip(surface, marked, strict=True)]
        stops = [bool(p) or (m and stop_at_mark) for p, m in zip(stripped, marked, strict=True)]
        # One table of both forms: id for the piece as is, vocab + id with its "▁" dropped.
        table = tf.constant(surface + stripped)
        stop = tf.gather(tf.constant(stops, tf.int32), ids)
        # Up to and including the first piece that ends the start of the text.
        at_start = tf.math.cumsum(stop, axis=1, exclusive=True) == 0
        index = ids + tf.cast(at_start, tf.int32) * len(surface)
        text = tf.strings.reduce_join(tf.gather(table, index), axis=1)
        return tf.strings.regex_replace(text, "\u2581", " ")


def _before_first_eos(ids):
    """bool `[batch, time]`: True at the positions before each row's first eos."""
    import tensorflow as tf

    return tf.math.cumsum(tf.cast(tf.equal(ids, EOS_ID), tf.int32), axis=1) == 0


def _train_sentencepiece(sentences, writer, config, vocab_size, identity) -> None:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=writer,
        model_type=_MODEL_TYPES.get(config.kind, config.model_type),
        vocab_size=vocab_size,
        # A small corpus may not support the requested size; take what it has.
        hard_vocab_limit=False,
        character_coverage=config.character_coverage,
        normalization_rule_name=config.normalization,
        remove_extra_whitespaces=not identity,
        # Code needs runs of spaces as tokens of their own.
        allow_whitespace_only_pieces=identity,
        split_digits=True,
        byte_fallback=False,
        pad_id=PAD_ID,
        unk_id=UNK_ID,
        bos_id=SOS_ID,
        eos_id=EOS_ID,
        pad_piece="<pad>",
        unk_piece="<unk>",
        bos_piece="<sos>",
        eos_piece="<eos>",
        input_sentence_size=2_000_000,
        shuffle_input_sentence=True,
        max_sentence_length=1 << 16,
        num_threads=2,
        minloglevel=2,
    )
