"""Fused GRU recurrence in Triton: one persistent launch per layer-direction for all T steps, forward and backward.

Same structure as :mod:`rnnkit.kernels.triton_lstm`. The GRU keeps the recurrent bias inside the reset gate,
``n = tanh(x_n + r * (W_hn h + b_hn))``, so ``b_hh`` enters the kernel instead of being folded into ``gx``, and the
backward returns two gate gradients: ``dgx`` for the input half and ``dgh`` for the recurrent half (they differ
in the n gate by the factor ``r``).

Shape legend: B batch, T time, H hidden, G = 3H gates (r, z, n as torch.nn), Hd = H / heads.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from rnnkit.kernels.triton_common import (
    dot_precision,
    launch_sizes,
    rows_times_wT,
    sigmoid,
    step_barrier,
    tanh,
    warps_for,
)
from rnnkit.kernels.triton_lstm import _dh_from_dg, _lengths, check_recurrent_weight, recurrent_weight_grad


@triton.jit
def _gru_fwd(GX, W, BHH, LEN, HS, ACT, CNT, B, T, H, HB, ldw,
             BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, NHB: tl.constexpr,
             BLOCKDIAG: tl.constexpr, SAVE: tl.constexpr, PREC: tl.constexpr):
    pb = tl.program_id(0)
    j = tl.program_id(1)
    rows = (pb * BB + tl.arange(0, BB)).to(tl.int64)  # 64-bit offsets: B * T * G can pass 2**31
    rmask = rows < B
    nl = tl.arange(0, BH)
    u = j * HB + nl
    nmask = (nl < HB) & (u < H)
    m2 = rmask[:, None] & nmask[None, :]
    G = 3 * H
    L = tl.load(LEN + rows, mask=rmask, other=0)
    s_rows = rows * ((T + 1) * H)
    g_rows = rows * (T * G)
    a_rows_save = rows * (T * 4 * H)
    b_r = tl.load(BHH + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    b_z = tl.load(BHH + H + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    b_n = tl.load(BHH + 2 * H + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    h = tl.load(HS + s_rows[:, None] + u[None, :], mask=m2, other=0.0).to(tl.float32)
    k0 = j * HB if BLOCKDIAG else 0
    K = HB if BLOCKDIAG else H
    for t in range(T):
        live = (t < L)[:, None]
        gx = GX + g_rows[:, None] + t * G + u[None, :]
        zero = tl.zeros((BB, BH), dtype=tl.float32)
        a_rows = s_rows + t * H
        hr = rows_times_wT(zero, HS, a_rows, rmask, k0, W, 0 * H + j * HB, ldw, K, nl, nmask, BK, PREC) + b_r
        hz = rows_times_wT(zero, HS, a_rows, rmask, k0, W, 1 * H + j * HB, ldw, K, nl, nmask, BK, PREC) + b_z
        hn = rows_times_wT(zero, HS, a_rows, rmask, k0, W, 2 * H + j * HB, ldw, K, nl, nmask, BK, PREC) + b_n
        r = sigmoid(hr + tl.load(gx, mask=m2, other=0.0).to(tl.float32))
        z = sigmoid(hz + tl.load(gx + H, mask=m2, other=0.0).to(tl.float32))
        n = tanh(tl.load(gx + 2 * H, mask=m2, other=0.0).to(tl.float32) + r * hn)
        h = tl.where(live, n + z * (h - n), h)
        tl.store(HS + s_rows[:, None] + (t + 1) * H + u[None, :], h.to(HS.dtype.element_ty), mask=m2)
        if SAVE:
            act = ACT + a_rows_save[:, None] + t * 4 * H + u[None, :]
            tl.store(act, r.to(ACT.dtype.element_ty), mask=m2)
            tl.store(act + H, z.to(ACT.dtype.element_ty), mask=m2)
            tl.store(act + 2 * H, n.to(ACT.dtype.element_ty), mask=m2)
            tl.store(act + 3 * H, hn.to(ACT.dtype.element_ty), mask=m2)
        if NHB > 1 and not BLOCKDIAG:
            step_barrier(CNT + pb, (t + 1) * NHB)
        else:
            tl.debug_barrier()  # the next step's matmul reads values other threads of this program stored


@triton.jit
def _gru_bwd(W, LEN, HS, ACT, DHS, DGX, DGH, DH0, CNT, B, T, H, HB, ldw,
             BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, NHB: tl.constexpr,
             BLOCKDIAG: tl.constexpr, PREC: tl.constexpr):
    pb = tl.program_id(0)
    j = tl.program_id(1)
    rows = (pb * BB + tl.arange(0, BB)).to(tl.int64)  # 64-bit offsets: B * T * G can pass 2**31
    rmask = rows < B
    nl = tl.arange(0, BH)
    u = j * HB + nl
    nmask = (nl < HB) & (u < H)
    m2 = rmask[:, None] & nmask[None, :]
    G = 3 * H
    L = tl.load(LEN + rows, mask=rmask, other=0)
    s_rows = rows * ((T + 1) * H)
    y_rows = rows * (T * H)
    a_rows = rows * (T * 4 * H)
    x_rows = rows * (T * G)
    d_rows = rows * ((T + 1) * G)  # DGH is (B, T + 1, G) with a zero last slot
    dpass = tl.zeros((BB, BH), dtype=tl.float32)  # gradient reaching h_{t-1} without passing through W_hh
    for tt in range(T):
        t = T - 1 - tt
        live = (t < L)[:, None]
        dh = dpass + tl.load(DHS + y_rows[:, None] + t * H + u[None, :], mask=m2, other=0.0).to(tl.float32)
        dh = _dh_from_dg(dh, DGH, d_rows + (t + 1) * G, rmask, W, j, H, HB, ldw, u, nl, nmask, 3, BK, BLOCKDIAG,
                         PREC)
        act = ACT + a_rows[:, None] + t * 4 * H + u[None, :]
        r = tl.load(act, mask=m2, other=0.0).to(tl.float32)
        z = tl.load(act + H, mask=m2, other=0.0).to(tl.float32)
        n = tl.load(act + 2 * H, mask=m2, other=0.0).to(tl.float32)
        hn = tl.load(act + 3 * H, mask=m2, other=0.0).to(tl.float32)
        h_prev = tl.load(HS + s_rows[:, None] + t * H + u[None, :], mask=m2, other=0.0).to(tl.float32)
        dpn = dh * (1.0 - z) * (1.0 - n * n)  # through n = tanh(x_n + r * hn)
        dpz = dh * (h_prev - n) * z * (1.0 - z)
        dpr = dpn * hn * r * (1.0 - r)
        zero = tl.zeros((BB, BH), dtype=tl.float32)
        dpr = tl.where(live, dpr, zero)
        dpz = tl.where(live, dpz, zero)
        dpn = tl.where(live, dpn, zero)
        gx_dst = DGX + x_rows[:, None] + t * G + u[None, :]
        tl.store(gx_dst, dpr.to(DGX.dtype.element_ty), mask=m2)
        tl.store(gx_dst + H, dpz.to(DGX.dtype.element_ty), mask=m2)
        tl.store(gx_dst + 2 * H, dpn.to(DGX.dtype.element_ty), mask=m2)
        gh_dst = DGH + d_rows[:, None] + t * G + u[None, :]
        tl.store(gh_dst, dpr.to(DGH.dtype.element_ty), mask=m2)
        tl.store(gh_dst + H, dpz.to(DGH.dtype.element_ty), mask=m2)
        tl.store(gh_dst + 2 * H, (dpn * r).to(DGH.dtype.element_ty), mask=m2)
        dpass = tl.where(live, dh * z, dh)
        if NHB > 1 and not BLOCKDIAG:
            step_barrier(CNT + pb, (tt + 1) * NHB)
        else:
            tl.debug_barrier()  # the next step's matmul reads values other threads of this program stored
    dh0 = _dh_from_dg(dpass, DGH, d_rows, rmask, W, j, H, HB, ldw, u, nl, nmask, 3, BK, BLOCKDIAG, PREC)
    tl.store(DH0 + rows[:, None] * H + u[None, :], dh0, mask=m2)


class _GRURecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gx, w_hh, b_hh, h0, lengths, heads):
        B, T, G = gx.shape
        H = G // 3
        gx, w = gx.contiguous(), w_hh.to(gx.dtype).contiguous()
        bias = (b_hh if b_hh is not None else gx.new_zeros(G)).float().contiguous()
        hs = gx.new_empty(B, T + 1, H)
        hs[:, 0] = h0
        save = any(ctx.needs_input_grad)
        act = gx.new_empty(B, T, 4 * H) if save else gx.new_empty(1)
        lens = _lengths(lengths, B, T, gx.device)
        k = launch_sizes(B, H, heads, gx.device)
        cnt = torch.zeros(k["NBB"], dtype=torch.int32, device=gx.device)
        _gru_fwd[(k["NBB"], k["NHB"])](gx, w, bias, lens, hs, act, cnt, B, T, H, k["HB"], w.shape[1],
                                       BB=k["BB"], BH=k["BH"], BK=k["BK"], NHB=k["NHB"], BLOCKDIAG=heads > 1,
                                       SAVE=save, PREC=dot_precision(gx.dtype),
                                       num_warps=warps_for(k["BB"] * k["BH"]))
        ctx.save_for_backward(w, act, hs, lens)
        ctx.heads, ctx.k, ctx.has_bias = heads, k, b_hh is not None
        ctx.dtypes = (w_hh.dtype, b_hh.dtype if b_hh is not None else None, h0.dtype)
        return hs[:, 1:]

    @staticmethod
    def backward(ctx, dhs):
        w, act, hs, lens = ctx.saved_tensors
        B, T1, H = hs.shape
        T, G, k = T1 - 1, 3 * H, ctx.k
        dgx = act.new_empty(B, T, G)
        dgh = act.new_empty(B, T + 1, G)
        dgh[:, T] = 0
        dh0 = torch.empty(B, H, dtype=torch.float32, device=hs.device)
        cnt = torch.zeros(k["NBB"], dtype=torch.int32, device=hs.device)
        _gru_bwd[(k["NBB"], k["NHB"])](w, lens, hs, act, dhs.contiguous(), dgx, dgh, dh0, cnt, B, T, H, k["HB"],
                                       w.shape[1], BB=k["BB"], BH=k["BH"], BK=k["BK"], NHB=k["NHB"],
                                       BLOCKDIAG=ctx.heads > 1, PREC=dot_precision(hs.dtype),
                                       num_warps=warps_for(k["BB"] * k["BH"]))
        dgh = dgh[:, :T]
        dw = recurrent_weight_grad(dgh, hs[:, :T], 3, ctx.heads).to(ctx.dtypes[0])
        db = dgh.float().sum((0, 1)).to(ctx.dtypes[1]) if ctx.has_bias else None
        return dgx, dw, db, dh0.to(ctx.dtypes[2]), None, None


def gru_recurrence(gx: Tensor, w_hh: Tensor, b_hh: Tensor | None, h0: Tensor, lengths: Tensor | None = None,
                   heads: int = 1) -> Tensor:
    """All states of a GRU from its projected inputs, fused in one kernel launch (differentiable).

    Args:
        gx: (B, T, 3H), ``x W_ih^T + b_ih`` in gate order r, z, n; its dtype is the compute dtype.
        w_hh: (3H, H) dense, or (3H, Hd) block-diagonal with ``heads`` heads (see ``lstm_recurrence``).
        b_hh: (3H,) recurrent bias, or None.
        h0: (B, H) initial state.
        lengths: (B,) ints; steps ``t >= lengths[b]`` keep the state. None means all T.
        heads: 1 for the dense recurrence (torch.nn compatible), > 1 for the block-diagonal one.

    Returns:
        hs: (B, T, H), the state after every step.
    """
    check_recurrent_weight(w_hh, gx.shape[-1], 3, heads)
    return _GRURecurrence.apply(gx, w_hh, b_hh, h0, lengths, heads)
