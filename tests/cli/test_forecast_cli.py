"""`rnnkit forecast fit | predict | backtest` end to end on a tiny CSV, and the one-line error convention."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from rnnkit.cli.app import main


@pytest.fixture
def csv(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for uid in ("a", "b"):
        t = np.arange(70)
        rows.append(pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2024-01-01", periods=70, freq="h"),
                                  "y": np.sin(2 * np.pi * t / 6) + rng.normal(0, 0.1, 70)}))
    path = tmp_path / "data.csv"
    pd.concat(rows).to_csv(path, index=False)
    return path


def run(args, capsys):
    code = 0
    try:
        main(args)
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fit_predict_backtest(csv, tmp_path, capsys):
    model = tmp_path / "model"
    code, out, err = run(["forecast", "fit", "--data", str(csv), "--horizon", "4", "--input-size", "12",
                          "--model", "gru", "--out", str(model), "--epochs", "2", "--seed", "1",
                          "--quantiles", "0.1,0.9", "--device", "cpu"], capsys)
    assert code == 0, err
    assert (model / "config.json").exists() and (model / "model.safetensors").exists()
    fc_path, png = tmp_path / "fc.csv", tmp_path / "fc.png"
    code, out, err = run(["forecast", "predict", "--model", str(model), "--data", str(csv), "--out", str(fc_path),
                          "--plot", str(png)], capsys)
    assert code == 0, err
    fc = pd.read_csv(fc_path)
    assert list(fc.columns) == ["unique_id", "ds", "yhat", "yhat_q0.1", "yhat_q0.9"] and len(fc) == 8
    assert fc.ds.iloc[0] == "2024-01-03 22:00:00" and png.stat().st_size > 0
    js = tmp_path / "m.json"
    code, out, err = run(["forecast", "backtest", "--model", str(model), "--data", str(csv), "--start",
                          "2024-01-03 10:00:00", "--stride", "2", "--json", str(js)], capsys)
    assert code == 0, err
    m = json.loads(js.read_text())
    for k in ("mae", "mse", "smape", "mase", "naive_mae", "naive_mse", "naive_smape", "naive_mase"):
        assert np.isfinite(m[k])
    assert m["n_windows"] == 2 * 5  # starts at rows 58, 60, ..., 66 in each of 2 series
    assert "seasonal naive" in out
    code, _, err = run(["forecast", "backtest", "--model", str(model), "--data", str(csv), "--start", "58"], capsys)
    assert code == 0, err


def test_a_file_without_a_time_column_with_time_col_none(tmp_path, capsys):
    rng = np.random.default_rng(1)
    path, model, fc_path = tmp_path / "load.csv", tmp_path / "model", tmp_path / "fc.csv"
    pd.DataFrame({"load": np.sin(2 * np.pi * np.arange(80) / 8) + rng.normal(0, 0.1, 80)}).to_csv(path, index=False)
    code, _, err = run(["forecast", "fit", "--data", str(path), "--target", "load", "--time-col", "none",
                        "--horizon", "4", "--input-size", "16", "--out", str(model), "--epochs", "1"], capsys)
    assert code == 0, err
    code, _, err = run(["forecast", "predict", "--model", str(model), "--data", str(path), "--out", str(fc_path),
                        "--plot", str(tmp_path / "fc.png")], capsys)
    assert code == 0, err
    fc = pd.read_csv(fc_path)
    assert list(fc.columns) == ["step", "yhat"] and list(fc.step) == [80, 81, 82, 83]
    code, out, err = run(["forecast", "backtest", "--model", str(model), "--data", str(path), "--start", "70",
                          "--stride", "2", "--refit"], capsys)
    assert code == 0, err
    assert "windows: 4" in out  # starts at steps 70, 72, 74, 76
    code, _, err = run(["forecast", "fit", "--data", str(path), "--target", "load", "--horizon", "4",
                        "--out", str(tmp_path / "m2"), "--epochs", "1"], capsys)
    assert code != 0 and "--time-col none" in err


def test_bad_input_is_one_error_line(csv, tmp_path, capsys):
    code, out, err = run(["forecast", "fit", "--data", str(csv), "--horizon", "0", "--out", str(tmp_path / "m")],
                         capsys)
    assert code == 2 and err == "error: horizon must be a positive integer, got 0\n"
    code, out, err = run(["forecast", "fit", "--data", str(csv), "--target", "load", "--horizon", "4",
                          "--out", str(tmp_path / "m")], capsys)
    assert code == 2 and err.startswith("error: column(s) ['load'] not found in data") and err.count("\n") == 1
    code, out, err = run(["forecast", "fit", "--data", str(csv), "--horizon", "4", "--ema", "2",
                          "--out", str(tmp_path / "m")], capsys)
    assert code == 2 and err.startswith("error: ema_decay must be in (0, 1)") and err.count("\n") == 1
    code, out, err = run(["forecast", "predict", "--model", str(tmp_path / "none"), "--data", str(csv),
                          "--out", str(tmp_path / "f.csv")], capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_backtest_on_a_series_that_repeats_exactly_says_mase_is_undefined(tmp_path, capsys):
    t = np.arange(24 * 6)  # hourly: the season is a day
    path = tmp_path / "periodic.csv"
    pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=len(t), freq="h"), "y": np.sin(2 * np.pi * t / 24)}
                 ).to_csv(path, index=False)
    code, _, err = run(["forecast", "fit", "--data", str(path), "--horizon", "4", "--input-size", "48",
                        "--epochs", "1", "--out", str(tmp_path / "m")], capsys)
    assert code == 0, err
    js = tmp_path / "m.json"
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no "Mean of empty slice" on the user's screen
        code, out, err = run(["forecast", "backtest", "--model", str(tmp_path / "m"), "--data", str(path),
                              "--start", "120", "--json", str(js)], capsys)
    assert code == 0, err
    m = json.loads(js.read_text())
    assert m["mase"] is None and m["naive_mase"] is None and m["naive_mae"] < 1e-6 and np.isfinite(m["mae"])
    assert "mase is undefined here: the in-sample seasonal naive error, its scale, is 0 for every series" in out


def test_semicolon_and_tab_separated_files_are_read(csv, tmp_path, capsys):
    df = pd.read_csv(csv)
    for sep, name in ((";", "semi.csv"), ("\t", "tabs.csv")):
        df.to_csv(tmp_path / name, sep=sep, index=False)
        code, out, err = run(["forecast", "fit", "--data", str(tmp_path / name), "--horizon", "4", "--input-size",
                              "12", "--epochs", "1", "--out", str(tmp_path / name[:4])], capsys)
        assert code == 0, err
        assert "fitted segrnn on 2 series" in out


def test_fit_without_the_linear_skip(csv, tmp_path, capsys):
    model = tmp_path / "m"
    code, _, err = run(["forecast", "fit", "--data", str(csv), "--horizon", "4", "--input-size", "12",
                        "--out", str(model), "--epochs", "1", "--no-linear-skip", "--device", "cpu"], capsys)
    assert code == 0, err
    cfg = json.loads((model / "config.json").read_text())
    assert cfg["params"]["linear_skip"] is False and cfg["net"]["linear_skip"] is False


def test_predict_plot_reads_a_wide_file_with_day_first_dates(tmp_path, capsys):
    t = pd.date_range("2024-01-01", periods=40, freq="D")
    path = tmp_path / "wide.csv"
    pd.DataFrame({"Date": t.strftime("%d.%m.%Y"), "Store A": np.sin(np.arange(40.0)), "Store B": np.arange(40.0)}
                 ).to_csv(path, sep=";", index=False)
    model, fc_path, png = tmp_path / "m", tmp_path / "fc.csv", tmp_path / "fc.png"
    code, _, err = run(["forecast", "fit", "--data", str(path), "--time-col", "Date", "--horizon", "4",
                        "--input-size", "12", "--epochs", "1", "--device", "cpu", "--out", str(model)], capsys)
    assert code == 0, err
    code, out, err = run(["forecast", "predict", "--model", str(model), "--data", str(path), "--out", str(fc_path),
                          "--plot", str(png)], capsys)
    assert code == 0, err
    assert png.stat().st_size > 0 and pd.read_csv(fc_path).Date.iloc[0] == "2024-02-10"


def test_ignored_columns_and_zero_padded_ids(csv, tmp_path, capsys):
    df = pd.read_csv(csv)
    df["unique_id"] = df["unique_id"].map({"a": "001", "b": "002"})
    df["note"] = "meter read by hand"
    path = tmp_path / "notes.csv"
    df.to_csv(path, index=False)
    model, fc_path = tmp_path / "m", tmp_path / "fc.csv"
    fit = ["forecast", "fit", "--data", str(path), "--horizon", "4", "--input-size", "12", "--out", str(model),
           "--epochs", "1", "--device", "cpu"]
    code, _, err = run(fit, capsys)
    assert code == 2 and err.startswith("error: column(s) ['note'] are not used") and "--ignore" in err
    assert run([*fit, "--ignore", "note"], capsys)[0] == 0
    code, _, err = run(["forecast", "predict", "--model", str(model), "--data", str(path), "--out", str(fc_path),
                        "--ignore", "note"], capsys)
    assert code == 0, err
    assert sorted(set(pd.read_csv(fc_path, dtype={"unique_id": str}).unique_id)) == ["001", "002"]
    code, _, err = run(["forecast", "backtest", "--model", str(model), "--data", str(path), "--start", "60",
                        "--ignore", "notes"], capsys)
    assert code == 2 and err.startswith("error: --ignore names column(s) ['notes'] that ")


def test_fit_refuses_an_out_folder_of_other_files_before_training(csv, capsys):
    code, out, err = run(["forecast", "fit", "--data", str(csv), "--horizon", "4", "--input-size", "12", "--out",
                          str(csv.parent), "--epochs", "1", "--device", "cpu"], capsys)
    assert code == 2 and err.startswith(f"error: cannot save the model to {csv.parent}: the folder holds other files")
    assert out == "" and csv.is_file()  # nothing trained, nothing lost


def test_calendar_features_from_the_command_line(csv, tmp_path, capsys):
    model = tmp_path / "model"
    code, out, err = run(["forecast", "fit", "--data", str(csv), "--horizon", "4", "--input-size", "12",
                          "--calendar", "auto", "--out", str(model), "--epochs", "1", "--device", "cpu"], capsys)
    assert code == 0, err
    assert "calendar features: day, week (sine / cosine of the phase)" in out  # what auto chose for hourly data
    assert json.loads((model / "config.json").read_text())["fitted"]["calendar"] == ["day", "week"]
    fc_path = tmp_path / "fc.csv"
    code, out, err = run(["forecast", "predict", "--model", str(model), "--data", str(csv), "--out", str(fc_path)],
                         capsys)
    assert code == 0, err  # no future covariates file: the calendar of the horizon is computed
    assert len(pd.read_csv(fc_path)) == 8
    steps = tmp_path / "steps.csv"
    pd.read_csv(csv).assign(ds=lambda d: d.groupby("unique_id").cumcount()).to_csv(steps, index=False)
    code, out, err = run(["forecast", "fit", "--data", str(steps), "--horizon", "4", "--input-size", "12", "--calendar", "auto",
                          "--out", str(tmp_path / "m2")], capsys)
    assert code == 2 and err.startswith("error: calendar features need dates in the time column") \
        and err.count("\n") == 1
    code, out, err = run(["forecast", "fit", "--data", str(csv), "--horizon", "4", "--calendar", "weak",
                          "--out", str(tmp_path / "m3")], capsys)
    assert code == 2 and err == "error: --calendar must be none, auto or cycles among day,week,year (e.g. day,week), " \
        "got 'weak'\n"


def test_calendar_flag_values():
    from rnnkit.cli.forecast import _calendar

    assert _calendar("none") is None and _calendar("AUTO") == "auto" and _calendar("Day, week") == ["day", "week"]
    with pytest.raises(ValueError, match="--calendar must be none, auto or cycles among day,week,year"):
        _calendar("day,month")
