"""NeuralForecast LSTM (recurrent=False): the last H states of a 2-layer LSTM through a one-layer (linear) decoder.

NeuralForecast trains by optimizer steps on ``windows_batch_size`` windows sampled per step, so 10 epochs are
``10 * ceil(train windows / batch)`` steps. Test windows are predicted in one ``predict`` call, each window as
its own series (NeuralForecast forecasts after the end of every series it is given). MSE loss and the identity
scaler, because the data are already z-scored with train statistics. With ``train_windows`` set, the other rows
train on the most recent windows only; NeuralForecast samples its windows from the whole training part, with the
same number of steps.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def frame(x, pd, np):
    """Windows ``x (W, L)`` as a long frame: one series per window, integer ``ds``."""
    W, L = x.shape
    return pd.DataFrame({"unique_id": np.repeat(np.arange(W), L), "ds": np.tile(np.arange(L), W),
                         "y": x.reshape(-1).astype(np.float64)})


def main(argv: list[str] | None = None) -> dict:
    args = common.worker_args(argv)
    import logging
    import warnings

    import neuralforecast
    import numpy as np
    import pandas as pd
    import torch
    from neuralforecast import NeuralForecast
    from neuralforecast.losses.pytorch import MSE
    from neuralforecast.models import LSTM

    warnings.filterwarnings("ignore")
    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "neuralforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)
    common.pin_threads(torch)
    if args.ftz:
        torch.set_flush_denormal(True)
    import_s = common.time.perf_counter() - common.PROCESS_T0
    spec, series = common.read_task(args.task)
    L, H = spec.input_size, spec.horizon
    C = series.shape[0]
    n_train = len(common.origins(spec, "train")) * C
    steps = spec.epochs * math.ceil(n_train / spec.batch_size)
    train_df = pd.DataFrame({"unique_id": np.repeat(np.arange(C), spec.train_end),
                             "ds": np.tile(np.arange(spec.train_end), C),
                             "y": series[:, :spec.train_end].reshape(-1).astype(np.float64)})
    model = LSTM(h=H, input_size=L, encoder_n_layers=spec.layers, encoder_hidden_size=spec.hidden,
                 decoder_layers=1, decoder_hidden_size=spec.hidden, loss=MSE(), max_steps=steps,
                 learning_rate=spec.lr, batch_size=C, windows_batch_size=spec.batch_size, scaler_type="identity",
                 random_seed=spec.seed + 1, accelerator="cpu", enable_progress_bar=False,
                 enable_model_summary=False, logger=False, enable_checkpointing=False)
    nf = NeuralForecast(models=[model], freq=1)
    with common.Stopwatch() as fit:
        nf.fit(train_df, val_size=0)
    x_te, y_te = common.windows(series, common.origins(spec, "test"), L, H)
    test_df = frame(x_te, pd, np)
    with common.Stopwatch() as pred_t:
        out = nf.predict(df=test_df)
    out = out.sort_values(["unique_id", "ds"])
    pred = out["LSTM"].to_numpy().reshape(len(x_te), H)
    one = frame(x_te[-1:], pd, np)
    lat = common.latency(lambda: nf.predict(df=one), spec.latency_calls)
    n_params = sum(p.numel() for p in nf.models[0].parameters())
    return common.finish(args.out, "neuralforecast", spec, pred, y_te, fit, pred_t, import_s,
                         {**lat, "params": n_params, "ftz": args.ftz, "steps": steps,
                          "version": neuralforecast.__version__})


if __name__ == "__main__":
    main()
