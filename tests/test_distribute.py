# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""tf.distribute: two workers on 127.0.0.1 train exactly like one worker."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.config import ConfigError
from keras_s2s.generated_corpus import generate_default_corpus
from keras_s2s.readers import write_pairs

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
FLAGS = [
    "--epochs", "3", "--units", "16", "--embedding-dim", "8", "--vocab-size", "60",
    "--batch-size", "16", "--bucket-width", "0", "--dropout", "0", "--deterministic",
    "--checkpoint-steps", "0", "--seed", "5", "--learning-rate", "0.01",
]  # fmt: skip


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _final(run_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(os.path.join(run_dir, "backup")))
    names = sorted(n for n in reader.get_variable_to_shape_map() if n.startswith("model_"))
    return {n: reader.get_tensor(n) for n in names}


@pytest.mark.slow
def test_two_workers_match_one_worker_on_the_same_global_batches(tmp_path):
    corpus = generate_default_corpus(seed=2, num_dates=60, num_numbers=60)
    # Mixed lengths (dates and numbers in several scripts), 12 full global batches of 16.
    train_file, valid_file = tmp_path / "train.tsv", tmp_path / "valid.tsv"
    write_pairs(corpus.train[:192], str(train_file))
    write_pairs(corpus.train[192:224], str(valid_file))
    common = ["train", "--train", str(train_file), "--valid", str(valid_file), *FLAGS]

    # The workers train at the default precision, which a strategy makes float32 on any
    # CPU (keras_s2s.precision); one worker on a bf16 CPU would default to bf16.
    single = subprocess.run(
        [sys.executable, "-m", "keras_s2s", *common, "--precision", "float32",
         "--run-dir", str(tmp_path / "single")],
        capture_output=True, text=True, env=ENV, timeout=600,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr[-2000:]

    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    try:
        for index in range(2):
            tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "keras_s2s",
                        *common,
                        "--strategy",
                        "multiworker",
                        "--run-dir",
                        str(tmp_path / f"worker{index}"),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**ENV, "TF_CONFIG": json.dumps(tf_config)},
                )  # fmt: skip
            )
        outputs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]

    def history(name):
        return json.loads((tmp_path / name / "metrics.json").read_text())["history"]

    want = history("single")
    for index in range(2):
        metrics = json.loads((tmp_path / f"worker{index}" / "metrics.json").read_text())
        assert metrics["precision"] == "float32"
        got = history(f"worker{index}")
        np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
        np.testing.assert_allclose(got["val_loss"], want["val_loss"], rtol=1e-5)
        weights, reference = (
            _final(str(tmp_path / f"worker{index}")),
            _final(str(tmp_path / "single")),
        )
        assert weights.keys() == reference.keys()
        for name in reference:
            np.testing.assert_allclose(weights[name], reference[name], rtol=1e-5, atol=2e-7)


def test_keras_hooks_that_prepare_model_relies_on_still_exist():
    """Pins the workaround for keras-team/keras#20585 to the Keras internals it replaces."""
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    assert callable(TensorFlowTrainer._maybe_symbolic_build)
    assert callable(TensorFlowTrainer._symbolic_build)


def test_after_prepare_model_keras_symbolic_build_would_create_nothing():
    import keras

    from keras_s2s.config import ModelConfig, RunConfig
    from keras_s2s.distribute import make_strategy, prepare_model
    from keras_s2s.models import build_model
    from keras_s2s.training import compile_model

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        config = ModelConfig(attention="none", units=8, embedding_dim=4)
        model = compile_model(build_model(config, 20), RunConfig())
    x = {"source_ids": np.array([[4, 5, 0]]), "decoder_input_ids": np.array([[2, 6, 7]])}
    y = np.array([[6, 7, 3]])
    prepare_model(model, strategy, (x, y))
    before = len(model.variables) + len(model.optimizer.variables) + len(model.metrics_variables)
    type(model)._symbolic_build(model, data_batch=(x, y))  # Keras' own build, run anyway
    after = len(model.variables) + len(model.optimizer.variables) + len(model.metrics_variables)
    assert after == before
    assert model._maybe_symbolic_build() is None
    assert make_strategy("none") is tf.distribute.get_strategy()
    model.fit(x, y, epochs=1, verbose=0)  # and fit runs with the hook turned off
    assert isinstance(model, keras.Model)


def test_global_token_normalisation_is_independent_of_the_split():
    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    labels = np.array([[5, 6, 3, 0], [7, 3, 0, 0]], np.int32)
    logits = np.random.default_rng(0).normal(size=(2, 4, 9)).astype(np.float32)
    loss = MaskedSparseCategoricalCrossentropy()
    with strategy.scope():
        in_replica = strategy.run(lambda a, b: loss(a, b), args=(labels, logits))
    np.testing.assert_allclose(float(in_replica), float(loss(labels, logits)), rtol=1e-6)


def test_multiworker_without_tf_config_is_a_clear_error(monkeypatch):
    from keras_s2s.distribute import make_strategy

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="--strategy multiworker needs TF_CONFIG"):
        make_strategy("multiworker")
