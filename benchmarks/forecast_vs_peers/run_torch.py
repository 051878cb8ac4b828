"""Raw PyTorch loop: torch.nn.LSTM + a linear layer on the last H states, Dataset + DataLoader, Adam, fixed epochs.

This is what a user writes by hand: the reference that the rnnkit like-for-like row must not be slower than.
Without ``--ftz`` it does not set flush-to-zero, as most hand-written loops do not.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    args = common.worker_args(argv)
    import numpy as np
    import torch
    from torch import nn

    common.pin_threads(torch)
    if args.ftz:
        torch.set_flush_denormal(True)
    import_s = common.time.perf_counter() - common.PROCESS_T0
    spec, series = common.read_task(args.task)
    L, H = spec.input_size, spec.horizon
    torch.manual_seed(spec.seed)

    class LSTMForecaster(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, spec.hidden, spec.layers, batch_first=True)
            self.head = nn.Linear(spec.hidden, 1)

        def forward(self, x):  # x (B, L) -> (B, H)
            y, _ = self.lstm(x.unsqueeze(-1))  # (B, L, hidden)
            return self.head(y[:, -H:]).squeeze(-1)  # (B, H)

    x_tr, y_tr = common.windows(series, common.origins(spec, "train"), L, H)
    x_te, y_te = common.windows(series, common.origins(spec, "test"), L, H)
    model = LSTMForecaster()
    with common.Stopwatch() as fit:
        data = torch.utils.data.TensorDataset(torch.from_numpy(x_tr), torch.from_numpy(y_tr))
        loader = torch.utils.data.DataLoader(data, batch_size=spec.batch_size, shuffle=True)
        opt = torch.optim.Adam(model.parameters(), lr=spec.lr)
        model.train()
        for _ in range(spec.epochs):
            for xb, yb in loader:
                opt.zero_grad()
                loss = nn.functional.mse_loss(model(xb), yb)
                loss.backward()
                opt.step()
    model.eval()
    with common.Stopwatch() as pred_t, torch.no_grad():
        pred = torch.cat([model(xb) for xb in torch.from_numpy(x_te).split(1024)]).numpy()
    one = torch.from_numpy(x_te[-1:])

    def one_call():
        with torch.no_grad():
            return model(one).numpy()

    lat = common.latency(one_call, spec.latency_calls)
    return common.finish(args.out, "torch", spec, pred, y_te, fit, pred_t, import_s,
                         {**lat, "params": sum(p.numel() for p in model.parameters()), "ftz": args.ftz,
                          "epochs_run": spec.epochs, "np_version": np.__version__})


if __name__ == "__main__":
    main()
