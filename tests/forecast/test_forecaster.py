"""Forecaster end to end on tiny data: formats, predict, backtest, save / load, covariates and misuse messages."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from tests.forecast.conftest import TINY, make_long

from rnnkit.forecast import Forecaster


def _err(msg: str):
    return pytest.raises(ValueError, match=re.escape(msg))


@pytest.fixture(scope="module")
def fitted():
    df = make_long(covariates=True)
    f = Forecaster("segrnn", quantiles=(0.1, 0.9), **TINY)
    f.fit(df, past_covariates=["load"], future_covariates=["hour"], static_covariates=["size"])
    return f, df


def _future(df, h=4):
    rows = []
    for uid, g in df.groupby("unique_id"):
        ds = pd.date_range(g.ds.max(), periods=h + 1, freq="h")[1:]
        rows.append(pd.DataFrame({"unique_id": uid, "ds": ds, "hour": np.arange(h, dtype=float)}))
    return pd.concat(rows)


def test_predict_frame_with_quantiles_and_covariates(fitted):
    f, df = fitted
    fc = f.predict(future_covariates=_future(df))
    assert list(fc.columns) == ["unique_id", "ds", "yhat", "yhat_q0.1", "yhat_q0.9"]
    assert len(fc) == 8 and fc.ds.iloc[0] == df.ds.max() + pd.Timedelta("1h")
    assert (fc["yhat_q0.1"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_q0.9"]).all()
    assert f.fit_result_.steps > 0 and f.net_config_.n_series == 2


def test_future_covariates_must_reach_over_the_horizon(fitted):
    f, df = fitted
    with _err("this model uses future covariates ['hour']: pass future_covariates= a frame with columns "
              "['unique_id', 'ds', 'hour'] for the 4 steps after each series' end"):
        f.predict()
    short = _future(df).groupby("unique_id").head(3)
    with _err("future covariates of series 's0' do not reach over the horizon: no value at ds=2024-01-03T15:00:00 "
              "(the forecast needs them up to ds=2024-01-03T15:00:00, horizon 4)"):
        f.predict(future_covariates=short)


def test_past_covariates_after_the_forecast_start_cannot_leak(fitted):
    """Changing past covariates from row 40 on leaves every forecast that starts at row 40 unchanged."""
    f, df = fitted
    changed = df.copy()
    changed.loc[changed.ds >= df.ds.iloc[40], "load"] += 100.0
    a = f.backtest(df, start=40, stride=100).forecasts
    b = f.backtest(changed, start=40, stride=100).forecasts
    assert len(a) == 8
    np.testing.assert_allclose(a.yhat, b.yhat)


def test_save_load_round_trip(fitted, tmp_path):
    f, df = fitted
    f.save(tmp_path / "m")
    g = Forecaster.load(tmp_path / "m")
    fut = _future(df)
    pd.testing.assert_frame_equal(f.predict(future_covariates=fut), g.predict(future_covariates=fut))
    pd.testing.assert_frame_equal(f.predict(data=df.iloc[:50].copy(), future_covariates=_future(df.iloc[:50])),
                                  g.predict(data=df.iloc[:50].copy(), future_covariates=_future(df.iloc[:50])))


def test_backtest_metrics_match_their_definitions():
    df = make_long(1, n=80).drop(columns="unique_id")
    f = Forecaster("gru", season_length=6, **TINY).fit(df)
    res = f.backtest(df, start=60, stride=2)
    fc = res.forecasts
    assert res.metrics["n_windows"] == len(res.windows) == 9  # starts 60, 62, ..., 76
    assert res.metrics["mae"] == pytest.approx(np.mean(np.abs(fc.y - fc.yhat)), rel=1e-5)
    y = df.y.to_numpy()
    first = fc[fc.cutoff == fc.cutoff.iloc[0]]
    np.testing.assert_allclose(first.naive, y[54:58], rtol=1e-6)  # seasonal naive: one period (6) earlier
    scale = np.mean(np.abs(y[6:60] - y[:54]))
    assert res.windows.mase.iloc[0] == pytest.approx(np.mean(np.abs(first.y - first.yhat)) / scale, rel=1e-4)
    t = df.ds.iloc[60]
    assert f.backtest(df, start=str(t), stride=2).metrics["mae"] == pytest.approx(res.metrics["mae"])
    yhat, actual = res.array("yhat"), res.array("y")  # (windows, H), the rows of the long frame in order
    assert yhat.shape == (9, 4) and np.array_equal(yhat.reshape(-1), fc.yhat.to_numpy())
    assert np.mean((actual - yhat) ** 2) == pytest.approx(res.metrics["mse"], rel=1e-5)
    with pytest.raises(ValueError, match="name must be"):
        res.array("yhat_q0.5")


def test_backtest_scores_only_measured_values_not_filled_ones():
    df = make_long(1, n=80).drop(columns="unique_id")
    f = Forecaster("gru", season_length=6, quantiles=(0.1, 0.9), **TINY).fit(df)
    gappy = df.copy()
    gappy.loc[[62, 63, 70], "y"] = np.nan  # three readings lost in the scored stretch
    res = f.backtest(gappy, start=60, stride=2, fill="interpolate")
    fc = res.forecasts
    measured = fc.ds.isin(df.ds[~gappy.y.isna()])
    assert res.metrics["filled_steps_not_scored"] == float((~measured).sum()) > 0
    assert res.metrics["mae"] == pytest.approx(
        fc[measured].groupby("cutoff").apply(lambda g: np.mean(np.abs(g.y - g.yhat))).mean(), rel=1e-5)
    inside = (fc.y >= fc["yhat_q0.1"]) & (fc.y <= fc["yhat_q0.9"])
    assert res.metrics["coverage_0.1_0.9"] == pytest.approx(inside[measured].mean())
    assert f.backtest(df, start=60, stride=2).metrics["filled_steps_not_scored"] == 0.0


def test_backtest_refit_trains_per_origin():
    y = np.sin(np.arange(50) * np.pi / 3)
    f = Forecaster("gru", **dict(TINY, epochs=1)).fit(y)
    res = f.backtest(y, start=42, stride=4, refit=True)
    assert res.metrics["n_windows"] == 2 and np.isfinite(res.metrics["mae"])


@pytest.mark.parametrize("data", [
    np.sin(np.arange(40.0)),
    np.stack([np.sin(np.arange(40.0)), np.cos(np.arange(40.0))], 1),
    pd.DataFrame({"ds": pd.date_range("2024", periods=40, freq="D"), "a": np.arange(40.0), "b": np.ones(40)}),
])
def test_every_input_format_fits_and_predicts(data):
    f = Forecaster("lstm", **TINY).fit(data)
    fc = f.predict()
    assert len(fc) == 4 * len(f.series_ids_) and np.isfinite(fc.yhat).all()


def test_autoregressive_forecasts_longer_horizons():
    f = Forecaster("gru", decoder="autoregressive", **TINY).fit(np.sin(np.arange(40.0)))
    assert len(f.predict(horizon=10)) == 10
    g = Forecaster("gru", **TINY).fit(np.sin(np.arange(40.0)))
    with _err("horizon 10 is longer than the trained horizon 4; refit with horizon=10, or use "
              "decoder='autoregressive' for open horizons"):
        g.predict(horizon=10)
    with _err("decoder='autoregressive' needs a recurrent model (lstm, gru, rnn, minGRU, minLSTM or lnlstm); "
              "segrnn forecasts the whole horizon at once, so use decoder='direct' with it"):
        Forecaster("segrnn", decoder="autoregressive")


def test_backtest_start_is_read_as_the_dates_were():
    df = make_long(1, n=80, freq="D").drop(columns="unique_id")  # 1 January to 20 March 2024
    f = Forecaster("gru", **dict(TINY, epochs=1)).fit(df)
    dotted = df.assign(ds=df.ds.dt.strftime("%d.%m.%Y"))  # day first: 01.03.2024 is the 1st of March
    n = f.backtest(df, start="2024-03-01").metrics["n_windows"]
    assert n == 17 and f.backtest(dotted, start="01.03.2024").metrics["n_windows"] == n
    assert f.backtest(dotted, start="2024-03-01").metrics["n_windows"] == n
    assert f.backtest(df, start="2024-03-01T01:00:00+01:00").metrics["n_windows"] == n  # times are UTC


def test_misuse_messages(tmp_path, long_df):
    with _err("horizon must be a positive integer, got 0"):
        Forecaster(horizon=0)
    with _err("this Forecaster is not fitted yet: call fit(data) first, or Forecaster.load(model_dir)"):
        Forecaster().predict()
    with _err("series 's0' has 60 points; fitting with input_size + horizon = 96 + 24 needs at least 120"):
        Forecaster().fit(long_df)
    f = Forecaster("gru", **TINY).fit(long_df)
    with _err("series 's0' has 5 points; predicting with input_size = 12 needs at least 12 (give each series at "
              "least its last 12 points, the history the model was trained to read)"):
        f.predict(data=long_df.groupby("unique_id").head(5))
    with _err("no complete window has its forecast start at or after 58"):
        f.backtest(long_df, start=58)
    f.save(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="incomplete"):
        Forecaster.load(tmp_path / "m")


def test_log_transform_models_log_values_and_maps_forecasts_back(tmp_path):
    df = make_long()
    df["y"] = np.exp(df.y / 10)  # positive, level-dependent scale
    f = Forecaster("segrnn", transform="log", quantiles=(0.1, 0.9), **TINY).fit(df)
    fc = f.predict()
    assert (fc[["yhat", "yhat_q0.1", "yhat_q0.9"]] > 0).all().all()
    # the same network on log values without the transform gives the log of those forecasts
    logged = df.assign(y=np.log(df.y))
    f.model_.log = False
    inner = f.predict(data=logged)
    f.model_.log = True
    for col in ("yhat", "yhat_q0.1", "yhat_q0.9"):
        np.testing.assert_allclose(fc[col], np.exp(inner[col]), rtol=1e-5)
    f.save(tmp_path / "m")
    pd.testing.assert_frame_equal(Forecaster.load(tmp_path / "m").predict(data=df), f.predict(data=df))


def test_log_transform_misuse_messages():
    df = make_long()
    df.loc[7, "y"] = 0.0
    with _err("transform='log' needs a positive target, but series 's0' has y=0 at ds=2024-01-01T07:00:00 "
              "(1 value(s) <= 0); use transform='none', or shift the series above zero before fitting"):
        Forecaster("gru", transform="log", **TINY).fit(df)
    with _err("series 's0' has load=0 at Time=2024-01-01T07:00:00 "):  # named as in the data
        Forecaster("gru", transform="log", **TINY).fit(df.rename(columns={"y": "load", "ds": "Time"}), target="load",
                                                        time_col="Time")
    with _err("transform='log' does not map a gaussian head back to the series' scale; use loss='quantile' with "
              "quantiles=... for intervals on log values, or transform='none'"):
        Forecaster(transform="log", loss="gaussian")
    with _err("transform must be one of ('none', 'log'), got 'sqrt'"):
        Forecaster(transform="sqrt")


def test_linear_skip_can_be_turned_off_and_survives_save_load(tmp_path):
    y = np.sin(np.arange(60) * np.pi / 3)
    on = Forecaster("segrnn", **TINY).fit(y)
    off = Forecaster("segrnn", linear_skip=False, **TINY).fit(y)
    assert on.model_.net.skip is not None and off.model_.net.skip is None
    off.save(tmp_path / "m")
    g = Forecaster.load(tmp_path / "m")
    assert g.get_params()["linear_skip"] is False and g.model_.net.skip is None
    pd.testing.assert_frame_equal(off.predict(), g.predict())


def test_weight_averaging_changes_the_model_and_survives_save_load(tmp_path):
    y = np.sin(np.arange(60) * np.pi / 3)
    plain = Forecaster("segrnn", **TINY).fit(y)
    averaged = Forecaster("segrnn", ema_decay=0.9, **TINY).fit(y)
    a, b = plain.model_.state_dict(), averaged.model_.state_dict()
    assert any(not np.allclose(a[k].numpy(), b[k].numpy()) for k in a)  # same seed: only the averaging differs
    averaged.save(tmp_path / "m")
    g = Forecaster.load(tmp_path / "m")
    assert g.get_params()["ema_decay"] == 0.9
    pd.testing.assert_frame_equal(averaged.predict(), g.predict())
    with _err("ema_decay must be in (0, 1), e.g. 0.999"):
        Forecaster("segrnn", ema_decay=1.0, **TINY)


def test_fill_given_to_fit_holds_for_predict_and_backtest_after_save_load(tmp_path):
    df = make_long(1, n=120).drop(index=[50, 90])  # two missing hours
    f = Forecaster("segrnn", **TINY).fit(df, fill="interpolate")
    f.save(tmp_path / "m")
    g = Forecaster.load(tmp_path / "m")
    assert g.fill_ == "interpolate"
    assert len(g.backtest(df, start=80, stride=4).forecasts) > 0  # the gaps at 90 are filled, as in fit
    assert len(g.predict(data=df)) == TINY["horizon"]
    with pytest.raises(ValueError, match="irregular timestamps"):
        Forecaster("segrnn", **TINY).fit(make_long(1, n=120)).backtest(df, start=80)  # no fill in fit: an error


def test_small_data_gets_enough_batches_per_epoch():
    from rnnkit.forecast.forecaster import MIN_BATCHES_PER_EPOCH, _repeat_small

    sid, end = np.zeros(90, np.int64), np.arange(90)
    rs, re_ = _repeat_small((sid, end), 256)  # one short batch -> whole passes until 8 batches
    assert -(-len(rs) // 256) >= MIN_BATCHES_PER_EPOCH and len(rs) % 90 == 0
    np.testing.assert_array_equal(re_.reshape(-1, 90), np.tile(end, (len(re_) // 90, 1)))
    big = (np.zeros(2305, np.int64), np.arange(2305))  # 10 batches already: left as it is
    assert _repeat_small(big, 256)[0] is big[0]


def test_a_short_monthly_series_beats_seasonal_naive_with_the_defaults():
    """Ten years of months fill one batch: without repeating them an epoch would be one optimizer step."""
    rng = np.random.default_rng(0)
    t = np.arange(144)
    df = pd.DataFrame({"ds": pd.date_range("2012-01-01", periods=144, freq="MS"),
                       "y": 20 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, 144)})
    f = Forecaster(input_size=24, horizon=12, num_threads=1, device="cpu").fit(df.iloc[:120])
    m = f.backtest(df, start=120, stride=12).metrics
    assert f.fit_result_.steps >= 8 * f.fit_result_.epochs
    assert m["mae"] < 0.6 * m["naive_mae"], m  # 0.43 against 0.82 (one batch an epoch: 0.60)
