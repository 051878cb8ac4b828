"""The ``rnnkit`` command: a thin typer app, one module per task (parse, call one library function, print)."""
