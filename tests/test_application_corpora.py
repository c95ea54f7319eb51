# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import ast
import sys
import types

import pytest

from keras_s2s import application_corpora
from keras_s2s.application_corpora import MissingDataError, build_corpus, split_pairs


def test_split_pairs_dedupes_by_source_and_is_seeded_and_disjoint():
    pairs = [(f"s {i}", f"t {i}") for i in range(100)] + [("s 3", "other"), ("", "x")]
    corpus = split_pairs(pairs, seed=7)
    assert (len(corpus.train), len(corpus.valid), len(corpus.test)) == (90, 5, 5)
    sources = [s for split in corpus.splits().values() for s, _ in split]
    assert sorted(sources) == sorted(f"s {i}" for i in range(100))
    assert dict(corpus.train + corpus.valid + corpus.test)["s 3"] == "t 3"  # first wins
    assert split_pairs(pairs, seed=7) == corpus
    assert split_pairs(pairs, seed=8) != corpus


def test_split_pairs_makes_fields_one_line():
    corpus = split_pairs([("a\n  b\tc", "x\ny")] * 3, seed=0, valid_fraction=0, test_fraction=0)
    assert corpus.valid == [("a b c", "x y")]  # at least one pair per split


def test_cldr_names_translate_names_in_six_languages_to_english():
    pairs = dict(application_corpora.cldr_name_pairs())
    assert pairs["Deutschland"] == pairs["Allemagne"] == pairs["Alemania"] == "Germany"
    assert pairs["Januar"] == "January"
    assert pairs["Japanisch"] == "Japanese"
    assert pairs["Duitsland"] == "Germany" and pairs["Germania"] == "Germany"


def test_stdlib_signatures_are_def_lines_that_parse():
    pairs = application_corpora.stdlib_signature_pairs()
    assert len(pairs) > 1000
    assert (
        "Returns the final component of a pathname",
        "def basename(p)",
    ) in pairs
    for _, target in pairs[:200]:
        ast.parse(target + ": pass")


def test_stdlib_summaries_pair_a_body_with_its_summary():
    pairs = application_corpora.stdlib_summary_pairs()
    assert len(pairs) > 1000
    for body, summary in pairs:
        assert len(summary.split()) <= application_corpora.MAX_SUMMARY_WORDS
        assert len(body) > len(summary) and "\n\n" not in summary


def test_chatterbot_pairs_follow_the_conversation(tmp_path, monkeypatch):
    yaml = pytest.importorskip("yaml")
    folder = tmp_path / "english"
    folder.mkdir()
    (folder / "a.yml").write_text(
        yaml.safe_dump({"conversations": [["Hello", "Hi", "How are you?"], ["Bye", "See you"]]})
    )
    corpus = types.ModuleType("chatterbot_corpus.corpus")
    corpus.DATA_DIRECTORY = str(tmp_path)
    monkeypatch.setitem(sys.modules, "chatterbot_corpus", types.ModuleType("chatterbot_corpus"))
    monkeypatch.setitem(sys.modules, "chatterbot_corpus.corpus", corpus)
    assert application_corpora.chatterbot_pairs() == [
        ("Hello", "Hi"),
        ("Hi", "How are you?"),
        ("Bye", "See you"),
    ]


def test_chatterbot_without_its_package_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "chatterbot_corpus", None)
    with pytest.raises(MissingDataError, match=r"pip install 'keras-s2s\[recipes\]'"):
        build_corpus("chatterbot")


def test_build_corpus_names():
    assert build_corpus("default").train[0] == build_corpus("default").train[0]
    with pytest.raises(ValueError, match="unknown corpus 'nope' .*cldr-names"):
        build_corpus("nope")
