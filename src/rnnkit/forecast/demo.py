"""The forecasting demo: SegRNN on Taylor's half-hourly electricity demand (England and Wales, summer 2000).

Train on the first 10 weeks (each forecast reads 2 weeks: 14 segments of a day), then forecast the next day
(48 half-hours) from every half-hour of the last 2 weeks and compare with the weekly seasonal naive forecast (the
same half-hour one week earlier), the strong baseline on this series.
"""

from __future__ import annotations

import time
from pathlib import Path

WEEK, DAY = 336, 48


def taylor_demo(out_dir: Path, echo=print, max_time: float | None = 5.0, seed: int = 0, epochs: int = 40,
                quantiles: tuple[float, ...] | None = None, ema_decay: float | None = None) -> dict[str, float]:
    """Run the demo; returns flat metrics (MAE also on the z scale of the training data, as often reported).

    The budget is ``epochs`` (about 1.5 s of CPU each on one core, so ~1-2 minutes); ``max_time`` (minutes) only
    caps it on a busy machine, where fewer epochs give a weaker model. ``quantiles`` (e.g. ``(0.1, 0.9)``) train
    with the pinball loss and add an interval; point forecasts (MAE loss) were more accurate here (RESULTS.md).
    ``ema_decay`` averages the weights (see ``Forecaster``).
    """
    from rnnkit.datasets.series import load_taylor
    from rnnkit.forecast import Forecaster
    from rnnkit.forecast.plots import plot_backtest, plot_forecast
    from rnnkit.train.runtime import torch_threads

    t0 = time.perf_counter()
    df = load_taylor()
    n_train = len(df) - 2 * WEEK
    train = df.iloc[:n_train]
    f = Forecaster("segrnn", input_size=2 * WEEK, horizon=DAY, quantiles=quantiles, season_length=WEEK,
                   epochs=epochs, max_time=max_time, seed=seed, num_threads=1, ema_decay=ema_decay)
    with torch_threads(1):  # this small model gains nothing from more threads; a busy machine slows them badly
        f.fit(train)
    res = f.backtest(df, start=n_train, stride=1)
    m = res.metrics
    std = float(train["y"].std())
    out = {"mae": m["mae"], "naive_mae": m["naive_mae"], "mae_z": m["mae"] / std, "naive_mae_z": m["naive_mae"] / std,
           "smape": m["smape"], "naive_smape": m["naive_smape"], "mase": m["mase"], "naive_mase": m["naive_mase"],
           "windows": m["n_windows"],
           "epochs": float(f.fit_result_.epochs), "seconds": time.perf_counter() - t0}
    for k, v in m.items():
        if k.startswith("coverage"):
            out[k] = v
    echo(f"Taylor electricity demand, day-ahead (48 half-hours) from {int(m['n_windows'])} origins in the last 2 weeks")
    echo(f"{'metric':<10} {'SegRNN':>10} {'weekly seasonal naive':>22}")
    for k in ("mae", "mae_z", "smape", "mase"):
        echo(f"{k:<10} {out[k]:>10.4f} {out['naive_' + k]:>22.4f}")
    cov = [f"{k}: {v:.3f}" for k, v in out.items() if k.startswith("coverage")]
    echo(f"interval {', '.join(cov) or 'none'}; trained {f.fit_result_.epochs} epochs")
    last = df.iloc[-DAY:]
    fc = f.predict(data=df.iloc[:-DAY])
    out_dir = Path(out_dir)
    p1 = plot_forecast(df.iloc[:-DAY], fc, out_dir / "forecast.png", actual=last, last=3 * DAY,
                       title="Taylor demand: last day forecast")
    p2 = plot_backtest(res.windows, out_dir / "backtest_mae.png")
    echo(f"plots: {p1}, {p2}  ({out['seconds']:.0f}s)")
    return out
