"""`rnnkit speech`: Speech recognition with recurrent networks and CTC: fit, transcribe, eval, demo."""

from __future__ import annotations

import typer

app = typer.Typer(help="Speech recognition with recurrent networks and CTC: fit, transcribe, eval, demo.", no_args_is_help=True)
