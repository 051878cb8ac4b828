"""The recurrent core on CPU: reference (per-step loop) against torch (fused oneDNN kernels / parallel scan).

Usage:

    python benchmarks/core.py                           # LSTM and GRU, B 1 and 32, H 64 and 256, T 100, 1 thread
    python benchmarks/core.py --cells mingru,minlstm,layernorm_lstm --repeats 5
    python benchmarks/core.py --threads 2 --json core.json

For every cell, batch B, hidden size H (input size = H, one layer, T steps) and backend it times

* a training step: ``y, _ = layer(x)``; ``y.square().mean().backward()`` (forward + backward),
* an inference step: the same forward under ``torch.inference_mode()`` in eval mode,

each as the median of ``--repeats`` runs after one warm-up (reference and torch alternating), and the B=1 single-step latency of ``layer.step``
(median over ``--repeats`` runs of 100 steps, reported per step). The speed-up column is reference / torch measured
in the same run, the only comparison that survives a machine shared with other jobs. Threads are pinned with
``torch.set_num_threads`` and denormals are flushed, as ``rnnkit`` itself does at start-up.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch

from rnnkit.nn.diagnostics import CELLS

CLOCK = {"cpu": time.process_time, "wall": time.perf_counter}


def _median_ms(fns, repeats: int, clock) -> list[float]:
    """Median ms of each function; the functions alternate within every repeat so that load changes on a shared
    machine hit them alike."""
    for fn in fns:
        fn()  # warm-up: allocations, oneDNN primitive creation
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = clock()
            fn()
            ts.append(clock() - t0)
    return [1e3 * statistics.median(ts) for ts in times]


def time_sequence(cell: str, B: int, H: int, T: int, repeats: int, clock) -> dict[str, float]:
    """Training-step and inference-step ms of the reference and auto (torch) backends for one configuration."""
    torch.manual_seed(0)
    layers = {b: CELLS[cell](H, H, backend=b) for b in ("reference", "auto")}
    layers["auto"].load_state_dict(layers["reference"].state_dict())
    x = torch.randn(B, T, H)

    def train(layer):
        def run():
            layer.zero_grad(set_to_none=True)
            y, _ = layer(x)  # (B, T, H)
            y.square().mean().backward()
        return run

    def infer(layer):
        def run():
            with torch.inference_mode():
                layer(x)
        return run

    ref, fast = layers["reference"].train(), layers["auto"].train()
    out = dict(zip(["train_ms_reference", "train_ms_torch"], _median_ms([train(ref), train(fast)], repeats, clock)))
    ref.eval()
    fast.eval()
    out.update(zip(["infer_ms_reference", "infer_ms_torch"], _median_ms([infer(ref), infer(fast)], repeats, clock)))
    return out


def time_step(cell: str, H: int, repeats: int, clock, n: int = 100) -> float:
    """Microseconds per ``layer.step`` at B=1 (streaming; the same Python step for every backend)."""
    torch.manual_seed(0)
    layer = CELLS[cell](H, H).eval()
    xs = torch.randn(n, 1, H)

    def run():
        with torch.inference_mode():
            state = None
            for x_t in xs:
                _, state = layer.step(x_t, state)

    return 1e3 * _median_ms([run], repeats, clock)[0] / n


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", default="lstm,gru", help=f"comma-separated, from {sorted(CELLS)}")
    p.add_argument("--batch", default="1,32", help="batch sizes B")
    p.add_argument("--hidden", default="64,256", help="hidden sizes H (input size = H)")
    p.add_argument("--steps", type=int, default=100, help="sequence length T")
    p.add_argument("--repeats", type=int, default=7, help="timed runs per figure (median reported)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--clock", choices=sorted(CLOCK), default="cpu",
                   help="cpu: process CPU time (robust to other jobs on a shared machine, equal to wall time on an "
                        "idle one with one thread); wall: elapsed time")
    p.add_argument("--json", default=None, help="also write the rows as a flat JSON object")
    args = p.parse_args(argv)
    cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        p.error(f"unknown cell(s) {unknown}; choose from {sorted(CELLS)}")
    batches = [int(b) for b in args.batch.split(",")]
    hiddens = [int(h) for h in args.hidden.split(",")]

    clock = CLOCK[args.clock]
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    start = time.perf_counter()
    print(f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, threads={args.threads}, "
          f"T={args.steps}, repeats={args.repeats} (median), clock={args.clock}")
    print("| cell | B | H | train ms reference | train ms torch | speed-up | infer ms reference | infer ms torch "
          "| speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    flat: dict[str, float] = {}
    for cell in cells:
        for B in batches:
            for H in hiddens:
                r = time_sequence(cell, B, H, args.steps, args.repeats, clock)
                print(f"| {cell} | {B} | {H} | {r['train_ms_reference']:.2f} | {r['train_ms_torch']:.2f} | "
                      f"{r['train_ms_reference'] / r['train_ms_torch']:.1f}x | {r['infer_ms_reference']:.2f} | "
                      f"{r['infer_ms_torch']:.2f} | {r['infer_ms_reference'] / r['infer_ms_torch']:.1f}x |", flush=True)
                flat.update({f"{cell}_B{B}_H{H}_{k}": v for k, v in r.items()})
    print("\n| cell | H | B=1 step latency (us) |")
    print("|---|---|---|")
    for cell in cells:
        for H in hiddens:
            us = time_step(cell, H, args.repeats, clock)
            print(f"| {cell} | {H} | {us:.1f} |", flush=True)
            flat[f"{cell}_H{H}_step_us"] = us
    flat["seconds"] = time.perf_counter() - start
    print(f"\ntotal {flat['seconds']:.1f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(flat, f, indent=2)


if __name__ == "__main__":
    main()
