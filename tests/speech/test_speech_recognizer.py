"""SpeechRecognizer end to end on SYNTHETIC tone speech: fit, transcribe, batch invariance, stream, save / load, bad input."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from rnnkit.speech import (
    DecoderConfig,
    FeatureConfig,
    ModelConfig,
    SpecAugmentConfig,
    SpeechRecognizer,
    write_wav,
)
from rnnkit.speech import data as D
from rnnkit.speech.features import normalize
from rnnkit.speech.synth import tone_utterance
from rnnkit.train import TrainConfig


def tone_pairs(n: int, seed: int) -> list[tuple[np.ndarray, str, int]]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(["yes", "no"]) for _ in range(rng.randint(1, 3))) for _ in range(n)]
    return [(tone_utterance(t, 8000, rng), t, 8000) for t in texts]


def tiny(steps: int = 90, **kw) -> SpeechRecognizer:
    return SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=20, normalize="causal"),
        ModelConfig(hidden_size=32, num_layers=1, subsample=2, bidirectional=False, dropout=0.0),
        train=TrainConfig(max_steps=steps, lr=1e-2, warmup_steps=5, clip_grad_norm=5.0, progress=False, seed=0),
        batch_size=8, valid_fraction=0.0, augment=None, verbose=False, **kw)


@pytest.fixture(scope="module")
def fitted() -> SpeechRecognizer:
    torch.set_num_threads(1)
    return tiny().fit(tone_pairs(48, seed=0))


def test_learns_synthetic_tone_speech(fitted):
    scores = fitted.evaluate(tone_pairs(12, seed=1))
    assert set(scores) >= {"wer", "cer"}
    assert scores["cer"] < 0.25  # chance (random characters) is far above 0.5
    assert fitted.alphabet_.chars == [" ", "e", "n", "o", "s", "y"]


@pytest.mark.parametrize("mode", ["causal", "utterance"])
def test_volume_perturbation_only_where_normalisation_keeps_the_level(fitted, mode):
    rec = tiny()
    rec.features = FeatureConfig(sample_rate=8000, n_mels=20, normalize=mode)
    rec.augment = SpecAugmentConfig(volume=(0.125, 2.0))
    rec.stats_ = fitted.stats_
    utts = D.prepare([(w, t) for w, t, _ in tone_pairs(3, seed=4)], rec.features, default_rate=8000)
    for u in utts:
        u.feats = normalize(u.logmel, rec.features, rec.stats_)
    collate = rec._train_collate()
    first, second = collate(utts)[0], collate(utts)[0]  # two epochs' draws of the same batch
    plain = D.collate(utts)[0]
    if mode == "causal":  # a fresh level every draw: the causal running mean does not remove it at once
        assert (first - plain).abs().mean() > 0.05 and (first - second).abs().mean() > 0.05
    else:  # per-utterance normalisation removes the level, so the batch is left as it is
        torch.testing.assert_close(first, plain)
        torch.testing.assert_close(second, plain)


def test_frequency_warping_draws_afresh_and_leaves_the_volume_draws_alone(fitted):
    rec = tiny()
    rec.features = FeatureConfig(sample_rate=8000, n_mels=20, normalize="causal")
    rec.stats_ = fitted.stats_
    utts = D.prepare([(w, t) for w, t, _ in tone_pairs(3, seed=4)], rec.features, default_rate=8000)
    rec.augment = SpecAugmentConfig(volume=None, warp=0.15)
    warp_only = rec._train_collate()
    first, second = warp_only(utts)[0], warp_only(utts)[0]
    plain = D.collate(utts, [normalize(u.logmel, rec.features, rec.stats_) for u in utts])[0]
    assert (first - plain).abs().mean() > 0.01 and (first - second).abs().mean() > 0.01
    rec.augment = SpecAugmentConfig(volume=(0.125, 2.0), warp=0.0)
    volume_only = rec._train_collate()(utts)[0]
    rec.augment = SpecAugmentConfig(volume=(0.125, 2.0), warp=1e-9)  # a warp too small to matter
    both = rec._train_collate()(utts)[0]
    torch.testing.assert_close(both, volume_only, atol=1e-4, rtol=1e-4)  # same volume draws with warping on


def test_batched_equals_alone(fitted):
    pairs = tone_pairs(5, seed=2)
    wavs = [w for w, _, _ in pairs]
    together = fitted.transcribe(wavs, sample_rate=8000)
    alone = [fitted.transcribe(w, sample_rate=8000) for w in wavs]
    assert together == alone
    feats = [fitted.featurize(w, 8000) for w in wavs]
    batched = fitted.log_probs(feats)
    for f, lp in zip(feats, batched):
        torch.testing.assert_close(fitted.log_probs([f])[0], lp, atol=1e-5, rtol=1e-4)


def test_a_stereo_array_is_one_recording_not_a_batch(fitted):
    wav = tone_pairs(1, seed=3)[0][0]
    x = np.asarray(wav, dtype=np.float32)
    stereo = np.stack([x, x], 1)  # (T, 2)
    assert fitted.transcribe(stereo, sample_rate=8000) == fitted.transcribe(x, sample_rate=8000)
    pcm = np.round(stereo * 32767).astype(np.int16)
    assert fitted.transcribe(pcm, sample_rate=8000) == fitted.transcribe(x, sample_rate=8000)
    rows = np.stack([x, x])  # (2, T): also read as channels, one recording
    assert isinstance(fitted.transcribe(rows, sample_rate=8000), str)
    assert fitted.transcribe([x, x], sample_rate=8000) == [fitted.transcribe(x, sample_rate=8000)] * 2


def test_stream_with_lookahead_equals_whole_utterance():
    rec = tiny(steps=20)
    rec.model_config = ModelConfig(hidden_size=32, num_layers=1, subsample=2, bidirectional=False, dropout=0.0,
                                   lookahead=3)
    rec.fit(tone_pairs(16, seed=5))
    assert rec.model_.config.lookahead == 3
    test_stream_final_text_equals_whole_utterance(rec)


def test_stream_final_text_equals_whole_utterance(fitted):
    for wav, _, _ in tone_pairs(4, seed=3):
        s = fitted.stream(sample_rate=8000)
        partials = [s.accept(wav[i:i + 700]) for i in range(0, len(wav), 700)]
        final = s.finish()
        assert final == fitted.transcribe(wav, sample_rate=8000)
        feats = fitted.featurize(wav, 8000)
        torch.testing.assert_close(s.log_probs(), fitted.log_probs([feats])[0], atol=1e-4, rtol=1e-4)
        assert len(partials) == -(-len(wav) // 700)
        stats = s.stats()
        assert stats["chunks"] == len(partials) + 1 and stats["rtf"] > 0 and stats["latency_ms_median"] > 0


def test_stream_takes_int16_stereo_chunks_as_a_sound_card_delivers_them(fitted):
    x = np.asarray(tone_pairs(1, seed=3)[0][0], dtype=np.float32)
    pcm = np.round(np.stack([x, x], 1) * 32767).astype(np.int16)  # (T, 2) int16
    s = fitted.stream(sample_rate=8000)
    for i in range(0, len(pcm), 700):
        s.accept(pcm[i:i + 700])
    assert s.finish() == fitted.transcribe(x, sample_rate=8000)
    torch.testing.assert_close(s.log_probs(), fitted.log_probs([fitted.featurize(x, 8000)])[0], atol=2e-3, rtol=1e-3)
    bad = fitted.stream(sample_rate=8000)
    with pytest.raises(ValueError, match=r"^the chunk has 1 NaN/inf sample\(s\), the first at sample 3; "):
        bad.accept(np.array([0.0, 0.1, 0.2, np.nan], dtype=np.float32))
    with pytest.raises(ValueError, match=r"^the chunk must be samples \(a numpy array or Tensor\), got str 'a\.wav'; "
                                         r"read a wav file first with rnnkit\.speech\.read_wav\(path\)"):
        bad.accept("a.wav")


def test_beam_search_with_lm_and_lexicon_only_emits_known_words(fitted):
    fitted.decoder = DecoderConfig(beam_size=8, lm="word", lm_order=2, lexicon=True)
    fitted._build_decoding()
    try:
        for text in fitted.transcribe([w for w, _, _ in tone_pairs(6, seed=4)], sample_rate=8000):
            assert set(text.split()) <= {"yes", "no"}
    finally:
        fitted.decoder = DecoderConfig()
        fitted._build_decoding()


def test_save_load_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    back = SpeechRecognizer.load(tmp_path / "m")
    assert back.features == fitted.features and back.alphabet_.chars == fitted.alphabet_.chars
    wav = tone_pairs(1, seed=5)[0][0]
    assert back.transcribe(wav, sample_rate=8000) == fitted.transcribe(wav, sample_rate=8000)


def test_other_sample_rate_is_resampled_with_a_note(fitted, tmp_path, capsys):
    wav = tone_pairs(1, seed=6)[0][0]
    up = torch.nn.functional.interpolate(torch.tensor(wav)[None, None], scale_factor=2, mode="linear")[0, 0]
    write_wav(tmp_path / "u16k.wav", up.numpy(), 16000)
    fitted.verbose = True
    try:
        fitted.transcribe(tmp_path / "u16k.wav")
    finally:
        fitted.verbose = False
    assert "is 16000 Hz; resampled to the model's 8000 Hz" in capsys.readouterr().err


def test_short_audio_is_skipped_and_reported_and_empty_transcripts_kept(capsys):
    pairs = tone_pairs(12, seed=7)
    pairs.append((np.zeros(80, np.float32), "yes no yes no yes", 8000))  # 2 frames for 17 characters
    pairs.append((np.zeros(4000, np.float32), "", 8000))  # silence, empty transcript
    rec = tiny(steps=2)
    rec.verbose = True
    rec.fit(pairs)
    err = capsys.readouterr().err
    assert len(rec.skipped_) == 1 and "pairs[12] (1 output frames < 17 needed for 'yes no yes no yes')" in rec.skipped_[0]
    assert "skipped 1 of 14 samples whose audio is too short for their transcript" in err
    assert "training on 13 utterances" in err


def test_misuse_teaches(fitted):
    with pytest.raises(ValueError, match=r"this SpeechRecognizer is not fitted yet: call fit\(pairs\)"):
        tiny().transcribe(np.zeros(100), sample_rate=8000)
    with pytest.raises(ValueError, match="every transcript is empty: give at least one pair with a non-empty"):
        tiny().fit([(np.zeros(800, np.float32), "", 8000)])
    with pytest.raises(ValueError, match=r"stream got sample_rate=16000 but the model runs at 8000 Hz"):
        fitted.stream(sample_rate=16000)
    s = fitted.stream()
    with pytest.raises(ValueError, match=r"the stream received no samples; call accept\(samples\) before finish\(\)"):
        s.finish()


def test_evaluate_leaves_empty_references_out_and_counts_them(fitted):
    (wav, text, sr), = tone_pairs(1, seed=8)
    scores = fitted.evaluate([(wav, text, sr), (np.zeros(2000, np.float32), "", sr)])
    assert scores["n"] == 1.0 and scores["n_empty_refs"] == 1.0
    with pytest.raises(ValueError, match="evaluate needs at least one pair with a non-empty reference transcript"):
        fitted.evaluate([(wav, "", sr)])


def test_score_ranks_the_spoken_transcript_first(fitted):
    (wav, text, sr), = tone_pairs(1, seed=9)
    candidates = ["yes", "no", "yes no", "no yes", "yes yes", "no no", "yes yes yes", "no no no", text]
    scores = fitted.score(wav, candidates, sample_rate=sr)
    assert scores.shape == (len(candidates),)
    assert candidates[int(scores.argmax())] == text


@pytest.mark.gpu
@pytest.mark.parametrize("bidirectional", [True, False])
def test_fits_streams_and_reloads_on_cuda(tmp_path, bidirectional):
    """Training on CUDA with SpecAugment (drawn on CPU), the batch masks and the CTC loss all on one device."""
    rec = SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=20, normalize="causal"),
        ModelConfig(hidden_size=32, num_layers=2, subsample=2, bidirectional=bidirectional, dropout=0.1),
        train=TrainConfig(max_steps=60, lr=1e-2, warmup_steps=5, clip_grad_norm=5.0, progress=False, seed=0,
                          device="cuda"),
        batch_size=8, valid_fraction=0.1, augment=SpecAugmentConfig(), verbose=False)
    rec.fit(tone_pairs(48, seed=0))
    assert rec.device_.type == "cuda"
    assert np.isfinite(rec.fit_result_.best_metric)
    wavs = [w for w, _, _ in tone_pairs(4, seed=3)]
    feats = [rec.featurize(w, 8000) for w in wavs]
    whole = rec.log_probs(feats)  # list of (T', V), on CPU
    if not bidirectional:
        for wav, lp in zip(wavs, whole):
            stream = rec.stream(sample_rate=8000)
            for i in range(0, len(wav), 800):
                stream.accept(wav[i:i + 800])
            stream.finish()
            torch.testing.assert_close(stream.log_probs(), lp, atol=1e-4, rtol=1e-4)
    rec.save(tmp_path / "m")
    cpu = SpeechRecognizer.load(tmp_path / "m")
    for a, b in zip(cpu.log_probs(feats), whole):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_default_budget_gives_a_small_training_set_at_least_min_steps(capsys):
    rec = SpeechRecognizer(FeatureConfig(sample_rate=8000, n_mels=20),
                           ModelConfig(hidden_size=8, num_layers=1, subsample=2, bidirectional=False),
                           batch_size=8, valid_fraction=0.0, augment=None)
    assert rec.min_steps == 1000 and rec.train.max_epochs == 40
    assert rec._budget(batches_per_epoch=7).max_epochs == 143  # ceil(1000 / 7) > 40 epochs
    assert rec._budget(batches_per_epoch=100).max_epochs == 40  # a large set keeps the default epochs
    assert "training 143 epochs instead of 40" in capsys.readouterr().err
    # a budget the user gives is kept as given, unless min_steps is asked for
    own = TrainConfig(max_epochs=3, progress=False)
    assert SpeechRecognizer(train=own)._budget(7) is own
    assert SpeechRecognizer(train=own, min_steps=70)._budget(7).max_epochs == 10
    with pytest.raises(ValueError, match="min_steps must be >= 0"):
        SpeechRecognizer(min_steps=-1)


def test_min_steps_lengthens_a_real_fit():
    rec = tiny(steps=10_000)
    rec.train = TrainConfig(max_epochs=2, lr=1e-2, progress=False, seed=0)
    rec.min_steps = 12
    rec.fit(tone_pairs(16, seed=0))  # 2 batches of 8 an epoch: 6 epochs for 12 steps
    assert rec.fit_result_.steps == 12 and rec.fit_result_.epochs == 6


def test_a_damaged_model_folder_is_one_error_naming_it(fitted, tmp_path):
    import json

    fitted.save(tmp_path / "m")
    weights = (tmp_path / "m" / "model.safetensors").read_bytes()
    (tmp_path / "m" / "model.safetensors").write_bytes(weights[:100])  # a copy cut short
    with pytest.raises(ValueError, match=r"m has an unreadable model\.safetensors \(.+\); copy it again"):
        SpeechRecognizer.load(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").write_bytes(weights)
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    wider = {**config, "model": {**config["model"], "hidden_size": 64}}
    (tmp_path / "m" / "config.json").write_text(json.dumps(wider))
    with pytest.raises(ValueError, match=r"model\.safetensors does not match config\.json \(size mismatch"):
        SpeechRecognizer.load(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text(json.dumps({**config, "alphabet": config["alphabet"][:-1]}))
    with pytest.raises(ValueError, match=r"config\.json has \d+ alphabet characters but the model outputs \d+"):
        SpeechRecognizer.load(tmp_path / "m")
    del config["stats"]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"config\.json that is not a speech model's \(KeyError: 'stats'\)"):
        SpeechRecognizer.load(tmp_path / "m")


def test_save_replaces_a_model_folder_but_never_other_files(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    fitted.save(tmp_path / "m")  # a model folder: replaced
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.wav").write_bytes(b"RIFF")
    with pytest.raises(ValueError, match=r"data: the folder holds other files \(a\.wav\) and saving replaces"):
        fitted.save(tmp_path / "data")
    assert (tmp_path / "data" / "a.wav").read_bytes() == b"RIFF"
    with pytest.raises(ValueError, match=r"a\.wav: it is a file; give a folder name for the model"):
        fitted.save(tmp_path / "data" / "a.wav")
