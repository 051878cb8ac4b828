"""M4 Hourly (414 series, horizon 48, seasonality 24): sMAPE, MASE and OWA against Naive2.

One global model over all series (series-id embedding, log values by default, RevIN per window), forecasting the
48 hours after each training series; scored with the M4 definitions. Naive2 is recomputed here as a check on the
published values (sMAPE 18.383, MASE 2.395), which define OWA.

    python benchmarks/forecast/m4_hourly.py --data DIR --max-time 24
    python benchmarks/forecast/m4_hourly.py --data DIR --merge a.npz,b.npz   # median of runs saved with --save-forecasts
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from rnnkit.datasets.m4 import load_m4, m4_long
from rnnkit.forecast import Forecaster
from rnnkit.forecast import baselines as B
from rnnkit.forecast import metrics as M

H, SEASON = 48, 24
NAIVE2_SMAPE, NAIVE2_MASE = 18.383, 2.395  # published by the M4 organisers for Hourly


def score(train: dict, test: dict, forecasts: dict) -> dict:
    """Mean sMAPE and MASE over series, and OWA against the published Naive2."""
    s = [M.smape(test[k], forecasts[k]) for k in test]
    m = [M.mase(test[k], forecasts[k], M.seasonal_scale(train[k], SEASON)) for k in test]
    sm, ma = float(np.mean(s)), float(np.mean(m))
    return {"smape": round(sm, 3), "mase": round(ma, 3), "owa": round(M.owa(sm, ma, NAIVE2_SMAPE, NAIVE2_MASE), 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="benchmark data folder (default: $RNNKIT_DATA)")
    p.add_argument("--model", default="segrnn")
    p.add_argument("--input-size", type=int, default=168)
    p.add_argument("--hidden-size", type=int, default=None)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--max-time", type=float, default=8.0, help="training minutes")
    p.add_argument("--loss", default="mae")
    p.add_argument("--val-size", type=int, default=None,
                   help="last rows of each series held out for early stopping (default: the Forecaster's)")
    p.add_argument("--transform", default="log", help="log (model log values: errors relative to the level) or none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ema", type=float, default=None, help="weight averaging with this decay, e.g. 0.999")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None, help="append the result as one JSON line")
    p.add_argument("--save-forecasts", default=None, help="write the model's forecasts here (.npz, one array a series)")
    p.add_argument("--merge", default=None,
                   help="comma-separated .npz files from --save-forecasts: score their median, train nothing")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    train, test = load_m4("Hourly", args.data)
    if args.merge:
        runs = [np.load(f) for f in args.merge.split(",")]
        merged = {k: np.median(np.stack([r[k] for r in runs]), axis=0) for k in test}
        out = {"benchmark": "M4 Hourly", "ensemble_median_of": args.merge.split(","), **score(train, test, merged)}
        print(json.dumps(out), flush=True)
        return
    t0 = time.perf_counter()
    f = Forecaster(args.model, input_size=args.input_size, horizon=H, season_length=SEASON, loss=args.loss,
                   hidden_size=args.hidden_size, epochs=args.epochs, max_time=args.max_time, seed=args.seed,
                   val_size=args.val_size, transform=args.transform, ema_decay=args.ema,
                   num_threads=args.threads, device="cpu")
    f.fit(m4_long(train))
    fit_s = time.perf_counter() - t0
    fc = f.predict()
    model_fc = {k: g.yhat.to_numpy() for k, g in fc.groupby("unique_id")}
    if args.save_forecasts:
        np.savez(args.save_forecasts, **model_fc)
    baselines = {"naive2": {k: B.naive2(v, H, SEASON) for k, v in train.items()},
                 "seasonal_naive": {k: B.seasonal_naive(v, H, SEASON) for k, v in train.items()},
                 "naive": {k: B.naive(v, H) for k, v in train.items()}}
    out = {"benchmark": "M4 Hourly", "model": args.model, "input_size": args.input_size, **score(train, test, model_fc),
           "transform": args.transform, "val_size": args.val_size, "ema": args.ema, "epochs": f.fit_result_.epochs,
           "stopped": f.fit_result_.stopped, "fit_seconds": round(fit_s, 1)}
    for name, b in baselines.items():
        out.update({f"{name}_{k}": v for k, v in score(train, test, b).items()})
    out["total_seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out), flush=True)
    if args.json:
        with open(args.json, "a") as fh:
            fh.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
