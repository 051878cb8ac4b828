"""Attention scores over the encoder's memory: Bahdanau additive, Luong dot and Luong general.

* additive (Bahdanau et al. 2015, eq. 6 / appendix A.1.2): ``score(q, m_s) = v^T tanh(W_q q + W_m m_s)``
* dot (Luong et al. 2015, sec. 3.1): ``score(q, m_s) = q^T m_s``
* general (Luong et al. 2015, sec. 3.1): ``score(q, m_s) = q^T W_a m_s``

Weights ``a = softmax(score)`` over the real source positions (padding masked out) give the context
``c = sum_s a_s m_s``. The memory-side projection is computed once per sentence by :meth:`Attention.keys`, so a
decoding step costs one small matmul.

Shape legend: B batch (times beams while searching), S source length, H decoder hidden, A attention size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

ATTENTIONS = ("additive", "dot", "general")


class Attention(nn.Module):
    """Score a decoder query against the encoder memory.

    Args:
        kind: ``"additive" | "dot" | "general"``.
        hidden_size: H, the size of both the query and the memory vectors.

    Shape:
        - query: (B, H) or (B, T, H); memory: (B, S, H); keys: from :meth:`keys`; mask: (B, S) bool, True at
          real positions.
        - returns context (B, H) and weights (B, S) (or (B, T, H) and (B, T, S)); weights sum to 1 over the
          real positions.
    """

    def __init__(self, kind: str, hidden_size: int):
        super().__init__()
        if kind not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {kind!r}")
        self.kind = kind
        if kind == "additive":
            self.memory_proj = nn.Linear(hidden_size, hidden_size, bias=False)  # W_m
            self.query_proj = nn.Linear(hidden_size, hidden_size, bias=True)  # W_q
            self.v = nn.Linear(hidden_size, 1, bias=False)
        elif kind == "general":
            self.memory_proj = nn.Linear(hidden_size, hidden_size, bias=False)  # W_a, applied to the memory side

    def keys(self, memory: Tensor) -> Tensor:
        """Precompute the memory side of the score: (B, S, H) -> (B, S, H)."""
        return memory if self.kind == "dot" else self.memory_proj(memory)

    def forward(self, query: Tensor, memory: Tensor, keys: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Context and weights for one query per row (B, H), or for T queries per row (B, T, H)."""
        single = query.dim() == 2
        q = query.unsqueeze(1) if single else query  # (B, T, H)
        if self.kind == "additive":
            energy = torch.tanh(keys.unsqueeze(1) + self.query_proj(q).unsqueeze(2))  # (B,1,S,H) + (B,T,1,H)
            scores = self.v(energy).squeeze(-1)  # (B, T, S)
        else:
            scores = torch.bmm(q, keys.transpose(1, 2))  # (B, T, H) @ (B, H, S) -> (B, T, S)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, T, S)
        context = torch.bmm(weights, memory)  # (B, T, S) @ (B, S, H) -> (B, T, H)
        if single:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights
