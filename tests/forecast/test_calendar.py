"""Calendar features: their values, the cycles chosen per frequency, errors, and a Forecaster that uses them
(learns a weekly pattern its input window cannot show; predict computes them for the horizon; save / load)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from tests.forecast.conftest import TINY

from rnnkit.forecast import Forecaster
from rnnkit.forecast.calendar import default_cycles, features, resolve_calendar


def test_features_are_sine_and_cosine_of_the_phase():
    t = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 12:00", "2024-01-04 12:00", "2024-01-07 23:00"])
    x = features(t, ("day", "week"))  # 2024-01-01 is a Monday
    assert x.shape == (4, 4) and x.dtype == np.float32
    day = np.array([0, 0.5, 0.5, 23 / 24])
    week = np.array([0, 0.5 / 7, 3.5 / 7, (6 + 23 / 24) / 7])
    np.testing.assert_allclose(x, np.stack([np.sin(2 * np.pi * day), np.cos(2 * np.pi * day),
                                            np.sin(2 * np.pi * week), np.cos(2 * np.pi * week)], 1), atol=1e-6)
    # the last hour of the week sits next to the first: the cycle wraps
    assert np.abs(x[3, 2:] - x[0, 2:]).max() < 2 * np.pi / 168 + 1e-6
    year = features(pd.DatetimeIndex(["2023-07-02", "2024-07-02"]), ("year",))  # day 183 of 365 and of 366
    np.testing.assert_allclose(year[:, 1], np.cos(2 * np.pi * np.array([182 / 365, 183 / 366])), atol=1e-6)


@pytest.mark.parametrize("freq, cycles", [("h", ("day", "week")), ("30min", ("day", "week")), ("D", ("week", "year")),
                                          ("B", ("week", "year")), ("W-SUN", ("year",)), ("MS", ("year",)),
                                          ("QS", ("year",)), ("YS", ()), (1, ())])
def test_auto_picks_the_cycles_longer_than_a_step(freq, cycles):
    assert default_cycles(freq) == cycles


def test_unusable_calendars_are_clear_errors():
    with pytest.raises(ValueError, match=re.escape("calendar must be None, True / 'auto', or cycle names among "
                                                   "['day', 'week', 'year'], got ['month']")):
        Forecaster(calendar=["month"])
    with pytest.raises(ValueError, match="calendar features need dates in the time column, but its steps are integers"):
        resolve_calendar("auto", 1)
    with pytest.raises(ValueError, match=re.escape("calendar cycle(s) ['day'] are no longer than one step (D) of this "
                                                   "data, so they would be constant; choose among ['week', 'year']")):
        resolve_calendar(["day", "week"], "D")
    assert resolve_calendar(None, "h") == () and resolve_calendar(True, "h") == ("day", "week")
    df = pd.DataFrame({"ds": np.arange(40), "y": np.sin(np.arange(40.0))})
    with pytest.raises(ValueError, match="calendar features need dates"):
        Forecaster("gru", calendar="auto", **TINY).fit(df)


def _weekly(weeks: int = 10, seed: int = 0) -> pd.DataFrame:
    """Hourly series whose weekend days sit 3 lower: a 24-hour window cannot tell Friday from Saturday's eve."""
    ds = pd.date_range("2024-01-01", periods=weeks * 168, freq="h")
    rng = np.random.default_rng(seed)
    y = np.sin(2 * np.pi * ds.hour / 24) - 3.0 * (ds.day_of_week >= 5) + 0.1 * rng.normal(size=len(ds))
    return pd.DataFrame({"ds": ds, "y": y})


def test_a_weekly_pattern_beyond_the_input_window_is_learned_from_the_calendar():
    df = _weekly()
    kw = dict(input_size=24, horizon=24, hidden_size=16, epochs=30, batch_size=64, lr=3e-3, num_threads=1, device="cpu", seed=0,
              early_stopping_patience=None, val_size=0)
    plain = Forecaster("segrnn", **kw).fit(df.iloc[:8 * 168])
    cal = Forecaster("segrnn", calendar="auto", **kw).fit(df.iloc[:8 * 168])
    start = df.ds.iloc[8 * 168]
    a, b = plain.backtest(df, start=start, stride=24).metrics, cal.backtest(df, start=start, stride=24).metrics
    # without the calendar the first day of each weekend (and the Monday after it) is a guess; with it, known
    assert b["mae"] < 0.4 * a["mae"], (a["mae"], b["mae"])


def test_predict_computes_the_horizon_features_itself_and_matches_the_backtest(tmp_path):
    df = _weekly(weeks=3)
    f = Forecaster("segrnn", calendar=["day", "week"], **TINY).fit(df)
    assert f.net_config_.n_future == 4 and f.calendar_ == ("day", "week")
    fc = f.predict()  # no future covariates to pass: the calendar is known ahead
    assert len(fc) == 4 and fc.ds.iloc[0] == df.ds.iloc[-1] + pd.Timedelta("1h")
    # the forecast of the last window of a backtest is the forecast predict makes from the rows before it
    last = f.backtest(df, start=len(df) - 4).forecasts
    np.testing.assert_allclose(f.predict(data=df.iloc[:-4]).yhat, last.yhat, rtol=1e-5, atol=1e-6)
    # ...and the calendar matters to it: the same values a weekday later give another forecast
    shifted = df.iloc[:-4].assign(ds=df.ds.iloc[:-4] + pd.Timedelta("3D"))
    assert np.abs(f.predict(data=shifted).yhat.to_numpy() - last.yhat.to_numpy()).max() > 1e-4
    f.save(tmp_path / "m")
    g = Forecaster.load(tmp_path / "m")
    assert g.calendar_ == ("day", "week")
    pd.testing.assert_frame_equal(f.predict(), g.predict())


def test_calendar_features_join_the_users_future_covariates():
    df = _weekly(weeks=3).assign(price=lambda d: np.cos(np.arange(len(d)) / 5.0))
    f = Forecaster("gru", calendar="auto", **TINY).fit(df, future_covariates=["price"])
    assert f.net_config_.n_future == 5
    with pytest.raises(ValueError, match=re.escape("this model uses future covariates ['price']")):
        f.predict()  # the user's covariate is still needed, the calendar ones are not asked for
    ahead = pd.DataFrame({"ds": pd.date_range(df.ds.iloc[-1], periods=5, freq="h")[1:], "price": 0.0})
    assert len(f.predict(future_covariates=ahead)) == 4


def test_a_model_folder_from_before_calendar_features_still_loads(tmp_path):
    import json

    df = _weekly(weeks=3)
    f = Forecaster("gru", **TINY).fit(df)
    f.save(tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    del cfg["params"]["calendar"], cfg["fitted"]["calendar"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    g = Forecaster.load(tmp_path / "m")
    assert g.calendar_ == () and g.calendar is None
    pd.testing.assert_frame_equal(f.predict(), g.predict())


def test_backtest_with_refit_keeps_the_calendar():
    df = _weekly(weeks=2)
    f = Forecaster("gru", calendar="auto", **TINY).fit(df)
    res = f.backtest(df, start=len(df) - 8, stride=4, refit=True)
    assert res.metrics["n_windows"] == 2 and np.isfinite(res.metrics["mae"])


def test_an_autoregressive_model_reads_the_calendar_beyond_its_trained_horizon():
    df = _weekly(weeks=3)
    f = Forecaster("lstm", decoder="autoregressive", calendar="auto", **TINY).fit(df)
    fc = f.predict(horizon=10)  # trained on 4 steps: the calendar of steps 5-10 is computed too
    assert len(fc) == 10 and np.isfinite(fc.yhat).all()
    assert fc.ds.iloc[-1] == df.ds.iloc[-1] + pd.Timedelta("10h")
