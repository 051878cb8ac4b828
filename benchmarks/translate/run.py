"""Translation benchmarks: Multi30k De->En (test2016) and small_parallel_enja En->Ja (test).

Trains a Translator within a time budget, scores the test set (greedy and beam 5) and measures decoding speed
(sentences per second, greedy and beam 5, batch 1 and 64, on CPU). Writes one JSON with every number, the
command and the machine, so that RESULTS.md can quote it.

    python benchmarks/translate/run.py multi30k --data DIR --max-time 30 --out runs/mt-multi30k
    python benchmarks/translate/run.py enja --data DIR --max-time 30 --out runs/mt-enja
    python benchmarks/translate/run.py enja --model runs/mt-enja/model --out runs/mt-enja   # score a saved model
    python benchmarks/translate/run.py enja --model A/model,B/model,C/model --out runs/ens    # score an ensemble
    python benchmarks/translate/run.py enja --model A/model --speed-only --out runs/speed     # only time decoding

``--data`` defaults to the RNNKIT_DATA environment variable. ``results.json`` is rewritten after every measurement,
and records the process CPU time beside the wall-clock time: on a CPU shared with other jobs the two differ a lot.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import torch

from rnnkit.datasets.parallel import read_parallel
from rnnkit.translate import Translator, tutorial_bleu

TASKS = {
    # name: (train src, train tgt, valid src, valid tgt, test src, test tgt, translator settings)
    "multi30k": ("multi30k/train.de.gz", "multi30k/train.en.gz", "multi30k/val.de.gz", "multi30k/val.en.gz",
                 "multi30k/test_2016_flickr.de.gz", "multi30k/test_2016_flickr.en.gz",
                 dict(src_tokenizer="unigram", tgt_tokenizer="unigram", src_vocab_size=5000, tgt_vocab_size=5000)),
    "enja": ("small_parallel_enja/train.en.gz", "small_parallel_enja/train.ja.gz", "small_parallel_enja/dev.en",
             "small_parallel_enja/dev.ja", "small_parallel_enja/test.en", "small_parallel_enja/test.ja",
             dict(src_tokenizer="word", tgt_tokenizer="word", src_vocab_size=10000, tgt_vocab_size=10000,
                  min_freq=2)),
}


def data_dir(arg: str | None) -> Path:
    d = arg or os.environ.get("RNNKIT_DATA")
    if not d:
        sys.exit("error: give --data DIR or set RNNKIT_DATA to the benchmark data folder")
    if not Path(d).is_dir():
        sys.exit(f"error: data folder {d} does not exist")
    return Path(d)


def cpu_seconds() -> float:
    """CPU time (user + system) used by this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def decode_speed(tr: Translator, sentences: list[str], beam: int, batch: int) -> tuple[float, float]:
    """Sentences per wall-clock second and per CPU second translating ``sentences`` (on the model's device)."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    tr.translate(sentences, beam_size=beam, batch_size=batch)
    return len(sentences) / (time.perf_counter() - t0), len(sentences) / max(1e-9, cpu_seconds() - c0)


def score(tr: Translator, valid, test, args, results: dict, out: Path, write) -> None:
    """Valid BLEU per length penalty, then test BLEU / chrF greedy and with beam 5 at the chosen penalty."""
    # The length penalty is a decoding setting: choose it on the validation set, never on the test set.
    alphas = [float(a) for a in args.length_penalties.split(",")]
    valid_bleu = {a: round(tr.evaluate(valid.src, valid.tgt, beam_size=5, length_penalty=a)["bleu"], 2) for a in alphas}
    alpha = max(alphas, key=lambda a: valid_bleu[a])
    results["valid_bleu_beam5_by_length_penalty"], results["length_penalty"] = valid_bleu, alpha
    for beam in (1, 5):
        t0, c0 = time.perf_counter(), cpu_seconds()
        s = tr.evaluate(test.src, test.tgt, beam_size=beam, length_penalty=alpha)
        results[f"beam{beam}_seconds"] = round(time.perf_counter() - t0, 1)
        results[f"beam{beam}_cpu_seconds"] = round(cpu_seconds() - c0, 1)
        results[f"bleu_beam{beam}"], results[f"chrf_beam{beam}"] = round(s["bleu"], 2), round(s["chrf"], 2)
        results["bleu_signature"], results["chrf_signature"] = s["bleu_signature"], s["chrf_signature"]
        if args.task == "multi30k":
            results[f"tutorial_bleu_beam{beam}"] = round(tutorial_bleu(s["hypotheses"], test.tgt), 2)
        (out / f"test.beam{beam}.txt").write_text("\n".join(s["hypotheses"]) + "\n", encoding="utf-8")
        write()
        print(json.dumps(results), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("task", choices=sorted(TASKS))
    p.add_argument("--data", default=None, help="benchmark data folder (default: $RNNKIT_DATA)")
    p.add_argument("--out", required=True, help="folder for the model and results.json")
    p.add_argument("--max-time", type=float, default=30.0, help="training budget in minutes")
    p.add_argument("--epochs", type=int, default=12, help="epoch budget (also the cosine schedule's length)")
    p.add_argument("--cell", default="lstm", help="lstm (default) or gru")
    p.add_argument("--attention", default="general")
    p.add_argument("--input-feeding", action="store_true", help="Luong input feeding (slower training)")
    p.add_argument("--embed-size", type=int, default=256)
    p.add_argument("--hidden-size", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--tie-embeddings", action="store_true",
                   help="share the target embedding with the output layer (Translator's default; off here unless "
                        "given, so that the commands in RESULTS.md keep their meaning)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (training and decoding)")
    p.add_argument("--precision", default="auto", help="auto (bf16 autocast on CUDA), bf16 or fp32")
    p.add_argument("--speed-sentences", type=int, default=100,
                   help="test sentences timed for decoding speed (0 skips the timing)")
    p.add_argument("--model", default=None,
                   help="score this saved model folder instead of training; several, comma-separated, are scored "
                        "as an ensemble")
    p.add_argument("--speed-only", action="store_true", help="only time decoding (with --model): no BLEU scoring")
    p.add_argument("--length-penalties", default="0.6,1.0",
                   help="GNMT alphas tried with beam 5 on the validation set; the best one decodes the test set")
    args = p.parse_args()
    root = data_dir(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(args.threads)
    tr_src, tr_tgt, va_src, va_tgt, te_src, te_tgt, settings = TASKS[args.task]
    train, valid, test = (read_parallel(root / a, root / b) for a, b in
                          ((tr_src, tr_tgt), (va_src, va_tgt), (te_src, te_tgt)))
    print(f"train {len(train.src)} valid {len(valid.src)} test {len(test.src)} pairs", flush=True)
    gpu = torch.cuda.get_device_name() if args.device != "cpu" and torch.cuda.is_available() else "no GPU"
    results = {"task": args.task, "command": "python " + " ".join(sys.argv),
               "machine": f"{os.cpu_count()}-core CPU, {gpu}, torch {torch.__version__}, "
                          f"python {platform.python_version()}, {args.threads} thread(s)"}

    def write() -> None:
        (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    if args.model is None:
        tr = Translator(cell=args.cell, attention=args.attention, input_feeding=args.input_feeding,
                        embed_size=args.embed_size, hidden_size=args.hidden_size, num_layers=args.layers,
                        dropout=args.dropout, tie_embeddings=args.tie_embeddings, seed=args.seed,
                        batch_size=args.batch_size, lr=args.lr, epochs=args.epochs,
                        max_time=args.max_time, num_threads=args.threads, device=args.device,
                        precision=args.precision, **settings)
        t0, c0 = time.perf_counter(), cpu_seconds()
        tr.fit(train.src, train.tgt, valid=(valid.src, valid.tgt))
        r = tr.fit_result_
        results.update({"train_seconds": round(time.perf_counter() - t0, 1),
                        "train_cpu_seconds": round(cpu_seconds() - c0, 1), "epochs": r.epochs, "steps": r.steps,
                        "stopped": r.stopped, "best_val_loss": r.best_metric})
        tr.save(out / "model")
        write()
    else:
        device = "cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu"
        members = [Translator.load(m, device=device) for m in args.model.split(",")]
        tr = members[0] if len(members) == 1 else Translator.ensemble(members)
        results["model"] = args.model
    if not args.speed_only:
        score(tr, valid, test, args, results, out, write)
    speed_src = test.src[: args.speed_sentences]
    for beam in (1, 5) if speed_src else ():
        for batch in (1, 64):
            wall, cpu = decode_speed(tr, speed_src, beam, batch)
            results[f"sent_per_s_beam{beam}_batch{batch}"] = round(wall, 1)
            results[f"sent_per_cpu_s_beam{beam}_batch{batch}"] = round(cpu, 1)
            write()
    results["speed_sentences"] = len(speed_src)
    if speed_src:  # the speed depends on how long the outputs are: record it beside the references' length
        hyps = tr.translate(speed_src, beam_size=1)
        results["speed_tokens_per_output"] = round(sum(len(h.split()) for h in hyps) / len(hyps), 2)
        refs = test.tgt[: len(speed_src)]
        results["speed_tokens_per_reference"] = round(sum(len(r.split()) for r in refs) / len(refs), 2)
    write()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
