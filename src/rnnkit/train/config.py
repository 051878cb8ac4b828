"""``TrainConfig``: every knob of the training loop in one validated dataclass that round-trips to JSON.

Example:
    >>> cfg = TrainConfig(max_epochs=5, lr=3e-3, schedule="cosine", warmup_steps=20)
    >>> TrainConfig.from_dict(cfg.to_dict()) == cfg
    True
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

SCHEDULES = ("constant", "cosine", "plateau")
PRECISIONS = ("auto", "bf16", "fp32")
MODES = ("min", "max")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


@dataclass
class TrainConfig:
    """Settings of ``Trainer.fit``. Budgets stop the run; at the end the model holds the best weights by ``monitor``.

    Only the budgets (``max_epochs``, ``max_steps``, ``max_time``) and ``progress`` may change between a run and its
    resumption without breaking the bit-for-bit replay.
    """

    max_epochs: int | None = 10  # budget in passes over the training batches; None = no epoch limit
    max_steps: int | None = None  # budget in optimizer steps (one step = grad_accum batches); None = no limit
    max_time: float | None = None  # budget in minutes of training (summed across resumptions); None = no limit
    lr: float = 1e-3  # peak AdamW learning rate, reached after warm-up
    weight_decay: float = 0.0  # AdamW decoupled weight decay (Loshchilov & Hutter 2019)
    clip_grad_norm: float | None = 1.0  # clip the global gradient norm to this; RNNs need it against exploding gradients
    schedule: str = "cosine"  # "constant" | "cosine" (linear warm-up, then cosine decay) | "plateau" (reduce on plateau)
    warmup_steps: int = 0  # optimizer steps of linear warm-up from lr/warmup_steps to lr (all schedules)
    min_lr_ratio: float = 0.0  # floor of the learning rate as a fraction of lr (end of cosine, bottom of plateau)
    plateau_factor: float = 0.5  # "plateau": multiply the learning rate by this when the monitor stalls
    plateau_patience: int = 2  # "plateau": evaluations without improvement before the learning rate drops
    ema_decay: float | None = None  # keep a moving average of the weights with this decay (e.g. 0.999) and evaluate,
    #                                 keep and return the average (see rnnkit.train.averaging); None = off
    early_stopping_patience: int | None = None  # evaluations without improvement of `monitor` before stopping
    monitor: str = "val_loss"  # metric that picks the best weights; falls back to train_loss without validation
    mode: str = "min"  # "min" if a lower monitor is better (losses), "max" if higher is better (accuracy, BLEU)
    grad_accum: int = 1  # batches whose gradients add up before one optimizer step (a bigger effective batch)
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA, fp32 elsewhere) | "bf16" (CUDA only) | "fp32"
    seed: int = 0  # seeds torch, numpy and python random at the start of fit, so seeded runs repeat
    device: str = "auto"  # "auto" (cuda when available) | "cpu" | "cuda" | "cuda:N" | "mps"
    num_threads: int | None = None  # torch CPU threads; None leaves torch's default
    eval_every: int | None = None  # optimizer steps between evaluations; None = once per epoch
    checkpoint_every: int | None = None  # extra checkpoints every N optimizer steps (finer resume); None = at evaluations
    progress: bool = True  # progress bar on a terminal, one line per evaluation otherwise; False = silent

    def __post_init__(self) -> None:
        _positive_int(self, "max_epochs", allow_none=True)
        _positive_int(self, "max_steps", allow_none=True)
        if self.max_time is not None and not (_is_number(self.max_time) and self.max_time > 0):
            raise ValueError(f"TrainConfig.max_time must be a positive number of minutes or None, got {self.max_time!r}")
        if self.max_epochs is None and self.max_steps is None and self.max_time is None:
            raise ValueError("TrainConfig needs a budget: set max_epochs, max_steps or max_time (minutes)")
        if not (_is_number(self.lr) and self.lr > 0):
            raise ValueError(f"TrainConfig.lr must be a number > 0, got {self.lr!r}")
        if not (_is_number(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"TrainConfig.weight_decay must be a number >= 0, got {self.weight_decay!r}")
        if self.clip_grad_norm is not None and not (_is_number(self.clip_grad_norm) and self.clip_grad_norm > 0):
            raise ValueError(f"TrainConfig.clip_grad_norm must be a number > 0 or None (no clipping), "
                             f"got {self.clip_grad_norm!r}")
        _choice(self, "schedule", SCHEDULES)
        _positive_int(self, "warmup_steps", minimum=0)
        if not (_is_number(self.min_lr_ratio) and 0 <= self.min_lr_ratio <= 1):
            raise ValueError(f"TrainConfig.min_lr_ratio must be in [0, 1], got {self.min_lr_ratio!r}")
        if not (_is_number(self.plateau_factor) and 0 < self.plateau_factor < 1):
            raise ValueError(f"TrainConfig.plateau_factor must be in (0, 1), got {self.plateau_factor!r}")
        _positive_int(self, "plateau_patience", minimum=0)
        check_ema_decay(self.ema_decay, "TrainConfig.ema_decay")
        _positive_int(self, "early_stopping_patience", allow_none=True)
        if not isinstance(self.monitor, str) or not self.monitor:
            raise ValueError(f"TrainConfig.monitor must be a metric name such as 'val_loss', got {self.monitor!r}")
        _choice(self, "mode", MODES)
        _positive_int(self, "grad_accum")
        _choice(self, "precision", PRECISIONS)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ValueError(f"TrainConfig.seed must be an integer in [0, 2**32), got {self.seed!r}")
        if not isinstance(self.device, str) or not _DEVICE.match(self.device):
            raise ValueError(f"TrainConfig.device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {self.device!r}")
        _positive_int(self, "num_threads", allow_none=True)
        _positive_int(self, "eval_every", allow_none=True)
        _positive_int(self, "checkpoint_every", allow_none=True)
        if not isinstance(self.progress, bool):
            raise ValueError(f"TrainConfig.progress must be True or False, got {self.progress!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of ``to_dict``; unknown keys are an error (a typo would otherwise be silently ignored)."""
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"TrainConfig got unknown keys {unknown}; known keys: {known}")
        return cls(**d)


def check_ema_decay(value: Any, name: str = "ema_decay") -> None:
    """A weight-averaging decay is None (off) or a number in (0, 1); ``name`` is how the error calls it."""
    if value is not None and not (_is_number(value) and 0 < value < 1):
        raise ValueError(f"{name} must be in (0, 1), e.g. 0.999, or None (no weight averaging), got {value!r}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positive_int(cfg: TrainConfig, name: str, minimum: int = 1, allow_none: bool = False) -> None:
    v = getattr(cfg, name)
    if v is None and allow_none:
        return
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"TrainConfig.{name} must be {what}{' or None' if allow_none else ''}, got {v!r}")


def _choice(cfg: TrainConfig, name: str, options: tuple[str, ...]) -> None:
    v = getattr(cfg, name)
    if v not in options:
        raise ValueError(f"TrainConfig.{name} must be one of {', '.join(map(repr, options))}, got {v!r}")
