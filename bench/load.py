# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Concurrent load: client threads sharing one loaded SavedModel, then one ONNX session.

In-process, no network: every thread calls the same `keras_s2s.load(version_dir,
backend)`, the SavedModel's `translate_with_options` signature (text in) or the ONNX
session after tokenizing in the thread. Every response is compared exactly with the
serial output of the same request (`mismatches`); exceptions are `errors`. Without
`--model`, the quickstart configuration is trained for `--epochs` and exported. See
bench/README.md; `tests/test_concurrency.py` checks the same property on a tiny model.

Usage (from the repository root):

    .venv/bin/python bench/load.py [--model EXPORT/1] [--threads 8 --seconds 30]
    .venv/bin/python bench/load.py --smoke    # tiny model, short passes, ~1.5 min

Writes `bench/results/load.json` (with `--smoke`: a temporary file).
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import benchutil  # noqa: E402
import numpy as np  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="exported version dir (default: train the quickstart one)")
    p.add_argument("--threads", type=int, default=8, help="client threads")
    p.add_argument("--seconds", type=float, default=30.0, help="duration of each pass")
    p.add_argument("--max-requests", type=int, default=100_000, help="request cap of a pass")
    p.add_argument("--batch", default="1,8", help="sentences per request, one pass each")
    p.add_argument("--beam", type=int, default=1, help="beam width (1: greedy)")
    p.add_argument("--max-length", type=int, help="decode limit (default: the model's)")
    p.add_argument("--warmup-seconds", type=float, default=2.0, help="untimed load per pass")
    p.add_argument("--epochs", type=int, default=1, help="epochs of the model built here")
    p.add_argument("--work-dir", help="keep the model built without --model here")
    p.add_argument("--smoke", action="store_true", help="tiny model, 4 threads, 2-s passes")
    p.add_argument("--out", help="JSON path (default: bench/results/load.json)")
    args = p.parse_args(argv)
    if args.smoke:
        args.threads, args.seconds, args.warmup_seconds, args.batch = 4, 2.0, 0.5, "1,4"
    args.batches = [int(b) for b in args.batch.split(",")]
    return args


def quickstart_model(work: str, epochs: int) -> str:
    """The quickstart configuration trained for `epochs` and exported; the version dir."""
    from keras_s2s.cli import quickstart_config
    from keras_s2s.exporting import export
    from keras_s2s.generated_corpus import generate_default_corpus
    from keras_s2s.training import train

    config = quickstart_config().override(epochs=epochs)
    corpus = generate_default_corpus(seed=config.train.seed)
    train(config, corpus.train, corpus.valid, os.path.join(work, "run"), verbose=2)
    return export(os.path.join(work, "run"), os.path.join(work, "export"))


def callers(version_dir: str, max_length: int, beam: int) -> dict:
    """backend -> call(texts) returning the best hypotheses' ids `[batch, 1, time]`."""
    import keras_s2s

    scalars = {"max_length": max_length, "beam_width": beam, "n_best": 1}
    onnx = keras_s2s.load(version_dir, "onnx")  # ONNX Runtime first: docs/design.md
    feeds = {k: np.array(v, np.int32) for k, v in scalars.items()}
    import tensorflow as tf

    fn = keras_s2s.load(version_dir, "savedmodel").module.signatures["translate_with_options"]
    consts = {k: tf.constant(v) for k, v in scalars.items()}
    return {
        "savedmodel": lambda texts: fn(text=tf.constant(texts), **consts)["ids"].numpy(),
        "onnx": lambda texts: onnx.session.run(
            ["ids"], {"source_ids": onnx.source_ids(texts), **feeds}
        )[0],
    }


def run_load(call, requests, references, *, threads, seconds, max_requests) -> dict:
    """Sends requests from `threads` threads for `seconds` or `max_requests`, first wins."""
    n, lock, issued = len(requests), threading.Lock(), [0]
    latencies, errors, mismatches = [[] for _ in range(threads)], [], []
    barrier = threading.Barrier(threads + 1)  # every thread starts with the clock

    def worker(k):
        j = (k * n) // threads
        barrier.wait()
        while time.perf_counter() < deadline:
            with lock:
                if issued[0] >= max_requests:
                    break
                issued[0] += 1
            index, j = j % n, j + 1
            start = time.perf_counter()
            try:
                out = call(requests[index])
            except Exception as e:  # counted, not raised: the load goes on
                errors.append(f"request {index}: {type(e).__name__}: {e}"[:300])
                continue
            latencies[k].append((time.perf_counter() - start) * 1000.0)
            if not np.array_equal(out, references[index]):
                mismatches.append(index)

    workers = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(threads)]
    for w in workers:
        w.start()
    load_before, cpu = os.getloadavg(), os.times()
    start = time.perf_counter()
    deadline = start + seconds
    barrier.wait()
    for w in workers:  # bounded: a hung request is reported, not waited for forever
        w.join(timeout=max(0.0, deadline - time.perf_counter()) + 120.0)
    elapsed, cpu_end = time.perf_counter() - start, os.times()
    all_ms = np.concatenate([np.array(t) for t in latencies])
    all_ms = all_ms if all_ms.size else np.array([np.nan])  # every request failed
    pct = {f"p{q}": round(float(np.percentile(all_ms, q)), 2) for q in (50, 90, 99)}
    return {
        "seconds": seconds,
        "sent": issued[0],
        "completed": sum(map(len, latencies)),
        "errors": len(errors),
        "mismatches": len(mismatches),
        "hung_threads": sum(w.is_alive() for w in workers),
        "stopped_by": "max_requests" if issued[0] >= max_requests else "seconds",
        "elapsed_s": round(elapsed, 3),
        "latency_ms": {
            **pct,
            "max": round(float(all_ms.max()), 2),
            "mean": round(float(all_ms.mean()), 2),
        },
        "requests_per_s": round(sum(map(len, latencies)) / elapsed, 2),
        "process_cpu_s_per_wall_s": round((sum(cpu_end[:2]) - sum(cpu[:2])) / elapsed, 2),
        "requests_per_thread": [len(t) for t in latencies],
        "error_examples": errors[:5],
        "mismatch_examples": mismatches[:5],
        "load_average_1_5_15": {"start": list(load_before), "end": list(os.getloadavg())},
    }


def main(argv=None):
    args = parse_args(argv)
    git, load_start, started = benchutil.git_facts(), os.getloadavg(), time.perf_counter()
    import onnxruntime  # noqa: F401  (before TensorFlow: docs/design.md)

    from keras_s2s.backends import trim_ids

    work = args.work_dir or tempfile.mkdtemp(prefix="load-bench-")
    try:
        if args.smoke:
            version_dir = benchutil.smoke_model(work)[1]
            sentences = [s for s, _ in benchutil.smoke_corpus().test]
        else:
            version_dir = args.model or quickstart_model(work, args.epochs)
            from keras_s2s.generated_corpus import generate_default_corpus

            sentences = [s for s, _ in generate_default_corpus(seed=0).test]
        with open(os.path.join(version_dir, "metadata.json"), encoding="utf-8") as f:
            metadata = json.load(f)
        max_length = args.max_length or metadata["config"]["decode"]["max_length"]
        calls = callers(version_dir, max_length, args.beam)
        results, cross = [], {}
        for batch in args.batches:
            requests = [
                sentences[i : i + batch] for i in range(0, len(sentences) - batch + 1, batch)
            ]
            refs, load = {}, dict(threads=args.threads, max_requests=args.max_requests)
            for name, call in calls.items():
                start = time.perf_counter()
                refs[name] = [call(r) for r in requests]  # serial: the references
                serial_ms = (time.perf_counter() - start) * 1000.0 / len(requests)
                warm = run_load(call, requests, refs[name], seconds=args.warmup_seconds, **load)
                entry = {"backend": name, "batch": batch, "distinct_requests": len(requests)}
                entry["serial_reference"] = {"ms_per_request": round(serial_ms, 2)}
                entry["warmup"] = {k: warm[k] for k in ("completed", "errors", "mismatches")}
                entry.update(run_load(call, requests, refs[name], seconds=args.seconds, **load))
                entry["sentences_per_s"] = round(entry["requests_per_s"] * batch, 2)
                results.append(entry)
            same = sum(  # the two backends' serial outputs, trailing pad aside
                [trim_ids(r[0]) for r in a] == [trim_ids(r[0]) for r in b]
                for a, b in zip(refs["savedmodel"], refs["onnx"], strict=True)
            )
            cross[f"batch_{batch}"] = {"requests_identical": same, "requests": len(requests)}
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)

    report = benchutil.report_header("load", git, load_start)
    report.update(
        settings={
            **{k: getattr(args, k) for k in ("threads", "seconds", "warmup_seconds")},
            **{"max_requests": args.max_requests, "batches": args.batches},
            **{"beam_width": args.beam, "n_best": 1, "max_length": max_length},
        },
        model={
            "version_dir": benchutil.portable(version_dir),
            "config": metadata["config"],
            "vocab_size": metadata.get("vocab_size"),
            "export_libraries": metadata.get("libraries"),
            "export_commit": metadata.get("commit"),
        },
        data={"corpus": "generate_default_corpus(seed=0).test", "sentences": len(sentences)},
        results=results,
        cross_backend_serial_ids=cross,
        total_seconds=round(time.perf_counter() - started, 1),
    )
    folder = tempfile.gettempdir() if args.smoke else benchutil.RESULTS
    benchutil.write_json(report, args.out or os.path.join(folder, "load.json"))
    columns = ("backend", "batch", "completed", "requests_per_s", "errors", "mismatches")
    rows = [
        [r[c] for c in columns] + [r["latency_ms"]["p50"], r["latency_ms"]["p99"]] for r in results
    ]
    benchutil.print_table([*columns, "p50 ms", "p99 ms"], rows)
    print(f"serial ids, savedmodel vs onnx: {cross}")
    return 1 if any(r["errors"] or r["mismatches"] or r["hung_threads"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
