"""Benchmark data checks: M4 Naive2 reproduces the organisers' numbers (fast); an ETTh1 run is marked slow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rnnkit.forecast import baselines as B
from rnnkit.forecast import metrics as M


def test_m4_hourly_naive2_matches_the_published_scores(shared_data):
    from rnnkit.datasets.m4 import load_m4

    train, test = load_m4("Hourly", shared_data)
    assert len(train) == len(test) == 414
    smape = np.mean([M.smape(test[k], B.naive2(v, 48, 24)) for k, v in train.items()])
    mase = np.mean([M.mase(test[k], B.naive2(v, 48, 24), M.seasonal_scale(v, 24)) for k, v in train.items()])
    assert round(smape, 3) == 18.383 and round(mase, 3) == 2.395


def test_ett_split_sizes(shared_data):
    from rnnkit.datasets.ett import ett_splits

    sp = ett_splits("ETTh1", 96, shared_data)
    assert sp["train"].shape == (8640, 7) and sp["val"].shape == (2976, 7) and sp["test"].shape == (2976, 7)
    np.testing.assert_allclose(sp["train"].mean(0), 0, atol=1e-5)
    # the test rows start input_size hours before the test months (12 + 4 months of 30 days after the first hour)
    assert sp["test_dates"].shape == (2976,)
    assert (sp["test_dates"][96] - sp["train_dates"][0]) == np.timedelta64(16 * 30 * 24, "h")


@pytest.mark.slow
def test_etth1_segrnn_beats_repeating_the_last_value(shared_data):
    from rnnkit.datasets.ett import CHANNELS, ett_splits
    from rnnkit.forecast import Forecaster

    sp = ett_splits("ETTh1", 96, shared_data)
    wide = {k: pd.DataFrame(v, columns=CHANNELS).assign(ds=np.arange(len(v))) for k, v in sp.items() if not k.endswith("dates")}
    f = Forecaster("segrnn", input_size=96, horizon=96, epochs=3, dropout=0.5, lr=5e-4, num_threads=1)
    f.fit(wide["train"], val_data=wide["val"])
    m = f.backtest(wide["test"], start=96).metrics
    assert m["mse"] < 0.45 < m["naive_mse"]
