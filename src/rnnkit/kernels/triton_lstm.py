"""Fused LSTM recurrence in Triton: one persistent launch per layer-direction for all T steps, forward and backward.

The input half of the gates (``x W_ih^T + b_ih + b_hh``, one big matmul for all T) is computed outside by cuBLAS;
the kernel runs only the sequential part, ``gates_t = gx_t + h_{t-1} W_hh^T`` and the cell update, keeping the cell
state in registers and accumulating in fp32 whatever the storage dtype (fp32, bf16, fp16). See
:mod:`rnnkit.kernels.triton_common` for the grid, the barrier and the block-diagonal ``heads`` variant.

Padded steps (``t >= lengths[b]``) keep the state, as the reference loop does; the caller zeroes their outputs.

Shape legend: B batch, T time, H hidden, G = 4H gates (i, f, g, o as torch.nn), Hd = H / heads.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from rnnkit.kernels.triton_common import (
    dot_precision,
    launch_sizes,
    rows_times_w,
    rows_times_wT,
    sigmoid,
    step_barrier,
    tanh,
    warps_for,
)


@triton.jit
def _lstm_fwd(GX, W, LEN, HS, CS, ACT, CNT, B, T, H, HB, ldw,
              BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, NHB: tl.constexpr,
              BLOCKDIAG: tl.constexpr, SAVE: tl.constexpr, PREC: tl.constexpr):
    pb = tl.program_id(0)
    j = tl.program_id(1)
    rows = (pb * BB + tl.arange(0, BB)).to(tl.int64)  # 64-bit offsets: B * T * G can pass 2**31
    rmask = rows < B
    nl = tl.arange(0, BH)
    u = j * HB + nl  # the hidden units this program owns
    nmask = (nl < HB) & (u < H)
    m2 = rmask[:, None] & nmask[None, :]
    G = 4 * H
    L = tl.load(LEN + rows, mask=rmask, other=0)
    s_rows = rows * ((T + 1) * H)  # HS / CS are (B, T + 1, H): slot 0 holds the initial state
    g_rows = rows * (T * G)
    h = tl.load(HS + s_rows[:, None] + u[None, :], mask=m2, other=0.0).to(tl.float32)
    c = tl.load(CS + s_rows[:, None] + u[None, :], mask=m2, other=0.0).to(tl.float32)
    k0 = j * HB if BLOCKDIAG else 0  # first column of h this program reads
    K = HB if BLOCKDIAG else H
    for t in range(T):
        live = (t < L)[:, None]  # (BB, 1)
        gx = GX + g_rows[:, None] + t * G + u[None, :]
        zero = tl.zeros((BB, BH), dtype=tl.float32)
        a_rows = s_rows + t * H
        pi = rows_times_wT(zero, HS, a_rows, rmask, k0, W, 0 * H + j * HB, ldw, K, nl, nmask, BK, PREC)
        pf = rows_times_wT(zero, HS, a_rows, rmask, k0, W, 1 * H + j * HB, ldw, K, nl, nmask, BK, PREC)
        pg = rows_times_wT(zero, HS, a_rows, rmask, k0, W, 2 * H + j * HB, ldw, K, nl, nmask, BK, PREC)
        po = rows_times_wT(zero, HS, a_rows, rmask, k0, W, 3 * H + j * HB, ldw, K, nl, nmask, BK, PREC)
        i = sigmoid(pi + tl.load(gx, mask=m2, other=0.0).to(tl.float32))
        f = sigmoid(pf + tl.load(gx + H, mask=m2, other=0.0).to(tl.float32))
        g = tanh(pg + tl.load(gx + 2 * H, mask=m2, other=0.0).to(tl.float32))
        o = sigmoid(po + tl.load(gx + 3 * H, mask=m2, other=0.0).to(tl.float32))
        c_new = f * c + i * g
        c = tl.where(live, c_new, c)
        h = tl.where(live, o * tanh(c_new), h)
        out = s_rows[:, None] + (t + 1) * H + u[None, :]
        tl.store(HS + out, h.to(HS.dtype.element_ty), mask=m2)
        tl.store(CS + out, c.to(CS.dtype.element_ty), mask=m2)
        if SAVE:
            act = ACT + g_rows[:, None] + t * G + u[None, :]
            tl.store(act, i.to(ACT.dtype.element_ty), mask=m2)
            tl.store(act + H, f.to(ACT.dtype.element_ty), mask=m2)
            tl.store(act + 2 * H, g.to(ACT.dtype.element_ty), mask=m2)
            tl.store(act + 3 * H, o.to(ACT.dtype.element_ty), mask=m2)
        if NHB > 1 and not BLOCKDIAG:
            step_barrier(CNT + pb, (t + 1) * NHB)
        else:
            tl.debug_barrier()  # the next step's matmul reads values other threads of this program stored


@triton.jit
def _dh_from_dg(acc, DG, d_rows, rmask, W, j, H, HB, ldw, u, nl, nmask,
                NG: tl.constexpr, BK: tl.constexpr, BLOCKDIAG: tl.constexpr, PREC: tl.constexpr):
    """``acc += dG_t @ W_hh`` restricted to this program's hidden units (its own head when block-diagonal)."""
    if BLOCKDIAG:
        for g in tl.static_range(NG):
            acc = rows_times_w(acc, DG, d_rows, rmask, g * H + j * HB, W, g * H + j * HB, nl, ldw, HB, nmask,
                               BK, PREC)
    else:
        acc = rows_times_w(acc, DG, d_rows, rmask, 0, W, 0, u, ldw, NG * H, nmask, BK, PREC)
    return acc


@triton.jit
def _lstm_bwd(W, LEN, HS, CS, ACT, DHS, DCS, DG, DH0, DC0, CNT, B, T, H, HB, ldw,
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
    G = 4 * H
    L = tl.load(LEN + rows, mask=rmask, other=0)
    s_rows = rows * ((T + 1) * H)
    y_rows = rows * (T * H)
    a_rows = rows * (T * G)
    d_rows = rows * ((T + 1) * G)  # DG is (B, T + 1, G) with a zero last slot
    dc = tl.zeros((BB, BH), dtype=tl.float32)
    dpass = tl.zeros((BB, BH), dtype=tl.float32)  # gradient a padded step hands straight to h_{t-1}
    for tt in range(T):
        t = T - 1 - tt
        live = (t < L)[:, None]
        dh = dpass + tl.load(DHS + y_rows[:, None] + t * H + u[None, :], mask=m2, other=0.0).to(tl.float32)
        dh = _dh_from_dg(dh, DG, d_rows + (t + 1) * G, rmask, W, j, H, HB, ldw, u, nl, nmask, 4, BK, BLOCKDIAG,
                         PREC)
        dc = dc + tl.load(DCS + y_rows[:, None] + t * H + u[None, :], mask=m2, other=0.0).to(tl.float32)
        act = ACT + a_rows[:, None] + t * G + u[None, :]
        i = tl.load(act, mask=m2, other=0.0).to(tl.float32)
        f = tl.load(act + H, mask=m2, other=0.0).to(tl.float32)
        g = tl.load(act + 2 * H, mask=m2, other=0.0).to(tl.float32)
        o = tl.load(act + 3 * H, mask=m2, other=0.0).to(tl.float32)
        c_t = tl.load(CS + s_rows[:, None] + (t + 1) * H + u[None, :], mask=m2, other=0.0).to(tl.float32)
        c_prev = tl.load(CS + s_rows[:, None] + t * H + u[None, :], mask=m2, other=0.0).to(tl.float32)
        tc = tanh(c_t)
        dcc = dc + dh * o * (1.0 - tc * tc)
        dst = DG + d_rows[:, None] + t * G + u[None, :]
        zero = tl.zeros((BB, BH), dtype=tl.float32)
        tl.store(dst, tl.where(live, dcc * g * i * (1.0 - i), zero).to(DG.dtype.element_ty), mask=m2)
        tl.store(dst + H, tl.where(live, dcc * c_prev * f * (1.0 - f), zero).to(DG.dtype.element_ty), mask=m2)
        tl.store(dst + 2 * H, tl.where(live, dcc * i * (1.0 - g * g), zero).to(DG.dtype.element_ty), mask=m2)
        tl.store(dst + 3 * H, tl.where(live, dh * tc * o * (1.0 - o), zero).to(DG.dtype.element_ty), mask=m2)
        dc = tl.where(live, dcc * f, dc)
        dpass = tl.where(live, zero, dh)
        if NHB > 1 and not BLOCKDIAG:
            step_barrier(CNT + pb, (tt + 1) * NHB)
        else:
            tl.debug_barrier()  # the next step's matmul reads values other threads of this program stored
    dh0 = _dh_from_dg(dpass, DG, d_rows, rmask, W, j, H, HB, ldw, u, nl, nmask, 4, BK, BLOCKDIAG, PREC)
    tl.store(DH0 + rows[:, None] * H + u[None, :], dh0, mask=m2)
    tl.store(DC0 + rows[:, None] * H + u[None, :], dc, mask=m2)


def _lengths(lengths: Tensor | None, B: int, T: int, device) -> Tensor:
    if lengths is None:
        return torch.full((B,), T, dtype=torch.int32, device=device)
    return lengths.to(device=device, dtype=torch.int32).contiguous()


class _LSTMRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gx, w_hh, h0, c0, lengths, heads):
        B, T, G = gx.shape
        H = G // 4
        gx, w = gx.contiguous(), w_hh.to(gx.dtype).contiguous()
        hs = gx.new_empty(B, T + 1, H)
        cs = gx.new_empty(B, T + 1, H)
        hs[:, 0], cs[:, 0] = h0, c0
        save = any(ctx.needs_input_grad)
        act = gx.new_empty(B, T, G) if save else gx.new_empty(1)
        lens = _lengths(lengths, B, T, gx.device)
        k = launch_sizes(B, H, heads, gx.device)
        cnt = torch.zeros(k["NBB"], dtype=torch.int32, device=gx.device)
        _lstm_fwd[(k["NBB"], k["NHB"])](gx, w, lens, hs, cs, act, cnt, B, T, H, k["HB"], w.shape[1],
                                        BB=k["BB"], BH=k["BH"], BK=k["BK"], NHB=k["NHB"], BLOCKDIAG=heads > 1,
                                        SAVE=save, PREC=dot_precision(gx.dtype),
                                        num_warps=warps_for(k["BB"] * k["BH"]))
        ctx.save_for_backward(w, act, hs, cs, lens)
        ctx.heads, ctx.k = heads, k
        ctx.dtypes = (w_hh.dtype, h0.dtype, c0.dtype)
        return hs[:, 1:], cs[:, 1:]

    @staticmethod
    def backward(ctx, dhs, dcs):
        w, act, hs, cs, lens = ctx.saved_tensors
        B, T1, H = hs.shape
        T, G, k = T1 - 1, 4 * H, ctx.k
        dg = act.new_empty(B, T + 1, G)
        dg[:, T] = 0
        dh0 = torch.empty(B, H, dtype=torch.float32, device=hs.device)
        dc0 = torch.empty_like(dh0)
        cnt = torch.zeros(k["NBB"], dtype=torch.int32, device=hs.device)
        _lstm_bwd[(k["NBB"], k["NHB"])](w, lens, hs, cs, act, dhs.contiguous(), dcs.contiguous(), dg, dh0, dc0, cnt,
                                        B, T, H, k["HB"], w.shape[1], BB=k["BB"], BH=k["BH"], BK=k["BK"],
                                        NHB=k["NHB"], BLOCKDIAG=ctx.heads > 1, PREC=dot_precision(hs.dtype),
                                        num_warps=warps_for(k["BB"] * k["BH"]))
        dgx = dg[:, :T]
        dw = recurrent_weight_grad(dgx, hs[:, :T], 4, ctx.heads).to(ctx.dtypes[0])
        return dgx, dw, dh0.to(ctx.dtypes[1]), dc0.to(ctx.dtypes[2]), None, None


def recurrent_weight_grad(dg: Tensor, h_prev: Tensor, gates: int, heads: int) -> Tensor:
    """``dW_hh = sum_{b,t} dG^T h_{t-1}``: (G, H) dense, or (G, Hd) for the block-diagonal layout."""
    B, T, G = dg.shape
    H = G // gates
    dg, h_prev = dg.reshape(B * T, G).float(), h_prev.reshape(B * T, H).float()
    if heads == 1:
        return dg.t() @ h_prev  # (G, H)
    Hd = H // heads
    dW = torch.einsum("ngiu,nik->giuk", dg.view(-1, gates, heads, Hd), h_prev.view(-1, heads, Hd))
    return dW.reshape(G, Hd)


def lstm_recurrence(gx: Tensor, w_hh: Tensor, h0: Tensor, c0: Tensor, lengths: Tensor | None = None,
                    heads: int = 1) -> tuple[Tensor, Tensor]:
    """All states of an LSTM from its projected inputs, fused in one kernel launch (differentiable).

    Args:
        gx: (B, T, 4H), ``x W_ih^T + b_ih + b_hh`` in gate order i, f, g, o; its dtype is the compute dtype.
        w_hh: (4H, H) dense, or (4H, Hd) block-diagonal with ``heads`` heads: unit ``u`` of every gate reads only
            ``h[head(u) * Hd : (head(u) + 1) * Hd]``.
        h0, c0: (B, H) initial state.
        lengths: (B,) ints; steps ``t >= lengths[b]`` keep the state. None means all T.
        heads: 1 for the dense recurrence (torch.nn compatible), > 1 for the block-diagonal one.

    Returns:
        ``(hs, cs)``, both (B, T, H): the state after every step.
    """
    check_recurrent_weight(w_hh, gx.shape[-1], 4, heads)
    return _LSTMRecurrence.apply(gx, w_hh, h0, c0, lengths, heads)


def check_recurrent_weight(w_hh: Tensor, G: int, gates: int, heads: int) -> None:
    """Teach the dense / block-diagonal weight layout when ``w_hh`` does not match ``gx`` and ``heads``."""
    H = G // gates
    if heads < 1 or H % heads:
        raise ValueError(f"heads must divide the hidden size {H}, got heads={heads}")
    want = (G, H // heads)
    if tuple(w_hh.shape) != want:
        layout = "dense (G, H)" if heads == 1 else f"block-diagonal (G, H / heads) with heads={heads}"
        raise ValueError(f"w_hh must be {layout} = {want} for gates of width {G}, got {tuple(w_hh.shape)}")
