"""TrainConfig: JSON round trip and teaching errors for bad values."""

from __future__ import annotations

import json

import pytest

from rnnkit.train import TrainConfig


def test_round_trip_through_json():
    cfg = TrainConfig(max_epochs=None, max_steps=500, max_time=2.5, lr=3e-4, schedule="plateau", warmup_steps=10,
                      early_stopping_patience=4, monitor="bleu", mode="max", grad_accum=4, eval_every=50,
                      checkpoint_every=25, num_threads=2, clip_grad_norm=None, progress=False)
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    assert again.to_dict()["clip_grad_norm"] is None


@pytest.mark.parametrize("kwargs, message", [
    ({"max_epochs": 0}, "TrainConfig.max_epochs must be a positive integer or None, got 0"),
    ({"max_steps": 2.5}, "TrainConfig.max_steps must be a positive integer or None, got 2.5"),
    ({"max_time": -1}, "TrainConfig.max_time must be a positive number of minutes or None, got -1"),
    ({"max_epochs": None}, "TrainConfig needs a budget: set max_epochs, max_steps or max_time (minutes)"),
    ({"lr": 0}, "TrainConfig.lr must be a number > 0, got 0"),
    ({"weight_decay": -0.1}, "TrainConfig.weight_decay must be a number >= 0, got -0.1"),
    ({"clip_grad_norm": 0.0}, "TrainConfig.clip_grad_norm must be a number > 0 or None (no clipping), got 0.0"),
    ({"schedule": "linear"}, "TrainConfig.schedule must be one of 'constant', 'cosine', 'plateau', got 'linear'"),
    ({"warmup_steps": -1}, "TrainConfig.warmup_steps must be an integer >= 0, got -1"),
    ({"min_lr_ratio": 1.5}, "TrainConfig.min_lr_ratio must be in [0, 1], got 1.5"),
    ({"plateau_factor": 1.0}, "TrainConfig.plateau_factor must be in (0, 1), got 1.0"),
    ({"early_stopping_patience": 0}, "TrainConfig.early_stopping_patience must be a positive integer or None, got 0"),
    ({"monitor": ""}, "TrainConfig.monitor must be a metric name such as 'val_loss', got ''"),
    ({"mode": "up"}, "TrainConfig.mode must be one of 'min', 'max', got 'up'"),
    ({"grad_accum": 0}, "TrainConfig.grad_accum must be a positive integer, got 0"),
    ({"precision": "fp16"}, "TrainConfig.precision must be one of 'auto', 'bf16', 'fp32', got 'fp16'"),
    ({"seed": -1}, "TrainConfig.seed must be an integer in [0, 2**32), got -1"),
    ({"device": "gpu"}, "TrainConfig.device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu'"),
    ({"eval_every": True}, "TrainConfig.eval_every must be a positive integer or None, got True"),
    ({"progress": "yes"}, "TrainConfig.progress must be True or False, got 'yes'"),
])
def test_bad_values_raise_teaching_errors(kwargs, message):
    with pytest.raises(ValueError) as e:
        TrainConfig(**kwargs)
    assert str(e.value) == message


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"TrainConfig got unknown keys \['epochs'\]; known keys: \['max_epochs'"):
        TrainConfig.from_dict({"epochs": 3})


def test_constant_and_plateau_need_no_fixed_length():
    assert TrainConfig(max_epochs=None, max_time=1.0, schedule="plateau").max_time == 1.0
    assert TrainConfig(max_epochs=None, max_time=1.0, schedule="constant").schedule == "constant"
