# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Translate with a trained or exported model through one of three backends.

| backend | loads | tokenizes with |
|---|---|---|
| `keras` | the run dir's `model.keras`, decoding with `decoding.py` in-process | `sentencepiece` |
| `savedmodel` | the exported SavedModel (`translate_with_options`) | tensorflow-text, in the graph |
| `onnx` | `onnx/model.onnx` in ONNX Runtime | `sentencepiece` |

The `onnx` backend never imports TensorFlow.

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

BACKENDS = ("keras", "savedmodel", "onnx")
DEFAULT_BATCH_SIZE = 64


class ModelPathError(ValueError):
    """The path is not a model this package can load."""


@dataclasses.dataclass(frozen=True)
class Translation:
    """One sentence's result.

    Attributes:
        text: The best translation.
        ids: Its token ids, up to and including eos.
        score: Sum of the chosen tokens' log-probabilities.
    """

    text: str
    ids: list[int]
    score: float


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


class Backend:
    """Common front of all backends: batching and the `translate` API."""

    name = ""

    def __init__(self, path: str, max_source_length: int, max_length: int):
        self.path = path
        self.max_source_length = max_source_length
        self.max_length = max_length

    def _run(self, texts: list[str], max_length: int) -> list[Translation]:
        raise NotImplementedError

    def translate_detailed(
        self,
        texts: Sequence[str],
        *,
        beam: int = 1,
        max_length: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> list[Translation]:
        """Translates strings; returns one `Translation` per input, in input order.

        Raises:
            ValueError: for `beam != 1` (beam search is not in this version).
        """
        if beam != 1:
            raise ValueError("beam must be 1: beam search is not in this version")
        limit = min(max_length or self.max_length, self.max_length)
        texts = list(texts)
        out: list[Translation] = []
        for start in range(0, len(texts), batch_size):
            out.extend(self._run(texts[start : start + batch_size], limit))
        return out

    def translate(self, texts: Sequence[str], **kwargs) -> list[str]:
        """Translates strings; returns the best translation of each."""
        return [t.text for t in self.translate_detailed(texts, **kwargs)]


class _IdsBackend(Backend):
    """A backend fed with ids tokenized in Python by SentencePiece."""

    def __init__(self, path, tokenizer, max_source_length, max_length):
        super().__init__(path, max_source_length, max_length)
        self.tokenizer = tokenizer

    def _decode_ids(self, source_ids: np.ndarray, max_length: int):
        raise NotImplementedError

    def _run(self, texts, max_length):
        rows = [r[: self.max_source_length] for r in self.tokenizer.encode(texts)]
        ids, scores = self._decode_ids(_pad(rows), max_length)
        trimmed = [_trim(row) for row in ids[:, 0]]
        strings = self.tokenizer.decode(trimmed)
        return [
            Translation(s, r, float(sc))
            for s, r, sc in zip(strings, trimmed, scores[:, 0], strict=True)
        ]


class KerasBackend(_IdsBackend):
    """The run dir's `.keras` model, decoded in-process by `decoding.greedy_search`."""

    name = "keras"

    def __init__(self, run_dir: str):
        import tensorflow as tf

        from keras_s2s.config import RunConfig
        from keras_s2s.decoding import greedy_search
        from keras_s2s.models import Seq2Seq
        from keras_s2s.tokenizer import Tokenizer
        from keras_s2s.training import CONFIG_FILENAME, load_model

        config = RunConfig.load(os.path.join(run_dir, CONFIG_FILENAME))
        super().__init__(
            run_dir,
            Tokenizer.load(run_dir),
            config.data.max_source_length,
            config.decode.max_length,
        )
        self.model = load_model(run_dir)
        s2s = Seq2Seq.from_model(self.model)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([], tf.int32),
            ]
        )
        def decode(source_ids, max_length):
            result = greedy_search(
                s2s.step, s2s.encode(source_ids), tf.shape(source_ids)[0], max_length
            )
            return result.ids, result.scores

        self._decode = decode

    def _decode_ids(self, source_ids, max_length):
        ids, scores = self._decode(source_ids.astype(np.int32), np.int32(max_length))
        return ids.numpy(), scores.numpy()


class OnnxBackend(_IdsBackend):
    """`onnx/model.onnx` in ONNX Runtime; tokenizes with `sentencepiece`, no TensorFlow."""

    name = "onnx"

    def __init__(self, onnx_path: str, threads: int | None = None):
        # onnxruntime first: a process that loaded TensorFlow before creating a session
        # with custom ops crashed here (../shared/NOTES.md).
        import onnxruntime as ort

        from keras_s2s.tokenizer import Tokenizer

        folder = os.path.dirname(os.path.abspath(onnx_path))
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            config = json.load(f)
        super().__init__(
            onnx_path,
            Tokenizer.load(os.path.join(folder, config["files"]["tokenizer"])),
            config["max_source_length"],
            config["max_length"],
        )
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

    def _decode_ids(self, source_ids, max_length):
        ids, scores = self.session.run(
            ["ids", "scores"],
            {
                "source_ids": source_ids.astype(np.int64),
                "max_length": np.array(max_length, np.int32),
                "beam_width": np.array(1, np.int32),
                "n_best": np.array(1, np.int32),
            },
        )
        return ids, scores


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
            version_dir, config["data"]["max_source_length"], config["decode"]["max_length"]
        )
        self.module = tf.saved_model.load(version_dir)
        self._fn = self.module.signatures["translate_with_options"]

    def _run(self, texts, max_length):
        tf = self._tf
        out = self._fn(
            text=tf.constant(texts, tf.string),
            max_length=tf.constant(max_length, tf.int32),
            beam_width=tf.constant(1, tf.int32),
            n_best=tf.constant(1, tf.int32),
        )
        strings = out["translations"].numpy()[:, 0]
        ids = out["ids"].numpy()[:, 0]
        scores = out["scores"].numpy()[:, 0]
        return [
            Translation(s.decode("utf-8"), _trim(r), float(sc))
            for s, r, sc in zip(strings, ids, scores, strict=True)
        ]


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
        if path.endswith(".onnx") and backend in (None, "onnx"):
            return "onnx", path
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
        if backend == "onnx":
            onnx_path = os.path.join(path, "onnx", "model.onnx")
            if os.path.isfile(onnx_path):
                return "onnx", onnx_path
            raise ModelPathError(f"{path}: exported without ONNX (no onnx/model.onnx)")
    wanted = f" for backend {backend!r}" if backend else ""
    raise ModelPathError(
        f"{path}: not a model{wanted} (expected a run dir, version dir or .onnx file)"
    )


def load(path: str, backend: str | None = None) -> Backend:
    """Loads a model for translation; see `resolve` for the paths it accepts."""
    kind, target = resolve(str(path), backend)
    if kind == "onnx":
        return OnnxBackend(target)
    if kind == "savedmodel":
        return SavedModelBackend(target)
    return KerasBackend(target)
