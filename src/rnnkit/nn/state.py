"""Explicit recurrent memory: ``RNNState(h)`` and ``LSTMState(h, c)``.

Every field is shaped ``(L*D, B, H)`` exactly as in ``torch.nn`` (L layers, D directions, B batch, H hidden).
Row ``l * D + d`` holds layer ``l``, direction ``d`` (0 forward, 1 reverse). States are plain NamedTuples: they
unpack like torch's ``(h, c)`` tuples, travel through ``torch.jit``-free code, and never live inside a module.

Example:
    >>> s = LSTMState.zeros(num_layers=2, batch_size=3, hidden_size=8)
    >>> s.h.shape
    torch.Size([2, 3, 8])
    >>> s2 = LSTMState.from_dict(s.detach().to_dict())
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class _StateOps:
    """Operations shared by every state type; fields are all ``(L*D, B, H)`` tensors."""

    __slots__ = ()

    def detach(self):
        """Cut the graph (truncated backpropagation through time): ``s = s.detach()``."""
        return type(self)(*(t.detach() for t in self))

    def select(self, index: Tensor | slice | int | list[int]):
        """Index by batch: ``state.select(idx)`` keeps the batch rows ``idx`` of every field."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return type(self)(*(t[:, index] for t in self))

    def to(self, *args, **kwargs):
        """Move or cast every field, as ``Tensor.to``."""
        return type(self)(*(t.to(*args, **kwargs) for t in self))

    def to_dict(self) -> dict[str, Tensor]:
        """A flat ``{field: tensor}`` dict, ready for ``safetensors.torch.save_file``."""
        return {name: t.contiguous() for name, t in zip(self._fields, self)}

    @classmethod
    def from_dict(cls, d: dict[str, Tensor]):
        """Rebuild a state from :meth:`to_dict` output; raises ValueError naming missing fields."""
        missing = [f for f in cls._fields if f not in d]
        if missing:
            raise ValueError(f"{cls.__name__}.from_dict expected keys {list(cls._fields)}, missing {missing}")
        return cls(*(d[f] for f in cls._fields))

    @classmethod
    def zeros(cls, num_layers: int, batch_size: int, hidden_size: int, num_directions: int = 1,
              device: torch.device | str | None = None, dtype: torch.dtype | None = None):
        """The empty memory: zeros of shape ``(num_layers * num_directions, batch_size, hidden_size)``."""
        shape = (num_layers * num_directions, batch_size, hidden_size)
        return cls(*(torch.zeros(shape, device=device, dtype=dtype) for _ in cls._fields))

    @property
    def batch_size(self) -> int:
        return self[0].shape[1]


class _RNNFields(NamedTuple):
    h: Tensor


class _LSTMFields(NamedTuple):
    h: Tensor
    c: Tensor


# typing.NamedTuple takes no mixins, so the methods come from a plain subclass of the field tuple.
class RNNState(_StateOps, _RNNFields):
    """Memory of a vanilla RNN or GRU layer. ``h``: (L*D, B, H)."""

    __slots__ = ()


class LSTMState(_StateOps, _LSTMFields):
    """Memory of an LSTM layer: hidden ``h`` and cell ``c``, each (L*D, B, H)."""

    __slots__ = ()


State = RNNState | LSTMState
