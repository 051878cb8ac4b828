"""Windows: every series flattened into one tensor once; a window is just ``(series, end)`` and a batch is gathered
with one vectorised index, never a Python loop over samples.

A window's history is the L steps before ``end`` and its target the H steps from ``end`` on. Past covariates are
gathered over the history only, so a value after the forecast start can never reach the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from rnnkit.forecast.frames import SeriesSet


@dataclass
class FlatSeries:
    """All series of a :class:`SeriesSet` concatenated, as tensors (built once, moved to the device once).

    Shape: ``y`` (N,), ``past`` (N, Cp), ``future`` (N, Cf), ``static`` (S, Cs), ``offsets`` / ``lengths`` (S,).
    """

    y: Tensor
    past: Tensor
    future: Tensor
    static: Tensor
    offsets: Tensor  # start of each series in the flat tensors
    lengths: Tensor  # length of each series

    @classmethod
    def from_set(cls, s: SeriesSet, past_stats=None, future_stats=None, static_stats=None) -> FlatSeries:
        """Concatenate ``s``; covariates are standardised with ``(mean, std)`` stats when given."""
        def std(blocks, stats, width):
            x = np.concatenate(blocks) if blocks else np.zeros((0, width), np.float32)
            if stats is not None and x.shape[1]:
                x = (x - stats[0]) / stats[1]
            return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

        lengths = np.array([len(v) for v in s.values], dtype=np.int64)
        static = s.static if s.static is not None else np.zeros((len(s), 0), np.float32)
        return cls(y=torch.from_numpy(np.concatenate(s.values).astype(np.float32)),
                   past=std(s.past, past_stats, len(s.past_cols)),
                   future=std(s.future, future_stats, len(s.future_cols)),
                   static=std([static], static_stats, static.shape[1]),
                   offsets=torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)[:-1]])),
                   lengths=torch.from_numpy(lengths))

    def to(self, device) -> FlatSeries:
        return FlatSeries(*(getattr(self, f).to(device) for f in
                            ("y", "past", "future", "static", "offsets", "lengths")))


def window_ends(lengths: np.ndarray, input_size: int, horizon: int, first: np.ndarray | int | None = None,
                last: np.ndarray | int | None = None, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """All windows ``(sid, end)`` with ``end`` in ``[max(first, L), min(last, n - H)]`` stepping by ``stride``.

    ``end`` is the row (within its series) where the forecast starts; ``first`` / ``last`` may be per series.
    """
    sids, ends = [], []
    for i, n in enumerate(lengths):
        lo = input_size if first is None else max(input_size, int(np.broadcast_to(first, lengths.shape)[i]))
        hi = n - horizon if last is None else min(n - horizon, int(np.broadcast_to(last, lengths.shape)[i]))
        e = np.arange(lo, hi + 1, stride, dtype=np.int64)
        sids.append(np.full(len(e), i, np.int64))
        ends.append(e)
    return np.concatenate(sids), np.concatenate(ends)


def gather(flat: FlatSeries, sid: Tensor, end: Tensor, input_size: int, horizon: int,
           emb: Tensor | None = None) -> dict[str, Tensor]:
    """The tensors of a batch of windows ``(sid, end)``; ``emb`` (B,) is each window's series-embedding row
    (default ``sid``; -1 for a series unseen in training).

    Returns ``y (B, L)``, ``target (B, H)``, ``past (B, L, Cp)``, ``future (B, L + H, Cf)``, ``static (B, Cs)``,
    ``sid (B,)`` (series index + 1, so 0 can mean "unknown series"). Targets past a series' end read as 0.
    """
    base = flat.offsets[sid] + end  # (B,) flat position of the forecast start
    hist = base.unsqueeze(1) + torch.arange(-input_size, 0, device=base.device)  # (B, L)
    fut = base.unsqueeze(1) + torch.arange(0, horizon, device=base.device)  # (B, H)
    limit = (flat.offsets[sid] + flat.lengths[sid]).unsqueeze(1)  # (B, 1) one past each series' end
    inside = fut < limit
    fut_c = torch.where(inside, fut, limit - 1)
    both = torch.cat([hist, fut_c], 1)  # (B, L + H)
    target = torch.where(inside, flat.y[fut_c], torch.zeros((), device=base.device))
    return {"y": flat.y[hist], "target": target, "past": flat.past[hist], "future": flat.future[both],
            "static": flat.static[sid], "sid": (sid if emb is None else emb) + 1}
