"""Fused Triton recurrent kernels against cuDNN: one table of training-step times (forward + backward).

Usage (needs a CUDA GPU; prints why and exits with code 2 otherwise):

    python benchmarks/kernels.py                       # the full grid
    python benchmarks/kernels.py --cells lstm --B 8 64 --H 256 --T 128 --reps 10
    python benchmarks/kernels.py --json kernels.json   # also write every row as JSON

For every cell, B in {8, 64, 256}, H in {64, 256, 1024}, T in {128, 1024} (one layer, input size = H) it times
a training step, ``y = layer(x); y.backward(dy)``, as the median of ``--reps`` runs after warm-up, and prints:
ms, us per step (ms / T), tokens/s (B T / s), TFLOP/s (matmul FLOPs of forward + backward, 3 x 2 B T G (F + H))
and the speed ratio to cuDNN fp16 and to cuDNN bf16 of the same cell (``> 1`` means faster than cuDNN).
Implementations: ``cudnn`` (torch.nn.LSTM / GRU), ``rnnkit-torch`` (rnnkit's torch backend with its bf16
routing), ``triton`` (rnnkit's fused kernels), for minGRU / minLSTM ``torch-scan`` (the log-space scan) and for
the LayerNormLSTM (``lnlstm``, H <= 256 in Triton) ``reference`` (the Python loop); those are compared with the
cuDNN GRU / LSTM of the same size. A second table times a B=1 streaming step: eager, a CUDA
graph of ``layer.step`` and a CUDA graph of the fused one-launch step (:class:`~rnnkit.kernels.triton_step.GraphedStep`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

CELLS = ("lstm", "gru", "lnlstm", "mingru", "minlstm")
GATES = {"lstm": 4, "gru": 3, "lnlstm": 4, "mingru": 2, "minlstm": 3}
CUDNN_OF = {"lstm": "lstm", "gru": "gru", "lnlstm": "lstm", "mingru": "gru", "minlstm": "lstm"}  # compared with
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
IMPLS = {  # cell family -> (implementation, dtype) rows, baselines first
    "classic": [("cudnn", "fp16"), ("cudnn", "bf16"), ("rnnkit-torch", "bf16"), ("triton", "bf16"),
                ("triton", "fp32")],
    "min": [("torch-scan", "bf16"), ("triton", "bf16"), ("triton", "fp32")],
    "ln": [("reference", "fp32"), ("triton", "fp32"), ("triton", "bf16")],  # the Python loop is the baseline
}


def flops(cell: str, B: int, T: int, H: int) -> float:
    """Matmul FLOPs of forward + backward (backward ~ 2x forward); min cells have no recurrent matmul."""
    G = GATES[cell] * H
    per_step = 2 * B * G * (H + (H if cell in ("lstm", "gru", "lnlstm") else 0))
    return 3.0 * per_step * T


def build(cell: str, impl: str, H: int, dtype: torch.dtype) -> torch.nn.Module:
    from rnnkit.nn import GRU, LSTM, LayerNormLSTM, MinGRU, MinLSTM

    if impl == "cudnn":
        return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](H, H, batch_first=True).cuda().to(dtype)
    cls = {"lstm": LSTM, "gru": GRU, "lnlstm": LayerNormLSTM, "mingru": MinGRU, "minlstm": MinLSTM}[cell]
    backend = {"triton": "triton", "reference": "reference"}.get(impl, "torch")
    return cls(H, H, backend=backend).cuda().to(dtype)


def time_train_step(layer: torch.nn.Module, B: int, T: int, H: int, dtype: torch.dtype, reps: int,
                    warmup: int = 2) -> float:
    """Median milliseconds of ``layer(x)`` + backward on CUDA."""
    x = torch.randn(B, T, H, device="cuda", dtype=dtype, requires_grad=True)
    dy = torch.randn(B, T, H, device="cuda", dtype=dtype)
    times = []
    for i in range(warmup + reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        y = layer(x)[0]
        y.backward(dy)
        end.record()
        torch.cuda.synchronize()
        if i >= warmup:
            times.append(start.elapsed_time(end))
        layer.zero_grad(set_to_none=True)
        x.grad = None
    return statistics.median(times)


def run_grid(cells, Bs, Hs, Ts, reps: int, log=print) -> list[dict]:
    rows = []
    for cell in cells:
        family = "min" if cell.startswith("min") else "ln" if cell == "lnlstm" else "classic"
        for B in Bs:
            for H in Hs:
                for T in Ts:
                    base = {}
                    if family != "classic":  # ratios against the closest classic cell in cuDNN
                        for dt in ("fp16", "bf16"):
                            layer = build(CUDNN_OF[cell], "cudnn", H, DTYPES[dt])
                            base[dt] = time_train_step(layer, B, T, H, DTYPES[dt], reps)
                    for impl, dt in IMPLS[family]:
                        try:
                            layer = build(cell, impl, H, DTYPES[dt])
                            ms = time_train_step(layer, B, T, H, DTYPES[dt], reps)
                        except (RuntimeError, ValueError) as err:  # e.g. out of memory, grid too large
                            log(f"  {cell} {impl} {dt} B={B} H={H} T={T}: failed: {err}")
                            torch.cuda.empty_cache()
                            continue
                        if impl == "cudnn":
                            base[dt] = ms
                        rows.append(row(cell, impl, dt, B, H, T, ms, base))
                        log(format_row(rows[-1]))
    return rows


def row(cell, impl, dt, B, H, T, ms, base) -> dict:
    return {"cell": cell, "impl": impl, "dtype": dt, "B": B, "H": H, "T": T, "ms": ms, "us_per_step": 1e3 * ms / T,
            "tokens_per_s": B * T / (ms / 1e3), "tflops": flops(cell, B, T, H) / (ms / 1e3) / 1e12,
            "x_cudnn_fp16": base["fp16"] / ms if "fp16" in base else None,
            "x_cudnn_bf16": base["bf16"] / ms if "bf16" in base else None}


HEADER = (f"{'cell':<8}{'impl':<14}{'dtype':<6}{'B':>5}{'H':>6}{'T':>6}{'ms':>10}{'us/step':>10}"
          f"{'tokens/s':>12}{'TFLOP/s':>9}{'x fp16':>8}{'x bf16':>8}")


def format_row(r: dict) -> str:
    ratio = lambda v: f"{v:8.2f}" if v is not None else f"{'-':>8}"  # noqa: E731
    return (f"{r['cell']:<8}{r['impl']:<14}{r['dtype']:<6}{r['B']:>5}{r['H']:>6}{r['T']:>6}{r['ms']:>10.3f}"
            f"{r['us_per_step']:>10.2f}{r['tokens_per_s']:>12.3g}{r['tflops']:>9.2f}"
            f"{ratio(r['x_cudnn_fp16'])}{ratio(r['x_cudnn_bf16'])}")


def streaming_table(H: int, reps: int, log=print) -> list[dict]:
    """B=1 step latency: eager ``layer.step`` against CUDA-graph replays (of ``layer.step`` / the fused step)."""
    from rnnkit.kernels.triton_step import GraphedStep
    from rnnkit.nn import LSTM

    rows = []
    for dt in ("fp32", "bf16"):
        layer = LSTM(H, H).cuda().to(DTYPES[dt]).eval()
        x = torch.randn(1, H, device="cuda", dtype=DTYPES[dt])
        impls = [("eager", layer.step), ("cuda-graph", GraphedStep(layer, fused=False)),
                 ("graph+fused", GraphedStep(layer, fused=True))]
        for name, fn in impls:
            with torch.no_grad():
                state = None
                for _ in range(20):
                    _, state = fn(x, state)
                torch.cuda.synchronize()
                n, samples = 200, []
                for _ in range(reps):
                    t0 = time.perf_counter()
                    for _ in range(n):
                        _, state = fn(x, state)
                    torch.cuda.synchronize()
                    samples.append((time.perf_counter() - t0) / n * 1e6)
            rows.append({"step": name, "dtype": dt, "H": H, "us_per_step": statistics.median(samples)})
            log(f"{name:<12}{dt:<6}H={H:<6}{rows[-1]['us_per_step']:10.2f} us/step")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    p.add_argument("--B", nargs="+", type=int, default=[8, 64, 256])
    p.add_argument("--H", nargs="+", type=int, default=[64, 256, 1024])
    p.add_argument("--T", nargs="+", type=int, default=[128, 1024])
    p.add_argument("--reps", type=int, default=5, help="timed repetitions per row (median reported)")
    p.add_argument("--json", default=None, help="also write all rows to this JSON file")
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print(f"benchmarks/kernels.py times GPU kernels and needs a CUDA GPU; none is visible here "
              f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}). Run it on a CUDA machine.",
              file=sys.stderr)
        return 2
    try:
        import triton
    except ImportError:
        print("benchmarks/kernels.py needs triton: pip install 'rnnkit[triton]'", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = True
    print(f"# {torch.cuda.get_device_name()} | torch {torch.__version__} | cuDNN {torch.backends.cudnn.version()} "
          f"| triton {triton.__version__}")
    print("# training step (forward + backward), one layer, input size = H; median of", args.reps, "runs")
    print(HEADER)
    t0 = time.perf_counter()
    rows = run_grid(args.cells, args.B, args.H, args.T, args.reps)
    print("\n# streaming, B = 1, one LSTM layer")
    stream = streaming_table(256, args.reps)
    print(f"\n# total {time.perf_counter() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "train": rows, "streaming": stream}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
