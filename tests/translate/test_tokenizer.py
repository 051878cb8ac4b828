import pytest

from rnnkit.translate.tokenizer import BOS, EOS, PAD, UNK, Tokenizer

EN = ["the cat sat on the mat .", "a dog ran in the park .", "the children play outside .",
      "two men are talking near a car .", "a woman rides a bicycle ."] * 8
JA = ["彼 は 水泳 が 得意 で は な かっ た 。", "私は学生です。", "東京に行きました。", "猫が好きです。",
      "今日はいい天気ですね。"] * 8


@pytest.mark.parametrize("kind", ["unigram", "bpe", "char"])
@pytest.mark.parametrize("corpus", [EN, JA], ids=["en", "ja"])
def test_round_trip(kind, corpus):
    tok = Tokenizer.train(corpus, kind=kind, vocab_size=80)
    for s in corpus[:5]:
        ids = tok.encode(s)
        assert UNK not in ids and all(i not in (PAD, BOS, EOS) for i in ids)
        assert tok.decode(ids) == " ".join(s.split())
    again = Tokenizer.from_bytes(kind, tok.to_bytes())
    assert again.encode(corpus[1]) == tok.encode(corpus[1]) and len(again) == len(tok)


def test_japanese_sentencepiece_learns_pieces_without_a_dictionary():
    tok = Tokenizer.train(JA, kind="bpe", vocab_size=60)
    pieces = tok.tokens("私は学生です。")
    assert any(len(p.strip("▁")) > 1 for p in pieces)  # merged multi-character pieces, not just characters
    assert tok.decode(tok.encode("私は学生です。")) == "私は学生です。"


def test_word_mode_keeps_given_tokens():
    tok = Tokenizer.train(JA, kind="word")
    assert tok.tokens("彼 は 水泳 が") == ["彼", "は", "水泳", "が"]
    assert tok.decode(tok.encode("彼 は 水泳 が")) == "彼 は 水泳 が"


@pytest.mark.parametrize("kind", ["unigram", "bpe", "word", "char"])
def test_unknown_characters_become_unk(kind):
    tok = Tokenizer.train(EN, kind=kind, vocab_size=60)
    ids = tok.encode("the cat ☃ 猫")
    assert UNK in ids and all(0 <= i < len(tok) for i in ids)
    assert isinstance(tok.decode(ids), str)


def test_bad_kind_and_empty_text():
    with pytest.raises(ValueError, match=r"tokenizer kind must be one of \('unigram', 'bpe', 'word', 'char'\), got 'wordpiece'"):
        Tokenizer.train(EN, kind="wordpiece")
    with pytest.raises(ValueError, match="cannot train a tokenizer on no text: every sentence is empty"):
        Tokenizer.train(["", "  "], kind="char")
