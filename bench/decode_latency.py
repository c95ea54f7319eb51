# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Greedy decoding latency: per-token `predict()` loop vs SavedModel vs ONNX Runtime.

One process, one set of weights, three ways to decode the same source batch:

- `predict_loop`: the Keras seq2seq example's way. An encoder `keras.Model` is called
  with `predict()` once, then a one-step decoder `keras.Model` is called with
  `predict()` once per token from a Python loop, feeding back the argmax. It runs
  exactly as many steps as the in-graph decoders ran.
- `savedmodel`: the exported SavedModel's `translate_ids` signature (a `tf.while_loop`
  inside the graph).
- `onnxruntime`: the exported `onnx/model.onnx` (an ONNX `Loop`), 2 intra-op threads.

The model is built at a realistic size (~9.7M parameters by default: BiGRU encoder,
GRU decoder, 512 units, 256-wide embeddings, 6,000-id vocabulary) with untrained,
seeded weights: latency does not depend on the weight values, and random weights
rarely emit eos, so every backend runs the full `--max-length` steps. The token ids
of the SavedModel and ONNX Runtime are compared and the result is recorded.

Usage (from the repository root):

    .venv/bin/python bench/decode_latency.py
    .venv/bin/python bench/decode_latency.py --data-dir ../shared/data/multi30k

Writes `bench/results/decode_latency.json` (see bench/README.md) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from benchutil import git_facts, report_header  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "decode_latency.json")
SEED = 0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON output path")
    p.add_argument("--repeats", type=int, default=30, help="timed runs, in-graph backends")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs, in-graph backends")
    p.add_argument(
        "--loop-repeats", type=int, default=5, help="timed runs of the per-token predict loop"
    )
    p.add_argument(
        "--loop-warmup", type=int, default=1, help="untimed runs of the per-token predict loop"
    )
    p.add_argument("--batch-sizes", default="1,64", help="comma-separated batch sizes")
    p.add_argument("--max-length", type=int, default=30, help="decode steps (tokens) limit")
    p.add_argument(
        "--data-dir",
        default=None,
        help="Multi30k dir: use test_2016_flickr.de.gz sentences (default: embedded corpus)",
    )
    p.add_argument("--vocab-size", type=int, default=6000, help="model vocabulary (ids)")
    p.add_argument("--embedding-dim", type=int, default=256)
    p.add_argument("--units", type=int, default=512)
    p.add_argument("--ort-threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument(
        "--work-dir",
        default=None,
        help="keep the run dir and export here (default: a temporary dir, removed)",
    )
    return p.parse_args(argv)


def _stats(times: list[float], warmup: int) -> dict:
    return {
        "min_ms": round(min(times), 3),
        "median_ms": round(statistics.median(times), 3),
        "warmup": warmup,
        "repeats": len(times),
        "runs_ms": [round(t, 3) for t in times],
    }


def timed_interleaved(fns: dict, warmup: dict, repeats: dict) -> dict:
    """Times several functions in interleaved rounds; returns ms statistics per name.

    Each function first runs `warmup[name]` times untimed. Then, in every round, each
    function due in that round runs once, timed. A function with fewer repeats than
    the most-repeated one is spread evenly over the rounds. Interleaving exposes every
    backend to the same background load, which matters on a shared machine.
    """
    for name, fn in fns.items():
        for _ in range(warmup[name]):
            fn()
    rounds = max(repeats.values())
    due = {
        name: set(np.linspace(0, rounds - 1, n).round().astype(int).tolist()) if n else set()
        for name, n in repeats.items()
    }
    times: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(rounds):
        for name, fn in fns.items():
            if i in due[name]:
                start = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: _stats(times[name], warmup[name]) for name in fns}


def load_sources(args, tokenizer_config):
    """Returns (description, tokenizer, source sentences)."""
    from keras_s2s.tokenizer import Tokenizer

    if args.data_dir:
        from keras_s2s.data import read_pairs

        de = os.path.join(args.data_dir, "test_2016_flickr.de.gz")
        en = os.path.join(args.data_dir, "test_2016_flickr.en.gz")
        pairs = read_pairs(de, "parallel", target_path=en).pairs
        sources = [s for s, _ in pairs]
        tokenizer = Tokenizer.train(sources, tokenizer_config)
        return f"multi30k test_2016_flickr.de ({de}); tokenizer trained on it", tokenizer, sources
    from keras_s2s.corpora import generate_default_corpus

    corpus = generate_default_corpus(seed=0)
    texts = [s for s, _ in corpus.train] + [t for _, t in corpus.train]
    tokenizer = Tokenizer.train(texts, tokenizer_config)
    sources = [s for s, _ in corpus.test]
    return (
        "embedded default corpus (seed 0), test split sources; tokenizer trained on train split",
        tokenizer,
        sources,
    )


def make_run_dir(run_dir, config, tokenizer, vocab_size):
    """An untrained run dir (config.json, tokenizer.model, model.keras)."""
    import keras

    from keras_s2s.models import build_model
    from keras_s2s.training import compile_model

    keras.utils.set_random_seed(SEED)
    model = build_model(config.model, vocab_size, seed=SEED)
    dummy = np.array([[4, 5, 6]], np.int32)
    model({"source_ids": dummy, "decoder_input_ids": dummy})
    compile_model(model, config)
    os.makedirs(run_dir, exist_ok=True)
    model.save(os.path.join(run_dir, "model.keras"))
    tokenizer.save(run_dir)
    config.save(os.path.join(run_dir, "config.json"))
    return int(model.count_params())


def build_predict_models(model, units):
    """The Keras example's inference models: an encoder model and a one-step decoder model."""
    import keras

    from keras_s2s.models import Seq2Seq, states_per_layer

    s2s = Seq2Seq.from_model(model)
    decoder = s2s.decoder
    if getattr(decoder, "attention", "none") != "none":
        raise SystemExit("the predict-loop step model supports attention='none' only")

    class DecoderStep(keras.layers.Layer):
        """Wraps `Decoder.step` (a method, not a Layer call) so a functional model can use it."""

        def __init__(self, decoder, **kwargs):
            super().__init__(**kwargs)
            self.decoder = decoder

        def call(self, ids, states):
            states = list(states)
            # Newer decoders take a state dict (`initial_decoder_state`) and return
            # (logits, state, attention); older ones a flat list and (logits, states).
            make_state = getattr(self.decoder, "initial_decoder_state", None)
            out = self.decoder.step(ids, make_state(states) if make_state else states)
            new_state = out[1]
            rnn = new_state["rnn"] if isinstance(new_state, dict) else new_state
            return [out[0], *rnn]

    n_states = decoder.num_layers * states_per_layer(decoder.rnn)
    ids_in = keras.Input(shape=(), dtype="int32", name="ids")
    state_ins = [keras.Input(shape=(units,), name=f"state_{i}") for i in range(n_states)]
    outputs = DecoderStep(decoder, name="decoder_step")(ids_in, state_ins)
    step_model = keras.Model([ids_in, *state_ins], outputs, name="decoder_step_model")
    return s2s.encoder_model(), step_model


def predict_loop(encoder_model, step_model, source_ids, steps, sos_id):
    """Encoder `predict()` once, then one decoder-step `predict()` per token."""
    batch = source_ids.shape[0]
    encoded = encoder_model.predict(source_ids, batch_size=batch, verbose=0)
    states = list(encoded[1:])
    ids = np.full([batch], sos_id, np.int32)
    out = []
    for _ in range(steps):
        result = step_model.predict([ids, *states], batch_size=batch, verbose=0)
        logits, states = result[0], list(result[1:])
        ids = logits.argmax(axis=-1).astype(np.int32)
        out.append(ids)
    return np.stack(out, axis=1)


def divergence_gaps(encoder_model, step_model, source, reference, others, sos_id) -> list:
    """Logit gaps where another decoder first picked a different token than `reference`.

    Re-runs the step model along the reference ids (teacher forcing) and, at each row's
    first divergence, reports both tokens' logits. A gap near float rounding (1e-5 on
    logits of ~1e-2) means a near tie, not a conversion error.
    """
    wanted = {}
    for name, other in others.items():
        for row in np.flatnonzero((reference != other).any(axis=1)):
            step = int(np.argmax(reference[row] != other[row]))
            wanted.setdefault(step, []).append((name, int(row), int(other[row, step])))
    if not wanted:
        return []
    batch = source.shape[0]
    states = list(encoder_model.predict(source, batch_size=batch, verbose=0)[1:])
    ids = np.full([batch], sos_id, np.int32)
    gaps = []
    for t in range(max(wanted) + 1):
        out = step_model.predict([ids, *states], batch_size=batch, verbose=0)
        logits, states = out[0], list(out[1:])
        for name, row, other_id in wanted.get(t, []):
            ref_id = int(reference[row, t])
            gaps.append(
                {
                    "vs": name,
                    "row": row,
                    "step": t + 1,
                    "reference_id": ref_id,
                    "other_id": other_id,
                    "logit_gap": float(abs(logits[row, ref_id] - logits[row, other_id])),
                    "row_max_abs_logit": float(np.abs(logits[row]).max()),
                }
            )
        ids = reference[:, t].astype(np.int32)
    return gaps


def pad_after_eos(ids, eos_id, pad_id):
    """Sets every position after a row's first eos to pad (what the in-graph loop emits)."""
    ids = ids.copy()
    for row in ids:
        hits = np.flatnonzero(row == eos_id)
        if hits.size:
            row[hits[0] + 1 :] = pad_id
    return ids


def compare_ids(reference, other) -> dict:
    """Row-by-row comparison of two `[batch, time]` id arrays."""
    reference, other = np.asarray(reference), np.asarray(other)
    if reference.shape != other.shape:
        return {
            "identical": False,
            "rows_identical": 0,
            "rows": int(reference.shape[0]),
            "shapes": [list(reference.shape), list(other.shape)],
        }
    differs = reference != other.astype(reference.dtype)
    return {
        "identical": bool(not differs.any()),
        "rows_identical": int((~differs.any(axis=1)).sum()),
        "rows": int(reference.shape[0]),
        "first_divergence_steps": [int(np.argmax(r)) + 1 for r in differs if r.any()],
    }


def pad_rows(rows):
    width = max([len(r) for r in rows] + [1])
    out = np.zeros((len(rows), width), np.int32)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def main(argv=None):
    args = parse_args(argv)
    git = git_facts()  # at start: the package is imported now
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    # ONNX Runtime before TensorFlow (../shared/NOTES.md: import-order crash with custom ops).
    import onnxruntime as ort
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the SentencePiece ops of the SavedModel)

    from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID, RunConfig
    from keras_s2s.exporting import export
    from keras_s2s.training import load_model

    started = time.perf_counter()
    load_start = os.getloadavg()
    config = RunConfig().override(
        units=args.units,
        embedding_dim=args.embedding_dim,
        vocab_size=args.vocab_size,
        bidirectional=True,
        dropout=0.0,
        max_length=max(args.max_length, RunConfig().decode.max_length),
    )
    data_desc, tokenizer, sentences = load_sources(args, config.tokenizer)
    if tokenizer.vocab_size > args.vocab_size:
        raise SystemExit(
            f"tokenizer has {tokenizer.vocab_size} ids, more than --vocab-size {args.vocab_size}"
        )
    need = max(batch_sizes)
    if len(sentences) < need:
        raise SystemExit(f"only {len(sentences)} sentences, need {need}")
    rows = [r[: config.data.max_source_length] for r in tokenizer.encode(sentences[:need])]

    work = args.work_dir or tempfile.mkdtemp(prefix="decode-latency-")
    try:
        run_dir = os.path.join(work, "run")
        t0 = time.perf_counter()
        params = make_run_dir(run_dir, config, tokenizer, args.vocab_size)
        version_dir = export(run_dir, os.path.join(work, "export"))
        export_seconds = time.perf_counter() - t0
        print(f"model: {params:,} parameters; exported to {version_dir} in {export_seconds:.0f} s")

        model = load_model(run_dir)  # the weights the export was made from
        encoder_model, step_model = build_predict_models(model, config.model.units)
        signature = tf.saved_model.load(version_dir).signatures["translate_ids"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.ort_threads
        session = ort.InferenceSession(
            os.path.join(version_dir, "onnx", "model.onnx"),
            options,
            providers=["CPUExecutionProvider"],
        )

        results, ratios, min_ratios = {}, {}, {}
        identical, loop_match, divergences = {}, {}, {}
        for batch in batch_sizes:
            source = pad_rows(rows[:batch])
            key = f"batch_{batch}"
            print(f"\n{key}: source {source.shape[1]} tokens wide", flush=True)

            def run_savedmodel(source=source):
                out = signature(
                    source_ids=tf.constant(source, tf.int32),
                    max_length=tf.constant(args.max_length, tf.int32),
                    beam_width=tf.constant(1, tf.int32),
                    n_best=tf.constant(1, tf.int32),
                )
                return out["ids"].numpy()

            def run_onnx(source=source):
                ids, _ = session.run(
                    ["ids", "scores"],
                    {
                        "source_ids": source.astype(np.int64),
                        "max_length": np.array(args.max_length, np.int32),
                        "beam_width": np.array(1, np.int32),
                        "n_best": np.array(1, np.int32),
                    },
                )
                return ids

            sm_ids = run_savedmodel()[:, 0]
            ort_ids = run_onnx()[:, 0]
            steps = int(sm_ids.shape[1])
            identical[key] = compare_ids(sm_ids, ort_ids)
            loop_ids = predict_loop(encoder_model, step_model, source, steps, SOS_ID)
            loop_match[key] = compare_ids(sm_ids, pad_after_eos(loop_ids, EOS_ID, PAD_ID))
            gaps = divergence_gaps(
                encoder_model,
                step_model,
                source,
                sm_ids,
                {
                    "onnxruntime": ort_ids.astype(np.int32),
                    "predict_loop": pad_after_eos(loop_ids, EOS_ID, PAD_ID),
                },
                SOS_ID,
            )
            rows_with_eos = int(np.any(sm_ids == EOS_ID, axis=1).sum())
            print(
                f"  steps run {steps}; rows that emitted eos {rows_with_eos}/{batch}; "
                f"ids savedmodel==onnx {identical[key]['rows_identical']}/{batch} rows; "
                "predict loop==savedmodel "
                f"{loop_match[key]['rows_identical']}/{batch} rows",
                flush=True,
            )

            for gap in gaps:
                print(
                    f"  {gap['vs']} diverges from savedmodel: row {gap['row']} step "
                    f"{gap['step']}, logit gap {gap['logit_gap']:.1e} "
                    f"(max |logit| {gap['row_max_abs_logit']:.1e})"
                )
            divergences[key] = gaps
            entry = {
                "steps": steps,
                "source_width": int(source.shape[1]),
                "rows_with_eos": rows_with_eos,
            }
            entry.update(
                timed_interleaved(
                    {
                        "predict_loop": lambda source=source, steps=steps: predict_loop(
                            encoder_model, step_model, source, steps, SOS_ID
                        ),
                        "savedmodel": run_savedmodel,
                        "onnxruntime": run_onnx,
                    },
                    warmup={
                        "predict_loop": args.loop_warmup,
                        "savedmodel": args.warmup,
                        "onnxruntime": args.warmup,
                    },
                    repeats={
                        "predict_loop": args.loop_repeats,
                        "savedmodel": args.repeats,
                        "onnxruntime": args.repeats,
                    },
                )
            )
            for backend in ("predict_loop", "savedmodel", "onnxruntime"):
                entry[backend]["median_ms_per_step"] = round(entry[backend]["median_ms"] / steps, 3)
                print(f"  {backend:<12} median {entry[backend]['median_ms']:9.1f} ms", flush=True)
            results[key] = entry
            ratios.setdefault("savedmodel_speedup_vs_predict_loop", {})[key] = round(
                entry["predict_loop"]["median_ms"] / entry["savedmodel"]["median_ms"], 2
            )
            ratios.setdefault("onnx_speedup_vs_savedmodel", {})[key] = round(
                entry["savedmodel"]["median_ms"] / entry["onnxruntime"]["median_ms"], 3
            )
            min_ratios.setdefault("savedmodel_speedup_vs_predict_loop", {})[key] = round(
                entry["predict_loop"]["min_ms"] / entry["savedmodel"]["min_ms"], 2
            )
            min_ratios.setdefault("onnx_speedup_vs_savedmodel", {})[key] = round(
                entry["savedmodel"]["min_ms"] / entry["onnxruntime"]["min_ms"], 3
            )
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)

    targets = {}
    if "batch_1" in results:
        sm = ratios["savedmodel_speedup_vs_predict_loop"]["batch_1"]
        ox = ratios["onnx_speedup_vs_savedmodel"]["batch_1"]
        targets = {
            "savedmodel_speedup_vs_predict_loop_batch_1": {
                "target": 100.0,
                "measured": sm,
                "met": sm >= 100.0,
            },
            "onnx_speedup_vs_savedmodel_batch_1": {
                "target": 2.0,
                "measured": ox,
                "met": ox >= 2.0,
            },
        }

    report = {
        **report_header("decode_latency", git, load_start),
        "note": (
            "Shared 2-core machine; other work (test suites) may have been running, so "
            "figures are noisy. Medians are the headline numbers; ratios of minimums show "
            "the least-disturbed runs."
        ),
        "model": {
            "parameters": params,
            "weights": f"untrained (random initialisation, seed {SEED})",
            "vocab_size": args.vocab_size,
            "tokenizer_vocab_size": tokenizer.vocab_size,
            "embedding_dim": config.model.embedding_dim,
            "units": config.model.units,
            "rnn": config.model.rnn,
            "attention": config.model.attention,
            "bidirectional_encoder": config.model.bidirectional,
            "layers": config.model.encoder_layers,
        },
        "data": {
            "source": data_desc,
            "batch_1": "first sentence",
            "batch_n": "first n sentences, 0-padded to the longest",
            "max_source_length": config.data.max_source_length,
        },
        "decode": {
            "search": "greedy",
            "max_length": args.max_length,
            "predict_loop": (
                "encoder keras.Model.predict once, then decoder-step keras.Model.predict "
                "(batch_size = batch) once per token, argmax fed back in NumPy; same number "
                "of steps as the in-graph decoders"
            ),
            "savedmodel": "tf.saved_model.load(version).signatures['translate_ids']",
            "onnxruntime": (
                f"onnx/model.onnx, CPUExecutionProvider, intra_op_num_threads={args.ort_threads}"
            ),
        },
        "export_seconds": round(export_seconds, 1),
        "results": results,
        "ratios_of_medians": ratios,
        "ratios_of_minimums": min_ratios,
        "targets": targets,
        "ids_identical_savedmodel_vs_onnx": identical,
        "ids_identical_predict_loop_vs_savedmodel": loop_match,
        "ids_divergences_vs_savedmodel": divergences,
        "ids_note": (
            "SavedModel vs ONNX Runtime is the required check. Each backend runs its own "
            "kernels (the predict loop: Keras predict of a step model), and with untrained "
            "weights the logits are small and the top two are often near ties, so a row "
            "may flip at one step and diverge after it. ids_divergences_vs_savedmodel gives "
            "the logit gap at each first divergence (along the SavedModel's path). "
            "Steps are 1-based."
        ),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")

    print(f"\n{params:,} parameters, greedy, max_length {args.max_length} (untrained weights)")
    header = f"{'backend':<14}" + "".join(
        f"{k + ' med/min ms':>26}" for k in results
    )  # one column per batch
    print(header)
    for backend in ("predict_loop", "savedmodel", "onnxruntime"):
        cells = "".join(
            f"{results[k][backend]['median_ms']:>15.1f} /{results[k][backend]['min_ms']:>9.1f}"
            for k in results
        )
        print(f"{backend:<14}{cells}")
    for name, values in ratios.items():
        mins = min_ratios[name]
        print(
            f"{name}: " + ", ".join(f"{k} {v}x (of minimums {mins[k]}x)" for k, v in values.items())
        )
    print(
        "ids identical savedmodel vs onnx: "
        + ", ".join(f"{k} {v['identical']}" for k, v in identical.items())
    )
    print(f"wrote {args.out} ({report['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
