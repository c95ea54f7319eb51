# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""How fast does a recipe learn? Validation loss and token accuracy after N updates.

Trains the Multi30k attention recipe of `bench/multi30k.py` (seed 0, the same
SentencePiece 8k tokenizer, the same bucketed batches) for `--updates` updates and
validates on the whole Multi30k validation set every `--every` updates. A variant is
the recipe with some `RunConfig` fields overridden (`VARIANTS`), so each row of the
table differs from `base` in exactly the fields it names. Counted in updates, not
seconds: the figures do not depend on the machine's load.

Usage (from the repository root):

    .venv/bin/python bench/learning_probe.py --data-dir PATH/TO/multi30k \\
        --work-dir runs/probe --variants base,scaled --out bench/results/learning_probe.json

    # smoke mode: 2,000 pairs, 20 updates
    .venv/bin/python bench/learning_probe.py --data-dir PATH/TO/multi30k \\
        --work-dir /tmp/probe --variants base --smoke --out /tmp/probe.json

Each variant runs in its own process (`--variants` runs them one after another); results
are merged into `--out` by variant name, so variants can be run in separate commands.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchutil import git_facts, machine_facts
from multi30k import ATTENTION, read_split

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The recipe probed: bench/multi30k.py's ATTENTION as it was before the probes (joint
# output vocabulary, learning rate 1e-3), so every change is a variant of it.
RECIPE = {**ATTENTION, "target_vocabulary": False, "learning_rate": 1e-3}
# Each variant: RunConfig overrides on top of RECIPE.
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
    p.add_argument("--data-dir", required=True, help="Multi30k dir (train/val .de/.en.gz)")
    p.add_argument("--work-dir", required=True, help="tokenizer cache and scratch space")
    p.add_argument("--variants", default="base", help=f"comma list of {', '.join(VARIANTS)}")
    p.add_argument("--updates", type=int, default=1000)
    p.add_argument("--every", type=int, default=250, help="validate every N updates")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: default)")
    p.add_argument("--smoke", action="store_true", help="2,000 pairs, 20 updates")
    p.add_argument("--out", required=True, help="results JSON (merged by variant)")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # the worker mode
    return p.parse_args(argv)


def probe(args, name: str) -> dict:
    """Trains variant `name` for `args.updates` updates in this process."""
    import keras
    import tensorflow as tf

    from keras_s2s.config import RunConfig
    from keras_s2s.input_pipeline import (
        encode_pairs,
        make_dataset,
        make_epoch_dataset,
        target_vocabulary,
        to_target_space,
    )
    from keras_s2s.models import build_model
    from keras_s2s.tokenizer import Tokenizer
    from keras_s2s.training import compile_model

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    config = RunConfig().override(**{**RECIPE, **VARIANTS[name]})
    train_pairs = read_split(args.data_dir, "train")
    valid_pairs = read_split(args.data_dir, "val")
    if args.smoke:
        train_pairs, valid_pairs = train_pairs[:2000], valid_pairs[:200]
    os.makedirs(args.work_dir, exist_ok=True)
    tok_path = os.path.join(args.work_dir, "smoke.model" if args.smoke else "tokenizer.model")
    if not os.path.exists(tok_path):
        texts = [s for s, _ in train_pairs] + [t for _, t in train_pairs]
        Tokenizer.train(texts, config.tokenizer).save(tok_path)
    tokenizer = Tokenizer.load(tok_path)

    keras.utils.set_random_seed(config.train.seed)
    train_data = encode_pairs(train_pairs, tokenizer, config.data)
    valid_data = encode_pairs(valid_pairs, tokenizer, config.data)
    target_ids = None
    if config.model.target_vocabulary:  # as keras_s2s.training.train does
        target_ids = target_vocabulary(train_data)
        train_data = to_target_space(train_data, target_ids)
        valid_data = to_target_space(valid_data, target_ids)
    valid_ds = make_dataset(valid_data, config.train)
    per_epoch = int(make_epoch_dataset(train_data, config.train, 0).cardinality())
    count = args.updates // per_epoch + 2
    epochs = [make_epoch_dataset(train_data, config.train, e) for e in range(count)]
    stream = epochs[0]
    for ds in epochs[1:]:
        stream = stream.concatenate(ds)
    model = compile_model(
        build_model(config.model, tokenizer.vocab_size, seed=0, target_ids=target_ids), config
    )
    start = time.perf_counter()
    fit = model.fit(
        stream.repeat(),
        steps_per_epoch=args.every,
        epochs=args.updates // args.every,
        validation_data=valid_ds,
        verbose=2,
    )
    rows = []
    for i in range(len(fit.history["loss"])):
        rows.append(
            {
                "updates": (i + 1) * args.every,
                "train_loss": round(float(fit.history["loss"][i]), 4),
                "val_loss": round(float(fit.history["val_loss"][i]), 4),
                "val_token_accuracy": round(float(fit.history["val_token_accuracy"][i]), 4),
                "val_perplexity": round(float(fit.history["val_perplexity"][i]), 2),
            }
        )
    return {
        "overrides": VARIANTS[name],
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
        "load_average_end": list(os.getloadavg()),
    }


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:
        args.updates, args.every = 20, 10
    if args.one:
        json.dump(probe(args, args.one), sys.stdout)
        return 0
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        sys.exit(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    report = {}
    if os.path.exists(args.out):
        with open(args.out, encoding="utf-8") as f:
            report = json.load(f)
    report.update(
        benchmark="learning_probe",
        recipe="bench/multi30k.py ATTENTION with target_vocabulary=False, learning_rate=1e-3",
        machine=machine_facts(),
        git=git_facts(),
    )
    report.setdefault("variants", {})
    for name in names:
        cmd = [sys.executable, __file__, *(argv or sys.argv[1:]), "--one", name]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit(f"variant {name} failed (exit {proc.returncode})")
        report["variants"][name] = json.loads(proc.stdout.strip().splitlines()[-1])
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        os.replace(tmp, args.out)
        rows = report["variants"][name]["rows"]
        print(name, " ".join(f"{r['updates']}:{r['val_token_accuracy']}" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
