"""Tokenizers: text -> list of string tokens, and back.

Three kinds share one small interface (``tokenize``, ``detokenize``, ``to_config``, and ``fit`` for the one that
learns):

* :class:`WordTokenizer`: rule-based words for classification. Splits punctuation off words and the English
  negation clitic ``n't`` (``"don't" -> ["do", "n't"]``, ``"can't" -> ["ca", "n't"]``), as the Penn Treebank and the
  Stanford Sentiment Treebank do, so that ``n't`` is one token whose meaning the model learns once.
* :class:`CharTokenizer`: one token per character, for character-level language models.
* :class:`SentencePieceTokenizer`: a learned subword vocabulary (Kudo & Richardson 2018, the ``sentencepiece``
  package), trained in memory on the user's texts; its model travels as bytes inside the model folder.

Ids are not the tokenizer's business: :class:`rnnkit.text.vocab.Vocabulary` maps tokens to ids.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

# Punctuation characters split off words (but kept as tokens: "!" and "?" carry sentiment).
_PUNCT = r"""!"#$%&()*+,./:;<=>?@\[\\\]^_`{|}~"""
# A token is: a negation clitic, a clitic like 's 're 'll 've 'd 'm, a word (letters, digits, inner - or '),
# or one punctuation character.
_TOKEN_RE = re.compile(
    r"n't\b|'(?:s|re|ll|ve|d|m)\b|[^\s" + re.escape(_PUNCT) + r"]+?(?=n't\b|'(?:s|re|ll|ve|d|m)\b)"
    r"|[^\s" + re.escape(_PUNCT) + r"]+|[" + re.escape(_PUNCT) + r"]",
    re.IGNORECASE,
)


class WordTokenizer:
    """Rule-based word tokenizer that handles punctuation and the negation clitic ``n't``.

    Args:
        lowercase: fold case (sentiment rarely depends on it, and it halves the vocabulary).

    Example:
        >>> WordTokenizer().tokenize("I don't like it, really!")
        ['i', 'do', "n't", 'like', 'it', ',', 'really', '!']
    """

    kind = "word"

    def __init__(self, lowercase: bool = True):
        self.lowercase = lowercase

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into word, clitic and punctuation tokens."""
        if self.lowercase:
            text = text.lower()
        text = text.replace("\u2019", "'")  # typographic apostrophe -> ASCII, so "don’t" splits like "don't"
        # "cannot" is "can not": expose the negation.
        text = re.sub(r"\bcannot\b", "can not", text, flags=re.IGNORECASE)
        return _TOKEN_RE.findall(text)

    def detokenize(self, tokens: list[str]) -> str:
        """Join tokens with spaces (classification never needs the exact original spacing)."""
        return " ".join(tokens)

    def to_config(self) -> dict:
        return {"kind": self.kind, "lowercase": self.lowercase}


class CharTokenizer:
    """One token per character (character-level language models)."""

    kind = "char"

    def tokenize(self, text: str) -> list[str]:
        return list(text)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)

    def to_config(self) -> dict:
        return {"kind": self.kind}


class SentencePieceTokenizer:
    """Subword tokenizer learned with ``sentencepiece`` (unigram or BPE), trained in memory.

    Newlines are kept as a token of their own (a user-defined symbol) and whitespace is not normalised, so a
    language model over subwords can write line breaks and indentation back exactly.

    Args:
        vocab_size: number of pieces to learn; must stay below the number of distinct pieces the text allows.
        model_type: ``"unigram"`` (Kudo 2018) or ``"bpe"`` (Sennrich et al. 2016).
        lowercase: fold case before learning and encoding.

    Example:
        >>> tok = SentencePieceTokenizer(vocab_size=60).fit(["a tiny corpus of words"] * 50)
        >>> tok.detokenize(tok.tokenize("tiny words"))
        'tiny words'
    """

    kind = "sentencepiece"

    def __init__(self, vocab_size: int = 4000, model_type: str = "unigram", lowercase: bool = False):
        if model_type not in ("unigram", "bpe"):
            raise ValueError(f"model_type must be 'unigram' or 'bpe', got {model_type!r}")
        if vocab_size < 8:
            raise ValueError(f"vocab_size must be >= 8, got {vocab_size}")
        self.vocab_size, self.model_type, self.lowercase = vocab_size, model_type, lowercase
        self.model_proto_: bytes | None = None
        self._sp = None

    def fit(self, texts: Iterable[str]) -> SentencePieceTokenizer:
        """Learn the pieces from ``texts`` (an iterable of strings: sentences or lines)."""
        import sentencepiece as spm

        lines = [self._norm(t) for t in texts]
        lines = [s for t in lines for s in t.split("\n") if s.strip()]  # newline pieces are user-defined
        if not lines:
            raise ValueError("SentencePieceTokenizer.fit got no non-empty text to learn pieces from")
        buf = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines), model_writer=buf, vocab_size=self.vocab_size,
                model_type=self.model_type, character_coverage=1.0, user_defined_symbols=["\n"],
                normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=False, hard_vocab_limit=False,
                bos_id=-1, eos_id=-1, pad_id=-1, unk_id=0, minloglevel=2, num_threads=1,
            )
        except RuntimeError as e:  # sentencepiece explains e.g. a vocab_size too large for the text
            raise ValueError(f"SentencePieceTokenizer.fit failed: {e}") from None
        return self._load(buf.getvalue())

    def _load(self, proto: bytes) -> SentencePieceTokenizer:
        import sentencepiece as spm

        self.model_proto_ = proto
        self._sp = spm.SentencePieceProcessor(model_proto=proto)
        return self

    @classmethod
    def from_proto(cls, proto: bytes, **config) -> SentencePieceTokenizer:
        """Rebuild a fitted tokenizer from its serialized model (as saved in a model folder)."""
        return cls(**config)._load(proto)

    def _norm(self, text: str) -> str:
        return text.lower() if self.lowercase else text

    def tokenize(self, text: str) -> list[str]:
        if self._sp is None:
            raise ValueError("SentencePieceTokenizer is not fitted: call fit(texts) first")
        return self._sp.encode(self._norm(text), out_type=str)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens).replace("\u2581", " ")

    def to_config(self) -> dict:
        return {"kind": self.kind, "vocab_size": self.vocab_size, "model_type": self.model_type,
                "lowercase": self.lowercase}


TOKENIZERS = ("word", "char", "sentencepiece")


def make_tokenizer(config: dict, proto: bytes | None = None):
    """Build a tokenizer from ``to_config()`` output (``proto``: the sentencepiece model bytes, when fitted)."""
    config = dict(config)
    kind = config.pop("kind", None)
    if kind == "word":
        return WordTokenizer(**config)
    if kind == "char":
        return CharTokenizer()
    if kind == "sentencepiece":
        return SentencePieceTokenizer.from_proto(proto, **config) if proto else SentencePieceTokenizer(**config)
    raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {kind!r}")
