"""MinGRU / MinLSTM: the log-space scan equals the step loop (lengths, negative initial state), gradcheck, streaming."""

from __future__ import annotations

import pytest
import torch

from rnnkit.nn import MinGRU, MinGRUCell, MinLSTM, MinLSTMCell, RNNState
from rnnkit.nn.min_rnn import g, log_g
from rnnkit.nn.scan import log_linear_scan, masked_log_scan

LAYERS = [MinGRU, MinLSTM]


def _pair(cls, **kw):
    """A scan layer and a reference (step loop) layer with the same weights, float64."""
    torch.manual_seed(0)
    scan = cls(3, 5, backend="torch", **kw).double()
    loop = cls(3, 5, backend="reference", **kw).double()
    loop.load_state_dict(scan.state_dict())
    return scan, loop


def test_log_linear_scan_matches_recurrence_with_negative_h0():
    torch.manual_seed(0)
    a = torch.rand(2, 9, 4, dtype=torch.float64) * 0.9 + 0.05
    b = torch.rand(2, 9, 4, dtype=torch.float64) + 0.01
    h0 = -3.0 * torch.rand(2, 4, dtype=torch.float64)  # strictly negative: no logarithm could take it
    h, want = h0, []
    for t in range(9):
        h = a[:, t] * h + b[:, t]
        want.append(h)
    torch.testing.assert_close(log_linear_scan(a.log(), b.log(), h0), torch.stack(want, 1))


def test_masked_scan_keeps_state_and_zeroes_padding():
    torch.manual_seed(0)
    log_a, log_b = -torch.rand(2, 6, 3), torch.randn(2, 6, 3)
    mask = (torch.arange(6) < torch.tensor([[6], [2]])).unsqueeze(-1)  # (2, 6, 1)
    y, last = masked_log_scan(log_a, log_b, torch.randn(2, 3), mask)
    assert torch.all(y[1, 2:] == 0)
    torch.testing.assert_close(last[1], y[1, 1])
    torch.testing.assert_close(last[0], y[0, -1])


def test_g_is_positive_and_log_g_consistent():
    v = torch.linspace(-30, 30, 601, dtype=torch.float64)
    assert torch.all(g(v) > 0)
    torch.testing.assert_close(log_g(v), g(v).log())


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("cls", LAYERS)
def test_scan_equals_step_loop_with_lengths_and_negative_state(cls, num_layers, bidirectional):
    scan, loop = _pair(cls, num_layers=num_layers, bidirectional=bidirectional)
    D = 2 if bidirectional else 1
    x = torch.randn(3, 11, 3, dtype=torch.float64)
    h0 = RNNState(-2.0 - torch.rand(num_layers * D, 3, 5, dtype=torch.float64))  # negative initial state
    lengths = torch.tensor([11, 4, 1])
    for lens in (None, lengths):
        xs, xl = x.clone().requires_grad_(), x.clone().requires_grad_()
        y1, s1 = scan(xs, h0, lens)
        y2, s2 = loop(xl, h0, lens)
        torch.testing.assert_close(y1, y2)
        torch.testing.assert_close(s1.h, s2.h)
        (y1.square().sum() + s1.h.sum()).backward()
        (y2.square().sum() + s2.h.sum()).backward()
        torch.testing.assert_close(xs.grad, xl.grad)
        for p1, p2 in zip(scan.parameters(), loop.parameters()):
            torch.testing.assert_close(p1.grad, p2.grad)
            p1.grad = p2.grad = None
    y, _ = scan(x, h0, lengths)
    assert torch.all(y[1, 4:] == 0) and torch.all(y[2, 1:] == 0)


@pytest.mark.parametrize("cls", LAYERS)
def test_step_looped_over_time_equals_layer(cls):
    torch.manual_seed(1)
    layer = cls(4, 6, num_layers=2)
    x = torch.randn(2, 8, 4)
    y, s = layer(x)
    state, ys = None, []
    for x_t in x.unbind(1):
        y_t, state = layer.step(x_t, state)
        ys.append(y_t)
    torch.testing.assert_close(torch.stack(ys, 1), y, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(state.h, s.h, rtol=1e-5, atol=1e-5)
    y_a, s_a = layer(x[:, :5])
    y_b, _ = layer(x[:, 5:], s_a)  # chunked with a carried state
    torch.testing.assert_close(torch.cat([y_a, y_b], 1), y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls", LAYERS)
def test_shapes_dtypes_and_state_dict(cls):
    layer = cls(4, 6, num_layers=2, bidirectional=True)
    y, s = layer(torch.randn(3, 5, 4))
    assert y.shape == (3, 5, 12) and y.dtype == torch.float32
    assert isinstance(s, RNNState) and s.h.shape == (4, 3, 6)
    y64, _ = layer.double()(torch.randn(3, 5, 4, dtype=torch.float64))
    assert y64.dtype == torch.float64
    assert "weight_ih_l1_reverse" in layer.state_dict()
    assert not any("weight_hh" in k for k in layer.state_dict())  # gates read x_t only


@pytest.mark.parametrize("cell_cls", [MinGRUCell, MinLSTMCell])
def test_gradcheck_float64(cell_cls):
    torch.manual_seed(0)
    cell = cell_cls(2, 3).double()
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)

    def via_steps(x, h0):
        h, out = (h0,), []
        for x_t in x.unbind(1):
            y, h = cell.step(x_t, h)
            out.append(y)
        return torch.stack(out, 1)

    assert torch.autograd.gradcheck(via_steps, (x, h0))
    assert torch.autograd.gradcheck(lambda x, h0: cell.scan(x, (h0,), None)[0], (x, h0))


def test_bad_input_and_step_on_bidirectional():
    layer = MinGRU(4, 6)
    with pytest.raises(ValueError, match=r"MinGRU expected input \(B, T, 4\), got \(2, 3, 5\)"):
        layer(torch.randn(2, 3, 5))
    with pytest.raises(ValueError, match="MinLSTM.step needs a unidirectional layer"):
        MinLSTM(4, 6, bidirectional=True).step(torch.randn(2, 4))
    with pytest.raises(ValueError, match="input_size and hidden_size must be positive, got 0 and 6"):
        MinGRUCell(0, 6)


def test_long_sequence_float32_stays_finite_and_close():
    torch.manual_seed(0)
    scan = MinGRU(4, 8)
    loop = MinGRU(4, 8, backend="reference")
    loop.load_state_dict(scan.state_dict())
    x = torch.randn(2, 2000, 4)
    y1, _ = scan(x)
    y2, _ = loop(x)
    assert torch.isfinite(y1).all()
    torch.testing.assert_close(y1, y2, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("cls", LAYERS)
def test_bfloat16_scans_in_float32(cls):
    torch.manual_seed(0)
    layer = cls(4, 8)
    x = torch.randn(2, 300, 4)
    y32, _ = layer(x)
    low = cls(4, 8).to(torch.bfloat16)
    low.load_state_dict(layer.state_dict())
    y16, s16 = low(x.bfloat16())
    assert y16.dtype == s16.h.dtype == torch.bfloat16
    torch.testing.assert_close(y16.float(), y32, rtol=0.05, atol=0.05)


def test_scan_gradient_has_no_float32_floor_at_long_lags():
    """The adjoint scan keeps decayed gradients tiny (autograd through cumsum left ~1e-6 of rounding noise)."""
    torch.manual_seed(0)
    layer = MinGRU(4, 16)
    x = torch.randn(4, 150, 4, requires_grad=True)
    y, _ = layer(x)
    y[:, -1].sum().backward()
    ref = MinGRU(4, 16, backend="reference").double()
    ref.load_state_dict(layer.state_dict())
    x64 = x.detach().double().requires_grad_()
    y64, _ = ref(x64)
    y64[:, -1].sum().backward()
    g, g64 = x.grad.norm(dim=-1).mean(0), x64.grad.norm(dim=-1).mean(0)
    assert g64[0] < 1e-12  # the true gradient 150 steps back has vanished ...
    assert g[0] < 1e-10  # ... and the float32 scan agrees instead of reporting rounding noise
    torch.testing.assert_close(g[-20:].double(), g64[-20:], rtol=1e-3, atol=1e-6)


def test_sequential_cpu_path_equals_log_scan():
    from rnnkit.nn.scan import CPU_SEQUENTIAL_MIN_LANES, linear_scan, sequential_linear_scan

    torch.manual_seed(0)
    log_a = (-3 * torch.rand(4, 40, 80, dtype=torch.float64)).requires_grad_()
    log_b = torch.randn(4, 40, 80, dtype=torch.float64, requires_grad=True)
    h0 = -1.0 - torch.rand(4, 80, dtype=torch.float64)
    assert 4 * 80 >= CPU_SEQUENTIAL_MIN_LANES  # so linear_scan takes the sequential path here
    h_seq = linear_scan(log_a, log_b, h0)
    h_log = log_linear_scan(log_a, log_b, h0)
    torch.testing.assert_close(h_seq, h_log)
    g_seq = torch.autograd.grad(h_seq.sin().sum(), (log_a, log_b))
    g_log = torch.autograd.grad(h_log.sin().sum(), (log_a, log_b))
    for u, v in zip(g_seq, g_log):
        torch.testing.assert_close(u, v)
    low = sequential_linear_scan(log_a.detach().bfloat16(), log_b.detach().bfloat16(), h0.bfloat16())
    assert low.dtype == torch.bfloat16


def test_large_batch_layer_matches_step_loop():
    torch.manual_seed(0)
    scan, loop = MinLSTM(3, 64), MinLSTM(3, 64, backend="reference")
    loop.load_state_dict(scan.state_dict())
    x, lengths = torch.randn(8, 12, 3), torch.tensor([12, 5, 1, 12, 7, 3, 9, 12])
    y1, s1 = scan(x, lengths=lengths)
    y2, s2 = loop(x, lengths=lengths)
    torch.testing.assert_close(y1, y2)
    torch.testing.assert_close(s1.h, s2.h)


def test_log_g_slope_at_zero_is_that_of_the_upper_branch():
    # The fused Triton scan differentiates g(v) = v + 0.5 at v = 0; the torch path must agree on exact zeros
    # (bf16 gates hit them), or the two backends' gradients differ there.
    v = torch.tensor([0.0, -0.0], requires_grad=True)
    log_g(v).sum().backward()
    torch.testing.assert_close(v.grad, torch.tensor([2.0, 2.0]))  # d/dv log(v + 0.5) at 0
