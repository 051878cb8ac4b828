"""A parallel scan for the linear recurrence ``h_t = a_t * h_{t-1} + b_t`` in log space (Heinsen 2023).

Heinsen, "Efficient Parallelization of a Ubiquitous Sequential Computation" (arXiv:2311.06281), Sec. 2: with
``A_t = a_1 a_2 ... a_t`` the recurrence unrolls to

.. math::
    h_t = A_t h_0 + A_t \\sum_{k \\le t} b_k / A_k,

and for ``a_t > 0, b_t > 0`` the sum is one ``logcumsumexp`` of ``log b_k - log A_k``, so a whole sequence costs two
cumulative ops instead of T sequential steps. The paper takes ``log h_0`` as the first term, which needs
``h_0 > 0``; we keep ``A_t h_0`` outside the log so that any initial state (negative, zero, carried from a previous
chunk) works and only positive values ever meet a logarithm.

:func:`linear_scan` is what the layers call: the log-space scan, except on CPU for ``B * H >= 256`` where a plain
loop over the precomputed coefficients is several times faster (one core walks T steps either way, and CPU
``logcumsumexp`` is slow). Both compute the same recurrence and are tested against each other.

Shape legend: B batch, T time, H hidden.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

# log b at padded steps: exp gives exactly 0, yet it is finite, so no -inf - (-inf) = nan can arise in the scan.
_LOG_ZERO = -1e4


def _scan_forward(log_a: Tensor, log_b: Tensor, h0: Tensor) -> Tensor:
    log_A = log_a.cumsum(1)  # (B, T, H): log A_t
    log_h = log_A + torch.logcumsumexp(log_b - log_A, dim=1)  # (B, T, H): log of the input-driven part
    return log_A.exp() * h0.unsqueeze(1) + log_h.exp()  # (B, T, H)


def _signed_scan(log_a: Tensor, v: Tensor) -> Tensor:
    """``l_t = a_t l_{t-1} + v_t`` from ``l_0 = 0`` for ``v`` of any sign: two positive scans, ``v+`` and ``v-``."""
    zero = torch.zeros_like(v[:, 0])

    def log_pos(u: Tensor) -> Tensor:
        return torch.where(u > 0, u.clamp_min(torch.finfo(u.dtype).tiny).log(), _LOG_ZERO)

    return _scan_forward(log_a, log_pos(v), zero) - _scan_forward(log_a, log_pos(-v), zero)


class _LogLinearScan(torch.autograd.Function):
    """The scan with a hand-written backward.

    Autograd through ``cumsum`` / ``logcumsumexp`` subtracts O(1) terms to get the gradient of early steps, which
    leaves a floor of about float eps (~1e-6 in float32) where the true gradient has decayed far below it. The
    adjoint of ``h_t = a_t h_{t-1} + b_t`` is the same recurrence run backwards, ``l_t = g_t + a_{t+1} l_{t+1}``,
    so we run it with the same log-space scan (split by sign) and form every gradient as a product, never a
    difference: ``dL/dlog b_t = l_t b_t``, ``dL/dlog a_t = l_t a_t h_{t-1}``, ``dL/dh_0 = a_1 l_1``.
    """

    @staticmethod
    def forward(ctx, log_a: Tensor, log_b: Tensor, h0: Tensor) -> Tensor:
        h = _scan_forward(log_a, log_b, h0)
        ctx.save_for_backward(log_a, log_b, h0, h)
        return h

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h: Tensor):
        log_a, log_b, h0, h = ctx.saved_tensors
        # Reverse time: step s of the flipped sequence multiplies by a_{t+1}; the first has no successor (a = 1 is
        # harmless since the carried state starts at 0).
        log_a_next = torch.cat([log_a[:, 1:], torch.zeros_like(log_a[:, :1])], 1)  # (B, T, H): log a_{t+1}
        lam = _signed_scan(log_a_next.flip(1), grad_h.flip(1)).flip(1)  # (B, T, H): dL/dh_t in total
        a = log_a.exp()
        h_prev = torch.cat([h0.unsqueeze(1), h[:, :-1]], 1)  # (B, T, H): h_{t-1}
        return lam * a * h_prev, lam * log_b.exp(), lam[:, 0] * a[:, 0]


def log_linear_scan(log_a: Tensor, log_b: Tensor, h0: Tensor) -> Tensor:
    """All states of ``h_t = a_t h_{t-1} + b_t`` from ``log a`` and ``log b``.

    Args:
        log_a: (B, T, H), ``log a_t`` (any real; for gated cells ``<= 0``).
        log_b: (B, T, H), ``log b_t``; ``b_t`` must be positive (use ``_LOG_ZERO`` for an exact zero).
        h0: (B, H), the initial state, any sign.

    Returns:
        h: (B, T, H), ``h_1 .. h_T``, in the dtype of ``log_a``. Differentiable in all three inputs (first order).
    """
    if log_a.dtype in (torch.float16, torch.bfloat16):
        # Cumulative sums of logs lose everything in 8 mantissa bits: scan in float32, hand back the low precision.
        return _LogLinearScan.apply(log_a.float(), log_b.float(), h0.float()).to(log_a.dtype)
    return _LogLinearScan.apply(log_a, log_b, h0.to(log_a.dtype))


# On CPU one core walks the sequence anyway, and torch.logcumsumexp is slow there: from this many (B * H) lanes up,
# a plain loop over precomputed coefficients wins (measured 4-16x at B=32, T=100; benchmarks/core_RESULTS.md).
CPU_SEQUENTIAL_MIN_LANES = 256


def sequential_linear_scan(log_a: Tensor, log_b: Tensor, h0: Tensor) -> Tensor:
    """The same recurrence as :func:`log_linear_scan`, one fused multiply-add per step (no logarithms).

    Only the ``(B, H)`` update is sequential: the coefficients arrive computed for all T at once. Steps are walked
    with ``unbind`` so that backward stays linear in T.
    """
    dtype = torch.float32 if log_a.dtype in (torch.float16, torch.bfloat16) else log_a.dtype
    a, b = log_a.to(dtype).exp(), log_b.to(dtype).exp()  # (B, T, H)
    h, out = h0.to(dtype), []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):
        h = torch.addcmul(b_t, a_t, h)  # a_t * h + b_t
        out.append(h)
    return torch.stack(out, 1).to(log_a.dtype)


def linear_scan(log_a: Tensor, log_b: Tensor, h0: Tensor) -> Tensor:
    """``h_t = a_t h_{t-1} + b_t``: the parallel log-space scan, or on CPU for ``B * H >= 256`` the sequential loop."""
    B, _, H = log_a.shape
    if log_a.device.type == "cpu" and B * H >= CPU_SEQUENTIAL_MIN_LANES:
        return sequential_linear_scan(log_a, log_b, h0)
    return log_linear_scan(log_a, log_b, h0)


def masked_log_scan(log_a: Tensor, log_b: Tensor, h0: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """:func:`linear_scan` where padded steps keep the state and output zero.

    A padded step is the identity ``h_t = h_{t-1}`` (``a = 1``, ``b = 0``), so the last row equals each
    sequence's state at its own last real step.

    Args:
        log_a, log_b: (B, T, H).
        h0: (B, H).
        mask: (B, T, 1) bool, True at real steps, or None.

    Returns:
        ``(y (B, T, H), h_last (B, H))``; ``y`` is zero at padded steps.
    """
    if mask is not None:
        log_a = log_a.masked_fill(~mask, 0.0)  # a = 1: keep the state
        log_b = log_b.masked_fill(~mask, _LOG_ZERO)  # b = 0: add nothing
    h = linear_scan(log_a, log_b, h0)  # (B, T, H)
    last = h[:, -1]  # (B, H)
    return (h * mask if mask is not None else h), last
