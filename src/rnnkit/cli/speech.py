"""`rnnkit speech`: Speech recognition with recurrent networks and CTC: fit, transcribe, eval, demo.

A manifest is a CSV with the header ``path,text``; relative paths resolve against the manifest's folder.

    rnnkit speech fit --data train.csv --out digits-model --max-time 10
    rnnkit speech transcribe --model digits-model a.wav b.wav      # prints "file<TAB>text" a line
    rnnkit speech transcribe --model digits-model --adapt a.wav b.wav c.wav   # one speaker's files
    rnnkit speech eval --model digits-model --data test.csv --json scores.json
    rnnkit speech eval --model m0 --model m1 --model m2 --data test.csv     # an ensemble of three
    rnnkit speech eval --model digits-model --data test.csv --adapt        # per speaker (column "speaker")
    rnnkit speech demo --json demo.json
"""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.cli.common import DeviceOpt, EpochsOpt, JsonOpt, MaxTimeOpt, SeedOpt, resolve_device, write_json

ModelOpt = typer.Option(..., "--model", help="Model folder written by `rnnkit speech fit`; give it more than once to "
                        "transcribe with an ensemble (models trained on the same transcripts).")


def load_recognizer(models: list[Path]):
    """One model folder -> its SpeechRecognizer; several -> their ensemble."""
    from rnnkit.speech.recognizer import SpeechRecognizer

    loaded = [SpeechRecognizer.load(m) for m in models]
    return loaded[0] if len(loaded) == 1 else SpeechRecognizer.ensemble(loaded)


app = typer.Typer(help="Speech recognition with recurrent networks and CTC: fit, transcribe, eval, demo.", no_args_is_help=True)


@app.command()
def fit(
    data: Path = typer.Option(..., "--data", help="Training manifest CSV with header path,text."),
    out: Path = typer.Option(..., "--out", help="Model folder to write."),
    epochs: int = EpochsOpt,
    max_time: float = MaxTimeOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    sample_rate: int = typer.Option(16000, "--sample-rate", help="Rate the model works at (audio is resampled)."),
    streaming: bool = typer.Option(False, "--streaming", help="Unidirectional model that can transcribe live."),
    lookahead: int = typer.Option(0, "--lookahead", help="With --streaming: steps of future context (after "
                                  "subsampling) the model may read, at that much latency."),
    hidden: int = typer.Option(128, "--hidden", help="Hidden units per direction."),
    layers: int = typer.Option(3, "--layers", help="Stacked recurrent layers."),
    cell: str = typer.Option("lstm", "--cell", help="lstm or gru."),
    batch_size: int = typer.Option(32, "--batch-size", help="Utterances per batch."),
    beam: int = typer.Option(1, "--beam", help="Beam size for decoding (1 = greedy)."),
    lm: str = typer.Option("none", "--lm", help="none, char or word: an n-gram from the training transcripts."),
    lexicon: bool = typer.Option(False, "--lexicon", help="Only emit words seen in the training transcripts."),
    warp: float = typer.Option(0.0, "--warp", help="Frequency warping (VTLP) in training: factors from 1 +- WARP, "
                               "e.g. 0.1; helps a model trained on few voices meet new ones."),
    ema: float = typer.Option(None, "--ema", help="Average the weights with this decay, e.g. 0.998."),
) -> None:
    """Train a recogniser on a manifest and write a model folder that loads on its own."""
    from rnnkit.speech.workflow import fit_manifest

    if lookahead and not streaming:
        raise ValueError(f"--lookahead {lookahead} is for streaming models: add --streaming, or drop --lookahead "
                         "(a bidirectional model already reads the whole utterance)")
    rec = fit_manifest(data, out, epochs=epochs, max_time=max_time, seed=seed, device=resolve_device(device),
                       sample_rate=sample_rate, streaming=streaming, hidden=hidden, layers=layers, cell=cell,
                       batch_size=batch_size, beam=beam, lm=None if lm == "none" else lm, lexicon=lexicon,
                       lookahead=lookahead, warp=warp, ema=ema)
    r = rec.fit_result_
    typer.echo(f"trained {r.epochs} epochs ({r.steps} steps, {r.seconds:.0f} s, stopped: {r.stopped}); "
               f"best {r.monitor} {r.best_metric:.4f}; model written to {out}")


@app.command()
def transcribe(
    files: list[Path] = typer.Argument(..., help="Wav files to transcribe."),
    model: list[Path] = ModelOpt,
    adapt: bool = typer.Option(False, "--adapt", help="The files are one speaker's: normalise the features with "
                               "their joint statistics (speaker-level CMVN; at least 1 s of audio in all)."),
) -> None:
    """Print file<TAB>text for each wav file."""
    rec = load_recognizer(model)
    paths = [str(f) for f in files]
    if adapt:
        rec = rec.adapt(paths)
    for f, text in zip(files, rec.transcribe(paths)):
        typer.echo(f"{f}\t{text}")


@app.command("eval")
def evaluate(
    model: list[Path] = ModelOpt,
    data: Path = typer.Option(..., "--data", help="Manifest CSV with header path,text (and optionally speaker)."),
    adapt: bool = typer.Option(False, "--adapt", help="Adapt to each speaker before transcribing: normalise with "
                               "the statistics of that speaker's files (the manifest's speaker column; without "
                               "one, all files are one speaker)."),
    json_path: Path = JsonOpt,
) -> None:
    """Word and character error rates on a manifest."""
    from rnnkit.datasets.audio import read_manifest, read_manifest_speakers

    rec, pairs = load_recognizer(model), read_manifest(data, must_exist=True)
    if adapt:
        from rnnkit.speech.workflow import evaluate_per_speaker

        notes: list[str] = []
        scores = evaluate_per_speaker(rec, pairs, read_manifest_speakers(data), notes=notes)
        for note in notes:
            typer.echo(note, err=True)
    else:
        scores = rec.evaluate(pairs)
    empty = int(scores.get("n_empty_refs", 0))
    typer.echo(f"WER {scores['wer']:.2%}  CER {scores['cer']:.2%}  sentence accuracy "
               f"{scores['sentence_accuracy']:.2%}  ({int(scores['n'])} utterances"
               + (f"; {empty} with an empty transcript not scored)" if empty else ")"))
    write_json(json_path, scores)


@app.command()
def demo(
    out: Path = typer.Option(Path("rnnkit-demo/speech"), "--out", help="Folder for the demo model and plot."),
    json_path: Path = JsonOpt,
) -> None:
    """Train and test a streaming digit recogniser on SYNTHETIC speech made offline (no download)."""
    write_json(json_path, run_demo(out))


def run_demo(out_dir: Path) -> dict[str, float]:
    """The speech part of ``rnnkit demo``: see :mod:`rnnkit.speech.demo`."""
    from rnnkit.speech.demo import run_demo as _run

    return _run(Path(out_dir))
