# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
"""tf.data input pipeline for teacher forcing.

Each text pair becomes

    source_ids        = tokens(source)[:max_source_length]
    target            = [sos] + tokens(target)[:max_target_length - 1] + [eos]
    decoder_input_ids = target[:-1]
    labels            = target[1:]

so at step t the decoder sees the true token t-1 and learns to predict token t.
Tokenization runs with the same in-graph tensorflow-text tokenizer that the exported
model uses. Batches group sentences of similar length (bucketing) and are padded with
0, which the loss masks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID, UNK_ID, DataConfig, TrainConfig
from keras_s2s.tokenizer import Tokenizer

# Sentences are tokenized in chunks of this size: big enough to amortise the graph
# call, small enough to keep memory flat on large corpora.
_TOKENIZE_CHUNK = 8192


@dataclasses.dataclass(frozen=True)
class Encoded:
    """A tokenized corpus, ready for batching.

    Attributes:
        source: One int32 array of source ids per pair (no sos/eos).
        target: One int32 array per pair: sos, target ids, eos.
        truncated_sources: Pairs whose source was cut to `max_source_length`.
        truncated_targets: Pairs whose target was cut to `max_target_length`.
    """

    source: list[np.ndarray]
    target: list[np.ndarray]
    truncated_sources: int
    truncated_targets: int

    def __len__(self) -> int:
        return len(self.source)

    @property
    def target_tokens(self) -> int:
        """Number of label tokens (everything after sos), the unit of throughput."""
        return int(sum(len(t) - 1 for t in self.target))


SPECIAL_IDS = (PAD_ID, UNK_ID, SOS_ID, EOS_ID)


def target_vocabulary(encoded: Encoded) -> list[int]:
    """The joint ids a decoder restricted to the training targets needs.

    Returns:
        The special ids first, then every id that occurs in a target, ascending. As
        the special ids are 0-3, each keeps its value in the restricted space; the
        decoder's id `i` is the joint id `result[i]`.
    """
    assert SPECIAL_IDS == tuple(range(len(SPECIAL_IDS)))  # the mapping relies on it
    seen = np.unique(np.concatenate(encoded.target)) if len(encoded) else np.array([], int)
    return list(SPECIAL_IDS) + [int(i) for i in seen if i >= len(SPECIAL_IDS)]


def to_target_space(encoded: Encoded, target_ids: Sequence[int]) -> Encoded:
    """`encoded` with its targets renumbered into the restricted decoder space.

    Target ids outside `target_ids` (in validation data, say) become unk.
    """
    top = max(max(target_ids), max((int(t.max()) for t in encoded.target if len(t)), default=0))
    lookup = target_lookup(target_ids, top + 1)
    return dataclasses.replace(encoded, target=[lookup[t] for t in encoded.target])


def target_lookup(target_ids: Sequence[int], size: int) -> np.ndarray:
    """A table from joint ids `[0, size)` to decoder ids; ids outside `target_ids` are unk."""
    lookup = np.full(size, UNK_ID, np.int32)
    lookup[np.asarray(target_ids)] = np.arange(len(target_ids), dtype=np.int32)
    return lookup


def _tokenize_all(tokenizer: Tokenizer, texts: Sequence[str]) -> list[np.ndarray]:
    rows: list[np.ndarray] = []
    for start in range(0, len(texts), _TOKENIZE_CHUNK):
        chunk = tf.constant(list(texts[start : start + _TOKENIZE_CHUNK]), tf.string)
        ragged = tokenizer.tokenize(chunk)
        flat = ragged.flat_values.numpy()
        splits = ragged.row_splits.numpy()
        rows.extend(flat[splits[i] : splits[i + 1]] for i in range(len(splits) - 1))
    return rows


def encode_pairs(
    pairs: Sequence[tuple[str, str]], tokenizer: Tokenizer, config: DataConfig
) -> Encoded:
    """Tokenizes pairs and applies the length limits.

    Args:
        pairs: `(source, target)` strings.
        tokenizer: The run's tokenizer.
        config: Length limits.

    Returns:
        The encoded corpus, with the number of truncated sources and targets.
    """
    sources = _tokenize_all(tokenizer, [s for s, _ in pairs])
    targets = _tokenize_all(tokenizer, [t for _, t in pairs])
    max_src, max_tgt = config.max_source_length, config.max_target_length - 1
    truncated_sources = sum(len(s) > max_src for s in sources)
    truncated_targets = sum(len(t) > max_tgt for t in targets)
    sos, eos = np.array([SOS_ID], np.int32), np.array([EOS_ID], np.int32)
    return Encoded(
        source=[s[:max_src].astype(np.int32) for s in sources],
        target=[np.concatenate([sos, t[:max_tgt].astype(np.int32), eos]) for t in targets],
        truncated_sources=int(truncated_sources),
        truncated_targets=int(truncated_targets),
    )


def _bucket_boundaries(max_length: int, width: int) -> list[int]:
    return list(range(width + 1, max_length + 1, width))


def _bucket_batch_count(lengths: np.ndarray, boundaries: list[int], batch_size: int) -> int:
    # bucket_by_sequence_length fills each bucket independently and flushes the
    # remainders at the end, so the batch count does not depend on the shuffle order.
    buckets = np.searchsorted(np.asarray(boundaries), lengths, side="right")
    counts = np.bincount(buckets, minlength=len(boundaries) + 1)
    return int(sum(-(-c // batch_size) for c in counts if c))


def _ragged(rows: list[np.ndarray]) -> tf.RaggedTensor:
    # From flat values and row lengths: ~100x faster than tf.ragged.constant on lists,
    # which matters because every epoch builds its dataset anew.
    lengths = np.array([len(r) for r in rows], np.int64)
    flat = np.concatenate(rows).astype(np.int32) if rows else np.zeros([0], np.int32)
    return tf.RaggedTensor.from_row_lengths(flat, lengths)


def make_dataset(encoded: Encoded, config: TrainConfig) -> tf.data.Dataset:
    """Builds batches of `({"source_ids", "decoder_input_ids"}, labels)` in corpus order.

    Args:
        encoded: The tokenized corpus, in the order to batch it.
        config: Batch size and bucketing settings.

    Returns:
        A dataset of int32 tensors, 0-padded: `source_ids [batch, source_time]`,
        `decoder_input_ids [batch, target_time]` and `labels [batch, target_time]`.
        Its cardinality is known, so Keras shows a progress bar with a total. Bucketing
        is deterministic: the same input order always gives the same batches.
    """
    if not len(encoded):
        raise ValueError("cannot build a dataset from an empty corpus")
    source, target = _ragged(encoded.source), _ragged(encoded.target)
    ds = tf.data.Dataset.from_tensor_slices((source, target))

    def to_example(src, tgt):
        return {"source_ids": src, "decoder_input_ids": tgt[:-1]}, tgt[1:]

    ds = ds.map(to_example)
    lengths = np.array(
        [max(len(s), len(t) - 1) for s, t in zip(encoded.source, encoded.target, strict=True)]
    )
    max_length = int(lengths.max())
    boundaries = _bucket_boundaries(max_length, config.bucket_width) if config.bucket_width else []
    padding = ({"source_ids": PAD_ID, "decoder_input_ids": PAD_ID}, PAD_ID)
    if boundaries:
        ds = ds.bucket_by_sequence_length(
            lambda x, y: tf.maximum(tf.shape(x["source_ids"])[0], tf.shape(y)[0]),
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[config.batch_size] * (len(boundaries) + 1),
            padding_values=padding,
        )
        batches = _bucket_batch_count(lengths, boundaries, config.batch_size)
    else:
        ds = ds.padded_batch(config.batch_size, padding_values=padding)
        batches = -(-len(encoded) // config.batch_size)
    return prefetched(ds.apply(tf.data.experimental.assert_cardinality(batches)))


def prefetched(ds: tf.data.Dataset) -> tf.data.Dataset:
    """`ds` as `fit` should read it: two batches prefetched, tf.data autotuning off."""
    # No autotuning: deleting an autotuned iterator waits for tf.data's optimisation
    # thread to wake up, which kept the end of `fit` waiting 20-30 s of many epochs
    # (docs/design.md). Two prefetched batches keep the model fed: a batch takes
    # milliseconds to build and tens to hundreds to train on.
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)


def epoch_order(size: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of an epoch: a pure function of `(seed, epoch)`."""
    return np.random.default_rng([seed, epoch]).permutation(size)


def make_epoch_dataset(
    encoded: Encoded, config: TrainConfig, epoch: int, *, skip_batches: int = 0
) -> tf.data.Dataset:
    """The training batches of one epoch, shuffled by `(config.seed, epoch)`.

    Because the order depends only on the seed and the epoch, a run that stopped after
    `k` batches of an epoch resumes exactly by skipping `k` batches of the same dataset.

    Args:
        encoded: The tokenized training corpus.
        config: Batch size, bucketing and seed.
        epoch: Zero-based epoch number.
        skip_batches: Batches of this epoch already trained on.

    Returns:
        A dataset like `make_dataset`'s, without its first `skip_batches` batches.
    """
    order = epoch_order(len(encoded), config.seed, epoch)
    shuffled = Encoded(
        source=[encoded.source[i] for i in order],
        target=[encoded.target[i] for i in order],
        truncated_sources=encoded.truncated_sources,
        truncated_targets=encoded.truncated_targets,
    )
    ds = make_dataset(shuffled, config)
    if skip_batches:
        remaining = int(ds.cardinality()) - skip_batches
        ds = ds.skip(skip_batches).apply(tf.data.experimental.assert_cardinality(remaining))
    return ds
