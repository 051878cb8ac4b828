"""``TranslatorConfig``: every hyperparameter of a translator, validated, JSON round-trippable, saved with the model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from rnnkit.translate.attention import ATTENTIONS
from rnnkit.translate.tokenizer import KINDS

CELLS = ("gru", "lstm")


@dataclass
class TranslatorConfig:
    """Model, tokenizer and decoding settings of a :class:`~rnnkit.translate.Translator`."""

    # --- model
    cell: str = "lstm"  # "lstm" | "gru": the recurrent cell of encoder and decoder (LSTM measured far better)
    attention: str = "general"  # "additive" (Bahdanau) | "dot" | "general" (Luong)
    embed_size: int = 256  # E: token embeddings and the attentional output vector
    hidden_size: int = 256  # H: encoder (per direction) and decoder hidden size
    num_layers: int = 1  # stacked layers in encoder and decoder
    dropout: float = 0.2  # on embeddings, between layers and on the attentional vector
    input_feeding: bool = True  # Luong sec. 3.3: feed the previous attentional vector to the next step
    # Share the target embedding with the output layer (Press & Wolf 2017): +2.6 BLEU on small_parallel_enja at
    # two batch sizes (benchmarks/translate/RESULTS.md), and fewer parameters.
    tie_embeddings: bool = True
    # --- training objective
    label_smoothing: float = 0.1  # Szegedy et al. 2016; spreads this much target mass over the vocabulary
    scheduled_sampling: float = 0.0  # Bengio et al. 2015: probability of feeding the model's own prediction
    # --- tokenization
    src_tokenizer: str = "unigram"  # "unigram" | "bpe" (SentencePiece) | "word" (pre-tokenized) | "char"
    tgt_tokenizer: str = "unigram"  # same choices, for the target side
    src_vocab_size: int = 8000  # largest source vocabulary (a soft limit for SentencePiece)
    tgt_vocab_size: int = 8000  # largest target vocabulary
    min_freq: int = 1  # word / char vocabularies: rarer tokens become <unk>
    max_src_len: int = 100  # source tokens kept; longer sentences are truncated with a warning
    max_tgt_len: int = 100  # target tokens kept in training; also the default decoding limit
    # --- decoding defaults
    beam_size: int = 5  # default beam width of translate()
    length_penalty: float = 0.6  # GNMT alpha (Wu et al. 2016, eq. 14); 0 = raw log-probability

    def __post_init__(self):
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        for name in ("src_tokenizer", "tgt_tokenizer"):
            if getattr(self, name) not in KINDS:
                raise ValueError(f"{name} must be one of {KINDS}, got {getattr(self, name)!r}")
        for name in ("embed_size", "hidden_size", "num_layers", "src_vocab_size", "tgt_vocab_size", "min_freq",
                     "max_src_len", "max_tgt_len", "beam_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("dropout", "label_smoothing", "scheduled_sampling"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        if self.length_penalty < 0:
            raise ValueError(f"length_penalty must be >= 0, got {self.length_penalty!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TranslatorConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown TranslatorConfig keys {unknown}; known keys: {sorted(known)}")
        return cls(**d)
