"""The recurrent core: explicit state, cells, the ``Recurrent`` layer and ready-made RNN / LSTM / GRU.

Every layer: ``y, state = layer(x, state=None, lengths=None)`` with ``x (B, T, F)`` batch first,
``y_t, state = layer.step(x_t, state)`` for streaming, state fields ``(L*D, B, H)``.
"""

from rnnkit.nn.cells import Cell, GRUCell, LSTMCell, RNNCell
from rnnkit.nn.layers import GRU, LSTM, RNN
from rnnkit.nn.recurrent import Recurrent
from rnnkit.nn.state import LSTMState, RNNState

__all__ = ["Cell", "RNNCell", "LSTMCell", "GRUCell", "Recurrent", "RNN", "LSTM", "GRU", "RNNState", "LSTMState"]

# Modern cells: layer-normalised LSTM with zoneout, and minGRU / minLSTM with a parallel log-space scan.
from rnnkit.nn.layernorm_lstm import LayerNormLSTM, LayerNormLSTMCell  # noqa: E402
from rnnkit.nn.min_rnn import MinGRU, MinGRUCell, MinLSTM, MinLSTMCell  # noqa: E402

__all__ += ["LayerNormLSTMCell", "LayerNormLSTM", "MinGRUCell", "MinGRU", "MinLSTMCell", "MinLSTM"]
