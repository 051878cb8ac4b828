"""Learning-rate schedules: linear warm-up, then constant, cosine decay, or reduce-on-plateau.

The learning rate is a pure function of the step count (plus, for "plateau", a factor that drops when the monitor
stalls), so the schedule's whole state is three numbers that travel in the checkpoint as JSON.

    warm-up   lr_s = lr * (s + 1) / warmup_steps                          for s < warmup_steps
    cosine    lr_s = lr * (r + (1 - r) * (1 + cos(pi * p)) / 2),  p = (s - warmup) / (total - warmup)
    plateau   lr_s = lr * max(r, factor ** drops)

with ``r = min_lr_ratio`` (Loshchilov & Hutter 2017 for the cosine form).
"""

from __future__ import annotations

import math
from typing import Any

from rnnkit.train.config import TrainConfig


class Schedule:
    """The learning rate of each optimizer step.

    Args:
        config: supplies ``lr``, ``schedule``, ``warmup_steps``, ``min_lr_ratio``, ``plateau_factor``,
            ``plateau_patience`` and ``mode``.
        total_steps: length of the run in optimizer steps (cosine decays to the floor at this step).

    With ``max_time`` set, cosine also follows the clock when the time budget will end the run first (at the pace
    so far): its progress is then the larger of the steps taken and the time spent, as fractions of their budgets.
    A run cut short by its time budget thus still ends annealed, instead of stopping at a high learning rate; a
    run that finishes its steps in time has the same rates whatever the machine's speed. ``max_time`` alone (no
    step or epoch budget) is a valid length.
    """

    def __init__(self, config: TrainConfig, total_steps: int | None):
        self.config, self.total_steps = config, total_steps
        self.scale = 1.0  # plateau: current reduction factor
        self.best: float | None = None  # plateau: best monitor value seen
        self.bad_evals = 0  # plateau: evaluations since it improved

    def lr(self, step: int, seconds: float = 0.0) -> float:
        """Learning rate for optimizer step ``step`` (0-based: the step about to be taken), ``seconds`` into training."""
        c = self.config
        if step < c.warmup_steps:
            return c.lr * (step + 1) / c.warmup_steps
        if c.schedule == "cosine":
            progress = 0.0
            if self.total_steps:
                progress = (step - c.warmup_steps) / max(1, self.total_steps - c.warmup_steps)
            budget = None if c.max_time is None else c.max_time * 60
            # Follow the clock only when, at the pace so far, the time budget ends the run before its steps do:
            # a run on course to finish its steps in time keeps a schedule that does not depend on the machine's
            # speed, so the same seed gives the same model on a busy machine and on a quiet one.
            if budget is not None and (not self.total_steps or seconds / max(step, 1) * self.total_steps > budget):
                progress = max(progress, seconds / budget)
            progress = min(1.0, progress)
            return c.lr * (c.min_lr_ratio + (1 - c.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
        if c.schedule == "plateau":
            return c.lr * max(c.min_lr_ratio, self.scale)
        return c.lr

    def observe(self, value: float) -> None:
        """Feed one evaluation of the monitor ("plateau" lowers the rate after ``plateau_patience`` stalls)."""
        c = self.config
        if c.schedule != "plateau":
            return
        if self.best is None or improved(value, self.best, c.mode):
            self.best, self.bad_evals = value, 0
            return
        self.bad_evals += 1
        if self.bad_evals > c.plateau_patience:
            self.scale *= c.plateau_factor
            self.bad_evals = 0

    def state_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "best": self.best, "bad_evals": self.bad_evals, "total_steps": self.total_steps}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        self.scale, self.best, self.bad_evals = d["scale"], d["best"], d["bad_evals"]


def improved(value: float, best: float | None, mode: str) -> bool:
    """Whether ``value`` beats ``best`` in direction ``mode`` ("min" or "max"); anything beats None."""
    if best is None:
        return True
    return value < best if mode == "min" else value > best
