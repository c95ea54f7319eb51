# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Training throughput of the default config, in target tokens per second.

Trains `RunConfig()` (GRU 256, embedding 128, SentencePiece vocab 4000, batch 64,
length bucketing) with `keras_s2s.training.train` for `--epochs` epochs (default 2) on
the embedded default corpus, or on Multi30k de→en with `--data-dir`. The first epoch
includes graph tracing and is the warm-up; the headline figure is the last epoch.

Two figures per epoch, both counting non-padding label tokens (`Encoded.target_tokens`,
everything after sos, eos included):

- `target_tokens_per_second` as the project logs it (`ThroughputLogger`): the window
  runs from epoch begin to epoch end, and Keras calls `on_epoch_end` after the
  validation pass, so validation time is inside it;
- `train_only_tokens_per_second`, measured here by a callback passed through
  `train(..., callbacks=[...])`: the window ends at the last training batch, so it
  excludes validation (it still includes the resume checkpoints that `train` writes
  every `checkpoint_steps` batches). If `train` has no `callbacks` argument, only the
  first figure is reported.

Usage (from the repository root):

    .venv/bin/python bench/train_throughput.py
    .venv/bin/python bench/train_throughput.py --data-dir ../shared/data/multi30k --limit 8000

Writes `bench/results/train_throughput.json` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchutil import git_facts, report_header  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "train_throughput.json")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON output path")
    p.add_argument("--epochs", type=int, default=2, help="epochs; the first is the warm-up")
    p.add_argument(
        "--data-dir",
        default=None,
        help="Multi30k dir: train.{de,en}.gz / val.{de,en}.gz (default: embedded corpus)",
    )
    p.add_argument("--limit", type=int, default=None, help="use only the first N training pairs")
    p.add_argument(
        "--run-dir", default=None, help="keep the run dir here (default: temporary, removed)"
    )
    return p.parse_args(argv)


def load_data(args):
    """Returns (description, train pairs, valid pairs)."""
    if args.data_dir:
        from keras_s2s.data import read_pairs

        def read(split):
            de = os.path.join(args.data_dir, f"{split}.de.gz")
            en = os.path.join(args.data_dir, f"{split}.en.gz")
            return read_pairs(de, "parallel", target_path=en).pairs

        desc = f"multi30k de->en ({args.data_dir}: train.de/en, val.de/en)"
        train, valid = read("train"), read("val")
    else:
        from keras_s2s.corpora import generate_default_corpus

        corpus = generate_default_corpus(seed=0)
        desc = "embedded default corpus (seed 0): train / valid splits"
        train, valid = corpus.train, corpus.valid
    if args.limit:
        train = train[: args.limit]
        desc += f", first {args.limit} training pairs"
    return desc, train, valid


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
    from keras_s2s.pipeline import encode_pairs
    from keras_s2s.tokenizer import Tokenizer

    return encode_pairs(train_pairs, Tokenizer.load(run_dir), config.data).target_tokens


def main(argv=None):
    args = parse_args(argv)
    git = git_facts()  # at start: the package is imported now
    import keras_s2s.training as training
    from keras_s2s.config import RunConfig

    started = time.perf_counter()
    load_start = os.getloadavg()
    config = RunConfig().override(epochs=args.epochs)
    desc, train_pairs, valid_pairs = load_data(args)

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

    report = {
        **report_header("train_throughput", git, load_start),
        "note": (
            "Shared 2-core machine; other work (test suites) may have been running, so "
            "figures are noisy. Epoch 1 includes tracing (warm-up); the headline is the "
            "last epoch."
        ),
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
                "keras_s2s ThroughputLogger: label tokens of the epoch / (epoch begin to "
                "on_epoch_end); Keras runs validation before on_epoch_end, so it is included"
            ),
            "train_only_tokens_per_second": (
                "same tokens / (epoch begin to the last on_train_batch_end); no validation"
            ),
        },
        "valid_metrics_after_training": metrics.get("valid"),
        "train_call_seconds": round(train_call_seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")

    print(f"\n{metrics.get('parameters'):,} parameters, {tokens} target tokens per epoch")
    print(f"{'epoch':>5} {'tokens/s (logged)':>18} {'tokens/s (train only)':>22} {'valid s':>8}")
    for e in per_epoch:
        print(
            f"{e['epoch']:>5} {e.get('target_tokens_per_second', float('nan')):>18.1f} "
            f"{e.get('train_only_tokens_per_second', float('nan')):>22.1f} "
            f"{e.get('validation_seconds', float('nan')):>8.1f}"
        )
    print(f"wrote {args.out} ({report['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
