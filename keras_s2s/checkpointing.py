# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Crash-safe training state: resume at the exact batch where a run stopped.

Keras' `BackupAndRestore` with an integer `save_freq` restarts the interrupted epoch and
repeats its batches, and it does not save the dropout RNG state (docs/design.md). A
`ResumeCheckpoint` instead saves, every `checkpoint_steps` batches and at every epoch
end, everything the rest of the run depends on:

- every model variable, including the Keras `SeedGenerator` states that drive dropout
  and scheduled sampling, and every optimizer variable (its step counter included);
- the position in the data: the epoch and the number of batches done in it. The batch
  order of an epoch is a pure function of `(seed, epoch)` (see
  `input_pipeline.make_epoch_dataset`), so skipping that many batches of the same epoch
  dataset restores the tf.data iterator exactly;
- the bookkeeping of early stopping and checkpoint selection, and the history so far.

Variables go into a `tf.train.Checkpoint` managed by a `tf.train.CheckpointManager`
(the newest two are kept); the bookkeeping goes into a JSON file beside each checkpoint.
Each variable is keyed by its path within the model (`variable_keys`), so a Keras
version that lists variables in another order still restores; checkpoints written
with the earlier positional keys (`model_0000`, ...) are still read. A checkpoint that
cannot be read (for example truncated by a crash mid-write) is skipped with a warning
in favour of the one before it; when checkpoints exist but none can be restored,
`restore` raises rather than letting the run silently start over. A batch whose loss is
NaN is never saved.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal

import keras
import numpy as np
import tensorflow as tf

logger = logging.getLogger(__name__)

STATE_SUFFIX = ".state.json"


class CheckpointError(RuntimeError):
    """Resume checkpoints exist, but none of them can be restored."""


_UNIQUIFIED = re.compile(r"^(?P<base>.+?)(?:_(?P<n>\d+))?$")


def variable_keys(model: keras.Model) -> dict[str, tf.Variable]:
    """Every model and optimizer variable, keyed by its path within the model.

    Keras names most variables by their layer path (`decoder/gru_0/gru_cell/kernel`),
    which this package fixes. Two kinds of name are unique per *process* instead:
    the optimizer's (`adam_1/...` when another Adam was made first) and the
    top-level `seed_generator_<n>` of dropout and RNN cells. The optimizer prefix is
    dropped, and seed generators are numbered by their creation order within this
    model, so the same architecture gets the same keys in every process, whatever
    order Keras lists the variables in.

    Raises:
        ValueError: if two variables would share a key.
    """
    return keys_by_path(model.variables, model.optimizer.variables)


def keys_by_path(model_variables, optimizer_variables) -> dict[str, tf.Variable]:
    """`variable_keys` over explicit variable lists (Keras variables with a `path`)."""
    found: dict[str, tf.Variable] = {}

    def add(key, variable):
        if key in found:
            raise ValueError(f"two variables map to the checkpoint key {key!r}")
        found[key] = variable.value

    generators = {}
    for v in model_variables:
        head, _, rest = v.path.partition("/")
        match = _UNIQUIFIED.match(head)
        if rest == "seed_generator_state" and match.group("base") == "seed_generator":
            generators[int(match.group("n") or 0)] = v
        else:
            add(f"model/{v.path}", v)
    for rank, number in enumerate(sorted(generators)):
        add(f"model/seed_generator#{rank}", generators[number])
    for v in optimizer_variables:
        add(f"optimizer/{v.path.partition('/')[2] or v.path}", v)
    # tf.train.Checkpoint takes attribute-like names; '/' would read as nesting.
    return {key.replace("/", "|"): value for key, value in found.items()}


def positional_keys(model: keras.Model) -> dict[str, tf.Variable]:
    """The keys of checkpoints written before `variable_keys` (by position)."""
    found = {}
    for prefix, variables in (("model", model.variables), ("optimizer", model.optimizer.variables)):
        for i, v in enumerate(variables):
            found[f"{prefix}_{i:04d}"] = v.value
    return found


class TrainingState:
    """Where a run stands: `epoch`, `batch` (batches done in that epoch) and bookkeeping.

    `elapsed` is the wall time, in seconds, spent in `fit` so far (training and
    validation, summed over resumes); a time budget is measured against it.
    `data_sha256` identifies the training data the run was started on.
    """

    def __init__(
        self,
        epoch=0,
        batch=0,
        best=math.inf,
        wait=0,
        history=None,
        finished=False,
        elapsed=0.0,
        data_sha256=None,
    ):
        self.epoch = epoch
        self.batch = batch
        self.best = best
        self.wait = wait
        self.history = history or {}
        self.finished = finished
        self.elapsed = elapsed
        self.data_sha256 = data_sha256

    def to_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "batch": self.batch,
            "best": None if math.isinf(self.best) else self.best,
            "wait": self.wait,
            "history": self.history,
            "finished": self.finished,
            "elapsed": self.elapsed,
            "data_sha256": self.data_sha256,
        }

    @classmethod
    def from_dict(cls, d: dict) -> TrainingState:
        best = d.get("best")
        return cls(
            d["epoch"],
            d["batch"],
            math.inf if best is None else best,
            d.get("wait", 0),
            d.get("history", {}),
            d.get("finished", False),
            d.get("elapsed", 0.0),
            d.get("data_sha256"),
        )


class CheckpointStore:
    """Saves and restores model + optimizer variables and a `TrainingState`.

    Args:
        directory: Where checkpoints live (created if missing).
        model: A compiled model whose optimizer is built.
        max_to_keep: Checkpoints kept; at least 2, so a damaged newest one has a spare.
    """

    def __init__(self, directory: str, model: keras.Model, max_to_keep: int = 2):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.checkpoint = tf.train.Checkpoint(**variable_keys(model))
        self._legacy = tf.train.Checkpoint(**positional_keys(model))
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, directory, max_to_keep=max(max_to_keep, 2)
        )

    def save(self, state: TrainingState) -> str:
        """Writes variables, then the state JSON beside them; returns the prefix."""
        prefix = self.manager.save()
        tmp = prefix + STATE_SUFFIX + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state.to_dict(), f)
        os.replace(tmp, prefix + STATE_SUFFIX)
        return prefix

    def restore(self) -> TrainingState | None:
        """Restores the newest readable checkpoint; None when there is none.

        A checkpoint whose files or state cannot be read is skipped with a warning.

        Raises:
            CheckpointError: if checkpoints exist but none of them can be restored.
        """
        failures = []
        for prefix in reversed(self.manager.checkpoints):
            try:
                with open(prefix + STATE_SUFFIX, encoding="utf-8") as f:
                    state = TrainingState.from_dict(json.load(f))
                self._checkpoint_for(prefix).restore(prefix).assert_existing_objects_matched()
            except Exception as e:  # a damaged file fails in many ways (IndexError, ...)
                logger.warning(
                    "checkpoint %s is unreadable (%s); trying the previous one",
                    prefix,
                    type(e).__name__,
                )
                failures.append(f"{os.path.basename(prefix)}: {type(e).__name__}")
                continue
            return state
        if failures:
            raise CheckpointError(
                f"{self.directory}: none of the {len(failures)} resume checkpoints can be "
                f"restored ({'; '.join(failures)})"
            )
        return None

    def _checkpoint_for(self, prefix: str) -> tf.train.Checkpoint:
        names = {name for name, _ in tf.train.list_variables(prefix)}
        if any(name.startswith("model_0000/") for name in names):
            return self._legacy
        return self.checkpoint


def scalar(value) -> float:
    """A log value as a float; distributed runs log metrics with a leading axis of one."""
    return float(np.asarray(value).reshape(-1)[0])


def _fault_at_step() -> int | None:
    value = os.environ.get("KERAS_S2S_FAULT", "")
    if value.startswith("train_step:"):
        return int(value.split(":", 1)[1])
    return None


class ResumeCheckpoint(keras.callbacks.Callback):
    """Saves a `CheckpointStore` every `every` batches and at each epoch end.

    Args:
        store: Where to save.
        state: The run's `TrainingState`, updated in place.
        every: Batches between checkpoints (0: epoch ends only).
        start_batch: Batches of the current epoch already done before this `fit` call.
    """

    def __init__(self, store: CheckpointStore, state: TrainingState, every: int, start_batch=0):
        super().__init__()
        self.store = store
        self.state = state
        self.every = every
        self.start_batch = start_batch
        self.fault_step = _fault_at_step()
        self.nan = False

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(scalar(loss)):
            self.nan = True  # TerminateOnNaN stops the run; this batch is never saved
            return
        self.state.batch = self.start_batch + batch + 1
        if self.every and self.state.batch % self.every == 0:
            self.store.save(self.state)
        if self.fault_step is not None:
            done = int(self.model.optimizer.iterations.numpy())
            if done == self.fault_step:
                os.kill(os.getpid(), signal.SIGKILL)
