# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.config import RunConfig
from keras_s2s.optimizers import FusedAdam


def _embedding_model(seed=0):
    """Embedding (IndexedSlices gradients) + Dense (dense gradients)."""
    keras.utils.set_random_seed(seed)
    ids = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(30, 8)(ids)
    logits = keras.layers.Dense(30)(x)
    return keras.Model(ids, logits)


BATCHES = [np.random.default_rng(i).integers(1, 30, size=(4, 6)).astype("int32") for i in range(5)]


def _train(model, optimizer, batches=BATCHES):
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(ids):
        with tf.GradientTape() as tape:
            loss = loss_fn(ids[:, 1:], model(ids[:, :-1])) * 50.0  # large: clipping acts
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)

    for ids in batches:
        step(tf.constant(ids))
    return [v.numpy() for v in model.trainable_variables]


@pytest.mark.parametrize("clip", [{}, {"global_clipnorm": 1.0}])
def test_fused_updates_match_keras_adam(clip):
    a = _train(_embedding_model(), keras.optimizers.Adam(0.01, **clip))
    b = _train(_embedding_model(), FusedAdam(0.01, **clip))
    before = [v.numpy() for v in _embedding_model().trainable_variables]
    for x, y, start in zip(a, b, before, strict=True):
        assert not np.allclose(x, start)  # the steps moved every variable
        np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-6)


def test_an_embedding_gradient_keeps_keras_update_exactly():
    # IndexedSlices listing id 0 twice. Keras squares the slices before summing them
    # (a first step of -0.1414 at lr 0.1 where dense Adam gives -0.1); FusedAdam keeps
    # that update: the recipe's recorded runs were trained with it (optimizers.py).
    repeated = tf.IndexedSlices(tf.constant([[1.0], [1.0]]), tf.constant([0, 0]), [3, 1])
    results = []
    for cls in (keras.optimizers.Adam, FusedAdam):
        variable = keras.Variable(np.zeros([3, 1], "float32"))
        optimizer = cls(0.1)
        optimizer.build([variable])
        optimizer.apply([repeated], [variable])
        results.append(variable.numpy())
    np.testing.assert_array_equal(results[1], results[0])


def test_amsgrad_falls_back_to_keras_adam_exactly():
    a = _train(_embedding_model(), keras.optimizers.Adam(0.01, amsgrad=True))
    b = _train(_embedding_model(), FusedAdam(0.01, amsgrad=True))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(y, x)


def test_config_round_trip():
    opt = FusedAdam(0.003, beta_2=0.98, epsilon=1e-8, global_clipnorm=2.0)
    again = FusedAdam.from_config(opt.get_config())
    assert type(again) is FusedAdam
    assert again.get_config() == opt.get_config()
    assert again.get_config()["beta_2"] == 0.98 and again.global_clipnorm == 2.0


def test_keras_file_round_trip_keeps_the_optimizer_and_its_state(tmp_path):
    model = _embedding_model()
    model.compile(
        optimizer=FusedAdam(0.01, global_clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = BATCHES[0][:, :-1], BATCHES[0][:, 1:]
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert type(again.optimizer) is FusedAdam
    assert int(again.optimizer.iterations.numpy()) == 2
    for u, v in zip(model.optimizer.variables, again.optimizer.variables, strict=True):
        np.testing.assert_array_equal(v.numpy(), u.numpy())
    # One more step from the same state gives the same weights.
    model.fit(x, y, epochs=1, verbose=0)
    again.fit(x, y, epochs=1, verbose=0)
    for u, v in zip(model.trainable_variables, again.trainable_variables, strict=True):
        np.testing.assert_array_equal(v.numpy(), u.numpy())


def test_compile_model_trains_with_fused_adam():
    from keras_s2s.training import compile_model

    config = RunConfig().override(learning_rate=0.004, clipnorm=0.5)
    model = compile_model(_embedding_model(), config)
    assert type(model.optimizer) is FusedAdam
    assert model.optimizer.global_clipnorm == 0.5
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.004)
