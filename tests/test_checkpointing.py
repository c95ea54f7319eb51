# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Exact resumption: killed mid-epoch, a rerun ends bit-identical to an uninterrupted run."""

import json
import logging
import os
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.checkpointing import CheckpointStore, TrainingState
from keras_s2s.corpora import generate_default_corpus
from keras_s2s.data import write_pairs

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    corpus = generate_default_corpus(seed=1, num_dates=120, num_numbers=120)
    path = tmp_path_factory.mktemp("resume") / "pairs.tsv"
    write_pairs(corpus.train, str(path))
    return str(path)


def _train(corpus, run_dir, dropout, fault=None):
    env = dict(ENV, KERAS_S2S_FAULT=fault) if fault else ENV
    return subprocess.run(
        [
            sys.executable, "-m", "keras_s2s", "train", "--train", corpus, "--run-dir", run_dir,
            "--epochs", "2", "--units", "16", "--embedding-dim", "8", "--vocab-size", "60",
            "--batch-size", "16", "--checkpoint-steps", "4", "--dropout", str(dropout),
            "--teacher-forcing-ratio", "0.8", "--deterministic", "--seed", "3",
        ],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def _final_variables(run_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(os.path.join(run_dir, "backup")))
    names = sorted(n for n in reader.get_variable_to_shape_map() if n.startswith(("model_", "opt")))
    return {n: reader.get_tensor(n) for n in names}


@pytest.mark.slow
@pytest.mark.parametrize("dropout", [0.0, 0.2])
def test_killed_mid_epoch_then_resumed_is_bit_identical(corpus_file, tmp_path, dropout):
    straight = _train(corpus_file, str(tmp_path / "straight"), dropout)
    assert straight.returncode == 0, straight.stderr[-2000:]
    metrics = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    assert len(metrics["history"]["loss"]) == 2
    kill_at = metrics["steps_per_epoch"] + 7  # batch 7 of epoch 2; checkpoints every 4

    run = str(tmp_path / "killed")
    killed = _train(corpus_file, run, dropout, fault=f"train_step:{kill_at}")
    assert killed.returncode == -signal.SIGKILL
    states = (tmp_path / "killed" / "backup").glob("*.state.json")
    newest = max(states, key=lambda p: int(p.name.split(".")[0].split("-")[1]))
    last = json.loads(newest.read_text())
    assert (last["epoch"], last["batch"]) == (1, 4)  # resumes mid-epoch 2, replaying 5-7

    resumed = _train(corpus_file, run, dropout)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"resuming {run} at epoch 2, batch {last['batch']}" in resumed.stderr

    want, got = _final_variables(str(tmp_path / "straight")), _final_variables(run)
    assert want.keys() == got.keys() and len(want) > 10
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    from keras_s2s.training import load_model

    a, b = load_model(str(tmp_path / "straight")), load_model(run)
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


def _tiny_model():
    from keras_s2s.config import ModelConfig, RunConfig
    from keras_s2s.models import build_model
    from keras_s2s.training import compile_model

    keras.utils.set_random_seed(0)
    model = compile_model(build_model(ModelConfig(units=8, embedding_dim=4), 20), RunConfig())
    model.optimizer.build(model.trainable_variables)
    return model


def test_truncated_latest_checkpoint_falls_back_with_a_warning(tmp_path, caplog):
    model = _tiny_model()
    store = CheckpointStore(str(tmp_path), model)
    store.save(TrainingState(epoch=1, batch=0))
    first = [v.numpy().copy() for v in model.variables]
    for v in model.trainable_variables:
        v.assign(v + 1.0)
    newest = store.save(TrainingState(epoch=1, batch=8))
    data = newest + ".data-00000-of-00001"
    with open(data, "r+b") as f:
        f.truncate(os.path.getsize(data) // 2)

    again = CheckpointStore(str(tmp_path), _tiny_model())
    with caplog.at_level(logging.WARNING):
        state = again.restore()
    assert (state.epoch, state.batch) == (1, 0)
    assert f"checkpoint {newest} is unreadable" in caplog.text
    restored = again.checkpoint
    assert restored is not None
    values = [v.numpy() for v in again_model_variables(again)]
    for want, got in zip(first, values, strict=True):
        np.testing.assert_array_equal(got, want)


def again_model_variables(store):
    # The store's checkpoint holds the tf.Variables it restored, model ones first.
    names = sorted(k for k in vars(store.checkpoint) if k.startswith("model_"))
    return [getattr(store.checkpoint, n) for n in names]


def test_no_checkpoint_means_a_fresh_start(tmp_path):
    assert CheckpointStore(str(tmp_path), _tiny_model()).restore() is None


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, small_corpus):
    from keras_s2s.config import RunConfig
    from keras_s2s.training import train

    class Poison(keras.callbacks.Callback):
        """Turns the weights to NaN before the 7th batch of the second epoch."""

        def on_train_batch_begin(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == self.at:
                for v in self.model.trainable_variables:
                    v.assign(tf.fill(v.shape, np.nan))

    poison = Poison()
    config = RunConfig().override(
        vocab_size=60, units=8, embedding_dim=4, batch_size=32, epochs=3, checkpoint_steps=2
    )
    pairs = small_corpus.train[:400]
    steps = None

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            nonlocal steps
            steps = steps or int(self.model.optimizer.iterations.numpy())
            poison.at = steps + 6

    poison.at = -1
    result = train(
        config, pairs, small_corpus.valid, str(tmp_path), verbose=0, callbacks=[Count(), poison]
    )
    assert result.metrics["stopped_on_nan"] is True
    assert result.metrics["epochs_run"] == 1
    store = CheckpointStore(str(tmp_path / "backup"), _tiny_model_like(config, tmp_path))
    state = store.restore()
    assert (state.epoch, state.batch) == (1, 6)  # the last checkpoint before the NaN batch
    assert all(np.isfinite(v.numpy()).all() for v in again_model_variables(store))


def _tiny_model_like(config, run_dir):
    from keras_s2s.models import build_model
    from keras_s2s.tokenizer import Tokenizer
    from keras_s2s.training import compile_model

    model = compile_model(
        build_model(config.model, Tokenizer.load(str(run_dir)).vocab_size), config
    )
    model.optimizer.build(model.trainable_variables)
    return model
