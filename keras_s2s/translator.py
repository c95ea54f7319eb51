# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The inference graph: a `tf.Module` from strings to strings and from ids to ids.

`Translator` is built from the trained layers (found by name in the training model) and
the run's tokenizer. Tokenization, the encoder, the step-wise decoding loop and
detokenization all run inside the graph, so the exported SavedModel needs nothing but
`tensorflow` and `tensorflow_text` to serve.

Signatures (docs/design.md, "Signatures"):

| function | inputs | outputs |
|---|---|---|
| `serving_default` | `text [batch]` | `translation [batch]`, `score [batch]` |
| `translate_with_options` | `text [batch]`, `max_length []`, `beam_width []`, `n_best []` | `translations [batch, n_best]`, `scores`, `ids [batch, n_best, time]`, `alignments [batch, n_best, time, source_time]` |
| `translate_ids` | `source_ids [batch, source_time]`, `max_length`, `beam_width`, `n_best` | `ids`, `scores`, `alignments` |

`max_length` must be in [1, the config's `decode.max_length`], `beam_width` in [1, 64]
and `n_best` in [1, beam_width]: out of range, the SavedModel signatures fail with an
`InvalidArgumentError` that names the option. (ONNX has no assertion op: tf2onnx drops
the checks, and the ONNX graphs clip into range instead. The keras-s2s backends check
every request before it reaches any graph.) Sources longer than
`data.max_source_length` tokens keep their first tokens (the rule used in training). Decoding is beam search with
the config's GNMT length penalty (`decode.length_penalty`); beam width 1 is exactly
greedy search. `scores` are the summed log-probabilities divided by the length penalty.
Models without attention return all-zero alignments, so that every model has the same
signatures.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.config import MAX_BEAM_WIDTH, SOS_ID, RunConfig
from keras_s2s.decoding import DecodeResult, beam_search
from keras_s2s.models import Seq2Seq
from keras_s2s.tokenizer import Tokenizer

TEXT_SPEC = tf.TensorSpec([None], tf.string, name="text")
IDS_SPEC = tf.TensorSpec([None, None], tf.int32, name="source_ids")
SCALAR = {
    name: tf.TensorSpec([], tf.int32, name=name) for name in ("max_length", "beam_width", "n_best")
}


class Translator(tf.Module):
    """Translates with a trained model, entirely inside the TensorFlow graph.

    Args:
        model: The trained training model (from `build_model` or a `.keras` file).
        tokenizer: The run's tokenizer.
        config: The run's configuration (length limits and decoding defaults).
    """

    def __init__(self, model: keras.Model, tokenizer: Tokenizer, config: RunConfig):
        super().__init__(name="translator")
        self.model = model
        self._s2s = Seq2Seq.from_model(model)
        self._tokenizer = tokenizer
        self._config = config
        self.serving_default = tf.function(
            self._serving_default, input_signature=[TEXT_SPEC], autograph=False
        )
        self.translate_with_options = tf.function(
            self._translate_with_options,
            input_signature=[
                TEXT_SPEC,
                SCALAR["max_length"],
                SCALAR["beam_width"],
                SCALAR["n_best"],
            ],
            autograph=False,
        )
        self.translate_ids = tf.function(
            self._translate_ids,
            input_signature=[
                IDS_SPEC,
                SCALAR["max_length"],
                SCALAR["beam_width"],
                SCALAR["n_best"],
            ],
            autograph=False,
        )
        self.first_step_logits = tf.function(
            self._first_step_logits, input_signature=[IDS_SPEC], autograph=False
        )

    def signatures(self) -> dict:
        """The concrete functions to export, keyed by signature name."""
        return {
            "serving_default": self.serving_default.get_concrete_function(),
            "translate_with_options": self.translate_with_options.get_concrete_function(),
            "translate_ids": self.translate_ids.get_concrete_function(),
            "first_step_logits": self.first_step_logits.get_concrete_function(),
        }

    # Graph building blocks.

    def tokenize(self, text: tf.Tensor, *, repair_utf8: bool = True) -> tf.Tensor:
        """Strings `[batch]` -> 0-padded int32 ids `[batch, source_time]`, truncated.

        Args:
            text: `tf.string` `[batch]`.
            repair_utf8: Replace invalid UTF-8 by U+FFFD first (as Python's
                `errors="replace"` does), so any bytes tokenize. The portable graph
                turns it off: tf2onnx has no converter for `UnicodeTranscode`, and ONNX
                Runtime string tensors hold valid UTF-8 already.

        NUL characters are removed first: ONNX Runtime's string ops end a string at
        NUL, so this is the one rule every backend can follow (SentencePiece's NFKC
        rules drop NUL anyway). Characters the vocabulary lacks become unk.
        """
        if repair_utf8:
            text = tf.strings.unicode_transcode(
                text, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
            )
        text = tf.strings.regex_replace(text, "\\x00", "")
        ids = self._tokenizer.tokenize_dense(text)
        return ids[:, : self._config.data.max_source_length]

    def decode(self, source_ids, max_length, beam_width, n_best) -> DecodeResult:
        """Encodes `source_ids [batch, source_time]` and runs beam search."""
        source_ids = source_ids[:, : self._config.data.max_source_length]
        # Keras RNNs fail on zero time steps (a batch of empty strings, or no strings):
        # one pad column gives the same, fully masked, result.
        missing = tf.maximum(1 - tf.shape(source_ids)[1], 0)
        source_ids = tf.pad(source_ids, [[0, 0], [0, missing]])
        cap = self._config.decode.max_length
        checks = [
            tf.debugging.assert_equal(
                (max_length >= 1) & (max_length <= cap),
                True,
                message=f"max_length must be between 1 and {cap}",
            ),
            tf.debugging.assert_equal(
                (beam_width >= 1) & (beam_width <= MAX_BEAM_WIDTH),
                True,
                message=f"beam_width must be between 1 and {MAX_BEAM_WIDTH}",
            ),
            tf.debugging.assert_equal(
                (n_best >= 1) & (n_best <= beam_width),
                True,
                message="n_best must be between 1 and beam_width",
            ),
        ]
        with tf.control_dependencies(checks):
            state = self._s2s.encode(source_ids)
        # Also clipped: the ONNX graphs keep these lines, not the assertions.
        max_length = tf.clip_by_value(tf.cast(max_length, tf.int32), 1, cap)
        beam_width = tf.clip_by_value(tf.cast(beam_width, tf.int32), 1, MAX_BEAM_WIDTH)
        return beam_search(
            self._s2s.step,
            state,
            tf.shape(source_ids)[0],
            max_length,
            beam_width,
            alpha=self._config.decode.length_penalty,
            n_best=n_best,
        )

    # Exported functions.

    def _translate_ids(self, source_ids, max_length, beam_width, n_best):
        source_ids = source_ids[:, : self._config.data.max_source_length]
        result = self.decode(source_ids, max_length, beam_width, n_best)
        ids = self._s2s.decoder.to_joint_ids(result.ids)  # a restricted decoder's ids
        alignments = result.alignments
        if alignments is None:
            shape = tf.concat([tf.shape(result.ids), tf.shape(source_ids)[1:2]], axis=0)
            alignments = tf.zeros(shape, tf.float32)
        return {"ids": ids, "scores": result.scores, "alignments": alignments}

    def _translate_with_options(self, text, max_length, beam_width, n_best):
        return self.text_to_text(text, max_length, beam_width, n_best)

    def text_to_text(self, text, max_length, beam_width, n_best, *, portable=False):
        """The body of `translate_with_options`: strings in, n-best strings out.

        Args:
            text: `tf.string` `[batch]`.
            max_length, beam_width, n_best: int32 scalars, as in `translate_ids`.
            portable: Build only ops that tf2onnx converts (for the text-to-text ONNX
                export): no UTF-8 repair. Valid UTF-8 gives the same outputs.
                (`Tokenizer.detokenize` converts in both forms.)

        Returns:
            `translations [batch, n_best]` (string), `scores [batch, n_best]`,
            `ids [batch, n_best, time]` (int32), `alignments [batch, n_best, time,
            source_time]`.
        """
        source_ids = self.tokenize(text, repair_utf8=not portable)
        # A call of the traced `translate_ids`, not a second trace of the decoding loop:
        # every signature and ONNX graph shares one trace, which halves export time.
        out = dict(self.translate_ids(source_ids, max_length, beam_width, n_best))
        flat = tf.reshape(out["ids"], [-1, tf.shape(out["ids"])[2]])
        strings = self._tokenizer.detokenize(flat)
        out["translations"] = tf.reshape(strings, tf.shape(out["ids"])[:2])
        return out

    def _serving_default(self, text):
        d = self._config.decode
        out = self.translate_with_options(
            text, tf.constant(d.max_length), tf.constant(d.beam_width), tf.constant(1)
        )
        return {"translation": out["translations"][:, 0], "score": out["scores"][:, 0]}

    def _first_step_logits(self, source_ids):
        """Logits of the first decoding step, `[batch, decoder vocab]` (for parity
        checks); with a target vocabulary, column `i` is the piece `target_ids[i]`."""
        states = self._s2s.encode(source_ids[:, : self._config.data.max_source_length])
        sos = tf.fill([tf.shape(source_ids)[0]], tf.constant(SOS_ID, tf.int32))
        logits = self._s2s.step(sos, states)[0]
        return {"logits": logits}
