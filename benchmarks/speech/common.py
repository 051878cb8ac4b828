"""What the speech benchmarks share: arguments, data folder, threads, timing, result files."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path


def parser(description: str, max_time: float) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default=os.environ.get("RNNKIT_DATA"),
                   help="benchmark data folder (holds fsdd/ and yesno/); default $RNNKIT_DATA")
    p.add_argument("--max-time", type=float, default=max_time, help="training budget per model, minutes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--schedule", default="plateau",
                   help="plateau (halve the rate when the validation loss stalls) or cosine (follows the clock "
                        "under --max-time, so a time-cut run still ends annealed)")
    p.add_argument("--ema", type=float, default=None,
                   help="average the weights with this decay, e.g. 0.999 (TrainConfig.ema_decay)")
    p.add_argument("--adapt", action="store_true",
                   help="also score with speaker adaptation (SpeechRecognizer.adapt): each half of the test items "
                        "normalised with the statistics of the other half's audio, never its own (cross_adapt)")
    p.add_argument("--combine", choices=["vote", "likelihood"], default="vote",
                   help="how an ensemble of --models chooses among its members' proposals (RecognizerEnsemble)")
    p.add_argument("--out", default=None, help="write the results as JSON here")
    return p


def augmentation_args(p: argparse.ArgumentParser, unit: str, synthetic: str) -> None:
    """The digit benchmarks' shared flags: --trim, --bursts, --noise, --volume, --warp, --synthetic (``unit``: what
    a share counts, e.g. "clips"; ``synthetic``: what one synthetic item is) and --save."""
    p.add_argument("--trim", type=float, default=0.0,
                   help="share of the training clips cut tightly to their loud part (common.random_trim)")
    p.add_argument("--noise", type=float, default=0.0,
                   help=f"share of the training {unit} given silence and coloured noise (common.add_noise)")
    p.add_argument("--volume", type=float, default=0.0,
                   help=f"share of the training {unit} played at a random volume, x1/8 to x2 (common.random_volume)")
    p.add_argument("--bursts", type=float, default=0.0,
                   help="share of the training clips given a burst of hiss where the word ends (common.add_burst)")
    p.add_argument("--burst-gap", type=float, default=0.05,
                   help="the longest silence (s) before a --bursts burst, as the closure of a released stop")
    p.add_argument("--warp", type=float, default=0.0,
                   help="frequency warping (VTLP) in training: factors drawn from 1 +- WARP, e.g. 0.1 "
                        "(SpecAugmentConfig.warp)")
    p.add_argument("--synthetic", type=int, default=0,
                   help=f"add this many SYNTHETIC {synthetic} from espeak-ng voices to the training set")
    p.add_argument("--save", default=None, help="also write the model folder here")


def load_saved(models: str, combine: str = "vote"):
    """The saved model folders ``models`` ("A,B,...") as one scorer: their ensemble (choosing by ``combine``) when
    there are several, else the one recognizer."""
    from rnnkit.speech import SpeechRecognizer

    recs = [SpeechRecognizer.load(m) for m in models.split(",")]
    return recs[0] if len(recs) == 1 else SpeechRecognizer.ensemble(recs, combine)


def cross_adapt(scorer, test: list[tuple]) -> list[tuple[object, list[int]]]:
    """Speaker adaptation that never uses a test item's own audio: one speaker's test items (waveform, text, rate)
    split into even and odd positions, each half scored by ``scorer`` adapted to the other half's audio.

    Returns:
        [(adapted scorer, indices of the test items it scores)] for the two halves.
    """
    halves = [list(range(0, len(test), 2)), list(range(1, len(test), 2))]
    return [(scorer.adapt([test[i][0] for i in other], test[other[0]][2]), idx)
            for idx, other in ((halves[0], halves[1]), (halves[1], halves[0]))]


def adapted_scores(scorer, test: list[tuple]) -> dict:
    """``evaluate``'s scores of ``scorer`` under :func:`cross_adapt`, with each ensemble member's WER and sentence
    accuracy."""
    from rnnkit.speech.recognizer import error_rates

    n_members = len(getattr(scorer, "members", []))
    hyps: list = [None] * len(test)
    member_hyps = [[None] * len(test) for _ in range(n_members)]
    for adapted, idx in cross_adapt(scorer, test):
        wavs = [test[i][0] for i in idx]
        for i, h in zip(idx, adapted.transcribe(wavs, sample_rate=test[idx[0]][2])):
            hyps[i] = h
        for k, m in enumerate(getattr(adapted, "members", [])):
            for i, h in zip(idx, m.transcribe(wavs, sample_rate=test[idx[0]][2])):
                member_hyps[k][i] = h
    refs = [t for _, t, _ in test]
    members = [error_rates(refs, h) for h in member_hyps]
    return error_rates(refs, hyps) | {"members_wer": [m["wer"] for m in members],
                                      "members_sentence_accuracy": [m["sentence_accuracy"] for m in members]}


def score_saved(scorer, test: list) -> tuple[dict, list[dict]]:
    """``evaluate`` scores of ``load_saved``'s scorer, and of each member, in order, when it is an ensemble."""
    return scorer.evaluate(test), [rec.evaluate(test) for rec in getattr(scorer, "members", [])]


def data_dir(args, sub: str) -> Path:
    if not args.data:
        sys.exit("error: give --data DIR or set RNNKIT_DATA to the benchmark data folder")
    d = Path(args.data) / sub
    if not d.is_dir():
        sys.exit(f"error: {d} does not exist; --data must point at the folder holding {sub}/")
    return d


def setup(args) -> None:
    import torch

    from rnnkit.train import setup_runtime

    setup_runtime(num_threads=args.threads)
    torch.manual_seed(args.seed)


def machine(device: str = "cpu") -> str:
    import torch

    cpu = f"{platform.machine()} {os.cpu_count()}-core CPU (shared), torch {torch.__version__}"
    if device != "cpu" and torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} GPU, {cpu}"
    return cpu


class Timer:
    """Wall-clock seconds and the CPU seconds this process actually got (the machine is shared)."""

    def __enter__(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.cpu_seconds = time.process_time() - self.c0


def finish(args, results: dict) -> None:
    results = {"command": " ".join(["python"] + sys.argv), "machine": machine(args.device), **results}
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")


def budget_train_config(args, max_epochs: int):
    """Training settings for a run bounded by ``--max-time``: by default the rate halves when the validation loss
    stalls (evaluated every 60 steps); ``--schedule cosine`` decays it over the epochs or the clock, whichever ends
    first."""
    from rnnkit.train import TrainConfig

    return TrainConfig(max_epochs=max_epochs, max_time=args.max_time, lr=3e-3, warmup_steps=100, clip_grad_norm=5.0,
                       weight_decay=1e-4, schedule=args.schedule, eval_every=60, plateau_patience=1,
                       plateau_factor=0.5, min_lr_ratio=0.02, ema_decay=args.ema, seed=args.seed,
                       device=args.device, progress=False)


def perturb_speeds(utts: list, speeds: str, seed: int) -> list:
    """Each ``(wav, text, sample_rate)`` played at a speed drawn (seeded) from the comma-separated ``speeds``;
    factor 1.0 keeps the waveform as it is."""
    import random

    import torch

    from rnnkit.speech.audio import speed_perturb

    factors, rng = [float(x) for x in speeds.split(",")], random.Random(seed)
    return [(speed_perturb(torch.as_tensor(w), f, sr).numpy() if (f := rng.choice(factors)) != 1.0 else w, t, sr)
            for w, t, sr in utts]


SYNTH_LANGUAGES = ["en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-029"]
SYNTH_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "edward", "caleb", "Mike", "Gene", "adam", "robert",
                  "Lee", "Reed", "rob", "john", "benjamin", "ian", "paul", "norbert", "victor", "Andy", "Alex",
                  "f1", "f2", "f3"]


def synthetic_voices(texts: list[str], sample_rate: int, seed: int) -> list:
    """SYNTHETIC ``(wav, text, sample_rate)`` for each text, from espeak-ng: a seeded random accent, voice variant,
    rate and pitch per clip, silence trimmed to 30 ms by frame energy, white noise at 20-40 dB SNR.

    More voices than the four training speakers, at no labelling cost (``pip install rnnkit[speech]``).
    """
    import random

    import numpy as np
    import torch

    from rnnkit.speech.audio import resample
    from rnnkit.speech.synth import synthesize

    rng, out = random.Random(seed), []
    for text in texts:
        voice = f"{rng.choice(SYNTH_LANGUAGES)}+{rng.choice(SYNTH_VARIANTS)}"
        wav, sr = synthesize(text, voice=voice, rate=rng.randint(130, 230), pitch=rng.randint(20, 80))
        wav = resample(torch.from_numpy(wav), sr, sample_rate).numpy()
        hop = sample_rate // 100
        energy = np.array([np.abs(wav[i:i + hop]).max() for i in range(0, len(wav) - hop + 1, hop)])
        loud = np.flatnonzero(energy > 0.05 * energy.max())
        a, b = max(0, (loud[0] - 3) * hop), min(len(wav), (loud[-1] + 4) * hop)
        wav = wav[a:b]
        power = float(np.mean(wav ** 2))
        snr = rng.uniform(20.0, 40.0)
        noise = np.random.default_rng(rng.randrange(2**31)).normal(0.0, np.sqrt(power / 10 ** (snr / 10)), wav.shape)
        out.append(((wav + noise).astype(np.float32), text, sample_rate))
    return out


def _frame_rms(x, hop: int):
    """RMS of each whole frame of ``hop`` samples of the clip ``x`` (N,): (N // hop,)."""
    import numpy as np

    return np.sqrt(np.mean(x[: len(x) // hop * hop].reshape(-1, hop) ** 2, axis=1))


def random_trim(wav, sample_rate: int, rng):
    """The clip cut to its loud part, as a tight automatic segmenter would: 10 ms frames louder than a random
    3-10% of the loudest frame, plus a random 0-30 ms margin each side (onsets and codas may lose weak sounds).

    Corpora trim their clips differently (some keep 100-200 ms of silence around a word, some none); training on
    both makes a model robust to the difference.
    """
    import numpy as np

    x = np.asarray(wav, dtype=np.float32)
    hop = sample_rate // 100
    if len(x) < 3 * hop:
        return x
    energy = _frame_rms(x, hop)
    loud = np.flatnonzero(energy > rng.uniform(0.03, 0.1) * energy.max())
    a = max(0, loud[0] * hop - int(rng.uniform(0.0, 0.03) * sample_rate))
    b = min(len(x), (loud[-1] + 1) * hop + int(rng.uniform(0.0, 0.03) * sample_rate))
    return x[a:b]


def add_burst(wav, sample_rate: int, rng, max_gap: float = 0.05):
    """The clip with a short burst of hiss where the word ends, as a strongly released final consonant or an
    out-breath makes it (seeded by ``rng``).

    The burst: 40-150 ms of noise above a random 1.5-3 kHz cut-off, with a sharp onset and a decaying tail,
    10-25 dB below the loud part, starting from 30 ms before to ``max_gap`` seconds after the last loud 10 ms
    frame (a gap is the closure of a released stop; the clip is extended with silence where it runs past the
    end). Speakers differ in how hard they release a final stop:
    a model that has only heard weak releases learns that a loud hiss at a word's end means a fricative (the "ks"
    of six), and reads a strongly released "eight" as "six".
    """
    import numpy as np

    x = np.asarray(wav, dtype=np.float32)
    hop = sample_rate // 100
    if len(x) < 3 * hop:
        return x
    energy = _frame_rms(x, hop)
    end = (np.flatnonzero(energy > 0.1 * energy.max())[-1] + 1) * hop
    start = max(0, end + int(rng.uniform(-0.03, max_gap) * sample_rate))
    n = int(rng.uniform(0.04, 0.15) * sample_rate)
    if start + n > len(x):
        x = np.concatenate([x, np.zeros(start + n - len(x), np.float32)])
    gen = np.random.default_rng(rng.randrange(2**31))
    spectrum = np.fft.rfft(gen.standard_normal(n))
    spectrum[np.fft.rfftfreq(n, 1.0 / sample_rate) < rng.uniform(1500.0, 3000.0)] = 0.0
    burst = np.fft.irfft(spectrum, n=n) * np.exp(-np.arange(n) / (rng.uniform(0.3, 0.6) * n))  # decaying tail
    burst[: hop // 2] *= np.linspace(0.0, 1.0, hop // 2)  # 5 ms onset
    power = float(np.quantile(x ** 2, 0.9)) or 1e-8
    burst *= np.sqrt(power / 10 ** (rng.uniform(10.0, 25.0) / 10) / (np.mean(burst ** 2) + 1e-12))
    x[start:start + n] += burst.astype(np.float32)
    return x


def add_noise(wav, sample_rate: int, rng):
    """The clip with up to 150 ms of extra silence each side and coloured noise throughout, 15-40 dB below its
    loud part (seeded by ``rng``).

    The noise has a random spectral slope (power ~ f^-b, b from -0.5, bright, to 1.5, dark), so a model cannot
    learn that hiss at a clip's edges is the "s" of six, as clean, tightly cut training clips otherwise teach it.
    """
    import numpy as np

    x = np.asarray(wav, dtype=np.float32)
    pads = [np.zeros(int(rng.uniform(0.0, 0.15) * sample_rate), np.float32) for _ in range(2)]
    x = np.concatenate([pads[0], x, pads[1]])
    power = float(np.quantile(x ** 2, 0.9)) or 1e-8  # the loud part's power
    gen = np.random.default_rng(rng.randrange(2**31))
    spectrum = np.fft.rfft(gen.standard_normal(len(x)))
    freqs = np.maximum(np.fft.rfftfreq(len(x)), 1.0 / len(x))
    noise = np.fft.irfft(spectrum * freqs ** (-rng.uniform(-0.5, 1.5) / 2), n=len(x))
    noise *= np.sqrt(power / 10 ** (rng.uniform(15.0, 40.0) / 10) / (np.mean(noise ** 2) + 1e-12))
    return (x + noise).astype(np.float32)


def random_volume(wav, rng):
    """The clip scaled by a factor drawn log-uniformly from the recogniser's volume-perturbation range (x1/8 to x2,
    ``SpecAugmentConfig().volume``; seeded by ``rng``), as a fixed waveform augmentation for any model: recordings
    reach a recogniser at any level, and a causal normaliser, unlike a per-utterance one, does not remove it at once."""
    import math

    import numpy as np

    from rnnkit.speech import SpecAugmentConfig

    low, high = (math.log(v) for v in SpecAugmentConfig().volume)
    return (np.asarray(wav, dtype=np.float32) * math.exp(rng.uniform(low, high))).astype(np.float32)
