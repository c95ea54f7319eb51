# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Facts every benchmark records with its results: the machine and the code version."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARIES = (
    "tensorflow",
    "tensorflow-text",
    "keras",
    "onnxruntime",
    "onnxruntime-extensions",
    "onnx",
    "tf2onnx",
    "sentencepiece",
    "sacrebleu",
    "numpy",
)


def git_facts() -> dict:
    """The commit and which package files differ from it (others may edit concurrently)."""

    def git(*cmd):
        try:
            out = subprocess.run(
                ["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.rstrip() if out.returncode == 0 else None

    status = git("status", "--porcelain", "--", "keras_s2s")
    return {
        "commit": git("rev-parse", "HEAD"),
        "keras_s2s_uncommitted": status.splitlines() if status else [],
    }


def machine_facts() -> dict:
    """CPU, core count, platform and the versions of the libraries that matter here."""
    cpu = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
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
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def report_header(benchmark: str, git: dict, load_start) -> dict:
    """The common head of every results JSON: what ran, when, where, on what code."""
    import datetime
    import shlex
    import sys

    return {
        "benchmark": benchmark,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join([os.path.relpath(sys.executable), *sys.argv]),
        "machine": machine_facts(),
        "git": git,
        "load_average_1_5_15": {"start": list(load_start), "end": list(os.getloadavg())},
    }


class CpuMeter:
    """CPU time used by other processes while this one runs (from /proc/stat).

    `share()` is the other processes' CPU seconds divided by wall seconds times cores
    since `start()`: 0 on a quiet machine, 0.5 when others kept one of two cores busy.
    Benchmarks on a shared machine record it so contention is visible, not guessed.
    """

    def __init__(self):
        self.start()

    @staticmethod
    def _busy_seconds() -> float | None:
        try:
            with open("/proc/stat", encoding="utf-8") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self._busy = self._busy_seconds()
        self._own = time.process_time()
        self._wall = time.perf_counter()

    def share(self) -> float | None:
        busy = self._busy_seconds()
        if busy is None or self._busy is None:
            return None
        wall = time.perf_counter() - self._wall
        other = (busy - self._busy) - (time.process_time() - self._own)
        return round(max(other, 0.0) / max(wall * (os.cpu_count() or 1), 1e-9), 3)


def latency_stats(times: list[float], warmup: int) -> dict:
    return {
        "min_ms": round(min(times), 3),
        "median_ms": round(statistics.median(times), 3),
        "warmup": warmup,
        "repeats": len(times),
        "runs_ms": [round(t, 3) for t in times],
    }


def time_calls(fn, iters: int, warm: int = 2) -> float:
    """Mean wall seconds of `fn()` over `iters` calls, after `warm` untimed ones."""
    for _ in range(warm):
        fn()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - t0) / iters
