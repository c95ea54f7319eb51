# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""How fast does a recipe learn? Validation loss and token accuracy every N updates.

Trains the Multi30k attention recipe of `bench/multi30k.py` as it was before the probes
(`RECIPE`: GRU 512, joint output vocabulary, learning rate 1e-3) and each variant of it
(`VARIANTS`: `RunConfig` fields overridden, so a row differs from `base` in exactly the
fields it names) for `--updates` updates from seed 0 on the same bucketed batches, and
validates on the whole validation set every `--every` updates. Counted in updates, not
seconds, so the machine's load does not change the figures.

Usage (from the repository root):

    .venv/bin/python bench/learning_probe.py --data-dir PATH/TO/multi30k \\
        --work-dir runs/probe --variants base,lr3e-3 --out runs/probe.json

    # smoke mode: a small generated corpus (no data needed), a tiny model, 20 updates
    .venv/bin/python bench/learning_probe.py --smoke --work-dir runs/probe-smoke \\
        --variants base,lr3e-3 --out runs/probe-smoke.json

Results are merged into `--out` by variant name, so variants can run in separate
commands (one per core, say, with `--threads 1`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from benchutil import git_facts, print_table, report_header, write_json
from multi30k import ATTENTION, SMOKE, check_out_path, load_corpus

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The recipe when the probes ran: GRU 512 with the joint vocabulary at 1e-3.
RECIPE = {**ATTENTION, "units": 512, "target_vocabulary": False, "learning_rate": 1e-3}
VARIANTS = {
    "base": {},
    "scaled": {"luong_scaled": True},
    "lr3e-3": {"learning_rate": 3e-3},
    "no_dropout": {"dropout": 0.0},
    "no_label_smoothing": {"label_smoothing": 0.0},
    "batch32": {"batch_size": 32},
    "target_vocab": {"target_vocabulary": True},
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="Multi30k dir (train/val .de/.en.gz)")
    p.add_argument("--work-dir", required=True, help="the tokenizer is trained once, here")
    p.add_argument("--variants", default="base", help=f"comma list of {', '.join(VARIANTS)}")
    p.add_argument("--updates", type=int, default=1000)
    p.add_argument("--every", type=int, default=250, help="validate every N updates")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: default)")
    p.add_argument("--smoke", action="store_true", help="generated corpus, tiny model, 20 updates")
    p.add_argument("--out", required=True, help="results JSON (merged by variant)")
    args = p.parse_args(argv)
    if not args.smoke and not args.data_dir:
        p.error("--data-dir is required (or --smoke)")
    unknown = set(args.variants.split(",")) - set(VARIANTS)
    if unknown:
        p.error(f"unknown variants {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    if args.smoke:
        args.data_dir, args.updates, args.every = None, 20, 10
    return args


def probe(recipe, overrides, corpus, tokenizer, args) -> dict:
    """Trains `recipe` with `overrides` for `args.updates` updates, from seed 0, and
    validates every `args.every` updates."""
    import keras

    from keras_s2s import input_pipeline as ip
    from keras_s2s.config import RunConfig
    from keras_s2s.models import build_model
    from keras_s2s.training import compile_model

    config = RunConfig().override(**{**recipe, **overrides})
    keras.backend.clear_session()  # each variant starts as in a fresh process
    keras.utils.set_random_seed(config.train.seed)
    train_data = ip.encode_pairs(corpus["train"], tokenizer, config.data)
    valid_data = ip.encode_pairs(corpus["valid"], tokenizer, config.data)
    target_ids = None
    if config.model.target_vocabulary:  # as keras_s2s.training.train does
        target_ids = ip.target_vocabulary(train_data)
        train_data = ip.to_target_space(train_data, target_ids)
        valid_data = ip.to_target_space(valid_data, target_ids)
    # The epochs' batches in train()'s order, one after another, as one stream.
    stream = ip.make_epoch_dataset(train_data, config.train, 0)
    for epoch in range(1, args.updates // int(stream.cardinality()) + 2):
        stream = stream.concatenate(ip.make_epoch_dataset(train_data, config.train, epoch))
    model = build_model(config.model, tokenizer.vocab_size, seed=0, target_ids=target_ids)
    compile_model(model, config)
    start = time.perf_counter()
    fit = model.fit(
        stream.repeat(),
        steps_per_epoch=args.every,
        epochs=args.updates // args.every,
        validation_data=ip.make_dataset(valid_data, config.train),
        verbose=2,
    )
    h = fit.history
    rows = [
        {
            "updates": (i + 1) * args.every,
            "train_loss": round(float(h["loss"][i]), 4),
            "val_loss": round(float(h["val_loss"][i]), 4),
            "val_token_accuracy": round(float(h["val_token_accuracy"][i]), 4),
            "val_perplexity": round(float(h["val_perplexity"][i]), 2),
        }
        for i in range(len(h["loss"]))
    ]
    return {
        "overrides": overrides,
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
        "load_average_end": list(os.getloadavg()),
    }


def main(argv=None):
    args = parse_args(argv)
    check_out_path(args)
    import tensorflow as tf

    from keras_s2s.config import RunConfig
    from keras_s2s.training import load_or_train_tokenizer

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    recipe = {**RECIPE, **SMOKE} if args.smoke else RECIPE
    corpus = load_corpus(args.data_dir)
    # No variant changes the tokenizer, so all share the recipe's.
    os.makedirs(args.work_dir, exist_ok=True)
    tokenizer = load_or_train_tokenizer(
        args.work_dir, RunConfig().override(**recipe), corpus["train"]
    )

    report = {}
    if os.path.exists(args.out):
        with open(args.out, encoding="utf-8") as f:
            report = json.load(f)
    report.update(report_header("learning_probe", git_facts(), os.getloadavg()))
    report["recipe"] = (
        "bench/multi30k.py ATTENTION, units=512, target_vocabulary=False, learning_rate=1e-3"
    )
    report["updates"], report["every"] = args.updates, args.every
    report.setdefault("variants", {})
    names = args.variants.split(",")
    for name in names:
        report["variants"][name] = probe(recipe, VARIANTS[name], corpus, tokenizer, args)
        write_json(report, args.out)
    rows = {name: report["variants"][name]["rows"] for name in names}
    accuracy = [[name] + [r["val_token_accuracy"] for r in v] for name, v in rows.items()]
    print_table(["val token accuracy"] + [f"@{r['updates']}" for r in rows[names[0]]], accuracy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
