# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""One loaded backend shared by many threads answers each request as it does alone.

A server shares one loaded model between its request threads; `bench/load.py` measures
that under load, and this checks the property it depends on: concurrent calls give
exactly the outputs of sequential ones, request by request.
"""

import concurrent.futures
import threading

import pytest

import keras_s2s

THREADS = 8
ROUNDS = 3  # each request is sent this many times, from whichever threads are free


def _requests(sentences):
    """Requests of different sizes and beams, so that calls running together differ."""
    sizes = (1, 3, 8, 2, 5)
    starts = range(0, len(sentences) - max(sizes), 7)
    return [
        (sentences[start : start + sizes[k % len(sizes)]], 1 + 2 * (k % 2))
        for k, start in enumerate(starts)
    ]


@pytest.mark.parametrize("backend", ["keras", "savedmodel", "onnx"])
def test_threads_sharing_one_backend_get_the_sequential_outputs(
    exported, parity_sentences, backend
):
    run_dir, _, version_dir = exported
    model = keras_s2s.load(run_dir if backend == "keras" else version_dir, backend)
    requests = _requests(parity_sentences)

    def answer(k):
        texts, beam = requests[k % len(requests)]
        return [(h.text, h.ids) for h in model.translate_detailed(texts, beam=beam)]

    expected = [answer(k) for k in range(len(requests))]
    # Distinct answers, so that an answer given to the wrong request would be caught.
    assert len({repr(e) for e in expected}) == len(expected)

    start = threading.Barrier(THREADS)

    def concurrent_answer(k):
        if k < THREADS:  # the first calls of all threads start together
            start.wait(timeout=60)
        return answer(k)

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(concurrent_answer, range(ROUNDS * len(requests))))
    for k, outputs in enumerate(got):
        assert outputs == expected[k % len(requests)], f"request {k % len(requests)}, call {k}"
