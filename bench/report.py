# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Draws bench/results/performance.png from the results JSON and prints its figures:
decoding latency and test BLEU per backend, and Keras against PyTorch training
throughput (a missing JSON file leaves its panel out).

Usage (from the repository root):

    .venv/bin/python bench/report.py [--results-dir DIR] [--out FILE.png]
    .venv/bin/python bench/report.py --smoke    # the recorded JSON, to a temporary PNG
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import tempfile

import benchutil

BACKENDS = ("predict_loop", "savedmodel", "onnx", "onnx-int8")
COLORS = ("#999999", "#ff8f00", "#1565c0", "#64b5f6")
CELLS = (("batch_1", "greedy"), ("batch_1", "beam5"), ("batch_64", "greedy"), ("batch_64", "beam5"))


def read(results_dir: str, name: str) -> dict:
    path = pathlib.Path(results_dir, f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def bars(ax, groups: list[str], series: dict, colors, log=False) -> None:
    """Grouped bars, `series[label]` holding one value (or None: "n/a") per group."""
    width = 0.8 / len(series)
    for i, ((label, values), color) in enumerate(zip(series.items(), colors, strict=False)):
        x = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(x, [v or 0 for v in values], width, label=label, color=color)
        for xi, v in zip(x, values, strict=True):
            text, at = ("n/a", 0.02) if v is None else (f"{v:,.0f}" if v >= 100 else f"{v:.3g}", v)
            coords = ("data", "axes fraction" if v is None else "data")
            ax.annotate(text, (xi, at), xycoords=coords, ha="center", va="bottom", fontsize=6.5)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_yscale("log" if log else "linear")
    top = max(v for values in series.values() for v in values if v is not None)
    ax.set_ylim(top=top * (6 if log else 1.25))  # room for the labels and the legend
    ax.grid(axis="y", which="both", alpha=0.25)


def field(tree: dict, *keys):
    """`tree[k1][k2]...`, or None where a key is missing or a cell is n/a (a string)."""
    for key in keys:
        tree = tree.get(key) if isinstance(tree, dict) else None
    return tree


def plot(decode: dict, train: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores, kv = field(decode, "quality", "scores"), train.get("keras_vs_pytorch")
    panels = [p for p, have in (("latency", decode), ("bleu", scores), ("train", kv)) if have]
    widths = [{"latency": 3.0, "bleu": 1.4, "train": 1.0}[p] for p in panels]
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.2 * sum(widths), 4.6), width_ratios=widths, squeeze=False
    )
    for ax, panel in zip(axes[0], panels, strict=True):
        if panel == "latency":
            series = {
                n: [field(decode, "results", k, s, n, "median_ms") for k, s in CELLS]
                for n in BACKENDS
            }
            bars(ax, [f"{k.replace('_', ' ')}\n{s}" for k, s in CELLS], series, COLORS, log=True)
            ax.set(ylabel="median latency per call, ms", title="Decoding latency")
            ax.legend(fontsize=7.5, loc="upper center", ncol=4)
        elif panel == "bleu":
            searches = ("greedy", "beam5")
            series = {n: [field(scores, n, s, "bleu") for s in searches] for n in BACKENDS}
            bars(ax, ["greedy", "beam 5"], series, COLORS)
            ax.set(ylabel="BLEU (sacrebleu, cased)", title="Test BLEU")
        else:
            frameworks = {"Keras fit": "keras", "PyTorch": "pytorch"}
            values = [field(kv, f"{k}_tokens_per_second", "median") for k in frameworks.values()]
            bars(ax, list(frameworks), {"median": values}, ["#d32f2f"])
            ax.set(ylabel="target tokens/s, median", title="Training throughput")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results-dir", default=benchutil.RESULTS)
    p.add_argument("--out", help="default: performance.png in --results-dir")
    p.add_argument("--smoke", action="store_true", help="write the PNG to a temporary file")
    args = p.parse_args(argv)
    folder = tempfile.gettempdir() if args.smoke else args.results_dir
    decode, train = (read(args.results_dir, n) for n in ("decode_latency", "train_throughput"))
    plot(decode, train, args.out or os.path.join(folder, "performance.png"))
    rows = [
        [k, s, *(field(decode, "results", k, s, n, "median_ms") for n in BACKENDS)]
        for k, s in CELLS
    ]
    benchutil.print_table(["median ms", "", *BACKENDS], rows if decode else [])


if __name__ == "__main__":
    main()
