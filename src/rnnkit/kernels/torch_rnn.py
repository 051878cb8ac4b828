"""The ``torch`` backend for classic cells: PyTorch's fused multi-layer kernels (cuDNN / oneDNN).

We call ``torch._VF.{lstm,gru,rnn_tanh,rnn_relu}``, the same entry points ``torch.nn.LSTM`` uses, so that our own
parameters (owned by rnnkit cells) feed the fused kernel without copying into a ``torch.nn.LSTM`` module.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

_VF_FN = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu"}


def fused_forward(cells: Sequence[nn.Module], x: Tensor, state: tuple[Tensor, ...], lengths: Tensor | None,
                  num_layers: int, bidirectional: bool, dropout: float, training: bool
                  ) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run the whole stack in one fused call.

    Args:
        cells: ``L*D`` cells in torch order (layer-major, forward then reverse).
        x: (B, T, F) input.
        state: fields of shape (L*D, B, H).
        lengths: (B,) int64 on CPU, or None.
    Returns:
        y (B, T, D*H) with zeros at padded steps, and the final state fields (L*D, B, H).
    """
    mode = cells[0].torch_mode
    fn = getattr(torch._VF, _VF_FN[mode])
    has_bias = cells[0].bias
    weights: list[Tensor] = []
    for c in cells:
        weights += [c.weight_ih, c.weight_hh] + ([c.bias_ih, c.bias_hh] if has_bias else [])
    hx = state if mode == "LSTM" else state[0]
    T = x.shape[1]
    if lengths is None:
        out = fn(x, hx, weights, has_bias, num_layers, dropout, training, bidirectional, True)
        y, new = out[0], out[1:]
    else:
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        order, unorder = packed.sorted_indices, packed.unsorted_indices
        hx = tuple(h.index_select(1, order) for h in hx) if mode == "LSTM" else hx.index_select(1, order)
        out = fn(packed.data, packed.batch_sizes, hx, weights, has_bias, num_layers, dropout, training,
                 bidirectional)
        y_packed = PackedSequence(out[0], packed.batch_sizes, order, unorder)
        y, _ = pad_packed_sequence(y_packed, batch_first=True, total_length=T)
        new = tuple(h.index_select(1, unorder) for h in out[1:])
    return y, tuple(new)
