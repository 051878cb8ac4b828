"""The shared conformance test over every model name and decoder, and the covariate leakage guard."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.forecast.models import MODELS, NetConfig
from rnnkit.forecast.models.common import CELLS
from rnnkit.forecast.network import ForecastModel
from rnnkit.forecast.probabilistic import OutputSpec
from rnnkit.forecast.scaling import InstanceNorm

B, L, H = 3, 12, 4


def batch(cp=1, cf=1, cs=1, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"y": torch.randn(B, L, generator=g) * 5 + 20, "target": torch.randn(B, H, generator=g) + 20,
            "past": torch.randn(B, L, cp, generator=g), "future": torch.randn(B, L + H, cf, generator=g),
            "static": torch.randn(B, cs, generator=g), "sid": torch.tensor([1, 2, 0])}


def model(name, decoder="direct", loss="mae", quantiles=(), norm="revin", **kw):
    spec = OutputSpec(loss, quantiles)
    cfg = NetConfig(model=name, input_size=L, horizon=H, hidden_size=8, outputs=spec.size, n_past=1, n_future=1,
                    n_static=1, n_series=2, segment_length=5, decoder=decoder, **kw)
    torch.manual_seed(0)
    return ForecastModel(cfg, spec, norm=norm)


CASES = [(m, "direct") for m in MODELS] + [(m, "autoregressive") for m in MODELS if m != "segrnn"]


@pytest.mark.parametrize("name,decoder", CASES)
def test_conformance(name, decoder):
    """Shapes, finite gradients to every parameter, scale equivariance from the instance norm, eval determinism."""
    net = model(name, decoder, "quantile", (0.1, 0.9))
    b = batch()
    loss = net.loss(b)
    loss.backward()
    assert torch.isfinite(loss)
    no_grad = [n for n, p in net.named_parameters() if p.grad is None and "ids" not in n]
    assert not no_grad, no_grad
    net.eval()
    out = net.predict_params(b)
    assert out.shape == (B, H, 3) and torch.isfinite(out).all()
    torch.testing.assert_close(net.predict_params(b), out)
    scaled = dict(b, y=b["y"] * 10 + 3)  # RevIN: forecasts follow the history's affine map
    torch.testing.assert_close(net.predict_params(scaled), out * 10 + 3, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name,decoder", [("segrnn", "direct"), ("gru", "direct"), ("lstm", "autoregressive")])
def test_future_covariates_over_the_horizon_are_used(name, decoder):
    net = model(name, decoder).eval()
    b = batch()
    out = net.predict_params(b)
    b2 = dict(b, past=b["past"].clone(), future=b["future"].clone())
    b2["future"][:, L:] += 5.0
    assert not torch.allclose(net.predict_params(b2), out)


def test_gather_never_reads_past_covariates_after_the_window_end():
    from tests.forecast.conftest import make_long

    from rnnkit.forecast.frames import load_frame
    from rnnkit.forecast.windows import FlatSeries, gather

    s = load_frame(make_long(1, covariates=True).drop(columns=["size", "hour"]), past_covariates=["load"])
    flat = FlatSeries.from_set(s)
    b = gather(flat, torch.tensor([0]), torch.tensor([20]), L, H)
    assert b["past"].shape == (1, L, 1)
    torch.testing.assert_close(b["past"][0, :, 0], flat.past[8:20, 0])
    torch.testing.assert_close(b["target"][0], flat.y[20:24])


@pytest.mark.parametrize("loss", ["mae", "mse", "huber", "gaussian", "student_t"])
def test_every_loss_trains(loss):
    net = model("segrnn", loss=loss, quantiles=(0.1, 0.9) if loss in ("gaussian", "student_t") else ())
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    b = batch()
    first = float(net.loss(b).detach())
    for _ in range(15):
        opt.zero_grad()
        net.loss(b).backward()
        opt.step()
    assert float(net.loss(b).detach()) < first


def test_autoregressive_rolls_past_the_trained_horizon():
    net = model("gru", "autoregressive").eval()
    b = batch()
    b["future"] = torch.randn(B, L + 9, 1)
    assert net.predict_params(b, horizon=9).shape == (B, 9, 1)


def test_bad_config_messages():
    with pytest.raises(ValueError, match=r"model must be one of \['segrnn', 'lstm'"):
        NetConfig(model="transformer")
    with pytest.raises(ValueError, match="horizon must be a positive integer, got 0"):
        NetConfig(horizon=0)
    with pytest.raises(ValueError, match="quantiles need loss='quantile', 'gaussian' or 'student_t', not 'mae'"):
        OutputSpec("mae", (0.1,))


@pytest.mark.parametrize("cell", list(CELLS))
def test_segrnn_decoder_broadcast_equals_one_step_over_repeated_states(cell):
    """SegRNN's decoder shares W_hh h across a window's M queries; it must equal the plain layer over B * M rows."""
    net = model("segrnn", cell=cell, num_layers=2).net.eval()
    M, d = 4, 8
    g = torch.Generator().manual_seed(1)
    q = torch.randn(B, M, d, generator=g)
    state = net.rnn.state_type(*[torch.randn(2, B, d, generator=g) for _ in net.rnn.state_type._fields])
    repeated = net.rnn.state_type(*[f.repeat_interleave(M, dim=1) for f in state])  # (2, B * M, d)
    ref, _ = net.rnn(q.reshape(B * M, 1, d), repeated)
    torch.testing.assert_close(net._decode(q, state), ref.view(B, M, d), rtol=1e-5, atol=1e-6)


def test_the_point_forecast_is_the_median_even_where_raw_quantiles_cross():
    spec = OutputSpec("quantile", (0.1, 0.9))  # columns 0.1, 0.5, 0.9
    crossed = torch.tensor([[[0.3, -0.2, 0.1], [-1.0, 0.0, 1.0]]])  # (B=1, H=2, K=3); step 0 crosses
    point = spec.point(crossed)
    values = spec.quantile_values(crossed.numpy())
    assert point.tolist() == [[pytest.approx(0.1), pytest.approx(0.0)]]
    np.testing.assert_allclose(values[..., 1], point.numpy())  # yhat == yhat_q0.5
    assert (values[..., 0] <= point.numpy()).all() and (point.numpy() <= values[..., 2]).all()


@pytest.mark.parametrize("norm", ["last", "mean"])
def test_level_norms_make_forecasts_follow_a_shift_of_the_history(norm):
    net = model("segrnn", loss="quantile", quantiles=(0.1, 0.9), norm=norm).eval()
    b = batch()
    out = net.predict_params(b)
    torch.testing.assert_close(net.predict_params(dict(b, y=b["y"] + 7)), out + 7, rtol=1e-4, atol=1e-4)
    loc, scale = InstanceNorm(norm).stats(b["y"])
    want = b["y"][:, -1:] if norm == "last" else b["y"].mean(1, keepdim=True)
    torch.testing.assert_close(loc, want)
    torch.testing.assert_close(scale, torch.ones(B, 1))
