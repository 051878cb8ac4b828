"""Ensemble decoding: members' probabilities averaged, through the search protocol and ``Translator.ensemble``."""

import copy
import math

import pytest
import torch

from rnnkit.translate import Translator
from rnnkit.translate.config import TranslatorConfig
from rnnkit.translate.ensemble import Ensemble
from rnnkit.translate.model import Seq2Seq
from rnnkit.translate.tokenizer import BOS

SMALL = dict(embed_size=24, hidden_size=32, dropout=0.0, src_tokenizer="word", tgt_tokenizer="char", batch_size=32,
             lr=5e-3, warmup_steps=10, progress=False, num_threads=1, cell="gru", input_feeding=False, epochs=4)


@pytest.fixture(scope="module")
def members(corpus):
    torch.set_num_threads(1)
    en, ja, ten, tja = corpus
    return [Translator(seed=s, **SMALL).fit(en, ja, valid=(ten, tja)) for s in (0, 1)]


def test_step_averages_probabilities():
    torch.manual_seed(0)
    nets = [Seq2Seq(TranslatorConfig(embed_size=8, hidden_size=8), 20, 30).eval() for _ in range(3)]
    ens = Ensemble(nets)
    src, lengths, prev = torch.randint(4, 20, (2, 5)), torch.tensor([5, 3]), torch.tensor([BOS, BOS])
    log_probs, _, weights = ens.step(prev, *ens.start(src, lengths))
    singles = [net.step(prev, *net.start(src, lengths)) for net in nets]
    probs = torch.stack([s[0].exp() for s in singles]).mean(0)
    finite = torch.isfinite(log_probs)
    torch.testing.assert_close(log_probs[finite], probs.log()[finite])
    assert torch.equal(~finite, probs == 0)  # PAD / BOS stay impossible
    torch.testing.assert_close(weights, torch.stack([s[2] for s in singles]).mean(0))
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(2))


def test_ensemble_of_copies_translates_like_the_model(members, corpus):
    ten = corpus[2]
    one = members[0]
    twin = Translator.ensemble([one, copy.deepcopy(one)])
    for beam in (1, 5):
        assert twin.translate(ten, beam_size=beam) == one.translate(ten, beam_size=beam)


@pytest.mark.parametrize("beam", [1, 5])
def test_ensemble_output_does_not_depend_on_batch_size(members, corpus, beam):
    ens = Translator.ensemble(members)
    ten = corpus[2]
    assert ens.translate(ten, beam_size=beam, batch_size=64) == ens.translate(ten, beam_size=beam, batch_size=1)


def test_ensemble_scores_and_combines(members, corpus):
    _, _, ten, tja = corpus
    ens = Translator.ensemble(members)
    scores = ens.evaluate(ten, tja, beam_size=5)
    assert 0 <= scores["bleu"] <= 100 and len(scores["hypotheses"]) == len(ten)
    # The ensemble's greedy first token is the argmax of the members' mean probability, not of either member alone.
    src = torch.tensor([members[0].src_tokenizer_.encode(ten[0])])
    lengths = torch.tensor([src.shape[1]])
    with torch.no_grad():
        first = [m.model_.step(torch.tensor([BOS]), *m.model_.start(src, lengths))[0].exp() for m in members]
        lp, _, _ = ens.model_.step(torch.tensor([BOS]), *ens.model_.start(src, lengths))
    assert int(lp.argmax()) == int(torch.stack(first).mean(0).argmax())
    assert math.isclose(float(lp.exp().sum()), 1.0, rel_tol=1e-5)
    a = ens.attention(ten[0])
    assert a.weights.shape == (len(a.tgt_tokens), len(a.src_tokens))


def test_ensemble_errors(members, corpus, tmp_path):
    en, ja, ten, tja = corpus
    with pytest.raises(ValueError, match="at least 2"):
        Translator.ensemble(members[:1])
    with pytest.raises(ValueError, match="not fitted"):
        Translator.ensemble([members[0], Translator()])
    other = Translator(**{**SMALL, "tgt_tokenizer": "word", "epochs": 1}).fit(en, ja)
    with pytest.raises(ValueError, match="different tgt tokenizer"):
        Translator.ensemble([members[0], other])
    ens = Translator.ensemble(members)
    with pytest.raises(ValueError, match="ensemble of 2"):
        ens.save(tmp_path / "m")
    with pytest.raises(ValueError, match="ensemble of 2"):
        ens.attention(ten[0], target=tja[0])
    with pytest.raises(ValueError, match="itself an ensemble"):
        Translator.ensemble([ens, members[0]])
