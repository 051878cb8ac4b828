"""Pieces shared by the forecasting networks: the config, the recurrent-layer factory and the covariate context."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

# Recurrent layers by name (rnnkit.nn); "segrnn" runs a GRU over segments by default (Lin et al. 2023).
CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN", "minGRU": "MinGRU", "minLSTM": "MinLSTM",
         "lnlstm": "LayerNormLSTM"}
MODELS = ("segrnn",) + tuple(CELLS)
DECODERS = ("direct", "autoregressive")


@dataclass
class NetConfig:
    """Architecture of a forecasting network (stored in the model folder's config.json)."""

    model: str = "segrnn"  # "segrnn" or a recurrent layer name from CELLS
    input_size: int = 96  # L, history steps the network reads
    horizon: int = 24  # H, steps predicted at once (direct / segrnn); AR models may roll further
    hidden_size: int = 128  # width of the recurrent state
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.1  # dropout before the output projection
    outputs: int = 1  # K, parameters per horizon step (1 point, Q quantiles, 2-3 distribution parameters)
    n_past: int = 0  # Cp, past covariates (known up to the forecast start only)
    n_future: int = 0  # Cf, future covariates (known over the horizon too)
    n_static: int = 0  # Cs, static covariates (one value per series)
    n_series: int = 0  # series-id embedding rows (0 = no id embedding; index 0 is "unknown series")
    segment_length: int = 24  # SegRNN: w, steps per segment
    cell: str = "gru"  # SegRNN: recurrent layer run over the segments
    decoder: str = "direct"  # recurrent models: "direct" or "autoregressive"
    linear_skip: bool = True  # SegRNN: add a linear map from the history to the horizon (exact seasonal copies)

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {list(MODELS)}, got {self.model!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {list(CELLS)}, got {self.cell!r}")
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {DECODERS}, got {self.decoder!r}")
        for name in ("input_size", "horizon", "hidden_size", "num_layers", "segment_length", "outputs"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)


def make_recurrent(name: str, input_size: int, hidden_size: int, num_layers: int) -> nn.Module:
    """An rnnkit.nn layer by short name, e.g. ``make_recurrent("gru", 8, 64, 1)``."""
    import rnnkit.nn as rnn

    return getattr(rnn, CELLS[name])(input_size, hidden_size, num_layers=num_layers)


class Context(nn.Module):
    """A per-series context vector ``(B, E)`` from static covariates and the series-id embedding (or None)."""

    def __init__(self, cfg: NetConfig, size: int):
        super().__init__()
        self.static = nn.Linear(cfg.n_static, size) if cfg.n_static else None
        self.ids = nn.Embedding(cfg.n_series + 1, size) if cfg.n_series else None
        if self.ids is not None:
            nn.init.normal_(self.ids.weight, std=0.02)
        self.size = size if (self.static is not None or self.ids is not None) else 0

    def forward(self, static: Tensor, sid: Tensor) -> Tensor | None:
        out = None
        if self.static is not None:
            out = self.static(static)  # (B, Cs) -> (B, E)
        if self.ids is not None:
            e = self.ids(sid.clamp(0, self.ids.num_embeddings - 1))  # (B, E)
            out = e if out is None else out + e
        return out


def cat_inputs(*parts: Tensor | None) -> Tensor:
    """Concatenate the non-empty feature blocks along the last dimension."""
    return torch.cat([p for p in parts if p is not None and p.shape[-1] > 0], dim=-1)
