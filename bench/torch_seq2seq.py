# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The keras_s2s training model as a plain PyTorch module, trained in a worker process.

The peer `bench/train_throughput.py` times Keras against. `Seq2Seq` mirrors
`keras_s2s.models.build_model` layer for layer for unidirectional GRU models with Luong
attention or none (the benchmark's recipe; other settings are refused): the encoder
runs on a packed sequence, so its final state is the last real token's, as Keras' masked
RNN gives; Luong scores are masked at source padding with -1e9, as in `keras_s2s.layers`;
the loss is `keras_s2s.losses.MaskedSparseCategoricalCrossentropy`'s. PyTorch's GRU is
the `reset_after` variant Keras uses, with the same two bias vectors, so the parameter
counts are equal. The module never imports TensorFlow: PyTorch runs slower in a process
where TensorFlow has worked, and a PyTorch user has none.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from keras_s2s.config import PAD_ID, RunConfig


class Seq2Seq(nn.Module):
    """`forward(source_ids, decoder_input_ids)` -> logits `[batch, target_time, vocab]`.

    Args:
        c: A `keras_s2s.config.ModelConfig`.
        vocab_size: The (joint) vocabulary size, for both embeddings and the logits.
    """

    def __init__(self, c, vocab_size: int):
        super().__init__()
        if c.rnn != "gru" or c.bidirectional or c.attention == "bahdanau" or c.input_feeding:
            raise ValueError("only unidirectional GRU models with Luong or no attention")
        if c.teacher_forcing_ratio < 1.0:
            raise ValueError("scheduled sampling is not mirrored")
        between = c.dropout if c.encoder_layers > 1 else 0.0  # Keras: between layers only
        self.src_embedding = nn.Embedding(vocab_size, c.embedding_dim)
        self.tgt_embedding = nn.Embedding(vocab_size, c.embedding_dim)
        self.encoder = nn.GRU(
            c.embedding_dim, c.units, c.encoder_layers, batch_first=True, dropout=between
        )
        self.decoder = nn.GRU(
            c.embedding_dim, c.units, c.decoder_layers, batch_first=True, dropout=between
        )
        self.dropout = nn.Dropout(c.dropout)
        self.attention = c.attention == "luong"
        general = self.attention and c.luong_score == "general"
        self.memory_layer = nn.Linear(c.units, c.units, bias=False) if general else None
        self.attention_proj = (
            nn.Linear(2 * c.units, c.units, bias=False) if self.attention else None
        )
        self.scale = 1.0 / c.units**0.5 if c.luong_scaled else 1.0
        self.logits = nn.Linear(c.units, vocab_size)

    def forward(self, source_ids, decoder_input_ids):
        lengths = (source_ids != PAD_ID).sum(1).clamp(min=1)
        x = self.dropout(self.src_embedding(source_ids))
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, state = self.encoder(packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=source_ids.shape[1])
        h, _ = self.decoder(self.dropout(self.tgt_embedding(decoder_input_ids)), state)
        h = self.dropout(h)
        if self.attention:
            keys = memory if self.memory_layer is None else self.memory_layer(memory)
            scores = torch.bmm(h, keys.transpose(1, 2)) * self.scale
            scores = scores.masked_fill((source_ids == PAD_ID)[:, None, :], -1e9)
            context = torch.bmm(torch.softmax(scores, -1), memory)
            h = self.dropout(torch.tanh(self.attention_proj(torch.cat([context, h], -1))))
        return self.logits(h)


def masked_loss(logits, labels, label_smoothing: float):
    """Sum of token cross-entropies over non-padding labels / their number."""
    ce = F.cross_entropy(
        logits.flatten(0, 1),
        labels.flatten(),
        ignore_index=PAD_ID,
        reduction="sum",
        label_smoothing=label_smoothing,
    )
    return ce / (labels != PAD_ID).sum().clamp(min=1)


def to_torch(batch):
    """`(source, decoder_input, labels)` numpy int32 arrays -> int64 tensors."""
    return tuple(torch.from_numpy(np.ascontiguousarray(a)).long() for a in batch)


class Trainer:
    """A model, its optimizer and the requests `bench/train_throughput.py` sends.

    Args:
        run_config: `RunConfig.to_dict()` of the run (seed, learning rate, clipping).
        vocab_size: Vocabulary size.
    """

    def __init__(self, run_config: dict, vocab_size: int):
        self.config = RunConfig.from_dict(run_config)
        self.vocab_size = vocab_size
        torch.manual_seed(self.config.train.seed)
        self.model = Seq2Seq(self.config.model, vocab_size).train()
        # Keras Adam's epsilon is 1e-7 (PyTorch's default is 1e-8).
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=self.config.train.learning_rate, eps=1e-7
        )

    def step(self, batch) -> None:
        """One step of a standard loop: forward, masked loss, backward, clip, Adam."""
        source, decoder_input, labels = to_torch(batch)
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(source, decoder_input)
        masked_loss(logits, labels, self.config.train.label_smoothing).backward()
        if self.config.train.clipnorm:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.train.clipnorm)
        self.optimizer.step()

    def fit(self, batches) -> float:
        """Seconds to train one step on each of `batches` (numpy)."""
        start = time.perf_counter()
        for batch in batches:
            self.step(batch)
        return time.perf_counter() - start

    def facts(self) -> dict:
        return {
            "parameters": int(sum(p.numel() for p in self.model.parameters())),
            "torch_version": torch.__version__,
            "torch_num_threads": torch.get_num_threads(),
            "tensorflow_in_this_process": "tensorflow" in sys.modules,
        }

    def check(self, state: dict, batch, keras_logits) -> dict:
        """Loss, gradient norm and logit difference of a fresh model holding `state`
        (Keras' weights under PyTorch names, loaded strictly) with dropout off."""
        model = Seq2Seq(self.config.model, self.vocab_size).eval()
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
        source, decoder_input, labels = to_torch(batch)
        logits = model(source, decoder_input)
        loss = masked_loss(logits, labels, self.config.train.label_smoothing)
        loss.backward()
        norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters()))
        diff = np.abs(keras_logits - logits.detach().numpy())[batch[2] != PAD_ID]
        return {
            "loss": float(loss.detach()),
            "grad_global_norm": float(norm),
            "max_abs_logit_diff": float(diff.max()),
        }


def serve(conn, threads: int) -> None:
    """Worker loop: `(method, args)` in, `("ok", result)` or `("error", text)` out.

    `("init", (run_config, vocab_size))` makes the `Trainer`; any other method is one of
    its methods. Ends on None or when the pipe closes.
    """
    torch.set_num_threads(threads)
    trainer = None
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        method, args = message
        try:
            if method == "init":
                trainer, result = Trainer(*args), None
            else:
                result = getattr(trainer, method)(*args)
            conn.send(("ok", result))
        except Exception as e:  # noqa: BLE001 - reported to the parent, which raises
            conn.send(("error", f"{type(e).__name__}: {e}"))
