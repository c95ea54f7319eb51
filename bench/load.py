# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Concurrent load: N client threads against one SavedModel and one ONNX Runtime session.

What a server does, in-process and on this machine only (no network): one loaded model
shared by every request thread.

- `savedmodel`: `tf.saved_model.load(version_dir)`, one module; every thread calls its
  `translate_with_options` signature (text in, tokenized in the graph), or
  `serving_default` when the export has no options signature (its `translation`
  strings are then what is compared).
- `onnx`: one `onnxruntime.InferenceSession` on `version_dir/onnx/model.onnx`; every
  thread tokenizes with SentencePiece (`onnx/tokenizer.model`) and calls
  `session.run` (thread-safe). Tokenization is inside the timed request, as it is
  inside the SavedModel's graph.

Requests are batches of `--batch` sentences of the embedded corpus test split
(`generate_default_corpus(seed=0).test`), cut in order and wrapping around. Thread k
starts at request `k * n / threads` and cycles through all of them in order, so the
sequence each thread sends is deterministic. A pass stops after `--seconds` or when
`--max-requests` requests have been sent, whichever is first.

Correctness: before each pass, every distinct request is sent once, serially, by one
thread, to the same backend; those outputs are the references. Every response under
load is compared (exactly, `np.array_equal`) with its reference: `mismatches`.
Exceptions are `errors`. Each timed pass follows `--warmup-seconds` of the same load,
untimed (its responses are checked too). The serial references of the two backends are
also compared with each other (`cross_backend_serial_ids`).

Without `--model`, the latest `saved_models/quickstart/<version>` is used if it exists;
otherwise a model is trained for `--epochs` epoch(s) with the quickstart configuration
on the embedded corpus and exported to a temporary directory (or to `--work-dir`,
which later runs reuse).

Usage (from the repository root):

    .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --model saved_models/NAME/1 --threads 8 --seconds 30

Writes `bench/results/load.json` (see bench/README.md) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from benchutil import git_facts, report_header  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(HERE, "results", "load.json")
QUICKSTART_DIR = os.path.join(ROOT, "saved_models", "quickstart")
BACKENDS = ("savedmodel", "onnx")
EXAMPLES_KEPT = 5


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="exported version dir (default: quickstart or train one)")
    p.add_argument("--threads", type=int, default=8, help="client threads")
    p.add_argument("--seconds", type=float, default=30.0, help="duration of each pass")
    p.add_argument(
        "--max-requests", type=int, default=100_000, help="request cap of each pass (all threads)"
    )
    p.add_argument(
        "--batch", default="1,8", help="sentences per request; comma-separated, one pass each"
    )
    p.add_argument("--backends", default=",".join(BACKENDS), help="savedmodel,onnx")
    p.add_argument("--beam", type=int, default=1, help="beam width (1: greedy)")
    p.add_argument("--max-length", type=int, help="decode limit (default: the model's)")
    p.add_argument(
        "--ort-threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: its default)"
    )
    p.add_argument(
        "--warmup-seconds", type=float, default=2.0, help="untimed concurrent load before a pass"
    )
    p.add_argument(
        "--epochs", type=int, default=1, help="epochs of the model built without --model"
    )
    p.add_argument("--work-dir", help="keep the model built without --model here")
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON output path")
    args = p.parse_args(argv)
    args.batches = [int(b) for b in args.batch.split(",") if b.strip()]
    args.backend_list = [b.strip() for b in args.backends.split(",") if b.strip()]
    if args.threads < 1 or args.seconds <= 0 or args.max_requests < 1:
        p.error("--threads, --seconds and --max-requests must be positive")
    if not args.batches or min(args.batches) < 1:
        p.error("--batch must list positive sizes")
    if not args.backend_list or set(args.backend_list) - set(BACKENDS):
        p.error(f"--backends must be a subset of {','.join(BACKENDS)}")
    return args


def _show(path: str) -> str:
    """A path relative to the repository if inside it, else absolute."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def build_model(args, work: str) -> tuple[str, dict]:
    """Returns (version_dir, description) of the model to load."""
    from keras_s2s.exporting import version_dirs

    if args.model:
        return args.model, {"source": "--model"}
    for folder, source in (
        (os.path.join(work, "export"), "built earlier by this script in --work-dir"),
        (QUICKSTART_DIR, "latest saved_models/quickstart version"),
    ):
        versions = version_dirs(folder)
        if versions:
            path = os.path.join(folder, str(versions[-1]))
            if os.path.isfile(os.path.join(path, "onnx", "model.onnx")):
                return path, {"source": source}

    from keras_s2s.cli import quickstart_config
    from keras_s2s.exporting import export
    from keras_s2s.generated_corpus import generate_default_corpus
    from keras_s2s.training import train

    config = quickstart_config().override(epochs=args.epochs)
    corpus = generate_default_corpus(seed=config.train.seed)
    run_dir = os.path.join(work, "run")
    print(f"training the quickstart configuration for {args.epochs} epoch(s)...", flush=True)
    t0 = time.perf_counter()
    result = train(config, corpus.train, corpus.valid, run_dir, verbose=2)
    train_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    version_dir = export(run_dir, os.path.join(work, "export"), formats=("savedmodel", "onnx"))
    export_seconds = time.perf_counter() - t0
    print(f"exported {version_dir} (train {train_seconds:.0f} s, export {export_seconds:.0f} s)")
    return version_dir, {
        "source": (
            f"trained by this script: keras-s2s quickstart configuration, {args.epochs} epoch(s) "
            "on the embedded corpus (seed 0), exported with keras_s2s.exporting.export"
        ),
        "train_seconds": round(train_seconds, 1),
        "export_seconds": round(export_seconds, 1),
        "valid_metrics": result.metrics.get("valid"),
        "kept_at": _show(version_dir) if args.work_dir else None,
    }


def make_requests(sentences: list[str], batch: int) -> list[list[str]]:
    """Consecutive batches of `batch` sentences, wrapping around at the end."""
    n = len(sentences)
    count = -(-n // batch)
    return [[sentences[(i * batch + k) % n] for k in range(batch)] for i in range(count)]


def savedmodel_caller(module, max_length: int, beam: int):
    """Returns (name of the signature, call(texts) -> np.ndarray)."""
    import tensorflow as tf

    if "translate_with_options" in module.signatures:
        fn = module.signatures["translate_with_options"]
        length = tf.constant(max_length, tf.int32)
        width = tf.constant(beam, tf.int32)
        one = tf.constant(1, tf.int32)

        def call(texts):
            out = fn(
                text=tf.constant(texts, tf.string), max_length=length, beam_width=width, n_best=one
            )
            return out["ids"].numpy()

        return "translate_with_options (outputs compared: ids)", call
    fn = module.signatures["serving_default"]

    def call_default(texts):
        return fn(text=tf.constant(texts, tf.string))["translation"].numpy()

    return "serving_default (outputs compared: translation strings)", call_default


def onnx_caller(backend, max_length: int, beam: int):
    """Returns call(texts) -> ids: SentencePiece in Python, then the shared session."""
    feeds = {
        "max_length": np.array(max_length, np.int32),
        "beam_width": np.array(beam, np.int32),
        "n_best": np.array(1, np.int32),
    }
    session = backend.session

    def call(texts):
        source = backend.source_ids(texts).astype(np.int64)
        return session.run(["ids"], {"source_ids": source, **feeds})[0]

    return call


def references_for(call, requests) -> tuple[list, float]:
    """Serial, single-threaded outputs of every distinct request, and their seconds."""
    t0 = time.perf_counter()
    refs = [call(r) for r in requests]
    return refs, time.perf_counter() - t0


def output_lengths(refs: list) -> dict | None:
    """Tokens per sentence (best hypothesis, eos included) and decode steps per request."""
    if not refs or refs[0].dtype.kind not in "iu":
        return None
    tokens = np.concatenate([(r[:, 0, :] != 0).sum(axis=-1) for r in refs])
    steps = np.array([r.shape[-1] for r in refs])
    return {
        "tokens_per_sentence_mean": round(float(tokens.mean()), 2),
        "tokens_per_sentence_max": int(tokens.max()),
        "decode_steps_per_request_mean": round(float(steps.mean()), 2),
    }


def _trim_pad_columns(a: np.ndarray) -> np.ndarray:
    """Drops trailing time columns that are all pad (0), for cross-backend comparison."""
    if a.dtype.kind not in "iu" or a.ndim < 1 or a.shape[-1] == 0:
        return a
    keep = a.shape[-1]
    while keep > 0 and not a[..., keep - 1].any():
        keep -= 1
    return a[..., :keep]


def run_load(call, requests, references, *, threads, seconds, max_requests) -> dict:
    """Sends requests from `threads` threads for `seconds` or `max_requests`, first wins."""
    n = len(requests)
    lock = threading.Lock()
    state = {"issued": 0, "start": 0.0, "deadline": 0.0, "cpu": None}

    def begin():  # runs once, in the last thread to reach the barrier
        state["cpu"] = os.times()
        state["start"] = time.perf_counter()
        state["deadline"] = state["start"] + seconds

    barrier = threading.Barrier(threads, action=begin)
    per_thread = [
        {
            "latencies": [],
            "errors": 0,
            "mismatches": 0,
            "error_examples": [],
            "mismatch_examples": [],
        }
        for _ in range(threads)
    ]

    def worker(k):
        stats = per_thread[k]
        j = (k * n) // threads
        barrier.wait()
        deadline = state["deadline"]
        while time.perf_counter() < deadline:
            with lock:
                if state["issued"] >= max_requests:
                    break
                state["issued"] += 1
            index = j % n
            j += 1
            t0 = time.perf_counter()
            try:
                out = call(requests[index])
            except Exception as e:  # counted, not raised: the load goes on
                stats["errors"] += 1
                if len(stats["error_examples"]) < EXAMPLES_KEPT:
                    stats["error_examples"].append(
                        {"request": index, "error": "".join(traceback.format_exception_only(e))}
                    )
                continue
            stats["latencies"].append(time.perf_counter() - t0)
            if not np.array_equal(out, references[index]):
                stats["mismatches"] += 1
                if len(stats["mismatch_examples"]) < EXAMPLES_KEPT:
                    stats["mismatch_examples"].append(
                        {
                            "request": index,
                            "got_shape": list(np.shape(out)),
                            "reference_shape": list(np.shape(references[index])),
                        }
                    )

    load_before = os.getloadavg()
    workers = [
        threading.Thread(target=worker, args=(k,), name=f"load-{k}", daemon=True)
        for k in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        # Bounded: a hung request is reported, not waited for forever.
        w.join(timeout=max(0.0, state["deadline"] - time.perf_counter()) + 120.0)
    elapsed = time.perf_counter() - state["start"]
    cpu_end = os.times()
    hung = sum(w.is_alive() for w in workers)
    cpu = state["cpu"]
    cpu_seconds = (cpu_end.user - cpu.user) + (cpu_end.system - cpu.system)

    latencies = np.array([t for s in per_thread for t in s["latencies"]]) * 1000.0
    completed = int(latencies.size)
    errors = sum(s["errors"] for s in per_thread)
    mismatches = sum(s["mismatches"] for s in per_thread)

    def pct(q):
        return round(float(np.percentile(latencies, q)), 2) if completed else None

    return {
        "seconds": seconds,
        "sent": state["issued"],
        "completed": completed,
        "errors": errors,
        "mismatches": mismatches,
        "hung_threads": hung,
        "stopped_by": "max_requests" if state["issued"] >= max_requests else "seconds",
        "elapsed_s": round(elapsed, 3),
        "latency_ms": {
            "p50": pct(50),
            "p90": pct(90),
            "p99": pct(99),
            "max": round(float(latencies.max()), 2) if completed else None,
            "mean": round(float(latencies.mean()), 2) if completed else None,
        },
        "requests_per_s": round(completed / elapsed, 2),
        "process_cpu_s_per_wall_s": round(cpu_seconds / elapsed, 2),
        "requests_per_thread": [len(s["latencies"]) + s["errors"] for s in per_thread],
        "error_examples": [e for s in per_thread for e in s["error_examples"]][:EXAMPLES_KEPT],
        "mismatch_examples": [m for s in per_thread for m in s["mismatch_examples"]][
            :EXAMPLES_KEPT
        ],
        "load_average_1_5_15": {"start": list(load_before), "end": list(os.getloadavg())},
    }


def print_table(results: list[dict]) -> None:
    header = [
        "backend",
        "batch",
        "requests",
        "req/s",
        "sent/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "mismatches",
    ]
    rows = [header]
    for r in results:
        rows.append(
            [
                r["backend"],
                str(r["batch"]),
                str(r["completed"]),
                f"{r['requests_per_s']:.1f}",
                f"{r['sentences_per_s']:.1f}",
                f"{r['latency_ms']['p50']}",
                f"{r['latency_ms']['p99']}",
                str(r["errors"]),
                str(r["mismatches"]),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    print("\n".join(lines))


def main(argv=None):
    args = parse_args(argv)
    git = git_facts()  # at start: the package is imported now
    started = time.perf_counter()
    load_start = os.getloadavg()
    # ONNX Runtime before TensorFlow (keras_s2s/backends.py: import-order crash with custom ops).
    import onnxruntime  # noqa: F401

    from keras_s2s.backends import OnnxBackend
    from keras_s2s.generated_corpus import generate_default_corpus

    work = args.work_dir or tempfile.mkdtemp(prefix="load-bench-")
    try:
        version_dir, model_desc = build_model(args, work)
        with open(os.path.join(version_dir, "metadata.json"), encoding="utf-8") as f:
            metadata = json.load(f)
        config = metadata["config"]
        max_length = args.max_length or config["decode"]["max_length"]
        sentences = [s for s, _ in generate_default_corpus(seed=0).test]

        callers, backend_facts = {}, {}
        onnx_path = os.path.join(version_dir, "onnx", "model.onnx")
        if "onnx" in args.backend_list:
            onnx_backend = OnnxBackend(onnx_path, threads=args.ort_threads or None)
            callers["onnx"] = onnx_caller(onnx_backend, max_length, args.beam)
            options = onnx_backend.session.get_session_options()
            backend_facts["onnx"] = {
                "model": _show(onnx_path),
                "call": "one InferenceSession shared by all threads; session.run(['ids'], ...) "
                "after SentencePiece tokenization in the calling thread",
                "intra_op_num_threads": options.intra_op_num_threads,
                "inter_op_num_threads": options.inter_op_num_threads,
                "providers": onnx_backend.session.get_providers(),
            }
        if "savedmodel" in args.backend_list:
            import tensorflow as tf
            import tensorflow_text  # noqa: F401  (registers the SentencePiece ops)

            module = tf.saved_model.load(version_dir)
            signature, callers["savedmodel"] = savedmodel_caller(module, max_length, args.beam)
            backend_facts["savedmodel"] = {
                "model": _show(version_dir),
                "call": f"one tf.saved_model.load module shared by all threads; {signature}",
                "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
                "variable_elements": int(
                    sum(
                        np.prod(shape)
                        for name, shape in tf.train.list_variables(
                            os.path.join(version_dir, "variables", "variables")
                        )
                        if name != "_CHECKPOINTABLE_OBJECT_GRAPH"
                    )
                ),
            }

        results, cross = [], {}
        for batch in args.batches:
            requests = make_requests(sentences, batch)
            refs = {}
            for name in args.backend_list:
                call = callers[name]
                print(
                    f"\n{name}, batch {batch}: serial references for {len(requests)} requests...",
                    flush=True,
                )
                refs[name], ref_seconds = references_for(call, requests)
                print(
                    f"  {ref_seconds:.1f} s serial; now {args.threads} threads for up to "
                    f"{args.seconds:g} s or {args.max_requests} requests...",
                    flush=True,
                )
                entry = {"backend": name, "batch": batch, "distinct_requests": len(requests)}
                entry["serial_reference"] = {
                    "seconds": round(ref_seconds, 2),
                    "ms_per_request": round(ref_seconds * 1000.0 / len(requests), 2),
                    "outputs": output_lengths(refs[name]),
                }
                warm = run_load(
                    call,
                    requests,
                    refs[name],
                    threads=args.threads,
                    seconds=args.warmup_seconds,
                    max_requests=args.max_requests,
                )
                entry["warmup"] = {
                    k: warm[k] for k in ("seconds", "completed", "errors", "mismatches")
                }
                entry.update(
                    run_load(
                        call,
                        requests,
                        refs[name],
                        threads=args.threads,
                        seconds=args.seconds,
                        max_requests=args.max_requests,
                    )
                )
                entry["sentences_per_s"] = round(entry["requests_per_s"] * batch, 2)
                results.append(entry)
                lat = entry["latency_ms"]
                print(
                    f"  {entry['completed']} requests in {entry['elapsed_s']:.1f} s: "
                    f"{entry['requests_per_s']:.1f} req/s, p50 {lat['p50']} ms, "
                    f"p99 {lat['p99']} ms, errors {entry['errors']}, "
                    f"mismatches {entry['mismatches']}",
                    flush=True,
                )
            if len(refs) == 2 and "translate_with_options" in backend_facts["savedmodel"]["call"]:
                same = sum(
                    np.array_equal(_trim_pad_columns(a), _trim_pad_columns(b.astype(a.dtype)))
                    for a, b in zip(refs["savedmodel"], refs["onnx"], strict=True)
                )
                cross[f"batch_{batch}"] = {
                    "requests_identical": int(same),
                    "requests": len(requests),
                }

        report = {
            **report_header("load", git, load_start),
            "note": (
                "In-process client threads, no network. The machine is shared with other work "
                "during the run, so latencies are noisy; see load_average_1_5_15."
            ),
            "settings": {
                "threads": args.threads,
                "seconds": args.seconds,
                "warmup_seconds": args.warmup_seconds,
                "max_requests": args.max_requests,
                "batches": args.batches,
                "beam_width": args.beam,
                "n_best": 1,
                "max_length": max_length,
                "comparison": "np.array_equal of every response with the serial reference",
            },
            "model": {
                "version_dir": _show(version_dir),
                **model_desc,
                "config": config,
                "vocab_size": metadata.get("vocab_size"),
                "export_libraries": metadata.get("libraries"),
                "export_commit": metadata.get("commit"),
            },
            "data": {
                "corpus": "keras_s2s.generated_corpus.generate_default_corpus(seed=0).test, sources",
                "sentences": len(sentences),
                "requests": "consecutive batches, wrapping; thread k starts at k*n/threads",
            },
            "backends": backend_facts,
            "results": results,
            "cross_backend_serial_ids": cross,
            "total_seconds": round(time.perf_counter() - started, 1),
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
        print()
        print_table(results)
        if cross:
            print(
                "serial ids, savedmodel vs onnx: "
                + ", ".join(
                    f"{k} {v['requests_identical']}/{v['requests']}" for k, v in cross.items()
                )
            )
        print(f"wrote {os.path.relpath(args.out)}")
        failed = any(r["errors"] or r["mismatches"] or r["hung_threads"] for r in results)
        return 1 if failed else 0
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
