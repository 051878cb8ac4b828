"""The fused Triton LSTM / GRU recurrences against per-step torch references, forward and backward.

On CPU these run in the Triton interpreter at tiny sizes (a few seconds in all); on a GPU the same tests run the
compiled kernels, and the ``gpu`` tests add real sizes where the dense recurrence spans several programs and the
step barrier is exercised.
"""

from __future__ import annotations

import pytest
import torch
from kernel_refs import DEVICE, assert_close, gru_ref, lstm_ref, needs_triton

pytestmark = needs_triton

CASES = [(16, 1, None), (20, 1, [5, 2, 4]), (32, 2, [5, 3, 1])]  # (H, heads, lengths); H = 20 pads a block to 32


def _grads(out, inputs, seed=1):
    g = torch.Generator(device="cpu").manual_seed(seed)
    weights = [torch.randn(o.shape, generator=g).to(o.device, o.dtype) for o in out]
    return torch.autograd.grad(sum((o * w).sum() for o, w in zip(out, weights)), inputs)


def _lstm_case(B, T, H, heads, lengths, dtype, device):
    torch.manual_seed(0)
    Hd = H // heads
    gx = torch.randn(B, T, 4 * H, device=device).to(dtype).requires_grad_()
    w = (torch.randn(4 * H, Hd, device=device) / Hd ** 0.5).requires_grad_()
    h0 = torch.randn(B, H, device=device, requires_grad=True)
    c0 = torch.randn(B, H, device=device, requires_grad=True)
    lens = torch.tensor(lengths) if lengths is not None else None
    return gx, w, h0, c0, lens


def _check_lstm(B, T, H, heads, lengths, dtype, device, rtol):
    from rnnkit.kernels.triton_lstm import lstm_recurrence

    gx, w, h0, c0, lens = _lstm_case(B, T, H, heads, lengths, dtype, device)
    out = lstm_recurrence(gx, w, h0, c0, lens, heads)
    assert out[0].shape == (B, T, H) and out[0].dtype == dtype
    got = _grads(out, (gx, w, h0, c0))
    ref_in = [t.detach().double().requires_grad_() for t in (gx, w, h0, c0)]
    ref = lstm_ref(*ref_in, lens, heads)
    want = _grads(ref, ref_in)
    for name, a, b in zip(("hs", "cs"), out, ref):
        assert_close(a, b, rtol, name)
    for name, a, b in zip(("d gx", "d w_hh", "d h0", "d c0"), got, want):
        assert_close(a, b, rtol, name)


def _check_gru(B, T, H, heads, lengths, dtype, device, rtol):
    from rnnkit.kernels.triton_gru import gru_recurrence

    torch.manual_seed(0)
    Hd = H // heads
    gx = torch.randn(B, T, 3 * H, device=device).to(dtype).requires_grad_()
    w = (torch.randn(3 * H, Hd, device=device) / Hd ** 0.5).requires_grad_()
    b = torch.randn(3 * H, device=device, requires_grad=True)
    h0 = torch.randn(B, H, device=device, requires_grad=True)
    lens = torch.tensor(lengths) if lengths is not None else None
    out = gru_recurrence(gx, w, b, h0, lens, heads)
    assert out.shape == (B, T, H) and out.dtype == dtype
    got = _grads((out,), (gx, w, b, h0))
    ref_in = [t.detach().double().requires_grad_() for t in (gx, w, b, h0)]
    ref = gru_ref(*ref_in, lens, heads)
    want = _grads((ref,), ref_in)
    assert_close(out, ref, rtol, "hs")
    for name, a, b_ in zip(("d gx", "d w_hh", "d b_hh", "d h0"), got, want):
        assert_close(a, b_, rtol, name)


@pytest.mark.parametrize("H,heads,lengths", CASES)
def test_lstm_matches_reference_fp32(H, heads, lengths):
    _check_lstm(3, 5, H, heads, lengths, torch.float32, DEVICE, 1e-4)


@pytest.mark.parametrize("H,heads,lengths", CASES)
def test_gru_matches_reference_fp32(H, heads, lengths):
    _check_gru(3, 5, H, heads, lengths, torch.float32, DEVICE, 1e-4)


def test_lstm_and_gru_bf16_close_to_fp32_reference():
    _check_lstm(3, 4, 16, 1, [4, 2, 3], torch.bfloat16, DEVICE, 5e-2)
    _check_gru(3, 4, 16, 1, None, torch.bfloat16, DEVICE, 5e-2)


@pytest.mark.gpu
@pytest.mark.parametrize("H", [256, 1024])
@pytest.mark.parametrize("dtype,rtol", [(torch.float32, 1e-4), (torch.bfloat16, 5e-2)])
def test_dense_recurrence_at_real_sizes_gpu(H, dtype, rtol):
    # Several hidden blocks per batch block: the grid-wide step barrier is on the path.
    _check_lstm(64, 64, H, 1, None, dtype, "cuda", rtol)
    _check_gru(64, 64, H, 1, list(range(64, 0, -1)), dtype, "cuda", rtol)


@pytest.mark.gpu
def test_multi_head_recurrence_at_real_sizes_gpu():
    _check_lstm(32, 128, 1024, 8, None, torch.bfloat16, "cuda", 5e-2)
    _check_gru(32, 128, 1024, 8, None, torch.float32, "cuda", 1e-4)
