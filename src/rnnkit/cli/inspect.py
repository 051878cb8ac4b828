"""`rnnkit inspect`: Look inside recurrent networks: gradient flow over time and memory span."""

from __future__ import annotations

import typer

app = typer.Typer(help="Look inside recurrent networks: gradient flow over time and memory span.", no_args_is_help=True)
