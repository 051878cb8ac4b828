"""Forecast accuracy metrics on numpy arrays ``y, yhat (..., H)``; each returns the mean over all entries.

sMAPE, MASE and OWA follow the M4 competition definitions (Makridakis et al. 2020): sMAPE in percent,
``200 |y - yhat| / (|y| + |yhat|)``; MASE divides by the in-sample MAE of the seasonal naive forecast;
``OWA = (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``.
"""

from __future__ import annotations

import numpy as np


def mae(y, yhat) -> float:
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(yhat))))


def mse(y, yhat) -> float:
    return float(np.mean((np.asarray(y) - np.asarray(yhat)) ** 2))


def rmse(y, yhat) -> float:
    return float(np.sqrt(mse(y, yhat)))


def smape(y, yhat) -> float:
    """Symmetric MAPE in percent (0..200); entries where both are 0 count as 0."""
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    den = np.abs(y) + np.abs(yhat)
    return float(np.mean(np.where(den > 0, 200.0 * np.abs(y - yhat) / np.where(den > 0, den, 1.0), 0.0)))


def seasonal_scale(history, season_length: int) -> float:
    """In-sample MAE of the seasonal naive forecast, the MASE denominator (falls back to lag 1 when too short)."""
    h = np.asarray(history, np.float64)
    m = season_length if len(h) > season_length else 1
    if len(h) <= m:
        raise ValueError(f"MASE needs more than {m} history points, got {len(h)}")
    return float(np.mean(np.abs(h[m:] - h[:-m])))


def mase(y, yhat, scale) -> float:
    """Mean absolute scaled error; ``scale`` is a float or one value per row of ``y`` (..., H)."""
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    scale = np.asarray(scale, np.float64)
    if scale.ndim:
        scale = scale.reshape(scale.shape + (1,) * (y.ndim - scale.ndim))
    err = np.abs(y - yhat) / np.where(scale > 0, scale, np.nan)
    return float(np.nanmean(err))


def owa(smape_model: float, mase_model: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average relative to Naive2 (M4)."""
    return 0.5 * (smape_model / smape_naive2 + mase_model / mase_naive2)


def quantile_loss(y, qvalues, quantiles) -> float:
    """Mean pinball loss over quantile levels; ``qvalues (..., H, Q)``, ``quantiles (Q,)``."""
    y = np.asarray(y, np.float64)[..., None]
    q = np.asarray(quantiles, np.float64)
    e = y - np.asarray(qvalues, np.float64)
    return float(np.mean(np.maximum(q * e, (q - 1) * e)))


def coverage(y, lower, upper) -> float:
    """Share of ``y`` inside ``[lower, upper]``."""
    y = np.asarray(y)
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))
