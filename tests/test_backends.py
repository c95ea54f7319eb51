# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Parity: the keras backend, the SavedModel (in a TF-only subprocess) and ONNX Runtime."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import keras_s2s
from keras_s2s.backends import ModelPathError, resolve

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}

# Runs in a process that imports only tensorflow and tensorflow_text. Both import parts of
# keras themselves (tf.keras, and tensorflow_text's Keras layers), so the check is that
# loading and running the SavedModel imports nothing beyond them: no keras_s2s, and no
# keras module that those two imports did not already bring in.
SAVEDMODEL_SCRIPT = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401
baseline = set(sys.modules)
version_dir, texts, ids = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
m = tf.saved_model.load(version_dir)
one = lambda v: tf.constant(v, tf.int32)
out = m.signatures["translate_with_options"](
    text=tf.constant(texts), max_length=one(64), beam_width=one(1), n_best=one(1))
by_ids = m.signatures["translate_ids"](
    source_ids=tf.constant(ids, tf.int32), max_length=one(64), beam_width=one(1), n_best=one(1))
logits = m.signatures["first_step_logits"](source_ids=tf.constant(ids, tf.int32))["logits"]
default = m.signatures["serving_default"](text=tf.constant(texts))
print(json.dumps({
    "keras_s2s_imported": any(k.split(".")[0] == "keras_s2s" for k in sys.modules),
    "new_keras_modules": sorted(
        k for k in set(sys.modules) - baseline if k.split(".")[0] == "keras"),
    "translations": [s.decode() for s in out["translations"].numpy()[:, 0]],
    "ids": out["ids"].numpy()[:, 0].tolist(),
    "scores": out["scores"].numpy()[:, 0].tolist(),
    "ids_from_ids": by_ids["ids"].numpy()[:, 0].tolist(),
    "first_logits": logits.numpy().tolist(),
    "default": [s.decode() for s in default["translation"].numpy()],
}))
"""


def _pad(rows):
    width = max(len(r) for r in rows)
    return [list(r) + [0] * (width - len(r)) for r in rows]


def _strip(row):
    row = list(row)
    while row and row[-1] == 0:
        row.pop()
    return row


@pytest.fixture(scope="module")
def results(exported, parity_sentences):
    run_dir, _, version_dir = exported
    keras_model = keras_s2s.load(run_dir, "keras")
    onnx_model = keras_s2s.load(version_dir, "onnx")
    source_ids = _pad(
        [r[:24] for r in keras_model.tokenizer.encode(parity_sentences)]
    )  # the run's max_source_length is 24
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            SAVEDMODEL_SCRIPT,
            version_dir,
            json.dumps(parity_sentences),
            json.dumps(source_ids),
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {
        "keras": keras_model.translate_detailed(parity_sentences),
        "onnx": onnx_model.translate_detailed(parity_sentences),
        "savedmodel": json.loads(proc.stdout),
        "keras_model": keras_model,
        "source_ids": source_ids,
    }


def test_savedmodel_process_needs_neither_keras_s2s_nor_more_keras(results):
    assert results["savedmodel"]["keras_s2s_imported"] is False
    assert results["savedmodel"]["new_keras_modules"] == []


def test_identical_ids_in_all_three_backends(results, parity_sentences):
    keras_ids = [t.ids for t in results["keras"]]
    onnx_ids = [t.ids for t in results["onnx"]]
    saved = results["savedmodel"]
    assert len(keras_ids) == len(parity_sentences) >= 50
    assert keras_ids == onnx_ids
    assert keras_ids == [_strip(r) for r in saved["ids"]]
    assert keras_ids == [_strip(r) for r in saved["ids_from_ids"]]
    texts = [t.text for t in results["keras"]]
    assert texts == [t.text for t in results["onnx"]] == saved["translations"]
    assert saved["default"] == texts
    # A degenerate model (one output for everything) cannot pass.
    assert len(set(texts)) >= len(texts) / 2


def test_scores_are_all_close(results):
    keras_scores = [t.score for t in results["keras"]]
    np.testing.assert_allclose(
        [t.score for t in results["onnx"]], keras_scores, rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(results["savedmodel"]["scores"], keras_scores, rtol=1e-4, atol=1e-5)


def test_first_step_logits_are_all_close(results, exported, tmp_path):
    import onnxruntime as ort
    import tensorflow as tf

    from keras_s2s.exporting import convert_to_onnx
    from keras_s2s.models import Seq2Seq

    ids = np.array(results["source_ids"], np.int32)
    s2s = Seq2Seq.from_model(results["keras_model"].model)
    keras_logits = s2s.step(tf.fill([len(ids)], 2), s2s.encode(ids))[0]
    keras_logits = keras_logits.numpy()
    np.testing.assert_allclose(
        results["savedmodel"]["first_logits"], keras_logits, rtol=1e-4, atol=1e-5
    )
    # The same first step through tf2onnx and ONNX Runtime.
    loaded = tf.saved_model.load(exported[2])
    fn = tf.function(
        lambda source_ids: loaded.signatures["first_step_logits"](source_ids=source_ids),
        input_signature=[tf.TensorSpec([None, None], tf.int32, name="source_ids")],
    )
    path = str(tmp_path / "first_step.onnx")
    convert_to_onnx(fn, path)
    (onnx_logits,) = ort.InferenceSession(path).run(None, {"source_ids": ids})
    np.testing.assert_allclose(onnx_logits, keras_logits, rtol=1e-4, atol=1e-5)


def test_sentence_alone_equals_in_batch(results, parity_sentences, exported):
    onnx_model = keras_s2s.load(exported[2], "onnx")
    for i in (0, 7, 33):
        alone = onnx_model.translate_detailed([parity_sentences[i]])[0]
        assert alone.ids == results["onnx"][i].ids


def test_onnx_backend_never_imports_tensorflow(exported):
    script = (
        "import sys, keras_s2s\n"
        f"m = keras_s2s.load({exported[2]!r}, 'onnx')\n"
        "out = m.translate(['May 7, 1985', 'two hundred'])\n"
        "assert len(out) == 2\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
def test_moved_export_translates_after_the_run_dir_is_deleted(exported, tmp_path, parity_sentences):
    run_dir, _, version_dir = exported
    expected = keras_s2s.load(version_dir, "onnx").translate(parity_sentences[:10])
    run_copy = tmp_path / "run"
    shutil.copytree(run_dir, run_copy)
    from keras_s2s.exporting import export

    fresh = export(str(run_copy), str(tmp_path / "models" / "m"))
    moved = str(tmp_path / "elsewhere")
    shutil.move(fresh, moved)
    shutil.rmtree(run_copy)
    assert keras_s2s.load(moved, "savedmodel").translate(parity_sentences[:10]) == expected
    assert keras_s2s.load(moved, "onnx").translate(parity_sentences[:10]) == expected
    assert (
        keras_s2s.load(os.path.join(moved, "onnx", "model.onnx")).translate(parity_sentences[:10])
        == expected
    )


def test_resolve_picks_backend_from_path(exported, tmp_path):
    run_dir, model_dir, version_dir = exported
    assert resolve(run_dir) == ("keras", run_dir)
    assert resolve(version_dir) == ("savedmodel", version_dir)
    assert resolve(model_dir)[1].endswith(os.sep + "1") or resolve(model_dir)[1].endswith("/1")
    assert resolve(version_dir, "onnx") == ("onnx", os.path.join(version_dir, "onnx", "model.onnx"))
    with pytest.raises(ModelPathError, match="no such file or directory"):
        resolve(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelPathError, match="not a model"):
        resolve(str(tmp_path / "empty"))
    with pytest.raises(ModelPathError, match="unknown backend 'tflite'"):
        resolve(version_dir, "tflite")


def test_n_best_must_fit_in_the_beam(exported):
    model = keras_s2s.load(exported[2], "onnx")
    with pytest.raises(ValueError, match="n_best must be between 1 and beam \\(2\\); got 3"):
        model.translate_nbest(["x"], beam=2, n_best=3)
    with pytest.raises(ValueError, match="beam must be between 1 and 64; got 0"):
        model.translate(["x"], beam=0)


def test_resolve_finds_the_int8_and_text_onnx_files(exported, exported_attention):
    version_dir = exported_attention[1]
    onnx_dir = os.path.join(version_dir, "onnx")
    assert resolve(version_dir, "onnx-int8") == (
        "onnx-int8",
        os.path.join(onnx_dir, "model.int8.onnx"),
    )
    assert resolve(version_dir, "onnx-text") == (
        "onnx-text",
        os.path.join(onnx_dir, "model.text.onnx"),
    )
    text_file = os.path.join(onnx_dir, "model.text.onnx")
    assert resolve(text_file) == ("onnx-text", text_file)
    # The tiny model was exported without either.
    with pytest.raises(ModelPathError, match="exported without onnx-text"):
        resolve(exported[2], "onnx-text")
    with pytest.raises(ModelPathError, match="exported without onnx-int8"):
        resolve(exported[2], "onnx-int8")
