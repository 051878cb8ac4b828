"""`rnnkit classify`: Text classification (sentiment): fit, predict, eval, demo.

    rnnkit classify fit --data train.tsv [--valid dev.tsv] --out MODEL_DIR [--epochs N] [--max-time MIN]
    rnnkit classify predict --model MODEL_DIR "a gripping film" ...   (or one text a line on stdin)
    rnnkit classify eval --model MODEL_DIR --data test.tsv [--json FILE]
    rnnkit classify demo [--json FILE]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from rnnkit.cli.common import DeviceOpt, EpochsOpt, JsonOpt, MaxTimeOpt, SeedOpt, resolve_device, write_json

app = typer.Typer(help="Text classification (sentiment): fit, predict, eval, demo.", no_args_is_help=True)


@app.command()
def fit(
    data: Path = typer.Option(..., "--data", help="CSV / TSV with 'text' and 'label' columns (or SST 'label text')."),
    out: Path = typer.Option(..., "--out", help="Model folder to write."),
    valid: Path = typer.Option(None, "--valid", help="Validation file; picks the best epoch by accuracy."),
    epochs: int = EpochsOpt,
    max_time: float = MaxTimeOpt,
    seed: int = SeedOpt,
    device: str = DeviceOpt,
    cell: str = typer.Option("lstm", "--cell", help="lstm or gru (bidirectional)."),
    pooling: str = typer.Option("attention", "--pooling", help="attention (Lin et al. 2017) or max."),
    tokenizer: str = typer.Option("word", "--tokenizer", help="word or sentencepiece."),
    embeddings: Path = typer.Option(None, "--embeddings", help="GloVe / word2vec text file to start from."),
    embed_dim: int = typer.Option(300, "--embed-dim", help="Embedding size (must match --embeddings)."),
    hidden_size: int = typer.Option(150, "--hidden-size", help="LSTM / GRU units per direction."),
) -> None:
    """Train a classifier and write it to --out."""
    from rnnkit.datasets.text import read_classification
    from rnnkit.text import TextClassifier
    from rnnkit.train import check_save_target

    check_save_target(out)  # before training: a bad --out should cost nothing
    texts, labels = read_classification(data)
    dev = read_classification(valid) if valid is not None else None
    clf = TextClassifier(cell=cell, pooling=pooling, tokenizer=tokenizer, embed_dim=embed_dim,
                         hidden_size=hidden_size, embeddings=str(embeddings) if embeddings else None,
                         epochs=epochs or 10, max_time=max_time, seed=seed, device=resolve_device(device))
    t0 = time.perf_counter()
    clf.fit(texts, labels, valid=dev)
    clf.save(out)
    msg = f"trained on {len(texts)} texts, {len(clf.classes_)} classes, in {time.perf_counter() - t0:.0f}s"
    if dev is not None:
        res = clf.evaluate(*dev)
        msg += f"; validation accuracy {res['accuracy']:.4f}, macro-F1 {res['macro_f1']:.4f}"
    typer.echo(msg)
    typer.echo(f"model written to {out}")


def highlight(pairs: list[tuple[str, float]]):
    """A rich ``Text`` of the tokens, the heavier the weight the stronger the highlight."""
    from rich.text import Text

    text = Text()
    top = max((w for _, w in pairs), default=0.0) or 1.0
    uniform = 1.0 / max(len(pairs), 1)
    for i, (tok, w) in enumerate(pairs):
        if i:
            text.append(" ")
        if w > 1.2 * uniform:
            level = min(1.0, w / top)
            shade = int(255 - 160 * level)
            text.append(tok, style=f"bold black on rgb(255,{shade},{int(shade * 0.4)})")
        else:
            text.append(tok)
    return text


@app.command()
def predict(
    texts: list[str] = typer.Argument(None, help="Texts to classify; without any, one text per stdin line."),
    model: Path = typer.Option(..., "--model", help="Model folder from `classify fit`."),
    device: str = DeviceOpt,
) -> None:
    """Print each text's label and probability, with the words that drove the decision highlighted."""
    from rich.console import Console

    from rnnkit.text import TextClassifier

    clf = TextClassifier.load(model, device=resolve_device(device))
    if not texts:
        texts = [line.rstrip("\n") for line in sys.stdin if line.strip()]
        if not texts:
            raise ValueError("no text to classify: give TEXT arguments or lines on stdin")
    console = Console(highlight=False)
    probs = clf.predict_proba(texts)
    for text, p in zip(texts, probs):
        k = int(p.argmax())
        line = highlight(clf.explain(text))
        line = line if len(line) else "(empty)"
        console.print(f"[bold]{clf.classes_[k]}[/bold] {p[k]:.3f}  ", line, sep="")


@app.command("eval")
def evaluate(
    model: Path = typer.Option(..., "--model", help="Model folder from `classify fit`."),
    data: Path = typer.Option(..., "--data", help="Labelled CSV / TSV (or SST) file."),
    json_path: Path = JsonOpt,
    device: str = DeviceOpt,
) -> None:
    """Accuracy, macro-F1 and the confusion matrix on a labelled file."""
    from rnnkit.datasets.text import read_classification
    from rnnkit.text import TextClassifier

    clf = TextClassifier.load(model, device=resolve_device(device))
    res = clf.evaluate(*read_classification(data))
    typer.echo(f"accuracy {res['accuracy']:.4f}  macro_f1 {res['macro_f1']:.4f}  (n={res['n']})")
    typer.echo("confusion matrix (rows true, columns predicted): " + ", ".join(clf.classes_))
    for name, row in zip(clf.classes_, res["confusion_matrix"]):
        typer.echo(f"  {name:>12} " + " ".join(f"{v:6d}" for v in row))
    write_json(json_path, {"accuracy": res["accuracy"], "macro_f1": res["macro_f1"], "n": res["n"]})


def run_demo(out_dir: Path) -> dict[str, float]:
    """Train a small BiLSTM on generated reviews (with negation), evaluate, explain; plot under ``out_dir``."""
    from rnnkit.train.runtime import torch_threads

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with torch_threads(1):
        return _demo(out_dir)


def _demo(out_dir: Path) -> dict[str, float]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rich.console import Console

    from rnnkit.text import TextClassifier
    from rnnkit.text.demo_data import sentiment_sentences

    texts, labels = sentiment_sentences(1200, seed=0)
    train, dev, test = slice(0, 800), slice(800, 1000), slice(1000, 1200)
    t0 = time.perf_counter()
    clf = TextClassifier(embed_dim=32, hidden_size=32, attention_dim=32, attention_hops=2, mlp_dim=32,
                         dropout=0.2, word_dropout=0.0, epochs=8, batch_size=16, lr=3e-3, seed=0, device="cpu",
                         progress=False)
    clf.fit(texts[train], labels[train], valid=(texts[dev], labels[dev]))
    res = clf.evaluate(texts[test], labels[test])
    clf.save(out_dir / "model")
    console = Console(highlight=False)
    console.print(f"BiLSTM + attention on {len(texts[train])} generated reviews, "
                  f"{time.perf_counter() - t0:.0f}s: test accuracy {res['accuracy']:.3f}, "
                  f"macro-F1 {res['macro_f1']:.3f}")
    examples = ["the acting was not good .", "the ending is n't boring at all", "the music was truly wonderful !"]
    for text, p in zip(examples, clf.predict_proba(examples)):
        k = int(p.argmax())
        console.print(f"  [bold]{clf.classes_[k]}[/bold] {p[k]:.2f}  ", highlight(clf.explain(text)), sep="")
    pairs = clf.explain(examples[0])
    fig, ax = plt.subplots(figsize=(6, 2.2))
    ax.bar(range(len(pairs)), [w for _, w in pairs], color="tab:orange")
    ax.set_xticks(range(len(pairs)), [t for t, _ in pairs])
    ax.set_ylabel("attention")
    ax.set_title("which words drove the decision")
    fig.tight_layout()
    fig.savefig(out_dir / "attention.png", dpi=100)
    plt.close(fig)
    return {"accuracy": res["accuracy"], "macro_f1": res["macro_f1"]}


@app.command()
def demo(
    out: Path = typer.Option(Path("rnnkit-demo/classify"), "--out", help="Folder for the plot and demo model."),
    json_path: Path = JsonOpt,
) -> None:
    """Sentiment on built-in generated reviews: train, evaluate and highlight the deciding words."""
    write_json(json_path, run_demo(out))
