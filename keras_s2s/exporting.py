# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Export a run to a versioned, self-contained directory: SavedModel and ONNX.

Layout (docs/design.md), one directory per version, in the form TF Serving polls:

    saved_models/<name>/<version>/
        saved_model.pb, variables/, assets/      SavedModel (tag `serve`)
        assets.extra/tf_serving_warmup_requests  one PredictionLog per signature
        onnx/model.onnx                          ids graph, decoding loop included
        onnx/model.int8.onnx                     the same, int8 weights (`quantize="int8"`)
        onnx/model.text.onnx                     strings to strings (`onnx-text` format)
        onnx/tokenizer.model                     SentencePiece model
        onnx/config.json                         special ids, limits, file list
        metadata.json                            config, library versions, data hash, metrics

Publication is atomic: everything is written into a hidden temporary directory
(`.tmp-export-<pid>`, never numeric, so TF Serving ignores it) that is renamed to the
next integer version only when complete. Existing versions are never touched.
Temporary directories left by crashed exports are removed by the next export.
The model loads and the SavedModel is saved under `tf.device("/CPU:0")`; Keras picks
cuDNN-only RNN kernels whenever TensorFlow sees a GPU, whatever the device scope, so on
a GPU machine export with the GPU hidden (`CUDA_VISIBLE_DEVICES=`; docs/design.md).

The text-to-text ONNX graph (`onnx-text`) has the inputs and outputs of
`translate_with_options`. SentencePiece tokenization becomes the onnxruntime-extensions
op `ai.onnx.contrib:SentencepieceTokenizer`; detokenization is rebuilt from ops that
convert (`Tokenizer.detokenize`). It runs in ONNX Runtime with
`onnxruntime_extensions.get_library_path()` registered, and the export proves that by
translating with it in a fresh process that never imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence

from keras_s2s import registry
from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID, UNK_ID, RunConfig
from keras_s2s.integrity import (
    CONFIG_FILENAME,
    KERAS_FILENAME,
    METRICS_FILENAME,
    SHA256_KEY,
    checksums,
    is_version_name,
    list_files,
    read_json,
    seal,
    verify_run_dir,
)

ONNX_OPSET = 17
SAVEDMODEL_FILE = "saved_model.pb"  # its presence marks a version dir
DEFAULT_FORMATS = ("savedmodel", "onnx")
QUANTIZE = ("int8",)
TMP_PREFIX = ".tmp-export-"
WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
ONNX_DIR = "onnx"
ONNX_MODEL = "model.onnx"
ONNX_INT8_MODEL = "model.int8.onnx"
ONNX_TEXT_MODEL = "model.text.onnx"
CONTRIB_DOMAIN = "ai.onnx.contrib"
ONNX_CONFIG = "config.json"
METADATA_FILE = "metadata.json"
WARMUP_TEXTS = ("Hello.", "")
# The text-to-text self-check includes inputs with no tokens at all.
VERIFY_TEXTS = ("Hello.", "", "   ", "\x01\x02")

_LIBRARIES = (
    "tensorflow",
    "tensorflow-text",
    "keras",
    "sentencepiece",
    "tf2onnx",
    "onnx",
    "onnxruntime",
)


class ExportError(RuntimeError):
    """The export could not be completed; nothing was published."""


def version_dirs(out_dir: str) -> list[int]:
    """The published integer versions under `out_dir`, ascending."""
    if not os.path.isdir(out_dir):
        return []
    return sorted(int(n) for n in os.listdir(out_dir) if is_version_name(n))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(out_dir: str) -> list[str]:
    """Deletes temporary export dirs whose process is gone; returns what it removed."""
    removed = []
    if not os.path.isdir(out_dir):
        return removed
    for name in os.listdir(out_dir):
        if not name.startswith(TMP_PREFIX):
            continue
        pid = name[len(TMP_PREFIX) :]
        if pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid)):
            continue
        shutil.rmtree(os.path.join(out_dir, name), ignore_errors=True)
        removed.append(name)
    return removed


def publish(tmp_dir: str, out_dir: str) -> str:
    """Renames a finished temporary dir to the next integer version; returns its path."""
    while True:
        version = (version_dirs(out_dir) or [0])[-1] + 1
        target = os.path.join(out_dir, str(version))
        try:
            # rename() is atomic; a racing exporter that took this number makes it fail
            # (the target exists and is not empty), and we try the next number.
            os.rename(tmp_dir, target)
            return target
        except OSError:
            if not os.path.exists(target):
                raise


def _fault_point(name: str) -> None:
    """Test hook: `KERAS_S2S_FAULT=<name>` kills the process here with SIGKILL."""
    if os.environ.get("KERAS_S2S_FAULT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def _save_savedmodel(translator, path: str) -> None:
    """`tf.saved_model.save`, with its failures turned into one-line `ExportError`s.

    `KERAS_S2S_FAULT=disk_full` makes the save fail as TensorFlow does on a full disk
    (a real full disk needs root to arrange).
    """
    import tensorflow as tf

    try:
        if os.environ.get("KERAS_S2S_FAULT") == "disk_full":
            raise tf.errors.ResourceExhaustedError(
                None,
                None,
                f"{path}/variables/variables.data-00000-of-00001.tempstate; "
                "No space left on device",
            )
        tf.saved_model.save(translator, path, signatures=translator.signatures())
    except (tf.errors.ResourceExhaustedError, OSError) as e:
        reason = getattr(e, "strerror", None) or "no space left on the device"
        raise ExportError(f"{path}: cannot write the SavedModel ({reason})") from None


def _library_versions() -> dict[str, str]:
    versions = {}
    for lib in _LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[lib] = importlib.metadata.version(lib)
    return versions


def _git_commit() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def write_warmup_requests(path: str, model_name: str, config: RunConfig) -> int:
    """Writes one `PredictionLog` per signature (tensorflow-serving-api protos).

    Returns:
        The number of records written.
    """
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    texts = tf.make_tensor_proto(list(WARMUP_TEXTS), dtype=tf.string)
    scalars = {
        "max_length": tf.make_tensor_proto(config.decode.max_length, dtype=tf.int32),
        "beam_width": tf.make_tensor_proto(1, dtype=tf.int32),
        "n_best": tf.make_tensor_proto(1, dtype=tf.int32),
    }
    ids = tf.make_tensor_proto([[4, 5, 6], [7, 0, 0]], dtype=tf.int32)
    requests = {
        "serving_default": {"text": texts},
        "translate_with_options": {"text": texts, **scalars},
        "translate_ids": {"source_ids": ids, **scalars},
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in requests.items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature)
            )
            for key, proto in inputs.items():
                request.inputs[key].CopyFrom(proto)
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return len(requests)


def _nodes(graph):
    """Every node of an ONNX graph, subgraphs (Loop bodies) included."""
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.HasField("g"):
                yield from _nodes(attr.g)
            for sub in attr.graphs:
                yield from _nodes(sub)


def onnx_op_types(model) -> set[str]:
    """Every op type in an ONNX model, subgraphs (Loop bodies) included."""
    return {node.op_type for node in _nodes(model.graph)}


def ids_function(translator):
    """The ONNX-facing ids graph: `translate_ids` with int64 ids in and out."""
    import tensorflow as tf

    specs = [
        tf.TensorSpec([None, None], tf.int64, name="source_ids"),
        tf.TensorSpec([], tf.int32, name="max_length"),
        tf.TensorSpec([], tf.int32, name="beam_width"),
        tf.TensorSpec([], tf.int32, name="n_best"),
    ]

    @tf.function(input_signature=specs, autograph=False)
    def translate_ids(source_ids, max_length, beam_width, n_best):
        out = translator.translate_ids(
            tf.cast(source_ids, tf.int32), max_length, beam_width, n_best
        )
        return {
            "ids": tf.cast(out["ids"], tf.int64),
            "scores": out["scores"],
            "alignments": out["alignments"],
        }

    return translate_ids


def _rename_inputs(graph, old: str, new: str) -> None:
    """Points every consumer of `old` in `graph` and its subgraphs at `new`."""
    for node in _nodes(graph):
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new


def hoist_loop_constants(graph, constants: set[str] | None = None) -> int:
    """Turns weights carried through `Loop` state into outer-scope references.

    tf2onnx carries every weight a TensorFlow while-loop captures as loop state, passed
    through each iteration unchanged. ONNX Runtime's quantizer only sees MatMul weights
    that are initializers (in scope), so the decoding loop's output projection, the
    largest MatMul of the step, stayed fp32. A subgraph may read outer-scope values by
    name, so each such pass-through is dropped and its uses read the initializer.

    Args:
        graph: An `onnx.GraphProto`, changed in place.
        constants: Initializer names visible from enclosing graphs.

    Returns:
        The number of loop state variables removed.
    """
    visible = set(constants or ()) | {t.name for t in graph.initializer}
    removed = 0
    graph_outputs = {o.name for o in graph.output}
    for loop in graph.node:
        for attr in loop.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                removed += hoist_loop_constants(sub, visible)
        if loop.op_type != "Loop":
            continue
        body = next(a.g for a in loop.attribute if a.name == "body")
        producers = {o: n for n in body.node for o in n.output}
        drop = []
        for k in range(len(loop.input) - 2):
            initial = loop.input[2 + k]
            body_in, body_out = body.input[2 + k].name, body.output[1 + k].name
            identity = producers.get(body_out)
            passes = body_out == body_in or (
                identity is not None
                and identity.op_type == "Identity"
                and identity.input[0] == body_in
            )
            final = loop.output[k] if k < len(loop.output) else ""
            if passes and initial in visible and final not in graph_outputs:
                drop.append(k)
        for k in reversed(drop):
            initial = loop.input[2 + k]
            body_in, body_out = body.input[2 + k].name, body.output[1 + k].name
            _rename_inputs(body, body_in, initial)
            _rename_inputs(graph, loop.output[k], initial)
            del loop.input[2 + k]
            del body.input[2 + k]
            del body.output[1 + k]
            del loop.output[k]
            still_used = {name for node in _nodes(body) for name in node.input}
            still_used |= {o.name for o in body.output}
            for node in list(body.node):
                if node.op_type == "Identity" and node.output[0] == body_out:
                    if body_out not in still_used:
                        body.node.remove(node)
        removed += len(drop)
    return removed


def text_function(translator):
    """The ONNX-facing text graph: `translate_with_options`, built from portable ops."""
    import tensorflow as tf

    from keras_s2s.translator import SCALAR, TEXT_SPEC

    specs = [TEXT_SPEC, SCALAR["max_length"], SCALAR["beam_width"], SCALAR["n_best"]]

    @tf.function(input_signature=specs, autograph=False)
    def translate_with_options(text, max_length, beam_width, n_best):
        return translator.text_to_text(text, max_length, beam_width, n_best, portable=True)

    return translate_with_options


def convert_to_onnx(function, path: str, *, custom_ops: bool = False) -> set[str]:
    """Converts a traced tf.function with tf2onnx, checks it, and returns its op types.

    Args:
        function: A `tf.function` with an input signature.
        path: The `.onnx` file to write.
        custom_ops: Allow onnxruntime-extensions ops (domain `ai.onnx.contrib`), which
            the text graph needs for SentencePiece tokenization.

    Raises:
        ExportError: if tf2onnx left TensorFlow ops in the graph (it logs them instead
            of raising) or the model fails `onnx.checker.check_model(full_check=True)`.
    """
    import onnx
    import tensorflow as tf
    import tf2onnx

    extra_opset = [onnx.helper.make_opsetid(CONTRIB_DOMAIN, 1)] if custom_ops else None
    tf2onnx_logger = logging.getLogger("tf2onnx")
    level = tf2onnx_logger.level
    tf2onnx_logger.setLevel(logging.ERROR)
    try:
        with tf.device("/CPU:0"):
            model, _ = tf2onnx.convert.from_function(
                function,
                input_signature=function.input_signature,
                opset=ONNX_OPSET,
                output_path=path,
                extra_opset=extra_opset,
            )
    finally:
        tf2onnx_logger.setLevel(level)
    hoist_loop_constants(model.graph)
    onnx.save(model, path)
    ops = set()
    # Unconverted TensorFlow ops keep their TF names, which are not ONNX op types.
    known = {schema.name for schema in onnx.defs.get_all_schemas_with_history()}
    leftover = set()
    for node in _nodes(model.graph):
        ops.add(node.op_type)
        custom = custom_ops and node.domain == CONTRIB_DOMAIN
        if not custom and (node.domain not in ("", "ai.onnx") or node.op_type not in known):
            leftover.add(node.op_type if not node.domain else f"{node.domain}:{node.op_type}")
    if leftover:
        raise ExportError(f"tf2onnx left unconverted ops in {path}: {', '.join(sorted(leftover))}")
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return ops


def quantize_int8(onnx_path: str, out_path: str) -> None:
    """Dynamic int8 quantization of an ids graph's weights (`onnxruntime.quantization`).

    MatMul weights become int8 with per-tensor scales; activations are quantized at run
    time. The decoding loop's body is a subgraph, so subgraph quantization is on: that
    is where the output projection, the largest MatMul, runs once per step.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        onnx_path,
        out_path,
        weight_type=QuantType.QInt8,
        extra_options={"EnableSubgraph": True},
    )


def verify_text_model(path: str, texts: Sequence[str] = VERIFY_TEXTS) -> list[str]:
    """Translates `texts` with a text-to-text ONNX file in a fresh Python process.

    The process imports onnxruntime and onnxruntime-extensions only; it fails if
    TensorFlow gets imported. Returns the translations.

    Raises:
        ExportError: with the child's error output, if it fails.
    """
    import sys

    code = (
        "import json, sys\n"
        "from keras_s2s.backends import OnnxTextBackend\n"
        "texts = json.loads(sys.stdin.read())\n"
        "out = OnnxTextBackend(sys.argv[1]).translate(texts)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, path],
        input=json.dumps(list(texts)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise ExportError(f"{path}: the text-to-text model failed in ONNX Runtime:\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@dataclasses.dataclass
class ExportContext:
    """What an `ExportFormat`'s writer gets: the traced model and where to write.

    Attributes:
        run_dir: The training run being exported.
        version_dir: The (temporary) version directory to write into.
        model_name: The model's directory name (TF Serving's model name).
        config: The run's `RunConfig`.
        tokenizer: The run's `Tokenizer`.
        translator: The `Translator` module every graph is traced from.
        quantize: The requested quantization (`None` or `"int8"`).
        onnx_files: Files of the ONNX family written so far (role -> file name inside
            `onnx/`); when any are written, `export` adds the tokenizer and
            `onnx/config.json`, which the ONNX backends read.
    """

    run_dir: str
    version_dir: str
    model_name: str
    config: RunConfig
    tokenizer: object
    translator: object
    quantize: str | None = None
    onnx_files: dict[str, str] = dataclasses.field(default_factory=dict)


def _write_savedmodel(ctx: ExportContext) -> list[str]:
    import tensorflow as tf

    with tf.device("/CPU:0"):
        _save_savedmodel(ctx.translator, ctx.version_dir)
    _fault_point("after_variables")
    write_warmup_requests(os.path.join(ctx.version_dir, WARMUP_FILE), ctx.model_name, ctx.config)
    return [SAVEDMODEL_FILE, "variables/", "assets/", WARMUP_FILE]


def _write_onnx(ctx: ExportContext) -> list[str]:
    onnx_dir = os.path.join(ctx.version_dir, ONNX_DIR)
    os.makedirs(onnx_dir, exist_ok=True)
    convert_to_onnx(ids_function(ctx.translator), os.path.join(onnx_dir, ONNX_MODEL))
    ctx.onnx_files["ids"] = ONNX_MODEL
    if ctx.quantize == "int8":
        quantize_int8(os.path.join(onnx_dir, ONNX_MODEL), os.path.join(onnx_dir, ONNX_INT8_MODEL))
        ctx.onnx_files["int8"] = ONNX_INT8_MODEL
    _fault_point("after_onnx")
    return []  # listed with the ONNX family's shared files, by _write_onnx_config


def _write_onnx_text(ctx: ExportContext) -> list[str]:
    onnx_dir = os.path.join(ctx.version_dir, ONNX_DIR)
    os.makedirs(onnx_dir, exist_ok=True)
    convert_to_onnx(
        text_function(ctx.translator), os.path.join(onnx_dir, ONNX_TEXT_MODEL), custom_ops=True
    )
    ctx.onnx_files["text"] = ONNX_TEXT_MODEL
    return []


def _write_onnx_config(ctx: ExportContext) -> list[str]:
    """The tokenizer and `onnx/config.json` beside the ONNX graphs; their file list."""
    from keras_s2s.tokenizer import MODEL_FILENAME

    onnx_dir = os.path.join(ctx.version_dir, ONNX_DIR)
    config = ctx.config
    ctx.tokenizer.save(os.path.join(onnx_dir, MODEL_FILENAME))
    ctx.onnx_files["tokenizer"] = MODEL_FILENAME
    onnx_config = {
        "opset": ONNX_OPSET,
        "special_ids": {"pad": PAD_ID, "unk": UNK_ID, "sos": SOS_ID, "eos": EOS_ID},
        "max_source_length": config.data.max_source_length,
        "max_length": config.decode.max_length,
        "attention": config.model.attention,
        "length_penalty": config.decode.length_penalty,
        "beam_width": config.decode.beam_width,
        "inputs": ["source_ids", "max_length", "beam_width", "n_best"],
        "outputs": ["ids", "scores", "alignments"],
        "text_inputs": ["text", "max_length", "beam_width", "n_best"],
        "text_outputs": ["translations", "scores", "ids", "alignments"],
        "files": ctx.onnx_files,
        SHA256_KEY: checksums(onnx_dir, ctx.onnx_files.values()),
    }
    with open(os.path.join(onnx_dir, ONNX_CONFIG), "w", encoding="utf-8") as f:
        json.dump(seal(onnx_config), f, indent=2)
    if "text" in ctx.onnx_files:
        # Only now is config.json beside it, which the backend reads.
        verify_text_model(os.path.join(onnx_dir, ONNX_TEXT_MODEL))
    return [f"{ONNX_DIR}/{name}" for name in ctx.onnx_files.values()]


_BUILTIN_FORMATS = (
    registry.ExportFormat(
        "savedmodel", _write_savedmodel, required=True, help="TF Serving; always written"
    ),
    registry.ExportFormat("onnx", _write_onnx, help="ONNX Runtime ids graph"),
    registry.ExportFormat(
        "onnx-text",
        _write_onnx_text,
        help="strings to strings, needs onnxruntime-extensions to run",
    ),
)
for _format in _BUILTIN_FORMATS:
    registry.register_format(_format, replace=True)
FORMATS = tuple(f.name for f in _BUILTIN_FORMATS)
"""The built-in export formats (`registry.format_names()` also lists registered ones)."""


def export(
    run_dir: str,
    out_dir: str,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    quantize: str | None = None,
) -> str:
    """Exports a trained run and publishes it as the next version under `out_dir`.

    Args:
        run_dir: A training run dir (config.json, tokenizer.model, model.keras).
        out_dir: The model's directory, e.g. `saved_models/NAME`.
        formats: Names of registered formats (`keras_s2s.registry`). `savedmodel` is
            always written (TF Serving loads it); `onnx` adds the ONNX Runtime ids graph
            and `onnx-text` the strings-to-strings graph.
        quantize: `int8` also writes `onnx/model.int8.onnx`, the ids graph with
            dynamically quantized weights (needs the `onnx` format).

    Returns:
        The published version directory.

    Raises:
        ExportError: on an unknown format or a failed conversion (nothing is published).
    """
    known = registry.formats()
    unknown = sorted(set(formats) - set(known))
    if unknown:
        raise ExportError(
            f"unknown export format(s): {', '.join(unknown)} (expected {', '.join(known)})"
        )
    if quantize is not None and quantize not in QUANTIZE:
        raise ExportError(f"unknown quantization {quantize!r} (expected {', '.join(QUANTIZE)})")
    if quantize is not None and "onnx" not in formats:
        raise ExportError("quantize needs the onnx format (it quantizes onnx/model.onnx)")
    writers = [f for f in known.values() if f.required or f.name in formats]
    from keras_s2s.tokenizer import MODEL_FILENAME, Tokenizer

    # Everything that does not need TensorFlow is checked before it loads.
    for name in (CONFIG_FILENAME, MODEL_FILENAME, KERAS_FILENAME):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise ExportError(f"{run_dir}: not a training run dir (no {name})")
    metrics_path = os.path.join(run_dir, METRICS_FILENAME)
    has_metrics = os.path.isfile(metrics_path)
    verify_run_dir(
        run_dir,
        [CONFIG_FILENAME, MODEL_FILENAME, KERAS_FILENAME]
        + ([METRICS_FILENAME] if has_metrics else []),
    )
    config = RunConfig.load(os.path.join(run_dir, CONFIG_FILENAME))
    tokenizer = Tokenizer.load(run_dir)
    metrics = read_json(metrics_path) if has_metrics else {}

    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ExportError(f"{out_dir}: exists and is not a directory")
    import tensorflow as tf

    from keras_s2s.training import load_model
    from keras_s2s.translator import Translator

    with tf.device("/CPU:0"):
        model = load_model(run_dir)
    try:
        os.makedirs(out_dir, exist_ok=True)
        remove_stale_temporaries(out_dir)
        tmp = os.path.join(out_dir, f"{TMP_PREFIX}{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
    except OSError as e:
        raise ExportError(f"{e.filename or out_dir}: {e.strerror}") from None
    try:
        with tf.device("/CPU:0"):
            translator = Translator(model, tokenizer, config)
            # The tokenizer also ships as an asset, so the SavedModel is self-describing.
            translator.tokenizer_file = tf.saved_model.Asset(os.path.join(run_dir, MODEL_FILENAME))
        ctx = ExportContext(
            run_dir=run_dir,
            version_dir=tmp,
            model_name=os.path.basename(os.path.normpath(out_dir)),
            config=config,
            tokenizer=tokenizer,
            translator=translator,
            quantize=quantize,
        )
        files = []
        for writer in writers:
            files += writer.write(ctx)
        if ctx.onnx_files:
            files += _write_onnx_config(ctx)
        metadata = {
            "config": config.to_dict(),
            "libraries": _library_versions(),
            "train_data_sha256": metrics.pop("train_data_sha256", None),
            "commit": _git_commit(),
            "metrics": metrics,
            "formats": sorted(w.name for w in writers),
            "files": files,
            "vocab_size": tokenizer.vocab_size,
            # Every file a backend may read, checked when it loads (keras_s2s.integrity).
            SHA256_KEY: checksums(tmp, list_files(tmp)),
        }
        with open(os.path.join(tmp, METADATA_FILE), "w", encoding="utf-8") as f:
            json.dump(seal(metadata), f, indent=2)
        _fault_point("before_rename")
        return publish(tmp, out_dir)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        where = e.filename or tmp
        raise ExportError(f"{where}: {e.strerror or e}; nothing was published") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
