# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Tests for keras_s2s.generated_corpus (the embedded default corpus)."""

from __future__ import annotations

import datetime
import random

import pytest
from babel.dates import format_date
from num2words import num2words

from keras_s2s import generated_corpus
from keras_s2s.generated_corpus import (
    DATE_FORMATS,
    DATE_LOCALES,
    NUMBER_LANGUAGES,
    Corpus,
    generate_default_corpus,
    write_corpus,
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return generate_default_corpus()


def _value(target: str) -> datetime.date | int:
    """Parses a target back to its underlying value."""
    if "-" in target:
        return datetime.date.fromisoformat(target)
    assert target.isdigit(), target
    return int(target)


def _all_pairs(corpus: Corpus) -> list[tuple[str, str]]:
    return [pair for pairs in corpus.splits().values() for pair in pairs]


def test_constants_cover_required_locales_and_languages():
    assert {"ko", "en", "de"} <= set(DATE_LOCALES)
    assert len(DATE_LOCALES) >= 5
    assert len(DATE_FORMATS) >= 3
    assert "ko" in NUMBER_LANGUAGES
    assert len(NUMBER_LANGUAGES) >= 4


def test_default_size_and_split_proportions(corpus):
    sizes = {name: len(pairs) for name, pairs in corpus.splits().items()}
    assert list(sizes) == ["train", "valid", "test"]
    total = sum(sizes.values())
    assert total >= 20_000
    assert sizes["valid"] == pytest.approx(0.05 * total, rel=0.1)
    assert sizes["test"] == pytest.approx(0.05 * total, rel=0.1)
    num_dates = sum("-" in t for _, t in _all_pairs(corpus))
    assert 0.5 < num_dates / total < 0.7


def test_splits_returns_the_fields(corpus):
    splits = corpus.splits()
    assert splits["train"] is corpus.train
    assert splits["valid"] is corpus.valid
    assert splits["test"] is corpus.test


def test_deterministic_for_same_seed_and_differs_for_other_seed(corpus):
    state = random.getstate()
    again = generate_default_corpus(seed=0)
    assert random.getstate() == state  # global random state untouched
    assert again == corpus
    other = generate_default_corpus(seed=1)
    assert other.train != corpus.train
    assert other.test != corpus.test


def test_splits_disjoint_by_underlying_value(corpus):
    values = {
        name: {_value(target) for _, target in pairs} for name, pairs in corpus.splits().items()
    }
    assert values["train"].isdisjoint(values["valid"])
    assert values["train"].isdisjoint(values["test"])
    assert values["valid"].isdisjoint(values["test"])
    # Every split has both dates and numbers.
    for name, split_values in values.items():
        assert any(isinstance(v, datetime.date) for v in split_values), name
        assert any(isinstance(v, int) for v in split_values), name


def test_values_in_range(corpus):
    for _, target in _all_pairs(corpus):
        value = _value(target)
        if isinstance(value, datetime.date):
            assert datetime.date(1950, 1, 1) <= value <= datetime.date(2049, 12, 31)
            assert target == value.isoformat()
            assert len(target) == 10
        else:
            assert 0 <= value <= 9999
            assert target == str(value)


def test_every_pair_is_a_genuine_rendering(corpus):
    rng = random.Random(1234)
    sample = rng.sample(_all_pairs(corpus), 500)
    for source, target in sample:
        value = _value(target)
        if isinstance(value, datetime.date):
            renderings = {
                format_date(value, fmt, locale=loc).strip()
                for loc in DATE_LOCALES
                for fmt in DATE_FORMATS
            }
        else:
            renderings = {num2words(value, lang=lang).strip() for lang in NUMBER_LANGUAGES}
        assert source in renderings, (source, target)


def test_every_date_locale_and_format_occurs(corpus):
    pairs = [(s, _value(t)) for s, t in _all_pairs(corpus)]
    date_pairs = [(s, v) for s, v in pairs if isinstance(v, datetime.date)]
    for locale in DATE_LOCALES:
        for fmt in DATE_FORMATS:
            assert any(s == format_date(v, fmt, locale=locale) for s, v in date_pairs), (
                locale,
                fmt,
            )


def test_every_number_language_occurs(corpus):
    number_pairs = [(s, int(t)) for s, t in _all_pairs(corpus) if t.isdigit()]
    for lang in NUMBER_LANGUAGES:
        assert any(s == num2words(v, lang=lang) for s, v in number_pairs), lang


def test_korean_examples_present(corpus):
    pairs = _all_pairs(corpus)
    korean_number = [(s, t) for s, t in pairs if t.isdigit() and s == num2words(int(t), lang="ko")]
    assert korean_number
    assert all(any("\uac00" <= c <= "\ud7a3" for c in s) for s, _ in korean_number)
    korean_full = [
        (s, t)
        for s, t in pairs
        if "-" in t and s == format_date(datetime.date.fromisoformat(t), "full", locale="ko")
    ]
    assert korean_full
    # e.g. "2024년 3월 5일 화요일" -> "2024-03-05"
    source, target = korean_full[0]
    year, month, day = (int(x) for x in target.split("-"))
    assert source.startswith(f"{year}년 {month}월 {day}일 ")


def test_known_renderings():
    assert format_date(datetime.date(2024, 3, 5), "full", locale="ko") == "2024년 3월 5일 화요일"
    assert num2words(2345, lang="ko") == "이천삼백사십오"


def test_no_tabs_newlines_or_outer_whitespace_and_no_duplicates(corpus):
    pairs = _all_pairs(corpus)
    for source, target in pairs:
        for field in (source, target):
            assert field
            assert "\t" not in field and "\n" not in field and "\r" not in field
            assert field == field.strip()
            assert len(field.splitlines()) == 1
    assert len(set(pairs)) == len(pairs)


def test_dates_and_numbers_interleaved(corpus):
    kinds = ["-" in t for _, t in corpus.train[:200]]
    assert any(kinds) and not all(kinds)
    switches = sum(a != b for a, b in zip(kinds, kinds[1:], strict=False))
    assert switches > 20


def test_custom_sizes_and_fractions():
    small = generate_default_corpus(
        seed=3, num_dates=100, num_numbers=50, valid_fraction=0.1, test_fraction=0.2
    )
    splits = small.splits()
    total = sum(len(p) for p in splits.values())
    assert total == (
        100 * generated_corpus.DATE_RENDERINGS_PER_VALUE
        + 50 * generated_corpus.NUMBER_RENDERINGS_PER_VALUE
    )
    test_values = {_value(t) for _, t in small.test}
    valid_values = {_value(t) for _, t in small.valid}
    assert len(test_values) == 20 + 10
    assert len(valid_values) == 10 + 5

    empty = generate_default_corpus(num_dates=0, num_numbers=0)
    assert empty == Corpus(train=[], valid=[], test=[])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_dates": -1},
        {"num_numbers": 10_001},
        {"valid_fraction": -0.1},
        {"test_fraction": 1.0},
        {"valid_fraction": 0.6, "test_fraction": 0.5},
    ],
)
def test_invalid_arguments(kwargs):
    with pytest.raises(ValueError):
        generate_default_corpus(**kwargs)


def test_write_corpus_round_trip(tmp_path):
    corpus = generate_default_corpus(seed=5, num_dates=300, num_numbers=200)
    out_dir = tmp_path / "nested" / "corpus"
    paths = write_corpus(corpus, out_dir)
    assert set(paths) == {"train", "valid", "test"}
    for name, pairs in corpus.splits().items():
        path = paths[name]
        assert path == out_dir / f"{name}.tsv"
        data = path.read_bytes()
        assert b"\r" not in data
        assert data.endswith(b"\n") or not pairs
        lines = data.decode("utf-8").split("\n")
        assert lines[-1] == ""
        lines = lines[:-1]
        assert len(lines) == len(pairs)
        assert [tuple(line.split("\t", 1)) for line in lines] == pairs
        assert all(line.count("\t") == 1 for line in lines)


def test_write_corpus_accepts_str_and_overwrites(tmp_path):
    first = generate_default_corpus(seed=0, num_dates=40, num_numbers=40)
    second = generate_default_corpus(seed=1, num_dates=20, num_numbers=20)
    write_corpus(first, str(tmp_path))
    paths = write_corpus(second, str(tmp_path))
    lines = paths["train"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(second.train)


def test_write_corpus_rejects_tabs(tmp_path):
    bad = Corpus(train=[("a\tb", "1")], valid=[], test=[])
    with pytest.raises(ValueError):
        write_corpus(bad, tmp_path)
