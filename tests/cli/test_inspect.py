"""`rnnkit inspect memory` at tiny settings: table, PNG and JSON; bad options give one error line."""

from __future__ import annotations

import json

import pytest
import torch

from rnnkit.cli.app import main


def test_inspect_memory_writes_plot_and_json(tmp_path, capsys):
    threads = torch.get_num_threads()
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", "memory", "--cells", "rnn,lstm", "--steps", "20", "--hidden", "8", "--delays", "2,4",
              "--copy-steps", "5", "--out", str(tmp_path / "plots"), "--json", str(tmp_path / "m.json")])
    assert exit_info.value.code == 0
    png = tmp_path / "plots" / "memory.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert {"rnn_grad_lag1", "lstm_grad_lag19", "rnn_copy_longest_delay", "seconds"} <= set(metrics)
    assert metrics["rnn_grad_lag19"] < metrics["lstm_grad_lag19"]
    out = capsys.readouterr().out
    assert "k=10" in out and "lstm" in out and "memory.png" in out
    assert torch.get_num_threads() == threads  # the one-thread setting is restored


def test_inspect_memory_without_copy_task(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", "memory", "--cells", "minlstm", "--steps", "6", "--hidden", "4", "--no-copy", "--init",
              "default", "--out", str(tmp_path), "--json", str(tmp_path / "m.json")])
    assert exit_info.value.code == 0
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert "minlstm_grad_lag5" in metrics and not any("copy" in k for k in metrics)


@pytest.mark.parametrize("args,message", [
    (["--cells", "rnn,foo"], "error: unknown cell(s) ['foo']; choose from"),
    (["--delays", "10,x"], "error: --delays expects comma-separated integers like 10,30,100, got '10,x'"),
    (["--init", "xavier"], "error: --init must be chrono or default, got 'xavier'"),
    (["--steps", "1"], "error: --steps must be >= 2"),
])
def test_bad_options_are_one_error_line(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect", "memory", "--out", str(tmp_path), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_demo_at_default_settings(tmp_path):
    """The first stop of `rnnkit demo` (about 20 s of CPU): RNN forgets, LSTM / GRU retain and bridge longer delays."""
    from rnnkit.cli.inspect import run_demo

    m = run_demo(tmp_path)
    assert (tmp_path / "memory.png").exists()
    assert m["rnn_grad_lag50"] < 1e-6 * m["lstm_grad_lag50"]
    assert m["rnn_copy_longest_delay"] < m["lstm_copy_longest_delay"]
    assert m["rnn_copy_longest_delay"] < m["gru_copy_longest_delay"]
