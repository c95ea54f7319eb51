# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Training precision: the `auto` rule, bf16 models, and float32 saved models."""

import json
import os

import keras
import numpy as np
import pytest

from keras_s2s.config import PAD_ID, ConfigError, ModelConfig, RunConfig
from keras_s2s.models import build_model
from keras_s2s.precision import BF16_CPU_FLAGS, cpu_flags, dtype_policy, resolve

AVX512_BF16_HOST = frozenset({"avx2", "avx512f", "avx512_bf16"})
AMX_HOST = frozenset({"avx2", "avx512f", "amx_tile", "amx_bf16"})
AVX2_HOST = frozenset({"avx2", "fma"})


# The rule, pinned: bf16 only on a CPU with native bf16, without GPU or distribution.
@pytest.mark.parametrize(
    "precision, strategy, flags, gpus, expected",
    [
        ("auto", "none", AVX512_BF16_HOST, 0, "mixed_bfloat16"),
        ("auto", "none", AMX_HOST, 0, "mixed_bfloat16"),
        ("auto", "none", AVX2_HOST, 0, "float32"),
        ("auto", "none", frozenset(), 0, "float32"),
        ("auto", "none", AVX512_BF16_HOST, 1, "float32"),
        ("auto", "mirrored", AVX512_BF16_HOST, 0, "float32"),
        ("auto", "multiworker", AVX512_BF16_HOST, 0, "float32"),
        ("float32", "none", AVX512_BF16_HOST, 0, "float32"),
        ("mixed_bfloat16", "none", AVX2_HOST, 0, "mixed_bfloat16"),
        ("mixed_bfloat16", "multiworker", AVX2_HOST, 1, "mixed_bfloat16"),
    ],
)
def test_auto_precision_rule(precision, strategy, flags, gpus, expected):
    assert resolve(precision, strategy=strategy, flags=flags, gpus=gpus) == expected


def test_auto_reads_this_machines_cpu_flags():
    want = "mixed_bfloat16" if cpu_flags() & BF16_CPU_FLAGS else "float32"
    assert resolve("auto", gpus=0) == want
    assert "avx512_bf16" in BF16_CPU_FLAGS


def test_unknown_precision_is_a_config_error():
    with pytest.raises(ConfigError, match="precision must be one of auto, float32, mixed_bfloat16"):
        resolve("float16")
    with pytest.raises(ConfigError, match="precision must be one of"):
        RunConfig().override(precision="bf16")


def test_dtype_policy_is_restored_after_the_block_even_on_error():
    before = keras.config.dtype_policy().name
    with pytest.raises(RuntimeError):
        with dtype_policy("mixed_bfloat16"):
            assert keras.config.dtype_policy().name == "mixed_bfloat16"
            raise RuntimeError("inside")
    assert keras.config.dtype_policy().name == before


def _batch():
    rng = np.random.default_rng(0)
    src = rng.integers(4, 40, (4, 6)).astype(np.int32)
    tgt = rng.integers(4, 40, (4, 5)).astype(np.int32)
    src[1, 3:], tgt[1, 2:] = PAD_ID, PAD_ID
    return {"source_ids": src, "decoder_input_ids": tgt}


@pytest.mark.parametrize("attention", ["none", "luong"])
def test_a_bf16_model_keeps_float32_weights_and_computes_close_to_float32(attention):
    config = ModelConfig(attention=attention, units=16, embedding_dim=8, dropout=0.0)
    keras.utils.set_random_seed(0)
    mixed = build_model(config, 40, precision="mixed_bfloat16")
    plain = build_model(config, 40)
    mixed_logits = mixed(_batch())
    plain.set_weights(mixed.get_weights())
    plain_logits = plain(_batch())

    assert mixed.get_layer("decoder").compute_dtype == "bfloat16"
    assert plain.get_layer("decoder").compute_dtype == "float32"
    assert {v.dtype for v in mixed.weights} == {"float32"}
    assert mixed_logits.dtype == "bfloat16" and plain_logits.dtype == "float32"
    # bf16 keeps 8 significant bits: ~0.4% per rounding, a few roundings deep.
    np.testing.assert_allclose(
        np.asarray(mixed_logits, np.float32), plain_logits, rtol=0.05, atol=0.02
    )
    assert keras.config.dtype_policy().name == "float32"


def _train(tmp_path_factory, corpus, config, precision):
    from keras_s2s.training import train

    run_dir = str(tmp_path_factory.mktemp(precision))
    config = config.override(precision=precision, epochs=4)
    return train(config, corpus.train, corpus.valid, run_dir, verbose=0)


@pytest.fixture(scope="module")
def bf16_run(tmp_path_factory, small_corpus, tiny_config):
    return _train(tmp_path_factory, small_corpus, tiny_config, "mixed_bfloat16")


def test_bf16_training_learns_like_float32_and_saves_a_float32_model(
    bf16_run, tmp_path_factory, small_corpus, tiny_config
):
    from keras_s2s.training import load_model

    fp32_run = _train(tmp_path_factory, small_corpus, tiny_config, "float32")
    bf16, fp32 = (
        json.loads(open(os.path.join(r.run_dir, "metrics.json")).read())
        for r in (bf16_run, fp32_run)
    )
    assert (bf16["precision"], fp32["precision"]) == ("mixed_bfloat16", "float32")
    # Same seed, batches and initial weights; at this model's learning rate (1e-2) the
    # rounding makes the curves part on the way (1.40 / 1.30 after epoch 1), but they
    # end together (1.050 / 1.010 on an AVX-512 host).
    assert bf16["history"]["val_loss"][-1] == pytest.approx(
        fp32["history"]["val_loss"][-1], rel=0.1
    )
    assert bf16["history"]["val_loss"][-1] < 0.8 * bf16["history"]["val_loss"][0]
    model = load_model(bf16_run.run_dir, compile=True)
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}
    # The optimizer state moved along with the weights.
    assert int(model.optimizer.iterations.numpy()) == bf16["steps_per_epoch"] * 4
    assert keras.config.dtype_policy().name == "float32"


def test_a_bf16_trained_run_translates_identically_in_every_backend(
    bf16_run, tmp_path, parity_sentences
):
    from keras_s2s.backends import load
    from keras_s2s.exporting import export

    version_dir = export(bf16_run.run_dir, str(tmp_path / "m"), formats=("savedmodel", "onnx"))
    ids = {
        name: [h.ids for h in load(path, name).translate_detailed(parity_sentences, beam=1)]
        for name, path in (
            ("keras", bf16_run.run_dir),
            ("savedmodel", version_dir),
            ("onnx", version_dir),
        )
    }
    assert any(len(row) > 1 for row in ids["keras"])
    assert ids["savedmodel"] == ids["keras"]
    assert ids["onnx"] == ids["keras"]
