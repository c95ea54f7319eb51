# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""GRU and LSTM layers that project the whole input sequence before the time loop.

Keras 3 runs a GRU or LSTM on CPU as a loop over `cell.call`, and every step multiplies
that step's input by the input kernel: a small `[batch, features] x [features,
gates * units]` matmul inside a `while` loop, and two more in its gradient. The input
side of a recurrence does not depend on the state, so these layers compute it for all
steps at once (one large matmul before the loop, and one for each gradient after it),
and the loop keeps only the recurrent matmul, as cuDNN and PyTorch do.

Same weights, same variables and the same mathematics as `keras.layers.GRU` (reset
after) and `keras.layers.LSTM`, so checkpoints and `.keras` files load into either; the
outputs agree to float rounding (the input products are summed in another order). The
cells are Keras' own, so one-step decoding through `layer.cell` is unchanged. Where the
fast path does not apply (cell or recurrent dropout, a GRU without reset-after or bias,
a visible GPU, where Keras picks cuDNN) the layers run Keras' own loop.

The classes keep Keras' names, `GRU` and `LSTM` (registered as `keras_s2s>GRU` and
`keras_s2s>LSTM`): a `.keras` file keys the weights of layers held in a list by their
class names, so models saved with Keras' layers load into these and back.

Call args and returns: those of `keras.layers.GRU` and `keras.layers.LSTM`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras.src import backend as _backend  # the loop keras.layers.RNN itself runs

_PACKAGE = "keras_s2s"


def _keras_loop_needed(layer) -> bool:
    cell = layer.cell
    if cell.dropout or cell.recurrent_dropout or layer.unroll:
        return True
    # Keras picks cuDNN when a GPU is visible; leave that path to it.
    return layer.use_cudnn in ("auto", True) and bool(tf.config.list_logical_devices("GPU"))


def _run(layer, step, sequences, initial_state, mask, input_bias):
    """Projects `sequences [batch, time, features]` and loops `step` over the result."""
    kernel = layer.cell.kernel
    shape = tf.shape(sequences)
    # A 2-D matmul: a batched one broadcasting the kernel is slower, above all its gradient.
    projected = tf.reshape(
        tf.matmul(tf.reshape(sequences, [-1, shape[2]]), kernel),
        [shape[0], shape[1], kernel.shape[1]],
    )  # [batch, time, gates * units]
    if input_bias is not None:
        projected = projected + input_bias
    return _backend.rnn(
        step,
        projected,
        list(initial_state),
        go_backwards=layer.go_backwards,
        mask=mask,
        unroll=False,
        input_length=sequences.shape[1],
        zero_output_for_mask=layer.zero_output_for_mask,
        return_all_outputs=layer.return_sequences,
    )


def _first(structure):
    return structure[0] if isinstance(structure, (list, tuple)) else structure


@keras.saving.register_keras_serializable(package=_PACKAGE)
class GRU(keras.layers.GRU):
    """`keras.layers.GRU` with the input projection taken out of the time loop.

    Takes the arguments of `keras.layers.GRU`. Inputs `[batch, time, features]`; with
    `return_sequences`, outputs `[batch, time, units]`; states `[batch, units]`.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if _keras_loop_needed(self) or not (cell.reset_after and cell.use_bias):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        units = cell.units
        recurrent_bias = cell.bias[1]

        def step(x, states):
            h = states[0]
            inner = tf.matmul(h, cell.recurrent_kernel) + recurrent_bias
            x_zr, x_h = tf.split(x, [2 * units, units], axis=-1)
            inner_zr, inner_h = tf.split(inner, [2 * units, units], axis=-1)
            z, r = tf.split(cell.recurrent_activation(x_zr + inner_zr), 2, axis=-1)
            candidate = cell.activation(x_h + r * inner_h)
            h = z * h + (1 - z) * candidate
            return h, [h]

        return _run(self, step, sequences, [_first(initial_state)], _first(mask), cell.bias[0])


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` with the input projection taken out of the time loop.

    Takes the arguments of `keras.layers.LSTM`. Inputs `[batch, time, features]`; with
    `return_sequences`, outputs `[batch, time, units]`; states `h, c`, `[batch, units]`.
    """

    def inner_loop(self, sequences, initial_state, mask, training=False):
        cell = self.cell
        if _keras_loop_needed(self):
            return super().inner_loop(sequences, initial_state, mask, training=training)

        def step(x, states):
            h, c = states
            i, f, g, o = tf.split(x + tf.matmul(h, cell.recurrent_kernel), 4, axis=-1)
            act, gate = cell.activation, cell.recurrent_activation
            c = gate(f) * c + gate(i) * act(g)
            h = gate(o) * act(c)
            return h, [h, c]

        bias = cell.bias if cell.use_bias else None
        return _run(self, step, sequences, initial_state, _first(mask), bias)
