"""Autoregressive decoding (DeepAR-style, Salinas et al. 2020): one step at a time, so a fitted model forecasts any
horizon. Training uses teacher forcing: the input at step t is ``y_{t-1}``; the loss covers the H steps after the
history. At predict time each step's point forecast is fed back as the next input.

Past covariates exist up to the forecast start only: from there on they are zero and a flag input says so, so no
value of a past covariate from the future can reach the network.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.forecast.models.common import Context, NetConfig, cat_inputs, make_recurrent


class AutoregressiveNet(nn.Module):
    """See the module docstring. ``forward(y, past, future, static, sid, horizon, target=None) -> (B, H, K)``."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        self.context = Context(cfg, 16)
        n_in = 2 + cfg.n_past + cfg.n_future + self.context.size  # y_{t-1}, is-future flag, covariates, context
        self.rnn = make_recurrent(cfg.model, n_in, cfg.hidden_size, cfg.num_layers)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden_size, cfg.outputs)
        self.point = None  # set by the Forecaster: raw (B, 1, K) -> point (B, 1) for feeding back

    def _inputs(self, y_prev: Tensor, flag: Tensor, past: Tensor, future: Tensor, ctx: Tensor | None) -> Tensor:
        B, T = y_prev.shape
        c = ctx.unsqueeze(1).expand(B, T, ctx.shape[-1]) if ctx is not None else None
        # [B, T, 1] + [B, T, 1] + [B, T, Cp] + [B, T, Cf] + [B, T, E]
        return cat_inputs(y_prev.unsqueeze(-1), flag.unsqueeze(-1), past, future, c)

    def forward(self, y: Tensor, past: Tensor, future: Tensor, static: Tensor, sid: Tensor,
                horizon: int | None = None, target: Tensor | None = None) -> Tensor:
        H = horizon or self.cfg.horizon
        B, L = y.shape
        ctx = self.context(static, sid)
        zeros = y.new_zeros(B, L)
        # History: inputs y_{t-1} for t = 1..L-1, outputs predict y_1..y_{L-1}; the last step predicts y_L.
        x = self._inputs(y[:, :-1], zeros[:, 1:], past[:, :-1], future[:, 1:L], ctx)
        if target is not None:  # teacher forcing over the horizon: inputs y_{L-1}, target_{0..H-2}
            prev = torch.cat([y[:, -1:], target[:, :H - 1]], 1)  # (B, H)
            ones = y.new_ones(B, H)
            xf = self._inputs(prev, ones, past.new_zeros(B, H, past.shape[-1]), future[:, L:L + H], ctx)
            h, _ = self.rnn(torch.cat([x, xf], 1))  # (B, L - 1 + H, hidden)
            return self.out(self.drop(h[:, L - 1:]))  # (B, H, K)
        _, state = self.rnn(x) if L > 1 else (None, None)
        outs, prev = [], y[:, -1:]
        for k in range(H):
            xk = self._inputs(prev, y.new_ones(B, 1), past.new_zeros(B, 1, past.shape[-1]),
                              future[:, L + k:L + k + 1], ctx)
            h, state = self.rnn(xk, state)  # (B, 1, hidden)
            o = self.out(self.drop(h))  # (B, 1, K)
            outs.append(o)
            prev = self.point(o) if self.point is not None else o[..., 0]
        return torch.cat(outs, 1)
