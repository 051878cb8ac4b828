"""CTC decoding in plain torch / Python: greedy, and prefix beam search with an LM hook and a lexicon.

No compiled dependency (ctcdecode's build failures are a known pain). The beam search follows Hannun et al. 2014,
"First-Pass Large Vocabulary Continuous Speech Recognition using Bi-Directional Recurrent DNNs", section 3.1:
each prefix keeps two probabilities, ending in a blank (``pb``) and ending in a character (``pnb``), so that
repeated characters separated by a blank are told apart from one held character.

    score(prefix) = log(pb + pnb) + lm_weight * log P_lm(prefix) + word_bonus * words(prefix)

Example:
    >>> text = greedy_decode(log_probs, alphabet)                        # doctest: +SKIP
    >>> text = beam_search(log_probs, alphabet, DecoderConfig(beam_size=8), lm=CharNGram(5).fit(texts))
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from rnnkit.speech.alphabet import BLANK, Alphabet

NEG_INF = float("-inf")


@dataclass
class DecoderConfig:
    """How log-probabilities become text; saved with the model."""

    beam_size: int = 1  # 1 = greedy decoding; > 1 = prefix beam search
    lm: str | None = None  # None, "char" or "word": an n-gram built from the training transcripts
    lm_order: int = 4  # n of the n-gram
    lm_weight: float = 0.5  # alpha: weight of the LM log-probability
    word_bonus: float = 0.0  # beta: added per word, counters the LM's preference for short outputs
    lexicon: bool = False  # only emit words seen in the training transcripts
    prune_logp: float = -10.0  # skip characters whose frame log-probability is below this (speed)

    def __post_init__(self):
        if self.beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {self.beam_size}")
        if self.lm not in (None, "char", "word"):
            raise ValueError(f"DecoderConfig.lm must be None, 'char' or 'word', got {self.lm!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DecoderConfig:
        return cls(**d)


def greedy_labels(log_probs: Tensor) -> list[int]:
    """Best label per frame, repeats merged, blanks removed: (T, V) -> labels."""
    best = log_probs.argmax(-1).tolist()  # (T,)
    out, prev = [], BLANK
    for k in best:
        if k != prev and k != BLANK:
            out.append(k)
        prev = k
    return out


def greedy_decode(log_probs: Tensor, alphabet: Alphabet) -> str:
    """(T, V) log-probabilities -> text by best path."""
    return alphabet.decode(greedy_labels(log_probs))


class Lexicon:
    """Allowed words, as the set of every word and every word prefix (a flat trie)."""

    def __init__(self, words: Iterable[str]):
        self.words = {w for w in words if w}
        if not self.words:
            raise ValueError("Lexicon is empty: give at least one word")
        self.prefixes = {w[:i] for w in self.words for i in range(len(w) + 1)}

    def allows(self, text: str, char: str) -> bool:
        """May ``char`` follow ``text``? Inside a word: the word must stay a prefix; a space ends a known word."""
        last = text.rsplit(" ", 1)[-1]
        if char == " ":
            return last in self.words
        return last + char in self.prefixes

    def complete(self, text: str) -> bool:
        last = text.rsplit(" ", 1)[-1]
        return last == "" or last in self.words


def _lse(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def beam_search(log_probs: Tensor, alphabet: Alphabet, config: DecoderConfig, lm=None,
                lexicon: Lexicon | None = None) -> str:
    """CTC prefix beam search over one utterance.

    Args:
        log_probs: (T, V) log-probabilities (blank = label 0).
        alphabet: maps labels to characters.
        config: beam size, LM weight, word bonus, pruning threshold.
        lm: an object with ``extend(text, char) -> logp`` and ``finish(text) -> logp`` (see :mod:`rnnkit.speech.lm`).
        lexicon: restrict the output to these words.

    Returns:
        The best text.
    """
    lp = log_probs.detach().float().cpu()
    T, V = lp.shape
    chars = [""] + alphabet.chars
    space = alphabet.index.get(" ")
    alpha, beta = config.lm_weight, config.word_bonus
    # beams: prefix (tuple of labels) -> [log pb, log pnb]; side tables hold the prefix's text and its LM score
    beams: dict[tuple, list[float]] = {(): [0.0, NEG_INF]}
    text: dict[tuple, str] = {(): ""}
    lm_score: dict[tuple, float] = {(): 0.0}
    rows = lp.tolist()
    for t in range(T):
        row = rows[t]
        cand = [k for k in range(1, V) if row[k] >= config.prune_logp]
        nxt: dict[tuple, list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = _lse(pb, pnb)
            s = nxt.setdefault(prefix, [NEG_INF, NEG_INF])
            s[0] = _lse(s[0], total + row[BLANK])  # stay, ending in blank
            last = prefix[-1] if prefix else None
            if last is not None:
                s[1] = _lse(s[1], pnb + row[last])  # hold the last character
            for k in cand:
                p_k = row[k]
                if k == space and (not prefix or last == space):
                    continue  # no leading or double spaces
                cur = text[prefix]
                if lexicon is not None and not lexicon.allows(cur, chars[k]):
                    continue
                new = prefix + (k,)
                if new not in text:
                    text[new] = cur + chars[k]
                    lm_score[new] = lm_score[prefix] + (lm.extend(cur, chars[k]) if lm is not None else 0.0)
                ns = nxt.setdefault(new, [NEG_INF, NEG_INF])
                # a repeated character only counts as new after a blank
                ns[1] = _lse(ns[1], (pb if k == last else total) + p_k)
        beams = dict(sorted(nxt.items(), key=lambda kv: -_score(kv[0], kv[1], text, lm_score, alpha, beta))
                     [: config.beam_size])

    def final(prefix, probs):
        s = _score(prefix, probs, text, lm_score, alpha, beta)
        if lm is not None:
            s += alpha * lm.finish(text[prefix].rstrip())
        if lexicon is not None and not lexicon.complete(text[prefix]):
            s -= 1e9  # an unfinished word: only if nothing else is left
        return s

    best = max(beams.items(), key=lambda kv: final(*kv))[0]
    return alphabet.decode(best)


def _score(prefix: tuple, probs: list[float], text: dict, lm_score: dict, alpha: float, beta: float) -> float:
    words = len(text[prefix].split())
    return _lse(probs[0], probs[1]) + alpha * lm_score[prefix] + beta * words


def ctc_log_likelihood(log_probs: Tensor, labels: list[list[int]]) -> Tensor:
    """log P(labels | audio), summed over every CTC alignment, for each candidate label sequence.

    Args:
        log_probs: (T, V) log-probabilities of one utterance (blank = label 0).
        labels: n label sequences (an empty one scores the all-blank path).

    Returns:
        (n,) log-likelihoods; ``-inf`` for a sequence too long for the T frames.
    """
    n = len(labels)
    if n == 0:
        return torch.empty(0)
    lp = log_probs.detach().float().cpu()
    nll = torch.nn.functional.ctc_loss(
        lp.unsqueeze(1).expand(-1, n, -1), torch.tensor([x for lab in labels for x in lab], dtype=torch.long),
        torch.full((n,), lp.shape[0], dtype=torch.long), torch.tensor([len(lab) for lab in labels]),
        blank=BLANK, reduction="none", zero_infinity=False)  # (n,)
    return -nll


def decode(log_probs: Tensor, alphabet: Alphabet, config: DecoderConfig, lm=None, lexicon: Lexicon | None = None
           ) -> str:
    """Greedy when ``beam_size == 1`` and there is neither LM nor lexicon, else prefix beam search."""
    if config.beam_size == 1 and lm is None and lexicon is None:
        return greedy_decode(log_probs, alphabet)
    return beam_search(log_probs, alphabet, config, lm, lexicon)


def decode_batch(log_probs: Tensor, lengths: Tensor, alphabet: Alphabet, config: DecoderConfig, lm=None,
                 lexicon: Lexicon | None = None) -> list[str]:
    """(B, T, V) with (B,) lengths -> B texts."""
    return [decode(log_probs[i, : int(n)], alphabet, config, lm, lexicon) for i, n in enumerate(lengths.tolist())]
