"""``Forecaster``: fit a recurrent forecasting model on one or many series, predict, backtest, save and load.

Example:
    >>> import numpy as np
    >>> from rnnkit.forecast import Forecaster
    >>> y = np.sin(np.arange(600) * 2 * np.pi / 24) + 0.1 * np.random.randn(600)
    >>> f = Forecaster("segrnn", input_size=96, horizon=24, epochs=5).fit(y)
    >>> f.predict().head(2)  # columns ds, yhat (plus unique_id for several series)
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import torch

from rnnkit.forecast.calendar import check_calendar, resolve_calendar, with_calendar
from rnnkit.forecast.frames import SeriesSet, future_index, load_frame, time_name
from rnnkit.forecast.models import MODELS, NetConfig
from rnnkit.forecast.network import ForecastModel
from rnnkit.forecast.probabilistic import OutputSpec
from rnnkit.forecast.scaling import NORMS, TRANSFORMS
from rnnkit.forecast.validation import (
    check_lengths,
    check_positive_int,
    check_positive_target,
    future_block,
    season_for,
)
from rnnkit.forecast.windows import FlatSeries, gather, window_ends
from rnnkit.train.config import check_ema_decay

NOT_FITTED = "this Forecaster is not fitted yet: call fit(data) first, or Forecaster.load(model_dir)"


class Forecaster:
    """Recurrent forecaster with scikit-learn habits: hyperparameters here, ``fit(data) -> self``.

    Args:
        model: ``"segrnn"`` (default; segment recurrence, fast and accurate on long inputs) or a recurrent layer:
            ``"lstm"``, ``"gru"``, ``"rnn"``, ``"minGRU"``, ``"minLSTM"``, ``"lnlstm"``.
        input_size: L, history steps each forecast reads.
        horizon: H, steps forecast at once.
        hidden_size: recurrent width (None: 128 for segrnn, 64 otherwise).
        num_layers: stacked recurrent layers.
        dropout: dropout before the output projection.
        segment_length: SegRNN's segment w (None: the season length when it splits L into 2+ segments, else L // 4).
        cell: the layer SegRNN runs over segments (``"gru"`` as in the paper).
        linear_skip: SegRNN only: add a linear map from the history to every forecast step, so exact seasonal
            lags (the same hour a week earlier) reach the output directly. It helps when the input holds whole
            seasonal cycles to copy (e.g. 2+ weeks of half-hours); on short inputs with long horizons it can overfit
            (ETTh1, L = 96, horizons 192-720: lower test MSE without it).
        decoder: ``"direct"`` (all H at once) or ``"autoregressive"`` (one step at a time; any horizon at predict).
        norm: ``"revin"`` (window mean / std), ``"last"`` (subtract the last value), ``"mean"`` (subtract the window mean)
            or ``"none"``.
        transform: ``"none"`` or ``"log"``: model the log of a positive target, so errors count relative to each
            series' level (what sMAPE / MAPE measure, and what demand or sales data with a growing scale need);
            forecasts are exponentiated back. Works with the mae, mse, huber and quantile losses.
        loss: ``"mae"``, ``"mse"``, ``"huber"``, ``"quantile"``, ``"gaussian"``, ``"student_t"`` (None: quantile
            when ``quantiles`` are given, else mae).
        quantiles: levels for prediction intervals, e.g. ``(0.1, 0.9)``.
        calendar: calendar features as future covariates, computed from the dates (see
            :mod:`rnnkit.forecast.calendar`): None (off), True / ``"auto"`` (the day and week for sub-daily steps,
            the week and year for daily ones, the year for monthly ones), or cycle names among ``"day"``,
            ``"week"``, ``"year"``. ``predict`` computes them for the horizon itself. They can help when a cycle is
            longer than the input window (a weekly pattern seen through 4 days of hours). Needs a date time column.
        series_embedding: learn one embedding per training series (None: on for 2..1000 series).
        season_length: m for seasonal naive and MASE (None: from the frequency).
        epochs / max_time: training budget (epochs; minutes). An epoch is at least 8 batches: the windows of
            small data (a few years of months) are repeated to fill them. lr, weight_decay, batch_size: optimiser
            settings.
        ema_decay: keep a moving average of the weights (e.g. 0.999) and use it for early stopping and
            forecasting (see :mod:`rnnkit.train.averaging`); it spans about ``1 / (1 - ema_decay)`` optimizer
            steps, which should be a few epochs, not the whole run. None: off.
        early_stopping_patience: epochs without validation improvement before stopping (None: never).
        val_size: history rows per series held out for early stopping (None: max(horizon, 10%); 0: none).
        seed, device, num_threads, progress: run settings.
    """

    def __init__(self, model: str = "segrnn", input_size: int = 96, horizon: int = 24, *,
                 hidden_size: int | None = None, num_layers: int = 1, dropout: float = 0.1,
                 segment_length: int | None = None, cell: str = "gru", linear_skip: bool = True,
                 decoder: str = "direct",
                 norm: str = "revin", transform: str = "none", loss: str | None = None, quantiles=None,
                 calendar=None, series_embedding: bool | None = None, season_length: int | None = None, epochs: int = 30,
                 max_time: float | None = None, lr: float = 1e-3, weight_decay: float = 0.0, batch_size: int = 256,
                 ema_decay: float | None = None,
                 early_stopping_patience: int | None = 5, val_size: int | None = None, seed: int = 0,
                 device: str = "auto", num_threads: int | None = None, progress: bool = False):
        if model not in MODELS:
            raise ValueError(f"model must be one of {list(MODELS)}, got {model!r}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        if model == "segrnn" and decoder == "autoregressive":
            raise ValueError("decoder='autoregressive' needs a recurrent model (lstm, gru, rnn, minGRU, minLSTM or "
                             "lnlstm); segrnn forecasts the whole horizon at once, so use decoder='direct' with it")
        self.model, self.cell, self.decoder, self.norm, self.transform = model, cell, decoder, norm, transform
        self.input_size = check_positive_int("input_size", input_size)
        self.horizon = check_positive_int("horizon", horizon)
        self.hidden_size = hidden_size if hidden_size is not None else (128 if model == "segrnn" else 64)
        self.num_layers, self.dropout, self.segment_length = num_layers, dropout, segment_length
        self.linear_skip = bool(linear_skip)
        self.quantiles = tuple(float(q) for q in quantiles) if quantiles else ()
        self.loss = loss or ("quantile" if self.quantiles else "mae")
        self.spec_ = OutputSpec(self.loss, self.quantiles)  # validates loss / quantiles now
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
        if transform == "log" and self.loss in ("gaussian", "student_t"):
            raise ValueError(f"transform='log' does not map a {self.loss} head back to the series' scale; use "
                             "loss='quantile' with quantiles=... for intervals on log values, or transform='none'")
        check_calendar(calendar)  # names now; whether they suit the data's step, in fit
        self.calendar = list(calendar) if isinstance(calendar, (list, tuple)) else calendar
        self.series_embedding, self.season_length = series_embedding, season_length
        self.epochs, self.max_time, self.lr, self.weight_decay = epochs, max_time, lr, weight_decay
        check_ema_decay(ema_decay)  # now, not after the data are read in fit
        self.ema_decay = ema_decay
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.early_stopping_patience, self.val_size, self.seed = early_stopping_patience, val_size, seed
        self.device, self.num_threads, self.progress = device, num_threads, progress
        self.net_config_ = NetConfig(model=model, input_size=self.input_size, horizon=self.horizon,
                                     hidden_size=self.hidden_size, num_layers=num_layers, dropout=dropout,
                                     segment_length=segment_length or 1, cell=cell, decoder=decoder,
                                     linear_skip=self.linear_skip)
        self.model_: ForecastModel | None = None

    # ----------------------------------------------------------------------------------------------- params
    def get_params(self) -> dict:
        """Constructor arguments (JSON-safe), as stored in a saved model folder."""
        keys = ("model", "input_size", "horizon", "hidden_size", "num_layers", "dropout", "segment_length", "cell",
                "linear_skip", "decoder", "norm", "transform", "loss", "quantiles", "calendar", "series_embedding",
                "season_length", "epochs", "max_time", "lr", "weight_decay", "ema_decay", "batch_size",
                "early_stopping_patience", "val_size", "seed", "device", "num_threads", "progress")
        p = {k: getattr(self, k) for k in keys}
        p["quantiles"] = list(self.quantiles)
        return p

    def _read(self, data, fill=None, fitted: bool = True, **columns) -> SeriesSet:
        if fitted:  # the column names and the fill given to fit hold, unless given again
            columns = {**self.columns_, **{k: v for k, v in columns.items() if v is not None}}
            return load_frame(data, fill=self.fill_ if fill is None else fill, freq=self.freq_, **columns)
        return load_frame(data, fill=fill, **columns)

    # ------------------------------------------------------------------------------------------------- fit
    def fit(self, data, *, target: str = "y", time_col: str | None = "ds", id_col: str = "unique_id",
            past_covariates=None, future_covariates=None, static_covariates=None, fill: str | None = None,
            val_data=None, epochs: int | None = None, max_time: float | None = None) -> Forecaster:
        """Train on ``data`` (long frame, wide frame or numpy array; see :mod:`rnnkit.forecast.frames`).

        Args:
            target / time_col / id_col: column names of a long frame; ``time_col=None`` for data without a time
                column (each series' rows in order are its steps 0, 1, ...; outputs name the column ``step``).
            past_covariates / future_covariates / static_covariates: covariate column names.
            fill: None (NaN / inf / missing steps are errors) or ``"ffill"``, ``"interpolate"``, ``"zero"``;
                kept for ``predict`` and ``backtest`` (and saved), which may override it.
            val_data: series for early stopping (their windows are the validation set); None holds out the last
                ``val_size`` rows of each series.
            epochs / max_time: override the constructor's budget for this call.
        """
        from rnnkit.train import TensorBatches, TrainConfig, Trainer, resolve_device, setup_runtime

        setup_runtime(self.num_threads)
        cols = dict(target=target, time_col=time_col, id_col=id_col, past_covariates=past_covariates or [],
                    future_covariates=future_covariates or [], static_covariates=static_covariates or [])
        s = self._read(data, fill, fitted=False, **cols)
        L, H = self.input_size, self.horizon
        check_lengths(s, L + H, f"fitting with input_size + horizon = {L} + {H}")
        self._check_target(s, cols)
        self.columns_, self.fill_ = cols, fill
        self.freq_, self.has_id_ = s.freq, s.has_id
        self.calendar_ = resolve_calendar(self.calendar, s.freq)
        self.season_length_ = self.season_length or season_for(s.freq)
        self.series_ids_ = list(s.ids)
        cs = with_calendar(s, self.calendar_)  # the user's columns and the calendar's, as the network reads them
        self.cov_stats_ = {k: _stats(getattr(cs, k)) for k in ("past", "future")}
        self.cov_stats_["static"] = _stats([s.static])
        n_emb = self.series_embedding if self.series_embedding is not None else 1 < len(s) <= 1000
        w = self.segment_length or _auto_segment(L, self.season_length_)
        self.net_config_ = NetConfig(**{**asdict(self.net_config_), "outputs": self.spec_.size,
                                        "n_past": len(s.past_cols), "n_future": len(cs.future_cols),
                                        "n_static": len(s.static_cols), "n_series": len(s) if n_emb else 0,
                                        "segment_length": min(w, L)})
        device = resolve_device(self.device)
        torch.manual_seed(self.seed)
        self.model_ = ForecastModel(self.net_config_, self.spec_, self.norm, self.transform)
        flat = self._flat(s).to(device)
        lengths = flat.lengths.cpu().numpy()
        if val_data is not None:
            v = self._read(val_data)
            check_lengths(v, L + H, "validation data")
            self._check_target(v)
            vflat = self._flat(v).to(device)
            tr, va = window_ends(lengths, L, H), window_ends(vflat.lengths.cpu().numpy(), L, H)
        else:
            vflat = flat
            hold = np.array([self.val_size if self.val_size is not None else max(H, n // 10) for n in lengths])
            train_last = lengths - hold - H
            if self.val_size == 0 or (train_last < L).any():
                tr, va = window_ends(lengths, L, H), None
            else:
                tr, va = window_ends(lengths, L, H, last=train_last), window_ends(lengths, L, H, first=lengths - hold)
        t = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
        tr = _repeat_small(tr, self.batch_size)
        train = TensorBatches(t(tr[0]), t(tr[1]), batch_size=self.batch_size, seed=self.seed)
        valid = TensorBatches(t(va[0]), t(va[1]), batch_size=1024, shuffle=False) if va is not None else None
        vf = vflat

        vemb = t(self._sid(v)) if val_data is not None else None

        def loss_fn(model, batch, src=None, emb=None):
            return model.loss(gather(src or flat, batch[0], batch[1], L, H, None if emb is None else emb[batch[0]]))

        patience = self.early_stopping_patience if valid is not None else None
        config = TrainConfig(max_epochs=epochs or self.epochs, max_time=max_time or self.max_time, lr=self.lr,
                             weight_decay=self.weight_decay, ema_decay=self.ema_decay,
                             early_stopping_patience=patience, seed=self.seed,
                             device=str(device), num_threads=self.num_threads, progress=self.progress)
        trainer = Trainer(config)
        eval_fn = None
        if valid is not None:
            def eval_fn(model):
                losses = [float(loss_fn(model, b, vf, vemb)) * len(b[0]) for b in valid.epoch(0)]
                return {"val_loss": sum(losses) / valid.n}
        self.fit_result_ = trainer.fit(self.model_, train, valid=None, loss_fn=loss_fn, eval_fn=eval_fn)
        self.model_.to("cpu").eval()
        self.history_ = _tail(s, L)
        return self

    def _check_target(self, s: SeriesSet, cols: dict | None = None) -> None:
        """``cols``: the column names of this data (default: those of the fit)."""
        cols = cols or self.columns_
        if self.transform == "log":
            check_positive_target(s, cols["target"], cols["time_col"])

    def _flat(self, s: SeriesSet) -> FlatSeries:
        """``s`` (the user's columns) with the calendar features of its times, standardised, as flat tensors."""
        st = self.cov_stats_
        return FlatSeries.from_set(with_calendar(s, self.calendar_), st["past"], st["future"], st["static"])

    def _sid(self, s: SeriesSet) -> np.ndarray:
        if not self.net_config_.n_series:
            return np.zeros(len(s), np.int64)
        index = {u: i for i, u in enumerate(self.series_ids_)}
        return np.array([index.get(u, -1) for u in s.ids], np.int64)  # +1 in gather: -1 -> 0 = unknown

    # --------------------------------------------------------------------------------------------- predict
    def predict(self, horizon: int | None = None, data=None, future_covariates=None,
                fill: str | None = None) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of each series in ``data`` (default: the training data).

        Returns a DataFrame with ``unique_id`` (when the data has ids), ``ds``, ``yhat`` and ``yhat_q{level}`` columns.
        """
        if self.model_ is None:
            raise ValueError(NOT_FITTED)
        h = self.horizon if horizon is None else check_positive_int("horizon", horizon)
        if h > self.horizon and self.decoder != "autoregressive":
            raise ValueError(f"horizon {h} is longer than the trained horizon {self.horizon}; refit with "
                             f"horizon={h}, or use decoder='autoregressive' for open horizons")
        s = self.history_ if data is None else self._read(data, fill)
        check_lengths(s, self.input_size, f"predicting with input_size = {self.input_size}",
                      fix=f"give each series at least its last {self.input_size} points, the history the model "
                          f"was trained to read")
        self._check_target(s)
        fut = future_block(s, future_covariates, h, time_name(self.columns_["time_col"]), self.columns_["id_col"])
        out = self._predict_set(s, fut, h)  # (S, h, K)
        return self._frame(s, out, h)

    def _predict_set(self, s: SeriesSet, fut: list[np.ndarray], h: int) -> np.ndarray:
        """Series-scale outputs ``(S, h, K)`` for the ``h`` steps after each series of ``s``."""
        L = self.input_size
        # the calendar reads the dates of the L + h steps; without one, building them would only slow predict down
        times = [t[-L:].append(future_index(t[-1], s.freq, h)) for t in s.times] if self.calendar_ else s.times
        ext = SeriesSet(ids=s.ids, freq=s.freq, times=times, has_id=s.has_id, static=s.static,
                        values=[np.concatenate([v[-L:], np.zeros(h, np.float32)]) for v in s.values],
                        past=[np.concatenate([p[-L:], np.zeros((h, p.shape[1]), np.float32)]) for p in s.past],
                        future=[np.concatenate([f[-L:], g]) for f, g in zip(s.future, fut)],
                        past_cols=s.past_cols, future_cols=s.future_cols, static_cols=s.static_cols)
        sid = torch.arange(len(s))
        end = torch.full((len(s),), L, dtype=torch.long)
        return self._run(self._flat(ext), sid, end, h, torch.from_numpy(self._sid(s)))

    @torch.no_grad()
    def _run(self, flat: FlatSeries, sid: torch.Tensor, end: torch.Tensor, h: int, emb: torch.Tensor) -> np.ndarray:
        """Series-scale outputs ``(N, h, K)`` for windows ``(sid, end)`` (``emb``: embedding rows per series)."""
        self.model_.eval()
        outs = []
        for i in range(0, len(sid), 2048):
            j = sid[i:i + 2048]
            b = gather(flat, j, end[i:i + 2048], self.input_size, h, emb[j])
            outs.append(self.model_.predict_params(b, h).numpy())
        return np.concatenate(outs) if outs else np.zeros((0, h, self.spec_.size), np.float32)

    def _frame(self, s: SeriesSet, out: np.ndarray, h: int) -> pd.DataFrame:
        point = self.spec_.point(torch.from_numpy(out)).numpy()  # (S, h)
        cols = {}
        if s.has_id:
            cols[self.columns_["id_col"]] = np.repeat(s.ids, h)
        cols[time_name(self.columns_["time_col"])] = np.concatenate([future_index(t[-1], s.freq, h) for t in s.times])
        cols["yhat"] = point.reshape(-1)
        qv = self.spec_.quantile_values(out)
        for j, q in enumerate(self.spec_.quantiles):
            if q in self.quantiles:  # the median learned for "quantile" is yhat already
                cols[f"yhat_q{q:g}"] = qv[..., j].reshape(-1)
        return pd.DataFrame(cols)

    # ---------------------------------------------------------------------------------- backtest, save, load
    def backtest(self, data, start, stride: int = 1, refit: bool = False, fill: str | None = None):
        """Forecast every window whose forecast starts at or after ``start`` (a row index or a timestamp).

        Returns a :class:`rnnkit.forecast.backtest.BacktestResult` (``.forecasts``, ``.windows``, ``.metrics``).
        Target values made up by ``fill`` are not scored (``metrics["filled_steps_not_scored"]`` counts them).
        """
        from rnnkit.forecast.backtest import run_backtest

        if self.model_ is None:
            raise ValueError(NOT_FITTED)
        s = self._read(data, fill)
        self._check_target(s)
        return run_backtest(self, s, start, check_positive_int("stride", stride), refit, data)

    def save(self, path) -> None:
        """Write a model folder (config.json, model.safetensors, history.json) that loads on its own."""
        from rnnkit.forecast.persist import save_forecaster

        if self.model_ is None:
            raise ValueError(NOT_FITTED)
        save_forecaster(self, path)

    @classmethod
    def load(cls, path) -> Forecaster:
        """Rebuild a fitted Forecaster from a folder written by :meth:`save`."""
        from rnnkit.forecast.persist import load_forecaster

        return load_forecaster(cls, path)


def _stats(blocks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """Column mean and std over all rows of ``blocks`` (std floored at 1e-8), or None without columns."""
    if not blocks or blocks[0].shape[1] == 0:
        return None
    x = np.concatenate(blocks).astype(np.float64)
    return x.mean(0).astype(np.float32), np.maximum(x.std(0), 1e-8).astype(np.float32)


# An epoch is at least this many batches. A short series (ten years of months: about 100 windows) fills one batch,
# so 30 epochs would be 30 optimizer steps and early stopping after 5 epochs 5 steps: far too few to fit anything.
MIN_BATCHES_PER_EPOCH = 8


def _repeat_small(windows: tuple[np.ndarray, np.ndarray], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Training windows ``(sid (N,), end (N,))``, repeated whole until they fill ``MIN_BATCHES_PER_EPOCH`` batches:
    on small data one epoch is then several passes, so ``epochs`` and early stopping's patience mean as much
    training as on large data. Data of that many batches or more are returned as they are."""
    n = len(windows[0])
    if n == 0 or -(-n // batch_size) >= MIN_BATCHES_PER_EPOCH:
        return windows
    k = -(-MIN_BATCHES_PER_EPOCH * batch_size // n)  # passes needed, rounded up
    return np.tile(windows[0], k), np.tile(windows[1], k)


def _auto_segment(input_size: int, season: int) -> int:
    """SegRNN segment length: the season when it gives 2..16 segments, else L // 4 capped at 48."""
    if 1 < season and 2 <= input_size // season <= 16 and input_size % season == 0:
        return season
    return max(1, min(48, input_size // 4))


def _tail(s: SeriesSet, n: int) -> SeriesSet:
    """The last ``n`` rows of every series (what predict needs after fit)."""
    return SeriesSet(ids=list(s.ids), values=[v[-n:] for v in s.values], times=[t[-n:] for t in s.times],
                     freq=s.freq, past=[p[-n:] for p in s.past], future=[f[-n:] for f in s.future], static=s.static,
                     past_cols=s.past_cols, future_cols=s.future_cols, static_cols=s.static_cols, has_id=s.has_id)
