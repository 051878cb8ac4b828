"""Per-step torch references for the fused kernels, including the block-diagonal (``heads``) layout."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from torch import Tensor

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
needs_triton = pytest.mark.skipif(importlib.util.find_spec("triton") is None,
                                  reason="triton is not installed (pip install 'rnnkit[triton]')")


def block_diagonal(w: Tensor, gates: int, heads: int) -> Tensor:
    """(G, Hd) compact block-diagonal weight -> the equivalent dense (G, H) matrix."""
    G, Hd = w.shape
    H = G // gates
    dense = w.new_zeros(G, H)
    for g in range(gates):
        for j in range(heads):
            rows = slice(g * H + j * Hd, g * H + (j + 1) * Hd)
            dense[rows, j * Hd:(j + 1) * Hd] = w[rows]
    return dense


def lstm_ref(gx, w, h, c, lengths=None, heads=1):
    """(hs, cs) (B, T, H) of the LSTM recurrence, one step at a time."""
    w = block_diagonal(w, 4, heads) if heads > 1 else w
    hs, cs = [], []
    for t in range(gx.shape[1]):
        i, f, g, o = (gx[:, t] + h @ w.t()).chunk(4, -1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(c_new)
        if lengths is not None:
            m = (t < lengths.to(gx.device))[:, None]
            c_new, h_new = torch.where(m, c_new, c), torch.where(m, h_new, h)
        h, c = h_new, c_new
        hs.append(h)
        cs.append(c)
    return torch.stack(hs, 1), torch.stack(cs, 1)


def gru_ref(gx, w, b, h, lengths=None, heads=1):
    """hs (B, T, H) of the GRU recurrence, one step at a time."""
    w = block_diagonal(w, 3, heads) if heads > 1 else w
    hs = []
    for t in range(gx.shape[1]):
        xr, xz, xn = gx[:, t].chunk(3, -1)
        hr, hz, hn = (h @ w.t() + b).chunk(3, -1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h_new = n + z * (h - n)
        if lengths is not None:
            h_new = torch.where((t < lengths.to(gx.device))[:, None], h_new, h)
        h = h_new
        hs.append(h)
    return torch.stack(hs, 1)


def assert_close(a: Tensor, b: Tensor, rtol: float, what: str = "") -> None:
    """Relative error in the max norm: ``max|a - b| <= rtol * max(1, max|b|)``."""
    err = (a.double() - b.double()).abs().max().item()
    scale = max(1.0, b.double().abs().max().item())
    assert err <= rtol * scale, f"{what}: max error {err:.3g} > {rtol:g} x {scale:.3g}"
