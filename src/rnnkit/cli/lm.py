"""`rnnkit lm`: Character / subword language models: fit, generate, eval, demo.

    rnnkit lm fit --data corpus.txt --out MODEL_DIR [--valid FILE] [--epochs N] [--max-time MIN]
    rnnkit lm generate --model MODEL_DIR --prompt "ROMEO:" --tokens 300
    rnnkit lm eval --model MODEL_DIR --data FILE [--json FILE]
    rnnkit lm demo [--json FILE]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from rnnkit.cli.common import DeviceOpt, EpochsOpt, JsonOpt, MaxTimeOpt, SeedOpt, resolve_device, write_json

app = typer.Typer(help="Character / subword language models: fit, generate, eval, demo.", no_args_is_help=True)


@app.command()
def fit(
    data: Path = typer.Option(..., "--data", help="Plain UTF-8 training text."),
    out: Path = typer.Option(..., "--out", help="Model folder to write."),
    valid: Path = typer.Option(None, "--valid", help="Validation text (default: the last 10% of --data)."),
    epochs: int = EpochsOpt,
    max_time: float = MaxTimeOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    tokenizer: str = typer.Option("char", "--tokenizer", help="char or sentencepiece (subwords)."),
    vocab_size: int = typer.Option(2000, "--vocab-size", help="Subword pieces (sentencepiece only)."),
    hidden_size: int = typer.Option(256, "--hidden-size", help="LSTM units per layer."),
    layers: int = typer.Option(1, "--layers", help="Stacked LSTM layers."),
    embed_dim: int = typer.Option(64, "--embed-dim", help="Embedding size (tied with the output layer)."),
    bptt: int = typer.Option(64, "--bptt", help="Tokens per truncated-backpropagation window."),
    batch_size: int = typer.Option(32, "--batch-size", help="Parallel streams per batch."),
    lr: float = typer.Option(8e-3, "--lr", help="Peak learning rate."),
    dropout: float = typer.Option(0.0, "--dropout", help="Variational dropout on embeddings, between layers "
                                  "and on the output (AWD-LSTM)."),
    weight_drop: float = typer.Option(0.0, "--weight-drop", help="DropConnect on the recurrent weights (AWD-LSTM)."),
) -> None:
    """Train a language model on a text file and write it to --out."""
    from rnnkit.datasets.text import read_corpus
    from rnnkit.text import LanguageModel
    from rnnkit.train import check_save_target

    check_save_target(out)  # before training: a bad --out should cost nothing
    text = read_corpus(data)
    if valid is not None:
        train_text, valid_text = text, read_corpus(valid)
    else:
        cut = int(len(text) * 0.9)
        train_text, valid_text = text[:cut], text[cut:]
    lm = LanguageModel(tokenizer=tokenizer, vocab_size=vocab_size, hidden_size=hidden_size, num_layers=layers,
                       embed_dim=embed_dim, bptt=bptt, batch_size=batch_size, lr=lr, epochs=epochs or 10,
                       dropout=dropout, dropout_h=dropout, dropout_i=dropout, weight_drop=weight_drop,
                       max_time=max_time, seed=seed, device=resolve_device(device))
    t0 = time.perf_counter()
    lm.fit(train_text, valid=valid_text)
    lm.save(out)
    res = lm.evaluate(valid_text)
    typer.echo(f"trained in {time.perf_counter() - t0:.0f}s; validation loss {res['loss']:.4f} nats/char, "
               f"{res['bpc']:.4f} bits/char, perplexity {res['perplexity']:.2f}")
    typer.echo(f"model written to {out}")


@app.command()
def generate(
    model: Path = typer.Option(..., "--model", help="Model folder from `lm fit`."),
    prompt: str = typer.Option(..., "--prompt", help="Text to continue, e.g. 'ROMEO:'."),
    tokens: int = typer.Option(300, "--tokens", help="Tokens (characters for a char model) to write."),
    temperature: float = typer.Option(0.8, "--temperature", help="0 = greedy; lower is safer, higher wilder."),
    top_k: int = typer.Option(None, "--top-k", help="Sample only from the k most likely tokens."),
    top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling: the smallest set with mass p."),
    seed: int = typer.Option(None, "--seed", help="Makes the sample repeat."),
    device: str = DeviceOpt,
) -> None:
    """Continue the prompt, streaming each token to stdout as it is written."""
    from rnnkit.text import LanguageModel

    lm = LanguageModel.load(model, device=resolve_device(device))
    pieces = lm.generate(prompt, max_tokens=tokens, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed)
    sys.stdout.write(prompt)
    sys.stdout.flush()
    for piece in pieces:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")


@app.command("eval")
def evaluate(
    model: Path = typer.Option(..., "--model", help="Model folder from `lm fit`."),
    data: Path = typer.Option(..., "--data", help="Text to score."),
    json_path: Path = JsonOpt,
    device: str = DeviceOpt,
) -> None:
    """Loss in nats per character, bits per character and perplexity on a text file."""
    from rnnkit.datasets.text import read_corpus
    from rnnkit.text import LanguageModel

    lm = LanguageModel.load(model, device=resolve_device(device))
    res = lm.evaluate(read_corpus(data))
    typer.echo(f"loss {res['loss']:.4f} nats/char  bpc {res['bpc']:.4f}  perplexity {res['perplexity']:.2f}")
    write_json(json_path, res)


def run_demo(out_dir: Path) -> dict[str, float]:
    """Train a small character LSTM on a generated play, report bits per char, write a sample; plot the loss."""
    from rnnkit.train.runtime import torch_threads

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with torch_threads(1):
        return _demo(out_dir)


def _demo(out_dir: Path) -> dict[str, float]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnkit.text import LanguageModel
    from rnnkit.text.demo_data import play_text

    text = play_text(400, seed=0)
    cut = int(len(text) * 0.9)
    t0 = time.perf_counter()
    lm = LanguageModel(embed_dim=32, hidden_size=128, num_layers=1, bptt=32, batch_size=16, epochs=15, lr=1e-2,
                       dropout=0.0, dropout_h=0.0, dropout_i=0.0, weight_drop=0.0, eval_every=50,
                       seed=0, device="cpu", progress=False)
    lm.fit(text[:cut], valid=text[cut:])
    res = lm.evaluate(text[cut:])
    lm.save(out_dir / "model")
    typer.echo(f"character LSTM on {cut} characters of a generated play, {time.perf_counter() - t0:.0f}s: "
               f"validation {res['loss']:.3f} nats/char, {res['bpc']:.3f} bits/char")
    sample = "ROMEO:" + "".join(lm.generate("ROMEO:", max_tokens=160, temperature=0.6, seed=0))
    typer.echo("sample:\n" + sample)
    (out_dir / "sample.txt").write_text(sample + "\n", encoding="utf-8")
    hist = [r for r in lm.history_.history if "val_loss" in r]
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([r["step"] for r in hist], [r["train_loss"] for r in hist], label="train")
    ax.plot([r["step"] for r in hist], [r["val_loss"] for r in hist], label="validation")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("nats / char")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "loss.png", dpi=100)
    plt.close(fig)
    return {"loss": res["loss"], "bpc": res["bpc"], "perplexity": res["perplexity"]}


@app.command()
def demo(
    out: Path = typer.Option(Path("rnnkit-demo/lm"), "--out", help="Folder for the plot, sample and demo model."),
    json_path: Path = JsonOpt,
) -> None:
    """A character LSTM on a built-in generated play: train, score, and write."""
    write_json(json_path, run_demo(out))
