"""`rnnkit lm`: Character / subword language models: fit, generate, eval, demo."""

from __future__ import annotations

import typer

app = typer.Typer(help="Character / subword language models: fit, generate, eval, demo.", no_args_is_help=True)
