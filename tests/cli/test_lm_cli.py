"""`rnnkit lm`: fit / generate / eval on a tiny generated corpus, and the bad-input errors."""

from __future__ import annotations

import json

import pytest
import torch

from rnnkit.cli.app import main


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    return exc.value.code or 0


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from rnnkit.text.demo_data import play_text

    d = tmp_path_factory.mktemp("lm")
    (d / "corpus.txt").write_text(play_text(80, seed=0), encoding="utf-8")
    torch.set_num_threads(1)
    code = cli("lm", "fit", "--data", str(d / "corpus.txt"), "--out", str(d / "model"), "--epochs", "2", "--lr", "0.01",
               "--hidden-size", "32", "--embed-dim", "16", "--layers", "1", "--bptt", "16", "--batch-size", "8",
               "--device", "cpu")
    assert code == 0
    return d


def test_fit_generate_eval(model_dir, capsys):
    assert {p.name for p in (model_dir / "model").iterdir()} >= {"config.json", "model.safetensors", "vocab.json"}
    capsys.readouterr()
    assert cli("lm", "generate", "--model", str(model_dir / "model"), "--prompt", "ROMEO:", "--tokens", "50",
               "--seed", "0") == 0
    out = capsys.readouterr().out
    assert out.startswith("ROMEO:") and len(out) == len("ROMEO:") + 50 + 1
    path = model_dir / "m.json"
    assert cli("lm", "eval", "--model", str(model_dir / "model"), "--data", str(model_dir / "corpus.txt"),
               "--json", str(path)) == 0
    metrics = json.loads(path.read_text())
    assert {"loss", "bpc", "perplexity"} <= set(metrics) and 0 < metrics["loss"] < 3.0


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_bad_inputs_give_one_line_errors(model_dir, tmp_path, capsys):
    model = str(model_dir / "model")
    assert cli("lm", "generate", "--model", model, "--prompt", "") == 2
    assert error_line(capsys) == "error: the prompt is empty; give the text to continue, e.g. 'ROMEO:'"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert cli("lm", "fit", "--data", str(empty), "--out", str(tmp_path / "m")) == 2
    assert error_line(capsys) == f"error: corpus {empty} is empty"
    assert cli("lm", "eval", "--model", model, "--data", str(empty)) == 2
    assert error_line(capsys) == f"error: corpus {empty} is empty"
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"ROMEO:\n\xff\xfe")
    assert cli("lm", "eval", "--model", model, "--data", str(binary)) == 2
    assert error_line(capsys).startswith(f"error: corpus {binary} is not UTF-8 (byte 7, line 2")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes((model_dir / "model" / "model.safetensors").read_bytes())
    assert cli("lm", "generate", "--model", str(broken), "--prompt", "R") == 2
    assert error_line(capsys) == f"error: model folder {broken} is incomplete: missing config.json, vocab.json"
    assert cli("lm", "generate", "--model", str(tmp_path / "nope"), "--prompt", "R") == 2
    assert error_line(capsys).startswith(f"error: model folder {tmp_path / 'nope'} does not exist")


def test_demo_is_exposed():
    from rnnkit.cli import lm

    assert callable(lm.run_demo)


@pytest.mark.slow
def test_demo_runs(tmp_path):
    from rnnkit.cli.lm import run_demo

    metrics = run_demo(tmp_path)
    assert metrics["loss"] < 1.0 and (tmp_path / "sample.txt").read_text().startswith("ROMEO:")
