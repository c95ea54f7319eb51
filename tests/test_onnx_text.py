# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The text-to-text ONNX graph (`onnx-text`): strings in, strings out, no TensorFlow.

ONNX Runtime with SentencePiece custom ops runs in a child process that never imports
TensorFlow (a process that loaded TensorFlow first crashed creating such a session;
see docs/design.md); the SavedModel runs here.
"""

import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from parity_models import assert_same_nbest

from keras_s2s.exporting import CONTRIB_DOMAIN

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")

SPECIAL = [
    "",
    " ",
    "2024년 3월 5일 화요일",
    "이천이십사",
    "안녕하세요, 세계!",
    "Dienstag, 5. März 2024",
    "zweitausendvierundzwanzig",
    "Grüße aus Köln: ÄÖÜ äöü ß",
    "ᚠᚢᚦᚨᚱᚲ",
    "𓀀𓀁𓀂",
    "ሰላም ለዓለም",
    "สวัสดีครับ",
    "مرحبا بالعالم",
    "שלום עולם",
    "Здравствуй, мир",
    "你好，世界",
    "こんにちは世界",
    "👋🌍 🎉",
    "  leading and   inner   spaces  ",
    "tab\tseparated\twords",
    "Ｆｕｌｌｗｉｄｔｈ　ＡＢＣ　１２３",
    "e\u0301 combining accent",
    "\u200b\u200d zero width",
    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30",
    "x" * 300,
]

ONNX_TEXT_SCRIPT = r"""
import json, sys
from keras_s2s.backends import OnnxTextBackend

path, texts = sys.argv[1], json.loads(sys.stdin.read())
model = OnnxTextBackend(path)
out = {}
for beam, n_best in ((1, 1), (3, 2)):
    rows = model.translate_nbest(texts, beam=beam, n_best=n_best)
    out[f"{beam},{n_best}"] = [
        [{"text": h.text, "ids": h.ids, "score": h.score, "alignment": h.alignment} for h in row]
        for row in rows
    ]
out["empty_batch"] = model.translate([])
out["tensorflow_modules"] = sorted(m for m in sys.modules if m.split(".")[0] == "tensorflow")
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def sentences(small_corpus):
    corpus = [s for s, _ in small_corpus.test] + [s for s, _ in small_corpus.valid]
    texts = corpus[:190] + SPECIAL
    assert len(texts) >= 200
    return texts


@pytest.fixture(scope="module")
def text_path(exported_attention):
    return os.path.join(exported_attention[1], "onnx", "model.text.onnx")


@pytest.fixture(scope="module")
def onnx_text_results(text_path, sentences):
    proc = subprocess.run(
        [sys.executable, "-c", ONNX_TEXT_SCRIPT, text_path],
        input=json.dumps(sentences),
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def savedmodel(exported_attention):
    from keras_s2s.backends import SavedModelBackend

    return SavedModelBackend(exported_attention[1])


@pytest.mark.parametrize("beam,n_best", [(1, 1), (3, 2)])
def test_strings_equal_the_savedmodel_exactly(
    onnx_text_results, savedmodel, sentences, beam, n_best
):
    expected = savedmodel.translate_nbest(sentences, beam=beam, n_best=n_best)
    got = onnx_text_results[f"{beam},{n_best}"]
    assert len(got) == len(expected) == len(sentences)
    for text, want, have in zip(sentences, expected, got, strict=True):
        # Hypotheses tied to within float rounding may come in another order.
        if assert_same_nbest(want, have, context=text):
            assert [h["text"] for h in have] == [h.text for h in want], text
            for h, w in zip(have, want, strict=True):
                np.testing.assert_allclose(h["alignment"], w.alignment, atol=1e-4)


def test_translations_are_not_all_alike(onnx_text_results):
    # Guards the parity test against a degenerate model that says the same thing always.
    texts = {row[0]["text"] for row in onnx_text_results["1,1"]}
    assert len(texts) > 20


def test_onnx_text_process_never_imports_tensorflow(onnx_text_results):
    assert onnx_text_results["tensorflow_modules"] == []


def test_empty_batch_returns_nothing(onnx_text_results):
    assert onnx_text_results["empty_batch"] == []


def test_graph_has_the_translate_with_options_interface(text_path):
    model = onnx.load(text_path)
    inputs = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    outputs = {o.name: o.type.tensor_type.elem_type for o in model.graph.output}
    t = onnx.TensorProto
    assert inputs == {
        "text": t.STRING,
        "max_length": t.INT32,
        "beam_width": t.INT32,
        "n_best": t.INT32,
    }
    assert outputs == {
        "translations": t.STRING,
        "scores": t.FLOAT,
        "ids": t.INT32,
        "alignments": t.FLOAT,
    }


def test_only_sentencepiece_and_string_ops_are_custom(text_path):
    from keras_s2s.exporting import _nodes

    model = onnx.load(text_path)
    custom = {n.op_type for n in _nodes(model.graph) if n.domain == CONTRIB_DOMAIN}
    assert custom == {"SentencepieceTokenizer", "StringJoin", "StringRegexReplace"}
    assert {n.domain for n in _nodes(model.graph)} <= {"", CONTRIB_DOMAIN}


def test_config_lists_the_text_model(exported_attention):
    with open(os.path.join(exported_attention[1], "onnx", "config.json")) as f:
        config = json.load(f)
    assert config["files"]["text"] == "model.text.onnx"
    assert config["text_inputs"] == ["text", "max_length", "beam_width", "n_best"]
    assert config["text_outputs"] == ["translations", "scores", "ids", "alignments"]


def test_cli_translates_with_the_onnx_text_backend(exported_attention, savedmodel):
    texts = ["2024년 3월 5일 화요일", "Dienstag, 5. März 2024", ""]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_s2s",
            "translate",
            "--model",
            exported_attention[1],
            "--backend",
            "onnx-text",
            "--beam",
            "3",
            *texts,
        ],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines() == savedmodel.translate(texts, beam=3)
