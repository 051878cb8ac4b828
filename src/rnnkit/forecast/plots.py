"""PNG plots: history with the forecast and its interval, and backtest errors over time (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_forecast(history: pd.DataFrame, forecast: pd.DataFrame, path, *, time_col: str = "ds",
                  id_col: str = "unique_id", target: str = "y", actual: pd.DataFrame | None = None,
                  last: int = 500, max_series: int = 4, title: str | None = None) -> Path:
    """History (last ``last`` points), forecast ``yhat`` and the widest quantile band, one panel per series.

    ``history`` / ``actual``: long frames with ``time_col``, ``target`` (and ``id_col``); ``forecast`` from predict.
    """
    plt = _pyplot()
    ids = list(pd.unique(forecast[id_col]))[:max_series] if id_col in forecast.columns else [None]
    qcols = sorted([c for c in forecast.columns if c.startswith("yhat_q")], key=lambda c: float(c[6:]))
    fig, axes = plt.subplots(len(ids), 1, figsize=(10, 3 * len(ids)), squeeze=False)
    for ax, uid in zip(axes[:, 0], ids):
        pick = (lambda d, u=uid: d if u is None or id_col not in d.columns else d[d[id_col] == u])  # noqa: E731
        h, f = pick(history).tail(last), pick(forecast)
        ax.plot(h[time_col], h[target], color="0.3", lw=1, label="history")
        if actual is not None:
            a = pick(actual)
            ax.plot(a[time_col], a[target], color="0.3", lw=1, ls=":", label="actual")
        if len(qcols) >= 2:
            ax.fill_between(f[time_col], f[qcols[0]], f[qcols[-1]], color="C0", alpha=0.25,
                            label=f"{qcols[0][6:]}-{qcols[-1][6:]} interval")
        ax.plot(f[time_col], f["yhat"], color="C0", lw=1.5, label="forecast")
        ax.set_title(str(uid) if uid is not None else (title or "forecast"))
        ax.legend(loc="upper left", fontsize=8)
    if title and ids != [None]:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_backtest(windows: pd.DataFrame, path, metric: str = "mae") -> Path:
    """Per-window ``metric`` of the model and of seasonal naive against the forecast origin (mean over series)."""
    plt = _pyplot()
    g = windows.groupby("cutoff")[[metric, f"naive_{metric}"]].mean()
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(g.index, g[metric], label=f"model {metric} (mean {np.nanmean(g[metric]):.4g})")
    ax.plot(g.index, g[f"naive_{metric}"], label=f"seasonal naive {metric} (mean {np.nanmean(g[f'naive_{metric}']):.4g})",
            alpha=0.7)
    ax.set_xlabel("forecast origin (cutoff)")
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
