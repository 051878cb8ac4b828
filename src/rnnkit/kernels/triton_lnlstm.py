"""Fused layer-normalised LSTM recurrence in Triton (the cell of :mod:`rnnkit.nn.layernorm_lstm`), forward and backward.

PyTorch has no fused path for this cell, so its reference is a Python loop of ~15 kernels per step. Here one
program owns a block of batch rows and *every* hidden unit, so both layer norms (over the 4H recurrent gate
pre-activations and over the H cell units) reduce in registers with no cross-program barrier; the price is a
hidden size of at most :data:`MAX_HIDDEN`. Zoneout runs in its deterministic (eval) form
``h_t = p h_{t-1} + (1 - p) h'_t`` (and the same for c); training-time zoneout draws random masks and stays on the
reference backend.

Per step (Ba et al. 2016; ``gx`` = ``LN_ih(W_ih x) + b_ih + b_hh`` comes in precomputed):

.. math::
    (i, f, g, o) = gx_t + \\gamma_{hh} \\odot \\widehat{W_{hh} h_{t-1}}, \\quad c' = \\sigma(f) c + \\sigma(i) \\tanh(g),
    \\quad h' = \\sigma(o) \\tanh(\\gamma_c \\odot \\hat{c}' + \\beta_c)

where the hat is ``(v - mean(v)) / sqrt(var(v) + eps)``. Shape legend: B batch, T time, H hidden, G = 4H.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from rnnkit.kernels.triton_common import (
    dot_precision,
    next_pow2,
    rows_times_w,
    rows_times_wT,
    sigmoid,
    tanh,
    warps_for,
)
from rnnkit.kernels.triton_lstm import _lengths

MAX_HIDDEN = 256  # one program holds all H units of 16 batch rows (registers bound this)
_BB = 16


@triton.jit
def _lnlstm_fwd(GX, W, GHH, GC, BC, LEN, HS, CS, ACT, NH, RS, CN, CRS, B, T, H, p, eps,
                BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, SAVE: tl.constexpr, PREC: tl.constexpr):
    rows = (tl.program_id(0) * BB + tl.arange(0, BB)).to(tl.int64)
    rmask = rows < B
    u = tl.arange(0, BH)
    nmask = u < H
    m2 = rmask[:, None] & nmask[None, :]
    G = 4 * H
    L = tl.load(LEN + rows, mask=rmask, other=0)
    s_rows = rows * ((T + 1) * H)
    g_rows = rows * (T * G)
    y_rows = rows * (T * H)
    gam0 = tl.load(GHH + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    gam1 = tl.load(GHH + H + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    gam2 = tl.load(GHH + 2 * H + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    gam3 = tl.load(GHH + 3 * H + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    gc = tl.load(GC + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    bc = tl.load(BC + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    h = tl.load(HS + s_rows[:, None] + u[None, :], mask=m2, other=0.0).to(tl.float32)
    c = tl.load(CS + s_rows[:, None] + u[None, :], mask=m2, other=0.0).to(tl.float32)
    for t in range(T):
        live = (t < L)[:, None]
        zero = tl.zeros((BB, BH), dtype=tl.float32)
        a_rows = s_rows + t * H
        r0 = rows_times_wT(zero, HS, a_rows, rmask, 0, W, 0 * H, H, H, u, nmask, BK, PREC)  # (BB, BH) raw
        r1 = rows_times_wT(zero, HS, a_rows, rmask, 0, W, 1 * H, H, H, u, nmask, BK, PREC)
        r2 = rows_times_wT(zero, HS, a_rows, rmask, 0, W, 2 * H, H, H, u, nmask, BK, PREC)
        r3 = rows_times_wT(zero, HS, a_rows, rmask, 0, W, 3 * H, H, H, u, nmask, BK, PREC)
        mean = ((tl.sum(r0, 1) + tl.sum(r1, 1) + tl.sum(r2, 1) + tl.sum(r3, 1)) / G)[:, None]
        d0 = tl.where(nmask[None, :], r0 - mean, 0.0)
        d1 = tl.where(nmask[None, :], r1 - mean, 0.0)
        d2 = tl.where(nmask[None, :], r2 - mean, 0.0)
        d3 = tl.where(nmask[None, :], r3 - mean, 0.0)
        var = (tl.sum(d0 * d0, 1) + tl.sum(d1 * d1, 1) + tl.sum(d2 * d2, 1) + tl.sum(d3 * d3, 1)) / G
        rstd = 1.0 / tl.sqrt(var + eps)  # (BB,)
        gx = GX + g_rows[:, None] + t * G + u[None, :]
        i = sigmoid(tl.load(gx, mask=m2, other=0.0).to(tl.float32) + d0 * rstd[:, None] * gam0)
        f = sigmoid(tl.load(gx + H, mask=m2, other=0.0).to(tl.float32) + d1 * rstd[:, None] * gam1)
        g = tanh(tl.load(gx + 2 * H, mask=m2, other=0.0).to(tl.float32) + d2 * rstd[:, None] * gam2)
        o = sigmoid(tl.load(gx + 3 * H, mask=m2, other=0.0).to(tl.float32) + d3 * rstd[:, None] * gam3)
        c_new = f * c + i * g
        cd = tl.where(nmask[None, :], c_new - (tl.sum(tl.where(nmask[None, :], c_new, 0.0), 1) / H)[:, None], 0.0)
        crstd = 1.0 / tl.sqrt(tl.sum(cd * cd, 1) / H + eps)  # (BB,)
        xc = cd * crstd[:, None]
        h_new = o * tanh(xc * gc + bc)
        h = tl.where(live, p * h + (1.0 - p) * h_new, h)
        c = tl.where(live, p * c + (1.0 - p) * c_new, c)
        out = s_rows[:, None] + (t + 1) * H + u[None, :]
        tl.store(HS + out, h.to(HS.dtype.element_ty), mask=m2)
        tl.store(CS + out, c.to(CS.dtype.element_ty), mask=m2)
        if SAVE:
            act = g_rows[:, None] + t * G + u[None, :]
            tl.store(ACT + act, i, mask=m2)
            tl.store(ACT + act + H, f, mask=m2)
            tl.store(ACT + act + 2 * H, g, mask=m2)
            tl.store(ACT + act + 3 * H, o, mask=m2)
            tl.store(NH + act, d0 * rstd[:, None], mask=m2)
            tl.store(NH + act + H, d1 * rstd[:, None], mask=m2)
            tl.store(NH + act + 2 * H, d2 * rstd[:, None], mask=m2)
            tl.store(NH + act + 3 * H, d3 * rstd[:, None], mask=m2)
            tl.store(RS + rows * T + t, rstd, mask=rmask)
            tl.store(CN + y_rows[:, None] + t * H + u[None, :], xc, mask=m2)
            tl.store(CRS + rows * T + t, crstd, mask=rmask)
        tl.debug_barrier()  # the next step's matmul reads h stored by other threads of this program


@triton.jit
def _lnlstm_bwd(W, GHH, GC, BC, LEN, CS, ACT, NH, RS, CN, CRS, DHS, DCS, DG, DRAW, DCA, DH0, DC0,
                B, T, H, p, BB: tl.constexpr, BH: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr):
    rows = (tl.program_id(0) * BB + tl.arange(0, BB)).to(tl.int64)
    rmask = rows < B
    u = tl.arange(0, BH)
    nmask = u < H
    m2 = rmask[:, None] & nmask[None, :]
    G = 4 * H
    L = tl.load(LEN + rows, mask=rmask, other=0)
    s_rows = rows * ((T + 1) * H)
    g_rows = rows * (T * G)
    d_rows = rows * ((T + 1) * G)  # DRAW is (B, T + 1, G) with a zero last slot
    y_rows = rows * (T * H)
    gam0 = tl.load(GHH + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    gam1 = tl.load(GHH + H + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    gam2 = tl.load(GHH + 2 * H + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    gam3 = tl.load(GHH + 3 * H + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    gc = tl.load(GC + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    bc = tl.load(BC + u, mask=nmask, other=0.0).to(tl.float32)[None, :]
    dpass = tl.zeros((BB, BH), dtype=tl.float32)  # gradient reaching h_{t-1} outside the W_hh path
    dc_c = tl.zeros((BB, BH), dtype=tl.float32)
    for tt in range(T):
        t = T - 1 - tt
        live = (t < L)[:, None]
        y = y_rows[:, None] + t * H + u[None, :]
        dh = dpass + tl.load(DHS + y, mask=m2, other=0.0).to(tl.float32)
        dh = rows_times_w(dh, DRAW, d_rows + (t + 1) * G, rmask, 0, W, 0, u, H, G, nmask, BK, PREC)
        dc = dc_c + tl.load(DCS + y, mask=m2, other=0.0).to(tl.float32)
        a = g_rows[:, None] + t * G + u[None, :]
        i = tl.load(ACT + a, mask=m2, other=0.0)
        f = tl.load(ACT + a + H, mask=m2, other=0.0)
        g = tl.load(ACT + a + 2 * H, mask=m2, other=0.0)
        o = tl.load(ACT + a + 3 * H, mask=m2, other=0.0)
        xc = tl.load(CN + y, mask=m2, other=0.0)
        crstd = tl.load(CRS + rows * T + t, mask=rmask, other=0.0)[:, None]
        c_prev = tl.load(CS + s_rows[:, None] + t * H + u[None, :], mask=m2, other=0.0).to(tl.float32)
        dh_new = (1.0 - p) * dh
        ta = tanh(xc * gc + bc)
        dca = tl.where(live, dh_new * o * (1.0 - ta * ta), 0.0)
        dxc = dca * gc  # zero at masked units: gc loads as 0 there
        mx1 = (tl.sum(dxc, 1) / H)[:, None]
        mx2 = (tl.sum(dxc * xc, 1) / H)[:, None]
        dcn = (1.0 - p) * dc + crstd * (dxc - mx1 - xc * mx2)  # gradient reaching c'
        dp0 = tl.where(live, dcn * g * i * (1.0 - i), 0.0)
        dp1 = tl.where(live, dcn * c_prev * f * (1.0 - f), 0.0)
        dp2 = tl.where(live, dcn * i * (1.0 - g * g), 0.0)
        dp3 = tl.where(live, dh_new * ta * o * (1.0 - o), 0.0)
        tl.store(DG + a, dp0, mask=m2)
        tl.store(DG + a + H, dp1, mask=m2)
        tl.store(DG + a + 2 * H, dp2, mask=m2)
        tl.store(DG + a + 3 * H, dp3, mask=m2)
        tl.store(DCA + y, dca, mask=m2)
        n0 = tl.load(NH + a, mask=m2, other=0.0)
        n1 = tl.load(NH + a + H, mask=m2, other=0.0)
        n2 = tl.load(NH + a + 2 * H, mask=m2, other=0.0)
        n3 = tl.load(NH + a + 3 * H, mask=m2, other=0.0)
        e0, e1, e2, e3 = dp0 * gam0, dp1 * gam1, dp2 * gam2, dp3 * gam3  # d of the normalised gates
        m1 = ((tl.sum(e0, 1) + tl.sum(e1, 1) + tl.sum(e2, 1) + tl.sum(e3, 1)) / G)[:, None]
        m2n = ((tl.sum(e0 * n0, 1) + tl.sum(e1 * n1, 1) + tl.sum(e2 * n2, 1) + tl.sum(e3 * n3, 1)) / G)[:, None]
        rstd = tl.load(RS + rows * T + t, mask=rmask, other=0.0)[:, None]
        dst = d_rows[:, None] + t * G + u[None, :]
        tl.store(DRAW + dst, rstd * (e0 - m1 - n0 * m2n), mask=m2)
        tl.store(DRAW + dst + H, rstd * (e1 - m1 - n1 * m2n), mask=m2)
        tl.store(DRAW + dst + 2 * H, rstd * (e2 - m1 - n2 * m2n), mask=m2)
        tl.store(DRAW + dst + 3 * H, rstd * (e3 - m1 - n3 * m2n), mask=m2)
        dpass = tl.where(live, p * dh, dh)
        dc_c = tl.where(live, dcn * f + p * dc, dc)
        tl.debug_barrier()
    dh0 = rows_times_w(dpass, DRAW, d_rows, rmask, 0, W, 0, u, H, G, nmask, BK, PREC)
    tl.store(DH0 + rows[:, None] * H + u[None, :], dh0, mask=m2)
    tl.store(DC0 + rows[:, None] * H + u[None, :], dc_c, mask=m2)


class _LNLSTMRecurrence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gx, w_hh, gamma_hh, gamma_c, beta_c, h0, c0, lengths, p, eps):
        B, T, G = gx.shape
        H = G // 4
        gx, w = gx.contiguous(), w_hh.to(gx.dtype).contiguous()
        params = [t.float().contiguous() for t in (gamma_hh, gamma_c, beta_c)]
        hs, cs = gx.new_empty(B, T + 1, H), gx.new_empty(B, T + 1, H)
        hs[:, 0], cs[:, 0] = h0, c0
        f32 = {"dtype": torch.float32, "device": gx.device}
        save = any(ctx.needs_input_grad)
        n = (B, T) if save else (1, 1)
        act, nh = torch.empty(*n, G if save else 1, **f32), torch.empty(*n, G if save else 1, **f32)
        rs, crs, cn = torch.empty(*n, **f32), torch.empty(*n, **f32), torch.empty(*n, H if save else 1, **f32)
        lens = _lengths(lengths, B, T, gx.device)
        BH = next_pow2(H)
        _lnlstm_fwd[(triton.cdiv(B, _BB),)](gx, w, *params, lens, hs, cs, act, nh, rs, cn, crs, B, T, H, float(p),
                                            float(eps), BB=_BB, BH=BH, BK=min(64, BH), SAVE=save,
                                            PREC=dot_precision(gx.dtype), num_warps=warps_for(_BB * BH))
        ctx.save_for_backward(w, *params, lens, hs, cs, act, nh, rs, cn, crs)
        ctx.p, ctx.dtypes = float(p), (gx.dtype, w_hh.dtype, gamma_hh.dtype, h0.dtype, c0.dtype)
        return hs[:, 1:], cs[:, 1:]

    @staticmethod
    def backward(ctx, dhs, dcs):
        w, g_hh, g_c, b_c, lens, hs, cs, act, nh, rs, cn, crs = ctx.saved_tensors
        B, T1, H = hs.shape
        T, G = T1 - 1, 4 * H
        f32 = {"dtype": torch.float32, "device": hs.device}
        dg, dca = torch.empty(B, T, G, **f32), torch.empty(B, T, H, **f32)
        draw = torch.empty(B, T + 1, G, **f32)
        draw[:, T] = 0
        dh0, dc0 = torch.empty(B, H, **f32), torch.empty(B, H, **f32)
        BH = next_pow2(H)
        _lnlstm_bwd[(triton.cdiv(B, _BB),)](w, g_hh, g_c, b_c, lens, cs, act, nh, rs, cn, crs, dhs.contiguous(),
                                            dcs.contiguous(), dg, draw, dca, dh0, dc0, B, T, H, ctx.p, BB=_BB,
                                            BH=BH, BK=min(64, BH), PREC=dot_precision(hs.dtype),
                                            num_warps=warps_for(_BB * BH))
        h_prev = hs[:, :T].reshape(B * T, H).float()
        dw = draw[:, :T].reshape(B * T, G).t() @ h_prev  # (G, H)
        d_ghh = (dg * nh).sum((0, 1))
        d_gc, d_bc = (dca * cn).sum((0, 1)), dca.sum((0, 1))
        gx_t, w_t, p_t, h_t, c_t = ctx.dtypes
        return (dg.to(gx_t), dw.to(w_t), d_ghh.to(p_t), d_gc.to(p_t), d_bc.to(p_t), dh0.to(h_t), dc0.to(c_t),
                None, None, None)


def lnlstm_recurrence(gx: Tensor, w_hh: Tensor, gamma_hh: Tensor, gamma_c: Tensor, beta_c: Tensor, h0: Tensor,
                      c0: Tensor, lengths: Tensor | None = None, zoneout: float = 0.0, eps: float = 1e-5
                      ) -> tuple[Tensor, Tensor]:
    """All states of a layer-normalised LSTM from its projected inputs, in one fused launch (differentiable).

    Args:
        gx: (B, T, 4H), ``LN_ih(x W_ih^T) + b_ih + b_hh``, gate order i, f, g, o.
        w_hh: (4H, H). gamma_hh: (4H,) gain of the recurrent LN. gamma_c, beta_c: (H,) the cell LN.
        h0, c0: (B, H). lengths: (B,) or None; padded steps keep the state.
        zoneout: p of the deterministic zoneout ``p * old + (1 - p) * new`` (0 disables it).
        eps: the layer norms' epsilon.

    Returns:
        ``(hs, cs)``, both (B, T, H).
    """
    H = gx.shape[-1] // 4
    if H > MAX_HIDDEN:
        raise ValueError(f"the fused LayerNormLSTM kernel takes hidden_size <= {MAX_HIDDEN}, got {H}")
    return _LNLSTMRecurrence.apply(gx, w_hh, gamma_hh, gamma_c, beta_c, h0, c0, lengths, zoneout, eps)
