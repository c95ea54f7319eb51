# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Every backend gives the same ids and strings: a matrix of tiny trained models.

GRU and LSTM, without attention / Bahdanau / Luong, 1 and 2 layers, bidirectional in
some, two of them with identity normalization and indented targets, four with a decoder
restricted to the target vocabulary. Each model is
trained, exported (SavedModel, ONNX ids graph, text-to-text ONNX) and run in keras,
savedmodel, onnx and onnx-text at beam 1 and beam 3 (n_best 2) by
`tests/parity_models.py`, in two background workers that `conftest.py` starts when
these tests are collected.
"""

import json
import os
import re
import shutil

import numpy as np
import pytest
from parity_models import BACKENDS, DEFAULT_BEAM, MATRIX, SETTINGS, TARGET_VOCABULARY


@pytest.fixture(scope="module")
def matrix(request):
    out, workers = request.config._parity_matrix
    for worker in workers:
        worker.wait(timeout=1800)
    errors = {}
    for name in MATRIX:
        error = os.path.join(out, f"{name}.error")
        if os.path.exists(error):
            with open(error, encoding="utf-8") as f:
                errors[name] = f.read()[-3000:]
    logs = ""
    for i in range(len(workers)):
        with open(os.path.join(out, f"worker{i}.log"), encoding="utf-8") as f:
            logs += f.read()[-2000:]
    assert not errors, errors
    assert all(w.returncode == 0 for w in workers), logs
    results = {}
    for name in MATRIX:
        with open(os.path.join(out, f"{name}.json"), encoding="utf-8") as f:
            results[name] = json.load(f)
    yield results
    shutil.rmtree(out, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MATRIX))
@pytest.mark.parametrize("beam,n_best", SETTINGS)
def test_identical_ids_and_strings_in_every_backend(matrix, name, beam, n_best):
    result = matrix[name]
    reference = result["outputs"][f"keras {beam},{n_best}"]
    assert len(reference) == len(result["inputs"])
    assert all(len(row) == n_best for row in reference)
    for backend in BACKENDS[1:]:
        rows = result["outputs"][f"{backend} {beam},{n_best}"]
        for text, want, got in zip(result["inputs"], reference, rows, strict=True):
            assert [h["ids"] for h in got] == [h["ids"] for h in want], (backend, text)
            assert [h["text"] for h in got] == [h["text"] for h in want], (backend, text)
            np.testing.assert_allclose(
                [h["score"] for h in got], [h["score"] for h in want], rtol=1e-4, atol=1e-4
            )


@pytest.mark.slow
def test_the_matrix_covers_every_architecture(matrix):
    kinds = {(rnn, attention, layers) for rnn, attention, layers, _, _ in MATRIX.values()}
    assert kinds == {
        (rnn, attention, layers)
        for rnn in ("gru", "lstm")
        for attention in ("none", "bahdanau", "luong")
        for layers in (1, 2)
    }
    assert {bidirectional for *_, bidirectional, _ in MATRIX.values()} == {True, False}


@pytest.mark.slow
def test_code_models_keep_leading_whitespace_in_every_backend(matrix):
    code = [r for r in matrix.values() if r["code"]]
    assert len(code) == 2
    for result in code:
        for backend in BACKENDS:
            texts = [row[0]["text"] for row in result["outputs"][f"{backend} 1,1"]]
            held_out = texts[:24]
            # The targets are indented by four spaces; the models learned that.
            indented = sum(t.startswith("    ") for t in held_out)
            assert indented >= 20, (result["name"], backend, held_out)


@pytest.mark.slow
def test_matrix_models_are_not_trivial(matrix):
    # Parity between constant outputs would prove little: every model's translations
    # and scores depend on its input (the 1-layer models without attention learn little
    # in four epochs, but their scores still differ sentence by sentence).
    for result in matrix.values():
        best = [row[0] for row in result["outputs"]["keras 1,1"]]
        assert len({h["text"] for h in best}) >= 2, result["name"]
        assert len({round(h["score"], 4) for h in best}) >= 12, result["name"]


@pytest.mark.slow
def test_a_call_without_options_uses_the_exported_beam_in_every_backend(matrix):
    # Every matrix model is exported with decode.beam_width = DEFAULT_BEAM; a call that
    # names no beam gets that beam search (what serving_default returns), not greedy.
    assert DEFAULT_BEAM == SETTINGS[1][0]
    for result in matrix.values():
        for backend in BACKENDS:
            default = result["outputs"][f"{backend} default"]
            beam = result["outputs"][f"{backend} {DEFAULT_BEAM},{SETTINGS[1][1]}"]
            assert [row[0]["ids"] for row in default] == [row[0]["ids"] for row in beam], (
                result["name"],
                backend,
            )


@pytest.mark.slow
def test_target_vocabulary_models_return_joint_ids(matrix):
    restricted = [r for r in matrix.values() if r["target_vocab_size"]]
    assert {r["name"] for r in restricted} == TARGET_VOCABULARY
    for result in restricted:
        # Every target of the corpus is digits and dashes, so a decoder restricted to the
        # target pieces writes nothing else, in any backend. (That its ids are mapped
        # back to joint ids is pinned exactly by test_translator's rigged decoder.)
        for backend in BACKENDS:
            for row in result["outputs"][f"{backend} 3,2"]:
                for hypothesis in row:
                    assert re.fullmatch(r"[0-9\- ⁇]*", hypothesis["text"]), (
                        result["name"],
                        backend,
                        hypothesis["text"],
                    )
