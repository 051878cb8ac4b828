"""`rnnkit speech` fit / transcribe / eval on a tiny manifest of SYNTHETIC tone speech, and the error convention."""

from __future__ import annotations

import json
import random

import pytest

from rnnkit.cli.app import main
from rnnkit.datasets.audio import read_manifest, write_manifest
from rnnkit.speech import write_wav
from rnnkit.speech.synth import tone_utterance


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    d = tmp_path_factory.mktemp("speech")
    (d / "wav").mkdir()
    rng = random.Random(0)
    rows = []
    for i in range(12):
        text = " ".join(rng.choice(["yes", "no"]) for _ in range(rng.randint(1, 2)))
        write_wav(d / "wav" / f"u{i}.wav", tone_utterance(text, 8000, rng), 8000)
        rows.append((f"wav/u{i}.wav", text))  # relative to the manifest's folder
    write_manifest(d / "train.csv", rows)
    return d


def test_manifest_paths_resolve_against_its_folder(manifest):
    rows = read_manifest(manifest / "train.csv")
    assert rows[0][0] == str(manifest / "wav" / "u0.wav") and len(rows) == 12


def test_fit_transcribe_eval(manifest, capsys):
    model = manifest / "model"
    code = run(["speech", "fit", "--data", str(manifest / "train.csv"), "--out", str(model), "--epochs", "2",
                "--sample-rate", "8000", "--hidden", "16", "--layers", "1", "--seed", "1", "--device", "cpu"])
    assert code == 0 and (model / "config.json").is_file() and (model / "model.safetensors").is_file()
    assert "model written to" in capsys.readouterr().out
    wavs = [str(manifest / "wav" / "u0.wav"), str(manifest / "wav" / "u1.wav")]
    assert run(["speech", "transcribe", "--model", str(model), *wavs]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == wavs and all(line.count("\t") == 1 for line in lines)
    out = manifest / "scores.json"
    assert run(["speech", "eval", "--model", str(model), "--data", str(manifest / "train.csv"), "--json", str(out)]) == 0
    scores = json.loads(out.read_text())
    assert 0.0 <= scores["wer"] and 0.0 <= scores["cer"] and scores["n"] == 12


def test_fit_streaming_with_lookahead(manifest, tmp_path, capsys):
    from rnnkit.speech import SpeechRecognizer

    code = run(["speech", "fit", "--data", str(manifest / "train.csv"), "--out", str(tmp_path / "live"), "--epochs",
                "1", "--sample-rate", "8000", "--hidden", "16", "--layers", "1", "--streaming", "--lookahead", "2",
                "--warp", "0.1", "--ema", "0.9", "--device", "cpu"])
    assert code == 0
    rec = SpeechRecognizer.load(tmp_path / "live")
    assert rec.model_.config.lookahead == 2 and not rec.model_.config.bidirectional
    capsys.readouterr()
    assert run(["speech", "fit", "--data", str(manifest / "train.csv"), "--out", str(tmp_path / "bad"),
                "--lookahead", "2"]) == 2  # lookahead without --streaming: one error line in the CLI's words
    assert capsys.readouterr().err == ("error: --lookahead 2 is for streaming models: add --streaming, or drop "
                                       "--lookahead (a bidirectional model already reads the whole utterance)\n")
    assert run(["speech", "fit", "--data", str(manifest / "train.csv"), "--out", str(tmp_path / "bad"),
                "--warp", "0.7"]) == 2  # out of range: one error line
    assert run(["speech", "fit", "--data", str(manifest / "train.csv"), "--out", str(tmp_path / "bad"),
                "--ema", "1.5"]) == 2  # not a decay: one error line


def test_bad_manifest_is_one_error_line(tmp_path, capsys):
    (tmp_path / "m.csv").write_text("file,transcript\na.wav,yes\n")
    assert run(["speech", "fit", "--data", str(tmp_path / "m.csv"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: manifest {tmp_path / 'm.csv'} must be a CSV with the header 'path,text', "
                   "got ['file', 'transcript']\n")


def test_transcribing_a_non_wav_names_the_file(manifest, tmp_path, capsys):
    if not (manifest / "model").is_dir():
        pytest.skip("needs the model from test_fit_transcribe_eval")
    bad = tmp_path / "song.mp3"
    bad.write_bytes(b"ID3\x03\x00 not a wav")
    assert run(["speech", "transcribe", "--model", str(manifest / "model"), str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {bad} is not a readable PCM wav file")


def test_repeated_model_transcribes_with_an_ensemble(manifest, tmp_path, capsys):
    models = []
    for seed in (1, 2):
        models += ["--model", str(tmp_path / f"m{seed}")]
        assert run(["speech", "fit", "--data", str(manifest / "train.csv"), "--out", str(tmp_path / f"m{seed}"),
                    "--epochs", "2", "--sample-rate", "8000", "--hidden", "16", "--layers", "1", "--seed",
                    str(seed), "--device", "cpu"]) == 0
    capsys.readouterr()
    wav = str(manifest / "wav" / "u0.wav")
    assert run(["speech", "transcribe", *models, wav]) == 0
    line = capsys.readouterr().out.strip()
    from rnnkit.speech import SpeechRecognizer

    ens = SpeechRecognizer.ensemble([SpeechRecognizer.load(tmp_path / "m1"), SpeechRecognizer.load(tmp_path / "m2")])
    assert line == f"{wav}\t{ens.transcribe(wav)}"
    out = tmp_path / "scores.json"
    assert run(["speech", "eval", *models, "--data", str(manifest / "train.csv"), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["n"] == 12


def test_a_manifest_saved_by_a_spreadsheet_is_read(tmp_path):
    """Excel's "CSV UTF-8" starts with a byte-order mark and ends lines with CRLF."""
    (tmp_path / "m.csv").write_bytes("\ufeffpath,text\r\nclips/a b.wav,Zero!\r\n".encode("utf-8"))
    rows = read_manifest(tmp_path / "m.csv")
    assert [(str(p), t) for p, t in rows] == [(str(tmp_path / "clips" / "a b.wav"), "Zero!")]


def test_a_manifest_that_is_not_utf8_names_the_file_and_byte(tmp_path, capsys):
    (tmp_path / "m.csv").write_bytes(b"path,text\na.wav,caf\xe9\n")
    assert run(["speech", "fit", "--data", str(tmp_path / "m.csv"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (f"error: {tmp_path / 'm.csv'} is not valid UTF-8: byte 0xe9 at byte offset 19; "
                                       "convert it first, e.g. iconv -f LATIN1 -t UTF-8\n")


def test_adapt_transcribes_and_scores_each_speaker_with_their_own_statistics(manifest, tmp_path, capsys):
    if not (manifest / "model").is_dir():
        pytest.skip("needs the model from test_fit_transcribe_eval")
    from rnnkit.speech import SpeechRecognizer, read_wav
    from rnnkit.speech.workflow import evaluate_per_speaker

    rows = read_manifest(manifest / "train.csv")
    for i, (path, _) in enumerate(rows[6:]):  # the second speaker records 20 dB quieter
        wav, sr = read_wav(path)
        write_wav(tmp_path / f"q{i}.wav", 0.1 * wav.numpy(), sr)
    with open(tmp_path / "test.csv", "w") as f:
        f.write("path,text,speaker\n")
        for i, (path, text) in enumerate(rows):
            f.write(f"{path},{text},a\n" if i < 6 else f"q{i - 6}.wav,{text},b\n")
    out = tmp_path / "scores.json"
    model = str(manifest / "model")
    assert run(["speech", "eval", "--model", model, "--data", str(tmp_path / "test.csv"), "--adapt",
                "--json", str(out)]) == 0
    rec = SpeechRecognizer.load(model)
    pairs = read_manifest(tmp_path / "test.csv")
    assert json.loads(out.read_text()) == evaluate_per_speaker(rec, pairs, ["a"] * 6 + ["b"] * 6)
    capsys.readouterr()
    wavs = [str(tmp_path / f"q{i}.wav") for i in range(6)]
    assert run(["speech", "transcribe", "--model", model, "--adapt", *wavs]) == 0
    texts = rec.adapt(wavs).transcribe(wavs)
    assert capsys.readouterr().out.splitlines() == [f"{w}\t{t}" for w, t in zip(wavs, texts)]
    (tmp_path / "gap.csv").write_text(f"path,text,speaker\n{wavs[0]},yes,b\n{wavs[1]},no,\n")
    assert run(["speech", "eval", "--model", model, "--data", str(tmp_path / "gap.csv"), "--adapt"]) == 2
    assert "line 3 has an empty speaker" in capsys.readouterr().err


def test_an_unquoted_comma_in_a_transcript_is_an_error_not_a_cut(tmp_path, capsys):
    """``a.wav,Hello, world`` would otherwise train on "hello" alone."""
    (tmp_path / "m.csv").write_text("path,text\na.wav,Hello, world\n")
    assert run(["speech", "fit", "--data", str(tmp_path / "m.csv"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == (
        f"error: manifest {tmp_path / 'm.csv'} line 2 has 3 cells but the header 'path,text' has 2; quote a path or "
        'transcript that holds a comma ("Hello, world") and give every column a cell (an empty transcript: a.wav,)\n')
    (tmp_path / "s.csv").write_text("path,text,speaker\na.wav,ann\n")  # the speaker read as the transcript
    with pytest.raises(ValueError, match="line 2 has 2 cells but the header 'path,text,speaker' has 3"):
        read_manifest(tmp_path / "s.csv")


def test_a_spreadsheet_header_and_empty_rows_are_read(tmp_path):
    (tmp_path / "m.csv").write_text('Path,Text\n\n"a, b.wav","Hello, world"\n,\n')
    assert read_manifest(tmp_path / "m.csv") == [(str(tmp_path / "a, b.wav"), "Hello, world")]


def test_eval_says_how_many_empty_transcripts_it_left_out(manifest, tmp_path, capsys):
    if not (manifest / "model").is_dir():
        pytest.skip("needs the model from test_fit_transcribe_eval")
    rows = read_manifest(manifest / "train.csv")
    write_manifest(tmp_path / "m.csv", [rows[0], (rows[1][0], "")])
    assert run(["speech", "eval", "--model", str(manifest / "model"), "--data", str(tmp_path / "m.csv")]) == 0
    assert capsys.readouterr().out.endswith("(1 utterances; 1 with an empty transcript not scored)\n")


def test_fit_never_replaces_a_folder_of_other_files(manifest, capsys):
    """``--out`` the manifest's own folder would have deleted the recordings, after training."""
    assert run(["speech", "fit", "--data", str(manifest / "train.csv"), "--out", str(manifest), "--epochs", "1",
                "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot save the model to {manifest}: the folder holds other files (") and \
        err.endswith("and saving replaces the folder whole; give a new folder name for the model\n")
    assert "training on" not in err and (manifest / "train.csv").is_file()


def test_a_folder_given_as_the_manifest_is_named_as_one(tmp_path, capsys):
    assert run(["speech", "fit", "--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == f"error: manifest {tmp_path} is a folder; give the CSV file with the header " \
        "'path,text'\n"


def test_a_home_relative_manifest_path_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "m.csv").write_text("path,text\n~/clips/a.wav,yes\nclips/b.wav,no\n")
    rows = read_manifest(tmp_path / "m.csv")
    assert rows == [(str(tmp_path / "home" / "clips" / "a.wav"), "yes"), (str(tmp_path / "clips" / "b.wav"), "no")]


def test_a_missing_file_in_the_manifest_is_named_with_its_line_before_training(manifest, tmp_path, capsys):
    rows = read_manifest(manifest / "train.csv")
    (tmp_path / "m.csv").write_text("path,text\n" + "".join(f"{p},{t}\n" for p, t in rows[:3])
                                    + "\nclips/gone.wav,yes\n")
    assert run(["speech", "fit", "--data", str(tmp_path / "m.csv"), "--out", str(tmp_path / "model"),
                "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: manifest {tmp_path / 'm.csv'}: 1 of 4 listed files do not exist, the first "
                   f"{tmp_path / 'clips' / 'gone.wav'} (line 6); fix the paths (relative ones start from the "
                   "manifest's folder)\n")
    assert not (tmp_path / "model").exists()
