"""``Ensemble``: several translation networks decoded as one, by averaging their next-token probabilities.

Each member keeps its own encoder memory and decoder state; at every step the members' distributions are
averaged in probability space, ``log(1/N sum_i p_i(y | ...))`` (the rule of fairseq's ensemble decoding), and the
search picks from the average. The ensemble follows the search protocol of :mod:`rnnkit.translate.model`
(``start``, ``step``, ``reorder``), so greedy and beam search run on it unchanged.

The members must share the target vocabulary; :meth:`rnnkit.translate.Translator.ensemble` checks that their
tokenizers are identical before building one.

Example:
    >>> from rnnkit.translate.config import TranslatorConfig
    >>> from rnnkit.translate.model import Seq2Seq
    >>> nets = [Seq2Seq(TranslatorConfig(embed_size=8, hidden_size=8), 20, 30).eval() for _ in range(2)]
    >>> memory, state = Ensemble(nets).start(torch.randint(4, 20, (2, 5)), torch.tensor([5, 3]))
    >>> log_probs, state, weights = Ensemble(nets).step(torch.tensor([1, 1]), memory, state)
    >>> log_probs.shape, weights.shape
    (torch.Size([2, 30]), torch.Size([2, 5]))
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn


class EnsembleMemory(NamedTuple):
    """One encoder memory per member."""

    members: tuple

    def repeat(self, k: int) -> EnsembleMemory:
        return EnsembleMemory(tuple(m.repeat(k) for m in self.members))


class EnsembleState(NamedTuple):
    """One decoder state per member."""

    members: tuple

    def select(self, index: Tensor) -> EnsembleState:
        return EnsembleState(tuple(s.select(index) for s in self.members))


class Ensemble(nn.Module):
    """Networks that decode together. ``models``: two or more networks with the same target vocabulary."""

    def __init__(self, models):
        super().__init__()
        models = list(models)
        if len(models) < 2:
            raise ValueError(f"an ensemble needs at least 2 models, got {len(models)}")
        self.models = nn.ModuleList(models)

    def start(self, src: Tensor, lengths: Tensor) -> tuple[EnsembleMemory, EnsembleState]:
        """Encode ``src (B, S)`` with every member."""
        pairs = [m.start(src, lengths) for m in self.models]
        return EnsembleMemory(tuple(p[0] for p in pairs)), EnsembleState(tuple(p[1] for p in pairs))

    def step(self, prev: Tensor, memory: EnsembleMemory, state: EnsembleState
             ) -> tuple[Tensor, EnsembleState, Tensor]:
        """Mean-probability log-distribution (B, V), the new states, and the mean attention weights (B, S)."""
        outs = [m.step(prev, mem, st) for m, mem, st in zip(self.models, memory.members, state.members)]
        log_probs = torch.stack([o[0] for o in outs])  # (N, B, V)
        mean = torch.logsumexp(log_probs, 0) - math.log(len(outs))  # (B, V); -inf stays -inf
        weights = torch.stack([o[2].float() for o in outs]).mean(0)  # (B, S)
        return mean, EnsembleState(tuple(o[1] for o in outs)), weights

    @staticmethod
    def reorder(state: EnsembleState, index: Tensor) -> EnsembleState:
        return state.select(index)
