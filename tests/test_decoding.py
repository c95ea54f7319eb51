# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID
from keras_s2s.decoding import greedy_search

VOCAB = 12


def scripted_step(scripts):
    """A fake step_fn: row r emits scripts[r][t] at step t (then keeps emitting eos).

    The chosen token gets logit 2, every other token 0, so its log-probability is
    known exactly. The state is each row's script index plus a step counter.
    """
    table = np.full((len(scripts), 16), EOS_ID, np.int32)
    for r, s in enumerate(scripts):
        table[r, : len(s)] = s
    table = tf.constant(table)

    def step_fn(ids, state):
        rows, t = state
        token = tf.gather_nd(table, tf.stack([rows, tf.fill(tf.shape(rows), t)], axis=1))
        logits = 2.0 * tf.one_hot(token, VOCAB)
        return logits, (rows, t + 1)

    return step_fn


LOGP_CHOSEN = float(2.0 - np.log(np.exp(2.0) + VOCAB - 1))


def _decode(scripts, rows, max_length):
    step_fn = scripted_step(scripts)
    rows = tf.constant(rows, tf.int32)
    state = (rows, tf.constant(0))
    return greedy_search(step_fn, state, tf.shape(rows)[0], max_length)


def test_exact_ids_lengths_and_scores():
    scripts = [[5, 6, EOS_ID], [7, EOS_ID], [8, 9, 10, 11, EOS_ID]]
    result = _decode(scripts, [0, 1, 2], 10)
    want = np.array([[5, 6, EOS_ID, 0, 0], [7, EOS_ID, 0, 0, 0], [8, 9, 10, 11, EOS_ID]], np.int32)
    np.testing.assert_array_equal(result.ids.numpy()[:, 0], want)
    np.testing.assert_array_equal(result.lengths.numpy()[:, 0], [3, 2, 5])
    np.testing.assert_allclose(
        result.scores.numpy()[:, 0], np.array([3, 2, 5]) * LOGP_CHOSEN, rtol=1e-6
    )


def test_loop_stops_once_every_row_has_finished():
    scripts = [[5, EOS_ID], [6, 7, EOS_ID]]
    result = _decode(scripts, [0, 1], 50)
    assert result.ids.shape[-1] == 3  # not 50: the loop ended with the last eos


def test_max_length_bounds_the_loop():
    scripts = [[5] * 16]  # never emits eos within the script
    result = _decode(scripts, [0], 4)
    np.testing.assert_array_equal(result.ids.numpy()[0, 0], [5, 5, 5, 5])
    assert int(result.lengths[0, 0]) == 4


def test_row_alone_equals_row_in_batch():
    scripts = [[5, 6, EOS_ID], [7, EOS_ID], [8, 9, 10, EOS_ID]]
    batch = _decode(scripts, [0, 1, 2], 10)
    alone = _decode(scripts, [2], 10)
    np.testing.assert_array_equal(alone.ids.numpy()[0], batch.ids.numpy()[2])
    np.testing.assert_allclose(alone.scores.numpy()[0], batch.scores.numpy()[2])


def test_first_input_is_sos_and_inputs_are_fed_back():
    seen = []

    def step_fn(ids, state):
        seen.append(ids)
        return 2.0 * tf.one_hot(tf.where(state >= 2, EOS_ID, ids + 3), VOCAB), state + 1

    greedy_search(step_fn, tf.constant([0]), 1, 10)  # eager: the loop runs in Python
    fed = [int(x.numpy()[0]) for x in seen]
    assert fed == [SOS_ID, SOS_ID + 3, SOS_ID + 6]


def test_runs_inside_a_traced_function_and_handles_an_empty_batch():
    scripts = [[5, EOS_ID]]

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)])
    def run(rows, max_length):
        step_fn = scripted_step(scripts)
        result = greedy_search(step_fn, (rows, tf.constant(0)), tf.shape(rows)[0], max_length)
        return result.ids

    np.testing.assert_array_equal(run(tf.constant([0, 0]), 5).numpy()[:, 0], [[5, EOS_ID]] * 2)
    empty = run(tf.zeros([0], tf.int32), 5).numpy()
    assert empty.shape[:2] == (0, 1)


@pytest.mark.parametrize("max_length", [0, -3])
def test_max_length_below_one_still_takes_one_step(max_length):
    result = _decode([[5, EOS_ID]], [0], max_length)
    assert result.ids.shape[-1] == 1
    assert PAD_ID not in result.ids.numpy()
