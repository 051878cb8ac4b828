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
    from rnnkit.train import setup_runtime

    setup_runtime()
    pairs = read_manifest(manifest)
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
