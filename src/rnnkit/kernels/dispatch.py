"""Choose the backend that runs a recurrent layer: the one dispatch point for every fused path."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

BACKENDS = ("auto", "reference", "torch", "triton")


def check_backend_name(backend: str) -> str:
    """Validate a backend name early, at construction time."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return backend


def torch_unavailable_reason(cells: Sequence[nn.Module], x: Tensor) -> str | None:
    """Why the ``torch`` backend cannot run these cells on ``x``, or ``None`` when it can."""
    first = cells[0]
    if getattr(first, "parallel", False):
        return None  # the parallel scan is the torch path for MinGRU / MinLSTM
    mode = getattr(first, "torch_mode", None)
    if mode is None:
        return f"{type(first).__name__} has no fused PyTorch kernel; use backend='reference' or 'auto'"
    for c in cells:
        if type(c) is not type(first) or getattr(c, "torch_mode", None) != mode or c.bias != first.bias:
            return "the fused PyTorch kernel needs every layer to be the same cell type with the same bias setting"
    return None


def triton_unavailable_reason(cells: Sequence[nn.Module], x: Tensor) -> str | None:
    """Why the ``triton`` backend cannot run these cells on ``x`` (not installed, no CUDA, cell), or ``None``."""
    from rnnkit.kernels.triton_backend import unavailable_reason

    return unavailable_reason(cells, x)


def packed_cpu_training(cells: Sequence[nn.Module], x: Tensor, lengths: Tensor | None) -> bool:
    """True when the fused kernel would train on packed sequences on the CPU.

    ATen's packed RNN on CPU slices every time step, and each slice's backward writes a full-size gradient, so its
    backward grows quadratically in T: measured 1.4-1.7x slower than the reference loop at B >= 32 (LSTM and GRU,
    two bidirectional layers, T 50-100, one thread). The parallel scan has no packed path and is not affected.
    """
    return (lengths is not None and x.device.type == "cpu" and torch.is_grad_enabled()
            and not getattr(cells[0], "parallel", False))


def resolve_backend(requested: str, cells: Sequence[nn.Module], x: Tensor, lengths: Tensor | None = None) -> str:
    """Return ``"reference"``, ``"torch"`` or ``"triton"`` for this call.

    ``auto`` picks ``triton`` only on CUDA: for minGRU / minLSTM / LayerNormLSTM (no fused torch path), and for
    LSTM / GRU where the fused Triton kernels are expected to beat cuDNN only when opted in (``RNNKIT_AUTO_TRITON=1``;
    ``0`` turns it off; see :func:`rnnkit.kernels.triton_backend.auto_enabled` and
    :func:`rnnkit.kernels.triton_backend.preferred`), else prefers ``torch`` (the fused LSTM is
    1.2-9.5x faster than the reference loop in benchmarks/core.py; the fused GRU 0.9-1.4x, about even) and falls
    back to ``reference`` quietly (also when training with ``lengths`` on the CPU, see
    :func:`packed_cpu_training`); an explicit ``torch`` or ``triton`` that cannot run raises ValueError with the
    reason.
    """
    if requested == "triton":
        reason = triton_unavailable_reason(cells, x)
        if reason is not None:
            raise ValueError(f"backend='triton' cannot run: {reason}")
        return "triton"
    if requested == "auto" and x.device.type == "cuda":
        from rnnkit.kernels.triton_backend import preferred

        if preferred(cells, x):
            return "triton"
    reason = torch_unavailable_reason(cells, x)
    if requested == "auto":
        if reason is None and packed_cpu_training(cells, x, lengths):
            return "reference"
        return "torch" if reason is None else "reference"
    if requested == "torch" and reason is not None:
        raise ValueError(f"backend='torch' cannot run: {reason}")
    return requested
