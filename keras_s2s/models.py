# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""Encoder, decoder and the teacher-forced training model (Keras 3 functional API).

The encoder reads the source and hands its final RNN states to the decoder. The
decoder owns one set of layers and uses them two ways:

- `Decoder.call` runs a whole teacher-forced target sequence (training);
- `Decoder.step` runs one token with explicit state (inference), through the RNN
  *cells*, so no dropout mask or RNG update lands in the decoding loop.

`build_model` joins them into the training model, whose inputs are
`{"source_ids": [batch, source_time], "decoder_input_ids": [batch, target_time]}` and
whose output is `logits [batch, target_time, vocab]`. `Seq2Seq.from_model` finds the
layers again by name (never by index) in a trained or reloaded model.

Example:
    >>> model = build_model(ModelConfig(units=32), vocab_size=100)
    >>> logits = model({"source_ids": src, "decoder_input_ids": tgt_in})
    >>> s2s = Seq2Seq.from_model(model)
    >>> memory, states = s2s.encoder(src)
    >>> step_logits, states = s2s.decoder.step(ids, states)
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from keras_s2s import recurrent
from keras_s2s.config import PAD_ID, ModelConfig
from keras_s2s.layers import make_attention
from keras_s2s.losses import MaskedAccuracy, Perplexity
from keras_s2s.precision import dtype_policy

_PACKAGE = "keras_s2s"

ENCODER_NAME = "encoder"
DECODER_NAME = "decoder"


# The layer class of each `ModelConfig.rnn`: Keras' GRU/LSTM with the input projection
# out of the time loop (same weights). Benchmarks swap in Keras' own for a baseline.
RNN_LAYERS = {"gru": recurrent.GRU, "lstm": recurrent.LSTM}


def _make_rnn(rnn: str, units: int, name: str) -> keras.layers.RNN:
    return RNN_LAYERS[rnn](units, return_sequences=True, return_state=True, name=name)


def states_per_layer(rnn: str) -> int:
    """Number of state tensors each RNN layer carries: 1 for GRU (h), 2 for LSTM (h, c)."""
    return 2 if rnn == "lstm" else 1


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Encoder(keras.layers.Layer):
    """Embedding (mask_zero) followed by stacked GRU/LSTM layers.

    For a bidirectional encoder, each layer's forward and backward final states are
    summed, so the decoder keeps `units` hidden units whatever the direction; the
    sequence outputs are concatenated (`2 * units` features).

    Args:
        vocab_size: Number of source ids.
        embedding_dim: Embedding width.
        units: RNN hidden size (per direction).
        num_layers: Stacked RNN layers.
        rnn: `gru` or `lstm`.
        bidirectional: Read the source in both directions.
        dropout: Dropout on the embeddings and between layers.
        **kwargs: Standard `keras.layers.Layer` arguments.

    Call args:
        source_ids: int32 `[batch, source_time]`, 0-padded.
        training: Python bool or None.

    Returns:
        `(outputs, states)`: outputs `[batch, source_time, units * directions]` (zero at
        padding) and a flat list of final states, `[batch, units]` each: `[h]` per GRU
        layer, `[h, c]` per LSTM layer, in layer order.
    """

    def __init__(
        self,
        vocab_size,
        embedding_dim,
        units,
        num_layers=1,
        rnn="gru",
        bidirectional=False,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.rnn = rnn
        self.bidirectional = bidirectional
        self.dropout = dropout

        self.embedding = keras.layers.Embedding(
            vocab_size, embedding_dim, mask_zero=True, name="embedding"
        )
        self.rnn_layers = []
        for i in range(num_layers):
            layer = _make_rnn(rnn, units, name=f"{rnn}_{i}")
            if bidirectional:
                layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")
            self.rnn_layers.append(layer)
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")

    def build(self, source_shape):
        self.embedding.build(source_shape)
        features = self.embedding_dim
        for layer in self.rnn_layers:
            layer.build((None, None, features))
            features = self.units * (2 if self.bidirectional else 1)
        self.built = True

    def call(self, source_ids, training=None):
        mask = tf.not_equal(source_ids, PAD_ID)
        x = self.dropout_layer(self.embedding(source_ids), training=training)
        per_layer = states_per_layer(self.rnn)
        states = []
        for i, layer in enumerate(self.rnn_layers):
            outputs = layer(x, mask=mask, training=training)
            x, layer_states = outputs[0], list(outputs[1:])
            if self.bidirectional:
                forward, backward = layer_states[:per_layer], layer_states[per_layer:]
                layer_states = [f + b for f, b in zip(forward, backward, strict=True)]
            states.extend(layer_states)
            if i + 1 < self.num_layers:
                x = self.dropout_layer(x, training=training)
        # Padded steps carry the last real output in Keras RNNs; zero them so that
        # attention (and anyone else) never sees a value at padding.
        x = x * tf.cast(mask, x.dtype)[:, :, None]
        return x, states

    def compute_mask(self, source_ids, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            num_layers=self.num_layers,
            rnn=self.rnn,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
        )
        return config


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Decoder(keras.layers.Layer):
    """Embedding, stacked GRU/LSTM layers started from the encoder states, and logits.

    With attention (Luong placement), the top RNN output `h_t` queries the encoder
    outputs, and the attentional vector `a_t = tanh(W_c [context_t; h_t])` feeds the
    output projection. With `input_feeding`, `a_{t-1}` is also concatenated to the
    embedding of the next input token.

    Args:
        vocab_size: Number of target ids (the logits width).
        embedding_dim: Embedding width.
        units: RNN hidden size; must equal the encoder's.
        num_layers: Stacked RNN layers; layer i starts from encoder layer i's state.
        rnn: `gru` or `lstm`.
        dropout: Dropout on the embeddings, between layers and before the projection.
        teacher_forcing_ratio: Probability, per step and sentence, of feeding the true
            previous token while training. Below 1 the decoder runs step by step and
            otherwise feeds back its own argmax (scheduled sampling).
        seed: Seed for the scheduled-sampling coin.
        attention: `none`, `bahdanau` or `luong`.
        luong_score: `general` or `dot` (Luong attention only).
        input_feeding: Feed the previous attentional vector back as input (attention
            only; training then runs step by step).
        memory_dim: Width of the encoder outputs (`units`, or `2 * units` for a
            bidirectional encoder).
        luong_scaled: Divide Luong scores by `sqrt(units)`.
        target_ids: For a decoder restricted to a target vocabulary: the joint id of each
            decoder id (`vocab_size` of them, the special ids first, see
            `keras_s2s.input_pipeline.target_vocabulary`). None: decoder ids are joint ids.
        **kwargs: Standard `keras.layers.Layer` arguments.

    Call args:
        decoder_input_ids: int32 `[batch, target_time]`: sos followed by the target,
            0-padded.
        initial_state: Flat list of encoder final states, `[batch, units]` each.
        memory: Encoder outputs `[batch, source_time, memory_dim]` (attention only).
        source_ids: int32 `[batch, source_time]`, to mask padding (attention only).
        training: Python bool or None.

    Returns:
        logits `[batch, target_time, vocab_size]`.
    """

    def __init__(
        self,
        vocab_size,
        embedding_dim,
        units,
        num_layers=1,
        rnn="gru",
        dropout=0.0,
        teacher_forcing_ratio=1.0,
        seed=None,
        attention="none",
        luong_score="general",
        input_feeding=False,
        memory_dim=None,
        luong_scaled=False,
        target_ids=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if target_ids is not None and len(target_ids) != vocab_size:
            raise ValueError(
                f"target_ids has {len(target_ids)} ids for a vocab_size of {vocab_size}"
            )
        self.target_ids = None if target_ids is None else [int(i) for i in target_ids]
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.rnn = rnn
        self.dropout = dropout
        self.teacher_forcing_ratio = teacher_forcing_ratio
        self.seed = seed
        self.attention = attention
        self.luong_score = luong_score
        self.luong_scaled = bool(luong_scaled)
        self.input_feeding = bool(input_feeding and attention != "none")
        self.memory_dim = memory_dim or units

        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="embedding")
        self.rnn_layers = [_make_rnn(rnn, units, name=f"{rnn}_{i}") for i in range(num_layers)]
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        self.attention_layer = make_attention(attention, units, luong_score, self.luong_scaled)
        self.attention_projection = (
            keras.layers.Dense(units, activation="tanh", use_bias=False, name="attention_proj")
            if self.attention_layer is not None
            else None
        )
        self.output_projection = keras.layers.Dense(vocab_size, name="logits")
        self.sampling_seed = keras.random.SeedGenerator(seed, name="sampling_seed")

    def build(self, decoder_input_ids_shape, initial_state_shape=None, memory_shape=None):
        self.embedding.build(decoder_input_ids_shape)
        features = self.embedding_dim + (self.units if self.input_feeding else 0)
        for layer in self.rnn_layers:
            layer.build((None, None, features))
            features = self.units
        if self.attention_layer is not None:
            self.attention_layer.build((None, None, self.units), self.memory_dim)
            self.attention_projection.build((None, None, self.units + self.memory_dim))
        self.output_projection.build((None, None, self.units))
        self.built = True

    def _split_states(self, states):
        per_layer = states_per_layer(self.rnn)
        return [list(states[i * per_layer : (i + 1) * per_layer]) for i in range(self.num_layers)]

    @property
    def steps_one_at_a_time(self) -> bool:
        """Whether training must run step by step (scheduled sampling, input feeding)."""
        return self.teacher_forcing_ratio < 1.0 or self.input_feeding

    def initial_decoder_state(self, states, memory=None, source_ids=None):
        """The state `step` expects: a dict of RNN states and, with attention, memory.

        Args:
            states: Flat list of encoder final states.
            memory: Encoder outputs `[batch, source_time, memory_dim]`.
            source_ids: `[batch, source_time]`, 0 at padding.

        Returns:
            `{"rnn": [...]}`, plus `memory`, `keys`, `mask` with attention and `feed`
            (the previous attentional vector, zeros at first) with input feeding.
            Every leaf is batch-major, so decoding can tile and reorder it for beams.
        """
        state = {"rnn": list(states)}
        if self.attention_layer is not None:
            state["memory"] = memory
            state["keys"] = self.attention_layer.prepare(memory)
            state["mask"] = tf.cast(tf.not_equal(source_ids, PAD_ID), memory.dtype)
            if self.input_feeding:
                state["feed"] = tf.zeros([tf.shape(memory)[0], self.units], memory.dtype)
        return state

    def _attend(self, h, state, training):
        """`h [batch, time, units]` -> (attentional vector, weights [batch, time, source])."""
        context, weights = self.attention_layer(h, state["keys"], state["memory"], state["mask"])
        a = self.attention_projection(tf.concat([context, h], axis=-1))
        return self.dropout_layer(a, training=training), weights

    def call(self, decoder_input_ids, initial_state, memory=None, source_ids=None, training=None):
        state = self.initial_decoder_state(initial_state, memory, source_ids)
        if self.steps_one_at_a_time:
            return self._step_by_step(decoder_input_ids, state, training)
        x = self.dropout_layer(self.embedding(decoder_input_ids), training=training)
        # Padding sits only at the end of each row and the loss masks it, so the
        # decoder RNN needs no mask: real steps are computed exactly either way.
        for layer, layer_state in zip(
            self.rnn_layers, self._split_states(state["rnn"]), strict=True
        ):
            x = layer(x, initial_state=layer_state, training=training)[0]
            x = self.dropout_layer(x, training=training)
        if self.attention_layer is not None:
            x, _ = self._attend(x, state, training)
        return self.output_projection(x)

    def step(self, ids, state, training=False):
        """Runs one decoding step through the RNN cells.

        Args:
            ids: int32 `[batch]`, the previous token of each row.
            state: The dict from `initial_decoder_state` (or a previous step).
            training: Apply dropout (step-by-step training only; inference passes False).

        Returns:
            `(logits [batch, vocab_size], new_state, weights)`; `weights` is the
            attention over the source, `[batch, source_time]`, or None without attention.
        """
        x = self.dropout_layer(self.embedding(ids), training=training)
        if self.input_feeding:
            x = tf.concat([x, state["feed"]], axis=-1)
        new_rnn = []
        for layer, layer_state in zip(
            self.rnn_layers, self._split_states(state["rnn"]), strict=True
        ):
            x, layer_states = layer.cell(x, layer_state, training=False)
            new_rnn.extend(layer_states)
            x = self.dropout_layer(x, training=training)
        new_state = dict(state, rnn=new_rnn)
        weights = None
        if self.attention_layer is not None:
            a, weights = self._attend(x[:, None, :], state, training)
            x, weights = a[:, 0], weights[:, 0]
            if self.input_feeding:
                new_state["feed"] = x
        return self.output_projection(x), new_state, weights

    def _step_by_step(self, decoder_input_ids, state, training):
        time = tf.shape(decoder_input_ids)[1]
        batch = tf.shape(decoder_input_ids)[0]
        logits_ta = tf.TensorArray(self.compute_dtype, size=time)
        ratio = self.teacher_forcing_ratio if training else 1.0

        def body(t, prev_ids, state, logits_ta):
            true_ids = decoder_input_ids[:, t]
            if ratio < 1.0:
                coin = keras.random.uniform((batch,), seed=self.sampling_seed)
                use_truth = tf.logical_or(tf.equal(t, 0), coin < ratio)
                ids = tf.where(use_truth, true_ids, prev_ids)
            else:
                ids = true_ids
            logits, state, _ = self.step(ids, state, training=training)
            next_ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
            return t + 1, next_ids, state, logits_ta.write(t, logits)

        _, _, _, logits_ta = tf.while_loop(
            lambda t, *_: t < time,
            body,
            (tf.constant(0), decoder_input_ids[:, 0], state, logits_ta),
        )
        return tf.transpose(logits_ta.stack(), [1, 0, 2])

    def compute_mask(
        self, decoder_input_ids, initial_state=None, memory=None, source_ids=None, mask=None
    ):
        # The loss masks padding itself; no Keras mask reaches it from here.
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            embedding_dim=self.embedding_dim,
            units=self.units,
            num_layers=self.num_layers,
            rnn=self.rnn,
            dropout=self.dropout,
            teacher_forcing_ratio=self.teacher_forcing_ratio,
            seed=self.seed,
            attention=self.attention,
            luong_score=self.luong_score,
            input_feeding=self.input_feeding,
            memory_dim=self.memory_dim,
            luong_scaled=self.luong_scaled,
            target_ids=self.target_ids,
        )
        return config

    def to_joint_ids(self, ids):
        """Maps decoder ids (any shape, int32) to the tokenizer's joint ids."""
        if self.target_ids is None:
            return ids
        return tf.gather(tf.constant(self.target_ids, tf.int32), ids)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Seq2SeqModel(keras.Model):
    """The functional training model, with token metrics computed on validation only.

    It owns two metrics, `token_accuracy` and `perplexity` (`keras_s2s.losses`), and
    updates them in `evaluate` and in `fit`'s validation, not in the training step:
    they are another pass over the `[batch, time, vocab]` logits of every batch (about
    15% of a training step on Multi30k, bench/README.md). Training logs carry `loss`
    alone; validation logs carry `val_loss`, `val_token_accuracy`, `val_perplexity`.
    Compile it with a loss and no metrics (`keras_s2s.training.compile_model`).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.token_metrics = [MaskedAccuracy(), Perplexity()]
        self._loss_only = False

    def train_step(self, data):
        # A Python flag read while train_step is traced: the graph gets no metric ops.
        self._loss_only = True
        try:
            return super().train_step(data)
        finally:
            self._loss_only = False

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if self._loss_only:
            # Through get_metrics_result, which distributed training adapts.
            results = self.get_metrics_result()
            return {"loss": results["loss"]}
        for metric in self.token_metrics:
            metric.update_state(y, y_pred)
        return super().compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def build_model(
    config: ModelConfig,
    vocab_size: int,
    seed: int | None = None,
    target_ids: list[int] | None = None,
    precision: str = "float32",
) -> keras.Model:
    """Builds the teacher-forced training model (not compiled).

    Args:
        config: Architecture.
        vocab_size: Size of the tokenizer's (joint) vocabulary.
        seed: Seed for the scheduled-sampling coin.
        target_ids: The decoder's vocabulary as joint ids, when it is restricted
            (`config.target_vocabulary`); decoder inputs and logits are then in that
            space, `len(target_ids)` wide.
        precision: The Keras dtype policy of its layers: "float32", or
            "mixed_bfloat16" for training (`keras_s2s.precision`; variables stay
            float32, so the weights move to a float32 model unchanged).

    Returns:
        A functional `Seq2SeqModel` mapping `{"source_ids", "decoder_input_ids"}` (int32,
        0-padded) to logits `[batch, target_time, vocab_size]`.
    """
    with dtype_policy(precision):
        return _build_model(config, vocab_size, seed, target_ids)


def _build_model(config, vocab_size, seed, target_ids) -> keras.Model:
    source_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
    decoder_input_ids = keras.Input(shape=(None,), dtype="int32", name="decoder_input_ids")
    encoder = Encoder(
        vocab_size,
        config.embedding_dim,
        config.units,
        num_layers=config.encoder_layers,
        rnn=config.rnn,
        bidirectional=config.bidirectional,
        dropout=config.dropout,
        name=ENCODER_NAME,
    )
    decoder = Decoder(
        len(target_ids) if target_ids is not None else vocab_size,
        config.embedding_dim,
        config.units,
        num_layers=config.decoder_layers,
        rnn=config.rnn,
        dropout=config.dropout,
        teacher_forcing_ratio=config.teacher_forcing_ratio,
        seed=seed,
        attention=config.attention,
        luong_score=config.luong_score,
        luong_scaled=config.luong_scaled,
        input_feeding=config.input_feeding,
        memory_dim=config.units * (2 if config.bidirectional else 1),
        target_ids=target_ids,
        name=DECODER_NAME,
    )
    memory, states = encoder(source_ids)
    if config.attention == "none":
        logits = decoder(decoder_input_ids, initial_state=states)
    else:
        logits = decoder(
            decoder_input_ids, initial_state=states, memory=memory, source_ids=source_ids
        )
    return Seq2SeqModel(
        {"source_ids": source_ids, "decoder_input_ids": decoder_input_ids},
        logits,
        name="seq2seq",
    )


@dataclasses.dataclass(frozen=True)
class Seq2Seq:
    """The trained encoder and decoder layers of a training model, found by name."""

    encoder: Encoder
    decoder: Decoder

    @classmethod
    def from_model(cls, model: keras.Model) -> Seq2Seq:
        """Finds the encoder and decoder layers of a model built by `build_model`."""
        return cls(model.get_layer(ENCODER_NAME), model.get_layer(DECODER_NAME))

    def encode(self, source_ids):
        """Runs the encoder: `source_ids [batch, time]` -> the decoder's initial state."""
        memory, states = self.encoder(source_ids, training=False)
        return self.decoder.initial_decoder_state(states, memory, source_ids)

    def step(self, ids, state):
        """The `step_fn` of `keras_s2s.decoding`: `(ids [batch], state)` ->
        `(logits [batch, vocab], state, attention [batch, source_time] or None)`."""
        return self.decoder.step(ids, state, training=False)

    def encoder_model(self) -> keras.Model:
        """A functional model: `source_ids [batch, time]` -> `[outputs, *states]`."""
        source_ids = keras.Input(shape=(None,), dtype="int32", name="source_ids")
        outputs, states = self.encoder(source_ids)
        return keras.Model(source_ids, [outputs, *states], name="encoder_model")
