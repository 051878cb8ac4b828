"""Forecasting networks on rnnkit.nn layers, all with one call signature (see :class:`NetConfig`).

* :class:`~rnnkit.forecast.models.direct.DirectNet`: a recurrent encoder and a direct multi-horizon head;
* :class:`~rnnkit.forecast.models.autoregressive.AutoregressiveNet`: one step at a time, any horizon at predict time;
* :class:`~rnnkit.forecast.models.segrnn.SegRNN`: segment-wise recurrence and parallel multi-step decoding.

``net(y, past, future, static, sid, horizon) -> raw (B, horizon, K)``, with ``y (B, L)`` normalised history,
``past (B, L, Cp)``, ``future (B, L + horizon, Cf)``, ``static (B, Cs)``, ``sid (B,)`` series index (0 = unknown).
"""

from __future__ import annotations

from rnnkit.forecast.models.common import CELLS, MODELS, NetConfig
from rnnkit.forecast.models.direct import DirectNet


def build_net(cfg: NetConfig):
    """Build the network named by ``cfg.model`` / ``cfg.decoder``."""
    if cfg.model == "segrnn":
        from rnnkit.forecast.models.segrnn import SegRNN

        return SegRNN(cfg)
    if cfg.decoder == "autoregressive":
        from rnnkit.forecast.models.autoregressive import AutoregressiveNet

        return AutoregressiveNet(cfg)
    return DirectNet(cfg)


__all__ = ["NetConfig", "MODELS", "CELLS", "build_net", "DirectNet"]
