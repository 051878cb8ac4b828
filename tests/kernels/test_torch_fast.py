"""The torch backend's cheap wins: dtype routing rules, flat cuDNN weights, and a no-change path on CPU."""

from __future__ import annotations

import warnings

import pytest
import torch

from rnnkit.kernels import torch_rnn
from rnnkit.kernels.torch_fast import compute_dtype, effective_dtype, flatten_weights, fused_forward
from rnnkit.nn import GRU, LSTM

bf16, fp16, fp32 = torch.bfloat16, torch.float16, torch.float32


@pytest.mark.parametrize("dtype,device,H,grad,max_abs,want", [
    (bf16, "cpu", 64, False, 1.0, bf16),  # only CUDA is rerouted
    (fp32, "cuda", 64, False, 1.0, fp32),  # only bf16 is rerouted
    (bf16, "cuda", 128, True, None, fp32),  # small H: fp32, training included
    (bf16, "cuda", 256, False, 3.0, fp16),  # inference, values well inside fp16's range
    (bf16, "cuda", 256, False, 2e4, bf16),  # too close to fp16's 65504
    (bf16, "cuda", 256, True, 3.0, bf16),  # training: fp16 gradients would underflow
])
def test_compute_dtype_rules(dtype, device, H, grad, max_abs, want):
    assert compute_dtype(dtype, device, H, grad, max_abs) == want


def test_cpu_path_is_torch_rnn_unchanged():
    torch.manual_seed(0)
    layer = LSTM(3, 8, num_layers=2, bidirectional=True, backend="torch")
    x = torch.randn(2, 5, 3)
    state = tuple(torch.zeros(4, 2, 8) for _ in range(2))
    args = (layer.cells, x, state, torch.tensor([5, 3]), 2, True, 0.0, False)
    y, new = fused_forward(*args)
    y_ref, new_ref = torch_rnn.fused_forward(*args)
    assert torch.equal(y, y_ref) and all(torch.equal(a, b) for a, b in zip(new, new_ref))
    assert not flatten_weights(layer.cells, 2, True)  # nothing to do off CUDA


@pytest.mark.gpu
def test_flatten_weights_gpu_makes_one_buffer_and_keeps_results():
    torch.manual_seed(0)
    layer = GRU(16, 32, num_layers=2, backend="torch").cuda()
    x = torch.randn(4, 10, 16, device="cuda")
    y_before, _ = layer(x)
    assert flatten_weights(layer.cells, 2, False)
    assert len({p.untyped_storage().data_ptr() for p in layer.parameters()}) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "weights are not part of single contiguous chunk" warning
        y_after, _ = layer(x)
    torch.testing.assert_close(y_after, y_before)
    y_after.sum().backward()
    assert all(p.grad is not None for p in layer.parameters())


@pytest.mark.gpu
@pytest.mark.parametrize("H", [64, 256])
def test_bf16_routing_gpu_stays_close_to_fp32(H):
    torch.manual_seed(0)
    ref = LSTM(32, H, backend="torch").cuda()
    fast = LSTM(32, H, backend="torch").cuda().bfloat16()
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(8, 50, 32, device="cuda")
    with torch.no_grad():
        y_ref, _ = ref(x)
        y, state = fast(x.bfloat16())
    assert y.dtype == bf16 and state.h.dtype == bf16
    torch.testing.assert_close(y.float(), y_ref, atol=2e-2, rtol=2e-2)


def test_effective_dtype_follows_autocast():
    x = torch.randn(2, 3)
    assert effective_dtype(x) == fp32
    with torch.autocast("cpu", dtype=bf16):
        assert effective_dtype(x) == bf16
        assert effective_dtype(x.double()) == torch.float64  # autocast lowers fp32 only


@pytest.mark.gpu
def test_autocast_training_small_h_runs_in_fp32_gpu():
    torch.manual_seed(0)
    layer = LSTM(16, 64, backend="torch").cuda()
    x = torch.randn(4, 20, 16, device="cuda")
    y_ref, _ = layer(x)
    with torch.autocast("cuda", dtype=bf16):
        y, _ = layer(x)
    assert y.dtype == bf16
    torch.testing.assert_close(y.float(), y_ref, atol=1e-2, rtol=1e-2)  # fp32 inside, rounded once to bf16
