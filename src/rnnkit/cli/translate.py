"""`rnnkit translate`: Machine translation with an attention encoder-decoder: fit, run, eval, demo."""

from __future__ import annotations

import typer

app = typer.Typer(help="Machine translation with an attention encoder-decoder: fit, run, eval, demo.", no_args_is_help=True)
