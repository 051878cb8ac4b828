"""ETTh1 / ETTh2 / ETTm1 / ETTm2 on the standard long-horizon protocol, against SegRNN's published numbers.

Protocol (Informer / Autoformer / DLinear / PatchTST / SegRNN): split 12 / 4 / 4 months, z-score with the training
statistics, input L = 96, all 7 channels forecast independently, MSE / MAE on the scaled test set over every test
window with stride 1 (no drop_last). The validation split drives early stopping.

    python benchmarks/forecast/ett.py --data DIR --dataset ETTh1 --horizons 96            # one horizon: minutes
    python benchmarks/forecast/ett.py --data DIR --dataset ETTh1 --horizons 96,192,336,720  # full table: slow
    python benchmarks/forecast/ett.py --data DIR --dataset ETTh1 --horizons 720 --seeds 0,1,2  # mean of 3 models
    python benchmarks/forecast/ett.py ... --save-forecasts a; ... --save-forecasts b   # two runs, other settings
    python benchmarks/forecast/ett.py --merge a-ETTh1-720.npz,b-ETTh1-720.npz           # the mean of all their models
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
import torch

from rnnkit.datasets.ett import CHANNELS, ett_splits
from rnnkit.forecast import Forecaster, metrics

# SegRNN README, input 96 (MSE): the targets to beat.
PUBLISHED_MSE = {"ETTh1": {96: 0.368, 192: 0.408, 336: 0.444, 720: 0.446},
                 "ETTh2": {96: 0.278, 192: 0.359, 336: 0.421, 720: 0.432}}


def wide(z: np.ndarray, dates: np.ndarray | None = None) -> pd.DataFrame:
    """(T, 7) -> wide frame, one column per channel (channel-independent series); time column ``ds``: the
    ``dates`` (T,) when given, else integer steps."""
    df = pd.DataFrame(z, columns=CHANNELS)
    df.insert(0, "ds", np.arange(len(df)) if dates is None else dates)
    return df


def frames(sp: dict, calendar) -> dict[str, pd.DataFrame]:
    """The train / val / test frames; with ``calendar`` their time column holds the dates, for calendar features."""
    return {k: wide(sp[k], sp[f"{k}_dates"] if calendar else None) for k in ("train", "val", "test")}


def fit_one(fr: dict, horizon: int, seed: int, args) -> tuple[Forecaster, float]:
    t0 = time.perf_counter()
    f = Forecaster(args.model, input_size=args.input_size, horizon=horizon, hidden_size=args.hidden_size,
                   norm=args.norm, dropout=args.dropout, epochs=args.epochs, max_time=args.max_time,
                   lr=args.lr, batch_size=args.batch_size, seed=seed, num_threads=args.threads, device="cpu",
                   early_stopping_patience=args.patience, segment_length=args.segment_length, loss=args.loss,
                   linear_skip=not args.no_skip, cell=args.cell, ema_decay=args.ema,
                   calendar=args.calendar.split(",") if args.calendar else None,
                   season_length=1)  # naive = the last value, as the "repeat last" baseline of the literature
    f.fit(fr["train"], val_data=fr["val"])
    return f, time.perf_counter() - t0


def run(dataset: str, horizon: int, args) -> dict:
    """Train one model per seed; with several seeds, also score the mean of their forecasts (an ensemble)."""
    fr = frames(ett_splits(dataset, args.input_size, args.data), args.calendar)
    t0 = time.perf_counter()
    seeds = [int(x) for x in str(args.seeds).split(",")]
    members, test_hat, val_hat = [], [], []
    for seed in seeds:
        f, fit_s = fit_one(fr, horizon, seed, args)
        res = f.backtest(fr["test"], start=args.input_size, stride=1)
        val = f.backtest(fr["val"], start=args.input_size, stride=1)  # for choosing settings, not test
        test_hat.append(res.array("yhat"))
        val_hat.append(val.array("yhat"))
        members.append({"seed": seed, "mse": round(res.metrics["mse"], 4), "mae": round(res.metrics["mae"], 4),
                        "val_mse": round(val.metrics["mse"], 4), "epochs": f.fit_result_.epochs,
                        "stopped": f.fit_result_.stopped, "fit_seconds": round(fit_s, 1)})
    # every member backtests the same windows, so the actuals of the last one serve for the mean forecast
    test_mean, val_mean = np.mean(test_hat, 0), np.mean(val_hat, 0)
    mse, mae = metrics.mse(res.array("y"), test_mean), metrics.mae(res.array("y"), test_mean)
    val_mse = metrics.mse(val.array("y"), val_mean)
    out = {"dataset": dataset, "horizon": horizon, "model": args.model, "mse": round(mse, 4), "mae": round(mae, 4),
           "repeat_last_mse": round(res.metrics["naive_mse"], 4),
           "segrnn_published_mse": PUBLISHED_MSE.get(dataset, {}).get(horizon),
           "windows": int(res.metrics["n_windows"]), "val_mse": round(val_mse, 4), "loss": args.loss, "cell": args.cell,
           "ema": args.ema, "calendar": args.calendar or False}
    if len(seeds) == 1:
        out.update({k: v for k, v in members[0].items() if k not in out and k != "seed"})
    else:
        out["ensemble_of"] = len(seeds)
        out["members"] = members
    out["total_seconds"] = round(time.perf_counter() - t0, 1)
    if args.save_forecasts:
        np.savez_compressed(f"{args.save_forecasts}-{dataset}-{horizon}.npz", test_y=res.array("y"),
                            val_y=val.array("y"), test_hat=np.stack(test_hat), val_hat=np.stack(val_hat))
    return out


def merge(files: list[str]) -> dict:
    """Score the mean forecast of every model saved in ``files`` (``--save-forecasts`` outputs of one dataset and
    horizon, e.g. runs with different settings): an ensemble over runs."""
    runs = [np.load(f) for f in files]
    for f, r in zip(files[1:], runs[1:]):
        if r["test_y"].shape != runs[0]["test_y"].shape or not np.array_equal(r["test_y"], runs[0]["test_y"]):
            raise SystemExit(f"error: {f} holds other test windows than {files[0]}: merge runs of one dataset "
                             "and horizon only")
    test_hat = np.concatenate([r["test_hat"] for r in runs]).mean(0)
    val_hat = np.concatenate([r["val_hat"] for r in runs]).mean(0)
    y, vy = runs[0]["test_y"], runs[0]["val_y"]
    return {"merged": files, "models": int(sum(len(r["test_hat"]) for r in runs)),
            "mse": round(metrics.mse(y, test_hat), 4), "mae": round(metrics.mae(y, test_hat), 4),
            "val_mse": round(metrics.mse(vy, val_hat), 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="benchmark data folder (default: $RNNKIT_DATA)")
    p.add_argument("--dataset", default="ETTh1", help="ETTh1, ETTh2, ETTm1 or ETTm2 (comma-separated for several)")
    p.add_argument("--horizons", default="96", help="comma-separated, e.g. 96,192,336,720")
    p.add_argument("--input-size", type=int, default=96)
    p.add_argument("--model", default="segrnn")
    p.add_argument("--hidden-size", type=int, default=None)
    p.add_argument("--segment-length", type=int, default=None, help="SegRNN segment w (default: the Forecaster's)")
    p.add_argument("--cell", default="gru", help="recurrent cell: gru (SegRNN's), lstm or rnn")
    p.add_argument("--no-skip", action="store_true", help="SegRNN without the linear skip from history to horizon")
    p.add_argument("--norm", default="revin")
    p.add_argument("--calendar", nargs="?", const="day,week", default=None, metavar="CYCLES",
                   help="calendar features (Forecaster(calendar=...)): the hour of the day and of the week, or the "
                        "cycles named, e.g. --calendar week")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--max-time", type=float, default=None, help="minutes of training per horizon")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--loss", default="mae", help="training loss: mae (default) or mse (the metric the table reports)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--ema", type=float, default=None, help="weight averaging with this decay, e.g. 0.999")
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--seeds", default="0",
                   help="comma-separated seeds; with several, the mean of their forecasts is scored as an ensemble")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None, help="append one JSON line per result to this file")
    p.add_argument("--save-forecasts", default=None, metavar="PREFIX",
                   help="write every model's test and validation forecasts to PREFIX-DATASET-HORIZON.npz")
    p.add_argument("--merge", default=None, metavar="A.npz,B.npz",
                   help="score the mean forecast of the models in these --save-forecasts files, then exit")
    args = p.parse_args()
    if args.merge:
        print(json.dumps(merge(args.merge.split(","))))
        return
    torch.set_num_threads(args.threads)
    for dataset in args.dataset.split(","):
        for h in [int(x) for x in args.horizons.split(",")]:
            r = run(dataset, h, args)
            print(json.dumps(r), flush=True)
            if args.json:
                with open(args.json, "a") as fh:
                    fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
