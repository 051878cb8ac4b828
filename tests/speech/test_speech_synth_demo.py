"""Offline SYNTHETIC audio (espeak-ng when installed, tones otherwise) and the speech demo."""

from __future__ import annotations

import random

import numpy as np
import pytest

from rnnkit.speech.synth import digit_strings, espeak_available, synthesize, tone_utterance


def test_tone_utterance_is_seeded_and_sized():
    a = tone_utterance("yes no", 8000, random.Random(1))
    b = tone_utterance("yes no", 8000, random.Random(1))
    np.testing.assert_array_equal(a, b)
    assert 0.3 < len(a) / 8000 < 0.7 and np.abs(a).max() < 1.0


def test_digit_strings_are_seeded():
    assert digit_strings(3, seed=2) == digit_strings(3, seed=2)
    assert all(1 <= len(s.split()) <= 4 for s in digit_strings(20, seed=0))


@pytest.mark.skipif(not espeak_available(), reason="espeakng-loader (the speech extra) is not installed")
def test_espeak_synthesizes_speech():
    wav, sr = synthesize("seven", voice="en+f2")
    assert sr == 22050 and wav.dtype == np.float32
    assert 0.2 < len(wav) / sr < 2.0 and np.abs(wav).max() > 0.05
    with pytest.raises(ValueError, match="espeak-ng has no voice 'xx-nothing'"):
        synthesize("one", voice="xx-nothing")


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    from rnnkit.speech.demo import run_demo

    metrics = run_demo(tmp_path, n_train=40, n_test=5, max_time=0.2)
    assert {"wer", "cer", "stream_rtf", "synthetic"} <= set(metrics)
    assert (tmp_path / "speech_demo.png").is_file() and (tmp_path / "model" / "config.json").is_file()
