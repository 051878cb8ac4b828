"""RecognizerEnsemble on SYNTHETIC tone speech: each member proposes; the proposal of the most members wins (ties to
the best mean CTC log-likelihood), or with combine="likelihood" the best mean log-likelihood wins."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from rnnkit.speech import FeatureConfig, ModelConfig, SpeechRecognizer
from rnnkit.speech.synth import tone_utterance
from rnnkit.train import TrainConfig


def tone_pairs(n: int, seed: int, words=("yes", "no")) -> list[tuple[np.ndarray, str, int]]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 3))) for _ in range(n)]
    return [(tone_utterance(t, 8000, rng), t, 8000) for t in texts]


def small(steps: int, seed: int, hidden: int = 32) -> SpeechRecognizer:
    return SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=20),
        ModelConfig(hidden_size=hidden, num_layers=1, subsample=2, dropout=0.0),
        train=TrainConfig(max_steps=steps, lr=1e-2, warmup_steps=5, clip_grad_norm=5.0, progress=False, seed=seed),
        batch_size=8, valid_fraction=0.0, augment=None, verbose=False)


@pytest.fixture(scope="module")
def members() -> list[SpeechRecognizer]:
    torch.set_num_threads(1)
    pairs = tone_pairs(48, seed=0)
    # a well-trained member, a half-trained one and a barely trained one of another size: they disagree
    return [small(80, 0).fit(pairs), small(25, 1).fit(pairs), small(8, 2, hidden=16).fit(pairs)]


def test_the_chosen_transcript_is_the_proposal_with_the_best_mean_likelihood(members):
    ens = SpeechRecognizer.ensemble(members, combine="likelihood")
    test = tone_pairs(16, seed=3)
    wavs = [w for w, _, _ in test]
    chosen = ens.transcribe(wavs, sample_rate=8000)
    proposals = [m.transcribe(wavs, sample_rate=8000) for m in members]
    disagreements = 0
    for i, text in enumerate(chosen):
        options = list(dict.fromkeys(p[i] for p in proposals))
        assert text in options
        disagreements += len(options) > 1
        mean = ens.score(wavs[i], options, sample_rate=8000)  # (n options,)
        by_hand = torch.stack([m.score(wavs[i], options, sample_rate=8000) for m in members]).mean(0)
        torch.testing.assert_close(mean, by_hand)
        assert mean[options.index(text)] == mean.max()
    assert disagreements > 0  # otherwise the vote was never tested
    assert ens.transcribe(wavs[0], sample_rate=8000) == chosen[0]
    scores = ens.evaluate(test, sample_rate=8000)
    assert scores["n"] == len(test) and 0.0 <= scores["wer"]


def test_the_vote_picks_the_proposal_of_most_members_and_breaks_ties_by_likelihood(members):
    team = [members[0], members[1], members[2], members[2]]  # the barely trained member holds two votes
    ens = SpeechRecognizer.ensemble(team)
    assert ens.combine == "vote"
    wavs = [w for w, _, _ in tone_pairs(24, seed=6)]
    chosen = ens.transcribe(wavs, sample_rate=8000)
    by_likelihood = SpeechRecognizer.ensemble(team, combine="likelihood").transcribe(wavs, sample_rate=8000)
    proposals = [m.transcribe(wavs, sample_rate=8000) for m in team]
    decided_by_votes = 0
    for i, text in enumerate(chosen):
        made = [p[i] for p in proposals]
        votes = {p: made.count(p) for p in made}
        tied = [p for p in dict.fromkeys(made) if votes[p] == max(votes.values())]
        if len(tied) == 1:
            assert text == tied[0]
            decided_by_votes += text != by_likelihood[i]
        else:
            mean = ens.score(wavs[i], tied, sample_rate=8000)
            assert text == tied[int(mean.argmax())]
    assert decided_by_votes > 0  # the vote overruled the likelihood at least once
    assert ens.adapt(wavs[:12], sample_rate=8000).combine == "vote"


def test_two_members_vote_as_they_weigh_likelihoods(members):
    wavs = [w for w, _, _ in tone_pairs(12, seed=7)]
    vote = SpeechRecognizer.ensemble(members[:2]).transcribe(wavs, sample_rate=8000)
    assert vote == SpeechRecognizer.ensemble(members[:2], combine="likelihood").transcribe(wavs, sample_rate=8000)


def test_identical_members_transcribe_as_one(members):
    test = [w for w, _, _ in tone_pairs(6, seed=4)]
    ens = SpeechRecognizer.ensemble([members[1], members[1]])
    assert ens.transcribe(test, sample_rate=8000) == members[1].transcribe(test, sample_rate=8000)


def test_misuse_teaches(members):
    with pytest.raises(ValueError, match="combine must be one of vote, likelihood"):
        SpeechRecognizer.ensemble(members, combine="mean")
    with pytest.raises(ValueError, match="at least 2"):
        SpeechRecognizer.ensemble(members[:1])
    with pytest.raises(ValueError, match="not fitted"):
        SpeechRecognizer.ensemble([members[0], small(5, 0)])
    with pytest.raises(ValueError, match="not a SpeechRecognizer"):
        SpeechRecognizer.ensemble([members[0], SpeechRecognizer.ensemble(members[:2])])
    other = small(5, 0).fit(tone_pairs(16, seed=5, words=("up", "down")))
    with pytest.raises(ValueError, match="alphabet"):
        SpeechRecognizer.ensemble([members[0], other])
    ens = SpeechRecognizer.ensemble(members)
    with pytest.raises(ValueError, match="cannot stream"):
        ens.stream()
    with pytest.raises(ValueError, match="save each member"):
        ens.save("somewhere")
