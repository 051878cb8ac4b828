"""Log-mel features with ``torch.stft``, per-utterance normalisation and SpecAugment.

The mel filterbank is written by hand (triangular filters on the HTK mel scale, about 15 lines) because torchaudio
does not load with torch 2.13 CPU wheels and librosa would add about 430 MB for one matrix.

Pipeline, for a waveform x (N,) at ``sample_rate``:

    power = |STFT(x)|^2        Hann window 25 ms, hop 10 ms, centred frames, zero (constant) padding
    mel   = power @ filterbank  (T, n_mels)
    feats = log(mel + floor)    then normalised per utterance (or causally for streaming)

Example:
    >>> cfg = FeatureConfig(sample_rate=8000, n_mels=40)
    >>> feats = log_mel(torch.randn(8000), cfg)   # (101, 40): one frame per 10 ms plus one
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor


@dataclass
class FeatureConfig:
    """How waveforms become feature frames; saved with every model so transcription matches training."""

    sample_rate: int = 16000  # Hz the model works at; other rates are resampled on the way in
    n_mels: int = 40  # mel bins; 40-80 is the usual range for speech
    win_ms: float = 25.0  # analysis window (Hann) length: long enough to resolve pitch harmonics
    hop_ms: float = 10.0  # frame step: 100 frames a second, the speech-recognition standard
    f_min: float = 20.0  # lowest filter edge in Hz; below this is mostly hum
    f_max: float | None = None  # highest filter edge in Hz; None = Nyquist
    log_floor: float = 1e-6  # added before the log so silence stays finite
    normalize: str = "utterance"  # "utterance" (mean/std of this utterance), "causal" (running mean, streaming), "none"

    def __post_init__(self):
        if self.sample_rate < 1000:
            raise ValueError(f"sample_rate must be >= 1000 Hz, got {self.sample_rate}")
        if not 8 <= self.n_mels <= 128:
            raise ValueError(f"n_mels must be in 8..128 (40-80 is usual), got {self.n_mels}")
        if self.hop_ms <= 0 or self.win_ms < self.hop_ms:
            raise ValueError(f"need 0 < hop_ms <= win_ms, got hop_ms={self.hop_ms}, win_ms={self.win_ms}")
        nyquist = self.sample_rate / 2
        if not 0 <= self.f_min < (self.f_max or nyquist) <= nyquist:
            raise ValueError(f"need 0 <= f_min < f_max <= {nyquist} Hz, got f_min={self.f_min}, f_max={self.f_max}")
        if self.normalize not in ("utterance", "causal", "none"):
            raise ValueError(f"normalize must be 'utterance', 'causal' or 'none', got {self.normalize!r}")

    @property
    def win_length(self) -> int:
        return int(round(self.win_ms * self.sample_rate / 1000))

    @property
    def hop_length(self) -> int:
        return int(round(self.hop_ms * self.sample_rate / 1000))

    @property
    def n_fft(self) -> int:
        return 1 << (self.win_length - 1).bit_length()  # next power of two >= the window

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> FeatureConfig:
        return cls(**d)


def hz_to_mel(f: Tensor) -> Tensor:
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def mel_to_hz(m: Tensor) -> Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(n_fft: int, sample_rate: int, n_mels: int, f_min: float = 0.0, f_max: float | None = None
                   ) -> Tensor:
    """Triangular filters, equally spaced on the mel scale, each peaking at 1.

    Returns:
        (n_fft // 2 + 1, n_mels): multiply a power spectrum (T, n_fft // 2 + 1) by it.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)  # (K,) bin centres
    edges = mel_to_hz(torch.linspace(float(hz_to_mel(torch.tensor(f_min))), float(hz_to_mel(torch.tensor(f_max))),
                                     n_mels + 2, dtype=torch.float64))  # (M + 2,) lower, centre, upper edges
    lo, mid, hi = edges[:-2], edges[1:-1], edges[2:]  # (M,)
    up = (freqs[:, None] - lo) / (mid - lo)  # (K, M) rising slope
    down = (hi - freqs[:, None]) / (hi - mid)  # (K, M) falling slope
    return torch.clamp(torch.minimum(up, down), min=0.0).float()


_FBANK_CACHE: dict[tuple, Tensor] = {}


def _fbank(cfg: FeatureConfig) -> Tensor:
    key = (cfg.n_fft, cfg.sample_rate, cfg.n_mels, cfg.f_min, cfg.f_max)
    if key not in _FBANK_CACHE:
        _FBANK_CACHE[key] = mel_filterbank(*key)
    return _FBANK_CACHE[key]


def _window(cfg: FeatureConfig) -> Tensor:
    return torch.hann_window(cfg.win_length, periodic=True)


def log_mel(wav: Tensor, cfg: FeatureConfig) -> Tensor:
    """Unnormalised log-mel frames of one waveform.

    Args:
        wav: (N,) float waveform at ``cfg.sample_rate``.

    Returns:
        (1 + N // hop, n_mels) float32. Frame t is centred on sample ``t * hop`` (zero padding at both ends).
    """
    if wav.dim() != 1 or wav.numel() == 0:
        raise ValueError(f"log_mel expected a non-empty waveform (N,), got shape {tuple(wav.shape)}")
    spec = torch.stft(wav.float(), cfg.n_fft, cfg.hop_length, cfg.win_length, _window(cfg), center=True,
                      pad_mode="constant", return_complex=True)  # (K, T)
    return _spec_to_logmel(spec, cfg)


def log_mel_uncentred(padded: Tensor, cfg: FeatureConfig) -> Tensor:
    """Log-mel of frames read from an already zero-padded signal (no centring); streaming uses this.

    ``log_mel_uncentred(cat([zeros(n_fft // 2), x, zeros(n_fft // 2)]))`` equals ``log_mel(x)``.
    """
    spec = torch.stft(padded.float(), cfg.n_fft, cfg.hop_length, cfg.win_length, _window(cfg), center=False,
                      return_complex=True)  # (K, T)
    return _spec_to_logmel(spec, cfg)


def _spec_to_logmel(spec: Tensor, cfg: FeatureConfig) -> Tensor:
    power = spec.real.square() + spec.imag.square()  # (K, T)
    return torch.log(power.transpose(0, 1) @ _fbank(cfg) + cfg.log_floor)  # (T, n_mels)


def num_frames(num_samples: int, cfg: FeatureConfig) -> int:
    """Frames ``log_mel`` gives for ``num_samples`` samples."""
    return 1 + num_samples // cfg.hop_length


# ------------------------------------------------------------------------------------------------ normalisation
CAUSAL_PRIOR_FRAMES = 50.0  # weight (in frames) of the training mean in the running mean: 0.5 s of evidence


def normalize_utterance(feats: Tensor) -> Tensor:
    """Zero mean, unit variance per mel bin over this utterance's frames: (T, M) -> (T, M).

    Removes the recording's gain and channel colouring (a constant offset in log-mel).
    """
    mean = feats.mean(0, keepdim=True)  # (1, M)
    std = feats.std(0, unbiased=False, keepdim=True) if feats.shape[0] > 1 else torch.ones_like(mean)
    return (feats - mean) / (std + 1e-5)


class CausalNormalizer:
    """Running-mean normalisation that needs no future frames, so a stream and a whole utterance agree.

    Frame t is normalised by ``(x_t - m_t) / s`` where ``m_t`` is the mean of frames 0..t blended with the
    training mean (weight ``CAUSAL_PRIOR_FRAMES``) and ``s`` the training std: online cepstral mean normalisation.

    Args:
        mean, std: (M,) statistics of the training features.
    """

    def __init__(self, mean: Tensor, std: Tensor):
        self.mean, self.std = mean.float(), std.float()
        self.total = self.mean * CAUSAL_PRIOR_FRAMES  # (M,) running sum, prior included
        self.count = CAUSAL_PRIOR_FRAMES

    def __call__(self, feats: Tensor) -> Tensor:
        """Normalise the next frames (T, M) -> (T, M), advancing the running mean."""
        if feats.shape[0] == 0:
            return feats
        sums = self.total + feats.cumsum(0)  # (T, M)
        counts = self.count + torch.arange(1, feats.shape[0] + 1, dtype=feats.dtype).unsqueeze(1)  # (T, 1)
        self.total, self.count = sums[-1], float(counts[-1, 0])
        return (feats - sums / counts) / (self.std + 1e-5)


def normalize(feats: Tensor, cfg: FeatureConfig, stats: tuple[Tensor, Tensor] | None = None,
              speaker: tuple[Tensor, Tensor] | None = None) -> Tensor:
    """Apply ``cfg.normalize`` to one utterance's log-mel (T, M) -> (T, M).

    Args:
        stats: the training features' (mean, std), each (M,); "causal" needs them.
        speaker: (mean, std), each (M,), of one speaker's recordings (:func:`speaker_stats`; speaker-level
            cepstral mean and variance normalisation). "utterance" then subtracts the speaker's mean and divides
            by the speaker's std instead of the utterance's own, and "causal" starts its running mean from the
            speaker's mean instead of the training mean.
    """
    if cfg.normalize == "utterance":
        if speaker is not None:
            return (feats - speaker[0]) / (speaker[1] + 1e-5)
        return normalize_utterance(feats)
    if cfg.normalize == "causal":
        if stats is None:
            raise ValueError("normalize='causal' needs the training feature statistics (mean, std)")
        return CausalNormalizer(stats[0] if speaker is None else speaker[0], stats[1])(feats)
    return feats


def frame_stats(logmels: list[Tensor], min_std: float = 1e-3) -> tuple[Tensor, Tensor]:
    """(mean (M,), std (M,) at least ``min_std``) over every frame of unnormalised log-mels [(T_i, M)]: the
    training statistics and a speaker's (:func:`speaker_stats`)."""
    allf = torch.cat(logmels)  # (sum T, M)
    return allf.mean(0), allf.std(0, unbiased=False).clamp_min(min_std)


MIN_SPEAKER_FRAMES = 100  # 1 s of audio at a 10 ms hop: fewer frames give a mean dominated by one or two sounds
MIN_SPEAKER_STD = 0.05  # mean log-mel std under which a speaker's audio is silence (faint noise gives about 0.4)


class TooLittleAudio(ValueError):
    """Too little of a speaker's audio to estimate their feature statistics (:func:`speaker_stats`)."""


def speaker_stats(logmels: list[Tensor]) -> tuple[Tensor, Tensor]:
    """(mean (M,), std (M,)) over every frame of one speaker's unnormalised log-mels [(T_i, M)].

    Raises:
        TooLittleAudio: (a ValueError) fewer than ``MIN_SPEAKER_FRAMES`` frames in all, or only silence.
    """
    frames = sum(f.shape[0] for f in logmels)
    if frames < MIN_SPEAKER_FRAMES:
        raise TooLittleAudio(f"speaker statistics need at least {MIN_SPEAKER_FRAMES} frames (1 s of audio at a 10 ms "
                         f"hop), got {frames}; pass more recordings of the speaker")
    mean, std = frame_stats(logmels, min_std=0.0)
    # digital silence sits at the log floor in every frame: its std of ~0 would scale speech up a thousandfold
    if float(std.mean()) < MIN_SPEAKER_STD:
        raise TooLittleAudio("the speaker's recordings are silent (every frame at the same level); pass "
                             "recordings in which the speaker talks")
    return mean, std.clamp_min(1e-3)


def features(wav: Tensor, cfg: FeatureConfig, stats: tuple[Tensor, Tensor] | None = None) -> Tensor:
    """Waveform (N,) -> normalised log-mel (1 + N // hop, n_mels)."""
    return normalize(log_mel(wav, cfg), cfg, stats)


# -------------------------------------------------------------------------------------- training augmentation
@dataclass
class SpecAugmentConfig:
    """Training-time augmentation: frequency and time masking (Park et al. 2019, "SpecAugment", section 2) and
    volume perturbation.

    Frequency warping (``warp``, vocal tract length perturbation: Jaitly and Hinton 2013) stretches or squeezes
    each training utterance's spectrum by a factor drawn uniformly from ``1 +- warp``, every time it is drawn, as
    a shorter or longer vocal tract would: it moves the formants, so a model trained on a few voices meets more of
    them. Off by default; 0.1 is the usual range.

    Volume perturbation plays each training utterance, every time it is drawn, at a random level: a factor from
    ``volume`` (low, high), drawn log-uniformly; the default is Kaldi's range, -18 dB to +6 dB. It is applied only
    where the normalisation does not remove the level ("causal", "none"): a causal running mean starts from the
    training mean and takes seconds to reach an unusually quiet or loud recording, so a streaming model trained
    at one level fails at another. Per-utterance normalisation removes the level at once, so there it is skipped.
    """

    freq_masks: int = 2  # number of frequency masks
    freq_width: int = 6  # each masks up to this many mel bins
    time_masks: int = 2  # number of time masks
    time_width: float = 0.05  # each masks up to this fraction of the frames
    time_width_max: int = 20  # ... and never more than this many frames
    volume: tuple[float, float] | None = (0.125, 2.0)  # amplitude factors of volume perturbation; None = off
    warp: float = 0.0  # frequency warping (VTLP): factors drawn from 1 +- warp, e.g. 0.1; 0 = off

    def __post_init__(self):
        if min(self.freq_masks, self.freq_width, self.time_masks, self.time_width_max) < 0 or self.time_width < 0:
            raise ValueError("SpecAugment mask counts and widths must be >= 0")
        if not 0.0 <= self.warp < 0.5:
            raise ValueError(f"warp must be in [0, 0.5) (0.1 draws warp factors from 0.9 to 1.1), got {self.warp}")
        if self.volume is not None:
            if len(self.volume) != 2 or not 0 < self.volume[0] <= self.volume[1]:
                raise ValueError(f"volume must be (low, high) amplitude factors with 0 < low <= high, e.g. "
                                 f"(0.125, 2.0), or None; got {self.volume!r}")
            self.volume = (float(self.volume[0]), float(self.volume[1]))


def change_volume(logmel: Tensor, factor: float, cfg: FeatureConfig) -> Tensor:
    """The log-mel (T, M) of the same audio played ``factor`` times louder (amplitude), floor included: exact,
    since ``log_mel`` is ``log(power + log_floor)`` and the mel power scales by ``factor ** 2``."""
    power = (logmel.exp() - cfg.log_floor).clamp_min(0.0)
    return torch.log(power * factor ** 2 + cfg.log_floor)


def random_volume(logmel: Tensor, cfg: FeatureConfig, volume: tuple[float, float],
                  generator: torch.Generator | None = None) -> Tensor:
    """``change_volume`` by a factor drawn log-uniformly from ``volume`` (low, high)."""
    low, high = math.log(volume[0]), math.log(volume[1])
    u = float(torch.rand((), generator=generator))
    return change_volume(logmel, math.exp(low + (high - low) * u), cfg)


def warp_frequency(logmel: Tensor, factor: float, cfg: FeatureConfig, boundary: float = 0.8) -> Tensor:
    """The log-mel (T, M) of the same utterance with its spectrum warped by ``factor`` (VTLP).

    The warp is Jaitly and Hinton's piecewise-linear map ``f -> factor * f`` up to a boundary frequency, then a
    straight line to the top filter edge so the band keeps its range (``boundary`` sets it, as a fraction of
    the top edge, scaled by ``min(factor, 1)``). Each output bin reads the input at the frequency that maps onto
    its centre, interpolated linearly between neighbouring bins: an approximation of warping the power
    spectrum before the filterbank, close enough for augmentation, and cheap enough to draw afresh every time.
    """
    if factor == 1.0:
        return logmel
    M = logmel.shape[1]
    f_top = cfg.f_max or cfg.sample_rate / 2
    mel_lo, mel_hi = float(hz_to_mel(torch.tensor(cfg.f_min))), float(hz_to_mel(torch.tensor(f_top)))
    step = (mel_hi - mel_lo) / (M + 1)
    centres = mel_to_hz(mel_lo + step * torch.arange(1, M + 1, dtype=torch.float64))  # (M,) output bin centres, Hz
    knee = boundary * f_top * min(factor, 1.0) / factor  # input frequency where the warp bends
    # Invert the warp: below factor * knee the output read the input at f / factor, above it the line to the top.
    below = centres / factor
    above = knee + (centres - factor * knee) * (f_top - knee) / (f_top - factor * knee)
    source = torch.where(centres <= factor * knee, below, above).clamp(cfg.f_min, f_top)  # (M,) Hz
    pos = ((hz_to_mel(source) - mel_lo) / step - 1.0).clamp(0.0, M - 1.0)  # (M,) fractional input bin
    lo = pos.floor().long().clamp(max=M - 2)
    frac = (pos - lo).to(logmel.dtype)
    return logmel[:, lo] * (1 - frac) + logmel[:, lo + 1] * frac


def random_warp(logmel: Tensor, cfg: FeatureConfig, warp: float, generator: torch.Generator | None = None
                ) -> Tensor:
    """``warp_frequency`` by a factor drawn uniformly from ``1 +- warp``."""
    u = float(torch.rand((), generator=generator))
    return warp_frequency(logmel, 1.0 + warp * (2.0 * u - 1.0), cfg)


def spec_augment_batch(feats: Tensor, lengths: Tensor, cfg: SpecAugmentConfig,
                       generator: torch.Generator | None = None) -> Tensor:
    """Zero random bands of mel bins and random spans of frames of each utterance in a padded batch.

    Each utterance gets its own masks, drawn within its own frames (a short utterance in a batch of long ones
    is masked as much, relative to its length, as it would be alone); padding stays zero. Zero is the
    normalised mean, so a masked region reads as "average sound", not silence. The mask positions come from
    one draw of the CPU ``generator`` (reproducible on any device); the masks are built on the batch's device
    with no Python loop over utterances, so a GPU step is not held up by the CPU.

    Args:
        feats: (B, T, M) normalised features, zero-padded.
        lengths: (B,) real frame counts.

    Returns:
        (B, T, M) masked copy.
    """
    B, T, M = feats.shape
    nf, nt = cfg.freq_masks, cfg.time_masks
    lens = lengths.detach().to("cpu", torch.float64)  # (B,)
    u = torch.rand(B, 2 * (nf + nt), generator=generator, dtype=torch.float64)

    def draw(high: Tensor, col: int, n: int) -> Tensor:  # integers uniform in 0..high, (B, n)
        return torch.floor(u[:, col:col + n] * (high.clamp_min(0) + 1)).long()

    f_width = draw(torch.full((B, nf), float(min(cfg.freq_width, M)), dtype=torch.float64), 0, nf)
    f_start = draw(M - f_width.double(), nf, nf)
    limit = torch.floor(cfg.time_width * lens).clamp(max=cfg.time_width_max)  # (B,)
    t_width = draw(limit[:, None].expand(B, nt), 2 * nf, nt)
    t_start = draw(lens[:, None] - t_width.double(), 2 * nf + nt, nt)
    dev = feats.device

    def spans(start: Tensor, width: Tensor, size: int) -> Tensor:  # (B, n) spans -> (B, size) covered?
        pos = torch.arange(size, device=dev)
        start, end = start.to(dev).unsqueeze(-1), (start + width).to(dev).unsqueeze(-1)  # (B, n, 1)
        return ((pos >= start) & (pos < end)).any(1)

    masked = spans(f_start, f_width, M)[:, None, :] | spans(t_start, t_width, T)[:, :, None]  # (B, T, M)
    real = torch.arange(T, device=dev)[None, :] < lengths.to(dev)[:, None]  # (B, T)
    return feats * (~masked & real[:, :, None]).to(feats.dtype)


def spec_augment(feats: Tensor, cfg: SpecAugmentConfig, generator: torch.Generator | None = None) -> Tensor:
    """``spec_augment_batch`` for one utterance (T, M) -> (T, M)."""
    return spec_augment_batch(feats[None], torch.tensor([feats.shape[0]]), cfg, generator)[0]
