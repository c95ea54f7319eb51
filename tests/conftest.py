# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: a small generated corpus, a tiny tokenizer and a tiny trained model.

Everything expensive is built once per session and kept tiny (vocab ~100, hidden 16-32).
"""

import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

PARITY_WORKERS = 2


@pytest.hookimpl(trylast=True)  # after -k / --deselect have removed what will not run
def pytest_collection_modifyitems(session, config, items):
    """Starts the parity-matrix workers in the background if their tests will run.

    The matrix (12 models trained and exported) is the costliest fixture; building it
    from the start, at low priority, uses the CPU the rest of the session leaves idle.
    """
    matrix = [item for item in items if item.module.__name__ == "test_parity_matrix"]
    if not matrix:
        return
    # Run its tests last, so the workers have the whole session to use idle CPU.
    items[:] = [item for item in items if item not in matrix] + matrix
    out = tempfile.mkdtemp(prefix="keras_s2s_parity_")
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity_models.py")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    workers = []
    for i in range(PARITY_WORKERS):
        log = open(os.path.join(out, f"worker{i}.log"), "w")
        workers.append(
            subprocess.Popen(
                [sys.executable, script, out],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=lambda: os.nice(10),
            )
        )
    config._parity_matrix = (out, workers)


def pytest_unconfigure(config):
    for worker in getattr(config, "_parity_matrix", (None, []))[1]:
        if worker.poll() is None:
            worker.kill()


@pytest.fixture(scope="session")
def small_corpus():
    from keras_s2s.generated_corpus import generate_default_corpus

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

    # The plain model (no attention) keeps the shared fixtures fast; the attention
    # models have their own fixtures (`exported_attention`, tests/parity_models.py).
    return RunConfig().override(
        attention="none",
        vocab_size=100,
        embedding_dim=32,
        units=64,
        bidirectional=True,
        dropout=0.0,
        batch_size=16,
        epochs=10,
        learning_rate=1e-2,
        max_source_length=24,
        max_target_length=12,
    )


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, small_corpus, tiny_config):
    """A tiny model (~20 s of training) whose outputs depend on its input; a TrainResult."""
    from keras_s2s.training import train

    run_dir = str(tmp_path_factory.mktemp("run"))
    return train(tiny_config, small_corpus.train, small_corpus.valid, run_dir, verbose=0)


@pytest.fixture(scope="session")
def exported(tmp_path_factory, trained_run):
    """The tiny trained run, copied, exported (SavedModel + ONNX) as version 1.

    Returns `(run_dir_copy, model_dir, version_dir)`.
    """
    import shutil

    from keras_s2s.exporting import export

    base = tmp_path_factory.mktemp("export")
    run_copy = str(base / "run")
    shutil.copytree(trained_run.run_dir, run_copy)
    model_dir = str(base / "saved_models" / "tiny")
    version_dir = export(run_copy, model_dir, formats=("savedmodel", "onnx"))
    return run_copy, model_dir, version_dir


@pytest.fixture(scope="session")
def parity_sentences(small_corpus):
    """60 held-out sources of mixed length (dates and numbers, several scripts)."""
    sources = [s for s, _ in small_corpus.test] + [s for s, _ in small_corpus.valid]
    return sources[:60]


@pytest.fixture(scope="session")
def exported_attention(tmp_path_factory, small_corpus, tiny_config):
    """A tiny Luong-attention model with input feeding, trained and exported in every
    format (SavedModel, ONNX ids graph and its int8 twin, text-to-text ONNX).

    Returns `(run_dir, version_dir)`.
    """
    from keras_s2s.exporting import FORMATS, export
    from keras_s2s.training import train

    base = tmp_path_factory.mktemp("attention")
    config = tiny_config.override(attention="luong", input_feeding=True, epochs=6)
    run_dir = str(base / "run")
    train(config, small_corpus.train, small_corpus.valid, run_dir, verbose=0)
    version_dir = export(
        run_dir, str(base / "saved_models" / "attention"), formats=FORMATS, quantize="int8"
    )
    return run_dir, version_dir
