"""Chunk-by-chunk transcription with a unidirectional model that carries its recurrent state between chunks.

Every stage is causal, so the final text equals the whole-utterance decode:

* features: the waveform is zero-padded on the left by ``n_fft // 2`` (as ``torch.stft(center=True)`` does), and a
  frame is computed as soon as its whole window has arrived; ``finish()`` adds the right padding;
* normalisation: the running mean of :class:`~rnnkit.speech.features.CausalNormalizer`;
* subsampling: groups of ``s`` frames are sent once complete; ``finish()`` zero-pads the last group;
* the recurrent layers: ``y, state = rnn(chunk, state)``;
* the lookahead (if any): the last k outputs wait for k more steps; ``finish()`` pads them with zeros.

Example:
    >>> s = rec.stream()                                   # doctest: +SKIP
    >>> for chunk in chunks: print(s.accept(chunk))        # partial text so far (greedy)
    >>> text = s.finish(); s.stats()                       # {'chunks', 'latency_ms_median', 'rtf', ...}
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import Tensor

from rnnkit.speech.audio import as_mono
from rnnkit.speech.decode import greedy_decode
from rnnkit.speech.features import CausalNormalizer, log_mel_uncentred


class Stream:
    """A live transcription of one utterance; create it with ``SpeechRecognizer.stream()``.

    Args:
        recognizer: a fitted recognizer with a unidirectional model and ``normalize="causal"``.
        sample_rate: rate of the samples to be fed (must be the model's: resampling chunk by chunk is not exact).
    """

    def __init__(self, recognizer, sample_rate: int | None = None):
        cfg = recognizer.features
        if recognizer.model_.config.bidirectional:
            raise ValueError("streaming needs a unidirectional model: train with "
                             "ModelConfig(bidirectional=False) (a bidirectional layer reads the future)")
        if cfg.normalize == "utterance":
            raise ValueError("streaming needs causal normalisation: train with FeatureConfig(normalize='causal') "
                             "(per-utterance statistics need the whole utterance)")
        if sample_rate is not None and sample_rate != cfg.sample_rate:
            raise ValueError(f"stream got sample_rate={sample_rate} but the model runs at {cfg.sample_rate} Hz; "
                             f"resample first with rnnkit.speech.audio.resample(x, {sample_rate}, {cfg.sample_rate})")
        self.rec, self.cfg = recognizer, cfg
        self.model = recognizer.model_
        self.device = recognizer.device_
        self.buffer = torch.zeros(cfg.n_fft // 2)  # padded samples from the next frame's start on
        self.samples = 0  # real samples received
        self.frames = 0  # frames computed
        mean, std = recognizer.stats_
        if recognizer.speaker_stats_ is not None:  # adapted to a speaker: start from the speaker's mean
            mean = recognizer.speaker_stats_[0]
        self.norm = CausalNormalizer(mean, std) if cfg.normalize == "causal" else None
        self.pending = torch.zeros(0, cfg.n_mels)  # normalised frames waiting for a whole subsampling group
        self.state = None
        self.outputs: list[Tensor] = []  # (k, V) log-probabilities per chunk
        self.latencies: list[float] = []
        self.finished = False

    def _frames(self, final: bool) -> Tensor:
        """Log-mel of every frame whose window is complete (all remaining frames when ``final``)."""
        cfg = self.cfg
        if final:
            self.buffer = torch.cat([self.buffer, torch.zeros(cfg.n_fft // 2)])
            total = 1 + self.samples // cfg.hop_length  # frames of the whole utterance
            n = total - self.frames
        else:
            n = (self.buffer.numel() - cfg.n_fft) // cfg.hop_length + 1 if self.buffer.numel() >= cfg.n_fft else 0
        if n <= 0:
            return torch.zeros(0, cfg.n_mels)
        frames = log_mel_uncentred(self.buffer[: (n - 1) * cfg.hop_length + cfg.n_fft], cfg)  # (n, M)
        self.buffer = self.buffer[n * cfg.hop_length:]
        self.frames += n
        return frames

    def _advance(self, final: bool) -> None:
        frames = self._frames(final)
        if self.norm is not None:
            frames = self.norm(frames)
        pending = torch.cat([self.pending, frames])  # (P, M)
        s = self.model.config.subsample
        if final and pending.shape[0] % s:
            pending = torch.cat([pending, torch.zeros((-pending.shape[0]) % s, pending.shape[1])])
        k = pending.shape[0] // s * s
        chunk, self.pending = pending[:k], pending[k:]
        if k or final:  # final also flushes the steps that waited for lookahead context
            self.model.eval()
            lp, self.state = self.model.forward_chunk(chunk.unsqueeze(0).to(self.device), self.state,
                                                      final=final)  # (1, <= k/s, V)
            self.outputs.append(lp[0].cpu())

    def log_probs(self) -> Tensor:
        """(T', V) log-probabilities produced so far."""
        if not self.outputs:
            return torch.zeros(0, len(self.rec.alphabet_))
        return torch.cat(self.outputs)

    def accept(self, samples) -> str:
        """Feed the next samples (1-D or (T, C) array / Tensor at the model's rate; integer PCM is scaled to
        [-1, 1]); returns the partial text (greedy)."""
        if self.finished:
            raise ValueError("this stream is finished; start a new one with recognizer.stream()")
        t0 = time.perf_counter()
        x = as_mono(samples, "the chunk")  # (T,): int16 chunks scaled, stereo ones mixed
        self.samples += x.numel()
        self.buffer = torch.cat([self.buffer, x])
        self._advance(final=False)
        text = greedy_decode(self.log_probs(), self.rec.alphabet_)
        self.latencies.append(time.perf_counter() - t0)
        return text

    def finish(self) -> str:
        """Flush the last frames and return the final text (the recognizer's full decoder: beam, LM, lexicon)."""
        if self.finished:
            raise ValueError("finish() was already called on this stream")
        if self.samples == 0:
            raise ValueError("the stream received no samples; call accept(samples) before finish()")
        t0 = time.perf_counter()
        self._advance(final=True)
        self.finished = True
        text = self.rec.decode(self.log_probs())
        self.latencies.append(time.perf_counter() - t0)
        return text

    def stats(self) -> dict[str, float]:
        """Latency per chunk (median and max, ms) and the real-time factor (compute time / audio time)."""
        if not self.latencies:
            return {"chunks": 0.0}
        lat = np.asarray(self.latencies) * 1000.0
        audio_s = self.samples / self.cfg.sample_rate
        return {"chunks": float(len(lat)), "latency_ms_median": float(np.median(lat)),
                "latency_ms_max": float(lat.max()), "audio_seconds": audio_s,
                "rtf": float(lat.sum() / 1000.0 / audio_s) if audio_s else float("nan")}
