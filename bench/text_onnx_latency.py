# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Text-to-text ONNX (tokenization in the graph) vs ids ONNX + Python SentencePiece.

Both through `keras_s2s.load(version_dir, backend).translate(texts, beam=...)`, on the
same export and sentences: `onnx-text` (`onnx/model.text.onnx`) and `onnx` (the ids
graph, tokenized in Python): latency, output strings, and the Python tokenization
alone. The process never imports TensorFlow (docs/design.md, "Converter and runtime
notes"), and checks that at the end.

Usage (from the repository root; the export needs the onnx-text format):

    .venv/bin/python bench/text_onnx_latency.py --version-dir EXPORT/1 --data-dir PATH/TO/multi30k
    .venv/bin/python bench/text_onnx_latency.py --smoke    # tiny model, ~1.5 min, no data

Writes `bench/results/text_onnx_latency.json` (with `--smoke`: a temporary file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

import benchutil

SEARCHES = {"greedy": 1, "beam5": 5}
NAMES = {"onnx-text": "onnx-text", "onnx+sentencepiece": "onnx"}  # label -> backend


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--version-dir", help="an export with onnx/model.text.onnx")
    p.add_argument("--data-dir", help="Multi30k dir with test_2016_flickr.{de,en}.gz")
    p.add_argument("--smoke", action="store_true", help="train a tiny model; tiny repeats")
    p.add_argument("--out", help="JSON path (default: bench/results/text_onnx_latency.json)")
    p.add_argument("--batch-sizes", default="1,64", help="comma-separated batch sizes")
    p.add_argument("--batch1-sentences", type=int, default=4, help="sentences cycled at batch 1")
    p.add_argument("--repeats", type=int, default=24, help="timed calls per cell, batch 1")
    p.add_argument("--large-repeats", type=int, default=6, help="timed calls per cell, batch > 1")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls per cell")
    p.add_argument("--agreement-sentences", type=int, help="compare the first N (default: all)")
    args = p.parse_args(argv)
    if args.smoke:
        args.batch_sizes, args.repeats, args.large_repeats, args.warmup = "1,8", 2, 2, 1
    elif not (args.version_dir and args.data_dir):
        p.error("--version-dir and --data-dir are required (or --smoke)")
    return args


def main(argv=None):
    args = parse_args(argv)
    git, load_start, started = benchutil.git_facts(), os.getloadavg(), time.perf_counter()
    run_meter = benchutil.CpuMeter()
    import keras_s2s

    work = tempfile.mkdtemp(prefix="text-onnx-")
    try:
        if args.smoke:  # trained and exported in a child process: no TensorFlow here
            version_dir = benchutil.smoke_model(work, ("savedmodel", "onnx", "onnx-text"))[1]
            sources, data = [s for s, _ in benchutil.smoke_corpus().test], {}
        else:
            version_dir = args.version_dir
            sources, _, data = benchutil.multi30k_test(args.data_dir)
        backends = {label: keras_s2s.load(version_dir, name) for label, name in NAMES.items()}
        tokenizer = backends["onnx+sentencepiece"].tokenizer
        results = {}
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            n_in = args.batch1_sentences if batch == 1 else 1
            groups = [[s] for s in sources[:n_in]] if batch == 1 else [sources[:batch]]
            repeats = args.repeats if batch == 1 else args.large_repeats
            results[f"batch_{batch}"] = cells = {"inputs": n_in}
            for search, beam in SEARCHES.items():
                outputs = [[b.translate(g, beam=beam) for g in groups] for b in backends.values()]
                fns = {
                    label: lambda j, b=b, g=groups, beam=beam: b.translate(g[j % len(g)], beam=beam)
                    for label, b in backends.items()
                }
                meter = benchutil.CpuMeter()
                cell = benchutil.timed_blocks(
                    fns, dict.fromkeys(fns, repeats), warmup=args.warmup, cycle=n_in
                )
                cell["other_processes_cpu_share"] = meter.share()
                text, ids = (cell[label] for label in NAMES)
                for c in (text, ids):
                    c["sentences_per_second"] = round(batch * 1000.0 / c["median_ms"], 2)
                cell["onnx-text_over_onnx+sentencepiece"] = {
                    "median": round(text["median_ms"] / ids["median_ms"], 3),
                    "min": round(text["min_ms"] / ids["min_ms"], 3),
                }
                text_out, ids_out = ([s for g in out for s in g] for out in outputs)
                same = sum(a == b for a, b in zip(text_out, ids_out, strict=True))
                cell["strings_identical"] = {"rows_identical": same, "rows": batch * n_in}
                cells[search] = cell

            def roundtrip(j, groups=groups):  # Python SentencePiece alone
                tokenizer.decode(tokenizer.encode(groups[j % len(groups)]))

            cells["python_sentencepiece_encode_decode"] = benchutil.timed_blocks(
                {"sp": roundtrip}, {"sp": repeats}, warmup=args.warmup, cycle=n_in
            )["sp"]

        agreement, n = {}, min(args.agreement_sentences or len(sources), len(sources))
        for search, beam in SEARCHES.items():
            start = time.perf_counter()
            text, ids = (b.translate(sources[:n], beam=beam) for b in backends.values())
            diff = [i for i in range(n) if text[i] != ids[i]]
            agreement[search] = {
                "sentences": n,
                "strings_identical": n - len(diff),
                "first_differences": [
                    {"index": i, "onnx-text": text[i], "onnx": ids[i]} for i in diff[:5]
                ],
                "seconds_both": round(time.perf_counter() - start, 1),
            }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    report = benchutil.report_header("text_onnx_latency", git, load_start)
    report.update(
        version_dir=benchutil.portable(version_dir) if not args.smoke else None,
        data={**data, "sentences": len(sources)},
        other_processes_cpu_share={"whole_run": run_meter.share()},
        results=results,
        agreement_full_test_set=agreement,
        tensorflow_imported="tensorflow" in sys.modules,
        total_seconds=round(time.perf_counter() - started, 1),
    )
    folder = tempfile.gettempdir() if args.smoke else benchutil.RESULTS
    benchutil.write_json(report, args.out or os.path.join(folder, "text_onnx_latency.json"))
    rows = [
        [key, search, *(cell[search][label]["median_ms"] for label in NAMES),
         cell[search]["onnx-text_over_onnx+sentencepiece"]["median"]]
        for key, cell in results.items() for search in SEARCHES
    ]  # fmt: skip
    benchutil.print_table(["cell", "", "onnx-text ms", "onnx+sentencepiece ms", "ratio"], rows)
    assert all(a["strings_identical"] == a["sentences"] for a in agreement.values()), agreement
    assert "tensorflow" not in sys.modules, "tensorflow was imported"


if __name__ == "__main__":
    main()
