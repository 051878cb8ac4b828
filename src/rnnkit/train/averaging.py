"""An exponential moving average of the weights (Polyak & Juditsky 1992), kept beside the trained ones.

    average <- average + w_n * (weights - average),   w_n = (1 - d) / (1 - d ** n),   after optimizer step n

the bias-corrected exponential moving average (as Adam corrects its moments): a true weighted mean in which step k
counts with weight proportional to ``d ** (n - k)``: about the last ``1 / (1 - d)`` steps matter, and the
weights the run started from never do. Such an average tends to sit in a flatter part of the loss surface than
the last iterate (Izmailov et al. 2018) and to generalise better; evaluation, the best weights and the returned
model use it. It pays when the run spans several times ``1 / (1 - d)`` steps; in a shorter one it drags the
untrained early weights along (measured in benchmarks/forecast/RESULTS.md).

Written here rather than with ``torch.optim.swa_utils.AveragedModel``: that class evaluates a deep copy of the
module, so evaluation callbacks and closures that hold the original model would see the wrong weights. Swapping
the average into the model for evaluation keeps every reference valid and the checkpoint a flat tensor dict.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn


class WeightAverage:
    """The moving average of ``model``'s floating-point parameters.

    Args:
        model: the module being trained (its parameters are read after each step, never replaced).
        decay: d in (0, 1); the average spans about ``1 / (1 - d)`` steps (0.999: the last thousand or so).
    """

    def __init__(self, model: nn.Module, decay: float):
        if not 0 < decay < 1:
            raise ValueError(f"the weight-average decay must be in (0, 1), got {decay!r}")
        self.decay = decay
        self.named = [(n, p) for n, p in model.named_parameters() if p.is_floating_point()]
        self.shadow = [p.detach().clone() for _, p in self.named]  # w_1 = 1: the first update overwrites these
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current weights into the average (call after each optimizer step)."""
        self.updates += 1
        w = (1 - self.decay) / (1 - self.decay ** self.updates)
        for s, (_, p) in zip(self.shadow, self.named):
            s.lerp_(p.detach(), w)

    @contextmanager
    @torch.no_grad()
    def applied(self) -> Iterator[None]:
        """Within the block the model holds the averaged weights; afterwards its trained ones again."""
        trained = [p.detach().clone() for _, p in self.named]
        self.copy_to()
        try:
            yield
        finally:
            for t, (_, p) in zip(trained, self.named):
                p.copy_(t)

    @torch.no_grad()
    def copy_to(self) -> None:
        """Put the averaged weights into the model for good."""
        for s, (_, p) in zip(self.shadow, self.named):
            p.copy_(s)

    def state_dict(self) -> dict[str, Tensor]:
        """The averaged parameters by name (``updates`` travels separately, as a number)."""
        return {n: s for (n, _), s in zip(self.named, self.shadow)}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Tensor], updates: int) -> None:
        missing = [n for n, _ in self.named if n not in state]
        if missing:
            raise ValueError(f"the saved weight average lacks parameters {missing[:3]}: it belongs to another model")
        for s, (n, _) in zip(self.shadow, self.named):
            s.copy_(state[n])
        self.updates = int(updates)
