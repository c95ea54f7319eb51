# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.config import EOS_ID, PAD_ID, SOS_ID, UNK_ID, TokenizerConfig
from keras_s2s.tokenizer import Tokenizer

SENTENCES = [
    "The cat sits on the mat.",
    "Where is the train station?",
    "Die Katze sitzt auf der Matte.",
    "Wo ist der Bahnhof? Grüße aus München.",
    "고양이가 매트 위에 앉아 있어요.",
    "기차역이 어디에 있어요?",
    "2024년 3월 5일 화요일",
]


@pytest.fixture(scope="module", params=["unigram", "bpe"])
def multilingual(request):
    texts = SENTENCES * 20
    return Tokenizer.train(texts, TokenizerConfig(vocab_size=120, model_type=request.param))


def _graph_ids(tok, texts):
    return tok.tokenize(tf.constant(texts)).to_list()


def test_special_ids_are_fixed(multilingual):
    assert multilingual.id_to_piece([PAD_ID, UNK_ID, SOS_ID, EOS_ID]) == [
        "<pad>",
        "<unk>",
        "<sos>",
        "<eos>",
    ]


def test_round_trip_english_german_korean(multilingual):
    ids = multilingual.encode(SENTENCES)
    assert UNK_ID not in {i for row in ids for i in row}
    assert multilingual.decode(ids) == SENTENCES
    # The in-graph tokenizer gives exactly the Python ids and inverts them.
    assert _graph_ids(multilingual, SENTENCES) == ids
    padded = tf.ragged.constant(ids).to_tensor()
    out = multilingual.detokenize(padded).numpy()
    assert [s.decode("utf-8") for s in out] == SENTENCES


def test_emoji_and_unknown_scripts_become_unk(multilingual):
    texts = ["😀", "ᚠᛇᚻ ᛒᛦᚦ", "cat 🐈 Katze", "", "   "]
    graph = _graph_ids(multilingual, texts)
    assert graph == multilingual.encode(texts)
    assert UNK_ID in graph[0] and UNK_ID in graph[1] and UNK_ID in graph[2]
    # Known words around the emoji survive.
    assert multilingual.decode([graph[2]])[0].startswith("cat")
    assert graph[3] == [] and graph[4] == []
    out = multilingual.detokenize(tf.ragged.constant(graph[:3]).to_tensor()).numpy()
    assert all("⁇" in s.decode("utf-8") for s in out)


def test_detokenize_stops_at_eos_and_drops_pad_and_sos(multilingual):
    ids = multilingual.encode(["The cat"])[0]
    row = [SOS_ID, *ids, EOS_ID, *ids, PAD_ID]
    out = multilingual.detokenize(tf.constant([row, [EOS_ID] + [PAD_ID] * (len(row) - 1)]))
    assert [s.decode() for s in out.numpy()] == ["The cat", ""]
    assert multilingual.decode([row]) == ["The cat"]


def test_identity_normalization_keeps_whitespace():
    code = ["def f(x):\n\treturn x  + 1", "for i in range(3):\n    print(i)"]
    tok = Tokenizer.train(code * 30, TokenizerConfig(vocab_size=60, normalization="identity"))
    ids = tok.encode(code)
    assert tok.decode(ids) == code
    out = tok.detokenize(tf.ragged.constant(ids).to_tensor()).numpy()
    assert [s.decode() for s in out] == code
    prose = Tokenizer.train(code * 30, TokenizerConfig(vocab_size=60))
    assert prose.decode(prose.encode(code)) != code  # nmt_nfkc folds the whitespace


def test_char_and_word_kinds():
    texts = ["the cat sat", "the dog sat", "a cat ran"] * 10
    char = Tokenizer.train(texts, TokenizerConfig(kind="char", vocab_size=50))
    pieces = char.id_to_piece(char.encode(["cat"])[0])
    assert pieces == ["▁", "c", "a", "t"] or pieces == ["▁c", "a", "t"]
    assert all(len(p.lstrip("▁")) <= 1 for p in pieces)
    word = Tokenizer.train(texts, TokenizerConfig(kind="word", vocab_size=50))
    ids = word.encode(["the cat flew"])[0]
    assert len(ids) == 3 and ids[2] == UNK_ID and UNK_ID not in ids[:2]
    assert _graph_ids(word, ["the cat flew"])[0] == ids


def test_save_and_load(tmp_path, multilingual):
    path = multilingual.save(tmp_path)
    again = Tokenizer.load(path)
    assert again.model_proto == multilingual.model_proto
    assert again.encode(SENTENCES) == multilingual.encode(SENTENCES)


def test_rejects_models_with_other_special_ids(tmp_path):
    import io

    import sentencepiece as spm

    writer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES * 5),
        model_writer=writer,
        vocab_size=80,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    with pytest.raises(ValueError, match="must use pad=0, unk=1, sos=2, eos=3"):
        Tokenizer(writer.getvalue())


def test_vocab_size_grows_to_cover_every_character():
    tok = Tokenizer.train(SENTENCES * 5, TokenizerConfig(vocab_size=10))
    assert tok.vocab_size > 10
    assert tok.decode(tok.encode(SENTENCES)) == SENTENCES


def test_empty_training_corpus_is_an_error():
    with pytest.raises(ValueError, match="empty corpus"):
        Tokenizer.train(["", "  "], TokenizerConfig())


def test_graph_functions_trace(multilingual):
    fn = tf.function(
        lambda s: multilingual.tokenize(s).to_tensor(),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    got = fn(tf.constant(SENTENCES[:2])).numpy()
    want = tf.ragged.constant(multilingual.encode(SENTENCES[:2])).to_tensor().numpy()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "config",
    [
        {"vocab_size": 120},
        {"vocab_size": 120, "model_type": "bpe"},
        {"vocab_size": 120, "normalization": "identity"},
        {"vocab_size": 60, "kind": "char"},
    ],
    ids=["unigram", "bpe", "identity", "char"],
)
def test_graph_detokenize_equals_sentencepiece(config):
    """The in-graph (ONNX-convertible) detokenizer matches the `sentencepiece` package
    on random id rows, which hit unk, control ids mid-row, eos and whitespace pieces at
    the start."""
    texts = SENTENCES * 20 + ["  two  spaces ", "tab\there", "x   y", "        indented"]
    tok = Tokenizer.train(texts, TokenizerConfig(**config))
    ids = np.random.default_rng(0).integers(0, tok.vocab_size, size=(2000, 10), dtype=np.int32)
    expected = [s.encode() for s in tok.decode(ids.tolist())]
    assert tok.detokenize(ids).numpy().tolist() == expected
    assert tok.detokenize(ids[:, :0]).numpy().tolist() == [b""] * 2000
    # Unk renders as SentencePiece's unk surface, also at the start of a text.
    assert tok.detokenize([[UNK_ID, 3]]).numpy().tolist() == [" \u2047 ".encode()]
