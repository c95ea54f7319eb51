# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Text-pair corpora for the applications beyond the default job, built from installed data.

Every task is a text pair, so each application needs only a corpus. These are built on
the machine, from data that installs with pip, and need no download at run time:

| name | application | source -> target | data |
|---|---|---|---|
| `cldr-names` | translation | a name in German, French, Spanish, Italian, Dutch or Portuguese -> its English name | CLDR via `babel` |
| `stdlib-signatures` | code generation | a function's docstring summary -> `def name(args)` | Python's standard library |
| `stdlib-summaries` | summarisation | a docstring's body -> its summary (first paragraph) | Python's standard library |
| `chatterbot` | dialogue | an utterance -> the reply that follows | `chatterbot-corpus` (BSD) |

Splits are disjoint by source text and seeded, so a corpus is the same on every run of
the same library versions (the standard-library corpora depend on the Python version).
`keras-s2s corpus --name NAME --out DIR` writes one as `train.tsv`, `valid.tsv`,
`test.tsv`.
"""

from __future__ import annotations

import ast
import os
import random
import re
import sysconfig
from collections.abc import Callable, Iterable

from keras_s2s.generated_corpus import Corpus, generate_default_corpus

_SPACE = re.compile(r"\s+")
# Standard-library folders that are tests, demos or third-party-style code rather than
# documented API.
_SKIPPED_DIRS = {"test", "tests", "idlelib", "lib2to3", "turtledemo", "site-packages", "ensurepip"}
CLDR_SOURCE_LOCALES = ("de", "fr", "es", "it", "nl", "pt")
CLDR_TARGET_LOCALE = "en"


class MissingDataError(RuntimeError):
    """The package that holds a corpus's data is not installed."""


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def split_pairs(
    pairs: Iterable[tuple[str, str]], seed: int, valid_fraction=0.05, test_fraction=0.05
) -> Corpus:
    """Deduplicates by source (first target wins), shuffles with `seed`, and splits.

    Args:
        pairs: `(source, target)` pairs; blank fields are dropped.
        seed: Seed of a private `random.Random`.
        valid_fraction, test_fraction: Shares of the distinct sources.
    """
    unique: dict[str, str] = {}
    for source, target in pairs:
        source, target = _one_line(source), _one_line(target)
        if source and target:
            unique.setdefault(source, target)
    items = sorted(unique.items())
    random.Random(seed).shuffle(items)
    n_valid = max(1, round(len(items) * valid_fraction))
    n_test = max(1, round(len(items) * test_fraction))
    return Corpus(
        train=items[n_valid + n_test :],
        valid=items[:n_valid],
        test=items[n_valid : n_valid + n_test],
    )


def cldr_name_pairs() -> list[tuple[str, str]]:
    """Names in six languages -> their English names, from CLDR (`babel`, already a
    dependency): languages, territories, scripts, currencies, months and weekdays."""
    from babel import Locale

    target = Locale.parse(CLDR_TARGET_LOCALE)
    pairs = []
    for code in CLDR_SOURCE_LOCALES:
        source = Locale.parse(code)
        for table in ("languages", "territories", "scripts", "currencies"):
            names = getattr(target, table)
            pairs += [(v, names[k]) for k, v in getattr(source, table).items() if k in names]
        for table in ("months", "days"):
            for width in ("wide", "abbreviated"):
                names = getattr(target, table)["format"][width]
                pairs += [(v, names[k]) for k, v in getattr(source, table)["format"][width].items()]
    return pairs


_DOCUMENTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)


def _stdlib_docstrings() -> Iterable[tuple[ast.AST, str]]:
    """Public documented modules, classes and functions of the standard library's
    Python files, in a fixed order, with their docstrings (parsed with `ast`: nothing is
    imported)."""
    root = sysconfig.get_paths()["stdlib"]
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("_"))
        for name in sorted(files):
            if not name.endswith(".py") or name.startswith("_"):
                continue
            try:
                with open(os.path.join(folder, name), "rb") as f:
                    tree = ast.parse(f.read())
            except (SyntaxError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, _DOCUMENTED) and not getattr(node, "name", "").startswith("_"):
                    doc = ast.get_docstring(node)
                    if doc:
                        yield node, doc


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"def {node.name}({ast.unparse(node.args)}){returns}"


def stdlib_signature_pairs() -> list[tuple[str, str]]:
    """A function's docstring summary (first paragraph) -> its `def` line (code
    generation)."""
    return [
        (doc.split("\n\n")[0], _signature(node))
        for node, doc in _stdlib_docstrings()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


# Longer first paragraphs are descriptions rather than summaries.
MAX_SUMMARY_WORDS = 30


def stdlib_summary_pairs() -> list[tuple[str, str]]:
    """A docstring's body -> its summary, the first paragraph (summarisation).

    From the modules, classes and functions whose docstring has a summary of at most
    `MAX_SUMMARY_WORDS` words and a body longer than it.
    """
    pairs = []
    for _, doc in _stdlib_docstrings():
        first, _, body = doc.partition("\n\n")
        if len(first.split()) <= MAX_SUMMARY_WORDS and len(body) > len(first):
            pairs.append((body, first))
    return pairs


def chatterbot_pairs(language: str = "english") -> list[tuple[str, str]]:
    """Each utterance -> the reply that follows it, from `chatterbot-corpus`'s
    conversations (install `chatterbot-corpus` and `pyyaml`: `pip install
    keras-s2s[recipes]`)."""
    try:
        import yaml
        from chatterbot_corpus.corpus import DATA_DIRECTORY
    except ImportError as e:
        raise MissingDataError(
            f"the chatterbot corpus needs the packages chatterbot-corpus and pyyaml "
            f"({e.name} is missing): pip install 'keras-s2s[recipes]'"
        ) from None
    folder = os.path.join(DATA_DIRECTORY, language)
    pairs = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        for turns in data.get("conversations") or []:
            turns = [str(t) for t in turns]
            pairs += zip(turns, turns[1:], strict=False)
    return pairs


PAIRS: dict[str, Callable[[], list[tuple[str, str]]]] = {
    "cldr-names": cldr_name_pairs,
    "stdlib-signatures": stdlib_signature_pairs,
    "stdlib-summaries": stdlib_summary_pairs,
    "chatterbot": chatterbot_pairs,
}
NAMES = ("default", *PAIRS)


def build_corpus(name: str, seed: int = 0) -> Corpus:
    """The corpus called `name` (`default` is the embedded dates-and-numbers corpus).

    Raises:
        ValueError: for an unknown name.
        MissingDataError: if the data's package is not installed.
    """
    if name == "default":
        return generate_default_corpus(seed=seed)
    if name not in PAIRS:
        raise ValueError(f"unknown corpus {name!r} (expected one of: {', '.join(NAMES)})")
    return split_pairs(PAIRS[name](), seed)
