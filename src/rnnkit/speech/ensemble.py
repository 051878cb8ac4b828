"""``RecognizerEnsemble``: several CTC recognizers transcribe together by rescoring each other's proposals.

Every member decodes the utterance with its own decoder settings and proposes one transcript. With
``combine="vote"`` (the default) the proposal made by the most members wins, and a tie goes to the proposal with
the highest mean CTC log-likelihood over all members (summed over all alignments): a sentence-level ROVER vote
with confidence as the tie-break. With ``combine="likelihood"`` the highest mean log-likelihood wins outright, a
product of the members' sequence probabilities. With two members the two rules agree (each proposal has one
vote). With many members the vote is the more robust: one member that is confidently wrong outweighs several
that agree under the product, but not under the vote. Frame posteriors are not averaged: independently trained
CTC models place their label spikes on different frames, so a frame-wise average blurs them, while a sequence
likelihood does not depend on alignment.

The members must share the alphabet (train them on the same transcripts); their features, sizes, cells and
seeds may differ. Each member computes its own features from the audio, so their normalisation statistics may
differ too.

Example:
    >>> ens = SpeechRecognizer.ensemble([SpeechRecognizer.load(d) for d in ("m0", "m1", "m2")])  # doctest: +SKIP
    >>> ens.transcribe("7_theo_3.wav"), ens.evaluate(test_pairs)                                 # doctest: +SKIP
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.speech import data as D
from rnnkit.speech.decode import ctc_log_likelihood


class RecognizerEnsemble:
    """Fitted :class:`~rnnkit.speech.recognizer.SpeechRecognizer` s that transcribe as one.

    Args:
        recognizers: two or more fitted recognizers with the same alphabet.
        combine: "vote" (the proposal of the most members; ties to the highest mean log-likelihood) or
            "likelihood" (the highest mean log-likelihood).
    """

    COMBINE = ("vote", "likelihood")

    def __init__(self, recognizers, combine: str = "vote"):
        from rnnkit.speech.recognizer import SpeechRecognizer

        members = list(recognizers)
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 fitted recognizers, got {len(members)}")
        for i, r in enumerate(members):
            if not isinstance(r, SpeechRecognizer):
                raise ValueError(f"ensemble member {i} is a {type(r).__name__}, not a SpeechRecognizer; pass the "
                                 "members of an ensemble, not the ensemble")
            r._check_fitted()
            if r.alphabet_.chars != members[0].alphabet_.chars:
                raise ValueError(f"ensemble member {i} has the alphabet {''.join(r.alphabet_.chars)!r}, member 0 "
                                 f"{''.join(members[0].alphabet_.chars)!r}; members must be trained on the same "
                                 "transcripts")
        if combine not in self.COMBINE:
            raise ValueError(f"combine must be one of {', '.join(self.COMBINE)}, got {combine!r}")
        self.members = members
        self.combine = combine

    def log_probs(self, items: list[tuple]) -> list[list[Tensor]]:
        """``[(audio, sample rate or None)]`` -> for each member, the per-utterance (T'_m, V) log-probabilities."""
        out = []
        for k, m in enumerate(self.members):
            notes: list[str] = []
            feats = [m.featurize(a, rate, notes, name=f"audio[{i}]") for i, (a, rate) in enumerate(items)]
            if k == 0:
                for note in D.summarize_notes(notes):
                    m._report(note)
            out.append(m.log_probs(feats))
        return out

    def choose(self, log_probs: list[Tensor]) -> str:
        """One utterance's log-probabilities from each member -> the winning proposal under ``combine`` (remaining
        ties go to the earlier member's proposal)."""
        made = [m.decode(lp) for m, lp in zip(self.members, log_probs)]
        proposals = list(dict.fromkeys(made))
        if len(proposals) == 1:
            return proposals[0]
        if self.combine == "vote":
            votes = [made.count(p) for p in proposals]
            proposals = [p for p, v in zip(proposals, votes) if v == max(votes)]
            if len(proposals) == 1:
                return proposals[0]
        labels = [self.members[0].alphabet_.encode(p) for p in proposals]
        scores = torch.stack([ctc_log_likelihood(lp, labels) for lp in log_probs]).mean(0)  # (n proposals,)
        return proposals[int(scores.argmax())]

    def transcribe(self, audio, sample_rate: int | None = None) -> str | list[str]:
        """Text of one wav path / waveform, or a list of texts for a list of them (as ``SpeechRecognizer``)."""
        from rnnkit.speech.recognizer import transcribe_audio

        return transcribe_audio(self._transcribe, audio, sample_rate)

    def _transcribe(self, items: list[tuple]) -> list[str]:
        per_member = self.log_probs(items)
        return [self.choose([lps[i] for lps in per_member]) for i in range(len(items))]

    @torch.no_grad()
    def score(self, audio, candidates: list[str], sample_rate: int | None = None) -> Tensor:
        """Mean over members of log P(text | audio) for each candidate transcript: (len(candidates),)."""
        return torch.stack([m.score(audio, candidates, sample_rate) for m in self.members]).mean(0)

    def evaluate(self, pairs, sample_rate: int | None = None) -> dict[str, float]:
        """Word and character error rates over ``pairs`` of (audio, reference), as ``SpeechRecognizer.evaluate``."""
        from rnnkit.speech.recognizer import evaluate_pairs

        return evaluate_pairs(self._transcribe, pairs, sample_rate)

    def adapt(self, audio, sample_rate: int | None = None) -> RecognizerEnsemble:
        """The ensemble of every member adapted to one speaker (``SpeechRecognizer.adapt``)."""
        from rnnkit.speech.recognizer import audio_items

        return self._adapted(audio_items(audio, sample_rate)[0])

    def _adapted(self, items: list[tuple]) -> RecognizerEnsemble:
        return RecognizerEnsemble([m._adapted(items) for m in self.members], self.combine)

    def stream(self, sample_rate: int | None = None):
        raise ValueError("an ensemble cannot stream: stream with one member, e.g. ensemble.members[0].stream()")

    def save(self, path) -> None:
        raise ValueError("an ensemble is not saved as one model: save each member (ensemble.members) and build the "
                         "ensemble again after loading them")

    def __repr__(self) -> str:
        return f"RecognizerEnsemble({len(self.members)} members, combine={self.combine!r})"
