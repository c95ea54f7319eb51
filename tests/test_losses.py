# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import keras
import numpy as np
import pytest

from keras_s2s.losses import MaskedAccuracy, MaskedSparseCategoricalCrossentropy, Perplexity

RNG = np.random.default_rng(0)
LABELS = np.array([[5, 6, 3, 0, 0], [7, 3, 0, 0, 0]], np.int32)
LOGITS = RNG.normal(size=(2, 5, 9)).astype(np.float32)


def _manual_ce(labels, logits):
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    mask = labels != 0
    picked = np.take_along_axis(logp, labels[..., None], -1)[..., 0]
    return -(picked * mask).sum() / mask.sum()


def test_loss_is_mean_over_real_tokens():
    loss = MaskedSparseCategoricalCrossentropy()(LABELS, LOGITS)
    np.testing.assert_allclose(float(loss), _manual_ce(LABELS, LOGITS), rtol=1e-6)


def test_padding_contributes_nothing():
    loss = MaskedSparseCategoricalCrossentropy()
    base = float(loss(LABELS, LOGITS))
    noisy = LOGITS.copy()
    noisy[LABELS == 0] = RNG.normal(size=noisy[LABELS == 0].shape) * 100
    assert float(loss(LABELS, noisy)) == pytest.approx(base, rel=1e-6)
    # More padding columns (another batch composition) leave the loss unchanged.
    wide_labels = np.pad(LABELS, ((0, 0), (0, 4)))
    wide_logits = np.concatenate([LOGITS, RNG.normal(size=(2, 4, 9)).astype(np.float32)], 1)
    assert float(loss(wide_labels, wide_logits)) == pytest.approx(base, rel=1e-6)


def test_all_padding_gives_zero_not_nan():
    loss = MaskedSparseCategoricalCrossentropy()(np.zeros((2, 3), np.int32), LOGITS[:, :3])
    assert float(loss) == 0.0


def test_accuracy_and_perplexity_match_a_manual_count():
    acc, ppl = MaskedAccuracy(), Perplexity()
    acc.update_state(LABELS, LOGITS)
    ppl.update_state(LABELS, LOGITS)
    mask = LABELS != 0
    want_acc = ((LOGITS.argmax(-1) == LABELS) & mask).sum() / mask.sum()
    assert float(acc.result()) == pytest.approx(want_acc)
    assert float(ppl.result()) == pytest.approx(np.exp(_manual_ce(LABELS, LOGITS)), rel=1e-5)


@pytest.mark.parametrize("cls", [MaskedSparseCategoricalCrossentropy, MaskedAccuracy, Perplexity])
def test_config_round_trip(cls):
    obj = cls(name="custom_name")
    again = cls.from_config(obj.get_config())
    assert again.get_config() == obj.get_config()
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    assert type(revived) is cls and revived.name == "custom_name"


def test_label_smoothing_matches_the_formula_and_ignores_padding():
    eps = 0.1
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=eps)
    logp = LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True))
    mask = LABELS != 0
    uniform = -(logp.mean(-1) * mask).sum() / mask.sum()
    want = (1 - eps) * _manual_ce(LABELS, LOGITS) + eps * uniform
    assert float(loss(LABELS, LOGITS)) == pytest.approx(want, rel=1e-5)
    noisy = LOGITS.copy()
    noisy[LABELS == 0] = 50.0
    assert float(loss(LABELS, noisy)) == pytest.approx(want, rel=1e-5)
    assert MaskedSparseCategoricalCrossentropy.from_config(loss.get_config()).label_smoothing == eps


def test_label_smoothing_gradient_is_softmax_minus_the_smoothed_target():
    import tensorflow as tf

    eps = 0.1
    loss = MaskedSparseCategoricalCrossentropy(label_smoothing=eps)
    logits = tf.constant(LOGITS)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        value = loss(LABELS, logits)
    grad = tape.gradient(value, logits).numpy()
    mask = (LABELS != 0)[..., None]
    softmax = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
    onehot = np.eye(LOGITS.shape[-1])[LABELS]
    target = (1 - eps) * onehot + eps / LOGITS.shape[-1]
    want = (softmax - target) * mask / mask.sum()
    np.testing.assert_allclose(grad, want, atol=1e-6)
