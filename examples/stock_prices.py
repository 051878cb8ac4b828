"""Forecasting a stock price with rnnkit, judged honestly against the random walk.

Microsoft daily closing prices (pmdarima's ``msft``, 1986-2017). Markets are close to efficient: tomorrow's price
is, to a first approximation, today's price plus unpredictable noise. So the benchmark that matters is the naive
(random-walk) forecast "tomorrow = today"; a model that does not beat it on held-out data has learned nothing
usable, however good its plot looks.

Prices exist on trading days only (weekends and holidays are missing), so time is the trading-day index: with
calendar dates rnnkit would (rightly) stop with an "irregular timestamps" error.

    python examples/stock_prices.py            # about 1-2 minutes on a laptop CPU
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from rnnkit.datasets.series import load_msft
from rnnkit.forecast import Forecaster

HORIZON, TEST_DAYS = 5, 500


def main() -> None:
    prices = load_msft()
    df = pd.DataFrame({"ds": np.arange(len(prices)), "y": prices["y"].to_numpy()})  # trading-day index
    start = len(df) - TEST_DAYS
    t0 = time.perf_counter()
    f = Forecaster("segrnn", input_size=60, horizon=HORIZON, season_length=1, quantiles=(0.1, 0.9),
                   epochs=20, max_time=1.0, seed=0)
    f.fit(df.iloc[:start])
    res = f.backtest(df, start=start, stride=1)
    m = res.metrics
    print(f"MSFT close, {HORIZON}-day-ahead forecasts from each of the last {TEST_DAYS} trading days "
          f"({prices['ds'].iloc[start].date()} on), {time.perf_counter() - t0:.0f}s")
    print(f"{'metric':<8} {'SegRNN':>10} {'random walk':>12}")
    for k in ("mae", "smape", "mase"):
        print(f"{k:<8} {m[k]:>10.4f} {m['naive_' + k]:>12.4f}")
    print(f"80% interval coverage: {m['coverage_0.1_0.9']:.3f}")
    fc = res.forecasts
    first = fc.groupby("cutoff").head(1)  # next-day forecasts
    last_price = df.set_index("ds").y.reindex(first.cutoff).to_numpy()
    hit = np.mean(np.sign(first.yhat.to_numpy() - last_price) == np.sign(first.y.to_numpy() - last_price))
    print(f"next-day direction right: {hit:.1%} of days (a coin flip gets about 50%)")
    ratio = m["mae"] / m["naive_mae"]
    verdict = "beats" if ratio < 0.98 else ("ties with" if ratio < 1.02 else "loses to")
    print(f"verdict: the model {verdict} the random walk (MAE ratio {ratio:.3f}). Prices follow a near random walk;"
          " do not trade on this.")


if __name__ == "__main__":
    main()
