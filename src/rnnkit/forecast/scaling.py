"""Instance normalisation of each input window: RevIN (Kim et al. 2022) or last-value subtraction (SegRNN, Lin et al.
2023, section 3.3). Windows from series of any level and scale share one model: the network sees and predicts values on
the window's own scale, and outputs are mapped back to the series' scale.

Shape legend: B windows, L input steps, H horizon steps, K output parameters per step.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

NORMS = ("revin", "last", "mean", "none")
TRANSFORMS = ("none", "log")  # of the target before normalisation; see rnnkit.forecast.network.ForecastModel


class InstanceNorm(nn.Module):
    """Normalise ``y (B, L)`` by its own statistics and undo it on outputs.

    Args:
        mode: ``"revin"`` (subtract the window mean, divide by its std), ``"last"`` (subtract the last value, as
            SegRNN does), ``"mean"`` (subtract the window mean, keep the scale) or ``"none"``.
        affine: learn RevIN's scalar affine map ``z * w + b`` applied after normalising (channel-independent, so one
            pair shared by every series).
        eps: floor on the std so flat windows do not divide by zero.
    """

    def __init__(self, mode: str = "revin", affine: bool = True, eps: float = 1e-5):
        super().__init__()
        if mode not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {mode!r}")
        self.mode, self.eps = mode, eps
        self.affine = affine and mode == "revin"
        if self.affine:
            self.weight = nn.Parameter(torch.ones(1))
            self.bias = nn.Parameter(torch.zeros(1))

    def stats(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """``y (B, L)`` -> ``loc (B, 1)``, ``scale (B, 1)``."""
        if self.mode == "revin":
            loc = y.mean(1, keepdim=True)
            scale = (y.var(1, keepdim=True, unbiased=False) + self.eps).sqrt()
        elif self.mode == "last":
            loc, scale = y[:, -1:], torch.ones_like(y[:, -1:])
        elif self.mode == "mean":
            loc, scale = y.mean(1, keepdim=True), torch.ones_like(y[:, -1:])
        else:
            loc, scale = torch.zeros_like(y[:, :1]), torch.ones_like(y[:, :1])
        return loc.detach(), scale.detach()

    def normalize(self, y: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        """``y (B, T)`` on the series scale -> network input scale (with the affine map)."""
        z = (y - loc) / scale
        return z * self.weight + self.bias if self.affine else z

    def target(self, y: Tensor, loc: Tensor, scale: Tensor) -> Tensor:
        """``y (B, H)`` -> the scale the loss is computed on (no affine map)."""
        return (y - loc) / scale

    def unaffine(self, out: Tensor, location: Tensor, is_scale: Tensor) -> Tensor:
        """Undo the affine map on network outputs ``out (B, H, K)``: location columns (point, quantiles, mean) become
        ``(o - b) / w``, scale columns ``o / |w|``, shape columns stay. ``location``, ``is_scale``: (K,) bool."""
        if not self.affine:
            return out
        w = self.weight.abs() + self.eps
        return torch.where(location, (out - self.bias) / self.weight, torch.where(is_scale, out / w, out))

    @staticmethod
    def denormalize(out: Tensor, loc: Tensor, scale: Tensor, location: Tensor, is_scale: Tensor) -> Tensor:
        """Loss-scale outputs ``(B, H, K)`` -> series scale: locations ``loc + scale * o``, scales ``scale * o``."""
        loc, scale = loc.unsqueeze(-1), scale.unsqueeze(-1)  # (B, 1, 1)
        return torch.where(location, loc + scale * out, torch.where(is_scale, scale * out, out))
