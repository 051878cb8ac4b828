"""Conventions shared by every command: options, the error convention, device choice and ``--json`` output.

* ``fit ... --out DIR`` writes a model folder that loads on its own.
* Training commands take ``--epochs``, ``--max-time MINUTES``, ``--seed`` and ``--device cpu|cuda|auto``.
* Commands that report metrics take ``--json FILE`` and write a flat JSON object there.
* An expected error (``ValueError``, ``OSError``) prints one line ``error: ...`` on stderr and exits 2;
  ``rnnkit --debug ...`` shows the traceback instead.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import typer

EXIT_USAGE = 2

# Typer option declarations reused by every training command, so the flags read the same everywhere.
EpochsOpt = typer.Option(None, "--epochs", help="Training epochs (default: the model's own).")
MaxTimeOpt = typer.Option(None, "--max-time", help="Training budget in minutes; the best checkpoint is kept.")
SeedOpt = typer.Option(0, "--seed", help="Random seed; seeded runs repeat.")
DeviceOpt = typer.Option("auto", "--device", help="cpu, cuda or auto (cuda when available).")
JsonOpt = typer.Option(None, "--json", help="Write the metrics as a flat JSON object to this file.")


def resolve_device(device: str) -> str:
    """Map ``cpu | cuda | auto`` to a torch device string; ``cuda`` without a GPU is an error that says so."""
    import torch

    if device not in ("cpu", "cuda", "auto"):
        raise ValueError(f"--device must be cpu, cuda or auto, got {device!r}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto")
    return device


def _plain(value: Any) -> Any:
    """JSON-safe scalars: numpy / torch numbers become floats, NaN and inf become null."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike | None, metrics: dict[str, Any]) -> None:
    """Write ``metrics`` as one flat JSON object, atomically (temp file then rename)."""
    if path is None:
        return
    flat = {str(k): _plain(v) for k, v in metrics.items()}
    nested = [k for k, v in flat.items() if isinstance(v, (dict, list))]
    if nested:
        raise ValueError(f"--json output must be flat; these keys hold containers: {nested}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(flat, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
