"""rnnkit rows: ``--mode lfl`` (the peers' LSTM, same size, epochs, batch and optimizer) or ``--mode default``.

- lfl: ``rnnkit.nn.LSTM`` + a linear layer on the last H states, trained by ``rnnkit.train.Trainer`` for a fixed
  number of epochs (Adam, constant lr, no clipping, no early stopping) over window tensors built once.
- default: rnnkit's recommended configuration through the public API, ``rnnkit.forecast.Forecaster("segrnn")``
  (segment recurrence, Lin et al. 2023) with early stopping on the validation windows, scored with ``backtest``.

Both set flush-to-zero through ``rnnkit.train.setup_runtime`` (rnnkit's default) and one thread.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("lfl", "default"), required=True)
    mode_args, rest = p.parse_known_args(argv)
    args = common.worker_args(rest)
    import torch

    import rnnkit.forecast  # noqa: F401  (imported here so that import time counts for both rows)
    from rnnkit.train import setup_runtime

    common.pin_threads(torch)
    setup_runtime(num_threads=1)
    import_s = common.time.perf_counter() - common.PROCESS_T0
    spec, series = common.read_task(args.task)
    torch.manual_seed(spec.seed)
    row = default_row if mode_args.mode == "default" else lfl_row
    return row(args, spec, series, import_s)


def lfl_row(args, spec, series, import_s: float) -> dict:
    """``rnnkit.nn.LSTM`` + linear head, ``rnnkit.train.Trainer`` with Adam at constant lr for fixed epochs."""
    import torch
    from torch import nn

    import rnnkit.nn as rnn
    from rnnkit.train import TensorBatches, TrainConfig, Trainer

    L, H = spec.input_size, spec.horizon

    class LSTMForecaster(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = rnn.LSTM(1, spec.hidden, spec.layers)
            self.head = nn.Linear(spec.hidden, 1)

        def forward(self, x):  # x (B, L) -> (B, H)
            y, _ = self.lstm(x.unsqueeze(-1))  # (B, L, hidden)
            return self.head(y[:, -H:]).squeeze(-1)  # (B, H)

    x_tr, y_tr = (torch.from_numpy(a) for a in common.windows(series, common.origins(spec, "train"), L, H))
    x_te, y_te = common.windows(series, common.origins(spec, "test"), L, H)
    model = LSTMForecaster()
    # Trainer uses AdamW; weight_decay=0 makes it Adam. No clipping and a constant lr, as the peers' defaults.
    cfg = TrainConfig(max_epochs=spec.epochs, lr=spec.lr, clip_grad_norm=None, schedule="constant", seed=spec.seed,
                      device="cpu", num_threads=1, progress=False)
    with common.Stopwatch() as fit:
        batches = TensorBatches(x_tr, y_tr, batch_size=spec.batch_size, seed=spec.seed)
        res = Trainer(cfg).fit(model, batches, loss_fn=lambda m, b: nn.functional.mse_loss(m(b[0]), b[1]))
    model.eval()
    with common.Stopwatch() as pred_t, torch.no_grad():
        pred = torch.cat([model(xb) for xb in torch.from_numpy(x_te).split(1024)]).numpy()
    one = torch.from_numpy(x_te[-1:])

    def one_call():
        with torch.no_grad():
            return model(one).numpy()

    lat = common.latency(one_call, spec.latency_calls)
    return common.finish(args.out, "rnnkit-lfl", spec, pred, y_te, fit, pred_t, import_s,
                         {**lat, "epochs_run": res.epochs, "stopped": res.stopped,
                          "params": sum(p.numel() for p in model.parameters()),
                          "impl": "rnnkit.nn.LSTM + rnnkit.train.Trainer"})


def long_frame(series, lo: int, hi: int):
    """Rows ``[lo, hi)`` of every channel as a long frame ``unique_id, ds, y`` (integer time steps)."""
    import numpy as np
    import pandas as pd

    C, n = series.shape[0], hi - lo
    return pd.DataFrame({"unique_id": np.repeat(np.arange(C), n), "ds": np.tile(np.arange(lo, hi), C),
                         "y": series[:, lo:hi].reshape(-1)})


def default_config(spec) -> dict:
    """Keyword arguments of ``Forecaster("segrnn", ...)`` for the default row, per task."""
    if spec.notes.get("tiny"):  # harness tests
        return dict(hidden_size=16, epochs=max(spec.epochs, 1), batch_size=64, early_stopping_patience=1, loss="mse")
    if spec.name == "taylor":
        return dict(hidden_size=64, epochs=20, batch_size=64, lr=3e-3, early_stopping_patience=3, loss="mse",
                    norm="last")
    # ETTh1: the Taylor row's width, the loss and normalisation of benchmarks/forecast/ett.py, stopped as soon as
    # the validation months stop improving.
    return dict(hidden_size=64, epochs=10, batch_size=256, lr=3e-3, early_stopping_patience=1, loss="mae",
                norm="revin", dropout=0.1)


def default_row(args, spec, series, import_s: float) -> dict:
    """The public API: ``Forecaster(model="segrnn").fit(train, val_data=val)``, then ``backtest`` on the test part."""
    from rnnkit.forecast import Forecaster
    L, H = spec.input_size, spec.horizon
    cfg = default_config(spec)
    f = Forecaster("segrnn", input_size=L, horizon=H, seed=spec.seed, device="cpu", num_threads=1, **cfg)
    # With ``train_windows`` set, the default row trains on the same most recent windows as the other rows.
    first = 0 if not spec.train_windows else max(0, spec.es_train_end - H - spec.train_windows + 1 - L)
    train = long_frame(series, first, spec.es_train_end)
    val = long_frame(series, spec.es_train_end - L, spec.val_end)
    full = long_frame(series, 0, spec.test_end)
    with common.Stopwatch() as fit:
        f.fit(train, val_data=val)
    with common.Stopwatch() as pred_t:
        bt = f.backtest(full, start=spec.test_start)
    fc = bt.forecasts.sort_values(["unique_id", "cutoff", "ds"])
    pred = fc["yhat"].to_numpy().reshape(-1, H)
    _, y_te = common.windows(series, common.origins(spec, "test"), L, H)
    one = long_frame(series[-1:], spec.test_end - L, spec.test_end)
    lat = common.latency(lambda: f.predict(data=one), spec.latency_calls)
    res = f.fit_result_
    return common.finish(args.out, "rnnkit-default", spec, pred, y_te, fit, pred_t, import_s,
                         {**lat, "epochs_run": res.epochs, "stopped": res.stopped, "config": cfg,
                          "params": sum(p.numel() for p in f.model_.parameters()),
                          "impl": "rnnkit.forecast.Forecaster('segrnn') fit + backtest"})


if __name__ == "__main__":
    main()
