"""`rnnkit classify`: fit / predict / eval on a tiny TSV, stdin input, and the bad-input errors."""

from __future__ import annotations

import io
import json
import sys

import pytest
import torch

from rnnkit.cli.app import main


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    return exc.value.code or 0


def write_tsv(path, n: int, seed: int) -> None:
    from rnnkit.text.demo_data import sentiment_sentences

    texts, labels = sentiment_sentences(n, seed=seed)
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in zip(texts, labels)), encoding="utf-8")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("clf")
    write_tsv(d / "train.tsv", 160, 0)
    write_tsv(d / "dev.tsv", 60, 1)
    torch.set_num_threads(1)
    code = cli("classify", "fit", "--data", str(d / "train.tsv"), "--valid", str(d / "dev.tsv"), "--out",
               str(d / "model"), "--epochs", "2", "--embed-dim", "16", "--hidden-size", "8", "--device", "cpu")
    assert code == 0
    return d


def test_fit_writes_a_model_folder_that_predicts_and_evaluates(model_dir, capsys):
    assert {p.name for p in (model_dir / "model").iterdir()} >= {"config.json", "model.safetensors", "vocab.json"}
    capsys.readouterr()
    assert cli("classify", "predict", "--model", str(model_dir / "model"), "the plot was dull",
               "the music is great") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        label, prob = line.split()[:2]
        assert label in ("negative", "positive") and 0.5 <= float(prob) <= 1.0
    assert "the plot was dull" in lines[0]
    out_json = model_dir / "m.json"
    assert cli("classify", "eval", "--model", str(model_dir / "model"), "--data", str(model_dir / "dev.tsv"),
               "--json", str(out_json)) == 0
    metrics = json.loads(out_json.read_text())
    assert set(metrics) == {"accuracy", "macro_f1", "n"} and metrics["n"] == 60
    assert 0 <= metrics["macro_f1"] <= 1 and "accuracy" in capsys.readouterr().out


def test_predict_reads_stdin_lines(model_dir, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("the acting was superb\n\nthe ending felt weak\n"))
    assert cli("classify", "predict", "--model", str(model_dir / "model")) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_highlight_marks_heavy_words():
    from rnnkit.cli.classify import highlight

    text = highlight([("not", 0.5), ("a", 0.05), ("good", 0.45)])
    assert text.plain == "not a good"
    styled = {text.plain[s.start:s.end] for s in text.spans}
    assert styled == {"not", "good"}


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_bad_inputs_give_one_line_errors(model_dir, tmp_path, capsys):
    out = str(tmp_path / "m")
    empty = tmp_path / "empty.tsv"
    empty.write_text("", encoding="utf-8")
    assert cli("classify", "fit", "--data", str(empty), "--out", out) == 2
    assert error_line(capsys) == f"error: data file {empty} is empty"
    nolabel = tmp_path / "nolabel.tsv"
    nolabel.write_text("text\tstars\ngood\t5\n", encoding="utf-8")
    assert cli("classify", "fit", "--data", str(nolabel), "--out", out) == 2
    assert error_line(capsys) == (f"error: data file {nolabel} has no 'label' column (columns: ['text', 'stars']); "
                                  "the header must name both 'text' and 'label'")
    single = tmp_path / "single.tsv"
    single.write_text("text\tlabel\ngood\tpos\nfine\tpos\n", encoding="utf-8")
    assert cli("classify", "fit", "--data", str(single), "--out", out) == 2
    assert error_line(capsys) == "error: fit needs at least 2 classes to tell apart, but every label is 'pos'"
    latin = tmp_path / "latin.tsv"
    latin.write_bytes("text\tlabel\nna\u00efve\tpos\n".encode("latin-1"))
    assert cli("classify", "eval", "--model", str(model_dir / "model"), "--data", str(latin)) == 2
    assert error_line(capsys).startswith(f"error: data file {latin} is not UTF-8 (byte 13, line 2")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((model_dir / "model" / "config.json").read_text())
    assert cli("classify", "predict", "--model", str(broken), "x") == 2
    assert error_line(capsys) == f"error: model folder {broken} is incomplete: missing model.safetensors, vocab.json"


def test_demo_is_exposed():
    from rnnkit.cli import classify

    assert callable(classify.run_demo)


@pytest.mark.slow
def test_demo_runs(tmp_path):
    from rnnkit.cli.classify import run_demo

    metrics = run_demo(tmp_path)
    assert metrics["accuracy"] > 0.9 and (tmp_path / "attention.png").is_file()
