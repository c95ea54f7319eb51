# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Decoding speed and quality of a trained model: predict() loop, SavedModel, ONNX Runtime.

One process, one trained run, four ways to decode the same source ids: `predict_loop`
(the Keras seq2seq example's per-token `predict()` loop, greedy only), `savedmodel` (the
export's `translate_ids` signature), `onnx` and `onnx-int8` (ONNX Runtime). Latency per
cell (batch 1 and 64, greedy and beam 5), BLEU on the test set, ratios and targets, beam
search against `max_length`, and the machine's fp32 GEMM peak: see bench/README.md.

Usage (from the repository root):

    .venv/bin/python bench/decode_latency.py --run-dir runs/NAME \
        --data-dir PATH/TO/multi30k [--export-dir EXPORT | --version-dir EXPORT/1]
    .venv/bin/python bench/decode_latency.py --smoke    # tiny model, ~2.5 min, no data

Writes `bench/results/decode_latency.json` (with `--smoke`: a temporary file).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import benchutil  # noqa: E402
import numpy as np  # noqa: E402

BACKENDS = ("predict_loop", "savedmodel", "onnx", "onnx-int8")
IN_GRAPH = BACKENDS[1:]
SEARCHES = {"greedy": 1, "beam5": 5}
LOOP_NOT_APPLICABLE = "n/a (greedy only)"
SCALING_LENGTHS = (50, 200)
# --smoke: the per-token predict() loop costs ~50 ms a step, so few calls of few steps.
SMOKE = dict(batch_sizes="1,8", batch1_sentences=2, max_length=12, repeats=2, large_repeats=2)
SMOKE |= dict(loop_repeats=2, loop_large_repeats=1, warmup=1, bleu_limit=40, loop_bleu_limit=8)
SMOKE |= dict(scaling_repeats=1)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", help="training run dir (model.keras)")
    p.add_argument("--data-dir", help="Multi30k dir with test_2016_flickr.{de,en}.gz")
    p.add_argument("--out", help="JSON path (default: bench/results/decode_latency.json)")
    p.add_argument("--export-dir", help="export the run here and keep it (default: temporary)")
    p.add_argument("--version-dir", help="an existing export (savedmodel, onnx, int8) to use")
    p.add_argument("--smoke", action="store_true", help="train a tiny model; tiny repeats")
    p.add_argument("--batch-sizes", default="1,64", help="comma-separated batch sizes")
    p.add_argument("--batch1-sentences", type=int, default=4, help="sentences cycled at batch 1")
    p.add_argument("--max-length", type=int, help="default: the config's")
    p.add_argument("--repeats", type=int, default=48, help="timed in-graph calls, batch 1")
    p.add_argument("--large-repeats", type=int, default=8, help="timed in-graph calls, batch > 1")
    p.add_argument("--loop-repeats", type=int, default=12, help="timed predict-loop calls, batch 1")
    p.add_argument("--loop-large-repeats", type=int, default=2, help="the same, batch > 1")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls per backend, batch 1")
    p.add_argument("--passes", type=int, default=2, help="timing passes over the backends")
    p.add_argument("--bleu-batch-size", type=int, default=64)
    p.add_argument("--bleu-limit", type=int, help="score only the first N test sentences")
    p.add_argument("--loop-bleu-limit", type=int, help="the predict loop scores only N")
    p.add_argument("--scaling-repeats", type=int, default=5, help="timed runs per scaling cell")
    args = p.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    elif not (args.run_dir and args.data_dir):
        p.error("--run-dir and --data-dir are required (or --smoke)")
    return args


# The Keras example's predict() loop.


def build_predict_models(model):
    """An encoder model and a one-step decoder model, as in the Keras seq2seq example.

    The step model maps `[ids [b], *rnn_states [b, units], memory [b, s, d], source_ids
    [b, s]]` to `[logits [b, vocab], *new_rnn_states]`: with attention, the encoder
    outputs and source ids go into every step.
    """
    import keras

    from keras_s2s.models import Seq2Seq

    s2s = Seq2Seq.from_model(model)
    if s2s.decoder.input_feeding:
        raise SystemExit("the predict-loop step model does not support input feeding")

    class DecoderStep(keras.Model):
        def __init__(self, decoder):
            super().__init__()
            self.decoder = decoder

        def call(self, inputs):
            ids, *states, memory, source_ids = inputs
            state = self.decoder.initial_decoder_state(states, memory, source_ids)
            logits, new_state, _ = self.decoder.step(ids, state)
            return [logits, *new_state["rnn"]]

    return s2s.encoder_model(), DecoderStep(s2s.decoder)


def predict_loop(models, source_ids, steps, stop_at_eos, joint_ids=None):
    """Encoder `predict()` once, then one decoder-step `predict()` per token.

    Runs `steps` steps, or stops once every row has emitted eos if `stop_at_eos`.
    Returns int32 ids `[batch, steps_run]`, pad after eos as the graphs write them; a
    decoder restricted to a target vocabulary feeds back its own ids, which `joint_ids`
    maps to the tokenizer's at the end, as `translate_ids` does.
    """
    from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID

    encoder_model, step_model = models
    batch = source_ids.shape[0]
    encoded = encoder_model.predict(source_ids, batch_size=batch, verbose=0)
    memory, states = encoded[0], list(encoded[1:])
    ids = np.full([batch], SOS_ID, np.int32)
    finished = np.zeros([batch], bool)
    out = []
    for _ in range(steps):
        result = step_model.predict([ids, *states, memory, source_ids], batch_size=batch, verbose=0)
        ids, states = result[0].argmax(axis=-1).astype(np.int32), list(result[1:])
        out.append(np.where(finished, PAD_ID, ids))
        finished |= ids == EOS_ID
        if stop_at_eos and finished.all():
            break
    out = np.stack(out, axis=1)
    return out if joint_ids is None else np.where(out == PAD_ID, PAD_ID, joint_ids[out])


# Machine peak and beam search against max_length.


def gemm_peak(size: int = 1024, repeats: int = 20) -> dict:
    """TensorFlow's fp32 `[size, size] @ [size, size]` rate (median of `repeats` runs)."""
    import tensorflow as tf

    a = tf.random.normal([size, size], seed=1)
    b = tf.random.normal([size, size], seed=2)
    matmul = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))

    def call():
        return matmul(a, b).numpy()

    times = [benchutil.time_calls(call, 1, warm=3 if i == 0 else 0) for i in range(repeats)]
    ms = 1000 * statistics.median(times)
    return {"size": size, "median_ms": round(ms, 2), "gflop_per_s": round(2e-6 * size**3 / ms, 1)}


def beam_length_scaling(model, source, repeats: int, beam=5) -> dict:
    """`decoding.beam_search` and the implementation it replaced, on the model's step
    function with eos masked out, so that every run takes exactly `max_length` steps.

    Returns the median ms per implementation and length, and `ratio`: the time at the
    longest length over the time at the shortest (4.0 would be linear in the length).
    """
    import tensorflow as tf

    sys.path.insert(0, os.path.join(benchutil.ROOT, "tests"))
    from beam_reference import reference_beam_search

    from keras_s2s.config import EOS_ID
    from keras_s2s.decoding import NEG_INF, beam_search
    from keras_s2s.models import Seq2Seq

    s2s = Seq2Seq.from_model(model)

    def no_eos(ids, state):
        logits, *rest = s2s.step(ids, state)
        eos = tf.equal(tf.range(tf.shape(logits)[-1]), EOS_ID)
        return (tf.where(eos, NEG_INF, tf.cast(logits, tf.float32)), *rest)

    def compiled(search):
        spec = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32)]

        @tf.function(input_signature=spec, autograph=False)
        def run(source_ids, max_length):
            state = s2s.encode(source_ids)
            return search(no_eos, state, tf.shape(source_ids)[0], max_length, beam, n_best=1).ids

        return run

    source = tf.constant(source, tf.int32)
    impls = {"step_history": compiled(beam_search), "reference": compiled(reference_beam_search)}
    out = {"batch": int(source.shape[0]), "beam": beam, "lengths": list(SCALING_LENGTHS)}
    out["median_ms"], ids = {}, collections.defaultdict(list)
    for name, fn in impls.items():
        out["median_ms"][name] = {}
        for length in SCALING_LENGTHS:

            def call(fn=fn, length=length):
                return fn(source, length).numpy()

            ids[length].append(call())  # traces, warms up
            runs = [benchutil.time_calls(call, 1, warm=0) for _ in range(repeats)]
            out["median_ms"][name][str(length)] = round(1000 * statistics.median(runs), 1)
    short, long = (str(n) for n in SCALING_LENGTHS)
    out["ratio"] = {name: round(ms[long] / ms[short], 2) for name, ms in out["median_ms"].items()}
    out["same_ids_as_reference"] = all(np.array_equal(a, b) for a, b in ids.values())
    print(f"beam search vs max_length: {out['median_ms']}, ratio {out['ratio']}", flush=True)
    return out


# Ratios and targets.


def ratios_of(results: dict, batch_sizes: list[int]) -> dict:
    """Speed-ups (slow over fast) and beam 5 over greedy, of medians and of minimums."""
    pairs = {
        "savedmodel_speedup_vs_predict_loop": ("predict_loop", "savedmodel"),
        "onnx_speedup_vs_savedmodel": ("savedmodel", "onnx"),
        "int8_speedup_vs_onnx_fp32": ("onnx", "onnx-int8"),
        "int8_speedup_vs_savedmodel": ("savedmodel", "onnx-int8"),
    }
    out = {}
    for stat, bucket in (("median_ms", "of_medians"), ("min_ms", "of_minimums")):
        r = out[bucket] = collections.defaultdict(dict)
        for batch in batch_sizes:
            cells = {s: results[f"batch_{batch}"][s] for s in SEARCHES}
            ms = {
                (s, n): c[n][stat]
                for s, c in cells.items()
                for n in BACKENDS
                if isinstance(c.get(n), dict)
            }
            for search in SEARCHES:
                for rname, (slow, fast) in pairs.items():
                    if isinstance(cells[search][slow], dict):
                        ratio = ms[search, slow] / ms[search, fast]
                        r[rname][f"batch_{batch}_{search}"] = round(ratio, 3)
            for name in IN_GRAPH:
                ratio = ms["beam5", name] / ms["greedy", name]
                r["beam5_latency_over_greedy"][f"batch_{batch}_{name}"] = round(ratio, 3)
    return out


def targets_of(batch_sizes, ratios, results, scores, gemm, step_params) -> dict:
    """Each target: what it is, its goal, the measured figure and whether it is met."""
    med, big, targets = ratios["of_medians"], max(batch_sizes), {}

    def target(name, what, cell, goal, measured):
        if measured is not None:
            op, value = goal.split()
            met = measured >= float(value) if op == ">=" else measured <= float(value)
            targets[name] = {"what": what, "target": goal, "measured": measured, "met": met}
            targets[name]["cell"] = cell

    target("savedmodel_vs_predict_loop_batch_1_greedy", "SavedModel speed-up over the "
           "per-token predict() loop", "batch 1, greedy, identical steps", ">= 100.0",
           med["savedmodel_speedup_vs_predict_loop"].get("batch_1_greedy"))  # fmt: skip
    target("onnx_fp32_vs_savedmodel_batch_1_greedy", "SavedModel latency over ONNX Runtime "
           "fp32 latency", "batch 1, greedy", "<= 1.5",
           med["onnx_speedup_vs_savedmodel"].get("batch_1_greedy"))  # fmt: skip
    for name in ("savedmodel", "onnx") if big > 1 else ():
        for search, beam in SEARCHES.items():
            # 2 flops per weight and row, over the time per decode step.
            cell = results[f"batch_{big}"][search][name]
            gflops = 2.0 * step_params * big * beam / cell["median_ms_per_step"] / 1e6
            cell["decode_gflop_per_s"] = round(gflops, 1)
            target(f"gemm_peak_share_batch_{big}_{search}_{name}", "decoding GFLOP/s over the "
                   "fp32 GEMM peak", f"batch {big}, {search}", ">= 0.5",
                   round(gflops / gemm["gflop_per_s"], 3))  # fmt: skip
    for key, speedup in med["int8_speedup_vs_onnx_fp32"].items():
        target(f"int8_vs_onnx_fp32_{key}", "ONNX Runtime int8 speed-up over fp32",
               key.replace("_", " ", 1).replace("_", ", "), ">= 1.5", speedup)  # fmt: skip
    for search in SEARCHES:
        for kind in ("bleu", "bleu_lowercase"):
            drop = round(scores["onnx"][search][kind] - scores["onnx-int8"][search][kind], 2)
            target(f"int8_{kind}_drop_{search}", f"{kind} of ONNX fp32 minus {kind} of int8",
                   f"test sentences, {search}", "<= 0.5", drop)  # fmt: skip
    for name in IN_GRAPH if 1 in batch_sizes else ():
        target(f"beam5_over_greedy_batch_1_{name}", "beam 5 latency over greedy latency",
               f"batch 1, {name}", "<= 2.5", med["beam5_latency_over_greedy"][f"batch_1_{name}"])  # fmt: skip
    return targets


# Main.


def compare_rows(reference, other) -> dict:
    same = sum(a == b for a, b in zip(reference, other, strict=True))
    return {"rows_identical": same, "rows": len(reference), "identical": same == len(reference)}


def quality(texts, ids, references, seconds) -> dict:
    from keras_s2s.evaluation import score

    s = score(texts, references[: len(texts)])
    return {
        **{k: round(s[k], 2) for k in ("bleu", "bleu_lowercase", "chrf")},
        "sentences": s["sentences"],
        "mean_output_tokens": round(float(np.mean([len(r) for r in ids])), 2),
        "seconds": round(seconds, 1),
        "sentences_per_second": round(len(texts) / max(seconds, 1e-9), 1),
    }


def main(argv=None):
    args = parse_args(argv)
    git = benchutil.git_facts()  # at the start: others may edit the package meanwhile
    load_start, started, run_meter = os.getloadavg(), time.perf_counter(), benchutil.CpuMeter()
    # ONNX Runtime before TensorFlow (docs/design.md, "Converter and runtime notes").
    import onnxruntime  # noqa: F401
    import tensorflow as tf

    import keras_s2s
    from keras_s2s.backends import pad_ids, trim_ids
    from keras_s2s.config import PAD_ID, RunConfig
    from keras_s2s.exporting import export
    from keras_s2s.models import Seq2Seq
    from keras_s2s.tokenizer import Tokenizer
    from keras_s2s.training import CONFIG_FILENAME, load_model

    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    work = tempfile.mkdtemp(prefix="decode-latency-")
    try:
        run_dir, version_dir, export_seconds = args.run_dir, args.version_dir, None
        if args.smoke:
            formats = ("savedmodel", "onnx", "onnx-text")
            run_dir, version_dir = benchutil.smoke_model(work, formats, "int8")
            sources, references = map(list, zip(*benchutil.smoke_corpus().test, strict=True))
            data = {}
        else:
            sources, references, data = benchutil.multi30k_test(args.data_dir)
        config = RunConfig.load(os.path.join(run_dir, CONFIG_FILENAME))
        max_length = args.max_length or config.decode.max_length
        model = load_model(run_dir)  # the weights the export is (or was) made from
        tokenizer = Tokenizer.load(run_dir)
        cut = config.data.max_source_length  # sources as ids, truncated as the graphs do
        src = pad_ids([r[:cut] for r in tokenizer.encode(sources)], np.int32)
        lengths = (src != PAD_ID).sum(axis=1)

        def rows(index):
            """The sources at `index`, padded to the longest of them only."""
            index = list(index)
            return src[index][:, : max(1, int(lengths[index].max()))]

        scaling = beam_length_scaling(model, rows(range(min(64, len(src)))), args.scaling_repeats)
        if not version_dir:
            start, formats = time.perf_counter(), ("savedmodel", "onnx", "onnx-text")
            version_dir = export(run_dir, args.export_dir or work, formats=formats, quantize="int8")
            export_seconds = round(time.perf_counter() - start, 1)
        gemm = gemm_peak()
        decoder = Seq2Seq.from_model(model).decoder
        # The weights every decode step multiplies by: all the decoder's but its embedding.
        step_params = sum(
            int(np.prod(w.shape)) for w in decoder.weights if "embedding" not in w.path
        )
        loop_models = build_predict_models(model)
        joint = None if decoder.target_ids is None else np.asarray(decoder.target_ids, np.int32)
        backends = {name: keras_s2s.load(version_dir, name) for name in IN_GRAPH}
        translate_ids = backends["savedmodel"].module.signatures["translate_ids"]

        def run(name, source, beam, steps=None):
            """Best hypothesis ids `[batch, time]` of one backend on one batch of ids."""
            scalars = {"max_length": max_length, "beam_width": beam, "n_best": 1}
            if name == "savedmodel":
                feed = {k: tf.constant(v, tf.int32) for k, v in scalars.items()}
                return translate_ids(source_ids=tf.constant(source), **feed)["ids"].numpy()[:, 0]
            if name == "predict_loop":  # `steps` None: to the natural stop
                return predict_loop(loop_models, source, steps or max_length, not steps, joint)
            feed = {k: np.array(v, np.int32) for k, v in scalars.items()}
            return backends[name].session.run(
                ["ids"], {"source_ids": source.astype(np.int64), **feed}
            )[0][:, 0]

        # 1. Latency: every cell's backends in blocks (benchutil.timed_blocks).
        results, checks = {}, collections.defaultdict(dict)
        for batch in batch_sizes:
            key, n_in = f"batch_{batch}", args.batch1_sentences if batch == 1 else 1
            groups = [rows([i]) for i in range(n_in)] if batch == 1 else [rows(range(batch))]
            results[key] = {"inputs": n_in}
            for search, beam in SEARCHES.items():
                names = BACKENDS if beam == 1 else IN_GRAPH
                # Untimed reference runs: outputs, steps and agreement.
                raw = {n: [run(n, g, beam) for g in groups] for n in names}
                steps = {n: [int(ids.shape[1]) for ids in raw[n]] for n in names}
                ref = {n: [trim_ids(r) for ids in raw[n] for r in ids] for n in names}
                tokens = {n: round(float(np.mean([len(r) for r in ref[n]])), 2) for n in names}
                cell = {n: {"steps": steps[n], "mean_output_tokens": tokens[n]} for n in names}
                checks[key][search] = {
                    f"{n}_vs_savedmodel": compare_rows(ref["savedmodel"], ref[n])
                    for n in names
                    if n != "savedmodel"
                }
                if beam == 1:  # the timed loop runs the SavedModel's steps: identical work
                    cell["predict_loop"]["natural_stop_steps"] = steps["predict_loop"]
                    cell["predict_loop"]["steps"] = steps["savedmodel"]
                fns = {
                    n: lambda j, n=n, g=groups, b=beam, s=steps["savedmodel"]: run(
                        n, g[j % len(g)], b, s[j % len(g)] if n == "predict_loop" else None
                    )
                    for n in names
                }
                small = batch == 1
                repeats = {n: args.repeats if small else args.large_repeats for n in names}
                repeats["predict_loop"] = args.loop_repeats if small else args.loop_large_repeats
                meter = benchutil.CpuMeter()
                # Batch > 1 needs no warm-up beyond the reference runs just made.
                warmup = args.warmup if small else 0
                timings = benchutil.timed_blocks(
                    fns, repeats, warmup=warmup, passes=args.passes, cycle=len(groups)
                )
                cell["other_processes_cpu_share"] = meter.share()
                for name in names:
                    c = cell[name]
                    c.update(timings[name], mean_steps=round(float(np.mean(c["steps"])), 2))
                    c["median_ms_per_step"] = round(c["median_ms"] / c["mean_steps"], 3)
                    c["sentences_per_second"] = round(batch * 1000.0 / c["median_ms"], 2)
                if beam != 1:
                    cell["predict_loop"] = LOOP_NOT_APPLICABLE
                results[key][search] = cell

        # 2. Quality on the test set, in batches ordered by source length.
        def translate(name, index, beam):
            """(texts, ids) of the sources at `index` (in batches of --bleu-batch-size)."""
            size = args.bleu_batch_size
            if name == "predict_loop":  # to its natural stop, like the graphs
                chunks = (rows(index[i : i + size]) for i in range(0, len(index), size))
                ids = [trim_ids(r) for chunk in chunks for r in run(name, chunk, 1)]
                return tokenizer.decode(ids), ids
            texts = [sources[i] for i in index]
            hyps = backends[name].translate_detailed(
                texts, beam=beam, max_length=max_length, batch_size=size
            )
            return [h.text for h in hyps], [h.ids for h in hyps]

        n_bleu = min(args.bleu_limit or len(sources), len(sources))
        n_loop = min(args.loop_bleu_limit or n_bleu, n_bleu)  # the loop is the slow one
        scores, outputs = collections.defaultdict(dict), collections.defaultdict(dict)
        for name in BACKENDS:
            order = sorted(
                range(n_loop if name == "predict_loop" else n_bleu), key=lengths.__getitem__
            )
            for search, beam in SEARCHES.items():
                if name == "predict_loop" and beam != 1:
                    scores[name][search] = LOOP_NOT_APPLICABLE
                    continue
                start = time.perf_counter()
                texts, ids = translate(name, order, beam)
                seconds = time.perf_counter() - start
                back = np.argsort(order)  # input order again
                outputs[name][search] = [texts[i] for i in back], [ids[i] for i in back]
                scores[name][search] = quality(*outputs[name][search], references, seconds)
        agreement = collections.defaultdict(dict)
        for name in ("onnx", "onnx-int8", "predict_loop"):
            for search, (texts, ids) in outputs[name].items():
                ref_texts, ref_ids = (x[: len(ids)] for x in outputs["savedmodel"][search])
                entry = compare_rows(ref_ids, ids)
                entry["strings_identical"] = sum(
                    a == b for a, b in zip(ref_texts, texts, strict=True)
                )
                agreement[f"{name}_vs_savedmodel"][search] = entry
        ratios = ratios_of(results, batch_sizes)
        targets = targets_of(batch_sizes, ratios, results, scores, gemm, step_params)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    kept = args.export_dir or args.version_dir  # else the export was temporary
    report = benchutil.report_header("decode_latency", git, load_start)
    report.update(
        model={
            "run_dir": benchutil.portable(run_dir),
            "parameters": model.count_params(),
            "decoder_step_parameters": step_params,
            "vocab_size": tokenizer.vocab_size,
            **config.to_dict()["model"],
        },
        export={
            "version_dir": benchutil.portable(version_dir) if kept else None,
            "seconds": export_seconds,
        },
        data={
            **data,
            "sentences": len(sources),
            "max_source_length": config.data.max_source_length,
        },
        decode={"max_length": max_length, "length_penalty": config.decode.length_penalty},
        other_processes_cpu_share={"whole_run": run_meter.share()},
        results=results,
        gemm_peak_fp32=gemm,
        beam_length_scaling=scaling,
        beam_length_scaling_ratio=scaling["ratio"],
        ids_agreement_latency_inputs=checks,
        ratios=ratios,
        targets=targets,
        quality={"sentences": n_bleu, "predict_loop_sentences": n_loop},
        total_seconds=round(time.perf_counter() - started, 1),
    )
    report["quality"].update(scores=scores, agreement_with_savedmodel=agreement)
    folder = tempfile.gettempdir() if args.smoke else benchutil.RESULTS
    benchutil.write_json(report, args.out or os.path.join(folder, "decode_latency.json"))
    cells = [(k, s) for k in results for s in SEARCHES]
    ms = [[n, *(_median(results[k][s].get(n)) for k, s in cells)] for n in BACKENDS]
    benchutil.print_table(["median ms", *(f"{k} {s}" for k, s in cells)], ms)
    bleu = [
        [n, *(q["bleu"] if isinstance(q, dict) else q for q in by.values())]
        for n, by in scores.items()
    ]
    benchutil.print_table(["BLEU", *SEARCHES], bleu)
    rows_t = [
        [n, t["measured"], t["target"], "met" if t["met"] else "MISSED"] for n, t in targets.items()
    ]
    benchutil.print_table(["target", "measured", "goal", ""], rows_t)


def _median(cell) -> str:
    return cell["median_ms"] if isinstance(cell, dict) else "n/a"


if __name__ == "__main__":
    main()
