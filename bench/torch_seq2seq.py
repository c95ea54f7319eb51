# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""The keras_s2s training model, written as a plain PyTorch module (for benchmarks).

Mirrors `keras_s2s.models.build_model` layer for layer, so that the two frameworks can
be timed on the same architecture (`bench/train_throughput.py`):

- encoder: embedding -> dropout -> GRU/LSTM layers (dropout between layers), run on a
  packed sequence (`pack_padded_sequence`), so padding costs nothing and the final
  states are those of the last real token, as Keras' masked RNN gives; outputs are
  zero at padding; a bidirectional encoder sums forward and backward final states;
- decoder: embedding -> dropout -> RNN layers started from the encoder states, each
  followed by dropout (no mask: padding sits at the end and the loss masks it);
- Luong attention after the decoder RNN (`dot` or `general`, optionally scaled),
  softmax masked at source padding with -1e9 as in `keras_s2s.layers`, then
  `tanh(W_c [context; h])` (no bias) -> dropout -> vocabulary logits;
  Bahdanau attention likewise (`v . tanh(W_q q + W_m m)`);
- loss: cross-entropy summed over non-padding labels, divided by their number, with
  optional label smoothing, as `keras_s2s.losses.MaskedSparseCategoricalCrossentropy`.

PyTorch's GRU is the `reset_after` variant Keras uses by default, with the same two
bias vectors, so the parameter count is identical. `load_state` loads a Keras model's
weights (mapped to PyTorch names by `bench/train_throughput.py`; GRU gate order z, r, h
-> r, z, n), so the two can be checked to compute the same loss.
Input feeding and scheduled sampling are not mirrored.

`Trainer` holds a model and its optimizer and does the timings; `serve` runs one in a
worker process that never imports TensorFlow (see `bench/train_throughput.py`). This
module imports torch at load time.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from benchutil import time_calls
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD_ID = 0
_NEG = -1e9


def _rnn(kind: str, input_size: int, units: int, layers: int, dropout: float, bidir=False):
    cls = {"gru": nn.GRU, "lstm": nn.LSTM}[kind]
    return cls(
        input_size,
        units,
        num_layers=layers,
        batch_first=True,
        dropout=dropout if layers > 1 else 0.0,
        bidirectional=bidir,
    )


class Encoder(nn.Module):
    def __init__(self, vocab, emb, units, layers, rnn, bidirectional, dropout):
        super().__init__()
        self.rnn_kind, self.layers, self.bidirectional = rnn, layers, bidirectional
        self.embedding = nn.Embedding(vocab, emb)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _rnn(rnn, emb, units, layers, dropout, bidirectional)

    def forward(self, source_ids):
        lengths = (source_ids != PAD_ID).sum(1).clamp(min=1).cpu()
        x = self.dropout(self.embedding(source_ids))
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, state = self.rnn(packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=source_ids.shape[1])
        states = state if isinstance(state, tuple) else (state,)
        if self.bidirectional:  # [layers * 2, b, u] -> forward + backward per layer
            states = tuple(s.view(self.layers, 2, *s.shape[1:]).sum(1) for s in states)
        return memory, states


class Decoder(nn.Module):
    def __init__(
        self, vocab, emb, units, layers, rnn, dropout, attention, luong_score, scaled, memory_dim
    ):
        super().__init__()
        self.attention, self.units = attention, units
        self.scale = 1.0 / units**0.5 if scaled else None
        self.embedding = nn.Embedding(vocab, emb)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _rnn(rnn, emb, units, layers, dropout)
        self.memory_layer = None
        if attention == "bahdanau":
            self.memory_layer = nn.Linear(memory_dim, units, bias=False)
            self.query_layer = nn.Linear(units, units, bias=False)
            self.score_layer = nn.Linear(units, 1, bias=False)
        elif attention == "luong" and luong_score == "general":
            self.memory_layer = nn.Linear(memory_dim, units, bias=False)
        if attention != "none":
            self.attention_proj = nn.Linear(units + memory_dim, units, bias=False)
        self.logits = nn.Linear(units, vocab)

    def forward(self, decoder_input_ids, states, memory, source_mask):
        x = self.dropout(self.embedding(decoder_input_ids))
        h0 = states if len(states) > 1 else states[0]
        x, _ = self.rnn(x, h0)
        x = self.dropout(x)
        if self.attention != "none":
            keys = memory if self.memory_layer is None else self.memory_layer(memory)
            if self.attention == "bahdanau":
                q = self.query_layer(x)
                scores = self.score_layer(torch.tanh(q[:, :, None, :] + keys[:, None])).squeeze(-1)
            else:
                scores = torch.bmm(x, keys.transpose(1, 2))
                if self.scale is not None:
                    scores = scores * self.scale
            mask = source_mask[:, None, :]
            weights = torch.softmax(scores * mask + _NEG * (1.0 - mask), dim=-1)
            context = torch.bmm(weights, memory)
            x = self.dropout(torch.tanh(self.attention_proj(torch.cat([context, x], -1))))
        return self.logits(x)


class Seq2Seq(nn.Module):
    """`forward(source_ids, decoder_input_ids)` -> logits `[batch, target_time, vocab]`."""

    def __init__(self, model_config, vocab_size: int):
        super().__init__()
        c = model_config
        if c.input_feeding or c.teacher_forcing_ratio < 1.0:
            raise ValueError("input feeding and scheduled sampling are not mirrored")
        memory_dim = c.units * (2 if c.bidirectional else 1)
        self.encoder = Encoder(
            vocab_size,
            c.embedding_dim,
            c.units,
            c.encoder_layers,
            c.rnn,
            c.bidirectional,
            c.dropout,
        )
        self.decoder = Decoder(
            vocab_size,
            c.embedding_dim,
            c.units,
            c.decoder_layers,
            c.rnn,
            c.dropout,
            c.attention,
            c.luong_score,
            c.luong_scaled,
            memory_dim,
        )

    def forward(self, source_ids, decoder_input_ids):
        memory, states = self.encoder(source_ids)
        source_mask = (source_ids != PAD_ID).to(memory.dtype)
        return self.decoder(decoder_input_ids, states, memory, source_mask)


def masked_loss(logits, labels, label_smoothing=0.0):
    """Sum of token cross-entropies over non-padding labels / their number."""
    count = (labels != PAD_ID).sum().clamp(min=1)
    ce = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        labels.reshape(-1),
        ignore_index=PAD_ID,
        reduction="sum",
        label_smoothing=label_smoothing,
    )
    return ce / count


def make_optimizer(model, learning_rate):
    # Keras Adam's epsilon is 1e-7 (PyTorch's default is 1e-8).
    return torch.optim.Adam(model.parameters(), lr=learning_rate, eps=1e-7)


def train_step(model, optimizer, batch, label_smoothing=0.0, clipnorm=1.0):
    """One step of a standard loop: forward, masked loss, backward, clip, Adam."""
    source, decoder_input, labels = batch
    optimizer.zero_grad(set_to_none=True)
    loss = masked_loss(model(source, decoder_input), labels, label_smoothing)
    loss.backward()
    if clipnorm:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clipnorm)
    optimizer.step()
    return loss


def to_torch(batch):
    """`(source, decoder_input, labels)` numpy int32 arrays -> int64 tensors."""
    return tuple(torch.from_numpy(np.ascontiguousarray(a)).long() for a in batch)


def parameter_count(model) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def load_state(model: Seq2Seq, state: dict) -> None:
    """Loads `{parameter name: numpy array}` (every parameter, strictly)."""
    model.load_state_dict(
        {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=True
    )


# --------------------------------------------------------------------------- timing


class Trainer:
    """A model, its optimizer and the timings `bench/train_throughput.py` asks for.

    Args:
        run_config: `RunConfig.to_dict()` of the run.
        vocab_size: Vocabulary size.
    """

    def __init__(self, run_config: dict, vocab_size: int):
        from keras_s2s.config import RunConfig

        self.config = RunConfig.from_dict(run_config)
        torch.manual_seed(self.config.train.seed)
        self.model = Seq2Seq(self.config.model, vocab_size)
        self.model.train()
        self.optimizer = make_optimizer(self.model, self.config.train.learning_rate)
        self.ls = self.config.train.label_smoothing
        self.clipnorm = self.config.train.clipnorm

    def step(self, batch):
        return train_step(self.model, self.optimizer, batch, self.ls, self.clipnorm)

    def fit(self, batches) -> float:
        """Seconds to train on `batches` (numpy), one standard step each."""
        t0 = time.perf_counter()
        for batch in batches:
            self.step(to_torch(batch))
        return time.perf_counter() - t0

    def parameter_count(self) -> dict:
        return {
            "total": parameter_count(self.model),
            "encoder": parameter_count(self.model.encoder),
            "decoder": parameter_count(self.model.decoder),
        }

    def forward_check(self, state: dict, batch, keras_logits) -> dict:
        """Loss, logits and gradient norm of a copy of the model holding `state`."""
        model = Seq2Seq(self.config.model, self.model.decoder.logits.out_features)
        load_state(model, state)
        model.eval()
        s, d, y = to_torch(batch)
        logits = model(s, d)
        loss = masked_loss(logits, y, self.ls)
        loss.backward()
        norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters()))
        real = batch[2] != PAD_ID
        diff = np.abs(keras_logits - logits.detach().numpy())[real]
        return {
            "loss": float(loss.detach()),
            "grad_global_norm": float(norm),
            "max_abs_logit_diff_at_real_tokens": float(diff.max()),
        }

    def phases(self, batch, iters: int) -> dict:
        """Seconds per call: forward + loss, + backward, and the full step."""
        tb = to_torch(batch)

        def forward():
            return masked_loss(self.model(tb[0], tb[1]), tb[2], self.ls)

        def forward_backward():
            self.optimizer.zero_grad(set_to_none=True)
            forward().backward()

        return {
            "forward": time_calls(forward, iters),
            "forward_backward": time_calls(forward_backward, iters),
            "step": time_calls(lambda: self.step(tb), iters),
        }

    def rnn_times(self, batch, iters: int) -> dict:
        """Seconds per call of the encoder (packed) and decoder RNNs alone, forward and
        forward + backward, on random embeddings of this batch's shape."""
        gen = torch.Generator().manual_seed(0)
        emb, units = self.config.model.embedding_dim, self.config.model.units
        rows, src_t, tgt_t = batch[0].shape[0], batch[0].shape[1], batch[1].shape[1]
        xe = torch.randn(rows, src_t, emb, generator=gen).requires_grad_()
        xd = torch.randn(rows, tgt_t, emb, generator=gen).requires_grad_()
        h0 = 0.1 * torch.randn(1, rows, units, generator=gen)
        lengths = torch.from_numpy((batch[0] != PAD_ID).sum(1)).clamp(min=1)
        enc, dec = self.model.encoder.rnn, self.model.decoder.rnn

        def t_enc():
            packed = pack_padded_sequence(xe, lengths, batch_first=True, enforce_sorted=False)
            out, h = enc(packed)
            return out.data.sum() + h.sum()

        def t_dec():
            out, h = dec(xd, h0)
            return out.sum() + h.sum()

        def backward(fn):
            def run():
                enc.zero_grad(set_to_none=True)
                dec.zero_grad(set_to_none=True)
                xe.grad = xd.grad = None
                fn().backward()

            return run

        return {
            "encoder_rnn": {
                "forward": time_calls(t_enc, iters),
                "forward_backward": time_calls(backward(t_enc), iters),
            },
            "decoder_rnn": {
                "forward": time_calls(t_dec, iters),
                "forward_backward": time_calls(backward(t_dec), iters),
            },
        }

    def op_profile(self, batch, steps: int) -> dict:
        """Self CPU time per ATen op over `steps` train steps (torch.profiler)."""
        from torch.profiler import ProfilerActivity, profile

        tb = to_torch(batch)
        self.step(tb)
        t0 = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                self.step(tb)
        wall = time.perf_counter() - t0
        averages = prof.key_averages()
        total_self = sum(a.self_cpu_time_total for a in averages) / 1000
        n_ops = sum(a.count for a in averages)
        top = sorted(averages, key=lambda a: -a.self_cpu_time_total)[:15]
        return {
            "steps": steps,
            "wall_ms_per_step_under_profiler": round(1000 * wall / steps, 1),
            "op_self_ms_per_step": round(total_self / steps, 1),
            "op_executions_per_step": round(n_ops / steps),
            "mean_us_per_op": round(1000 * total_self / max(n_ops, 1), 1),
            "top_ops_self_ms_per_step": {
                a.key: {
                    "ms": round(a.self_cpu_time_total / 1000 / steps, 1),
                    "count": a.count // steps,
                }
                for a in top
            },
        }


def gemm_seconds(shapes: dict, iters: int) -> dict:
    """Seconds per `torch.mm` of random float32 matrices, per named (m, k, n)."""
    gen = torch.Generator().manual_seed(0)
    out = {}
    for name, (m, k, n) in shapes.items():
        a, b = torch.randn(m, k, generator=gen), torch.randn(k, n, generator=gen)
        out[name] = time_calls(lambda a=a, b=b: torch.mm(a, b), iters, warm=3)
    return out


def runtime_facts() -> dict:
    return {
        "torch_version": torch.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "tensorflow_loaded_in_this_process": "tensorflow" in sys.modules,
    }


def serve(conn, threads: int) -> None:
    """Worker-process loop: `(method, args)` in, `("ok", result)` or `("error", text)` out.

    Methods: `init(run_config, vocab_size)`, `facts()`, `gemm(shapes, iters)` and any
    `Trainer` method. Runs until it receives None or the pipe closes.
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
                trainer = Trainer(*args)
                result = None
            elif method == "facts":
                result = runtime_facts()
            elif method == "gemm":
                result = gemm_seconds(*args)
            else:
                result = getattr(trainer, method)(*args)
            conn.send(("ok", result))
        except Exception as e:  # noqa: BLE001 - reported to the parent
            conn.send(("error", f"{type(e).__name__}: {e}"))
