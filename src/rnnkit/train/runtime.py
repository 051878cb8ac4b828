"""Process-level settings for fast, repeatable training: denormals, threads, seeds, device."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


def setup_runtime(num_threads: int | None = None) -> None:
    """Call once at process start: flush denormals to zero and optionally fix the CPU thread count.

    Denormal floats (below ~1e-38) can appear in LSTM gradients as losses shrink; on CPU every operation on them
    takes a slow microcode path, which can make training several times slower. Flushing them to zero removes that
    cost; values that small carry no useful signal.

    Args:
        num_threads: torch intra-op threads; None keeps torch's default (all cores).
    """
    torch.set_flush_denormal(True)
    if num_threads is not None:
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
        torch.set_num_threads(num_threads)


@contextmanager
def torch_threads(num_threads: int) -> Iterator[None]:
    """Run a block with ``num_threads`` torch threads, then restore the previous count.

    Small models (the demos, the diagnostics) run fastest on one thread, and one thread never oversubscribes a
    shared machine; the caller's own setting survives the block.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy's global generator and python ``random``."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def resolve_device(device: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; an explicit device that is absent is an error that says so."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but no CUDA GPU is visible; use device='cpu' or 'auto'")
    if device == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError("device 'mps' was asked for but MPS is not available; use device='cpu' or 'auto'")
    return torch.device(device)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device``: bf16, or None for plain fp32."""
    if precision == "bf16":
        if device.type != "cuda":
            raise ValueError(f"precision='bf16' (autocast) needs a CUDA device, got {device.type!r}: oneDNN's fused "
                             "CPU LSTM kernels reject bf16 on most CPUs; use precision='auto' or 'fp32'")
        return torch.bfloat16
    if precision == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None
