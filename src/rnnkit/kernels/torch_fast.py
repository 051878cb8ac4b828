"""Cheap wins for the ``torch`` (cuDNN) backend on CUDA: flat weights, and bf16 routed to a faster dtype.

Measurements of cuDNN on an H100: cuDNN has no persistent kernel for bf16 (30-50 us per step at every B <= 256), while
fp16 has one (4.8 us at B=8, H=256) and fp32 is fast at small H; and cuDNN re-packs weights that do not sit in one
contiguous buffer on every call. So, on CUDA only:

* :func:`flatten_weights` does what ``torch.nn.LSTM.flatten_parameters`` does for rnnkit's cells: it moves the
  weights of a stack into one cuDNN-layout buffer (the parameters become views of it), once.
* :func:`compute_dtype` routes a bf16 call to fp32 when H <= 128 (always safe), or to fp16 for inference when
  every input and weight is well inside fp16's range (fp16 has more mantissa than bf16, so only range can hurt;
  training stays in bf16 because fp16 gradients underflow without loss scaling). Outputs come back in bf16.

Both apply to bf16 inputs and to fp32 inputs under bf16 autocast (the usual mixed-precision training). On CPU
:func:`fused_forward` is exactly :func:`rnnkit.kernels.torch_rnn.fused_forward`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from types import SimpleNamespace

import torch
from torch import Tensor, nn

from rnnkit.kernels import torch_rnn

FP16_SAFE_ABS = 1e4  # inputs / weights below this stay far from fp16's 65504 through the gate sums
SMALL_H = 128  # cuDNN fp32 is fast up to here (on an H100 fp32 is slow only for H > 128)


def compute_dtype(dtype: torch.dtype, device_type: str, hidden_size: int, needs_grad: bool,
                  max_abs: float | None) -> torch.dtype:
    """The dtype cuDNN should compute a ``dtype`` call in (see the module docstring).

    Args:
        dtype: the input's dtype.
        device_type: ``"cuda"`` or other; only CUDA is rerouted.
        hidden_size: H.
        needs_grad: whether autograd will differentiate this call.
        max_abs: the largest absolute value among inputs, initial state and weights (None: unknown).
    """
    if device_type != "cuda" or dtype != torch.bfloat16:
        return dtype
    if hidden_size <= SMALL_H:
        return torch.float32
    if not needs_grad and max_abs is not None and max_abs < FP16_SAFE_ABS:
        return torch.float16
    return dtype


def _weights(cells: Sequence[nn.Module]) -> list[Tensor]:
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if cells[0].bias else ("weight_ih", "weight_hh")
    return [getattr(c, n) for c in cells for n in names]


def flatten_weights(cells: Sequence[nn.Module], num_layers: int, bidirectional: bool) -> bool:
    """Put the stack's weights in one cuDNN buffer, as ``torch.nn.RNNBase.flatten_parameters``; True if flat.

    A no-op off CUDA, for mixed dtypes or devices, and when the weights already share one storage.
    """
    weights = _weights(cells)
    first = weights[0]
    if first.device.type != "cuda" or not torch.backends.cudnn.is_acceptable(first):
        return False
    if any(w.dtype != first.dtype or w.device != first.device for w in weights):
        return False
    if len({w.untyped_storage().data_ptr() for w in weights}) == 1:
        return True  # already flattened
    if len({w.data_ptr() for w in weights}) != len(weights) or not torch._use_cudnn_rnn_flatten_weight():
        return False
    mode = torch.backends.cudnn.rnn.get_cudnn_mode(cells[0].torch_mode)
    with torch.no_grad():
        torch._cudnn_rnn_flatten_weight(weights, 4 if cells[0].bias else 2, cells[0].input_size,
                                        mode, cells[0].hidden_size, 0, num_layers, True, bidirectional)
    return True


def _cast_cells(cells: Sequence[nn.Module], dtype: torch.dtype) -> list[SimpleNamespace]:
    """Stand-ins carrying the weights cast to ``dtype`` (differentiably), in the attributes torch_rnn reads."""
    out = []
    for c in cells:
        cast = {n: (getattr(c, n).to(dtype) if getattr(c, n) is not None else None)
                for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        out.append(SimpleNamespace(torch_mode=c.torch_mode, bias=c.bias, **cast))
    return out


def effective_dtype(x: Tensor) -> torch.dtype:
    """The dtype a call computes in: ``x``'s own, or autocast's lower precision when autocast is on for its device."""
    dev = x.device.type
    if x.dtype == torch.float32 and dev in ("cuda", "cpu") and torch.is_autocast_enabled(dev):
        return torch.get_autocast_dtype(dev)
    return x.dtype


def fused_forward(cells: Sequence[nn.Module], x: Tensor, state: tuple[Tensor, ...], lengths: Tensor | None,
                  num_layers: int, bidirectional: bool, dropout: float, training: bool
                  ) -> tuple[Tensor, tuple[Tensor, ...]]:
    """:func:`rnnkit.kernels.torch_rnn.fused_forward` plus the CUDA cheap wins; same arguments and results.

    A bf16 call, or an fp32 call under bf16 autocast, that :func:`compute_dtype` reroutes runs with autocast off
    in the chosen dtype and returns bf16, as the bf16 call would have.
    """
    if x.device.type != "cuda":
        return torch_rnn.fused_forward(cells, x, state, lengths, num_layers, bidirectional, dropout, training)
    weights = _weights(cells)
    needs_grad = torch.is_grad_enabled() and (x.requires_grad or any(w.requires_grad for w in weights)
                                              or any(s.requires_grad for s in state))
    eff = effective_dtype(x)
    max_abs = None
    if eff == torch.bfloat16 and not needs_grad and cells[0].hidden_size > SMALL_H:
        max_abs = float(torch.stack([t.detach().abs().amax().float() for t in [x, *state, *weights]]).amax())
    dtype = compute_dtype(eff, "cuda", cells[0].hidden_size, needs_grad, max_abs)
    if dtype == eff:
        flatten_weights(cells, num_layers, bidirectional)
        return torch_rnn.fused_forward(cells, x, state, lengths, num_layers, bidirectional, dropout, training)
    with torch.autocast("cuda", enabled=False), warnings.catch_warnings():
        # cast copies are not one buffer: cuDNN packs them, as intended, so its warning says nothing useful
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous chunk")
        if all(w.dtype == dtype for w in weights):  # fp32 weights under autocast: use them as they are
            flatten_weights(cells, num_layers, bidirectional)
            run_cells = cells
        else:
            run_cells = _cast_cells(cells, dtype)
        y, new = torch_rnn.fused_forward(run_cells, x.to(dtype), tuple(s.to(dtype) for s in state), lengths,
                                         num_layers, bidirectional, dropout, training)
    return y.to(eff), tuple(s.to(eff) for s in new)
