"""Output heads and losses: point (MAE / MSE), quantiles (pinball loss) and parametric (Gaussian, Student-t).

A network emits ``out (B, H, K)``; :class:`OutputSpec` says what the K columns mean, how to score them against the
target ``y (B, H)``, and how to read a point forecast and quantiles from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

LOSSES = ("mae", "mse", "huber", "quantile", "gaussian", "student_t")


@dataclass(frozen=True)
class OutputSpec:
    """What the K output columns are.

    Args:
        loss: one of ``LOSSES``.
        quantiles: for ``"quantile"``, the levels learned (0.5 always included; its column is the point forecast);
            for the parametric losses, the levels reported as interval columns.
    """

    loss: str = "mae"
    quantiles: tuple[float, ...] = ()

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        bad = [q for q in self.quantiles if not 0.0 < q < 1.0]
        if bad:
            raise ValueError(f"quantiles must lie strictly between 0 and 1, got {bad}")
        if self.quantiles and self.loss in ("mae", "mse", "huber"):
            raise ValueError(f"quantiles need loss='quantile', 'gaussian' or 'student_t', not {self.loss!r}")
        qs = tuple(sorted(set(self.quantiles) | ({0.5} if self.loss == "quantile" else set())))
        object.__setattr__(self, "quantiles", qs)

    @property
    def size(self) -> int:
        """K, the number of outputs per horizon step."""
        return {"quantile": len(self.quantiles), "gaussian": 2, "student_t": 3}.get(self.loss, 1)

    def masks(self, device=None) -> tuple[Tensor, Tensor]:
        """``(location (K,), is_scale (K,))`` bool masks used to (de)normalise outputs."""
        if self.loss in ("gaussian", "student_t"):
            loc = [True, False] + [False] * (self.size - 2)
            sc = [False, True] + [False] * (self.size - 2)
        else:
            loc, sc = [True] * self.size, [False] * self.size
        return torch.tensor(loc, device=device), torch.tensor(sc, device=device)

    def activate(self, raw: Tensor) -> Tensor:
        """Map raw network outputs ``(B, H, K)`` to valid parameters (positive scale, degrees of freedom > 2)."""
        if self.loss == "gaussian":
            return torch.stack([raw[..., 0], F.softplus(raw[..., 1]) + 1e-4], -1)
        if self.loss == "student_t":
            return torch.stack([raw[..., 0], F.softplus(raw[..., 1]) + 1e-4, 2.0 + F.softplus(raw[..., 2])], -1)
        return raw

    def loss_fn(self, out: Tensor, y: Tensor) -> Tensor:
        """Mean loss of activated outputs ``out (B, H, K)`` against ``y (B, H)``."""
        if self.loss == "mae":
            return (out[..., 0] - y).abs().mean()
        if self.loss == "mse":
            return ((out[..., 0] - y) ** 2).mean()
        if self.loss == "huber":
            return F.huber_loss(out[..., 0], y, delta=1.0)
        if self.loss == "quantile":
            q = torch.tensor(self.quantiles, device=out.device, dtype=out.dtype)  # (K,)
            e = y.unsqueeze(-1) - out  # (B, H, K)
            return torch.maximum(q * e, (q - 1) * e).mean() * 2  # x2: equals MAE at q = 0.5 alone
        mu, sigma = out[..., 0], out[..., 1]
        if self.loss == "gaussian":
            return (torch.log(sigma) + 0.5 * ((y - mu) / sigma) ** 2).mean() + 0.5 * math.log(2 * math.pi)
        nu = out[..., 2]
        return -torch.distributions.StudentT(nu, mu, sigma).log_prob(y).mean()

    def point(self, out: Tensor) -> Tensor:
        """Point forecast ``(B, H)``: the median for quantiles, the mean / location otherwise.

        The median is read after sorting the quantile outputs, as ``quantile_values`` reports them, so ``yhat``
        always equals ``yhat_q0.5`` and lies inside every interval, even where an undertrained model's raw
        quantile outputs cross.
        """
        if self.loss == "quantile":
            return out.sort(dim=-1).values[..., self.quantiles.index(0.5)]
        return out[..., 0]

    def quantile_values(self, out: np.ndarray) -> np.ndarray:
        """``out (B, H, K)`` on the series scale -> ``(B, H, Q)`` values at ``self.quantiles`` (sorted, no crossing)."""
        if not self.quantiles:
            return np.zeros(out.shape[:2] + (0,), out.dtype)
        if self.loss == "quantile":
            return np.sort(out, axis=-1)
        from scipy import stats

        mu, sigma = out[..., :1], out[..., 1:2]
        q = np.asarray(self.quantiles)
        z = stats.norm.ppf(q) if self.loss == "gaussian" else stats.t.ppf(q, out[..., 2:3])
        return (mu + sigma * z).astype(out.dtype)
