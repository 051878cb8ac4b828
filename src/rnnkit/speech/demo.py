"""The speech demo: train a streaming digit recogniser on SYNTHETIC speech made offline, test it on an unseen voice.

With the ``speech`` extra (``espeakng-loader``), utterances of 1-3 digit words are synthesised by espeak-ng with
several voices, speaking rates and pitches; one voice is held out for testing. Without it, the demo falls back to
synthetic tone "speech" (each character a two-tone chord) and says so. Nothing is downloaded.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np

from rnnkit.speech.synth import VOICES, digit_strings, espeak_available, synthesize, tone_utterance

TEST_VOICE = "en+f4"


def demo_pairs(n_train: int, n_test: int, seed: int = 0) -> tuple[list, list, str]:
    """(train pairs, test pairs, description); pairs are (waveform, text, sample_rate)."""
    rng = random.Random(seed)
    texts = digit_strings(n_train + n_test, seed=seed, max_digits=3)
    if espeak_available():
        train_voices = [v for v in VOICES if v != TEST_VOICE]

        def say(text, voice):
            wav, sr = synthesize(text, voice=voice, rate=rng.randint(140, 200), pitch=rng.randint(30, 70))
            return (wav, text, sr)

        train = [say(t, rng.choice(train_voices)) for t in texts[:n_train]]
        test = [say(t, TEST_VOICE) for t in texts[n_train:]]
        what = (f"SYNTHETIC speech from espeak-ng: train voices {train_voices}, test on the unseen voice "
                f"{TEST_VOICE!r}")
    else:
        train = [(tone_utterance(t, 8000, rng), t, 8000) for t in texts[:n_train]]
        test = [(tone_utterance(t, 8000, rng), t, 8000) for t in texts[n_train:]]
        what = ("SYNTHETIC tone 'speech' (espeak-ng is not installed: `pip install rnnkit[speech]` for synthetic "
                "voices); each character is a two-tone chord")
    return train, test, what


def run_demo(out_dir: Path, n_train: int = 300, n_test: int = 40, max_time: float = 5.0, seed: int = 0
             ) -> dict[str, float]:
    """Train a unidirectional (streaming) recogniser, report WER / CER and streaming speed, save a plot.

    Returns flat metrics: wer, cer, stream_rtf, stream_latency_ms, train_seconds, synthetic (1.0).
    """
    import torch

    from rnnkit.speech import DecoderConfig, FeatureConfig, ModelConfig, SpeechRecognizer
    from rnnkit.train import TrainConfig

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train, test, what = demo_pairs(n_train, n_test, seed)
    print(what)
    rec = SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=40, normalize="causal"),
        ModelConfig(hidden_size=96, num_layers=2, subsample=3, bidirectional=False, cell="lstm", dropout=0.1),
        DecoderConfig(beam_size=8, lm="word", lm_order=2, lexicon=True),
        # a step budget keeps the result the same on a busy machine; max_time only guards against a very slow one
        train=TrainConfig(max_epochs=25, max_time=max_time, lr=4e-3, warmup_steps=30, clip_grad_norm=5.0,
                          progress=False, seed=seed), batch_size=16, valid_fraction=0.1)
    t0 = time.perf_counter()
    rec.fit(train)
    train_s = time.perf_counter() - t0
    scores = rec.evaluate(test)
    wav, text, sr = max(test, key=lambda p: len(p[1]))  # the longest transcript shows streaming best
    from rnnkit.speech.audio import resample

    wav8 = resample(torch.as_tensor(wav), sr, 8000).numpy()
    s = rec.stream(sample_rate=8000)
    for i in range(0, len(wav8), 1600):  # 200 ms chunks
        partial = s.accept(wav8[i:i + 1600])
    final = s.finish()
    stats = s.stats()
    rec.save(out_dir / "model")
    _plot(rec, wav8, text, final, out_dir / "speech_demo.png")
    print(f"trained {train_s:.0f} s on {len(train)} utterances; test ({len(test)} utterances, unseen voice): "
          f"WER {scores['wer']:.1%}, CER {scores['cer']:.1%}")
    print(f"stream: last partial {partial!r} -> final {final!r} (reference {text!r}); "
          f"latency {stats['latency_ms_median']:.1f} ms per 200 ms chunk, real-time factor {stats['rtf']:.3f}")
    print(f"model saved to {out_dir / 'model'}; plot {out_dir / 'speech_demo.png'}")
    return {"wer": scores["wer"], "cer": scores["cer"], "stream_rtf": stats["rtf"],
            "stream_latency_ms": stats["latency_ms_median"], "train_seconds": round(train_s, 1),
            "synthetic": 1.0}


def _plot(rec, wav: np.ndarray, text: str, hyp: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    feats = rec.featurize(wav, 8000)
    lp = rec.log_probs([feats])[0]  # (T', V)
    fig, (a, b) = plt.subplots(2, 1, figsize=(9, 5), sharex=False)
    a.imshow(feats.T.numpy(), origin="lower", aspect="auto", cmap="magma")
    a.set(title=f"log-mel features (SYNTHETIC speech): {text!r}", ylabel="mel bin")
    probs = lp.exp().numpy()
    for k, ch in enumerate(["blank"] + rec.alphabet_.chars):
        if probs[:, k].max() > 0.3:
            b.plot(probs[:, k], label=repr(ch) if ch != "blank" else "blank", lw=1)
    b.set(title=f"CTC posteriors; decoded {hyp!r}", xlabel="output frame (30 ms)", ylabel="P")
    b.legend(ncol=8, fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
