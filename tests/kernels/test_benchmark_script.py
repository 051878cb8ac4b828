"""benchmarks/kernels.py: says clearly when there is no GPU; its table arithmetic is right."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "kernels.py"


def _module():
    spec = importlib.util.spec_from_file_location("bench_kernels", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_script_says_it_needs_cuda(capsys):
    assert _module().main(["--cells", "lstm"]) == 2
    out = capsys.readouterr()
    assert "benchmarks/kernels.py times GPU kernels and needs a CUDA GPU; none is visible here" in out.err
    assert out.out == ""


def test_row_arithmetic_and_format():
    bench = _module()
    r = bench.row("lstm", "triton", "bf16", 8, 256, 128, 2.0, {"fp16": 3.0, "bf16": 6.0})
    assert r["us_per_step"] == pytest.approx(2000.0 / 128)
    assert r["tokens_per_s"] == pytest.approx(8 * 128 / 2e-3)
    assert r["tflops"] == pytest.approx(3 * 2 * 8 * 1024 * 512 * 128 / 2e-3 / 1e12)
    assert (r["x_cudnn_fp16"], r["x_cudnn_bf16"]) == (1.5, 3.0)
    line = bench.format_row(r)
    assert line.split() == ["lstm", "triton", "bf16", "8", "256", "128", "2.000", "15.62", "5.12e+05",
                            f"{r['tflops']:.2f}", "1.50", "3.00"]
    assert len(line) == len(bench.HEADER)


def test_grid_ratios_use_the_cudnn_rows_of_the_same_size(monkeypatch):
    bench = _module()
    fake_ms = {("cudnn", torch.float16): 4.0, ("cudnn", torch.bfloat16): 8.0}
    monkeypatch.setattr(bench, "build", lambda cell, impl, H, dtype: (impl, dtype))
    monkeypatch.setattr(bench, "time_train_step", lambda layer, B, T, H, dtype, reps: fake_ms.get(layer, 2.0))
    rows = bench.run_grid(["lstm", "mingru"], [8], [64], [128], reps=1, log=lambda line: None)
    by = {(r["cell"], r["impl"], r["dtype"]): r for r in rows}
    assert by[("lstm", "triton", "bf16")]["x_cudnn_fp16"] == 2.0
    assert by[("lstm", "triton", "bf16")]["x_cudnn_bf16"] == 4.0
    assert by[("lstm", "cudnn", "fp16")]["x_cudnn_fp16"] == 1.0
    assert ("mingru", "cudnn", "fp16") not in by  # min cells are compared with cuDNN, not listed as cuDNN rows
    assert by[("mingru", "triton", "bf16")]["x_cudnn_bf16"] == 4.0
