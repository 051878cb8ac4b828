"""SegRNN (Lin et al. 2023, "SegRNN: Segment Recurrent Neural Network for Long-Term Time Series Forecasting").

Section 3.1, segment-wise iterations: the history of L steps is cut into N = L / w segments, each segment is
embedded by ``Linear(w, d) + ReLU`` and a GRU runs over the N segments (N recurrent steps instead of L).
Section 3.2, parallel multi-step forecasting (PMF): each of the M = H / w output segments gets a query made of a
relative-position embedding and a channel (series) embedding; all M queries run one GRU step from the encoder's
final state at once, and ``Linear(d, w)`` turns each output into a segment of the forecast.

A linear skip and covariates extend the paper: past and future covariates of a segment are flattened into its embedding input, future
covariates of each output segment and the static context are added to its query.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.forecast.models.common import Context, NetConfig, cat_inputs, make_recurrent


class SegRNN(nn.Module):
    """See the module docstring. ``forward(y, past, future, static, sid, horizon) -> (B, H, K)``."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        w, d = cfg.segment_length, cfg.hidden_size
        self.w = w
        self.n_in = -(-cfg.input_size // w)  # N, input segments (the history is left-padded to N * w)
        self.n_out = -(-cfg.horizon // w)  # M, output segments
        self.embed = nn.Sequential(nn.Linear(w * (1 + cfg.n_past + cfg.n_future), d), nn.ReLU())
        self.rnn = make_recurrent(cfg.cell, d, d, cfg.num_layers)
        self.context = Context(cfg, d // 2)
        half = d // 2 if self.context.size else d
        self.pos = nn.Parameter(torch.randn(self.n_out, half) * 0.02)  # (M, d/2) relative position
        self.fut = nn.Linear(w * cfg.n_future, d) if cfg.n_future else None
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(d, w * cfg.outputs)
        # Not in the paper: a zero-initialised linear path from the history to every output, so lags such as "the
        # same hour one week earlier" reach the forecast exactly instead of through the recurrent state.
        self.skip = nn.Linear(cfg.input_size, self.n_out * w * cfg.outputs) if cfg.linear_skip else None
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)

    def _segments(self, x: Tensor, n: int) -> Tensor:
        """``x (B, T, C)`` -> ``(B, n, w * C)``, left-padding with the first step when T < n * w."""
        B, T, C = x.shape
        pad = n * self.w - T
        if pad > 0:
            x = torch.cat([x[:, :1].expand(B, pad, C), x], 1)
        return x.reshape(B, n, self.w * C)

    def _decode(self, q: Tensor, state) -> Tensor:
        """One recurrent step from each window's encoder state for each of its M queries: ``q (B, M, d)`` and
        state fields ``(layers, B, d)`` -> ``(B, M, d)``.

        Equal to running ``self.rnn`` one step over ``B * M`` rows with every state repeated M times, but the state
        half of each gate (``W_hh h``) is computed once per window and broadcast over its M queries: a cell's step is
        elementwise in its batch dimensions, so a ``(B, 1, d)`` state meets ``(B, M, G)`` input gates. That halves the
        decoder's matrix products, the bulk of the work at long horizons (M = 30 at horizon 720 with w = 24).
        """
        x, cells = q, self.rnn.cells
        for k, cell in enumerate(cells):
            x, _ = cell.step_projected(cell.project_input(x), tuple(f[k].unsqueeze(1) for f in state))
            if self.rnn.dropout and self.training and k < len(cells) - 1:
                x = F.dropout(x, self.rnn.dropout, True)
        return x

    def forward(self, y: Tensor, past: Tensor, future: Tensor, static: Tensor, sid: Tensor,
                horizon: int | None = None) -> Tensor:
        cfg, w, M = self.cfg, self.w, self.n_out
        B, L = y.shape
        # [B, L, 1] + [B, L, Cp] + [B, L, Cf] -> segments [B, N, w * (1 + Cp + Cf)]
        x = self._segments(cat_inputs(y.unsqueeze(-1), past, future[:, :L]), self.n_in)
        _, state = self.rnn(self.embed(x))  # state fields (layers, B, d)
        q = self.pos.unsqueeze(0).expand(B, M, -1)  # (B, M, d/2 or d)
        ctx = self.context(static, sid)  # (B, d/2) or None
        if ctx is not None:
            q = torch.cat([q, ctx.unsqueeze(1).expand(B, M, ctx.shape[-1])], -1)  # -> (B, M, d)
        if self.fut is not None:
            f = future[:, L:]
            f = F.pad(f, (0, 0, 0, M * w - f.shape[1]))  # (B, M * w, Cf), zero beyond the horizon
            q = q + self.fut(f.reshape(B, M, w * cfg.n_future))
        h = self._decode(q, state)  # (B, M, d), one step per query
        out = self.out(self.drop(h)).reshape(B, M * w, cfg.outputs)  # (B, M * w, K)
        if self.skip is not None:
            out = out + self.skip(y).view(B, M * w, cfg.outputs)
        return out[:, :cfg.horizon if horizon is None else horizon]
