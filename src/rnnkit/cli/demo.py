"""``rnnkit demo``: a short tour of every task on built-in data.

Each task module exposes ``run_demo(out_dir: Path) -> dict`` (flat metrics); the tour runs them in turn and
writes their plots under ``--out``.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import typer

from rnnkit.cli.common import JsonOpt, write_json

app = typer.Typer(help="A short tour of rnnkit on built-in data.", invoke_without_command=True)

# Order of the tour: the memory inspection first (the core idea), then each application.
TOUR = ["inspect", "forecast", "translate", "speech", "classify", "lm"]


@app.callback(invoke_without_command=True)
def demo(
    out: Path = typer.Option(Path("rnnkit-demo"), "--out", help="Folder for plots and demo models."),
    only: str = typer.Option(None, "--only", help=f"Comma-separated subset of: {','.join(TOUR)}."),
    json_path: Path = JsonOpt,
) -> None:
    """Run the tour: memory inspection, then each task's demo. Prints a metrics table per task."""
    names = TOUR if not only else [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in TOUR]
    if unknown:
        raise ValueError(f"--only got unknown demo(s) {unknown}; choose from {TOUR}")
    metrics: dict[str, float] = {}
    for name in names:
        module = importlib.import_module(f"rnnkit.cli.{name}")
        run = getattr(module, "run_demo", None)
        if run is None:
            typer.echo(f"[{name}] no demo yet")
            continue
        typer.echo(f"\n=== {name} ===")
        t0 = time.perf_counter()
        result = run(out / name)
        metrics.update({f"{name}_{k}": v for k, v in result.items()})
        metrics[f"{name}_seconds"] = round(time.perf_counter() - t0, 1)
    write_json(json_path, metrics)
