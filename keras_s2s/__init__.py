# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""keras-s2s: RNN sequence-to-sequence models in Keras 3 / TensorFlow.

Importing the package is cheap: TensorFlow is imported only by the modules that need
it, so the ONNX Runtime path never loads it.
"""

__version__ = "0.1.0"
