# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import csv
import json
import os
import time

import keras
import numpy as np
import pytest

from keras_s2s.config import RunConfig
from keras_s2s.models import Seq2Seq
from keras_s2s.tokenizer import Tokenizer
from keras_s2s.training import RunDirError, data_fingerprint, train


def test_run_dir_holds_config_tokenizer_checkpoint_and_logs(trained_run, tiny_config):
    run = trained_run.run_dir
    for name in ("config.json", "tokenizer.model", "model.keras", "log.csv", "metrics.json"):
        assert os.path.isfile(os.path.join(run, name)), name
    assert os.path.isdir(os.path.join(run, "backup"))
    assert os.path.isdir(os.path.join(run, "logs"))
    assert RunConfig.load(os.path.join(run, "config.json")) == tiny_config
    assert Tokenizer.load(run).vocab_size == trained_run.metrics["vocab_size"]
    with open(os.path.join(run, "metrics.json")) as f:
        assert json.load(f) == trained_run.metrics


def test_training_lowers_the_validation_loss(trained_run):
    val_loss = trained_run.history["val_loss"]
    assert len(val_loss) >= 3
    assert min(val_loss) < val_loss[0]
    assert trained_run.metrics["valid"]["loss"] == pytest.approx(min(val_loss), rel=1e-4)
    assert all(t > 0 for t in trained_run.metrics["target_tokens_per_second"])
    with open(os.path.join(trained_run.run_dir, "log.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(val_loss)


def test_checkpoint_loads_in_safe_mode(trained_run):
    model = keras.models.load_model(
        os.path.join(trained_run.run_dir, "model.keras"), safe_mode=True
    )
    s2s = Seq2Seq.from_model(model)
    assert s2s.decoder.units == 64
    logits = model({"source_ids": np.array([[5, 6, 7]]), "decoder_input_ids": np.array([[2]])})
    assert logits.shape == (1, 1, trained_run.metrics["vocab_size"])


def test_rerunning_a_finished_run_resumes_without_retraining(
    trained_run, small_corpus, tiny_config
):
    before = os.path.getmtime(os.path.join(trained_run.run_dir, "model.keras"))
    again = train(
        tiny_config, small_corpus.train, small_corpus.valid, trained_run.run_dir, verbose=0
    )
    assert again.history.get("loss", []) == []
    assert os.path.getmtime(os.path.join(trained_run.run_dir, "model.keras")) == before
    assert again.metrics["valid"]["loss"] == pytest.approx(
        trained_run.metrics["valid"]["loss"], rel=1e-5
    )


def test_different_config_in_same_run_dir_is_refused(trained_run, small_corpus, tiny_config):
    other = tiny_config.override(units=96, epochs=1)
    with pytest.raises(RunDirError) as e:
        train(other, small_corpus.train, small_corpus.valid, trained_run.run_dir, verbose=0)
    assert "different config (model.units);" in str(e.value)


def test_empty_sets_are_refused(tmp_path, tiny_config, small_corpus):
    with pytest.raises(ValueError, match="must not be empty"):
        train(tiny_config, small_corpus.train, [], str(tmp_path), verbose=0)


def test_data_fingerprint_changes_with_content():
    a = data_fingerprint([("a", "b")])
    assert a == data_fingerprint([("a", "b")])
    assert a != data_fingerprint([("a", "c")])
    assert a != data_fingerprint([("a\tb", "")])


class _BatchClock(keras.callbacks.Callback):
    """Records when each training batch ends and how long the longest one took."""

    def __init__(self):
        super().__init__()
        self.ends: list[float] = []
        self.longest = 0.0
        self._begin = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._begin = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.ends.append(now)
        self.longest = max(self.longest, now - self._begin)


def test_time_budget_stops_the_run_within_budget_plus_one_batch(
    tmp_path, small_corpus, tiny_config
):
    budget_minutes = 0.1  # 6 s: several epochs' worth of this corpus would take longer
    config = tiny_config.override(epochs=1000, time_budget_minutes=budget_minutes)
    clock = _BatchClock()
    first_fit = []

    class FitStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if not first_fit:
                first_fit.append(time.perf_counter())

    result = train(
        config,
        small_corpus.train,
        small_corpus.valid,
        str(tmp_path),
        verbose=0,
        callbacks=[FitStart(), clock],
    )
    budget = budget_minutes * 60
    last_batch_end = clock.ends[-1] - first_fit[0]
    assert result.metrics["epochs_run"] < 1000
    # The last batch started before the budget ran out, and ended at most one batch later
    # (validation time between the fit calls counts against the budget too).
    assert last_batch_end <= budget + clock.longest + 0.5
    assert result.metrics["fit_seconds"] >= budget
    assert os.path.isfile(os.path.join(str(tmp_path), "model.keras"))


def test_time_budget_decays_the_learning_rate_with_the_clock():
    from keras_s2s.checkpointing import TrainingState
    from keras_s2s.training import TimeBudget

    clock = TimeBudget(100.0, TrainingState(elapsed=30.0), peak_learning_rate=1e-3)
    assert clock.elapsed == 30.0  # a resumed run starts from the time already spent
    assert clock.learning_rate(0.0) == pytest.approx(1e-3)
    assert clock.learning_rate(50.0) == pytest.approx(1e-3)
    assert clock.learning_rate(75.0) == pytest.approx(0.55e-3)
    assert clock.learning_rate(100.0) == pytest.approx(1e-4)
    assert clock.learning_rate(500.0) == pytest.approx(1e-4)


@pytest.mark.parametrize("batches,expected", [(10, 500.0), (4, 200.0)])
def test_throughput_counts_only_the_batches_an_epoch_ran(monkeypatch, batches, expected):
    from keras_s2s import training

    now = iter([100.0, 102.0])  # epoch begins, validation begins: 2 s of training
    monkeypatch.setattr(training.time, "perf_counter", lambda: next(now))
    logger = training.ThroughputLogger(epoch_tokens=1000, epoch_steps=10)
    logger.on_epoch_begin(0)
    for batch in range(batches):  # 4: a time budget stopped the epoch after 4 of 10
        logger.on_train_batch_end(batch)
    logger.on_test_begin()
    logs = {}
    logger.on_epoch_end(0, logs)
    assert logs["target_tokens_per_second"] == pytest.approx(expected)


def test_a_target_vocabulary_run_decodes_to_joint_ids(tmp_path, small_corpus, tiny_config):
    import keras_s2s

    config = tiny_config.override(target_vocabulary=True, epochs=2)
    result = train(config, small_corpus.train, small_corpus.valid, str(tmp_path), verbose=0)
    m = result.metrics
    assert 4 < m["target_vocab_size"] < m["vocab_size"]
    model = keras_s2s.load(str(tmp_path), "keras")
    tokenizer = Tokenizer.load(str(tmp_path))
    sources = [s for s, _ in small_corpus.valid[:8]]
    for row in model.translate_nbest(sources, beam=2, n_best=2):
        for hyp in row:
            assert hyp.text == tokenizer.decode([hyp.ids])[0]
            assert max(hyp.ids) < m["vocab_size"]


def test_raising_epochs_trains_on_and_new_decoding_defaults_are_accepted(
    tmp_path, small_corpus, tiny_config
):
    run = str(tmp_path)
    first = train(
        tiny_config.override(epochs=2), small_corpus.train, small_corpus.valid, run, verbose=0
    )
    assert len(first.history["loss"]) == 2
    longer = tiny_config.override(epochs=3, beam_width=4, length_penalty=1.0)
    again = train(longer, small_corpus.train, small_corpus.valid, run, verbose=0)
    # Only the third epoch ran: the first two were restored from the checkpoint.
    assert len(again.history["loss"]) == 1
    assert again.metrics["epochs_run"] == 3
    assert RunConfig.load(os.path.join(run, "config.json")) == longer
    import keras_s2s

    assert keras_s2s.load(run, "keras").beam_width == 4  # checksums were rewritten too


def test_a_run_dir_refuses_other_training_data(tmp_path, small_corpus, tiny_config):
    run = str(tmp_path)
    config = tiny_config.override(epochs=1)
    train(config, small_corpus.train, small_corpus.valid, run, verbose=0)
    other = small_corpus.train[:-1]
    with pytest.raises(RunDirError, match="was trained on other data"):
        train(config.override(epochs=2), other, small_corpus.valid, run, verbose=0)


@pytest.mark.parametrize("jit", [None, False, True])
def test_xla_is_off_unless_asked_for(tiny_config, jit):
    from keras_s2s.models import build_model
    from keras_s2s.training import compile_model

    config = tiny_config.override(attention="luong")
    if jit is not None:
        config = config.override(jit_compile=jit)
    model = compile_model(build_model(config.model, 100, seed=0), config)
    assert model.jit_compile is bool(jit)  # what Keras compiles the steps with
