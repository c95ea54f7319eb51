# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import hashlib
import json
import os
import shutil

import numpy as np
import onnx
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from keras_s2s.exporting import (
    ExportError,
    export,
    onnx_op_types,
    publish,
    remove_stale_temporaries,
    version_dirs,
)

# Every op the ids graph of the (bidirectional GRU, no attention) test model contains:
# the encoder's masked RNN loops (ReverseSequence for the backward direction), the
# decoder step through the GRU cell, and the beam-search Loop (TopK, Pow for the length
# penalty). A TensorFlow op left behind by tf2onnx (it logs instead of raising) would
# show up here under its TF name.
EXPECTED_OPS = {
    "Add", "And", "Cast", "Concat", "ConstantOfShape", "Div", "Equal", "Expand", "Gather",
    "GatherND", "Greater", "Identity", "Less", "LogSoftmax", "Loop", "MatMul", "Max", "Min",
    "Mul", "Not", "Or", "Pad", "Pow", "Range", "ReduceSum", "Reshape", "ReverseSequence", "Shape",
    "Sigmoid", "Slice", "Split", "Squeeze", "Sub", "Tanh", "Tile", "TopK", "Transpose",
    "Unsqueeze", "Where",
}  # fmt: skip


def _tree_digest(path):
    digest = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            digest.update(os.path.relpath(full, path).encode())
            with open(full, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()


def test_version_layout(exported):
    _, model_dir, version_dir = exported
    assert os.path.basename(version_dir) == "1"
    for rel in (
        "saved_model.pb",
        "variables/variables.index",
        "assets/tokenizer.model",
        "assets.extra/tf_serving_warmup_requests",
        "onnx/model.onnx",
        "onnx/tokenizer.model",
        "onnx/config.json",
        "metadata.json",
    ):
        assert os.path.isfile(os.path.join(version_dir, rel)), rel
    assert not [n for n in os.listdir(model_dir) if n.startswith(".tmp-export-")]
    with open(os.path.join(version_dir, "metadata.json")) as f:
        meta = json.load(f)
    assert meta["config"]["model"]["units"] == 64
    assert len(meta["train_data_sha256"]) == 64
    assert {"tensorflow", "keras", "tf2onnx", "onnxruntime"} <= set(meta["libraries"])
    with open(os.path.join(version_dir, "onnx", "config.json")) as f:
        cfg = json.load(f)
    assert cfg["special_ids"] == {"pad": 0, "unk": 1, "sos": 2, "eos": 3}


def test_warmup_records_parse_and_run_through_their_signatures(exported):
    _, _, version_dir = exported
    path = os.path.join(version_dir, "assets.extra", "tf_serving_warmup_requests")
    logs = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    names = [log.predict_log.request.model_spec.signature_name for log in logs]
    assert names == ["serving_default", "translate_with_options", "translate_ids"]
    loaded = tf.saved_model.load(version_dir)
    for log in logs:
        request = log.predict_log.request
        fn = loaded.signatures[request.model_spec.signature_name]
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        out = fn(**{k: tf.constant(v) for k, v in inputs.items()})
        assert out, request.model_spec.signature_name


def test_signatures_match_the_contract(exported):
    _, _, version_dir = exported
    loaded = tf.saved_model.load(version_dir)
    sigs = loaded.signatures
    assert set(sigs) == {
        "serving_default",
        "translate_with_options",
        "translate_ids",
        "first_step_logits",
    }
    assert set(sigs["serving_default"].structured_outputs) == {"translation", "score"}
    assert set(sigs["translate_with_options"].structured_input_signature[1]) == {
        "text",
        "max_length",
        "beam_width",
        "n_best",
    }
    assert set(sigs["translate_with_options"].structured_outputs) == {
        "translations",
        "scores",
        "ids",
        "alignments",
    }
    assert set(sigs["translate_ids"].structured_outputs) == {"ids", "scores", "alignments"}
    out = sigs["translate_with_options"](
        text=tf.constant(["a", "bb"]),
        max_length=tf.constant(5),
        beam_width=tf.constant(1),
        n_best=tf.constant(1),
    )
    assert out["translations"].shape[:2] == (2, 1)
    ids = out["ids"].numpy()
    assert ids.shape[:2] == (2, 1) and ids.shape[2] <= 5
    assert out["alignments"].shape[:3] == ids.shape


def test_onnx_graph_op_types(exported):
    _, _, version_dir = exported
    model = onnx.load(os.path.join(version_dir, "onnx", "model.onnx"))
    ops = onnx_op_types(model)
    assert ops == EXPECTED_OPS
    assert model.opset_import[0].version >= 17
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == [
        "source_ids",
        "max_length",
        "beam_width",
        "n_best",
    ]
    elem = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert elem["source_ids"] == onnx.TensorProto.INT64
    outs = {o.name: o.type.tensor_type.elem_type for o in model.graph.output}
    assert outs == {
        "ids": onnx.TensorProto.INT64,
        "scores": onnx.TensorProto.FLOAT,
        "alignments": onnx.TensorProto.FLOAT,
    }


@pytest.mark.slow
def test_second_export_adds_version_2_and_leaves_version_1_untouched(exported):
    run_dir, model_dir, version_dir = exported
    before = _tree_digest(version_dir)
    second = export(run_dir, model_dir, formats=("savedmodel",))
    assert os.path.basename(second) == "2"
    assert version_dirs(model_dir) == [1, 2]
    assert _tree_digest(version_dir) == before
    assert not os.path.exists(os.path.join(second, "onnx"))
    shutil.rmtree(second)


def test_unknown_format_and_bad_run_dir(tmp_path, exported):
    run_dir, _, _ = exported
    with pytest.raises(ExportError, match="unknown export format\\(s\\): tflite"):
        export(run_dir, str(tmp_path / "m"), formats=("savedmodel", "tflite"))
    with pytest.raises(ExportError, match="not a training run dir \\(no config.json\\)"):
        export(str(tmp_path), str(tmp_path / "m"))
    assert not os.path.exists(tmp_path / "m" / "1")


def test_publish_picks_the_next_number_and_stale_temporaries_are_removed(tmp_path):
    out = tmp_path / "model"
    (out / "3").mkdir(parents=True)
    (out / "3" / "x").write_text("old")
    stale = out / ".tmp-export-999999999"
    stale.mkdir()
    assert remove_stale_temporaries(str(out)) == [".tmp-export-999999999"]
    tmp = out / ".tmp-export-new"
    tmp.mkdir()
    (tmp / "y").write_text("new")
    assert publish(str(tmp), str(out)) == str(out / "4")
    assert (out / "3" / "x").read_text() == "old"
    assert version_dirs(str(out)) == [3, 4]


def test_int8_export_quantizes_the_decoder_loop_and_still_translates(exported_attention):
    import keras_s2s

    version_dir = exported_attention[1]
    model = onnx.load(os.path.join(version_dir, "onnx", "model.int8.onnx"))
    assert "MatMulInteger" in onnx_op_types(model)
    # The output projection runs inside the decoding Loop's body (the one that holds
    # beam search's TopK): it must be quantized there.
    from keras_s2s.exporting import _nodes

    bodies = [
        {n.op_type for n in _nodes(a.g)}
        for loop in model.graph.node
        if loop.op_type == "Loop"
        for a in loop.attribute
        if a.name == "body"
    ]
    decoding = [ops for ops in bodies if "TopK" in ops]
    assert len(decoding) == 1
    assert "MatMulInteger" in decoding[0]
    size = os.path.getsize
    onnx_dir = os.path.join(version_dir, "onnx")
    assert size(os.path.join(onnx_dir, "model.int8.onnx")) < size(
        os.path.join(onnx_dir, "model.onnx")
    )
    sources = ["2024년 3월 5일 화요일", "Dienstag, 5. März 2024", "fünfhundertzwölf"]
    fp32 = keras_s2s.load(version_dir, "onnx").translate_detailed(sources)
    int8 = keras_s2s.load(version_dir, "onnx-int8").translate_detailed(sources)
    assert all(h.ids and h.text for h in int8)
    np.testing.assert_allclose([h.score for h in int8], [h.score for h in fp32], atol=0.5)


def test_quantize_needs_onnx_and_a_known_scheme(exported, tmp_path):
    run_dir = exported[0]
    with pytest.raises(ExportError, match="quantize needs the onnx format"):
        export(run_dir, str(tmp_path / "a"), formats=("savedmodel",), quantize="int8")
    with pytest.raises(ExportError, match="unknown quantization 'int4'"):
        export(run_dir, str(tmp_path / "b"), quantize="int4")
    assert not os.path.exists(tmp_path / "a") and not os.path.exists(tmp_path / "b")
