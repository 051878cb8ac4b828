"""Built-in demo time series that load offline from installed packages (pmdarima, statsmodels).

Each loader returns a long frame with columns ``ds`` and ``y`` (one series, Nixtla's convention without an id).
"""

from __future__ import annotations

import pandas as pd


def load_taylor() -> pd.DataFrame:
    """Half-hourly electricity demand in England and Wales, Monday 5 June to Sunday 27 August 2000 (12 weeks,
    4,032 points, daily and weekly cycles; Taylor 2003, via pmdarima). pmdarima ships the values only; the
    timestamps here follow the dates of the original study."""
    from pmdarima.datasets import load_taylor as _load

    y = _load(as_series=False)
    return pd.DataFrame({"ds": pd.date_range("2000-06-05", periods=len(y), freq="30min"), "y": y.astype(float)})


def load_co2() -> pd.DataFrame:
    """Weekly atmospheric CO2 at Mauna Loa, 1958-2001, in ppm (statsmodels); the 59 missing weeks stay NaN
    (pass ``fill="interpolate"`` to fit)."""
    import statsmodels.api as sm

    d = sm.datasets.co2.load_pandas().data
    return pd.DataFrame({"ds": d.index, "y": d["co2"].to_numpy(float)})


def load_msft() -> pd.DataFrame:
    """Microsoft daily closing prices, 1986-03-13 to 2017-11-10 (trading days only; pmdarima)."""
    from pmdarima.datasets import load_msft as _load

    d = _load()
    return pd.DataFrame({"ds": pd.to_datetime(d["Date"]), "y": d["Close"].to_numpy(float)})
