"""Choose the backend that runs a recurrent layer: the one dispatch point for every fused path."""

from __future__ import annotations

from collections.abc import Sequence

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


def resolve_backend(requested: str, cells: Sequence[nn.Module], x: Tensor) -> str:
    """Return ``"reference"``, ``"torch"`` or ``"triton"`` for this call.

    ``auto`` picks ``triton`` only on CUDA where the fused Triton kernels are expected to beat cuDNN
    (:func:`rnnkit.kernels.triton_backend.preferred`), else prefers ``torch`` (the fused LSTM is 1.2-9.5x faster than
    the reference loop in benchmarks/core.py; the fused GRU 0.9-1.4x, about even) and falls back to ``reference`` quietly; an explicit ``torch`` or
    ``triton`` that cannot run raises ValueError with the reason.
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
        return "torch" if reason is None else "reference"
    if requested == "torch" and reason is not None:
        raise ValueError(f"backend='torch' cannot run: {reason}")
    return requested
