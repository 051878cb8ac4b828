"""Checkpoints and model folders: atomic writes, safetensors + JSON only, exact round trips, teaching errors."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnnkit.train.folders as folders
from rnnkit.nn import LSTM
from rnnkit.train import (
    TensorBatches,
    TrainConfig,
    Trainer,
    load_checkpoint,
    load_model_folder,
    save_model_folder,
)
from rnnkit.train.checkpoint import flatten_optimizer, rng_state, set_rng_state, unflatten_optimizer


def _trained_optimizer():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1, betas=(0.8, 0.9))
    for _ in range(3):
        model(torch.randn(4, 3)).pow(2).sum().backward()
        opt.step()
    return model, opt


def test_optimizer_state_round_trips_through_tensors_and_json():
    model, opt = _trained_optimizer()
    tensors, rest = flatten_optimizer(opt.state_dict())
    assert all(isinstance(v, torch.Tensor) for v in tensors.values())
    rebuilt = unflatten_optimizer(tensors, json.loads(json.dumps(rest)))
    fresh = torch.optim.AdamW(model.parameters(), lr=0.1)
    fresh.load_state_dict(rebuilt)
    original = opt.state_dict()
    for pid, entries in original["state"].items():
        for k, v in entries.items():
            assert torch.equal(fresh.state_dict()["state"][pid][k], v)
    assert fresh.param_groups[0]["betas"] == (0.8, 0.9)


def test_rng_state_round_trips():
    tensors, scalars = rng_state()
    expected = (torch.rand(3), np.random.rand(3), random.random(), np.random.randn())
    set_rng_state(tensors, json.loads(json.dumps(scalars)))
    again = (torch.rand(3), np.random.rand(3), random.random(), np.random.randn())
    assert torch.equal(expected[0], again[0]) and np.array_equal(expected[1], again[1])
    assert expected[2:] == again[2:]


def test_model_folder_round_trip_with_extra_files(tmp_path):
    model = LSTM(3, 4)
    path = save_model_folder(tmp_path / "m", model, {"hidden_size": 4}, extra={"scaler.json": "{}", "vocab": b"\x00a"})
    config, state = load_model_folder(path, required=("scaler.json",))
    assert config == {"hidden_size": 4}
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert (path / "vocab").read_bytes() == b"\x00a"
    save_model_folder(path, {"w": torch.ones(2)}, {"v": 2})  # replacing a folder leaves only the new one
    assert load_model_folder(path)[0] == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_tied_weights_save(tmp_path):
    emb = torch.nn.Embedding(5, 3)
    head = torch.nn.Linear(3, 5, bias=False)
    head.weight = emb.weight
    model = torch.nn.ModuleDict({"emb": emb, "head": head})
    _, state = load_model_folder(save_model_folder(tmp_path / "tied", model, {}))
    model.load_state_dict(state)


def test_incomplete_model_folder_names_the_missing_files(tmp_path):
    path = save_model_folder(tmp_path / "m", LSTM(2, 2), {})
    (path / "model.safetensors").unlink()
    with pytest.raises(ValueError) as e:
        load_model_folder(path, required=("tokenizer.model",))
    assert str(e.value) == f"model folder {path} is incomplete: missing model.safetensors, tokenizer.model"
    with pytest.raises(ValueError, match="does not exist"):
        load_model_folder(tmp_path / "nope")
    with pytest.raises(ValueError, match="extra file name 'a/b' must be a plain file name"):
        save_model_folder(tmp_path / "x", LSTM(2, 2), {}, extra={"a/b": "x"})
    with pytest.raises(ValueError, match="save_model_folder config must be JSON-serialisable"):
        save_model_folder(tmp_path / "x", LSTM(2, 2), {"f": object()})


def test_a_failed_model_write_leaves_nothing_visible(tmp_path, monkeypatch):
    save_model_folder(tmp_path / "m", {"w": torch.zeros(1)}, {"v": 1})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(folders, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        save_model_folder(tmp_path / "m", {"w": torch.ones(1)}, {"v": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["m"]
    assert load_model_folder(tmp_path / "m")[0] == {"v": 1}  # the old folder is untouched


def _fit(out_dir, resume=False, **kw):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 1))
    x = torch.randn(32, 4, 2)
    y = x.sum((1, 2))[:, None]
    config = TrainConfig(**{"max_epochs": 3, "progress": False, "lr": 0.05, **kw})
    result = Trainer(config, out_dir=out_dir).fit(model, TensorBatches(x, y, batch_size=8), loss_fn=lambda m, b:
                                                  F.mse_loss(m(b[0]), b[1]), model_config={"kind": "linear"}, resume=resume)
    return model, result


def test_run_folder_holds_the_latest_and_best_checkpoints_only(tmp_path):
    model, result = _fit(tmp_path, checkpoint_every=1)
    pointer = json.loads((tmp_path / "checkpoint.json").read_text())
    folders_left = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert folders_left == sorted(set(pointer.values()))
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["checkpoint.json", "metrics.jsonl"]
    for folder in folders_left:  # safetensors and JSON only: nothing is pickled
        assert {p.suffix for p in (tmp_path / folder).iterdir()} == {".json", ".safetensors"}
    config, best = load_model_folder(result.best_checkpoint)  # the best checkpoint is a model folder
    assert all(torch.equal(best[k], v) for k, v in load_model_folder(tmp_path)[1].items())  # the run's folder too
    assert config["model_config"] == {"kind": "linear"} and config["train_config"]["checkpoint_every"] == 1
    assert all(torch.equal(best[k], v) for k, v in model.state_dict().items())
    assert load_checkpoint(tmp_path)["trainer"]["loop"]["step"] == result.steps == 12


def test_an_interrupted_checkpoint_write_leaves_the_previous_one(tmp_path, monkeypatch):
    _fit(tmp_path)
    before = json.loads((tmp_path / "checkpoint.json").read_text())
    calls = []

    def crash_on_optimizer(tensors, filename, *args, **kwargs):
        calls.append(filename)
        if filename.endswith("optimizer.safetensors"):
            raise KeyboardInterrupt  # as if the process died halfway through the folder
        return real(tensors, filename, *args, **kwargs)

    real = folders.save_file
    monkeypatch.setattr(folders, "save_file", crash_on_optimizer)
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, resume=True, max_epochs=4)
    assert calls and json.loads((tmp_path / "checkpoint.json").read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == sorted(set(before.values()))
    assert load_checkpoint(tmp_path)["trainer"]["loop"]["step"] == 12


def test_resuming_a_finished_run_changes_nothing(tmp_path):
    first, r1 = _fit(tmp_path)
    again, r2 = _fit(tmp_path, resume=True)
    assert r2.steps == r1.steps and r2.history == r1.history and r2.stopped == "max_epochs"
    assert all(torch.equal(again.state_dict()[k], v) for k, v in first.state_dict().items())
    more, r3 = _fit(tmp_path, resume=True, max_epochs=4)  # a bigger budget continues the run
    assert r3.steps == 16 and len(r3.history) == 4


def test_a_fresh_start_forgets_earlier_checkpoints(tmp_path):
    _fit(tmp_path)
    old = set(json.loads((tmp_path / "checkpoint.json").read_text()).values())
    _, result = _fit(tmp_path, max_epochs=1)
    assert result.steps == 4 and not old & {p.name for p in tmp_path.iterdir()}
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 1


def test_resume_checks_the_data_and_warns_about_changed_settings(tmp_path):
    _fit(tmp_path, max_epochs=1)
    with pytest.warns(UserWarning, match=r"with changed settings \['lr'\]: the run continues"):
        _fit(tmp_path, resume=True, max_epochs=2, lr=0.01)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(8, 1))
    x = torch.randn(16, 4, 2)
    with pytest.raises(ValueError, match="it was trained on 4 batches an epoch, the training batch source now has 2"):
        Trainer(TrainConfig(max_epochs=3, progress=False, lr=0.05), out_dir=tmp_path).fit(
            model, TensorBatches(x, x.sum((1, 2))[:, None], batch_size=8), loss_fn=lambda m, b: 0, resume=True)
