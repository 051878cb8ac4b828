"""Audio that needs no download: SYNTHETIC speech from espeak-ng, or synthetic tone "speech" as a fallback.

espeak-ng ships inside the optional ``espeakng-loader`` wheel (``pip install rnnkit[speech]``); it is called here
through ctypes (``espeak_Initialize`` in synchronous mode, a callback collecting 16-bit samples). Without the wheel,
:func:`tone_utterance` renders each character as a short two-tone chord, a learnable stand-in for speech.
Everything made here is synthetic and is labelled so wherever it is reported.

Example:
    >>> wav, sr = synthesize("three one four", voice="en+m3")    # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import math
import random
import threading

import numpy as np

_LOCK = threading.Lock()
_ENGINE: dict = {}
# espeak-ng's C enums: AUDIO_OUTPUT_SYNCHRONOUS, POS_CHARACTER, espeakCHARS_UTF8, espeakRATE, espeakPITCH
_SYNCHRONOUS, _POS_CHARACTER, _CHARS_UTF8, _RATE, _PITCH = 2, 1, 1, 1, 3
VOICES = ["en", "en-us", "en+m3", "en+f2", "en-us+m5", "en+f4", "en+m7", "en-gb-x-rp"]


def espeak_available() -> bool:
    """True when the ``espeakng-loader`` wheel is installed and its library loads."""
    try:
        _engine()
    except (ImportError, OSError, RuntimeError):
        return False
    return True


def _engine():
    if "lib" not in _ENGINE:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise (returned {rate})")
        chunks: list[np.ndarray] = []
        callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

        def collect(wav, n, _events):
            if wav and n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        cb = callback_type(collect)
        lib.espeak_SetSynthCallback(cb)
        _ENGINE.update(lib=lib, rate=rate, chunks=chunks, cb=cb)  # keep cb alive: C holds a pointer to it
    return _ENGINE


def synthesize(text: str, voice: str = "en", rate: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """SYNTHETIC speech for ``text`` from espeak-ng.

    Args:
        text: what to say.
        voice: an espeak-ng voice, e.g. "en", "en-us", "en+f2" (variants change timbre and pitch).
        rate: words per minute (80-450).
        pitch: 0-100.

    Returns:
        (waveform float32 (T,) in [-1, 1], sample_rate) - 22050 Hz for espeak-ng's voices.
    """
    with _LOCK:
        eng = _engine()
        lib = eng["lib"]
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"espeak-ng has no voice {voice!r}; try one of {VOICES}")
        lib.espeak_SetParameter(_RATE, int(rate), 0)
        lib.espeak_SetParameter(_PITCH, int(pitch), 0)
        eng["chunks"].clear()
        data = text.encode("utf-8")
        lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        pcm = np.concatenate(eng["chunks"]) if eng["chunks"] else np.zeros(1, np.int16)
    return (pcm.astype(np.float32) / 32768.0), eng["rate"]


def tone_utterance(text: str, sample_rate: int = 8000, rng: random.Random | None = None,
                   char_seconds: float = 0.06) -> np.ndarray:
    """SYNTHETIC tone "speech": each character a two-tone chord, spaces short silences, with random timing.

    A stand-in for speech when espeak-ng is absent: CTC must still align characters to frames of varying
    length, but no voice is involved.
    """
    rng = rng or random.Random(0)
    parts = [np.zeros(int(0.05 * sample_rate), np.float32)]
    for ch in text:
        n = int(rng.uniform(0.8, 1.4) * char_seconds * sample_rate)
        if ch == " ":
            parts.append(np.zeros(n, np.float32))
            continue
        k = ord(ch) % 32
        f1, f2 = 300.0 + 90.0 * k, 600.0 + 55.0 * ((7 * k) % 32)
        t = np.arange(n) / sample_rate
        env = np.sin(np.pi * np.arange(n) / n).astype(np.float32)
        tone = 0.3 * np.sin(2 * math.pi * f1 * t) + 0.2 * np.sin(2 * math.pi * f2 * t)
        parts.append((env * tone).astype(np.float32))
    parts.append(np.zeros(int(0.05 * sample_rate), np.float32))
    wav = np.concatenate(parts)
    noise = np.random.default_rng(rng.randrange(2**31)).normal(0, 0.005, wav.shape).astype(np.float32)
    return wav + noise


def digit_strings(n: int, seed: int = 0, min_digits: int = 1, max_digits: int = 4) -> list[str]:
    """Random digit-word sequences like "three one four", seeded."""
    from rnnkit.datasets.audio import DIGITS

    rng = random.Random(seed)
    return [" ".join(rng.choice(DIGITS) for _ in range(rng.randint(min_digits, max_digits))) for _ in range(n)]
