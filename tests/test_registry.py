# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""A format and a backend declared once, in this file only, work through `export`,
`load`, `resolve` and the CLI's choices."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

import keras_s2s
from keras_s2s import registry
from keras_s2s.backends import Backend, ModelPathError, resolve
from keras_s2s.cli import build_parser, main
from keras_s2s.exporting import ExportError, export

DUMMY_FILE = "dummy/limits.json"


def write_dummy(ctx) -> list[str]:
    """The dummy format: the model's length limits, as JSON."""
    path = os.path.join(ctx.version_dir, DUMMY_FILE)
    os.makedirs(os.path.dirname(path))
    limits = {
        "max_source_length": ctx.config.data.max_source_length,
        "max_length": ctx.config.decode.max_length,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(limits, f)
    return [DUMMY_FILE]


class ReversingBackend(Backend):
    """The dummy backend: 'translates' by reversing the text, within the limits."""

    name = "dummy"

    def __init__(self, path: str):
        with open(path, encoding="utf-8") as f:
            limits = json.load(f)
        super().__init__(path, limits["max_source_length"], limits["max_length"], False)

    def _run(self, texts, max_length, beam, n_best):
        strings = [[t[::-1][:max_length]] * n_best for t in texts]
        ids = np.zeros((len(texts), n_best, 1), np.int64)
        return strings, ids, np.zeros((len(texts), n_best), np.float32), None


@pytest.fixture
def dummy():
    registry.register_format(registry.ExportFormat("dummy", write_dummy, help="limits as JSON"))
    registry.register_backend(
        registry.BackendEntry(
            "dummy", ReversingBackend, version_file=DUMMY_FILE, file_suffixes=("limits.json",)
        )
    )
    yield
    registry.unregister_format("dummy")
    registry.unregister_backend("dummy")


@pytest.fixture(scope="module")
def run_dir(trained_run, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("registry") / "run")
    shutil.copytree(trained_run.run_dir, path)
    return path


def test_registering_a_name_twice_is_an_error(dummy):
    with pytest.raises(ValueError, match="backend 'dummy' is already registered"):
        registry.register_backend(registry.BackendEntry("dummy", ReversingBackend))
    with pytest.raises(ValueError, match="export format 'dummy' is already registered"):
        registry.register_format(registry.ExportFormat("dummy", write_dummy))


def test_the_cli_offers_registered_formats_and_backends(dummy, capsys):
    for command in ("translate", "evaluate"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        assert "{keras,savedmodel,onnx,onnx-int8,onnx-text,dummy}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        build_parser().parse_args(["export", "--help"])
    assert "dummy (limits as JSON)" in " ".join(capsys.readouterr().out.split())
    with pytest.raises(SystemExit):
        build_parser().parse_args(["translate", "--backend", "tflite", "x"])
    assert "invalid choice: 'tflite'" in capsys.readouterr().err


def test_export_load_and_cli_use_the_dummy_format_and_backend(dummy, run_dir, tmp_path, capsys):
    version = export(run_dir, str(tmp_path / "models" / "m"), formats=["dummy"])
    with open(os.path.join(version, "metadata.json"), encoding="utf-8") as f:
        metadata = json.load(f)
    assert metadata["formats"] == ["dummy", "savedmodel"]
    assert DUMMY_FILE in metadata["files"]
    assert not os.path.exists(os.path.join(version, "onnx"))

    assert resolve(version, "dummy") == ("dummy", os.path.join(version, DUMMY_FILE))
    assert resolve(version) == ("savedmodel", version)  # the first registered still wins
    model = keras_s2s.load(version, "dummy")
    assert isinstance(model, ReversingBackend)
    assert model.translate("abc") == "cba"
    assert keras_s2s.load(os.path.join(version, DUMMY_FILE)).translate(["xy"]) == ["yx"]

    assert main(["translate", "--model", version, "--backend", "dummy", "hello"]) == 0
    assert capsys.readouterr().out == "olleh\n"
    assert main(["export", "--run-dir", run_dir, "--out", str(tmp_path / "models" / "m"),
                 "--format", "savedmodel,dummy"]) == 0  # fmt: skip
    second = capsys.readouterr().out.strip()
    assert second.endswith(os.sep + "2")
    assert keras_s2s.load(second, "dummy").translate("ab") == "ba"


def test_a_version_without_the_dummy_file_names_it(dummy, exported):
    with pytest.raises(ModelPathError, match=f"exported without dummy \\(no {DUMMY_FILE}\\)"):
        resolve(exported[2], "dummy")


def test_unregistered_names_are_refused_with_the_registered_ones_listed(dummy, tmp_path):
    with pytest.raises(ExportError, match=r"unknown export format\(s\): tflite \(expected "
                       r"savedmodel, onnx, onnx-text, dummy\)"):  # fmt: skip
        export(str(tmp_path), str(tmp_path / "out"), formats=["tflite"])
    with pytest.raises(ModelPathError, match="unknown backend 'tflite' \\(expected keras, "
                       "savedmodel, onnx, onnx-int8, onnx-text, dummy\\)"):  # fmt: skip
        resolve(str(tmp_path), "tflite")
