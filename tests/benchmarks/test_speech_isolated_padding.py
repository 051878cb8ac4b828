"""The isolated-digit benchmark's test-time padding: each clip gains the same digital silence on both sides."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture
def fsdd_isolated(speech_script):
    return speech_script("fsdd_isolated")


def _write_wav(path: Path, samples: np.ndarray, sr: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((samples * 32767).astype("<i2").tobytes())


def test_padding_adds_silence_both_sides_and_keeps_the_clip(tmp_path, fsdd_isolated):
    clip = np.sin(np.linspace(0, 60, 1000)).astype(np.float32) * 0.5
    _write_wav(tmp_path / "3_x_0.wav", clip)
    (wav, text, sr), = fsdd_isolated.padded_clips([(tmp_path / "3_x_0.wav", "three")], 0.1)
    assert (text, sr) == ("three", 8000)
    assert wav.shape == (800 + 1000 + 800,)
    assert torch.count_nonzero(wav[:800]) == 0 and torch.count_nonzero(wav[-800:]) == 0
    assert torch.allclose(wav[800:1800], torch.from_numpy(clip), atol=1e-4)


def test_no_padding_returns_the_clip_as_read(tmp_path, fsdd_isolated):
    clip = np.full(400, 0.25, np.float32)
    _write_wav(tmp_path / "a.wav", clip)
    (wav, _, _), = fsdd_isolated.padded_clips([(tmp_path / "a.wav", "one")], 0.0)
    assert wav.shape == (400,) and torch.allclose(wav, torch.from_numpy(clip), atol=1e-4)
