"""``RNN``, ``LSTM`` and ``GRU`` with torch.nn's constructor vocabulary, built as ``Recurrent(cell)``.

Example:
    >>> import torch
    >>> ref = torch.nn.LSTM(8, 16, num_layers=2, batch_first=True)
    >>> lstm = LSTM(8, 16, num_layers=2)
    >>> lstm.load_state_dict(ref.state_dict())
    <All keys matched successfully>
"""

from __future__ import annotations

from rnnkit.nn.cells import GRUCell, LSTMCell, RNNCell
from rnnkit.nn.recurrent import Recurrent


class RNN(Recurrent):
    """Elman RNN, ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (or relu). State: ``RNNState(h)``.

    Args mirror ``torch.nn.RNN`` (batch-first always), plus ``backend``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, dropout: float = 0.0, bidirectional: bool = False, backend: str = "auto"):
        super().__init__(RNNCell(input_size, hidden_size, bias, nonlinearity), num_layers, bidirectional, dropout,
                         backend)


class LSTM(Recurrent):
    """Long short-term memory, gate order i, f, g, o as torch.nn. State: ``LSTMState(h, c)``.

    Args mirror ``torch.nn.LSTM`` (batch-first always), plus ``backend``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, backend: str = "auto"):
        super().__init__(LSTMCell(input_size, hidden_size, bias), num_layers, bidirectional, dropout, backend)


class GRU(Recurrent):
    """Gated recurrent unit, gate order r, z, n as torch.nn. State: ``RNNState(h)``.

    Args mirror ``torch.nn.GRU`` (batch-first always), plus ``backend``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, bidirectional: bool = False, backend: str = "auto"):
        super().__init__(GRUCell(input_size, hidden_size, bias), num_layers, bidirectional, dropout, backend)
