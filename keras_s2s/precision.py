# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Training precision: float32, or bf16 mixed precision where the CPU computes in bf16.

`TrainConfig.precision` is `"float32"`, `"mixed_bfloat16"` (Keras' policy: float32
variables, bf16 matmuls and activations, the loss in float32) or `"auto"`, which
`resolve` turns into one of the two:

- **mixed_bfloat16** on a CPU with native bf16 dot products (`avx512_bf16` or
  `amx_bf16` in `/proc/cpuinfo`), no GPU visible and no distribution strategy. There
  its Multi30k GRU 512 epochs took ~92 s instead of ~131 s, and in 20 minutes it
  reached 38.68 BLEU; it learns a little less per update, so in 45 minutes, where
  float32 had converged, it scored 39.41 against 40.02 (bench/README.md).
- **float32** everywhere else: on an AVX2-only CPU bf16 matmuls ran *slower* than
  float32 (they are emulated); GPUs were not measured; and a distributed run is promised
  to match a one-worker run (tests/test_distribute.py), which bf16 rounding of each
  replica's partial gradients breaks.

Precision only concerns training. The model a run saves (`model.keras`), and so every
translator and export, is always float32: `keras_s2s.training` copies the float32
weights into a float32 model before saving.
"""

from __future__ import annotations

import contextlib
import functools

from keras_s2s.config import PRECISIONS, ConfigError

# /proc/cpuinfo flags of native bf16 dot products (AVX512_BF16's VDPBF16PS, AMX tiles).
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The first CPU's feature flags from `/proc/cpuinfo` (empty where it is unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def resolve(
    precision: str,
    *,
    strategy: str = "none",
    flags: frozenset[str] | None = None,
    gpus: int | None = None,
) -> str:
    """The Keras dtype policy a training runs under.

    Args:
        precision: `TrainConfig.precision`: "auto", "float32" or "mixed_bfloat16".
        strategy: `TrainConfig.strategy`; "auto" is float32 for any but "none".
        flags: CPU flags (default: this machine's, `cpu_flags()`).
        gpus: Visible GPUs (default: asked of TensorFlow).

    Returns:
        "float32" or "mixed_bfloat16"; an explicit choice is returned unchanged.

    Raises:
        ConfigError: for a precision not in `PRECISIONS`.
    """
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision != "auto":
        return precision
    if strategy != "none":
        return "float32"
    if gpus is None:
        import tensorflow as tf

        gpus = len(tf.config.list_physical_devices("GPU"))
    if gpus:
        return "float32"
    return (
        "mixed_bfloat16"
        if (cpu_flags() if flags is None else flags) & BF16_CPU_FLAGS
        else "float32"
    )


@contextlib.contextmanager
def dtype_policy(name: str):
    """Keras layers created inside the block take the dtype policy `name`.

    Keras reads a process-wide default policy when a layer is created; this sets it for
    the block only and restores the previous one, so nothing else is affected.
    """
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
