"""Darts BlockRNNModel (LSTM): the last H states of a 2-layer LSTM through a linear layer, like the other rows.

Trained with ``fit`` on the training part of every channel (one TimeSeries per channel), evaluated with
``historical_forecasts(retrain=False, stride=1)`` over the test part: Darts' own way to score all test windows.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    args = common.worker_args(argv)
    import logging
    import warnings

    import darts
    import numpy as np
    import torch
    from darts import TimeSeries
    from darts.models import BlockRNNModel

    warnings.filterwarnings("ignore")
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    common.pin_threads(torch)
    if args.ftz:
        torch.set_flush_denormal(True)
    import_s = common.time.perf_counter() - common.PROCESS_T0
    spec, series = common.read_task(args.task)
    L, H = spec.input_size, spec.horizon
    full = [TimeSeries.from_values(s[:spec.test_end].reshape(-1, 1)) for s in series]  # one per channel
    train = [ts[:spec.train_end] for ts in full]
    model = BlockRNNModel(
        input_chunk_length=L, output_chunk_length=H, model="LSTM", hidden_dim=spec.hidden,
        n_rnn_layers=spec.layers, batch_size=spec.batch_size, n_epochs=spec.epochs,
        optimizer_kwargs={"lr": spec.lr}, random_state=spec.seed,
        pl_trainer_kwargs={"accelerator": "cpu", "enable_progress_bar": False, "enable_model_summary": False,
                           "logger": False, "enable_checkpointing": False})
    with common.Stopwatch() as fit:
        model.fit(train, max_samples_per_ts=spec.train_windows or None, verbose=False)
    with common.Stopwatch() as pred_t:
        fc = model.historical_forecasts(full, start=spec.test_start, start_format="position", forecast_horizon=H,
                                        stride=1, retrain=False, last_points_only=False, overlap_end=False,
                                        verbose=False, show_warnings=False)
    first = fc[0][0].time_index[0]
    if first != spec.test_start:
        raise RuntimeError(f"Darts' first test forecast starts at {first}, expected {spec.test_start}")
    pred = np.concatenate([np.stack([f.values()[:, 0] for f in per]) for per in fc])  # (W, H) channel-major
    _, y_te = common.windows(series, common.origins(spec, "test"), L, H)
    one = full[-1][spec.test_end - L:]

    lat = common.latency(lambda: model.predict(n=H, series=one, verbose=False, show_warnings=False),
                         spec.latency_calls)
    n_params = sum(p.numel() for p in model.model.parameters())
    return common.finish(args.out, "darts", spec, pred, y_te, fit, pred_t, import_s,
                         {**lat, "params": n_params, "ftz": args.ftz, "epochs_run": spec.epochs,
                          "version": darts.__version__})


if __name__ == "__main__":
    main()
