# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Scale-out with TensorFlow's own `tf.distribute` strategies.

| `--strategy` | what runs |
|---|---|
| `none` | the default strategy (one device) |
| `mirrored` | `tf.distribute.MirroredStrategy` over the local devices |
| `multiworker` | `tf.distribute.MultiWorkerMirroredStrategy`; each worker reads `TF_CONFIG` |

Every worker runs the same command with its own `TF_CONFIG` (and its own `--run-dir`);
each global batch is split between the workers (`AutoShardPolicy.DATA`), and the loss is
normalised by the global count of non-padding tokens (see `losses.py`), so results do
not depend on the number of workers.

Keras 3.15's `model.fit` fails at start-up under `MultiWorkerMirroredStrategy`
(keras-team/keras#20585): `TensorFlowTrainer._maybe_symbolic_build` pulls one
per-replica batch and cannot reduce it ("Attempt to convert a value (PerReplica...)").
That step exists only to create the model's, the loss's, the metrics' and the
optimizer's variables before tracing. `prepare_model` creates all of them itself, from a
plain local batch inside the strategy scope, and then turns the symbolic build off for
that model. `tests/test_distribute.py` pins both halves: the private hooks still exist,
and after `prepare_model` Keras' own symbolic build would create no variable, so
skipping it changes nothing.

A second failure follows in the same Keras version: the per-replica logs are always
reduced with `strategy.reduce("MEAN", value, axis=0)` (the reduction is hard-coded to
"auto"), which rejects the scalar metric results. `prepare_model` therefore makes every
metric result global inside the replica (the package's metrics all-reduce their totals;
the loss tracker becomes a `GlobalMean`) and hands it to Keras with a leading axis of
one, so the mean over replicas of identical values is that value.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf

from keras_s2s.config import STRATEGIES, ConfigError
from keras_s2s.losses import _global_sum


def make_strategy(name: str) -> tf.distribute.Strategy:
    """Creates the strategy; call it before any other TensorFlow op in the process.

    Raises:
        ConfigError: on an unknown name, or `multiworker` without a valid `TF_CONFIG`.
    """
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        try:
            cluster = json.loads(os.environ.get("TF_CONFIG", ""))
            cluster["cluster"]["worker"], cluster["task"]["index"]  # noqa: B018
        except (ValueError, KeyError, TypeError):
            raise ConfigError(
                "--strategy multiworker needs TF_CONFIG, e.g. "
                '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                '"task": {"type": "worker", "index": 0}}'
            ) from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ConfigError(f"unknown strategy {name!r} (expected {', '.join(STRATEGIES)})")


def is_distributed(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` is a real one (not the default single-device strategy).

    Call it outside any strategy scope, where `get_strategy()` is the default one.
    """
    return strategy is not tf.distribute.get_strategy()


def shard_by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Splits every global batch between workers (rather than whole files)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def prepare_model(model, strategy: tf.distribute.Strategy, batch) -> None:
    """Builds every variable `fit` needs, then disables Keras' per-replica symbolic build.

    Args:
        model: A compiled model, created in `strategy.scope()`.
        strategy: The distribution strategy.
        batch: One local (not distributed) `(x, y)` batch, to trace shapes.
    """
    with strategy.scope():
        model._loss_tracker = GlobalMean(name="loss")
        model._symbolic_build(data_batch=batch)
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    # Instance attributes shadow the trainer methods for this model only.
    model._maybe_symbolic_build = _no_symbolic_build
    keras_results = model.get_metrics_result

    def get_metrics_result():
        results = keras_results()
        if tf.distribute.in_cross_replica_context():
            return results
        return {name: tf.reshape(value, [1]) for name, value in results.items()}

    model.get_metrics_result = get_metrics_result


class GlobalMean(keras.metrics.Mean):
    """A `Mean` whose result, read inside a replica, covers every replica."""

    def result(self):
        return tf.math.divide_no_nan(_global_sum(self.total), _global_sum(self.count))


def _no_symbolic_build(iterator=None, data_batch=None):
    return None


class ScalarLogs(keras.callbacks.Callback):
    """Turns the one-element arrays that distributed runs log back into floats.

    Put it first: later callbacks (TensorBoard among them) receive the same dict.
    """

    def _fix(self, logs):
        if logs:
            for key, value in logs.items():
                if getattr(value, "shape", ()) == (1,):
                    logs[key] = float(value[0])

    def on_train_batch_end(self, batch, logs=None):
        self._fix(logs)

    def on_test_batch_end(self, batch, logs=None):
        self._fix(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._fix(logs)

    def on_test_end(self, logs=None):
        self._fix(logs)
