"""The built-in demo series against seasonal naive: Taylor's half-hourly electricity demand (the `rnnkit forecast
demo` setting: train 10 weeks, day-ahead forecasts from every half-hour of the last 2 weeks, weekly seasonal naive).

    python benchmarks/forecast/demo_series.py --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from rnnkit.forecast.demo import taylor_demo


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="0", help="comma-separated seeds")
    p.add_argument("--epochs", type=int, default=40, help="training epochs per seed (the demo's budget)")
    p.add_argument("--max-time", type=float, default=None, help="cap in training minutes per seed")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quantiles", action="store_true", help="train quantiles 0.1 / 0.5 / 0.9 (pinball loss)")
    p.add_argument("--ema", type=float, default=None, help="weight averaging with this decay, e.g. 0.999")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        with tempfile.TemporaryDirectory() as d:
            m = taylor_demo(Path(d), echo=lambda *a: None, max_time=args.max_time, seed=seed, epochs=args.epochs,
                            quantiles=(0.1, 0.9) if args.quantiles else None, ema_decay=args.ema)
        rows.append(m)
        print(json.dumps({"seed": seed, **{k: round(v, 4) for k, v in m.items()}}), flush=True)
    z = np.array([r["mae_z"] for r in rows])
    print(json.dumps({"mae_z_median": round(float(np.median(z)), 4), "naive_mae_z": round(rows[0]["naive_mae_z"], 4),
                      "wins": int((z < rows[0]["naive_mae_z"]).sum()), "runs": len(rows)}))


if __name__ == "__main__":
    main()
