"""`rnnkit inspect`: Look inside recurrent networks: gradient flow over time and memory span.

``rnnkit inspect memory --cells rnn,lstm,gru --steps 200`` measures, for fresh layers of each cell, how the gradient
of the last output with respect to earlier inputs falls with the lag, and trains each cell briefly on a copy task to
find the longest delay it can bridge. It prints a table, writes ``memory.png`` under ``--out`` and, with ``--json``,
the flat metrics. ``rnnkit inspect demo`` runs the same at default settings (the first stop of ``rnnkit demo``).
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.cli.common import JsonOpt, SeedOpt, write_json

app = typer.Typer(help="Look inside recurrent networks: gradient flow over time and memory span.", no_args_is_help=True)

TABLE_LAGS = (1, 10, 50, 100)  # lags shown in the table (those below --steps), plus the largest


def _int_list(text: str, flag: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"{flag} expects comma-separated integers like 10,30,100, got {text!r}") from None


def run_memory(out_dir: Path, cells: tuple[str, ...] = ("rnn", "lstm", "gru"), steps: int = 200, hidden: int = 64,
               delays: tuple[int, ...] = (10, 30, 100), copy_steps: int = 150, run_copy: bool = True,
               chrono: bool = True, seed: int = 0) -> dict[str, float]:
    """Measure, print a table, write ``out_dir/memory.png``; returns the flat metrics."""
    import time

    from rich.console import Console

    from rnnkit.nn.diagnostics import CopyTaskConfig, memory_report
    from rnnkit.train.runtime import torch_threads

    if steps < 2:
        raise ValueError(f"--steps must be >= 2 (the sequence length of the gradient measurement), got {steps}")
    copy = CopyTaskConfig(delays=delays, steps=copy_steps)
    console = Console(width=max(Console().width, 110))  # the table needs ~100 columns even when piped
    t0 = time.perf_counter()
    with torch_threads(1):
        report = memory_report(cells, steps=steps, hidden_size=hidden, copy=copy, run_copy=run_copy, chrono=chrono,
                               seed=seed, on_cell=lambda n: console.print(f"[dim]measuring {n} ...[/dim]"))
    metrics = report.metrics(TABLE_LAGS)
    metrics["seconds"] = round(time.perf_counter() - t0, 2)
    _print_table(console, report)
    path = _plot(report, Path(out_dir) / "memory.png")
    console.print(f"plot: {path}")
    return metrics


def _print_table(console, report) -> None:
    from rich.table import Table

    from rnnkit.nn.diagnostics import decay_rate

    lags = [k for k in TABLE_LAGS if k < report.steps] + [report.steps - 1]
    init = "chrono init for gated cells" if report.chrono else "torch default init"
    table = Table(title=f"Gradient |dy_T / dx_(T-k)| by lag k (T = {report.steps}, {init})")
    table.add_column("cell")
    for k in lags:
        table.add_column(f"k={k}", justify="right")
    table.add_column("decay", justify="right")
    if report.copy:
        table.add_column("copy D", justify="right")
        table.add_column("copy accuracy (delay:acc)")
    for name, g in report.gradients.items():
        row = [name] + [f"{g[k]:.1e}" for k in lags] + [f"{decay_rate(g):.3f}"]
        if report.copy:
            r = report.copy[name]
            row += [str(r.longest_solved), " ".join(f"{d}:{a:.2f}" for d, a in r.accuracy.items())]
        table.add_row(*row)
    console.print(table)
    console.print("decay: mean factor per step of the gradient (below 1 it vanishes geometrically; 0.0e+00 means "
                  "it underflowed float32). copy D: longest delay solved.")


def _plot(report, path: Path) -> Path:
    """Gradient norm against lag (log y) and, with the copy task, the longest delay solved per cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    ncols = 2 if report.copy else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6.5 * ncols, 4.2), squeeze=False)
    ax = axes[0][0]
    for name, g in report.gradients.items():
        pts = [(k, v) for k, v in enumerate(g) if v > 0]  # underflowed zeros have no log
        ax.semilogy([k for k, _ in pts], [v for _, v in pts], label=name)
    ax.set_xlabel("lag k (steps back from the last output)")
    ax.set_ylabel("gradient norm |dy_T / dx_(T-k)|")
    ax.set_title("Gradient flow over time" + (" (chrono init for gated cells)" if report.chrono else ""))
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    if report.copy:
        ax = axes[0][1]
        names = list(report.copy)
        ax.bar(names, [report.copy[n].longest_solved for n in names], color="tab:gray")
        ax.set_ylabel("longest delay solved (steps)")
        ax.set_title("Copy task: remember a symbol over a delay")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@app.command("memory")
def memory(
    cells: str = typer.Option("rnn,lstm,gru", "--cells",
                              help="Comma-separated cells: rnn, lstm, gru, layernorm_lstm, mingru, minlstm."),
    steps: int = typer.Option(200, "--steps", help="Sequence length T of the gradient measurement (lags 0..T-1)."),
    hidden: int = typer.Option(64, "--hidden", help="Hidden size H of the layers whose gradients are measured."),
    delays: str = typer.Option("10,30,100", "--delays", help="Copy-task delays, increasing; stops at the first failure."),
    copy_steps: int = typer.Option(150, "--copy-steps", help="Training steps per copy-task delay."),
    no_copy: bool = typer.Option(False, "--no-copy", help="Skip the copy task (gradients only)."),
    init: str = typer.Option("chrono", "--init", help="chrono (gate biases that hold memory) or default (torch's)."),
    out: Path = typer.Option(Path("rnnkit-inspect"), "--out", help="Folder for memory.png."),
    json_path: Path = JsonOpt,
    seed: int = SeedOpt,
) -> None:
    """Gradient against lag for each cell, and the longest delay each learns to bridge on a copy task."""
    if init not in ("chrono", "default"):
        raise ValueError(f"--init must be chrono or default, got {init!r}")
    names = tuple(c.strip() for c in cells.split(",") if c.strip())
    metrics = run_memory(out, names, steps, hidden, _int_list(delays, "--delays"), copy_steps, not no_copy,
                         init == "chrono", seed)
    write_json(json_path, metrics)


def run_demo(out_dir: Path) -> dict[str, float]:
    """The memory inspection at default settings (the first stop of ``rnnkit demo``); returns flat metrics."""
    return run_memory(Path(out_dir))


@app.command("demo")
def demo(json_path: Path = JsonOpt,
         out: Path = typer.Option(Path("rnnkit-demo/inspect"), "--out", help="Folder for memory.png.")) -> None:
    """Run the memory inspection at default settings."""
    write_json(json_path, run_demo(out))
