"""Tiny series and settings shared by the forecasting tests (one CPU thread: the machine is shared)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

TINY = dict(input_size=12, horizon=4, hidden_size=8, epochs=2, batch_size=64, num_threads=1, device="cpu")


def make_long(n_series: int = 2, n: int = 60, freq: str = "h", covariates: bool = False, seed: int = 0) -> pd.DataFrame:
    """Seasonal series (period 6) in long format, optionally with past / future / static covariates."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_series):
        t = np.arange(n)
        d = {"unique_id": f"s{i}", "ds": pd.date_range("2024-01-01", periods=n, freq=freq),
             "y": 10 * (i + 1) + np.sin(2 * np.pi * t / 6) + 0.1 * rng.normal(size=n)}
        if covariates:
            d["load"] = rng.normal(size=n)
            d["hour"] = (t % 6).astype(float)
            d["size"] = float(i)
        parts.append(pd.DataFrame(d))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def long_df() -> pd.DataFrame:
    return make_long()
