# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Corpus-level quality with sacrebleu: BLEU (cased and lowercased) and chrF."""

from __future__ import annotations

import time
from collections.abc import Sequence


def score(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """BLEU, lowercased BLEU, chrF and exact match of hypotheses against one reference each.

    Args:
        hypotheses: Detokenized system outputs.
        references: One reference per hypothesis.

    Returns:
        `{"bleu", "bleu_lowercase", "chrf", "exact_match", "sentences"}`.
    """
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    refs = [list(references)]
    return {
        "bleu": sacrebleu.corpus_bleu(hypotheses, refs).score,
        "bleu_lowercase": sacrebleu.corpus_bleu(hypotheses, refs, lowercase=True).score,
        "chrf": sacrebleu.corpus_chrf(hypotheses, refs).score,
        "exact_match": sum(h == r for h, r in zip(hypotheses, references, strict=True))
        / max(len(references), 1),
        "sentences": len(references),
    }


def evaluate(
    model,
    sources: Sequence[str],
    references: Sequence[str],
    *,
    beam: int | None = None,
    max_length: int | None = None,
) -> dict:
    """Translates `sources` with a loaded model and scores the output.

    Args:
        model: A loaded backend (`keras_s2s.load`).
        sources: Source sentences.
        references: One reference per source.
        beam: Beam width (default: the model's own `decode.beam_width`).
        max_length: Most tokens per translation (default: the model's limit).

    Returns:
        The `score` dict plus `seconds`, the translation wall time.
    """
    start = time.perf_counter()
    hypotheses = model.translate(list(sources), beam=beam, max_length=max_length)
    seconds = time.perf_counter() - start
    return {**score(hypotheses, references), "seconds": seconds}
