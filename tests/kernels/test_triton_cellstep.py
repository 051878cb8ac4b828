"""The fused one-launch cell step (streaming inference) against ``layer.step``."""

from __future__ import annotations

import pytest
import torch
from kernel_refs import DEVICE, assert_close, needs_triton

from rnnkit.nn import GRU, LSTM

pytestmark = needs_triton


@pytest.mark.parametrize("cls,bias", [(LSTM, True), (GRU, True), (LSTM, False)])
def test_layer_step_matches_eager_step(cls, bias):
    from rnnkit.kernels.triton_cellstep import layer_step

    torch.manual_seed(0)
    layer = cls(5, 20, num_layers=2, bias=bias).to(DEVICE).eval()  # H = 20: a masked block of 32
    x = torch.randn(2, 5, device=DEVICE)
    state = layer.init_state(2, device=DEVICE)
    state = type(state)(*(torch.randn_like(f) for f in state))
    with torch.no_grad():
        y, new = layer_step(layer, x, state)
        y_ref, new_ref = layer.step(x, state)
    assert_close(y, y_ref, 1e-5, "y")
    for a, b in zip(new, new_ref):
        assert_close(a, b, 1e-5, "state")
