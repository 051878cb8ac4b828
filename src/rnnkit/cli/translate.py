"""`rnnkit translate`: Machine translation with an attention encoder-decoder: fit, run, eval, demo."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from rnnkit.cli.common import DeviceOpt, EpochsOpt, JsonOpt, MaxTimeOpt, SeedOpt, resolve_device, write_json

app = typer.Typer(help="Machine translation with an attention encoder-decoder: fit, run, eval, demo.", no_args_is_help=True)

BeamOpt = typer.Option(None, "--beam-size", help="Beam width; 1 = greedy (default: the model's, 5).")
PenaltyOpt = typer.Option(None, "--length-penalty", help="GNMT length-penalty alpha (default: the model's, 0.6).")
ModelOpt = typer.Option(..., "--model", help="Model folder written by `rnnkit translate fit`; give it more than once "
                        "to decode with an ensemble (models trained with the same tokenizer settings).")


def load_translator(models: list[Path]):
    """One model folder -> its Translator; several -> their ensemble."""
    from rnnkit.translate import Translator

    loaded = [Translator.load(m) for m in models]
    return loaded[0] if len(loaded) == 1 else Translator.ensemble(loaded)


@app.command()
def fit(
    src: Path = typer.Option(..., "--src", help="Training source sentences, one a line (.gz allowed)."),
    tgt: Path = typer.Option(..., "--tgt", help="Training target sentences, line-aligned with --src."),
    out: Path = typer.Option(..., "--out", help="Model folder to write."),
    valid_src: Path = typer.Option(None, "--valid-src", help="Validation source (picks the best weights)."),
    valid_tgt: Path = typer.Option(None, "--valid-tgt", help="Validation target, line-aligned with --valid-src."),
    cell: str = typer.Option("lstm", "--cell", help="lstm or gru."),
    attention: str = typer.Option("general", "--attention", help="additive (Bahdanau), dot or general (Luong)."),
    tokenizer: str = typer.Option("unigram", "--tokenizer", help="unigram, bpe, word (pre-tokenized) or char."),
    tgt_tokenizer: str = typer.Option(None, "--tgt-tokenizer", help="Target tokenizer if different from --tokenizer."),
    vocab_size: int = typer.Option(8000, "--vocab-size", help="Largest vocabulary per side."),
    embed_size: int = typer.Option(256, "--embed-size", help="Embedding size."),
    hidden_size: int = typer.Option(256, "--hidden-size", help="Hidden size of encoder (per direction) and decoder."),
    num_layers: int = typer.Option(1, "--layers", help="Stacked recurrent layers."),
    batch_size: int = typer.Option(64, "--batch-size", help="Sentence pairs per batch."),
    lr: float = typer.Option(2e-3, "--lr", help="Peak learning rate."),
    input_feeding: bool = typer.Option(True, "--input-feeding/--no-input-feeding", help="Luong input feeding."),
    dropout: float = typer.Option(0.2, "--dropout", help="Dropout on embeddings and between layers."),
    tie_embeddings: bool = typer.Option(True, "--tie-embeddings/--no-tie-embeddings",
                                        help="Share the target embedding with the output layer."),
    epochs: int = EpochsOpt,
    max_time: float = MaxTimeOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    threads: int = typer.Option(None, "--threads", help="CPU threads (1 is best on a busy shared CPU)."),
) -> None:
    """Train a translator on two line-aligned files and write a model folder."""
    from rnnkit.datasets.parallel import read_parallel
    from rnnkit.train import check_save_target
    from rnnkit.translate import Translator

    check_save_target(out)  # before training: a bad --out should cost nothing
    if (valid_src is None) != (valid_tgt is None):
        raise ValueError("give both --valid-src and --valid-tgt, or neither")
    data = read_parallel(src, tgt)
    typer.echo(f"read {len(data.src)} sentence pairs from {src} / {tgt} (skipped {data.skipped} with an empty line)")
    valid = None
    if valid_src is not None:
        v = read_parallel(valid_src, valid_tgt)
        typer.echo(f"read {len(v.src)} validation pairs (skipped {v.skipped} with an empty line)")
        valid = (v.src, v.tgt)
    tr = Translator(cell=cell, attention=attention, src_tokenizer=tokenizer, tgt_tokenizer=tgt_tokenizer or tokenizer,
                    src_vocab_size=vocab_size, tgt_vocab_size=vocab_size, embed_size=embed_size,
                    hidden_size=hidden_size, num_layers=num_layers, batch_size=batch_size, lr=lr,
                    input_feeding=input_feeding, dropout=dropout, tie_embeddings=tie_embeddings,
                    epochs=epochs if epochs is not None else 10, max_time=max_time, seed=seed,
                    device=resolve_device(device), num_threads=threads)
    tr.fit(data.src, data.tgt, valid=valid)
    tr.save(out)
    r = tr.fit_result_
    typer.echo(f"trained {r.epochs} epochs / {r.steps} steps in {r.seconds:.0f} s (stopped: {r.stopped}); "
               f"best {r.best_metric:.4f}; model written to {out}")


@app.command()
def run(
    text: list[str] = typer.Argument(None, help="Sentences to translate; none = read lines from stdin."),
    model: list[Path] = ModelOpt,
    beam_size: int = BeamOpt,
    length_penalty: float = PenaltyOpt,
    max_len: int = typer.Option(None, "--max-len", help="Most output tokens per sentence."),
) -> None:
    """Translate TEXT arguments, or stdin lines; prints one translation a line."""
    tr = load_translator(model)
    lines = list(text) if text else [line.rstrip("\r\n") for line in sys.stdin]
    keep = [i for i, s in enumerate(lines) if s.strip()]  # an empty input line gives an empty output line
    hyps = tr.translate([lines[i] for i in keep], beam_size=beam_size, length_penalty=length_penalty, max_len=max_len)
    out = [""] * len(lines)
    for i, h in zip(keep, hyps):
        out[i] = h
    for h in out:
        typer.echo(h)


@app.command("eval")
def evaluate(
    model: list[Path] = ModelOpt,
    src: Path = typer.Option(..., "--src", help="Test source sentences (.gz allowed)."),
    ref: Path = typer.Option(..., "--ref", help="Reference translations, line-aligned with --src."),
    beam_size: int = BeamOpt,
    length_penalty: float = PenaltyOpt,
    tokenize: str = typer.Option(None, "--tokenize", help="sacreBLEU tokenizer (default: chosen from the text)."),
    json_path: Path = JsonOpt,
) -> None:
    """Translate a test set and report sacreBLEU and chrF with their signatures."""
    from rnnkit.datasets.parallel import read_parallel
    tr = load_translator(model)
    data = read_parallel(src, ref)
    if data.skipped:
        typer.echo(f"skipped {data.skipped} line pair(s) with an empty side")
    s = tr.evaluate(data.src, data.tgt, beam_size=beam_size, length_penalty=length_penalty, tokenize=tokenize)
    typer.echo(f"BLEU {s['bleu']:.2f}  ({s['bleu_signature']})")
    typer.echo(f"chrF {s['chrf']:.2f}  ({s['chrf_signature']})")
    write_json(json_path, {"bleu": s["bleu"], "chrf": s["chrf"], "bleu_signature": s["bleu_signature"],
                           "chrf_signature": s["chrf_signature"], "sentences": len(data.src),
                           "skipped": data.skipped})


def run_demo(out_dir: Path) -> dict[str, float]:
    """English number words -> Japanese numerals: train about a minute, report held-out exact match."""
    from rnnkit.translate.demo import numbers_demo

    return numbers_demo(out_dir, echo=typer.echo)


@app.command()
def demo(
    out: Path = typer.Option(Path("rnnkit-demo/translate"), "--out", help="Folder for the heatmap and model."),
    json_path: Path = JsonOpt,
) -> None:
    """Learn to translate English number words into Japanese numerals (data generated in code)."""
    write_json(json_path, run_demo(out))
