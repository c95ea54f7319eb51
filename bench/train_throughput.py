# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Training throughput in target tokens per second: Keras `fit` against PyTorch.

Two measurements, one run (the machine has 2 cores; nothing runs concurrently):

1. **Keras vs PyTorch** (`keras_vs_pytorch` in the JSON). The package's training model
   (`keras_s2s.models.build_model`, compiled as `keras_s2s.training.compile_model` does:
   the masked loss of `keras_s2s.losses`, Adam with global clipnorm and the token
   metrics) trained with `model.fit`, and the same architecture written as a plain
   PyTorch module (`bench/torch_seq2seq.py`: packed GRU encoder, GRU decoder, Luong
   attention masked at source padding, masked token-normalised cross-entropy, Adam,
   `clip_grad_norm_(1.0)`) trained with a standard eager loop in a spawned worker
   process that never imports TensorFlow (PyTorch slows down in a process where
   TensorFlow has run; `--torch-in-process` shows it). Both train on the *same*
   numpy batches: one epoch of `keras_s2s.input_pipeline.make_epoch_dataset` (length
   bucketing), built once, from which `--warmup + --batches` batches are drawn at
   random (seed 0, kept in epoch order). Keras reads them through `tf.data`; PyTorch
   gets the same arrays. Each framework warms up on `--warmup` batches (tracing, first
   allocations), then the `--batches` timed batches are run `--repeats` times,
   alternating Keras, PyTorch, Keras, ... so that load changes hit both. Throughput
   counts the non-padding label tokens of the timed batches.

   The headline architecture is `bench/multi30k.py`'s ATTENTION config (SentencePiece
   8,000, embedding 256, GRU 512, Luong dot attention, batch 64, dropout 0.2, label
   smoothing 0.1); the default `RunConfig()` model (GRU 256, no attention) is compared
   too (`default_config`). Also recorded: the parameter counts of both models, a check
   that the PyTorch model given the Keras weights computes the same loss and gradient
   norm, the Keras speed-ups tried (`jit_compile`, `steps_per_execution`, no
   prefetch, no metrics, no bucketing) with their figures, and a profile: forward /
   backward / optimizer times of one batch in both frameworks, TensorFlow op self-times
   from the TF profiler, and PyTorch's from `torch.profiler`.

2. **Epochs of `keras_s2s.training.train`** with the default config (`epochs`,
   `headline` in the JSON), as before: `--epochs` epochs (the first is the warm-up),
   `target_tokens_per_second` as the project's `ThroughputLogger` logs it and
   `train_only_tokens_per_second` from a callback. `--epochs 0` skips it.

Usage (from the repository root):

    .venv/bin/python bench/train_throughput.py
    .venv/bin/python bench/train_throughput.py --data-dir ../shared/data/multi30k --limit 8000

`--data-dir` reads Multi30k de->en in place (train.{de,en}.gz, val.{de,en}.gz); the
default data is the embedded corpus (`keras_s2s.generated_corpus`), on which the vocabulary
stays far below 8,000. PyTorch is needed for part 1 (`pip install -e '.[bench]'`);
`--skip-comparison` runs part 2 alone. Writes `bench/results/train_throughput.json`
(see bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import inspect
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchutil import git_facts, report_header, time_calls  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "train_throughput.json")
TORCH_HINT = (
    "PyTorch is not installed: .venv/bin/pip install torch==2.13.0 "
    "--index-url https://download.pytorch.org/whl/cpu (or pip install -e '.[bench]'), "
    "or pass --skip-comparison"
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON output path")
    p.add_argument(
        "--data-dir",
        default=None,
        help="Multi30k dir: train.{de,en}.gz / val.{de,en}.gz (default: embedded corpus)",
    )
    p.add_argument("--threads", type=int, default=2, help="threads for both frameworks")
    p.add_argument(
        "--batch-size", type=int, default=None, help="override the headline batch size (64)"
    )
    p.add_argument("--warmup", type=int, default=8, help="warm-up batches per framework")
    p.add_argument("--batches", type=int, default=40, help="timed batches per repeat")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per framework")
    p.add_argument(
        "--variant-repeats", type=int, default=2, help="timed repeats per Keras speed-up tried"
    )
    p.add_argument(
        "--steps-per-execution", type=int, default=8, help="the steps_per_execution tried"
    )
    p.add_argument(
        "--jit-batches", type=int, default=16, help="timed batches for the jit_compile try"
    )
    p.add_argument(
        "--profile-steps", type=int, default=3, help="train steps under each profiler (0: none)"
    )
    p.add_argument(
        "--torch-in-process",
        action="store_true",
        help="diagnostic: run PyTorch in this process, next to TensorFlow",
    )
    p.add_argument(
        "--skip-in-process-check",
        action="store_true",
        help="do not time PyTorch in this process as well (the last step)",
    )
    p.add_argument(
        "--skip-comparison", action="store_true", help="no Keras vs PyTorch part (no torch)"
    )
    p.add_argument(
        "--skip-variants", action="store_true", help="compare baselines only (no speed-ups)"
    )
    p.add_argument(
        "--skip-default-config", action="store_true", help="compare the headline config only"
    )
    p.add_argument(
        "--tiny", action="store_true", help="smoke test: tiny models (units 32, vocab 300)"
    )
    p.add_argument("--epochs", type=int, default=2, help="epochs of train() (0: skip part 2)")
    p.add_argument(
        "--limit", type=int, default=None, help="part 2: use only the first N training pairs"
    )
    p.add_argument(
        "--run-dir", default=None, help="part 2: keep the run dir here (default: temporary)"
    )
    return p.parse_args(argv)


# --------------------------------------------------------------------------- data


def load_data(args):
    """Returns (description, train pairs, valid pairs)."""
    if args.data_dir:
        from keras_s2s.readers import read_pairs

        def read(split):
            de = os.path.join(args.data_dir, f"{split}.de.gz")
            en = os.path.join(args.data_dir, f"{split}.en.gz")
            return read_pairs(de, "parallel", target_path=en).pairs

        desc = f"multi30k de->en ({args.data_dir}: train.de/en, val.de/en)"
        return desc, read("train"), read("val")
    from keras_s2s.generated_corpus import generate_default_corpus

    corpus = generate_default_corpus(seed=0)
    return "embedded default corpus (seed 0): train / valid splits", corpus.train, corpus.valid


def headline_overrides(tiny: bool, batch_size: int | None = None) -> tuple[str, dict]:
    """bench/multi30k.py's ATTENTION config, as flat RunConfig overrides."""
    from multi30k import ATTENTION

    overrides = dict(ATTENTION)
    if batch_size:
        overrides["batch_size"] = batch_size
    if tiny:
        overrides.update(vocab_size=300, embedding_dim=16, units=32)
    label = "bench/multi30k.py ATTENTION"
    return label + (f", batch size {batch_size}" if batch_size else ""), overrides


def default_overrides(tiny: bool) -> tuple[str, dict]:
    overrides = dict(epochs=1)
    if tiny:
        overrides.update(vocab_size=300, embedding_dim=16, units=32)
    return "RunConfig() (the package default)", overrides


def epoch_batches(encoded, train_config) -> list[tuple]:
    """Every batch of epoch 0 as numpy `(source, decoder_input, labels)`, in order."""
    from keras_s2s.input_pipeline import make_epoch_dataset

    return [
        (x["source_ids"].numpy(), x["decoder_input_ids"].numpy(), y.numpy())
        for x, y in make_epoch_dataset(encoded, train_config, 0)
    ]


def draw_batches(batches, count: int, seed: int = 0) -> list[tuple]:
    """`count` batches drawn at random (in epoch order): a sample of a whole epoch."""
    import numpy as np

    if count >= len(batches):
        return list(batches)
    picked = np.sort(np.random.default_rng(seed).choice(len(batches), count, replace=False))
    return [batches[i] for i in picked]


def label_tokens(batches) -> int:
    return int(sum((b[2] != 0).sum() for b in batches))


def batch_stats(batches) -> dict:
    import numpy as np

    sizes = [b[0].shape[0] for b in batches]
    src_t = [b[0].shape[1] for b in batches]
    tgt_t = [b[2].shape[1] for b in batches]
    real = sum(int((b[0] != 0).sum()) + int((b[2] != 0).sum()) for b in batches)
    padded = sum(b[0].size + b[2].size for b in batches)
    return {
        "batches": len(batches),
        "label_tokens": label_tokens(batches),
        "rows_mean": round(float(np.mean(sizes)), 1),
        "source_time_mean": round(float(np.mean(src_t)), 2),
        "target_time_mean": round(float(np.mean(tgt_t)), 2),
        "target_time_max": int(max(tgt_t)),
        "padding_share": round(1.0 - real / padded, 4),
        "distinct_shapes": len({(b[0].shape, b[2].shape) for b in batches}),
    }


# --------------------------------------------------------------------------- Keras


def keras_dataset(batches, prefetch: bool = True):
    """The numpy batches as a `tf.data.Dataset` of `(inputs, labels)` for `fit`."""
    import tensorflow as tf

    spec = tf.TensorSpec([None, None], tf.int32)
    signature = ({"source_ids": spec, "decoder_input_ids": spec}, spec)

    def gen():
        for source, decoder_input, labels in batches:
            yield {"source_ids": source, "decoder_input_ids": decoder_input}, labels

    ds = tf.data.Dataset.from_generator(gen, output_signature=signature)
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(batches)))
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


def compile_keras(model, config, *, metrics=True, **compile_kwargs):
    """`keras_s2s.training.compile_model`, or the same settings with extra `compile`
    arguments (`jit_compile`, `steps_per_execution`) or without the token metrics."""
    import keras

    from keras_s2s.losses import MaskedAccuracy, MaskedSparseCategoricalCrossentropy, Perplexity
    from keras_s2s.training import compile_model

    if metrics and not compile_kwargs:
        return compile_model(model, config)
    clip = {"global_clipnorm": config.train.clipnorm} if config.train.clipnorm else {}
    model.compile(
        optimizer=keras.optimizers.Adam(config.train.learning_rate, **clip),
        loss=MaskedSparseCategoricalCrossentropy(config.train.label_smoothing),
        metrics=[MaskedAccuracy(), Perplexity()] if metrics else None,
        **compile_kwargs,
    )
    return model


class KerasRunner:
    """One compiled Keras model: warm-up once, then timed `fit` calls."""

    def __init__(
        self,
        config,
        vocab_size,
        *,
        prefetch=True,
        metrics=True,
        legacy=False,
        target_ids=None,
        **compile_kwargs,
    ):
        import keras

        from keras_s2s.input_pipeline import target_lookup
        from keras_s2s.models import build_model

        keras.utils.set_random_seed(config.train.seed)
        self.prefetch = prefetch
        self.model = build_model(
            config.model, vocab_size, seed=config.train.seed, target_ids=target_ids
        )
        # Batches arrive in joint ids; a target vocabulary renumbers them.
        self.lookup = None if target_ids is None else target_lookup(target_ids, vocab_size)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if legacy:
                self.model = compile_legacy(self.model, config)
            else:
                compile_keras(self.model, config, metrics=metrics, **compile_kwargs)
        self.compile_warnings = sorted({str(w.message) for w in caught})
        self.model.optimizer.build(self.model.trainable_variables)

    def fit(self, batches) -> tuple[float, float]:
        """Trains one pass over `batches`; returns (seconds from the first batch's start
        to the end of the pass, seconds of the whole `fit` call)."""
        import keras

        marks = {}

        class Clock(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                marks.setdefault("first", time.perf_counter())

            def on_epoch_end(self, epoch, logs=None):
                marks["end"] = time.perf_counter()

        ds = keras_dataset(self.mapped(batches), self.prefetch)
        t0 = time.perf_counter()
        self.model.fit(ds, epochs=1, verbose=0, shuffle=False, callbacks=[Clock()])
        return marks["end"] - marks["first"], time.perf_counter() - t0

    def mapped(self, batches):
        """The batches in this model's decoder ids (a target vocabulary renumbers them)."""
        if self.lookup is None:
            return batches
        return [(src, self.lookup[dec], self.lookup[lab]) for src, dec, lab in batches]

    def token_cross_entropy(self, batches) -> float:
        """Mean cross-entropy (no label smoothing) per label token over `batches`."""
        import numpy as np

        total, count = 0.0, 0
        for src, dec, lab in self.mapped(batches):
            logits = np.asarray(
                self.model({"source_ids": src, "decoder_input_ids": dec}, training=False),
                np.float64,
            )
            top = logits.max(-1, keepdims=True)
            logz = np.log(np.exp(logits - top).sum(-1)) + top[..., 0]
            picked = np.take_along_axis(logits, lab[..., None], -1)[..., 0]
            mask = lab != 0
            total += float(((logz - picked) * mask).sum())
            count += int(mask.sum())
        return total / count

    @property
    def jit_compile(self):
        return bool(self.model.jit_compile)


def compile_legacy(model, config):
    """Training as the package compiled it before the speed work (the fp32 baseline):
    a plain functional model whose train step also updates the token metrics, and label
    smoothing through a second log-softmax over the vocabulary."""
    import keras
    import tensorflow as tf

    from keras_s2s.losses import MaskedAccuracy, Perplexity

    eps = config.train.label_smoothing

    class LegacyLoss(keras.losses.Loss):
        def __init__(self):
            super().__init__(reduction="sum", name="legacy_loss")

        def call(self, y_true, y_pred):
            labels = tf.cast(y_true, tf.int32)
            mask = tf.cast(tf.not_equal(labels, 0), y_pred.dtype)
            ce = keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
            uniform = -tf.reduce_mean(tf.nn.log_softmax(y_pred, axis=-1), axis=-1)
            loss = ((1.0 - eps) * ce + eps * uniform) * mask
            return tf.reduce_sum(loss) / tf.maximum(tf.reduce_sum(mask), 1.0)

    plain = keras.Model(model.inputs, model.outputs)  # keras.Model: metrics in the step
    clip = {"global_clipnorm": config.train.clipnorm} if config.train.clipnorm else {}
    plain.compile(
        optimizer=keras.optimizers.Adam(config.train.learning_rate, **clip),
        loss=LegacyLoss(),
        metrics=[MaskedAccuracy(), Perplexity()],
    )
    return plain


def _torch_worker(conn, threads):  # the worker process's entry point (spawned)
    import torch_seq2seq

    torch_seq2seq.serve(conn, threads)


class TorchRunner:
    """The PyTorch side, by default in a worker process that never imports TensorFlow.

    A PyTorch user trains without TensorFlow in the process, and PyTorch slows down once
    TensorFlow has run in its process (see bench/README.md), so the worker is spawned
    fresh (`multiprocessing` "spawn"); it and this process take turns, never running
    at the same time. `in_process=True` runs it here instead (diagnostic).
    """

    def __init__(self, config, vocab_size, threads: int, in_process: bool = False):
        self.config = config
        self._local = self._proc = self._conn = None
        if in_process:
            import torch
            import torch_seq2seq as ts

            torch.set_num_threads(threads)
            self._local = ts
            self._trainer = ts.Trainer(config.to_dict(), vocab_size)
        else:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            self._conn, child = ctx.Pipe()
            self._proc = ctx.Process(target=_torch_worker, args=(child, threads), daemon=True)
            self._proc.start()
            child.close()
            self.call("init", config.to_dict(), vocab_size)

    def call(self, method, *args):
        if self._local is not None:
            if method == "facts":
                return self._local.runtime_facts()
            if method == "gemm":
                return self._local.gemm_seconds(*args)
            return getattr(self._trainer, method)(*args)
        self._conn.send((method, args))
        status, result = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"PyTorch worker: {method}: {result}")
        return result

    def fit(self, batches) -> tuple[float, float]:
        seconds = self.call("fit", batches)
        return seconds, seconds

    def close(self):
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
            self._proc.join(30)
            if self._proc.is_alive():
                self._proc.terminate()
            self._proc = None


def summarise(tokens: int, runs: list[float], n_batches: int) -> dict:
    rates = [tokens / s for s in runs]
    return {
        "tokens_per_second": {
            "min": round(min(rates), 1),
            "median": round(statistics.median(rates), 1),
            "max": round(max(rates), 1),
            "runs": [round(r, 1) for r in rates],
        },
        "ms_per_batch_median": round(1000 * statistics.median(runs) / n_batches, 1),
    }


def measure(runners: dict, warm, timed, repeats: int) -> dict:
    """Warms each runner up, then times `timed` `repeats` times, alternating runners."""
    out = {name: {"runs": [], "fit_calls": []} for name in runners}
    for name, runner in runners.items():
        t0 = time.perf_counter()
        runner.fit(warm)
        out[name]["warmup_seconds"] = round(time.perf_counter() - t0, 2)
    tokens = label_tokens(timed)
    for r in range(repeats):
        for name, runner in runners.items():
            seconds, call = runner.fit(timed)
            out[name]["runs"].append(seconds)
            out[name]["fit_calls"].append(call)
            log(f"  {name} repeat {r + 1}: {tokens / seconds:,.0f} tokens/s")
    result = {}
    for name, o in out.items():
        result[name] = {
            **summarise(tokens, o["runs"], len(timed)),
            "warmup_seconds": o["warmup_seconds"],
            "seconds_per_repeat": [round(s, 3) for s in o["runs"]],
            "fit_call_seconds": [round(s, 3) for s in o["fit_calls"]],
        }
    return result


# --------------------------------------------------------------------------- checks


def _gru_gates(w, axis):
    """Keras GRU gate order (z, r, h) -> PyTorch's (r, z, n) along `axis`."""
    import numpy as np

    z, r, h = np.split(w, 3, axis=axis)
    return np.concatenate([r, z, h], axis=axis)


def keras_state_for_torch(kmodel, model_config) -> dict:
    """A `build_model` model's weights as `{PyTorch parameter name: array}` for
    `bench/torch_seq2seq.py`'s `Seq2Seq` (loaded strictly: every name must match)."""
    import numpy as np

    enc, dec = kmodel.get_layer("encoder"), kmodel.get_layer("decoder")
    state = {
        "encoder.embedding.weight": enc.embedding.embeddings.numpy(),
        "decoder.embedding.weight": dec.embedding.embeddings.numpy(),
    }

    def rnn(prefix, layer, suffix):
        cell = layer.cell
        kernel, recurrent, bias = (
            cell.kernel.numpy(),
            cell.recurrent_kernel.numpy(),
            cell.bias.numpy(),
        )
        if model_config.rnn == "gru":
            kernel, recurrent = _gru_gates(kernel, 1), _gru_gates(recurrent, 1)
            b_ih, b_hh = _gru_gates(bias[0], 0), _gru_gates(bias[1], 0)
        else:  # LSTM gates (i, f, c, o) are PyTorch's (i, f, g, o); Keras has one bias
            b_ih, b_hh = bias, np.zeros_like(bias)
        state[f"{prefix}.weight_ih_{suffix}"] = kernel.T
        state[f"{prefix}.weight_hh_{suffix}"] = recurrent.T
        state[f"{prefix}.bias_ih_{suffix}"] = b_ih
        state[f"{prefix}.bias_hh_{suffix}"] = b_hh

    for i, layer in enumerate(enc.rnn_layers):
        if model_config.bidirectional:
            rnn("encoder.rnn", layer.forward_layer, f"l{i}")
            rnn("encoder.rnn", layer.backward_layer, f"l{i}_reverse")
        else:
            rnn("encoder.rnn", layer, f"l{i}")
    for i, layer in enumerate(dec.rnn_layers):
        rnn("decoder.rnn", layer, f"l{i}")
    att = dec.attention_layer
    if att is not None:
        for name in ("memory_layer", "query_layer", "score_layer"):
            if getattr(att, name, None) is not None:
                state[f"decoder.{name}.weight"] = getattr(att, name).kernel.numpy().T
        state["decoder.attention_proj.weight"] = dec.attention_projection.kernel.numpy().T
    state["decoder.logits.weight"] = dec.output_projection.kernel.numpy().T
    state["decoder.logits.bias"] = dec.output_projection.bias.numpy()
    return {k: np.ascontiguousarray(v) for k, v in state.items()}


def forward_check(config, vocab_size, batch, torch_runner) -> dict:
    """Same weights in both frameworks -> same loss, logits and gradient norm?"""
    import tensorflow as tf

    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
    from keras_s2s.models import build_model

    source, decoder_input, labels = batch
    kmodel = build_model(config.model, vocab_size, seed=config.train.seed)
    x = {"source_ids": tf.constant(source), "decoder_input_ids": tf.constant(decoder_input)}
    loss_fn = MaskedSparseCategoricalCrossentropy(config.train.label_smoothing)
    with tf.GradientTape() as tape:
        klogits = kmodel(x, training=False)
        kloss = loss_fn(tf.constant(labels), klogits)
    kgrads = tape.gradient(kloss, kmodel.trainable_variables)
    # Embedding gradients are IndexedSlices; densify so repeated ids add up first.
    kgrad_norm = float(tf.linalg.global_norm([tf.convert_to_tensor(g) for g in kgrads]))
    state = keras_state_for_torch(kmodel, config.model)
    t = torch_runner.call("forward_check", state, batch, klogits.numpy())
    return {
        "what": "Keras weights loaded into the PyTorch model (strictly, every parameter); "
        "dropout off; the first timed batch",
        "keras_loss": round(float(kloss), 6),
        "pytorch_loss": round(t["loss"], 6),
        "max_abs_logit_diff_at_real_tokens": t["max_abs_logit_diff_at_real_tokens"],
        "keras_grad_global_norm": round(kgrad_norm, 6),
        "pytorch_grad_global_norm": round(t["grad_global_norm"], 6),
    }


def parameter_counts(keras_runner, torch_runner, config) -> dict:
    keras_params = int(keras_runner.model.count_params())
    torch_counts = torch_runner.call("parameter_count")
    torch_params = torch_counts["total"]
    note = "equal" if keras_params == torch_params else "differ"
    if keras_params != torch_params and config.model.rnn == "lstm":
        note += ": PyTorch LSTMs carry two bias vectors (b_ih, b_hh), Keras one"
    return {
        "keras": keras_params,
        "pytorch": torch_params,
        "equal": keras_params == torch_params,
        "note": note,
        "keras_by_layer": {
            layer.name: int(layer.count_params())
            for layer in keras_runner.model.layers
            if layer.count_params()
        },
        "pytorch_by_module": {k: v for k, v in torch_counts.items() if k != "total"},
    }


# --------------------------------------------------------------------------- profile


def phase_times(keras_runner, torch_runner, batch, iters: int) -> dict:
    """ms per call on one batch: forward + loss, forward + backward, and the full step."""
    import tensorflow as tf

    model = keras_runner.model
    x = {"source_ids": tf.constant(batch[0]), "decoder_input_ids": tf.constant(batch[1])}
    y = tf.constant(batch[2])
    loss_fn = model.loss

    @tf.function(reduce_retracing=True)
    def k_forward(x, y):
        return loss_fn(y, model(x, training=True))

    @tf.function(reduce_retracing=True)
    def k_forward_backward(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        return tape.gradient(loss, model.trainable_variables)

    k_fwd = time_calls(lambda: k_forward(x, y).numpy(), iters)
    k_fb = time_calls(lambda: k_forward_backward(x, y), iters)  # returns when computed
    k_step = keras_runner.fit([batch] * iters)[0] / iters  # traced already (same spec)
    t = torch_runner.call("phases", batch, iters)

    def row(fwd, fb, step):
        return {
            "forward_ms": round(1000 * fwd, 1),
            "backward_ms": round(1000 * (fb - fwd), 1),
            "optimizer_and_rest_ms": round(1000 * (step - fb), 1),
            "step_ms": round(1000 * step, 1),
        }

    return {
        "batch": {
            "rows": int(batch[0].shape[0]),
            "source_time": int(batch[0].shape[1]),
            "target_time": int(batch[2].shape[1]),
            "label_tokens": int((batch[2] != 0).sum()),
        },
        "iterations": iters,
        "keras": {
            **row(k_fwd, k_fb, k_step),
            "how": "tf.function(model(x, training=True) + loss), the same with "
            "GradientTape.gradient, and fit() steps for the full step",
        },
        "pytorch": {
            **row(t["forward"], t["forward_backward"], t["step"]),
            "how": "eager forward + loss, + backward, and train_step (clip + Adam)",
        },
    }


def rnn_layer_times(keras_runner, torch_runner, batch, iters: int) -> dict | None:
    """ms per call of the encoder and decoder RNN layers alone, forward and forward +
    backward (loss = sum of outputs and final state), in both frameworks: how much of
    each step the recurrences take. Single-layer unidirectional GRU models only."""
    import tensorflow as tf

    c = torch_runner.config.model
    if c.encoder_layers != 1 or c.bidirectional or c.rnn != "gru":
        return None
    enc = keras_runner.model.get_layer("encoder")
    dec = keras_runner.model.get_layer("decoder")
    src, tgt_in = tf.constant(batch[0]), tf.constant(batch[1])
    mask = tf.not_equal(src, 0)
    x_enc, x_dec = enc.embedding(src), dec.embedding(tgt_in)
    h0 = tf.random.normal([batch[0].shape[0], c.units], stddev=0.1)

    def k_fns(layer, with_mask):
        def run(x, h, m):
            kwargs = {"mask": m} if with_mask else {"initial_state": [h]}
            out, state = layer(x, training=True, **kwargs)
            return tf.reduce_sum(out) + tf.reduce_sum(state)

        @tf.function(reduce_retracing=True)
        def fwd(x, h, m):
            return run(x, h, m)

        @tf.function(reduce_retracing=True)
        def fwd_bwd(x, h, m):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = run(x, h, m)
            return tape.gradient(loss, [x, *layer.trainable_variables])

        return fwd, fwd_bwd

    result = {}
    t = torch_runner.call("rnn_times", batch, iters)
    for name, layer, masked, x in (
        ("encoder_rnn", enc.rnn_layers[0], True, x_enc),
        ("decoder_rnn", dec.rnn_layers[0], False, x_dec),
    ):
        f, fb = k_fns(layer, masked)
        result[name] = {
            "keras_forward_ms": round(1000 * time_calls(lambda f=f, x=x: f(x, h0, mask), iters), 1),
            "keras_forward_backward_ms": round(
                1000 * time_calls(lambda f=fb, x=x: f(x, h0, mask), iters), 1
            ),
            "pytorch_forward_ms": round(1000 * t[name]["forward"], 1),
            "pytorch_forward_backward_ms": round(1000 * t[name]["forward_backward"], 1),
        }
    result["how"] = (
        "each model's own RNN layers alone on this batch's shape (Keras: its embeddings, "
        "masked encoder; PyTorch: random inputs, packed encoder); decoder from a random "
        "initial state; loss = sum(outputs) + sum(state)"
    )
    return result


def gemm_rates(config, vocab_size, batch, torch_runner, iters: int = 20) -> dict:
    """GFLOP/s of the model's main matrix products alone, TF (oneDNN `_MklMatMul`)
    against PyTorch (`aten::mm`), at this batch's sizes: kernel speed, no framework."""
    import numpy as np
    import tensorflow as tf

    rows, tokens = int(batch[0].shape[0]), int(batch[2].size)
    c = config.model
    shapes = {
        "output projection [tokens, units] x [units, vocab]": (tokens, c.units, vocab_size),
        "GRU recurrent step [batch, units] x [units, 3 units]": (rows, c.units, 3 * c.units),
        "GRU input step [batch, emb] x [emb, 3 units]": (rows, c.embedding_dim, 3 * c.units),
    }
    matmul = tf.function(tf.linalg.matmul)
    torch_s = torch_runner.call("gemm", shapes, iters)
    out = {}
    rng = np.random.default_rng(0)
    for name, (m, k, n) in shapes.items():
        ta = tf.constant(rng.standard_normal((m, k), dtype=np.float32))
        tb = tf.constant(rng.standard_normal((k, n), dtype=np.float32))
        flops = 2.0 * m * k * n
        tf_s = time_calls(lambda ta=ta, tb=tb: matmul(ta, tb), iters, warm=3)
        ha, hb = tf.cast(ta, tf.bfloat16), tf.cast(tb, tf.bfloat16)
        bf16_s = time_calls(lambda ha=ha, hb=hb: matmul(ha, hb), iters, warm=3)
        out[name] = {
            "shape_mkn": [m, k, n],
            "tensorflow_gflops": round(flops / tf_s / 1e9, 1),
            "tensorflow_bf16_gflops": round(flops / bf16_s / 1e9, 1),
            "pytorch_gflops": round(flops / torch_s[name] / 1e9, 1),
        }
    out["how"] = (
        f"mean of {iters} calls of tf.function(tf.linalg.matmul) and torch.mm on random "
        "float32 matrices, and of the TF matmul on the same matrices cast to bfloat16 "
        "(the TF figures include one function-call overhead per product)"
    )
    out["cpu_bf16_flags"] = cpu_bf16_flags()
    return out


def cpu_bf16_flags() -> list[str]:
    """The CPU's bfloat16 instruction flags (/proc/cpuinfo): none means bf16 is emulated."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = next(
                (line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []
            )
    except OSError:
        return []
    return sorted(f for f in flags if "bf16" in f)


_OP_TYPE = None


def _op_type(name: str) -> str | None:
    """`scope/op_name:OpType` (a TF executor op event) -> `OpType`, else None."""
    import re

    global _OP_TYPE
    if _OP_TYPE is None:
        _OP_TYPE = re.compile(r"^_?[A-Z][A-Za-z0-9]*$")
    if ":" not in name or "::" in name:
        return None
    op_type = name.rsplit(":", 1)[1]
    return op_type if _OP_TYPE.match(op_type) else None


def _region(name: str, op_type: str) -> str:
    """A coarse region of the train step, from a TF op's name scope."""
    path = name.rsplit(":", 1)[0].lower()
    if "dataset" in op_type.lower() or op_type == "PyFunc" or op_type.startswith("Iterator"):
        return "input pipeline"
    if "/adam/" in path or "assignvariableop" in path or "assignaddvariableop" in path:
        return "optimizer"
    direction = "backward" if "gradient_tape/" in path else "forward"
    if "/encoder" in path:
        region = "encoder"
    elif "/decoder" in path and ("/gru_" in path or "/lstm_" in path):
        region = "decoder RNN"
    elif "/decoder" in path:
        region = "decoder attention+output"
    elif "compile_loss" in path:
        region = "loss"
    else:
        region = "other (metrics, clipping, unscoped)"
    return f"{region} {direction}"


def tf_op_profile(keras_runner, batch, steps: int) -> dict:
    """Where a Keras train step spends its time, from the TF profiler (XPlane).

    Counts, on every host thread, the self time of each executor op event
    (`scope/name:OpType`) and of `ExecutorState::Process` (the executor's own work
    between ops), grouped by op type and by region of the model (name scope).
    """
    import glob

    import tensorflow as tf

    try:
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    except ImportError as e:  # pragma: no cover
        return {"error": f"xplane_pb2 unavailable: {e}"}
    logdir = tempfile.mkdtemp(prefix="tfprof-")
    try:
        tf.profiler.experimental.start(logdir)
        t0 = time.perf_counter()
        keras_runner.fit([batch] * steps)
        wall = time.perf_counter() - t0
        tf.profiler.experimental.stop()
        paths = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
        if not paths:
            return {"error": "no xplane.pb written"}
        space = xplane_pb2.XSpace()
        with open(paths[0], "rb") as f:
            space.ParseFromString(f.read())
    finally:
        shutil.rmtree(logdir, ignore_errors=True)

    by_type, by_region, counts = {}, {}, {}
    executor_ps = step_ps = 0
    n_ops = 0
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        names = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            events = sorted(
                ((e.offset_ps, e.duration_ps, names.get(e.metadata_id, "")) for e in line.events),
                key=lambda e: (e[0], -e[1]),
            )
            stack, selfs = [], []  # self time: duration minus the events nested in it
            for start, dur, name in events:
                while stack and stack[-1][0] + stack[-1][1] <= start:
                    stack.pop()
                if stack:
                    selfs[stack[-1][2]][1] -= dur
                selfs.append([name, dur])
                stack.append((start, dur, len(selfs) - 1))
            for (name, self_ps), (_, dur, _) in zip(selfs, events, strict=True):
                if name == "multi_step_on_iterator":
                    step_ps += dur
                if name == "ExecutorState::Process":
                    executor_ps += self_ps
                    continue
                op_type = _op_type(name)
                if op_type is None:
                    continue
                n_ops += 1
                by_type[op_type] = by_type.get(op_type, 0) + self_ps
                counts[op_type] = counts.get(op_type, 0) + 1
                region = _region(name, op_type)
                by_region[region] = by_region.get(region, 0) + self_ps

    def ms(ps):
        return round(ps / 1e9 / steps, 2)

    op_ps = sum(by_type.values())
    top = sorted(by_type.items(), key=lambda kv: -kv[1])[:15]
    return {
        "steps": steps,
        "wall_ms_per_step_under_profiler": round(1000 * wall / steps, 1),
        "train_function_ms_per_step": ms(step_ps),
        "op_self_ms_per_step": ms(op_ps),
        "executor_self_ms_per_step": ms(executor_ps),
        "op_executions_per_step": round(n_ops / steps),
        "mean_us_per_op": round(op_ps / 1e6 / max(n_ops, 1), 1),
        "note": "self times summed over threads (TF runs independent ops on 2 inter-op "
        "threads, so the sum can exceed the wall time); executor = ExecutorState::Process "
        "self time, the scheduling work between kernels",
        "top_op_types": {k: {"ms": ms(v), "count": round(counts[k] / steps)} for k, v in top},
        "regions_ms": {k: ms(v) for k, v in sorted(by_region.items(), key=lambda kv: -kv[1])},
    }


# --------------------------------------------------------------------------- part 1


def prepare_config(name, overrides, train_pairs, n_draw, valid_pairs=()):
    """RunConfig, tokenizer (trained on the training pairs), the drawn batches, the
    training targets' vocabulary and the validation batches."""
    from keras_s2s.config import RunConfig
    from keras_s2s.input_pipeline import encode_pairs, make_dataset, target_vocabulary
    from keras_s2s.tokenizer import Tokenizer

    config = RunConfig().override(**overrides)
    t0 = time.perf_counter()
    texts = [s for s, _ in train_pairs] + [t for _, t in train_pairs]
    tokenizer = Tokenizer.train(texts, config.tokenizer)
    encoded = encode_pairs(train_pairs, tokenizer, config.data)
    bucketed = epoch_batches(encoded, config.train)
    unbucketed = epoch_batches(encoded, dataclasses.replace(config.train, bucket_width=0))
    log(
        f"{name}: vocab {tokenizer.vocab_size}, {len(bucketed)} bucketed / "
        f"{len(unbucketed)} unbucketed batches per epoch "
        f"({time.perf_counter() - t0:.0f} s to tokenize and batch)"
    )
    return {
        "config": config,
        "vocab_size": tokenizer.vocab_size,
        "epoch_batches": {"bucketed": len(bucketed), "unbucketed": len(unbucketed)},
        "epoch_label_tokens": encoded.target_tokens,
        "distinct_shapes": {
            "bucketed": len({(b[0].shape, b[2].shape) for b in bucketed}),
            "unbucketed": len({(b[0].shape, b[2].shape) for b in unbucketed}),
        },
        "bucketed": draw_batches(bucketed, n_draw),
        "unbucketed": draw_batches(unbucketed, n_draw),
        "target_ids": target_vocabulary(encoded),
        "valid": [
            (x["source_ids"].numpy(), x["decoder_input_ids"].numpy(), y.numpy())
            for x, y in make_dataset(
                encode_pairs(valid_pairs, tokenizer, config.data), config.train
            )
        ]
        if valid_pairs
        else [],
    }


def compare_config(prep, args, *, variants: bool, profile: bool) -> dict:
    config, vocab = prep["config"], prep["vocab_size"]
    w = args.warmup
    warm, timed = prep["bucketed"][:w], prep["bucketed"][w:]
    tokens = label_tokens(timed)

    keras_base = KerasRunner(config, vocab)
    torch_base = TorchRunner(config, vocab, args.threads, args.torch_in_process)
    log(f"baseline: {len(timed)} timed batches x {args.repeats}, {tokens} label tokens each")
    base = measure({"keras": keras_base, "pytorch": torch_base}, warm, timed, args.repeats)
    k_med = base["keras"]["tokens_per_second"]["median"]
    t_med = base["pytorch"]["tokens_per_second"]["median"]
    per_repeat = [
        round(t_p / t_k, 3)  # seconds ratio inverted: tokens/s Keras over PyTorch
        for t_k, t_p in zip(
            base["keras"]["seconds_per_repeat"], base["pytorch"]["seconds_per_repeat"], strict=True
        )
    ]
    result = {
        "run_config": config.to_dict(),
        "vocab_size": vocab,
        "parameters": parameter_counts(keras_base, torch_base, config),
        "batching": {
            "batch_size": config.train.batch_size,
            "bucket_width": config.train.bucket_width,
            "epoch_batches": prep["epoch_batches"],
            "epoch_label_tokens": prep["epoch_label_tokens"],
            "distinct_shapes_per_epoch": prep["distinct_shapes"],
            "drawn": "warmup + timed batches drawn at random (seed 0) from epoch 0 of "
            "keras_s2s.input_pipeline.make_epoch_dataset, kept in epoch order",
            "warmup": batch_stats(warm),
            "timed": batch_stats(timed),
        },
        "keras": {
            **base["keras"],
            "jit_compile": keras_base.jit_compile,
            "compile_warnings": keras_base.compile_warnings,
            "feed": "tf.data.Dataset.from_generator over the numpy batches, prefetch(AUTOTUNE)",
        },
        "pytorch": {
            **base["pytorch"],
            "loop": "eager; to_torch, train_step per batch",
            "process": "this process (--torch-in-process)"
            if args.torch_in_process
            else "a spawned worker process without TensorFlow",
            "runtime": torch_base.call("facts"),
        },
        "ratio_keras_over_pytorch": {
            "of_medians": round(k_med / t_med, 3),
            "of_mins": round(
                base["keras"]["tokens_per_second"]["min"]
                / base["pytorch"]["tokens_per_second"]["min"],
                3,
            ),
            "per_repeat": per_repeat,
            "median_of_per_repeat": round(statistics.median(per_repeat), 3),
        },
    }
    log("forward check (copied weights)")
    result["forward_check"] = forward_check(config, vocab, timed[0], torch_base)

    if profile and args.profile_steps:
        # The timed batch with the median label-token count stands for a typical step.
        typical = sorted(timed, key=lambda b: int((b[2] != 0).sum()))[len(timed) // 2]
        log("profile: phase times")
        result["profile"] = {
            "phases": phase_times(keras_base, torch_base, typical, iters=8),
            "rnn_layers": rnn_layer_times(keras_base, torch_base, typical, iters=8),
            "gemm": gemm_rates(config, vocab, typical, torch_base),
        }
        log("profile: TF profiler")
        result["profile"]["tensorflow_ops"] = tf_op_profile(keras_base, typical, args.profile_steps)
        log("profile: torch.profiler")
        result["profile"]["pytorch_ops"] = torch_base.call(
            "op_profile", typical, args.profile_steps
        )
    torch_base.close()

    if variants:
        result["keras_speedups_tried"] = try_variants(prep, args, base, keras_base, warm, timed)
    return result


def try_variants(prep, args, base, keras_base, warm, timed) -> list[dict]:
    config, vocab = prep["config"], prep["vocab_size"]
    base_median = base["keras"]["tokens_per_second"]["median"]
    reps = args.variant_repeats
    spe = args.steps_per_execution
    tried = []

    def record(name, setting, figures, note="", baseline=base_median, **extra):
        entry = {
            "name": name,
            "setting": setting,
            **figures,
            "keras_baseline_median": baseline,
            "speedup_vs_baseline": round(figures["tokens_per_second"]["median"] / baseline, 3),
            **extra,
        }
        if note:
            entry["note"] = note
        tried.append(entry)
        log(f"  {name}: x{entry['speedup_vs_baseline']} of the baseline")

    def keras_only(name, setting, runner, note="", **extra):
        log(f"variant {name}")
        fig = measure({"keras": runner}, warm, timed, reps)["keras"]
        record(name, setting, fig, note, **extra)
        return fig

    # 1. jit_compile=True through compile(); record what Keras made of it. XLA compiles
    # once per input shape, and bucketed batches have many (source, target) length
    # pairs, so this runs on the first --jit-batches timed batches: a warm-up pass over
    # them (all the compiles), then repeats alternating with the baseline model.
    runner = KerasRunner(config, vocab, jit_compile=True)
    resolved = runner.jit_compile
    setting = "model.compile(jit_compile=True)"
    if not resolved:
        runner.model._jit_compile = True  # bypass Keras' refusal, to see what XLA does
        setting += (
            ", refused by Keras (see compile_warnings), then forced: model._jit_compile = True"
        )
    subset = timed[: args.jit_batches]
    log(f"variant jit_compile ({len(subset)} batches, compiled during warm-up)")
    both = measure({"keras": keras_base, "keras_jit": runner}, subset, subset, reps)
    record(
        "jit_compile",
        setting,
        both["keras_jit"],
        "XLA compiles the train step once per new (source, target) batch shape; "
        "warmup_seconds is the pass over these batches that compiled them all; the "
        "baseline was re-timed on the same batches (keras_baseline_median)",
        baseline=both["keras"]["tokens_per_second"]["median"],
        jit_compile_after_compile=resolved,
        compile_warnings=runner.compile_warnings,
        batches=batch_stats(subset),
        distinct_shapes_per_epoch=prep["distinct_shapes"],
    )
    del runner

    # 2. steps_per_execution.
    if len(warm) % spe or len(timed) % spe:
        log(f"  steps_per_execution {spe}: warmup/batches not multiples of it; skipped")
    else:
        keras_only(
            "steps_per_execution",
            f"model.compile(steps_per_execution={spe})",
            KerasRunner(config, vocab, steps_per_execution=spe),
        )

    # 3. tf.data prefetch off (the baseline prefetches, as keras_s2s.input_pipeline does).
    keras_only(
        "no_prefetch",
        "the same tf.data feed without prefetch (the baseline prefetches AUTOTUNE)",
        KerasRunner(config, vocab, prefetch=False),
    )

    # 4. No token metrics: what MaskedAccuracy + Perplexity cost per step.
    keras_only(
        "no_metrics",
        "compile without MaskedAccuracy/Perplexity (loss only, like the PyTorch loop)",
        KerasRunner(config, vocab, metrics=False),
    )

    # 5. Bucketing off, both frameworks (pads each batch to its longest sentence).
    uwarm, utimed = prep["unbucketed"][: args.warmup], prep["unbucketed"][args.warmup :]
    log("variant no_bucketing (both frameworks)")
    torch_runner = TorchRunner(config, vocab, args.threads, args.torch_in_process)
    both = measure(
        {"keras": KerasRunner(config, vocab), "pytorch": torch_runner}, uwarm, utimed, reps
    )
    torch_runner.close()
    record(
        "no_bucketing",
        "bucket_width=0 (padded_batch in shuffled order); other batches, so compare "
        "with each other, not with the bucketed ones token for token",
        both["keras"],
        batches=batch_stats(utimed),
        pytorch=both["pytorch"],
        ratio_keras_over_pytorch_of_medians=round(
            both["keras"]["tokens_per_second"]["median"]
            / both["pytorch"]["tokens_per_second"]["median"],
            3,
        ),
    )
    return tried


def default_vs_fp32_baseline(prep, args) -> dict:
    """The package's training against the training before the speed work, side by side.

    Both start from the same weights and train on the same batches, taking turns per
    repeat: `default` is `compile_model(build_model(...))` for the recipe's config (a
    target vocabulary if the recipe asks for one), `fp32_baseline` is `compile_legacy`
    on the full joint vocabulary. Afterwards both are scored on the validation batches
    (cross-entropy per token, without label smoothing, whose value depends on the
    vocabulary size).
    """
    config, vocab = prep["config"], prep["vocab_size"]
    target_ids = prep["target_ids"] if config.model.target_vocabulary else None
    w = args.warmup
    warm, timed = prep["bucketed"][:w], prep["bucketed"][w:]
    runners = {
        "fp32_baseline": KerasRunner(config, vocab, legacy=True),
        "default": KerasRunner(config, vocab, target_ids=target_ids),
    }
    log(f"default vs fp32 baseline: {len(timed)} timed batches x {args.repeats}")
    figures = measure(runners, warm, timed, args.repeats)
    per_repeat = [
        round(b / d, 3)
        for b, d in zip(
            figures["fp32_baseline"]["seconds_per_repeat"],
            figures["default"]["seconds_per_repeat"],
            strict=True,
        )
    ]
    updates = len(warm) + len(timed) * args.repeats
    valid_ce = {name: round(r.token_cross_entropy(prep["valid"]), 4) for name, r in runners.items()}
    ratio = (
        figures["default"]["tokens_per_second"]["median"]
        / figures["fp32_baseline"]["tokens_per_second"]["median"]
    )
    return {
        "default": {
            **figures["default"],
            "setting": "keras_s2s.training.compile_model(build_model(...)): loss-only train "
            "step, one fused cross-entropy"
            + (f", target vocabulary of {len(target_ids)} pieces" if target_ids else ""),
        },
        "fp32_baseline": {
            **figures["fp32_baseline"],
            "setting": "compile_legacy: metrics in the train step, label smoothing through "
            f"a second log-softmax, joint vocabulary of {vocab}",
        },
        "default_over_fp32_baseline": round(ratio, 3),
        "per_repeat_ratios": per_repeat,
        "updates_each": updates,
        "valid_token_cross_entropy": valid_ce,
        # Signed: a target vocabulary starts lower (ln 3,956 vs ln 8,000 at init), so the
        # gate is that the default is not worse than the baseline by more than 0.02.
        "valid_cross_entropy_default_minus_baseline": round(
            valid_ce["default"] - valid_ce["fp32_baseline"], 4
        ),
    }


def run_comparison(args, train_pairs, valid_pairs=()) -> dict:
    n_draw = args.warmup + args.batches
    label, overrides = headline_overrides(args.tiny, args.batch_size)
    prep = prepare_config("headline", overrides, train_pairs, n_draw, valid_pairs)
    log("=== default training vs the fp32 baseline ===")
    speed_gate = default_vs_fp32_baseline(prep, args)
    log("=== headline config ===")
    headline = compare_config(prep, args, variants=not args.skip_variants, profile=True)
    headline["config_source"] = label
    default = None
    if not args.skip_default_config:
        label_d, overrides_d = default_overrides(args.tiny)
        prep_d = prepare_config("default", overrides_d, train_pairs, n_draw)
        log("=== default config ===")
        default = compare_config(prep_d, args, variants=False, profile=False)
        default["config_source"] = label_d
    return {"headline": headline, "default_config": default, "prep": prep, "speed": speed_gate}


def in_process_check(prep, args) -> dict:
    """PyTorch in a worker process vs in this one (where TensorFlow has run), taking
    turns on the headline batches: why the comparison uses a worker."""
    config, vocab = prep["config"], prep["vocab_size"]
    warm, timed = prep["bucketed"][: args.warmup], prep["bucketed"][args.warmup :]
    worker = TorchRunner(config, vocab, args.threads)
    local = TorchRunner(config, vocab, args.threads, in_process=True)
    figures = measure(
        {"pytorch_worker": worker, "pytorch_in_process": local}, warm, timed, args.variant_repeats
    )
    worker.close()
    ratio = (
        figures["pytorch_in_process"]["tokens_per_second"]["median"]
        / figures["pytorch_worker"]["tokens_per_second"]["median"]
    )
    return {
        "what": "the headline PyTorch model and batches, fresh weights, run after all the "
        "Keras work: in a worker process without TensorFlow, and in this process, "
        "alternating",
        **figures,
        "in_process_over_worker": round(ratio, 3),
    }


# --------------------------------------------------------------------------- part 2


def make_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Per epoch: seconds to the last training batch, and on to epoch end."""

        def __init__(self):
            super().__init__()
            self.epochs: list[dict] = []
            self._start = self._last_batch = 0.0
            self._batches = 0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = self._last_batch = time.perf_counter()
            self._batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self._last_batch = time.perf_counter()
            self._batches += 1

        def on_epoch_end(self, epoch, logs=None):
            end = time.perf_counter()
            self.epochs.append(
                {
                    "epoch": epoch + 1,
                    "train_batches": self._batches,
                    "train_seconds": round(self._last_batch - self._start, 3),
                    "validation_seconds": round(end - self._last_batch, 3),
                }
            )

    return EpochTimer()


def target_tokens(run_dir, config, train_pairs) -> int:
    """Label tokens per epoch, computed as `train` does (same tokenizer and limits)."""
    from keras_s2s.input_pipeline import encode_pairs
    from keras_s2s.tokenizer import Tokenizer

    return encode_pairs(train_pairs, Tokenizer.load(run_dir), config.data).target_tokens


def run_epochs(args, desc, train_pairs, valid_pairs) -> dict:
    import keras_s2s.training as training
    from keras_s2s.config import RunConfig

    config = RunConfig().override(epochs=args.epochs)
    if args.limit:
        train_pairs = train_pairs[: args.limit]
        desc += f", first {args.limit} training pairs"
    timer = None
    extra = {}
    if "callbacks" in inspect.signature(training.train).parameters:
        timer = make_timer()
        extra["callbacks"] = [timer]

    run_dir = args.run_dir or tempfile.mkdtemp(prefix="train-throughput-")
    try:
        t0 = time.perf_counter()
        result = training.train(config, train_pairs, valid_pairs, run_dir, verbose=2, **extra)
        train_call_seconds = time.perf_counter() - t0
        tokens = target_tokens(run_dir, config, train_pairs)
    finally:
        if not args.run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)

    metrics = result.metrics
    logged = [round(float(x), 1) for x in metrics.get("target_tokens_per_second", [])]
    if timer is not None:
        per_epoch = timer.epochs
        for entry in per_epoch:
            entry["train_only_tokens_per_second"] = round(
                tokens / max(entry["train_seconds"], 1e-9), 1
            )
    else:
        per_epoch = [{"epoch": i + 1} for i in range(len(logged))]
    for entry, value in zip(per_epoch, logged, strict=False):
        entry["target_tokens_per_second"] = value
    last = per_epoch[-1] if per_epoch else {}
    return {
        "data": {
            "source": desc,
            "train_pairs": metrics.get("train_pairs"),
            "valid_pairs": metrics.get("valid_pairs"),
            "target_tokens_per_epoch": tokens,
            "truncated": metrics.get("truncated"),
        },
        "config": config.to_dict(),
        "parameters": metrics.get("parameters"),
        "vocab_size": metrics.get("vocab_size"),
        "epochs": per_epoch,
        "headline": {
            "epoch": last.get("epoch"),
            "target_tokens_per_second": last.get("target_tokens_per_second"),
            "train_only_tokens_per_second": last.get("train_only_tokens_per_second"),
        },
        "definitions": {
            "target_tokens_per_second": (
                "keras_s2s ThroughputLogger: label tokens of the epoch / training time of "
                "the epoch (the logger stops its clock when validation starts)"
            ),
            "train_only_tokens_per_second": (
                "same tokens / (epoch begin to the last on_train_batch_end); no validation"
            ),
        },
        "valid_metrics_after_training": metrics.get("valid"),
        "train_call_seconds": round(train_call_seconds, 1),
    }


# --------------------------------------------------------------------------- main


def set_threads(n: int) -> dict:
    """TensorFlow's thread pools; must run before TensorFlow does any work. (PyTorch
    sets its own, `torch.set_num_threads(n)`, where it runs.)"""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)
    return {
        "tensorflow_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "tensorflow_inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        "torch_num_threads": n,
    }


def headline_summary(part: dict) -> dict:
    """The top of `keras_vs_pytorch`: tokens/s of both, the ratio, params, speed-ups."""
    tried = [
        {
            "name": t["name"],
            "setting": t["setting"],
            "tokens_per_second_median": t["tokens_per_second"]["median"],
            "speedup_vs_baseline": t["speedup_vs_baseline"],
        }
        for t in part.get("keras_speedups_tried", [])
    ]
    # Repeats of one setting spread by ~5%, and only jit_compile alternates with the
    # baseline (the others follow it), so a smaller gain is not told from noise.
    helped = [t["name"] for t in tried if t["speedup_vs_baseline"] >= 1.10]
    return {
        "config": part["config_source"],
        "keras_tokens_per_second": {
            k: part["keras"]["tokens_per_second"][k] for k in ("min", "median")
        },
        "pytorch_tokens_per_second": {
            k: part["pytorch"]["tokens_per_second"][k] for k in ("min", "median")
        },
        "ratio_keras_over_pytorch": part["ratio_keras_over_pytorch"]["of_medians"],
        "parameters": {k: part["parameters"][k] for k in ("keras", "pytorch", "equal")},
        "batch_size": part["batching"]["batch_size"],
        "bucket_width": part["batching"]["bucket_width"],
        "keras_speedups_tried": tried,
        "keras_speedups_that_helped": helped or "none by 10% or more",
        "keras_speedups_note": "helped = speedup_vs_baseline >= 1.10: repeats of one setting "
        "spread by ~5%, and only jit_compile alternates with (and re-times) the baseline; "
        "the other variants are compared with the baseline median timed before them",
    }


def main(argv=None):
    args = parse_args(argv)
    if not args.skip_comparison and importlib.util.find_spec("torch") is None:
        sys.exit(f"train_throughput.py: {TORCH_HINT}")
    git = git_facts()  # at start: the package is imported now
    threads = set_threads(args.threads)
    started = time.perf_counter()
    load_start = os.getloadavg()
    desc, train_pairs, valid_pairs = load_data(args)

    report = {
        **report_header("train_throughput", git, load_start),
        "note": (
            "Shared 2-core machine; other work may have been running (see the load "
            "average), so figures are noisy. Keras ran in this process and PyTorch in a "
            "worker process without TensorFlow (unless --torch-in-process), taking turns "
            "per repeat, never at the same time."
        ),
    }
    if not args.skip_comparison:
        log(f"data: {desc}, {len(train_pairs)} training pairs")
        part = run_comparison(args, train_pairs, valid_pairs)
        report["default_vs_fp32_baseline"] = part["speed"]
        report["default_over_fp32_baseline"] = part["speed"]["default_over_fp32_baseline"]
        runtime = part["headline"]["pytorch"]["runtime"]
        report["machine"]["versions"]["torch"] = runtime["torch_version"]
        report["keras_vs_pytorch"] = {
            **headline_summary(part["headline"]),
            "data": desc,
            "train_pairs": len(train_pairs),
            "threads": threads,
            "warmup_batches": args.warmup,
            "timed_batches": args.batches,
            "repeats": args.repeats,
            "variant_repeats": args.variant_repeats,
            "tokens": "non-padding label tokens (everything after sos, eos included)",
            "timing": (
                "Keras: from on_train_batch_begin of the first batch to on_epoch_end of "
                "a fit() over the timed batches; PyTorch: the loop over the same batches, "
                "timed inside its worker process"
            ),
            "tiny_smoke_test": args.tiny,
            "headline": part["headline"],
            "default_config": part["default_config"],
        }
    if args.epochs > 0:
        log("=== train() epochs, default config ===")
        report.update(run_epochs(args, desc, train_pairs, valid_pairs))
    if not args.skip_comparison and not args.torch_in_process and not args.skip_in_process_check:
        # Last: it imports torch into this process.
        log("=== PyTorch in a worker vs in this process ===")
        report["keras_vs_pytorch"]["pytorch_in_process_check"] = in_process_check(
            part["prep"], args
        )
    report["load_average_1_5_15"]["end"] = list(os.getloadavg())
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print_summary(report)
    print(f"wrote {args.out} ({report['total_seconds']:.0f} s)")


def print_summary(report):
    kv = report.get("keras_vs_pytorch")
    if kv:
        h = kv["headline"]
        print(f"\nKeras vs PyTorch ({kv['config']}), target tokens/s, min / median:")
        print(
            f"  parameters: Keras {h['parameters']['keras']:,}, PyTorch {h['parameters']['pytorch']:,}"
        )
        for fw in ("keras", "pytorch"):
            t = h[fw]["tokens_per_second"]
            print(f"  {fw:8} {t['min']:>9,.0f} / {t['median']:>9,.0f}")
        print(f"  ratio Keras/PyTorch (medians): {kv['ratio_keras_over_pytorch']}")
        for t in kv["keras_speedups_tried"]:
            print(
                f"  tried {t['name']:20} {t['tokens_per_second_median']:>9,.0f} "
                f"(x{t['speedup_vs_baseline']})"
            )
        c = kv.get("pytorch_in_process_check")
        if c:
            print(
                f"  PyTorch in a worker {c['pytorch_worker']['tokens_per_second']['median']:,.0f}"
                f", in this process {c['pytorch_in_process']['tokens_per_second']['median']:,.0f}"
            )
        d = kv.get("default_config")
        if d:
            print(
                f"  default config: Keras {d['keras']['tokens_per_second']['median']:,.0f}, "
                f"PyTorch {d['pytorch']['tokens_per_second']['median']:,.0f}, ratio "
                f"{d['ratio_keras_over_pytorch']['of_medians']}"
            )
    if "epochs" in report:
        print(
            f"\n{report['parameters']:,} parameters, "
            f"{report['data']['target_tokens_per_epoch']} target tokens per epoch"
        )
        print(
            f"{'epoch':>5} {'tokens/s (logged)':>18} {'tokens/s (train only)':>22} {'valid s':>8}"
        )
        for e in report["epochs"]:
            print(
                f"{e['epoch']:>5} {e.get('target_tokens_per_second', float('nan')):>18.1f} "
                f"{e.get('train_only_tokens_per_second', float('nan')):>22.1f} "
                f"{e.get('validation_seconds', float('nan')):>8.1f}"
            )


if __name__ == "__main__":
    main()
