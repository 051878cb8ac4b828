"""M4 competition files (Makridakis et al. 2020): wide csv, one series a row (id, then values, ragged)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from rnnkit.datasets.ett import data_dir

# Horizon and seasonality per M4 subset (the competition's M4-info.csv).
M4_INFO = {"Hourly": (48, 24), "Daily": (14, 1), "Weekly": (13, 1), "Monthly": (18, 12), "Quarterly": (8, 4),
           "Yearly": (6, 1)}


def read_m4_file(path) -> dict[str, np.ndarray]:
    """``{id: values}`` from one M4 csv (trailing empty cells dropped)."""
    df = pd.read_csv(path)
    ids = df.iloc[:, 0].astype(str).to_numpy()
    vals = df.iloc[:, 1:].to_numpy(np.float64)
    return {i: v[~np.isnan(v)] for i, v in zip(ids, vals)}


def load_m4(subset: str = "Hourly", data: str | os.PathLike | None = None
            ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(train, test)`` dicts of series for an M4 subset from ``data/M4``."""
    if subset not in M4_INFO:
        raise ValueError(f"subset must be one of {list(M4_INFO)}, got {subset!r}")
    d = data_dir(data) / "M4"
    train, test = d / f"{subset}-train.csv", d / f"{subset}-test.csv"
    for p in (train, test):
        if not p.exists():
            raise ValueError(f"{p.name} not found in {d}")
    return read_m4_file(train), read_m4_file(test)


def m4_long(series: dict[str, np.ndarray]) -> pd.DataFrame:
    """Series dict -> long frame ``unique_id, ds, y`` with integer time steps."""
    return pd.DataFrame({"unique_id": np.repeat(list(series), [len(v) for v in series.values()]),
                         "ds": np.concatenate([np.arange(len(v)) for v in series.values()]),
                         "y": np.concatenate(list(series.values()))})
