"""Log-mel features pinned to reference values, filterbank, normalisation and SpecAugment."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.speech.features import (
    CausalNormalizer,
    FeatureConfig,
    SpecAugmentConfig,
    change_volume,
    log_mel,
    log_mel_uncentred,
    mel_filterbank,
    normalize_utterance,
    num_frames,
    random_volume,
    random_warp,
    spec_augment,
    spec_augment_batch,
    warp_frequency,
)

CFG = FeatureConfig(sample_rate=8000, n_mels=40)

# log_mel(signal(), CFG) at frames [0, 5, 10, 20] and mel bins [0, 5, 10, 20, 39], computed once (torch 2.13 CPU)
# and pinned here so a change of window, padding, filterbank or log floor is caught.
REFERENCE = torch.tensor([
    [2.351961, 3.618136, 5.014542, -1.395596, -3.960624],
    [-8.758176, -5.565069, 5.285812, -5.640988, -13.809334],
    [-8.767109, -5.568313, 5.285814, -12.879842, -5.083817],
    [0.630432, 1.814151, 4.822932, -0.254672, -3.609547],
])


def signal() -> torch.Tensor:
    """0.2 s at 8 kHz: a 440 Hz tone plus a chirp, computed in float64 then cast."""
    n = torch.arange(1600, dtype=torch.float64)
    x = 0.5 * torch.sin(2 * math.pi * 440 * n / 8000) + 0.25 * torch.sin(2 * math.pi * (200 + 3000 * n / 1600) * n / 8000)
    return x.float()


def test_settings_follow_25ms_10ms():
    assert (CFG.win_length, CFG.hop_length, CFG.n_fft) == (200, 80, 256)
    assert (FeatureConfig().win_length, FeatureConfig().hop_length) == (400, 160)


def test_log_mel_matches_reference_values():
    f = log_mel(signal(), CFG)
    assert f.shape == (num_frames(1600, CFG), 40) == (21, 40)
    torch.testing.assert_close(f[[0, 5, 10, 20]][:, [0, 5, 10, 20, 39]], REFERENCE, atol=2e-4, rtol=1e-4)


def test_a_tone_peaks_in_its_own_mel_bin():
    t = torch.arange(8000) / 8000
    f = log_mel(torch.sin(2 * math.pi * 1000 * t), CFG)  # (101, 40)
    fb = mel_filterbank(CFG.n_fft, 8000, 40, CFG.f_min)
    expected = int(fb[round(1000 / 8000 * CFG.n_fft)].argmax())  # filter that holds the 1 kHz bin most
    assert int(f[50].argmax()) == expected


def test_filterbank_shape_and_peaks():
    fb = mel_filterbank(256, 8000, 40, 20.0)
    assert fb.shape == (129, 40)
    assert fb.min() >= 0 and fb.max() <= 1.0
    assert (fb.sum(0) > 0).all()  # no empty filter
    peaks = fb.argmax(0)
    assert (peaks[1:] >= peaks[:-1]).all()  # centres rise with the bin index


def test_uncentred_on_padded_signal_equals_centred():
    x = signal()
    pad = torch.zeros(CFG.n_fft // 2)
    torch.testing.assert_close(log_mel_uncentred(torch.cat([pad, x, pad]), CFG), log_mel(x, CFG))


def test_normalize_utterance_zero_mean_unit_std():
    f = normalize_utterance(log_mel(signal(), CFG) * 3 + 7)
    torch.testing.assert_close(f.mean(0), torch.zeros(40), atol=1e-4, rtol=0)
    assert ((f.std(0, unbiased=False) - 1).abs() < 1e-2).sum() >= 35  # bins with some variation reach unit std


def test_causal_normalizer_is_the_same_in_chunks():
    f = log_mel(signal(), CFG)
    mean, std = f.mean(0), f.std(0)
    whole = CausalNormalizer(mean, std)(f)
    norm = CausalNormalizer(mean, std)
    chunks = torch.cat([norm(f[:3]), norm(f[3:4]), norm(f[4:])])
    torch.testing.assert_close(chunks, whole)


def test_change_volume_equals_the_louder_waveform_floor_included():
    quiet = signal() * 0.01  # quiet enough that the floor matters in some bins
    for factor in (0.125, 2.0, 30.0):
        torch.testing.assert_close(change_volume(log_mel(quiet, CFG), factor, CFG), log_mel(quiet * factor, CFG),
                                   atol=2e-3, rtol=1e-4)


def test_random_volume_stays_in_its_range_and_follows_the_generator():
    f = log_mel(signal(), CFG)
    gen = torch.Generator().manual_seed(0)
    shifts = [float((random_volume(f, CFG, (0.125, 2.0), gen) - f)[f > 0].mean()) for _ in range(200)]
    assert min(shifts) >= 2 * math.log(0.125) - 1e-3 and max(shifts) <= 2 * math.log(2.0) + 1e-3  # power = amp ** 2
    assert max(shifts) - min(shifts) > 4.0  # spread over the range, not stuck at one level
    again = random_volume(f, CFG, (0.125, 2.0), torch.Generator().manual_seed(0))
    torch.testing.assert_close(again - f, random_volume(f, CFG, (0.125, 2.0), torch.Generator().manual_seed(0)) - f)


def _peak_hz(logmel: torch.Tensor, cfg: FeatureConfig) -> float:
    """Centre frequency of the loudest mel bin, averaged over frames."""
    from rnnkit.speech.features import hz_to_mel, mel_to_hz

    lo, hi = hz_to_mel(torch.tensor(cfg.f_min)), hz_to_mel(torch.tensor(cfg.sample_rate / 2))
    centres = mel_to_hz(lo + (hi - lo) / (cfg.n_mels + 1) * torch.arange(1, cfg.n_mels + 1))
    return float(centres[logmel.mean(0).argmax()])


@pytest.mark.parametrize("factor", [0.9, 1.12])
def test_warp_frequency_moves_a_tone_as_a_longer_or_shorter_vocal_tract_would(factor):
    cfg = FeatureConfig(sample_rate=16000, n_mels=80)
    t = torch.arange(16000) / 16000
    tone = log_mel(torch.sin(2 * math.pi * 1500 * t), cfg)
    warped = warp_frequency(tone, factor, cfg)
    expected = log_mel(torch.sin(2 * math.pi * 1500 * factor * t), cfg)  # the same tone, factor times higher
    assert _peak_hz(warped, cfg) == pytest.approx(_peak_hz(expected, cfg), rel=0.03)
    assert abs(_peak_hz(warped, cfg) - 1500) > 100  # it did move
    assert warped.shape == tone.shape and torch.isfinite(warped).all()
    assert warp_frequency(tone, 1.0, cfg) is tone


def test_random_warp_keeps_the_range_and_follows_the_generator():
    f = log_mel(signal(), CFG)
    a = random_warp(f, CFG, 0.1, torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, random_warp(f, CFG, 0.1, torch.Generator().manual_seed(5)))
    assert not torch.allclose(a, f)
    assert f.min() - 1e-4 <= a.min() and a.max() <= f.max() + 1e-4  # interpolation never overshoots
    with pytest.raises(ValueError, match=r"warp must be in \[0, 0\.5\)"):
        SpecAugmentConfig(warp=0.7)


def test_spec_augment_masks_within_limits():
    f = torch.ones(100, 40)
    cfg = SpecAugmentConfig(freq_masks=1, freq_width=5, time_masks=1, time_width=0.1, time_width_max=8)
    out = spec_augment(f, cfg, torch.Generator().manual_seed(3))
    zero_cols = (out == 0).all(0).sum()
    zero_rows = (out == 0).all(1).sum()
    assert zero_cols <= 5 and zero_rows <= 8
    assert out.shape == f.shape and f.eq(1).all()  # input untouched


def test_spec_augment_batch_masks_each_utterance_within_its_own_length():
    feats = torch.ones(2, 100, 40)
    feats[1, 20:] = 0.0  # the second utterance is 20 frames long, then padding
    lengths = torch.tensor([100, 20])
    cfg = SpecAugmentConfig(freq_masks=2, freq_width=6, time_masks=2, time_width=0.1, time_width_max=8)
    gen = torch.Generator().manual_seed(0)
    short_masked = torch.zeros(20)
    for _ in range(300):
        out = spec_augment_batch(feats, lengths, cfg, gen)
        assert out[1, 20:].eq(0).all()  # padding stays zero
        rows = out[1, :20].eq(0).all(1)  # fully masked frames of the short one: at most 2 masks x 2 frames
        assert int(rows.sum()) <= 4
        long_rows = out[0].eq(0).all(1)
        assert int(long_rows.sum()) <= 16
        short_masked += rows.float()
    assert (short_masked > 0).sum() >= 15  # masks reach over the whole short utterance, not only its start
    again = spec_augment_batch(feats, lengths, cfg, torch.Generator().manual_seed(0))
    first = spec_augment_batch(feats, lengths, cfg, torch.Generator().manual_seed(0))
    torch.testing.assert_close(again, first)  # the generator alone decides the masks


def test_bad_feature_settings_teach():
    with pytest.raises(ValueError, match=r"volume must be \(low, high\) amplitude factors with 0 < low <= high"):
        SpecAugmentConfig(volume=(2.0, 0.5))
    with pytest.raises(ValueError, match=r"n_mels must be in 8\.\.128 \(40-80 is usual\), got 4"):
        FeatureConfig(n_mels=4)
    with pytest.raises(ValueError, match="normalize must be 'utterance', 'causal' or 'none', got 'global'"):
        FeatureConfig(normalize="global")
    with pytest.raises(ValueError, match=r"log_mel expected a non-empty waveform \(N,\), got shape \(0,\)"):
        log_mel(torch.zeros(0), CFG)
