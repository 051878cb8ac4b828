"""One-call workflows behind the CLI: fit a recogniser on a manifest and write its model folder."""

from __future__ import annotations

import os

from rnnkit.speech.decode import DecoderConfig
from rnnkit.speech.features import FeatureConfig, SpecAugmentConfig
from rnnkit.speech.model import ModelConfig
from rnnkit.speech.recognizer import DEFAULT_MIN_STEPS, SpeechRecognizer, default_train_config


def fit_manifest(manifest: str | os.PathLike, out: str | os.PathLike, epochs: int | None = None,
                 max_time: float | None = None, seed: int = 0, device: str = "auto", sample_rate: int = 16000,
                 streaming: bool = False, hidden: int = 128, layers: int = 3, cell: str = "lstm",
                 batch_size: int = 32, beam: int = 1, lm: str | None = None, lexicon: bool = False,
                 lookahead: int = 0, warp: float = 0.0, ema: float | None = None) -> SpeechRecognizer:
    """Train on the ``path,text`` manifest and save to ``out``.

    ``streaming`` builds a unidirectional model with causal normalisation (for ``SpeechRecognizer.stream``);
    ``lookahead`` gives it that many steps of future context (after subsampling), at that much latency.
    ``warp`` turns on frequency warping in training (``SpecAugmentConfig.warp``); ``ema`` averages the weights
    with that decay (``TrainConfig.ema_decay``).
    Without ``epochs`` the default budget applies (40 epochs, more on a small set: at least 1,000 steps);
    ``max_time`` (minutes) caps the run either way.
    """
    import dataclasses

    from rnnkit.datasets.audio import read_manifest
    from rnnkit.train import check_save_target, setup_runtime

    check_save_target(out)  # before training, not after it
    setup_runtime()
    pairs = read_manifest(manifest, must_exist=True)
    train = default_train_config()
    train = dataclasses.replace(train, max_epochs=epochs if epochs is not None else train.max_epochs,
                                max_time=max_time, seed=seed, device=device, ema_decay=ema)
    rec = SpeechRecognizer(
        FeatureConfig(sample_rate=sample_rate, normalize="causal" if streaming else "utterance"),
        ModelConfig(hidden_size=hidden, num_layers=layers, cell=cell, bidirectional=not streaming,
                    lookahead=lookahead),
        DecoderConfig(beam_size=beam, lm=lm, lexicon=lexicon), augment=SpecAugmentConfig(warp=warp),
        train=train, batch_size=batch_size,
        min_steps=DEFAULT_MIN_STEPS if epochs is None else 0)
    rec.fit(pairs)
    rec.save(out)
    return rec


def evaluate_per_speaker(scorer, pairs, speakers: list[str] | None, sample_rate: int | None = None,
                         notes: list[str] | None = None) -> dict:
    """Error rates over ``pairs`` of (audio, reference) with ``scorer`` (a recognizer or an ensemble) adapted to
    each speaker first (``scorer.adapt``: speaker-level feature normalisation from the speaker's own, untranscribed
    recordings among ``pairs``).

    Args:
        speakers: each pair's speaker, in order; None: all pairs are one speaker's.
        notes: collects a line for each speaker with too little audio to adapt to (under 1 s in all); those
            speakers' pairs are transcribed without adaptation rather than failing the whole evaluation.

    Returns:
        ``error_rates``' dict over all pairs, plus ``"speakers"`` (the number of speakers) and
        ``"speakers_not_adapted"``.
    """
    from rnnkit.speech import data as D
    from rnnkit.speech.features import TooLittleAudio
    from rnnkit.speech.recognizer import error_rates

    split = [D._split_pair(p, i) for i, p in enumerate(pairs)]  # (source, text, rate or None)
    speakers = speakers if speakers is not None else [""] * len(split)
    if len(speakers) != len(split):
        raise ValueError(f"got {len(speakers)} speakers for {len(split)} pairs; give one speaker per pair")
    hyps: list[str | None] = [None] * len(split)
    not_adapted = 0
    for speaker in dict.fromkeys(speakers):
        idx = [i for i, s in enumerate(speakers) if s == speaker]
        items = [(split[i][0], split[i][2] or sample_rate) for i in idx]
        try:
            adapted = scorer._adapted(items)
        except TooLittleAudio as e:
            adapted, not_adapted = scorer, not_adapted + 1
            if notes is not None:
                notes.append(f"note: speaker {speaker or '(all files)'!s} not adapted: {e}")
        for i, text in zip(idx, adapted._transcribe(items)):
            hyps[i] = text
    return error_rates([text or "" for _, text, _ in split], hyps) | {
        "speakers": float(len(dict.fromkeys(speakers))), "speakers_not_adapted": float(not_adapted)}
