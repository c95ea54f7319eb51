# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The benchmarks' shared harness: what every results JSON records (machine, code
version, load, the command with portable paths), the one way latencies are timed
(`timed_blocks`), the CPU share of other processes (`CpuMeter`), and the tiny model of
the `--smoke` modes (`smoke_model`; run as a script, this module builds it).
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import math
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results")
TEST_SPLIT = "test_2016_flickr"
# The libraries whose versions every results JSON records.
LIBRARIES = """tensorflow tensorflow-text keras onnxruntime onnxruntime-extensions onnx tf2onnx
    sentencepiece sacrebleu numpy""".split()


def git_facts() -> dict:
    """The commit and which package files differ from it (others may edit concurrently)."""

    def git(*cmd):
        out = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True)
        return out.stdout.rstrip() if out.returncode == 0 else None

    status = git("status", "--porcelain", "--", "keras_s2s")
    return {
        "commit": git("rev-parse", "HEAD"),
        "keras_s2s_uncommitted": status.splitlines() if status else [],
    }


# Hosts of one kind ("AMD EPYC") differ by these, and by 2-3x in training speed.
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def machine_facts() -> dict:
    """CPU (model and vector flags), core count, platform and the library versions."""
    from keras_s2s.precision import cpu_flags

    cpu = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), None
            )
    except OSError:
        pass
    flags = [flag for flag in CPU_FLAGS if flag in cpu_flags()]
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            versions[lib] = None
    return {
        "nproc": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "cpu_flags": flags,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def portable(path: str) -> str:
    """A path as results record it: relative to the repository, else `PATH/TO/<name>`
    (a data dir or temporary export outside the checkout means nothing elsewhere)."""
    full = os.path.abspath(path)
    if full == ROOT or full.startswith(ROOT + os.sep):
        return os.path.relpath(full, ROOT)
    return "PATH/TO/" + os.path.basename(full.rstrip(os.sep))


def portable_command(argv: list[str]) -> str:
    """The command line with every existing or absolute path made `portable`."""

    def one(arg: str) -> str:
        flag, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        path = value.startswith(("/", "..")) or os.path.exists(value)
        return flag + eq + (portable(value) if path else value)

    inside = sys.executable.startswith(ROOT + os.sep)  # the project's venv
    return shlex.join([portable(sys.executable) if inside else "python", *map(one, argv)])


def report_header(benchmark: str, git: dict, load_start) -> dict:
    """The common head of every results JSON: what ran, when, where, on what code."""
    return {
        "benchmark": benchmark,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": portable_command(sys.argv),
        "machine": machine_facts(),
        "git": git,
        "load_average_1_5_15": {"start": list(load_start), "end": list(os.getloadavg())},
    }


def write_json(report: dict, path: str) -> None:
    """Writes a results JSON (UTF-8, indented, final newline), creating its folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {path}", flush=True)


def print_table(header: list[str], rows: list[list]) -> None:
    """Prints rows as left-aligned columns under a dashed header line."""
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    print("\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]]), flush=True)


class CpuMeter:
    """CPU time used by other processes since `start()` (from /proc/stat).

    `share()` is the other processes' CPU seconds over wall seconds times cores: 0 on a
    quiet machine, 0.5 when others kept one of two cores busy. Benchmarks on a shared
    machine record it so contention is visible, not guessed. The benchmark's own child
    processes (the PyTorch worker, say) count as its own once they have been joined.
    """

    def __init__(self):
        self.start()

    @staticmethod
    def _busy_seconds() -> float:
        with open("/proc/stat", encoding="utf-8") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own_seconds() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def start(self) -> None:
        self._busy, self._own = self._busy_seconds(), self._own_seconds()
        self._wall = time.perf_counter()

    def share(self) -> float:
        wall = time.perf_counter() - self._wall
        other = (self._busy_seconds() - self._busy) - (self._own_seconds() - self._own)
        return round(max(other, 0.0) / max(wall * os.cpu_count(), 1e-9), 3)


def latency_stats(times: list[float], warmup: int) -> dict:
    """Min, median and every run of a list of milliseconds."""
    return {
        "min_ms": round(min(times), 3),
        "median_ms": round(statistics.median(times), 3),
        "warmup": warmup,
        "repeats": len(times),
        "runs_ms": [round(t, 3) for t in times],
    }


def timed_blocks(fns: dict, repeats: dict, *, warmup: int = 0, passes: int = 2, cycle: int = 1):
    """Times several functions in blocks of back-to-back calls; ms statistics per name.

    `fns[name](j)` is that function's j-th call (so it can cycle through inputs). Each
    function first runs `warmup` times untimed. Then, in each of `passes` passes (forward
    order, then reversed, and so on), each function runs one untimed call and its share
    of `repeats[name]` timed calls back to back, as a process serving one backend
    would. The share is rounded up to whole cycles of `cycle` inputs, so every input is
    timed equally often. Why blocks and not calls alternated one by one: bench/README.md.

    Args:
        fns: name -> callable taking the call index.
        repeats: name -> timed calls in total (over all passes).
        warmup: Untimed calls per function before the first pass.
        passes: Passes over the functions, in alternating order.
        cycle: Number of distinct inputs `fns` cycle through.

    Returns:
        name -> `latency_stats` of its timed calls.
    """
    for fn in fns.values():
        for j in range(warmup):
            fn(j)
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for p in range(passes):
        for name in names if p % 2 == 0 else names[::-1]:
            fns[name](len(times[name]))  # wakes this backend's threads and caches
            for _ in range(max(cycle, math.ceil(repeats[name] / (passes * cycle)) * cycle)):
                j = len(times[name])
                start = time.perf_counter()
                fns[name](j)
                times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: latency_stats(times[name], warmup) for name in fns}


def time_calls(fn, iters: int, warm: int = 2) -> float:
    """Mean wall seconds of `fn()` over `iters` calls, after `warm` untimed ones."""
    for _ in range(warm):
        fn()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t0) / iters


def multi30k_test(data_dir: str) -> tuple[list[str], list[str], dict]:
    """Multi30k's test_2016_flickr: German sources, English references, their paths."""
    from keras_s2s.readers import read_pairs

    paths = {k: os.path.join(data_dir, f"{TEST_SPLIT}.{k}.gz") for k in ("de", "en")}
    pairs = read_pairs(paths["de"], "parallel", target_path=paths["en"]).pairs
    recorded = {"sources": portable(paths["de"]), "references": portable(paths["en"])}
    return [s for s, _ in pairs], [t for _, t in pairs], recorded


def smoke_corpus():
    """The small generated corpus (dates and numbers) the smoke modes train and test on."""
    from keras_s2s.generated_corpus import generate_default_corpus

    return generate_default_corpus(seed=0, num_dates=400, num_numbers=400)


def _train_and_export(work: str, formats: list[str], quantize: str | None) -> str:
    from keras_s2s.config import RunConfig
    from keras_s2s.exporting import export
    from keras_s2s.training import train

    config = RunConfig().override(
        vocab_size=120, embedding_dim=16, units=32, attention="luong", dropout=0.0,
        batch_size=32, epochs=2, learning_rate=1e-2, max_source_length=24, max_target_length=12,
    )  # fmt: skip
    corpus, run_dir = smoke_corpus(), os.path.join(work, "run")
    train(config, corpus.train, corpus.valid, run_dir, verbose=0)
    return export(run_dir, os.path.join(work, "export"), formats=formats, quantize=quantize)


def smoke_model(work: str, formats=("savedmodel", "onnx"), quantize=None) -> tuple[str, str]:
    """Trains a tiny model on `smoke_corpus()` and exports it under `work`, in a child
    process (the caller may never import TensorFlow); `(run_dir, version_dir)`."""
    cmd = [sys.executable, os.path.abspath(__file__), work, ",".join(formats), quantize or ""]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"{out.stderr[-4000:]}\nthe smoke model's training or export failed")
    print(f"smoke model trained and exported in {time.perf_counter() - start:.0f} s", flush=True)
    return os.path.join(work, "run"), out.stdout.split()[-1]


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, ROOT)
    print(_train_and_export(sys.argv[1], sys.argv[2].split(","), sys.argv[3] or None))
