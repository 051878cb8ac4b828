"""Kernel tests run on a GPU when there is one, else in the Triton interpreter on CPU (tiny sizes).

The interpreter is chosen when ``triton.jit`` decorates the kernels, so ``TRITON_INTERPRET`` must be set before
any kernel module is imported: this conftest is loaded first. Without triton every Triton test skips with the reason.
"""

from __future__ import annotations

import importlib.util
import os

import torch

HAS_TRITON = importlib.util.find_spec("triton") is not None
HAS_CUDA = torch.cuda.is_available()
if HAS_TRITON and not HAS_CUDA:
    os.environ["TRITON_INTERPRET"] = "1"
