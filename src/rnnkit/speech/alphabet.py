"""Characters <-> CTC labels. Label 0 is the CTC blank; characters are 1..V.

Example:
    >>> a = Alphabet.from_transcripts(["yes no", "no"])
    >>> a.encode("no yes")
    [3, 4, 1, 6, 2, 5]
    >>> a.decode([3, 4])
    'no'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

BLANK = 0


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})


def _spoken(c: str) -> str:
    """A character as a transcript keeps it: punctuation and symbols are not heard, so they go (dashes and
    slashes join words, so they become spaces); letters, digits, marks and apostrophes stay."""
    if c == "'" or not unicodedata.category(c).startswith(("P", "S")):
        return c
    return " " if c in "-\u2010\u2011\u2012\u2013\u2014/" else ""


def normalize_text(text: str) -> str:
    """How transcripts are learned and compared: Unicode NFKC (so "café" typed as e + a combining accent, or
    full-width "ＡＢＣ", is the same text as the composed form), lower case, punctuation and symbols dropped (an
    apostrophe stays, a dash or slash becomes a space), whitespace collapsed to single spaces, ends stripped.

    Example:
        >>> normalize_text("  Well -- it's 5 o\u2019clock, Bob!")
        "well it's 5 o'clock bob"
    """
    text = unicodedata.normalize("NFKC", str(text).lower()).translate(_APOSTROPHES)
    text = "".join(_spoken(c) for c in text)
    return re.sub(r"\s+", " ", text).strip()


class Alphabet:
    """The output symbols of a CTC model: a blank (label 0) then one label per character.

    Args:
        chars: the characters, in label order (label ``i + 1`` is ``chars[i]``); must include the space
            when transcripts have several words.
    """

    def __init__(self, chars: Iterable[str]):
        chars = list(chars)
        if len(set(chars)) != len(chars) or any(len(c) != 1 for c in chars):
            raise ValueError(f"Alphabet expects distinct single characters, got {chars}")
        if not chars:
            raise ValueError("Alphabet is empty: every transcript was empty; give at least one non-empty transcript")
        self.chars = chars
        self.index = {c: i + 1 for i, c in enumerate(chars)}

    @classmethod
    def from_transcripts(cls, texts: Iterable[str]) -> Alphabet:
        """Every character seen in the (normalised) transcripts, sorted, space first."""
        seen = set()
        for t in texts:
            seen.update(normalize_text(t))
        return cls(sorted(seen))

    def __len__(self) -> int:
        """Number of labels including the blank (the model's output size)."""
        return len(self.chars) + 1

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` that have no label."""
        return sorted({c for c in normalize_text(text) if c not in self.index})

    def encode(self, text: str) -> list[int]:
        """Transcript -> labels in 1..V; characters outside the alphabet raise ValueError naming them."""
        text = normalize_text(text)
        missing = self.unknown(text)
        if missing:
            raise ValueError(f"transcript {text!r} has characters {missing} that are not in the alphabet "
                             f"{''.join(self.chars)!r}")
        return [self.index[c] for c in text]

    def decode(self, labels: Iterable[int]) -> str:
        """Labels (no blanks expected; blanks are skipped) -> text, whitespace normalised."""
        return normalize_text("".join(self.chars[i - 1] for i in labels if i != BLANK))

    def to_list(self) -> list[str]:
        return list(self.chars)


def ctc_min_frames(labels: list[int]) -> int:
    """Frames CTC needs for a label sequence: one per label plus a blank between each repeated pair."""
    repeats = sum(1 for a, b in zip(labels, labels[1:]) if a == b)
    return len(labels) + repeats
