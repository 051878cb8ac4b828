"""LayerNormLSTM: equations, shapes, streaming, gradcheck, zoneout in training and eval, backend choice."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from rnnkit.nn import LayerNormLSTM, LayerNormLSTMCell, LSTMState


def test_step_follows_ba_et_al_equations():
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(3, 4).double()
    with torch.no_grad():
        for ln in (cell.ln_ih, cell.ln_hh, cell.ln_c):
            ln.weight.uniform_(0.5, 1.5)
        cell.ln_c.bias.uniform_(-0.5, 0.5)
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (3, 4, 4))
    y, (h1, c1) = cell.step(x, (h, c))

    def ln(v, mod):
        return F.layer_norm(v, v.shape[-1:], mod.weight, mod.bias, eps=mod.eps)

    gates = ln(x @ cell.weight_ih.T, cell.ln_ih) + ln(h @ cell.weight_hh.T, cell.ln_hh) + cell.bias_ih + cell.bias_hh
    i, f, g, o = gates.chunk(4, -1)
    c_want = f.sigmoid() * c + i.sigmoid() * g.tanh()
    torch.testing.assert_close(c1, c_want)
    torch.testing.assert_close(h1, o.sigmoid() * ln(c_want, cell.ln_c).tanh())
    torch.testing.assert_close(y, h1)


def test_shapes_dtypes_bidirectional_and_lengths():
    layer = LayerNormLSTM(4, 6, num_layers=2, bidirectional=True)
    y, s = layer(torch.randn(3, 5, 4), lengths=torch.tensor([5, 2, 3]))
    assert y.shape == (3, 5, 12) and y.dtype == torch.float32
    assert isinstance(s, LSTMState) and s.h.shape == s.c.shape == (4, 3, 6)
    assert torch.all(y[1, 2:] == 0)
    alone, _ = layer(torch.randn(1, 2, 4))
    assert alone.shape == (1, 2, 12)
    assert {"ln_ih_l0.weight", "ln_c_l1_reverse.bias", "weight_hh_l1_reverse"} <= set(layer.state_dict())


def test_padded_sequence_equals_sequence_alone():
    torch.manual_seed(0)
    layer = LayerNormLSTM(3, 5, bidirectional=True).double()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    y, s = layer(x, lengths=torch.tensor([6, 4]))
    y1, s1 = layer(x[1:, :4])
    torch.testing.assert_close(y[1, :4], y1[0])
    torch.testing.assert_close(s.h[:, 1], s1.h[:, 0])


def test_step_looped_over_time_equals_layer():
    torch.manual_seed(0)
    layer = LayerNormLSTM(4, 6, num_layers=2, zoneout=0.3).eval()
    x = torch.randn(2, 7, 4)
    y, s = layer(x)
    state, ys = None, []
    for x_t in x.unbind(1):
        y_t, state = layer.step(x_t, state)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys, 1), y)
    torch.testing.assert_close(state.c, s.c)


def test_gradcheck_float64():
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(2, 3, zoneout=0.25).double().eval()  # eval: zoneout as its expectation
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    h0, c0 = (torch.randn(2, 3, dtype=torch.float64, requires_grad=True) for _ in range(2))

    def run(x, h0, c0):
        state, out = (h0, c0), []
        for x_t in x.unbind(1):
            y, state = cell.step(x_t, state)
            out.append(y)
        return torch.stack(out, 1), state[1]

    assert torch.autograd.gradcheck(run, (x, h0, c0))


def test_zoneout_eval_is_deterministic_and_training_is_random():
    torch.manual_seed(0)
    layer = LayerNormLSTM(3, 8, zoneout=0.5)
    x = torch.randn(2, 10, 3)
    layer.eval()
    torch.testing.assert_close(layer(x)[0], layer(x)[0], rtol=0, atol=0)
    layer.train()
    assert not torch.equal(layer(x)[0], layer(x)[0])
    plain = LayerNormLSTM(3, 8)
    plain.load_state_dict(layer.state_dict())
    assert not torch.allclose(layer.eval()(x)[0], plain.eval()(x)[0])  # eval uses the expectation, not zoneout off


def test_zoneout_keeps_units_in_training():
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(3, 200, zoneout=0.3).train()
    h, c = torch.randn(4, 200), torch.randn(4, 200)
    _, (h1, c1) = cell.step(torch.randn(4, 3), (h, c))
    kept = (h1 == h).float().mean().item()
    assert 0.2 < kept < 0.4
    assert 0.2 < (c1 == c).float().mean().item() < 0.4


def test_errors_and_backend():
    with pytest.raises(ValueError, match=r"zoneout must be a probability in \[0, 1\), got 1.0"):
        LayerNormLSTM(3, 4, zoneout=1.0)
    with pytest.raises(ValueError, match="backend='torch' cannot run: LayerNormLSTMCell has no fused PyTorch kernel"):
        LayerNormLSTM(3, 4, backend="torch")(torch.randn(1, 2, 3))
    with pytest.raises(ValueError, match=r"LayerNormLSTM expected input \(B, T, 3\), got \(1, 2, 4\)"):
        LayerNormLSTM(3, 4)(torch.randn(1, 2, 4))
    deep = LayerNormLSTM(3, 4, num_layers=2, zoneout=0.2)
    assert deep.cells[1].zoneout == 0.2 and deep.cells[1].input_size == 4
