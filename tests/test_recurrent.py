# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s import models, recurrent
from keras_s2s.config import ModelConfig

PAIRS = [(keras.layers.GRU, recurrent.GRU), (keras.layers.LSTM, recurrent.LSTM)]


def _twins(keras_cls, projected_cls, seed=0, **kwargs):
    """A Keras layer and a projected one with the same (random, nonzero-bias) weights."""
    rng = np.random.default_rng(seed)
    ref = keras_cls(6, return_sequences=True, return_state=True, **kwargs)
    ours = projected_cls(6, return_sequences=True, return_state=True, **kwargs)
    for layer in (ref, ours):
        layer.build((None, None, 5))
    for a, b in zip(ref.weights, ours.weights, strict=True):
        value = rng.normal(size=a.shape).astype(np.float32)
        a.assign(value)
        b.assign(value)
    return ref, ours


def _inputs(seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 7, 5)).astype(np.float32)
    mask = np.ones((4, 7), bool)
    mask[1, 5:] = False
    mask[2, 2:] = False
    return x, mask


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("keras_cls,projected_cls", PAIRS, ids=["gru", "lstm"])
def test_outputs_states_and_gradients_match_keras(keras_cls, projected_cls, go_backwards):
    ref, ours = _twins(keras_cls, projected_cls, go_backwards=go_backwards)
    x, mask = _inputs()
    n_states = 2 if keras_cls is keras.layers.LSTM else 1
    rng = np.random.default_rng(2)
    initial = [tf.constant(rng.normal(size=(4, 6)), tf.float32) for _ in range(n_states)]
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(initial)
        out_ref = ref(x, mask=mask, initial_state=initial)
        out_ours = ours(x, mask=mask, initial_state=initial)
        loss_ref = tf.reduce_sum(out_ref[0] ** 2) + tf.reduce_sum(out_ref[1])
        loss_ours = tf.reduce_sum(out_ours[0] ** 2) + tf.reduce_sum(out_ours[1])
    for a, b in zip(out_ref, out_ours, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    grads_ref = tape.gradient(loss_ref, ref.weights + initial)
    grads_ours = tape.gradient(loss_ours, ours.weights + initial)
    for a, b in zip(grads_ref, grads_ours, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_keras_loop_where_the_fast_path_does_not_apply():
    # reset_after=False has no single recurrent product to split; the layer defers to Keras.
    ref, ours = _twins(keras.layers.GRU, recurrent.GRU, reset_after=False)
    x, mask = _inputs()
    np.testing.assert_array_equal(ours(x, mask=mask)[0], ref(x, mask=mask)[0])
    # Cell dropout needs per-step masks: Keras' loop, and still the Keras result at inference.
    ref, ours = _twins(keras.layers.LSTM, recurrent.LSTM, dropout=0.5)
    np.testing.assert_array_equal(ours(x, mask=mask)[0], ref(x, mask=mask)[0])
    assert ours(x, mask=mask, training=True)[0].shape == (4, 7, 6)


def test_bidirectional_wrapper_builds_a_projected_backward_layer():
    layer = keras.layers.Bidirectional(recurrent.GRU(6, return_sequences=True))
    assert isinstance(layer.backward_layer, recurrent.GRU)
    assert layer.backward_layer.go_backwards


@pytest.mark.parametrize("cls", [recurrent.GRU, recurrent.LSTM])
def test_get_config_round_trip(cls):
    layer = cls(7, return_sequences=True, return_state=True, go_backwards=True, name="r")
    again = cls.from_config(layer.get_config())
    assert type(again) is cls
    assert again.get_config() == layer.get_config()


@pytest.mark.parametrize("cls", [recurrent.GRU, recurrent.LSTM])
def test_keras_file_round_trip(tmp_path, cls):
    inputs = keras.Input((None, 5))
    model = keras.Model(inputs, cls(6, return_sequences=True)(inputs))
    x, _ = _inputs()
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(again.layers[-1], cls)
    np.testing.assert_array_equal(again(x), model(x))


@pytest.mark.parametrize("rnn", ["gru", "lstm"])
def test_models_saved_with_keras_layers_load_and_agree(tmp_path, monkeypatch, rnn):
    # Files written before the projected layers (plain keras.layers.GRU/LSTM) still load.
    config = ModelConfig(rnn=rnn, units=8, embedding_dim=4, dropout=0.0, attention="luong")
    plain = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[rnn]
    with monkeypatch.context() as m:
        m.setitem(models.RNN_LAYERS, rnn, plain)
        keras.utils.set_random_seed(0)
        old = models.build_model(config, vocab_size=20)
        assert type(old.get_layer("encoder").rnn_layers[0]) is plain
        old.save(tmp_path / "old.keras")
    loaded = keras.models.load_model(tmp_path / "old.keras", safe_mode=True)
    layer = loaded.get_layer("encoder").rnn_layers[0]
    assert isinstance(layer, (recurrent.GRU, recurrent.LSTM))
    rng = np.random.default_rng(0)
    batch = {
        "source_ids": rng.integers(1, 20, size=(3, 6)).astype(np.int32),
        "decoder_input_ids": rng.integers(1, 20, size=(3, 5)).astype(np.int32),
    }
    batch["source_ids"][1, 4:] = 0
    np.testing.assert_allclose(loaded(batch), old(batch), rtol=1e-5, atol=1e-6)
