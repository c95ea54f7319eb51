# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Decoding speed and quality of a trained model: predict() loop, SavedModel, ONNX Runtime.

One process, one trained run (the Multi30k attention model that `bench/multi30k.py`
keeps), the test_2016_flickr sentences, four ways to decode:

- `predict_loop`: the Keras seq2seq example's way. An encoder `keras.Model` is called
  with `predict()` once, then a one-step decoder `keras.Model` (ids, RNN states, encoder
  outputs and source ids in; logits and new states out) is called with `predict()` once
  per token from a Python loop, feeding back the argmax. Greedy only: beam search is not
  something that loop does.
- `savedmodel`: the exported SavedModel's `translate_ids` signature (a `tf.while_loop`).
- `onnx`: the exported `onnx/model.onnx` in ONNX Runtime (an ONNX `Loop`).
- `onnx-int8`: `onnx/model.int8.onnx`, the same graph with dynamically quantized int8
  weights (`keras-s2s export --format onnx --quantize int8`).

The run is exported once (`keras_s2s.exporting.export`, formats savedmodel, onnx and
onnx-text, int8 quantization). Latency is measured greedy and with beam 5, at batch 1
(a few test sentences, cycled) and batch 64 (the first 64), decoding to the model's
natural stop (eos) with the config's `max_length`. BLEU (sacrebleu, cased and lowercase)
is measured for every backend on the whole test set. Ratios against the issue's targets
are computed from this one run; for every missed target the relevant backends are
profiled (ONNX Runtime's profiler, `tf.profiler.experimental` for the SavedModel).

Usage (from the repository root):

    .venv/bin/python bench/decode_latency.py --run-dir RUN_DIR --data-dir MULTI30K_DIR \
        [--export-dir DIR | --version-dir DIR]

Writes `bench/results/decode_latency.json` (see bench/README.md) and prints a table.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from benchutil import ROOT, CpuMeter, git_facts, latency_stats, report_header  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "decode_latency.json")
TEST_SPLIT = "test_2016_flickr"
BACKENDS = ("predict_loop", "savedmodel", "onnx", "onnx-int8")
IN_GRAPH = ("savedmodel", "onnx", "onnx-int8")
SEARCHES = {"greedy": 1, "beam5": 5}
LOOP_NOT_APPLICABLE = (
    "not applicable: the per-token predict() loop is greedy only (beam search is not "
    "something that loop does)"
)
QUANTIZE_OPS = {"DynamicQuantizeLinear", "QuantizeLinear", "DequantizeLinear"}
CONTROL_OPS = {"Loop", "If", "Scan", "StatefulPartitionedCall", "PartitionedCall", "While"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", required=True, help="keras_s2s training run dir (model.keras)")
    p.add_argument(
        "--data-dir",
        required=True,
        help=f"Multi30k dir with {TEST_SPLIT}.de.gz (sources) and .en.gz (references)",
    )
    p.add_argument("--out", default=DEFAULT_OUT, help="JSON output path")
    p.add_argument(
        "--export-dir",
        default=None,
        help="export the run here and keep it (default: a temporary dir, removed)",
    )
    p.add_argument(
        "--version-dir",
        default=None,
        help="use this existing export (savedmodel, onnx, int8) instead of exporting",
    )
    p.add_argument("--batch-sizes", default="1,64", help="comma-separated batch sizes")
    p.add_argument("--batch1-sentences", type=int, default=4, help="sentences cycled at batch 1")
    p.add_argument("--max-length", type=int, default=None, help="default: the config's")
    p.add_argument("--repeats", type=int, default=48, help="timed runs per in-graph cell, batch 1")
    p.add_argument(
        "--large-repeats", type=int, default=8, help="timed runs per in-graph cell, batch > 1"
    )
    p.add_argument("--warmup", type=int, default=2, help="untimed runs per cell (after checks)")
    p.add_argument("--loop-repeats", type=int, default=12, help="timed predict-loop runs, batch 1")
    p.add_argument(
        "--loop-large-repeats", type=int, default=2, help="timed predict-loop runs, batch > 1"
    )
    p.add_argument("--passes", type=int, default=2, help="timing passes over the backends (blocks)")
    p.add_argument("--ort-threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    p.add_argument("--bleu-batch-size", type=int, default=64)
    p.add_argument("--bleu-limit", type=int, default=None, help="score only the first N")
    p.add_argument(
        "--loop-bleu-limit",
        type=int,
        default=None,
        help="the predict loop scores only the first N (it is the slow one)",
    )
    p.add_argument("--profile-runs", type=int, default=4, help="runs per profiled cell")
    p.add_argument("--no-profile", action="store_true", help="skip profiling missed targets")
    p.add_argument(
        "--scaling-only",
        action="store_true",
        help="measure only the beam-length scaling row (no export, no backends, no BLEU)",
    )
    p.add_argument("--scaling-repeats", type=int, default=5, help="timed runs per scaling cell")
    return p.parse_args(argv)


# Timing.


def timed_blocks(fns: dict, warmup: int, repeats: dict, passes: int = 2) -> dict:
    """Times several functions in consecutive blocks; returns ms statistics per name.

    `fns[name](j)` is that function's j-th execution (so it can cycle through inputs).
    Each function first runs `warmup` times untimed. Then, in each of `passes` passes
    (forward order, then reversed, and so on), each function runs one untimed warm-up
    and `repeats[name]` timed runs back to back, as a process serving one backend would.

    Blocks, not rounds that alternate backends call by call: in one process, alternating
    with the two ONNX Runtime sessions made the SavedModel's batch-1 calls 1.7-2x slower
    than back to back (their thread pools and weights compete for 2 cores and the
    caches). Two passes in opposite orders spread slow drifts in background load; the
    other processes' CPU share is recorded per cell to show that load.
    """
    for fn in fns.values():
        for j in range(warmup):
            fn(j)
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for p in range(passes):
        for name in names if p % 2 == 0 else names[::-1]:
            fn = fns[name]
            fn(len(times[name]))  # block warm-up: wake this backend's threads, caches
            for _ in range(repeats[name]):
                j = len(times[name])
                start = time.perf_counter()
                fn(j)
                times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: latency_stats(times[name], warmup) for name in fns}


# Data and ids.


def load_test(data_dir: str):
    from keras_s2s.readers import read_pairs

    de = os.path.join(data_dir, f"{TEST_SPLIT}.de.gz")
    en = os.path.join(data_dir, f"{TEST_SPLIT}.en.gz")
    pairs = read_pairs(de, "parallel", target_path=en).pairs
    return [s for s, _ in pairs], [t for _, t in pairs], (de, en)


def pad_rows(rows) -> np.ndarray:
    width = max([len(r) for r in rows] + [1])
    out = np.zeros((len(rows), width), np.int32)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def trim_at_eos(row, eos_id: int) -> list[int]:
    """A row's ids up to and including its first eos (the whole row if none)."""
    row = [int(i) for i in row]
    return row[: row.index(eos_id) + 1] if eos_id in row else row


def output_lengths(ids: np.ndarray, eos_id: int, pad_id: int) -> list[int]:
    """Tokens per row up to and including eos (pad after eos does not count)."""
    return [len([t for t in trim_at_eos(r, eos_id) if t != pad_id]) for r in ids]


def compare_rows(reference: list[list[int]], other: list[list[int]]) -> dict:
    same = sum(a == b for a, b in zip(reference, other, strict=True))
    return {"rows_identical": same, "rows": len(reference), "identical": same == len(reference)}


# The Keras example's predict() loop.


def build_predict_models(model):
    """An encoder model and a one-step decoder model, as in the Keras seq2seq example.

    The step model takes `[ids [b], *rnn_states [b, units], memory [b, s, d],
    source_ids [b, s]]` and returns `[logits [b, vocab], *new_rnn_states]`; with
    attention, the encoder outputs and source ids are fed to every step.
    """
    import keras

    from keras_s2s.models import Seq2Seq, states_per_layer

    s2s = Seq2Seq.from_model(model)
    decoder = s2s.decoder
    if getattr(decoder, "input_feeding", False):
        raise SystemExit("the predict-loop step model does not support input feeding")

    class DecoderStep(keras.layers.Layer):
        """Wraps `Decoder.step` (a method, not a Layer call) for a functional model."""

        def __init__(self, decoder, **kwargs):
            super().__init__(**kwargs)
            self.decoder = decoder

        def call(self, ids, states, memory, source_ids):
            state = self.decoder.initial_decoder_state(list(states), memory, source_ids)
            logits, new_state, _ = self.decoder.step(ids, state)
            return [logits, *new_state["rnn"]]

    n_states = decoder.num_layers * states_per_layer(decoder.rnn)
    ids_in = keras.Input(shape=(), dtype="int32", name="ids")
    state_ins = [keras.Input(shape=(decoder.units,), name=f"state_{i}") for i in range(n_states)]
    memory_in = keras.Input(shape=(None, decoder.memory_dim), name="memory")
    source_in = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    outputs = DecoderStep(decoder, name="decoder_step")(ids_in, state_ins, memory_in, source_in)
    step_model = keras.Model(
        [ids_in, *state_ins, memory_in, source_in], outputs, name="decoder_step_model"
    )
    return s2s.encoder_model(), step_model


def decoder_step_params(model) -> int:
    """Decoder weights multiplied in every decode step (all but the embedding table)."""
    from keras_s2s.models import Seq2Seq

    decoder = Seq2Seq.from_model(model).decoder
    return int(sum(int(np.prod(w.shape)) for w in decoder.weights if "embedding" not in w.path))


def predict_loop(encoder_model, step_model, source_ids, steps, sos_id, eos_id=None, joint_ids=None):
    """Encoder `predict()` once, then one decoder-step `predict()` per token.

    Runs exactly `steps` steps, or, with `eos_id`, stops early once every row has
    emitted it (the natural stop). Returns int32 ids `[batch, steps_run]`; a decoder
    restricted to a target vocabulary feeds back its own ids, which `joint_ids` (its
    `target_ids`) maps to the tokenizer's at the end, as `translate_ids` does.
    """
    batch = source_ids.shape[0]
    encoded = encoder_model.predict(source_ids, batch_size=batch, verbose=0)
    memory, states = encoded[0], list(encoded[1:])
    ids = np.full([batch], sos_id, np.int32)
    finished = np.zeros([batch], bool)
    out = []
    for _ in range(steps):
        result = step_model.predict([ids, *states, memory, source_ids], batch_size=batch, verbose=0)
        logits, states = result[0], list(result[1:])
        ids = logits.argmax(axis=-1).astype(np.int32)
        out.append(ids)
        if eos_id is not None:
            finished |= ids == eos_id
            if finished.all():
                break
    out = np.stack(out, axis=1)
    return out if joint_ids is None else joint_ids[out]


# Profiles.


def is_matmul(op: str) -> bool:
    """Kernels that do the model's matrix multiplies (fp32 and int8, ORT and TF/oneDNN)."""
    return any(part in op for part in ("MatMul", "Gemm", "Einsum"))


def _summarise_ops(total_us: dict, calls: dict, runs: int, wall_ms: float, steps: float) -> dict:
    kernel_us = sum(total_us.values())
    top = sorted(total_us.items(), key=lambda kv: -kv[1])[:10]
    matmul_us = sum(v for k, v in total_us.items() if is_matmul(k))
    quant_us = sum(v for k, v in total_us.items() if k in QUANTIZE_OPS)
    kernels = sum(calls.values())
    return {
        "runs": runs,
        "wall_ms_per_run": round(wall_ms, 3),
        "kernel_ms_per_run": round(kernel_us / 1000.0 / runs, 3),
        "kernel_share_of_wall": round(kernel_us / 1000.0 / runs / max(wall_ms, 1e-9), 3),
        "kernels_per_run": round(kernels / runs, 1),
        "decode_steps_per_run": round(steps, 2),
        "kernels_per_step": round(kernels / runs / max(steps, 1), 1),
        "mean_kernel_us": round(kernel_us / max(kernels, 1), 2),
        "matmul_ms_per_run": round(matmul_us / 1000.0 / runs, 3),
        "matmul_share_of_kernels": round(matmul_us / max(kernel_us, 1e-9), 3),
        "quantize_ms_per_run": round(quant_us / 1000.0 / runs, 3),
        "top_ops": [
            {
                "op": op,
                "ms_per_run": round(us / 1000.0 / runs, 3),
                "share_of_kernels": round(us / max(kernel_us, 1e-9), 3),
                "calls_per_run": round(calls[op] / runs, 1),
            }
            for op, us in top
        ],
        "ops_ms_per_run": {op: round(us / 1000.0 / runs, 4) for op, us in total_us.items()},
    }


def profile_onnx(onnx_path: str, threads: int, feeds: list, steps: float) -> dict:
    """ONNX Runtime's built-in profiler over one run of each feed (after one warm-up run).

    Kernel times are aggregated by op type; control-flow nodes (`Loop`), whose time
    includes their subgraph's kernels, are left out so nothing counts twice.
    """
    import onnxruntime as ort

    folder = tempfile.mkdtemp(prefix="ort-profile-")
    try:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(folder, "ort")
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        session.run(None, feeds[0])  # warm-up, excluded below by timestamp
        walls = []
        for feed in feeds:
            start = time.perf_counter()
            session.run(None, feed)
            walls.append((time.perf_counter() - start) * 1000.0)
        with open(session.end_profiling(), encoding="utf-8") as f:
            events = json.load(f)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    runs = sorted(e["ts"] for e in events if e.get("cat") == "Session" and e["name"] == "model_run")
    first = runs[1] if len(runs) > 1 else 0
    total_us, calls = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time") or e["ts"] < first:
            continue
        op = e.get("args", {}).get("op_name", "?")
        if op in CONTROL_OPS:
            continue
        total_us[op] += e["dur"]
        calls[op] += 1
    out = _summarise_ops(total_us, calls, len(feeds), statistics.mean(walls), steps)
    out["tool"] = "onnxruntime SessionOptions.enable_profiling (kernel_time events by op type)"
    return out


def profile_savedmodel(fn, calls_kwargs: list, steps: float) -> dict:
    """`tf.profiler.experimental` over one call per kwargs; TF op events by op type.

    The trace (xplane) is parsed directly; function-call nodes, which enclose other
    ops, are left out. With 2 inter-op threads, kernel time can exceed wall time.
    """
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    fn(**calls_kwargs[0])  # warm
    folder = tempfile.mkdtemp(prefix="tf-profile-")
    try:
        tf.profiler.experimental.start(folder)
        walls = []
        for kwargs in calls_kwargs:
            start = time.perf_counter()
            fn(**kwargs)
            walls.append((time.perf_counter() - start) * 1000.0)
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        for path in glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True):
            with open(path, "rb") as f:
                space.ParseFromString(f.read())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    total_us, calls = collections.Counter(), collections.Counter()
    for plane in space.planes:
        if not plane.name.startswith("/host:CPU"):
            continue
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name or "::" in name:
                    continue  # not a TF op event ("node_name:OpType")
                op = name.rsplit(":", 1)[1]
                if op in CONTROL_OPS or op.strip().startswith("__") or " " in op.strip():
                    continue  # function-call events enclose the ops counted here
                total_us[op] += event.duration_ps / 1e6
                calls[op] += 1
    out = _summarise_ops(total_us, calls, len(calls_kwargs), statistics.mean(walls), steps)
    out["tool"] = "tf.profiler.experimental trace (xplane TF op events by op type)"
    return out


def annotate(profile: dict, cell: dict, rows: int, step_params: int, weight_bytes: int) -> None:
    """Adds per-step figures: the timed median per step, and the matrix multiplies' rate.

    `step_params` counts the decoder weights every step multiplies by (RNN cell,
    attention, output projection; not the embedding). The matmul time per step is from
    the profile (the encoder's few matmuls included, so the rates are a lower bound).
    """
    steps = max(profile["decode_steps_per_run"], 1)
    matmul_s = profile["matmul_ms_per_run"] / steps / 1000.0
    profile["timed_median_ms_per_step"] = cell["median_ms_per_step"]
    profile["profiled_wall_over_timed_median"] = round(
        profile["wall_ms_per_run"] / max(cell["median_ms"], 1e-9), 2
    )
    profile["rows_per_step"] = rows
    profile["matmul_ms_per_step"] = round(matmul_s * 1000.0, 4)
    profile["other_kernel_ms_per_step"] = round(
        (profile["kernel_ms_per_run"] - profile["matmul_ms_per_run"]) / steps, 4
    )
    profile["matmul_gflop_per_s"] = round(2.0 * step_params * rows / max(matmul_s, 1e-12) / 1e9, 2)
    profile["weights_gb_per_s"] = round(step_params * weight_bytes / max(matmul_s, 1e-12) / 1e9, 2)


def _top(profile: dict, n: int = 3) -> str:
    return ", ".join(
        f"{o['op']} {o['share_of_kernels'] * 100:.0f}%" for o in profile["top_ops"][:n]
    )


def _matmul(profile: dict) -> str:
    text = (
        f"matrix multiplies {profile['matmul_share_of_kernels'] * 100:.0f}% of kernel time "
        f"({profile['matmul_ms_per_step']:.2f} ms/step, {profile['matmul_gflop_per_s']:.1f} "
        f"GFLOP/s, {profile['weights_gb_per_s']:.1f} GB/s of weights read), other kernels "
        f"{profile['other_kernel_ms_per_step']:.2f} ms/step over "
        f"{profile['kernels_per_step']:.0f} kernels"
    )
    slowdown = profile.get("profiled_wall_over_timed_median", 1.0)
    if slowdown > 1.3:
        text += (
            f" (profiling made the run {slowdown:.1f}x slower, which inflates the many "
            "small kernels most)"
        )
    return text


def _limiter(profile: dict) -> str:
    if profile["matmul_share_of_kernels"] >= 0.5:
        return "the matrix multiplies (mostly the output projection) bound it"
    return "per-kernel overhead of many small ops bounds it"


# Main.


def gemm_peak(size: int = 1024, repeats: int = 20) -> dict:
    """TensorFlow's fp32 matmul rate on this machine: `[size, size] @ [size, size]`,
    TensorFlow's default threads, the median of `repeats` timed runs."""
    import tensorflow as tf

    a = tf.random.normal([size, size], seed=1)
    b = tf.random.normal([size, size], seed=2)
    matmul = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    for _ in range(3):
        matmul(a, b).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, b).numpy()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {
        "size": size,
        "median_ms": round(seconds * 1000, 2),
        "gflop_per_s": round(2.0 * size**3 / seconds / 1e9, 1),
    }


# Beam search cost against max_length.

SCALING_LENGTHS = (50, 200)


def beam_length_scaling(model, src_rows, repeats: int, batch=64, beam=5) -> dict:
    """`decoding.beam_search` (and the reference it replaced) on the model's own step
    function, with eos masked out so that every run takes exactly `max_length` steps.

    Returns the median ms per length and implementation, and `ratio` = time at the
    longest over time at the shortest length (4.0 would be linear in the length).
    """
    import tensorflow as tf

    sys.path.insert(0, os.path.join(ROOT, "tests"))
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
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([], tf.int32),
            ],
            autograph=False,
        )
        def run(source_ids, max_length):
            state = s2s.encode(source_ids)
            out = search(no_eos, state, tf.shape(source_ids)[0], max_length, beam, n_best=1)
            return out.ids, out.scores

        return run

    source = tf.constant(pad_rows(src_rows[:batch]), tf.int32)
    impls = {"step_history": compiled(beam_search), "reference": compiled(reference_beam_search)}
    out = {"batch": batch, "beam": beam, "lengths": list(SCALING_LENGTHS), "median_ms": {}}
    agree = {}
    for name, fn in impls.items():
        out["median_ms"][name] = {}
        for length in SCALING_LENGTHS:
            ids, _ = fn(source, tf.constant(length))  # trace and warm up
            agree.setdefault(length, []).append(ids.numpy())
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                fn(source, tf.constant(length))[0].numpy()
                times.append((time.perf_counter() - start) * 1000.0)
            out["median_ms"][name][str(length)] = round(statistics.median(times), 1)
            print(
                f"beam {beam}, batch {batch}, {name}, max_length {length}: "
                f"{out['median_ms'][name][str(length)]} ms",
                flush=True,
            )
    short, long = (str(n) for n in SCALING_LENGTHS)
    out["ratio"] = {name: round(ms[long] / ms[short], 2) for name, ms in out["median_ms"].items()}
    out["same_ids_as_reference"] = all(np.array_equal(a, b) for a, b in agree.values())
    return out


def main(argv=None):
    args = parse_args(argv)
    git = git_facts()  # at start: others edit the package concurrently
    batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    # ONNX Runtime before TensorFlow (../shared/NOTES.md: import-order crash with custom ops).
    import onnxruntime as ort  # noqa: F401
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the SentencePiece ops of the SavedModel)

    import keras_s2s
    from keras_s2s.backends import OnnxBackend
    from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID, RunConfig
    from keras_s2s.evaluation import score
    from keras_s2s.exporting import export
    from keras_s2s.models import Seq2Seq
    from keras_s2s.tokenizer import Tokenizer
    from keras_s2s.training import CONFIG_FILENAME, load_model

    started = time.perf_counter()
    load_start = os.getloadavg()
    run_meter = CpuMeter()
    config = RunConfig.load(os.path.join(args.run_dir, CONFIG_FILENAME))
    max_length = args.max_length or config.decode.max_length
    tokenizer = Tokenizer.load(args.run_dir)
    sources, references, (de_path, en_path) = load_test(args.data_dir)
    src_rows = [r[: config.data.max_source_length] for r in tokenizer.encode(sources)]
    if len(sources) < max(batch_sizes):
        raise SystemExit(f"only {len(sources)} test sentences, need {max(batch_sizes)}")

    if args.scaling_only:
        scaling = beam_length_scaling(load_model(args.run_dir), src_rows, args.scaling_repeats)
        print(json.dumps(scaling, indent=2))
        if "--out" in (argv if argv is not None else sys.argv):
            report = report_header("decode_latency --scaling-only", git, load_start)
            report.update(beam_length_scaling=scaling, beam_length_scaling_ratio=scaling["ratio"])
            with open(args.out, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=2)
                f.write("\n")
        return

    work = None
    export_seconds = None
    if args.version_dir:
        version_dir = args.version_dir
        print(f"using the export {version_dir}", flush=True)
    else:
        work = args.export_dir or tempfile.mkdtemp(prefix="decode-latency-")
        t0 = time.perf_counter()
        version_dir = export(
            args.run_dir,
            work,
            formats=("savedmodel", "onnx", "onnx-text"),
            quantize="int8",
        )
        export_seconds = time.perf_counter() - t0
        print(f"exported to {version_dir} in {export_seconds:.0f} s", flush=True)
    onnx_paths = {
        "onnx": os.path.join(version_dir, "onnx", "model.onnx"),
        "onnx-int8": os.path.join(version_dir, "onnx", "model.int8.onnx"),
    }

    try:
        model = load_model(args.run_dir)  # the weights the export was made from
        scaling = beam_length_scaling(model, src_rows, args.scaling_repeats)
        gemm = gemm_peak()
        print(f"fp32 GEMM peak: {gemm['gflop_per_s']} GFLOP/s", flush=True)
        params = int(model.count_params())
        step_params = decoder_step_params(model)
        encoder_model, step_model = build_predict_models(model)
        target_ids = Seq2Seq.from_model(model).decoder.target_ids
        joint = None if target_ids is None else np.asarray(target_ids, np.int32)
        signature = tf.saved_model.load(version_dir).signatures["translate_ids"]
        ort_backends = {
            name: OnnxBackend(path, threads=args.ort_threads) for name, path in onnx_paths.items()
        }

        def sm_kwargs(source, beam):
            return {
                "source_ids": tf.constant(source, tf.int32),
                "max_length": tf.constant(max_length, tf.int32),
                "beam_width": tf.constant(beam, tf.int32),
                "n_best": tf.constant(1, tf.int32),
            }

        def ort_feed(source, beam):
            return {
                "source_ids": source.astype(np.int64),
                "max_length": np.array(max_length, np.int32),
                "beam_width": np.array(beam, np.int32),
                "n_best": np.array(1, np.int32),
            }

        def run_backend(name, source, beam, steps=None):
            """Best hypothesis ids `[batch, time]` (int32) of one backend on one batch."""
            if name == "savedmodel":
                return signature(**sm_kwargs(source, beam))["ids"].numpy()[:, 0]
            if name == "predict_loop":
                if steps is None:  # natural stop
                    return predict_loop(
                        encoder_model, step_model, source, max_length, SOS_ID, EOS_ID, joint
                    )
                return predict_loop(encoder_model, step_model, source, steps, SOS_ID, None, joint)
            session = ort_backends[name].session
            return session.run(["ids"], ort_feed(source, beam))[0][:, 0].astype(np.int32)

        # 1. Latency: batch x search x backend, in blocks per cell (see timed_blocks).
        results, checks = {}, {}
        for batch in batch_sizes:
            if batch == 1:
                groups = [pad_rows([src_rows[i]]) for i in range(args.batch1_sentences)]
                data_desc = f"test sentences 0..{args.batch1_sentences - 1}, one per call, cycled"
            else:
                groups = [pad_rows(src_rows[:batch])]
                data_desc = f"first {batch} test sentences, 0-padded to the longest"
            ngroups = len(groups)

            def per_pass(n, ngroups=ngroups):
                """Timed runs per pass: n split over the passes, in whole input cycles."""
                return max(ngroups, -(-n // (args.passes * ngroups)) * ngroups)

            key = f"batch_{batch}"
            results[key] = {"inputs": data_desc, "source_widths": [int(g.shape[1]) for g in groups]}
            checks[key] = {}
            for search, beam in SEARCHES.items():
                backends = list(BACKENDS if beam == 1 else IN_GRAPH)
                # Untimed reference runs: outputs, steps and lengths per group.
                ref = {name: [] for name in backends}
                for name in IN_GRAPH:
                    ref[name] = [run_backend(name, g, beam) for g in groups]
                sm_steps = [int(ids.shape[1]) for ids in ref["savedmodel"]]
                if "predict_loop" in backends:
                    ref["predict_loop"] = [run_backend("predict_loop", g, 1) for g in groups]
                cell = {}
                check = {}
                for name in backends:
                    lengths = [n for ids in ref[name] for n in output_lengths(ids, EOS_ID, PAD_ID)]
                    rows_eos = sum(int(np.any(ids == EOS_ID, axis=1).sum()) for ids in ref[name])
                    cell[name] = {
                        "steps": [int(ids.shape[1]) for ids in ref[name]],
                        "mean_output_tokens": round(float(np.mean(lengths)), 2),
                        "rows_with_eos": rows_eos,
                    }
                    if name != "savedmodel":
                        check[name] = compare_rows(
                            [trim_at_eos(r, EOS_ID) for ids in ref["savedmodel"] for r in ids],
                            [trim_at_eos(r, EOS_ID) for ids in ref[name] for r in ids],
                        )
                if "predict_loop" in cell:
                    # Identical work: the timed loop runs the SavedModel's step count.
                    cell["predict_loop"]["natural_stop_steps"] = cell["predict_loop"]["steps"]
                    cell["predict_loop"]["steps"] = sm_steps
                fns = {}
                for name in backends:
                    if name == "predict_loop":
                        fns[name] = lambda j, g=groups, s=sm_steps: run_backend(
                            "predict_loop", g[j % len(g)], 1, steps=s[j % len(g)]
                        )
                    else:
                        fns[name] = lambda j, n=name, g=groups, b=beam: run_backend(
                            n, g[j % len(g)], b
                        )
                repeats = {
                    name: per_pass(
                        (args.loop_repeats if batch == 1 else args.loop_large_repeats)
                        if name == "predict_loop"
                        else (args.repeats if batch == 1 else args.large_repeats)
                    )
                    for name in backends
                }
                warmup = 0 if batch > 1 else args.warmup  # batch > 1: the checks warmed up
                meter = CpuMeter()
                timings = timed_blocks(fns, warmup, repeats, args.passes)
                other_share = meter.share()
                for name in backends:
                    cell[name].update(timings[name])
                    mean_steps = float(np.mean(cell[name]["steps"]))
                    cell[name]["mean_steps"] = round(mean_steps, 2)
                    cell[name]["median_ms_per_step"] = round(
                        cell[name]["median_ms"] / mean_steps, 3
                    )
                    cell[name]["sentences_per_second"] = round(
                        batch / (cell[name]["median_ms"] / 1000.0), 2
                    )
                    print(
                        f"  {key} {search:<6} {name:<12} median {cell[name]['median_ms']:9.1f} ms"
                        f"  min {cell[name]['min_ms']:9.1f} ms  steps {cell[name]['mean_steps']:5.1f}"
                        f"  out {cell[name]['mean_output_tokens']:5.1f} tok",
                        flush=True,
                    )
                if beam != 1:
                    cell["predict_loop"] = LOOP_NOT_APPLICABLE
                cell["other_processes_cpu_share"] = other_share
                print(f"  {key} {search:<6} other processes' CPU share {other_share}", flush=True)
                results[key][search] = cell
                checks[key][search] = {f"{k}_vs_savedmodel": v for k, v in check.items()}

        # 2. Quality: every backend on the (first --bleu-limit) test sentences.
        n_bleu = min(args.bleu_limit or len(sources), len(sources))
        order = sorted(range(n_bleu), key=lambda i: len(src_rows[i]))
        bleu, bleu_ids = {}, {}
        bleu_backends = {
            "savedmodel": keras_s2s.load(version_dir, "savedmodel"),
            **ort_backends,
        }
        for name, backend in bleu_backends.items():
            bleu[name], bleu_ids[name] = {}, {}
            for search, beam in SEARCHES.items():
                start = time.perf_counter()
                hyps = backend.translate_detailed(
                    [sources[i] for i in order], beam=beam, batch_size=args.bleu_batch_size
                )
                seconds = time.perf_counter() - start
                texts, ids = [""] * n_bleu, [None] * n_bleu
                for i, h in zip(order, hyps, strict=True):
                    texts[i], ids[i] = h.text, trim_at_eos(h.ids, EOS_ID)
                bleu[name][search] = _quality(score, texts, ids, references[:n_bleu], seconds)
                bleu_ids[name][search] = (texts, ids)
                print(f"  BLEU {name:<12} {search:<6} {_bleu_line(bleu[name][search])}", flush=True)
        n_loop = min(args.loop_bleu_limit or n_bleu, n_bleu)
        loop_order = sorted(range(n_loop), key=lambda i: len(src_rows[i]))
        start = time.perf_counter()
        loop_texts, loop_ids = [""] * n_loop, [None] * n_loop
        for b0 in range(0, n_loop, args.bleu_batch_size):
            chunk = loop_order[b0 : b0 + args.bleu_batch_size]
            out = run_backend("predict_loop", pad_rows([src_rows[i] for i in chunk]), 1)
            for i, row in zip(chunk, out, strict=True):
                loop_ids[i] = trim_at_eos(row, EOS_ID)
            for i, text in zip(chunk, tokenizer.decode([loop_ids[i] for i in chunk]), strict=True):
                loop_texts[i] = text
        seconds = time.perf_counter() - start
        bleu["predict_loop"] = {
            "greedy": _quality(score, loop_texts, loop_ids, references[:n_loop], seconds),
            "beam5": LOOP_NOT_APPLICABLE,
        }
        bleu_ids["predict_loop"] = {"greedy": (loop_texts, loop_ids)}
        print(f"  BLEU predict_loop  greedy {_bleu_line(bleu['predict_loop']['greedy'])}")
        agreement = {}
        for name in ("onnx", "onnx-int8", "predict_loop"):
            for search in bleu_ids[name]:
                ref_texts, ref_ids = bleu_ids["savedmodel"][search]
                texts, ids = bleu_ids[name][search]
                n = len(ids)
                entry = compare_rows(ref_ids[:n], ids)
                entry["strings_identical"] = sum(
                    a == b for a, b in zip(ref_texts[:n], texts, strict=True)
                )
                agreement.setdefault(f"{name}_vs_savedmodel", {})[search] = entry

        # 3. Ratios and targets (medians; minimums alongside).
        def ms(batch, search, name, stat="median_ms"):
            cell = results.get(f"batch_{batch}", {}).get(search, {}).get(name)
            return cell[stat] if isinstance(cell, dict) else None

        ratios = {"of_medians": {}, "of_minimums": {}}
        for stat, bucket in (("median_ms", "of_medians"), ("min_ms", "of_minimums")):
            r = ratios[bucket]
            for batch in batch_sizes:
                k = f"batch_{batch}"
                for search in SEARCHES:
                    pairs = {
                        "savedmodel_speedup_vs_predict_loop": ("predict_loop", "savedmodel"),
                        "onnx_speedup_vs_savedmodel": ("savedmodel", "onnx"),
                        "int8_speedup_vs_onnx_fp32": ("onnx", "onnx-int8"),
                        "int8_speedup_vs_savedmodel": ("savedmodel", "onnx-int8"),
                    }
                    for rname, (slow, fast) in pairs.items():
                        a, b = ms(batch, search, slow, stat), ms(batch, search, fast, stat)
                        if a is not None and b is not None:
                            r.setdefault(rname, {})[f"{k}_{search}"] = round(a / b, 3)
                for name in IN_GRAPH:
                    g, b5 = ms(batch, "greedy", name, stat), ms(batch, "beam5", name, stat)
                    if g and b5:
                        r.setdefault("beam5_latency_over_greedy", {})[f"{k}_{name}"] = round(
                            b5 / g, 3
                        )

        targets = {}

        def target(name, measured, goal, higher_is_better, cell, profile_keys, what):
            if measured is None:
                return
            met = measured >= goal if higher_is_better else measured <= goal
            targets[name] = {
                "what": what,
                "target": (">= " if higher_is_better else "<= ") + str(goal),
                "measured": measured,
                "met": bool(met),
                "cell": cell,
                "profiles": profile_keys,
            }

        med = ratios["of_medians"]
        if 1 in batch_sizes:
            target(
                "savedmodel_vs_predict_loop_batch_1_greedy",
                med["savedmodel_speedup_vs_predict_loop"].get("batch_1_greedy"),
                100.0,
                True,
                "batch 1, greedy, identical steps",
                ["savedmodel/batch_1/greedy"],
                "SavedModel speed-up over the per-token predict() loop",
            )
        if 1 in batch_sizes:
            target(
                "onnx_fp32_vs_savedmodel_batch_1_greedy",
                med["onnx_speedup_vs_savedmodel"].get("batch_1_greedy"),
                1.5,
                False,
                "batch 1, greedy",
                ["onnx/batch_1/greedy", "savedmodel/batch_1/greedy"],
                "SavedModel latency over ONNX Runtime fp32 latency (within 1.5x)",
            )
        for name in ("savedmodel", "onnx"):
            for search in SEARCHES:
                cell = results.get("batch_64", {}).get(search, {}).get(name)
                if cell is None:
                    continue
                rows = 64 * SEARCHES[search]
                gflops = 2.0 * step_params * rows / (cell["median_ms_per_step"] / 1000.0) / 1e9
                cell["decode_gflop_per_s"] = round(gflops, 1)
                target(
                    f"gemm_peak_share_batch_64_{search}_{name}",
                    round(gflops / gemm["gflop_per_s"], 3),
                    0.5,
                    True,
                    f"batch 64, {search}",
                    [f"{name}/batch_64/{search}"],
                    "decoding GFLOP/s (2 x decoder-step weights x rows per step, over the "
                    "median time per step, encoder included) over the fp32 GEMM peak",
                )
        for batch in batch_sizes:
            for search in SEARCHES:
                target(
                    f"int8_vs_onnx_fp32_batch_{batch}_{search}",
                    med["int8_speedup_vs_onnx_fp32"].get(f"batch_{batch}_{search}"),
                    1.5,
                    True,
                    f"batch {batch}, {search}",
                    [f"onnx-int8/batch_{batch}/{search}", f"onnx/batch_{batch}/{search}"],
                    "ONNX Runtime int8 speed-up over fp32",
                )
        for search in SEARCHES:
            for kind in ("bleu", "bleu_lowercase"):
                drop = round(bleu["onnx"][search][kind] - bleu["onnx-int8"][search][kind], 2)
                target(
                    f"int8_{kind}_drop_{search}",
                    drop,
                    0.5,
                    False,
                    f"{n_bleu} test sentences, {search}",
                    [],
                    f"{kind} of ONNX fp32 minus {kind} of int8",
                )
        if 1 in batch_sizes:
            for name in IN_GRAPH:
                target(
                    f"beam5_over_greedy_batch_1_{name}",
                    med.get("beam5_latency_over_greedy", {}).get(f"batch_1_{name}"),
                    2.5,
                    False,
                    f"batch 1, {name}",
                    [f"{name}/batch_1/beam5", f"{name}/batch_1/greedy"],
                    "beam 5 latency over greedy latency",
                )

        # 4. Profiles of the cells behind every missed target, and what limits each.
        profiles = {}
        if not args.no_profile:
            wanted = sorted({k for t in targets.values() if not t["met"] for k in t["profiles"]})
            for key in wanted:
                name, bkey, search = key.split("/")
                batch = int(bkey.split("_")[1])
                beam = SEARCHES[search]
                groups = (
                    [pad_rows([src_rows[i]]) for i in range(args.batch1_sentences)]
                    if batch == 1
                    else [pad_rows(src_rows[:batch])]
                )
                runs = [groups[j % len(groups)] for j in range(max(args.profile_runs, len(groups)))]
                if batch > 1:
                    runs = runs[: max(1, args.profile_runs // 2)]
                steps = float(
                    np.mean(
                        [
                            results[bkey][search][name]["steps"][j % len(groups)]
                            for j in range(len(runs))
                        ]
                    )
                )
                print(f"  profiling {key} ({len(runs)} runs)", flush=True)
                if name == "savedmodel":
                    profiles[key] = profile_savedmodel(
                        signature, [sm_kwargs(g, beam) for g in runs], steps
                    )
                else:
                    profiles[key] = profile_onnx(
                        onnx_paths[name], args.ort_threads, [ort_feed(g, beam) for g in runs], steps
                    )
            for key, profile in profiles.items():
                name, bkey, search = key.split("/")
                rows = int(bkey.split("_")[1]) * SEARCHES[search]
                annotate(
                    profile,
                    results[bkey][search][name],
                    rows,
                    step_params,
                    1 if name == "onnx-int8" else 4,
                )
            for tname, t in targets.items():
                if not t["met"]:
                    t["limited_by"] = _limited_by(tname, t, profiles, results, agreement)
    finally:
        if work and not args.export_dir:
            shutil.rmtree(work, ignore_errors=True)

    report = {
        **report_header("decode_latency", git, load_start),
        "note": (
            "Shared 2-core machine; other work may have been running, so figures are "
            "noisy. Medians are the headline numbers; ratios of minimums show the "
            "least-disturbed runs."
        ),
        "model": {
            "run_dir": os.path.abspath(args.run_dir),
            "parameters": params,
            "decoder_step_parameters": step_params,
            "weights": "trained (the run dir's model.keras)",
            "vocab_size": tokenizer.vocab_size,
            **config.to_dict()["model"],
        },
        "export": {
            "version_dir": os.path.abspath(version_dir)
            if args.export_dir or args.version_dir
            else None,
            "formats": ["savedmodel", "onnx", "onnx-text"],
            "quantize": "int8 (onnxruntime.quantization.quantize_dynamic, QInt8 weights)",
            "seconds": None if export_seconds is None else round(export_seconds, 1),
        },
        "data": {
            "sources": de_path,
            "references": en_path,
            "sentences": len(sources),
            "max_source_length": config.data.max_source_length,
            "tokenization": "the run's SentencePiece model in Python, truncated to max_source_length",
        },
        "decode": {
            "max_length": max_length,
            "length_penalty": config.decode.length_penalty,
            "stop": "natural: every row (every beam) emitted eos, or max_length",
            "predict_loop": (
                "encoder keras.Model.predict once, then decoder-step keras.Model.predict "
                "(batch_size = batch) once per token, argmax fed back in NumPy; timed runs "
                "take exactly the SavedModel's greedy step count for the same input (identical "
                "work); its own natural-stop step count is recorded as natural_stop_steps"
            ),
            "savedmodel": "tf.saved_model.load(version).signatures['translate_ids'], int32 ids",
            "onnx": f"onnx/model.onnx, CPUExecutionProvider, intra_op_num_threads={args.ort_threads}",
            "onnx-int8": (
                f"onnx/model.int8.onnx, CPUExecutionProvider, intra_op_num_threads={args.ort_threads}"
            ),
            "tensorflow_threads": {
                "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                "note": "0 means TensorFlow's default (the number of cores)",
            },
            "searches": {k: f"beam_width {v}, n_best 1" for k, v in SEARCHES.items()},
            "timing": (
                f"per cell: untimed reference runs, {args.warmup} warm-up runs per backend "
                f"at batch 1, then {args.passes} passes (forward, then reverse backend order) "
                "in which each backend runs one untimed warm-up and its timed runs back to "
                "back; batch 1 cycles through its sentences in whole cycles. Not alternated "
                "call by call: in one process that made the SavedModel's batch-1 calls "
                "1.7-2x slower than back to back"
            ),
        },
        "other_processes_cpu_share": {
            "whole_run": run_meter.share(),
            "definition": (
                "CPU seconds used by other processes (from /proc/stat, minus this "
                "process's own CPU time) / (wall seconds x cores); 0 = quiet machine. "
                "Per timed cell: results.batch_N.<search>.other_processes_cpu_share"
            ),
        },
        "results": results,
        "gemm_peak_fp32": gemm,
        "beam_length_scaling": scaling,
        "beam_length_scaling_ratio": scaling["ratio"],
        "ids_agreement_latency_inputs": checks,
        "ratios": ratios,
        "targets": targets,
        "profiles": profiles,
        "quality": {
            "sentences": n_bleu,
            "predict_loop_sentences": n_loop,
            "batching": (
                f"batches of {args.bleu_batch_size} in order of source length (the same "
                "batches for every backend); SavedModel via keras_s2s.load(version, "
                "'savedmodel') (tokenization in the graph), ONNX via "
                f"keras_s2s.backends.OnnxBackend(path, threads={args.ort_threads}), the predict "
                "loop to its natural stop"
            ),
            "scores": bleu,
            "agreement_with_savedmodel": agreement,
        },
        "total_seconds": None,
    }
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print_summary(report)
    print(f"wrote {args.out} ({report['total_seconds']:.0f} s)")


def _quality(score, texts, ids, references, seconds) -> dict:
    s = score(texts, references)
    return {
        "bleu": round(s["bleu"], 2),
        "bleu_lowercase": round(s["bleu_lowercase"], 2),
        "chrf": round(s["chrf"], 2),
        "sentences": s["sentences"],
        "mean_output_tokens": round(float(np.mean([len(r) for r in ids])), 2),
        "seconds": round(seconds, 1),
        "sentences_per_second": round(len(texts) / max(seconds, 1e-9), 1),
    }


def _bleu_line(q: dict) -> str:
    return (
        f"BLEU {q['bleu']:.2f} / lc {q['bleu_lowercase']:.2f}, chrF {q['chrf']:.2f}, "
        f"{q['mean_output_tokens']:.1f} tokens, {q['seconds']:.1f} s"
    )


def _limited_by(tname: str, t: dict, profiles: dict, results: dict, agreement: dict) -> str:
    """One sentence on what limits a missed target, derived from the profiles."""
    p = [profiles[k] for k in t["profiles"] if k in profiles]
    if tname.startswith("savedmodel_vs_predict_loop") and p:
        sm = p[0]
        loop = results["batch_1"]["greedy"]["predict_loop"]
        per_call = loop["median_ms"] / (loop["mean_steps"] + 1)
        return (
            f"The loop pays {per_call:.1f} ms per predict() call, the SavedModel "
            f"{sm['timed_median_ms_per_step']:.2f} ms per decode step; its profile: "
            f"{_matmul(sm)} (top: {_top(sm)}): {_limiter(sm)}, so the ratio is capped by "
            "the SavedModel's own per-step work, not by the loop."
        )
    if tname.startswith("onnx_fp32_vs_savedmodel") and len(p) == 2:
        ox, sm = p
        return (
            f"Per decode step ORT takes {ox['timed_median_ms_per_step']:.2f} ms, the "
            f"SavedModel {sm['timed_median_ms_per_step']:.2f} ms. ORT: {_matmul(ox)} "
            f"(top: {_top(ox)}); SavedModel: {_matmul(sm)} (top: {_top(sm)}). In ORT "
            f"{_limiter(ox)}; in the SavedModel {_limiter(sm)}."
        )
    if tname.startswith("int8_vs_onnx_fp32") and len(p) == 2:
        q, f = p
        other_f = f["kernel_ms_per_run"] - f["matmul_ms_per_run"]
        other_q = q["kernel_ms_per_run"] - q["matmul_ms_per_run"] - q["quantize_ms_per_run"]
        ceiling = f["kernel_ms_per_run"] / max(other_f, 1e-9)
        slowdown = max(
            q.get("profiled_wall_over_timed_median", 1.0),
            f.get("profiled_wall_over_timed_median", 1.0),
        )
        caveat = (
            f" Profiling made these runs up to {slowdown:.1f}x slower, which inflates the "
            "many small kernels most, so the cap is an underestimate."
            if slowdown > 1.3
            else ""
        )
        return (
            f"Per decode step int8 takes {q['timed_median_ms_per_step']:.2f} ms, fp32 "
            f"{f['timed_median_ms_per_step']:.2f} ms. In the profile the matrix multiplies "
            f"take {f['matmul_ms_per_run']:.2f} ms per run in fp32 and "
            f"{q['matmul_ms_per_run']:.2f} ms in int8 ({f['matmul_gflop_per_s']:.1f} vs "
            f"{q['matmul_gflop_per_s']:.1f} GFLOP/s), plus {q['quantize_ms_per_run']:.2f} ms "
            f"of separate activation quantization; the other kernels ({other_f:.2f} ms fp32, "
            f"{other_q:.2f} ms int8, {f['kernels_per_step']:.0f} kernels per step) do not get "
            f"faster, so even free matrix multiplies would give at most {ceiling:.2f}x on "
            f"kernel time (top int8 ops: {_top(q)}).{caveat}"
        )
    if tname.startswith("int8_bleu"):
        search = tname.rsplit("_", 1)[1]
        a = agreement.get("onnx-int8_vs_savedmodel", {}).get(search, {})
        b = agreement.get("onnx_vs_savedmodel", {}).get(search, {})
        return (
            f"Quantization error: int8 output ids equal the SavedModel's in "
            f"{a.get('rows_identical')}/{a.get('rows')} sentences, fp32 ONNX in "
            f"{b.get('rows_identical')}/{b.get('rows')} (no speed profile applies)."
        )
    if tname.startswith("beam5_over_greedy") and len(p) == 2:
        b5, g = p
        growth = {
            op: (b5["ops_ms_per_run"].get(op, 0.0) / max(b5["decode_steps_per_run"], 1))
            - (g["ops_ms_per_run"].get(op, 0.0) / max(g["decode_steps_per_run"], 1))
            for op in set(b5["ops_ms_per_run"]) | set(g["ops_ms_per_run"])
        }
        top = sorted(growth.items(), key=lambda kv: -kv[1])[:3]
        return (
            f"Beam 5 runs {b5['decode_steps_per_run']:.1f} steps vs greedy's "
            f"{g['decode_steps_per_run']:.1f}, at {b5['timed_median_ms_per_step']:.2f} vs "
            f"{g['timed_median_ms_per_step']:.2f} ms per step ({b5['rows_per_step']} vs "
            f"{g['rows_per_step']} rows); per step the profile adds mostly "
            + ", ".join(f"{op} +{ms:.3f} ms" for op, ms in top)
            + f"; beam 5: {_matmul(b5)}."
        )
    if tname.startswith("gemm_peak_share") and p:
        return (
            f"Per decode step {p[0]['timed_median_ms_per_step']:.2f} ms for "
            f"{p[0]['rows_per_step']} rows: {_matmul(p[0])} (top: {_top(p[0])}); {_limiter(p[0])}."
        )
    return "no profile available"


def print_summary(report: dict) -> None:
    results = report["results"]
    print(f"\n{report['model']['parameters']:,} parameters; median ms (sentences/s)")
    cols = [(k, s) for k in results for s in SEARCHES]
    print(f"{'backend':<14}" + "".join(f"{k + ' ' + s:>24}" for k, s in cols))
    for name in BACKENDS:
        cells = []
        for k, s in cols:
            c = results[k][s].get(name)
            cells.append(
                f"{c['median_ms']:>12.1f} ({c['sentences_per_second']:>7.1f})"
                if isinstance(c, dict)
                else f"{'n/a':>22}"
            )
        print(f"{name:<14}" + "".join(f"{c:>24}" for c in cells))
    print("\nBLEU (cased / lowercase), greedy and beam 5")
    for name, q in report["quality"]["scores"].items():
        line = "  ".join(
            f"{s}: {v['bleu']:.2f} / {v['bleu_lowercase']:.2f}"
            if isinstance(v, dict)
            else f"{s}: n/a"
            for s, v in q.items()
        )
        print(f"  {name:<12} {line}")
    print("\ntargets")
    for name, t in report["targets"].items():
        print(
            f"  {name:<46} {t['measured']!s:>8} {t['target']:<8} {'met' if t['met'] else 'MISSED'}"
        )
        if "limited_by" in t:
            print(f"      {t['limited_by']}")


if __name__ == "__main__":
    main()
