"""Word embeddings: random init, or pretrained vectors from a GloVe / word2vec text file.

Both formats are plain text, one word a line followed by its numbers. word2vec's text format starts with a
header line ``"<count> <dim>"``; GloVe has none. :func:`load_vectors` reads either, keeping only the words in the
vocabulary (a 5 GB GloVe file is streamed, never held in memory).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from rnnkit.text.vocab import Vocabulary


def load_vectors(path: str | Path, vocab: Vocabulary, lowercase: bool = True) -> tuple[Tensor, Tensor]:
    """Read pretrained vectors for the words of ``vocab``.

    Args:
        path: a GloVe or word2vec *text* file (UTF-8).
        vocab: the vocabulary whose rows to fill.
        lowercase: also match a file word to the vocabulary after lowercasing (GloVe 840B is cased).

    Returns:
        ``(vectors (V, E), found (V,) bool)``: rows of words absent from the file are zero with found False.
    """
    path = Path(path)
    if not path.is_file():
        raise OSError(f"embedding file {path} does not exist")
    vectors: Tensor | None = None
    found = torch.zeros(len(vocab), dtype=torch.bool)
    dim = None
    with open(path, encoding="utf-8", errors="strict") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if lineno == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue  # word2vec header "count dim"
            if len(parts) < 2:
                continue
            if dim is None:
                dim = len(parts) - 1
                vectors = torch.zeros(len(vocab), dim)
            if len(parts) - 1 != dim:
                raise ValueError(f"{path}:{lineno} has {len(parts) - 1} numbers, expected {dim} like the first "
                                 "line; is this a GloVe / word2vec text file?")
            word = parts[0]
            idx = vocab.index.get(word)
            if idx is None and lowercase:
                idx = vocab.index.get(word.lower())
            if idx is None or found[idx]:
                continue  # exact-case match wins over a later lowercased one
            try:
                vectors[idx] = torch.tensor([float(p) for p in parts[1:]])
            except ValueError:
                raise ValueError(f"{path}:{lineno}: could not read the numbers of word {word!r}") from None
            found[idx] = True
    if vectors is None:
        raise ValueError(f"embedding file {path} holds no vectors")
    return vectors, found


def init_embedding(embedding: torch.nn.Embedding, vectors: Tensor, found: Tensor) -> None:
    """Copy pretrained rows into ``embedding``; words without a vector keep their random init, scaled to match."""
    if vectors.shape[1] != embedding.embedding_dim:
        raise ValueError(f"the vectors file has dimension {vectors.shape[1]} but embed_dim is "
                         f"{embedding.embedding_dim}; set embed_dim={vectors.shape[1]}")
    with torch.no_grad():
        if found.any():
            std = vectors[found].std().item()
            embedding.weight.normal_(0.0, std)
            embedding.weight[found] = vectors[found]
        if embedding.padding_idx is not None:
            embedding.weight[embedding.padding_idx].zero_()
