"""``Recurrent``: the layer that owns time, stacking, direction and lengths for any cell.

A cell (:mod:`rnnkit.nn.cells`) knows one step. ``Recurrent(cell, num_layers, bidirectional)`` runs it over a
batch-first sequence, so a new cell needs no layer change. Parameters appear in ``state_dict`` under torch.nn's
names (``weight_ih_l{k}[_reverse]``), so ``torch.nn.LSTM(..., batch_first=True).state_dict()`` loads unchanged.

Shape legend: B batch, T time, F input features, H hidden, L layers, D directions (1 or 2).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.kernels.dispatch import check_backend_name, resolve_backend
from rnnkit.nn.cells import Cell
from rnnkit.nn.state import LSTMState, RNNState


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of ``x (B, T, *)`` within its own length; padded steps stay in place."""
    if lengths is None:
        return x.flip(1)
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device).unsqueeze(0)  # (1, T)
    n = lengths.to(x.device).unsqueeze(1)  # (B, 1)
    idx = torch.where(t < n, n - 1 - t, t)  # (B, T)
    return x.gather(1, idx.view(B, T, *([1] * (x.dim() - 2))).expand_as(x))


def step_mask(lengths: Tensor | None, T: int, device) -> Tensor | None:
    """(B, T, 1) bool, True where a step is real (not padding)."""
    if lengths is None:
        return None
    return (torch.arange(T, device=device).unsqueeze(0) < lengths.to(device).unsqueeze(1)).unsqueeze(-1)


def run_cell(cell: Cell, x: Tensor, state: tuple[Tensor, ...], mask: Tensor | None
             ) -> tuple[Tensor, tuple[Tensor, ...]]:
    """The reference time loop: ``x (B, T, F)`` -> ``(y (B, T, H), state)``; masked steps keep the state.

    The input half of every gate is computed for all T in one matmul; the loop walks ``unbind(1)`` views so that
    backward stays linear in T (indexing ``x[:, t]`` makes it quadratic).
    """
    gx = cell.project_input(x)  # (B, T, G)
    masks = mask.unbind(1) if mask is not None else [None] * gx.shape[1]  # T x (B, 1)
    ys = []
    for gx_t, m in zip(gx.unbind(1), masks):
        h, new = cell.step_projected(gx_t, state)  # (B, H)
        if m is not None:
            new = tuple(torch.where(m, n, o) for n, o in zip(new, state))
            h = h * m
        state = new
        ys.append(h)
    return torch.stack(ys, 1), state


class Recurrent(nn.Module):
    """A stacked, optionally bidirectional recurrent layer built from any cell.

    Args:
        cell: the layer-0 forward cell; other layers and directions are fresh cells of the same kind
            (``cell.with_input_size``), each with its own weights.
        num_layers: L, stacked layers; layer k > 0 reads the D*H outputs of layer k-1.
        bidirectional: run a reverse-time copy of each layer and concatenate outputs (D = 2).
        dropout: dropout on the outputs of every layer except the last (torch.nn semantics).
        backend: ``"auto" | "reference" | "torch" | "triton"``; see :mod:`rnnkit.kernels`.

    Shape:
        - x: (B, T, F), batch first always.
        - state: ``RNNState`` / ``LSTMState`` with fields (L*D, B, H), or None for zeros.
        - lengths: (B,) ints in 1..T, or None. Outputs at padded steps are zero; the final state is each
          sequence's state at its own last step.
        - y: (B, T, D*H).

    Example:
        >>> layer = Recurrent(LSTMCell(8, 16), num_layers=2, bidirectional=True)
        >>> y, state = layer(torch.randn(3, 5, 8), lengths=torch.tensor([5, 2, 4]))
        >>> y.shape, state.h.shape
        (torch.Size([3, 5, 32]), torch.Size([4, 3, 16]))
    """

    def __init__(self, cell: Cell, num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
                 backend: str = "auto"):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.backend = check_backend_name(backend)
        self.input_size, self.hidden_size = cell.input_size, cell.hidden_size
        self.num_layers, self.bidirectional, self.dropout = num_layers, bidirectional, float(dropout)
        self.num_directions = 2 if bidirectional else 1
        self.state_type = cell.state_type
        D, H = self.num_directions, self.hidden_size
        cells = [cell] + [cell.with_input_size(self.input_size) for _ in range(D - 1)]
        for _ in range(1, num_layers):
            cells += [cell.with_input_size(D * H) for _ in range(D)]
        self.cells = nn.ModuleList(cells)  # index l * D + d, torch's order
        self._register_state_dict_hook(_to_torch_names)
        self.register_load_state_dict_pre_hook(_from_torch_names)

    # ----------------------------------------------------------------------------------------------- checks
    def _name(self) -> str:
        return type(self).__name__

    def _check_input(self, x: Tensor, lengths: Tensor | None) -> Tensor | None:
        if not isinstance(x, Tensor):
            raise ValueError(f"{self._name()} expected a Tensor input (B, T, {self.input_size}), got {type(x).__name__}")
        if x.dim() != 3:
            raise ValueError(f"{self._name()} expected input of rank 3 (B, T, {self.input_size}) batch first, "
                             f"got rank {x.dim()} with shape {tuple(x.shape)}")
        B, T, F_ = x.shape
        if F_ != self.input_size:
            raise ValueError(f"{self._name()} expected input (B, T, {self.input_size}), got {tuple(x.shape)}")
        if T == 0 or B == 0:
            raise ValueError(f"{self._name()} got an empty input of shape {tuple(x.shape)}; need B >= 1 and T >= 1")
        if lengths is None:
            return None
        lengths = torch.as_tensor(lengths).to(device="cpu", dtype=torch.int64)
        if lengths.shape != (B,):
            raise ValueError(f"{self._name()} expected lengths of shape ({B},), got {tuple(lengths.shape)}")
        lo, hi = int(lengths.min()), int(lengths.max())
        if lo <= 0 or hi > T:
            raise ValueError(f"{self._name()} expected every length in 1..{T} (the input's T), "
                             f"got min {lo} and max {hi}")
        return None if lo == T else lengths  # all full: no masking needed

    def _check_state(self, state, B: int, ref: Tensor) -> tuple[Tensor, ...]:
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        if state is None:
            return tuple(torch.zeros(LD, B, H, device=ref.device, dtype=ref.dtype) for _ in self.state_type._fields)
        if isinstance(state, Tensor) and self.state_type is RNNState:
            state = (state,)
        fields = self.state_type._fields
        if not isinstance(state, tuple) or len(state) != len(fields):
            raise ValueError(f"{self._name()} expected state {self.state_type.__name__}{fields}, "
                             f"got {type(state).__name__}")
        for name, t in zip(fields, state):
            if tuple(t.shape) != (LD, B, H):
                raise ValueError(f"{self._name()} expected state.{name} of shape (L*D, B, H) = {(LD, B, H)}, "
                                 f"got {tuple(t.shape)}")
        return tuple(state)

    # ---------------------------------------------------------------------------------------------- forward
    def forward(self, x: Tensor, state: RNNState | LSTMState | None = None, lengths: Tensor | None = None
                ) -> tuple[Tensor, RNNState | LSTMState]:
        """Run the sequence. Returns ``(y (B, T, D*H), state)``; see the class docstring for shapes."""
        lengths = self._check_input(x, lengths)
        B, T, _ = x.shape
        fields = self._check_state(state, B, x)
        backend = resolve_backend(self.backend, self.cells, x, lengths)
        if backend == "torch" and not self.cells[0].parallel:
            from rnnkit.kernels.torch_fast import fused_forward

            y, new = fused_forward(self.cells, x, fields, lengths, self.num_layers, self.bidirectional,
                                   self.dropout, self.training)
            return y, self.state_type(*new)
        use_scan = backend == "torch"  # parallel cells: the log-space scan is their torch path
        D = self.num_directions
        mask = step_mask(lengths, T, x.device)  # (B, T, 1) or None
        finals: list[tuple[Tensor, ...]] = []
        inp = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                cell = self.cells[k]
                s = tuple(f[k] for f in fields)  # per field (B, H)
                seq = reverse_padded(inp, lengths) if d == 1 else inp
                if backend == "triton":
                    from rnnkit.kernels.triton_backend import run_cell_triton

                    y, s = run_cell_triton(cell, seq, s, mask, strict=self.backend == "triton")
                else:
                    y, s = cell.scan(seq, s, mask) if use_scan else run_cell(cell, seq, s, mask)
                outs.append(reverse_padded(y, lengths) if d == 1 else y)
                finals.append(s)
            inp = torch.cat(outs, -1) if D == 2 else outs[0]  # D x (B, T, H) -> (B, T, D*H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                inp = F.dropout(inp, self.dropout, True)
        new = tuple(torch.stack([s[i] for s in finals]) for i in range(len(fields)))  # (L*D, B, H)
        return inp, self.state_type(*new)

    def step(self, x_t: Tensor, state: RNNState | LSTMState | None = None) -> tuple[Tensor, RNNState | LSTMState]:
        """Advance one time step for streaming: ``x_t (B, F)`` -> ``(y_t (B, H), state)``.

        Only for unidirectional layers (a reverse direction needs the future). Chunked calls with a carried
        state equal one whole call.
        """
        if self.bidirectional:
            raise ValueError(f"{self._name()}.step needs a unidirectional layer (the reverse direction reads the "
                             "future); build it with bidirectional=False")
        if not isinstance(x_t, Tensor) or x_t.dim() != 2 or x_t.shape[1] != self.input_size:
            shape = tuple(x_t.shape) if isinstance(x_t, Tensor) else type(x_t).__name__
            raise ValueError(f"{self._name()}.step expected x_t of shape (B, {self.input_size}), got {shape}")
        fields = self._check_state(state, x_t.shape[0], x_t)
        inp, finals = x_t, []
        for layer, cell in enumerate(self.cells):
            inp, s = cell.step(inp, tuple(f[layer] for f in fields))  # (B, H)
            finals.append(s)
            if self.dropout and self.training and layer < self.num_layers - 1:
                inp = F.dropout(inp, self.dropout, True)
        return inp, self.state_type(*(torch.stack([s[i] for s in finals]) for i in range(len(fields))))

    def init_state(self, batch_size: int, device=None, dtype=None) -> RNNState | LSTMState:
        """Zero memory of shape (L*D, B, H) per field."""
        return self.state_type.zeros(self.num_layers, batch_size, self.hidden_size, self.num_directions,
                                     device=device, dtype=dtype)

    def extra_repr(self) -> str:
        return (f"num_layers={self.num_layers}, bidirectional={self.bidirectional}, dropout={self.dropout}, "
                f"backend={self.backend!r}")

    # ------------------------------------------------------------------------------------ torch.nn naming
    def torch_name(self, index: int, name: str) -> str:
        """Map ``cells.{index}.{name}`` to torch.nn's flat name, e.g. ``weight_ih`` -> ``weight_ih_l1_reverse``."""
        layer, d = divmod(index, self.num_directions)
        head, _, rest = name.partition(".")
        suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
        return head + suffix + ("." + rest if rest else "")


def _to_torch_names(module: Recurrent, state_dict, prefix: str, local_metadata):
    for key in [k for k in state_dict if k.startswith(prefix + "cells.")]:
        index, _, name = key[len(prefix) + len("cells."):].partition(".")
        state_dict[prefix + module.torch_name(int(index), name)] = state_dict.pop(key)
    return state_dict


def _from_torch_names(module: Recurrent, state_dict, prefix: str, local_metadata, strict, missing, unexpected,
                      errors):
    for index, cell in enumerate(module.cells):
        for name in cell.state_dict():
            flat = prefix + module.torch_name(index, name)
            if flat in state_dict:
                state_dict[f"{prefix}cells.{index}.{name}"] = state_dict.pop(flat)
