"""Memory diagnostics: gradient by lag, chrono initialisation, the copy task and the whole report."""

from __future__ import annotations

import pytest
import torch

from rnnkit.nn import GRU, LSTM, RNN, MinGRU, MinLSTM
from rnnkit.nn.diagnostics import (
    CopyTaskConfig,
    chrono_init_,
    copy_batch,
    copy_task,
    decay_rate,
    gradient_by_lag,
    make_layer,
    memory_report,
)


def test_rnn_gradient_vanishes_where_lstm_retains():
    torch.manual_seed(0)
    rnn = make_layer("rnn", 8, 32)
    torch.manual_seed(0)
    lstm = make_layer("lstm", 8, 32, chrono=100)
    g_rnn, g_lstm = gradient_by_lag(rnn, steps=60), gradient_by_lag(lstm, steps=60)
    assert g_rnn.shape == g_lstm.shape == (60,)
    assert g_rnn[50] < 1e-4 * g_lstm[50]
    assert g_rnn[1] > g_rnn[10] > g_rnn[50]  # geometric decay
    assert decay_rate(g_rnn.tolist()) < 0.8 < 0.95 < decay_rate(g_lstm.tolist())


def test_default_init_lstm_forgets_and_chrono_fixes_it():
    torch.manual_seed(0)
    default = LSTM(8, 32)
    chrono = LSTM(8, 32)
    chrono.load_state_dict(default.state_dict())
    chrono_init_(chrono, 100)
    assert gradient_by_lag(chrono, steps=60)[50] > 1e3 * gradient_by_lag(default, steps=60)[50]


def test_gradient_by_lag_restores_mode_and_handles_bidirectional():
    layer = GRU(3, 4, bidirectional=True).train()
    g = gradient_by_lag(layer, steps=5, batch_size=2, batches=2)
    assert layer.training and g.shape == (5,) and torch.all(g > 0)
    with pytest.raises(ValueError, match="gradient_by_lag needs steps >= 2, got 1"):
        gradient_by_lag(layer, steps=1)


def test_chrono_init_sets_gate_biases():
    torch.manual_seed(0)
    lstm = chrono_init_(LSTM(2, 16, num_layers=2), 50)
    for cell in lstm.cells:
        i, f = cell.bias_ih[:16], cell.bias_ih[16:32]
        assert torch.all(f >= 0) and torch.all(f <= torch.log(torch.tensor(49.0)))
        torch.testing.assert_close(i, -f)
        assert torch.all(cell.bias_hh == 0)
    gru = chrono_init_(GRU(2, 16), 50)
    assert torch.all(gru.cells[0].bias_ih[16:32] >= 0) and torch.all(gru.cells[0].bias_ih[:16] == 0)
    mingru = chrono_init_(MinGRU(2, 16), 50)
    assert torch.all(mingru.cells[0].bias_ih[:16] <= 0)
    minlstm = chrono_init_(MinLSTM(2, 16), 50)
    torch.testing.assert_close(minlstm.cells[0].bias_ih[:16], -minlstm.cells[0].bias_ih[16:32])
    rnn = RNN(2, 16)
    before = {k: v.clone() for k, v in rnn.state_dict().items()}
    chrono_init_(rnn, 50)
    assert all(torch.equal(before[k], v) for k, v in rnn.state_dict().items())
    with pytest.raises(ValueError, match="chrono_init_ sets gate biases, but this LSTMCell has bias=False"):
        chrono_init_(LSTM(2, 4, bias=False), 50)


def test_copy_batch_layout():
    x, s = copy_batch(5, delay=3, symbols=4, gen=torch.Generator().manual_seed(0))
    assert x.shape == (5, 4, 5) and s.shape == (5,)
    torch.testing.assert_close(x[:, 0, :4].argmax(-1), s)
    assert torch.all(x[:, 1:-1] == 0) and torch.all(x[:, -1, 4] == 1) and torch.all(x[:, -1, :4] == 0)


def test_copy_task_solves_a_short_delay_and_stops_at_failure():
    cfg = CopyTaskConfig(delays=(2, 5), steps=60, hidden_size=16, eval_size=128)
    ok = copy_task(lambda f, h: make_layer("lstm", f, h, chrono=5), cfg)
    assert ok.accuracy[2] >= 0.9 and ok.longest_solved >= 2
    hopeless = copy_task(lambda f, h: make_layer("rnn", f, h),
                         CopyTaskConfig(delays=(2, 5), steps=1, hidden_size=4, threshold=1.0, eval_size=128))
    assert hopeless.longest_solved == 0 and list(hopeless.accuracy) == [2]


def test_config_and_report_errors():
    with pytest.raises(ValueError, match=r"delays must be increasing positive integers, got \(30, 10\)"):
        CopyTaskConfig(delays=(30, 10))
    with pytest.raises(ValueError, match=r"unknown cell\(s\) \['transformer'\]; choose from"):
        memory_report(["rnn", "transformer"])
    with pytest.raises(ValueError, match="unknown cell 'elman'"):
        make_layer("elman", 2, 2)


def test_memory_report_metrics_are_flat_and_order_independent():
    cfg = CopyTaskConfig(delays=(2,), steps=3, hidden_size=4, eval_size=16)
    a = memory_report(["rnn", "mingru"], steps=12, hidden_size=8, copy=cfg)
    b = memory_report(["mingru", "rnn"], steps=12, hidden_size=8, copy=cfg)
    assert a.gradients["rnn"] == b.gradients["rnn"] and a.gradients["mingru"] == b.gradients["mingru"]
    m = a.metrics()
    assert {"rnn_grad_lag1", "rnn_grad_lag10", "rnn_grad_lag11", "mingru_copy_longest_delay",
            "mingru_copy_acc_d2"} <= set(m)
    assert "rnn_grad_lag50" not in m and all(isinstance(v, float) for v in m.values())
