# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The embedded default corpus: written-out dates and numbers to canonical form.

The README's main job trains a small seq2seq model end to end, and it should run
without downloading anything. This module synthesises a parallel corpus for that
job, deterministically, from two libraries that are already dependencies:

* **Dates.** A date between 1950-01-01 and 2049-12-31 is written out with
  :func:`babel.dates.format_date` in one of several CLDR locales
  (:data:`DATE_LOCALES`) and formats (:data:`DATE_FORMATS`); the target is the
  ISO 8601 form ``YYYY-MM-DD``. For example ``"2024년 3월 5일 화요일"`` (Korean,
  ``full``) maps to ``"2024-03-05"``.
* **Numbers.** An integer in ``0..9999`` is written out in words with
  :func:`num2words.num2words` in one of several languages
  (:data:`NUMBER_LANGUAGES`); the target is its decimal digits. For example
  ``"이천삼백사십오"`` (Korean) maps to ``"2345"``.

Each underlying value (a date or a number) is rendered in several
locale/format (or language) combinations chosen by a seeded RNG, so the model
sees the same value in different surface forms.

The train/valid/test split is **disjoint by underlying value**: all renderings of
a value go to the same split, so no date or number in the test set was ever seen
(in any language) during training. Exact-match accuracy on the test split
therefore measures generalisation rather than memorisation.

The corpus is small (about 24,000 pairs with the defaults), learnable by a small
RNN in a few minutes, and generated in well under a second. Generation is pure
Python and uses only a private :class:`random.Random` instance, so the same seed
always yields the identical corpus, in the same order.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pathlib
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from babel.dates import format_date
from num2words import num2words

__all__ = [
    "DATE_FORMATS",
    "DATE_LOCALES",
    "DATE_RENDERINGS_PER_VALUE",
    "MAX_DATE",
    "MAX_NUMBER",
    "MIN_DATE",
    "NUMBER_LANGUAGES",
    "NUMBER_RENDERINGS_PER_VALUE",
    "SPLIT_NAMES",
    "Corpus",
    "generate_default_corpus",
    "write_corpus",
]

DATE_LOCALES: tuple[str, ...] = ("ko", "en", "de", "fr", "es", "ja")
"""CLDR locales in which dates are written out."""

DATE_FORMATS: tuple[str, ...] = ("full", "long", "medium")
"""CLDR date format lengths used with :func:`babel.dates.format_date`."""

NUMBER_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "ko")
"""Languages (``num2words`` codes) in which numbers are written out."""

MIN_DATE = datetime.date(1950, 1, 1)
"""First date that can occur in the corpus."""

MAX_DATE = datetime.date(2049, 12, 31)
"""Last date that can occur in the corpus."""

MAX_NUMBER = 9999
"""Largest number that can occur in the corpus (the smallest is 0)."""

DATE_RENDERINGS_PER_VALUE = 3
"""Distinct renderings (locale/format combinations) generated per date."""

NUMBER_RENDERINGS_PER_VALUE = 2
"""Distinct renderings (languages) generated per number."""

SPLIT_NAMES: tuple[str, ...] = ("train", "valid", "test")
"""Split names, in the order used by :meth:`Corpus.splits` and :func:`write_corpus`."""

_CONTROL_WHITESPACE = re.compile(r"[\t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")

Pair = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class Corpus:
    """A parallel corpus split into train, valid and test.

    Attributes:
        train: Training ``(source, target)`` pairs.
        valid: Validation ``(source, target)`` pairs.
        test: Test ``(source, target)`` pairs.
    """

    train: list[tuple[str, str]]
    valid: list[tuple[str, str]]
    test: list[tuple[str, str]]

    def splits(self) -> dict[str, list[tuple[str, str]]]:
        """Returns the splits by name.

        Returns:
            A dict ``{"train": ..., "valid": ..., "test": ...}`` (in that order)
            whose values are the split lists themselves (not copies).
        """
        return {"train": self.train, "valid": self.valid, "test": self.test}


def _clean(text: str) -> str:
    """Makes ``text`` safe for a TSV field: no tabs/newlines, no outer whitespace.

    Babel's narrow no-break spaces (U+202F) and no-break spaces (U+00A0) are kept.
    """
    return _CONTROL_WHITESPACE.sub(" ", text).strip()


def _split_values(
    values: list, rng: random.Random, valid_fraction: float, test_fraction: float
) -> tuple[list, list, list]:
    """Shuffles ``values`` and cuts them into train/valid/test value lists."""
    values = list(values)
    rng.shuffle(values)
    n_test = round(len(values) * test_fraction)
    n_valid = round(len(values) * valid_fraction)
    test = values[:n_test]
    valid = values[n_test : n_test + n_valid]
    train = values[n_test + n_valid :]
    return train, valid, test


def _render(
    value: Any,
    target: str,
    options: Sequence,
    render: Callable[[Any, Any], str],
    k: int,
    rng: random.Random,
) -> list[Pair]:
    """Renders ``value`` with up to ``k`` randomly chosen options, distinct sources.

    Options are tried in a random order until ``k`` distinct source strings are
    found (some options render identically, e.g. French ``long`` and ``medium``
    dates), or the options are exhausted.
    """
    pairs: list[Pair] = []
    seen: set[str] = set()
    for option in rng.sample(list(options), len(options)):
        source = _clean(render(value, option))
        if source and source not in seen:
            seen.add(source)
            pairs.append((source, target))
            if len(pairs) == k:
                break
    return pairs


def _render_date(date: datetime.date, option: tuple[str, str]) -> str:
    locale, fmt = option
    return format_date(date, fmt, locale=locale)


def _render_number(number: int, lang: str) -> str:
    return num2words(number, lang=lang)


def generate_default_corpus(
    seed: int = 0,
    num_dates: int = 4800,
    num_numbers: int = 4800,
    valid_fraction: float = 0.05,
    test_fraction: float = 0.05,
) -> Corpus:
    """Generates the embedded dates-and-numbers corpus deterministically.

    ``num_dates`` distinct dates (uniform in :data:`MIN_DATE`..:data:`MAX_DATE`) and
    ``num_numbers`` distinct integers (uniform in ``0..MAX_NUMBER``) are drawn.
    The values of each kind are split into train/valid/test *before* rendering,
    so a value never appears in two splits. Each date is then rendered in
    :data:`DATE_RENDERINGS_PER_VALUE` distinct locale/format combinations and each
    number in :data:`NUMBER_RENDERINGS_PER_VALUE` distinct languages, chosen at
    random. Identical ``(source, target)`` pairs are never produced twice. Each
    split is finally shuffled, so dates and numbers are interleaved.

    With the defaults this yields 14,400 date pairs and 9,600 number pairs
    (24,000 in total), split 21,600 / 1,200 / 1,200.

    Args:
        seed: Seed of the private :class:`random.Random` used for everything; the
            global random state is neither used nor modified.
        num_dates: Number of distinct dates (underlying values, not pairs).
        num_numbers: Number of distinct integers (underlying values, not pairs);
            at most ``MAX_NUMBER + 1``.
        valid_fraction: Fraction of the values of each kind assigned to valid.
        test_fraction: Fraction of the values of each kind assigned to test.

    Returns:
        The :class:`Corpus`. Sources are written-out dates/numbers, targets are
        ``YYYY-MM-DD`` dates or decimal digit strings.

    Raises:
        ValueError: If a count is negative or too large, or the fractions are
            not in ``[0, 1)`` with ``valid_fraction + test_fraction < 1``.
    """
    num_days = (MAX_DATE - MIN_DATE).days + 1
    if not 0 <= num_dates <= num_days:
        raise ValueError(f"num_dates must be in [0, {num_days}], got {num_dates}")
    if not 0 <= num_numbers <= MAX_NUMBER + 1:
        raise ValueError(f"num_numbers must be in [0, {MAX_NUMBER + 1}], got {num_numbers}")
    for name, fraction in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= fraction < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {fraction}")
    if valid_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"valid_fraction + test_fraction must be < 1, got {valid_fraction} + {test_fraction}"
        )

    rng = random.Random(seed)
    dates = [MIN_DATE + datetime.timedelta(days=d) for d in rng.sample(range(num_days), num_dates)]
    numbers = rng.sample(range(MAX_NUMBER + 1), num_numbers)
    date_splits = _split_values(dates, rng, valid_fraction, test_fraction)
    number_splits = _split_values(numbers, rng, valid_fraction, test_fraction)

    date_options = [(locale, fmt) for locale in DATE_LOCALES for fmt in DATE_FORMATS]
    split_pairs: list[list[Pair]] = []
    for split_dates, split_numbers in zip(date_splits, number_splits, strict=True):
        pairs: list[Pair] = []
        for date in split_dates:
            pairs += _render(
                date,
                date.isoformat(),
                date_options,
                _render_date,
                DATE_RENDERINGS_PER_VALUE,
                rng,
            )
        for number in split_numbers:
            pairs += _render(
                number,
                str(number),
                NUMBER_LANGUAGES,
                _render_number,
                NUMBER_RENDERINGS_PER_VALUE,
                rng,
            )
        rng.shuffle(pairs)
        split_pairs.append(pairs)
    train, valid, test = split_pairs
    return Corpus(train=train, valid=valid, test=test)


def write_corpus(corpus: Corpus, out_dir: str | os.PathLike) -> dict[str, pathlib.Path]:
    """Writes each split of ``corpus`` as a TSV file.

    Files are ``train.tsv``, ``valid.tsv`` and ``test.tsv`` in ``out_dir``, one
    ``source<TAB>target`` pair per line, UTF-8, ``"\\n"`` line endings, no header.
    Existing files are overwritten.

    Args:
        corpus: The corpus to write.
        out_dir: Output directory; created (with parents) if missing.

    Returns:
        The written file paths by split name (``"train"``, ``"valid"``, ``"test"``).

    Raises:
        ValueError: If a source or target contains a tab, newline or carriage
            return, which would corrupt the TSV.
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, pathlib.Path] = {}
    for name, pairs in corpus.splits().items():
        lines = []
        for source, target in pairs:
            for field in (source, target):
                if any(c in field for c in "\t\n\r"):
                    raise ValueError(f"{name}: field contains a tab or newline: {field!r}")
            lines.append(f"{source}\t{target}\n")
        path = out / f"{name}.tsv"
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(lines)
        paths[name] = path
    return paths
