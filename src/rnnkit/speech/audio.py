"""Audio in: wav files read with the standard library (``wave``, and ``struct`` for the float and extensible wav
formats that ``wave`` does not read), and windowed-sinc resampling in torch.

torchaudio does not load with torch 2.13 CPU wheels and librosa would add about 430 MB, so both pieces are written
here in a few lines each.

Example:
    >>> wav, sr = read_wav("7_jackson_32.wav")   # doctest: +SKIP
    >>> wav.shape, sr                              # (T,) float32 in [-1, 1], 8000
    >>> wav16 = resample(wav, sr, 16000)           # (2 T,)
"""

from __future__ import annotations

import math
import os
import struct
import wave
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

# numpy dtype and full-scale value for each PCM sample width (bytes); 24-bit is unpacked by hand.
_PCM = {1: (np.uint8, 128.0), 2: (np.int16, 32768.0), 3: (None, 8388608.0), 4: (np.int32, 2147483648.0)}


FLOAT, EXTENSIBLE = 3, 0xFFFE  # wav format tags that ``wave`` rejects: IEEE float, and WAVE_FORMAT_EXTENSIBLE


def read_wav(path: str | os.PathLike) -> tuple[Tensor, int]:
    """Read a wav file: PCM (8, 16, 24 or 32 bits) or IEEE float (32 or 64 bits), also in the extensible format
    that 24-bit and multichannel recorders write; mono, stereo or more channels mixed to mono.

    Args:
        path: the wav file.

    Returns:
        ``(waveform (T,) float32 in [-1, 1], sample_rate)``.

    Raises:
        OSError: the file is missing.
        ValueError: the path is a folder, or the file is not a PCM wav, is corrupt (truncated data) or holds no
            samples; the message names the file.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a wav file; give the wav files in it, e.g. {path / '*.wav'}")
    if not path.is_file():
        raise OSError(f"audio file {path} does not exist")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty (0 bytes): it holds no audio; record or export it again")
    tag = 1
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError) as e:
        other = _read_other_wav(path) if str(e) in (f"unknown format: {FLOAT}", f"unknown format: {EXTENSIBLE}") else None
        if other is None:
            raise ValueError(f"{path} is not a readable PCM wav file ({str(e) or 'truncated header'}); convert it, "
                             f"e.g. `ffmpeg -i {path.name} -acodec pcm_s16le out.wav`") from None
        tag, channels, width, rate, n, raw = other
    if tag == FLOAT and width not in (4, 8):
        raise ValueError(f"{path} has {8 * width}-bit float samples; rnnkit reads 32 or 64-bit float wav")
    if tag != FLOAT and width not in _PCM:
        raise ValueError(f"{path} has {8 * width}-bit samples; rnnkit reads 8, 16, 24 or 32-bit PCM")
    if rate <= 0 or channels <= 0:
        raise ValueError(f"{path} is corrupt: header says {channels} channels at {rate} Hz")
    frame_bytes = channels * width
    if len(raw) == 0:
        raise ValueError(f"{path} holds no audio samples (empty wav)")
    if len(raw) % frame_bytes:
        raise ValueError(f"{path} is corrupt: {len(raw)} data bytes is not a whole number of "
                         f"{channels}-channel {8 * width}-bit frames")
    if len(raw) < n * frame_bytes:
        raise ValueError(f"{path} is corrupt (truncated): header promises {n} frames, file holds "
                         f"{len(raw) // frame_bytes}")
    x = _to_float(raw[: n * frame_bytes], width, channels, is_float=tag == FLOAT)
    if tag == FLOAT and not np.isfinite(x).all():  # only float samples can be NaN or inf
        raise ValueError(f"{path} holds NaN or inf samples; export the audio again")
    return torch.from_numpy(x), rate


def _read_other_wav(path: Path) -> tuple[int, int, int, int, int, bytes] | None:
    """The float and extensible wav formats, which ``wave`` rejects: walk the RIFF chunks with ``struct``.

    Returns:
        ``(format tag: 1 PCM or 3 float, channels, bytes per sample, rate, frames, data bytes)``, or None when the
        file is not such a wav (an extensible file of another sub-format, say).
    """
    data = path.read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    fmt, raw, declared, pos = None, None, 0, 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt " and len(body) >= 16:
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == EXTENSIBLE and len(body) >= 40:  # the real format is the first 2 bytes of the sub-format GUID
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            raw, declared = body, size  # the body is short of ``size`` in a truncated file: the caller says so
        pos += 8 + size + (size & 1)  # chunks are padded to an even size
    if fmt is None or raw is None or fmt[0] not in (1, FLOAT) or fmt[3] % 8:
        return None
    tag, channels, rate, bits = fmt
    width = bits // 8
    if channels <= 0 or width <= 0:
        return None
    return tag, channels, width, rate, declared // (channels * width), raw


def _to_float(raw: bytes, width: int, channels: int, is_float: bool = False) -> np.ndarray:
    """Little-endian PCM (or, ``is_float``, IEEE float) bytes -> (T,) float32 in [-1, 1], channels averaged."""
    if is_float:
        return np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").reshape(-1, channels).mean(
            axis=1).astype(np.float32)
    dtype, scale = _PCM[width]
    if width == 3:  # 24-bit: place the 3 bytes in the top of an int32, then shift back keeping the sign
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        x = ((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)) >> 8
    else:
        x = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(np.int64)
        if width == 1:  # 8-bit wav is unsigned, centred on 128
            x = x - 128
    x = x.astype(np.float32) / np.float32(scale)
    return x.reshape(-1, channels).mean(axis=1).astype(np.float32)


def write_wav(path: str | os.PathLike, waveform: Tensor | np.ndarray, sample_rate: int) -> None:
    """Write a mono 16-bit PCM wav (values clipped to [-1, 1]); used by the demo and the tests."""
    x = np.clip(np.asarray(waveform, dtype=np.float32).reshape(-1), -1.0, 1.0)
    pcm = np.round(x * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())


def resample(x: Tensor, orig_rate: int, new_rate: int, lowpass_width: int = 6, rolloff: float = 0.99) -> Tensor:
    """Band-limited resampling by a Hann-windowed sinc filter, computed as a polyphase strided convolution.

    The rational ratio ``new / orig`` is reduced by their gcd; each of the ``new`` output phases gets its own
    windowed-sinc kernel, all applied in one ``conv1d`` with stride ``orig`` (the method of Smith's
    "Digital Audio Resampling", as used by torchaudio's ``sinc_interp_hann``). The cutoff is
    ``rolloff * min(orig, new) / 2`` so downsampling does not alias.

    Args:
        x: waveform (T,) or (B, T).
        orig_rate, new_rate: sample rates in Hz.
        lowpass_width: zero crossings of the sinc on each side (sharper filter, more compute).
        rolloff: cutoff as a fraction of the lower Nyquist frequency.

    Returns:
        (ceil(T * new / orig),) or (B, that).
    """
    if orig_rate <= 0 or new_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_rate} -> {new_rate}")
    if orig_rate == new_rate:
        return x
    squeeze = x.dim() == 1
    x2 = x.reshape(1, -1) if squeeze else x  # (B, T)
    g = math.gcd(int(orig_rate), int(new_rate))
    orig, new = int(orig_rate) // g, int(new_rate) // g
    base = min(orig, new) * rolloff
    width = math.ceil(lowpass_width * orig / base)
    idx = torch.arange(-width, width + orig, dtype=torch.float64) / orig  # (K,)
    t = torch.arange(0, -new, -1, dtype=torch.float64).unsqueeze(1) / new + idx  # (new, K) phase offsets
    t = (t * base).clamp(-lowpass_width, lowpass_width)
    window = torch.cos(t * math.pi / lowpass_width / 2) ** 2
    t = t * math.pi
    kernels = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / t) * window * (base / orig)  # (new, K)
    kernels = kernels.to(x2.dtype).unsqueeze(1)  # (new, 1, K)
    B, T = x2.shape
    padded = F.pad(x2.unsqueeze(1), (width, width + orig))  # (B, 1, T + 2 width + orig)
    y = F.conv1d(padded, kernels, stride=orig)  # (B, new, T / orig + 1)
    y = y.transpose(1, 2).reshape(B, -1)[:, : math.ceil(new * T / orig)]  # interleave the phases
    return y[0] if squeeze else y


def _as_float(source) -> np.ndarray:
    """An array waveform as float32 in [-1, 1]: integer PCM samples (int16 from scipy or soundfile, int32, uint8)
    are scaled by their type's range, as a wav reader would, so a streaming model's level is right."""
    if isinstance(source, Tensor):
        source = source.detach().cpu().numpy()
    x = np.asarray(source)
    if np.issubdtype(x.dtype, np.unsignedinteger):
        half = float(np.iinfo(x.dtype).max // 2 + 1)
        return ((x.astype(np.float64) - half) / half).astype(np.float32)
    if np.issubdtype(x.dtype, np.integer):
        return (x.astype(np.float64) / float(-np.iinfo(x.dtype).min)).astype(np.float32)
    return x.astype(np.float32)


def as_mono(samples, name: str = "waveform") -> Tensor:
    """Array / Tensor samples -> (T,) float32: integers scaled to [-1, 1], a 2-D (T, C) or (C, T) array mixed
    to mono over its shorter axis (the channels); NaN / inf samples are an error naming ``name``."""
    if isinstance(samples, (str, bytes, os.PathLike)):
        raise ValueError(f"{name} must be samples (a numpy array or Tensor), got {type(samples).__name__} "
                         f"{str(samples)[:60]!r}; read a wav file first with rnnkit.speech.read_wav(path)")
    wav = torch.as_tensor(_as_float(samples))
    if wav.dim() == 2:
        wav = wav.mean(1) if wav.shape[1] < wav.shape[0] else wav.mean(0)
    if wav.dim() != 1:
        raise ValueError(f"{name}: expected a 1-D waveform (T,), got shape {tuple(wav.shape)}")
    bad = torch.nonzero(~torch.isfinite(wav))
    if len(bad):
        raise ValueError(f"{name} has {len(bad)} NaN/inf sample(s), the first at sample {int(bad[0, 0])}; "
                         f"clean the waveform first (e.g. numpy.nan_to_num)")
    return wav


def load_audio(source, sample_rate: int, input_rate: int | None = None, name: str = "waveform",
               notes: list[str] | None = None) -> Tensor:
    """A wav path or a waveform (array / Tensor) -> (T,) float32 at ``sample_rate``, resampled with a note if needed.

    Args:
        source: path to a wav file, or a 1-D waveform (2-D (T, C) or (C, T) arrays are mixed to mono); float
            samples are taken as they are, integer ones (int16 PCM, ...) scaled to [-1, 1].
        sample_rate: the rate the model expects.
        input_rate: the rate of an array ``source``; required for arrays (a wav file carries its own).
        name: how to name an array source in messages.
        notes: list collecting human-readable notes (e.g. "resampled 22050 -> 16000 Hz").
    """
    if isinstance(source, (str, os.PathLike)):
        wav, rate = read_wav(source)
        name = str(source)
    else:
        if input_rate is None:
            raise ValueError(f"{name}: an array input needs its sample_rate=..., e.g. "
                             f"transcribe(x, sample_rate={sample_rate})")
        wav = as_mono(source, name)
        if wav.numel() == 0:
            raise ValueError(f"{name} holds no audio samples (empty waveform)")
        if isinstance(input_rate, bool) or not float(input_rate).is_integer() or input_rate <= 0:
            raise ValueError(f"{name}: sample_rate must be a positive whole number of Hz, got {input_rate!r}")
        rate = int(input_rate)
    if rate != sample_rate:
        wav = resample(wav, rate, sample_rate)
        if notes is not None:
            notes.append(f"note: {name} is {rate} Hz; resampled to the model's {sample_rate} Hz")
    return wav.float()


def speed_perturb(wav: Tensor, factor: float, sample_rate: int) -> Tensor:
    """Play ``wav`` ``factor`` times faster (pitch and formants shift with it): a cheap speaker augmentation.

    Ko et al. 2015, "Audio Augmentation for Speech Recognition": factors 0.9 / 1.0 / 1.1 act like new speakers.
    Returns (about T / factor,) samples at the same ``sample_rate``.
    """
    if factor <= 0:
        raise ValueError(f"speed factor must be > 0, got {factor}")
    return resample(wav, int(round(sample_rate * factor)), sample_rate)
