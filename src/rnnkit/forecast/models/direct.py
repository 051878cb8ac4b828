"""A recurrent encoder with a direct multi-horizon head (the MQ-RNN family, Wen et al. 2017).

The encoder reads ``[y_t, past_t, future_t]`` for the L history steps; the head maps the last hidden state, the
future covariates over the horizon and the series context to all H x K outputs at once. A linear skip from the
history to the horizon carries the bulk of level and seasonality, so the recurrent part learns the rest.
"""

from __future__ import annotations

from torch import Tensor, nn

from rnnkit.forecast.models.common import Context, NetConfig, cat_inputs, make_recurrent


class DirectNet(nn.Module):
    """See the module docstring. ``forward(y, past, future, static, sid, horizon) -> (B, H, K)``."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        self.cfg = cfg
        H, L = cfg.hidden_size, cfg.input_size
        self.context = Context(cfg, 16)
        self.rnn = make_recurrent(cfg.model, 1 + cfg.n_past + cfg.n_future + self.context.size, H, cfg.num_layers)
        head_in = H + cfg.horizon * cfg.n_future + self.context.size
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Sequential(nn.Linear(head_in, H), nn.ReLU(), nn.Linear(H, cfg.horizon * cfg.outputs))
        self.skip = nn.Linear(L, cfg.horizon * cfg.outputs)

    def forward(self, y: Tensor, past: Tensor, future: Tensor, static: Tensor, sid: Tensor,
                horizon: int | None = None) -> Tensor:
        cfg = self.cfg
        B, L = y.shape
        ctx = self.context(static, sid)  # (B, E) or None
        ctx_steps = ctx.unsqueeze(1).expand(B, L, ctx.shape[-1]) if ctx is not None else None
        # [B, L, 1] + [B, L, Cp] + [B, L, Cf] + [B, L, E] -> [B, L, 1 + Cp + Cf + E]
        x = cat_inputs(y.unsqueeze(-1), past, future[:, :L], ctx_steps)
        h, _ = self.rnn(x)  # (B, L, H)
        # [B, H] + [B, horizon * Cf] + [B, E] -> head input
        z = cat_inputs(h[:, -1], future[:, L:L + cfg.horizon].reshape(B, -1), ctx)
        out = self.head(self.drop(z)) + self.skip(y)  # (B, horizon * K)
        out = out.view(B, cfg.horizon, cfg.outputs)
        return out if horizon is None else out[:, :horizon]
