"""`rnnkit translate fit / run / eval / demo` end to end on a tiny generated corpus, and its error lines."""

from __future__ import annotations

import io
import json

import pytest
import torch

from rnnkit.cli.app import main
from rnnkit.translate.numbers import number_corpus


def call(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code or 0, out.out, out.err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    en, ja, seen = number_corpus(240, max_value=999, seed=0)
    (d / "train.en").write_text("\n".join(en[:120] + [""] + en[120:]) + "\n", encoding="utf-8")  # one empty line
    (d / "train.ja").write_text("\n".join(ja[:120] + ["百"] + ja[120:]) + "\n", encoding="utf-8")
    ten, tja, _ = number_corpus(20, max_value=999, seed=1, exclude=set(seen))
    (d / "test.en").write_text("\n".join(ten) + "\n", encoding="utf-8")
    (d / "test.ja").write_text("\n".join(tja) + "\n", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def model_dir(corpus, tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("m") / "model"
    with pytest.raises(SystemExit) as e:
        main(["translate", "fit", "--src", str(corpus / "train.en"), "--tgt", str(corpus / "train.ja"),
              "--valid-src", str(corpus / "test.en"), "--valid-tgt", str(corpus / "test.ja"), "--out", str(out),
              "--tokenizer", "word", "--tgt-tokenizer", "char", "--embed-size", "16", "--hidden-size", "16",
              "--epochs", "2", "--seed", "1", "--device", "cpu", "--threads", "1"])
    assert (e.value.code or 0) == 0
    return out


def test_fit_writes_a_model_folder_and_reports_skipped_lines(model_dir, capsys):
    assert {p.name for p in model_dir.iterdir()} >= {"config.json", "model.safetensors", "src_tokenizer.bin",
                                                      "tgt_tokenizer.bin"}


def test_fit_output_mentions_skipped(corpus, tmp_path, capsys):
    code, out, _ = call(capsys, "translate", "fit", "--src", str(corpus / "train.en"), "--tgt",
                        str(corpus / "train.ja"), "--out", str(tmp_path / "m"), "--tokenizer", "char",
                        "--embed-size", "8", "--hidden-size", "8", "--epochs", "1", "--threads", "1")
    assert code == 0
    assert "read 240 sentence pairs" in out and "(skipped 1 with an empty line)" in out
    assert "model written to" in out


def test_run_with_arguments_and_stdin(model_dir, capsys, monkeypatch):
    code, out, _ = call(capsys, "translate", "run", "--model", str(model_dir), "seven", "two hundred and one")
    assert code == 0 and len(out.splitlines()) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("seven\n\nninety-nine\n"))
    code, out2, _ = call(capsys, "translate", "run", "--model", str(model_dir), "--beam-size", "1")
    lines = out2.splitlines()
    assert code == 0 and len(lines) == 3 and lines[1] == ""


def test_eval_writes_bleu_and_chrf(model_dir, corpus, tmp_path, capsys):
    code, out, _ = call(capsys, "translate", "eval", "--model", str(model_dir), "--src", str(corpus / "test.en"),
                        "--ref", str(corpus / "test.ja"), "--json", str(tmp_path / "m.json"))
    assert code == 0 and out.startswith("BLEU ") and "chrF " in out and "nrefs:1" in out
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert 0 <= metrics["bleu"] <= 100 and 0 <= metrics["chrf"] <= 100 and metrics["sentences"] == 20


def test_eval_and_run_with_an_ensemble_of_model_folders(model_dir, corpus, tmp_path, capsys):
    """Two --model folders decode as an ensemble; an ensemble of a model with itself scores as the model."""
    args = ["--src", str(corpus / "test.en"), "--ref", str(corpus / "test.ja")]
    _, single, _ = call(capsys, "translate", "eval", "--model", str(model_dir), *args)
    code, twin, _ = call(capsys, "translate", "eval", "--model", str(model_dir), "--model", str(model_dir), *args)
    assert code == 0 and twin == single
    code, out, _ = call(capsys, "translate", "run", "--model", str(model_dir), "--model", str(model_dir), "seven")
    assert code == 0 and len(out.splitlines()) == 1


def test_error_lines(model_dir, corpus, tmp_path, capsys):
    (tmp_path / "short.ja").write_text("一\n二\n", encoding="utf-8")
    code, _, err = call(capsys, "translate", "eval", "--model", str(model_dir), "--src", str(corpus / "test.en"),
                        "--ref", str(tmp_path / "short.ja"))
    assert code == 2 and err.startswith("error: ") and "test.en has 20 lines but" in err and "short.ja has 2 lines" in err
    (tmp_path / "bad.en").write_bytes(b"one\ntw\xf6\n")
    code, _, err = call(capsys, "translate", "fit", "--src", str(tmp_path / "bad.en"), "--tgt",
                        str(tmp_path / "short.ja"), "--out", str(tmp_path / "x"))
    assert code == 2 and "bad.en is not valid UTF-8: byte 0xf6 at byte offset 6" in err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{}")
    code, _, err = call(capsys, "translate", "run", "--model", str(tmp_path / "broken"), "one")
    assert code == 2 and "is incomplete: missing model.safetensors, src_tokenizer.bin, tgt_tokenizer.bin" in err
    code, _, err = call(capsys, "translate", "fit", "--src", str(corpus / "test.en"), "--tgt",
                        str(corpus / "test.ja"), "--out", str(tmp_path / "y"), "--valid-src", str(corpus / "test.en"))
    assert code == 2 and "give both --valid-src and --valid-tgt, or neither" in err


def test_demo_smoke(tmp_path, monkeypatch):
    from rnnkit.translate.demo import numbers_demo

    lines: list[str] = []
    metrics = numbers_demo(tmp_path, epochs=1, train_size=200, test_size=10, echo=lines.append)
    assert set(metrics) == {"exact_match", "chrf", "train_seconds", "train_cpu_seconds", "sentences_per_second"}
    assert 0.0 <= metrics["exact_match"] <= 1.0
    assert (tmp_path / "attention.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "model" / "config.json").exists()
    assert any("exact match on 10 unseen numbers" in line for line in lines)


@pytest.mark.slow
def test_demo_reaches_99_percent(tmp_path, capsys):
    code, _, _ = call(capsys, "translate", "demo", "--out", str(tmp_path), "--json", str(tmp_path / "d.json"))
    assert code == 0
    assert json.loads((tmp_path / "d.json").read_text())["exact_match"] >= 0.99
