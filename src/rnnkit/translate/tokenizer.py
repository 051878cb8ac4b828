"""Tokenizers for translation: SentencePiece (unigram / BPE) trained on the corpus, whitespace words, characters.

Every tokenizer shares four special ids: ``PAD=0, UNK=1, BOS=2, EOS=3``. SentencePiece learns its pieces from raw
text, so Japanese (no spaces) needs no external dictionary (Kudo & Richardson 2018). ``"word"`` keeps the tokens of an
already tokenized corpus; ``"char"`` splits into characters (spaces kept as tokens). Unknown pieces map to ``UNK`` and
never raise. A tokenizer serialises to bytes (``to_bytes`` / ``from_bytes``) and travels inside the model folder.

Example:
    >>> tok = Tokenizer.train(["a cat sat", "a dog ran"], kind="word")
    >>> tok.decode(tok.encode("a cat ran"))
    'a cat ran'
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
KINDS = ("unigram", "bpe", "word", "char")


class Tokenizer:
    """Text <-> ids. Build with :meth:`train`; ``kind`` is one of ``unigram | bpe | word | char``."""

    def __init__(self, kind: str, vocab: list[str] | None = None, spm_bytes: bytes | None = None):
        if kind not in KINDS:
            raise ValueError(f"tokenizer kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self._spm_bytes = spm_bytes
        if kind in ("unigram", "bpe"):
            import sentencepiece as spm

            if spm_bytes is None:
                raise ValueError(f"a {kind} tokenizer needs its trained SentencePiece model")
            self._sp = spm.SentencePieceProcessor(model_proto=spm_bytes)
            self.vocab = [self._sp.id_to_piece(i) for i in range(self._sp.get_piece_size())]
        else:
            if vocab is None or vocab[: len(SPECIALS)] != SPECIALS:
                raise ValueError(f"a {kind} tokenizer needs a vocabulary starting with {SPECIALS}")
            self._sp = None
            self.vocab = list(vocab)
            self._index = {t: i for i, t in enumerate(self.vocab)}

    # ------------------------------------------------------------------------------------------- training
    @classmethod
    def train(cls, sentences: Iterable[str], kind: str = "unigram", vocab_size: int = 8000, min_freq: int = 1,
              character_coverage: float = 0.9995) -> Tokenizer:
        """Learn a vocabulary from ``sentences``.

        Args:
            sentences: training text, one sentence per item.
            kind: ``unigram`` / ``bpe`` (SentencePiece), ``word`` (split on whitespace) or ``char``.
            vocab_size: the largest vocabulary, specials included (a soft limit for SentencePiece on small corpora).
            min_freq: ``word`` / ``char``: drop tokens seen fewer times (they become ``UNK``).
            character_coverage: SentencePiece: share of characters covered; rarer ones become ``UNK``.
        """
        if kind not in KINDS:
            raise ValueError(f"tokenizer kind must be one of {KINDS}, got {kind!r}")
        sentences = [s for s in sentences if s.strip()]
        if not sentences:
            raise ValueError("cannot train a tokenizer on no text: every sentence is empty")
        if kind in ("word", "char"):
            counts = Counter(t for s in sentences for t in _split(s, kind))
            ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
            return cls(kind, vocab=SPECIALS + ranked[: max(0, vocab_size - len(SPECIALS))])
        import sentencepiece as spm

        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences), model_writer=model, model_type=kind, vocab_size=vocab_size,
            hard_vocab_limit=False,  # small corpora: shrink the vocabulary rather than fail
            character_coverage=character_coverage, pad_id=PAD, unk_id=UNK, bos_id=BOS, eos_id=EOS,
            normalization_rule_name="identity",  # exact round trips: no NFKC folding of full-width text
            num_threads=1, minloglevel=2,
        )
        return cls(kind, spm_bytes=model.getvalue())

    # ------------------------------------------------------------------------------------------- encode
    def __len__(self) -> int:
        return len(self.vocab)

    def tokens(self, text: str) -> list[str]:
        """The pieces of ``text`` (unknown pieces kept as their surface form)."""
        if self._sp is not None:
            return self._sp.encode(text, out_type=str)
        return _split(text, self.kind)

    def encode(self, text: str) -> list[int]:
        """Ids of ``text`` without BOS / EOS; unknown pieces become ``UNK``."""
        if self._sp is not None:
            return self._sp.encode(text)
        return [self._index.get(t, UNK) for t in _split(text, self.kind)]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; specials (PAD, BOS, EOS) are dropped, ``UNK`` prints as ``<unk>``."""
        ids = [int(i) for i in ids if int(i) not in (PAD, BOS, EOS)]
        if self._sp is not None:
            return self._sp.decode(ids)
        pieces = [self.vocab[i] if 0 <= i < len(self.vocab) else SPECIALS[UNK] for i in ids]
        return (" " if self.kind == "word" else "").join(pieces)

    def id_to_piece(self, i: int) -> str:
        return self.vocab[i] if 0 <= i < len(self.vocab) else SPECIALS[UNK]

    # ---------------------------------------------------------------------------------------- serialise
    def to_bytes(self) -> bytes:
        """SentencePiece: the model proto; word / char: a JSON header and vocabulary."""
        if self._sp is not None:
            return self._spm_bytes
        return json.dumps({"kind": self.kind, "vocab": self.vocab}, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, kind: str, data: bytes) -> Tokenizer:
        """Inverse of :meth:`to_bytes`; ``kind`` comes from the model's config."""
        if kind in ("unigram", "bpe"):
            return cls(kind, spm_bytes=data)
        payload = json.loads(data.decode("utf-8"))
        return cls(kind, vocab=payload["vocab"])

    def __repr__(self) -> str:
        return f"Tokenizer(kind={self.kind!r}, vocab_size={len(self)})"


def _split(text: str, kind: str) -> list[str]:
    if kind == "word":
        return text.split()
    return list(" ".join(text.split()))  # char: collapse runs of whitespace, keep single spaces as tokens
