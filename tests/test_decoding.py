# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID
from keras_s2s.decoding import beam_search, greedy_search

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


# Beam search, on a fake step_fn whose log-probabilities depend on (step, previous token).

A, B = 4, 5


def _table_step(table):
    """step_fn with logits table[t, previous_token]; state is the step counter [batch]."""
    table = tf.constant(table, tf.float32)

    def step_fn(ids, t):
        index = tf.stack([tf.minimum(t, table.shape[0] - 1), ids], axis=1)
        return tf.gather_nd(table, index), t + 1

    return step_fn


def _random_table(seed, steps=6):
    rng = np.random.default_rng(seed)
    table = rng.normal(size=(steps, VOCAB, VOCAB)).astype(np.float32) * 2
    table[:, :, [PAD_ID, 1, SOS_ID]] = -1e4  # only real tokens and eos are plausible
    return table


def _exhaustive_nbest(table, max_length, alpha, n):
    """Every hypothesis over {eos, A, B}, scored as beam search scores them."""
    logp = table - np.log(np.exp(table).sum(-1, keepdims=True))
    results = []

    def walk(prefix, prev, score):
        t = len(prefix)
        for token in (EOS_ID, A, B):
            s = score + logp[min(t, len(table) - 1), prev, token]
            seq = [*prefix, token]
            if token == EOS_ID or len(seq) == max_length:
                lp = ((5.0 + len(seq)) / 6.0) ** alpha
                results.append((s / lp, seq))
            else:
                walk(seq, token, s)

    walk([], SOS_ID, 0.0)
    results.sort(key=lambda r: -r[0])
    return results[:n]


def _table_with_only_eos_a_b(seed):
    table = _random_table(seed)
    table[:, :, 6:] = -1e4
    return table


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
def test_wide_beam_returns_the_exact_n_best(alpha):
    from keras_s2s.decoding import beam_search

    table = _table_with_only_eos_a_b(seed=7)
    result = beam_search(
        _table_step(table), tf.zeros([1], tf.int32), 1, 3, 16, alpha=alpha, n_best=3
    )
    want = _exhaustive_nbest(table, 3, alpha, 3)
    got_ids = [[int(i) for i in row if i != PAD_ID] for row in result.ids.numpy()[0]]
    assert got_ids == [seq for _, seq in want]
    np.testing.assert_allclose(result.scores.numpy()[0], [s for s, _ in want], rtol=1e-5)
    np.testing.assert_array_equal(result.lengths.numpy()[0], [len(seq) for _, seq in want])


def test_narrow_beam_prunes_like_the_hand_computed_example():
    from keras_s2s.decoding import beam_search

    # Step 0 from sos: A 0.5, B 0.3, eos 0.2. Step 1 after A: eos 0.1, A 0.45, B 0.45;
    # after B: eos 0.9. With beam 2: {A, B} survive step 0 (eos 0.2 is third); at step 1
    # the candidates are B-eos 0.27, A-A 0.225, A-B 0.225, ... so "B eos" ranks first.
    table = np.full((3, VOCAB, VOCAB), -1e4, np.float32)
    table[0, SOS_ID, [A, B, EOS_ID]] = np.log([0.5, 0.3, 0.2])
    table[1, A, [EOS_ID, A, B]] = np.log([0.1, 0.45, 0.45])
    table[1, B, [EOS_ID, A, B]] = np.log([0.9, 0.05, 0.05])
    table[2, :, EOS_ID] = 0.0
    result = beam_search(_table_step(table), tf.zeros([1], tf.int32), 1, 5, 2, alpha=0.0, n_best=2)
    np.testing.assert_array_equal(result.ids.numpy()[0], [[B, EOS_ID, 0], [A, A, EOS_ID]])
    np.testing.assert_allclose(
        np.exp(result.scores.numpy()[0]), [0.3 * 0.9, 0.5 * 0.45 * 1.0], rtol=1e-5
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_one_equals_greedy(seed):
    from keras_s2s.decoding import beam_search

    table = _random_table(seed)
    rows = tf.zeros([4], tf.int32)
    greedy = greedy_search(_table_step(table), rows, 4, 6)
    beam = beam_search(_table_step(table), rows, 4, 6, 1, alpha=0.0)
    np.testing.assert_array_equal(beam.ids.numpy(), greedy.ids.numpy())
    np.testing.assert_allclose(beam.scores.numpy(), greedy.scores.numpy(), rtol=1e-5)


def test_beam_search_batches_sentences_independently():
    from keras_s2s.decoding import beam_search

    table = _random_table(3)

    def step_fn(ids, state):
        # Each sentence adds its own bias, so the two sentences decode differently.
        t, bias = state
        index = tf.stack([tf.minimum(t, table.shape[0] - 1), ids], axis=1)
        return tf.gather_nd(table, index) + bias, (t + 1, bias)

    biases = tf.constant([[0.0] * VOCAB, [0.0] * 4 + [3.0] + [0.0] * (VOCAB - 5)])
    both = beam_search(step_fn, (tf.zeros([2], tf.int32), biases), 2, 6, 3)
    second = beam_search(step_fn, (tf.zeros([1], tf.int32), biases[1:]), 1, 6, 3)
    width = second.ids.shape[-1]
    np.testing.assert_array_equal(both.ids.numpy()[1, :, :width], second.ids.numpy()[0])
    assert not (both.ids.numpy()[1, :, width:] != 0).any()
    np.testing.assert_allclose(both.scores.numpy()[1], second.scores.numpy()[0], rtol=1e-5)


def test_attention_is_recorded_and_reordered_with_the_beams():
    from keras_s2s.decoding import beam_search

    table = _random_table(4)

    def step_fn(ids, t):
        index = tf.stack([tf.minimum(t, table.shape[0] - 1), ids], axis=1)
        # The "attention" is a one-hot on the token just fed in, so the alignment row of
        # each output step must point at the hypothesis' own previous token.
        attention = tf.one_hot(ids, VOCAB)
        return tf.gather_nd(table, index), t + 1, attention

    result = beam_search(step_fn, tf.zeros([1], tf.int32), 1, 5, 3, n_best=3)
    ids, align = result.ids.numpy()[0], result.alignments.numpy()[0]
    for hyp in range(3):
        previous = [SOS_ID, *ids[hyp, :-1]]
        for t, token in enumerate(ids[hyp]):
            if token == PAD_ID:
                break
            assert align[hyp, t].argmax() == previous[t]


@pytest.fixture(scope="module")
def trained_steps(trained_run, exported_attention, parity_sentences):
    """`(step_fn, encoded state, batch size)` of two small trained models: a GRU without
    attention and a Luong-attention model with input feeding."""
    import tensorflow as tf

    from keras_s2s.models import Seq2Seq
    from keras_s2s.tokenizer import Tokenizer
    from keras_s2s.training import load_model

    out = {}
    for name, run_dir in (("plain", trained_run.run_dir), ("attention", exported_attention[0])):
        s2s = Seq2Seq.from_model(load_model(os.path.join(run_dir, "model.keras")))
        tokenizer = Tokenizer.load(run_dir)
        source_ids = tokenizer.tokenize_dense(tf.constant(parity_sentences[:32]))
        out[name] = (s2s.step, s2s.encode(source_ids), 32)
    return out


@pytest.mark.parametrize("model", ["plain", "attention"])
@pytest.mark.parametrize("beam,n_best", [(1, 1), (3, 1), (3, 3), (5, 1), (5, 3)])
def test_beam_search_equals_the_reference_on_trained_models(trained_steps, model, beam, n_best):
    from beam_reference import reference_beam_search

    step_fn, state, batch = trained_steps[model]
    args = (step_fn, state, batch, 12, beam)
    new = beam_search(*args, n_best=n_best)
    old = reference_beam_search(*args, n_best=n_best)
    np.testing.assert_array_equal(new.ids.numpy(), old.ids.numpy())
    np.testing.assert_array_equal(new.lengths.numpy(), old.lengths.numpy())
    np.testing.assert_allclose(new.scores.numpy(), old.scores.numpy(), rtol=0, atol=1e-5)
    assert (new.alignments is None) == (model == "plain")
    if model == "attention":
        np.testing.assert_allclose(new.alignments.numpy(), old.alignments.numpy(), atol=1e-5)
    # Hypotheses really differ between beams and step counts vary: not a trivial case.
    assert new.ids.shape[1] == n_best and len(set(new.lengths.numpy().ravel())) > 1
