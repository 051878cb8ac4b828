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
    ap.add_argument("--max-time", type=float, default=9.0, help="wall-clock minutes of training per model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", default=None,
                    help="comma list: train one model per seed and average their probabilities (an ensemble)")
    ap.add_argument("--save-proba", default=None, help="write the test probabilities of this run here (.npz)")
    ap.add_argument("--merge", default=None,
                    help="comma list of --save-proba files from parallel runs: report their averaged ensemble")
    ap.add_argument("--cell", default="lstm")
    ap.add_argument("--pooling", default="attention")
    ap.add_argument("--params", default="{}", help="extra TextClassifier arguments as JSON")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from rnnkit.datasets.text import read_classification
    from rnnkit.text import TextClassifier
    from rnnkit.text.metrics import accuracy, macro_f1

    d = data_dir(args.data)
    train = read_classification(d / f"stsa.{args.task}.train")
    dev = read_classification(d / f"stsa.{args.task}.dev")
    test = read_classification(d / f"stsa.{args.task}.test")
    task = f"sst-{'2' if args.task == 'binary' else '5'}"

    def scores(probs, classes) -> dict:
        """Test accuracy and macro-F1 of averaged class probabilities ``(N, C)`` (columns follow ``classes``)."""
        y, pred = np.array([classes.index(str(v)) for v in test[1]]), probs.argmax(1)
        return {"test_accuracy": round(accuracy(y, pred), 4), "test_macro_f1": round(macro_f1(y, pred, len(classes)), 4)}

    def report(out: dict) -> None:
        print(json.dumps(out, indent=1))
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1) + "\n")

    if args.merge:
        files = args.merge.split(",")
        saved = [np.load(f) for f in files]
        probs = np.mean([z["probs"] for z in saved], axis=0)
        return report({"task": task, "ensemble_of": files, **scores(probs, [str(c) for c in saved[0]["classes"]])})
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    runs, probs = [], []
    t0, c0 = time.time(), time.process_time()
    for seed in seeds:
        params = dict(epochs=args.epochs, max_time=args.max_time, seed=seed, cell=args.cell, pooling=args.pooling,
                      device="cpu", progress=False, **json.loads(args.params))
        clf = TextClassifier(**params).fit(*train, valid=dev)
        res = clf.evaluate(*test)
        probs.append(clf.predict_proba(test[0]))
        best = max(clf.history_.history, key=lambda r: r.get("val_accuracy", 0))
        runs.append({"seed": seed, "test_accuracy": round(res["accuracy"], 4), "test_macro_f1": round(res["macro_f1"], 4),
                     "dev_accuracy": round(best["val_accuracy"], 4), "best_epoch": best["epoch"],
                     "epochs_run": clf.history_.epochs})
        for r in clf.history_.history:
            print(f"seed {seed} epoch {r['epoch']}: train_loss {r['train_loss']:.4f} "
                  f"val_acc {r.get('val_accuracy', 0):.4f} t {r['seconds']:.0f}s")
    seconds, cpu = time.time() - t0, time.process_time() - c0
    mean = np.mean(probs, axis=0)
    if args.save_proba:
        np.savez(args.save_proba, probs=mean, classes=np.array(clf.classes_))
    out = {"task": task, **scores(mean, clf.classes_), "models": runs,
           "train_seconds": round(seconds, 1), "train_cpu_seconds": round(cpu, 1),
           "threads": args.threads, "torch": torch.__version__, "machine": platform.machine(), "params": params}
    if len(seeds) == 1:
        out.update({k: runs[0][k] for k in ("dev_accuracy", "best_epoch", "epochs_run")})
    report(out)


if __name__ == "__main__":
    main()
