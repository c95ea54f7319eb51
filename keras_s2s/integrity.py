# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Model files that are checked before they are used: checksums, JSON, confined paths.

Every file a backend reads has its SHA-256 recorded when it is written:

| folder | record | covers |
|---|---|---|
| run dir | `checksums.json` | `config.json`, `tokenizer.model`, `model.keras`, `metrics.json` |
| version dir | `metadata.json` (`sha256`) | every other file of the version |
| `onnx/` | `config.json` (`sha256`) | the ONNX files and `tokenizer.model` beside it |

Each record also seals itself (`record_sha256`, the SHA-256 of its other fields as
canonical JSON), so a flipped bit in the record is caught too. Loading verifies the
files it is about to read against the record, so a damaged file is one clear error
naming it instead of a crash deep in a native library or, worse, a model that silently
translates differently (ONNX Runtime loads a model with flipped weight bits without
complaint). Hashing costs about 1 ms per MB (SHA-256 in OpenSSL: 45 MB in 0.05 s on
the 2-core test machine). Folders written before checksums existed carry no record
and load unchecked.

This module is pure Python: the ONNX backends use it without TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping

SHA256_KEY = "sha256"
SEAL_KEY = "record_sha256"
RUN_CHECKSUMS = "checksums.json"
# A run dir's files (keras_s2s.training writes them), named here so that code that only
# checks a run dir need not import TensorFlow.
CONFIG_FILENAME = "config.json"
KERAS_FILENAME = "model.keras"
METRICS_FILENAME = "metrics.json"


class ModelPathError(ValueError):
    """A model path is missing, damaged, or not a model this package can load."""


def is_version_name(name: str) -> bool:
    """Whether a folder name is a published version: ASCII digits only ('²' is not)."""
    return name.isascii() and name.isdigit()


def sha256_file(path: str) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_files(folder: str, exclude: Iterable[str] = ()) -> list[str]:
    """Every regular file under `folder`, as sorted '/'-separated relative paths."""
    skip = set(exclude)
    out = []
    for root, _, names in os.walk(folder):
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), folder).replace(os.sep, "/")
            if rel not in skip:
                out.append(rel)
    return sorted(out)


def checksums(folder: str, files: Iterable[str]) -> dict[str, str]:
    """`{relative path: sha256}` for `files` under `folder`."""
    return {rel: sha256_file(os.path.join(folder, rel)) for rel in sorted(files)}


def inside(folder: str, rel: str, *, record: str) -> str:
    """Joins a relative path read from a config file, refusing one that leaves `folder`.

    Args:
        folder: The folder the path must stay in.
        rel: The path as written in the record.
        record: The file the path was read from (for the error message).

    Raises:
        ModelPathError: for an absolute path or one that resolves outside `folder`
            (through `..` or a symbolic link).
    """
    if not isinstance(rel, str) or not rel or os.path.isabs(rel):
        raise ModelPathError(f"{record}: file path {rel!r} must be relative to {folder}")
    base = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(base, rel))
    if os.path.commonpath([base, target]) != base:
        raise ModelPathError(f"{record}: file path {rel!r} points outside {folder}")
    return os.path.join(folder, rel)


def read_json(path: str) -> dict:
    """Reads a JSON object, turning every way the file can be bad into one clear error.

    Raises:
        ModelPathError: naming `path`, if it is missing, unreadable, not UTF-8, not JSON
            or not a JSON object.
    """
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
        data = json.loads(text)
    except FileNotFoundError:
        raise ModelPathError(f"{path}: no such file") from None
    except OSError as e:
        raise ModelPathError(f"{path}: cannot be read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ModelPathError(f"{path}: damaged (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        raise ModelPathError(
            f"{path}: damaged (not valid JSON: {e.msg}, line {e.lineno})"
        ) from None
    if not isinstance(data, dict):
        raise ModelPathError(f"{path}: damaged (expected a JSON object)")
    return data


def _content_hash(data: Mapping) -> str:
    content = {k: v for k, v in data.items() if k != SEAL_KEY}
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def seal(data: Mapping) -> dict:
    """Returns `data` with its `record_sha256` seal (over the other fields)."""
    out = {k: v for k, v in data.items() if k != SEAL_KEY}
    out[SEAL_KEY] = _content_hash(out)
    return out


def read_record(path: str) -> dict:
    """Reads a checksum record (`read_json`) and checks its seal.

    A record with a file table or a seal must have a matching seal; one with neither
    was written before checksums existed and is returned as it is.

    Raises:
        ModelPathError: naming `path`, if it is unreadable or its content changed.
    """
    data = read_json(path)
    if SEAL_KEY not in data and SHA256_KEY not in data:
        return data
    if data.get(SEAL_KEY) != _content_hash(data):
        raise ModelPathError(f"{path}: damaged (its content does not match its own checksum)")
    return data


def recorded(data: Mapping, record: str) -> dict[str, str] | None:
    """The `sha256` table of a record, or None when it has none (older exports).

    Raises:
        ModelPathError: if the table is present but malformed.
    """
    table = data.get(SHA256_KEY)
    if table is None:
        return None
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in table.items()
    ):
        raise ModelPathError(f"{record}: damaged ('{SHA256_KEY}' is not a table of file hashes)")
    return table


def verify(folder: str, table: Mapping[str, str] | None, files: Iterable[str], *, record: str):
    """Checks `files` (relative to `folder`) against their recorded SHA-256.

    Args:
        folder: The folder the record describes.
        table: `{relative path: sha256}` from the record, or None (nothing to check).
        files: The files about to be read.
        record: The file the table came from (for error messages).

    Raises:
        ModelPathError: naming the first file that is missing, unrecorded or changed.
    """
    if table is None:
        return
    for rel in files:
        path = inside(folder, rel, record=record)
        if rel not in table:
            raise ModelPathError(f"{path}: not listed in {record}, so it cannot be verified")
        if not os.path.isfile(path):
            raise ModelPathError(f"{path}: missing (listed in {record})")
        if sha256_file(path) != table[rel]:
            raise ModelPathError(
                f"{path}: damaged (its SHA-256 differs from the one recorded in {record})"
            )


def write_json_atomic(path: str, data: dict) -> None:
    """Writes JSON to a temporary file in the same folder, then renames it over `path`."""
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def write_run_checksums(run_dir: str, files: Iterable[str]) -> dict[str, str]:
    """Records the SHA-256 of the run dir's `files` (those present) in `checksums.json`."""
    present = [rel for rel in files if os.path.isfile(os.path.join(run_dir, rel))]
    table = checksums(run_dir, present)
    write_json_atomic(os.path.join(run_dir, RUN_CHECKSUMS), seal({SHA256_KEY: table}))
    return table


def verify_run_dir(run_dir: str, files: Iterable[str]) -> None:
    """Verifies run-dir files against `checksums.json`, when the run dir has one."""
    path = os.path.join(run_dir, RUN_CHECKSUMS)
    if not os.path.exists(path):
        return
    verify(run_dir, recorded(read_record(path), path), files, record=path)
