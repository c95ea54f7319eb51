# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Hostile input, bounded decoding, crash-safe publishing and safe loading."""

import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

import keras_s2s
from keras_s2s.backends import ModelPathError
from keras_s2s.config import EOS_ID

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
PACKAGE = pathlib.Path(keras_s2s.__file__).parent

HOSTILE = [
    "",
    "   \t  ",
    "seven " * 1700,  # a 10,200-character line
    "\x00\x01\x07 control\x1b[31m chars\x7f",
    "😀🐈‍⬛ 🚀",
    "ᚠᛇᚻ ᛒᛦᚦ ꦲꦏ꧀ꦱꦫ",  # runes and Javanese: never seen in training
    "\ufffd\ufffd invalid bytes, as decoded with errors='replace'",
]


@pytest.fixture(scope="module")
def backends(exported):
    run_dir, _, version_dir = exported
    return {
        "keras": keras_s2s.load(run_dir, "keras"),
        "savedmodel": keras_s2s.load(version_dir, "savedmodel"),
        "onnx": keras_s2s.load(version_dir, "onnx"),
    }


@pytest.mark.parametrize("name", ["keras", "savedmodel", "onnx"])
def test_hostile_text_in_a_batch_leaves_normal_sentences_alone(backends, name, parity_sentences):
    model = backends[name]
    normal = parity_sentences[:5]
    mixed = [x for pair in zip(HOSTILE, normal + [""] * 2, strict=True) for x in pair]
    mixed = mixed[:-2]  # hostile and normal sentences interleaved
    out = model.translate_detailed(mixed, beam=1)
    assert len(out) == len(mixed)
    assert all(isinstance(h.text, str) and np.isfinite(h.score) for h in out)
    alone = [model.translate_detailed([s])[0] for s in normal]
    got = [out[mixed.index(s)] for s in normal]
    assert [h.ids for h in got] == [h.ids for h in alone]
    # The 10,000-character line keeps its first max_source_length tokens.
    long_line = HOSTILE[2]
    assert model.translate([long_line]) == model.translate(["seven " * 200])


def test_all_backends_agree_on_hostile_text(backends):
    outs = {name: [h.ids for h in m.translate_detailed(HOSTILE)] for name, m in backends.items()}
    assert outs["keras"] == outs["savedmodel"] == outs["onnx"]


@pytest.mark.parametrize("name", ["keras", "savedmodel", "onnx"])
def test_empty_batch_gives_empty_result(backends, name):
    assert backends[name].translate([]) == []
    assert backends[name].translate_nbest([], beam=3, n_best=2) == []


def test_savedmodel_signature_takes_an_empty_batch_and_invalid_utf8(exported):
    import tensorflow as tf

    loaded = tf.saved_model.load(exported[2])
    out = loaded.signatures["serving_default"](text=tf.constant([], tf.string))
    assert out["translation"].shape == (0,) and out["score"].shape == (0,)
    fn = loaded.signatures["serving_default"]
    raw = fn(text=tf.constant([b"May 7, 1985 \xff\xfe", "May 7, 1985 \ufffd".encode()]))
    # Invalid bytes are read as U+FFFD, exactly like Python's errors="replace".
    assert raw["translation"].numpy()[0] == raw["translation"].numpy()[1]


def test_cli_reads_undecodable_stdin(exported):
    r = subprocess.run(
        [sys.executable, "-m", "keras_s2s", "translate", "--model", exported[2]],
        input=b"May 7, 1985\nbad \xff\xfe bytes\n",
        capture_output=True,
        env=ENV,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.decode().splitlines()) == 2


def test_cli_stdin_drops_bom_and_crlf_like_the_file_reader(exported):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "keras_s2s",
            "translate",
            "--model",
            exported[2],
            "--format",
            "json",
        ],
        input=b"\xef\xbb\xbfMay 7, 1985\r\nbad \xff bytes\r\nlast\r",
        capture_output=True,
        env=ENV,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in r.stdout.decode().splitlines()]
    assert [rec["source"] for rec in records] == ["May 7, 1985", "bad \ufffd bytes", "last"]


@pytest.fixture(scope="module")
def never_ending(exported, tmp_path_factory):
    """The tiny model with its eos logit forced to -1e9, exported. Returns dirs."""
    from keras_s2s.exporting import export
    from keras_s2s.integrity import write_run_checksums
    from keras_s2s.models import Seq2Seq
    from keras_s2s.training import RUN_FILES, load_model, save_model

    run_dir = tmp_path_factory.mktemp("no_eos") / "run"
    shutil.copytree(exported[0], run_dir, ignore=shutil.ignore_patterns("backup", "logs"))
    model = load_model(str(run_dir), compile=True)
    projection = Seq2Seq.from_model(model).decoder.output_projection
    bias = projection.bias.numpy()
    bias[EOS_ID] = -1e9
    projection.bias.assign(bias)
    save_model(model, str(run_dir / "model.keras"))
    write_run_checksums(str(run_dir), RUN_FILES)  # a deliberate change, recorded
    version = export(str(run_dir), str(run_dir.parent / "models" / "no_eos"))
    return str(run_dir), version


@pytest.mark.parametrize("name", ["keras", "savedmodel", "onnx"])
@pytest.mark.parametrize("beam", [1, 3])
def test_decoding_stops_after_exactly_max_length(never_ending, name, beam, parity_sentences):
    run_dir, version = never_ending
    model = keras_s2s.load(run_dir if name == "keras" else version, name)
    out = model.translate_nbest(parity_sentences[:6], beam=beam, n_best=1, max_length=7)
    for row in out:
        assert len(row[0].ids) == 7 and EOS_ID not in row[0].ids
    # Without max_length, the model's own limit applies.
    capped = model.translate_detailed(parity_sentences[:2])
    assert all(len(h.ids) == model.max_length for h in capped)


def _digest(path):
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for name in sorted(files):
            with open(os.path.join(root, name), "rb") as f:
                h.update(name.encode() + f.read())
    return h.hexdigest()


@pytest.mark.slow
def test_a_killed_export_publishes_nothing_and_the_next_one_cleans_up(exported, tmp_path):
    run_dir = exported[0]
    out = tmp_path / "models" / "m"
    shutil.copytree(exported[2], out / "1")
    before = _digest(out / "1")
    for point in ("after_variables", "after_onnx", "before_rename"):
        r = subprocess.run(
            [sys.executable, "-m", "keras_s2s", "export", "--run-dir", run_dir, "--out", str(out)],
            capture_output=True,
            text=True,
            env={**ENV, "KERAS_S2S_FAULT": point},
            timeout=600,
        )
        assert r.returncode == -signal.SIGKILL, (point, r.stderr[-2000:])
        assert sorted(n for n in os.listdir(out) if not n.startswith(".")) == ["1"], point
        assert [n for n in os.listdir(out) if n.startswith(".tmp-export-")], point
        assert _digest(out / "1") == before, point
    r = subprocess.run(
        [sys.executable, "-m", "keras_s2s", "export", "--run-dir", run_dir, "--out", str(out)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(os.listdir(out)) == ["1", "2"]  # leftovers removed
    assert _digest(out / "1") == before


def test_onnx_with_external_data_outside_its_folder_is_refused(exported, tmp_path, capsys):
    import onnx

    folder = tmp_path / "evil"
    shutil.copytree(os.path.join(exported[2], "onnx"), folder)
    model = onnx.load(str(folder / "model.onnx"))
    tensor = max(model.graph.initializer, key=lambda t: len(t.raw_data))
    tensor.ClearField("raw_data")
    tensor.data_location = onnx.TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"
    onnx.save(model, str(folder / "model.onnx"))
    with pytest.raises(ModelPathError, match="external data '../../../../etc/passwd' points"):
        keras_s2s.load(str(folder / "model.onnx"))
    from keras_s2s.cli import main

    assert main(["translate", "--model", str(folder / "model.onnx"), "x"]) == 2
    assert capsys.readouterr().err == (
        f"keras-s2s: error: {folder / 'model.onnx'}: external data "
        "'../../../../etc/passwd' points outside the model folder\n"
    )


def test_not_an_onnx_file(tmp_path, capsys):
    from keras_s2s.cli import main

    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a protobuf at all \xff")
    assert main(["translate", "--model", str(bad), "x"]) == 2
    assert capsys.readouterr().err.startswith(f"keras-s2s: error: {bad}: not a valid ONNX model")


def test_package_has_no_unsafe_deserialization():
    pattern = re.compile(r"\bLambda\(|\bpickle\b|enable_unsafe_deserialization|safe_mode=False")
    offenders = [
        f"{path.name}:{n}"
        for path in PACKAGE.glob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text()
    assert '"S301"' in pyproject


def test_keras_files_load_in_safe_mode(tmp_path):
    """A .keras file carrying Python code (a Lambda layer) is refused, not run."""
    import keras

    from keras_s2s.training import load_model

    inputs = keras.Input((3,))
    outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    path = tmp_path / "model.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(str(path))
