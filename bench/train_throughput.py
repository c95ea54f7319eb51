# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Training throughput in target tokens per second, measured side by side.

Two comparisons on the same bucketed batches of the Multi30k attention recipe
(`bench/multi30k.py` ATTENTION, with GRU 512 as in every recorded run: `MODEL`), the
runners taking turns per repeat so that a change of load hits all of them:

1. `default_vs_fp32_baseline`: the package's training (`keras_s2s.training.compile_model`
   over `keras_s2s.models.build_model`, with the recipe's target vocabulary and the
   precision `keras_s2s.precision.resolve` picks on this machine) against the
   training before issue #12 (`compile_legacy`: fp32, no XLA, the joint vocabulary,
   Keras' own GRU loop: `keras_rnn_layers`).
   Both start from seed 0 and are then scored on the validation set: cross-entropy per
   token without label smoothing, the log of the `Perplexity` metric.
2. `keras_vs_pytorch`: the same model, joint vocabulary and float32 in Keras and PyTorch
   (`bench/torch_seq2seq.py`, in a spawned worker process that never imports
   TensorFlow), with equal parameter counts, and the PyTorch model given the Keras
   weights checked to compute the same loss, logits and gradient norm.

The batches: `--warmup` + `--batches` drawn at random (seed 0, in epoch order) from one
epoch of `keras_s2s.input_pipeline.make_epoch_dataset`. Each runner trains once on the
warm-up batches (200 by default: per-batch times settle over the first few hundred
updates), then `--repeats` times on the timed ones. Tokens are the non-padding
labels (eos included); Keras is timed from its first batch to the end of the pass.

Usage (from the repository root; PyTorch comes with `pip install -e '.[bench]'`):

    .venv/bin/python bench/train_throughput.py --data-dir PATH/TO/multi30k
    .venv/bin/python bench/train_throughput.py --smoke --out runs/train_throughput_smoke.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import statistics
import sys
import time
from unittest import mock

from benchutil import RESULTS, CpuMeter, git_facts, print_table, report_header, write_json
from multi30k import ATTENTION, SMOKE, check_out_path, load_corpus

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# GRU 512 at learning rate 3e-3: the model and rate of every recorded run of this
# script (the Multi30k recipe has since moved to 1e-3; the rate changes no timing, only
# the validation cross-entropies compared).
MODEL = {**ATTENTION, "units": 512, "learning_rate": 3e-3}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="Multi30k dir: train/val .de/.en.gz (default: --smoke)")
    p.add_argument("--threads", type=int, default=2, help="threads for both frameworks")
    # Plain TensorFlow is ~20% slower per batch over its first ~100 updates than after
    # ~300 (bench/README.md), so the timed repeats follow a few hundred untimed updates.
    p.add_argument("--warmup", type=int, default=200, help="untimed warm-up batches per runner")
    p.add_argument("--batches", type=int, default=40, help="timed batches per repeat")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats per runner")
    p.add_argument(
        "--smoke", action="store_true", help="generated corpus, tiny model, 2 + 4 batches"
    )
    p.add_argument("--out", default=os.path.join(RESULTS, "train_throughput.json"))
    args = p.parse_args(argv)
    if not args.smoke and not args.data_dir:
        p.error("--data-dir is required (or --smoke)")
    if args.smoke:
        args.data_dir, args.warmup, args.batches = None, 2, 4
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def numpy_batches(dataset) -> list[tuple]:
    """A dataset of the package's batches as numpy `(source, decoder_input, labels)`."""
    return [
        (x["source_ids"].numpy(), x["decoder_input_ids"].numpy(), y.numpy()) for x, y in dataset
    ]


def prepare(config, corpus, n_draw: int) -> dict:
    """The tokenizer's vocabulary, the drawn training batches, the training targets'
    vocabulary and the validation batches, all in joint ids."""
    import numpy as np

    from keras_s2s import input_pipeline as ip
    from keras_s2s.tokenizer import Tokenizer

    texts = [s for s, _ in corpus["train"]] + [t for _, t in corpus["train"]]
    tokenizer = Tokenizer.train(texts, config.tokenizer)
    encoded = ip.encode_pairs(corpus["train"], tokenizer, config.data)
    epoch = numpy_batches(ip.make_epoch_dataset(encoded, config.train, 0))
    picked = np.sort(np.random.default_rng(0).choice(len(epoch), min(n_draw, len(epoch)), False))
    valid = ip.make_dataset(ip.encode_pairs(corpus["valid"], tokenizer, config.data), config.train)
    log(f"vocab {tokenizer.vocab_size}, {len(epoch)} batches per epoch")
    return {
        "vocab_size": tokenizer.vocab_size,
        "epoch_batches": len(epoch),
        "drawn": [epoch[i] for i in picked],
        "target_ids": ip.target_vocabulary(encoded),
        "valid": numpy_batches(valid),
    }


def keras_dataset(batches):
    """Numpy batches as the `tf.data.Dataset` of `(inputs, labels)` that `fit` reads."""
    import tensorflow as tf

    from keras_s2s.input_pipeline import prefetched

    spec = tf.TensorSpec([None, None], tf.int32)

    def gen():
        for source, decoder_input, labels in batches:
            yield {"source_ids": source, "decoder_input_ids": decoder_input}, labels

    signature = ({"source_ids": spec, "decoder_input_ids": spec}, spec)
    ds = tf.data.Dataset.from_generator(gen, output_signature=signature)
    return prefetched(ds.apply(tf.data.experimental.assert_cardinality(len(batches))))


def compile_legacy(model, config):
    """The training as the package compiled it before issue #12 (the fp32 baseline).

    A plain functional `keras.Model` (so the token metrics run in every train step, not
    in validation only as in `keras_s2s.models.Seq2SeqModel`), compiled with the masked
    loss of that time, which computed label smoothing through a second log-softmax over
    the vocabulary instead of one fused cross-entropy.
    """
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

    plain = keras.Model(model.inputs, model.outputs)
    clip = {"global_clipnorm": config.train.clipnorm} if config.train.clipnorm else {}
    plain.compile(
        optimizer=keras.optimizers.Adam(config.train.learning_rate, **clip),
        loss=LegacyLoss(),
        metrics=[MaskedAccuracy(), Perplexity()],
    )
    return plain


def keras_rnn_layers():
    """A context in which models are built with `keras.layers.GRU`/`LSTM`, as before #12.

    The package's `keras_s2s.recurrent` layers have the same weights and mathematics but
    project the inputs outside the time loop; the fp32 baseline keeps Keras' loop.
    """
    import keras

    from keras_s2s import models

    return mock.patch.dict(models.RNN_LAYERS, {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM})


class KerasRunner:
    """One model built and compiled as the package does (or the legacy way), from seed 0.

    Args:
        config: The `RunConfig`.
        vocab_size: The tokenizer's (joint) vocabulary size.
        legacy: Build with Keras' GRU/LSTM layers (`keras_rnn_layers`) and compile with
            `compile_legacy` instead of `keras_s2s.training.compile_model`.
        target_ids: Restrict the decoder to these joint ids; the batches, in joint ids,
            are renumbered for it with `keras_s2s.input_pipeline.target_lookup`.
        precision: The dtype policy; default: the one `keras_s2s.training.train` picks
            for `config` on this machine (`keras_s2s.precision.resolve`), float32 when
            `legacy`.
    """

    def __init__(self, config, vocab_size, *, legacy=False, target_ids=None, precision=None):
        import keras

        from keras_s2s.input_pipeline import target_lookup
        from keras_s2s.models import build_model
        from keras_s2s.precision import resolve
        from keras_s2s.training import compile_model

        if precision is None:
            precision = "float32" if legacy else resolve(config.train.precision)
        self.precision = precision
        keras.utils.set_random_seed(config.train.seed)
        with keras_rnn_layers() if legacy else contextlib.nullcontext():
            model = build_model(
                config.model,
                vocab_size,
                seed=config.train.seed,
                target_ids=target_ids,
                precision=precision,
            )
        self.model = compile_legacy(model, config) if legacy else compile_model(model, config)
        self.model.optimizer.build(self.model.trainable_variables)
        self.lookup = None if target_ids is None else target_lookup(target_ids, vocab_size)

    def mapped(self, batches):
        if self.lookup is None:
            return batches
        return [(s, self.lookup[d], self.lookup[y]) for s, d, y in batches]

    def fit(self, batches) -> float:
        """Trains one pass over `batches`; seconds from the first batch's start to the end."""
        import keras

        marks = {}

        class Clock(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                marks.setdefault("first", time.perf_counter())

            def on_epoch_end(self, epoch, logs=None):
                marks["end"] = time.perf_counter()

        ds = keras_dataset(self.mapped(batches))
        self.model.fit(ds, epochs=1, verbose=0, shuffle=False, callbacks=[Clock()])
        return marks["end"] - marks["first"]

    def valid_cross_entropy(self, batches) -> float:
        """Cross-entropy per label token, without label smoothing: log(perplexity)."""
        metrics = self.model.evaluate(
            keras_dataset(self.mapped(batches)), verbose=0, return_dict=True
        )
        return math.log(metrics["perplexity"])


def _torch_worker(conn, threads):  # the spawned worker's entry point: torch only
    import torch_seq2seq

    torch_seq2seq.serve(conn, threads)


class TorchRunner:
    """`bench/torch_seq2seq.py`'s `Trainer` in a spawned process without TensorFlow."""

    def __init__(self, config, vocab_size, threads: int):
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_torch_worker, args=(child, threads), daemon=True)
        self._proc.start()
        child.close()
        self.call("init", config.to_dict(), vocab_size)

    def call(self, method, *args):
        self._conn.send((method, args))
        status, result = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"PyTorch worker: {method}: {result}")
        return result

    def fit(self, batches) -> float:
        return self.call("fit", batches)

    def close(self):
        self._conn.send(None)
        self._proc.join(30)


def measure(runners: dict, warm, timed, repeats: int) -> dict:
    """Warms each runner up once, then times `timed` `repeats` times, taking turns."""
    tokens = int(sum((labels != 0).sum() for _, _, labels in timed))
    seconds = {name: [] for name in runners}
    warmup = {}
    for name, runner in runners.items():
        start = time.perf_counter()
        runner.fit(warm)
        warmup[name] = round(time.perf_counter() - start, 2)
    for r in range(repeats):
        for name, runner in runners.items():
            seconds[name].append(runner.fit(timed))
            log(f"  {name} repeat {r + 1}: {tokens / seconds[name][-1]:,.0f} tokens/s")
    out = {}
    for name, runs in seconds.items():
        rates = [tokens / s for s in runs]
        out[name] = {
            "tokens_per_second": {
                "min": round(min(rates), 1),
                "median": round(statistics.median(rates), 1),
                "max": round(max(rates), 1),
                "runs": [round(x, 1) for x in rates],
            },
            "ms_per_batch_median": round(1000 * statistics.median(runs) / len(timed), 1),
            "warmup_seconds": warmup[name],
            "seconds_per_repeat": [round(s, 3) for s in runs],
        }
    return out


def ratios(figures: dict, over: str, under: str) -> tuple[float, list[float]]:
    """Tokens/s of `over` divided by `under`'s: the ratio of medians, and per repeat."""
    a, b = (figures[name]["tokens_per_second"] for name in (over, under))
    per_repeat = [round(x / y, 3) for x, y in zip(a["runs"], b["runs"], strict=True)]
    return round(a["median"] / b["median"], 3), per_repeat


def default_vs_fp32_baseline(config, prep, args) -> dict:
    """Issue #12's speed gate: the package's training over the pre-#12 training."""
    target_ids = prep["target_ids"] if config.model.target_vocabulary else None
    runners = {
        "fp32_baseline": KerasRunner(config, prep["vocab_size"], legacy=True),
        "default": KerasRunner(config, prep["vocab_size"], target_ids=target_ids),
    }
    warm, timed = prep["drawn"][: args.warmup], prep["drawn"][args.warmup :]
    figures = measure(runners, warm, timed, args.repeats)
    ce = {name: round(r.valid_cross_entropy(prep["valid"]), 4) for name, r in runners.items()}
    ratio, per_repeat = ratios(figures, "default", "fp32_baseline")
    return {
        **figures,
        "precision": {name: r.precision for name, r in runners.items()},
        "default_target_vocab_size": len(target_ids) if target_ids else prep["vocab_size"],
        "default_over_fp32_baseline": ratio,
        "per_repeat_ratios": per_repeat,
        "updates_each": len(warm) + len(timed) * args.repeats,
        "valid_token_cross_entropy": ce,
        # Signed: the gate is that the default is not worse by more than 0.02.
        "valid_cross_entropy_default_minus_baseline": round(ce["default"] - ce["fp32_baseline"], 4),
    }


def keras_state_for_torch(model) -> dict:
    """A `build_model` model's weights under `torch_seq2seq.Seq2Seq`'s parameter names."""
    import numpy as np

    enc, dec = model.get_layer("encoder"), model.get_layer("decoder")
    state = {
        "src_embedding.weight": enc.embedding.embeddings.numpy(),
        "tgt_embedding.weight": dec.embedding.embeddings.numpy(),
        "logits.weight": dec.output_projection.kernel.numpy().T,
        "logits.bias": dec.output_projection.bias.numpy(),
    }

    def gates(w, axis):  # Keras' GRU gate order (z, r, h) is PyTorch's (r, z, n)
        z, r, h = np.split(w, 3, axis=axis)
        return np.concatenate([r, z, h], axis=axis)

    for side, layers in (("encoder", enc.rnn_layers), ("decoder", dec.rnn_layers)):
        for i, layer in enumerate(layers):
            cell = layer.cell
            kernel, recurrent, bias = (
                v.numpy() for v in (cell.kernel, cell.recurrent_kernel, cell.bias)
            )
            kernel, recurrent = gates(kernel, 1), gates(recurrent, 1)
            b_ih, b_hh = gates(bias[0], 0), gates(bias[1], 0)  # reset_after: two biases
            state[f"{side}.weight_ih_l{i}"], state[f"{side}.weight_hh_l{i}"] = kernel.T, recurrent.T
            state[f"{side}.bias_ih_l{i}"], state[f"{side}.bias_hh_l{i}"] = b_ih, b_hh
    if dec.attention_layer is not None:
        if dec.attention_layer.memory_layer is not None:
            state["memory_layer.weight"] = dec.attention_layer.memory_layer.kernel.numpy().T
        state["attention_proj.weight"] = dec.attention_projection.kernel.numpy().T
    return {k: np.ascontiguousarray(v) for k, v in state.items()}


def forward_check(config, vocab_size, batch, torch_runner) -> dict:
    """The Keras weights in both frameworks, dropout off: same loss, logits, gradients?"""
    import tensorflow as tf

    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
    from keras_s2s.models import build_model

    source, decoder_input, labels = batch
    model = build_model(config.model, vocab_size, seed=config.train.seed)
    loss_fn = MaskedSparseCategoricalCrossentropy(config.train.label_smoothing)
    with tf.GradientTape() as tape:
        logits = model({"source_ids": source, "decoder_input_ids": decoder_input}, training=False)
        loss = loss_fn(labels, logits)
    # Embedding gradients are IndexedSlices; densified, repeated ids add up first.
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, model.trainable_variables)]
    state = keras_state_for_torch(model)
    t = torch_runner.call("check", state, batch, logits.numpy())
    return {
        "keras_loss": round(float(loss), 6),
        "pytorch_loss": round(t["loss"], 6),
        "max_abs_logit_diff_at_real_tokens": t["max_abs_logit_diff"],
        "keras_grad_global_norm": round(float(tf.linalg.global_norm(grads)), 6),
        "pytorch_grad_global_norm": round(t["grad_global_norm"], 6),
    }


def keras_vs_pytorch(config, prep, args) -> dict:
    """The same model, joint vocabulary and arithmetic (float32), Keras in this process,
    PyTorch in a worker."""
    vocab = prep["vocab_size"]
    keras_runner = KerasRunner(config, vocab, precision="float32")
    torch_runner = TorchRunner(config, vocab, args.threads)
    warm, timed = prep["drawn"][: args.warmup], prep["drawn"][args.warmup :]
    try:
        figures = measure(
            {"keras": keras_runner, "pytorch": torch_runner}, warm, timed, args.repeats
        )
        facts = torch_runner.call("facts")
        check = forward_check(config, vocab, timed[0], torch_runner)
    finally:
        torch_runner.close()
    ratio, per_repeat = ratios(figures, "keras", "pytorch")
    keras_params = int(keras_runner.model.count_params())
    return {
        "keras_tokens_per_second": figures["keras"]["tokens_per_second"],
        "pytorch_tokens_per_second": figures["pytorch"]["tokens_per_second"],
        "ratio_keras_over_pytorch": ratio,
        "per_repeat_ratios": per_repeat,
        "parameters": {
            "keras": keras_params,
            "pytorch": facts["parameters"],
            "equal": keras_params == facts["parameters"],
        },
        "forward_check": check,
        "vocab_size": vocab,
        "keras": figures["keras"],
        "pytorch": {**figures["pytorch"], "runtime": facts},
    }


def main(argv=None):
    args = parse_args(argv)
    check_out_path(args)
    if importlib.util.find_spec("torch") is None:
        sys.exit("train_throughput.py: PyTorch is missing: .venv/bin/pip install -e '.[bench]'")
    report = report_header("train_throughput", git_facts(), os.getloadavg())
    import tensorflow as tf

    from keras_s2s.config import RunConfig

    # Before TensorFlow does any work; the PyTorch worker sets its own.
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    started, meter = time.perf_counter(), CpuMeter()
    config = RunConfig().override(**{**MODEL, **(SMOKE if args.smoke else {})})
    corpus = load_corpus(args.data_dir)
    prep = prepare(config, corpus, args.warmup + args.batches)
    timed = prep["drawn"][args.warmup :]
    report.update(
        config="bench/multi30k.py ATTENTION with units=512, learning_rate=3e-3"
        + (" and multi30k.SMOKE" if args.smoke else ""),
        run_config=config.to_dict(),
        train_pairs=len(corpus["train"]),
        epoch_batches=prep["epoch_batches"],
        timed_label_tokens=int(sum((y != 0).sum() for _, _, y in timed)),
        **{k: getattr(args, k) for k in ("threads", "warmup", "batches", "repeats")},
    )
    log("=== the package's training vs the fp32 baseline ===")
    speed = default_vs_fp32_baseline(config, prep, args)
    report["default_vs_fp32_baseline"] = speed
    report["default_over_fp32_baseline"] = speed["default_over_fp32_baseline"]
    log("=== Keras vs PyTorch ===")
    kv = report["keras_vs_pytorch"] = keras_vs_pytorch(config, prep, args)
    report["machine"]["versions"]["torch"] = kv["pytorch"]["runtime"]["torch_version"]
    report["other_processes_cpu_share"] = meter.share()
    report["load_average_1_5_15"]["end"] = list(os.getloadavg())
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    write_json(report, args.out)
    ce, check = speed["valid_token_cross_entropy"], kv["forward_check"]
    default, baseline = speed["default"], speed["fp32_baseline"]
    print_table(
        ["a / b", "a tokens/s", "b tokens/s", "ratio", "check: a / b"],
        [
            [
                "default / fp32 baseline",
                default["tokens_per_second"]["median"],
                baseline["tokens_per_second"]["median"],
                speed["default_over_fp32_baseline"],
                f"valid CE {ce['default']} / {ce['fp32_baseline']}",
            ],
            [
                "Keras / PyTorch",
                kv["keras"]["tokens_per_second"]["median"],
                kv["pytorch"]["tokens_per_second"]["median"],
                kv["ratio_keras_over_pytorch"],
                f"loss {check['keras_loss']} / {check['pytorch_loss']}",
            ],
        ],
    )


if __name__ == "__main__":
    main()
