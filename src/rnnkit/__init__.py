"""rnnkit: recurrent neural networks for sequences, on PyTorch.

The package stays light to import: task modules (``rnnkit.forecast``, ``rnnkit.translate``, ``rnnkit.speech``,
``rnnkit.text``) load on first use.

Example:
    >>> import torch, rnnkit
    >>> lstm = rnnkit.nn.LSTM(input_size=8, hidden_size=16, num_layers=2)
    >>> y, state = lstm(torch.randn(4, 10, 8))
    >>> y.shape, state.h.shape
    (torch.Size([4, 10, 16]), torch.Size([2, 4, 16]))
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = {"nn", "kernels", "train", "forecast", "translate", "speech", "text", "datasets", "cli"}


def __getattr__(name: str) -> Any:
    # Lazy submodules (PEP 562): `import rnnkit` costs only what it uses.
    if name in _SUBMODULES:
        return importlib.import_module(f"rnnkit.{name}")
    raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")


__all__ = ["__version__", *sorted(_SUBMODULES)]
