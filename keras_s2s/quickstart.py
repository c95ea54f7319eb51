# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The README's main job: train on the embedded corpus, export, and check every backend.

Steps: generate the embedded corpus; train (or resume) in the run dir; publish the next
version (SavedModel + ONNX); translate the held-out test split with the `keras`,
`savedmodel` and `onnx` backends; print a table of exact match per backend and the
agreement between backends.
"""

from __future__ import annotations

import time

from keras_s2s.config import RunConfig


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_quickstart(config: RunConfig, run_dir: str, out_dir: str) -> dict:
    """Runs the quickstart and prints its report.

    Args:
        config: Training configuration.
        run_dir: Where the run is written (rerunning resumes it).
        out_dir: The model dir the export is published under.

    Returns:
        The figures of the report: exact match per backend, agreement, seconds.
    """
    from keras_s2s.backends import OnnxBackend, SavedModelBackend, load
    from keras_s2s.exporting import export
    from keras_s2s.generated_corpus import generate_default_corpus
    from keras_s2s.training import train

    start = time.perf_counter()
    corpus = generate_default_corpus(seed=config.train.seed)
    print(
        f"embedded corpus: train {len(corpus.train)}, valid {len(corpus.valid)}, "
        f"test {len(corpus.test)} pairs (dates and numbers written out -> ISO dates, digits)",
        flush=True,
    )
    result = train(config, corpus.train, corpus.valid, run_dir)
    v = result.metrics["valid"]
    print(
        f"validation: loss {v['loss']:.4f}, token accuracy {v['token_accuracy']:.4f}, "
        f"perplexity {v['perplexity']:.3f}",
        flush=True,
    )
    version_dir = export(run_dir, out_dir, formats=("savedmodel", "onnx"))
    print(f"exported: {version_dir}", flush=True)

    sources = [s for s, _ in corpus.test]
    references = [t for _, t in corpus.test]
    backends = {
        "keras": load(run_dir, "keras"),
        "savedmodel": SavedModelBackend(version_dir),
        "onnx": OnnxBackend(f"{version_dir}/onnx/model.onnx"),
    }
    outputs, seconds = {}, {}
    for name, backend in backends.items():
        t0 = time.perf_counter()
        outputs[name] = backend.translate(sources)
        seconds[name] = time.perf_counter() - t0
    exact = {
        name: sum(o == r for o, r in zip(out, references, strict=True)) / len(references)
        for name, out in outputs.items()
    }
    agreement = sum(
        outputs["keras"][i] == outputs["savedmodel"][i] == outputs["onnx"][i]
        for i in range(len(sources))
    ) / len(sources)
    rows = [["backend", "exact match", "seconds"]]
    rows += [[n, f"{exact[n]:.2%}", f"{seconds[n]:.2f}"] for n in backends]
    print()
    print(_table(rows))
    print(f"agreement between all three backends: {agreement:.2%} of {len(sources)} sentences")
    for source, output, reference in list(zip(sources, outputs["onnx"], references, strict=True))[
        :5
    ]:
        print(f"  {source!r} -> {output!r} (reference {reference!r})")
    return {
        "test_sentences": len(sources),
        "exact_match": exact,
        "agreement": agreement,
        "translate_seconds": seconds,
        "version_dir": version_dir,
        "total_seconds": time.perf_counter() - start,
    }
