"""``backend="triton"`` inside the public layers: stacked, bidirectional, padded, against ``backend="reference"``."""

from __future__ import annotations

import pytest
import torch
from kernel_refs import DEVICE, assert_close, needs_triton

from rnnkit.nn import GRU, LSTM, LayerNormLSTM, MinGRU, MinLSTM

pytestmark = needs_triton


def _run(layer, x, lengths):
    y, state = layer(x, lengths=lengths)
    loss = (y * torch.linspace(-1, 1, y.shape[-1], device=y.device)).sum() + sum(s.square().sum() for s in state)
    grads = torch.autograd.grad(loss, [x] + list(layer.parameters()))
    return y, state, grads


@pytest.mark.parametrize("cls,layers,bidirectional", [(LSTM, 2, False), (GRU, 1, True), (MinGRU, 2, False),
                                                      (MinLSTM, 1, True)])
def test_layer_triton_matches_reference(cls, layers, bidirectional):
    torch.manual_seed(0)
    ref = cls(3, 16, num_layers=layers, bidirectional=bidirectional, backend="reference").to(DEVICE)
    fused = cls(3, 16, num_layers=layers, bidirectional=bidirectional, backend="triton").to(DEVICE)
    fused.load_state_dict(ref.state_dict())
    x = torch.randn(2, 4, 3, device=DEVICE, requires_grad=True)
    lengths = torch.tensor([4, 2])
    y_f, s_f, g_f = _run(fused, x, lengths)
    y_r, s_r, g_r = _run(ref, x, lengths)
    assert y_f.shape == y_r.shape == (2, 4, 16 * (2 if bidirectional else 1))
    assert (y_f[1, 2:] == 0).all(), "padded steps must output zeros"
    assert_close(y_f, y_r, 1e-4, "y")
    for a, b in zip(s_f, s_r):
        assert_close(a, b, 1e-4, "state")
    names = ["x"] + [n for n, _ in ref.named_parameters()]
    for name, a, b in zip(names, g_f, g_r):
        assert_close(a, b, 1e-4, f"grad {name}")


@pytest.mark.parametrize("zoneout", [0.0, 0.25])
def test_layernorm_lstm_triton_matches_reference(zoneout):
    torch.manual_seed(0)
    ref = LayerNormLSTM(3, 20, zoneout=zoneout, backend="reference").to(DEVICE)
    fused = LayerNormLSTM(3, 20, zoneout=zoneout, backend="triton").to(DEVICE)
    with torch.no_grad():
        for p in ref.parameters():  # move the LN gains off 1 and the biases off 0 so every gradient counts
            p.add_(0.3 * torch.randn_like(p))
    fused.load_state_dict(ref.state_dict())
    if zoneout:
        ref.eval(), fused.eval()  # the kernel runs zoneout's deterministic (eval) form
    x = torch.randn(3, 5, 3, device=DEVICE, requires_grad=True)
    lengths = torch.tensor([5, 2, 4])
    (y_f, s_f, g_f), (y_r, s_r, g_r) = _run(fused, x, lengths), _run(ref, x, lengths)
    assert_close(y_f, y_r, 1e-4, "y")
    for a, b in zip(s_f, s_r):
        assert_close(a, b, 1e-4, "state")
    for name, a, b in zip(["x"] + [n for n, _ in ref.named_parameters()], g_f, g_r):
        assert_close(a, b, 1e-4, f"grad {name}")


@pytest.mark.gpu
def test_bf16_lstm_layer_gpu():
    torch.manual_seed(0)
    ref = LSTM(64, 256, num_layers=2, backend="reference").cuda()
    fused = LSTM(64, 256, num_layers=2, backend="triton").cuda().bfloat16()
    fused.load_state_dict(ref.state_dict())
    x = torch.randn(32, 100, 64, device="cuda")
    y_r, _ = ref(x)
    y_f, _ = fused(x.bfloat16())
    assert y_f.dtype == torch.bfloat16
    assert_close(y_f.float(), y_r, 5e-2, "y")


@pytest.mark.gpu
def test_layernorm_lstm_at_real_size_gpu():
    # 32 steps, not more: with random weights this cell amplifies rounding differences by about e every few
    # steps, so after ~60 steps even the fp32 reference is over 1e-4 away from a float64 run (4% after 128
    # steps, also in the Triton interpreter). Longer runs would compare two roundings, not two implementations.
    torch.manual_seed(0)
    ref = LayerNormLSTM(64, 256, num_layers=2, backend="reference").cuda()
    fused = LayerNormLSTM(64, 256, num_layers=2, backend="triton").cuda()
    fused.load_state_dict(ref.state_dict())
    x = torch.randn(64, 32, 64, device="cuda", requires_grad=True)
    (y_f, _, g_f), (y_r, _, g_r) = _run(fused, x, None), _run(ref, x, None)
    assert_close(y_f, y_r, 1e-4, "y")
    for a, b in zip(g_f, g_r):
        assert_close(a, b, 1e-3, "grad")
