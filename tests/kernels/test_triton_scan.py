"""The fused minGRU / minLSTM scan against the log-space scan of rnnkit.nn (float64), forward and backward."""

from __future__ import annotations

import pytest
import torch
from kernel_refs import DEVICE, assert_close, needs_triton

from rnnkit.nn.min_rnn import MinGRUCell, MinLSTMCell
from rnnkit.nn.recurrent import step_mask
from rnnkit.nn.scan import masked_log_scan

pytestmark = needs_triton
CELLS = {"mingru": MinGRUCell, "minlstm": MinLSTMCell}


def _check(kind, B, T, H, lengths, block_t, dtype, device, rtol):
    from rnnkit.kernels.triton_scan import min_scan

    torch.manual_seed(0)
    cell = CELLS[kind](4, H).double()
    gx = (3 * torch.randn(B, T, cell.gates * H, device=device)).to(dtype).requires_grad_()
    h0 = torch.randn(B, H, device=device, requires_grad=True)
    lens = torch.tensor(lengths) if lengths is not None else None
    hs = min_scan(gx, h0, kind, lens, block_t)  # (B, T, H), padded steps keep the state
    assert hs.shape == (B, T, H) and hs.dtype == dtype
    mask = step_mask(lens, T, device)
    y = hs * mask if mask is not None else hs
    w = torch.randn(B, T, H, device=device, dtype=torch.float64)
    got = torch.autograd.grad((y * w).sum() + hs[:, -1].sum(), (gx, h0))

    gx_r, h0_r = gx.detach().double().requires_grad_(), h0.detach().double().requires_grad_()
    y_r, last_r = masked_log_scan(*cell._coefficients(gx_r), h0_r, mask)
    want = torch.autograd.grad((y_r * w).sum() + last_r.sum(), (gx_r, h0_r))
    assert_close(y, y_r, rtol, "y")
    assert_close(hs[:, -1], last_r, rtol, "last state")
    for name, a, b in zip(("d gx", "d h0"), got, want):
        assert_close(a, b, rtol, name)


@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
@pytest.mark.parametrize("lengths,block_t", [(None, None), ([20, 7], 16)])
def test_scan_matches_log_space_scan_fp32(kind, lengths, block_t):
    # block_t=16 < T=20: two tiles, so the carry between tiles is tested in both directions.
    _check(kind, 2, 20, 24, lengths, block_t, torch.float32, DEVICE, 1e-4)


def test_scan_bf16_close_to_reference():
    _check("mingru", 2, 16, 16, [16, 9], None, torch.bfloat16, DEVICE, 3e-2)


def test_scan_rejects_unknown_kind():
    from rnnkit.kernels.triton_scan import min_scan

    with pytest.raises(ValueError, match=r"^kind must be one of \('mingru', 'minlstm'\), got 'gru'$"):
        min_scan(torch.zeros(1, 2, 4), torch.zeros(1, 2), "gru")


@pytest.mark.gpu
@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
@pytest.mark.parametrize("dtype,rtol", [(torch.float32, 1e-4), (torch.bfloat16, 3e-2)])
def test_scan_at_real_sizes_gpu(kind, dtype, rtol):
    _check(kind, 16, 1000, 1024, list(range(1000, 1000 - 16 * 37, -37)), None, dtype, "cuda", rtol)
