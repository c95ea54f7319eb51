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
    with_attention = attention is not None
    first = (ids,) + ((tf.cast(attention, tf.float32),) if with_attention else ())

    def cond(t, ids, state, finished, scores, lengths, *history):
        return tf.logical_not(tf.reduce_all(finished))

    def body(t, ids, state, finished, scores, lengths, *history):
        ids, state, finished, scores, lengths, attention = advance(
            ids, state, finished, scores, lengths
        )
        record = (ids,) + ((tf.cast(attention, tf.float32),) if with_attention else ())
        history = tuple(h.write(t - 1, x) for h, x in zip(history, record, strict=True))
        return (t + 1, ids, state, finished, scores, lengths, *history)

    steps, _, _, _, scores, lengths, *history = tf.while_loop(
        cond,
        body,
        (tf.constant(1), ids, state, finished, scores, lengths, *_histories(first)),
        maximum_iterations=max_length - 1,
    )
    tokens, *weights = (_stack(h, x, steps) for h, x in zip(history, first, strict=True))
    ids = tf.transpose(tokens, [1, 0])  # [batch, time]
    alignments = None
    if with_attention:
        alignments = tf.transpose(weights[0], [1, 0, 2])[:, None]  # [b, 1, t, s]
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
    best `beam_width` survive; the decoder state of each survivor is gathered from its
    parent beam. A hypothesis that emitted eos stays in the beam with its score frozen
    (it can only be extended by pad, at no cost), so it competes with the growing ones
    until it is pushed out. The loop ends when every beam of every sentence has
    finished, or after `max_length` steps. With `beam_width = 1` this is exactly greedy
    search.

    The loop records only each step's tokens, parent beams and attention, `[batch,
    beam(, source_time)]`, so a step costs the same at any `max_length`. The
    hypotheses (and their alignments) are rebuilt once at the end by following the
    parent pointers back from the last step (the idea of `gather_tree`).

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

    def update(logits, state, attention, scores, finished, lengths):
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
        if attention is not None:
            # Attention of the step that chose `token`, i.e. of its parent hypothesis.
            source = tf.shape(attention)[-1]
            attention = tf.gather(tf.reshape(attention, [b, k, source]), parent, batch_dims=1)
            attention = tf.cast(attention, tf.float32)
        return token, parent, attention, state, scores, finished, lengths

    # Only beam 0 is live at first, so the first step does not expand k copies of sos.
    first_scores = tf.tile(tf.concat([[0.0], tf.fill([k - 1], NEG_INF)], axis=0)[None, :], [b, 1])
    logits, state, attention = _call(
        step_fn, tf.fill([b * k], tf.constant(start_id, tf.int32)), state
    )
    ids, parent, attention, state, scores, finished, lengths = update(
        logits,
        state,
        attention,
        first_scores,
        tf.zeros([b, k], tf.bool),
        tf.zeros([b, k], tf.int32),
    )
    with_attention = attention is not None
    first = (ids, parent) + ((attention,) if with_attention else ())

    def cond(t, ids, state, scores, finished, lengths, *history):
        return tf.logical_not(tf.reduce_all(finished))

    def body(t, ids, state, scores, finished, lengths, *history):
        logits, state, attention = _call(step_fn, tf.reshape(ids, [-1]), state)
        ids, parent, attention, state, scores, finished, lengths = update(
            logits, state, attention, scores, finished, lengths
        )
        record = (ids, parent) + ((attention,) if with_attention else ())
        history = tuple(h.write(t - 1, x) for h, x in zip(history, record, strict=True))
        return (t + 1, ids, state, scores, finished, lengths, *history)

    loop_vars = (tf.constant(1), ids, state, scores, finished, lengths, *_histories(first))
    steps, _, _, scores, finished, lengths, *history = tf.while_loop(
        cond,
        body,
        loop_vars,
        shape_invariants=_free_shapes(loop_vars),
        maximum_iterations=max_length - 1,
    )
    tokens, parents, *weights = (
        _stack(h, x, steps) for h, x in zip(history, first, strict=True)
    )  # [steps, b, k(, source)]
    beams = _backtrack(parents, steps, n)  # [steps, b, n]
    ids = tf.transpose(_gather_beams(tokens, beams), [1, 2, 0])
    normalized = scores / length_penalty(lengths, alpha)
    alignments = None
    if with_attention:
        alignments = tf.transpose(_gather_beams(weights[0], beams), [1, 2, 0, 3])
    return DecodeResult(ids, lengths[:, :n], normalized[:, :n], alignments)


# The step history lives in TensorArrays that are created empty and written only inside
# the loop (tf2onnx turns exactly that pattern into ONNX `Loop` scan outputs); the
# first step, taken before the loop, is put in front after it.


def _histories(first: tuple) -> tuple:
    return tuple(
        tf.TensorArray(x.dtype, size=0, dynamic_size=True, element_shape=[None] * x.shape.rank)
        for x in first
    )


def _stack(history: tf.TensorArray, first: tf.Tensor, steps: tf.Tensor) -> tf.Tensor:
    """`[steps, ...]`: `first` then the `steps - 1` records written in the loop."""
    # `TensorArray.stack()` fails on an empty list whose element shape is not fully
    # known (a loop that stopped after the first step); the raw op takes the shape as
    # a tensor. ONNX Runtime returns a zero-trip scan output without its inner
    # dimensions, so the reshape restores them.
    shape = tf.shape(first)
    if tf.executing_eagerly():  # an eager TensorArray is a Python list, not a TensorList
        rest = history.stack() if history.size() else tf.zeros([0], first.dtype)
    else:
        rest = tf.raw_ops.TensorListStack(
            input_handle=history.flow, element_shape=shape, element_dtype=first.dtype
        )
    rest = tf.reshape(rest, tf.concat([[steps - 1], shape], axis=0))
    return tf.concat([first[None], rest], axis=0)


def _free_shapes(loop_vars: tuple) -> tuple:
    """Shape invariants that keep only ranks: a beam width known when tracing (e.g. the
    serving default) must not pin the beam dimension."""

    def free(x):
        if isinstance(x, tf.TensorArray):
            return tf.TensorShape(None)  # the invariant of its flow; elements keep theirs
        return tf.TensorShape([None] * x.shape.rank)

    return tf.nest.map_structure(free, loop_vars)  # a TensorArray is a leaf


def _backtrack(parents: tf.Tensor, steps: tf.Tensor, n: tf.Tensor) -> tf.Tensor:
    """Beam index of each final hypothesis at every step, `[steps, batch, n]`.

    Args:
        parents: int32 `[steps, batch, beam]`: the beam each step's hypothesis extends.
        steps: Scalar int32, the number of steps taken.
        n: Scalar int32, how many of the final (sorted) hypotheses to follow back.
    """
    last = tf.tile(tf.range(n)[None, :], [tf.shape(parents)[1], 1])  # [batch, n]

    def body(i, beam, trail):
        # Step `steps - i` chose `beam`; its parent is that hypothesis one step earlier.
        beam = tf.gather(tf.gather(parents, steps - i), beam, batch_dims=1)
        return i + 1, beam, trail.write(i - 1, beam)

    _, _, trail = tf.while_loop(
        lambda i, beam, trail: i < steps,
        body,
        (tf.constant(1), last, _histories((last,))[0]),
        maximum_iterations=steps - 1,
    )
    # Written last step first. Reversed by a gather at `steps - 1 - range`: ONNX
    # Runtime's Gather(Range) -> Slice fusion turns a gather at `range(steps - 1, -1,
    # -1)` into a slice that ends at index -1, i.e. an empty one.
    return tf.gather(_stack(trail, last, steps), steps - 1 - tf.range(steps))


def _gather_beams(history: tf.Tensor, beams: tf.Tensor) -> tf.Tensor:
    """`history [steps, batch, beam, ...]` at `beams [steps, batch, n]` -> `[steps, batch, n, ...]`."""
    flat = tf.reshape(history, tf.concat([[-1], tf.shape(history)[2:]], axis=0))
    index = tf.reshape(beams, [-1, tf.shape(beams)[2]])
    gathered = tf.gather(flat, index, batch_dims=1)
    return tf.reshape(gathered, tf.concat([tf.shape(beams), tf.shape(history)[3:]], axis=0))
