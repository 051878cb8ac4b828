"""A run killed with kill -9 and resumed ends with the same weights, bit for bit, as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

from rnnkit.train import load_checkpoint, load_model_folder

sys.path.insert(0, str(Path(__file__).parent))
import resume_script  # noqa: E402

SCRIPT = Path(__file__).with_name("resume_script.py")
MAX_STEPS = resume_script.MAX_STEPS


def _run(out_dir: Path, result_dir: Path, sleep: float = 0.0, wait: bool = False) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, str(SCRIPT), str(out_dir), str(result_dir), str(sleep)] + (["--wait"] if wait else [])
    return subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _latest_step(out_dir: Path) -> int:
    """Step of the latest checkpoint, -1 before the first (retries: the folder may be replaced while we read)."""
    for _ in range(100):
        try:
            pointer = json.loads((out_dir / "checkpoint.json").read_text())
            return json.loads((out_dir / pointer["latest"] / "config.json").read_text())["step"]
        except FileNotFoundError:
            time.sleep(0.01)
    return -1


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"tensor {k} differs"


def test_kill9_then_resume_is_bit_identical(tmp_path):
    victim = _run(tmp_path / "run", tmp_path / "run_model", sleep=0.2)
    resumed = _run(tmp_path / "run", tmp_path / "run_model", wait=True)  # starts up while the victim trains

    def kill_after_step_3():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and victim.poll() is None and _latest_step(tmp_path / "run") < 3:
            time.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()

    killer = threading.Thread(target=kill_after_step_3)
    killer.start()
    # meanwhile, the uninterrupted reference run in this process (threads restored afterwards)
    threads = torch.get_num_threads()
    try:
        resume_script.main(str(tmp_path / "ref"), str(tmp_path / "ref_model"), 0.0)
    finally:
        torch.set_num_threads(threads)
    killer.join()
    killed_at = _latest_step(tmp_path / "run")
    assert 3 <= killed_at < MAX_STEPS, f"the kill should land mid-training, landed after step {killed_at}"
    assert victim.returncode == -signal.SIGKILL and not (tmp_path / "run_model").exists()

    assert resumed.stdout.readline().strip() == b"ready"
    resumed.stdin.write(b"go\n")
    resumed.stdin.flush()
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err.decode()

    _, ref_weights = load_model_folder(tmp_path / "ref_model")
    _, run_weights = load_model_folder(tmp_path / "run_model")
    _assert_same(ref_weights, run_weights)  # the final (best) weights
    ref_last, run_last = load_checkpoint(tmp_path / "ref"), load_checkpoint(tmp_path / "run")
    _assert_same(ref_last["model"], run_last["model"])  # the last weights
    for pid in ref_last["optimizer"]["state"]:
        _assert_same(ref_last["optimizer"]["state"][pid], run_last["optimizer"]["state"][pid])
    assert ref_last["trainer"]["loop"]["step"] == run_last["trainer"]["loop"]["step"] == MAX_STEPS
    ref_hist, run_hist = ref_last["trainer"]["loop"]["history"], run_last["trainer"]["loop"]["history"]
    assert [r["val_loss"] for r in ref_hist] == [r["val_loss"] for r in run_hist]
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [r["step"] for r in ref_hist]  # no record lost or repeated
