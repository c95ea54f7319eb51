# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""keras-s2s: RNN sequence-to-sequence models in Keras 3 / TensorFlow.

Importing the package is cheap: TensorFlow is imported only by the modules that need
it, so the ONNX Runtime path never loads it.
"""

__version__ = "0.1.0"


def load(path, backend=None):
    """Loads a run dir, published version dir or `.onnx` file for translation.

    Args:
        path: The model path; the backend is chosen from it unless `backend` is given.
        backend: `keras`, `savedmodel`, `onnx`, `onnx-int8` or `onnx-text`.

    Returns:
        A `keras_s2s.backends.Backend`: `translate(texts, beam=1, n_best=1,
        max_length=None)` returns a `str` for a `str` and a list for a list.
    """
    from keras_s2s.backends import load as _load

    return _load(path, backend)
