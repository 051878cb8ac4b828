"""Entry point of the ``rnnkit`` command: groups, ``--version``, ``--debug`` and the error convention."""

from __future__ import annotations

import sys

import typer

import rnnkit
from rnnkit.cli import classify, demo, forecast, inspect, lm, speech, translate
from rnnkit.cli.common import EXIT_USAGE

app = typer.Typer(
    name="rnnkit",
    help="Recurrent neural networks for sequences: forecasting, translation, speech and text.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(demo.app, name="demo")
app.add_typer(inspect.app, name="inspect")
app.add_typer(forecast.app, name="forecast")
app.add_typer(translate.app, name="translate")
app.add_typer(speech.app, name="speech")
app.add_typer(classify.app, name="classify")
app.add_typer(lm.app, name="lm")

_DEBUG = {"on": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rnnkit {rnnkit.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback of an error."),
) -> None:
    """rnnkit: learn and predict patterns in sequences with recurrent networks."""
    _DEBUG["on"] = debug


def main(argv: list[str] | None = None) -> None:
    """Run the app; expected errors become one ``error:`` line on stderr and exit code 2."""
    import torch

    # Denormal gradients stall CPU backward passes of recurrent nets (about 7x on LSTM forecasting losses).
    torch.set_flush_denormal(True)
    try:
        app(args=argv, standalone_mode=True)
    except (ValueError, OSError) as e:
        if _DEBUG["on"] or "--debug" in (argv if argv is not None else sys.argv):
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"error: {msg}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
