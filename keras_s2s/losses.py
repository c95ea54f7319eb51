# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Masked token-level loss and metrics.

The loss is the sum of sparse categorical cross-entropies over every non-padding
target token, divided by the number of such tokens. Padding contributes nothing, and
the value does not depend on how many pad tokens a batch happens to carry.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.config import PAD_ID

_PACKAGE = "keras_s2s"


def _token_cross_entropy(labels, logits):
    """Returns (cross-entropy `[batch, time]`, mask `[batch, time]` as float32)."""
    labels = tf.cast(labels, tf.int32)
    # Mixed-precision logits are bf16 (8 significant bits): the softmax and its sum over
    # the vocabulary run in float32, as the loss's do (Keras casts the loss's inputs).
    logits = tf.cast(logits, tf.float32)
    mask = tf.cast(tf.not_equal(labels, PAD_ID), logits.dtype)
    ce = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    return ce * mask, mask


def _global_sum(value):
    """`value` summed over the replicas in sync (itself outside a distributed step).

    Metric results use it too: read inside a replica, a metric variable holds only that
    replica's share, and Keras then keeps one replica's result (see `distribute.py`).
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return value
    # A tensor, not a (sync-on-read) variable: the all-reduce needs a value on a device.
    return context.all_reduce(tf.distribute.ReduceOp.SUM, tf.identity(tf.convert_to_tensor(value)))


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MaskedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Mean cross-entropy over non-padding target tokens, with optional label smoothing.

    Args:
        label_smoothing: Share of the target probability spread uniformly over the
            vocabulary (0 is plain cross-entropy).
        name: Loss name.
        **kwargs: Standard `keras.losses.Loss` arguments.

    Call args:
        y_true: int labels `[batch, time]`, 0 at padding.
        y_pred: logits `[batch, time, vocab]`.

    Returns:
        Scalar: `sum(ce * mask) / max(sum(mask), 1)`. Under a `tf.distribute` strategy
        each replica divides its own sum by the token count of the *global* batch (an
        all-reduce), so the replicas' gradients add up to the gradient of the global
        per-token mean, whatever the number of workers and however the tokens are split.
    """

    def __init__(
        self, label_smoothing=0.0, name="masked_sparse_categorical_crossentropy", **kwargs
    ):
        kwargs.setdefault("reduction", "sum")
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        if self.label_smoothing:
            # The smoothed target, (1 - e) * one_hot(label) + e / vocab, as a dense
            # distribution: the fused softmax cross-entropy kernel then gives the loss
            # and its gradient in one pass over the logits. (A sparse cross-entropy
            # plus the label logit and the logits' mean for the uniform part took ~40%
            # longer with its gradient, bench/README.md.)
            labels = tf.cast(y_true, tf.int32)
            mask = tf.cast(tf.not_equal(labels, PAD_ID), y_pred.dtype)
            vocab = tf.shape(y_pred)[-1]
            uniform = self.label_smoothing / tf.cast(vocab, y_pred.dtype)
            target = tf.one_hot(
                labels,
                vocab,
                on_value=1.0 - self.label_smoothing + uniform,
                off_value=uniform,
                dtype=y_pred.dtype,
            )
            ce = tf.nn.softmax_cross_entropy_with_logits(target, y_pred) * mask
        else:
            ce, mask = _token_cross_entropy(y_true, y_pred)
        return tf.reduce_sum(ce) / tf.maximum(_global_sum(tf.reduce_sum(mask)), 1.0)

    def get_config(self):
        config = super().get_config()
        config.update(label_smoothing=self.label_smoothing)
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class MaskedAccuracy(keras.metrics.Metric):
    """Share of non-padding target tokens whose argmax prediction is right."""

    def __init__(self, name="token_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.int32)
        mask = tf.not_equal(y_true, PAD_ID)
        hits = tf.equal(tf.argmax(y_pred, axis=-1, output_type=tf.int32), y_true) & mask
        self.correct.assign_add(tf.reduce_sum(tf.cast(hits, self.dtype)))
        self.count.assign_add(tf.reduce_sum(tf.cast(mask, self.dtype)))

    def result(self):
        return _global_sum(self.correct) / tf.maximum(_global_sum(self.count), 1.0)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Perplexity(keras.metrics.Metric):
    """exp of the mean cross-entropy over all non-padding tokens seen so far."""

    def __init__(self, name="perplexity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        ce, mask = _token_cross_entropy(y_true, y_pred)
        self.total.assign_add(tf.cast(tf.reduce_sum(ce), self.dtype))
        self.count.assign_add(tf.cast(tf.reduce_sum(mask), self.dtype))

    def result(self):
        return tf.exp(_global_sum(self.total) / tf.maximum(_global_sum(self.count), 1.0))
