# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.config import RunConfig
from keras_s2s.tokenizer import Tokenizer
from keras_s2s.training import load_model
from keras_s2s.translator import Translator


@pytest.fixture(scope="module")
def translator(trained_run):
    config = RunConfig.load(f"{trained_run.run_dir}/config.json")
    return Translator(load_model(trained_run.run_dir), Tokenizer.load(trained_run.run_dir), config)


def _run(translator, texts, max_length=64, beam=1, n_best=1):
    return translator.translate_with_options(tf.constant(texts), max_length, beam, n_best)


def test_max_length_beyond_the_config_is_an_error_not_a_cap(translator):
    cap = translator._config.decode.max_length
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=f"max_length must be between 1 and {cap}"
    ):
        _run(translator, ["May 7, 1985"], max_length=cap + 1)
    with pytest.raises(tf.errors.InvalidArgumentError, match="max_length must be between 1"):
        _run(translator, ["May 7, 1985"], max_length=0)
    short = _run(translator, ["May 7, 1985"], max_length=2)
    assert short["ids"].shape[-1] <= 2


def test_overlong_sources_keep_their_first_tokens(translator):
    limit = translator._config.data.max_source_length
    long_text = " ".join(["seven hundred"] * 40)
    ids = translator.tokenize(tf.constant([long_text]))
    assert ids.shape[1] == limit
    # A long source translates exactly like its own first max_source_length tokens.
    full = translator.translate_ids(ids, 64, 1, 1)["ids"].numpy()
    longer = tf.concat([ids, ids], axis=1)
    np.testing.assert_array_equal(translator.translate_ids(longer, 64, 1, 1)["ids"], full)


def test_n_best_beyond_the_beam_is_an_error_not_a_clip(translator):
    with pytest.raises(tf.errors.InvalidArgumentError, match="n_best must be between 1 and beam"):
        _run(translator, ["two hundred"], beam=2, n_best=5)
    out = _run(translator, ["two hundred", "May 7, 1985"], beam=2, n_best=2)
    assert out["translations"].shape == (2, 2)
    assert out["alignments"].shape[:3] == out["ids"].shape
    assert not np.any(out["alignments"].numpy())  # no attention in this model


def test_serving_default_is_the_best_hypothesis(translator):
    texts = tf.constant(["two hundred", "May 7, 1985", ""])
    default = translator.serving_default(texts)
    best = _run(translator, texts)
    np.testing.assert_array_equal(default["translation"], best["translations"][:, 0])
    np.testing.assert_allclose(default["score"], best["scores"][:, 0])


def test_a_target_vocabulary_decoder_returns_joint_ids(tokenizer):
    import keras

    from keras_s2s.config import EOS_ID
    from keras_s2s.models import Seq2Seq, build_model

    config = RunConfig().override(attention="none", units=8, embedding_dim=4, max_length=5)
    target_ids = [0, 1, 2, 3, 57, 61, 80]
    keras.utils.set_random_seed(0)
    model = build_model(config.model, tokenizer.vocab_size, target_ids=target_ids)
    model({"source_ids": np.array([[5, 6]]), "decoder_input_ids": np.array([[2]])})
    # Rig the output layer: decoder id 5 (joint 61) first, then eos.
    logits = Seq2Seq.from_model(model).decoder.output_projection
    kernel, bias = logits.get_weights()
    bias[:] = 0.0
    bias[5], bias[EOS_ID] = 50.0, 49.0
    logits.set_weights([np.zeros_like(kernel), bias])
    translator = Translator(model, tokenizer, config)
    out = translator.translate_ids(tf.constant([[5, 6, 7]]), 3, 1, 1)
    # Always 61 (never the decoder's own 5): the most likely piece repeats to max_length.
    assert out["ids"].numpy().tolist() == [[[61, 61, 61]]]
    text = _run(translator, ["May 7"], max_length=2)["translations"].numpy()[0, 0]
    assert text.decode("utf-8") == tokenizer.decode([[61, 61]])[0]
