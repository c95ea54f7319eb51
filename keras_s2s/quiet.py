# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Keeping TensorFlow's start-up lines off the terminal, without hiding real errors.

TensorFlow's C++ runtime writes to file descriptor 2 directly when it loads and probes
for devices (absl's `InitializeLog` warning, the oneDNN notices, "Could not find cuda
drivers", "failed call to cuInit"); `TF_CPP_MIN_LOG_LEVEL` does not silence all of them
(tensorflow#100442), and Python's `sys.stderr` cannot catch them. `captured_stderr`
points descriptor 2 at a temporary file for the length of a block instead, so the CLI
wraps only the steps that load TensorFlow or a model (and the export, whose converters
log at length). If the block raises an unexpected exception, everything captured is
written back before the traceback, so nothing that explains a crash is lost.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def captured_stderr(*, show: bool = False, expected: tuple[type[BaseException], ...] = ()):
    """Captures everything written to file descriptor 2 inside the block.

    Args:
        show: Capture nothing (the CLI's `--verbose`).
        expected: Exceptions that are user errors, reported in one line by the caller;
            for them the captured output is dropped. On any other exception it is
            written back to descriptor 2.

    Yields:
        None.
    """
    if show:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    capture = tempfile.TemporaryFile()
    os.dup2(capture.fileno(), 2)
    replay = False
    try:
        yield
    except expected:
        raise
    except BaseException:
        replay = True
        raise
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        if replay:
            capture.seek(0)
            os.write(2, capture.read())
        capture.close()


def load_tensorflow(*, show: bool = False, run_op: bool = True) -> None:
    """Imports TensorFlow and Keras and lets TensorFlow probe its devices, quietly.

    Args:
        show: Capture nothing (the CLI's `--verbose`).
        run_op: Also run one op, which starts TensorFlow's eager context. Pass False when
            the process will create a `MultiWorkerMirroredStrategy`, which must configure
            its collective ops before that context starts.
    """
    with captured_stderr(show=show):
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()
        if run_op:
            # On some hosts (seen on one with AVX-512) oneDNN logs, once per process and
            # at error level, that it leaves bool tensors to Eigen; the first bool op
            # prints it (a masked RNN's transpose in the first training step), so one
            # runs here, inside the capture.
            tf.transpose(tf.constant([[True]]))
