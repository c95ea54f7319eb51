# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Training with `model.fit`: run dir, callbacks, resumption.

A run dir holds everything a run needs to be resumed, evaluated or exported:

    config.json         the RunConfig (JSON)
    tokenizer.model     the SentencePiece model
    model.keras         the best model by validation loss (written to a temporary file,
                        then renamed, so a crash never leaves half a model)
    backup/             resume checkpoints: rerunning the same command resumes at the batch
    log.csv, logs/      per-epoch metrics (CSVLogger) and TensorBoard logs
    metrics.json        final validation metrics, throughput and data facts
    checksums.json      SHA-256 of config.json, tokenizer.model, model.keras, metrics.json,
                        checked by the keras backend and by export (keras_s2s.integrity)
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
import shutil
import sys
import time
from collections.abc import Sequence

import keras

from keras_s2s.checkpointing import (
    CheckpointError,
    CheckpointStore,
    ResumeCheckpoint,
    TrainingState,
    scalar,
)
from keras_s2s.config import ConfigError, RunConfig
from keras_s2s.distribute import (
    ScalarLogs,
    is_distributed,
    make_strategy,
    prepare_model,
    shard_by_data,
)
from keras_s2s.input_pipeline import (
    encode_pairs,
    make_dataset,
    make_epoch_dataset,
    target_vocabulary,
    to_target_space,
)
from keras_s2s.integrity import (
    CONFIG_FILENAME,
    KERAS_FILENAME,
    METRICS_FILENAME,
    RUN_CHECKSUMS,
    ModelPathError,
    write_json_atomic,
    write_run_checksums,
)
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.models import build_model
from keras_s2s.precision import resolve as resolve_precision
from keras_s2s.tokenizer import MODEL_FILENAME, Tokenizer

logger = logging.getLogger(__name__)

BACKUP_DIRNAME = "backup"


class RunDirError(ConfigError):
    """The run dir cannot be used for this run."""


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What a finished `train` call reports.

    Attributes:
        run_dir: Where the run lives.
        metrics: Final validation metrics, throughput and data facts (also in
            `metrics.json`).
        history: Per-epoch logs of this call (empty when the run had already finished).
    """

    run_dir: str
    metrics: dict
    history: dict


def data_fingerprint(pairs: Sequence[tuple[str, str]]) -> str:
    """SHA-256 of the training pairs, recorded with the run and its exports."""
    digest = hashlib.sha256()
    for source, target in pairs:
        digest.update(source.encode("utf-8", "surrogatepass") + b"\t")
        digest.update(target.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


class TimeBudget(keras.callbacks.Callback):
    """A run-wide wall-clock budget that also drives the learning rate.

    The clock starts at the first `fit` call and keeps running across the following
    ones (`train` calls `fit` once per epoch, so validation and checkpointing count
    too). It adds to the time already in the `TrainingState`, where it keeps the total,
    so a resumed run goes on from where the stopped one was. Once
    `seconds` have been spent, training stops after the current batch (the epoch is
    then validated and checkpointed as usual).

    With `peak_learning_rate`, the learning rate is set before every batch: held at the
    peak for the first `hold` share of the budget, then decayed linearly to
    `floor * peak` at its end.

    Args:
        seconds: The budget.
        state: The run's `TrainingState`; its `elapsed` is read when the clock starts
            and updated after every batch and epoch. None: a fresh clock.
        peak_learning_rate: Drive the learning rate (None leaves it alone).
        hold: Share of the budget at the peak rate.
        floor: Final rate, as a share of the peak.
    """

    def __init__(self, seconds, state=None, peak_learning_rate=None, hold=0.5, floor=0.1):
        super().__init__()
        self.seconds = float(seconds)
        self.state = state if state is not None else TrainingState()
        self.peak_learning_rate = peak_learning_rate
        self.hold = hold
        self.floor = floor
        self._start = None
        self._spent_before = 0.0

    @property
    def elapsed(self) -> float:
        """Seconds spent on the run so far."""
        if self._start is None:
            return self.state.elapsed
        return self._spent_before + time.perf_counter() - self._start

    def learning_rate(self, elapsed: float) -> float:
        """The scheduled rate after `elapsed` seconds."""
        done = elapsed / self.seconds
        ramp = min(max((done - self.hold) / (1.0 - self.hold), 0.0), 1.0)
        return self.peak_learning_rate * (1.0 - (1.0 - self.floor) * ramp)

    def on_train_begin(self, logs=None):
        if self._start is None:
            self._spent_before = self.state.elapsed
            self._start = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        if self.peak_learning_rate is not None:
            self.model.optimizer.learning_rate = self.learning_rate(self.elapsed)

    def on_train_batch_end(self, batch, logs=None):
        self.state.elapsed = self.elapsed
        if self.state.elapsed >= self.seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.state.elapsed = self.elapsed  # validation time counts too

    def on_train_end(self, logs=None):
        self.state.elapsed = self.elapsed


class ThroughputLogger(keras.callbacks.Callback):
    """Adds `target_tokens_per_second` to each epoch's logs: training batches only.

    The clock stops when validation starts, so validation time is not counted. The
    tokens counted are the share of a whole epoch's that the batches run in this `fit`
    epoch make up, `epoch_tokens * batches / epoch_steps`: exact for a whole epoch,
    approximate for one resumed or cut short by a time budget (bucketed batches differ
    in length).

    Args:
        epoch_tokens: Label tokens in one whole epoch.
        epoch_steps: Batches in one whole epoch.
    """

    def __init__(self, epoch_tokens: int, epoch_steps: int):
        super().__init__()
        self.epoch_tokens = epoch_tokens
        self.epoch_steps = epoch_steps
        self._start = 0.0
        self._elapsed = None
        self._batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._elapsed = None
        self._batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1

    def on_test_begin(self, logs=None):
        if self._elapsed is None:
            self._elapsed = time.perf_counter() - self._start

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        elapsed = self._elapsed
        if elapsed is None:
            elapsed = time.perf_counter() - self._start
        tokens = self.epoch_tokens * self._batches / self.epoch_steps
        logs["target_tokens_per_second"] = tokens / max(elapsed, 1e-9)


class _OneEpochPerFit(keras.callbacks.Callback):
    """Ends a `fit` call after its first epoch.

    `train` calls `fit` once per epoch (each epoch has its own dataset) with `epochs`
    set to the run's total, so Keras' progress output reads "Epoch N/M". Listed last,
    it records whether an earlier callback asked to stop (`stop_requested`).
    """

    def __init__(self):
        super().__init__()
        self.stop_requested = False

    def on_epoch_end(self, epoch, logs=None):
        self.stop_requested = bool(self.model.stop_training)
        self.model.stop_training = True


def _fit_verbosity(verbose):
    """Keras progress bars on a terminal, one line per epoch otherwise (a log file)."""
    if verbose != "auto":
        return verbose
    return 1 if sys.stdout.isatty() else 2


def compile_model(model: keras.Model, config: RunConfig) -> keras.Model:
    """Compiles with Adam, global-norm clipping, the masked loss and XLA if asked.

    The token metrics belong to the model (`keras_s2s.models.Seq2SeqModel`), which
    computes them on validation data only.
    """
    clip = {"global_clipnorm": config.train.clipnorm} if config.train.clipnorm else {}
    model.compile(
        optimizer=keras.optimizers.Adam(config.train.learning_rate, **clip),
        loss=MaskedSparseCategoricalCrossentropy(config.train.label_smoothing),
        jit_compile=config.train.jit_compile,
    )
    return model


def load_model(path: str, *, compile: bool = False) -> keras.Model:
    """Loads a `.keras` training model in safe mode (no arbitrary code runs).

    Args:
        path: A `.keras` file, or a run dir holding `model.keras`.
        compile: Restore the optimizer, loss and metrics too (to continue training).

    Raises:
        ModelPathError: naming the file, if it is missing or damaged.
    """
    if os.path.isdir(path):
        path = os.path.join(path, KERAS_FILENAME)
    if not os.path.isfile(path):
        raise ModelPathError(f"{path}: no such file")
    try:
        return keras.models.load_model(path, compile=compile, safe_mode=True)
    except Exception as e:  # a damaged zip fails as BadZipFile, ValueError, OSError, ...
        first = (str(e).strip().splitlines() or [""])[0]
        raise ModelPathError(
            f"{path}: damaged or not a Keras model ({type(e).__name__}: {first})"
        ) from None


def _with_weights_of(target: keras.Model, source: keras.Model) -> keras.Model:
    """`target` holding `source`'s weights and optimizer state (the same architecture,
    compiled alike); `source` itself if they are one model."""
    if target is not source:
        target.set_weights(source.get_weights())
        if not target.optimizer.built:
            target.optimizer.build(target.trainable_variables)
        for mine, theirs in zip(
            target.optimizer.variables, source.optimizer.variables, strict=True
        ):
            mine.assign(theirs.numpy())
    return target


def save_model(model: keras.Model, path: str) -> None:
    """Saves a `.keras` file atomically: a temporary file in the same folder, renamed."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{name}")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


RUN_FILES = (CONFIG_FILENAME, MODEL_FILENAME, KERAS_FILENAME, METRICS_FILENAME)


# Settings a run may change when it is resumed: how long to train and how to decode.
# Everything else (model, tokenizer, data handling, optimisation) must stay the same.
RESUMABLE_CHANGES = {
    ("train", "epochs"),
    ("train", "patience"),
    ("train", "time_budget_minutes"),
    ("train", "checkpoint_steps"),
} | {("decode", f.name) for f in dataclasses.fields(RunConfig().decode)}


def prepare_run_dir(run_dir: str, config: RunConfig) -> None:
    """Creates the run dir and saves the config, or checks it against a saved one.

    A resumed run may change only `RESUMABLE_CHANGES` (train longer, decode otherwise);
    the saved `config.json` is then updated to the new settings.

    Raises:
        RunDirError: if the run dir holds a run made with another config.
    """
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, CONFIG_FILENAME)
    if not os.path.exists(path):
        config.save(path)
        return
    saved = RunConfig.load(path)
    if saved == config:
        return
    changed = [
        (section, key)
        for section, values in config.to_dict().items()
        for key, value in values.items()
        if saved.to_dict()[section][key] != value
    ]
    fixed = [
        f"{section}.{key}" for section, key in changed if (section, key) not in RESUMABLE_CHANGES
    ]
    if fixed:
        raise RunDirError(
            f"{run_dir} holds a run with a different config ({', '.join(fixed)}); "
            "use a new --run-dir or the same settings to resume"
        )
    logger.warning(
        "%s: resuming with new settings (%s)",
        run_dir,
        ", ".join(f"{s}.{k}" for s, k in changed),
    )
    config.save(path)
    if os.path.exists(os.path.join(run_dir, RUN_CHECKSUMS)):
        write_run_checksums(run_dir, RUN_FILES)


def load_or_train_tokenizer(
    run_dir: str, config: RunConfig, train_pairs: Sequence[tuple[str, str]]
) -> Tokenizer:
    """Reuses the run dir's tokenizer (resumption), or trains one on the training pairs."""
    path = os.path.join(run_dir, MODEL_FILENAME)
    if os.path.exists(path):
        return Tokenizer.load(path)
    texts = [s for s, _ in train_pairs] + [t for _, t in train_pairs]
    tokenizer = Tokenizer.train(texts, config.tokenizer)
    tokenizer.save(path)
    return tokenizer


def _log_callbacks(run_dir: str, epoch_tokens: int, epoch_steps: int) -> list:
    return [
        ThroughputLogger(epoch_tokens, epoch_steps),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.CSVLogger(os.path.join(run_dir, "log.csv"), append=True),
        keras.callbacks.TensorBoard(
            os.path.join(run_dir, "logs"), write_graph=False, profile_batch=0
        ),
    ]


def train(
    config: RunConfig,
    train_pairs: Sequence[tuple[str, str]],
    valid_pairs: Sequence[tuple[str, str]],
    run_dir: str,
    *,
    verbose: int | str = "auto",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    restart: bool = False,
) -> TrainResult:
    """Trains a model with `model.fit` and writes the run dir.

    Each epoch is one `fit` call on that epoch's batches (ordered by `(seed, epoch)`).
    After every epoch the model is validated; the best one by validation loss is saved
    as `model.keras`, and training stops early after `patience` epochs without
    improvement. A resume checkpoint (`backup/`) is written every `checkpoint_steps`
    batches and at every epoch end, so rerunning the same command after a crash resumes
    at the exact batch, with the same weights, optimizer and RNG state. A NaN loss stops
    training and leaves the last good checkpoint in place.

    Args:
        config: The run configuration (saved as `config.json`).
        train_pairs: `(source, target)` training pairs.
        valid_pairs: Validation pairs (for early stopping and checkpoint selection).
        run_dir: Output directory.
        verbose: Keras `fit` verbosity. "auto": progress bars when stdout is a
            terminal, else one line per epoch (Keras' `verbose=2`), for log files.
        callbacks: Extra Keras callbacks for every `fit` call; one that sets
            `model.stop_training` ends the run after the current epoch's validation.
        restart: Delete the run dir's resume checkpoints and start from epoch 0. Without
            it, a run dir whose checkpoints all fail to restore is an error, never a
            silent fresh start that would overwrite `model.keras`.

    Returns:
        A `TrainResult`; the best model is in `run_dir/model.keras`.

    Raises:
        RunDirError: if `run_dir` holds a run with another config, or resume
            checkpoints of which none can be restored (and `restart` is False).
        ValueError: on an empty training or validation set.
    """
    if not train_pairs or not valid_pairs:
        raise ValueError("training and validation sets must not be empty")
    prepare_run_dir(run_dir, config)
    # Multi-worker collectives must be configured before any other TensorFlow op.
    strategy = make_strategy(config.train.strategy)
    keras.utils.set_random_seed(config.train.seed)
    if config.train.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    tokenizer = load_or_train_tokenizer(run_dir, config, train_pairs)

    train_data = encode_pairs(train_pairs, tokenizer, config.data)
    valid_data = encode_pairs(valid_pairs, tokenizer, config.data)
    target_ids = None
    if config.model.target_vocabulary:
        # A pure function of the tokenizer and the training data, so a resumed run
        # rebuilds the same decoder.
        target_ids = target_vocabulary(train_data)
        train_data = to_target_space(train_data, target_ids)
        valid_data = to_target_space(valid_data, target_ids)
    valid_ds = make_dataset(valid_data, config.train)
    distributed = is_distributed(strategy)
    precision = resolve_precision(config.train.precision, strategy=config.train.strategy)
    logger.info("training precision: %s", precision)

    def new_model(precision):
        return build_model(
            config.model,
            tokenizer.vocab_size,
            seed=config.train.seed,
            target_ids=target_ids,
            precision=precision,
        )

    with strategy.scope():
        model = compile_model(new_model(precision), config)
        model.optimizer.build(model.trainable_variables)
    # What model.keras holds: float32 layers (translators and exports compute in
    # float32 whatever the training precision), given the trained float32 variables.
    saved = model if precision == "float32" else compile_model(new_model("float32"), config)
    if distributed:
        prepare_model(model, strategy, next(iter(valid_ds)))
        valid_ds = shard_by_data(valid_ds)
    backup_dir = os.path.join(run_dir, BACKUP_DIRNAME)
    if restart:
        shutil.rmtree(backup_dir, ignore_errors=True)
    store = CheckpointStore(backup_dir, model)
    try:
        state = store.restore() or TrainingState()
    except CheckpointError as e:
        raise RunDirError(f"{e}; rerun with --restart to start this run over") from None
    fingerprint = data_fingerprint(train_pairs)
    if state.data_sha256 is None:
        state.data_sha256 = fingerprint
    elif state.data_sha256 != fingerprint:
        raise RunDirError(
            f"{run_dir} was trained on other data (SHA-256 {state.data_sha256[:12]}..., "
            f"this data {fingerprint[:12]}...); use a new --run-dir for new data"
        )
    if state.epoch or state.batch:
        logger.warning("resuming %s at epoch %d, batch %d", run_dir, state.epoch + 1, state.batch)
    keras_path = os.path.join(run_dir, KERAS_FILENAME)
    steps_per_epoch = int(make_epoch_dataset(train_data, config.train, 0).cardinality())
    history: dict[str, list] = {}
    nan = False
    budget = config.train.time_budget_minutes * 60.0
    # Without a budget the clock only counts (metrics.json's fit_seconds).
    clock = TimeBudget(
        budget or math.inf, state, peak_learning_rate=config.train.learning_rate if budget else None
    )
    while not state.finished and state.epoch < config.train.epochs:
        if budget and state.elapsed >= budget:
            break
        epoch = state.epoch
        ds = make_epoch_dataset(train_data, config.train, epoch, skip_batches=state.batch)
        if distributed:
            ds = shard_by_data(ds)
        resume = ResumeCheckpoint(
            store, state, config.train.checkpoint_steps, start_batch=state.batch
        )
        one_epoch = _OneEpochPerFit()
        fit = model.fit(
            ds,
            validation_data=valid_ds,
            initial_epoch=epoch,
            epochs=config.train.epochs,
            callbacks=[
                *([ScalarLogs()] if distributed else []),
                *_log_callbacks(run_dir, train_data.target_tokens, steps_per_epoch),
                clock,  # before `resume`, so a checkpoint records the time spent
                resume,
                *callbacks,
                one_epoch,
            ],
            # The epoch dataset is already in its (seed, epoch) order.
            shuffle=False,
            verbose=_fit_verbosity(verbose),
        )
        if resume.nan:
            nan = True
            logger.warning(
                "loss became NaN in epoch %d; training stopped, and the last good "
                "checkpoint in %s is kept",
                epoch + 1,
                store.directory,
            )
            break
        logs = {k: scalar(v[-1]) for k, v in fit.history.items()}
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
            state.history.setdefault(key, []).append(value)
        state.epoch, state.batch = epoch + 1, 0
        if logs["val_loss"] < state.best:
            state.best, state.wait = logs["val_loss"], 0
            save_model(_with_weights_of(saved, model), keras_path)
            write_run_checksums(run_dir, RUN_FILES)
        else:
            state.wait += 1
            state.finished = state.wait >= config.train.patience
        state.finished = state.finished or one_epoch.stop_requested
        store.save(state)

    if not os.path.exists(keras_path):
        # No epoch finished with a finite validation loss (nothing was selected): keep
        # the current weights so the run can still be inspected.
        save_model(_with_weights_of(saved, model), keras_path)

    best = load_model(keras_path, compile=True)
    evaluation = best.evaluate(valid_ds, verbose=0, return_dict=True)
    metrics = {
        "valid": {k: float(v) for k, v in evaluation.items()},
        "epochs_run": state.epoch,
        "steps_per_epoch": steps_per_epoch,
        "stopped_on_nan": nan,
        "vocab_size": tokenizer.vocab_size,
        "target_vocab_size": len(target_ids) if target_ids else tokenizer.vocab_size,
        "parameters": int(best.count_params()),
        "train_pairs": len(train_data),
        "valid_pairs": len(valid_data),
        "truncated": {
            "train_sources": train_data.truncated_sources,
            "train_targets": train_data.truncated_targets,
            "valid_sources": valid_data.truncated_sources,
            "valid_targets": valid_data.truncated_targets,
        },
        "history": state.history,
        "target_tokens_per_second": state.history.get("target_tokens_per_second", []),
        "train_data_sha256": fingerprint,
        "fit_seconds": round(state.elapsed, 1),
        "precision": precision,
    }
    write_json_atomic(os.path.join(run_dir, METRICS_FILENAME), metrics)
    write_run_checksums(run_dir, RUN_FILES)
    return TrainResult(run_dir, metrics, history)
