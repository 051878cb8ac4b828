"""``SpeechRecognizer``: fit an RNN + CTC model on (audio, transcript) pairs, transcribe, stream, evaluate, save.

Example:
    >>> rec = SpeechRecognizer(features=FeatureConfig(sample_rate=8000), train=TrainConfig(max_epochs=30))
    >>> rec.fit([("0_george_5.wav", "zero"), ("1_george_5.wav", "one"), ...])     # doctest: +SKIP
    >>> rec.transcribe("0_theo_0.wav")                                           # 'zero'
    >>> rec.evaluate(test_pairs)                                                 # {'wer': ..., 'cer': ...}
    >>> rec.save("digits-model"); SpeechRecognizer.load("digits-model")
    >>> rec.adapt(["1_theo_0.wav", "2_theo_0.wav", "3_theo_0.wav"]).transcribe("0_theo_0.wav")  # one speaker
"""

from __future__ import annotations

import copy
import dataclasses
import os
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from rnnkit.speech import data as D
from rnnkit.speech.alphabet import Alphabet, ctc_min_frames, normalize_text
from rnnkit.speech.decode import DecoderConfig, Lexicon, ctc_log_likelihood, decode
from rnnkit.speech.features import (
    FeatureConfig,
    SpecAugmentConfig,
    normalize,
    random_volume,
    random_warp,
    spec_augment_batch,
)
from rnnkit.speech.lm import build_lm
from rnnkit.speech.model import AcousticModel, ModelConfig, ctc_loss
from rnnkit.train import SampleBatches, TrainConfig, Trainer, load_model_folder, save_model_folder

if TYPE_CHECKING:
    from rnnkit.speech.ensemble import RecognizerEnsemble


def error_rates(references: list[str], hypotheses: list[str]) -> dict[str, float]:
    """Word and character error rates (jiwer) of hypotheses against references (normalised first).

    Returns:
        ``{"wer", "cer", "sentence_accuracy", "n", "n_empty_refs"}``; pairs with an empty reference are left out
        of the rates (jiwer cannot score them) and counted in ``"n_empty_refs"``.
    """
    import jiwer

    refs = [normalize_text(r) for r in references]
    scored = [(r, h) for r, h in zip(refs, hypotheses) if r]
    if not scored:
        raise ValueError("evaluate needs at least one pair with a non-empty reference transcript")
    r, h = zip(*scored)
    return {"wer": float(jiwer.wer(list(r), list(h))), "cer": float(jiwer.cer(list(r), list(h))),
            "sentence_accuracy": sum(a == b for a, b in scored) / len(scored), "n": float(len(scored)),
            "n_empty_refs": float(len(refs) - len(scored))}


MAX_CHANNELS = 8  # a 2-D array with a side this short is one multi-channel recording, not a batch


def audio_items(audio, sample_rate: int | None) -> tuple[list[tuple], bool]:
    """One wav path / waveform, or a list of them -> ([(audio, rate or None)], whether it was one).

    A 2-D array is one multi-channel waveform, (T, C) or (C, T) with at most 8 channels (mixed to mono), as a
    sound file reader returns it; other 2-D arrays are rows of equal-length waveforms.
    """
    shape = tuple(audio.shape) if hasattr(audio, "shape") else None
    single = isinstance(audio, (str, os.PathLike)) or (shape is not None and (
        len(shape) == 1 or (len(shape) == 2 and min(shape) <= MAX_CHANNELS)))
    return [(a, sample_rate) for a in ([audio] if single else list(audio))], single


def transcribe_audio(transcribe_items, audio, sample_rate: int | None) -> str | list[str]:
    """``transcribe_items([(audio, rate or None)]) -> texts`` applied to one wav path / waveform (-> its text)
    or a list of them (-> their texts): the input handling a recognizer and an ensemble share."""
    items, single = audio_items(audio, sample_rate)
    texts = transcribe_items(items)
    return texts[0] if single else texts


def evaluate_pairs(transcribe_items, pairs, sample_rate: int | None) -> dict[str, float]:
    """Error rates (:func:`error_rates`) of ``transcribe_items([(audio, rate or None)]) -> texts`` over ``pairs`` of
    (audio, reference) or (waveform, reference, sample rate)."""
    split = [D._split_pair(p, i) for i, p in enumerate(pairs)]  # (source, text, rate or None)
    hyps = transcribe_items([(src, rate or sample_rate) for src, _, rate in split])
    return error_rates([text or "" for _, text, _ in split], hyps)


DEFAULT_MIN_STEPS = 1000  # CTC from scratch needs about this many updates before it emits more than blanks


def default_train_config() -> TrainConfig:
    """CTC from scratch likes a high peak learning rate with warm-up and a cosine decay."""
    return TrainConfig(max_epochs=40, lr=3e-3, warmup_steps=100, clip_grad_norm=5.0, schedule="cosine")


class SpeechRecognizer:
    """Speech to text with a recurrent acoustic model trained by CTC.

    Args:
        features: log-mel settings (sample rate, mel bins, normalisation). With a unidirectional model and no
            explicit features, normalisation defaults to "causal" so streaming equals whole-utterance decoding.
        model: acoustic model shape (subsampling, cell, layers, directions).
        decoder: greedy or beam search, optional n-gram LM and lexicon from the training transcripts.
        augment: training augmentation (SpecAugment masks, volume perturbation for causal normalisation,
            optional frequency warping);
            None turns it off.
        train: the training loop's budget and optimiser (see :class:`rnnkit.train.TrainConfig`).
        batch_size: utterances per batch (batches group utterances of similar length).
        min_steps: small training sets get more epochs than ``train.max_epochs``, so that training takes at least
            this many optimiser steps (``max_time`` still caps it). Default: 1,000 when ``train`` is not given
            (40 epochs of 200 clips would be only 240 steps, too few to learn), else 0: your budget as given.
        valid_fraction: share of the training pairs held out to pick the best epoch (0 = none).
        verbose: print notes (resampling, skipped samples) to stderr.

    Attributes (after fit):
        alphabet_, model_, stats_ (feature mean / std), lm_, lexicon_, fit_result_, skipped_ (names of samples
        whose audio is too short for their transcript), notes_; speaker_stats_ (None, or the (mean, std) of the
        speaker set by :meth:`adapt`).
    """

    def __init__(self, features: FeatureConfig | None = None, model: ModelConfig | None = None,
                 decoder: DecoderConfig | None = None, augment: SpecAugmentConfig | None = SpecAugmentConfig(),
                 train: TrainConfig | None = None, batch_size: int = 32, valid_fraction: float = 0.1,
                 verbose: bool = True, min_steps: int | None = None):
        self.model_config = model or ModelConfig()
        if features is None:
            features = FeatureConfig(normalize="utterance" if self.model_config.bidirectional else "causal")
        self.features = features
        self.decoder = decoder or DecoderConfig()
        self.augment = augment
        self.train = train or default_train_config()
        self.min_steps = (DEFAULT_MIN_STEPS if train is None else 0) if min_steps is None else min_steps
        if self.min_steps < 0:
            raise ValueError(f"min_steps must be >= 0, got {self.min_steps}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0.0 <= valid_fraction < 1.0:
            raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
        self.batch_size, self.valid_fraction, self.verbose = batch_size, valid_fraction, verbose
        self.speaker_stats_: tuple[Tensor, Tensor] | None = None

    # ------------------------------------------------------------------------------------------------- fit
    def fit(self, pairs, valid=None, sample_rate: int | None = None) -> SpeechRecognizer:
        """Train on ``pairs`` of (wav path or waveform, transcript); waveforms need ``sample_rate``.

        Empty transcripts are kept (they teach silence). Samples whose audio is too short for their transcript
        (fewer output frames than characters plus repeats) are skipped, counted in ``skipped_`` and reported.
        """
        self.notes_: list[str] = []
        self.speaker_stats_ = None  # a new model: any speaker adaptation was for the old one
        utts = D.prepare(pairs, self.features, sample_rate, self.notes_)
        valid_utts = D.prepare(valid, self.features, sample_rate, self.notes_) if valid is not None else None
        for note in D.summarize_notes(self.notes_):
            self._report(note)
        texts = [normalize_text(u.text) for u in utts]
        if not any(texts):
            raise ValueError("every transcript is empty: give at least one pair with a non-empty transcript")
        self.alphabet_ = Alphabet.from_transcripts(texts)
        self.stats_ = D.feature_stats(utts)
        self.transcripts_ = texts
        self._build_decoding()
        if valid_utts is None and self.valid_fraction > 0 and len(utts) >= 10:
            idx = list(range(len(utts)))
            random.Random(self.train.seed).shuffle(idx)
            n_val = max(1, int(round(self.valid_fraction * len(utts))))
            valid_utts, utts = [utts[i] for i in idx[:n_val]], [utts[i] for i in idx[n_val:]]
        cfg = ModelConfig.from_dict({**self.model_config.to_dict(), "n_mels": self.features.n_mels,
                                     "vocab_size": len(self.alphabet_)})
        probe = AcousticModel(cfg)
        utts, self.skipped_ = self._label(utts, probe)
        valid_utts = self._label(valid_utts, probe)[0] if valid_utts else None
        self._report(f"training on {len(utts)} utterances"
                     + (f", validating on {len(valid_utts)}" if valid_utts else "")
                     + f"; alphabet {''.join(self.alphabet_.chars)!r}")
        if not utts:
            raise ValueError("no trainable sample left: every sample's audio is too short for its transcript")
        torch.manual_seed(self.train.seed)
        self.model_ = AcousticModel(cfg)
        batches = SampleBatches(utts, self.batch_size, self._train_collate(), seed=self.train.seed,
                                length=lambda u: u.feats.shape[0])
        vbatches = (SampleBatches(valid_utts, self.batch_size, D.collate, shuffle=False,
                                  length=lambda u: u.feats.shape[0]) if valid_utts else None)
        gen = torch.Generator().manual_seed(self.train.seed)
        self.batch_skips_ = 0
        train_config = self._budget(len(batches))

        def loss_fn(model, batch):
            feats, lengths, labels = batch
            if model.training and self.augment is not None:
                feats = spec_augment_batch(feats, lengths, self.augment, gen)  # (B, T, M), each within its length
            loss, skipped = ctc_loss(model, feats, lengths, labels)
            self.batch_skips_ += skipped
            return loss

        self.fit_result_ = Trainer(train_config).fit(self.model_, batches, valid=vbatches, loss_fn=loss_fn)
        self.model_.eval()
        self.device_ = next(self.model_.parameters()).device
        return self

    def _budget(self, batches_per_epoch: int) -> TrainConfig:
        """``self.train``, with enough epochs for ``min_steps`` optimiser steps on a small training set."""
        epochs = -(-self.min_steps // max(1, batches_per_epoch))  # ceil
        if self.train.max_epochs is None or epochs <= self.train.max_epochs:
            return self.train
        self._report(f"small training set ({batches_per_epoch} batches an epoch): training {epochs} epochs instead "
                     f"of {self.train.max_epochs}, for at least {self.min_steps} steps")
        return dataclasses.replace(self.train, max_epochs=epochs)

    def _train_collate(self):
        """``D.collate`` for training batches, with frequency warping where asked, and volume perturbation where
        the normalisation keeps the level. Each draws from its own generator, so turning one on leaves the
        other's draws as they were."""
        volume = self.augment.volume if self.augment is not None else None
        if self.features.normalize == "utterance":
            volume = None
        warp = self.augment.warp if self.augment is not None else 0.0
        if volume is None and not warp:
            return D.collate
        volume_gen = torch.Generator().manual_seed(self.train.seed + 1)
        warp_gen = torch.Generator().manual_seed(self.train.seed + 2)

        def collate(utts: list[D.Utterance]):
            feats = []
            for u in utts:
                logmel = random_warp(u.logmel, self.features, warp, warp_gen) if warp else u.logmel
                if volume is not None:
                    logmel = random_volume(logmel, self.features, volume, volume_gen)
                feats.append(normalize(logmel, self.features, self.stats_))
            return D.collate(utts, feats)

        return collate

    def _label(self, utts: list[D.Utterance], model: AcousticModel) -> tuple[list[D.Utterance], list[str]]:
        """Normalise features, encode transcripts, and drop samples too short for their labels (reported)."""
        kept, skipped = [], []
        for u in utts:
            u.feats = normalize(u.logmel, self.features, self.stats_)
            u.labels = self.alphabet_.encode(u.text) if not self.alphabet_.unknown(u.text) else None
            if u.labels is None:
                skipped.append(f"{u.name} (characters {self.alphabet_.unknown(u.text)} not in the alphabet)")
                continue
            frames = int(model.output_lengths(torch.tensor([u.feats.shape[0]]))[0])
            need = ctc_min_frames(u.labels)
            if frames < need:
                skipped.append(f"{u.name} ({frames} output frames < {need} needed for {normalize_text(u.text)!r})")
                continue
            kept.append(u)
        if skipped:
            self._report(f"skipped {len(skipped)} of {len(utts)} samples whose audio is too short for their "
                         f"transcript, e.g. {skipped[0]}")
        return kept, skipped

    def _build_decoding(self) -> None:
        d = self.decoder
        self.lm_ = build_lm(d.lm, d.lm_order, self.transcripts_)
        words = {w for t in self.transcripts_ for w in t.split()}
        self.lexicon_ = Lexicon(words) if d.lexicon else None

    def _report(self, msg: str) -> None:
        if self.verbose:
            print(msg, file=sys.stderr)

    # ----------------------------------------------------------------------------------------- inference
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("this SpeechRecognizer is not fitted yet: call fit(pairs) or SpeechRecognizer.load(dir)")

    def featurize(self, source, sample_rate: int | None = None, notes: list[str] | None = None,
                  name: str = "waveform") -> Tensor:
        """Audio (path or waveform) -> normalised features (T, n_mels), resampled to the model's rate if needed."""
        self._check_fitted()
        return normalize(self._log_mel(source, sample_rate, notes, name), self.features, self.stats_,
                         self.speaker_stats_)

    def _log_mel(self, source, sample_rate: int | None, notes: list[str] | None = None, name: str = "waveform"
                 ) -> Tensor:
        """Audio (path or waveform) -> its unnormalised log-mel (T, n_mels) at the model's rate."""
        from rnnkit.speech.audio import load_audio
        from rnnkit.speech.features import log_mel

        return log_mel(load_audio(source, self.features.sample_rate, sample_rate, name=name, notes=notes),
                       self.features)

    def adapt(self, audio, sample_rate: int | None = None) -> SpeechRecognizer:
        """A copy of this recognizer that normalises with one speaker's statistics (speaker-level CMVN).

        Kaldi's recipes normalise each speaker's features with that speaker's mean and variance; an unseen speaker's
        level and colouring then match what the model was trained on, without any training. With
        ``normalize="utterance"`` every utterance is normalised by the speaker's mean and std instead of its own
        (a short utterance's own statistics are dominated by its few sounds); with ``"causal"`` the running mean
        starts from the speaker's mean instead of the training mean, and streaming still equals the whole decode.

        Args:
            audio: untranscribed recordings of the one speaker (wav paths or waveforms, or one of them), at least
                1 s in all: the utterances to be transcribed themselves, or separate enrolment speech.
            sample_rate: rate of waveform inputs (resampled to the model's as in :meth:`transcribe`).

        Returns:
            a new recognizer that shares this one's network (nothing is trained or copied; ``self`` is unchanged).
            ``save`` keeps the speaker statistics with the model.
        """
        return self._adapted(audio_items(audio, sample_rate)[0])

    def _adapted(self, items: list[tuple]) -> SpeechRecognizer:
        """:meth:`adapt` on ``[(audio, rate or None)]``."""
        self._check_fitted()
        from rnnkit.speech.features import speaker_stats

        if self.features.normalize == "none":
            raise ValueError("this model was trained with FeatureConfig(normalize='none'), which uses no "
                             "statistics, so there is nothing to adapt to a speaker")
        logmels = [self._log_mel(a, rate, name=f"audio[{i}]") for i, (a, rate) in enumerate(items)]
        adapted = copy.copy(self)
        adapted.speaker_stats_ = speaker_stats(logmels)
        return adapted

    @torch.no_grad()
    def log_probs(self, feats: list[Tensor]) -> list[Tensor]:
        """Per-utterance (T', V) log-probabilities, computed in batches of similar length."""
        self._check_fitted()
        self.model_.eval()
        out: list[Tensor | None] = [None] * len(feats)
        for idx in D.length_batches([f.shape[0] for f in feats], self.batch_size):
            x, lengths = D.pad([feats[i] for i in idx])
            lp, out_len = self.model_(x.to(self.device_), lengths)  # (B, T', V)
            for j, i in enumerate(idx):
                out[i] = lp[j, : int(out_len[j])].cpu()
        return out

    def decode(self, log_probs: Tensor) -> str:
        """(T', V) log-probabilities -> text with this recognizer's decoder settings."""
        return decode(log_probs, self.alphabet_, self.decoder, self.lm_, self.lexicon_)

    def transcribe(self, audio, sample_rate: int | None = None) -> str | list[str]:
        """Text of one wav path / waveform, or a list of texts for a list of them (batched by length).

        Args:
            audio: a wav path, a 1-D waveform, or a list of these.
            sample_rate: rate of waveform inputs; other rates than the model's are resampled (with a note).
        """
        self._check_fitted()
        return transcribe_audio(self._transcribe, audio, sample_rate)

    def _transcribe(self, items: list[tuple]) -> list[str]:
        """[(wav path or waveform, its sample rate or None)] -> texts; resampling notes reported once."""
        notes: list[str] = []
        feats = [self.featurize(a, rate, notes, name=f"audio[{i}]") for i, (a, rate) in enumerate(items)]
        for note in D.summarize_notes(notes):
            self._report(note)
        return [self.decode(lp) for lp in self.log_probs(feats)]

    @torch.no_grad()
    def score(self, audio, candidates: list[str], sample_rate: int | None = None) -> Tensor:
        """log P(text | audio) of each candidate transcript, summed over all CTC alignments: (len(candidates),).

        Closed-set recognition (e.g. isolated digits): ``candidates[int(rec.score(wav, words).argmax())]``.
        Candidates too long for the audio score ``-inf``.
        """
        lp = self.log_probs([self.featurize(audio, sample_rate)])[0]  # (T', V)
        return ctc_log_likelihood(lp, [self.alphabet_.encode(c) for c in candidates])

    def stream(self, sample_rate: int | None = None):
        """A streaming transcriber: ``s.accept(samples) -> partial text``, ``s.finish() -> text``.

        Needs a unidirectional model with causal normalisation (``ModelConfig(bidirectional=False)``).
        """
        from rnnkit.speech.streaming import Stream

        self._check_fitted()
        return Stream(self, sample_rate)

    def evaluate(self, pairs, sample_rate: int | None = None) -> dict[str, float]:
        """Word and character error rates (jiwer) over ``pairs`` of (audio, reference transcript).

        Returns:
            ``{"wer", "cer", "sentence_accuracy", "n"}``; utterances with an empty reference are left out of the
            rates (jiwer cannot score them) and counted in ``"n_empty_refs"``.
        """
        self._check_fitted()
        return evaluate_pairs(self._transcribe, pairs, sample_rate)

    @classmethod
    def ensemble(cls, recognizers, combine: str = "vote") -> RecognizerEnsemble:
        """Several fitted recognizers that transcribe together (see :class:`rnnkit.speech.ensemble.RecognizerEnsemble`):
        each proposes its transcript; the proposal of the most members wins, ties going to the highest mean CTC
        log-likelihood (``combine="likelihood"``: the highest mean log-likelihood wins outright)."""
        from rnnkit.speech.ensemble import RecognizerEnsemble

        return RecognizerEnsemble(recognizers, combine)

    # ------------------------------------------------------------------------------------------ save / load
    def save(self, path: str | os.PathLike) -> Path:
        """Write a model folder: config.json (features, model, decoder, alphabet, statistics) + weights +
        transcripts.txt (to rebuild the n-gram LM and lexicon). An existing model folder at ``path`` is replaced;
        a file, or a folder of other files, is an error (``rnnkit.train.check_save_target``)."""
        self._check_fitted()
        config = {"task": "speech", "features": self.features.to_dict(), "model": self.model_.config.to_dict(),
                  "decoder": self.decoder.to_dict(), "alphabet": self.alphabet_.to_list(),
                  "stats": {"mean": self.stats_[0].tolist(), "std": self.stats_[1].tolist()},
                  "batch_size": self.batch_size}
        if self.speaker_stats_ is not None:
            config["speaker_stats"] = {"mean": self.speaker_stats_[0].tolist(), "std": self.speaker_stats_[1].tolist()}
        save_model_folder(path, self.model_.state_dict(), config,
                          extra={"transcripts.txt": "\n".join(self.transcripts_) + "\n"})
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> SpeechRecognizer:
        """Rebuild a recognizer from :meth:`save`'s folder.

        Raises:
            ValueError: the folder is missing, incomplete, or holds files that do not make one speech model
                (unreadable weights, a config.json that does not match them); the message names the folder.
        """
        config, state = load_model_folder(path, required=("transcripts.txt",))
        if config.get("task") != "speech":
            raise ValueError(f"{path} is not a speech model folder (config.json task={config.get('task')!r})")
        try:
            rec = cls(FeatureConfig.from_dict(config["features"]), ModelConfig.from_dict(config["model"]),
                      DecoderConfig.from_dict(config["decoder"]), batch_size=config.get("batch_size", 32))
            rec.alphabet_ = Alphabet(config["alphabet"])
            rec.stats_ = (torch.tensor(config["stats"]["mean"]), torch.tensor(config["stats"]["std"]))
        except (KeyError, TypeError) as e:
            raise ValueError(f"model folder {path} has a config.json that is not a speech model's "
                             f"({type(e).__name__}: {e}); save the model again with SpeechRecognizer.save") from None
        if len(rec.alphabet_) != rec.model_config.vocab_size:  # labels past the alphabet would decode as garbage
            raise ValueError(f"model folder {path}: config.json has {len(rec.alphabet_) - 1} alphabet characters "
                             f"but the model outputs {rec.model_config.vocab_size - 1}; the files come from "
                             "different models, save the model again")
        if "speaker_stats" in config:
            rec.speaker_stats_ = (torch.tensor(config["speaker_stats"]["mean"]),
                                  torch.tensor(config["speaker_stats"]["std"]))
        rec.transcripts_ = Path(path, "transcripts.txt").read_text(encoding="utf-8").splitlines()
        rec._build_decoding()
        rec.model_ = AcousticModel(rec.model_config)
        try:
            rec.model_.load_state_dict(state)
        except RuntimeError as e:
            first = str(e).strip().splitlines()[-1].strip()
            raise ValueError(f"model folder {path}: model.safetensors does not match config.json ({first}); the "
                             "files come from different models, save the model again") from None
        rec.model_.to(device).eval()
        rec.device_ = torch.device(device)
        return rec

    def __repr__(self) -> str:
        return (f"SpeechRecognizer(features={self.features}, model={self.model_config}, decoder={self.decoder}, "
                f"fitted={hasattr(self, 'model_')})")
