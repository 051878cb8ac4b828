"""ETTh1 / ETTh2 / ETTm1 / ETTm2 on the standard long-horizon protocol, against SegRNN's published numbers.

Protocol (Informer / Autoformer / DLinear / PatchTST / SegRNN): split 12 / 4 / 4 months, z-score with the training
statistics, input L = 96, all 7 channels forecast independently, MSE / MAE on the scaled test set over every test
window with stride 1 (no drop_last). The validation split drives early stopping.

    python benchmarks/forecast/ett.py --data DIR --dataset ETTh1 --horizons 96            # one horizon: minutes
    python benchmarks/forecast/ett.py --data DIR --dataset ETTh1 --horizons 96,192,336,720  # full table: slow
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import pandas as pd
import torch

from rnnkit.datasets.ett import CHANNELS, ett_splits
from rnnkit.forecast import Forecaster

# SegRNN README, input 96 (MSE): the targets to beat.
PUBLISHED_MSE = {"ETTh1": {96: 0.368, 192: 0.408, 336: 0.444, 720: 0.446},
                 "ETTh2": {96: 0.278, 192: 0.359, 336: 0.421, 720: 0.432}}


def wide(z: np.ndarray) -> pd.DataFrame:
    """(T, 7) -> wide frame with integer time steps, one column per channel (channel-independent series)."""
    df = pd.DataFrame(z, columns=CHANNELS)
    df.insert(0, "ds", np.arange(len(df)))
    return df


def run(dataset: str, horizon: int, args) -> dict:
    sp = ett_splits(dataset, args.input_size, args.data)
    t0 = time.perf_counter()
    f = Forecaster(args.model, input_size=args.input_size, horizon=horizon, hidden_size=args.hidden_size,
                   norm=args.norm, dropout=args.dropout, epochs=args.epochs, max_time=args.max_time,
                   lr=args.lr, batch_size=args.batch_size, seed=args.seed, num_threads=args.threads, device="cpu",
                   early_stopping_patience=args.patience, segment_length=args.segment_length, loss=args.loss)
    if args.no_skip:
        f.net_config_ = dataclasses.replace(f.net_config_, linear_skip=False)
    f.fit(wide(sp["train"]), val_data=wide(sp["val"]))
    fit_s = time.perf_counter() - t0
    res = f.backtest(wide(sp["test"]), start=args.input_size, stride=1)
    m = res.metrics
    val = f.backtest(wide(sp["val"]), start=args.input_size, stride=1).metrics  # for choosing settings, not test
    pub = PUBLISHED_MSE.get(dataset, {}).get(horizon)
    return {"dataset": dataset, "horizon": horizon, "model": args.model, "mse": round(m["mse"], 4),
            "mae": round(m["mae"], 4), "repeat_last_mse": round(m["naive_mse"], 4), "segrnn_published_mse": pub,
            "windows": int(m["n_windows"]), "val_mse": round(val["mse"], 4), "loss": args.loss,
            "epochs": f.fit_result_.epochs, "stopped": f.fit_result_.stopped,
            "fit_seconds": round(fit_s, 1), "total_seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="benchmark data folder (default: $RNNKIT_DATA)")
    p.add_argument("--dataset", default="ETTh1", help="ETTh1, ETTh2, ETTm1 or ETTm2 (comma-separated for several)")
    p.add_argument("--horizons", default="96", help="comma-separated, e.g. 96,192,336,720")
    p.add_argument("--input-size", type=int, default=96)
    p.add_argument("--model", default="segrnn")
    p.add_argument("--hidden-size", type=int, default=None)
    p.add_argument("--segment-length", type=int, default=None, help="SegRNN segment w (default: the Forecaster's)")
    p.add_argument("--no-skip", action="store_true", help="SegRNN without the linear skip from history to horizon")
    p.add_argument("--norm", default="revin")
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--max-time", type=float, default=None, help="minutes of training per horizon")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--loss", default="mae", help="training loss: mae (default) or mse (the metric the table reports)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", default=None, help="append one JSON line per result to this file")
    args = p.parse_args()
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
