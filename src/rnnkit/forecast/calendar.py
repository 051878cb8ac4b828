"""Calendar features: where each time step falls in the day, the week and the year, as sine / cosine pairs.

They are future covariates the model can always have: known for any date ahead, so ``predict`` computes them for
the horizon itself and the user passes nothing. They matter when a cycle is longer than the input window: with
96 hourly inputs (4 days) a network cannot see which day of the week the forecast starts on, and a weekly
pattern of demand over a 720-hour horizon depends on it (ETTh1 in benchmarks/forecast/RESULTS.md; on ETTh2 they
did not help, so they are an option, off by default).

The phase of a timestamp in a cycle is how far into the cycle it falls, a fraction in [0, 1); its features are
``sin(2 pi phase)`` and ``cos(2 pi phase)``, so the last hour of a week sits next to the first. Phases are read
from the timestamps as the data give them (times with a UTC offset are read as UTC, see
:mod:`rnnkit.forecast.frames`, so such data see a day in UTC, not local time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnkit.forecast.frames import SeriesSet


def _day(t: pd.DatetimeIndex) -> np.ndarray:
    return (t.hour.to_numpy() * 3600 + t.minute.to_numpy() * 60 + t.second.to_numpy()) / 86400


def _week(t: pd.DatetimeIndex) -> np.ndarray:
    return (t.day_of_week.to_numpy() + _day(t)) / 7


def _year(t: pd.DatetimeIndex) -> np.ndarray:
    return (t.day_of_year.to_numpy() - 1 + _day(t)) / np.where(t.is_leap_year, 366, 365)


CYCLES = {"day": _day, "week": _week, "year": _year}  # name -> phase of each timestamp in [0, 1)
CYCLE_SECONDS = {"day": 86400, "week": 7 * 86400, "year": 365 * 86400}


def default_cycles(freq: str | int) -> tuple[str, ...]:
    """The cycles ``calendar="auto"`` models at a frequency: the day and the week for steps shorter than a day,
    the week and the year for daily to weekly steps, the year for weekly to yearly steps; none for integer steps.
    (The year of hourly data is left out: a few years of training data sample it too thinly to learn from.)"""
    step = _step_seconds(freq)
    if step is None:
        return ()
    if step < CYCLE_SECONDS["day"]:
        return ("day", "week")
    if step < CYCLE_SECONDS["week"]:
        return ("week", "year")
    return ("year",) if step < CYCLE_SECONDS["year"] else ()


def resolve_calendar(calendar, freq: str | int) -> tuple[str, ...]:
    """``calendar`` as given to the Forecaster (None / False, True / ``"auto"``, or cycle names) -> cycle names.

    Raises ValueError for unknown names, for integer time steps (no dates to read) and for a cycle no longer than
    one step (its features would be constant).
    """
    if calendar is None or calendar is False:
        return ()
    step = _step_seconds(freq)
    if step is None:
        raise ValueError(f"calendar features need dates in the time column, but its steps are integers (step "
                         f"{freq}); pass dates (e.g. 2024-01-31 13:00), or calendar=None")
    if calendar is True or calendar == "auto":
        return default_cycles(freq)
    names = check_calendar(calendar)
    short = [c for c in names if CYCLE_SECONDS[c] <= step]
    if short:
        raise ValueError(f"calendar cycle(s) {short} are no longer than one step ({freq}) of this data, so they "
                         f"would be constant; choose among {[c for c in CYCLES if CYCLE_SECONDS[c] > step]}")
    return names


def check_calendar(calendar) -> tuple[str, ...]:
    """Validate the Forecaster's ``calendar`` argument without data; returns the cycle names it lists (() for
    None / False / True / "auto", which need the data's frequency)."""
    if calendar is None or isinstance(calendar, bool) or calendar == "auto":
        return ()
    names = (calendar,) if isinstance(calendar, str) else tuple(calendar)
    bad = [c for c in names if c not in CYCLES]
    if bad or not names:
        raise ValueError(f"calendar must be None, True / 'auto', or cycle names among {list(CYCLES)}, "
                         f"got {calendar!r}")
    return names


def features(times: pd.Index, cycles: tuple[str, ...]) -> np.ndarray:
    """``times (T,)`` -> ``(T, 2 * len(cycles))`` float32: sin and cos of each cycle's phase."""
    t = pd.DatetimeIndex(times)
    cols = []
    for c in cycles:
        angle = 2 * np.pi * CYCLES[c](t)
        cols += [np.sin(angle), np.cos(angle)]
    return np.stack(cols, 1).astype(np.float32) if cols else np.zeros((len(t), 0), np.float32)


def feature_names(cycles: tuple[str, ...]) -> list[str]:
    return [f"{c}_{f}" for c in cycles for f in ("sin", "cos")]


def with_calendar(s: SeriesSet, cycles: tuple[str, ...]) -> SeriesSet:
    """``s`` with the calendar features of its own timestamps appended to its future covariates."""
    if not cycles:
        return s
    fut = [np.concatenate([f, features(t, cycles)], 1) for f, t in zip(s.future, s.times)]
    return SeriesSet(ids=s.ids, values=s.values, times=s.times, freq=s.freq, past=s.past, future=fut,
                     static=s.static, past_cols=s.past_cols, future_cols=s.future_cols + feature_names(cycles),
                     static_cols=s.static_cols, has_id=s.has_id, dayfirst=s.dayfirst, filled=s.filled)


def _step_seconds(freq: str | int) -> float | None:
    """Seconds in one step of a pandas frequency ("h", "30min", "D", "MS"); None for integer steps."""
    if not isinstance(freq, str):
        return None
    off = pd.tseries.frequencies.to_offset(freq)
    try:
        return pd.Timedelta(off).total_seconds()
    except ValueError:  # calendar offsets (month, quarter, year, business day) have no fixed length
        start = off.rollforward(pd.Timestamp("2001-01-01"))  # on the offset's anchor (a weekday, a month start)
        return ((start + 12 * off) - start).total_seconds() / 12
