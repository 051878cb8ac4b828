"""Grid and block sizes of the persistent kernels, and the weight-layout checks."""

from __future__ import annotations

import pytest
import torch
from kernel_refs import needs_triton

pytestmark = needs_triton
CUDA = torch.device("cuda", 0)  # a device object only: nothing runs on it here


@pytest.fixture
def h100(monkeypatch):
    from rnnkit.kernels import triton_common

    monkeypatch.setattr(triton_common, "interpreting", lambda: False)
    monkeypatch.setattr(triton_common, "_sm_count", lambda index: 132)
    return triton_common.launch_sizes


@pytest.mark.parametrize("B,H,want", [
    (8, 1024, {"BB": 16, "NBB": 1, "BH": 32, "NHB": 32}),  # 32 programs meet at every step's barrier
    (256, 1024, {"BB": 64, "NBB": 4, "BH": 32, "NHB": 32}),  # 128 programs <= 132 SMs
    (1024, 1024, {"BB": 64, "NBB": 16, "BH": 128, "NHB": 8}),  # wider blocks to stay resident
    (64, 64, {"BB": 64, "NBB": 1, "BH": 64, "NHB": 1}),  # one block: no barrier
])
def test_dense_grid_fits_the_gpu(h100, B, H, want):
    got = h100(B, H, 1, CUDA)
    assert {k: got[k] for k in want} == want
    assert got["NBB"] * got["NHB"] <= 132


def test_grid_too_large_for_the_gpu(h100):
    with pytest.raises(ValueError) as err:
        h100(4096, 1024, 1, CUDA)
    assert str(err.value) == ("the fused Triton recurrence needs at most 132 resident programs on this GPU, got "
                              "batch 4096 x hidden 1024; use backend='torch' or a smaller batch")


def test_heads_give_one_program_per_head(h100):
    got = h100(8, 1024, 8, CUDA)
    assert (got["NHB"], got["HB"], got["BH"]) == (8, 128, 128)


def test_weight_layout_errors():
    from rnnkit.kernels.triton_lstm import lstm_recurrence

    gx, h = torch.zeros(1, 2, 64), torch.zeros(1, 16)
    with pytest.raises(ValueError, match=r"^heads must divide the hidden size 16, got heads=3$"):
        lstm_recurrence(gx, torch.zeros(64, 5), h, h, heads=3)
    with pytest.raises(ValueError) as err:
        lstm_recurrence(gx, torch.zeros(64, 16), h, h, heads=2)
    assert str(err.value) == ("w_hh must be block-diagonal (G, H / heads) with heads=2 = (64, 8) for gates of "
                              "width 64, got (64, 16)")
