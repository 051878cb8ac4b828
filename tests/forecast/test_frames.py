"""Input formats and every bad input, with the exact message."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from tests.forecast.conftest import make_long

from rnnkit.forecast.frames import load_frame, to_frame


def test_long_frame_splits_series(long_df):
    s = load_frame(long_df)
    assert s.ids == ["s0", "s1"] and s.freq == "h" and s.has_id
    assert [len(v) for v in s.values] == [60, 60]
    np.testing.assert_allclose(s.values[1], long_df[long_df.unique_id == "s1"].y.to_numpy(), rtol=1e-6)


def test_long_frame_without_id_is_one_series(long_df):
    s = load_frame(long_df[long_df.unique_id == "s0"].drop(columns="unique_id"))
    assert len(s) == 1 and not s.has_id


def test_wide_frame_one_series_per_column():
    wide = pd.DataFrame({"ds": pd.date_range("2024", periods=30, freq="D"), "a": np.arange(30.0), "b": -np.arange(30.0)})
    s = load_frame(wide)
    assert s.ids == ["a", "b"] and s.freq == "D"
    np.testing.assert_array_equal(s.values[1], -np.arange(30.0))


def test_numpy_1d_and_2d_get_integer_time():
    s1 = load_frame(np.arange(20.0))
    assert len(s1) == 1 and s1.freq == 1 and list(s1.times[0][:3]) == [0, 1, 2]
    s2 = load_frame(np.ones((20, 3)))
    assert s2.ids == ["series_0", "series_1", "series_2"]


def test_without_a_time_column_the_rows_are_the_steps_of_each_series():
    one = load_frame(pd.DataFrame({"y": [3.0, 1.0, 2.0]}), time_col=None)
    assert one.freq == 1 and list(one.times[0]) == [0, 1, 2] and list(one.values[0]) == [3.0, 1.0, 2.0]
    # long, interleaved rows: each series is numbered in its own row order
    long = pd.DataFrame({"unique_id": ["b", "a", "b", "a", "a"], "y": [10.0, 1.0, 11.0, 2.0, 3.0]})
    s = load_frame(long, time_col=None)
    assert s.ids == ["a", "b"] and [list(t) for t in s.times] == [[0, 1, 2], [0, 1]]
    assert list(s.values[0]) == [1.0, 2.0, 3.0] and list(s.values[1]) == [10.0, 11.0]
    wide = load_frame(pd.DataFrame({"north": [1.0, 2.0], "south": [5.0, 6.0]}), time_col=None)
    assert wide.ids == ["north", "south"] and list(wide.times[1]) == [0, 1]
    # a frame written with its numbering (to_frame, or a forecast) keeps it
    back = load_frame(to_frame(s, time_col="step"), time_col=None)
    assert [list(t) for t in back.times] == [[0, 1, 2], [0, 1]]
    with pytest.raises(ValueError, match="time_col=None, CLI --time-col none"):
        load_frame(pd.DataFrame({"y": [3.0, 1.0, 2.0]}))


def test_integer_ds_with_step():
    df = pd.DataFrame({"ds": np.arange(0, 40, 5), "y": np.arange(8.0)})
    assert load_frame(df).freq == 5


def test_string_dates_are_parsed_and_unsorted_rows_sorted(long_df):
    df = long_df.assign(ds=long_df.ds.astype(str)).sample(frac=1, random_state=0)
    s = load_frame(df)
    assert s.is_datetime and s.times[0].is_monotonic_increasing


def test_day_first_dates_are_read_and_unreadable_ones_say_how_to_write_them(long_df):
    df = long_df.assign(ds=long_df.ds.dt.strftime("%d.%m.%Y %H:%M"))  # 01.01.2024 00:00 ... 03.01.2024 11:00
    df = pd.concat([df, df.assign(ds=(long_df.ds + pd.Timedelta(days=12)).dt.strftime("%d.%m.%Y %H:%M"),
                                  unique_id=df.unique_id + "x")])  # day 13 and later: day first for certain
    s = load_frame(df)
    first = dict(zip(s.ids, (t[0] for t in s.times)))
    assert first["s0"] == pd.Timestamp("2024-01-01 00:00") and first["s0x"] == pd.Timestamp("2024-01-13 00:00")
    bad = long_df.astype({"ds": object})
    bad.loc[3, "ds"] = "yesterday"
    with pytest.raises(ValueError) as e:
        load_frame(bad)
    msg = str(e.value)
    assert msg.startswith("time column 'ds' must hold dates or integers; could not parse it (") and "\n" not in msg
    assert msg.endswith("write dates as 2024-01-31 13:00 (ISO 8601), or give integer steps")


def test_a_decimal_comma_is_named(long_df):
    df = long_df.astype({"y": object})
    df.loc[4, "y"] = "1,5"
    _raises("target column 'y' must be numeric, got dtype object; found '1,5' at row 4 (a decimal comma or a "
            "thousands separator? write plain numbers such as 1234.5)", df)


def test_covariates_and_round_trip():
    df = make_long(covariates=True)
    s = load_frame(df, past_covariates=["load"], future_covariates=["hour"], static_covariates=["size"])
    assert s.past[0].shape == (60, 1) and s.future[0].shape == (60, 1) and s.static.tolist() == [[0.0], [1.0]]
    back = to_frame(s)
    assert list(back.columns) == ["unique_id", "ds", "y", "load", "hour", "size"]


def _raises(msg: str, *args, **kwargs):
    with pytest.raises(ValueError, match=re.escape(msg)):
        load_frame(*args, **kwargs)


def test_missing_columns(long_df):
    _raises("column(s) ['temp'] not found in data; columns are ['unique_id', 'ds', 'y']", long_df,
            past_covariates=["temp"])
    _raises("time column 'time' not found in data; columns are ['unique_id', 'ds', 'y'] (pass time_col=..., "
            "CLI --time-col; time_col=None, CLI --time-col none, when the rows in order are the steps)", long_df,
            time_col="time")


def test_unknown_columns(long_df):
    _raises("column(s) ['extra'] are not used: declare them as past_covariates, future_covariates or "
            "static_covariates, or drop them (CLI: --ignore)", long_df.assign(extra=1.0))
    with pytest.raises(ValueError, match=r"\['unique_id'\] are not used: .*if one of them is the series id, name it "
                       r"\(id_col=..., CLI --id-col\): there is no column 'store'$"):
        load_frame(long_df, id_col="store")  # a misspelled or misremembered id column


def test_non_numeric_target(long_df):
    df = long_df.astype({"y": object})
    df.loc[3, "y"] = "abc"
    _raises("target column 'y' must be numeric, got dtype object; found 'abc' at row 3", df)


def test_nan_and_inf_say_where_and_offer_fill(long_df):
    df = long_df.copy()
    df.loc[5, "y"] = np.nan
    df.loc[70, "y"] = np.inf
    _raises("target series 's0' has 1 NaN/inf value(s), the first at ds=2024-01-01T05:00:00; clean them or pass "
            "fill='ffill', 'interpolate' or 'zero' (CLI: --fill)", df)
    s = load_frame(df, fill="interpolate")
    assert np.isfinite(s.values[0]).all() and np.isfinite(s.values[1]).all()
    assert s.values[0][5] == pytest.approx((s.values[0][4] + s.values[0][6]) / 2)


def test_a_series_with_no_value_at_all_is_named_even_with_fill(long_df):
    df = long_df.copy()
    df.loc[df["unique_id"] == "s1", "y"] = np.nan
    for fill in (None, "ffill", "interpolate", "zero"):
        with pytest.raises(ValueError, match=r"^target series 's1' has no finite value at all \(\d+ rows of NaN/inf\); "
                                             r"drop it from the data$"):
            load_frame(df, fill=fill)


def test_duplicate_timestamps(long_df):
    df = pd.concat([long_df, long_df.iloc[[7]]])
    _raises("duplicate timestamps in series 's0': ds=2024-01-01T07:00:00 appears 2 times", df)


def test_irregular_timestamps_and_fill(long_df):
    df = long_df.drop(index=[10])
    _raises("irregular timestamps in series 's0': the usual step is 0 days 01:00:00 but the step after "
            "ds=2024-01-01T09:00:00 is 0 days 02:00:00; reindex to a regular grid or pass fill=", df)
    s = load_frame(df, fill="ffill")
    assert len(s.values[0]) == 60 and s.values[0][10] == s.values[0][9]


def test_a_time_stamp_off_the_grid_says_how_to_put_it_on(long_df):
    df = long_df.rename(columns={"ds": "when"}).drop(index=[10])
    df.loc[20, "when"] += pd.Timedelta(minutes=10)  # 20:10 among whole hours
    _raises("irregular timestamps in series 's0': the usual step is 0 days 01:00:00 but the step after "
            "when=2024-01-01T09:00:00", df, time_col="when")
    _raises("series 's0' has when=2024-01-01T20:10:00 off its regular h grid (which starts at 2024-01-01T00:00:00), "
            "so filling cannot place it; round the time stamps to it (pandas: df['when'] = df['when'].dt.round('h'))",
            df, time_col="when", fill="ffill")
    df["when"] = df["when"].dt.round("h")  # the advice works
    assert len(load_frame(df, time_col="when", fill="ffill").values[0]) == 60


def test_different_frequencies():
    a = make_long(1, freq="h")
    b = make_long(1, freq="D").assign(unique_id="d")
    _raises("series have different frequencies: 'd' is D, 's0' is h", pd.concat([a, b]))


def test_bad_types():
    _raises("data must be a pandas DataFrame (long or wide) or a numpy array, got list", [1, 2, 3])
    _raises("a numpy array must be (T,) or (T, C), got shape (2, 2, 2)", np.zeros((2, 2, 2)))
    _raises("fill must be one of ('ffill', 'interpolate', 'zero') (CLI --fill), or None to fill nothing, got 'mean'",
            np.zeros(5), fill="mean")


def test_missing_times_and_ids_are_named_not_dropped(long_df):
    df = long_df.astype({"ds": object, "unique_id": object})
    df.loc[7, "ds"] = None
    _raises("time column 'ds' has 1 missing value(s), the first at row 7; drop those rows or fill them in", df)
    _raises("time column 'ds' has 1 missing value(s), the first at row 7", df.assign(ds=df.ds.astype(str).where(
        df.ds.notna())))  # dates read as text
    df = long_df.astype({"unique_id": object})
    df.loc[[3, 4], "unique_id"] = np.nan
    _raises("series id column 'unique_id' has 2 missing value(s), the first at row 3", df, fill="ffill")
    ints = pd.DataFrame({"ds": np.r_[np.arange(9.0), np.nan], "y": np.arange(10.0)})
    _raises("time column 'ds' has 1 missing value(s), the first at row 9", ints)


def test_wide_columns_may_start_late_and_end_early():
    t = pd.date_range("2024-01-01", periods=10, freq="D")
    b = np.r_[np.full(3, np.nan), np.arange(5.0), np.nan, np.nan]
    s = load_frame(pd.DataFrame({"ds": t, "a": np.arange(10.0), "b": b}), fill="ffill")
    assert [len(v) for v in s.values] == [10, 5]  # no made-up values before 'b' starts or after it ends
    assert s.times[1][0] == t[3] and s.times[1][-1] == t[7] and s.values[1].tolist() == list(range(5))
    b[5] = np.nan  # a gap inside is still a gap
    _raises("target series 'b' has 1 NaN/inf value(s), the first at ds=2024-01-06T00:00:00",
            pd.DataFrame({"ds": t, "a": np.arange(10.0), "b": b}))


def test_offsets_that_change_with_daylight_saving_are_read_as_utc():
    t = pd.date_range("2024-03-30", periods=48, freq="h", tz="Europe/Berlin")  # 31 March: 02:00 does not exist
    s = load_frame(pd.DataFrame({"ds": [x.isoformat() for x in t], "y": np.arange(48.0)}))
    assert s.freq == "h" and len(s.values[0]) == 48 and s.times[0].tz is None
    assert s.times[0][0] == pd.Timestamp("2024-03-29 23:00")
    s = load_frame(pd.DataFrame({"ds": t, "y": np.arange(48.0)}))  # a time-zone-aware column: the same
    assert s.freq == "h" and s.times[0][0] == pd.Timestamp("2024-03-29 23:00")


def test_dates_that_read_both_ways_take_the_regular_or_dotted_day_first_reading():
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    for fmt in ("%d/%m/%Y", "%d.%m.%Y", "%m/%d/%Y"):  # 01/02/2023 would otherwise be 2 January
        s = load_frame(pd.DataFrame({"ds": months.strftime(fmt), "y": np.arange(24.0)}))
        assert s.freq == "MS" and s.times[0][1] == pd.Timestamp("2023-02-01"), fmt
    days = pd.date_range("2024-01-01", periods=10, freq="D")  # all days <= 12
    s = load_frame(pd.DataFrame({"ds": days.strftime("%d.%m.%Y"), "y": np.arange(10.0)}))
    assert s.freq == "D" and s.dayfirst and s.times[0][-1] == pd.Timestamp("2024-01-10")


def test_data_at_another_step_than_the_model_says_so(long_df):
    _raises("series 's0' steps every h but the model was fitted on steps of D; give it data at that step "
            "(resample it), or fit a model on data like this", long_df, freq="D")


def test_a_column_declared_twice_is_an_error(long_df):
    df = long_df.assign(load=1.0)
    _raises("column 'load' is declared twice (as a covariate and as the target, time, id or another covariate); "
            "give each column one role", df, past_covariates=["load"], future_covariates=["load"])
    _raises("column 'y' is declared twice", df.drop(columns="load"), past_covariates=["y"])
