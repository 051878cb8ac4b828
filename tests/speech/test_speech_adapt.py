"""Speaker adaptation (speaker-level CMVN): SpeechRecognizer.adapt, the ensemble's, and per-speaker evaluation."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from rnnkit.speech import FeatureConfig, ModelConfig, SpeechRecognizer
from rnnkit.speech.features import log_mel
from rnnkit.speech.synth import tone_utterance
from rnnkit.speech.workflow import evaluate_per_speaker
from rnnkit.train import TrainConfig


def tone_pairs(n: int, seed: int) -> list[tuple[np.ndarray, str, int]]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(["yes", "no"]) for _ in range(rng.randint(1, 3))) for _ in range(n)]
    return [(tone_utterance(t, 8000, rng), t, 8000) for t in texts]


def tiny(normalize: str, bidirectional: bool) -> SpeechRecognizer:
    return SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=20, normalize=normalize),
        ModelConfig(hidden_size=32, num_layers=1, subsample=2, bidirectional=bidirectional, dropout=0.0),
        train=TrainConfig(max_steps=60, lr=1e-2, warmup_steps=5, clip_grad_norm=5.0, progress=False, seed=0),
        batch_size=8, valid_fraction=0.0, augment=None, verbose=False)


@pytest.fixture(scope="module")
def models() -> dict[str, SpeechRecognizer]:
    torch.set_num_threads(1)
    train = tone_pairs(32, seed=0)
    return {"utterance": tiny("utterance", True).fit(train), "causal": tiny("causal", False).fit(train)}


def test_adapt_returns_a_copy_with_the_speakers_statistics(models):
    rec = models["utterance"]
    wavs = [w for w, _, _ in tone_pairs(4, seed=1)]
    adapted = rec.adapt(wavs, sample_rate=8000)
    assert rec.speaker_stats_ is None and adapted.model_ is rec.model_  # the network is shared, not copied
    frames = torch.cat([log_mel(torch.as_tensor(w, dtype=torch.float32), rec.features) for w in wavs])
    torch.testing.assert_close(adapted.speaker_stats_[0], frames.mean(0))
    torch.testing.assert_close(adapted.speaker_stats_[1], frames.std(0, unbiased=False).clamp_min(1e-3))
    x = torch.as_tensor(wavs[0], dtype=torch.float32)
    expected = (log_mel(x, rec.features) - frames.mean(0)) / (adapted.speaker_stats_[1] + 1e-5)
    torch.testing.assert_close(adapted.featurize(wavs[0], 8000), expected)
    assert not torch.allclose(rec.featurize(wavs[0], 8000), expected)  # unadapted: the utterance's own statistics


@pytest.mark.parametrize("mode", ["utterance", "causal"])
def test_adaptation_removes_a_speakers_recording_level(models, mode):
    """A speaker recorded 20 dB quieter reads, once adapted, as the same speech adapted at full level (up to the
    log floor of the narrowest mel bins)."""
    rec = models[mode]
    noise = np.random.default_rng(0)  # a noise floor keeps every log-mel bin above the log floor, as in recordings
    wavs = [w + 0.03 * noise.standard_normal(len(w)).astype(np.float32) for w, _, _ in tone_pairs(4, seed=2)]
    quiet = [0.1 * w for w in wavs]
    loud_rec, quiet_rec = rec.adapt(wavs, 8000), rec.adapt(quiet, 8000)
    for w, q in zip(wavs, quiet):
        torch.testing.assert_close(quiet_rec.featurize(q, 8000), loud_rec.featurize(w, 8000), atol=0.01, rtol=0)
    if mode == "causal":  # without adaptation the running mean starts at the training level: the level shows
        assert (rec.featurize(quiet[0], 8000) - rec.featurize(wavs[0], 8000)).abs().mean() > 0.5


def test_an_adapted_stream_equals_the_adapted_whole_decode(models):
    rec = models["causal"].adapt([0.2 * w for w, _, _ in tone_pairs(4, seed=3)], 8000)
    for wav, _, _ in tone_pairs(3, seed=3):
        wav = 0.2 * wav
        s = rec.stream(sample_rate=8000)
        for i in range(0, len(wav), 700):
            s.accept(wav[i:i + 700])
        assert s.finish() == rec.transcribe(wav, sample_rate=8000)
        torch.testing.assert_close(s.log_probs(), rec.log_probs([rec.featurize(wav, 8000)])[0], atol=1e-4, rtol=1e-4)


def test_save_keeps_the_adaptation_and_fit_drops_it(models, tmp_path):
    adapted = models["causal"].adapt([w for w, _, _ in tone_pairs(3, seed=4)], 8000)
    adapted.save(tmp_path / "m")
    back = SpeechRecognizer.load(tmp_path / "m")
    torch.testing.assert_close(back.speaker_stats_[0], adapted.speaker_stats_[0])
    wav = 0.3 * tone_pairs(1, seed=5)[0][0]
    torch.testing.assert_close(back.featurize(wav, 8000), adapted.featurize(wav, 8000))
    models["causal"].save(tmp_path / "plain")
    assert SpeechRecognizer.load(tmp_path / "plain").speaker_stats_ is None
    refit = adapted.fit(tone_pairs(8, seed=6))
    assert refit.speaker_stats_ is None and models["causal"].speaker_stats_ is None


def test_adapt_misuse_teaches(models):
    rec = models["utterance"]
    with pytest.raises(ValueError, match=r"at least 100 frames .*got 51; pass more recordings of the speaker"):
        rec.adapt(np.zeros(4000, dtype=np.float32), sample_rate=8000)  # 0.5 s
    with pytest.raises(ValueError, match="not fitted yet"):
        tiny("utterance", True).adapt(np.zeros(8000, dtype=np.float32), sample_rate=8000)
    plain = tiny("none", True)
    plain.features = FeatureConfig(sample_rate=8000, n_mels=20, normalize="none")
    plain.fit(tone_pairs(8, seed=7))
    with pytest.raises(ValueError, match="normalize='none'.*nothing to adapt"):
        plain.adapt(np.zeros(16000, dtype=np.float32), sample_rate=8000)


def test_ensemble_adapts_every_member(models):
    ens = SpeechRecognizer.ensemble([models["utterance"], models["causal"]])
    wavs = [w for w, _, _ in tone_pairs(3, seed=8)]
    adapted = ens.adapt(wavs, sample_rate=8000)
    for m, a in zip(ens.members, adapted.members):
        assert m.speaker_stats_ is None
        torch.testing.assert_close(a.speaker_stats_[0], m.adapt(wavs, 8000).speaker_stats_[0])


def test_evaluate_per_speaker_adapts_each_speaker_on_their_own_recordings(models):
    rec = models["causal"]
    a, b = tone_pairs(4, seed=9), tone_pairs(4, seed=10)
    b = [(0.05 * w, t, sr) for w, t, sr in b]  # speaker b records 26 dB quieter
    pairs = a + b
    scores = evaluate_per_speaker(rec, pairs, ["a"] * 4 + ["b"] * 4)
    hyps = (rec.adapt([w for w, _, _ in a], 8000).transcribe([w for w, _, _ in a], sample_rate=8000)
            + rec.adapt([w for w, _, _ in b], 8000).transcribe([w for w, _, _ in b], sample_rate=8000))
    from rnnkit.speech.recognizer import error_rates

    assert scores == error_rates([t for _, t, _ in pairs], hyps) | {"speakers": 2.0, "speakers_not_adapted": 0.0}
    assert evaluate_per_speaker(rec, pairs, None)["speakers"] == 1.0
    with pytest.raises(ValueError, match="got 3 speakers for 8 pairs"):
        evaluate_per_speaker(rec, pairs, ["a", "b", "c"])


def test_a_speaker_with_too_little_audio_is_scored_unadapted_with_a_note(models):
    rec = models["causal"]
    long, short = tone_pairs(4, seed=11), [(w[:4000], t, sr) for w, t, sr in tone_pairs(1, seed=12)]  # <= 0.5 s
    notes: list[str] = []
    scores = evaluate_per_speaker(rec, long + short, ["a"] * 4 + ["b"], notes=notes)
    assert scores["speakers_not_adapted"] == 1.0 and scores["speakers"] == 2.0
    frames = 1 + len(short[0][0]) // 80  # 10 ms hop at 8 kHz
    assert frames < 100 and notes == [
        f"note: speaker b not adapted: speaker statistics need at least 100 frames (1 s of audio at a 10 ms hop), "
        f"got {frames}; pass more recordings of the speaker"]
    hyps = (rec.adapt([w for w, _, _ in long], 8000).transcribe([w for w, _, _ in long], sample_rate=8000)
            + [rec.transcribe(short[0][0], sample_rate=8000)])
    from rnnkit.speech.recognizer import error_rates

    assert scores["wer"] == error_rates([t for _, t, _ in long + short], hyps)["wer"]


def test_adapting_to_silence_is_refused_not_scaled_up_a_thousandfold(models):
    """Digital silence has a log-mel std of 0; normalising speech by it would make every feature huge."""
    with pytest.raises(ValueError, match=r"the speaker's recordings are silent \(every frame at the same level\)"):
        models["utterance"].adapt(np.zeros(16000, dtype=np.float32), sample_rate=8000)
    quiet = (tone_pairs(1, seed=13)[0][0] * 1e-3).astype(np.float32)  # quiet, but speech: adapts
    models["utterance"].adapt(np.concatenate([quiet] * 4), sample_rate=8000)
