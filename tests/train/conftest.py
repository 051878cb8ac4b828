"""One torch thread for the training tests: tiny models gain nothing from threads, and on a busy shared machine
spinning OpenMP threads make them up to 50x slower."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
