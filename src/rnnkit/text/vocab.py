"""``Vocabulary``: string tokens <-> integer ids, with padding and unknown-token ids.

Ids 0 and 1 are reserved: ``<pad>`` (0, fills short sequences in a batch) and ``<unk>`` (1, any token not seen
often enough in training). The vocabulary saves as a plain JSON list of tokens.

Example:
    >>> v = Vocabulary.build([["a", "b", "a"], ["c"]], min_freq=1)
    >>> v.encode(["a", "zzz"])
    [2, 1]
    >>> v.decode([2, 3])
    ['a', 'b']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

PAD, UNK = "<pad>", "<unk>"


class Vocabulary:
    """An ordered token list; ``index[token]`` is its id.

    Args:
        tokens: every token in id order; the first two must be ``<pad>`` and ``<unk>``.
    """

    pad_id, unk_id = 0, 1

    def __init__(self, tokens: list[str]):
        if list(tokens[:2]) != [PAD, UNK]:
            raise ValueError(f"a Vocabulary must start with {[PAD, UNK]}, got {list(tokens[:2])}")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a Vocabulary must not repeat tokens")
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, sequences: Iterable[list[str]], min_freq: int = 1, max_size: int | None = None) -> Vocabulary:
        """Count tokens over ``sequences`` and keep those seen ``>= min_freq`` times, most frequent first.

        Ties are broken by first appearance, so the same data always gives the same ids.
        """
        if min_freq < 1:
            raise ValueError(f"min_freq must be >= 1, got {min_freq}")
        counts: Counter[str] = Counter()
        for seq in sequences:
            counts.update(seq)
        kept = [t for t, n in counts.most_common() if n >= min_freq and t not in (PAD, UNK)]
        if max_size is not None:
            kept = kept[: max(0, max_size - 2)]
        return cls([PAD, UNK] + kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens: list[str]) -> list[int]:
        """Tokens -> ids; unknown tokens map to ``unk_id``."""
        get, unk = self.index.get, self.unk_id
        return [get(t, unk) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Ids -> tokens (padding included; callers drop it where they need to)."""
        return [self.tokens[int(i)] for i in ids]

    def to_list(self) -> list[str]:
        return list(self.tokens)

    @classmethod
    def from_list(cls, tokens: list[str]) -> Vocabulary:
        return cls(tokens)
