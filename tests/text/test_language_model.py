from __future__ import annotations

import inspect
import math

import pytest
import torch
from torch.nn.utils import parametrize

from rnnkit.nn import LSTMState
from rnnkit.text import LanguageModel
from rnnkit.text.language_model import StreamBatches
from rnnkit.text.lm_model import LMConfig, RNNLanguageModel, detach_state
from rnnkit.text.regularization import LockedDropout
from rnnkit.text.sampling import filter_logits, sample_next


def test_stream_batches_continue_each_stream():
    ids = torch.arange(1000)
    src = StreamBatches(ids, batch_size=4, bptt=10, seed=0)
    batches = list(src.epoch(0))
    assert len(batches) == len(src) and batches[0][2] and not any(b[2] for b in batches[1:])
    (x0, y0, _), (x1, _, _) = batches[0], batches[1]
    assert x0.shape == (4, 10) and torch.equal(y0, x0 + 1)
    assert torch.equal(x1[:, 0], x0[:, -1] + 1)  # the next window continues every stream
    assert list(src.epoch(0)) [3][0].equal(batches[3][0]) and not torch.equal(list(src.epoch(1))[0][0], x0)
    assert [b[0].tolist() for b in src.epoch(0, start=2)] == [b[0].tolist() for b in batches[2:]]
    with pytest.raises(ValueError, match="too few for batch_size=64 streams"):
        StreamBatches(torch.arange(50), batch_size=64, bptt=10)


def test_carried_state_equals_one_long_pass():
    torch.manual_seed(0)
    net = RNNLanguageModel(LMConfig(vocab_size=20, embed_dim=8, hidden_size=12, num_layers=2)).eval()
    ids = torch.randint(2, 20, (3, 24))
    whole, _ = net(ids)
    a, s = net(ids[:, :10])
    assert isinstance(s[0], LSTMState) and s[0].h.shape == (1, 3, 12)
    b, _ = net(ids[:, 10:], detach_state(s))
    assert torch.allclose(torch.cat([a, b], 1), whole, atol=1e-5)


def test_weight_tying_weight_drop_and_locked_dropout():
    net = RNNLanguageModel(LMConfig(vocab_size=20, embed_dim=8, hidden_size=12, weight_drop=0.5))
    assert net.decoder.weight is net.embedding.weight and net.proj is not None
    cell = net.layers[0].cells[0]
    net.train()
    with parametrize.cached():
        w1, w2 = cell.weight_hh, cell.weight_hh
    assert w1 is w2 and (w1 == 0).float().mean() > 0.3  # one DropConnect mask per forward
    net.eval()
    assert torch.equal(cell.weight_hh, cell.parametrizations.weight_hh.original)
    drop = LockedDropout(0.5).train()
    y = drop(torch.ones(4, 7, 6))
    assert torch.equal(y, y[:, :1].expand_as(y))  # same mask at every time step
    assert set(y.unique().tolist()) <= {0.0, 2.0}


def test_sampling_filters():
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    assert torch.isinf(filter_logits(logits, top_k=2)).tolist() == [[True, False, False, True]]
    probs = logits.softmax(-1)  # 0.09, 0.66, 0.24, 0.03
    kept = ~torch.isinf(filter_logits(logits, top_p=0.7))
    assert kept.tolist() == [[False, True, True, False]] and probs[0, 1] < 0.7
    assert sample_next(logits, temperature=0).item() == 1
    gen = torch.Generator().manual_seed(0)
    assert all(sample_next(logits, 1.0, top_k=1, generator=gen).item() == 1 for _ in range(20))


def test_fit_evaluate_generate(trained_lm, play):
    lm = trained_lm
    cut = int(len(play) * 0.9)
    res = lm.evaluate(play[cut:])
    assert res["loss"] < 2.2, res  # uniform over ~40 characters would be ln(40) = 3.7
    assert res["bpc"] == pytest.approx(res["loss"] / math.log(2))
    assert res["perplexity"] == pytest.approx(math.exp(res["loss"]))
    hist = lm.history_.history
    assert hist[-1]["val_loss"] < hist[0]["val_loss"]
    stream = lm.generate("ROMEO:", max_tokens=40, temperature=0.5, seed=3)
    assert inspect.isgenerator(stream)
    pieces = list(stream)
    assert len(pieces) == 40 and all(len(p) == 1 for p in pieces)
    assert "".join(pieces) == "".join(lm.generate("ROMEO:", max_tokens=40, temperature=0.5, seed=3))
    assert "".join(lm.generate("ROMEO:", 30, top_k=3, top_p=0.9, seed=1))


def test_generate_misuse(trained_lm, tiny_lm):
    with pytest.raises(ValueError, match="the prompt is empty; give the text to continue, e.g. 'ROMEO:'"):
        trained_lm.generate("", 10)
    with pytest.raises(ValueError, match=r"the prompt holds tokens the model never saw in training: \['\$'\]"):
        trained_lm.generate("$", 10)
    with pytest.raises(ValueError, match=r"top_p must be in \(0, 1\] or None, got 1.5"):
        trained_lm.generate("R", 10, top_p=1.5)
    with pytest.raises(ValueError, match="LanguageModel.generate needs a fitted model"):
        LanguageModel().generate("R", 1)
    with pytest.raises(ValueError, match="LanguageModel.fit needs a non-empty training text"):
        LanguageModel(**tiny_lm).fit("  ")


def test_save_load_round_trip(trained_lm, play, tmp_path):
    trained_lm.save(tmp_path / "lm")
    loaded = LanguageModel.load(tmp_path / "lm")
    assert loaded.evaluate(play[:500])["loss"] == pytest.approx(trained_lm.evaluate(play[:500])["loss"], abs=1e-6)
    assert list(loaded.generate("JULIET:", 20, seed=0)) == list(trained_lm.generate("JULIET:", 20, seed=0))
    (tmp_path / "lm" / "model.safetensors").unlink()
    with pytest.raises(ValueError, match=r"model folder .* is incomplete: missing model.safetensors"):
        LanguageModel.load(tmp_path / "lm")


def test_subword_language_model(play, tmp_path, tiny_lm):
    lm = LanguageModel(tokenizer="sentencepiece", vocab_size=120, epochs=1, **tiny_lm).fit(play)
    res = lm.evaluate(play[:2000])
    assert res["perplexity"] > math.exp(res["token_loss"]) - 1e-6 and res["loss"] < res["token_loss"]
    text = "".join(lm.generate("ROMEO:", 15, seed=0))
    assert len(text) >= 15  # subword pieces are often longer than one character
    lm.save(tmp_path / "sp")
    assert LanguageModel.load(tmp_path / "sp").evaluate(play[:2000])["loss"] == pytest.approx(res["loss"], abs=1e-6)


def test_awd_regularised_stack_trains_and_reloads(play, tmp_path, tiny_lm):
    args = {**tiny_lm, "num_layers": 2, "dropout": 0.2, "dropout_h": 0.2, "dropout_i": 0.2, "dropout_e": 0.1,
            "weight_drop": 0.3, "epochs": 1}
    lm = LanguageModel(**args).fit(play, valid=play[-600:])
    assert len(lm.model_.layers) == 2 and lm.model_.decoder.weight is lm.model_.embedding.weight
    assert math.isfinite(lm.history_.history[-1]["val_loss"])
    lm.save(tmp_path / "awd")
    loaded = LanguageModel.load(tmp_path / "awd")
    assert loaded.evaluate(play[:400])["loss"] == pytest.approx(lm.evaluate(play[:400])["loss"], abs=1e-6)
