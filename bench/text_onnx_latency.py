# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Text-to-text ONNX (tokenization in the graph) vs ids ONNX + Python SentencePiece.

Both run in ONNX Runtime on the same export, the same sentences and the same threads:

- `onnx-text`: `keras_s2s.backends.OnnxTextBackend` on `onnx/model.text.onnx`. Strings
  in, strings out: SentencePiece tokenization is the onnxruntime-extensions op
  `SentencepieceTokenizer`, detokenization is built from portable ops.
- `onnx+sentencepiece`: `keras_s2s.backends.OnnxBackend` on `onnx/model.onnx` (ids in,
  ids out); tokenization and detokenization run in Python with `sentencepiece`.

Both are timed through the public `translate(texts, beam=...)`, greedy and beam 5, at
batch 1 (a few test sentences, cycled) and batch 64 (the first 64), min/median over
repeats run back to back per backend, in two passes (forward, then reverse order). Their output strings are compared on the timed sentences and on
the whole test set. The Python tokenization alone is timed too.

This script never imports TensorFlow: a process that imported TensorFlow before
creating an ONNX Runtime session with SentencePiece custom ops crashed (exit 139). It
asserts that at the end.

It needs a version dir exported with the onnx-text format, e.g.

    .venv/bin/python -m keras_s2s export --run-dir RUN --out DIR \
        --format savedmodel,onnx,onnx-text --quantize int8

(or `bench/decode_latency.py --export-dir DIR`). Then, from the repository root:

    .venv/bin/python bench/text_onnx_latency.py --version-dir DIR/1 --data-dir MULTI30K_DIR

Writes `bench/results/text_onnx_latency.json` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import onnxruntime  # noqa: F401  (before anything else, see the docstring)
import onnxruntime_extensions  # noqa: F401
from benchutil import CpuMeter, git_facts, latency_stats, report_header

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "text_onnx_latency.json")
TEST_SPLIT = "test_2016_flickr"
SEARCHES = {"greedy": 1, "beam5": 5}
NAMES = ("onnx-text", "onnx+sentencepiece")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--version-dir", required=True, help="export with onnx/model.text.onnx")
    p.add_argument(
        "--data-dir", required=True, help=f"Multi30k dir with {TEST_SPLIT}.de.gz (sources)"
    )
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON output path")
    p.add_argument("--batch-sizes", default="1,64", help="comma-separated batch sizes")
    p.add_argument("--batch1-sentences", type=int, default=4, help="sentences cycled at batch 1")
    p.add_argument("--repeats", type=int, default=24, help="timed runs per cell, batch 1")
    p.add_argument("--large-repeats", type=int, default=6, help="timed runs per cell, batch > 1")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs per cell")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument(
        "--agreement-sentences",
        type=int,
        default=None,
        help="compare outputs on the first N test sentences (default: all)",
    )
    return p.parse_args(argv)


def timed_blocks(fns: dict, warmup: int, repeats: int, passes: int = 2) -> dict:
    """`fns[name](j)` runs input j. Each runs `warmup` times, then in each of `passes`
    passes (forward, then reverse order) one untimed warm-up and `repeats / passes`
    timed runs back to back, as a process serving one backend would (bench/README.md)."""
    for fn in fns.values():
        for j in range(warmup):
            fn(j)
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    per_pass = max(1, repeats // passes)
    for p in range(passes):
        for name in names if p % 2 == 0 else names[::-1]:
            fns[name](len(times[name]))
            for _ in range(per_pass):
                j = len(times[name])
                start = time.perf_counter()
                fns[name](j)
                times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: latency_stats(times[name], warmup) for name in fns}


def main(argv=None):
    args = parse_args(argv)
    git = git_facts()
    from keras_s2s.backends import OnnxBackend, OnnxTextBackend
    from keras_s2s.readers import read_pairs

    started = time.perf_counter()
    load_start = os.getloadavg()
    run_meter = CpuMeter()
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    de = os.path.join(args.data_dir, f"{TEST_SPLIT}.de.gz")
    en = os.path.join(args.data_dir, f"{TEST_SPLIT}.en.gz")
    sources = [s for s, _ in read_pairs(de, "parallel", target_path=en).pairs]
    onnx_dir = os.path.join(args.version_dir, "onnx")
    backends = {
        "onnx-text": OnnxTextBackend(os.path.join(onnx_dir, "model.text.onnx"), args.threads),
        "onnx+sentencepiece": OnnxBackend(os.path.join(onnx_dir, "model.onnx"), args.threads),
    }
    tokenizer = backends["onnx+sentencepiece"].tokenizer

    results, agreement = {}, {}
    for batch in batch_sizes:
        if batch == 1:
            groups = [[sources[i]] for i in range(args.batch1_sentences)]
            desc = f"test sentences 0..{args.batch1_sentences - 1}, one per call, cycled"
            repeats = args.repeats
        else:
            groups = [sources[:batch]]
            desc = f"first {batch} test sentences"
            repeats = args.large_repeats
        # Whole input cycles in each of the 2 passes.
        repeats = 2 * max(len(groups), -(-repeats // (2 * len(groups))) * len(groups))
        key = f"batch_{batch}"
        results[key] = {"inputs": desc}
        for search, beam in SEARCHES.items():
            outputs = {
                name: [b.translate(g, beam=beam) for g in groups] for name, b in backends.items()
            }
            same = sum(
                a == b
                for ga, gb in zip(*outputs.values(), strict=True)
                for a, b in zip(ga, gb, strict=True)
            )
            fns = {
                name: (lambda j, b=b, beam=beam, g=groups: b.translate(g[j % len(g)], beam=beam))
                for name, b in backends.items()
            }
            meter = CpuMeter()
            cell = timed_blocks(fns, args.warmup, repeats)
            cell["other_processes_cpu_share"] = meter.share()
            for name in NAMES:
                cell[name]["sentences_per_second"] = round(
                    batch / (cell[name]["median_ms"] / 1000.0), 2
                )
            cell["onnx-text_over_onnx+sentencepiece"] = {
                "median": round(
                    cell["onnx-text"]["median_ms"] / cell["onnx+sentencepiece"]["median_ms"], 3
                ),
                "min": round(cell["onnx-text"]["min_ms"] / cell["onnx+sentencepiece"]["min_ms"], 3),
            }
            cell["strings_identical"] = {"rows_identical": same, "rows": batch * len(groups)}
            results[key][search] = cell
            print(
                f"  {key} {search:<6} "
                + "  ".join(
                    f"{n} median {cell[n]['median_ms']:.1f} min {cell[n]['min_ms']:.1f} ms"
                    for n in NAMES
                )
                + f"  strings identical {same}/{batch * len(groups)}",
                flush=True,
            )

        # Python SentencePiece alone: encode + decode of the same sentences.
        def sp_roundtrip(j, groups=groups):
            texts = groups[j % len(groups)]
            tokenizer.decode(tokenizer.encode(texts))

        results[key]["python_sentencepiece_encode_decode"] = timed_blocks(
            {"sp": sp_roundtrip}, args.warmup, repeats
        )["sp"]

    n = min(args.agreement_sentences or len(sources), len(sources))
    for search, beam in SEARCHES.items():
        t0 = time.perf_counter()
        outs = {name: b.translate(sources[:n], beam=beam) for name, b in backends.items()}
        diff = [i for i, (a, b) in enumerate(zip(*outs.values(), strict=True)) if a != b]
        agreement[search] = {
            "sentences": n,
            "strings_identical": n - len(diff),
            "first_differences": [
                {"index": i, **{name: outs[name][i] for name in NAMES}} for i in diff[:5]
            ],
            "seconds_both": round(time.perf_counter() - t0, 1),
        }
        print(f"  agreement {search}: {n - len(diff)}/{n} strings identical", flush=True)

    assert "tensorflow" not in sys.modules, "tensorflow was imported"
    report = {
        **report_header("text_onnx_latency", git, load_start),
        "version_dir": os.path.abspath(args.version_dir),
        "data": {"sources": de, "sentences": len(sources)},
        "backends": {
            "onnx-text": (
                "keras_s2s.backends.OnnxTextBackend(onnx/model.text.onnx): strings in and "
                "out, tokenization in the graph (onnxruntime-extensions)"
            ),
            "onnx+sentencepiece": (
                "keras_s2s.backends.OnnxBackend(onnx/model.onnx): ids graph, Python "
                "sentencepiece tokenization and detokenization"
            ),
            "timed_call": "backend.translate(texts, beam=beam) (n_best 1, config max_length)",
            "timing": (
                f"{args.warmup} warm-up calls each, then 2 passes (forward, then reverse "
                "order); in each, one untimed call and half the repeats back to back"
            ),
            "threads": args.threads,
        },
        "other_processes_cpu_share": {
            "whole_run": run_meter.share(),
            "definition": (
                "CPU seconds used by other processes (from /proc/stat, minus this "
                "process's own CPU time) / (wall seconds x cores); 0 = quiet machine"
            ),
        },
        "results": results,
        "agreement_full_test_set": agreement,
        "tensorflow_imported": "tensorflow" in sys.modules,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")

    print("\nmedian ms (sentences/s)")
    for key, by_search in results.items():
        for search in SEARCHES:
            cell = by_search[search]
            print(
                f"  {key:<9} {search:<6} "
                + "  ".join(
                    f"{n}: {cell[n]['median_ms']:8.1f} ({cell[n]['sentences_per_second']:.1f})"
                    for n in NAMES
                )
                + f"  ratio {cell['onnx-text_over_onnx+sentencepiece']['median']}"
            )
    print(f"wrote {args.out} ({report['total_seconds']:.0f} s)")
    mismatches = {s: a["sentences"] - a["strings_identical"] for s, a in agreement.items()}
    assert not any(mismatches.values()), f"output strings differ: {mismatches}"
    assert "tensorflow" not in sys.modules, "tensorflow was imported"


if __name__ == "__main__":
    main()
