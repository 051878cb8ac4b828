"""Backtesting: forecast every window from a start point on, score it, and compare with seasonal naive.

All windows are gathered from one flat tensor and predicted in large batches (no refit), so a stride-1 backtest over
thousands of windows takes seconds. ``refit=True`` trains a fresh model before each forecast origin instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from rnnkit.forecast import metrics as M
from rnnkit.forecast.frames import SeriesSet, _fmt, time_name, to_frame


@dataclass
class BacktestResult:
    """Per-window scores, overall ``metrics`` (flat dict) and, built on demand, the long ``forecasts`` frame."""

    windows: pd.DataFrame  # one row per window: id, cutoff, mae, mse, smape, mase and naive_ versions
    metrics: dict[str, float]  # means over windows, e.g. mae, mse, rmse, smape, mase, naive_mae, coverage_0.1_0.9
    _parts: dict = field(default_factory=dict, repr=False)

    def array(self, name: str) -> np.ndarray:
        """``(windows, H)`` matrix of ``"y"`` (actuals), ``"yhat"`` (point forecasts) or ``"naive"``, rows in the
        order of ``windows``: the compact form of ``forecasts``, e.g. for averaging the forecasts of several models."""
        if name not in ("y", "yhat", "naive"):
            raise ValueError(f"name must be 'y', 'yhat' or 'naive', got {name!r}")
        return self._parts[name]

    @property
    def forecasts(self) -> pd.DataFrame:
        """Long frame: unique_id, cutoff, ds, y, yhat, yhat_q..., naive (one row per window and step)."""
        p = self._parts
        N, H = p["y"].shape
        cols = {"unique_id": np.repeat(self.windows["unique_id"].to_numpy(), H),
                "cutoff": np.repeat(self.windows["cutoff"].to_numpy(), H), "ds": p["ds"].reshape(-1),
                "y": p["y"].reshape(-1), "yhat": p["yhat"].reshape(-1)}
        for j, q in enumerate(p["quantiles"]):
            if q in p["asked"]:
                cols[f"yhat_q{q:g}"] = p["qv"][..., j].reshape(-1)
        cols["naive"] = p["naive"].reshape(-1)
        return pd.DataFrame(cols)


def start_rows(s: SeriesSet, start) -> np.ndarray:
    """Per-series row index of the first forecast step: ``start`` is a row index (int) or a timestamp."""
    if isinstance(start, (int, np.integer)) and not isinstance(start, bool) and not s.is_datetime:
        return np.array([int(np.searchsorted(np.asarray(t), start)) for t in s.times])
    if isinstance(start, (int, np.integer)) and not isinstance(start, bool):
        return np.array([start if start >= 0 else len(v) + start for v in s.values])
    if isinstance(start, str) and start.lstrip("-").isdigit():
        return start_rows(s, int(start))
    if not s.is_datetime:
        raise ValueError(f"start must be an integer for integer time steps, got {start!r}")
    try:  # as the data's dates were read: 01.03.2024 is the 1st of March when they were day first
        dayfirst = s.dayfirst and isinstance(start, str) and not re.match(r"\s*\d{4}", start)  # not ISO 8601
        ts = pd.Timestamp(pd.to_datetime(start, dayfirst=True) if dayfirst else start)
    except (ValueError, TypeError):
        raise ValueError(f"start must be a row index or a timestamp, got {start!r}") from None
    if ts.tz is not None:  # the data's times are UTC without a zone (see rnnkit.forecast.frames)
        ts = ts.tz_convert(None)
    return np.array([int(np.searchsorted(t, ts)) for t in s.times])


def _seasonal(flat_y: np.ndarray, offsets, lengths, sid, end, H: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal naive forecasts ``(N, H)`` and MASE scales ``(N,)`` (in-sample, history before each window)."""
    base = offsets[sid] + end
    k = np.arange(H)
    lag = np.where(end >= m, m, 1)[:, None]  # too short a history: plain naive
    naive = flat_y[base[:, None] - lag + (k[None, :] % lag)]
    scales = np.empty(len(sid))
    for i in np.unique(sid):
        y = flat_y[offsets[i]:offsets[i] + lengths[i]].astype(np.float64)
        mm = m if lengths[i] > m else 1
        cs = np.concatenate([[0.0], np.cumsum(np.abs(y[mm:] - y[:-mm]))])  # cs[j] = sum of the first j errors
        sel = sid == i
        e = end[sel]
        scales[sel] = cs[np.maximum(e - mm, 0)] / np.maximum(e - mm, 1)
    return naive, scales


def run_backtest(f, s: SeriesSet, start, stride: int, refit: bool, raw_data=None) -> BacktestResult:
    """See :meth:`rnnkit.forecast.Forecaster.backtest`."""
    from rnnkit.forecast.windows import window_ends

    L, H, m = f.input_size, f.horizon, f.season_length_
    lengths = np.array([len(v) for v in s.values])
    first = start_rows(s, start)
    sid, end = window_ends(lengths, L, H, first=first, stride=stride)
    if len(sid) == 0:
        raise ValueError(f"no complete window has its forecast start at or after {start!r}: each needs "
                         f"input_size={L} rows before it and horizon={H} rows from it (series lengths "
                         f"{int(lengths.min())}..{int(lengths.max())})")
    flat = f._flat(s)
    if refit:
        out = _refit_outputs(f, s, sid, end)
    else:
        out = f._run(flat, torch.from_numpy(sid), torch.from_numpy(end), H, torch.from_numpy(f._sid(s)))
    yhat = f.spec_.point(torch.from_numpy(out)).numpy()  # (N, H)
    qv = f.spec_.quantile_values(out)
    fy = flat.y.numpy()
    offsets, lens = flat.offsets.numpy(), flat.lengths.numpy()
    at = (offsets[sid] + end)[:, None] + np.arange(H)  # (N, H) flat positions of the forecast steps
    y = fy[at]  # (N, H)
    # values made up by ``fill`` are not scored: a forecast is not wrong for missing what nobody measured
    observed = ~np.concatenate(s.filled)[at] if s.filled else np.ones_like(y, bool)  # (N, H)
    naive, scale = _seasonal(fy, offsets, lens, sid, end, H, m)
    ds = np.stack([np.asarray(s.times[i][e:e + H]) for i, e in zip(sid, end)])
    w = pd.DataFrame({"unique_id": np.asarray(s.ids)[sid], "cutoff": [s.times[i][e - 1] for i, e in zip(sid, end)]})
    # A scale at rounding level (a series that repeats exactly, up to float error) leaves MASE undefined, not huge.
    scale = np.where(scale > 1e-6 * (np.abs(y).mean(1) + 1e-12), scale, np.nan)  # (N,)
    def mean(v):  # (N, H) -> (N,) over the observed steps; NaN for a window with none
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(observed, v, 0).sum(1) / observed.sum(1)

    for name, pred in (("", yhat), ("naive_", naive)):
        err = pred - y
        w[name + "mae"] = mean(np.abs(err))
        w[name + "mse"] = mean(err ** 2)
        den = np.abs(y) + np.abs(pred)
        w[name + "smape"] = mean(np.where(den > 0, 200 * np.abs(err) / np.where(den > 0, den, 1), 0))
        w[name + "mase"] = mean(np.abs(err)) / scale
    metrics = {"n_windows": float(len(w)), "filled_steps_not_scored": float((~observed).sum())}
    for c in ("mae", "mse", "smape", "mase"):
        metrics[c] = _finite_mean(w[c])
    metrics["rmse"] = float(np.sqrt(metrics["mse"]))
    for c in ("mae", "mse", "smape", "mase"):
        metrics["naive_" + c] = _finite_mean(w["naive_" + c])
    qs = f.spec_.quantiles
    if len(qs) >= 2:
        metrics["quantile_loss"] = M.quantile_loss(y[observed], qv[observed], qs)
        lo, hi = qs[0], qs[-1]
        metrics[f"coverage_{lo:g}_{hi:g}"] = M.coverage(y[observed], qv[observed][:, 0], qv[observed][:, -1])
    parts = {"y": y, "yhat": yhat, "qv": qv, "quantiles": qs, "asked": f.quantiles, "naive": naive, "ds": ds}
    return BacktestResult(windows=w, metrics=metrics, _parts=parts)


def _finite_mean(values) -> float:
    """Mean over the windows where the metric is defined; NaN (JSON null) where it is defined for none, as MASE is
    for a series whose in-sample seasonal naive error is 0."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def _refit_outputs(f, s: SeriesSet, sid: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Refit a fresh model at each forecast origin (by timestamp) on the data before it, then predict."""
    from rnnkit.forecast.forecaster import Forecaster

    cols = f.columns_
    frame_cols = {"target": cols["target"], "time_col": time_name(cols["time_col"]), "id_col": cols["id_col"]}
    out = np.zeros((len(sid), f.horizon, f.spec_.size), np.float32)
    cutoffs = np.array([s.times[i][e] for i, e in zip(sid, end)])
    for c in pd.unique(cutoffs):
        sel = np.flatnonzero(cutoffs == c)
        keep = [int(np.searchsorted(s.times[i], c)) for i in range(len(s))]
        short = [u for u, k in zip(s.ids, keep) if k < f.input_size + f.horizon]
        if short:
            raise ValueError(f"refit at {_fmt(c)}: series {short[0]!r} has too little history before it to train")
        cut = SeriesSet(ids=s.ids, freq=s.freq, has_id=s.has_id, static=s.static, times=[t[:k] for t, k in
                        zip(s.times, keep)], values=[v[:k] for v, k in zip(s.values, keep)],
                        past=[p[:k] for p, k in zip(s.past, keep)], future=[g[:k] for g, k in zip(s.future, keep)],
                        past_cols=s.past_cols, future_cols=s.future_cols, static_cols=s.static_cols)
        g = Forecaster(**f.get_params()).fit(to_frame(cut, **frame_cols), **{k: v for k, v in cols.items()})
        fut = [s.future[i][keep[i]:keep[i] + f.horizon] for i in range(len(s))]
        res = g._predict_set(cut, fut, f.horizon)  # (S, H, K)
        out[sel] = res[sid[sel]]
    return out
