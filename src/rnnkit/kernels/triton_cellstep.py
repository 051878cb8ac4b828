"""One fused Triton launch per layer for a single LSTM / GRU step at small batch (streaming inference).

``layer.step`` issues about ten small kernels per layer (two matrix-vector products, a chunk, five activations,
the state update). At B=1 each of them is a few microseconds of launch for nanoseconds of work; even inside a CUDA
graph each one stays a node on the GPU timeline. This kernel does the whole cell step in one launch: one program
per (batch row, block of hidden units) computes its units' gates as row-times-vector reductions (``tl.dot`` needs
16 rows, a streaming step has one), applies the cell and writes the new state. No autograd: inference only.

Shape legend: B batch, F input features, H hidden, G gates x H.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor, nn

from rnnkit.kernels.triton_common import next_pow2, sigmoid, tanh


@triton.jit
def _matvec(acc, w_ptr, row0, ldw, v_ptr, K, u, umask, BK: tl.constexpr):
    """``acc[u] += sum_k W[row0 + u, k] v[k]`` for one vector ``v`` of length K."""
    for k0 in range(0, K, BK):
        k = k0 + tl.arange(0, BK)
        kmask = k < K
        v = tl.load(v_ptr + k, mask=kmask, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + (row0 + u)[:, None] * ldw + k[None, :], mask=umask[:, None] & kmask[None, :],
                    other=0.0).to(tl.float32)  # (BH, BK)
        acc += tl.sum(w * v[None, :], axis=1)
    return acc


@triton.jit
def _lstm_gate(acc, g, WIH, WHH, BIH, BHH, x_ptr, h_ptr, F, H, u, umask, HAS_BIAS: tl.constexpr, BK: tl.constexpr):
    """Pre-activation of LSTM gate ``g``: ``W_ih[g] x + W_hh[g] h (+ b_ih[g] + b_hh[g])`` for units ``u``."""
    acc = _matvec(acc, WIH, g * H, F, x_ptr, F, u, umask, BK)
    acc = _matvec(acc, WHH, g * H, H, h_ptr, H, u, umask, BK)
    if HAS_BIAS:
        acc += tl.load(BIH + g * H + u, mask=umask, other=0.0).to(tl.float32)
        acc += tl.load(BHH + g * H + u, mask=umask, other=0.0).to(tl.float32)
    return acc


@triton.jit
def _cell_step(X, H0, C0, WIH, WHH, BIH, BHH, HN, CN, F, H,
               GRU: tl.constexpr, HAS_BIAS: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr):
    b = tl.program_id(0)
    u = tl.program_id(1) * BH + tl.arange(0, BH)
    umask = u < H
    x_ptr, h_ptr = X + b * F, H0 + b * H
    h = tl.load(h_ptr + u, mask=umask, other=0.0).to(tl.float32)
    zero = tl.zeros((BH,), dtype=tl.float32)
    if GRU:  # r, z, n; the n gate keeps its input and recurrent halves apart
        xr = _matvec(zero, WIH, 0 * H, F, x_ptr, F, u, umask, BK)
        xz = _matvec(zero, WIH, 1 * H, F, x_ptr, F, u, umask, BK)
        xn = _matvec(zero, WIH, 2 * H, F, x_ptr, F, u, umask, BK)
        hr = _matvec(zero, WHH, 0 * H, H, h_ptr, H, u, umask, BK)
        hz = _matvec(zero, WHH, 1 * H, H, h_ptr, H, u, umask, BK)
        hn = _matvec(zero, WHH, 2 * H, H, h_ptr, H, u, umask, BK)
        if HAS_BIAS:
            xr += tl.load(BIH + u, mask=umask, other=0.0).to(tl.float32)
            xz += tl.load(BIH + H + u, mask=umask, other=0.0).to(tl.float32)
            xn += tl.load(BIH + 2 * H + u, mask=umask, other=0.0).to(tl.float32)
            hr += tl.load(BHH + u, mask=umask, other=0.0).to(tl.float32)
            hz += tl.load(BHH + H + u, mask=umask, other=0.0).to(tl.float32)
            hn += tl.load(BHH + 2 * H + u, mask=umask, other=0.0).to(tl.float32)
        r = sigmoid(xr + hr)
        z = sigmoid(xz + hz)
        n = tanh(xn + r * hn)
        h_new = n + z * (h - n)
    else:  # LSTM i, f, g, o
        pi = _lstm_gate(zero, 0, WIH, WHH, BIH, BHH, x_ptr, h_ptr, F, H, u, umask, HAS_BIAS, BK)
        pf = _lstm_gate(zero, 1, WIH, WHH, BIH, BHH, x_ptr, h_ptr, F, H, u, umask, HAS_BIAS, BK)
        pg = _lstm_gate(zero, 2, WIH, WHH, BIH, BHH, x_ptr, h_ptr, F, H, u, umask, HAS_BIAS, BK)
        po = _lstm_gate(zero, 3, WIH, WHH, BIH, BHH, x_ptr, h_ptr, F, H, u, umask, HAS_BIAS, BK)
        c = tl.load(C0 + b * H + u, mask=umask, other=0.0).to(tl.float32)
        c_new = sigmoid(pf) * c + sigmoid(pi) * tanh(pg)
        h_new = sigmoid(po) * tanh(c_new)
        tl.store(CN + b * H + u, c_new.to(CN.dtype.element_ty), mask=umask)
    tl.store(HN + b * H + u, h_new.to(HN.dtype.element_ty), mask=umask)


def cell_step(cell: nn.Module, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
    """``cell.step(x, state)`` for an ``LSTMCell`` / ``GRUCell`` in one launch: ``x (B, F)`` -> ``(h (B, H), state)``.

    The weights must be contiguous and of the input's dtype (as after ``layer.to(dtype)``).
    """
    gru = type(cell).__name__ == "GRUCell"
    x, h = x.contiguous(), state[0].contiguous()
    c = state[1].contiguous() if not gru else h
    B, F = x.shape
    H = cell.hidden_size
    h_new = torch.empty_like(h)
    c_new = torch.empty_like(c) if not gru else h_new
    bias = cell.bias_ih is not None
    BH = min(32, next_pow2(H))  # (32, 64) fp32 weight tiles: no register spills at 4 warps
    BK = min(64, next_pow2(max(F, H)))
    _cell_step[(B, triton.cdiv(H, BH))](x, h, c, cell.weight_ih, cell.weight_hh,
                                       cell.bias_ih if bias else x, cell.bias_hh if bias else x, h_new, c_new, F, H,
                                       GRU=gru, HAS_BIAS=bias, BH=BH, BK=BK)
    return h_new, ((h_new,) if gru else (h_new, c_new))


def layer_step(layer: nn.Module, x_t: Tensor, state) -> tuple[Tensor, tuple[Tensor, ...]]:
    """``layer.step`` for a unidirectional stack of LSTM / GRU cells, one fused launch per layer (eval only)."""
    fields = state if state is not None else layer.init_state(x_t.shape[0], device=x_t.device, dtype=x_t.dtype)
    inp, finals = x_t, []
    for k, cell in enumerate(layer.cells):
        inp, s = cell_step(cell, inp, tuple(f[k] for f in fields))  # (B, H)
        finals.append(s)
    return inp, layer.state_type(*(torch.stack([s[i] for s in finals]) for i in range(len(fields))))
