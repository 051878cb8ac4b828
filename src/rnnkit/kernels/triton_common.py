"""Shared pieces of the Triton kernels: activations, the grid-wide step barrier, the recurrent matmul, launch sizes.

Imported only by the Triton kernel modules, which are imported lazily (``triton`` is an optional extra).

The recurrence of a dense LSTM/GRU couples every hidden unit to every other one, so one time step cannot start
before all of ``h_{t-1}`` exists. A persistent kernel keeps one program per (batch block, hidden block) alive for
all T steps; each program owns the gate rows of its hidden block (its slice of ``W_hh`` stays on chip when it fits
one tile, and in L2 otherwise), writes its part of ``h_t`` to global memory, then waits at a barrier for the
other hidden blocks of its batch block. The barrier is an arrival counter per batch block: release-add one, then
spin with acquire loads until the counter reaches ``(t + 1) * NHB``. This needs every program of the grid resident
at once, so the launcher caps the grid at the number of SMs. The block-diagonal (multi-head) variant needs no
barrier at all: a head reads only its own slice of ``h`` (FlashRNN's design, Pöppel et al. 2024, Sec. 3).

Under the Triton interpreter (``TRITON_INTERPRET=1``, CPU) programs run one after another, so a barrier would
never open: the launcher then uses one hidden block per batch block.
"""

from __future__ import annotations

import functools
import os

import torch
import triton
import triton.language as tl


def interpreting() -> bool:
    """True when kernels run in the Triton interpreter (CPU tensors allowed, programs run sequentially)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@triton.jit
def sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def tanh(x):
    # tanh(x) = 2 sigmoid(2x) - 1, exact in fp32 and free of overflow for large |x|.
    return 2.0 / (1.0 + tl.exp(-2.0 * x)) - 1.0


@triton.jit
def step_barrier(count_ptr, target):
    """Wait until ``target`` programs have arrived at ``count_ptr`` (this program included)."""
    tl.debug_barrier()  # every thread of this program has issued its stores
    tl.atomic_add(count_ptr, 1, sem="release")
    while tl.atomic_add(count_ptr, 0, sem="acquire") < target:
        pass


@triton.jit
def rows_times_wT(acc, a_ptr, a_rows, rmask, a_col0, w_ptr, w_row0, ldw, K, n_local, nmask,
                  BK: tl.constexpr, PREC: tl.constexpr):
    """``acc += A[:, a_col0 + k] @ W[w_row0 + n_local, k]^T`` over ``k < K`` (forward: h @ W_hh^T).

    ``a_rows`` are row offsets into A (elements), ``W`` is row-major with leading dimension ``ldw``.
    """
    for k0 in range(0, K, BK):
        k = k0 + tl.arange(0, BK)
        kmask = k < K
        a = tl.load(a_ptr + a_rows[:, None] + a_col0 + k[None, :], mask=rmask[:, None] & kmask[None, :],
                    other=0.0, cache_modifier=".cg")  # (BB, BK)
        w = tl.load(w_ptr + (w_row0 + n_local)[None, :] * ldw + k[:, None], mask=nmask[None, :] & kmask[:, None],
                    other=0.0)  # (BK, BH) = W^T tile
        if PREC == "ieee":  # fp32 storage, or the interpreter (whose bf16 dot is wrong): exact fp32 products
            acc += tl.dot(a.to(tl.float32), w.to(tl.float32), input_precision="ieee")
        else:  # bf16 / fp16 tensor cores, fp32 accumulation
            acc += tl.dot(a.to(w.dtype), w, out_dtype=tl.float32)
    return acc


@triton.jit
def rows_times_w(acc, a_ptr, a_rows, rmask, a_col0, w_ptr, w_row0, w_col, ldw, K, nmask,
                 BK: tl.constexpr, PREC: tl.constexpr):
    """``acc += A[:, a_col0 + k] @ W[w_row0 + k, w_col]`` over ``k < K`` (backward: dG @ W_hh)."""
    for k0 in range(0, K, BK):
        k = k0 + tl.arange(0, BK)
        kmask = k < K
        a = tl.load(a_ptr + a_rows[:, None] + a_col0 + k[None, :], mask=rmask[:, None] & kmask[None, :],
                    other=0.0, cache_modifier=".cg")  # (BB, BK)
        w = tl.load(w_ptr + (w_row0 + k)[:, None] * ldw + w_col[None, :], mask=kmask[:, None] & nmask[None, :],
                    other=0.0)  # (BK, BH)
        if PREC == "ieee":  # fp32 storage, or the interpreter (whose bf16 dot is wrong): exact fp32 products
            acc += tl.dot(a.to(tl.float32), w.to(tl.float32), input_precision="ieee")
        else:  # bf16 / fp16 tensor cores, fp32 accumulation
            acc += tl.dot(a.to(w.dtype), w, out_dtype=tl.float32)
    return acc


def dot_precision(dtype: torch.dtype) -> str:
    """How ``tl.dot`` multiplies: "ieee" (exact fp32) for fp32 storage, so the kernels match the reference to ~1e-5
    rather than TF32's ~1e-3, and in the interpreter, whose bf16 ``tl.dot`` is wrong (products of bf16 values are
    exact in fp32, so upcasting first computes what the tensor cores do); "native" for bf16 / fp16 on a GPU."""
    return "ieee" if dtype == torch.float32 or interpreting() else "native"


def warps_for(tile_elements: int) -> int:
    """Warps per program: 8 once one (rows x units) tile reaches 2048 values, where 4 warps spill registers
    (ptxas -v on sm_90, see tests/kernels/aot_compile.py)."""
    return 8 if tile_elements >= 2048 else 4


def next_pow2(n: int, lo: int = 16) -> int:
    return max(lo, triton.next_power_of_2(int(n)))


@functools.cache
def _sm_count(index: int) -> int:
    return torch.cuda.get_device_properties(index).multi_processor_count


def launch_sizes(B: int, H: int, heads: int, device: torch.device) -> dict[str, int]:
    """Block sizes and grid for the recurrent kernels.

    Returns ``BB`` (batch rows per program, >= 16 for ``tl.dot``), ``BH`` (hidden units per program, a power of
    two), ``HB`` (real units per program), ``NBB`` / ``NHB`` (batch / hidden blocks) and ``BK`` (inner tile).
    """
    BB = min(64, next_pow2(B))
    NBB = triton.cdiv(B, BB)
    if heads > 1:  # one head per program: no barrier, any grid size
        HB = H // heads
        return {"BB": BB, "BH": next_pow2(HB), "HB": HB, "NBB": NBB, "NHB": heads, "BK": min(64, next_pow2(HB))}
    if interpreting() or device.type != "cuda" or H <= 64:
        BH = next_pow2(H)
    else:
        sms = _sm_count(device.index if device.index is not None else torch.cuda.current_device())
        BH = 32  # more, narrower programs share the per-step W_hh reads; at most 128 units keep registers bounded
        while NBB * triton.cdiv(H, BH) > sms and BH < min(128, next_pow2(H)):
            BH *= 2
        if NBB * triton.cdiv(H, BH) > sms:
            raise ValueError(f"the fused Triton recurrence needs at most {sms} resident programs on this GPU, "
                             f"got batch {B} x hidden {H}; use backend='torch' or a smaller batch")
    return {"BB": BB, "BH": BH, "HB": BH, "NBB": NBB, "NHB": triton.cdiv(H, BH), "BK": min(64, next_pow2(H))}
