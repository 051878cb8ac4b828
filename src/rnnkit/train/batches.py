"""Batch sources: deterministic given ``(seed, epoch)``, so a resumed run replays exactly the same batches.

A batch source is any object with ``__len__()`` (batches per epoch) and ``epoch(e)`` (an iterable of batches).
``TensorBatches`` slices tensors built once; ``SampleBatches`` collates a list of samples, optionally grouping
samples of similar length (bucketing) so that padded batches waste little compute.

Example:
    >>> x, y = torch.randn(100, 20, 3), torch.randn(100, 1)
    >>> batches = TensorBatches(x, y, batch_size=32, seed=1)
    >>> len(batches), [b[0].shape[0] for b in batches.epoch(0)]
    (4, [32, 32, 32, 4])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import numpy as np
import torch
from torch import Tensor

# SampleBatches sorts by length inside pools of this many batches: similar lengths within a batch, yet the
# batches still differ from epoch to epoch.
BUCKET_POOL_BATCHES = 50


def _order(n: int, shuffle: bool, seed: int, epoch: int) -> np.ndarray:
    """Indices 0..n-1, permuted by a generator seeded from (seed, epoch) alone (independent of global RNG)."""
    if not shuffle:
        return np.arange(n)
    return np.random.default_rng([seed, epoch]).permutation(n)


class TensorBatches:
    """Mini-batches of rows of equally long tensors: each batch is a tuple of slices.

    Args:
        *tensors: tensors sharing their first dimension N (e.g. inputs ``(N, T, F)`` and targets ``(N, ...)``).
        batch_size: rows per batch.
        shuffle: a fresh order every epoch, drawn from ``(seed, epoch)``.
        seed: seed of the order.
        drop_last: drop the final short batch.
    """

    def __init__(self, *tensors: Tensor, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False):
        if not tensors:
            raise ValueError("TensorBatches needs at least one tensor")
        n = tensors[0].shape[0]
        sizes = [t.shape[0] for t in tensors]
        if any(s != n for s in sizes):
            raise ValueError(f"TensorBatches tensors must share their first dimension, got sizes {sizes}")
        _check_batch_size(batch_size, n, drop_last, "TensorBatches")
        self.tensors, self.batch_size, self.shuffle, self.seed, self.drop_last = tensors, batch_size, shuffle, seed, drop_last
        self.n = n

    def __len__(self) -> int:
        return self.n // self.batch_size if self.drop_last else math.ceil(self.n / self.batch_size)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[tuple[Tensor, ...]]:
        """The batches of ``epoch``, from batch index ``start`` on (used when resuming mid-epoch)."""
        order = torch.from_numpy(_order(self.n, self.shuffle, self.seed, epoch))
        for b in range(start, len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            yield tuple(t[idx] for t in self.tensors)


class SampleBatches:
    """Mini-batches of arbitrary samples: ``collate(list_of_samples) -> batch``.

    Args:
        samples: the dataset, indexable (a list of examples).
        batch_size: samples per batch.
        collate: turns a list of samples into one batch (pad, stack, build lengths).
        shuffle: a fresh order every epoch, drawn from ``(seed, epoch)``.
        seed: seed of the order.
        length: optional ``length(sample) -> int``; batches then hold samples of similar length (bucketing):
            the shuffled samples are sorted by length inside pools of 50 batches and the batches are shuffled.
        drop_last: drop the final short batch.
    """

    def __init__(self, samples: Sequence[Any], batch_size: int, collate: Callable[[list], Any], shuffle: bool = True,
                 seed: int = 0, length: Callable[[Any], int] | None = None, drop_last: bool = False):
        _check_batch_size(batch_size, len(samples), drop_last, "SampleBatches")
        if not callable(collate):
            raise ValueError(f"SampleBatches collate must be callable (list of samples -> batch), got {collate!r}")
        self.samples, self.batch_size, self.collate = samples, batch_size, collate
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.lengths = None if length is None else np.asarray([int(length(s)) for s in samples])

    def __len__(self) -> int:
        n = len(self.samples)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def batch_indices(self, epoch: int) -> list[np.ndarray]:
        """The sample indices of every batch of ``epoch`` (deterministic in ``(seed, epoch)``)."""
        n, bs = len(self.samples), self.batch_size
        order = _order(n, self.shuffle, self.seed, epoch)
        if self.lengths is not None:
            pool = bs * BUCKET_POOL_BATCHES if self.shuffle else n
            # stable sort keeps the shuffled order among equal lengths
            order = np.concatenate([p[np.argsort(self.lengths[p], kind="stable")]
                                    for p in np.split(order, range(pool, n, pool))])
        batches = [order[i:i + bs] for i in range(0, n, bs)][:len(self)]
        if self.lengths is not None and self.shuffle:
            rng = np.random.default_rng([self.seed, epoch, 1])
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return batches

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Any]:
        """The collated batches of ``epoch``, from batch index ``start`` on."""
        for idx in self.batch_indices(epoch)[start:]:
            yield self.collate([self.samples[i] for i in idx])


def _check_batch_size(batch_size: int, n: int, drop_last: bool, who: str) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"{who} batch_size must be a positive integer, got {batch_size!r}")
    if n == 0:
        raise ValueError(f"{who} got no samples")
    if drop_last and n < batch_size:
        raise ValueError(f"{who} with drop_last=True and {n} samples < batch_size {batch_size} has no batch")


def iterate(source: Any, epoch: int, start: int = 0) -> Iterable[Any]:
    """Batches of ``epoch`` from any source: ours (with ``start``), any ``.epoch(e)`` object, or a plain iterable.

    A plain iterable (a list of batches, a DataLoader) is replayed as it comes; resuming then is exact only
    if its order does not depend on global random state.
    """
    if isinstance(source, (TensorBatches, SampleBatches)):
        return source.epoch(epoch, start)
    batches = source.epoch(epoch) if hasattr(source, "epoch") else source
    return islice(batches, start, None)


def to_device(batch: Any, device: torch.device | str) -> Any:
    """Move the tensors inside nested tuples / lists / dicts to ``device``; anything else passes through."""
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # NamedTuple (e.g. LSTMState)
        return type(batch)(*(to_device(v, device) for v in batch))
    if isinstance(batch, (tuple, list)):
        if not any(isinstance(v, (Tensor, tuple, list, dict)) for v in batch):
            return batch  # plain values (label ids, names): nothing to move, and no call per value
        return type(batch)(to_device(v, device) for v in batch)
    return batch
