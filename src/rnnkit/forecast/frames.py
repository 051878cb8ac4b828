"""Frames: turn what a user passes (long frame, wide frame, numpy array) into one validated :class:`SeriesSet`.

Formats accepted by ``Forecaster.fit`` / ``predict`` / ``backtest``:

* long (Nixtla's convention): columns ``unique_id, ds, y`` plus declared covariate columns, one row per (series, time);
  without ``unique_id`` the frame is one series;
* wide: a time column and one numeric column per series (no target column); blank cells before a column's first
  value or after its last mean that series starts later or ends earlier;
* numpy: ``(T,)`` for one series or ``(T, C)`` for C series, with integer time 0..T-1;
* without a time column (``time_col=None``, CLI ``--time-col none``): the rows of each series, in file order, are
  its steps 0, 1, 2, ..., and the time column of what comes out is named ``step`` (a ``step`` column already in
  the frame, such as one written by ``to_frame``, is used as it is).

``ds`` may hold dates (with a time zone: read as UTC) or integers. Every problem found here is a ValueError that
says where and what to do.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FILLS = ("ffill", "interpolate", "zero")
STEP = "step"  # the time column's name for data without one (time_col=None)


def time_name(time_col: str | None) -> str:
    """The time column's name in frames that come out: ``time_col``, or ``STEP`` for data without one."""
    return STEP if time_col is None else time_col


@dataclass
class SeriesSet:
    """Validated, regular, gap-free series sharing one frequency.

    Shape: ``values[i]`` (n_i,), ``times[i]`` (n_i,), ``past[i]`` (n_i, Cp), ``future[i]`` (n_i, Cf), ``static`` (S, Cs).
    """

    ids: list[str]  # one name per series, in sorted order
    values: list[np.ndarray]  # target, float32
    times: list[pd.Index]  # DatetimeIndex or integer Index, regular at `freq`
    freq: str | int  # pandas offset alias ("h", "30min") or the integer step
    past: list[np.ndarray] = field(default_factory=list)  # past covariates, known up to each time only
    future: list[np.ndarray] = field(default_factory=list)  # future covariates, known ahead of time
    static: np.ndarray | None = None  # one row per series
    past_cols: list[str] = field(default_factory=list)
    future_cols: list[str] = field(default_factory=list)
    static_cols: list[str] = field(default_factory=list)
    has_id: bool = True  # False for a single series given without an id column (output then has no id column)
    dayfirst: bool = False  # dates were read day first (31.01.2024), so a backtest start is read the same way
    filled: list[np.ndarray] = field(default_factory=list)  # (n_i,) bool: target values made up by ``fill``

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def is_datetime(self) -> bool:
        return isinstance(self.freq, str)

    def future_times(self, i: int, horizon: int) -> pd.Index:
        """The ``horizon`` timestamps after the end of series ``i``."""
        return future_index(self.times[i][-1], self.freq, horizon)


def future_index(last, freq: str | int, horizon: int) -> pd.Index:
    """Timestamps ``last + k * freq`` for k = 1..horizon."""
    if isinstance(freq, str):
        return pd.date_range(last, periods=horizon + 1, freq=freq)[1:]
    return pd.Index(int(last) + int(freq) * np.arange(1, horizon + 1), dtype="int64")


def _fmt(t) -> str:
    return str(t.isoformat() if hasattr(t, "isoformat") else t)


def _check_numeric(df: pd.DataFrame, col: str, what: str) -> None:
    s = df[col]
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        bad = s[pd.to_numeric(s, errors="coerce").isna() & s.notna()]
        example = f"; found {bad.iloc[0]!r} at row {bad.index[0]}" if len(bad) else ""
        if len(bad) and re.fullmatch(r"[-+]?[\d.,\s]*\d,\d+", str(bad.iloc[0]).strip()):
            example += " (a decimal comma or a thousands separator? write plain numbers such as 1234.5)"
        raise ValueError(f"{what} column {col!r} must be numeric, got dtype {s.dtype}{example}")


def _naive(s: pd.Series) -> pd.Series:
    """Times with a time zone as UTC without it: a daylight-saving change then leaves no gap or repeated hour."""
    return s.dt.tz_convert(None) if getattr(s.dt, "tz", None) is not None else s


def _parse_times(s: pd.Series, time_col: str) -> tuple[pd.Series, bool]:
    """``s`` as datetimes or int64 steps, and whether the dates were read day first (31.01.2024)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return _naive(s), False
    if pd.api.types.is_integer_dtype(s):
        return s.astype("int64"), False
    if pd.api.types.is_float_dtype(s) and np.all(np.isfinite(s)) and np.all(s == np.round(s)):
        return s.astype("int64"), False
    try:
        first = _naive(pd.to_datetime(s))
    except (ValueError, TypeError) as e:
        reason = str(e).splitlines()[0].split(". You might")[0]
    else:
        return _either_way(s, first)
    if "timezone" in reason:  # offsets that change with daylight saving (+01:00, then +02:00)
        return _naive(pd.to_datetime(s, utc=True)), False
    try:  # 31.01.2024: day-first dates, usual outside the US; month-first ones have already failed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _naive(pd.to_datetime(s, dayfirst=True)), True
    except (ValueError, TypeError):
        pass
    raise ValueError(f"time column {time_col!r} must hold dates or integers; could not parse it ({reason}); write "
                     f"dates as 2024-01-31 13:00 (ISO 8601), or give integer steps")


def _either_way(s: pd.Series, month_first: pd.Series) -> tuple[pd.Series, bool]:
    """Dates such as 01.02.2024 that read month first and day first: take day first for dotted dates (a German,
    Russian... habit; US dates use slashes) and otherwise the reading on a regular grid, so monthly 01/02/2024,
    01/03/2024... do not become days."""
    text = str(s.iloc[0]).strip()
    if not re.match(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}", text):  # ISO 8601 or words: one reading only
        return month_first, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            day_first = _naive(pd.to_datetime(s, dayfirst=True))
    except (ValueError, TypeError):
        return month_first, False
    if day_first.equals(month_first):
        return month_first, False
    regular = [infer_freq(pd.DatetimeIndex(np.unique(t.to_numpy()))) is not None for t in (month_first, day_first)]
    if text[2:3] == "." or (regular[1] and not regular[0]):
        return day_first, True
    return month_first, False


def _from_numpy(arr: np.ndarray, time_col: str) -> pd.DataFrame:
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"a numpy array must be (T,) or (T, C), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_):
        raise ValueError(f"the array must be numeric, got dtype {arr.dtype}")
    names = ["y"] if arr.shape[1] == 1 else [f"series_{j}" for j in range(arr.shape[1])]
    df = pd.DataFrame(arr, columns=names)
    df.insert(0, time_col, np.arange(len(df), dtype="int64"))
    return df


def _numbered(df: pd.DataFrame, id_col: str) -> pd.DataFrame:
    """``df`` with a first column ``STEP``: 0, 1, 2, ... down the rows of each series (of the whole frame when it
    has no ``id_col``)."""
    steps = df.groupby(id_col, sort=False).cumcount() if id_col in df.columns else np.arange(len(df))
    out = df.copy()
    out.insert(0, STEP, np.asarray(steps, dtype="int64"))
    return out


def _ticks(times: pd.Index) -> np.ndarray:
    """Time values as int64: nanoseconds for dates (any stored resolution), the integers themselves otherwise."""
    if isinstance(times, pd.DatetimeIndex):
        return np.asarray(times.values.astype("datetime64[ns]").astype(np.int64))
    return np.asarray(times, dtype=np.int64)


def infer_freq(times: pd.Index) -> str | int | None:
    """The regular step of sorted ``times``: a pandas alias, an int, or None when it is irregular or too short."""
    if len(times) < 2:
        return None
    if isinstance(times, pd.DatetimeIndex):
        if len(times) >= 3:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = pd.infer_freq(times)
            if f is not None:
                return f if isinstance(f, str) else f.freqstr
        steps = np.unique(np.diff(_ticks(times)))
        if len(steps) == 1:
            return pd.tseries.frequencies.to_offset(pd.Timedelta(int(steps[0]), "ns")).freqstr
        return None
    steps = np.unique(np.diff(np.asarray(times)))
    return int(steps[0]) if len(steps) == 1 and steps[0] > 0 else None


def _mode_step(times: pd.Index) -> str | int:
    """The most common step of ``times`` as a pandas alias (dates) or an int."""
    dt = isinstance(times, pd.DatetimeIndex)
    d = np.diff(_ticks(times))
    vals, counts = np.unique(d, return_counts=True)
    step = vals[np.argmax(counts)]
    return pd.tseries.frequencies.to_offset(pd.Timedelta(int(step), "ns")).freqstr if dt else int(step)


def _irregular_error(uid: str, times: pd.Index, time_col: str) -> ValueError:
    d = np.diff(_ticks(times))
    vals, counts = np.unique(d, return_counts=True)
    step = vals[np.argmax(counts)]
    k = int(np.argmax(d != step))
    fmt = (lambda v: str(pd.Timedelta(int(v), "ns"))) if isinstance(times, pd.DatetimeIndex) else str
    return ValueError(
        f"irregular timestamps in series {uid!r}: the usual step is {fmt(step)} but the step after "
        f"{time_col}={_fmt(times[k])} is {fmt(d[k])}; reindex to a regular grid or pass fill='ffill', 'interpolate' "
        f"or 'zero' (CLI --fill) to insert the missing steps and fill them")


def _fill(df: pd.DataFrame, cols: list[str], fill: str) -> pd.DataFrame:
    block = df[cols].astype("float64").replace([np.inf, -np.inf], np.nan)
    if fill == "ffill":
        block = block.ffill().bfill()
    elif fill == "interpolate":
        block = block.interpolate(limit_direction="both")
    else:
        block = block.fillna(0.0)
    df[cols] = block
    return df


def _regularize(uid: str, g: pd.DataFrame, time_col: str, freq, fill: str | None) -> pd.DataFrame:
    """Reindex one sorted series to its regular grid (only with ``fill``); otherwise irregular steps are errors."""
    times = pd.Index(g[time_col])
    if freq is not None and infer_freq(times) == freq or len(times) < 2:
        return g
    if fill is None:
        own = infer_freq(times)
        if own is not None:  # regular, but not at the step the model was fitted on
            raise ValueError(f"series {uid!r} steps every {own} but the model was fitted on steps of {freq}; give it "
                             f"data at that step (resample it), or fit a model on data like this")
        raise _irregular_error(uid, times, time_col)
    if isinstance(times, pd.DatetimeIndex):
        grid = pd.date_range(times[0], times[-1], freq=freq)
    else:
        grid = pd.Index(np.arange(times[0], times[-1] + 1, freq), dtype="int64")
    extra = times.difference(grid)
    if len(extra):
        hint = (f"round the time stamps to it (pandas: df[{time_col!r}] = df[{time_col!r}].dt.round({freq!r})) or "
                f"aggregate to it (df.resample({freq!r}, on={time_col!r}).mean())"
                if isinstance(times, pd.DatetimeIndex) else "put every time index on it")
        raise ValueError(f"series {uid!r} has {time_col}={_fmt(extra[0])} off its regular {freq} grid (which starts at "
                         f"{_fmt(times[0])}), so filling cannot place it; {hint} first")
    g = g.set_index(time_col).reindex(grid)
    g.index.name = time_col
    return g.reset_index()


def load_frame(data, *, target: str = "y", time_col: str | None = "ds", id_col: str = "unique_id",
               past_covariates=(), future_covariates=(), static_covariates=(), fill: str | None = None,
               freq: str | int | None = None) -> SeriesSet:
    """Validate ``data`` and split it into series. See the module docstring for the formats.

    Args:
        target: target column of a long frame.
        time_col / id_col: time and series-id columns; ``time_col=None``: no time column, the rows of each series
            are its steps 0, 1, ... in order (named ``step``).
        past_covariates / future_covariates / static_covariates: covariate columns of a long frame.
        fill: None (NaN, inf or missing steps are errors), ``"ffill"``, ``"interpolate"`` or ``"zero"``.
        freq: the expected step (from a fitted model); None infers it.
    """
    if fill is not None and fill not in FILLS:
        raise ValueError(f"fill must be one of {FILLS} (CLI --fill), or None to fill nothing, got {fill!r}")
    if time_col is None:
        time_col = STEP
        if isinstance(data, pd.DataFrame) and STEP not in data.columns:
            data = _numbered(data, id_col)
    covs = {"past": list(past_covariates or ()), "future": list(future_covariates or ()),
            "static": list(static_covariates or ())}
    declared = [c for v in covs.values() for c in v]
    twice = [c for i, c in enumerate(declared) if c in declared[:i] or c in (target, time_col, id_col)]
    if twice:
        raise ValueError(f"column {twice[0]!r} is declared twice (as a covariate and as the target, time, id or "
                         f"another covariate); give each column one role")
    if isinstance(data, np.ndarray):
        if declared:
            raise ValueError("covariates need a long DataFrame with named columns, not a numpy array")
        data = _from_numpy(data, time_col)
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame (long or wide) or a numpy array, got {type(data).__name__}")
    df = data
    if time_col not in df.columns:
        if isinstance(df.index, pd.DatetimeIndex) or df.index.name == time_col:
            df = df.rename_axis(time_col).reset_index()
        else:
            raise ValueError(f"time column {time_col!r} not found in data; columns are {list(df.columns)} "
                             f"(pass time_col=..., CLI --time-col; time_col=None, CLI --time-col none, when the "
                             f"rows in order are the steps)")
    if len(df) == 0:
        raise ValueError("data has no rows")
    for col, what in ((time_col, "time"), (id_col, "series id")):
        missing = df[col].isna().to_numpy() if col in df.columns else np.zeros(0, bool)
        if missing.any():
            raise ValueError(f"{what} column {col!r} has {int(missing.sum())} missing value(s), the first at row "
                             f"{df.index[np.argmax(missing)]}; drop those rows or fill them in")
    has_id, wide = id_col in df.columns, False
    if has_id or target in df.columns:  # long format
        need = [time_col, target] + declared
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise ValueError(f"column(s) {missing} not found in data; columns are {list(df.columns)}")
        unused = [c for c in df.columns if c not in need + [id_col]]
        if unused:
            hint = "" if has_id else (f"; if one of them is the series id, name it (id_col=..., CLI --id-col): "
                                      f"there is no column {id_col!r}")
            raise ValueError(f"column(s) {unused} are not used: declare them as past_covariates, future_covariates "
                             f"or static_covariates, or drop them (CLI: --ignore){hint}")
        df = df.copy() if has_id else df.assign(**{id_col: target})
    else:  # wide: every other column is a series
        if declared:
            raise ValueError(f"target column {target!r} not found in data; a wide frame (one column per series) "
                             f"cannot carry covariates; columns are {list(df.columns)}")
        value_cols = [c for c in df.columns if c != time_col]
        if not value_cols:
            raise ValueError(f"target column {target!r} not found in data; columns are {list(df.columns)}")
        for c in value_cols:
            _check_numeric(df, c, "series")
        df = df.melt(id_vars=[time_col], value_vars=value_cols, var_name=id_col, value_name=target)
        has_id, wide = len(value_cols) > 1 or value_cols[0] != target, True
    _check_numeric(df, target, "target")
    for c in declared:
        _check_numeric(df, c, "covariate")
    df[time_col], dayfirst = _parse_times(df[time_col], time_col)
    df[id_col] = df[id_col].astype(str)
    df = df.sort_values([id_col, time_col], kind="stable")
    dup = df.duplicated([id_col, time_col])
    if dup.any():
        row = df[dup].iloc[0]
        n = int(((df[id_col] == row[id_col]) & (df[time_col] == row[time_col])).sum())
        raise ValueError(f"duplicate timestamps in series {row[id_col]!r}: {time_col}={_fmt(row[time_col])} appears "
                         f"{n} times")
    if wide:  # blank cells before a column's first value or after its last: that series starts later or ends earlier
        df = df[_within_values(df[target], df[id_col])]
    s = _split(df, target, time_col, id_col, covs, fill, freq, has_id)
    s.dayfirst = dayfirst
    return s


def _within_values(y: pd.Series, ids: pd.Series) -> pd.Series:
    """Rows of time-sorted series from each one's first finite value to its last (all rows where it has none)."""
    ok = pd.Series(np.isfinite(y.to_numpy(dtype="float64")), index=y.index)
    started = ok.groupby(ids).cummax()
    not_ended = ok[::-1].groupby(ids[::-1]).cummax()[::-1]
    return (started & not_ended) | ~ok.groupby(ids).transform("any")


def _split(df, target, time_col, id_col, covs, fill, freq, has_id) -> SeriesSet:
    groups = [(str(uid), g) for uid, g in df.groupby(id_col, sort=True)]
    if freq is None:
        found = {}
        for uid, g in groups:
            f = infer_freq(pd.Index(g[time_col]))
            if f is None and len(g) >= 2 and fill is None:
                raise _irregular_error(uid, pd.Index(g[time_col]), time_col)
            if f is not None:
                found.setdefault(f, uid)
        if len(found) > 1:
            raise ValueError(f"series have different frequencies: {', '.join(f'{u!r} is {f}' for f, u in found.items())}")
        if not found and fill is not None:  # irregular everywhere: take the most common step of the longest series
            found = {_mode_step(pd.Index(max(groups, key=lambda x: len(x[1]))[1][time_col])): None}
        freq = next(iter(found)) if found else (1 if not pd.api.types.is_datetime64_any_dtype(df[time_col]) else "D")
    out = SeriesSet(ids=[], values=[], times=[], freq=freq, past_cols=covs["past"], future_cols=covs["future"],
                    static_cols=covs["static"], has_id=has_id)
    statics = []
    value_cols = [target] + covs["past"] + covs["future"]
    for uid, g in groups:
        g = _regularize(uid, g, time_col, freq, fill)
        block = g[value_cols].to_numpy(dtype="float64")
        bad = ~np.isfinite(block)
        if bad.any():
            empty = np.flatnonzero(bad.all(0))  # columns with no value to fill from
            r, c = (0, int(empty[0])) if len(empty) else np.argwhere(bad)[0]
            what = "target" if c == 0 else f"covariate {value_cols[c]!r} of"
            if len(empty):  # neither fill nor training can use it
                raise ValueError(f"{what} series {uid!r} has no finite value at all ({len(block)} rows of NaN/inf); "
                                 f"drop it from the data")
            if fill is None:
                raise ValueError(
                    f"{what} series {uid!r} has {int(bad[:, c].sum())} NaN/inf value(s), the first at "
                    f"{time_col}={_fmt(g[time_col].iloc[r])}; clean them or pass fill='ffill', 'interpolate' or 'zero' "
                    f"(CLI: --fill)")
            g = _fill(g, value_cols, fill)
            block = g[value_cols].to_numpy(dtype="float64")
        out.filled.append(bad[:, 0].copy())
        out.ids.append(uid)
        out.values.append(block[:, 0].astype(np.float32))
        out.times.append(pd.Index(g[time_col]))
        out.past.append(block[:, 1:1 + len(covs["past"])].astype(np.float32))
        out.future.append(block[:, 1 + len(covs["past"]):].astype(np.float32))
        if covs["static"]:
            s = g[covs["static"]].dropna()
            varying = [c for c in covs["static"] if s[c].nunique() > 1]
            if varying:
                raise ValueError(f"static covariate {varying[0]!r} varies within series {uid!r}; static covariates "
                                 f"hold one value per series")
            if len(s) == 0:
                raise ValueError(f"static covariates of series {uid!r} are all missing")
            statics.append(s.iloc[0].to_numpy(dtype="float32"))
    out.static = np.stack(statics) if statics else np.zeros((len(out.ids), 0), np.float32)
    return out


def to_frame(s: SeriesSet, target: str = "y", time_col: str = "ds", id_col: str = "unique_id") -> pd.DataFrame:
    """A :class:`SeriesSet` back to a long frame (with its covariate columns)."""
    parts = []
    for i, uid in enumerate(s.ids):
        d = {id_col: uid, time_col: s.times[i], target: s.values[i]}
        d.update({c: s.past[i][:, j] for j, c in enumerate(s.past_cols)})
        d.update({c: s.future[i][:, j] for j, c in enumerate(s.future_cols)})
        d.update({c: s.static[i, j] for j, c in enumerate(s.static_cols)})
        parts.append(pd.DataFrame(d))
    out = pd.concat(parts, ignore_index=True)
    return out if s.has_id else out.drop(columns=[id_col])
