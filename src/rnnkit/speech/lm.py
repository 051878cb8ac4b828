"""Tiny n-gram language models built from training transcripts, for CTC prefix beam search.

Both models answer two questions during the search: how much does appending this character change the
log-probability of the text (:meth:`extend`), and how much does ending the text here add (:meth:`finish`).
The character model scores every character; the word model scores a word when it is completed (a space is
emitted, or the utterance ends).

Smoothing is interpolated Witten-Bell: ``P(w | h) = (c(h, w) + N1+(h .) P(w | h')) / (c(h) + N1+(h .))``
with ``h'`` the context shortened by one and a uniform distribution at the bottom, so unseen events keep some
probability and the model needs no tuning.

Example:
    >>> lm = CharNGram(order=3).fit(["one two", "two one"])
    >>> lm.extend("tw", "o") > lm.extend("tw", "x")
    True
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable

from rnnkit.speech.alphabet import normalize_text

BOS, EOS = "<s>", "</s>"


class _WittenBell:
    """Counts of n-grams over a token vocabulary with interpolated Witten-Bell probabilities."""

    def __init__(self, order: int):
        if order < 1:
            raise ValueError(f"n-gram order must be >= 1, got {order}")
        self.order = order
        self.counts: dict[tuple, Counter] = defaultdict(Counter)  # context -> next-token counts
        self.vocab: set[str] = set()
        self._cache: dict[tuple, float] = {}

    def add(self, tokens: list[str]) -> None:
        seq = [BOS] * (self.order - 1) + tokens + [EOS]
        self.vocab.update(tokens + [EOS])
        for i in range(self.order - 1, len(seq)):
            for n in range(self.order):  # every context length 0..order-1
                self.counts[tuple(seq[i - n:i])][seq[i]] += 1

    def logp(self, context: tuple, token: str) -> float:
        context = context[len(context) - (self.order - 1):] if self.order > 1 else ()
        key = (context, token)
        if key not in self._cache:
            self._cache[key] = math.log(self._p(context, token))
        return self._cache[key]

    def _p(self, context: tuple, token: str) -> float:
        lower = self._p(context[1:], token) if context else 1.0 / (len(self.vocab) + 1)
        c = self.counts.get(context)
        if not c:
            return lower
        total, types = sum(c.values()), len(c)
        return (c[token] + types * lower) / (total + types)


class CharNGram:
    """Character n-gram over the transcripts (space is a character).

    Args:
        order: n; 4-6 suits small vocabularies such as digits.
    """

    def __init__(self, order: int = 5):
        self.order = order
        self.model = _WittenBell(order)

    def fit(self, texts: Iterable[str]) -> CharNGram:
        for t in texts:
            self.model.add(list(normalize_text(t)))
        return self

    def _context(self, text: str) -> tuple:
        n = self.order - 1
        ctx = tuple(text[-n:]) if n else ()
        return (BOS,) * (n - len(ctx)) + ctx

    def extend(self, text: str, char: str) -> float:
        """log P(char | text so far)."""
        return self.model.logp(self._context(text), char)

    def finish(self, text: str) -> float:
        """log P(end | text)."""
        return self.model.logp(self._context(text), EOS)

    def to_dict(self) -> dict:
        return {"kind": "char", "order": self.order}


class WordNGram:
    """Word n-gram over the transcripts; a word is scored once it is complete.

    Args:
        order: n; 2-3 for small corpora.
    """

    def __init__(self, order: int = 2):
        self.order = order
        self.model = _WittenBell(order)

    def fit(self, texts: Iterable[str]) -> WordNGram:
        for t in texts:
            self.model.add(normalize_text(t).split())
        return self

    def _score_last_word(self, text: str) -> float:
        words = text.split()
        if not words:
            return 0.0
        ctx = tuple([BOS] * (self.order - 1) + words[:-1])
        return self.model.logp(ctx, words[-1])

    def extend(self, text: str, char: str) -> float:
        """Zero inside a word; at a space, log P(completed word | previous words)."""
        if char != " " or not text or text.endswith(" "):
            return 0.0
        return self._score_last_word(text)

    def finish(self, text: str) -> float:
        """Score the last word (if not yet scored) and the end of the sentence."""
        words = text.split()
        last = 0.0 if (not words or text.endswith(" ")) else self._score_last_word(text)
        return last + self.model.logp(tuple([BOS] * (self.order - 1) + words), EOS)

    def to_dict(self) -> dict:
        return {"kind": "word", "order": self.order}


def build_lm(kind: str | None, order: int, texts: Iterable[str]) -> CharNGram | WordNGram | None:
    """``kind`` "char" | "word" | None -> a fitted model (or None)."""
    if kind is None or kind == "none":
        return None
    if kind == "char":
        return CharNGram(order).fit(texts)
    if kind == "word":
        return WordNGram(order).fit(texts)
    raise ValueError(f"lm kind must be 'char', 'word' or None, got {kind!r}")
