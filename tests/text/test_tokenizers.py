from __future__ import annotations

import pytest

from rnnkit.text import CharTokenizer, SentencePieceTokenizer, Vocabulary, WordTokenizer
from rnnkit.text.tokenizers import make_tokenizer


def test_word_tokenizer_splits_negation_and_punctuation():
    tok = WordTokenizer()
    assert tok.tokenize("I don't like it, really!") == ["i", "do", "n't", "like", "it", ",", "really", "!"]
    assert tok.tokenize("It CAN'T be; he won’t go.") == ["it", "ca", "n't", "be", ";", "he", "wo", "n't", "go", "."]
    assert tok.tokenize("she's cannot") == ["she", "'s", "can", "not"]
    # already tokenized SST text stays as it is
    assert tok.tokenize("they wo n't sit still .") == ["they", "wo", "n't", "sit", "still", "."]
    assert WordTokenizer(lowercase=False).tokenize("Good Film") == ["Good", "Film"]


def test_char_tokenizer_round_trip():
    tok = CharTokenizer()
    text = "ROMEO:\n  O!"
    assert tok.detokenize(tok.tokenize(text)) == text


def test_sentencepiece_learns_and_round_trips_with_newlines():
    lines = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 40
    tok = SentencePieceTokenizer(vocab_size=40).fit(lines)
    text = "the cat sat\n  on the log"
    pieces = tok.tokenize(text)
    assert "\n" in pieces and len(pieces) < len(text)
    assert tok.detokenize(pieces) == text
    again = make_tokenizer(tok.to_config(), tok.model_proto_)
    assert again.tokenize(text) == pieces


def test_sentencepiece_misuse():
    with pytest.raises(ValueError, match="SentencePieceTokenizer is not fitted: call fit"):
        SentencePieceTokenizer().tokenize("x")
    with pytest.raises(ValueError, match="model_type must be 'unigram' or 'bpe', got 'wordpiece'"):
        SentencePieceTokenizer(model_type="wordpiece")
    with pytest.raises(ValueError, match="got no non-empty text"):
        SentencePieceTokenizer().fit(["", "  "])
    with pytest.raises(ValueError, match="tokenizer must be one of"):
        make_tokenizer({"kind": "bytes"})


def test_vocabulary_ids_unknown_and_frequency():
    v = Vocabulary.build([["a", "b", "a"], ["c", "a", "b"]], min_freq=2)
    assert v.tokens == ["<pad>", "<unk>", "a", "b"]
    assert v.encode(["a", "c", "zzz"]) == [2, 1, 1]
    assert v.decode([3, 2]) == ["b", "a"]
    assert Vocabulary.from_list(v.to_list()).tokens == v.tokens
    assert len(Vocabulary.build([["x", "y", "z"]], max_size=3)) == 3
    with pytest.raises(ValueError, match=r"a Vocabulary must start with \['<pad>', '<unk>'\]"):
        Vocabulary(["a", "b"])
