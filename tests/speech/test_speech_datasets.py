"""FSDD-style loading and connected-digit utterances, on small wav files written here (no benchmark data needed)."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.datasets.audio import DIGITS, connected_digits, load_fsdd
from rnnkit.speech import write_wav


@pytest.fixture()
def recordings(tmp_path):
    rec = tmp_path / "fsdd" / "recordings"
    rec.mkdir(parents=True)
    for speaker, level in (("ann", 0.1), ("bob", 0.5)):
        for d in range(10):
            for take in range(2):
                n = 400 + 40 * d + 10 * take  # each clip's length tells its digit and take
                write_wav(rec / f"{d}_{speaker}_{take}.wav", np.full(n, level, np.float32), 8000)
    return tmp_path / "fsdd"


def test_load_fsdd_filters_speakers_and_names_digits(recordings):
    clips = load_fsdd(recordings, ["bob"])
    assert len(clips) == 20 and all("_bob_" in p for p, _ in clips)
    assert clips[0][1] == "zero" and clips[-1][1] == "nine"
    with pytest.raises(ValueError, match="no FSDD recordings"):
        load_fsdd(recordings, ["carl"])


def test_connected_digits_are_seeded_and_never_mix_speakers(recordings):
    clips = load_fsdd(recordings)
    utts = connected_digits(clips, 30, seed=3, gap=(0.05, 0.1), edge=0.1)
    again = connected_digits(clips, 30, seed=3, gap=(0.05, 0.1), edge=0.1)
    assert [t for _, t, _ in utts] == [t for _, t, _ in again]
    assert all(np.array_equal(a, b) for (a, _, _), (b, _, _) in zip(utts, again))
    for wav, text, sr in utts:
        words = text.split()
        assert sr == 8000 and 1 <= len(words) <= 7 and set(words) <= set(DIGITS)
        levels = {round(float(v), 2) for v in wav[np.abs(wav) > 1e-3]}
        assert levels in ({0.1}, {0.5})  # one speaker's clips only
        clip_samples = int((np.abs(wav) > 1e-3).sum())  # the clips' samples, gaps and edges left out
        assert 400 * len(words) <= clip_samples <= 770 * len(words)


def test_transform_changes_the_clips_not_the_draws(recordings):
    clips = load_fsdd(recordings)
    plain = connected_digits(clips, 20, seed=1)
    halved = connected_digits(clips, 20, seed=1, transform=lambda w, sr: w[: len(w) // 2])
    assert [t for _, t, _ in plain] == [t for _, t, _ in halved]
    for (a, _, _), (b, _, _) in zip(plain, halved):
        assert (np.abs(b) > 1e-3).sum() * 2 == pytest.approx((np.abs(a) > 1e-3).sum(), abs=len(a))
        assert len(b) < len(a)
