# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.config import PAD_ID, ModelConfig
from keras_s2s.models import Decoder, Encoder, Seq2Seq, build_model
from keras_s2s.training import compile_model

VOCAB = 40
CONFIGS = {
    "gru": ModelConfig(attention="none", units=16, embedding_dim=8, dropout=0.0),
    "lstm-bi-2-luong": ModelConfig(  # the default attention, on a 2-layer bi-LSTM
        rnn="lstm",
        units=16,
        embedding_dim=8,
        bidirectional=True,
        encoder_layers=2,
        decoder_layers=2,
        dropout=0.0,
    ),
}


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    src = rng.integers(4, VOCAB, (6, 7)).astype(np.int32)
    tgt = rng.integers(4, VOCAB, (6, 5)).astype(np.int32)
    for i, (ns, nt) in enumerate([(7, 5), (3, 2), (5, 4), (1, 1), (6, 3), (2, 5)]):
        src[i, ns:] = PAD_ID
        tgt[i, nt:] = PAD_ID
    tgt[:, 0] = 2
    return {"source_ids": src, "decoder_input_ids": tgt}


@pytest.fixture(scope="module", params=list(CONFIGS))
def model(request):
    keras.utils.set_random_seed(0)
    m = build_model(CONFIGS[request.param], VOCAB)
    m(_batch())
    return m


def test_encoder_and_decoder_config_round_trip(model):
    s2s = Seq2Seq.from_model(model)
    for layer in (s2s.encoder, s2s.decoder):
        config = layer.get_config()
        again = type(layer).from_config(config)
        assert again.get_config() == config
    assert s2s.encoder.get_config()["bidirectional"] == (s2s.encoder.rnn == "lstm")
    assert s2s.decoder.get_config()["vocab_size"] == VOCAB


def test_keras_save_load_gives_same_outputs(model, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(again(_batch(1)), model(_batch(1)), rtol=1e-6, atol=1e-6)


def test_step_matches_the_teacher_forced_sequence(model):
    """The cell-level step and the whole-sequence call share weights and agree."""
    batch = _batch()
    full = model(batch).numpy()
    s2s = Seq2Seq.from_model(model)
    state = s2s.encode(batch["source_ids"])
    dec_in = batch["decoder_input_ids"]
    for t in range(dec_in.shape[1]):
        logits, state, _ = s2s.step(dec_in[:, t], state)
        real = dec_in[:, t] != PAD_ID
        np.testing.assert_allclose(logits.numpy()[real], full[real, t], rtol=1e-5, atol=1e-5)


def test_padding_the_source_leaves_encoder_states_unchanged(model):
    encoder = Seq2Seq.from_model(model).encoder
    src = _batch()["source_ids"]
    padded = np.pad(src, ((0, 0), (0, 9)))
    out, states = encoder(src)
    out_p, states_p = encoder(padded)
    for a, b in zip(states, states_p, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out_p[:, : src.shape[1]], out, rtol=1e-6, atol=1e-6)
    assert not np.any(out_p.numpy()[padded == PAD_ID])


def test_sentence_alone_equals_in_batch(model):
    batch = _batch()
    full = model(batch).numpy()
    alone = model({k: v[1:2, :3] for k, v in batch.items()}).numpy()
    np.testing.assert_allclose(alone[0, :2], full[1, :2], rtol=1e-5, atol=1e-5)


def test_teacher_forcing_ratio_zero_feeds_own_argmax():
    keras.utils.set_random_seed(1)
    config = ModelConfig(units=16, embedding_dim=8, dropout=0.0, teacher_forcing_ratio=0.0)
    m = build_model(config, VOCAB, seed=3)
    batch = _batch()
    sampled = m(batch, training=True).numpy()
    teacher_forced = m(batch, training=False).numpy()
    s2s = Seq2Seq.from_model(m)
    state = s2s.encode(batch["source_ids"])
    ids = batch["decoder_input_ids"][:, 0]
    for t in range(batch["decoder_input_ids"].shape[1]):
        logits, state, _ = s2s.step(ids, state)
        np.testing.assert_allclose(sampled[:, t], logits, rtol=1e-5, atol=1e-5)
        ids = tf.argmax(logits, -1, output_type=tf.int32)
    # The first step sees sos either way; later steps differ from teacher forcing.
    np.testing.assert_allclose(sampled[:, 0], teacher_forced[:, 0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(sampled[:, 1:], teacher_forced[:, 1:])


def test_teacher_forcing_ratio_one_in_training_uses_true_tokens():
    keras.utils.set_random_seed(1)
    m = build_model(ModelConfig(units=16, embedding_dim=8, dropout=0.0), VOCAB)
    batch = _batch()
    np.testing.assert_allclose(m(batch, training=True), m(batch, training=False), atol=1e-6)


def test_a_few_training_steps_lower_the_loss(tiny_config):
    keras.utils.set_random_seed(0)
    m = compile_model(build_model(CONFIGS["gru"], VOCAB), tiny_config)
    batch = _batch()
    labels = np.concatenate(
        [batch["decoder_input_ids"][:, 1:], np.full((6, 1), 3, np.int32)], axis=1
    )
    labels[batch["decoder_input_ids"] == PAD_ID] = PAD_ID
    before = m.evaluate(batch, labels, verbose=0, return_dict=True)["loss"]
    m.fit(batch, labels, epochs=40, verbose=0)
    after = m.evaluate(batch, labels, verbose=0, return_dict=True)["loss"]
    assert after < 0.7 * before


def test_direct_layer_save_load(tmp_path):
    """Each layer on its own round-trips through a .keras file."""
    src = keras.Input((None,), dtype="int32")
    tgt = keras.Input((None,), dtype="int32")
    enc = Encoder(VOCAB, 8, 16, rnn="lstm", name="encoder")
    dec = Decoder(VOCAB, 8, 16, rnn="lstm", name="decoder")
    _, states = enc(src)
    m = keras.Model([src, tgt], dec(tgt, initial_state=states))
    batch = _batch()
    x = [batch["source_ids"], batch["decoder_input_ids"]]
    m.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again(x), m(x), rtol=1e-6, atol=1e-6)


TARGET_IDS = [0, 1, 2, 3, 7, 9, 12, 30]


def test_a_target_vocabulary_decoder_speaks_in_its_own_ids_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    m = build_model(CONFIGS["gru"], VOCAB, target_ids=TARGET_IDS)
    batch = _batch()
    batch["decoder_input_ids"] = batch["decoder_input_ids"] % len(TARGET_IDS)
    assert m(batch).shape == (6, 5, len(TARGET_IDS))
    decoder = Seq2Seq.from_model(m).decoder
    np.testing.assert_array_equal(
        decoder.to_joint_ids(tf.constant([[4, 5, 7, 0], [3, 2, 1, 6]])),
        [[7, 9, 30, 0], [3, 2, 1, 12]],
    )
    config = decoder.get_config()
    assert config["target_ids"] == TARGET_IDS and config["vocab_size"] == len(TARGET_IDS)
    assert Decoder.from_config(config).get_config() == config
    path = tmp_path / "model.keras"
    m.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(again(batch), m(batch), rtol=1e-6, atol=1e-6)
    assert Seq2Seq.from_model(again).decoder.target_ids == TARGET_IDS


def test_a_decoder_without_target_ids_uses_joint_ids():
    decoder = Decoder(VOCAB, 8, 16)
    ids = tf.constant([[5, 39, 0]])
    assert decoder.to_joint_ids(ids) is ids
    with pytest.raises(ValueError, match="target_ids has 3 ids for a vocab_size of 40"):
        Decoder(VOCAB, 8, 16, target_ids=[0, 1, 2])


def test_token_metrics_are_computed_on_validation_only(tiny_config):
    from keras_s2s.models import Seq2SeqModel

    keras.utils.set_random_seed(0)
    m = compile_model(build_model(CONFIGS["gru"], VOCAB), tiny_config)
    assert isinstance(m, Seq2SeqModel)
    batch = _batch()
    labels = np.roll(batch["decoder_input_ids"], -1, axis=1)
    history = m.fit(batch, labels, validation_data=(batch, labels), epochs=1, verbose=0)
    assert sorted(history.history) == [
        "loss",
        "val_loss",
        "val_perplexity",
        "val_token_accuracy",
    ]
    scores = m.evaluate(batch, labels, verbose=0, return_dict=True)
    assert 0.0 <= scores["token_accuracy"] <= 1.0 and scores["perplexity"] > 1.0
