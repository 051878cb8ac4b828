"""Short series with the Forecaster's defaults against seasonal naive: what a user with a few years of months sees.

Three classic series that ship with pmdarima (offline): monthly Australian wine sales (wineind, 1980-1994, 176
points), monthly airline passengers (1949-1960, 144) and quarterly Australian beer production (ausbeer, 1956-2008,
211; one missing value, interpolated). Each is forecast over its last three horizons (12 months, 12 months, 8
quarters) from a model trained on the rest, with ``Forecaster(input_size=3 * horizon, horizon=...)`` and nothing
else set; the median over seeds is reported beside seasonal naive's MAE on the same windows.

    python benchmarks/forecast/small_series.py                      # the defaults, seeds 0-2
    python benchmarks/forecast/small_series.py --one-batch-epochs   # as before epochs had a floor of batches
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd


def series() -> dict[str, tuple[pd.DataFrame, int]]:
    """name -> (frame ``ds, y``, horizon)."""
    from pmdarima import datasets as d

    def frame(y, start, freq):
        return pd.DataFrame({"ds": pd.date_range(start, periods=len(y), freq=freq), "y": np.asarray(y, float)})

    return {"wineind": (frame(d.load_wineind(), "1980-01-01", "MS"), 12),
            "airpassengers": (frame(d.load_airpassengers(), "1949-01-01", "MS"), 12),
            "ausbeer": (frame(d.load_ausbeer(), "1956-01-01", "QS"), 8)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--one-batch-epochs", action="store_true",
                   help="no floor on batches per epoch (the earlier behaviour), for comparison")
    args = p.parse_args()
    import rnnkit.forecast.forecaster as forecaster_module
    from rnnkit.forecast import Forecaster

    if args.one_batch_epochs:
        forecaster_module.MIN_BATCHES_PER_EPOCH = 1
    for name, (df, H) in series().items():
        start = len(df) - 3 * H
        maes, steps, secs = [], [], []
        for seed in [int(s) for s in args.seeds.split(",")]:
            t0 = time.perf_counter()
            f = Forecaster(input_size=3 * H, horizon=H, seed=seed, num_threads=1, device="cpu")
            f.fit(df.iloc[:start], fill="interpolate")
            m = f.backtest(df, start=start, stride=H, fill="interpolate").metrics
            maes.append(m["mae"])
            steps.append(f.fit_result_.steps)
            secs.append(time.perf_counter() - t0)
        print(json.dumps({"series": name, "mae": [round(x, 3) for x in maes], "median_mae": round(float(np.median(maes)), 3),
                          "seasonal_naive_mae": round(m["naive_mae"], 3), "steps": steps,
                          "median_seconds": round(float(np.median(secs)), 1),
                          "one_batch_epochs": args.one_batch_epochs}), flush=True)


if __name__ == "__main__":
    main()
