"""A segment recurrent forecaster (SegRNN, Lin et al. 2023, arXiv:2308.11200) on ``rnnkit.nn.GRU``.

Used by the rnnkit "default" row when ``rnnkit.forecast.Forecaster`` is not installed. Section 3 of the paper:
the input is cut into segments of ``seg_len`` points, each embedded by a linear layer + ReLU, and a GRU runs over
the L / seg_len segments (7 steps for one week of half-hours instead of 336). Decoding is parallel (PMF): the
final state is repeated once per output segment and one GRU step reads a position embedding concatenated with a
channel embedding; a linear layer maps each output to ``seg_len`` points.

Normalisation: the last input value is subtracted and added back (the paper's RevIN-free choice). With
``season > 0`` the forecast is a learned correction on top of seasonal naive (``x[t - season + k]``), which
suits series whose input covers a whole season (Taylor: input 336 = one week).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

import rnnkit.nn as rnn


class SegRNN(nn.Module):
    """Segment GRU encoder + parallel multi-step decoder.

    Args:
        input_size: L, input points; must be a multiple of ``seg_len``.
        horizon: H, forecast points; decoded as ceil(H / seg_len) segments and cut to H.
        channels: C, number of channel ids (channel embedding of size d_model / 2).
        seg_len: points per segment, W.
        d_model: GRU width, d.
        dropout: dropout before the output layer.
        season: 0, or the seasonal period whose naive forecast the model corrects (needs H <= season <= L).

    Shape:
        - x: (B, L) z-scored inputs; cid: (B,) channel ids in [0, C).
        - output: (B, H).
    """

    def __init__(self, input_size: int, horizon: int, channels: int, seg_len: int = 48, d_model: int = 128,
                 dropout: float = 0.1, season: int = 0):
        super().__init__()
        if input_size % seg_len:
            raise ValueError(f"SegRNN needs input_size a multiple of seg_len, got {input_size} and {seg_len}")
        if season and not horizon <= season <= input_size:
            raise ValueError(f"SegRNN season must satisfy horizon <= season <= input_size, got {season}")
        self.L, self.H, self.W, self.season = input_size, horizon, seg_len, season
        self.n_y = math.ceil(horizon / seg_len)
        self.embed = nn.Sequential(nn.Linear(seg_len, d_model), nn.ReLU())
        self.rnn = rnn.GRU(d_model, d_model)
        self.pos = nn.Parameter(torch.randn(self.n_y, d_model // 2))
        self.chan = nn.Parameter(torch.randn(channels, d_model - d_model // 2))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(d_model, seg_len))

    def forward(self, x: Tensor, cid: Tensor) -> Tensor:
        B = x.shape[0]
        last = x[:, -1:]  # (B, 1)
        seg = (x - last).view(B, self.L // self.W, self.W)  # (B, n_x, W)
        _, state = self.rnn(self.embed(seg))  # state.h (1, B, d)
        pe = torch.cat([self.pos.unsqueeze(0).expand(B, -1, -1),  # (B, n_y, d/2)
                        self.chan[cid].unsqueeze(1).expand(-1, self.n_y, -1)], -1)  # + (B, n_y, d/2) -> (B, n_y, d)
        h0 = state.h.repeat_interleave(self.n_y, dim=1)  # (1, B * n_y, d)
        y, _ = self.rnn(pe.reshape(B * self.n_y, 1, -1), rnn.RNNState(h0))  # (B * n_y, 1, d)
        out = self.head(y).view(B, self.n_y * self.W)[:, :self.H]  # (B, H)
        if self.season:
            k = torch.arange(self.H, device=x.device) % self.season
            return out + x[:, self.L - self.season + k]  # correction + seasonal naive
        return out + last


def default_config(spec) -> dict:
    """The default row's settings per task: model size, batch, learning rate, epoch cap and patience."""
    if spec.notes.get("tiny"):  # harness tests
        model = dict(seg_len=spec.input_size // 2, d_model=16, dropout=0.0, season=0)
        return dict(model=model, batch_size=64, lr=1e-3, max_epochs=max(spec.epochs, 1), patience=1)
    if spec.name == "taylor":
        model = dict(seg_len=48, d_model=128, dropout=0.1, season=336)
        return dict(model=model, batch_size=32, lr=1e-3, max_epochs=20, patience=3)
    seg = 24 if spec.input_size % 24 == 0 else spec.input_size
    model = dict(seg_len=seg, d_model=256, dropout=0.3, season=0)
    return dict(model=model, batch_size=256, lr=1e-3, max_epochs=10, patience=2)
