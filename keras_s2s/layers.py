# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Attention layers: Bahdanau (additive) and Luong (dot and general).

Both score a decoder query against the encoder outputs ("memory") and return a context
vector, the attention-weighted sum of the memory, and the weights themselves (the
alignments). Padding positions of the source get zero weight.

Both are called the same way, for a whole target sequence or for one step:

    keys = attention.prepare(memory)                  # once per sentence
    context, weights = attention(query, keys, memory, memory_mask)

with `query [batch, target_time, units]`, `memory [batch, source_time, memory_dim]`,
`memory_mask [batch, source_time]` (bool), `context [batch, target_time, memory_dim]` and
`weights [batch, target_time, source_time]`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

_PACKAGE = "keras_s2s"
_NEG = -1e9


def _masked_softmax(scores, memory_mask):
    # A large negative number instead of -inf: an all-padding row (empty source) then
    # gets uniform weights over zero vectors instead of NaN.
    mask = tf.cast(memory_mask, scores.dtype)[:, None, :]
    scores = scores * mask + _NEG * (1.0 - mask)
    return tf.nn.softmax(scores, axis=-1)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BahdanauAttention(keras.layers.Layer):
    """Additive attention: `score(q, m) = v . tanh(W_q q + W_m m)`.

    Args:
        units: Width of the additive scoring layer.
        **kwargs: Standard `keras.layers.Layer` arguments.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.memory_layer = keras.layers.Dense(units, use_bias=False, name="memory_layer")
        self.query_layer = keras.layers.Dense(units, use_bias=False, name="query_layer")
        self.score_layer = keras.layers.Dense(1, use_bias=False, name="score_layer")

    def build(self, query_shape, memory_dim=None):
        memory_dim = memory_dim or query_shape[-1]
        self.memory_layer.build((None, None, memory_dim))
        self.query_layer.build((None, None, query_shape[-1]))
        self.score_layer.build((None, None, None, self.units))
        self.built = True

    def prepare(self, memory):
        """Projects the memory once per sentence: `[batch, source_time, units]`."""
        return self.memory_layer(memory)

    def call(self, query, keys, memory, memory_mask):
        q = self.query_layer(query)  # [b, t, units]
        scores = self.score_layer(tf.tanh(q[:, :, None, :] + keys[:, None, :, :]))[..., 0]
        weights = _masked_softmax(scores, memory_mask)  # [b, t, s]
        return tf.matmul(weights, memory), weights

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units)
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LuongAttention(keras.layers.Layer):
    """Multiplicative attention: `dot` scores `q . m`, `general` scores `q . W m`.

    `dot` needs the memory to be as wide as the query; a bidirectional encoder's memory
    is twice as wide, so use `general` there.

    With `scaled`, scores are divided by `sqrt(units)`, as in scaled dot-product
    attention, which keeps the softmax away from one-hot weights early in training.
    (Unscaled `general` scores over a bidirectional GRU memory on Multi30k were one-hot,
    max weight 0.99997, after 375 batches, yet still moved between positions and trained
    as well as the scaled ones, so it is off by default.)

    Args:
        units: Query width (the decoder's hidden size).
        score: `dot` or `general`.
        scaled: Divide scores by `sqrt(units)`.
        **kwargs: Standard `keras.layers.Layer` arguments.
    """

    def __init__(self, units, score="general", scaled=False, **kwargs):
        super().__init__(**kwargs)
        if score not in ("dot", "general"):
            raise ValueError(f"score must be 'dot' or 'general'; got {score!r}")
        self.units = units
        self.score = score
        self.scaled = bool(scaled)
        self.memory_layer = (
            keras.layers.Dense(units, use_bias=False, name="memory_layer")
            if score == "general"
            else None
        )

    def build(self, query_shape, memory_dim=None):
        if self.memory_layer is not None:
            self.memory_layer.build((None, None, memory_dim or self.units))
        self.built = True

    def prepare(self, memory):
        """The keys: the memory itself (`dot`) or its projection (`general`)."""
        if self.memory_layer is None:
            return memory
        return self.memory_layer(memory)

    def call(self, query, keys, memory, memory_mask):
        scores = tf.matmul(query, keys, transpose_b=True)  # [b, t, s]
        if self.scaled:
            scores = scores * (1.0 / float(self.units) ** 0.5)
        weights = _masked_softmax(scores, memory_mask)
        return tf.matmul(weights, memory), weights

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, score=self.score, scaled=self.scaled)
        return config


def make_attention(
    kind: str,
    units: int,
    luong_score: str = "general",
    luong_scaled: bool = False,
    name: str = "attention",
):
    """Returns the attention layer for `kind` (`bahdanau` or `luong`), or None for `none`."""
    if kind == "none":
        return None
    if kind == "bahdanau":
        return BahdanauAttention(units, name=name)
    if kind == "luong":
        return LuongAttention(units, score=luong_score, scaled=luong_scaled, name=name)
    raise ValueError(f"unknown attention {kind!r}")
