# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Greedy and beam search as graph while-loops over a `step_fn` closure.

Decoding knows nothing about the architecture. It only calls

    step_fn(ids [batch], state) -> (logits [batch, vocab], state[, attention])

where `state` is any nested structure of tensors whose leading dimension is the batch,
and the optional `attention [batch, source_time]` is recorded as alignments. The loops
are `tf.while_loop`s with `maximum_iterations`, so they live inside the traced graph
(SavedModel, ONNX `Loop`) instead of a Python loop that calls the model once per token.
The first step is taken before the loop, which fixes the shapes of everything the loop
carries (and makes an empty batch work).

Example:
    >>> result = beam_search(step_fn, state, batch_size, max_length=50, beam_width=5)
    >>> result.ids         # int32 [batch, beam, time]: best first, eos, then pad
    >>> result.scores      # float32 [batch, beam]
    >>> result.alignments  # float32 [batch, beam, time, source_time], or None
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import tensorflow as tf

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID

StepFn = Callable[[tf.Tensor, Any], tuple]

# Stands for log(0): finite, so sums and differences never produce NaN.
NEG_INF = -1e9


class DecodeResult(NamedTuple):
    """Hypotheses for each sentence, best first.

    Attributes:
        ids: int32 `[batch, n, time]`; each row ends with eos (unless cut by the length
            limit) and is padded with 0 after it.
        lengths: int32 `[batch, n]`, tokens up to and including eos.
        scores: float32 `[batch, n]`. Greedy: the sum of the chosen tokens'
            log-probabilities. Beam: that sum divided by the GNMT length penalty
            `((5 + length) / 6) ** alpha`, the score hypotheses are ranked by.
        alignments: float32 `[batch, n, time, source_time]` when `step_fn` returns
            attention weights, else None.
    """

    ids: tf.Tensor
    lengths: tf.Tensor
    scores: tf.Tensor
    alignments: tf.Tensor | None = None


def _call(step_fn, ids, state):
    out = step_fn(ids, state)
    logits, state = out[0], out[1]
    attention = out[2] if len(out) > 2 else None
    return tf.cast(logits, tf.float32), state, attention


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
        step_fn: `(ids [batch], state) -> (logits [batch, vocab], state[, attention])`.
        state: Initial decoder state (nested structure, batch-major).
        batch_size: Scalar int32, the number of rows.
        max_length: Scalar int32, the most tokens to generate (eos included); values
            below 1 count as 1.
        start_id: The first input token.
        end_id: The token that ends a row.

    Returns:
        A `DecodeResult` with `n = 1`.
    """
    max_length = tf.maximum(tf.cast(max_length, tf.int32), 1)

    def advance(ids, state, finished, scores, lengths):
        logits, state, attention = _call(step_fn, ids, state)
        log_probs = tf.nn.log_softmax(logits, axis=-1)
        next_ids = tf.argmax(log_probs, axis=-1, output_type=tf.int32)
        next_ids = tf.where(finished, tf.constant(PAD_ID, tf.int32), next_ids)
        chosen = tf.gather(log_probs, next_ids, axis=1, batch_dims=1)
        scores += tf.where(finished, 0.0, chosen)
        lengths += tf.cast(tf.logical_not(finished), tf.int32)
        finished = tf.logical_or(finished, tf.equal(next_ids, end_id))
        return next_ids, state, finished, scores, lengths, attention

    start = tf.fill([batch_size], tf.constant(start_id, tf.int32))
    ids, state, finished, scores, lengths, attention = advance(
        start,
        state,
        tf.zeros([batch_size], tf.bool),
        tf.zeros([batch_size], tf.float32),
        tf.zeros([batch_size], tf.int32),
    )
    tokens = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=[None])
    tokens = tokens.write(0, ids)
    with_attention = attention is not None
    weights = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[None, None])
    if with_attention:
        weights = weights.write(0, tf.cast(attention, tf.float32))

    def cond(t, ids, state, finished, scores, lengths, tokens, weights):
        return tf.logical_not(tf.reduce_all(finished))

    def body(t, ids, state, finished, scores, lengths, tokens, weights):
        ids, state, finished, scores, lengths, attention = advance(
            ids, state, finished, scores, lengths
        )
        if with_attention:
            weights = weights.write(t, tf.cast(attention, tf.float32))
        return t + 1, ids, state, finished, scores, lengths, tokens.write(t, ids), weights

    _, _, _, _, scores, lengths, tokens, weights = tf.while_loop(
        cond,
        body,
        (tf.constant(1), ids, state, finished, scores, lengths, tokens, weights),
        maximum_iterations=max_length - 1,
    )
    ids = tf.transpose(tokens.stack(), [1, 0])  # [batch, time]
    alignments = None
    if with_attention:
        alignments = tf.transpose(weights.stack(), [1, 0, 2])[:, None]  # [b, 1, t, s]
    return DecodeResult(ids[:, None, :], lengths[:, None], scores[:, None], alignments)


def length_penalty(lengths: tf.Tensor, alpha: float | tf.Tensor) -> tf.Tensor:
    """GNMT length penalty `((5 + length) / 6) ** alpha` (Wu et al., 2016)."""
    return tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, tf.cast(alpha, tf.float32))


def _tile_beams(x, beam_width):
    return tf.repeat(x, beam_width, axis=0)


def beam_search(
    step_fn: StepFn,
    state: Any,
    batch_size: tf.Tensor,
    max_length: tf.Tensor | int,
    beam_width: tf.Tensor | int,
    *,
    alpha: float | tf.Tensor = 0.6,
    n_best: tf.Tensor | int | None = None,
    start_id: int = SOS_ID,
    end_id: int = EOS_ID,
) -> DecodeResult:
    """Beam search with the GNMT length penalty, batched over sentences.

    Each sentence keeps `beam_width` hypotheses. At every step all `beam_width * vocab`
    extensions are ranked by `sum of log-probabilities / length_penalty(length)` and the
    best `beam_width` survive; the decoder state (and attention history) of each
    survivor is gathered from its parent beam. A hypothesis that emitted eos stays in the
    beam with its score frozen (it can only be extended by pad, at no cost), so it
    competes with the growing ones until it is pushed out. The loop ends when every
    beam of every sentence has finished, or after `max_length` steps. With
    `beam_width = 1` this is exactly greedy search.

    Args:
        step_fn: `(ids [batch], state) -> (logits [batch, vocab], state[, attention])`.
        state: Initial decoder state for `batch_size` sentences (batch-major); it is
            repeated `beam_width` times (sentence-major) inside.
        batch_size: Scalar int32, the number of sentences.
        max_length: Scalar int32, the most tokens to generate; below 1 counts as 1.
        beam_width: Scalar int32 >= 1.
        alpha: Length-penalty exponent; 0 ranks by the plain sum of log-probabilities.
        n_best: Hypotheses to return per sentence (default `beam_width`, at most it).
        start_id: The first input token.
        end_id: The token that ends a hypothesis.

    Returns:
        A `DecodeResult` with `n = n_best`, best first.
    """
    max_length = tf.maximum(tf.cast(max_length, tf.int32), 1)
    k = tf.maximum(tf.cast(beam_width, tf.int32), 1)
    n = k if n_best is None else tf.clip_by_value(tf.cast(n_best, tf.int32), 1, k)
    b = tf.cast(batch_size, tf.int32)
    state = tf.nest.map_structure(lambda x: _tile_beams(x, k), state)
    parent_base = (tf.range(b) * k)[:, None]  # [b, 1]

    def update(t, logits, state, attention, scores, finished, lengths, seqs, weights):
        vocab = tf.shape(logits)[-1]
        log_probs = tf.reshape(tf.nn.log_softmax(logits, axis=-1), [b, k, vocab])
        # A finished hypothesis can only be extended by pad, at no cost.
        # (Comparisons with a range rather than one_hot of a scalar: tf2onnx converts
        # one_hot only for rank-1 indices.)
        pad_only = tf.where(tf.equal(tf.range(vocab), PAD_ID), 0.0, NEG_INF)
        log_probs = tf.where(finished[:, :, None], pad_only[None, None, :], log_probs)
        candidates = scores[:, :, None] + log_probs  # [b, k, vocab]
        new_lengths = lengths + tf.cast(tf.logical_not(finished), tf.int32)
        rank = candidates / length_penalty(new_lengths, alpha)[:, :, None]
        _, best = tf.math.top_k(tf.reshape(rank, [b, -1]), k=k)  # [b, k], sorted
        parent = best // vocab
        token = best % vocab
        scores = tf.gather(tf.reshape(candidates, [b, -1]), best, batch_dims=1)
        lengths = tf.gather(new_lengths, parent, batch_dims=1)
        finished = tf.logical_or(tf.gather(finished, parent, batch_dims=1), tf.equal(token, end_id))
        flat_parent = tf.reshape(parent_base + parent, [-1])
        state = tf.nest.map_structure(lambda x: tf.gather(x, flat_parent), state)
        at_t = tf.cast(tf.equal(tf.range(tf.shape(seqs)[2]), t), tf.int32)  # [time]
        seqs = tf.gather(seqs, parent, batch_dims=1) + token[:, :, None] * at_t
        if weights is not None:
            source = tf.shape(attention)[-1]
            attention = tf.gather(tf.reshape(attention, [b, k, source]), parent, batch_dims=1)
            at_t = tf.cast(at_t, tf.float32)[None, None, :, None]
            weights = (
                tf.gather(weights, parent, batch_dims=1)
                + at_t * tf.cast(attention, tf.float32)[:, :, None, :]
            )
        return token, state, scores, finished, lengths, seqs, weights

    # Only beam 0 is live at first, so the first step does not expand k copies of sos.
    first_scores = tf.tile(tf.concat([[0.0], tf.fill([k - 1], NEG_INF)], axis=0)[None, :], [b, 1])
    logits, state, attention = _call(
        step_fn, tf.fill([b * k], tf.constant(start_id, tf.int32)), state
    )
    weights = None
    if attention is not None:
        weights = tf.zeros([b, k, max_length, tf.shape(attention)[-1]], tf.float32)
    ids, state, scores, finished, lengths, seqs, weights = update(
        tf.constant(0),
        logits,
        state,
        attention,
        first_scores,
        tf.zeros([b, k], tf.bool),
        tf.zeros([b, k], tf.int32),
        tf.zeros([b, k, max_length], tf.int32),
        weights,
    )
    has_weights = weights is not None
    loop_weights = weights if has_weights else tf.zeros([0])

    def cond(t, ids, state, scores, finished, lengths, seqs, w):
        return tf.logical_not(tf.reduce_all(finished))

    def body(t, ids, state, scores, finished, lengths, seqs, w):
        logits, state, attention = _call(step_fn, tf.reshape(ids, [-1]), state)
        ids, state, scores, finished, lengths, seqs, w = update(
            t, logits, state, attention, scores, finished, lengths, seqs, w if has_weights else None
        )
        return (
            t + 1,
            ids,
            state,
            scores,
            finished,
            lengths,
            seqs,
            (w if has_weights else loop_weights),
        )

    loop_vars = (tf.constant(1), ids, state, scores, finished, lengths, seqs, loop_weights)
    # A beam width known when tracing (e.g. the serving default) would pin the beam
    # dimension; the loop only promises ranks.
    invariants = tf.nest.map_structure(lambda x: tf.TensorShape([None] * x.shape.rank), loop_vars)
    steps, _, _, scores, finished, lengths, seqs, loop_weights = tf.while_loop(
        cond,
        body,
        loop_vars,
        shape_invariants=invariants,
        maximum_iterations=max_length - 1,
    )
    normalized = scores / length_penalty(lengths, alpha)
    alignments = loop_weights[:, :n, :steps] if has_weights else None
    return DecodeResult(seqs[:, :n, :steps], lengths[:, :n], normalized[:, :n], alignments)
