# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Multi30k German→English in one wall-clock budget: an attention model and a baseline.

Trains `ATTENTION` (GRU 512, Luong "dot" attention, SentencePiece 8,000 with the decoder
restricted to the target pieces) and `BASELINE` (LSTM 256, no attention: what attention
buys) with `keras_s2s.training.train` on train.{de,en}.gz, validated on val.{de,en}.gz,
and scores test_2016_flickr greedily and with beam 5 (`keras_s2s.evaluation.evaluate`:
sacrebleu BLEU cased and lowercase, chrF). The attention model is exported (SavedModel
+ ONNX, to `RUN_DIR/saved_models/attention/N`) and the ONNX export re-scored greedily by
`python -m keras_s2s evaluate` in a fresh process.

The whole script runs within `--budget-minutes`: the baseline trains first, for its own
slice (`--baseline-minutes`, default a fifth of the budget; 0 drops it), the attention
model for the rest minus `--reserve-minutes`, kept for its evaluation and export. Each
training is a `train --time-budget` run; the best checkpoint by validation loss is scored.

Usage (from the repository root):

    .venv/bin/python bench/multi30k.py --data-dir PATH/TO/multi30k \\
        --run-dir runs/multi30k --budget-minutes 45 --overwrite

    # smoke mode: a small generated corpus (no data needed), tiny models, 3 minutes
    .venv/bin/python bench/multi30k.py --smoke --run-dir runs/m30k-smoke --overwrite \\
        --out runs/m30k-smoke.json

Existing run dirs are refused (a run dir resumes training, which would make the timing
meaningless) unless `--overwrite` is given.
"""

from __future__ import annotations

import time

_START = time.perf_counter()  # before TensorFlow is imported: the budget starts here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from benchutil import (  # noqa: E402
    RESULTS,
    ROOT,
    TEST_SPLIT,
    git_facts,
    portable,
    print_table,
    report_header,
    smoke_corpus,
    write_json,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# Flat RunConfig overrides. Epochs are a ceiling: the time budget decides.
COMMON = dict(
    format="parallel",
    tokenizer="sentencepiece",
    model_type="unigram",
    vocab_size=8000,
    max_source_length=64,
    max_target_length=64,
    batch_size=64,
    epochs=100,
    learning_rate=1e-3,
    clipnorm=1.0,
    patience=3,
    bucket_width=4,
    label_smoothing=0.1,
    seed=0,
    checkpoint_steps=0,  # resume checkpoints at epoch ends only: a timed run is not resumed
    max_length=80,
    beam_width=5,
    length_penalty=0.6,
)
# Luong "dot" scores need a memory as wide as the decoder, so the encoder is
# unidirectional here. An earlier run with a bidirectional GRU 384 encoder and "general"
# scores reached validation loss 3.66 after 8 epochs where this configuration reached
# 2.95 (bench/README.md).
ATTENTION = dict(
    COMMON,
    rnn="gru",
    attention="luong",
    luong_score="dot",
    luong_scaled=False,
    bidirectional=False,
    embedding_dim=256,
    # GRU 512 at the learning rate of COMMON (1e-3). On an AVX-512 host it reached 40.02
    # BLEU in 45 minutes (19 data passes); at 3e-3 (chosen by the learning probe, which
    # sees only the first 1,000 updates) its validation loss stalled at ~3.29 for four
    # epochs and it scored 33.64. GRU 256 at 3e-3: 34.27 in 20 minutes there; on an AVX2
    # host, 2.4 times slower, it made more passes than GRU 512 and scored more
    # (bench/README.md).
    units=512,
    encoder_layers=1,
    decoder_layers=1,
    dropout=0.2,
    # The English targets use 3,956 of the joint vocabulary's 8,000 pieces: the output
    # layer, the costliest layer, halves (bench/README.md).
    target_vocabulary=True,
)
BASELINE = dict(
    COMMON,
    rnn="lstm",
    attention="none",
    bidirectional=False,
    embedding_dim=256,
    units=256,
    encoder_layers=1,
    decoder_layers=1,
    dropout=0.2,
)
# What every script's --smoke mode lays over a recipe: a model that trains in seconds.
SMOKE = dict(vocab_size=120, embedding_dim=16, units=32, max_length=24)


def load_corpus(data_dir: str | None) -> dict:
    """The training, validation and test text of Multi30k de->en, or of the smoke modes'
    small generated corpus (`benchutil.smoke_corpus`) when `data_dir` is None.

    Returns:
        `{"train": pairs, "valid": pairs, "test_sources": lines, "test_references": lines}`.
    """
    if data_dir is None:
        corpus = smoke_corpus()
        return {
            "train": corpus.train,
            "valid": corpus.valid,
            "test_sources": [s for s, _ in corpus.test],
            "test_references": [t for _, t in corpus.test],
        }
    from keras_s2s.readers import read_lines, read_pairs

    def path(split, lang):
        return os.path.join(data_dir, f"{split}.{lang}.gz")

    return {
        "train": read_pairs(path("train", "de"), "parallel", target_path=path("train", "en")).pairs,
        "valid": read_pairs(path("val", "de"), "parallel", target_path=path("val", "en")).pairs,
        "test_sources": read_lines(path(TEST_SPLIT, "de")),
        "test_references": read_lines(path(TEST_SPLIT, "en")),
    }


def check_out_path(args) -> None:
    """A smoke run never writes into bench/results/ (those files are recorded runs)."""
    if args.smoke and os.path.abspath(args.out).startswith(RESULTS + os.sep):
        sys.exit("--smoke writes scratch results: choose an --out outside bench/results/")


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _START:7.1f}s] {message}", flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="Multi30k dir: train/val/test_2016_flickr .de/.en.gz")
    p.add_argument(
        "--run-dir", required=True, help="output: attention/, baseline/, saved_models/attention/"
    )
    p.add_argument("--budget-minutes", type=float, default=45.0, help="wall time, whole script")
    p.add_argument(
        "--baseline-minutes",
        type=float,
        default=None,
        help="baseline training slice (default: budget / 5; 0: no baseline)",
    )
    p.add_argument(
        "--reserve-minutes",
        type=float,
        default=None,
        help="kept after the attention training for its evaluation and export "
        "(default: 2.5, or budget / 4 if that is smaller)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override one field of the attention recipe, e.g. --set seed=1 --set dropout=0 "
        "(VALUE read as JSON, else as a string; repeatable; recorded in the report)",
    )
    p.add_argument("--overwrite", action="store_true", help="delete earlier run dirs first")
    p.add_argument("--skip-onnx-check", action="store_true", help="do not re-score the export")
    p.add_argument("--smoke", action="store_true", help="benchutil.smoke_corpus, tiny models")
    p.add_argument("--out", default=os.path.join(RESULTS, "multi30k.json"))
    args = p.parse_args(argv)
    if not args.smoke and not args.data_dir:
        p.error("--data-dir is required (or --smoke)")
    args.set = dict(parse_override(item, p) for item in args.set)
    if args.set:
        from keras_s2s.config import ConfigError, RunConfig

        try:  # an unknown field or a bad value fails here, not after the data is read
            RunConfig().override(**{**ATTENTION, **args.set})
        except (ConfigError, TypeError, ValueError) as err:
            p.error(f"--set: {err}")
    if args.smoke:
        args.data_dir = None
        args.budget_minutes, args.baseline_minutes, args.reserve_minutes = 3.0, 0.25, 1.5
    return args


def parse_override(item: str, parser) -> tuple[str, object]:
    """`FIELD=VALUE` -> `(FIELD, value)`, the value read as JSON (`0`, `1e-3`, `true`)
    or else kept as a string (`gru`)."""
    field, sep, text = item.partition("=")
    if not sep or not field:
        parser.error(f"--set takes FIELD=VALUE, got {item!r}")
    try:
        return field, json.loads(text)
    except json.JSONDecodeError:
        return field, text


def make_recorder():
    """A callback recording each epoch's batches, seconds and validation loss.

    The time budget and its learning-rate decay are the package's own
    (`keras_s2s.training.TimeBudget`); this only watches them.
    """
    import keras

    class Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epochs: list[dict] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = self._last = time.perf_counter()
            self._batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self._last = time.perf_counter()
            self._batches += 1

        def on_epoch_end(self, epoch, logs=None):
            e = {
                "epoch": epoch + 1,
                "batches": self._batches,
                "batches_per_epoch": self.params["steps"],
                "train_seconds": round(self._last - self._start, 1),
                "validation_seconds": round(time.perf_counter() - self._last, 1),
                **{k: round(float(v), 4) for k, v in (logs or {}).items()},
            }
            self.epochs.append(e)
            log(f"epoch {epoch + 1}: {e['batches']} batches in {e['train_seconds']} s")

    return Recorder()


def train_model(recipe, seconds, corpus, run_dir) -> dict:
    """Trains one recipe for at most `seconds` and summarises how far it got."""
    from keras_s2s.config import RunConfig
    from keras_s2s.input_pipeline import encode_pairs
    from keras_s2s.tokenizer import Tokenizer
    from keras_s2s.training import train

    config = RunConfig().override(**recipe, time_budget_minutes=seconds / 60.0)
    recorder = make_recorder()
    log(f"training for at most {seconds:.0f} s in {run_dir}")
    start = time.perf_counter()
    result = train(
        config, corpus["train"], corpus["valid"], run_dir, verbose=0, callbacks=[recorder]
    )
    train_call_seconds = time.perf_counter() - start

    metrics, epochs = result.metrics, recorder.epochs
    # Label tokens per epoch (eos included), counted as keras_s2s' ThroughputLogger does.
    tokens = encode_pairs(corpus["train"], Tokenizer.load(run_dir), config.data).target_tokens
    passes = sum(e["batches"] for e in epochs) / epochs[0]["batches_per_epoch"]
    train_seconds = sum(e["train_seconds"] for e in epochs)
    val_losses = [e["val_loss"] for e in epochs]
    return {
        "config": config.to_dict(),
        "run_dir": portable(run_dir),
        "parameters": metrics["parameters"],
        "precision": metrics["precision"],
        "vocab_size": metrics["vocab_size"],
        "target_vocab_size": metrics["target_vocab_size"],
        "time_slice_seconds": round(seconds, 1),
        "train_call_seconds": round(train_call_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        "validation_seconds": round(sum(e["validation_seconds"] for e in epochs), 1),
        "epochs_run": len(epochs),
        "epochs_fraction": round(passes, 3),
        "best_epoch": val_losses.index(min(val_losses)) + 1,
        "target_tokens_per_epoch": tokens,
        "train_only_target_tokens_per_second": round(tokens * passes / train_seconds, 1),
        "val_loss_per_epoch": val_losses,
        "epochs": epochs,
        "valid_metrics_of_best": {k: round(v, 4) for k, v in metrics["valid"].items()},
        "truncated": metrics["truncated"],
    }


def evaluate_model(run_dir, corpus) -> dict:
    """Greedy and beam 5 on the test set, with the keras backend."""
    import keras_s2s
    from keras_s2s.evaluation import evaluate

    model = keras_s2s.load(run_dir, "keras")

    def scored(sources, references, beam):
        result = evaluate(model, sources, references, beam=beam)
        log(f"  beam {beam}: BLEU {result['bleu']:.2f}, lowercase {result['bleu_lowercase']:.2f}")
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}

    test = (corpus["test_sources"], corpus["test_references"])
    return {"test": {"greedy": scored(*test, 1), "beam5": scored(*test, 5)}}


def onnx_check(version_dir: str, run_dir: str, corpus: dict) -> dict:
    """Re-scores the ONNX export greedily in a fresh process (ONNX Runtime, no TensorFlow)."""
    files = {}
    for key, name in (("test_sources", "test.src"), ("test_references", "test.ref")):
        files[key] = os.path.join(run_dir, name)
        with open(files[key], "w", encoding="utf-8") as f:
            f.write("\n".join(corpus[key]) + "\n")
    cmd = [sys.executable, "-m", "keras_s2s", "evaluate", "--model", version_dir]
    cmd += ["--backend", "onnx", "--beam", "1", "--source-file", files["test_sources"]]
    cmd += ["--reference-file", files["test_references"]]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}
    return {**result, "process_seconds": round(time.perf_counter() - start, 1)}


def prepare_dirs(args) -> tuple[str, str, str]:
    attention_dir = os.path.join(args.run_dir, "attention")
    baseline_dir = os.path.join(args.run_dir, "baseline")
    for d in (attention_dir, baseline_dir):
        if os.path.exists(d):
            if not args.overwrite:
                sys.exit(f"{d} exists (an earlier run); pass --overwrite or a new --run-dir")
            if not os.path.isfile(os.path.join(d, "config.json")):
                sys.exit(f"{d} is not a run dir (no config.json); refusing to delete it")
            shutil.rmtree(d)
    return attention_dir, baseline_dir, os.path.join(args.run_dir, "saved_models", "attention")


def print_summary(report: dict) -> None:
    header = ["model", "parameters", "data passes", "train s", "decode", "BLEU", "BLEU lc", "chrF"]
    rows = [
        [name, m["parameters"], m["epochs_fraction"], m["train_call_seconds"], label]
        + [r["bleu"], r["bleu_lowercase"], r["chrf"]]
        for name, m in report["models"].items()
        for label, r in m["test"].items()
    ]
    onnx = report["models"]["attention"]["export"].get("onnx_test_greedy", {})
    rows.append(["attention", "", "", "", "ONNX greedy", onnx.get("bleu"), "", ""])
    rows.append(
        ["wall s", report["total_wall_seconds"], "budget s", report["budget_seconds"]] + [""] * 4
    )
    print_table(header, rows)


def main(argv=None):
    args = parse_args(argv)
    check_out_path(args)
    budget = args.budget_minutes * 60.0
    deadline = _START + budget
    baseline_slice = budget / 5 if args.baseline_minutes is None else args.baseline_minutes * 60.0
    # Evaluating and exporting the attention model took 70-102 s after its slice ended
    # (20-minute runs, GRU 256 and 512); 150 s leaves room for a slower host.
    reserve = (
        min(150.0, budget / 4) if args.reserve_minutes is None else args.reserve_minutes * 60.0
    )
    attention_dir, baseline_dir, export_dir = prepare_dirs(args)
    report = {
        **report_header("multi30k", git_facts(), os.getloadavg()),
        "budget_seconds": budget,
        "models": {},
    }

    corpus = load_corpus(args.data_dir)
    report["data"] = {
        "dir": portable(args.data_dir) if args.data_dir else "benchutil.smoke_corpus()",
        "direction": "de->en" if args.data_dir else "dates and numbers -> ISO / digits",
        "train_pairs": len(corpus["train"]),
        "valid_pairs": len(corpus["valid"]),
        "test": TEST_SPLIT if args.data_dir else "test",
        "test_sentences": len(corpus["test_sources"]),
    }
    log(f"data: {report['data']}")
    recipes = {"baseline": BASELINE, "attention": {**ATTENTION, **args.set}}
    if args.set:
        report["attention_overrides"] = args.set
        log(f"attention recipe overrides: {args.set}")
    if args.smoke:
        recipes = {name: {**recipe, **SMOKE} for name, recipe in recipes.items()}

    def train_and_score(name, seconds, run_dir):
        log(f"=== {name} ===")
        model = train_model(recipes[name], seconds, corpus, run_dir)
        report["models"][name] = model
        model.update(evaluate_model(run_dir, corpus))
        write_json(report, args.out)
        return model

    # The baseline first, in its own slice (none with --baseline-minutes 0); then the
    # attention model gets the rest of the budget minus the reserve for evaluation and
    # export. A floor of 10 s keeps an overspent budget from training nothing at all.
    if baseline_slice > 0:
        slice_b = max(10.0, min(baseline_slice, deadline - time.perf_counter() - reserve - 120))
        train_and_score("baseline", slice_b, baseline_dir)
    slice_a = max(10.0, deadline - time.perf_counter() - reserve)
    attention = train_and_score("attention", slice_a, attention_dir)

    from keras_s2s.exporting import export

    start = time.perf_counter()
    version_dir = export(attention_dir, export_dir, formats=("savedmodel", "onnx"))
    attention["export"] = {
        "version_dir": portable(version_dir),
        "formats": ["savedmodel", "onnx"],
        "export_seconds": round(time.perf_counter() - start, 1),
    }
    log(f"exported to {version_dir}")
    if not args.skip_onnx_check:
        attention["export"]["onnx_test_greedy"] = onnx_check(version_dir, args.run_dir, corpus)

    total = time.perf_counter() - _START
    report["total_wall_seconds"] = round(total, 1)
    report["within_budget"] = total <= budget
    report["load_average_1_5_15"]["end"] = list(os.getloadavg())
    write_json(report, args.out)
    print_summary(report)
    return 0 if report["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
