"""Shared pieces of the side-by-side benchmark: task files, windows, metrics, timing and the result record.

Every run (rnnkit, raw PyTorch, Darts, NeuralForecast) is a separate process that imports only this module,
numpy and its own library, so it runs in whichever environment that library lives in. The runner writes one
task file (``task.npz``) per task; every worker reads the same file, so all of them see the same z-scored data,
the same train/val/test boundaries and the same test windows.

Windows: a window with origin ``t`` reads ``series[:, t - L:t]`` and forecasts ``series[:, t:t + H]``.
Channels are independent univariate series (channel-independent forecasting), so a task with C channels has
C windows per origin. Shape legend: C channels, N points, L input size, H horizon, W windows.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

# Started at import of this module, i.e. before any heavy library is imported by the worker.
PROCESS_T0 = time.perf_counter()


@dataclass
class TaskSpec:
    """One forecasting task, identical for every run that reads it."""

    name: str  # "taylor" or "etth1"
    input_size: int  # L, points each window reads
    horizon: int  # H, points each window forecasts
    train_end: int  # targets of the fixed-epoch rows' training windows lie in [0, train_end)
    es_train_end: int  # the early-stopping row trains on targets in [0, es_train_end) ...
    val_end: int  # ... and stops on validation targets in [es_train_end, val_end)
    test_start: int  # test targets lie in [test_start, test_end); test inputs may reach back before it
    test_end: int  # end of the evaluated part of the series (points after it are unused)
    season: int  # seasonal period used by the seasonal naive reference (336 = one week of half-hours)
    hidden: int = 64  # like-for-like LSTM width
    layers: int = 2  # like-for-like LSTM depth
    epochs: int = 10  # like-for-like fixed epochs (no early stopping)
    batch_size: int = 32  # like-for-like windows per optimizer step
    lr: float = 1e-3  # like-for-like Adam learning rate
    train_windows: int = 0  # like-for-like rows train on the last this many origins (per channel); 0 = all
    seed: int = 0  # seed of this round (the runner changes it per round)
    latency_calls: int = 30  # single-series predict calls timed for p50 / p95
    notes: dict = field(default_factory=dict)  # free text carried into the results (data source, split)


def write_task(path: Path, spec: TaskSpec, series: np.ndarray) -> None:
    """Save ``series (C, N)`` float32, already z-scored, with its spec as JSON."""
    np.savez(path, series=series.astype(np.float32), spec=json.dumps(asdict(spec)))


def read_task(path: str | Path) -> tuple[TaskSpec, np.ndarray]:
    """Inverse of :func:`write_task`: ``(spec, series (C, N) float32)``."""
    with np.load(path) as z:
        return TaskSpec(**json.loads(str(z["spec"]))), z["series"]


def origins(spec: TaskSpec, split: str) -> np.ndarray:
    """Window origins ``t`` (stride 1) whose targets ``[t, t + H)`` lie in ``split``'s range and inputs exist."""
    L, H = spec.input_size, spec.horizon
    lo, hi = {"train": (0, spec.train_end), "es_train": (0, spec.es_train_end), "val": (spec.es_train_end, spec.val_end),
              "test": (spec.test_start, spec.test_end)}[split]
    first = max(lo, L)
    out = np.arange(first, hi - H + 1)
    return out[-spec.train_windows:] if split == "train" and spec.train_windows else out


def windows(series: np.ndarray, starts: np.ndarray, L: int, H: int) -> tuple[np.ndarray, np.ndarray]:
    """All channels' windows at ``starts``: ``x (W, L)``, ``y (W, H)`` with W = C * len(starts), channel-major."""
    C = series.shape[0]
    idx_x = starts[:, None] + np.arange(-L, 0)[None, :]  # (S, L)
    idx_y = starts[:, None] + np.arange(H)[None, :]  # (S, H)
    x = series[:, idx_x].reshape(C * len(starts), L)
    y = series[:, idx_y].reshape(C * len(starts), H)
    return x, y


def metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """MAE and MSE over every window, step and channel (both arrays (W, H), z scale)."""
    if pred.shape != true.shape:
        raise ValueError(f"predictions have shape {pred.shape}, targets {true.shape}")
    err = pred.astype(np.float64) - true.astype(np.float64)
    return {"mae": float(np.abs(err).mean()), "mse": float((err ** 2).mean())}


def seasonal_naive(series: np.ndarray, starts: np.ndarray, H: int, season: int) -> np.ndarray:
    """Repeat the last full season before each origin: ``(W, H)`` like :func:`windows`' targets."""
    k = np.arange(H)
    idx = starts[:, None] - season + (k % season)[None, :]  # (S, H)
    return series[:, idx].reshape(series.shape[0] * len(starts), H)


def pin_threads(torch_module=None) -> None:
    """One intra-op and one inter-op thread: the machine is shared, so every run gets the same single core."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = "1"
    if torch_module is not None:
        torch_module.set_num_threads(1)
        try:
            torch_module.set_num_interop_threads(1)
        except RuntimeError:  # already set once in this process
            pass


class Stopwatch:
    """``with Stopwatch() as sw: ...``: ``sw.seconds`` wall time and ``sw.cpu`` CPU time of this process.

    On a shared machine wall time depends on what else runs; the CPU time of a one-thread process much less so.
    """

    def __enter__(self) -> Stopwatch:
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.c0


def latency(fn, calls: int) -> dict[str, float]:
    """p50 / p95 in milliseconds of ``fn()`` over ``calls`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return {"latency_p50_ms": float(np.percentile(times, 50)), "latency_p95_ms": float(np.percentile(times, 95))}


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def finish(out: str | Path, run: str, spec: TaskSpec, pred: np.ndarray, true: np.ndarray, fit: Stopwatch,
           predict: Stopwatch, import_s: float, extra: dict | None = None) -> dict:
    """Write the run's result record (one flat JSON object) and return it."""
    rec = {"run": run, "task": spec.name, "seed": spec.seed, "fit_s": fit.seconds, "predict_s": predict.seconds,
           "fit_cpu_s": fit.cpu, "predict_cpu_s": predict.cpu, "import_s": import_s, "peak_rss_mb": peak_rss_mb(),
           "test_windows": int(true.shape[0]),
           **metrics(pred, true), **(extra or {})}
    Path(out).write_text(json.dumps(rec, indent=1))
    return rec


def worker_args(argv: list[str] | None = None):
    """The command line every worker takes: ``--task task.npz --out result.json [--ftz] [--tiny]``."""
    import argparse

    p = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__)
    p.add_argument("--task", required=True, help="task file written by run.py")
    p.add_argument("--out", required=True, help="where to write the JSON result")
    p.add_argument("--ftz", action="store_true", help="torch.set_flush_denormal(True) (peers do not set it)")
    return p.parse_args(argv)
