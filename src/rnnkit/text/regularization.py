"""AWD-LSTM regularisers (Merity et al. 2018, "Regularizing and Optimizing LSTM Language Models", section 4).

* :class:`LockedDropout`: variational dropout (Gal & Ghahramani 2016): one mask per sequence, shared by every
  time step, on the embeddings, between layers and on the output.
* :class:`DropConnect` + :func:`weight_drop`: DropConnect (Wan et al. 2013) on the hidden-to-hidden matrices
  ``W_hh``, installed with ``torch.nn.utils.parametrize`` so the fused LSTM kernel still runs; the mask is drawn
  once per forward call (under ``parametrize.cached()``), so it is the same at every time step.
* :func:`embedding_dropout`: drop whole words (rows of the embedding matrix) for the whole batch.
"""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional as F
from torch.nn.utils import parametrize


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence: ``x (B, T, F)`` is multiplied by a mask ``(B, 1, F)``."""

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - self.p) / (1 - self.p)  # (B, 1, F)
        return x * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


class DropConnect(nn.Module):
    """A parametrization that zeroes weights with probability ``p`` while training (scaled by ``1/(1-p)``)."""

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"weight_drop must be in [0, 1), got {p}")
        self.p = p

    def forward(self, w: Tensor) -> Tensor:
        return F.dropout(w, self.p, self.training)


def weight_drop(recurrent: nn.Module, p: float) -> nn.Module:
    """Install DropConnect on ``weight_hh`` of every cell of an ``rnnkit.nn.Recurrent`` layer (in place).

    Run the layer under ``torch.nn.utils.parametrize.cached()`` so one mask serves the whole sequence.
    """
    if p > 0:
        for cell in recurrent.cells:
            parametrize.register_parametrization(cell, "weight_hh", DropConnect(p))
    return recurrent


def embedding_dropout(embedding: nn.Embedding, ids: Tensor, p: float, training: bool) -> Tensor:
    """Look up ``ids (B, T)`` with whole rows of the embedding dropped with probability ``p``: ``(B, T, E)``."""
    weight = embedding.weight
    if training and p > 0:
        mask = weight.new_empty(weight.shape[0], 1).bernoulli_(1 - p) / (1 - p)  # (V, 1)
        weight = weight * mask
    return F.embedding(ids, weight, embedding.padding_idx)


__all__ = ["LockedDropout", "DropConnect", "weight_drop", "embedding_dropout"]
