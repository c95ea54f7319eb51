# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: a small generated corpus, a tiny tokenizer and a tiny trained model.

Everything expensive is built once per session and kept tiny (vocab ~100, hidden 16-32).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def small_corpus():
    from keras_s2s.corpora import generate_default_corpus

    return generate_default_corpus(seed=0, num_dates=400, num_numbers=400)


@pytest.fixture(scope="session")
def tokenizer(small_corpus):
    from keras_s2s.config import TokenizerConfig
    from keras_s2s.tokenizer import Tokenizer

    texts = [s for s, _ in small_corpus.train] + [t for _, t in small_corpus.train]
    return Tokenizer.train(texts, TokenizerConfig(vocab_size=100))


@pytest.fixture(scope="session")
def tiny_config():
    from keras_s2s.config import RunConfig

    return RunConfig().override(
        vocab_size=100,
        embedding_dim=16,
        units=32,
        dropout=0.0,
        batch_size=32,
        epochs=3,
        learning_rate=5e-3,
        max_source_length=24,
        max_target_length=12,
    )


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, small_corpus, tiny_config):
    """A tiny model trained for 3 epochs on the small corpus; returns its TrainResult."""
    from keras_s2s.training import train

    run_dir = str(tmp_path_factory.mktemp("run"))
    return train(tiny_config, small_corpus.train, small_corpus.valid, run_dir, verbose=0)
