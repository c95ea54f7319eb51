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
from keras_s2s.generated_corpus import generate_default_corpus
from keras_s2s.precision import resolve
from keras_s2s.readers import write_pairs

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    corpus = generate_default_corpus(seed=1, num_dates=120, num_numbers=120)
    path = tmp_path_factory.mktemp("resume") / "pairs.tsv"
    write_pairs(corpus.train, str(path))
    return str(path)


def _train(corpus, run_dir, dropout, jit=False, fault=None, precision="auto"):
    env = dict(ENV, KERAS_S2S_FAULT=fault) if fault else ENV
    return subprocess.run(
        [
            sys.executable, "-m", "keras_s2s", "train", "--train", corpus, "--run-dir", run_dir,
            "--epochs", "2", "--units", "16", "--embedding-dim", "8", "--vocab-size", "60",
            "--batch-size", "16", "--checkpoint-steps", "4", "--dropout", str(dropout),
            "--teacher-forcing-ratio", "0.8", "--deterministic", "--seed", "3",
            "--precision", precision, *(["--jit-compile"] if jit else []),
        ],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip


def _final_variables(run_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(os.path.join(run_dir, "backup")))
    names = sorted(n for n in reader.get_variable_to_shape_map() if n.startswith(("model", "opt")))
    return {n: reader.get_tensor(n) for n in names}


@pytest.mark.slow
# XLA (`--jit-compile`) draws its own dropout masks; resuming must restore its RNG
# state as exactly as plain TensorFlow's.
# "auto" is bf16 on a CPU with native bf16 and float32 elsewhere; both are also asked
# for explicitly, so every host checks both.
@pytest.mark.parametrize(
    "dropout, jit, precision",
    [
        (0.0, False, "auto"),
        (0.2, False, "float32"),
        (0.2, False, "mixed_bfloat16"),
        (0.2, True, "auto"),
    ],
)
def test_killed_mid_epoch_then_resumed_is_bit_identical(
    corpus_file, tmp_path, dropout, jit, precision
):
    straight = _train(corpus_file, str(tmp_path / "straight"), dropout, jit, precision=precision)
    assert straight.returncode == 0, straight.stderr[-2000:]
    metrics = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    assert len(metrics["history"]["loss"]) == 2
    assert metrics["precision"] == resolve(precision)
    kill_at = metrics["steps_per_epoch"] + 7  # batch 7 of epoch 2; checkpoints every 4

    run = str(tmp_path / "killed")
    killed = _train(
        corpus_file, run, dropout, jit, fault=f"train_step:{kill_at}", precision=precision
    )
    assert killed.returncode == -signal.SIGKILL
    states = (tmp_path / "killed" / "backup").glob("*.state.json")
    newest = max(states, key=lambda p: int(p.name.split(".")[0].split("-")[1]))
    last = json.loads(newest.read_text())
    assert (last["epoch"], last["batch"]) == (1, 4)  # resumes mid-epoch 2, replaying 5-7

    resumed = _train(corpus_file, run, dropout, jit, precision=precision)
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
    config = ModelConfig(attention="none", units=8, embedding_dim=4)
    model = compile_model(build_model(config, 20), RunConfig())
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

    again_model = _tiny_model()
    again = CheckpointStore(str(tmp_path), again_model)
    with caplog.at_level(logging.WARNING):
        state = again.restore()
    assert (state.epoch, state.batch) == (1, 0)
    assert f"checkpoint {newest} is unreadable" in caplog.text
    values = [v.numpy() for v in again_model.variables]
    assert len(values) == len(first) > 5
    for want, got in zip(first, values, strict=True):
        np.testing.assert_array_equal(got, want)


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
        attention="none",
        vocab_size=60,
        units=8,
        embedding_dim=4,
        batch_size=32,
        epochs=3,
        checkpoint_steps=2,
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
    restored = _tiny_model_like(config, tmp_path)
    store = CheckpointStore(str(tmp_path / "backup"), restored)
    state = store.restore()
    assert (state.epoch, state.batch) == (1, 6)  # the last checkpoint before the NaN batch
    assert all(np.isfinite(v.numpy()).all() for v in restored.variables)


def _tiny_model_like(config, run_dir):
    from keras_s2s.models import build_model
    from keras_s2s.tokenizer import Tokenizer
    from keras_s2s.training import compile_model

    model = compile_model(
        build_model(config.model, Tokenizer.load(str(run_dir)).vocab_size), config
    )
    model.optimizer.build(model.trainable_variables)
    return model


def _dropout_model():
    from keras_s2s.config import ModelConfig, RunConfig
    from keras_s2s.models import build_model
    from keras_s2s.training import compile_model

    keras.utils.set_random_seed(0)
    config = ModelConfig(units=8, embedding_dim=4, dropout=0.2, attention="luong")
    model = compile_model(build_model(config, 20), RunConfig())
    model.optimizer.build(model.trainable_variables)
    return model


def test_keys_are_paths_that_do_not_depend_on_the_process_or_the_variable_order():
    from keras_s2s.checkpointing import keys_by_path, variable_keys

    first = _dropout_model()
    # Objects made before the model change Keras' per-process names (adam_1,
    # seed_generator_7, ...), but not the keys.
    keras.optimizers.Adam()
    keras.layers.Dropout(0.5, seed=1)
    second = _dropout_model()
    assert first.optimizer.variables[0].path != second.optimizer.variables[0].path
    keys = list(variable_keys(first))
    assert keys == list(variable_keys(second))
    assert "model|decoder|logits|kernel" in keys and "optimizer|iteration" in keys
    assert sum(k.startswith("model|seed_generator#") for k in keys) >= 2
    # A Keras that listed the variables in another order gets the same key -> variable map.
    by_order = variable_keys(first)
    reordered = keys_by_path(first.variables[::-1], first.optimizer.variables[::-1])
    assert reordered.keys() == by_order.keys()
    for key, variable in by_order.items():
        assert reordered[key] is variable, key


def test_checkpoints_with_positional_keys_still_resume(tmp_path):
    from keras_s2s.checkpointing import STATE_SUFFIX, positional_keys

    old = _dropout_model()
    for v in old.trainable_variables:
        v.assign(v + 0.5)
    # The format written before keys by path: model_0000, ..., optimizer_0000, ...
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(**positional_keys(old)), str(tmp_path), max_to_keep=2
    )
    prefix = manager.save()
    with open(prefix + STATE_SUFFIX, "w", encoding="utf-8") as f:
        json.dump(TrainingState(epoch=2, batch=3).to_dict(), f)
    new = _dropout_model()
    state = CheckpointStore(str(tmp_path), new).restore()
    assert (state.epoch, state.batch) == (2, 3)
    for want, got in zip(old.variables, new.variables, strict=True):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_no_restorable_checkpoint_is_an_error_not_a_fresh_start(tmp_path):
    from keras_s2s.checkpointing import CheckpointError

    store = CheckpointStore(str(tmp_path), _tiny_model())
    prefixes = [store.save(TrainingState(epoch=1, batch=b)) for b in (2, 4)]
    for prefix in prefixes:
        with open(prefix + ".index", "wb") as f:
            f.write(b"garbage")
    with pytest.raises(CheckpointError, match="none of the 2 resume checkpoints can be restored"):
        CheckpointStore(str(tmp_path), _tiny_model()).restore()


def test_train_refuses_unrestorable_checkpoints_unless_restarted(tmp_path, small_corpus):
    from keras_s2s.config import RunConfig
    from keras_s2s.training import RunDirError, train

    config = RunConfig().override(
        attention="none", vocab_size=60, units=8, embedding_dim=4, epochs=1
    )
    pairs, valid = small_corpus.train[:200], small_corpus.valid[:40]
    run = str(tmp_path / "run")
    train(config, pairs, valid, run, verbose=0)
    model_before = (tmp_path / "run" / "model.keras").read_bytes()
    for index in (tmp_path / "run" / "backup").glob("*.index"):
        index.write_bytes(b"damaged")
    with pytest.raises(RunDirError, match="rerun with --restart to start this run over"):
        train(config, pairs, valid, run, verbose=0)
    assert (tmp_path / "run" / "model.keras").read_bytes() == model_before  # nothing lost
    result = train(config, pairs, valid, run, verbose=0, restart=True)
    assert result.metrics["epochs_run"] == 1


def test_model_keras_is_replaced_atomically(tmp_path, monkeypatch):
    from keras_s2s.training import save_model

    model = _tiny_model()
    path = str(tmp_path / "model.keras")
    save_model(model, path)
    before = (tmp_path / "model.keras").read_bytes()

    def crash(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", crash)
    with pytest.raises(OSError):
        save_model(model, path)
    assert (tmp_path / "model.keras").read_bytes() == before
    assert os.listdir(tmp_path) == ["model.keras"]
