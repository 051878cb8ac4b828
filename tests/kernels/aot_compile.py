"""Compile every Triton kernel ahead of time for an NVIDIA GPU, on a machine without one.

Triton lowers each kernel to PTX and runs ``ptxas`` (bundled with the triton wheel) for a named target, so a CPU
machine can catch what the interpreter cannot: code the GPU compiler rejects, barrier atomics that vanish, register
spills. Run as a script (the interpreter must be off while the kernels are decorated)::

    python tests/kernels/aot_compile.py [--arch 90] [--ptxas-info]

It prints one line per kernel configuration and exits non-zero if any fails to compile.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ.pop("TRITON_INTERPRET", None)
os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")

import triton  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402
from triton.compiler import ASTSource  # noqa: E402

INTS = {"B", "T", "H", "HB", "ldw", "F"}
FLOATS = {"p", "eps"}
I32_PTRS = {"LEN", "CNT"}
FP32_PTRS = {"BHH", "DH0", "DC0", "GHH", "GC", "BC", "NH", "RS", "CN", "CRS", "DG", "DRAW", "DCA"}


def signature(fn, constexprs: dict, dtype: str, fp32_ptrs=FP32_PTRS) -> dict:
    sig = {}
    for name in fn.arg_names:
        if name in constexprs:
            sig[name] = "constexpr"
        elif name in INTS:
            sig[name] = "i32"
        elif name in FLOATS:
            sig[name] = "fp32"
        elif name in I32_PTRS:
            sig[name] = "*i32"
        else:
            sig[name] = "*fp32" if name in fp32_ptrs else f"*{dtype}"
    return sig


def configs():
    """(label, jit function, constexprs, storage dtype, fp32-only pointers, warps) for every kernel shape that ships.

    The warps follow the launchers (``warps_for`` of the tile), so the report is about what actually runs.
    """
    from rnnkit.kernels import triton_cellstep, triton_gru, triton_lnlstm, triton_lstm, triton_scan
    from rnnkit.kernels.triton_common import warps_for

    out = []
    for dt, prec in (("bf16", "native"), ("fp32", "ieee")):
        for label, c in (("dense 32 blocks", {"BB": 16, "BH": 32, "BK": 64, "NHB": 32, "BLOCKDIAG": False}),
                         ("dense 1 block", {"BB": 64, "BH": 64, "BK": 64, "NHB": 1, "BLOCKDIAG": False}),
                         ("8 heads", {"BB": 16, "BH": 128, "BK": 64, "NHB": 8, "BLOCKDIAG": True})):
            c = dict(c, PREC=prec)
            fp = FP32_PTRS - {"DG"}  # the LSTM / GRU gate gradients are stored in the compute dtype
            w = warps_for(c["BB"] * c["BH"])
            out.append((f"lstm fwd {dt} {label}", triton_lstm._lstm_fwd, dict(c, SAVE=True), dt, fp, w))
            out.append((f"lstm bwd {dt} {label}", triton_lstm._lstm_bwd, c, dt, fp, w))
            out.append((f"gru fwd {dt} {label}", triton_gru._gru_fwd, dict(c, SAVE=True), dt, fp, w))
            out.append((f"gru bwd {dt} {label}", triton_gru._gru_bwd, c, dt, fp, w))
        for mode in (0, 1):
            c = {"MODE": mode, "BT": 64, "BH": 64}
            w = warps_for(c["BT"] * c["BH"])
            out.append((f"scan fwd {dt} mode {mode}", triton_scan._scan_fwd, c, dt, FP32_PTRS, w))
            out.append((f"scan bwd {dt} mode {mode}", triton_scan._scan_bwd, c, dt, FP32_PTRS, w))
        c = {"BB": 16, "BH": 256, "BK": 64, "PREC": prec}
        fp = FP32_PTRS | {"ACT"}  # the LayerNormLSTM keeps its saved activations in fp32
        w = warps_for(c["BB"] * c["BH"])
        out.append((f"lnlstm fwd {dt} H=256", triton_lnlstm._lnlstm_fwd, dict(c, SAVE=True), dt, fp, w))
        out.append((f"lnlstm bwd {dt} H=256", triton_lnlstm._lnlstm_bwd, c, dt, fp, w))
        for gru in (False, True):
            c = {"GRU": gru, "HAS_BIAS": True, "BH": 32, "BK": 64}
            out.append((f"cell step {dt} {'gru' if gru else 'lstm'}", triton_cellstep._cell_step, c, dt, set(), 4))
    return out


def ptxas_info(ptx: str, arch: int) -> str:
    """Registers and spills as ptxas reports them (``-v``)."""
    bin_dir = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin")
    ptxas = next(p for p in (os.path.join(bin_dir, "ptxas-blackwell"), os.path.join(bin_dir, "ptxas"))
                 if os.path.exists(p))  # the newer one reads the PTX version Triton writes
    with tempfile.NamedTemporaryFile("w", suffix=".ptx", delete=False) as f:
        f.write(ptx)
    arch_flag = f"sm_{arch}a" if arch == 90 else f"sm_{arch}"
    res = subprocess.run([ptxas, "-v", f"-arch={arch_flag}", f.name, "-o", os.devnull], capture_output=True, text=True)
    os.unlink(f.name)
    regs = re.search(r"Used (\d+) registers", res.stderr)
    spill = re.search(r"(\d+) bytes spill stores", res.stderr)
    return f"regs {regs.group(1) if regs else '?'}, spill stores {spill.group(1) if spill else '?'} B"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", type=int, default=90, help="compute capability x 10 (90: H100 / H200)")
    p.add_argument("--ptxas-info", action="store_true", help="also report registers and spills per kernel")
    p.add_argument("--only", default="", help="compile only configurations whose label contains this text")
    args = p.parse_args(argv)
    target = GPUTarget("cuda", args.arch, 32)
    failed = 0
    for label, fn, constexprs, dt, fp32_ptrs, warps in configs():
        if args.only not in label:
            continue
        t0 = time.perf_counter()
        try:
            src = ASTSource(fn, signature(fn, constexprs, dt, fp32_ptrs), constexprs)
            k = triton.compile(src, target=target, options={"num_warps": warps})
        except Exception as err:  # noqa: BLE001 - report every failure, then fail at the end
            failed += 1
            print(f"FAIL {label}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}", flush=True)
            continue
        extra = f", {ptxas_info(k.asm['ptx'], args.arch)}" if args.ptxas_info else ""
        print(f"ok   {label}: {time.perf_counter() - t0:.1f} s, {warps} warps, shared {k.metadata.shared} B{extra}",
              flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
