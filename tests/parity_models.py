# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Builds the backend-parity matrix: tiny models trained, exported and run in every backend.

Run by `test_parity_matrix.py` as two worker processes (the machine has two cores and
training, tracing and tf2onnx are mostly single-threaded), each handling half of the
matrix:

    python tests/parity_models.py OUT_DIR NAME [NAME ...]

For each model it writes `OUT_DIR/NAME.json`: for every backend and decoding setting,
the ids, strings and scores of every parity input.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# name -> (rnn, attention, layers, bidirectional, code). "code" models use identity
# normalization and targets indented by four spaces, so their outputs start with
# whitespace that every backend must keep.
MATRIX = {
    "gru-none-1": ("gru", "none", 1, True, False),
    "gru-none-2": ("gru", "none", 2, False, True),
    "gru-bahdanau-1": ("gru", "bahdanau", 1, False, False),
    "gru-bahdanau-2": ("gru", "bahdanau", 2, True, False),
    "gru-luong-1": ("gru", "luong", 1, True, False),
    "gru-luong-2": ("gru", "luong", 2, False, False),
    "lstm-none-1": ("lstm", "none", 1, False, False),
    "lstm-none-2": ("lstm", "none", 2, True, False),
    "lstm-bahdanau-1": ("lstm", "bahdanau", 1, True, False),
    "lstm-bahdanau-2": ("lstm", "bahdanau", 2, False, True),
    "lstm-luong-1": ("lstm", "luong", 1, False, False),
    "lstm-luong-2": ("lstm", "luong", 2, True, False),
}

SETTINGS = ((1, 1), (3, 2))  # (beam, n_best)
BACKENDS = ("keras", "savedmodel", "onnx", "onnx-text")

# Whitespace at both ends, tabs, newlines, NUL, empty and whitespace-only strings.
SPECIAL_INPUTS = [
    "",
    " ",
    "   \t ",
    "\n",
    "\t\n\t",
    "  May 7, 1985",
    "May 7, 1985   ",
    "\tMay\t7,\t1985\t",
    "May\n7, 1985",
    "May\x00 7, 1985",
    "\x00",
    "seventy\u00a0two",
]


def corpus(code: bool):
    """The tiny generated corpus; `code` indents every target by four spaces."""
    from keras_s2s.corpora import generate_default_corpus

    c = generate_default_corpus(seed=0, num_dates=300, num_numbers=300)
    if not code:
        return c.train, c.valid, [s for s, _ in c.test]
    indent = [[(s, "    " + t) for s, t in split] for split in (c.train, c.valid)]
    return indent[0], indent[1], [s for s, _ in c.test]


def inputs(test_sources) -> list[str]:
    """The parity inputs: 24 held-out sources, then the special strings."""
    return list(test_sources[:24]) + SPECIAL_INPUTS


def build(name: str, out_dir: str) -> dict:
    """Trains, exports and translates one matrix model; returns its results."""
    from keras_s2s.backends import load
    from keras_s2s.config import RunConfig
    from keras_s2s.exporting import FORMATS, export
    from keras_s2s.training import train

    rnn, attention, layers, bidirectional, code = MATRIX[name]
    config = RunConfig().override(
        rnn=rnn,
        attention=attention,
        encoder_layers=layers,
        decoder_layers=layers,
        bidirectional=bidirectional,
        vocab_size=100,
        embedding_dim=16,
        units=32,
        dropout=0.0,
        batch_size=32,
        epochs=3,
        learning_rate=1e-2,
        max_source_length=24,
        max_target_length=20,
        normalization="identity" if code else "nmt_nfkc",
        seed=1,
    )
    train_pairs, valid_pairs, test_sources = corpus(code)
    base = os.path.join(out_dir, name)
    started = time.perf_counter()
    train(config, train_pairs, valid_pairs, os.path.join(base, "run"), verbose=0)
    trained = time.perf_counter()
    version = export(os.path.join(base, "run"), os.path.join(base, "export"), formats=FORMATS)
    exported = time.perf_counter()
    texts = inputs(test_sources)
    results = {"name": name, "code": code, "inputs": texts, "outputs": {}}
    for backend in BACKENDS:
        model = load(os.path.join(base, "run") if backend == "keras" else version, backend)
        for beam, n_best in SETTINGS:
            rows = model.translate_nbest(texts, beam=beam, n_best=n_best)
            results["outputs"][f"{backend} {beam},{n_best}"] = [
                [{"text": h.text, "ids": h.ids, "score": h.score} for h in row] for row in rows
            ]
    results["seconds"] = {
        "train": trained - started,
        "export": exported - trained,
        "translate": time.perf_counter() - exported,
    }
    return results


def main(argv: list[str]) -> int:
    out_dir, names = argv[0], argv[1:]
    import tensorflow as tf

    # Two workers share two cores: one thread each.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    for name in names:
        results = build(name, out_dir)
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump(results, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
