"""The yesno benchmark's recombined training utterances: words in a new order with real silences, optionally with
those silences turned down (``gate``) or cut short (``edges``), or an untranscribed word tail in front
(``fragments``)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

SR = 8000


@pytest.fixture
def yesno(speech_script):
    return speech_script("yesno")


def _recording(path: Path, seed: int, lead: float = 0.8) -> None:
    """8 tone bursts of 0.3 s ("words") over faint noise: ``lead`` s of background, 0.4 s gaps, 0.5 s at the end."""
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(8):
        parts.append(np.zeros(int((lead if k == 0 else 0.4) * SR), np.float32))
        parts.append(0.5 * np.sin(2 * np.pi * (300 + 40 * k) * np.arange(int(0.3 * SR)) / SR).astype(np.float32))
    parts.append(np.zeros(int(0.5 * SR), np.float32))
    wav = np.concatenate(parts) + rng.normal(0, 0.003, sum(len(p) for p in parts)).astype(np.float32)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(wav, -1, 1) * 32767).astype("<i2").tobytes())


@pytest.fixture
def train(tmp_path):
    files = []
    for i, text in enumerate(["no no yes no yes yes no no", "no yes yes yes no no yes no"]):
        _recording(tmp_path / f"{i}.wav", i)
        files.append((tmp_path / f"{i}.wav", text))
    return files


def _edge_samples(wav: np.ndarray) -> tuple[int, int]:
    """Samples before the first and after the last loud 10 ms frame."""
    frames = wav[: len(wav) // 80 * 80].reshape(-1, 80)
    loud = np.flatnonzero(np.sqrt((frames ** 2).mean(1)) > 0.1)
    return loud[0] * 80, len(wav) - (loud[-1] + 1) * 80


def test_recombination_cuts_every_word_and_keeps_the_silences(yesno, train):
    utts, n_words = yesno.shuffled_word_files(train, 6, seed=0)
    assert n_words == 16 and len(utts) == 6
    for wav, text, sr in utts:
        assert sr == SR and len(text.split()) == 8 and set(text.split()) <= {"yes", "no"}
        lead, trail = _edge_samples(wav)
        assert lead >= 0.75 * SR and trail >= 0.45 * SR  # a whole leading / trailing silence of a recording


def test_options_off_draw_the_same_utterances_as_before(yesno, train):
    plain, _ = yesno.shuffled_word_files(train, 5, seed=3)
    off, _ = yesno.shuffled_word_files(train, 5, seed=3, gate=0.0, edges=0.0, fragments=0.0)
    for (a, ta, _), (b, tb, _) in zip(plain, off):
        assert ta == tb and np.array_equal(a, b)


def test_gate_turns_the_silences_down_and_keeps_the_words(yesno, train):
    plain, _ = yesno.shuffled_word_files(train, 4, seed=1)
    gated, _ = yesno.shuffled_word_files(train, 4, seed=1, gate=1.0)
    for (a, ta, _), (b, tb, _) in zip(plain, gated):
        assert ta == tb and a.shape == b.shape
        lead = int(0.5 * SR)  # inside the leading silence of every recording
        ratio_db = 10 * np.log10((b[:lead] ** 2).mean() / (a[:lead] ** 2).mean())
        assert -40.5 <= ratio_db <= -19.5
        assert np.abs(a).max() == pytest.approx(np.abs(b).max())  # the words are untouched


def test_edges_cut_the_leading_and_trailing_silences_short(yesno, train):
    plain, _ = yesno.shuffled_word_files(train, 20, seed=2)
    cut, _ = yesno.shuffled_word_files(train, 20, seed=2, edges=1.0)
    shorter = 0
    for (a, ta, _), (b, tb, _) in zip(plain, cut):
        assert ta == tb and len(b) <= len(a)
        (la, ra), (lb, rb) = _edge_samples(a), _edge_samples(b)
        assert lb <= la and rb <= ra
        shorter += lb < la
    assert shorter >= 15  # a random part of each leading silence is kept, rarely all of it


def test_fragments_put_a_quieter_word_tail_in_front_and_leave_the_transcript(yesno, train):
    plain, _ = yesno.shuffled_word_files(train, 10, seed=4)
    with_tail, _ = yesno.shuffled_word_files(train, 10, seed=4, fragments=1.0)
    for (a, ta, _), (b, tb, _) in zip(plain, with_tail):
        assert tb == ta  # the tail is not a word of the transcript
        extra = len(b) - len(a)
        assert int(0.1 * SR) - 1 <= extra <= 0.25 * SR  # 100-250 ms (and never more than 60% of the word)
        assert np.array_equal(b[extra:], a)  # the utterance itself follows unchanged
        level_db = 20 * np.log10(np.abs(b[:extra]).max() / 0.5)  # the words' tone peaks at 0.5
        assert -20.5 <= level_db <= -5.5
