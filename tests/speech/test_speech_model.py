"""Acoustic model shapes, CTC feasibility checks, batch invariance and chunked (streaming) forward."""

from __future__ import annotations

import pytest
import torch

from rnnkit.speech.model import AcousticModel, ModelConfig, ctc_loss, feasible


def model(**kw) -> AcousticModel:
    torch.manual_seed(0)
    cfg = dict(n_mels=8, vocab_size=5, hidden_size=16, num_layers=2, subsample=3, dropout=0.0)
    return AcousticModel(ModelConfig(**{**cfg, **kw})).eval()


@pytest.mark.parametrize("mode", ["stack", "conv"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_shapes_and_log_probabilities(mode, bidirectional):
    m = model(subsample_mode=mode, bidirectional=bidirectional)
    lp, out_len = m(torch.randn(3, 10, 8), torch.tensor([10, 7, 1]))
    assert lp.shape == (3, 4, 5) and out_len.tolist() == [4, 3, 1]
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(3, 4))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_output_is_the_same_batched_or_alone(cell):
    m = model(cell=cell)
    g = torch.Generator().manual_seed(1)
    feats = [torch.randn(n, 8, generator=g) for n in (13, 5, 9)]
    batch = torch.zeros(3, 13, 8)
    for i, f in enumerate(feats):
        batch[i, : f.shape[0]] = f
    lp, out_len = m(batch, torch.tensor([13, 5, 9]))
    for i, f in enumerate(feats):
        alone, n = m(f.unsqueeze(0), torch.tensor([f.shape[0]]))
        torch.testing.assert_close(lp[i, : int(out_len[i])], alone[0, : int(n[0])], atol=1e-5, rtol=1e-4)


def test_chunked_forward_equals_whole_utterance():
    m = model(bidirectional=False)
    x = torch.randn(1, 18, 8)
    whole, _ = m(x)
    state, parts = None, []
    for a, b in [(0, 3), (3, 9), (9, 18)]:
        lp, state = m.forward_chunk(x[:, a:b], state)
        parts.append(lp)
    torch.testing.assert_close(torch.cat(parts, 1), whole, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("chunks", [[(0, 3), (3, 9), (9, 18)], [(0, 18)], [(0, 3), (3, 6), (6, 9), (9, 18)]])
def test_chunked_forward_with_lookahead_equals_whole_utterance(chunks):
    m = model(bidirectional=False, lookahead=2)
    with torch.no_grad():
        m.lookahead.weight.normal_()  # not the identity it starts as
    x = torch.randn(1, 18, 8)
    whole, _ = m(x)
    state, parts = None, []
    for a, b in chunks:
        lp, state = m.forward_chunk(x[:, a:b], state)
        parts.append(lp)
    assert sum(p.shape[1] for p in parts) == whole.shape[1] - 2  # the last 2 steps wait for their future
    lp, _ = m.forward_chunk(x[:, :0], state, final=True)
    torch.testing.assert_close(torch.cat(parts + [lp], 1), whole, atol=1e-5, rtol=1e-4)


def test_lookahead_reads_the_future_but_not_past_the_end():
    m = model(bidirectional=False, lookahead=2)
    with torch.no_grad():
        m.lookahead.weight.normal_()
    x = torch.randn(1, 18, 8)
    base, _ = m(x)
    changed = x.clone()
    changed[:, 12:15] += 1.0  # output step 4 (frames 12-14) changes; lookahead 2 reaches back to step 2
    out, _ = m(changed)
    assert torch.allclose(out[:, :2], base[:, :2], atol=1e-6) and not torch.allclose(out[:, 2], base[:, 2])
    # Batched with a longer sequence, a short one's last steps see zeros after its end, as when alone.
    batch = torch.zeros(2, 18, 8)
    batch[0], batch[1, :9] = x[0], x[0, :9]
    lp, n = m(batch, torch.tensor([18, 9]))
    alone, _ = m(x[:, :9])
    torch.testing.assert_close(lp[1, : int(n[1])], alone[0], atol=1e-5, rtol=1e-4)


def test_lookahead_starts_as_the_identity_and_needs_a_unidirectional_model():
    with_k, without = model(bidirectional=False, lookahead=3), model(bidirectional=False)
    without.load_state_dict({k: v for k, v in with_k.state_dict().items() if not k.startswith("lookahead")})
    x = torch.randn(2, 12, 8)
    torch.testing.assert_close(with_k(x)[0], without(x)[0])
    with pytest.raises(ValueError, match="lookahead is for unidirectional"):
        ModelConfig(bidirectional=True, lookahead=2)
    with pytest.raises(ValueError, match="lookahead must be >= 0"):
        ModelConfig(bidirectional=False, lookahead=-1)


def test_chunks_need_a_unidirectional_model():
    with pytest.raises(ValueError, match=r"streaming needs a unidirectional model \(ModelConfig\(bidirectional=False\)\)"):
        model().forward_chunk(torch.randn(1, 3, 8))


def test_infeasible_samples_are_skipped_not_nan():
    m = model()
    feats, lengths = torch.randn(3, 12, 8), torch.tensor([12, 12, 3])  # output frames 4, 4, 1
    labels = [[1, 2], [3, 3, 3], [1, 2]]  # needs 2 | 3 + 2 repeats = 5 > 4 | 2 > 1
    assert feasible(labels, torch.tensor([4, 4, 1])).tolist() == [True, False, False]
    m.train()
    loss, skipped = ctc_loss(m, feats, lengths, labels)
    assert skipped == 2 and torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)


def test_all_infeasible_gives_a_zero_loss_with_gradients():
    m = model()
    loss, skipped = ctc_loss(m, torch.randn(1, 3, 8), torch.tensor([3]), [[1, 2, 3]])
    assert skipped == 1 and loss.item() == 0.0 and loss.requires_grad


def test_empty_transcript_is_a_valid_target():
    m = model()
    loss, skipped = ctc_loss(m, torch.randn(2, 6, 8), torch.tensor([6, 6]), [[], [1]])
    assert skipped == 0 and torch.isfinite(loss)


def test_config_errors_teach():
    with pytest.raises(ValueError, match="subsample_mode must be 'stack' or 'conv', got 'pool'"):
        ModelConfig(subsample_mode="pool")
    with pytest.raises(ValueError, match=r"ModelConfig.vocab_size must be >= 2 \(blank \+ one character\), got 0"):
        AcousticModel(ModelConfig())
    with pytest.raises(ValueError, match=r"AcousticModel expected features \(B, T, 8\), got \(1, 4, 3\)"):
        model()(torch.randn(1, 4, 3))
