# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Checksums, sealed records, confined paths and clear JSON errors."""

import hashlib
import json
import os

import pytest

from keras_s2s.integrity import (
    ModelPathError,
    checksums,
    inside,
    is_version_name,
    list_files,
    read_json,
    read_record,
    seal,
    sha256_file,
    verify,
    verify_run_dir,
    write_run_checksums,
)


def test_sha256_and_checksums(tmp_path):
    (tmp_path / "a").write_bytes(b"abc")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"")
    assert sha256_file(str(tmp_path / "a")) == hashlib.sha256(b"abc").hexdigest()
    assert list_files(str(tmp_path)) == ["a", "sub/b"]
    assert list_files(str(tmp_path), exclude=["a"]) == ["sub/b"]
    assert checksums(str(tmp_path), ["sub/b"]) == {"sub/b": hashlib.sha256(b"").hexdigest()}


def test_verify_names_the_changed_missing_or_unlisted_file(tmp_path):
    (tmp_path / "a").write_bytes(b"abc")
    table = checksums(str(tmp_path), ["a"])
    verify(str(tmp_path), table, ["a"], record="rec.json")
    verify(str(tmp_path), None, ["a", "anything"], record="rec.json")  # no record: no check
    with pytest.raises(ModelPathError, match="b: not listed in rec.json"):
        verify(str(tmp_path), table, ["b"], record="rec.json")
    (tmp_path / "a").write_bytes(b"abd")
    with pytest.raises(ModelPathError, match="a: damaged \\(its SHA-256 differs .* rec.json"):
        verify(str(tmp_path), table, ["a"], record="rec.json")
    os.remove(tmp_path / "a")
    with pytest.raises(ModelPathError, match="a: missing \\(listed in rec.json\\)"):
        verify(str(tmp_path), table, ["a"], record="rec.json")


@pytest.mark.parametrize(
    "rel,message",
    [
        ("../x", "points outside"),
        ("a/../../x", "points outside"),
        ("/etc/hostname", "must be relative"),
        ("", "must be relative"),
        (7, "must be relative"),
    ],
)
def test_inside_refuses_paths_that_leave_the_folder(tmp_path, rel, message):
    with pytest.raises(ModelPathError, match=message):
        inside(str(tmp_path), rel, record="config.json")


def test_inside_refuses_a_symlink_out_of_the_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "link").symlink_to(tmp_path)
    with pytest.raises(ModelPathError, match="points outside"):
        inside(str(folder), "link/secret", record="config.json")
    assert inside(str(folder), "sub/file", record="c") == os.path.join(str(folder), "sub/file")


@pytest.mark.parametrize(
    "content,message",
    [
        (b'{"a": ', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "expected a JSON object"),
    ],
)
def test_read_json_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(ModelPathError, match=f"{path}: damaged \\({message}"):
        read_json(str(path))
    with pytest.raises(ModelPathError, match="no such file"):
        read_json(str(tmp_path / "missing.json"))


def test_sealed_records_detect_every_single_bit_flip(tmp_path):
    path = tmp_path / "record.json"
    record = seal({"sha256": {"a": "0" * 64}, "config": {"max_length": 64, "alpha": 0.6}})
    text = json.dumps(record, indent=2).encode()
    path.write_bytes(text)
    assert read_record(str(path))["config"]["max_length"] == 64
    for i in range(len(text)):
        for bit in (0x01, 0x10):
            flipped = bytearray(text)
            flipped[i] ^= bit
            path.write_bytes(bytes(flipped))
            with pytest.raises(ModelPathError, match="record.json: damaged"):
                read_record(str(path))


def test_records_written_before_checksums_load_unchecked(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"config": {}}))
    assert read_record(str(path)) == {"config": {}}


def test_run_checksums_round_trip(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.keras").write_bytes(b"zip")
    table = write_run_checksums(str(tmp_path), ["config.json", "model.keras", "metrics.json"])
    assert sorted(table) == ["config.json", "model.keras"]  # metrics.json not written yet
    verify_run_dir(str(tmp_path), ["config.json", "model.keras"])
    (tmp_path / "model.keras").write_bytes(b"zap")
    with pytest.raises(ModelPathError, match="model.keras: damaged"):
        verify_run_dir(str(tmp_path), ["model.keras"])


def test_version_names_are_ascii_digits():
    assert is_version_name("12")
    assert not is_version_name("²") and not is_version_name("١") and not is_version_name("1a")
