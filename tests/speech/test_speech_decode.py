"""Alphabet, greedy and prefix beam search decoding, n-gram LMs and the lexicon constraint."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.speech.alphabet import Alphabet, ctc_min_frames, normalize_text
from rnnkit.speech.decode import DecoderConfig, Lexicon, beam_search, greedy_decode
from rnnkit.speech.lm import CharNGram, WordNGram

AB = Alphabet.from_transcripts(["ab ba"])  # ' ' = 1, 'a' = 2, 'b' = 3


def frames(*rows) -> torch.Tensor:
    """Rows of probabilities over (blank, ' ', a, b) -> (T, V) log-probabilities."""
    p = torch.tensor(rows, dtype=torch.float64)
    return (p / p.sum(1, keepdim=True)).log()


def test_alphabet_round_trip_and_unknown_characters():
    assert AB.chars == [" ", "a", "b"] and len(AB) == 4
    assert AB.decode(AB.encode("  AB  ba ")) == "ab ba"
    with pytest.raises(ValueError, match=r"transcript 'abc' has characters \['c'\] that are not in the alphabet ' ab'"):
        AB.encode("abc")


def test_ctc_min_frames_counts_repeats():
    assert ctc_min_frames([1, 2, 2, 3, 3, 3]) == 6 + 3
    assert ctc_min_frames([]) == 0


def test_greedy_merges_repeats_and_drops_blanks():
    lp = frames([0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1])  # a a _ a b
    assert greedy_decode(lp, AB) == "aab"


def test_beam_search_sums_paths_that_greedy_misses():
    # Best path is blank-blank (""), but "a" collects more probability over all its alignments:
    # P("") = 0.6^2 = 0.36; P("a") = 0.4*0.4 + 0.4*0.6 + 0.6*0.4 = 0.64.
    lp = frames([0.6, 0, 0.4, 0], [0.6, 0, 0.4, 0])
    assert greedy_decode(lp, AB) == ""
    assert beam_search(lp, AB, DecoderConfig(beam_size=4)) == "a"


def test_beam_search_with_beam_one_and_peaky_input_equals_greedy():
    g = torch.Generator().manual_seed(0)
    lp = (torch.randn(30, 4, generator=g) * 8).log_softmax(-1)
    assert beam_search(lp, AB, DecoderConfig(beam_size=8)) == greedy_decode(lp, AB)


def test_char_lm_breaks_an_acoustic_tie():
    lp = frames([0.02, 0, 0.49, 0.49])  # "a" or "b", equally likely
    lm = CharNGram(order=2).fit(["b", "b", "b", "a"])
    assert beam_search(lp, AB, DecoderConfig(beam_size=4), lm=lm) == "b"
    lm = CharNGram(order=2).fit(["a", "a", "a", "b"])
    assert beam_search(lp, AB, DecoderConfig(beam_size=4), lm=lm) == "a"


def test_word_lm_scores_completed_words():
    lm = WordNGram(order=2).fit(["ab ba", "ab ba", "ba ab"])
    assert lm.extend("ab", "a") == 0.0  # inside a word: no score yet
    assert lm.extend("ab", " ") == pytest.approx(math.log(lm.model._p(("<s>",), "ab")))
    assert lm.finish("ab ba") > lm.finish("ab ab")


def test_lexicon_keeps_only_known_words():
    lex = Lexicon(["ab"])
    assert lex.allows("", "a") and lex.allows("a", "b") and not lex.allows("a", "a")
    assert lex.allows("ab", " ") and not lex.allows("a", " ")
    lp = frames([0, 0, 0.9, 0.1], [0, 0, 0.1, 0.9])  # acoustics say "ab" firmly
    assert beam_search(lp, AB, DecoderConfig(beam_size=4), lexicon=Lexicon(["ab"])) == "ab"
    lp = frames([0, 0, 0.9, 0.1], [0, 0, 0.6, 0.4], [1, 0, 0, 0])  # greedy "a"; "a" is not a word, "ab" is
    assert greedy_decode(lp, AB) == "a"
    assert beam_search(lp, AB, DecoderConfig(beam_size=4), lexicon=Lexicon(["ab", "b"])) == "ab"


def test_decoder_config_teaches():
    with pytest.raises(ValueError, match="DecoderConfig.lm must be None, 'char' or 'word', got 'kenlm'"):
        DecoderConfig(lm="kenlm")


@pytest.mark.parametrize("raw, spoken", [
    ("  Well -- it\u2019s 5 o'clock, Bob!", "well it's 5 o'clock bob"),
    ("Zero!", "zero"),
    ("twenty-one / two", "twenty one two"),
    ("\u65e5\u672c\u8a9e\u3001\u3067\u3059\u3002", "\u65e5\u672c\u8a9e\u3067\u3059"),  # Japanese punctuation goes too
    ("na\u00efve  Caf\u00e9", "na\u00efve caf\u00e9"),
])
def test_transcripts_lose_what_is_not_heard(raw, spoken):
    assert normalize_text(raw) == spoken


def test_punctuation_never_enters_the_alphabet():
    alphabet = Alphabet.from_transcripts(["Yes, no!", "No; yes?"])
    assert alphabet.chars == [" ", "e", "n", "o", "s", "y"]
    assert alphabet.encode("YES!") == alphabet.encode("yes")


def test_one_text_typed_two_ways_is_one_transcript():
    """A decomposed "e" + combining accent (macOS, some editors) and full-width letters (Japanese input) score as
    the composed, half-width text they look like."""
    import unicodedata

    assert normalize_text(unicodedata.normalize("NFD", "Caf\u00e9 \u00dcber")) == "caf\u00e9 \u00fcber"
    assert normalize_text("\uff21\uff22\uff23\uff11\uff12") == "abc12"
    from rnnkit.speech.recognizer import error_rates

    assert error_rates(["caf\u00e9"], [normalize_text("cafe\u0301")])["wer"] == 0.0
