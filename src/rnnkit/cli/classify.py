"""`rnnkit classify`: Text classification (sentiment): fit, predict, eval, demo."""

from __future__ import annotations

import typer

app = typer.Typer(help="Text classification (sentiment): fit, predict, eval, demo.", no_args_is_help=True)
