"""Metrics and baselines against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.forecast import baselines as B
from rnnkit.forecast import metrics as M


def test_point_metrics():
    y, p = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
    assert M.mae(y, p) == pytest.approx(1.0)
    assert M.mse(y, p) == pytest.approx(5 / 3)
    assert M.rmse(y, p) == pytest.approx(np.sqrt(5 / 3))
    assert M.smape(y, p) == pytest.approx((0 + 200 / 5 + 200 * 2 / 6) / 3)
    assert M.smape([0.0], [0.0]) == 0.0


def test_mase_owa_quantiles_coverage():
    hist = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 2.0])
    scale = M.seasonal_scale(hist, 3)  # |1-1|,|2-2|,|3-3|,|2-1| -> 0.25
    assert scale == pytest.approx(0.25)
    assert M.mase([2.0, 3.0], [2.5, 3.0], scale) == pytest.approx(1.0)
    assert M.owa(10, 1, 20, 2) == pytest.approx(0.5)
    y = np.array([0.0, 1.0])
    qv = np.array([[-1.0, 1.0], [0.0, 2.0]])  # (H, Q)
    assert M.quantile_loss(y, qv, [0.1, 0.9]) == pytest.approx(0.1)  # every error is 1 on the cheap side
    assert M.coverage(y, qv[:, 0], qv[:, 1]) == 1.0


def test_baselines():
    h = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_array_equal(B.naive(h, 2), [6, 6])
    np.testing.assert_array_equal(B.seasonal_naive(h, 5, 3), [4, 5, 6, 4, 5])
    np.testing.assert_allclose(B.drift(h, 2), [7, 8])
    with pytest.raises(ValueError, match="horizon must be a positive integer, got 0"):
        B.naive(h, 0)


def test_naive2_reseasonalises_a_seasonal_series():
    t = np.arange(24 * 10)
    season = 1 + 0.5 * np.sin(2 * np.pi * t / 24)
    y = 100 * season
    assert B.seasonality_test(y, 24)
    f = B.naive2(y, 24, 24)
    np.testing.assert_allclose(f, y[-24:], rtol=1e-6)  # pure multiplicative season: Naive2 is exact
    rng = np.random.default_rng(0)
    false_alarms = np.mean([B.seasonality_test(rng.normal(size=300), 24) for _ in range(200)])
    assert false_alarms < 0.2  # a 90% test on white noise
