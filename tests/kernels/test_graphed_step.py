"""GraphedStep: CUDA-graph streaming equals eager ``layer.step``; clear errors where it cannot run."""

from __future__ import annotations

import pytest
import torch

from rnnkit.kernels.triton_step import GraphedStep
from rnnkit.nn import GRU, LSTM


def test_needs_cuda_input():
    step = GraphedStep(LSTM(3, 4).eval())
    with pytest.raises(ValueError) as err:
        step(torch.randn(1, 3))
    assert str(err.value) == ("GraphedStep replays CUDA graphs and needs a CUDA input, got cpu; on CPU call "
                              "layer.step(x_t, state) directly")


def test_needs_unidirectional_layer():
    with pytest.raises(ValueError, match=r"^GraphedStep needs a unidirectional layer"):
        GraphedStep(GRU(3, 4, bidirectional=True))


@pytest.mark.gpu
@pytest.mark.parametrize("fused", [False, None])
@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_graphed_step_matches_eager_gpu(cls, fused):
    torch.manual_seed(0)
    layer = cls(8, 256, num_layers=2).cuda().eval()
    step = GraphedStep(layer, fused=fused)
    xs = torch.randn(12, 1, 8, device="cuda")
    state, eager = None, None
    with torch.no_grad():
        for i, x_t in enumerate(xs):
            y, state = step(x_t, state)
            y_ref, eager = layer.step(x_t, eager)
            torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-4)
            if i == 5:  # a state from elsewhere is copied in
                state = type(eager)(*(f.clone() for f in eager))
    assert len(step._captured) == 1  # one capture for one shape
    layer.train()
    with pytest.raises(ValueError, match=r"call layer\.eval\(\) first"):
        step(xs[0], None)
