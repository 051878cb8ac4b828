"""Wav reading (PCM widths, stereo, bad files) and resampling."""

from __future__ import annotations

import math
import struct
import wave

import numpy as np
import pytest
import torch

from rnnkit.speech.audio import load_audio, read_wav, resample, write_wav


def _write_pcm(path, data: np.ndarray, width: int, channels: int = 1, rate: int = 8000):
    """Write integer samples (N, C) or (N,) with the given byte width, little endian."""
    data = data.reshape(-1, channels)
    if width == 3:
        ints = data.astype(np.int32).reshape(-1)
        raw = np.stack([(ints >> s) & 0xFF for s in (0, 8, 16)], 1).astype(np.uint8).tobytes()
    else:
        raw = data.astype({1: np.uint8, 2: "<i2", 4: "<i4"}[width]).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)


@pytest.mark.parametrize("width, full", [(1, 128), (2, 32768), (3, 8388608), (4, 2147483648)])
def test_read_pcm_widths(tmp_path, width, full):
    x = np.array([0.0, 0.5, -0.5, 0.25, -1.0])
    ints = np.round(x * full).clip(-full, full - 1)
    if width == 1:
        ints = ints + 128
    p = tmp_path / f"w{width}.wav"
    _write_pcm(p, ints, width)
    wav, sr = read_wav(p)
    assert sr == 8000 and wav.dtype == torch.float32 and wav.shape == (5,)
    np.testing.assert_allclose(wav.numpy(), x, atol=1.0 / 127)


def test_stereo_is_mixed_to_mono(tmp_path):
    left, right = np.array([1000, 2000, -4000]), np.array([3000, 0, 4000])
    p = tmp_path / "st.wav"
    _write_pcm(p, np.stack([left, right], 1), 2, channels=2)
    wav, _ = read_wav(p)
    np.testing.assert_allclose(wav.numpy(), (left + right) / 2 / 32768, atol=1e-6)


def test_write_then_read_round_trip(tmp_path):
    x = np.sin(np.linspace(0, 20, 800)).astype(np.float32) * 0.5
    write_wav(tmp_path / "a.wav", x, 16000)
    wav, sr = read_wav(tmp_path / "a.wav")
    assert sr == 16000
    np.testing.assert_allclose(wav.numpy(), x, atol=1e-4)


def _riff(fmt: bytes, data: bytes, before: bytes = b"") -> bytes:
    """A wav file's bytes from its fmt chunk body and sample bytes (``before``: chunks ahead of fmt)."""
    body = (b"WAVE" + before + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data))
            + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _fmt(tag: int, channels: int, bits: int, rate: int = 8000, sub: int | None = None) -> bytes:
    block = channels * bits // 8
    if sub is None:
        return struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    guid = struct.pack("<H", sub) + bytes.fromhex("000000001000800000aa00389b71")  # KSDATAFORMAT_SUBTYPE_*
    return struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 0) + guid


@pytest.mark.parametrize("bits", [32, 64])
def test_float_wav(tmp_path, bits):
    """Audacity and many Python tools write 32-bit float wav, which the standard ``wave`` module rejects."""
    x = np.array([0.0, 0.5, -0.5, 0.25, -1.0])
    (tmp_path / "f.wav").write_bytes(_riff(_fmt(3, 1, bits), x.astype("<f4" if bits == 32 else "<f8").tobytes()))
    wav, sr = read_wav(tmp_path / "f.wav")
    assert sr == 8000 and wav.dtype == torch.float32
    np.testing.assert_allclose(wav.numpy(), x, atol=1e-7)


def test_extensible_wav_float_stereo_and_24_bit_pcm(tmp_path):
    """WAVE_FORMAT_EXTENSIBLE (24-bit and multichannel recorders): the real format is in the sub-format GUID;
    a chunk before fmt whose text holds b"data" does not confuse the reader."""
    left, right = np.array([0.5, -0.25, 0.0], np.float32), np.array([0.25, 0.25, 1.0], np.float32)
    st = np.stack([left, right], 1).astype("<f4").tobytes()
    (tmp_path / "st.wav").write_bytes(_riff(_fmt(3, 2, 32, 16000, sub=3), st, before=b"LIST\x06\x00\x00\x00data!!"))
    wav, sr = read_wav(tmp_path / "st.wav")
    assert sr == 16000
    np.testing.assert_allclose(wav.numpy(), (left + right) / 2, atol=1e-7)
    ints = np.array([0, 4194304, -4194304, -8388608], dtype="<i4")  # 0, 0.5, -0.5, -1 at 24 bits
    raw = b"".join(v.tobytes()[:3] for v in ints)
    (tmp_path / "p24.wav").write_bytes(_riff(_fmt(1, 1, 24, sub=1), raw))
    np.testing.assert_allclose(read_wav(tmp_path / "p24.wav")[0].numpy(), [0.0, 0.5, -0.5, -1.0], atol=1e-7)


def test_unsupported_and_broken_float_wavs_name_the_file(tmp_path):
    (tmp_path / "f16.wav").write_bytes(_riff(_fmt(3, 1, 16), b"\x00" * 8))
    with pytest.raises(ValueError, match=r"f16\.wav has 16-bit float samples; rnnkit reads 32 or 64-bit float wav"):
        read_wav(tmp_path / "f16.wav")
    (tmp_path / "nan.wav").write_bytes(_riff(_fmt(3, 1, 32), np.array([0.1, np.nan], "<f4").tobytes()))
    with pytest.raises(ValueError, match=r"nan\.wav holds NaN or inf samples"):
        read_wav(tmp_path / "nan.wav")
    cut = _riff(_fmt(3, 1, 32), np.zeros(100, "<f4").tobytes())[:-40]
    (tmp_path / "cut.wav").write_bytes(cut)
    with pytest.raises(ValueError, match=r"cut\.wav is corrupt \(truncated\): header promises 100 frames, file "
                                         r"holds 90"):
        read_wav(tmp_path / "cut.wav")
    (tmp_path / "alaw.wav").write_bytes(_riff(_fmt(6, 1, 8), b"\x00" * 8))  # A-law: not read, as before
    with pytest.raises(ValueError, match=r"alaw\.wav is not a readable PCM wav file \(unknown format: 6\)"):
        read_wav(tmp_path / "alaw.wav")


def test_not_a_wav_names_the_file(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("this is text, not audio")
    with pytest.raises(ValueError, match=r"notes\.wav is not a readable PCM wav file"):
        read_wav(p)


def test_empty_wav_names_the_file(tmp_path):
    p = tmp_path / "empty.wav"
    _write_pcm(p, np.zeros(0), 2)
    with pytest.raises(ValueError, match=r"empty\.wav holds no audio samples \(empty wav\)"):
        read_wav(p)


def test_zero_byte_file_names_the_file(tmp_path):
    p = tmp_path / "zero.wav"
    p.write_bytes(b"")
    with pytest.raises(ValueError, match=r"zero\.wav is empty \(0 bytes\): it holds no audio; record or export it "
                                         r"again$"):
        read_wav(p)


def test_cut_header_says_so(tmp_path):
    p = tmp_path / "head.wav"
    _write_pcm(p, np.arange(1000), 2)
    p.write_bytes(p.read_bytes()[:20])  # inside the header
    with pytest.raises(ValueError, match=r"head\.wav is not a readable PCM wav file \(.+\); convert it"):
        read_wav(p)


def test_truncated_wav_is_corrupt(tmp_path):
    p = tmp_path / "cut.wav"
    _write_pcm(p, np.arange(1000), 2)
    p.write_bytes(p.read_bytes()[:-501])  # cut mid-frame and short of the promised frame count
    with pytest.raises(ValueError, match=r"cut\.wav is corrupt"):
        read_wav(p)


def test_missing_file():
    with pytest.raises(OSError, match="does not exist"):
        read_wav("no/such/file.wav")


@pytest.mark.parametrize("orig, new", [(8000, 16000), (16000, 8000), (22050, 16000)])
def test_resample_keeps_a_sine(orig, new):
    f = 440.0
    t = torch.arange(orig, dtype=torch.float64) / orig  # 1 s
    y = resample(torch.sin(2 * math.pi * f * t).float(), orig, new)
    assert y.shape == (new,)
    ref = torch.sin(2 * math.pi * f * torch.arange(new, dtype=torch.float64) / new).float()
    mid = slice(new // 10, -new // 10)  # away from the edges
    assert (y[mid] - ref[mid]).abs().max() < 2e-3


def test_resample_removes_what_the_new_rate_cannot_hold():
    t = torch.arange(16000, dtype=torch.float64) / 16000
    y = resample(torch.sin(2 * math.pi * 6000 * t).float(), 16000, 8000)  # 6 kHz > new Nyquist 4 kHz
    assert y[800:-800].abs().max() < 0.02


def test_load_audio_resamples_with_a_note(tmp_path):
    write_wav(tmp_path / "a.wav", np.zeros(1600, np.float32) + 0.1, 16000)
    notes = []
    wav = load_audio(tmp_path / "a.wav", 8000, notes=notes)
    assert wav.shape == (800,)
    assert notes == [f"note: {tmp_path / 'a.wav'} is 16000 Hz; resampled to the model's 8000 Hz"]


def test_array_needs_its_rate():
    with pytest.raises(ValueError, match=r"waveform: an array input needs its sample_rate=\.\.\."):
        load_audio(np.zeros(100), 8000)


def test_integer_pcm_arrays_are_scaled_like_a_wav_reader_scales_them():
    x = np.sin(np.arange(4000) / 7.0) * 0.5
    as_float = load_audio(x, 8000, 8000)
    for dtype, scale, offset in ((np.int16, 32768, 0), (np.int32, 2**31, 0), (np.uint8, 128, 128)):
        pcm = np.round(x * (scale - 1) + offset).astype(dtype)
        torch.testing.assert_close(load_audio(pcm, 8000, 8000), as_float, atol=max(3 / scale, 1e-6), rtol=0)
    torch.testing.assert_close(load_audio(torch.as_tensor(x), 8000, 8000), as_float)


def test_stereo_arrays_are_mixed_and_nan_is_named():
    x = np.sin(np.arange(4000) / 7.0).astype(np.float32)
    stereo = np.stack([x, 0.5 * x], 1)  # (T, 2), as soundfile returns it
    torch.testing.assert_close(load_audio(stereo, 8000, 8000), torch.as_tensor(0.75 * x))
    torch.testing.assert_close(load_audio(stereo.T, 8000, 8000), torch.as_tensor(0.75 * x))  # (2, T)
    x[100] = np.nan
    with pytest.raises(ValueError, match=r"^clip has 1 NaN/inf sample\(s\), the first at sample 100; clean the "
                                         r"waveform first \(e\.g\. numpy\.nan_to_num\)$"):
        load_audio(x, 8000, 8000, name="clip")


def test_a_folder_is_not_called_missing(tmp_path):
    with pytest.raises(ValueError, match=r"is a folder, not a wav file; give the wav files in it, e\.g\. .*\*\.wav$"):
        read_wav(tmp_path)


@pytest.mark.parametrize("rate", [8000.5, 0, -16000])
def test_a_sample_rate_that_is_not_a_positive_whole_number_is_refused(rate):
    with pytest.raises(ValueError, match=rf"^x: sample_rate must be a positive whole number of Hz, got {rate!r}$"):
        load_audio(np.zeros(100, np.float32), 8000, rate, name="x")
