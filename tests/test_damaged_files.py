# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Every file `translate` or `export` reads, damaged three ways, is one line naming it.

Truncated, overwritten with garbage, or with one flipped bit: each case must end with
exit code 2 and exactly one line on stderr that names the damaged file — never a
traceback, never exit 0 with a changed translation. The table runs `cli.main` in
process (fast); two cases also run as real subprocesses.
"""

import os
import random
import shutil
import subprocess
import sys

import pytest

from keras_s2s.cli import main

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
MODES = ("truncate", "garbage", "bitflip")

# (file in the run dir, commands that read it)
RUN_FILES = [
    ("config.json", ("translate", "export")),
    ("tokenizer.model", ("translate", "export")),
    ("model.keras", ("translate", "export")),
    ("checksums.json", ("translate", "export")),
    ("metrics.json", ("export",)),
]
# (file in the version dir, backends that read it)
VERSION_FILES = [
    ("metadata.json", ("savedmodel", "onnx", "onnx-text")),
    ("saved_model.pb", ("savedmodel",)),
    ("fingerprint.pb", ("savedmodel",)),
    ("assets.extra/tf_serving_warmup_requests", ("savedmodel",)),
    ("variables/variables.data-00000-of-00001", ("savedmodel",)),
    ("variables/variables.index", ("savedmodel",)),
    ("assets/tokenizer.model", ("savedmodel",)),
    ("onnx/config.json", ("onnx", "onnx-int8", "onnx-text")),
    ("onnx/tokenizer.model", ("onnx", "onnx-text")),
    ("onnx/model.onnx", ("onnx",)),
    ("onnx/model.int8.onnx", ("onnx-int8",)),
    ("onnx/model.text.onnx", ("onnx-text",)),
]


def damage(path: str, mode: str) -> None:
    """Damages a file in place: cut to half, random bytes, or one flipped bit."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if mode == "truncate":
        data = data[: len(data) // 2]
    elif mode == "garbage":
        data = bytearray(random.Random(len(data)).randbytes(len(data)))
    else:
        data[len(data) // 2] ^= 0x10
    with open(path, "wb") as f:
        f.write(data)


def _cases():
    for rel, commands in RUN_FILES:
        for command in commands:
            for mode in MODES:
                yield pytest.param("run", rel, command, mode, id=f"run/{rel}-{command}-{mode}")
    for rel, backends in VERSION_FILES:
        for backend in backends:
            for mode in MODES:
                yield pytest.param(
                    "version", rel, backend, mode, id=f"version/{rel}-{backend}-{mode}"
                )


@pytest.fixture(scope="module")
def pristine(exported_attention, tmp_path_factory):
    """Copies of the run dir and version dir (with every export format)."""
    base = tmp_path_factory.mktemp("pristine")
    run_dir, version_dir = exported_attention
    shutil.copytree(run_dir, base / "run", ignore=shutil.ignore_patterns("backup", "logs"))
    shutil.copytree(version_dir, base / "version")
    return base


def _argv(kind: str, command: str, folder, tmp_path) -> list[str]:
    if kind == "run" and command == "export":
        out = str(tmp_path / "out")
        return ["export", "--run-dir", str(folder), "--out", out, "--format", "savedmodel"]
    backend = "keras" if kind == "run" else command
    return ["translate", "--model", str(folder), "--backend", backend, "May 7, 1985"]


@pytest.mark.parametrize("kind,rel,command,mode", list(_cases()))
def test_damaged_file_is_one_line_naming_it(pristine, tmp_path, capsys, kind, rel, command, mode):
    folder = tmp_path / kind
    shutil.copytree(pristine / kind, folder)
    path = folder / rel
    damage(str(path), mode)
    capsys.readouterr()
    code = main(_argv(kind, command, folder, tmp_path))
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (captured.out, captured.err)
    assert len(lines) == 1, captured.err
    assert str(path) in lines[0], lines[0]
    assert captured.out == ""
    if command == "export":
        assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_the_table_covers_every_file_of_an_export(pristine):
    from keras_s2s.integrity import list_files

    listed = {rel for rel, _ in VERSION_FILES}
    assert set(list_files(str(pristine / "version"))) == listed
    run_listed = {rel for rel, _ in RUN_FILES}
    assert run_listed <= set(os.listdir(pristine / "run"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind,rel,backend",
    [("run", "model.keras", "keras"), ("version", "variables/variables.index", "savedmodel")],
)
def test_damage_in_a_subprocess_exits_2_with_one_line(pristine, tmp_path, kind, rel, backend):
    folder = tmp_path / kind
    shutil.copytree(pristine / kind, folder)
    damage(str(folder / rel), "bitflip")
    proc = subprocess.run(
        [sys.executable, "-m", "keras_s2s", "translate", "--model", str(folder),
         "--backend", backend, "May 7, 1985"],
        capture_output=True, text=True, env=ENV, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stdout == ""
    own = [line for line in proc.stderr.splitlines() if line.startswith("keras-s2s:")]
    assert len(own) == 1 and str(folder / rel) in own[0], proc.stderr
    assert "Traceback" not in proc.stderr
