"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?", arXiv:2410.01201).

Both drop the hidden state from the gates, so every gate depends on ``x_t`` alone and the recurrence becomes the
linear ``h_t = a_t h_{t-1} + b_t``. Training runs the whole sequence at once: all gates in one matmul, then the
log-space parallel scan of :mod:`rnnkit.nn.scan` (on CPU with ``B * H >= 256``, a lean loop over the precomputed
coefficients, measured faster there); ``step`` runs the same maths one step at a time for streaming. They agree
(tested).

.. math::
    \\text{minGRU (Sec. 3.1):}\\quad z_t = \\sigma(W_z x_t),\\ \\tilde h_t = g(W_h x_t),\\
        h_t = (1 - z_t) h_{t-1} + z_t \\tilde h_t

    \\text{minLSTM (Sec. 3.2):}\\quad f_t, i_t = \\sigma(W_f x_t), \\sigma(W_i x_t),\\
        f'_t, i'_t = \\frac{f_t}{f_t + i_t}, \\frac{i_t}{f_t + i_t},\\ h_t = f'_t h_{t-1} + i'_t \\tilde h_t

``g(v) = v + 0.5`` for ``v >= 0`` and ``sigmoid(v)`` otherwise keeps candidates positive so that they have a
logarithm (the paper's log-space appendix). Parameters: ``weight_ih`` (G*H, F) and ``bias_ih``, gate order
(z, h~) for minGRU and (f, i, h~) for minLSTM. No recurrent weights exist. State: ``RNNState(h)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.functional import softplus

from rnnkit.nn.cells import Cell
from rnnkit.nn.recurrent import Recurrent
from rnnkit.nn.scan import masked_log_scan
from rnnkit.nn.state import RNNState


def g(v: Tensor) -> Tensor:
    """Positive candidate activation: ``v + 0.5`` for ``v >= 0``, ``sigmoid(v)`` below (continuous at 0)."""
    return torch.where(v >= 0, v + 0.5, torch.sigmoid(v))


def log_g(v: Tensor) -> Tensor:
    """``log g(v)`` computed stably: ``log(v + 0.5)`` from 0 up, ``-softplus(-v)`` below.

    g has a kink at 0 (slope 1 above, 1/4 below); ``clamp`` (not ``relu``, whose slope at 0 is 0) gives the slope
    of the ``v >= 0`` branch there, as the fused Triton scan does, so both backends agree on exact zeros.
    """
    return torch.where(v >= 0, torch.log(v.clamp(min=0) + 0.5), -softplus(-v))


class _MinCell(Cell):
    """Shared plumbing: input projection only (no ``weight_hh``), ``parallel = True``."""

    parallel = True
    state_type = RNNState

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        # Cell.__init__ would also create weight_hh / bias_hh, which a min-cell does not have (Sec. 3.1.1: gates
        # read x_t only), so we build the module ourselves with the same attribute names.
        nn.Module.__init__(self)
        if input_size <= 0 or hidden_size <= 0:
            raise ValueError(f"input_size and hidden_size must be positive, got {input_size} and {hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.config = {"hidden_size": hidden_size, "bias": bias}
        G = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G, input_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G))
        else:
            self.register_parameter("bias_ih", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """nn.Linear's init, uniform(-1/sqrt(F), 1/sqrt(F)): the gates read x, so scale by the input width."""
        bound = 1.0 / math.sqrt(self.input_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _coefficients(self, gx: Tensor) -> tuple[Tensor, Tensor]:
        """``(log a, log b)`` of ``h_t = a_t h_{t-1} + b_t`` from projected gates ``gx (..., G*H)``."""
        raise NotImplementedError

    def step_projected(self, gx: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        (h,) = state  # (B, H)
        log_a, log_b = self._coefficients(gx)  # 2 x (B, H)
        h = log_a.exp() * h + log_b.exp()  # the sequential form of the same recurrence
        return h, (h,)

    def scan(self, x: Tensor, state: tuple[Tensor, ...], mask: Tensor | None = None
             ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """Whole sequence at once: ``x (B, T, F)``, ``state`` (h0 (B, H),), ``mask (B, T, 1)`` -> ``(y (B, T, H), state)``."""
        log_a, log_b = self._coefficients(self.project_input(x))  # 2 x (B, T, H)
        y, last = masked_log_scan(log_a, log_b, state[0], mask)
        return y, (last,)


class MinGRUCell(_MinCell):
    """minGRU (Feng et al. 2024, Sec. 3.1): ``h_t = (1 - z_t) h_{t-1} + z_t g(W_h x_t)``, ``z_t = sigmoid(W_z x_t)``."""

    gates = 2

    def _coefficients(self, gx):
        k, v = gx.chunk(2, dim=-1)  # update gate logits, candidate pre-activation
        log_a = -softplus(k)  # log(1 - z) = log sigmoid(-k)
        log_b = -softplus(-k) + log_g(v)  # log z + log h~
        return log_a, log_b


class MinLSTMCell(_MinCell):
    """minLSTM (Feng et al. 2024, Sec. 3.2): normalised forget / input gates, ``h_t = f'_t h_{t-1} + i'_t g(W_h x_t)``."""

    gates = 3

    def _coefficients(self, gx):
        kf, ki, v = gx.chunk(3, dim=-1)  # forget logits, input logits, candidate pre-activation
        # Sec. 3.2.3: f' = f / (f + i), i' = i / (f + i). In logs, with d = log f - log i:
        # log f' = -softplus(-d), log i' = -softplus(d).
        d = softplus(-ki) - softplus(-kf)  # log sigmoid(kf) - log sigmoid(ki)
        return -softplus(-d), -softplus(d) + log_g(v)


class MinGRU(Recurrent):
    """A stack of minGRU layers (Feng et al. 2024): parallel scan for whole sequences, ``step`` for streaming.

    Args: ``input_size, hidden_size, num_layers, bias, dropout, bidirectional`` as :class:`rnnkit.nn.GRU`;
    ``backend``: ``"auto"``/``"torch"`` run the log-space scan, ``"reference"`` the per-step loop.

    Shape: x (B, T, F) -> y (B, T, D*H); state ``RNNState(h)`` with h (L*D, B, H).

    Example:
        >>> layer = MinGRU(8, 16, num_layers=2)
        >>> y, state = layer(torch.randn(4, 50, 8))
        >>> y_t, state = layer.step(torch.randn(4, 8), state)  # continue one step at a time
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, backend: str = "auto"):
        super().__init__(MinGRUCell(input_size, hidden_size, bias), num_layers, bidirectional, dropout, backend)


class MinLSTM(Recurrent):
    """A stack of minLSTM layers (Feng et al. 2024); same interface as :class:`MinGRU`. State: ``RNNState(h)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, backend: str = "auto"):
        super().__init__(MinLSTMCell(input_size, hidden_size, bias), num_layers, bidirectional, dropout, backend)
