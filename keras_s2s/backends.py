# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Translate with a trained or exported model through one of five backends.

| backend | loads | tokenizes with |
|---|---|---|
| `keras` | the run dir's `model.keras`, decoded by the same `Translator` graph the exports are traced from | tensorflow-text, in the graph |
| `savedmodel` | the exported SavedModel (`translate_with_options`) | tensorflow-text, in the graph |
| `onnx` | `onnx/model.onnx` in ONNX Runtime | `sentencepiece` |
| `onnx-int8` | `onnx/model.int8.onnx` (int8 weights) in ONNX Runtime | `sentencepiece` |
| `onnx-text` | `onnx/model.text.onnx` in ONNX Runtime + onnxruntime-extensions | the graph |

The ONNX backends never import TensorFlow.

One set of rules holds in every backend (`prepare_texts`, `check_options`):

- A `str` is one sentence and gets one answer; a sequence gets a list. `bytes` are
  decoded as UTF-8 with U+FFFD for invalid bytes, lone surrogates become U+FFFD, and
  NUL characters are removed (ONNX Runtime's string ops end a string at NUL). Anything
  else (`None`, numbers) is a `TypeError`. Whitespace, tabs and newlines are kept.
- `beam` is in [1, 64], `n_best` in [1, beam], `max_length` in [1, the model's
  `decode.max_length`] (None: the model's). Anything else is a `ValueError`, never a
  silent clip.
- Every file a backend reads is checked against the SHA-256 recorded at export or
  training time (`keras_s2s.integrity`); a damaged file is a `ModelPathError` naming it.

Example:
    >>> model = keras_s2s.load("saved_models/quickstart/1")   # backend from the path
    >>> model.translate(["2024년 3월 5일 화요일"])
    ['2024-03-05']
    >>> model.translate("2024년 3월 5일 화요일")
    '2024-03-05'
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.machinery
import importlib.util
import operator
import os
import re
import sys
from collections.abc import Sequence

import numpy as np

from keras_s2s import registry
from keras_s2s.config import MAX_BEAM_WIDTH, PAD_ID
from keras_s2s.exporting import (
    ONNX_DIR,
    ONNX_INT8_MODEL,
    ONNX_MODEL,
    ONNX_TEXT_MODEL,
    SAVEDMODEL_FILE,
)
from keras_s2s.integrity import (
    KERAS_FILENAME,
    ModelPathError,
    inside,
    is_version_name,
    read_record,
    recorded,
    verify,
    verify_run_dir,
)

__all__ = ["Backend", "Hypothesis", "ModelPathError", "load", "pad_ids", "resolve", "trim_ids"]

DEFAULT_BATCH_SIZE = 64
METADATA_FILE = "metadata.json"

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclasses.dataclass(frozen=True)
class Hypothesis:
    """One translation of one sentence.

    Attributes:
        text: The detokenized translation.
        ids: Its token ids, up to and including eos.
        score: Summed log-probabilities divided by the GNMT length penalty.
        alignment: Attention weights `[len(ids), source_tokens]` (a nested list), or
            None for models without attention.
    """

    text: str
    ids: list[int]
    score: float
    alignment: list[list[float]] | None = None


def trim_ids(row) -> list[int]:
    """Returns a row of ids `[time]` as a list without its trailing pad ids."""
    row = [int(i) for i in row]
    while row and row[-1] == PAD_ID:
        row.pop()
    return row


def pad_ids(rows: Sequence[Sequence[int]], dtype=np.int64) -> np.ndarray:
    """Returns ragged id rows as one pad-filled `[batch, max_len]` array (at least 1 wide)."""
    width = max([len(r) for r in rows] + [1])
    out = np.zeros((len(rows), width), dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def prepare_texts(texts) -> tuple[list[str], bool]:
    """Applies the input rule shared by every backend.

    Args:
        texts: One sentence (`str` or `bytes`) or a sequence of them.

    Returns:
        `(sentences, single)`: the cleaned sentences, and whether one was given alone.

    Raises:
        TypeError: for anything that is not text, naming its position and type.
    """
    single = isinstance(texts, (str, bytes, bytearray))
    items = [texts] if single else texts
    if not isinstance(items, (Sequence, np.ndarray)) and not hasattr(items, "__iter__"):
        raise TypeError(f"texts must be a string or a sequence of strings; got {type(texts)}")
    out = []
    for i, text in enumerate(items):
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", errors="replace")
        elif not isinstance(text, str):
            raise TypeError(f"texts[{i}] is {type(text).__name__}; expected str or bytes")
        out.append(_SURROGATE.sub("\ufffd", str(text)).replace("\x00", ""))
    return out, single


def _as_int(name: str, value) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer; got {value!r}") from None


def check_options(beam, n_best, max_length, model_max_length: int | None):
    """Validates decoding options; the same rule in every backend.

    Args:
        beam: Beam width, in [1, `MAX_BEAM_WIDTH`].
        n_best: Hypotheses per sentence, in [1, beam].
        max_length: Most tokens per translation, in [1, `model_max_length`], or None
            for the model's own limit.
        model_max_length: The model's `decode.max_length`; None checks only what does
            not depend on the model (the CLI does that before loading it).

    Returns:
        `(beam, n_best, max_length)` as ints.

    Raises:
        ValueError: naming the option and its allowed range.
    """
    beam = _as_int("beam", beam)
    if not 1 <= beam <= MAX_BEAM_WIDTH:
        raise ValueError(f"beam must be between 1 and {MAX_BEAM_WIDTH}; got {beam}")
    n_best = _as_int("n_best", n_best)
    if not 1 <= n_best <= beam:
        raise ValueError(f"n_best must be between 1 and beam ({beam}); got {n_best}")
    if max_length is None:
        return beam, n_best, model_max_length
    max_length = _as_int("max_length", max_length)
    if model_max_length is None and max_length < 1:
        raise ValueError(f"max_length must be at least 1; got {max_length}")
    if model_max_length is not None and not 1 <= max_length <= model_max_length:
        raise ValueError(
            f"max_length must be between 1 and this model's limit ({model_max_length}); "
            f"got {max_length}"
        )
    return beam, n_best, max_length


class Backend:
    """Common front of all backends: the input rule, option checks, batching and the
    `translate` API."""

    name = ""

    def __init__(
        self,
        path: str,
        max_source_length: int,
        max_length: int,
        attention: bool,
        beam_width: int = 1,
    ):
        self.path = path
        self.max_source_length = max_source_length
        self.max_length = max_length
        self.attention = attention
        # The model's own default (`decode.beam_width`), as `serving_default` uses it.
        self.beam_width = beam_width

    def _run(self, texts: list[str], max_length: int, beam: int, n_best: int):
        """Returns (strings [b][n], ids [b, n, t], scores [b, n], alignments or None)."""
        raise NotImplementedError

    def translate_nbest(
        self,
        texts,
        *,
        beam: int | None = None,
        n_best: int = 1,
        max_length: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        beam_width: int | None = None,
    ):
        """Translates text; returns the `n_best` best hypotheses of each, best first.

        Args:
            texts: A sentence (`str` or `bytes`) or a sequence of them (see the input
                rule in the module docstring).
            beam: Beam width, 1 to 64 (1 is greedy search). Default: the model's own
                `decode.beam_width`, the one `serving_default` uses.
            n_best: Hypotheses per sentence, 1 to `beam`.
            max_length: Most tokens per translation, 1 to the model's limit (default:
                the model's limit).
            batch_size: Sentences per call to the model.
            beam_width: Another name for `beam` (the signatures' input name).

        Returns:
            `list[Hypothesis]` for one sentence, else one such list per sentence.

        Raises:
            ValueError: on an option out of range, or both `beam` and `beam_width`.
            TypeError: on input that is not text.
        """
        if beam is not None and beam_width is not None:
            raise ValueError("give beam or beam_width, not both")
        beam = next((b for b in (beam, beam_width) if b is not None), self.beam_width)
        beam, n_best, limit = check_options(beam, n_best, max_length, self.max_length)
        batch_size = _as_int("batch_size", batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        sentences, single = prepare_texts(texts)
        out: list[list[Hypothesis]] = []
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            strings, ids, scores, alignments = self._run(chunk, limit, beam, n_best)
            for i in range(len(chunk)):
                row = []
                for j in range(ids.shape[1]):
                    trimmed = trim_ids(ids[i, j])
                    alignment = None
                    if alignments is not None and self.attention:
                        alignment = alignments[i, j, : len(trimmed)].tolist()
                    row.append(Hypothesis(strings[i][j], trimmed, float(scores[i, j]), alignment))
                out.append(row)
        return out[0] if single else out

    def translate_detailed(self, texts, **kwargs):
        """Translates text; returns the best `Hypothesis` (one, or a list in input order)."""
        out = self.translate_nbest(texts, **kwargs)
        return out[0] if isinstance(texts, (str, bytes, bytearray)) else [h[0] for h in out]

    def translate(self, texts, **kwargs):
        """Translates text; returns the best translation (a `str` for a `str`, else a list)."""
        out = self.translate_detailed(texts, **kwargs)
        return out.text if isinstance(out, Hypothesis) else [h.text for h in out]


class _IdsBackend(Backend):
    """A backend fed with ids tokenized in Python by SentencePiece."""

    def __init__(self, path, tokenizer, max_source_length, max_length, attention, beam_width=1):
        super().__init__(path, max_source_length, max_length, attention, beam_width)
        self.tokenizer = tokenizer

    def source_ids(self, texts: Sequence[str]) -> np.ndarray:
        """Tokenizes and truncates like the exported graph: int64 `[batch, time]`."""
        return pad_ids([r[: self.max_source_length] for r in self.tokenizer.encode(texts)])

    def _decode_ids(self, source_ids: np.ndarray, max_length: int, beam: int, n_best: int):
        raise NotImplementedError

    def _run(self, texts, max_length, beam, n_best):
        ids, scores, alignments = self._decode_ids(self.source_ids(texts), max_length, beam, n_best)
        strings = [self.tokenizer.decode([trim_ids(r) for r in row]) for row in ids]
        return strings, ids, scores, alignments


class _GraphBackend(Backend):
    """A backend that calls a `translate_with_options` TensorFlow function."""

    def __init__(self, path, tokenizer, config, function):
        import tensorflow as tf

        super().__init__(
            path,
            config.data.max_source_length,
            config.decode.max_length,
            config.model.attention != "none",
            config.decode.beam_width,
        )
        self._tf = tf
        self.tokenizer = tokenizer
        self.config = config
        self._fn = function
        # One step on an empty sentence, so that tracing (keras) and the creation of the
        # graph's SentencePiece resource, which logs a line for models with identity
        # normalization, happen while loading (under the CLI's captured stderr) rather
        # than in the first request.
        self._run([""], 1, 1, 1)

    def _run(self, texts, max_length, beam, n_best):
        tf = self._tf
        out = self._fn(
            text=tf.constant(texts, tf.string, shape=[len(texts)]),
            max_length=tf.constant(max_length, tf.int32),
            beam_width=tf.constant(beam, tf.int32),
            n_best=tf.constant(n_best, tf.int32),
        )
        strings = [[s.decode("utf-8") for s in row] for row in out["translations"].numpy()]
        alignments = out["alignments"].numpy() if self.attention else None
        return strings, out["ids"].numpy(), out["scores"].numpy(), alignments


class KerasBackend(_GraphBackend):
    """The run dir's `.keras` model, decoded in-process by the `Translator` graph that
    the SavedModel and ONNX exports are traced from (one inference path)."""

    name = "keras"

    def __init__(self, run_dir: str):
        from keras_s2s.tokenizer import MODEL_FILENAME
        from keras_s2s.training import CONFIG_FILENAME, KERAS_FILENAME, load_model

        verify_run_dir(run_dir, [CONFIG_FILENAME, MODEL_FILENAME, KERAS_FILENAME])
        import tensorflow as tf

        from keras_s2s.config import RunConfig
        from keras_s2s.tokenizer import Tokenizer
        from keras_s2s.translator import Translator

        config = RunConfig.load(os.path.join(run_dir, CONFIG_FILENAME))
        tokenizer = Tokenizer.load(run_dir)
        with tf.device("/CPU:0"):
            self.model = load_model(run_dir)
            self.translator = Translator(self.model, tokenizer, config)
        super().__init__(run_dir, tokenizer, config, self.translator.translate_with_options)


class SavedModelBackend(_GraphBackend):
    """The exported SavedModel; tokenization runs inside its graph."""

    name = "savedmodel"

    def __init__(self, version_dir: str):
        from keras_s2s.config import ConfigError, RunConfig
        from keras_s2s.tokenizer import Tokenizer

        metadata_path = os.path.join(version_dir, METADATA_FILE)
        metadata = read_record(metadata_path)
        table = recorded(metadata, metadata_path)
        if table is not None:
            # Everything but the ONNX folder, which the ONNX backends check themselves.
            verify(
                version_dir,
                table,
                [rel for rel in table if not rel.startswith("onnx/")],
                record=metadata_path,
            )
        try:
            config = RunConfig.from_dict(metadata["config"])
        except (KeyError, TypeError, ConfigError) as e:
            raise ModelPathError(f"{metadata_path}: damaged (no valid 'config': {e})") from None
        tokenizer = Tokenizer.load(os.path.join(version_dir, "assets", "tokenizer.model"))
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the SentencePiece ops)

        try:
            self.module = tf.saved_model.load(version_dir)
            function = self.module.signatures["translate_with_options"]
        except Exception as e:  # TF reports damage as many error types
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
            raise ModelPathError(
                f"{version_dir}: the SavedModel cannot be loaded ({type(e).__name__}: {first})"
            ) from None
        super().__init__(version_dir, tokenizer, config, function)


class UnparsableOnnxError(ModelPathError):
    """The file is not an ONNX model (it does not parse)."""


def check_external_data(onnx_path: str) -> None:
    """Refuses an ONNX file whose external-data paths leave its folder.

    ONNX Runtime opens every file an initializer's `location` names; a crafted model
    could point it at any file on the machine.

    Raises:
        ModelPathError: naming the offending location.
        UnparsableOnnxError: if the file does not parse as ONNX.
    """
    import onnx

    folder = os.path.realpath(os.path.dirname(os.path.abspath(onnx_path)))
    try:
        model = onnx.load(onnx_path, load_external_data=False)
    except Exception as e:  # any parse failure means "not a model"
        raise UnparsableOnnxError(
            f"{onnx_path}: not a valid ONNX model ({type(e).__name__})"
        ) from None
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        tensors.extend(a.t for a in node.attribute if a.HasField("t"))
    for tensor in tensors:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = os.path.realpath(os.path.join(folder, location))
        if os.path.isabs(location) or os.path.commonpath([folder, target]) != folder:
            raise ModelPathError(
                f"{onnx_path}: external data {location!r} points outside the model folder"
            )


def _onnx_config(onnx_path: str) -> dict:
    """Reads `config.json` beside an ONNX file and verifies what the backend will read.

    The ONNX file and the tokenizer are checked against the config's `sha256` table;
    inside a version dir, the config itself is checked against `metadata.json`.
    Every file path in the config must stay in the ONNX folder.
    """
    # First, before anything else reads the file: no external data outside the folder.
    # A file that does not parse is then checked against its recorded SHA-256, so that
    # damage to an exported file is reported as such.
    try:
        check_external_data(onnx_path)
        unparsable = None
    except UnparsableOnnxError as e:
        unparsable = e
    folder = os.path.dirname(os.path.abspath(onnx_path))
    config_path = os.path.join(folder, "config.json")
    if not os.path.isfile(config_path):
        raise unparsable or ModelPathError(
            f"{onnx_path}: no config.json beside it (export it with keras-s2s)"
        )
    version_dir = os.path.dirname(folder)
    metadata_path = os.path.join(version_dir, METADATA_FILE)
    if os.path.isfile(metadata_path):
        table = recorded(read_record(metadata_path), metadata_path)
        rel = f"{os.path.basename(folder)}/config.json"
        if table is not None and rel in table:
            verify(version_dir, table, [rel], record=metadata_path)
    config = read_record(config_path)
    try:
        files = dict(config["files"])
        tokenizer = files["tokenizer"]
        for key in ("max_source_length", "max_length"):
            if _as_int(key, config[key]) < 1:
                raise ValueError(f"{key} must be positive")
    except (KeyError, TypeError, ValueError) as e:
        raise ModelPathError(f"{config_path}: damaged (missing or bad field: {e})") from None
    for rel in files.values():
        inside(folder, rel, record=config_path)
    verify(
        folder,
        recorded(config, config_path),
        [os.path.basename(onnx_path), tokenizer],
        record=config_path,
    )
    if unparsable is not None:
        raise unparsable
    config["tokenizer_path"] = inside(folder, tokenizer, record=config_path)
    return config


# Set once this module has loaded the onnxruntime-extensions library itself.
_EXTENSIONS_DEEPBOUND = False


class BackendConflictError(RuntimeError):
    """Two native libraries in this process cannot be used together."""


def extensions_library() -> str:
    """Loads the onnxruntime-extensions op library safely; returns its path.

    TensorFlow loads its libraries with global symbol binding. The extensions library
    loaded after it would bind its protobuf calls to TensorFlow's copy and crash
    (exit 139) as soon as a SentencePiece op is created. Loaded first with
    `RTLD_DEEPBIND`, it binds to its own symbols, whatever the process imported
    before, so the backends can be loaded in any order.

    Raises:
        BackendConflictError: if the library was already imported, without that
            protection, after TensorFlow (the crash can then not be avoided here).
    """
    global _EXTENSIONS_DEEPBOUND
    name = "onnxruntime_extensions"
    if name not in sys.modules and hasattr(os, "RTLD_DEEPBIND"):
        import ctypes

        spec = importlib.util.find_spec(name)
        folder = spec.submodule_search_locations[0] if spec else ""
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            for path in glob.glob(os.path.join(folder, f"_extensions_pydll*{suffix}")):
                ctypes.CDLL(path, mode=os.RTLD_NOW | os.RTLD_LOCAL | os.RTLD_DEEPBIND)
                _EXTENSIONS_DEEPBOUND = True
    elif "tensorflow" in sys.modules and not _EXTENSIONS_DEEPBOUND:
        order = list(sys.modules)
        if name in order and order.index("tensorflow") < order.index(name):
            raise BackendConflictError(
                "onnx-text cannot run in this process: onnxruntime_extensions was imported "
                "after tensorflow, and its SentencePiece op would crash; load the onnx-text "
                "backend before importing onnxruntime_extensions yourself, or use another "
                "process"
            )
    import onnxruntime_extensions

    return onnxruntime_extensions.get_library_path()


def _onnx_session(onnx_path: str, threads: int | None, custom_ops: bool = False):
    library = extensions_library() if custom_ops else None
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    if library:
        options.register_custom_ops_library(library)
    try:
        return ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # ONNX Runtime reports damage as several exception types
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ModelPathError(f"{onnx_path}: not a loadable ONNX model ({first})") from None


def _scalars(max_length: int, beam: int, n_best: int) -> dict:
    return {
        "max_length": np.array(max_length, np.int32),
        "beam_width": np.array(beam, np.int32),
        "n_best": np.array(n_best, np.int32),
    }


class OnnxBackend(_IdsBackend):
    """An ids graph (`onnx/model.onnx` or `model.int8.onnx`) in ONNX Runtime; tokenizes
    with `sentencepiece`, no TensorFlow."""

    name = "onnx"

    def __init__(self, onnx_path: str, threads: int | None = None):
        from keras_s2s.tokenizer import Tokenizer

        config = _onnx_config(onnx_path)
        super().__init__(
            onnx_path,
            Tokenizer.load(config["tokenizer_path"]),
            config["max_source_length"],
            config["max_length"],
            config.get("attention", "none") != "none",
            config.get("beam_width", 1),
        )
        self.session = _onnx_session(onnx_path, threads)

    def _decode_ids(self, source_ids, max_length, beam, n_best):
        ids, scores, alignments = self.session.run(
            ["ids", "scores", "alignments"],
            {"source_ids": source_ids.astype(np.int64), **_scalars(max_length, beam, n_best)},
        )
        return ids, scores, (alignments if self.attention else None)


class OnnxTextBackend(Backend):
    """`onnx/model.text.onnx`: strings in, strings out, tokenization in the graph.

    Runs in ONNX Runtime with the onnxruntime-extensions op library; no TensorFlow and
    no Python tokenizer.
    """

    name = "onnx-text"

    def __init__(self, onnx_path: str, threads: int | None = None):
        config = _onnx_config(onnx_path)
        super().__init__(
            onnx_path,
            config["max_source_length"],
            config["max_length"],
            config.get("attention", "none") != "none",
            config.get("beam_width", 1),
        )
        self.session = _onnx_session(onnx_path, threads, custom_ops=True)
        self._tokenizer_path = config["tokenizer_path"]
        self._tokenizer = None

    @property
    def tokenizer(self):
        """The SentencePiece model shipped beside the graph (for attention plots only:
        translation tokenizes inside the graph)."""
        if self._tokenizer is None:
            from keras_s2s.tokenizer import Tokenizer

            self._tokenizer = Tokenizer.load(self._tokenizer_path)
        return self._tokenizer

    def _run(self, texts, max_length, beam, n_best):
        strings, ids, scores, alignments = self.session.run(
            ["translations", "ids", "scores", "alignments"],
            {"text": np.array(texts, dtype=object), **_scalars(max_length, beam, n_best)},
        )
        return strings.tolist(), ids, scores, (alignments if self.attention else None)


def _latest_version(path: str) -> str | None:
    versions = sorted(int(n) for n in os.listdir(path) if is_version_name(n))
    return os.path.join(path, str(versions[-1])) if versions else None


_BUILTIN_BACKENDS = (
    registry.BackendEntry(
        "keras", KerasBackend, run_file=KERAS_FILENAME, help="a training run dir's model.keras"
    ),
    registry.BackendEntry(
        "savedmodel",
        SavedModelBackend,
        version_file=SAVEDMODEL_FILE,
        loads_dir=True,
        help="an exported version's SavedModel",
    ),
    registry.BackendEntry(
        "onnx",
        OnnxBackend,
        version_file=f"{ONNX_DIR}/{ONNX_MODEL}",
        file_suffixes=(".onnx",),
        help="the ONNX ids graph in ONNX Runtime",
    ),
    registry.BackendEntry(
        "onnx-int8",
        OnnxBackend,
        version_file=f"{ONNX_DIR}/{ONNX_INT8_MODEL}",
        file_suffixes=(".onnx",),
        help="the int8 ONNX ids graph",
    ),
    registry.BackendEntry(
        "onnx-text",
        OnnxTextBackend,
        version_file=f"{ONNX_DIR}/{ONNX_TEXT_MODEL}",
        file_suffixes=(".text.onnx", ".onnx"),
        help="the strings-to-strings ONNX graph",
    ),
)
for _entry in _BUILTIN_BACKENDS:
    registry.register_backend(_entry, replace=True)


def _suffix_match(entry: registry.BackendEntry, path: str) -> int:
    """The length of the longest of the entry's suffixes that `path` ends with (0: none)."""
    return max((len(s) for s in entry.file_suffixes if path.endswith(s)), default=0)


def resolve(path: str, backend: str | None = None) -> tuple[str, str]:
    """Finds which backend and file a model path means, from the backends' declarations
    in `keras_s2s.registry`.

    Args:
        path: A run dir, a published version dir, a model dir of versions (the latest is
            taken) or a model file (e.g. `.onnx`).
        backend: Force a backend; by default the path decides: the backend whose
            `run_file` the run dir holds, the first registered one a version dir holds
            (`savedmodel`), or the one whose file suffix matches longest.

    Returns:
        `(backend, path)`, the path being the one that backend loads.

    Raises:
        ModelPathError: if the path does not exist or holds no model for the backend.
    """
    entries = registry.backends()
    if backend is not None and backend not in entries:
        raise ModelPathError(f"unknown backend {backend!r} (expected {', '.join(entries)})")
    if not os.path.exists(path):
        raise ModelPathError(f"{path}: no such file or directory")
    wanted = [e for e in entries.values() if backend in (None, e.name)]
    if os.path.isfile(path):
        best = max(wanted, key=lambda e: _suffix_match(e, path))  # first of equals wins
        if _suffix_match(best, path):
            return best.name, path
        raise ModelPathError(f"{path}: not a model (expected a run dir, version dir or .onnx)")
    for entry in wanted:
        if entry.run_file and os.path.isfile(os.path.join(path, entry.run_file)):
            return entry.name, path
    is_version = os.path.isfile(os.path.join(path, SAVEDMODEL_FILE))
    if not is_version:
        latest = _latest_version(path)
        if latest is not None:
            return resolve(latest, backend)
    if is_version:
        for entry in wanted:
            if entry.version_file is None:
                continue
            target = os.path.join(path, entry.version_file)
            if os.path.isfile(target):
                return entry.name, (path if entry.loads_dir else target)
            if backend is not None:
                raise ModelPathError(
                    f"{path}: exported without {backend} (no {entry.version_file})"
                )
        if backend is not None and entries[backend].run_file:
            raise ModelPathError(
                f"{path}: an exported version; the {backend} backend loads a training run dir "
                f"(the one with {entries[backend].run_file})"
            )
    hint = f" for backend {backend!r}" if backend else ""
    raise ModelPathError(
        f"{path}: not a model{hint} (expected a run dir, version dir or .onnx file)"
    )


def load(path: str, backend: str | None = None) -> Backend:
    """Loads a model for translation.

    Args:
        path: A run dir, a published version dir, a model dir of versions (the latest
            is taken) or an `.onnx` file (see `resolve`).
        backend: A registered backend (`keras_s2s.registry.backend_names()`): `keras`
            (run dir), `savedmodel`, `onnx`, `onnx-int8` or `onnx-text` (version dir or
            `.onnx` file); by default the path decides: `keras` for a run dir,
            `savedmodel` for a version dir, `onnx`/`onnx-text` for a file.

    Returns:
        A `Backend`; its `translate(texts, beam=, n_best=, max_length=)` follows the
        same input and option rules whichever backend it is.

    Raises:
        ModelPathError: if the path holds no such model, or a file it reads is damaged.
    """
    kind, target = resolve(str(path), backend)
    return registry.backends()[kind].load(target)
