"""``ForecastModel``: instance normalisation + a forecasting network + an output head, as one ``nn.Module``.

``forward`` returns outputs on the loss scale (the window's own normalised scale); ``predict_params`` maps them
back to the series' scale. With ``transform="log"`` the network reads, and the loss compares, log values, so errors
count relative to the series' level (as sMAPE and MAPE do); forecasts are exponentiated back. Shape legend: B windows,
L history, H horizon, K outputs per step.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.forecast.models import NetConfig, build_net
from rnnkit.forecast.probabilistic import OutputSpec
from rnnkit.forecast.scaling import InstanceNorm


class ForecastModel(nn.Module):
    """Args: ``net`` config, output ``spec``, ``norm`` mode (see :class:`InstanceNorm`), target ``transform``
    (``"none"`` or ``"log"``; the target must then be positive, which the Forecaster checks)."""

    def __init__(self, net: NetConfig, spec: OutputSpec, norm: str = "revin", transform: str = "none"):
        super().__init__()
        self.spec, self.log = spec, transform == "log"
        self.norm = InstanceNorm(norm)
        self.net = build_net(net)
        loc, sc = spec.masks()
        self.register_buffer("location", loc, persistent=False)
        self.register_buffer("is_scale", sc, persistent=False)
        if hasattr(self.net, "point"):  # autoregressive: feed each step's point forecast back, on the input scale
            self.net.point = self._feedback

    def _head(self, raw: Tensor) -> Tensor:
        return self.norm.unaffine(self.spec.activate(raw), self.location, self.is_scale)

    def _feedback(self, raw: Tensor) -> Tensor:
        z = self.spec.point(self._head(raw))  # (B, 1) loss scale
        return z * self.norm.weight + self.norm.bias if self.norm.affine else z

    def forward(self, batch: dict[str, Tensor], horizon: int | None = None, teacher: bool = False
                ) -> tuple[Tensor, Tensor, Tensor]:
        """``batch`` from :func:`rnnkit.forecast.windows.gather` -> ``(out (B, H, K), loc (B, 1), scale (B, 1))``."""
        y = self._in(batch["y"])
        loc, scale = self.norm.stats(y)
        z = self.norm.normalize(y, loc, scale)  # (B, L)
        kw = {}
        if teacher and hasattr(self.net, "point"):
            kw["target"] = self.norm.normalize(self._in(batch["target"]), loc, scale)
        raw = self.net(z, batch["past"], batch["future"], batch["static"], batch["sid"], horizon, **kw)
        return self._head(raw), loc, scale

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        """Training loss of one batch, on the normalised scale (so series of any scale weigh alike)."""
        out, loc, scale = self(batch, teacher=True)
        return self.spec.loss_fn(out, self.norm.target(self._in(batch["target"]), loc, scale))

    def predict_params(self, batch: dict[str, Tensor], horizon: int | None = None) -> Tensor:
        """Outputs on the series' scale, ``(B, H, K)``."""
        out, loc, scale = self(batch, horizon)
        out = self.norm.denormalize(out, loc, scale, self.location, self.is_scale)
        return torch.where(self.location, out.exp(), out) if self.log else out

    def _in(self, y: Tensor) -> Tensor:
        """Series values -> the values the network models (their log under ``transform="log"``)."""
        return y.log() if self.log else y
