"""Batch sources: every sample once per epoch, an order fixed by (seed, epoch), bucketing by length."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.nn import LSTMState
from rnnkit.train import SampleBatches, TensorBatches, to_device


def _rows(batches, epoch):
    return torch.cat([b[0] for b in batches.epoch(epoch)]).tolist()


def test_tensor_batches_cover_every_row_in_an_order_fixed_by_seed_and_epoch():
    x = torch.arange(50)
    y = x * 10
    a = TensorBatches(x, y, batch_size=16, seed=7)
    assert len(a) == 4
    batches = list(a.epoch(0))
    assert [len(b[0]) for b in batches] == [16, 16, 16, 2]
    assert all(torch.equal(bx * 10, by) for bx, by in batches)  # rows stay aligned across tensors
    assert sorted(_rows(a, 0)) == list(range(50))
    assert _rows(a, 0) == _rows(TensorBatches(x, y, batch_size=16, seed=7), 0)  # same (seed, epoch), same order
    assert _rows(a, 0) != _rows(a, 1)  # a fresh order every epoch
    assert _rows(a, 0) != _rows(TensorBatches(x, batch_size=16, seed=8), 0)
    assert [b[0].tolist() for b in a.epoch(0, start=2)] == [b[0].tolist() for b in batches[2:]]


def test_tensor_batches_without_shuffle_and_drop_last():
    b = TensorBatches(torch.arange(10), batch_size=4, shuffle=False, drop_last=True)
    assert len(b) == 2
    assert [t[0].tolist() for t in b.epoch(3)] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_tensor_batches_misuse():
    with pytest.raises(ValueError, match=r"TensorBatches tensors must share their first dimension, got sizes \[3, 4\]"):
        TensorBatches(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="TensorBatches batch_size must be a positive integer, got 0"):
        TensorBatches(torch.zeros(3), batch_size=0)


def test_sample_batches_collate_and_cover_every_sample():
    samples = [list(range(n)) for n in range(1, 30)]
    b = SampleBatches(samples, 8, collate=lambda s: [len(x) for x in s], seed=1)
    lengths = [n for batch in b.epoch(0) for n in batch]
    assert sorted(lengths) == list(range(1, 30)) and len(b) == 4
    assert list(b.epoch(2)) == list(SampleBatches(samples, 8, collate=lambda s: [len(x) for x in s], seed=1).epoch(2))


def test_bucketing_groups_similar_lengths():
    rng = np.random.default_rng(0)
    samples = [rng.standard_normal(int(n)) for n in rng.integers(1, 200, size=400)]
    plain = SampleBatches(samples, 16, collate=lambda s: [len(x) for x in s], seed=0)
    bucketed = SampleBatches(samples, 16, collate=lambda s: [len(x) for x in s], seed=0, length=len)

    def spread(source):  # mean (longest - shortest) inside a batch: the padding waste
        return np.mean([max(b) - min(b) for b in source.epoch(0)])

    assert sorted(n for b in bucketed.epoch(0) for n in b) == sorted(len(s) for s in samples)
    assert spread(bucketed) < spread(plain) / 5
    assert len(bucketed) == len(plain) == 25
    assert list(bucketed.epoch(0)) != list(bucketed.epoch(1))


def test_to_device_walks_nested_batches():
    batch = {"x": torch.zeros(2), "meta": ("id", [torch.ones(1)]), "state": LSTMState(torch.zeros(1), torch.ones(1))}
    moved = to_device(batch, "cpu")
    assert moved["meta"][0] == "id" and isinstance(moved["state"], LSTMState)
    assert torch.equal(moved["meta"][1][0], torch.ones(1))
    labels = [[3, 1, 4], [1, 5]]  # e.g. CTC label ids: passed through as they are
    moved = to_device((torch.zeros(1), labels), "cpu")[1]
    assert moved == labels and moved[0] is labels[0]
