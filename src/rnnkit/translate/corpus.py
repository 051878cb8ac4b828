"""From sentence lists to padded id tensors: checks, truncation with a warning, bucketing-friendly collation.

Shape legend: B batch, S source length, T target length (BOS and EOS included).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import Tensor

from rnnkit.datasets.parallel import pair_lines
from rnnkit.translate.tokenizer import BOS, EOS, PAD, Tokenizer


def check_sentences(sentences, name: str) -> list[str]:
    """A list of strings, or a ValueError that names ``name`` and the offending item."""
    if isinstance(sentences, str):
        raise ValueError(f"{name} must be a list of sentences, got a single string; wrap it in a list")
    sentences = list(sentences)
    for i, s in enumerate(sentences):
        if not isinstance(s, str):
            raise ValueError(f"{name}[{i}] must be a string, got {type(s).__name__}")
    return sentences


def clean_pairs(src, tgt, src_name: str = "source", tgt_name: str = "target") -> tuple[list[str], list[str], int]:
    """Check both sides, require equal counts, and skip pairs with an empty side (warns with the count)."""
    src, tgt = check_sentences(src, src_name), check_sentences(tgt, tgt_name)
    pairs = pair_lines(src, tgt, src_name, tgt_name, unit="sentences")
    if pairs.skipped:
        warnings.warn(f"skipped {pairs.skipped} sentence pair(s) with an empty side", stacklevel=3)
    if not pairs.src:
        raise ValueError(f"no sentence pairs left: all {len(src)} pairs have an empty side")
    return pairs.src, pairs.tgt, pairs.skipped


def encode_all(tok: Tokenizer, sentences: Sequence[str], max_len: int, what: str) -> list[list[int]]:
    """Token ids of every sentence, cut to ``max_len`` tokens; one warning counts the sentences cut."""
    ids = [tok.encode(s) for s in sentences]
    long = sum(len(x) > max_len for x in ids)
    if long:
        warnings.warn(f"{long} {what} sentence(s) longer than {max_len} tokens were truncated to {max_len} "
                      f"(raise max_{'src' if what == 'source' else 'tgt'}_len to keep them)", stacklevel=3)
    return [x[:max_len] for x in ids]


def pad(seqs: Sequence[Sequence[int]]) -> tuple[Tensor, Tensor]:
    """Right-pad id lists into (B, max_len) with PAD; returns the ids and the lengths (B,)."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    out = torch.full((len(seqs), int(lengths.max())), PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out, lengths


def collate(samples: Sequence[tuple[list[int], list[int]]]) -> tuple[Tensor, Tensor, Tensor]:
    """``[(src_ids, tgt_ids)] -> (src (B, S), lengths (B,), tgt (B, T))`` with ``tgt = BOS ids EOS PAD...``."""
    src, lengths = pad([s for s, _ in samples])
    tgt, _ = pad([[BOS, *t, EOS] for _, t in samples])
    return src, lengths, tgt
