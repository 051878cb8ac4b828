"""SST-2 / SST-5 sentence classification with rnnkit.text.TextClassifier, from random init.

Trains on stsa.{binary,fine}.train, picks the epoch by dev accuracy, reports test accuracy and macro-F1.

    python benchmarks/text/sst.py --data DATA_DIR --task binary --max-time 9 --threads 2
    (DATA_DIR holds sst/; defaults to $RNNKIT_DATA)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path


def data_dir(arg: str | None) -> Path:
    d = arg or os.environ.get("RNNKIT_DATA")
    if not d:
        sys.exit("error: give --data DIR or set RNNKIT_DATA to the folder that holds sst/")
    p = Path(d) / "sst"
    if not p.is_dir():
        sys.exit(f"error: {p} does not exist; --data must be the folder that holds sst/")
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None)
    ap.add_argument("--task", choices=["binary", "fine"], default="binary")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--max-time", type=float, default=9.0, help="wall-clock minutes of training")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cell", default="lstm")
    ap.add_argument("--pooling", default="attention")
    ap.add_argument("--params", default="{}", help="extra TextClassifier arguments as JSON")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from rnnkit.datasets.text import read_classification
    from rnnkit.text import TextClassifier

    d = data_dir(args.data)
    train = read_classification(d / f"stsa.{args.task}.train")
    dev = read_classification(d / f"stsa.{args.task}.dev")
    test = read_classification(d / f"stsa.{args.task}.test")
    params = dict(epochs=args.epochs, max_time=args.max_time, seed=args.seed, cell=args.cell, pooling=args.pooling,
                  device="cpu", progress=False, **json.loads(args.params))
    t0, c0 = time.time(), time.process_time()
    clf = TextClassifier(**params).fit(*train, valid=dev)
    seconds, cpu = time.time() - t0, time.process_time() - c0
    res = clf.evaluate(*test)
    best = max(clf.history_.history, key=lambda r: r.get("val_accuracy", 0))
    out = {"task": f"sst-{'2' if args.task == 'binary' else '5'}", "test_accuracy": round(res["accuracy"], 4),
           "test_macro_f1": round(res["macro_f1"], 4), "dev_accuracy": round(best["val_accuracy"], 4),
           "best_epoch": best["epoch"], "epochs_run": clf.history_.epochs, "train_seconds": round(seconds, 1),
           "train_cpu_seconds": round(cpu, 1),
           "threads": args.threads, "torch": torch.__version__, "machine": platform.machine(), "params": params}
    print(json.dumps(out, indent=1))
    for r in clf.history_.history:
        print(f"epoch {r['epoch']}: train_loss {r['train_loss']:.4f} val_acc {r.get('val_accuracy', 0):.4f} "
              f"t {r['seconds']:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
