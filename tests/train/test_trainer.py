"""Trainer.fit: seeds, early stopping, budgets with best weights restored, accumulation, schedules, logs."""

from __future__ import annotations

import json
import math
import time

import pytest
import torch
import torch.nn.functional as F

from rnnkit.nn import GRU
from rnnkit.train import SampleBatches, TensorBatches, TrainConfig, Trainer


class TinyGRU(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = GRU(2, 8, dropout=0.0)
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x):  # (B, T, 2) -> (B, 1)
        return self.head(F.dropout(self.rnn(x)[0][:, -1], 0.1, self.training))


def _data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, 2, generator=g)
    return x, x[:, :, 0].sum(1, keepdim=True) / 2  # (n, 6, 2), (n, 1)


def mse(model, batch):
    return F.mse_loss(model(batch[0]), batch[1])


def _config(**kw):
    return TrainConfig(**{"max_epochs": 3, "lr": 1e-2, "progress": False, **kw})


def _fit(config, seed=0, **kw):
    torch.manual_seed(seed)
    model = TinyGRU()
    x, y = _data()
    kw.setdefault("loss_fn", mse)
    result = Trainer(config, out_dir=kw.pop("out_dir", None)).fit(
        model, TensorBatches(x, y, batch_size=16, seed=seed), **kw)
    return model, result


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_seeded_runs_repeat_and_other_seeds_differ():
    a, ra = _fit(_config(seed=3))
    b, rb = _fit(_config(seed=3))
    c, _ = _fit(_config(seed=4))
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    assert [r["train_loss"] for r in ra.history] == [r["train_loss"] for r in rb.history]
    assert not torch.equal(a.head.weight, c.head.weight)  # dropout masks follow the trainer's seed
    assert ra.monitor == "train_loss" and ra.stopped == "max_epochs" and ra.steps == 12 and ra.epochs == 3


def test_training_lowers_the_validation_loss():
    x, y = _data(96, seed=1)
    torch.manual_seed(0)
    model = TinyGRU()
    before = F.mse_loss(model.eval()(x[64:]), y[64:]).item()
    result = Trainer(_config(max_epochs=15, schedule="constant")).fit(
        model, TensorBatches(x[:64], y[:64], batch_size=16), valid=TensorBatches(x[64:], y[64:], shuffle=False),
        loss_fn=mse)
    assert result.monitor == "val_loss"
    assert result.best_metric < before / 3
    assert F.mse_loss(model.eval()(x[64:]), y[64:]).item() == pytest.approx(result.best_metric, rel=1e-5)


def _scripted(values):
    """eval_fn returning the given metric values in turn, and a callback recording the weights at each one."""
    seen, weights = iter(values), {}

    def eval_fn(model):
        return {"score": next(seen)}

    def remember(model):
        return lambda record: weights.__setitem__(record["step"], _weights(model))

    return eval_fn, remember, weights


def test_early_stopping_stops_after_patience_and_restores_the_best():
    eval_fn, remember, weights = _scripted([0.5, 0.9, 0.7, 0.8, 0.6, 0.95, 0.99])
    torch.manual_seed(0)
    model = TinyGRU()
    x, y = _data()
    config = _config(max_epochs=50, eval_every=2, early_stopping_patience=3, monitor="score", mode="max")
    result = Trainer(config).fit(model, TensorBatches(x, y, batch_size=16), loss_fn=mse, eval_fn=eval_fn,
                                 callbacks=[remember(model)])
    assert result.stopped == "early_stopping"
    assert [r["step"] for r in result.history] == [2, 4, 6, 8, 10]
    assert result.best_metric == 0.9 and result.best_step == 4
    assert all(torch.equal(v, weights[4][k]) for k, v in model.state_dict().items())
    assert not all(torch.equal(v, weights[10][k]) for k, v in model.state_dict().items())


def test_max_steps_stops_mid_epoch_evaluates_and_restores_the_best():
    eval_fn, remember, weights = _scripted([3.0, 1.0, 2.0, 4.0])
    torch.manual_seed(0)
    model = TinyGRU()
    x, y = _data()
    config = _config(max_epochs=None, max_steps=7, eval_every=2, monitor="score")
    result = Trainer(config).fit(model, TensorBatches(x, y, batch_size=16), loss_fn=mse, eval_fn=eval_fn,
                                 callbacks=[remember(model)])
    assert result.stopped == "max_steps" and result.steps == 7 and result.epochs == 1
    assert [r["step"] for r in result.history] == [2, 4, 6, 7]  # a last evaluation at the budget
    assert result.history[-1]["epoch"] == 1.75
    assert result.best_step == 4 and all(torch.equal(v, weights[4][k]) for k, v in model.state_dict().items())


def test_max_time_stops_and_restores_the_best():
    def slow_mse(model, batch):
        time.sleep(0.02)
        return mse(model, batch)

    torch.manual_seed(0)
    model = TinyGRU()
    x, y = _data()
    config = _config(max_epochs=1000, max_time=0.01, schedule="constant", eval_every=3)  # 0.6 s
    result = Trainer(config).fit(model, TensorBatches(x, y, batch_size=16), loss_fn=slow_mse)
    assert result.stopped == "max_time"
    assert 0.6 <= result.seconds < 5 and result.steps < 100
    best = min(r["train_loss"] for r in result.history)
    assert result.best_metric == best and result.best_step == next(r["step"] for r in result.history
                                                                   if r["train_loss"] == best)


def test_gradient_accumulation_matches_a_bigger_batch():
    x, y = _data(72)
    results = []
    for batch_size, accum in [(24, 1), (8, 3)]:
        torch.manual_seed(0)
        model = torch.nn.Linear(12, 1)
        config = _config(max_epochs=2, grad_accum=accum, clip_grad_norm=None, schedule="constant")
        Trainer(config).fit(model, TensorBatches(x.flatten(1), y, batch_size=batch_size, shuffle=False),
                            loss_fn=mse)
        results.append(model.weight.detach().clone())
    torch.testing.assert_close(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_the_last_short_group_of_an_epoch_still_steps():
    x, y = _data(40)  # 5 batches of 8, grad_accum 2: groups of 2, 2 and 1 -> 3 steps an epoch
    torch.manual_seed(0)
    r = Trainer(_config(max_epochs=2, grad_accum=2)).fit(TinyGRU(), TensorBatches(x, y, batch_size=8), loss_fn=mse)
    assert r.steps == 6


def test_logged_learning_rates_follow_the_schedule(tmp_path):
    config = _config(max_epochs=None, max_steps=8, eval_every=1, warmup_steps=2, schedule="cosine", lr=0.1)
    _, result = _fit(config, out_dir=tmp_path)
    lrs = [r["lr"] for r in result.history]
    assert lrs[:3] == pytest.approx([0.05, 0.1, 0.1])  # warm-up, then the peak at the first cosine step
    assert lrs[-1] < 0.01 and lrs == sorted(lrs[:2]) + sorted(lrs[2:], reverse=True)
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert logged == result.history


def test_missing_monitor_names_the_available_metrics():
    config = _config(monitor="accuracy")
    with pytest.raises(ValueError) as e:
        _fit(config, eval_fn=lambda m: {"f1": 0.5})
    assert str(e.value) == ("TrainConfig.monitor='accuracy' is not among the evaluation metrics ['epoch', 'f1', 'lr', "
                            "'step', 'train_loss']; set monitor to one of them (and mode to 'min' or 'max')")


def test_nan_loss_is_an_error():
    with pytest.raises(ValueError, match=r"training loss is nan at step 0 \(epoch 0\): lower TrainConfig.lr"):
        _fit(_config(), loss_fn=lambda m, b: mse(m, b) * float("nan"))


def test_misuse():
    with pytest.raises(ValueError, match="Trainer.fit needs loss_fn"):
        Trainer(_config()).fit(TinyGRU(), TensorBatches(torch.zeros(4, 1)))
    with pytest.raises(ValueError, match=r"resume=True needs Trainer\(out_dir=...\)"):
        _fit(_config(), resume=True)
    with pytest.raises(ValueError, match="Trainer expects a TrainConfig, got dict"):
        Trainer({"max_epochs": 3})


def test_any_batch_source_works_list_of_batches_and_sample_batches():
    x, y = _data(32)
    torch.manual_seed(0)
    listed = Trainer(_config(max_epochs=2)).fit(TinyGRU(), [(x[:16], y[:16]), (x[16:], y[16:])], loss_fn=mse)
    assert listed.steps == 4

    def collate(samples):  # variable-length sequences -> a padded dict batch with lengths
        seqs = [s for s, _ in samples]
        return {"x": torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True), "y": torch.stack([t for _, t in samples]),
                "lengths": torch.tensor([len(s) for s in seqs])}

    def dict_loss(model, batch):
        out, _ = model.rnn(batch["x"], lengths=batch["lengths"])
        last = out[torch.arange(len(out)), batch["lengths"] - 1]
        return F.mse_loss(model.head(last), batch["y"])

    samples = [(x[i, : 2 + i % 5], y[i]) for i in range(32)]
    source = SampleBatches(samples, 8, collate, length=lambda s: len(s[0]))
    torch.manual_seed(0)
    result = Trainer(_config(max_epochs=2)).fit(TinyGRU(), source, loss_fn=dict_loss)
    assert result.steps == 8 and all(math.isfinite(r["train_loss"]) for r in result.history)


def test_a_budget_at_the_end_of_an_epoch_counts_the_epoch():
    _, result = _fit(_config(max_epochs=None, max_steps=8))  # 4 steps an epoch
    assert (result.stopped, result.steps, result.epochs) == ("max_steps", 8, 2)
    assert [r["epoch"] for r in result.history] == [1, 2]


def test_a_source_whose_len_lies_is_an_error():
    class Short:
        def __len__(self):
            return 3

        def epoch(self, e):
            return [(torch.zeros(2, 6, 2), torch.zeros(2, 1))] * 2

    with pytest.raises(ValueError, match=r"yielded 2 batches in epoch 0 but its len\(\) is 3; they must agree"):
        Trainer(_config()).fit(TinyGRU(), Short(), loss_fn=mse)
