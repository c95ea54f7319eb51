# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The one table of export formats and backends.

An export format writes its files into a version directory while it is being built; a
backend loads a model from a training run dir, a published version dir or a single file.
Each is declared once, with its name, its files and its writer or loader.
`exporting.export`, `backends.resolve`, `backends.load` and the CLI's `--format` and
`--backend` choices all read these tables, so a new format or backend is one
`register_format` / `register_backend` call, in any module:

    >>> register_format(ExportFormat("dummy", write=write_dummy, help="a text file"))
    >>> register_backend(BackendEntry("dummy", load=DummyBackend, version_file="dummy.txt"))

The built-in ones are registered when `keras_s2s.exporting` (savedmodel, onnx,
onnx-text) and `keras_s2s.backends` (keras, savedmodel, onnx, onnx-int8, onnx-text) are
imported. This module imports nothing heavy, so the CLI can build its choices before
TensorFlow loads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = [
    "BackendEntry",
    "ExportFormat",
    "backend_names",
    "backends",
    "format_names",
    "formats",
    "register_backend",
    "register_format",
    "unregister_backend",
    "unregister_format",
]


@dataclasses.dataclass(frozen=True)
class ExportFormat:
    """An output format of `keras-s2s export`.

    Attributes:
        name: The name users pass (`--format NAME`).
        write: `write(context) -> list[str]`: writes the format's files into
            `context.version_dir` (an `exporting.ExportContext`, with the traced
            `Translator`, tokenizer and config) and returns their paths relative to it.
        required: Written in every export, whatever was asked (the SavedModel: TF Serving
            loads it, and its `saved_model.pb` marks a version dir).
        help: A few words for `--help`.
    """

    name: str
    write: Callable[[Any], list[str]]
    required: bool = False
    help: str = ""


@dataclasses.dataclass(frozen=True)
class BackendEntry:
    """A way to load a model for translation (`keras_s2s.load(path, backend=NAME)`).

    A backend says where it finds its model; `backends.resolve` matches a path against
    these declarations.

    Attributes:
        name: The name users pass (`--backend NAME`).
        load: `load(path) -> backends.Backend`, given the path `resolve` found.
        run_file: A training run dir holding this file is loadable (the dir is passed).
        version_file: A version dir holding this file (relative path) is loadable; the
            file's path is passed, or the dir's with `loads_dir`.
        loads_dir: Pass the version dir itself rather than `version_file`'s path.
        file_suffixes: A single file whose name ends with one of these is loadable.
            Without a backend asked for, the longest matching suffix wins (ties: the
            first registered).
        help: A few words for `--help`.
    """

    name: str
    load: Callable[[str], Any]
    run_file: str | None = None
    version_file: str | None = None
    loads_dir: bool = False
    file_suffixes: tuple[str, ...] = ()
    help: str = ""


_FORMATS: dict[str, ExportFormat] = {}
_BACKENDS: dict[str, BackendEntry] = {}


def _register(table: dict, entry, replace: bool, kind: str) -> None:
    if entry.name in table and not replace:
        raise ValueError(f"{kind} {entry.name!r} is already registered")
    table[entry.name] = entry


def register_format(entry: ExportFormat, *, replace: bool = False) -> None:
    """Adds an export format (`replace=True` to redefine an existing name)."""
    _register(_FORMATS, entry, replace, "export format")


def register_backend(entry: BackendEntry, *, replace: bool = False) -> None:
    """Adds a backend (`replace=True` to redefine an existing name)."""
    _register(_BACKENDS, entry, replace, "backend")


def unregister_format(name: str) -> None:
    """Removes an export format; unknown names are ignored."""
    _FORMATS.pop(name, None)


def unregister_backend(name: str) -> None:
    """Removes a backend; unknown names are ignored."""
    _BACKENDS.pop(name, None)


def formats() -> dict[str, ExportFormat]:
    """The registered export formats by name, in registration order (a copy)."""
    return dict(_FORMATS)


def backends() -> dict[str, BackendEntry]:
    """The registered backends by name, in registration order (a copy)."""
    return dict(_BACKENDS)


def format_names() -> tuple[str, ...]:
    """The registered export format names, in registration order."""
    return tuple(_FORMATS)


def backend_names() -> tuple[str, ...]:
    """The registered backend names, in registration order."""
    return tuple(_BACKENDS)
