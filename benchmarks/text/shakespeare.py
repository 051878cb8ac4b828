"""Tiny Shakespeare character-level language model with rnnkit.text.LanguageModel.

First 90% of the characters train, last 10% validate (char-rnn / nanoGPT split). Reports the validation loss in
nats per character (nanoGPT's unit), bits per character, the wall and CPU seconds, and a generated sample.

    python benchmarks/text/shakespeare.py --data DATA_DIR --max-time 3 --max-steps 250 --threads 1
    (DATA_DIR holds tinyshakespeare/; defaults to $RNNKIT_DATA)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None)
    ap.add_argument("--max-time", type=float, default=3.0, help="wall-clock minutes of training")
    ap.add_argument("--max-steps", type=int, default=None, help="optimizer steps (the cosine schedule's length)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--params", default="{}", help="extra LanguageModel arguments as JSON")
    ap.add_argument("--out", default=None, help="save the model folder here")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()
    d = args.data or os.environ.get("RNNKIT_DATA")
    if not d:
        sys.exit("error: give --data DIR or set RNNKIT_DATA to the folder that holds tinyshakespeare/")
    path = Path(d) / "tinyshakespeare" / "input.txt"
    if not path.is_file():
        sys.exit(f"error: {path} does not exist; --data must be the folder that holds tinyshakespeare/")

    import torch

    torch.set_num_threads(args.threads)
    from rnnkit.datasets.text import read_corpus
    from rnnkit.text import LanguageModel

    text = read_corpus(path)
    cut = int(len(text) * 0.9)
    train, valid = text[:cut], text[cut:]
    params = dict(embed_dim=64, hidden_size=256, num_layers=1, bptt=64, batch_size=32, lr=8e-3, dropout=0.0,
                  dropout_h=0.0, dropout_i=0.0, weight_drop=0.0, epochs=args.epochs, max_time=args.max_time,
                  max_steps=args.max_steps, eval_every=50, seed=args.seed, device=args.device, progress=False)
    params.update(json.loads(args.params))
    t0, c0 = time.time(), time.process_time()
    lm = LanguageModel(**params).fit(train, valid=valid)
    wall, cpu = time.time() - t0, time.process_time() - c0
    res = lm.evaluate(valid)
    sample = "ROMEO:" + "".join(lm.generate("ROMEO:", max_tokens=300, temperature=0.8, seed=0))
    h = lm.history_
    out = {"val_loss_nats_per_char": round(res["loss"], 4), "val_bpc": round(res["bpc"], 4),
           "train_wall_seconds": round(wall, 1), "train_cpu_seconds": round(cpu, 1), "steps": h.steps,
           "tokens_seen": h.steps * params["batch_size"] * params["bptt"], "stopped": h.stopped,
           "threads": args.threads, "torch": torch.__version__, "params": params, "sample": sample}
    print(json.dumps({k: v for k, v in out.items() if k != "sample"}, indent=1))
    for r in h.history:
        print(f"step {r['step']}: train {r['train_loss']:.4f} val {r.get('val_loss', float('nan')):.4f} "
              f"t {r['seconds']:.0f}s")
    print("sample:\n" + sample)
    if args.out:
        lm.save(args.out)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
