"""Translation tests run single-threaded: on a shared CPU, oversubscribed threads make tiny models crawl."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
