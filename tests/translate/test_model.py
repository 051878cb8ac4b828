import pytest
import torch

from rnnkit.translate.attention import Attention
from rnnkit.translate.config import TranslatorConfig
from rnnkit.translate.model import Seq2Seq
from rnnkit.translate.tokenizer import BOS, PAD


def _batch():
    torch.manual_seed(0)
    src = torch.randint(4, 20, (3, 6))
    lengths = torch.tensor([6, 4, 2])
    src[1, 4:] = PAD
    src[2, 2:] = PAD
    tgt = torch.randint(4, 25, (3, 7))
    tgt[:, 0] = BOS
    return src, lengths, tgt


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
def test_attention_ignores_padding_and_sums_to_one(kind):
    torch.manual_seed(0)
    att = Attention(kind, 8)
    memory = torch.randn(2, 5, 8)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    ctx, w = att(torch.randn(2, 8), memory, att.keys(memory), mask)
    assert ctx.shape == (2, 8) and w.shape == (2, 5)
    torch.testing.assert_close(w.sum(-1), torch.ones(2))
    assert torch.all(w[1, 2:] == 0)
    q = torch.randn(2, 3, 8)  # several queries per row give the same as one at a time
    ctx3, w3 = att(q, memory, att.keys(memory), mask)
    torch.testing.assert_close(w3[:, 1], att(q[:, 1], memory, att.keys(memory), mask)[1])


def test_padding_does_not_change_the_loss_of_a_sentence():
    src, lengths, tgt = _batch()
    model = Seq2Seq(TranslatorConfig(embed_size=8, hidden_size=8, dropout=0.0), 20, 25).eval()
    memory, _ = model.start(src, lengths)
    alone, _ = model.start(src[2:, :2], lengths[2:])
    torch.testing.assert_close(memory.values[2, :2], alone.values[0], atol=1e-6, rtol=1e-5)


def test_tied_embeddings_share_one_matrix():
    assert TranslatorConfig().tie_embeddings, "tied embeddings are the default"
    model = Seq2Seq(TranslatorConfig(embed_size=8, hidden_size=12, tie_embeddings=True), 20, 25)
    assert model.decoder.out.weight is model.decoder.embedding.weight
    untied = Seq2Seq(TranslatorConfig(embed_size=8, hidden_size=12, tie_embeddings=False), 20, 25)
    assert sum(p.numel() for p in untied.parameters()) - sum(p.numel() for p in model.parameters()) == 25 * 8


def test_scheduled_sampling_feeds_own_predictions_only_in_training():
    src, lengths, tgt = _batch()
    cfg = TranslatorConfig(embed_size=8, hidden_size=8, dropout=0.0, scheduled_sampling=0.99, label_smoothing=0.0)
    model = Seq2Seq(cfg, 20, 25)
    torch.manual_seed(1)
    sampled = model(src, lengths, tgt, sampling=0.99)
    forced = model(src, lengths, tgt)
    torch.testing.assert_close(sampled[:, 0], forced[:, 0])  # the first input is always BOS
    assert not torch.allclose(sampled[:, 1:], forced[:, 1:])
    model.eval()
    torch.testing.assert_close(model.loss(src, lengths, tgt), model.loss(src, lengths, tgt))


def test_label_smoothing_only_in_training():
    src, lengths, tgt = _batch()
    model = Seq2Seq(TranslatorConfig(embed_size=8, hidden_size=8, dropout=0.0, label_smoothing=0.3), 20, 25)
    train_loss = model.train().loss(src, lengths, tgt)
    eval_loss = model.eval().loss(src, lengths, tgt)
    assert not torch.isclose(train_loss, eval_loss)


def test_config_errors():
    with pytest.raises(ValueError, match=r"cell must be one of \('gru', 'lstm'\), got 'rnn'"):
        TranslatorConfig(cell="rnn")
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.5"):
        TranslatorConfig(dropout=1.5)
    with pytest.raises(ValueError, match="unknown TranslatorConfig keys \\['heads'\\]"):
        TranslatorConfig.from_dict({"heads": 4})
    assert TranslatorConfig.from_dict(TranslatorConfig(cell="lstm").to_dict()) == TranslatorConfig(cell="lstm")
