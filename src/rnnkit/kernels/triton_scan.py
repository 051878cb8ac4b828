"""Fused minGRU / minLSTM scan in Triton: gates, linear recurrence and masking in one pass, forward and backward.

The torch path (:mod:`rnnkit.nn.scan`) runs the log-space scan of Heinsen (2023) as a chain of unfused ops
(softplus, cumsum, logcumsumexp, exp, ...), each a full read and write of a (B, T, H) tensor, so it is bound by
memory at large sizes. Here one program owns one batch row and a block of hidden units and walks T in tiles of
``BT`` steps: it reads the projected gates once, forms ``a_t, b_t`` of ``h_t = a_t h_{t-1} + b_t`` in registers,
solves each tile with ``tl.associative_scan`` (the operator ``(a1, b1) . (a2, b2) = (a1 a2, b1 a2 + b2)``, Blelloch
1990) and carries the last state into the next tile. It works in linear space: ``a_t`` in (0, 1) and the gates are
bounded, so no logarithm is needed for stability, and it takes any initial state.

The maths follows :mod:`rnnkit.nn.min_rnn` (Feng et al. 2024, Sec. 3.1 and 3.2):

* minGRU, gates (k, v): ``a = 1 - sigmoid(k)``, ``b = sigmoid(k) g(v)``;
* minLSTM, gates (kf, ki, v): with ``d = log sigmoid(kf) - log sigmoid(ki)``, ``a = sigmoid(d)`` (= f / (f + i)),
  ``b = sigmoid(-d) g(v)``, computed from log-sigmoids so that two tiny gates never divide 0 by 0;

with ``g(v) = v + 0.5`` for ``v >= 0`` and ``sigmoid(v)`` below. Padded steps have ``a = 1, b = 0``.

The backward is the same scan run backwards: ``dh_t = dy_t + a_{t+1} dh_{t+1}``, then ``da_t = dh_t h_{t-1}``,
``db_t = dh_t`` and the chain rule through the gates.

Shape legend: B batch, T time, H hidden, G = 2H (minGRU) or 3H (minLSTM).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from rnnkit.kernels.triton_common import next_pow2, sigmoid, warps_for
from rnnkit.kernels.triton_lstm import _lengths


@triton.jit
def _combine(a1, b1, a2, b2):
    return a1 * a2, b1 * a2 + b2


@triton.jit
def _log_sigmoid(x):
    return tl.minimum(x, 0.0) - tl.log(1.0 + tl.exp(-tl.abs(x)))


@triton.jit
def _coefficients(GX, base, t, u, L, T, H, MODE: tl.constexpr):
    """``a, b`` (BT, BH) at steps ``t`` plus what the backward needs: ``(a, b, gate, gv, dgv)``.

    ``gate`` is sigmoid(k) for minGRU and ``sigmoid(d)`` for minLSTM (``a`` itself); padded steps give a=1, b=0.
    """
    G = (MODE + 2) * H
    live = (t < L)[:, None] & (u < H)[None, :]
    ptr = GX + base + t[:, None] * G + u[None, :]
    v = tl.load(ptr + (MODE + 1) * H, mask=live, other=0.0).to(tl.float32)
    sv = sigmoid(v)
    gv = tl.where(v >= 0, v + 0.5, sv)
    dgv = tl.where(v >= 0, 1.0, sv * (1.0 - sv))
    if MODE == 0:  # minGRU
        z = sigmoid(tl.load(ptr, mask=live, other=0.0).to(tl.float32))
        a = 1.0 - z
        b = z * gv
        gate = z
    else:  # minLSTM
        kf = tl.load(ptr, mask=live, other=0.0).to(tl.float32)
        ki = tl.load(ptr + H, mask=live, other=0.0).to(tl.float32)
        a = sigmoid(_log_sigmoid(kf) - _log_sigmoid(ki))
        b = (1.0 - a) * gv
        gate = a
    a = tl.where(live, a, 1.0)
    b = tl.where(live, b, 0.0)
    return a, b, gate, gv, dgv


@triton.jit
def _scan_fwd(GX, LEN, HS, T, H, MODE: tl.constexpr, BT: tl.constexpr, BH: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    u = tl.program_id(1) * BH + tl.arange(0, BH)
    umask = u < H
    L = tl.load(LEN + row)
    base = row * T * (MODE + 2) * H
    s_base = HS + row * (T + 1) * H  # HS is (B, T + 1, H), slot 0 holds h0
    h = tl.load(s_base + u, mask=umask, other=0.0).to(tl.float32)  # (BH,)
    for t0 in range(0, T, BT):
        t = t0 + tl.arange(0, BT)
        a, b, _, _, _ = _coefficients(GX, base, t, u, L, T, H, MODE)
        a_cum, b_cum = tl.associative_scan((a, b), 0, _combine)
        hs = a_cum * h[None, :] + b_cum  # (BT, BH)
        tmask = (t < T)[:, None] & umask[None, :]
        tl.store(s_base + (t + 1)[:, None] * H + u[None, :], hs.to(HS.dtype.element_ty), mask=tmask)
        last = tl.minimum(T - 1 - t0, BT - 1)
        h = tl.sum(tl.where((tl.arange(0, BT) == last)[:, None], hs, 0.0), axis=0)


@triton.jit
def _scan_bwd(GX, LEN, HS, DHS, DGX, DH0, T, H, MODE: tl.constexpr, BT: tl.constexpr, BH: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    u = tl.program_id(1) * BH + tl.arange(0, BH)
    umask = u < H
    L = tl.load(LEN + row)
    G = (MODE + 2) * H
    base = row * T * G
    s_base = HS + row * (T + 1) * H
    carry = tl.zeros((BH,), dtype=tl.float32)  # dh at the first step of the tile after this one
    dh0 = tl.zeros((BH,), dtype=tl.float32)
    n_tiles = tl.cdiv(T, BT)
    for c in range(n_tiles):
        t0 = (n_tiles - 1 - c) * BT
        t = t0 + tl.arange(0, BT)
        tmask = (t < T)[:, None] & umask[None, :]
        a, _, gate, gv, dgv = _coefficients(GX, base, t, u, L, T, H, MODE)
        a_next, _, _, _, _ = _coefficients(GX, base, t + 1, u, L, T, H, MODE)  # a_{t+1}; 1 past the end
        dy = tl.load(DHS + row * T * H + t[:, None] * H + u[None, :], mask=tmask, other=0.0).to(tl.float32)
        a_cum, d_cum = tl.associative_scan((a_next, dy), 0, _combine, reverse=True)
        dh = d_cum + a_cum * carry[None, :]  # (BT, BH): total gradient reaching h_t
        h_prev = tl.load(s_base + t[:, None] * H + u[None, :], mask=tmask, other=0.0).to(tl.float32)
        live = (t < L)[:, None] & umask[None, :]
        da = dh * h_prev
        db = dh
        if MODE == 0:  # a = 1 - z, b = z g(v), z = sigmoid(k)
            dk = gate * (1.0 - gate) * (db * gv - da)
            dv = db * gate * dgv
            out = DGX + base + t[:, None] * G + u[None, :]
            tl.store(out, tl.where(live, dk, 0.0).to(DGX.dtype.element_ty), mask=tmask)
            tl.store(out + H, tl.where(live, dv, 0.0).to(DGX.dtype.element_ty), mask=tmask)
        else:  # a = sigmoid(d), b = (1 - a) g(v), d = log sigmoid(kf) - log sigmoid(ki)
            dd = gate * (1.0 - gate) * (da - db * gv)
            ptr = GX + base + t[:, None] * G + u[None, :]
            sf = sigmoid(tl.load(ptr, mask=live, other=0.0).to(tl.float32))
            si = sigmoid(tl.load(ptr + H, mask=live, other=0.0).to(tl.float32))
            out = DGX + base + t[:, None] * G + u[None, :]
            tl.store(out, tl.where(live, dd * (1.0 - sf), 0.0).to(DGX.dtype.element_ty), mask=tmask)
            tl.store(out + H, tl.where(live, -dd * (1.0 - si), 0.0).to(DGX.dtype.element_ty), mask=tmask)
            tl.store(out + 2 * H, tl.where(live, db * (1.0 - gate) * dgv, 0.0).to(DGX.dtype.element_ty),
                     mask=tmask)
        first = (tl.arange(0, BT) == 0)[:, None]
        carry = tl.sum(tl.where(first, dh, 0.0), axis=0)
        dh0 = tl.sum(tl.where(first, a * dh, 0.0), axis=0)  # the last tile processed is t0 = 0
    tl.store(DH0 + row * H + u, dh0, mask=umask)


_MODES = {"mingru": 0, "minlstm": 1}


class _MinScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gx, h0, lengths, mode, block_t):
        B, T, G = gx.shape
        H = G // (mode + 2)
        gx = gx.contiguous()
        hs = gx.new_empty(B, T + 1, H)
        hs[:, 0] = h0
        lens = _lengths(lengths, B, T, gx.device)
        BT = block_t or min(64, next_pow2(T))
        BH = min(64, next_pow2(H))
        _scan_fwd[(B, triton.cdiv(H, BH))](gx, lens, hs, T, H, MODE=mode, BT=BT, BH=BH,
                                                 num_warps=warps_for(BT * BH))
        ctx.save_for_backward(gx, lens, hs)
        ctx.sizes, ctx.h0_dtype = (mode, BT, BH), h0.dtype
        return hs[:, 1:]

    @staticmethod
    def backward(ctx, dhs):
        gx, lens, hs = ctx.saved_tensors
        mode, BT, BH = ctx.sizes
        B, T, G = gx.shape
        H = G // (mode + 2)
        dgx = torch.empty_like(gx)
        dh0 = torch.empty(B, H, dtype=torch.float32, device=gx.device)
        _scan_bwd[(B, triton.cdiv(H, BH))](gx, lens, hs, dhs.contiguous(), dgx, dh0, T, H, MODE=mode, BT=BT,
                                                 BH=BH, num_warps=warps_for(BT * BH))
        return dgx, dh0.to(ctx.h0_dtype), None, None, None


def min_scan(gx: Tensor, h0: Tensor, kind: str, lengths: Tensor | None = None, block_t: int | None = None
             ) -> Tensor:
    """All states of a minGRU / minLSTM layer from its projected gates, in one fused pass (differentiable).

    Args:
        gx: (B, T, G) = ``cell.project_input(x)``: (k, v) for minGRU, (kf, ki, v) for minLSTM.
        h0: (B, H) initial state, any sign.
        kind: ``"mingru"`` or ``"minlstm"``.
        lengths: (B,) ints; steps ``t >= lengths[b]`` keep the state. None means all T.
        block_t: steps per tile (a power of two >= 16); None picks one.

    Returns:
        hs: (B, T, H), the state after every step.
    """
    if kind not in _MODES:
        raise ValueError(f"kind must be one of {tuple(_MODES)}, got {kind!r}")
    return _MinScan.apply(gx, h0, lengths, _MODES[kind], block_t)
