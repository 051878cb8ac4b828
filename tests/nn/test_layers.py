"""RNN / LSTM / GRU: parity with torch.nn, lengths, streaming, state handling and input checks."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, LSTMState, Recurrent, RNNCell, RNNState

PAIRS = [(RNN, torch.nn.RNN), (LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU)]
BACKENDS = ["reference", "torch"]


def _torch_run(ref, x, lengths, hx):
    if lengths is None:
        y, s = ref(x, hx)
    else:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        y, s = ref(packed, hx)
        y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
    return y, (s if isinstance(s, tuple) else (s,))


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
@pytest.mark.parametrize("use_lengths", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("ours_cls,ref_cls", PAIRS)
def test_parity_with_torch_nn(ours_cls, ref_cls, backend, num_layers, bidirectional, use_lengths, dtype, tol):
    torch.manual_seed(0)
    ref = ref_cls(5, 6, num_layers=num_layers, bidirectional=bidirectional, batch_first=True).to(dtype)
    ours = ours_cls(5, 6, num_layers=num_layers, bidirectional=bidirectional, backend=backend).to(dtype)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(3, 7, 5, dtype=dtype)
    lengths = torch.tensor([7, 3, 5]) if use_lengths else None
    D = 2 if bidirectional else 1
    h0 = torch.randn(num_layers * D, 3, 6, dtype=dtype)
    state = LSTMState(h0, torch.randn_like(h0)) if ours_cls is LSTM else RNNState(h0)
    hx = tuple(state) if ours_cls is LSTM else h0

    x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    y, s = ours(x_ours, state, lengths)
    y_ref, s_ref = _torch_run(ref, x_ref, lengths, hx)
    torch.testing.assert_close(y, y_ref, rtol=tol, atol=tol)
    for a, b in zip(s, s_ref):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol)

    loss, loss_ref = y.pow(2).sum() + sum(t.sum() for t in s), y_ref.pow(2).sum() + sum(t.sum() for t in s_ref)
    loss.backward()
    loss_ref.backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, rtol=tol * 10, atol=tol * 10)
    ref_grads = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        index, _, pname = name[len("cells."):].partition(".")
        g_ref = ref_grads[ours.torch_name(int(index), pname)].grad
        torch.testing.assert_close(p.grad, g_ref, rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("ours_cls,ref_cls", PAIRS)
def test_state_dict_round_trips_both_ways(ours_cls, ref_cls):
    ours = ours_cls(4, 3, num_layers=2, bidirectional=True)
    ref = ref_cls(4, 3, num_layers=2, bidirectional=True, batch_first=True)
    ref.load_state_dict(ours.state_dict())  # ours -> torch.nn
    ours2 = ours_cls(4, 3, num_layers=2, bidirectional=True)
    ours2.load_state_dict(ref.state_dict())  # torch.nn -> ours
    for (k, a), (k2, b) in zip(ours.state_dict().items(), ours2.state_dict().items()):
        assert k == k2 and torch.equal(a, b)
    assert "weight_hh_l1_reverse" in ours.state_dict()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_padded_batch_equals_each_sequence_alone(cls, backend):
    torch.manual_seed(1)
    layer = cls(3, 4, num_layers=2, bidirectional=True, backend=backend)
    x = torch.randn(3, 6, 3)
    lengths = torch.tensor([6, 2, 4])
    y, s = layer(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        y_b, s_b = layer(x[b:b + 1, :n])
        torch.testing.assert_close(y[b, :n], y_b[0], rtol=1e-5, atol=1e-6)
        assert torch.all(y[b, n:] == 0)
        for field, field_b in zip(s, s_b):
            torch.testing.assert_close(field[:, b], field_b[:, 0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_step_and_chunks_equal_whole_sequence(cls):
    torch.manual_seed(2)
    layer = cls(3, 5, num_layers=2)
    x = torch.randn(2, 9, 3)
    y, s = layer(x)
    state, steps = None, []
    for x_t in x.unbind(1):
        y_t, state = layer.step(x_t, state)
        steps.append(y_t)
    torch.testing.assert_close(torch.stack(steps, 1), y, rtol=1e-5, atol=1e-6)
    state, chunks = None, []
    for chunk in x.split(4, dim=1):
        y_c, state = layer(chunk, state)
        chunks.append(y_c)
    torch.testing.assert_close(torch.cat(chunks, 1), y, rtol=1e-5, atol=1e-6)
    for a, b in zip(state, s):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", [RNNCell(3, 4), RNNCell(3, 4, nonlinearity="relu"), LSTMCell(3, 4), GRUCell(3, 4)])
def test_gradcheck_reference_backend(cell):
    layer = Recurrent(cell, num_layers=2, bidirectional=True, backend="reference").double()
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2])
    assert torch.autograd.gradcheck(lambda inp: layer(inp, lengths=lengths)[0], (x,))


def test_state_helpers_and_truncated_bptt():
    layer = LSTM(2, 3)
    y, s = layer(torch.randn(4, 5, 2, requires_grad=True))
    assert s.h.requires_grad and not s.detach().h.requires_grad
    picked = s.select([0, 2])
    assert picked.h.shape == (1, 2, 3) and torch.equal(picked.c[:, 1], s.c[:, 2])
    assert torch.equal(LSTMState.from_dict(s.to_dict()).h, s.h)
    zeros = layer.init_state(4)
    assert isinstance(zeros, LSTMState) and zeros.h.shape == (1, 4, 3) and not zeros.h.any()
    with pytest.raises(ValueError, match=r"LSTMState.from_dict expected keys \['h', 'c'\], missing \['c'\]"):
        LSTMState.from_dict({"h": s.h})


def test_plain_tuple_state_accepted_like_torch():
    layer = LSTM(2, 3)
    h0 = torch.randn(1, 2, 3)
    y1, _ = layer(torch.ones(2, 4, 2), (h0, h0))
    y2, _ = layer(torch.ones(2, 4, 2), LSTMState(h0, h0))
    assert torch.equal(y1, y2)


def test_backend_auto_falls_back_and_explicit_choice_explains():
    class OddCell(LSTMCell):
        torch_mode = None

    layer = Recurrent(OddCell(2, 3), backend="auto")
    y, _ = layer(torch.randn(1, 3, 2))
    assert y.shape == (1, 3, 3)
    strict = Recurrent(OddCell(2, 3), backend="torch")
    with pytest.raises(ValueError, match="backend='torch' cannot run: OddCell has no fused PyTorch kernel"):
        strict(torch.randn(1, 3, 2))
    with pytest.raises(ValueError, match=r"backend must be one of \('auto', 'reference', 'torch'"):
        LSTM(2, 3, backend="cudnn")


def test_auto_trains_padded_batches_on_cpu_with_the_reference_loop():
    """ATen's packed CPU path has a backward quadratic in T; auto avoids it when gradients are on."""
    from rnnkit.kernels.dispatch import resolve_backend

    layer = LSTM(3, 4)
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 3])
    assert resolve_backend("auto", layer.cells, x, lengths) == "reference"
    assert resolve_backend("auto", layer.cells, x, None) == "torch"
    with torch.no_grad():
        assert resolve_backend("auto", layer.cells, x, lengths) == "torch"
    assert resolve_backend("torch", layer.cells, x, lengths) == "torch"


BAD_INPUTS = [
    (torch.randn(2, 5, 4), None, None, r"LSTM expected input \(B, T, 3\), got \(2, 5, 4\)"),
    (torch.randn(5, 3), None, None, r"LSTM expected input of rank 3 \(B, T, 3\) batch first, got rank 2 with shape \(5, 3\)"),
    (torch.randn(2, 5, 3), torch.tensor([6, 2]), None, r"LSTM expected every length in 1..5 \(the input's T\), got min 2 and max 6"),
    (torch.randn(2, 5, 3), torch.tensor([0, 2]), None, r"LSTM expected every length in 1..5 \(the input's T\), got min 0 and max 2"),
    (torch.randn(2, 5, 3), torch.tensor([5]), None, r"LSTM expected lengths of shape \(2,\), got \(1,\)"),
    (torch.randn(2, 5, 3), None, LSTMState(torch.zeros(1, 3, 4), torch.zeros(1, 3, 4)),
     r"LSTM expected state.h of shape \(L\*D, B, H\) = \(1, 2, 4\), got \(1, 3, 4\)"),
    (torch.randn(2, 5, 3), None, RNNState(torch.zeros(1, 2, 4)),
     r"LSTM expected state LSTMState\('h', 'c'\), got RNNState"),
]


@pytest.mark.parametrize("x,lengths,state,message", BAD_INPUTS)
def test_bad_input_names_expected_and_received(x, lengths, state, message):
    with pytest.raises(ValueError, match=message):
        LSTM(3, 4)(x, state, lengths)


def test_step_rejects_bidirectional_and_bad_shapes():
    with pytest.raises(ValueError, match="GRU.step needs a unidirectional layer"):
        GRU(2, 3, bidirectional=True).step(torch.randn(1, 2))
    with pytest.raises(ValueError, match=r"GRU.step expected x_t of shape \(B, 2\), got \(1, 1, 2\)"):
        GRU(2, 3).step(torch.randn(1, 1, 2))


def _graph_node_names(t: torch.Tensor) -> list[str]:
    seen, stack, names = set(), [t.grad_fn], []
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        names.append(type(node).__name__)
        stack.extend(fn for fn, _ in node.next_functions)
    return names


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_time_loop_walks_unbind_views_not_indexing(cls):
    """Indexing x[:, t] in the loop makes backward quadratic in T (each index's backward writes a full-size
    gradient); the reference loop must take its steps from one unbind."""
    layer = cls(3, 4, num_layers=2, backend="reference")
    y, _ = layer(torch.randn(2, 16, 3, requires_grad=True), lengths=torch.tensor([16, 9]))
    names = _graph_node_names(y)
    assert "SelectBackward0" not in names
    assert names.count("UnbindBackward0") >= 2  # one per layer for the projected inputs
