# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Builds the backend-parity matrix: tiny models trained, exported and run in every backend.

`conftest.py` starts two of these workers, at low priority, as soon as the parity tests
are collected, so the matrix builds on whatever CPU the rest of the test session leaves
idle (tracing and tf2onnx are mostly single-threaded):

    python tests/parity_models.py OUT_DIR

Each worker claims the next unbuilt model (an atomic `mkdir`) until none is left, and
writes `OUT_DIR/NAME.json`: for every backend and decoding setting, the ids, strings and
scores of every parity input; a failure is written to `OUT_DIR/NAME.error`.
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
    "gru-none-1": ("gru", "none", 1, False, False),
    "gru-none-2": ("gru", "none", 2, True, False),
    "gru-bahdanau-1": ("gru", "bahdanau", 1, False, False),
    "gru-bahdanau-2": ("gru", "bahdanau", 2, True, False),
    "gru-luong-1": ("gru", "luong", 1, True, True),
    "gru-luong-2": ("gru", "luong", 2, False, False),
    "lstm-none-1": ("lstm", "none", 1, False, False),
    "lstm-none-2": ("lstm", "none", 2, True, False),
    "lstm-bahdanau-1": ("lstm", "bahdanau", 1, True, False),
    "lstm-bahdanau-2": ("lstm", "bahdanau", 2, False, False),
    "lstm-luong-1": ("lstm", "luong", 1, False, True),
    "lstm-luong-2": ("lstm", "luong", 2, True, False),
}

# Models whose decoder is restricted to the training targets' pieces
# (ModelConfig.target_vocabulary): ids map back to joint ids inside every graph.
TARGET_VOCABULARY = {"gru-bahdanau-2", "gru-luong-2", "lstm-none-1", "lstm-luong-2"}

SETTINGS = ((1, 1), (3, 2))  # (beam, n_best)
DEFAULT_BEAM = 3
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


def assert_same_nbest(want, got, *, tie: float = 1e-4, context=""):
    """Asserts two n-best lists (dicts or objects with `ids` and `score`) are the same.

    Two runtimes cannot order hypotheses whose scores are tied to within float
    rounding (a degenerate model repeating "-09-09-09" scores permutations of the
    same tokens within 1e-6): at the first position where the lists differ, the two
    scores must be such a near-tie (`tie`), and the lists are compared up to there.
    Everything before it must be identical.
    """

    def field(h, name):
        return h[name] if isinstance(h, dict) else getattr(h, name)

    assert len(want) == len(got), context
    for i, (w, g) in enumerate(zip(want, got, strict=True)):
        if field(w, "ids") != field(g, "ids"):
            gap = abs(field(w, "score") - field(g, "score"))
            assert gap < tie, (context, i, field(w, "ids"), field(g, "ids"), gap)
            return False
        assert abs(field(w, "score") - field(g, "score")) < tie, (context, i)
    return True


def corpus(code: bool):
    """The tiny generated corpus; `code` indents every target by four spaces."""
    from keras_s2s.generated_corpus import generate_default_corpus

    c = generate_default_corpus(seed=0, num_dates=300, num_numbers=300)
    if not code:
        return c.train, c.valid, [s for s, _ in c.test]
    indent = [[(s, "    " + t) for s, t in split] for split in (c.train, c.valid)]
    return indent[0], indent[1], [s for s, _ in c.test]


def inputs(test_sources) -> list[str]:
    """The parity inputs: 24 held-out sources, then the special strings."""
    return list(test_sources[:24]) + SPECIAL_INPUTS


def train_lean(config, train_pairs, run_dir: str) -> list[int] | None:
    """Writes a run dir the way `training.train` does, with one plain `fit`; returns
    the decoder's target vocabulary (None when it is not restricted).

    The matrix tests the backends, not the training loop: this skips per-epoch
    validation, resume checkpoints and logs, which would triple its cost.
    """
    import keras

    from keras_s2s.input_pipeline import (
        encode_pairs,
        make_dataset,
        target_vocabulary,
        to_target_space,
    )
    from keras_s2s.integrity import write_run_checksums
    from keras_s2s.models import build_model
    from keras_s2s.tokenizer import Tokenizer
    from keras_s2s.training import (
        CONFIG_FILENAME,
        KERAS_FILENAME,
        RUN_FILES,
        compile_model,
        save_model,
    )

    os.makedirs(run_dir)
    config.save(os.path.join(run_dir, CONFIG_FILENAME))
    texts = [s for s, _ in train_pairs] + [t for _, t in train_pairs]
    tokenizer = Tokenizer.train(texts, config.tokenizer)
    tokenizer.save(run_dir)
    keras.utils.set_random_seed(config.train.seed)
    encoded = encode_pairs(train_pairs, tokenizer, config.data)
    target_ids = None
    if config.model.target_vocabulary:
        target_ids = target_vocabulary(encoded)
        encoded = to_target_space(encoded, target_ids)
    model = compile_model(
        build_model(config.model, tokenizer.vocab_size, target_ids=target_ids), config
    )
    data = make_dataset(encoded, config.train)
    model.fit(data.shuffle(64, seed=config.train.seed), epochs=config.train.epochs, verbose=0)
    save_model(model, os.path.join(run_dir, KERAS_FILENAME))
    write_run_checksums(run_dir, RUN_FILES)
    return target_ids


def build(name: str, out_dir: str) -> dict:
    """Trains, exports and translates one matrix model; returns its results."""
    from keras_s2s.backends import load
    from keras_s2s.config import RunConfig
    from keras_s2s.exporting import FORMATS, export

    rnn, attention, layers, bidirectional, code = MATRIX[name]
    config = RunConfig().override(
        rnn=rnn,
        attention=attention,
        encoder_layers=layers,
        decoder_layers=layers,
        bidirectional=bidirectional,
        vocab_size=100,
        embedding_dim=32,
        units=64,
        dropout=0.0,
        batch_size=32,
        epochs=4,
        learning_rate=1e-2,
        max_source_length=24,
        max_target_length=20,
        normalization="identity" if code else "nmt_nfkc",
        target_vocabulary=name in TARGET_VOCABULARY,
        beam_width=DEFAULT_BEAM,  # the exported default, which a call without beam= uses
        seed=1,
    )
    train_pairs, _, test_sources = corpus(code)
    base = os.path.join(out_dir, name)
    started = time.perf_counter()
    target_ids = train_lean(config, train_pairs, os.path.join(base, "run"))
    trained = time.perf_counter()
    version = export(os.path.join(base, "run"), os.path.join(base, "export"), formats=FORMATS)
    exported = time.perf_counter()
    texts = inputs(test_sources)
    results = {
        "name": name,
        "code": code,
        "target_vocab_size": len(target_ids) if target_ids else None,
        "inputs": texts,
        "outputs": {},
    }
    for backend in BACKENDS:
        model = load(os.path.join(base, "run") if backend == "keras" else version, backend)
        for beam, n_best in SETTINGS:
            rows = model.translate_nbest(texts, beam=beam, n_best=n_best)
            results["outputs"][f"{backend} {beam},{n_best}"] = [
                [{"text": h.text, "ids": h.ids, "score": h.score} for h in row] for row in rows
            ]
        rows = model.translate_nbest(texts)  # no options: the model's own defaults
        results["outputs"][f"{backend} default"] = [
            [{"text": h.text, "ids": h.ids, "score": h.score} for h in row] for row in rows
        ]
    results["seconds"] = {
        "train": trained - started,
        "export": exported - trained,
        "translate": time.perf_counter() - exported,
    }
    return results


def main(argv: list[str]) -> int:
    out_dir = argv[0]
    import traceback

    import tensorflow as tf

    # Two workers share two cores with the test session: one thread each.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    for name in MATRIX:
        try:
            os.mkdir(os.path.join(out_dir, f"{name}.claim"))
        except FileExistsError:
            continue  # the other worker has it
        try:
            results = build(name, out_dir)
        except Exception:
            with open(os.path.join(out_dir, f"{name}.error"), "w", encoding="utf-8") as f:
                f.write(traceback.format_exc())
            continue
        tmp = os.path.join(out_dir, f"{name}.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(results, f)
        os.replace(tmp, os.path.join(out_dir, f"{name}.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
