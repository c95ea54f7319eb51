# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Translate with a trained or exported model through one of three backends.

| backend | loads | tokenizes with |
|---|---|---|
| `keras` | the run dir's `model.keras`, decoding with `decoding.py` in-process | `sentencepiece` |
| `savedmodel` | the exported SavedModel (`translate_with_options`) | tensorflow-text, in the graph |
| `onnx` | `onnx/model.onnx` in ONNX Runtime | `sentencepiece` |
| `onnx-int8` | `onnx/model.int8.onnx` (int8 weights) in ONNX Runtime | `sentencepiece` |
| `onnx-text` | `onnx/model.text.onnx` in ONNX Runtime + onnxruntime-extensions | the graph |

The ONNX backends never import TensorFlow.

Example:
    >>> model = keras_s2s.load("saved_models/quickstart/1")   # backend from the path
    >>> model.translate(["2024년 3월 5일 화요일"])
    ['2024-03-05']
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence

import numpy as np

from keras_s2s.config import PAD_ID

BACKENDS = ("keras", "savedmodel", "onnx", "onnx-int8", "onnx-text")
# Which file of a version dir's onnx/ folder each ONNX backend loads.
ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx", "onnx-text": "model.text.onnx"}
DEFAULT_BATCH_SIZE = 64


class ModelPathError(ValueError):
    """The path is not a model this package can load."""


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


def _trim(row) -> list[int]:
    row = [int(i) for i in row]
    while row and row[-1] == PAD_ID:
        row.pop()
    return row


def _pad(rows: Sequence[Sequence[int]]) -> np.ndarray:
    width = max([len(r) for r in rows] + [1])
    out = np.zeros((len(rows), width), np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def length_penalty(lengths: np.ndarray, alpha: float) -> np.ndarray:
    """GNMT length penalty, the NumPy twin of `decoding.length_penalty`."""
    return ((5.0 + np.asarray(lengths, np.float32)) / 6.0) ** np.float32(alpha)


class Backend:
    """Common front of all backends: batching and the `translate` API."""

    name = ""

    def __init__(self, path: str, max_source_length: int, max_length: int, attention: bool):
        self.path = path
        self.max_source_length = max_source_length
        self.max_length = max_length
        self.attention = attention

    def _run(self, texts: list[str], max_length: int, beam: int, n_best: int):
        """Returns (strings [b][n], ids [b, n, t], scores [b, n], alignments or None)."""
        raise NotImplementedError

    def translate_nbest(
        self,
        texts: Sequence[str],
        *,
        beam: int = 1,
        n_best: int = 1,
        max_length: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> list[list[Hypothesis]]:
        """Translates strings; returns the `n_best` best hypotheses of each, best first.

        Args:
            texts: Source sentences.
            beam: Beam width (1 is greedy search).
            n_best: Hypotheses per sentence, at most `beam`.
            max_length: Most tokens per translation (capped by the model's limit).
            batch_size: Sentences per call to the model.

        Raises:
            ValueError: on `beam < 1` or `n_best` outside [1, beam].
        """
        if beam < 1:
            raise ValueError(f"beam must be at least 1; got {beam}")
        if not 1 <= n_best <= beam:
            raise ValueError(f"n_best must be between 1 and beam ({beam}); got {n_best}")
        limit = min(max_length or self.max_length, self.max_length)
        texts = list(texts)
        out: list[list[Hypothesis]] = []
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            strings, ids, scores, alignments = self._run(chunk, limit, beam, n_best)
            for i in range(len(chunk)):
                row = []
                for j in range(ids.shape[1]):
                    trimmed = _trim(ids[i, j])
                    alignment = None
                    if alignments is not None and self.attention:
                        alignment = alignments[i, j, : len(trimmed)].tolist()
                    row.append(Hypothesis(strings[i][j], trimmed, float(scores[i, j]), alignment))
                out.append(row)
        return out

    def translate_detailed(self, texts: Sequence[str], **kwargs) -> list[Hypothesis]:
        """Translates strings; returns the best `Hypothesis` of each, in input order."""
        return [h[0] for h in self.translate_nbest(texts, **kwargs)]

    def translate(self, texts: Sequence[str], **kwargs) -> list[str]:
        """Translates strings; returns the best translation of each."""
        return [h.text for h in self.translate_detailed(texts, **kwargs)]


class _IdsBackend(Backend):
    """A backend fed with ids tokenized in Python by SentencePiece."""

    def __init__(self, path, tokenizer, max_source_length, max_length, attention):
        super().__init__(path, max_source_length, max_length, attention)
        self.tokenizer = tokenizer

    def source_ids(self, texts: Sequence[str]) -> np.ndarray:
        """Tokenizes and truncates like the exported graph: int64 `[batch, time]`."""
        return _pad([r[: self.max_source_length] for r in self.tokenizer.encode(texts)])

    def _decode_ids(self, source_ids: np.ndarray, max_length: int, beam: int, n_best: int):
        raise NotImplementedError

    def _run(self, texts, max_length, beam, n_best):
        ids, scores, alignments = self._decode_ids(self.source_ids(texts), max_length, beam, n_best)
        strings = [self.tokenizer.decode([_trim(r) for r in row]) for row in ids]
        return strings, ids, scores, alignments


class KerasBackend(_IdsBackend):
    """The run dir's `.keras` model, decoded in-process by `keras_s2s.decoding`.

    Beam 1 runs `greedy_search`, wider beams `beam_search`.
    """

    name = "keras"

    def __init__(self, run_dir: str):
        import tensorflow as tf

        from keras_s2s.config import RunConfig
        from keras_s2s.decoding import beam_search, greedy_search
        from keras_s2s.models import Seq2Seq
        from keras_s2s.tokenizer import Tokenizer
        from keras_s2s.training import CONFIG_FILENAME, load_model

        config = RunConfig.load(os.path.join(run_dir, CONFIG_FILENAME))
        super().__init__(
            run_dir,
            Tokenizer.load(run_dir),
            config.data.max_source_length,
            config.decode.max_length,
            config.model.attention != "none",
        )
        self.config = config
        self.model = load_model(run_dir)
        s2s = Seq2Seq.from_model(self.model)
        alpha = config.decode.length_penalty
        ids_spec = tf.TensorSpec([None, None], tf.int32)
        scalar = tf.TensorSpec([], tf.int32)

        def outputs(result):
            alignments = result.alignments
            if alignments is None:
                alignments = tf.zeros([0])
            return result.ids, result.lengths, result.scores, alignments

        @tf.function(input_signature=[ids_spec, scalar])
        def greedy(source_ids, max_length):
            batch = tf.shape(source_ids)[0]
            return outputs(greedy_search(s2s.step, s2s.encode(source_ids), batch, max_length))

        @tf.function(input_signature=[ids_spec, scalar, scalar, scalar])
        def beam(source_ids, max_length, beam_width, n_best):
            batch = tf.shape(source_ids)[0]
            result = beam_search(
                s2s.step,
                s2s.encode(source_ids),
                batch,
                max_length,
                beam_width,
                alpha=alpha,
                n_best=n_best,
            )
            return outputs(result)

        self._greedy, self._beam = greedy, beam

    def _decode_ids(self, source_ids, max_length, beam, n_best):
        ids32 = source_ids.astype(np.int32)
        if beam == 1:
            ids, lengths, raw, alignments = self._greedy(ids32, np.int32(max_length))
            # Greedy reports the raw sum; rank-scores are length-normalised as in beams.
            scores = raw.numpy() / length_penalty(
                lengths.numpy(), self.config.decode.length_penalty
            )
        else:
            ids, _, scores, alignments = self._beam(
                ids32, np.int32(max_length), np.int32(beam), np.int32(n_best)
            )
            scores = scores.numpy()
        alignments = alignments.numpy() if self.attention else None
        return ids.numpy(), scores, alignments


def check_external_data(onnx_path: str) -> None:
    """Refuses an ONNX file whose external-data paths leave its folder.

    ONNX Runtime opens every file an initializer's `location` names; a crafted model
    could point it at any file on the machine.

    Raises:
        ModelPathError: naming the offending location.
    """
    import onnx

    folder = os.path.realpath(os.path.dirname(os.path.abspath(onnx_path)))
    try:
        model = onnx.load(onnx_path, load_external_data=False)
    except Exception as e:  # any parse failure means "not a model"
        raise ModelPathError(f"{onnx_path}: not a valid ONNX model ({type(e).__name__})") from None
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
    check_external_data(onnx_path)
    config_path = os.path.join(os.path.dirname(os.path.abspath(onnx_path)), "config.json")
    if not os.path.isfile(config_path):
        raise ModelPathError(f"{onnx_path}: no config.json beside it (export it with keras-s2s)")
    with open(config_path, encoding="utf-8") as f:
        return json.load(f)


def _onnx_session(onnx_path: str, threads: int | None, custom_ops: bool = False):
    # onnxruntime first: a process that loaded TensorFlow before creating a session
    # with custom ops crashed here (../shared/NOTES.md).
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    if custom_ops:
        import onnxruntime_extensions

        options.register_custom_ops_library(onnxruntime_extensions.get_library_path())
    return ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])


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
        folder = os.path.dirname(os.path.abspath(onnx_path))
        super().__init__(
            onnx_path,
            Tokenizer.load(os.path.join(folder, config["files"]["tokenizer"])),
            config["max_source_length"],
            config["max_length"],
            config.get("attention", "none") != "none",
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
        )
        self.session = _onnx_session(onnx_path, threads, custom_ops=True)
        self._tokenizer_path = os.path.join(
            os.path.dirname(os.path.abspath(onnx_path)), config["files"]["tokenizer"]
        )
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


class SavedModelBackend(Backend):
    """The exported SavedModel; tokenization runs inside its graph."""

    name = "savedmodel"

    def __init__(self, version_dir: str):
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the SentencePiece ops)

        self._tf = tf
        with open(os.path.join(version_dir, "metadata.json"), encoding="utf-8") as f:
            config = json.load(f)["config"]
        super().__init__(
            version_dir,
            config["data"]["max_source_length"],
            config["decode"]["max_length"],
            config["model"]["attention"] != "none",
        )
        from keras_s2s.tokenizer import Tokenizer

        self.tokenizer = Tokenizer.load(os.path.join(version_dir, "assets", "tokenizer.model"))
        self.module = tf.saved_model.load(version_dir)
        self._fn = self.module.signatures["translate_with_options"]

    def _run(self, texts, max_length, beam, n_best):
        tf = self._tf
        out = self._fn(
            text=tf.constant(texts, tf.string),
            max_length=tf.constant(max_length, tf.int32),
            beam_width=tf.constant(beam, tf.int32),
            n_best=tf.constant(n_best, tf.int32),
        )
        strings = [[s.decode("utf-8") for s in row] for row in out["translations"].numpy()]
        alignments = out["alignments"].numpy() if self.attention else None
        return strings, out["ids"].numpy(), out["scores"].numpy(), alignments


def _latest_version(path: str) -> str | None:
    versions = sorted(int(n) for n in os.listdir(path) if n.isdigit())
    return os.path.join(path, str(versions[-1])) if versions else None


def resolve(path: str, backend: str | None = None) -> tuple[str, str]:
    """Finds which backend and file a model path means.

    Args:
        path: A run dir, a published version dir, a model dir of versions (the latest is
            taken) or an `.onnx` file.
        backend: Force a backend; by default the path decides.

    Returns:
        `(backend, path)`, the path being the one that backend loads.

    Raises:
        ModelPathError: if the path does not exist or holds no model for the backend.
    """
    if backend is not None and backend not in BACKENDS:
        raise ModelPathError(f"unknown backend {backend!r} (expected {', '.join(BACKENDS)})")
    if not os.path.exists(path):
        raise ModelPathError(f"{path}: no such file or directory")
    if os.path.isfile(path):
        if path.endswith(".text.onnx") and backend is None:
            return "onnx-text", path
        if path.endswith(".onnx") and backend in (None, "onnx", "onnx-int8"):
            return backend or "onnx", path
        if path.endswith(".onnx") and backend == "onnx-text":
            return backend, path
        raise ModelPathError(f"{path}: not a model (expected a run dir, version dir or .onnx)")
    if os.path.isfile(os.path.join(path, "model.keras")) and backend in (None, "keras"):
        return "keras", path
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        latest = _latest_version(path)
        if latest is not None:
            return resolve(latest, backend)
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        if backend in (None, "savedmodel"):
            return "savedmodel", path
        if backend in ONNX_FILES:
            onnx_path = os.path.join(path, "onnx", ONNX_FILES[backend])
            if os.path.isfile(onnx_path):
                return backend, onnx_path
            raise ModelPathError(
                f"{path}: exported without {backend} (no onnx/{ONNX_FILES[backend]})"
            )
    wanted = f" for backend {backend!r}" if backend else ""
    raise ModelPathError(
        f"{path}: not a model{wanted} (expected a run dir, version dir or .onnx file)"
    )


def load(path: str, backend: str | None = None) -> Backend:
    """Loads a model for translation; see `resolve` for the paths it accepts."""
    kind, target = resolve(str(path), backend)
    if kind == "onnx-text":
        return OnnxTextBackend(target)
    if kind in ("onnx", "onnx-int8"):
        return OnnxBackend(target)
    if kind == "savedmodel":
        return SavedModelBackend(target)
    return KerasBackend(target)
