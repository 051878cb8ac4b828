"""Time-series forecasting with recurrent networks: ``Forecaster`` (fit / predict / backtest / save / load),
SegRNN and recurrent encoders, metrics, baselines and plots.

Example:
    >>> from rnnkit.forecast import Forecaster
    >>> f = Forecaster("segrnn", input_size=96, horizon=24).fit(df)  # long frame unique_id, ds, y
    >>> f.predict()  # unique_id, ds, yhat
"""

from rnnkit.forecast.backtest import BacktestResult
from rnnkit.forecast.forecaster import Forecaster
from rnnkit.forecast.frames import SeriesSet, load_frame
from rnnkit.forecast.models import MODELS

__all__ = ["Forecaster", "BacktestResult", "SeriesSet", "load_frame", "MODELS"]
