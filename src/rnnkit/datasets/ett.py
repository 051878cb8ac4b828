"""ETT (Electricity Transformer Temperature; Zhou et al., Informer, AAAI 2021) with the standard split.

The long-horizon protocol used by Informer, Autoformer, DLinear, PatchTST and SegRNN: 12 / 4 / 4 months for
train / validation / test (ETTh: 8,640 / 2,880 / 2,880 rows; ETTm four times as many), z-scored with the training
mean and std, validation and test windows starting ``input_size`` rows before their split.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

CHANNELS = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]


def data_dir(data: str | os.PathLike | None) -> Path:
    """The benchmark data folder: ``data``, else ``$RNNKIT_DATA``; a clear error when neither is given."""
    d = data or os.environ.get("RNNKIT_DATA")
    if not d:
        raise ValueError("no data folder: pass --data DIR or set the RNNKIT_DATA environment variable")
    d = Path(d)
    if not d.is_dir():
        raise ValueError(f"data folder {d} does not exist")
    return d


def load_ett(name: str = "ETTh1", data: str | os.PathLike | None = None) -> pd.DataFrame:
    """The raw frame (``date`` + 7 channels) of ETTh1 / ETTh2 / ETTm1 / ETTm2 from ``data/ETT``."""
    d = data_dir(data) / "ETT"
    for p in (d / f"{name}.csv", d / f"{name}.csv.gz"):
        if p.exists():
            return pd.read_csv(p, parse_dates=["date"])
    raise ValueError(f"{name}.csv(.gz) not found in {d}")


def ett_splits(name: str = "ETTh1", input_size: int = 96, data=None) -> dict[str, np.ndarray]:
    """``{"train", "val", "test"}`` arrays ``(T, 7)``, z-scored with train stats; val / test include the
    ``input_size`` rows before them (so every window whose forecast starts in the split is present).
    ``"train_dates"``, ``"val_dates"``, ``"test_dates"``: the timestamps of those rows, ``(T,)`` datetime64."""
    df = load_ett(name, data)
    month = 30 * 24 * (4 if name.startswith("ETTm") else 1)
    n_train, n_val, n_test = 12 * month, 4 * month, 4 * month
    x = df[CHANNELS].to_numpy(np.float64)
    mean, std = x[:n_train].mean(0), x[:n_train].std(0)
    z = ((x - mean) / std).astype(np.float32)
    rows = {"train": slice(0, n_train), "val": slice(n_train - input_size, n_train + n_val),
            "test": slice(n_train + n_val - input_size, n_train + n_val + n_test)}
    dates = df["date"].to_numpy()
    return {**{k: z[r] for k, r in rows.items()}, **{f"{k}_dates": dates[r] for k, r in rows.items()}}
