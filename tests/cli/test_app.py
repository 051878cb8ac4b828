"""The command's shared conventions: --version, --help everywhere, and the error convention."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rnnkit.cli.app import main
from rnnkit.cli.common import resolve_device, write_json


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnnkit.cli.app", *args], capture_output=True, text=True, timeout=120)


def test_version_and_help():
    from typer.testing import CliRunner

    from rnnkit.cli.app import app

    runner = CliRunner()
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.startswith("rnnkit ")
    for group in ["demo", "inspect", "forecast", "translate", "speech", "classify", "lm"]:
        res = runner.invoke(app, [group, "--help"])
        assert res.exit_code == 0, res.output
        assert "Usage" in res.stdout


def test_expected_error_is_one_line_and_exit_2():
    res = run("demo", "--only", "nosuchdemo")
    assert res.returncode == 2
    assert res.stderr.startswith("error: --only got unknown demo(s) ['nosuchdemo']")
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback():
    res = run("--debug", "demo", "--only", "nosuchdemo")
    assert res.returncode != 0 and "Traceback" in res.stderr


def test_main_in_process_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--only", "nosuchdemo"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_write_json_is_flat_and_rejects_nesting(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"mae": 0.5, "n": 3, "bad": float("nan")})
    assert json.loads(path.read_text()) == {"mae": 0.5, "n": 3, "bad": None}
    with pytest.raises(ValueError, match=r"--json output must be flat; these keys hold containers: \['per'\]"):
        write_json(path, {"per": [1, 2]})


def test_resolve_device_explains_missing_gpu():
    import torch

    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="--device cuda was asked for but no CUDA GPU is visible"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="--device must be cpu, cuda or auto, got 'tpu'"):
        resolve_device("tpu")
