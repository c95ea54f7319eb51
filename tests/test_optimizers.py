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


def _train(model, optimizer, batches=BATCHES, densify=False):
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(ids):
        with tf.GradientTape() as tape:
            loss = loss_fn(ids[:, 1:], model(ids[:, :-1])) * 50.0  # large: clipping acts
        grads = tape.gradient(loss, model.trainable_variables)
        if densify:  # the embedding's IndexedSlices as the dense gradient they stand for
            grads = [tf.convert_to_tensor(g) for g in grads]
        optimizer.apply(grads, model.trainable_variables)

    for ids in batches:
        step(tf.constant(ids))
    return [v.numpy() for v in model.trainable_variables]


@pytest.mark.parametrize("clip", [{}, {"global_clipnorm": 1.0}])
def test_fused_updates_match_keras_adam_on_dense_gradients(clip):
    a = _train(_embedding_model(), keras.optimizers.Adam(0.01, **clip), densify=True)
    b = _train(_embedding_model(), FusedAdam(0.01, **clip))
    before = [v.numpy() for v in _embedding_model().trainable_variables]
    for x, y, start in zip(a, b, before, strict=True):
        assert not np.allclose(x, start)  # the steps moved every variable
        np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-6)


def test_an_id_repeated_in_a_batch_counts_once_with_its_summed_gradient():
    # An embedding's gradient lists a row once per occurrence of its id. Adam's second
    # moment needs the square of the summed gradient, (1 + 1)^2 here; Keras 3's Adam
    # squares the listed slices before summing them (1^2 + 1^2), giving this first
    # step as -0.1414 instead of Adam's -lr.
    repeated = tf.IndexedSlices(tf.constant([[1.0], [1.0]]), tf.constant([0, 0]), [3, 1])
    summed = tf.constant([[2.0], [0.0], [0.0]])
    results = []
    for gradient in (repeated, summed):
        variable = keras.Variable(np.zeros([3, 1], "float32"))
        optimizer = FusedAdam(0.1)
        optimizer.build([variable])
        optimizer.apply([gradient], [variable])
        results.append(variable.numpy()[:, 0])
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(results[0], [-0.1, 0.0, 0.0], atol=1e-6)


def test_amsgrad_falls_back_to_keras_adam_on_dense_gradients_exactly():
    a = _train(_embedding_model(), keras.optimizers.Adam(0.01, amsgrad=True), densify=True)
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
