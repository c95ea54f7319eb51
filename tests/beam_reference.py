# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The beam search keras-s2s shipped until the step-history rewrite, kept as a reference."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID
from keras_s2s.decoding import NEG_INF, DecodeResult, StepFn, _call, _tile_beams, length_penalty


def reference_beam_search(
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
    """Beam search as it was before the step history: `decoding.beam_search`'s reference.

    Same arguments and result. It carries `[batch, beam, max_length]` ids (and
    `[batch, beam, max_length, source_time]` alignments) through the loop and gathers
    all of them from the parent beams at every step, so a step costs in proportion to
    `max_length`. Kept to pin the new implementation to it, and for the
    `beam_length_scaling` row of `bench/decode_latency.py`.
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
