# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.config import PAD_ID, ModelConfig
from keras_s2s.layers import BahdanauAttention, LuongAttention
from keras_s2s.models import Seq2Seq, build_model
from keras_s2s.training import compile_model

VOCAB = 30
ATTENTION_CONFIGS = {
    "bahdanau": ModelConfig(units=16, embedding_dim=8, dropout=0.0, attention="bahdanau"),
    "luong-general-bi": ModelConfig(
        units=16, embedding_dim=8, dropout=0.0, attention="luong", bidirectional=True
    ),
    "luong-dot": ModelConfig(
        units=16, embedding_dim=8, dropout=0.0, attention="luong", luong_score="dot"
    ),
    "bahdanau-input-feeding-lstm": ModelConfig(
        rnn="lstm", units=16, embedding_dim=8, dropout=0.0, attention="bahdanau",
        input_feeding=True,
    ),
}  # fmt: skip


def _memory(seed=0):
    rng = np.random.default_rng(seed)
    memory = rng.normal(size=(3, 5, 12)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], bool)
    memory[~mask] = 0.0
    query = rng.normal(size=(3, 4, 8)).astype(np.float32)
    return query, memory, mask


@pytest.mark.parametrize(
    "layer",
    [BahdanauAttention(6), LuongAttention(8, score="general"), LuongAttention(12, score="dot")],
    ids=["bahdanau", "general", "dot"],
)
def test_attention_weights_ignore_padding(layer):
    query, memory, mask = _memory()
    if layer.get_config().get("score") == "dot":
        query = np.concatenate([query, query[..., :4]], -1)  # dot needs equal widths
    layer.build(query.shape, memory.shape[-1])
    keys = layer.prepare(memory)
    context, weights = layer(query, keys, memory, mask)
    weights = weights.numpy()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    assert np.all(weights[~np.broadcast_to(mask[:, None, :], weights.shape)] < 1e-6)
    # Appending padding to the memory leaves context and real weights unchanged.
    padded_memory = np.pad(memory, ((0, 0), (0, 3), (0, 0)))
    padded_mask = np.pad(mask, ((0, 0), (0, 3)))
    context2, weights2 = layer(query, layer.prepare(padded_memory), padded_memory, padded_mask)
    np.testing.assert_allclose(context2, context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights2.numpy()[:, :, :5], weights, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "layer_cls, kwargs",
    [(BahdanauAttention, {"units": 7}), (LuongAttention, {"units": 7, "score": "dot"})],
)
def test_attention_config_round_trip(layer_cls, kwargs):
    layer = layer_cls(**kwargs, name="att")
    again = layer_cls.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()


def test_luong_rejects_unknown_score():
    with pytest.raises(ValueError, match="score must be 'dot' or 'general'; got 'cosine'"):
        LuongAttention(4, score="cosine")


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    src = rng.integers(4, VOCAB, (6, 7)).astype(np.int32)
    tgt = rng.integers(4, VOCAB, (6, 5)).astype(np.int32)
    for i, (ns, nt) in enumerate([(7, 5), (3, 2), (5, 4), (1, 1), (6, 3), (2, 5)]):
        src[i, ns:] = PAD_ID
        tgt[i, nt:] = PAD_ID
    tgt[:, 0] = 2
    labels = np.concatenate([tgt[:, 1:], np.full((6, 1), 3, np.int32)], axis=1)
    labels[tgt == PAD_ID] = PAD_ID
    return {"source_ids": src, "decoder_input_ids": tgt}, labels


@pytest.fixture(scope="module", params=list(ATTENTION_CONFIGS))
def trained(request, tiny_config):
    keras.utils.set_random_seed(0)
    model = compile_model(build_model(ATTENTION_CONFIGS[request.param], VOCAB), tiny_config)
    x, y = _batch()
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, epochs=5, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    return model, before, after


def test_every_attention_type_trains_a_few_steps(trained):
    _, before, after = trained
    assert after < before


def test_every_attention_type_round_trips_through_keras_files(trained, tmp_path):
    model, _, _ = trained
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    x, _ = _batch(1)
    np.testing.assert_allclose(again(x), model(x), rtol=1e-5, atol=1e-6)
    decoder = Seq2Seq.from_model(again).decoder
    assert decoder.get_config() == Seq2Seq.from_model(model).decoder.get_config()


def test_appending_source_padding_leaves_outputs_unchanged(trained):
    model, _, _ = trained
    x, _ = _batch(2)
    padded = dict(x, source_ids=np.pad(x["source_ids"], ((0, 0), (0, 6))))
    np.testing.assert_allclose(model(padded), model(x), rtol=1e-5, atol=1e-6)


def test_step_matches_the_sequence_and_returns_alignments(trained):
    model, _, _ = trained
    x, _ = _batch(3)
    full = model(x).numpy()
    s2s = Seq2Seq.from_model(model)
    state = s2s.encode(x["source_ids"])
    for t in range(x["decoder_input_ids"].shape[1]):
        logits, state, weights = s2s.step(x["decoder_input_ids"][:, t], state)
        real = x["decoder_input_ids"][:, t] != PAD_ID
        np.testing.assert_allclose(logits.numpy()[real], full[real, t], rtol=1e-4, atol=1e-5)
        weights = weights.numpy()
        np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
        assert np.all(weights[x["source_ids"] == PAD_ID] < 1e-6)


def test_dot_score_with_bidirectional_encoder_is_a_config_error():
    from keras_s2s.config import ConfigError

    with pytest.raises(ConfigError, match="luong_score 'dot' needs encoder outputs"):
        ModelConfig(attention="luong", luong_score="dot", bidirectional=True)


def test_step_without_attention_returns_no_weights():
    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig(attention="none", units=8, embedding_dim=4, dropout=0.0), VOCAB)
    s2s = Seq2Seq.from_model(model)
    state = s2s.encode(tf.constant([[5, 6, 0]]))
    _, _, weights = s2s.step(tf.constant([2]), state)
    assert weights is None
