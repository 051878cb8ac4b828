"""Backends behind one dispatch point.

* ``reference``: the readable per-step loop in :mod:`rnnkit.nn.recurrent`; the specification.
* ``torch``: PyTorch's fused kernels (cuDNN on GPU, oneDNN / native on CPU) for RNN, LSTM and GRU, and the
  log-space parallel scan for MinGRU / MinLSTM.
* ``triton``: fused Triton kernels (optional extra, CUDA; :mod:`rnnkit.kernels.triton_backend`) for LSTM, GRU,
  LayerNormLSTM (persistent recurrence) and MinGRU / MinLSTM (fused scan), forward and backward.
* ``auto``: the fastest backend that can run this layer on this input; falls back quietly.

An explicit backend that cannot run raises ``ValueError`` naming why.
"""

from rnnkit.kernels.dispatch import BACKENDS, resolve_backend

__all__ = ["BACKENDS", "resolve_backend"]
