"""Weight averaging: the moving average's arithmetic, what the Trainer evaluates and returns, checkpoints, resume."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from rnnkit.train import TensorBatches, TrainConfig, Trainer, load_checkpoint
from rnnkit.train.averaging import WeightAverage


def _model():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.Tanh(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(8, 1))


def _data(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, 2, generator=g)
    return x, x[:, :, 0].sum(1, keepdim=True) / 2  # (n, 6, 2), (n, 1)


def mse(model, batch):
    return torch.nn.functional.mse_loss(model(batch[0]), batch[1])


def test_the_average_is_the_bias_corrected_exponential_mean_of_the_steps():
    lin = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(100.0)  # the starting weights never count
    avg = WeightAverage(lin, decay=0.9)
    seen = []
    for w in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]:
        with torch.no_grad():
            lin.weight.fill_(w)
        avg.update()
        seen.append(w)
        weights = [0.9 ** (len(seen) - 1 - k) for k in range(len(seen))]
        expected = sum(a * b for a, b in zip(weights, seen)) / sum(weights)
        assert avg.state_dict()["weight"].item() == pytest.approx(expected, rel=1e-6)
    with avg.applied():
        assert lin.weight.item() == pytest.approx(expected, rel=1e-6)
    assert lin.weight.item() == 6.0  # the trained weights come back after the block


def test_a_bad_decay_is_an_error_that_says_what_to_use():
    with pytest.raises(ValueError, match=r"ema_decay must be in \(0, 1\)"):
        TrainConfig(max_epochs=1, ema_decay=1.0)
    with pytest.raises(ValueError, match="decay must be in"):
        WeightAverage(torch.nn.Linear(1, 1), 0.0)


def _fit(out_dir, max_steps, resume=False, **kw):
    torch.manual_seed(0)
    model = _model()
    x, y = _data(64, seed=0)
    xv, yv = _data(32, seed=1)
    config = TrainConfig(max_steps=max_steps, max_epochs=None, lr=1e-2, schedule="constant", ema_decay=0.9,
                         progress=False, **kw)
    result = Trainer(config, out_dir=out_dir).fit(model, TensorBatches(x, y, batch_size=16, seed=0),
                                                  valid=TensorBatches(xv, yv, batch_size=32, shuffle=False),
                                                  loss_fn=mse, resume=resume)
    return model, result


def test_the_trainer_evaluates_keeps_and_returns_the_average(tmp_path):
    model, result = _fit(tmp_path / "run", max_steps=12)
    ckpt = load_checkpoint(tmp_path / "run", "best")
    served = load_file(str(ckpt["path"] / "model.safetensors"))
    # the model handed back is the best checkpoint's served weights, which are the average, not the trained ones
    assert all(torch.equal(model.state_dict()[k], served[k]) for k in served)
    assert ckpt["averaged"] is not None
    assert any(not torch.equal(ckpt["model"][k], ckpt["averaged"][k]) for k in ckpt["model"])
    # and its validation loss is the one recorded for that evaluation
    x, y = _data(32, seed=1)
    model.eval()
    with torch.no_grad():
        assert mse(model, (x, y)).item() == pytest.approx(result.best_metric, rel=1e-5)


def test_a_resumed_run_with_averaging_ends_bit_for_bit_as_an_uninterrupted_one(tmp_path):
    whole, _ = _fit(tmp_path / "whole", max_steps=16)
    _fit(tmp_path / "split", max_steps=8)
    resumed, result = _fit(tmp_path / "split", max_steps=16, resume=True)
    assert result.steps == 16
    for k, v in whole.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), f"{k} differs after resuming"
