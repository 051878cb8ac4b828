"""rnnkit rows: ``--mode lfl`` (the peers' LSTM, same size, epochs, batch and optimizer) or ``--mode default``.

- lfl: ``rnnkit.nn.LSTM`` + a linear layer on the last H states, trained by ``rnnkit.train.Trainer`` for a fixed
  number of epochs (Adam, constant lr, no clipping, no early stopping) over window tensors built once.
- default: rnnkit's recommended configuration, a segment recurrent model (SegRNN, Lin et al. 2023) with early
  stopping on the validation windows: ``rnnkit.forecast.Forecaster(model="segrnn")`` when that is installed,
  else the same architecture assembled here from ``rnnkit.nn.GRU`` (see ``segrnn.py``); the record says which.

Both set flush-to-zero through ``rnnkit.train.setup_runtime`` (rnnkit's default) and one thread.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def _train(model, batches, valid, spec, max_epochs: int, lr: float, patience: int | None, clip: float | None,
           loss_fn):
    """Fit with ``rnnkit.train.Trainer``: fixed epochs (patience None) or early stopping on ``valid``."""
    from rnnkit.train import TrainConfig, Trainer

    cfg = TrainConfig(max_epochs=max_epochs, lr=lr, clip_grad_norm=clip, schedule="constant",
                      early_stopping_patience=patience, seed=spec.seed, device="cpu", num_threads=1,
                      progress=False)
    return Trainer(cfg).fit(model, batches, valid=valid, loss_fn=loss_fn)


def main(argv: list[str] | None = None) -> dict:
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=("lfl", "default"), required=True)
    mode_args, rest = p.parse_known_args(argv)
    args = common.worker_args(rest)
    import torch
    from torch import nn

    import rnnkit.nn as rnn
    from rnnkit.train import TensorBatches, setup_runtime

    common.pin_threads(torch)
    setup_runtime(num_threads=1)
    import_s = common.time.perf_counter() - common.PROCESS_T0
    spec, series = common.read_task(args.task)
    L, H = spec.input_size, spec.horizon
    torch.manual_seed(spec.seed)
    tr = common.origins(spec, "train" if mode_args.mode == "lfl" else "es_train")
    x_tr, y_tr = (torch.from_numpy(a) for a in common.windows(series, tr, L, H))
    x_te, y_te = common.windows(series, common.origins(spec, "test"), L, H)
    C = series.shape[0]
    extra: dict = {}

    def mse(model, batch):
        *inputs, y = batch
        return nn.functional.mse_loss(model(*inputs), y)

    if mode_args.mode == "lfl":
        class LSTMForecaster(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = rnn.LSTM(1, spec.hidden, spec.layers)
                self.head = nn.Linear(spec.hidden, 1)

            def forward(self, x):  # x (B, L) -> (B, H)
                y, _ = self.lstm(x.unsqueeze(-1))  # (B, L, hidden)
                return self.head(y[:, -H:]).squeeze(-1)  # (B, H)

        model = LSTMForecaster()
        inputs_te: tuple = (torch.from_numpy(x_te),)
        with common.Stopwatch() as fit:
            res = _train(model, TensorBatches(x_tr, y_tr, batch_size=spec.batch_size, seed=spec.seed), None, spec,
                         spec.epochs, spec.lr, None, None, mse)
        extra.update(epochs_run=res.epochs, stopped=res.stopped, impl="rnnkit.nn.LSTM + rnnkit.train.Trainer")
    else:
        from segrnn import SegRNN, default_config

        cfg = default_config(spec)
        model = SegRNN(L, H, C, **cfg["model"])
        cid = lambda starts: torch.arange(C).repeat_interleave(len(starts))  # noqa: E731  channel-major ids
        va = common.origins(spec, "val")
        x_va, y_va = (torch.from_numpy(a) for a in common.windows(series, va, L, H))
        inputs_te = (torch.from_numpy(x_te), cid(common.origins(spec, "test")))
        with common.Stopwatch() as fit:
            train = TensorBatches(x_tr, cid(tr), y_tr, batch_size=cfg["batch_size"], seed=spec.seed)
            valid = TensorBatches(x_va, cid(va), y_va, batch_size=1024, shuffle=False) if len(va) else None
            res = _train(model, train, valid, spec, cfg["max_epochs"], cfg["lr"], cfg["patience"], 1.0, mse)
        extra.update(epochs_run=res.epochs, stopped=res.stopped, best_val=res.best_metric,
                     impl="SegRNN on rnnkit.nn.GRU + rnnkit.train.Trainer (early stopping)", config=cfg)
    model.eval()
    with common.Stopwatch() as pred_t, torch.no_grad():
        pred = torch.cat([model(*b) for b in zip(*(t.split(1024) for t in inputs_te))]).numpy()
    one = tuple(t[-1:] for t in inputs_te)

    def one_call():
        with torch.no_grad():
            return model(*one).numpy()

    lat = common.latency(one_call, spec.latency_calls)
    return common.finish(args.out, f"rnnkit-{mode_args.mode}", spec, pred, y_te, fit.seconds, pred_t.seconds,
                         import_s, {**lat, **extra, "params": sum(p.numel() for p in model.parameters())})


if __name__ == "__main__":
    main()
