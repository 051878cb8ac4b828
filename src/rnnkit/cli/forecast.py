"""`rnnkit forecast`: Time-series forecasting: fit, predict, backtest, demo."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from rnnkit.cli.common import DeviceOpt, EpochsOpt, JsonOpt, MaxTimeOpt, SeedOpt, resolve_device, write_json

app = typer.Typer(help="Time-series forecasting: fit, predict, backtest, demo.", no_args_is_help=True)

FillOpt = typer.Option(None, "--fill", help="Fill NaN / inf / missing steps: ffill, interpolate or zero.")
IgnoreOpt = typer.Option(None, "--ignore", help="Comma-separated columns of the CSV to leave out (notes, labels).")


def _csv(path: Path, id_col: str | None = None, ignore: str | None = None):
    """The CSV as a DataFrame: series ids kept as text (001 stays 001), the ``ignore`` columns dropped."""
    import pandas as pd

    if not Path(path).is_file():
        raise ValueError(f"data file {path} not found")
    dtype = {id_col: str} if id_col else None
    df = pd.read_csv(path, dtype=dtype)
    if df.shape[1] == 1:  # one column: a semicolon-, tab- or bar-separated file read as commas
        for sep in (";", "\t", "|"):
            if sep in str(df.columns[0]):
                df = pd.read_csv(path, sep=sep, dtype=dtype)
                break
    drop = _names(ignore)
    missing = [c for c in drop if c not in df.columns]
    if missing:
        raise ValueError(f"--ignore names column(s) {missing} that {path} does not have; its columns are "
                         f"{list(df.columns)}")
    return df.drop(columns=drop)


def _names(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def _calendar(text: str) -> str | list[str] | None:
    """``--calendar`` -> the Forecaster's ``calendar``: none -> None, auto -> "auto", else the cycle names."""
    from rnnkit.forecast.calendar import CYCLES, check_calendar

    low = text.strip().lower()
    if low == "auto":
        return "auto"
    if low in ("none", ""):
        return None
    try:
        return list(check_calendar(_names(low)))
    except ValueError:  # the same check, told in the CLI's words
        raise ValueError(f"--calendar must be none, auto or cycles among {','.join(CYCLES)} (e.g. day,week), "
                         f"got {text!r}") from None


@app.command()
def fit(
    data: Path = typer.Option(..., "--data", help="CSV: long (unique_id, ds, y, covariates) or wide."),
    target: str = typer.Option("y", "--target", help="Target column."),
    time_col: str = typer.Option("ds", "--time-col", help="Time column (dates or integers); none: the file has no "
                                 "time column, each series' rows in order are its steps (output column 'step')."),
    id_col: str = typer.Option("unique_id", "--id-col", help="Series id column (absent: one series)."),
    horizon: int = typer.Option(..., "--horizon", help="Steps to forecast."),
    input_size: int = typer.Option(96, "--input-size", help="History steps each forecast reads."),
    model: str = typer.Option("segrnn", "--model", help="segrnn, lstm, gru, rnn, minGRU, minLSTM or lnlstm."),
    out: Path = typer.Option(..., "--out", help="Model folder to write."),
    quantiles: str = typer.Option(None, "--quantiles", help="Interval levels, e.g. 0.1,0.9."),
    loss: str = typer.Option(None, "--loss", help="mae, mse, huber, quantile, gaussian or student_t."),
    decoder: str = typer.Option("direct", "--decoder", help="direct or autoregressive (recurrent models)."),
    norm: str = typer.Option("revin", "--norm", help="Window normalisation: revin, last, mean or none."),
    transform: str = typer.Option("none", "--transform",
                                  help="none, or log for a positive target whose errors count relative to its level."),
    linear_skip: bool = typer.Option(True, "--linear-skip/--no-linear-skip",
                                     help="segrnn: linear map from the history to the horizon (off can help long "
                                          "horizons from short inputs)."),
    past_covariates: str = typer.Option(None, "--past-covariates", help="Comma-separated column names."),
    future_covariates: str = typer.Option(None, "--future-covariates", help="Comma-separated column names."),
    static_covariates: str = typer.Option(None, "--static-covariates", help="Comma-separated column names."),
    calendar: str = typer.Option("none", "--calendar",
                                 help="Calendar features from the dates: none, auto (day + week for sub-daily data, "
                                      "week + year for daily, year for monthly) or cycles, e.g. day,week."),
    ignore: str = IgnoreOpt,
    ema: float = typer.Option(None, "--ema", help="Average the weights with this decay, e.g. 0.999 (pays when "
                                                   "training runs many epochs)."),
    fill: str = FillOpt,
    epochs: int = EpochsOpt,
    max_time: float = MaxTimeOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    json_path: Path = JsonOpt,
) -> None:
    """Train a forecaster on a CSV and write a model folder."""
    from rnnkit.forecast import Forecaster
    from rnnkit.train import check_save_target

    check_save_target(out)  # before training: a bad --out should cost nothing
    try:
        qs = [float(q) for q in _names(quantiles)]
    except ValueError:
        raise ValueError(f"--quantiles must be numbers like 0.1,0.9, got {quantiles!r}") from None
    f = Forecaster(model, input_size=input_size, horizon=horizon, quantiles=qs or None, loss=loss, decoder=decoder,
                   norm=norm, transform=transform, linear_skip=linear_skip, seed=seed, device=resolve_device(device),
                   epochs=epochs or 30, max_time=max_time, ema_decay=ema, calendar=_calendar(calendar))
    f.fit(_csv(data, id_col, ignore), target=target, time_col=None if time_col.lower() == "none" else time_col,
          id_col=id_col, past_covariates=_names(past_covariates), future_covariates=_names(future_covariates),
          static_covariates=_names(static_covariates), fill=fill)
    f.save(out)
    r = f.fit_result_
    typer.echo(f"fitted {model} on {len(f.series_ids_)} series: {r.epochs} epochs, {r.steps} steps, "
               f"best {f.fit_result_.best_metric:.4g}, stopped by {r.stopped}, {r.seconds:.1f}s -> {out}")
    if f.calendar_:  # what "auto" chose, or what was asked for
        typer.echo(f"calendar features: {', '.join(f.calendar_)} (sine / cosine of the phase)")
    write_json(json_path, {"best_metric": r.best_metric, "epochs": r.epochs, "steps": r.steps, "seconds": r.seconds})


@app.command()
def predict(
    model: Path = typer.Option(..., "--model", help="Model folder from `rnnkit forecast fit`."),
    data: Path = typer.Option(..., "--data", help="CSV with the history (same columns as for fit)."),
    out: Path = typer.Option(..., "--out", help="Forecast CSV to write."),
    plot: Path = typer.Option(None, "--plot", help="Also write a PNG of history and forecast."),
    horizon: int = typer.Option(None, "--horizon", help="Steps to forecast (default: the trained horizon)."),
    future_covariates: Path = typer.Option(None, "--future-covariates", help="CSV of future covariates."),
    fill: str = FillOpt,
    ignore: str = IgnoreOpt,
) -> None:
    """Forecast the horizon steps after the end of each series in the CSV."""
    from rnnkit.forecast import Forecaster

    f = Forecaster.load(model)
    df = _csv(data, f.columns_["id_col"], ignore)
    fut = _csv(future_covariates, f.columns_["id_col"]) if future_covariates else None
    fc = f.predict(horizon=horizon, data=df, future_covariates=fut, fill=fill)
    out.parent.mkdir(parents=True, exist_ok=True)
    fc.to_csv(out, index=False)
    typer.echo(f"wrote {len(fc)} rows to {out}")
    if plot:
        from rnnkit.forecast.frames import time_name, to_frame
        from rnnkit.forecast.plots import plot_forecast

        c = f.columns_  # the history as predict read it: long, with parsed times, whatever the file's layout
        hist = to_frame(f._read(df, fill), c["target"], time_name(c["time_col"]), c["id_col"])
        plot_forecast(hist, fc, plot, time_col=time_name(c["time_col"]), id_col=c["id_col"], target=c["target"])
        typer.echo(f"plot: {plot}")


@app.command()
def backtest(
    model: Path = typer.Option(..., "--model", help="Model folder from `rnnkit forecast fit`."),
    data: Path = typer.Option(..., "--data", help="CSV with the series to evaluate on."),
    start: str = typer.Option(..., "--start", help="First forecast start: a row index or a timestamp."),
    stride: int = typer.Option(1, "--stride", help="Steps between forecast starts."),
    refit: bool = typer.Option(False, "--refit", help="Re-fit a fresh model before every window."),
    plot: Path = typer.Option(None, "--plot", help="Write a PNG of the error per window."),
    fill: str = FillOpt,
    ignore: str = IgnoreOpt,
    json_path: Path = JsonOpt,
) -> None:
    """Score the model on every window whose forecast starts at or after --start, against seasonal naive."""
    from rnnkit.forecast import Forecaster

    f = Forecaster.load(model)
    res = f.backtest(_csv(data, f.columns_["id_col"], ignore), start=start, stride=stride, refit=refit, fill=fill)
    _table(res.metrics)
    if plot:
        from rnnkit.forecast.plots import plot_backtest

        plot_backtest(res.windows, plot)
        typer.echo(f"plot: {plot}")
    write_json(json_path, res.metrics)


def _table(metrics: dict) -> None:
    typer.echo(f"{'metric':<8} {'model':>12} {'seasonal naive':>15}")
    for k in ("mae", "mse", "smape", "mase"):
        typer.echo(f"{k:<8} {metrics[k]:>12.4f} {metrics['naive_' + k]:>15.4f}")
    for k, v in metrics.items():
        if k.startswith(("coverage", "quantile")):
            typer.echo(f"{k}: {v:.4f}")
    typer.echo(f"windows: {int(metrics['n_windows'])}")
    if metrics.get("filled_steps_not_scored"):
        typer.echo(f"{int(metrics['filled_steps_not_scored'])} forecast steps fall on values made up by --fill and "
                   "are not scored")
    if math.isnan(metrics["mase"]):  # no window has a scale
        typer.echo("mase is undefined here: the in-sample seasonal naive error, its scale, is 0 for every series "
                   "(a series that repeats exactly); compare mae instead")


def run_demo(out_dir: Path) -> dict[str, float]:
    """SegRNN on Taylor's half-hourly electricity demand: day-ahead forecasts over the last two weeks."""
    from rnnkit.forecast.demo import taylor_demo

    return taylor_demo(Path(out_dir), echo=typer.echo)


@app.command()
def demo(
    out: Path = typer.Option(Path("rnnkit-demo/forecast"), "--out", help="Folder for the plots."),
    json_path: Path = JsonOpt,
) -> None:
    """Fit SegRNN on real electricity demand and compare with seasonal naive (about 2 minutes on CPU)."""
    write_json(json_path, run_demo(out))
