"""Backend choice: explicit ``triton`` errors that say why, ``auto`` never picking Triton off CUDA, the fallback."""

from __future__ import annotations

import pytest
import torch

from rnnkit.kernels import BACKENDS, resolve_backend
from rnnkit.kernels import triton_backend as tb
from rnnkit.nn import LSTM, RNN, GRUCell, LayerNormLSTM, LSTMCell, MinGRUCell
from rnnkit.nn.recurrent import run_cell


def test_backends_list_triton():
    assert BACKENDS == ("auto", "reference", "torch", "triton")


def test_explicit_triton_without_triton_installed(monkeypatch):
    monkeypatch.setattr(tb, "triton_installed", lambda: False)
    with pytest.raises(ValueError) as err:
        LSTM(3, 4, backend="triton")(torch.randn(2, 5, 3))
    assert str(err.value) == ("backend='triton' cannot run: triton is not installed; install it with "
                              "pip install 'rnnkit[triton]' (it needs a CUDA GPU)")


def test_explicit_triton_on_cpu_without_interpreter(monkeypatch):
    monkeypatch.setattr(tb, "triton_installed", lambda: True)
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(ValueError) as err:
        LSTM(3, 4, backend="triton")(torch.randn(2, 5, 3))
    assert str(err.value) == (
        "backend='triton' cannot run: the Triton kernels need a CUDA tensor, got input on cpu; move the model and "
        "data to a GPU (or set TRITON_INTERPRET=1 to run them slowly in the Triton interpreter for testing)")


def test_explicit_triton_with_unsupported_cell_or_dtype(monkeypatch):
    monkeypatch.setattr(tb, "triton_installed", lambda: True)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    with pytest.raises(ValueError) as err:
        RNN(3, 4, backend="triton")(torch.randn(2, 5, 3))
    assert str(err.value) == ("backend='triton' cannot run: RNNCell has no Triton kernel; supported "
                              "cells: LSTMCell, GRUCell, LayerNormLSTMCell, MinGRUCell, MinLSTMCell")
    with pytest.raises(ValueError) as err:
        LayerNormLSTM(3, 4, zoneout=0.1, backend="triton")(torch.randn(2, 5, 3))  # modules start in training
    assert str(err.value) == ("backend='triton' cannot run: zoneout in training draws random masks, which the "
                              "fused LayerNormLSTM kernel does not; use backend='reference' for training with "
                              "zoneout (eval mode is supported)")
    with pytest.raises(ValueError) as err:
        LayerNormLSTM(3, 300, backend="triton")(torch.randn(2, 5, 3))
    assert str(err.value) == ("backend='triton' cannot run: the fused LayerNormLSTM kernel takes hidden_size <= "
                              "256 (one program holds a whole hidden vector for its layer norms), got 300")
    with pytest.raises(ValueError) as err:
        LSTM(3, 4, backend="triton").double()(torch.randn(2, 5, 3, dtype=torch.float64))
    assert str(err.value) == ("backend='triton' cannot run: the Triton kernels take float32, bfloat16 or float16 "
                              "input, got torch.float64")


@pytest.mark.parametrize("cell", [LSTMCell(3, 4), GRUCell(3, 4), MinGRUCell(3, 4)])
def test_auto_never_picks_triton_off_cuda(monkeypatch, cell):
    monkeypatch.setenv("TRITON_INTERPRET", "1")  # even where the interpreter could run it
    x = torch.randn(2, 5, 3)
    assert not tb.preferred([cell], x)
    assert resolve_backend("auto", [cell], x) == "torch"


def test_auto_picks_triton_by_default_only_for_cells_without_a_fused_torch_path(monkeypatch):
    monkeypatch.delenv("RNNKIT_AUTO_TRITON", raising=False)
    assert [tb.auto_enabled(n) for n in ("MinGRUCell", "MinLSTMCell", "LayerNormLSTMCell")] == [True] * 3
    assert not tb.auto_enabled("LSTMCell") and not tb.auto_enabled("GRUCell")
    monkeypatch.setenv("RNNKIT_AUTO_TRITON", "1")
    assert tb.auto_enabled("LSTMCell") and tb.auto_enabled("GRUCell")
    monkeypatch.setenv("RNNKIT_AUTO_TRITON", "0")
    assert not tb.auto_enabled("MinGRUCell")


def test_auto_falls_back_when_a_kernel_fails(monkeypatch):
    def broken(*args):
        raise RuntimeError("no kernel image")

    monkeypatch.setattr(tb, "_run", broken)
    monkeypatch.setattr(tb, "_failed", set())
    cell = LSTMCell(3, 4)
    x, state = torch.randn(2, 5, 3), (torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(RuntimeError, match="no kernel image"):
        tb.run_cell_triton(cell, x, state, None, strict=True)
    with pytest.warns(RuntimeWarning, match=r"the Triton kernel for LSTMCell failed \(RuntimeError: no kernel image\)"):
        y, s = tb.run_cell_triton(cell, x, state, None, strict=False)
    y_ref, s_ref = run_cell(cell, x, state, None)
    assert torch.allclose(y, y_ref) and all(torch.allclose(a, b) for a, b in zip(s, s_ref))
    assert "LSTMCell" in tb._failed  # auto now skips this cell type
