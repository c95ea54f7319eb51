# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Tests for keras_s2s.readers (corpus readers and writers)."""

from __future__ import annotations

import copy
import gzip
import json
import pathlib
import subprocess
import sys

import pytest

from keras_s2s import readers
from keras_s2s.readers import (
    FORMATS,
    MAX_SKIPPED_EXAMPLES,
    CorpusError,
    ReadResult,
    decode_line,
    infer_format,
    read_lines,
    read_pairs,
    split_holdout,
    write_pairs,
)


def _write(path, content: bytes | str):
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def _message(excinfo) -> str:
    return str(excinfo.value)


# --------------------------------------------------------------------------- basics


def test_formats_constant():
    assert FORMATS == ("tsv", "anki", "jsonl", "parallel")


def test_module_does_not_import_tensorflow_or_keras():
    code = (
        "import sys, keras_s2s.readers\n"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(pathlib.Path(readers.__file__).resolve().parents[1]),
    )
    assert out.stdout.strip() == ""


def test_corpus_error_attributes_and_str():
    e = CorpusError("a.tsv", 3, "source is empty")
    assert (e.path, e.line, e.problem) == ("a.tsv", 3, "source is empty")
    assert str(e) == "a.tsv:3: source is empty"
    assert isinstance(e, ValueError)
    e2 = CorpusError("a.tsv", None, "no such file")
    assert str(e2) == "a.tsv: no such file"
    assert e2.line is None


def test_corpus_error_is_one_line_and_copyable():
    e = CorpusError("a.tsv", 1, "first\nsecond\r\nthird")
    assert str(e) == "a.tsv:1: first second third"
    e2 = copy.deepcopy(e)  # goes through __reduce__, like pickle
    assert str(e2) == str(e)
    assert (e2.path, e2.line, e2.problem) == (e.path, e.line, e.problem)


def test_read_result_is_frozen():
    r = ReadResult([("a", "b")], 0, [])
    with pytest.raises(AttributeError):
        r.skipped = 1  # type: ignore[misc]


# --------------------------------------------------------------------------- tsv


def test_tsv_reads_pairs(tmp_path):
    p = _write(tmp_path / "c.tsv", "Hi.\tSalut.\nRun!\tCours !\n")
    r = read_pairs(p)
    assert r.pairs == [("Hi.", "Salut."), ("Run!", "Cours !")]
    assert r.skipped == 0
    assert r.skipped_examples == []


def test_tsv_accepts_str_path(tmp_path):
    p = _write(tmp_path / "c.tsv", "a\tb\n")
    assert read_pairs(str(p), "tsv").pairs == [("a", "b")]


def test_tsv_no_trailing_newline(tmp_path):
    p = _write(tmp_path / "c.tsv", "a\tb\nc\td")
    assert read_pairs(p).pairs == [("a", "b"), ("c", "d")]


def test_tsv_crlf_and_only_terminator_stripped(tmp_path):
    p = _write(tmp_path / "c.tsv", " a \t b  \r\nc\td\r\n")
    assert read_pairs(p).pairs == [(" a ", " b  "), ("c", "d")]


def test_tsv_bom_stripped_only_at_file_start(tmp_path):
    p = _write(tmp_path / "c.tsv", b"\xef\xbb\xbfa\tb\n\xef\xbb\xbfc\td\n")
    assert read_pairs(p).pairs == [("a", "b"), ("\ufeffc", "d")]


def test_tsv_blank_lines_ignored(tmp_path):
    p = _write(tmp_path / "c.tsv", "\na\tb\n\n\r\nc\td\n\n")
    r = read_pairs(p)
    assert r.pairs == [("a", "b"), ("c", "d")]
    assert r.skipped == 0


def test_tsv_gzip(tmp_path):
    p = tmp_path / "c.tsv.gz"
    p.write_bytes(gzip.compress("\ufeffé\tè\r\nx\ty\n".encode()))
    assert read_pairs(p).pairs == [("é", "è"), ("x", "y")]


def test_gzip_detected_by_magic_not_name(tmp_path):
    p = tmp_path / "c.tsv"
    p.write_bytes(gzip.compress(b"a\tb\n"))
    assert read_pairs(p).pairs == [("a", "b")]


def test_tsv_unicode(tmp_path):
    p = _write(tmp_path / "c.tsv", "日本語\t😀 ok\n")
    assert read_pairs(p).pairs == [("日本語", "😀 ok")]


def test_tsv_no_tab(tmp_path):
    p = _write(tmp_path / "c.tsv", "a\tb\nno tab here\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}:2: expected source<TAB>target, found no tab"
    assert ei.value.path == str(p)
    assert ei.value.line == 2
    assert ei.value.problem == "expected source<TAB>target, found no tab"


def test_tsv_whitespace_only_line_is_bad(tmp_path):
    p = _write(tmp_path / "c.tsv", "a\tb\n   \n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}:2: expected source<TAB>target, found no tab"


def test_tsv_wrong_field_count(tmp_path):
    p = _write(tmp_path / "c.tsv", "a\tb\tCC-BY 2.0\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, "tsv")
    assert _message(ei) == (
        f"{p}:1: expected 2 tab-separated fields, found 3 (use format 'anki' to ignore extra fields)"
    )


def test_tsv_empty_fields(tmp_path):
    p = _write(tmp_path / "c.tsv", "\tb\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}:1: source is empty"
    p = _write(tmp_path / "d.tsv", "a\tb\na\t\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}:2: target is empty"


def test_invalid_utf8(tmp_path):
    p = _write(tmp_path / "c.tsv", b"a\tb\nca\xffd\te\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}:2: not valid UTF-8 (byte 0xff at column 3)"


def test_invalid_utf8_column_counts_characters(tmp_path):
    # "é" is 2 bytes but one column; the BOM does not count either.
    p = _write(tmp_path / "c.tsv", b"\xef\xbb\xbf\xc3\xa9\t\xc3(\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}:1: not valid UTF-8 (byte 0xc3 at column 3)"


def test_invalid_utf8_encoded_surrogate_rejected(tmp_path):
    p = _write(tmp_path / "c.tsv", b"a\t\xed\xa0\x80\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}:1: not valid UTF-8 (byte 0xed at column 3)"


def test_invalid_utf8_in_gzip(tmp_path):
    p = tmp_path / "c.tsv.gz"
    p.write_bytes(gzip.compress(b"a\tb\n\x80\tb\n"))
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}:2: not valid UTF-8 (byte 0x80 at column 1)"


def test_missing_file(tmp_path):
    p = tmp_path / "nope.tsv"
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert _message(ei) == f"{p}: no such file"
    assert ei.value.line is None


def test_directory(tmp_path):
    with pytest.raises(CorpusError) as ei:
        read_pairs(tmp_path)
    assert _message(ei) == f"{tmp_path}: is a directory"


def test_empty_corpus(tmp_path):
    for name, content in [("empty.tsv", ""), ("blank.tsv", "\n\r\n\n"), ("bom.tsv", "\ufeff\n")]:
        p = _write(tmp_path / name, content)
        with pytest.raises(CorpusError) as ei:
            read_pairs(p)
        assert _message(ei) == f"{p}: no sentence pairs found"


def test_truncated_gzip(tmp_path):
    p = tmp_path / "c.tsv.gz"
    p.write_bytes(gzip.compress(b"a\tb\n" * 1000)[:-12])
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    msg = _message(ei)
    assert msg.startswith(f"{p}: corrupt gzip data (")
    assert "\n" not in msg


def test_unknown_format(tmp_path):
    p = _write(tmp_path / "c.tsv", "a\tb\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, "csv")
    assert _message(ei) == (
        f"{p}: unknown format 'csv' (expected one of: tsv, anki, jsonl, parallel)"
    )


def test_target_path_rejected_for_non_parallel(tmp_path):
    p = _write(tmp_path / "c.tsv", "a\tb\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, "tsv", target_path=p)
    assert _message(ei) == f"{p}: target_path is only used with format 'parallel', not 'tsv'"


# --------------------------------------------------------------------------- anki


def test_anki_reads_pairs_ignoring_attribution(tmp_path):
    p = _write(
        tmp_path / "fra.txt",
        "\ufeffGo.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\r\n"
        "Hi.\tSalut !\n"
        "\n"
        "A\tB\tC\tD\n",
    )
    assert read_pairs(p, "anki").pairs == [("Go.", "Va !"), ("Hi.", "Salut !"), ("A", "B")]


def test_anki_no_tab(tmp_path):
    p = _write(tmp_path / "fra.txt", "Go.\tVa !\tattr\nGo.\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, "anki")
    assert _message(ei) == f"{p}:2: expected source<TAB>target, found no tab"


def test_anki_empty_target(tmp_path):
    p = _write(tmp_path / "fra.txt", "Go.\t\tattr\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, "anki")
    assert _message(ei) == f"{p}:1: target is empty"


# --------------------------------------------------------------------------- jsonl


def test_jsonl_reads_pairs_and_keeps_tabs_and_newlines(tmp_path):
    rows = [
        {"source": "add two numbers", "target": "def add(a, b):\n\treturn a + b\n", "id": 7},
        {"target": "  x\r\n", "source": "tab\there", "meta": {"k": [1, 2]}},
    ]
    text = "\ufeff" + "\n".join(json.dumps(r) for r in rows) + "\r\n\n"
    p = _write(tmp_path / "c.jsonl", text)
    assert read_pairs(p, "jsonl").pairs == [
        ("add two numbers", "def add(a, b):\n\treturn a + b\n"),
        ("tab\there", "  x\r\n"),
    ]


def test_jsonl_non_ascii_and_gzip(tmp_path):
    p = tmp_path / "c.jsonl.gz"
    line = json.dumps({"source": "naïve", "target": "наивный"}, ensure_ascii=False)
    p.write_bytes(gzip.compress((line + "\n").encode()))
    assert read_pairs(p, "jsonl").pairs == [("naïve", "наивный")]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"source": "a", "target": }', "invalid JSON (Expecting value at column 27)"),
        ("not json", "invalid JSON (Expecting value at column 1)"),
        ('{"source": "a"} x', "invalid JSON (Extra data at column 17)"),
        ("   ", "invalid JSON (Expecting value at column 4)"),
        ('["a", "b"]', "expected a JSON object, found array"),
        ('"a"', "expected a JSON object, found string"),
        ("3", "expected a JSON object, found number"),
        ("null", "expected a JSON object, found null"),
        ('{"target": "b"}', 'missing "source" key'),
        ('{"source": "a"}', 'missing "target" key'),
        ('{"source": 1, "target": "b"}', '"source" must be a string, found number'),
        ('{"source": "a", "target": null}', '"target" must be a string, found null'),
        ('{"source": "a", "target": ["b"]}', '"target" must be a string, found array'),
        ('{"source": true, "target": "b"}', '"source" must be a string, found boolean'),
        ('{"source": "", "target": "b"}', '"source" is empty'),
        ('{"source": "a", "target": ""}', '"target" is empty'),
        ('{"source": "\\ud800", "target": "b"}', '"source" is not valid Unicode (lone surrogate)'),
    ],
)
def test_jsonl_bad_lines(tmp_path, line, problem):
    p = _write(tmp_path / "c.jsonl", '{"source": "ok", "target": "ok"}\n' + line + "\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, "jsonl")
    assert _message(ei) == f"{p}:2: {problem}"
    assert ei.value.line == 2
    assert ei.value.problem == problem


def test_jsonl_invalid_utf8(tmp_path):
    p = _write(tmp_path / "c.jsonl", b'{"source": "\xe9", "target": "b"}\n')
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, "jsonl")
    assert _message(ei) == f"{p}:1: not valid UTF-8 (byte 0xe9 at column 13)"


# --------------------------------------------------------------------------- parallel


def test_parallel_reads_pairs(tmp_path):
    src = _write(tmp_path / "src.txt", "\ufeffHello\r\nworld\nagain")
    tgt = _write(tmp_path / "tgt.txt", "Bonjour\nle monde\r\nencore\n")
    r = read_pairs(src, "parallel", target_path=tgt)
    assert r.pairs == [("Hello", "Bonjour"), ("world", "le monde"), ("again", "encore")]
    assert r.skipped == 0


def test_parallel_keeps_tabs_and_gzip(tmp_path):
    src = tmp_path / "src.txt.gz"
    src.write_bytes(gzip.compress(b"a\tb\nc\n"))
    tgt = _write(tmp_path / "tgt.txt", "x\ny\tz\n")
    assert read_pairs(src, "parallel", target_path=tgt).pairs == [("a\tb", "x"), ("c", "y\tz")]


def test_parallel_drops_empty_sides_but_keeps_alignment(tmp_path):
    src = _write(tmp_path / "src.txt", "a\n\nc\nd\n")
    tgt = _write(tmp_path / "tgt.txt", "A\nB\n\nD\n")
    r = read_pairs(src, "parallel", target_path=tgt)
    assert r.pairs == [("a", "A"), ("d", "D")]
    assert r.skipped == 0


def test_parallel_target_shorter(tmp_path):
    src = _write(tmp_path / "src.txt", "".join(f"s{i}\n" for i in range(200)))
    tgt = _write(tmp_path / "tgt.txt", "".join(f"t{i}\n" for i in range(119)))
    with pytest.raises(CorpusError) as ei:
        read_pairs(src, "parallel", target_path=tgt)
    assert _message(ei) == f"{tgt}:120: ended after 119 lines but {src} has 200"
    assert ei.value.path == str(tgt)
    assert ei.value.line == 120


def test_parallel_source_shorter(tmp_path):
    src = _write(tmp_path / "src.txt", "a\n")
    tgt = _write(tmp_path / "tgt.txt", "A\nB\nC")
    with pytest.raises(CorpusError) as ei:
        read_pairs(src, "parallel", target_path=tgt)
    assert _message(ei) == f"{src}:2: ended after 1 line but {tgt} has 3"


def test_parallel_empty_side(tmp_path):
    src = _write(tmp_path / "src.txt", "")
    tgt = _write(tmp_path / "tgt.txt", "A\nB\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(src, "parallel", target_path=tgt)
    assert _message(ei) == f"{src}:1: ended after 0 lines but {tgt} has 2"


def test_parallel_mismatch_raises_even_when_skipping(tmp_path):
    src = _write(tmp_path / "src.txt", "a\nb\nc\n")
    tgt = _write(tmp_path / "tgt.txt", "A\nB\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(src, "parallel", target_path=tgt, skip_bad_lines=True)
    assert _message(ei) == f"{tgt}:3: ended after 2 lines but {src} has 3"


def test_parallel_needs_target_path(tmp_path):
    src = _write(tmp_path / "src.txt", "a\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(src, "parallel")
    assert _message(ei) == f"{src}: format 'parallel' needs target_path (the target-side file)"


def test_parallel_missing_target(tmp_path):
    src = _write(tmp_path / "src.txt", "a\n")
    tgt = tmp_path / "missing.txt"
    with pytest.raises(CorpusError) as ei:
        read_pairs(src, "parallel", target_path=tgt)
    assert _message(ei) == f"{tgt}: no such file"


def test_parallel_invalid_utf8_names_the_right_file(tmp_path):
    src = _write(tmp_path / "src.txt", "a\nb\n")
    tgt = _write(tmp_path / "tgt.txt", b"A\nB\xfe\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(src, "parallel", target_path=tgt)
    assert _message(ei) == f"{tgt}:2: not valid UTF-8 (byte 0xfe at column 2)"


def test_parallel_skip_bad_lines(tmp_path):
    src = _write(tmp_path / "src.txt", b"a\n\xff\nc\n")
    tgt = _write(tmp_path / "tgt.txt", b"A\nB\n\xffC\n")
    r = read_pairs(src, "parallel", target_path=tgt, skip_bad_lines=True)
    assert r.pairs == [("a", "A")]
    assert r.skipped == 2
    assert r.skipped_examples == [
        f"{src}:2: not valid UTF-8 (byte 0xff at column 1)",
        f"{tgt}:3: not valid UTF-8 (byte 0xff at column 1)",
    ]


def test_parallel_empty_corpus(tmp_path):
    src = _write(tmp_path / "src.txt", "a\n\n")
    tgt = _write(tmp_path / "tgt.txt", "\nb\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(src, "parallel", target_path=tgt)
    assert _message(ei) == f"{src}: no sentence pairs found"


# --------------------------------------------------------------------------- skip_bad_lines


def test_skip_bad_lines_tsv(tmp_path):
    p = _write(
        tmp_path / "c.tsv",
        b"a\tb\nno tab\n\nc\td\te\n\xff\tx\n\tq\ne\tf\n",
    )
    r = read_pairs(p, skip_bad_lines=True)
    assert r.pairs == [("a", "b"), ("e", "f")]
    assert r.skipped == 4
    assert r.skipped_examples == [
        f"{p}:2: expected source<TAB>target, found no tab",
        f"{p}:4: expected 2 tab-separated fields, found 3 (use format 'anki' to ignore extra fields)",
        f"{p}:5: not valid UTF-8 (byte 0xff at column 1)",
        f"{p}:6: source is empty",
    ]


def test_skip_bad_lines_jsonl(tmp_path):
    p = _write(
        tmp_path / "c.jsonl",
        '{"source": "a", "target": "b"}\n{bad\n[]\n{"source": "c", "target": "d"}\n',
    )
    r = read_pairs(p, "jsonl", skip_bad_lines=True)
    assert r.pairs == [("a", "b"), ("c", "d")]
    assert r.skipped == 2
    assert r.skipped_examples == [
        f"{p}:2: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        f"{p}:3: expected a JSON object, found array",
    ]


def test_skip_bad_lines_caps_examples(tmp_path):
    n_bad = MAX_SKIPPED_EXAMPLES + 7
    p = _write(tmp_path / "c.tsv", "ok\tfine\n" + "bad\n" * n_bad)
    r = read_pairs(p, skip_bad_lines=True)
    assert r.pairs == [("ok", "fine")]
    assert r.skipped == n_bad
    assert len(r.skipped_examples) == MAX_SKIPPED_EXAMPLES
    assert r.skipped_examples[0] == f"{p}:2: expected source<TAB>target, found no tab"


def test_skip_bad_lines_all_bad_still_raises_empty(tmp_path):
    p = _write(tmp_path / "c.tsv", "bad\nworse\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, skip_bad_lines=True)
    assert _message(ei) == f"{p}: no sentence pairs found"


def test_skip_bad_lines_missing_file_still_raises(tmp_path):
    p = tmp_path / "nope.tsv"
    with pytest.raises(CorpusError) as ei:
        read_pairs(p, skip_bad_lines=True)
    assert _message(ei) == f"{p}: no such file"


def test_without_skip_first_bad_line_raises(tmp_path):
    p = _write(tmp_path / "c.tsv", "a\tb\nbad\nworse\n")
    with pytest.raises(CorpusError) as ei:
        read_pairs(p)
    assert ei.value.line == 2


# --------------------------------------------------------------------------- split_holdout


def _pairs(n):
    return [(f"s{i}", f"t{i}") for i in range(n)]


def test_split_holdout_deterministic_disjoint_covering():
    pairs = _pairs(100)
    kept, held = split_holdout(pairs, 0.1, seed=42)
    kept2, held2 = split_holdout(pairs, 0.1, seed=42)
    assert (kept, held) == (kept2, held2)
    assert len(held) == 10
    assert len(kept) == 90
    assert set(kept).isdisjoint(held)
    assert sorted(kept + held) == sorted(pairs)
    # Both parts keep the original order.
    assert kept == [p for p in pairs if p in set(kept)]
    assert held == [p for p in pairs if p in set(held)]


def test_split_holdout_seed_changes_split():
    pairs = _pairs(100)
    assert split_holdout(pairs, 0.2, seed=1)[1] != split_holdout(pairs, 0.2, seed=2)[1]


def test_split_holdout_is_random_not_a_tail():
    pairs = _pairs(100)
    held = split_holdout(pairs, 0.1, seed=0)[1]
    assert held != pairs[-10:]
    assert held != pairs[:10]


@pytest.mark.parametrize(
    ("n", "fraction", "n_held"),
    [(2, 0.01, 1), (2, 0.99, 1), (3, 0.5, 2), (10, 0.25, 3), (1000, 0.05, 50), (7, 0.9, 6)],
)
def test_split_holdout_sizes(n, fraction, n_held):
    kept, held = split_holdout(_pairs(n), fraction, seed=3)
    assert len(held) == n_held
    assert len(kept) == n - n_held


def test_split_holdout_does_not_modify_input():
    pairs = _pairs(20)
    before = list(pairs)
    split_holdout(pairs, 0.3, seed=5)
    assert pairs == before


def test_split_holdout_keeps_duplicates():
    pairs = [("a", "b")] * 10
    kept, held = split_holdout(pairs, 0.3, seed=0)
    assert len(kept) + len(held) == 10
    assert len(held) == 3


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, float("nan"), True])
def test_split_holdout_bad_fraction(fraction):
    with pytest.raises(ValueError, match=r"holdout fraction must be between 0 and 1 \(exclusive\)"):
        split_holdout(_pairs(10), fraction, seed=0)


@pytest.mark.parametrize("n", [0, 1])
def test_split_holdout_too_few_pairs(n):
    with pytest.raises(ValueError) as ei:
        split_holdout(_pairs(n), 0.5, seed=0)
    assert str(ei.value) == f"need at least 2 pairs to split off a holdout set, got {n}"


# --------------------------------------------------------------------------- write_pairs


def test_write_read_round_trip_tsv(tmp_path):
    pairs = [("Hi.", "Salut."), (" spaced ", "日本語 😀"), ("back\\slash", "x\\ty")]
    p = tmp_path / "out.tsv"
    write_pairs(pairs, p)
    assert p.read_bytes().endswith(b"\n")
    assert b"\r" not in p.read_bytes()
    assert read_pairs(p).pairs == pairs


def test_write_read_round_trip_jsonl(tmp_path):
    pairs = [
        ("sum", "def f(a, b):\n\treturn a + b\r\n"),
        ("tab\tsource", "  trailing  "),
        ('naïve "quoted" \\ back', "наивный"),
    ]
    p = tmp_path / "out.jsonl"
    write_pairs(pairs, p, "jsonl")
    text = p.read_text(encoding="utf-8")
    assert text.count("\n") == len(pairs)
    assert "наивный" in text  # written as UTF-8, not \u escapes
    assert read_pairs(p, "jsonl").pairs == pairs


def test_write_gzip_round_trip(tmp_path):
    pairs = [("a", "b"), ("c", "d")]
    p = tmp_path / "out.jsonl.gz"
    write_pairs(pairs, p, "jsonl")
    assert p.read_bytes()[:2] == b"\x1f\x8b"
    assert read_pairs(p, infer_format(p)).pairs == pairs


def test_write_tsv_rejects_tab(tmp_path):
    p = tmp_path / "out.tsv"
    with pytest.raises(ValueError) as ei:
        write_pairs([("a", "b"), ("c", "d\te")], p)
    assert str(ei.value) == "pair 1: target contains a tab; use format 'jsonl' to keep it"
    assert not p.exists()


@pytest.mark.parametrize("field", ["x\ny", "x\r\ny", "x\r"])
def test_write_tsv_rejects_line_breaks(tmp_path, field):
    with pytest.raises(ValueError) as ei:
        write_pairs([(field, "b")], tmp_path / "out.tsv")
    assert str(ei.value) == "pair 0: source contains a line break; use format 'jsonl' to keep it"


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        (("", "b"), "pair 0: source is empty"),
        (("a", ""), "pair 0: target is empty"),
        (("a", 3), "pair 0: target must be a str, found int"),
        (("a",), "pair 0: expected a (source, target) pair"),
        (None, "pair 0: expected a (source, target) pair"),
        (("\ud800", "b"), "pair 0: source is not valid Unicode (lone surrogate)"),
    ],
)
def test_write_rejects_bad_pairs(tmp_path, pair, message):
    for fmt in ("tsv", "jsonl"):
        with pytest.raises(ValueError) as ei:
            write_pairs([pair], tmp_path / f"out.{fmt}", fmt)
        assert str(ei.value) == message


def test_write_unsupported_format(tmp_path):
    with pytest.raises(ValueError) as ei:
        write_pairs([("a", "b")], tmp_path / "out", "parallel")
    assert str(ei.value) == "cannot write format 'parallel' (expected one of: tsv, jsonl)"


# --------------------------------------------------------------------------- infer_format


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("c.tsv", "tsv"),
        ("C.TSV", "tsv"),
        ("c.tsv.GZ", "tsv"),
        ("c.jsonl", "jsonl"),
        ("dir.v2/c.jsonl.gz", "jsonl"),
    ],
)
def test_infer_format(name, fmt):
    assert infer_format(name) == fmt


@pytest.mark.parametrize(
    "name", ["c.csv", "corpus", "c.gz", "c.tsv.bz2", "data.tsv/corpus", "fra.txt", "c.json"]
)
def test_infer_format_unknown(name):
    with pytest.raises(CorpusError) as ei:
        infer_format(name)
    assert str(ei.value) == (
        f"{name}: cannot infer the format from the file name; "
        "give it explicitly (one of: tsv, anki, jsonl, parallel)"
    )


# --------------------------------------------------------------------------- read_lines


def test_read_lines_drops_bom_and_terminators_and_keeps_empty_lines(tmp_path):
    path = tmp_path / "text"
    path.write_bytes(b"\xef\xbb\xbfone\r\n\n two \t\nlast")
    assert read_lines(path) == ["one", "", " two \t", "last"]


def test_read_lines_detects_gzip_by_magic_bytes_not_name(tmp_path):
    path = tmp_path / "sources.txt"  # no .gz suffix
    path.write_bytes(gzip.compress("\ufeffHallo\nWelt\n".encode()))
    assert read_lines(path) == ["Hallo", "Welt"]


def test_read_lines_strict_names_file_line_and_column(tmp_path):
    path = tmp_path / "refs.txt"
    path.write_bytes(b"good\nab\xffc\n")
    with pytest.raises(CorpusError) as ei:
        read_lines(path)
    assert str(ei.value) == f"{path}:2: not valid UTF-8 (byte 0xff at column 3)"


def test_read_lines_lenient_replaces_invalid_bytes(tmp_path):
    path = tmp_path / "input.txt"
    path.write_bytes(b"good\nab\xffc\n")
    assert read_lines(path, lenient=True) == ["good", "ab\ufffdc"]


def test_read_lines_missing_file(tmp_path):
    with pytest.raises(CorpusError) as ei:
        read_lines(tmp_path / "nope.txt")
    assert str(ei.value) == f"{tmp_path / 'nope.txt'}: no such file"


@pytest.mark.parametrize(
    ("raw", "first", "text"),
    [
        (b"\xef\xbb\xbfa\r\n", True, "a"),
        (b"\xef\xbb\xbfa\r\n", False, "\ufeffa"),
        (b"a\r", False, "a\r"),  # only a terminator's CR is stripped
        (b"a\xff\n", False, "a\ufffd"),
    ],
)
def test_decode_line_rules(raw, first, text):
    assert decode_line(raw, first=first, lenient=True) == text
