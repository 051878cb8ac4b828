"""From (audio, transcript) pairs to padded feature batches grouped by length.

Example:
    >>> utts = prepare(pairs, FeatureConfig(sample_rate=8000))        # doctest: +SKIP
    >>> feats, lengths = pad([u.feats for u in utts])                  # (B, T_max, M), (B,)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from rnnkit.speech.audio import load_audio
from rnnkit.speech.features import FeatureConfig, frame_stats, log_mel


@dataclass
class Utterance:
    """One prepared example: unnormalised log-mel frames, its transcript, where it came from."""

    name: str  # file path or "pairs[i]", for messages
    logmel: Tensor  # (T, M) unnormalised log-mel
    text: str  # transcript (normalised later by the alphabet)
    feats: Tensor | None = None  # (T, M) normalised features, filled once statistics are known
    labels: list[int] = field(default_factory=list)  # CTC labels of ``text``


def _split_pair(pair, i: int):
    if isinstance(pair, dict):
        return pair.get("audio", pair.get("path")), pair.get("text", ""), pair.get("sample_rate")
    if not isinstance(pair, (tuple, list)) or len(pair) not in (2, 3):
        raise ValueError(f"pairs[{i}] must be (wav path or waveform, transcript) or (waveform, transcript, "
                         f"sample_rate), got {type(pair).__name__}")
    return pair[0], pair[1], (pair[2] if len(pair) == 3 else None)


def prepare(pairs, cfg: FeatureConfig, default_rate: int | None = None, notes: list[str] | None = None
            ) -> list[Utterance]:
    """Load every pair's audio at ``cfg.sample_rate`` (resampling with a note) and compute its log-mel frames.

    Args:
        pairs: iterable of ``(wav path or waveform, transcript)``, or ``(waveform, transcript, sample_rate)``.
        cfg: feature settings.
        default_rate: sample rate of waveform pairs that do not give one.
        notes: collects resampling notes.
    """
    utts = []
    for i, pair in enumerate(pairs):
        source, text, rate = _split_pair(pair, i)
        name = str(source) if isinstance(source, (str, os.PathLike)) else f"pairs[{i}]"
        if text is None or (isinstance(text, float) and np.isnan(text)):
            text = ""
        wav = load_audio(source, cfg.sample_rate, rate or default_rate, name=name, notes=notes)
        utts.append(Utterance(name, log_mel(wav, cfg), str(text)))
    if not utts:
        raise ValueError("no (audio, transcript) pairs were given")
    return utts


def summarize_notes(notes: list[str], limit: int = 3) -> list[str]:
    """At most ``limit`` notes, then a count of the rest."""
    if len(notes) <= limit:
        return notes
    return notes[:limit] + [f"note: ... and {len(notes) - limit} more files resampled"]


def feature_stats(utts: list[Utterance]) -> tuple[Tensor, Tensor]:
    """(mean (M,), std (M,)) of the unnormalised log-mel over every frame of every utterance."""
    return frame_stats([u.logmel for u in utts])


def pad(feats: list[Tensor]) -> tuple[Tensor, Tensor]:
    """List of (T_i, M) -> zero-padded (B, T_max, M) and lengths (B,)."""
    lengths = torch.tensor([f.shape[0] for f in feats], dtype=torch.long)
    out = feats[0].new_zeros(len(feats), int(lengths.max()), feats[0].shape[1])
    for i, f in enumerate(feats):
        out[i, : f.shape[0]] = f
    return out, lengths


def collate(utts: list[Utterance], feats: list[Tensor] | None = None) -> tuple[Tensor, Tensor, list[list[int]]]:
    """A training batch: (feats (B, T, M), lengths (B,), labels B x list); ``feats`` replaces the utterances'
    own normalised features (e.g. augmented ones)."""
    feats, lengths = pad([u.feats for u in utts] if feats is None else feats)
    return feats, lengths, [list(u.labels) for u in utts]


def length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length (sorted), for inference."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
