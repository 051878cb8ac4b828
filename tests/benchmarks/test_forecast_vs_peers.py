"""The side-by-side forecasting benchmark's harness: windows, metrics, medians, goal checks and peer skipping.

The peers (Darts, NeuralForecast) are not needed: an absent peer must be skipped with a message while the rnnkit
rows still run, here on a tiny generated task.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "forecast_vs_peers"
sys.path.insert(0, str(BENCH))

import common  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402
import summarize  # noqa: E402


def _spec(**kw) -> common.TaskSpec:
    base = dict(name="t", input_size=96, horizon=96, train_end=8640, es_train_end=8640, val_end=11520,
                test_start=11520, test_end=14400, season=24)
    return common.TaskSpec(**{**base, **kw})


def test_etth1_window_counts_follow_the_standard_protocol():
    spec = _spec()
    assert len(common.origins(spec, "train")) == 8640 - 96 - 96 + 1  # 8,449
    assert len(common.origins(spec, "val")) == 2880 - 96 + 1
    test = common.origins(spec, "test")
    assert len(test) == 2785 and test[0] == 11520 and test[-1] + 96 == 14400


def test_windows_are_channel_major_and_aligned_with_targets():
    series = np.arange(2 * 20, dtype=np.float32).reshape(2, 20)
    x, y = common.windows(series, np.array([5, 6]), L=3, H=2)
    assert x.shape == (4, 3) and y.shape == (4, 2)
    np.testing.assert_array_equal(x[0], [2, 3, 4])
    np.testing.assert_array_equal(y[0], [5, 6])
    np.testing.assert_array_equal(x[2], [22, 23, 24])  # channel 1, origin 5
    np.testing.assert_array_equal(y[3], [26, 27])


def test_seasonal_naive_repeats_the_last_season():
    series = np.arange(30, dtype=np.float64)[None, :]
    pred = common.seasonal_naive(series, np.array([10]), H=5, season=4)
    np.testing.assert_array_equal(pred[0], [6, 7, 8, 9, 6])


def test_metrics_and_shape_mismatch_message():
    m = common.metrics(np.zeros((2, 3)), np.full((2, 3), 2.0))
    assert m == {"mae": 2.0, "mse": 4.0}
    with pytest.raises(ValueError, match=r"predictions have shape \(2, 3\), targets \(3, 2\)"):
        common.metrics(np.zeros((2, 3)), np.zeros((3, 2)))


def _rec(run_name, fit, pred, mse, rnd=0):
    return {"run": run_name, "fit_s": fit, "predict_s": pred, "process_s": fit + 5, "peak_rss_mb": 100.0,
            "mae": mse ** 0.5, "mse": mse, "latency_p50_ms": 1.0, "latency_p95_ms": 2.0, "round": rnd}


def test_medians_ratios_and_goal_checks():
    records = [_rec("darts", f, 1.0, 0.08) for f in (40.0, 50.0, 60.0)]
    records += [_rec("neuralforecast", 45.0, 2.0, 0.07)]
    records += [_rec("rnnkit-default", f, 0.1, 0.02) for f in (3.0, 4.0, 100.0)]  # one slow outlier round
    records += [{"run": "torch", "error": "exit 1", "round": 0}]
    med = report.medians(records)
    assert med["darts"]["fit_s"] == 50.0 and med["darts"]["rounds"] == 3
    assert med["rnnkit-default"]["fit_predict_s"] == pytest.approx(4.1)
    assert med["torch"] == {"rounds": 0, "failed": 1}
    lines = report.goals(med, {"mae": 0.1, "mse": 0.01}, run.PEERS)
    assert lines[0].startswith("- goal") and "MET" in lines[0] and "NOT MET" not in lines[0]
    assert "0.087x" in lines[0]  # 4.1 s against NeuralForecast's 47 s
    assert "moonshot" in lines[1] and "NOT MET" in lines[1]  # MSE 0.02 > naive 0.01


def test_unknown_task_is_rejected(tmp_path):
    with pytest.raises(SystemExit, match="unknown task or run 'nope'"):
        run.main(["--tasks", "nope", "--out", str(tmp_path)])


def test_etth1_needs_a_data_folder(monkeypatch):
    monkeypatch.delenv("RNNKIT_DATA", raising=False)
    with pytest.raises(OSError, match="pass --data DIR or set RNNKIT_DATA"):
        run.data_dir(None)


def test_absent_peers_are_skipped_and_rnnkit_rows_run(tmp_path, capsys):
    missing = str(tmp_path / "no-such-python")
    summary = run.main(["--tasks", "synthetic", "--runs", "darts,neuralforecast,rnnkit-lfl,rnnkit-default",
                        "--rounds", "1", "--peer-python", missing, "--out", str(tmp_path), "--hidden", "8",
                        "--layers", "1", "--synthetic-points", "300", "--latency-calls", "3"])
    out = capsys.readouterr().out
    assert f"skipping darts: interpreter {missing} does not exist" in out
    assert "skipping neuralforecast" in out
    records = summary["tasks"]["synthetic"]["records"]
    assert sorted(r["run"] for r in records) == ["rnnkit-default", "rnnkit-lfl"]
    for r in records:
        assert "error" not in r, r
        assert np.isfinite(r["mse"]) and r["fit_s"] > 0 and r["process_s"] > r["fit_s"]
        assert r["test_windows"] == 2 * (300 - 240 - 24 + 1)
    table = (tmp_path / "results.md").read_text()
    assert "| rnnkit like-for-like LSTM |" in table and "| rnnkit default: Forecaster('segrnn')" in table
    assert "no peer ran" in table  # without peers or the raw loop there is no reference for the ratio
    rebuilt = summarize.summarize(tmp_path)["tasks"]["synthetic"]  # the same table from the files alone
    assert sorted((r["run"], r["mse"], r["process_s"]) for r in rebuilt["records"]) == sorted(
        (r["run"], r["mse"], r["process_s"]) for r in records)


def test_without_peer_python_peers_are_skipped():
    args = run.argparse.Namespace(peer_python=None)
    assert run.peer_missing("darts", args) == ("skipping darts: no --peer-python given "
                                               "(install the peers as in requirements-peers.txt)")
