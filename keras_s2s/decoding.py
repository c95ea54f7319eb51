# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Decoding as a graph while-loop over a `step_fn` closure.

Decoding knows nothing about the architecture. It only calls

    step_fn(ids [batch], state) -> (logits [batch, vocab], state)

where `state` is any nested structure of tensors whose leading dimension is the batch.
The loop is a `tf.while_loop` with `maximum_iterations`, so it lives inside the traced
graph (SavedModel, ONNX `Loop`) instead of a Python loop that calls the model once per
token.

Example:
    >>> result = greedy_search(step_fn, state, batch_size=tf.shape(src)[0], max_length=50)
    >>> result.ids      # int32 [batch, 1, time]: tokens, eos included, then pad
    >>> result.lengths  # int32 [batch, 1]: tokens up to and including eos
    >>> result.scores   # float32 [batch, 1]: sum of the chosen tokens' log-probabilities
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import tensorflow as tf

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID

StepFn = Callable[[tf.Tensor, Any], tuple[tf.Tensor, Any]]


class DecodeResult(NamedTuple):
    """Hypotheses for each sentence, best first.

    Attributes:
        ids: int32 `[batch, n_best, time]`; each row ends with eos (unless cut by the
            length limit) and is padded with 0 after it.
        lengths: int32 `[batch, n_best]`, tokens up to and including eos.
        scores: float32 `[batch, n_best]`, the sum of the chosen tokens' log-probabilities.
    """

    ids: tf.Tensor
    lengths: tf.Tensor
    scores: tf.Tensor


def greedy_search(
    step_fn: StepFn,
    state: Any,
    batch_size: tf.Tensor,
    max_length: tf.Tensor | int,
    *,
    start_id: int = SOS_ID,
    end_id: int = EOS_ID,
) -> DecodeResult:
    """Greedy decoding: at each step every row takes its most likely token.

    Rows stop at `end_id` and then emit pad (their scores and lengths stop changing);
    the loop ends when every row has stopped or after `max_length` steps. Each row is
    computed independently, so a sentence decodes the same alone and in a batch.

    Args:
        step_fn: `(ids [batch], state) -> (logits [batch, vocab], state)`.
        state: Initial decoder state (nested structure, batch-major).
        batch_size: Scalar int32, the number of rows.
        max_length: Scalar int32 >= 1, the most tokens to generate (eos included).
        start_id: The first input token.
        end_id: The token that ends a row.

    Returns:
        A `DecodeResult` with `n_best = 1`.
    """
    max_length = tf.maximum(tf.cast(max_length, tf.int32), 1)
    start = tf.fill([batch_size], tf.constant(start_id, tf.int32))
    finished = tf.zeros([batch_size], tf.bool)
    scores = tf.zeros([batch_size], tf.float32)
    lengths = tf.zeros([batch_size], tf.int32)
    tokens = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])

    def cond(t, ids, state, finished, scores, lengths, tokens):
        # Always take one step, so that an empty batch still yields a [0, 1, 1] result.
        return tf.logical_or(tf.equal(t, 0), tf.logical_not(tf.reduce_all(finished)))

    def body(t, ids, state, finished, scores, lengths, tokens):
        logits, state = step_fn(ids, state)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        next_ids = tf.argmax(log_probs, axis=-1, output_type=tf.int32)
        next_ids = tf.where(finished, tf.constant(PAD_ID, tf.int32), next_ids)
        chosen = tf.gather(log_probs, next_ids, axis=1, batch_dims=1)
        scores += tf.where(finished, 0.0, chosen)
        lengths += tf.cast(tf.logical_not(finished), tf.int32)
        finished = tf.logical_or(finished, tf.equal(next_ids, end_id))
        return t + 1, next_ids, state, finished, scores, lengths, tokens.write(t, next_ids)

    _, _, _, _, scores, lengths, tokens = tf.while_loop(
        cond,
        body,
        (tf.constant(0), start, state, finished, scores, lengths, tokens),
        maximum_iterations=max_length,
    )
    ids = tf.transpose(tokens.stack(), [1, 0])  # [batch, time]
    return DecodeResult(ids[:, None, :], lengths[:, None], scores[:, None])
