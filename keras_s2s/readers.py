# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Readers and writers of text files: corpus pairs and plain lines.

Every task keras-s2s handles (translation, summarisation, dialogue, code
generation) is a list of ``(source, target)`` string pairs. This module reads
them from disk, writes them back, and splits off a seeded holdout set. It is
pure Python (no TensorFlow/Keras import) so the CLI can validate a corpus fast.

Formats (``FORMATS``):

* ``tsv``: ``source<TAB>target``, exactly two fields per line.
* ``anki``: ``source<TAB>target<TAB>attribution`` (the Tatoeba / Anki
  layout). At least two fields; fields after the second are ignored.
* ``jsonl``: one JSON object per line, ``{"source": str, "target": str}``;
  extra keys are ignored. Tabs and newlines inside the strings are kept, so
  this is the format for code and other multi-line text.
* ``parallel``: two aligned files, one sentence per line: ``path`` holds the
  source side and ``target_path`` the target side.

Common rules: files are read as strict UTF-8, a UTF-8 BOM at the start of a
file is dropped, gzip files are decompressed transparently (detected by their
magic bytes, so any file name works), and only the line terminator (``\\n`` or
``\\r\\n``) is stripped; other whitespace is kept. Empty lines are ignored in
``tsv``/``anki``/``jsonl``; in ``parallel`` a line pair whose source or target
is empty is dropped (alignment still counts it).

Errors are raised as ``CorpusError`` whose ``str()`` is one line,
``PATH:LINE: problem`` or ``PATH: problem``. The exact problems are:

File-level (always raised, even with ``skip_bad_lines=True``):

* ``PATH: no such file``
* ``PATH: is a directory``
* ``PATH: cannot read (<OS reason>)``
* ``PATH: corrupt gzip data (<reason>)``
* ``PATH: no sentence pairs found``
* ``PATH: unknown format 'X' (expected one of: tsv, anki, jsonl, parallel)``
* ``PATH: format 'parallel' needs target_path (the target-side file)``
* ``PATH: target_path is only used with format 'parallel', not 'X'``
* ``SHORTER:N+1: ended after N lines but LONGER has M`` (``parallel``; N is
  the line count of the shorter file, M that of the longer one; ``1 line``
  when N is 1)

Line-level (skipped and counted with ``skip_bad_lines=True``):

* ``PATH:N: not valid UTF-8 (byte 0xff at column C)`` (C is the 1-based
  character column of the bad byte)
* ``PATH:N: expected source<TAB>target, found no tab`` (``tsv``, ``anki``)
* ``PATH:N: expected 2 tab-separated fields, found K (use format 'anki' to
  ignore extra fields)`` (``tsv``; printed on one line)
* ``PATH:N: source is empty`` / ``PATH:N: target is empty`` (``tsv``,
  ``anki``)
* ``PATH:N: invalid JSON (<json error> at column C)`` (``jsonl``)
* ``PATH:N: expected a JSON object, found T`` (``jsonl``; T is a JSON type
  name: array, string, number, boolean, null)
* ``PATH:N: missing "source" key`` / ``missing "target" key`` (``jsonl``)
* ``PATH:N: "source" must be a string, found T`` (likewise ``"target"``)
* ``PATH:N: "source" is empty`` (likewise ``"target"``)
* ``PATH:N: "source" is not valid Unicode (lone surrogate)`` (likewise
  ``"target"``)

``infer_format`` raises ``CorpusError`` with
``PATH: cannot infer the format from the file name; give it explicitly
(one of: tsv, anki, jsonl, parallel)`` (one line).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import random
import zlib
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from keras_s2s.config import CORPUS_FORMATS

__all__ = [
    "FORMATS",
    "MAX_SKIPPED_EXAMPLES",
    "CorpusError",
    "ReadResult",
    "decode_line",
    "infer_format",
    "read_lines",
    "read_pairs",
    "split_holdout",
    "write_pairs",
]

FORMATS = CORPUS_FORMATS
"""Corpus formats understood by ``read_pairs``."""

MAX_SKIPPED_EXAMPLES = 5
"""How many skipped-line messages ``ReadResult.skipped_examples`` keeps."""

PathLike = str | os.PathLike

_WRITE_FORMATS = ("tsv", "jsonl")
_BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
_JSON_TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _one_line(text: str, limit: int = 200) -> str:
    """Collapses ``text`` to a single line of at most ``limit`` characters."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


class CorpusError(ValueError):
    """Bad corpus input.

    ``str(e)`` is one line: ``PATH:LINE: problem``, or ``PATH: problem`` when
    no line applies (missing file, empty corpus, bad arguments).

    Attributes:
        path: The offending file, as given by the caller.
        line: 1-based line number, or ``None``.
        problem: The problem description (no path, no line number).
    """

    def __init__(self, path: PathLike, line: int | None, problem: str) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.problem = _one_line(problem, limit=500)
        location = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{location}: {self.problem}")

    def __reduce__(self):
        return (type(self), (self.path, self.line, self.problem))


@dataclasses.dataclass(frozen=True)
class ReadResult:
    """The outcome of ``read_pairs``.

    Attributes:
        pairs: The ``(source, target)`` pairs, in file order.
        skipped: Number of bad lines skipped (non-zero only with
            ``skip_bad_lines=True``). In ``parallel`` format a skipped line
            pair counts once.
        skipped_examples: The first ``MAX_SKIPPED_EXAMPLES`` ``CorpusError``
            messages of the skipped lines, for reporting.
    """

    pairs: list[tuple[str, str]]
    skipped: int = 0
    skipped_examples: list[str] = dataclasses.field(default_factory=list)


class _BadLine(Exception):
    """A per-line parse problem; the caller adds path and line number."""


class _Lines:
    """Opens a (possibly gzipped) file and yields its decoded lines.

    Opening happens in the constructor so a missing file is reported before
    any parsing. Iterating yields ``(line_number, text)`` where ``text`` is
    the decoded line without its terminator, or a ``CorpusError`` if the line
    is not valid UTF-8 (with ``lenient``, bad bytes become U+FFFD instead). ``count`` is the number of lines yielded so far.
    """

    def __init__(self, path: PathLike, lenient: bool = False) -> None:
        self.path = os.fspath(path)
        self.lenient = lenient
        self.count = 0
        try:
            self._raw = open(self.path, "rb")  # closed in close()
        except FileNotFoundError:
            raise CorpusError(self.path, None, "no such file") from None
        except IsADirectoryError:
            raise CorpusError(self.path, None, "is a directory") from None
        except OSError as e:
            raise CorpusError(self.path, None, f"cannot read ({e.strerror or e})") from None
        self._stream: BinaryIO = self._raw
        try:
            if self._raw.peek(2)[:2] == _GZIP_MAGIC:
                self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")
        except OSError as e:
            self.close()
            raise CorpusError(self.path, None, f"cannot read ({e.strerror or e})") from None

    def close(self) -> None:
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[tuple[int, str | CorpusError]]:
        try:
            for raw_line in self._stream:
                self.count += 1
                yield self.count, self._decode(raw_line)
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise CorpusError(self.path, None, f"corrupt gzip data ({e})") from None
        except OSError as e:
            raise CorpusError(self.path, None, f"cannot read ({e.strerror or e})") from None

    def _decode(self, raw_line: bytes) -> str | CorpusError:
        try:
            return decode_line(raw_line, first=self.count == 1, lenient=self.lenient)
        except UnicodeDecodeError as e:
            raw_line = e.object
            column = len(raw_line[: e.start].decode("utf-8")) + 1
            return CorpusError(
                self.path,
                self.count,
                f"not valid UTF-8 (byte 0x{raw_line[e.start]:02x} at column {column})",
            )


def decode_line(raw_line: bytes, *, first: bool = False, lenient: bool = False) -> str:
    """Decodes one raw line by the rules every reader of keras-s2s shares.

    Only the terminator (``\\n`` or ``\\r\\n``) is stripped; a UTF-8 BOM is
    dropped from the first line.

    Args:
        raw_line: The line's bytes, with or without its terminator.
        first: Whether this is the first line of its file or stream.
        lenient: Invalid UTF-8 becomes U+FFFD instead of an error (text to
            translate: one bad byte must not stop a stream).

    Returns:
        The decoded text.

    Raises:
        UnicodeDecodeError: Strict mode, invalid UTF-8 (its ``object`` is the
            line without terminator and BOM).
    """
    if raw_line.endswith(b"\n"):
        raw_line = raw_line[:-1]
        if raw_line.endswith(b"\r"):
            raw_line = raw_line[:-1]
    if first and raw_line.startswith(_BOM):
        raw_line = raw_line[len(_BOM) :]
    return raw_line.decode("utf-8", errors="replace" if lenient else "strict")


def read_lines(path: PathLike, *, lenient: bool = False) -> list[str]:
    """Reads a (possibly gzipped) text file as a list of lines.

    The one line reader of keras-s2s: the CLI's ``--source-file`` and
    ``--reference-file``, and the benchmarks' corpus files, use it.

    Args:
        path: The file; gzip is detected by its magic bytes, not its name.
        lenient: Invalid UTF-8 becomes U+FFFD (text to translate). Default:
            strict, for corpora and references.

    Returns:
        The lines without their terminators, empty lines included.

    Raises:
        CorpusError: ``PATH: no such file`` and the other file-level errors,
            or, in strict mode, ``PATH:N: not valid UTF-8 (...)``.
    """
    lines = []
    with _Lines(path, lenient=lenient) as reader:
        for _, text in reader:
            if isinstance(text, CorpusError):
                raise text
            lines.append(text)
    return lines


def _parse_tsv(text: str) -> tuple[str, str]:
    fields = text.split("\t")
    if len(fields) == 1:
        raise _BadLine("expected source<TAB>target, found no tab")
    if len(fields) != 2:
        raise _BadLine(
            f"expected 2 tab-separated fields, found {len(fields)} "
            "(use format 'anki' to ignore extra fields)"
        )
    return _check_fields(fields[0], fields[1])


def _parse_anki(text: str) -> tuple[str, str]:
    fields = text.split("\t")
    if len(fields) == 1:
        raise _BadLine("expected source<TAB>target, found no tab")
    return _check_fields(fields[0], fields[1])


def _check_fields(source: str, target: str) -> tuple[str, str]:
    if not source:
        raise _BadLine("source is empty")
    if not target:
        raise _BadLine("target is empty")
    return source, target


def _json_type(value: object) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _parse_jsonl(text: str) -> tuple[str, str]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise _BadLine(f"invalid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise _BadLine("invalid JSON (nested too deeply)") from None
    if not isinstance(obj, dict):
        raise _BadLine(f"expected a JSON object, found {_json_type(obj)}")
    values = []
    for key in ("source", "target"):
        if key not in obj:
            raise _BadLine(f'missing "{key}" key')
        value = obj[key]
        if not isinstance(value, str):
            raise _BadLine(f'"{key}" must be a string, found {_json_type(value)}')
        if not value:
            raise _BadLine(f'"{key}" is empty')
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _BadLine(f'"{key}" is not valid Unicode (lone surrogate)') from None
        values.append(value)
    return values[0], values[1]


_LINE_PARSERS = {"tsv": _parse_tsv, "anki": _parse_anki, "jsonl": _parse_jsonl}


class _Collector:
    """Accumulates pairs and bad lines for one ``read_pairs`` call."""

    def __init__(self, skip_bad_lines: bool) -> None:
        self.skip_bad_lines = skip_bad_lines
        self.pairs: list[tuple[str, str]] = []
        self.skipped = 0
        self.examples: list[str] = []

    def bad(self, error: CorpusError) -> None:
        if not self.skip_bad_lines:
            raise error
        self.skipped += 1
        if len(self.examples) < MAX_SKIPPED_EXAMPLES:
            self.examples.append(str(error))

    def result(self, path: str) -> ReadResult:
        if not self.pairs:
            raise CorpusError(path, None, "no sentence pairs found")
        return ReadResult(self.pairs, self.skipped, self.examples)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def read_pairs(
    path: PathLike,
    format: str = "tsv",
    *,
    target_path: PathLike | None = None,
    skip_bad_lines: bool = False,
) -> ReadResult:
    """Reads ``(source, target)`` pairs from a corpus file.

    Args:
        path: The corpus file; for ``parallel``, the source-side file. Gzip
            files are decompressed transparently.
        format: One of ``FORMATS``.
        target_path: The target-side file; required for ``parallel`` and
            rejected for every other format.
        skip_bad_lines: If true, lines that cannot be parsed are skipped and
            counted instead of raising. File-level problems (missing file,
            line-count mismatch, empty corpus) still raise.

    Returns:
        A ``ReadResult`` with the pairs in file order.

    Raises:
        CorpusError: On bad input; see the module docstring for the exact
            messages.
    """
    path = os.fspath(path)
    if format not in FORMATS:
        raise CorpusError(
            path, None, f"unknown format {format!r} (expected one of: {', '.join(FORMATS)})"
        )
    collector = _Collector(skip_bad_lines)
    if format == "parallel":
        if target_path is None:
            raise CorpusError(
                path, None, "format 'parallel' needs target_path (the target-side file)"
            )
        _read_parallel(path, os.fspath(target_path), collector)
        return collector.result(path)
    if target_path is not None:
        raise CorpusError(
            path, None, f"target_path is only used with format 'parallel', not {format!r}"
        )
    parse = _LINE_PARSERS[format]
    with _Lines(path) as lines:
        for line_number, text in lines:
            if isinstance(text, CorpusError):
                collector.bad(text)
                continue
            if not text:
                continue
            try:
                collector.pairs.append(parse(text))
            except _BadLine as e:
                collector.bad(CorpusError(path, line_number, str(e)))
    return collector.result(path)


def _read_parallel(source_path: str, target_path: str, collector: _Collector) -> None:
    with _Lines(source_path) as source, _Lines(target_path) as target:
        source_iter, target_iter = iter(source), iter(target)
        while True:
            source_item = next(source_iter, None)
            target_item = next(target_iter, None)
            if source_item is None and target_item is None:
                return
            if source_item is None or target_item is None:
                if source_item is None:
                    shorter, longer, longer_iter = source, target, target_iter
                else:
                    shorter, longer, longer_iter = target, source, source_iter
                for _ in longer_iter:
                    pass
                raise CorpusError(
                    shorter.path,
                    shorter.count + 1,
                    f"ended after {_plural(shorter.count, 'line')} "
                    f"but {longer.path} has {longer.count}",
                )
            source_text, target_text = source_item[1], target_item[1]
            if isinstance(source_text, CorpusError):
                collector.bad(source_text)
                continue
            if isinstance(target_text, CorpusError):
                collector.bad(target_text)
                continue
            if source_text and target_text:
                collector.pairs.append((source_text, target_text))


def split_holdout(
    pairs: Sequence[tuple[str, str]], fraction: float, seed: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Splits off a seeded random holdout set.

    The same ``pairs``, ``fraction`` and ``seed`` always give the same split.
    Both parts keep the original order of ``pairs``.

    Args:
        pairs: The pairs to split; needs at least 2.
        fraction: Share to hold out, strictly between 0 and 1. The holdout
            size is ``round(len(pairs) * fraction)`` clamped to
            ``[1, len(pairs) - 1]``.
        seed: Seed for the shuffle.

    Returns:
        ``(kept, held_out)``: disjoint lists that together cover ``pairs``.

    Raises:
        ValueError: If ``fraction`` is not in (0, 1) or there are fewer than
            2 pairs.
    """
    if isinstance(fraction, bool) or not 0 < fraction < 1:
        raise ValueError(f"holdout fraction must be between 0 and 1 (exclusive), got {fraction!r}")
    n = len(pairs)
    if n < 2:
        raise ValueError(f"need at least 2 pairs to split off a holdout set, got {n}")
    n_held = min(max(int(n * fraction + 0.5), 1), n - 1)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    held = set(order[:n_held])
    kept = [pair for i, pair in enumerate(pairs) if i not in held]
    held_out = [pair for i, pair in enumerate(pairs) if i in held]
    return kept, held_out


def _format_pair(index: int, pair: object, format: str) -> str:
    try:
        source, target = pair  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"pair {index}: expected a (source, target) pair") from None
    for name, value in (("source", source), ("target", target)):
        if not isinstance(value, str):
            raise ValueError(f"pair {index}: {name} must be a str, found {type(value).__name__}")
        if not value:
            raise ValueError(f"pair {index}: {name} is empty")
        if format == "tsv":
            if "\t" in value:
                raise ValueError(
                    f"pair {index}: {name} contains a tab; use format 'jsonl' to keep it"
                )
            if "\n" in value or "\r" in value:
                raise ValueError(
                    f"pair {index}: {name} contains a line break; use format 'jsonl' to keep it"
                )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"pair {index}: {name} is not valid Unicode (lone surrogate)"
            ) from None
    if format == "tsv":
        return f"{source}\t{target}\n"
    return json.dumps({"source": source, "target": target}, ensure_ascii=False) + "\n"


def write_pairs(pairs: Sequence[tuple[str, str]], path: PathLike, format: str = "tsv") -> None:
    """Writes pairs so that ``read_pairs(path, format)`` gives them back.

    The file is UTF-8 with ``\\n`` line ends; a path ending in ``.gz`` is
    gzip-compressed. All pairs are validated before the file is touched.

    Args:
        pairs: The ``(source, target)`` pairs; both must be non-empty strings.
        path: Output file (overwritten).
        format: ``tsv`` or ``jsonl``. Use ``jsonl`` when fields contain tabs
            or newlines.

    Raises:
        ValueError: On an unsupported format, or naming the 0-based pair
            index: ``pair I: source contains a tab; use format 'jsonl' to keep
            it`` (also ``contains a line break``, ``is empty``, ``must be a
            str, found T``, ``expected a (source, target) pair``).
    """
    if format not in _WRITE_FORMATS:
        raise ValueError(
            f"cannot write format {format!r} (expected one of: {', '.join(_WRITE_FORMATS)})"
        )
    lines = [_format_pair(i, pair, format) for i, pair in enumerate(pairs)]
    data = "".join(lines).encode("utf-8")
    path = os.fspath(path)
    if path.lower().endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


def infer_format(path: PathLike) -> str:
    """Infers the corpus format from an unambiguous file name.

    ``.tsv`` gives ``tsv`` and ``.jsonl`` gives ``jsonl``; a trailing ``.gz`` is
    ignored and case does not matter. Other names (``.txt`` may be TSV or Anki,
    ``.json`` a single document) are not guessed.

    Args:
        path: The corpus file name.

    Returns:
        ``"tsv"`` or ``"jsonl"``.

    Raises:
        CorpusError: If the suffix is not recognised.
    """
    name = os.path.basename(os.fspath(path)).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = os.path.splitext(name)[1]
    if suffix == ".tsv":
        return "tsv"
    if suffix == ".jsonl":
        return "jsonl"
    raise CorpusError(
        path,
        None,
        "cannot infer the format from the file name; give it explicitly "
        f"(one of: {', '.join(FORMATS)})",
    )
