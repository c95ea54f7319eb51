# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import pytest
import sacrebleu

from keras_s2s.evaluation import evaluate, score


def test_score_uses_sacrebleu_cased_and_lowercased():
    hyps = ["The cat sat on the mat.", "a dog ran"]
    refs = ["the cat sat on the mat.", "A dog ran away"]
    result = score(hyps, refs)
    assert result["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert result["bleu_lowercase"] == pytest.approx(
        sacrebleu.corpus_bleu(hyps, [refs], lowercase=True).score
    )
    assert result["bleu_lowercase"] > result["bleu"]
    assert result["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert result["exact_match"] == 0.0 and result["sentences"] == 2
    assert score(refs, refs)["bleu"] == pytest.approx(100.0)
    assert score(refs, refs)["exact_match"] == 1.0


def test_score_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        score(["a", "b"], ["a"])


def test_evaluate_translates_then_scores():
    calls = []

    class Upper:
        def translate(self, texts, beam=1, max_length=None):
            calls.append((beam, max_length))
            return [t.upper() for t in texts]

    result = evaluate(Upper(), ["ab", "cd"], ["AB", "xx"], beam=3, max_length=7)
    assert result["exact_match"] == 0.5 and result["seconds"] >= 0.0
    assert calls == [(3, 7)]
