"""Save / load a fitted Forecaster as a model folder: config.json + model.safetensors + history.json (the last
input_size rows of each training series, so ``predict()`` works right after loading). Nothing is pickled."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.forecast.frames import SeriesSet

FORMAT = "rnnkit.forecast/1"


def _times_json(t: pd.Index) -> list:
    return [x.isoformat() for x in t] if isinstance(t, pd.DatetimeIndex) else [int(x) for x in t]


def save_forecaster(f, path) -> None:
    from rnnkit.train import save_model_folder

    s = f.history_
    stats = {k: None if v is None else [v[0].tolist(), v[1].tolist()] for k, v in f.cov_stats_.items()}
    config = {"format": FORMAT, "params": f.get_params(), "net": f.net_config_.to_dict(),
              "fitted": {"columns": f.columns_, "freq": f.freq_, "has_id": f.has_id_, "fill": f.fill_,
                         "season_length": f.season_length_, "series_ids": f.series_ids_, "cov_stats": stats,
                         "calendar": list(f.calendar_)}}
    history = {"ids": s.ids, "times": [_times_json(t) for t in s.times], "values": [v.tolist() for v in s.values],
               "past": [p.tolist() for p in s.past], "future": [x.tolist() for x in s.future],
               "static": s.static.tolist()}
    save_model_folder(path, f.model_.state_dict(), config, extra={"history.json": json.dumps(history)})


def load_forecaster(cls, path):
    from rnnkit.forecast.models import NetConfig
    from rnnkit.forecast.network import ForecastModel
    from rnnkit.train import load_model_folder

    config, state = load_model_folder(path, required=("history.json",))
    if config.get("format") != FORMAT:
        raise ValueError(f"{path} is not a forecasting model folder (config.json format is "
                         f"{config.get('format')!r}, expected {FORMAT!r})")
    f = cls(**config["params"])
    fit = config["fitted"]
    f.columns_, f.freq_, f.has_id_ = fit["columns"], fit["freq"], fit["has_id"]
    f.fill_ = fit.get("fill")  # folders written before fill was kept have none
    f.season_length_, f.series_ids_ = fit["season_length"], fit["series_ids"]
    f.calendar_ = tuple(fit.get("calendar", ()))  # folders written before calendar features have none
    f.cov_stats_ = {k: None if v is None else (np.asarray(v[0], np.float32), np.asarray(v[1], np.float32))
                    for k, v in fit["cov_stats"].items()}
    f.net_config_ = NetConfig(**config["net"])
    f.model_ = ForecastModel(f.net_config_, f.spec_, f.norm, f.transform)
    f.model_.load_state_dict(state)
    f.model_.eval()
    h = json.loads((Path(path) / "history.json").read_text())
    dt = isinstance(f.freq_, str)
    cols = f.columns_
    f.history_ = SeriesSet(
        ids=h["ids"], freq=f.freq_, has_id=f.has_id_,
        times=[pd.DatetimeIndex(pd.to_datetime(t)) if dt else pd.Index(t, dtype="int64") for t in h["times"]],
        values=[np.asarray(v, np.float32) for v in h["values"]],
        past=[np.asarray(p, np.float32).reshape(len(v), -1) for p, v in zip(h["past"], h["values"])],
        future=[np.asarray(x, np.float32).reshape(len(v), -1) for x, v in zip(h["future"], h["values"])],
        static=np.asarray(h["static"], np.float32).reshape(len(h["ids"]), -1),
        past_cols=cols["past_covariates"], future_cols=cols["future_covariates"],
        static_cols=cols["static_covariates"])
    return f
