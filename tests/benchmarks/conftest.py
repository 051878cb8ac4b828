"""Loading the speech benchmark scripts, which import their sibling ``common`` module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SPEECH = Path(__file__).resolve().parents[2] / "benchmarks" / "speech"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SPEECH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def speech_script(monkeypatch):
    """``speech_script("yesno")`` -> the module of benchmarks/speech/yesno.py, loaded with its own ``common``
    (other benchmark tests leave a different ``common`` in sys.modules; this one is restored afterwards)."""
    monkeypatch.syspath_prepend(str(SPEECH))
    monkeypatch.setitem(sys.modules, "common", _load("common"))
    return _load
