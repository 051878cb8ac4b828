"""Shared test helpers: where the benchmark data lives, and the GPU marker's skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]



def shared_data_dir() -> Path | None:
    """The benchmark data folder: ``$RNNKIT_DATA``, else ``../shared/data`` beside the repository, else None."""
    env = os.environ.get("RNNKIT_DATA")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(autouse=True)
def _one_thread():
    """Tests use tiny models, where a second OpenMP thread costs more than it brings (and spins on a busy machine);
    code under test that changes the thread count gets it restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def shared_data() -> Path:
    """Path to the benchmark data; the test is skipped (with the reason) when it is absent."""
    d = shared_data_dir()
    if d is None:
        pytest.skip("benchmark data not found: set RNNKIT_DATA to the data folder")
    return d


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
