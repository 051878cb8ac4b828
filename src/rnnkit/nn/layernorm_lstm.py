"""Layer-normalised LSTM (Ba et al. 2016) with optional zoneout (Krueger et al. 2017).

Layer normalisation (Ba, Kiros & Hinton 2016, arXiv:1607.06450, Sec. 3.1; the LSTM form is in their supplementary
material) normalises the input and recurrent halves of the gates separately, and the cell before its output tanh:

.. math::
    (i, f, g, o) = LN(W_{ih} x_t) + LN(W_{hh} h_{t-1}) + b_{ih} + b_{hh}
    c_t = \\sigma(f) \\odot c_{t-1} + \\sigma(i) \\odot \\tanh(g), \\quad h_t = \\sigma(o) \\odot \\tanh(LN(c_t))

Each LN is taken over the whole vector (4H for gates, H for the cell) at every step, so the statistics never mix
time steps or batch rows and training and inference compute the same thing.

Zoneout (Krueger et al. 2017, arXiv:1606.01305, Sec. 2): in training each unit of ``h`` and ``c`` keeps its previous
value with probability ``zoneout`` (an independent draw per unit and step), which regularises like dropout while
letting gradients pass through the kept units unchanged. In eval the update uses the expectation,
``h_t = p h_{t-1} + (1 - p) h'_t``, so inference is deterministic.

Gate order i, f, g, o as torch.nn. There is no fused kernel: ``backend="auto"`` runs the reference loop.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.nn.cells import Cell
from rnnkit.nn.recurrent import Recurrent
from rnnkit.nn.state import LSTMState


class LayerNormLSTMCell(Cell):
    """One step of a layer-normalised LSTM with optional zoneout; see the module docstring for the equations.

    Args:
        input_size: F.
        hidden_size: H.
        bias: learn ``b_ih`` and ``b_hh`` (the LN gains and the cell LN bias are always learnt).
        zoneout: probability in [0, 1) that a unit of h and c keeps its previous value during training.

    Parameters: ``weight_ih (4H, F)``, ``weight_hh (4H, H)``, ``bias_ih``, ``bias_hh (4H)`` as torch.nn.LSTMCell, plus
    ``ln_ih.weight``, ``ln_hh.weight`` (4H) and ``ln_c.weight``, ``ln_c.bias`` (H).
    """

    state_type = LSTMState
    gates = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, zoneout: float = 0.0):
        if not 0.0 <= zoneout < 1.0:
            raise ValueError(f"zoneout must be a probability in [0, 1), got {zoneout}")
        self.zoneout = float(zoneout)
        super().__init__(input_size, hidden_size, bias)
        self.config["zoneout"] = self.zoneout
        # The gate LNs need no shift of their own: b_ih + b_hh already add one after normalisation.
        self.ln_ih = nn.LayerNorm(4 * hidden_size, bias=False)
        self.ln_hh = nn.LayerNorm(4 * hidden_size, bias=False)
        self.ln_c = nn.LayerNorm(hidden_size)

    def reset_parameters(self) -> None:
        """torch.nn's uniform(-1/sqrt(H), 1/sqrt(H)) for the weights and biases; LN gains 1, LN bias 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters(recurse=False):
            nn.init.uniform_(p, -bound, bound)
        for ln in ("ln_ih", "ln_hh", "ln_c"):
            if hasattr(self, ln):
                getattr(self, ln).reset_parameters()

    def project_input(self, x: Tensor) -> Tensor:
        """``(..., F) -> (..., 4H)``: ``LN(W_ih x) + b_ih``, per time step (so it batches over all T)."""
        gx = self.ln_ih(F.linear(x, self.weight_ih))
        return gx + self.bias_ih if self.bias_ih is not None else gx

    def step_projected(self, gx: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, tuple[Tensor, ...]]:
        h, c = state  # (B, H) each
        gh = self.ln_hh(F.linear(h, self.weight_hh))  # (B, 4H)
        if self.bias_hh is not None:
            gh = gh + self.bias_hh
        i, f, g, o = (gx + gh).chunk(4, dim=-1)  # 4 x (B, H)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(self.ln_c(c_new))
        if self.zoneout > 0.0:
            h_new, c_new = self._zoneout(h, h_new), self._zoneout(c, c_new)
        return h_new, (h_new, c_new)

    def _zoneout(self, old: Tensor, new: Tensor) -> Tensor:
        """Krueger et al. 2017, Sec. 2: keep ``old`` per unit with prob p in training; expectation in eval."""
        p = self.zoneout
        if self.training:
            keep = torch.rand_like(new) < p  # (B, H) bool, a fresh draw every step
            return torch.where(keep, old, new)
        return p * old + (1.0 - p) * new

    def extra_repr(self) -> str:
        return super().extra_repr() + (f", zoneout={self.zoneout}" if self.zoneout else "")


class LayerNormLSTM(Recurrent):
    """A stack of layer-normalised LSTM layers, optionally with zoneout. State: ``LSTMState(h, c)``.

    Args:
        input_size, hidden_size, num_layers, bias, dropout, bidirectional: as :class:`rnnkit.nn.LSTM`.
        zoneout: per-unit probability of keeping the previous h and c in training (0 disables it).
        backend: ``"auto"`` or ``"reference"`` (there is no fused torch kernel for this cell).

    Shape: x (B, T, F) -> y (B, T, D*H); state fields (L*D, B, H).

    Example:
        >>> layer = LayerNormLSTM(8, 32, num_layers=2, zoneout=0.1)
        >>> y, state = layer(torch.randn(4, 20, 8))
        >>> y.shape, state.c.shape
        (torch.Size([4, 20, 32]), torch.Size([2, 4, 32]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, zoneout: float = 0.0, backend: str = "auto"):
        super().__init__(LayerNormLSTMCell(input_size, hidden_size, bias, zoneout), num_layers, bidirectional,
                         dropout, backend)
