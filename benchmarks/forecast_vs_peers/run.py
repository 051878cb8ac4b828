"""Forecasting speed side by side: rnnkit, a raw PyTorch loop, Darts and NeuralForecast, each in its own process.

Usage (see README.md in this folder; peers live in their own virtual environment):

    python benchmarks/forecast_vs_peers/run.py --tasks taylor,etth1 --rounds 3 \
        --peer-python /path/to/peers-venv/bin/python --data DATA_DIR --out bench-out

Every round runs every selected worker once, in a rotated order (rounds are interleaved so that load from
other jobs on a shared machine spreads over all rows), with one thread (OMP_NUM_THREADS=1 and
torch.set_num_threads(1)). The table reports medians over rounds. A peer whose library cannot be imported by
``--peer-python`` is skipped with a message. Results: ``OUT/results.json`` (every record) and ``OUT/results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import report  # noqa: E402

# run name -> (worker script, extra args, which interpreter, module that must import, label)
RUNS = {
    "rnnkit-default": ("run_rnnkit.py", ["--mode", "default"], "self", "rnnkit",
                       "rnnkit default: Forecaster('segrnn'), early stop"),
    "rnnkit-lfl": ("run_rnnkit.py", ["--mode", "lfl"], "self", "rnnkit", "rnnkit like-for-like LSTM"),
    "torch": ("run_torch.py", [], "self", "torch", "raw PyTorch loop"),
    "torch-ftz": ("run_torch.py", ["--ftz"], "self", "torch", "raw PyTorch loop + flush-to-zero"),
    "darts": ("run_darts.py", [], "peer", "darts", "Darts BlockRNNModel (LSTM)"),
    "neuralforecast": ("run_neuralforecast.py", [], "peer", "neuralforecast", "NeuralForecast LSTM"),
}
PEERS = ("darts", "neuralforecast")
TASKS = ("taylor", "etth1", "synthetic")


def load_taylor(peer_python: str | None) -> tuple[np.ndarray, str]:
    """pmdarima's ``taylor`` (4,032 half-hourly points): from this interpreter, else from the peers' one."""
    try:
        from pmdarima.datasets import load_taylor as _load

        return np.asarray(_load(as_series=False), dtype=np.float64), "pmdarima (this environment)"
    except ImportError:
        pass
    code = "import json; from pmdarima.datasets import load_taylor as f; print(json.dumps(f(as_series=False).tolist()))"
    if peer_python and Path(peer_python).exists():
        out = subprocess.run([peer_python, "-c", code], capture_output=True, text=True)
        if out.returncode == 0:
            return np.asarray(json.loads(out.stdout), dtype=np.float64), "pmdarima (peers' environment)"
    raise OSError("the taylor task needs pmdarima's taylor series: `pip install pmdarima` here, or pass "
                  "--peer-python pointing at an interpreter that has it (see requirements-peers.txt)")


def data_dir(arg: str | None) -> Path:
    d = arg or os.environ.get("RNNKIT_DATA")
    if not d:
        raise OSError("the etth1 task reads ETT/ETTh1.csv from the data folder: pass --data DIR or set RNNKIT_DATA")
    if not (Path(d) / "ETT" / "ETTh1.csv").is_file():
        raise OSError(f"{Path(d) / 'ETT' / 'ETTh1.csv'} not found: --data / RNNKIT_DATA must be the data folder")
    return Path(d)


def zscore(series: np.ndarray, end: int) -> np.ndarray:
    """Scale each channel of ``(C, N)`` with the mean and std of its first ``end`` points (train statistics)."""
    mu, sd = series[:, :end].mean(1, keepdims=True), series[:, :end].std(1, keepdims=True)
    return (series - mu) / sd


def build_task(name: str, args) -> tuple[common.TaskSpec, np.ndarray]:
    """The task's spec and z-scored ``series (C, N)``; budgets from the command line."""
    lfl = dict(hidden=args.hidden, layers=args.layers, batch_size=args.batch_size, lr=args.lr,
               latency_calls=args.latency_calls)
    if name == "taylor":
        raw, source = load_taylor(args.peer_python)
        N = len(raw)
        test_start = N - round(0.2 * N)  # last 20% of points are the test targets
        val_start = N - round(0.3 * N)  # the default row stops early on the 10% before the test part
        spec = common.TaskSpec("taylor", 336, 48, train_end=test_start, es_train_end=val_start, val_end=test_start,
                               test_start=test_start,
                               test_end=N, season=336, epochs=args.epochs or 10, **lfl,
                               notes={"source": source, "split": f"test = last 20% ({N - test_start} points)"})
        return spec, zscore(raw[None, :], test_start)
    if name == "etth1":
        import pandas as pd

        frame = pd.read_csv(data_dir(args.data) / "ETT" / "ETTh1.csv")
        raw = frame.drop(columns=["date"]).to_numpy(np.float64).T  # (7, 17420)
        tr, va, te = 12 * 30 * 24, 4 * 30 * 24, 4 * 30 * 24  # 8,640 / 2,880 / 2,880 rows
        spec = common.TaskSpec("etth1", 96, 96, train_end=tr, es_train_end=tr, val_end=tr + va, test_start=tr + va,
                               test_end=tr + va + te, season=24, epochs=args.etth1_epochs,
                               train_windows=args.etth1_train_windows, **lfl,
                               notes={"source": "ETT/ETTh1.csv", "split": "12/4/4 months (8640/2880/2880 rows)"})
        return spec, zscore(raw, tr)
    # synthetic: two noisy daily cycles, small enough for tests
    rng = np.random.default_rng(0)
    t = np.arange(args.synthetic_points)
    raw = np.stack([np.sin(2 * np.pi * t / 24 + p) + 0.1 * rng.standard_normal(len(t)) for p in (0.0, 1.0)])
    N = raw.shape[1]
    spec = common.TaskSpec("synthetic", 48, 24, train_end=int(0.8 * N), es_train_end=int(0.6 * N), val_end=int(0.8 * N),
                           test_start=int(0.8 * N), test_end=N, season=24, epochs=args.epochs or 1, **lfl,
                           notes={"source": "generated", "tiny": True})
    return spec, zscore(raw, spec.train_end)


def peer_missing(run: str, args) -> str | None:
    """Why ``run`` cannot run here, or None."""
    _, _, where, module, _ = RUNS[run]
    python = sys.executable if where == "self" else args.peer_python
    if where == "peer" and not args.peer_python:
        return f"skipping {run}: no --peer-python given (install the peers as in requirements-peers.txt)"
    if not Path(python).exists():
        return f"skipping {run}: interpreter {python} does not exist"
    if where == "self":
        import importlib.util

        return None if importlib.util.find_spec(module) else f"skipping {run}: `import {module}` fails here"
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True, text=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"skipping {run}: `import {module}` fails in {python} ({last})"
    return None


def run_one(run: str, task_file: Path, out_dir: Path, rnd: int, args) -> dict:
    """One worker process; adds whole-process wall time and the child's peak RSS from wait4."""
    script, extra, where, _, _ = RUNS[run]
    python = sys.executable if where == "self" else args.peer_python
    res = out_dir / f"{task_file.stem}-{run}-r{rnd}.json"
    log = out_dir / f"{task_file.stem}-{run}-r{rnd}.log"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}
    if where == "self":  # the rnnkit worker imports rnnkit from this checkout's src
        src = str(HERE.parents[1] / "src")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [python, str(HERE / script), *extra, "--task", str(task_file), "--out", str(res)]
    if args.ftz_peers and where == "peer":
        cmd.append("--ftz")
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0 or not res.exists():
        tail = log.read_text().strip().splitlines()[-5:]
        print(f"  {run}: FAILED (exit {proc.returncode}); last lines of {log}:\n    " + "\n    ".join(tail),
              flush=True)
        return {"run": run, "error": f"exit {proc.returncode}", "round": rnd}
    rec = json.loads(res.read_text())
    rec.update(round=rnd, process_s=wall, process_cpu_s=usage.ru_utime + usage.ru_stime,
               child_maxrss_mb=usage.ru_maxrss / 1024.0)
    res.write_text(json.dumps(rec, indent=1))  # complete record, so that summarize.py can rebuild a partial run
    print(f"  {run}: fit {rec['fit_s']:.2f}s (CPU {rec['fit_cpu_s']:.2f}s) predict {rec['predict_s']:.3f}s "
          f"process {wall:.1f}s (CPU {rec['process_cpu_s']:.1f}s) "
          f"MAE {rec['mae']:.4f} MSE {rec['mse']:.4f}", flush=True)
    return rec


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", default="taylor,etth1", help=f"comma list of {TASKS}")
    p.add_argument("--runs", default=",".join(RUNS), help=f"comma list of {tuple(RUNS)}")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the table shows medians")
    p.add_argument("--peer-python", default=None, help="interpreter that has darts / neuralforecast installed")
    p.add_argument("--data", default=None, help="data folder with ETT/ETTh1.csv (default: $RNNKIT_DATA)")
    p.add_argument("--out", default="forecast_vs_peers_out", help="folder for task files, logs and results")
    p.add_argument("--epochs", type=int, default=None, help="like-for-like epochs for taylor (default 10)")
    p.add_argument("--etth1-epochs", type=int, default=10, help="like-for-like epochs for etth1")
    p.add_argument("--etth1-train-windows", type=int, default=1000,
                   help="every etth1 row trains on the last N origins per channel (0 = all 8,449)")
    p.add_argument("--hidden", type=int, default=64, help="like-for-like LSTM width")
    p.add_argument("--layers", type=int, default=2, help="like-for-like LSTM depth")
    p.add_argument("--batch-size", type=int, default=32, help="like-for-like batch size")
    p.add_argument("--lr", type=float, default=1e-3, help="like-for-like Adam learning rate")
    p.add_argument("--latency-calls", type=int, default=30, help="single-series predict calls for p50 / p95")
    p.add_argument("--synthetic-points", type=int, default=600, help="length of the synthetic task (tests)")
    p.add_argument("--ftz-peers", action="store_true", help="also set flush-to-zero in the Darts / NF processes")
    args = p.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    runs = [r for r in args.runs.split(",") if r]
    for bad in [t for t in tasks if t not in TASKS] + [r for r in runs if r not in RUNS]:
        raise SystemExit(f"unknown task or run {bad!r}; tasks: {TASKS}, runs: {tuple(RUNS)}")
    if args.rounds < 1:
        raise SystemExit("--rounds must be >= 1")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    skipped = {}
    for r in runs:
        why = peer_missing(r, args)
        if why:
            print(why, flush=True)
            skipped[r] = why
    active = [r for r in runs if r not in skipped]
    summary = {"tasks": {}, "skipped": skipped, "rounds": args.rounds, "argv": sys.argv[1:] if argv is None else argv}
    for task in tasks:
        spec, series = build_task(task, args)
        task_file = out_dir / f"{task}.npz"
        records = []
        for rnd in range(args.rounds):
            spec.seed = rnd
            common.write_task(task_file, spec, series)
            order = active[rnd % len(active):] + active[:rnd % len(active)] if active else []
            print(f"[{task}] round {rnd + 1}/{args.rounds}: {', '.join(order)}", flush=True)
            records += [run_one(r, task_file, out_dir, rnd, args) for r in order]
        te = common.origins(spec, "test")
        _, y_te = common.windows(series, te, spec.input_size, spec.horizon)
        naive = common.metrics(common.seasonal_naive(series, te, spec.horizon, spec.season), y_te)
        summary["tasks"][task] = {"spec": common.asdict(spec), "records": records, "seasonal_naive": naive}
    (out_dir / "results.json").write_text(json.dumps(summary, indent=1))
    text = report.markdown(summary, {k: v[4] for k, v in RUNS.items()}, PEERS)
    (out_dir / "results.md").write_text(text)
    print(text)
    return summary


if __name__ == "__main__":
    main()
