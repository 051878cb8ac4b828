"""Baseline forecasts of one history ``(n,)`` for ``horizon`` steps: naive, seasonal naive, drift and M4's Naive2.

statsforecast's models are used as further baselines when that optional extra is installed
(:func:`statsforecast_forecast`).
"""

from __future__ import annotations

import numpy as np


def _check(history, horizon: int) -> np.ndarray:
    h = np.asarray(history, np.float64)
    if h.ndim != 1 or len(h) == 0:
        raise ValueError(f"history must be a non-empty 1-D array, got shape {h.shape}")
    if horizon <= 0:
        raise ValueError(f"horizon must be a positive integer, got {horizon}")
    return h


def naive(history, horizon: int) -> np.ndarray:
    """Repeat the last value (the random walk forecast)."""
    h = _check(history, horizon)
    return np.full(horizon, h[-1])


def seasonal_naive(history, horizon: int, season_length: int) -> np.ndarray:
    """Repeat the last full season: ``yhat_{n+k} = y_{n+k-m*ceil(k/m)}``."""
    h = _check(history, horizon)
    if season_length <= 1 or len(h) < season_length:
        return naive(h, horizon)
    last = h[-season_length:]
    return last[np.arange(horizon) % season_length]


def drift(history, horizon: int) -> np.ndarray:
    """The last value plus the average change per step over the history."""
    h = _check(history, horizon)
    slope = (h[-1] - h[0]) / max(len(h) - 1, 1)
    return h[-1] + slope * np.arange(1, horizon + 1)


def _acf(x: np.ndarray, k: int) -> float:
    m = x.mean()
    return float(np.sum((x[:-k] - m) * (x[k:] - m)) / np.sum((x - m) ** 2))


def seasonality_test(history, season_length: int) -> bool:
    """M4's 90% autocorrelation test for seasonality at lag ``season_length``."""
    x = np.asarray(history, np.float64)
    m = season_length
    if m <= 1 or len(x) < 3 * m:
        return False
    acfs = np.array([_acf(x, k) for k in range(1, m + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acfs[:-1] ** 2)) / len(x))
    return bool(abs(acfs[-1]) > limit)


def seasonal_indices(history, season_length: int) -> np.ndarray:
    """Classical multiplicative decomposition indices ``(m,)``, aligned so index ``i`` is position ``i mod m``."""
    x = np.asarray(history, np.float64)
    m = season_length
    kernel = np.ones(m) / m
    if m % 2 == 0:  # centred 2 x m moving average
        kernel = np.convolve(np.ones(2) / 2, np.ones(m) / m)
    trend = np.convolve(x, kernel, mode="valid")
    off = (len(kernel) - 1) // 2
    ratio = x[off:off + len(trend)] / trend
    pos = (np.arange(len(ratio)) + off) % m
    idx = np.array([ratio[pos == i].mean() for i in range(m)])
    return idx / idx.mean()


def naive2(history, horizon: int, season_length: int) -> np.ndarray:
    """M4's Naive2: naive on the seasonally adjusted series when the seasonality test passes, then reseasonalised."""
    h = _check(history, horizon)
    if not seasonality_test(h, season_length):
        return naive(h, horizon)
    si = seasonal_indices(h, season_length)
    n = len(h)
    adjusted = h / si[np.arange(n) % season_length]
    return adjusted[-1] * si[np.arange(n, n + horizon) % season_length]


def statsforecast_forecast(history, horizon: int, season_length: int, model: str = "AutoETS") -> np.ndarray:
    """A statsforecast model's forecast (``pip install rnnkit[stats]``), e.g. ``"AutoETS"``, ``"MSTL"``."""
    try:
        import statsforecast.models as sfm
    except ImportError:
        raise ValueError("statsforecast is not installed: pip install 'rnnkit[stats]'") from None
    h = _check(history, horizon)
    if model == "MSTL":
        est = sfm.MSTL(season_length=season_length)
    else:
        est = getattr(sfm, model)(season_length=season_length)
    return np.asarray(est.forecast(y=h, h=horizon)["mean"], np.float64)
