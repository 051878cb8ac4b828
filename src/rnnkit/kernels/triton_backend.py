"""The ``triton`` backend: which cells it runs, when ``auto`` picks it, and the per-cell entry point.

This module imports no Triton at import time; the kernel modules are imported on first use, so rnnkit works
without the optional ``triton`` extra. Supported cells: ``LSTMCell``, ``GRUCell`` (fused persistent recurrence,
:mod:`rnnkit.kernels.triton_lstm` / :mod:`~rnnkit.kernels.triton_gru`), ``LayerNormLSTMCell`` (H <= 256, zoneout
only in eval, :mod:`rnnkit.kernels.triton_lnlstm`) and ``MinGRUCell``, ``MinLSTMCell`` (fused scan,
:mod:`rnnkit.kernels.triton_scan`), in fp32, bf16 and fp16.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from collections.abc import Sequence

import torch
from torch import Tensor, nn

SUPPORTED_CELLS = ("LSTMCell", "GRUCell", "LayerNormLSTMCell", "MinGRUCell", "MinLSTMCell")
_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
_failed: set[str] = set()  # cell types whose kernels failed under "auto" in this process: auto skips them


def interpreting() -> bool:
    """True when ``TRITON_INTERPRET=1``: kernels run (slowly) on CPU tensors in the Triton interpreter."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@functools.cache
def triton_installed() -> bool:
    return importlib.util.find_spec("triton") is not None


def unavailable_reason(cells: Sequence[nn.Module], x: Tensor) -> str | None:
    """Why the ``triton`` backend cannot run these cells on ``x``, or ``None`` when it can."""
    if not triton_installed():
        return "triton is not installed; install it with pip install 'rnnkit[triton]' (it needs a CUDA GPU)"
    if x.device.type != "cuda" and not interpreting():
        return (f"the Triton kernels need a CUDA tensor, got input on {x.device.type}; move the model and data "
                "to a GPU (or set TRITON_INTERPRET=1 to run them slowly in the Triton interpreter for testing)")
    for c in cells:
        name = type(c).__name__
        if name not in SUPPORTED_CELLS:
            return f"{name} has no Triton kernel; supported cells: {', '.join(SUPPORTED_CELLS)}"
        if name == "LayerNormLSTMCell":
            if c.hidden_size > 256:
                return (f"the fused LayerNormLSTM kernel takes hidden_size <= 256 (one program holds a whole "
                        f"hidden vector for its layer norms), got {c.hidden_size}")
            if c.zoneout > 0 and c.training:
                return ("zoneout in training draws random masks, which the fused LayerNormLSTM kernel does not; "
                        "use backend='reference' for training with zoneout (eval mode is supported)")
    if x.dtype not in _DTYPES:
        return f"the Triton kernels take float32, bfloat16 or float16 input, got {x.dtype}"
    return None


# Cells with no fused torch path, where the kernels were timed on a GPU (benchmarks/kernels_RESULTS.md: the minGRU
# scan 1.8-2.9x the torch scan, the LayerNormLSTM 2-7.7x the reference loop, on an H200; minLSTM runs the same scan
# kernel) and pass every GPU test (an H100): ``auto`` picks Triton for them unless told not to.
NO_TORCH_FUSION = ("MinGRUCell", "MinLSTMCell", "LayerNormLSTMCell")


def auto_enabled(name: str) -> bool:
    """Whether ``auto`` may pick Triton for cells of type ``name``, by ``RNNKIT_AUTO_TRITON``.

    Unset: only for :data:`NO_TORCH_FUSION`. ``1``: also for LSTM and GRU, in the regimes of :func:`preferred`
    (the fused kernels beat cuDNN bf16 there but not cuDNN fp16, so this stays a choice). ``0``: never.
    """
    flag = os.environ.get("RNNKIT_AUTO_TRITON")
    if flag == "0":
        return False
    return flag == "1" or name in NO_TORCH_FUSION


def preferred(cells: Sequence[nn.Module], x: Tensor) -> bool:
    """Whether ``auto`` should pick Triton: only on CUDA, only where cuDNN / the torch scan leave headroom.

    The regimes come from H100 measurements of cuDNN (cuDNN has no persistent bf16 kernel, its GRU is never
    persistent, and the unfused minGRU scan is memory bound); benchmarks/kernels.py measures them.
    """
    name = type(cells[0]).__name__
    if x.device.type != "cuda" or not auto_enabled(name) or unavailable_reason(cells, x) is not None:
        return False
    if name in _failed:
        return False
    if name in NO_TORCH_FUSION:  # no fused torch path at all / memory bound
        return True
    from rnnkit.kernels.torch_fast import effective_dtype

    dtype = effective_dtype(x)  # bf16 under autocast counts as bf16: project_input then yields bf16 gates
    small = x.shape[0] <= 64 and cells[0].hidden_size <= 1024
    if name == "LSTMCell":  # cuDNN's persistent fp16 kernel is already fast; bf16 has none
        return small and dtype == torch.bfloat16
    return small and dtype in (torch.bfloat16, torch.float16)  # GRU: cuDNN is never persistent


def _lengths(mask: Tensor | None) -> Tensor | None:
    return None if mask is None else mask.squeeze(-1).sum(1)  # (B, T, 1) prefix mask -> (B,)


def run_cell_triton(cell: nn.Module, x: Tensor, state: tuple[Tensor, ...], mask: Tensor | None,
                    strict: bool = True) -> tuple[Tensor, tuple[Tensor, ...]]:
    """One layer-direction with the fused kernels: ``x (B, T, F)`` -> ``(y (B, T, H), state)``.

    Same contract as the reference loop ``rnnkit.nn.recurrent.run_cell``: padded steps (``mask`` False) keep the
    state and output zeros. With ``strict=False`` (the ``auto`` backend) a kernel that fails to compile or launch
    falls back to the reference computation once, with a warning, and ``auto`` stops choosing it.
    """
    try:
        return _run(cell, x, state, mask)
    except Exception as err:  # noqa: BLE001 - auto must fall back quietly on any kernel failure
        if strict:
            raise
        name = type(cell).__name__
        _failed.add(name)
        warnings.warn(f"the Triton kernel for {name} failed ({type(err).__name__}: {err}); falling back to the "
                      "reference backend for this process", RuntimeWarning, stacklevel=2)
        if getattr(cell, "parallel", False):
            return cell.scan(x, state, mask)
        from rnnkit.nn.recurrent import run_cell

        return run_cell(cell, x, state, mask)


def _run(cell: nn.Module, x: Tensor, state: tuple[Tensor, ...], mask: Tensor | None
         ) -> tuple[Tensor, tuple[Tensor, ...]]:
    lengths = _lengths(mask)
    gx = cell.project_input(x)  # (B, T, G): the input half, one big matmul for all T
    name = type(cell).__name__
    if name == "LSTMCell":
        from rnnkit.kernels.triton_lstm import lstm_recurrence

        if cell.bias_hh is not None:
            gx = gx + cell.bias_hh  # the LSTM's recurrent bias is a plain shift of every gate
        hs, cs = lstm_recurrence(gx, cell.weight_hh, state[0], state[1], lengths)
        new = (hs[:, -1], cs[:, -1])
    elif name == "GRUCell":
        from rnnkit.kernels.triton_gru import gru_recurrence

        hs = gru_recurrence(gx, cell.weight_hh, cell.bias_hh, state[0], lengths)
        new = (hs[:, -1],)
    elif name == "LayerNormLSTMCell":
        from rnnkit.kernels.triton_lnlstm import lnlstm_recurrence

        if cell.bias_hh is not None:
            gx = gx + cell.bias_hh  # added after the recurrent LN: a plain shift of every gate
        p = cell.zoneout if not cell.training else 0.0  # training with zoneout is refused by unavailable_reason
        hs, cs = lnlstm_recurrence(gx, cell.weight_hh, cell.ln_hh.weight, cell.ln_c.weight, cell.ln_c.bias,
                                   state[0], state[1], lengths, p, cell.ln_hh.eps)
        new = (hs[:, -1], cs[:, -1])
    else:
        from rnnkit.kernels.triton_scan import min_scan

        hs = min_scan(gx, state[0], "mingru" if name == "MinGRUCell" else "minlstm", lengths)
        new = (hs[:, -1],)
    y = hs * mask if mask is not None else hs  # (B, T, H), zeros at padded steps
    return y, tuple(n.to(s.dtype) for n, s in zip(new, state))
