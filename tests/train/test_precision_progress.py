"""Mixed precision is a visible switch; feedback is a bar on a terminal, one line per evaluation otherwise."""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F

from rnnkit.nn import LSTM
from rnnkit.train import TensorBatches, TrainConfig, Trainer, load_checkpoint


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = LSTM(2, 8, num_layers=2, dropout=0.2)
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x):  # (B, T, 2) -> (B, 1)
        return self.head(self.rnn(x)[0][:, -1])


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(48, 5, 2, generator=g)
    return x, x.sum((1, 2))[:, None] / 3


def _fit(config, out_dir=None, resume=False, seen=None):
    torch.manual_seed(0)
    model = Tiny()
    x, y = _data()

    def loss_fn(m, batch):
        pred = m(batch[0])
        if seen is not None:
            seen.add((pred.dtype, pred.device.type))
        return F.mse_loss(pred.float(), batch[1])

    result = Trainer(config, out_dir=out_dir).fit(model, TensorBatches(x, y, batch_size=16), loss_fn=loss_fn,
                                                  valid=TensorBatches(x, y, shuffle=False), resume=resume)
    return model, result


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_cpu_trains_in_fp32(precision):
    seen = set()
    _, result = _fit(TrainConfig(max_epochs=2, precision=precision, device="cpu", progress=False), seen=seen)
    assert seen == {(torch.float32, "cpu")}
    assert result.steps == 6


def test_bf16_on_cpu_is_refused_with_the_reason():
    with pytest.raises(ValueError) as e:
        Trainer(TrainConfig(precision="bf16", device="cpu"))
    assert str(e.value) == ("precision='bf16' (autocast) needs a CUDA device, got 'cpu': oneDNN's fused CPU LSTM "
                            "kernels reject bf16 on most CPUs; use precision='auto' or 'fp32'")


def test_one_line_per_evaluation_without_a_terminal(capsys):
    _fit(TrainConfig(max_epochs=2, progress=True, device="cpu"))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("epoch 2 step 6 train_loss ") and " val_loss " in lines[1] and " lr " in lines[1]


def test_silent_when_progress_is_off(capsys):
    _fit(TrainConfig(max_epochs=1, progress=False, device="cpu"))
    assert capsys.readouterr().out == ""


def test_progress_bar_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _fit(TrainConfig(max_epochs=2, progress=True, device="cpu"))
    out = capsys.readouterr().out
    assert "6/6" in out and "eta" in out and "val_loss" in out


@pytest.mark.gpu
def test_cuda_trains_under_bf16_autocast_and_resumes(tmp_path):
    # Bit-exact resume is promised on CPU only: cuDNN's RNN dropout keeps a random state of its own that
    # torch.cuda.get_rng_state does not capture.
    seen = set()
    config = TrainConfig(max_epochs=4, device="cuda", schedule="constant", progress=False)
    _, full = _fit(config, out_dir=tmp_path / "full", seen=seen)
    assert seen == {(torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32, "cuda")}
    _fit(TrainConfig(max_epochs=2, device="cuda", schedule="constant", progress=False), out_dir=tmp_path / "part")
    _, resumed = _fit(config, out_dir=tmp_path / "part", resume=True)
    assert resumed.steps == full.steps == 12 and len(resumed.history) == 4
    assert load_checkpoint(tmp_path / "part")["trainer"]["loop"]["step"] == 12
