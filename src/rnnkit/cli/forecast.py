"""`rnnkit forecast`: Time-series forecasting: fit, predict, backtest, demo."""

from __future__ import annotations

import typer

app = typer.Typer(help="Time-series forecasting: fit, predict, backtest, demo.", no_args_is_help=True)
