"""Argument checks shared by the Forecaster's public methods: each failure is a ValueError that says what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnkit.forecast.frames import SeriesSet, _fmt, _parse_times, future_index

# Season length by the base of a pandas frequency alias (hourly data repeats daily, and so on).
SEASONS = {"min": 60, "h": 24, "D": 7, "B": 5, "W": 52, "M": 12, "ME": 12, "MS": 12, "Q": 4, "QE": 4, "QS": 4}


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def season_for(freq: str | int) -> int:
    """Default season length for a frequency: a day of sub-daily steps, a week of days, a year of months; 1 for ints."""
    if not isinstance(freq, str):
        return 1
    off = pd.tseries.frequencies.to_offset(freq)
    n, base = off.n, (off.rule_code if hasattr(off, "rule_code") else off.name).split("-")[0]
    if base in ("min", "T"):
        return max(1, 24 * 60 // n) if 24 * 60 % n == 0 else 1
    if base in ("h", "H"):
        return max(1, 24 // n) if 24 % n == 0 else 1
    if base in ("s", "S"):
        return max(1, 86400 // n) if 86400 % n == 0 else 1
    return SEASONS.get(base, 1) if n == 1 else 1


def check_lengths(s: SeriesSet, need: int, what: str,
                  fix: str = "lower input_size or horizon, or drop the short series") -> None:
    """Raise ValueError naming the first series shorter than ``need`` points, with ``fix`` as the advice."""
    for uid, v in zip(s.ids, s.values):
        if len(v) < need:
            raise ValueError(f"series {uid!r} has {len(v)} points; {what} needs at least {need} ({fix})")


def check_positive_target(s: SeriesSet, target: str = "y", time_col: str = "ds") -> None:
    """``transform="log"`` needs every target value > 0: name the first series and time step that is not."""
    for uid, v, t in zip(s.ids, s.values, s.times):
        bad = np.flatnonzero(v <= 0)
        if len(bad):
            k = int(bad[0])
            raise ValueError(f"transform='log' needs a positive target, but series {uid!r} has {target}={v[k]:g} at "
                             f"{time_col}={_fmt(t[k])} ({len(bad)} value(s) <= 0); use transform='none', or shift "
                             "the series above zero before fitting")


def future_block(s: SeriesSet, future_covariates, horizon: int, time_col: str, id_col: str) -> list[np.ndarray]:
    """Future covariate values ``(horizon, Cf)`` after the end of each series, from a long frame.

    Raises ValueError when they are missing or do not reach over the whole horizon.
    """
    cols = s.future_cols
    if not cols:
        return [np.zeros((horizon, 0), np.float32) for _ in s.ids]
    if future_covariates is None:
        raise ValueError(f"this model uses future covariates {cols}: pass future_covariates= a frame with columns "
                         f"{[id_col, time_col] + cols} for the {horizon} steps after each series' end")
    f = future_covariates
    if not isinstance(f, pd.DataFrame):
        raise ValueError(f"future_covariates must be a pandas DataFrame, got {type(f).__name__}")
    missing = [c for c in [time_col] + cols if c not in f.columns]
    if missing:
        raise ValueError(f"future_covariates is missing column(s) {missing}; columns are {list(f.columns)}")
    f = f.copy()
    f[time_col] = _parse_times(f[time_col], time_col)[0] if s.is_datetime else f[time_col].astype("int64")
    if id_col not in f.columns:
        f[id_col] = s.ids[0] if len(s.ids) == 1 else None
    f[id_col] = f[id_col].astype(str)
    out = []
    for i, uid in enumerate(s.ids):
        want = future_index(s.times[i][-1], s.freq, horizon)
        g = f[f[id_col] == uid].drop_duplicates(time_col).set_index(time_col).reindex(want)[cols]
        bad = g.isna().any(axis=1).to_numpy() | ~np.isfinite(g.to_numpy(dtype="float64")).all(axis=1)
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(f"future covariates of series {uid!r} do not reach over the horizon: no value at "
                             f"{time_col}={_fmt(want[k])} (the forecast needs them up to {time_col}={_fmt(want[-1])}, "
                             f"horizon {horizon})")
        out.append(g.to_numpy(dtype=np.float32))
    return out
