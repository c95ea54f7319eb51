# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import numpy as np
import pytest

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID, DataConfig, TrainConfig
from keras_s2s.input_pipeline import encode_pairs, epoch_order, make_dataset, make_epoch_dataset


@pytest.fixture(scope="module")
def encoded(small_corpus, tokenizer):
    return encode_pairs(small_corpus.train, tokenizer, DataConfig(max_target_length=64))


def _all_batches(ds):
    return [(x["source_ids"].numpy(), x["decoder_input_ids"].numpy(), y.numpy()) for x, y in ds]


def test_decoder_input_is_target_shifted_right(encoded, small_corpus, tokenizer):
    ds = make_dataset(encoded, TrainConfig(batch_size=16))
    for _, dec_in, labels in _all_batches(ds):
        assert (dec_in[:, 0] == SOS_ID).all()
        # The decoder input at t+1 is the label at t, for every label before eos.
        real = (labels[:, :-1] != PAD_ID) & (labels[:, :-1] != EOS_ID)
        np.testing.assert_array_equal(dec_in[:, 1:][real], labels[:, :-1][real])
        # Each row of labels ends with exactly one eos, followed only by padding.
        for row in labels:
            n = int((row != PAD_ID).sum())
            assert row[n - 1] == EOS_ID and (row[n:] == PAD_ID).all()
            assert EOS_ID not in row[: n - 1]


def test_labels_spell_the_target(encoded, small_corpus, tokenizer):
    source, target = small_corpus.train[0]
    assert tokenizer.decode([encoded.target[0][1:]]) == [target]
    assert tokenizer.decode([encoded.source[0]]) == [source]


def test_every_pair_appears_once_per_epoch_with_bucketing(encoded):
    config = TrainConfig(batch_size=16, bucket_width=3, seed=1)
    ds = make_epoch_dataset(encoded, config, epoch=0)
    batches = _all_batches(ds)
    assert len(batches) == ds.cardinality().numpy()
    seen = sorted(tuple(int(i) for i in row if i) for _, _, labels in batches for row in labels)
    want = sorted(tuple(int(i) for i in t[1:]) for t in encoded.target)
    assert seen == want
    # Bucketing keeps padding low: every batch is padded only to its own longest row.
    for src, _, labels in batches:
        assert (src[:, -1] != PAD_ID).any() or (labels[:, -1] != PAD_ID).any()


def test_epoch_order_depends_only_on_seed_and_epoch(encoded):
    def first_labels(seed, epoch):
        ds = make_epoch_dataset(encoded, TrainConfig(batch_size=8, seed=seed), epoch)
        return next(iter(ds))[1].numpy()

    np.testing.assert_array_equal(first_labels(3, 0), first_labels(3, 0))
    assert not np.array_equal(first_labels(3, 0), first_labels(4, 0))
    assert not np.array_equal(first_labels(3, 0), first_labels(3, 1))
    np.testing.assert_array_equal(epoch_order(10, 1, 2), epoch_order(10, 1, 2))


def test_skipping_batches_resumes_the_same_epoch(encoded):
    config = TrainConfig(batch_size=8, seed=5)
    full = _all_batches(make_epoch_dataset(encoded, config, 2))
    rest = make_epoch_dataset(encoded, config, 2, skip_batches=7)
    assert rest.cardinality().numpy() == len(full) - 7
    for got, want in zip(_all_batches(rest), full[7:], strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_datasets_are_not_autotuned(encoded):
    # An autotuned iterator's deletion waits for tf.data's optimisation thread, which
    # stalled the end of many epochs' `fit` for 20-30 s (docs/design.md).
    config = TrainConfig(batch_size=8)
    for ds in (
        make_dataset(encoded, config),
        make_epoch_dataset(encoded, config, 1, skip_batches=2),
    ):
        assert ds.options().autotune.enabled is False


def test_truncation_is_applied_and_counted(small_corpus, tokenizer):
    limits = DataConfig(max_source_length=5, max_target_length=4)
    enc = encode_pairs(small_corpus.train[:200], tokenizer, limits)
    assert max(len(s) for s in enc.source) == 5
    assert max(len(t) for t in enc.target) == 5  # sos + 3 tokens + eos
    full = encode_pairs(small_corpus.train[:200], tokenizer, DataConfig())
    assert enc.truncated_sources == sum(len(s) > 5 for s in full.source) > 0
    assert enc.truncated_targets == sum(len(t) - 2 > 3 for t in full.target) > 0
    assert all(t[-1] == EOS_ID for t in enc.target)


def test_empty_corpus_is_an_error(tokenizer):
    enc = encode_pairs([], tokenizer, DataConfig())
    with pytest.raises(ValueError, match="empty corpus"):
        make_dataset(enc, TrainConfig())


def test_target_vocabulary_lists_the_special_ids_then_the_target_ids():
    from keras_s2s.input_pipeline import Encoded, target_vocabulary, to_target_space

    enc = Encoded(
        source=[np.array([40, 41]), np.array([42])],
        target=[np.array([SOS_ID, 9, 5, EOS_ID]), np.array([SOS_ID, 5, 17, EOS_ID])],
        truncated_sources=0,
        truncated_targets=0,
    )
    ids = target_vocabulary(enc)
    assert ids == [0, 1, 2, 3, 5, 9, 17]
    mapped = to_target_space(enc, ids)
    assert [t.tolist() for t in mapped.target] == [[SOS_ID, 5, 4, EOS_ID], [SOS_ID, 4, 6, EOS_ID]]
    assert [s.tolist() for s in mapped.source] == [[40, 41], [42]]
    other = Encoded(
        source=[np.array([40])],
        target=[np.array([SOS_ID, 9, 33, EOS_ID])],
        truncated_sources=0,
        truncated_targets=0,
    )
    # A piece the training targets never had (validation data, say) becomes unk.
    assert to_target_space(other, ids).target[0].tolist() == [SOS_ID, 5, 1, EOS_ID]
