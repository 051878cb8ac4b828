"""Classic recurrent cells: one time step each, with torch.nn's parameter names and gate order.

A cell owns its weights and knows one step; :class:`rnnkit.nn.Recurrent` owns time, stacking, direction and lengths.
Every cell splits its step in two so the layer can batch the input half over all time steps at once:

* ``project_input(x)``: ``x (..., F) -> (..., G)``, the input half ``W_ih x + b_ih`` (one big matmul for all T);
* ``step_projected(gx_t, state)``: ``gx_t (B, G)`` and per-layer ``state`` (tuple of ``(B, H)``) -> ``(h_t, state)``.

``step(x_t, state) = step_projected(project_input(x_t), state)``. A new cell implements those two methods plus
``init_state``; ``state_type`` names the public state (RNNState or LSTMState), ``torch_mode`` the fused torch kernel
that computes the same maths (``None`` when there is none).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit.nn.state import LSTMState, RNNState


class Cell(nn.Module):
    """Base class for a recurrent cell: shared init and the ``step`` composition.

    Args:
        input_size: features F of each input step.
        hidden_size: features H of the memory.
        bias: learn ``b_ih`` and ``b_hh``.
    """

    state_type: type = RNNState
    gates: int = 1  # G = gates * H
    torch_mode: str | None = None
    parallel: bool = False  # True for cells with a whole-sequence `scan`

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"input_size and hidden_size must be positive, got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.config = {"hidden_size": hidden_size, "bias": bias}  # constructor arguments except input_size
        g = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(g, input_size))
        self.weight_hh = nn.Parameter(torch.empty(g, hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(g))
            self.bias_hh = nn.Parameter(torch.empty(g))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch.nn's init: uniform(-1/sqrt(H), 1/sqrt(H)) for every weight."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def with_input_size(self, input_size: int) -> Cell:
        """A fresh cell of the same kind and settings reading ``input_size`` features (for stacked layers)."""
        return type(self)(input_size, **self.config)

    def init_state(self, batch_size: int, device=None, dtype=None) -> tuple[Tensor, ...]:
        """Zero memory for one layer-direction: a tuple of ``(B, H)`` tensors."""
        z = torch.zeros(batch_size, self.hidden_size, device=device, dtype=dtype)
        return tuple(z for _ in self.state_type._fields)

    def project_input(self, x: Tensor) -> Tensor:
        """``(..., F) -> (..., G)``: the input half of every gate."""
        return nn.functional.linear(x, self.weight_ih, self.bias_ih)

    def _hh(self, h: Tensor) -> Tensor:
        return nn.functional.linear(h, self.weight_hh, self.bias_hh)  # (B, G)

    def step_projected(self, gx: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        raise NotImplementedError

    def step(self, x: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        """One step: ``x (B, F)``, ``state`` tuple of ``(B, H)`` -> ``(h (B, H), state)``."""
        return self.step_projected(self.project_input(x), state)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, bias={self.bias}"


class RNNCell(Cell):
    """Elman cell: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, ``act`` tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.torch_mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias)
        self.config["nonlinearity"] = nonlinearity

    def step_projected(self, gx, state):
        (h,) = state
        pre = gx + self._hh(h)  # (B, H)
        h = torch.tanh(pre) if self.nonlinearity == "tanh" else torch.relu(pre)
        return h, (h,)


class LSTMCell(Cell):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), gate order i, f, g, o as torch.nn.

    .. math::
        i, f, g, o = \\sigma(\\cdot), \\sigma(\\cdot), \\tanh(\\cdot), \\sigma(\\cdot) \\text{ of } W_{ih}x + b_{ih} + W_{hh}h + b_{hh}
        c' = f \\odot c + i \\odot g, \\quad h' = o \\odot \\tanh(c')
    """

    state_type = LSTMState
    gates = 4
    torch_mode = "LSTM"

    def step_projected(self, gx, state):
        h, c = state
        i, f, g, o = (gx + self._hh(h)).chunk(4, dim=-1)  # 4 x (B, H)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class GRUCell(Cell):
    """Gated recurrent unit (Cho et al. 2014), gate order r, z, n as torch.nn.

    .. math::
        r = \\sigma(W_{ir}x + b_{ir} + W_{hr}h + b_{hr}), \\quad z = \\sigma(W_{iz}x + b_{iz} + W_{hz}h + b_{hz})
        n = \\tanh(W_{in}x + b_{in} + r \\odot (W_{hn}h + b_{hn})), \\quad h' = (1 - z) \\odot n + z \\odot h
    """

    gates = 3
    torch_mode = "GRU"

    def step_projected(self, gx, state):
        (h,) = state
        xr, xz, xn = gx.chunk(3, dim=-1)  # 3 x (B, H)
        hr, hz, hn = self._hh(h).chunk(3, dim=-1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h = n + z * (h - n)  # (1 - z) n + z h
        return h, (h,)
