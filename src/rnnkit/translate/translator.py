"""``Translator``: fit an attention encoder-decoder on sentence pairs, translate, score, inspect attention, save.

Example:
    >>> from rnnkit.translate import Translator, number_corpus
    >>> en, ja, _ = number_corpus(2000, max_value=9999)
    >>> tr = Translator(cell="gru", attention="general", src_tokenizer="word", tgt_tokenizer="char",
    ...                 embed_size=64, hidden_size=64, epochs=5).fit(en, ja)          # doctest: +SKIP
    >>> tr.translate(["two thousand and twenty-four"], beam_size=5)                   # doctest: +SKIP
    ['二千二十四']
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from rnnkit.translate.config import TranslatorConfig
from rnnkit.translate.corpus import check_sentences, clean_pairs, collate, encode_all, pad
from rnnkit.translate.metrics import Alignment, corpus_scores
from rnnkit.translate.model import Seq2Seq
from rnnkit.translate.search import beam_search, greedy_search
from rnnkit.translate.tokenizer import UNK, Tokenizer

FORMAT = "rnnkit.translate/1"
TOKENIZER_FILES = ("src_tokenizer.bin", "tgt_tokenizer.bin")


class Translator:
    """Neural machine translation with a bidirectional recurrent encoder and an attention decoder.

    Args:
        cell, attention, embed_size, hidden_size, num_layers, dropout, input_feeding, tie_embeddings,
        label_smoothing, scheduled_sampling, src_tokenizer, tgt_tokenizer, src_vocab_size, tgt_vocab_size,
        min_freq, max_src_len, max_tgt_len, beam_size, length_penalty: see :class:`TranslatorConfig`.
        batch_size: sentence pairs per training batch (grouped by source length).
        epochs: training epochs (a budget; the weights with the best ``select_by`` are kept).
        max_time: training budget in minutes, or None.
        lr: peak learning rate (AdamW, cosine decay after ``warmup_steps``).
        warmup_steps: optimizer steps of linear warm-up.
        select_by: ``"val_loss"`` or ``"val_bleu"`` (greedy BLEU on ``valid``, slower): picks the kept weights.
        seed: random seed of initialisation and batch order.
        device: ``"auto" | "cpu" | "cuda"``.
        precision: ``"auto"`` (bf16 autocast on a CUDA GPU that supports it, else fp32), ``"bf16"`` or ``"fp32"``.
        num_threads: torch CPU threads for training (None: torch's default). On a CPU shared with other jobs,
            1 is often many times faster than oversubscribed threads.
        progress: print training progress.

    Attributes:
        config_ (TranslatorConfig), model_ (Seq2Seq), src_tokenizer_, tgt_tokenizer_ (Tokenizer),
        fit_result_ (FitResult, None after ``load``), skipped_ (pairs dropped for an empty side).
    """

    def __init__(self, cell: str = "lstm", attention: str = "general", embed_size: int = 256, hidden_size: int = 256,
                 num_layers: int = 1, dropout: float = 0.2, input_feeding: bool = True, tie_embeddings: bool = True,
                 label_smoothing: float = 0.1, scheduled_sampling: float = 0.0, src_tokenizer: str = "unigram",
                 tgt_tokenizer: str = "unigram", src_vocab_size: int = 8000, tgt_vocab_size: int = 8000,
                 min_freq: int = 1, max_src_len: int = 100, max_tgt_len: int = 100, beam_size: int = 5,
                 length_penalty: float = 0.6, batch_size: int = 64, epochs: int | None = 10,
                 max_time: float | None = None, lr: float = 2e-3, warmup_steps: int = 100,
                 select_by: str = "val_loss", seed: int = 0, device: str = "auto", precision: str = "auto",
                 num_threads: int | None = None, progress: bool = True):
        self.config = TranslatorConfig(
            cell=cell, attention=attention, embed_size=embed_size, hidden_size=hidden_size, num_layers=num_layers,
            dropout=dropout, input_feeding=input_feeding, tie_embeddings=tie_embeddings,
            label_smoothing=label_smoothing, scheduled_sampling=scheduled_sampling, src_tokenizer=src_tokenizer,
            tgt_tokenizer=tgt_tokenizer, src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size,
            min_freq=min_freq, max_src_len=max_src_len, max_tgt_len=max_tgt_len, beam_size=beam_size,
            length_penalty=length_penalty)
        if select_by not in ("val_loss", "val_bleu"):
            raise ValueError(f"select_by must be 'val_loss' or 'val_bleu', got {select_by!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size, self.epochs, self.max_time, self.lr = batch_size, epochs, max_time, lr
        self.warmup_steps, self.select_by, self.seed, self.device, self.progress = (
            warmup_steps, select_by, seed, device, progress)
        self.num_threads, self.precision = num_threads, precision

    # -------------------------------------------------------------------------------------------------- fit
    def fit(self, src, tgt, valid: tuple | None = None) -> Translator:
        """Learn tokenizers and the network from sentence pairs; ``valid=(src, tgt)`` picks the best weights."""
        from rnnkit.train import SampleBatches, TrainConfig, Trainer

        self._check_single("fit()")
        if self.select_by == "val_bleu" and valid is None:
            raise ValueError("select_by='val_bleu' needs valid=(src, tgt)")
        src, tgt, self.skipped_ = clean_pairs(src, tgt)
        c = self.config
        self.src_tokenizer_ = Tokenizer.train(src, c.src_tokenizer, c.src_vocab_size, c.min_freq)
        self.tgt_tokenizer_ = Tokenizer.train(tgt, c.tgt_tokenizer, c.tgt_vocab_size, c.min_freq)
        train = self._samples(src, tgt)
        torch.manual_seed(self.seed)
        self.config_ = c
        self.model_ = Seq2Seq(c, len(self.src_tokenizer_), len(self.tgt_tokenizer_))
        valid_batches, eval_fn = None, None
        if valid is not None:
            if not isinstance(valid, (tuple, list)) or len(valid) != 2:
                raise ValueError("valid must be a pair (src_sentences, tgt_sentences)")
            vsrc, vtgt, _ = clean_pairs(valid[0], valid[1], "valid source", "valid target")
            valid_batches = SampleBatches(self._samples(vsrc, vtgt), self.batch_size, collate, shuffle=False)
            if self.select_by == "val_bleu":
                def eval_fn(model):
                    self.model_ = model
                    return {"val_bleu": self.evaluate(vsrc, vtgt, beam_size=1)["bleu"]}
        config = TrainConfig(max_epochs=self.epochs, max_time=self.max_time, lr=self.lr,
                             warmup_steps=self.warmup_steps, seed=self.seed, device=self.device,
                             precision=self.precision, num_threads=self.num_threads,
                             progress=self.progress, monitor=self.select_by if valid is not None else "val_loss",
                             mode="max" if self.select_by == "val_bleu" else "min")
        batches = SampleBatches(train, self.batch_size, collate, seed=self.seed, length=lambda s: len(s[0]))
        trainer = Trainer(config)
        self.fit_result_ = trainer.fit(self.model_, batches, valid_batches,
                                       loss_fn=lambda m, b: m.loss(*b), eval_fn=eval_fn)
        self.model_.eval()
        return self

    def _samples(self, src: list[str], tgt: list[str]) -> list[tuple[list[int], list[int]]]:
        c = self.config
        s = encode_all(self.src_tokenizer_, src, c.max_src_len, "source")
        t = encode_all(self.tgt_tokenizer_, tgt, c.max_tgt_len, "target")
        return [(a or [UNK], b) for a, b in zip(s, t)]

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("this Translator is not fitted yet: call .fit(src, tgt) or Translator.load(dir) first")

    # ----------------------------------------------------------------------------------------- translate
    def translate(self, sentences, beam_size: int | None = None, length_penalty: float | None = None,
                  max_len: int | None = None, batch_size: int = 64):
        """Translate a sentence (str -> str) or a list of sentences (-> list of str).

        Args:
            sentences: source text; unknown characters become ``<unk>`` pieces, never an error.
            beam_size: 1 = greedy; default ``config.beam_size``.
            length_penalty: GNMT alpha for beam search; default ``config.length_penalty``.
            max_len: the most output tokens per sentence; default ``min(max_tgt_len, 2 * source tokens + 10)``.
            batch_size: sentences decoded together (the output does not depend on it).
        """
        self._check_fitted()
        single = isinstance(sentences, str)
        sentences = check_sentences([sentences] if single else sentences, "sentences")
        c = self.config_
        beam_size = c.beam_size if beam_size is None else beam_size
        alpha = c.length_penalty if length_penalty is None else length_penalty
        if max_len is not None and max_len < 1:
            raise ValueError(f"max_len must be >= 1, got {max_len}")
        ids = encode_all(self.src_tokenizer_, sentences, c.max_src_len, "source")
        out = [""] * len(sentences)
        todo = sorted((i for i, x in enumerate(ids) if x), key=lambda i: len(ids[i]))  # similar lengths together
        device = next(self.model_.parameters()).device
        self.model_.eval()
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            src, lengths = pad([ids[i] for i in chunk])
            limit = torch.full_like(lengths, max_len) if max_len else torch.clamp(2 * lengths + 10, max=c.max_tgt_len)
            src, lengths = src.to(device), lengths.to(device)
            if beam_size == 1:
                hyps = greedy_search(self.model_, src, lengths, limit)
            else:
                hyps = beam_search(self.model_, src, lengths, limit, beam_size, alpha)
            for i, h in zip(chunk, hyps):
                out[i] = self.tgt_tokenizer_.decode(h.tokens)
        return out[0] if single else out

    def evaluate(self, src, refs, beam_size: int | None = None, length_penalty: float | None = None,
                 tokenize: str | None = None) -> dict:
        """Translate ``src`` and score against ``refs`` with sacreBLEU and chrF.

        Returns:
            ``{"bleu", "chrf", "bleu_signature", "chrf_signature", "hypotheses"}``. ``tokenize`` is sacreBLEU's
            tokenizer; by default ``none`` for word-tokenized targets, ``char`` for CJK text, else ``13a``.
        """
        src, refs = check_sentences(src, "src"), check_sentences(refs, "refs")
        if len(src) != len(refs):
            raise ValueError(f"src has {len(src)} sentences but refs has {len(refs)}; they must be aligned")
        hyps = self.translate(src, beam_size=beam_size, length_penalty=length_penalty)
        kind = self.tgt_tokenizer_.kind
        scores = corpus_scores(hyps, refs, tokenize=tokenize, pretokenized=kind == "word")
        return {**scores, "hypotheses": hyps}

    def attention(self, sentence: str, target: str | None = None) -> Alignment:
        """The alignment matrix for one sentence: its greedy translation, or the given ``target`` (forced)."""
        self._check_fitted()
        if not isinstance(sentence, str) or not sentence.strip():
            raise ValueError("attention() needs one non-empty sentence (a str)")
        c = self.config_
        ids = encode_all(self.src_tokenizer_, [sentence], c.max_src_len, "source")[0] or [UNK]
        device = next(self.model_.parameters()).device
        src, lengths = pad([ids])
        src, lengths = src.to(device), lengths.to(device)
        self.model_.eval()
        if target is None:
            limit = torch.clamp(2 * lengths.cpu() + 10, max=c.max_tgt_len)
            hyp = greedy_search(self.model_, src, lengths, limit, keep_attention=True)[0]
            out_ids, weights = hyp.tokens, hyp.attention
        else:
            self._check_single("attention() with a forced target")
            out_ids = encode_all(self.tgt_tokenizer_, [target], c.max_tgt_len, "target")[0]
            with torch.no_grad():
                _, _, tgt = (t.to(device) for t in collate([(ids, out_ids)]))
                memory, state = self.model_.start(src, lengths)
                _, weights = self.model_.decoder(tgt[:, :-1], memory, state)
                weights = weights[0].cpu()
        src_tokens = [self.src_tokenizer_.id_to_piece(i) for i in ids]
        tgt_tokens = [self.tgt_tokenizer_.id_to_piece(i) for i in out_ids] + ["</s>"]
        return Alignment(src_tokens, tgt_tokens, weights.float().numpy())

    # ----------------------------------------------------------------------------------------- ensemble
    @classmethod
    def ensemble(cls, translators) -> Translator:
        """One translator that decodes with several fitted ones at once, averaging their next-token probabilities.

        The members must have identical tokenizers (train them on the same data with the same tokenizer
        settings; seeds, sizes and cells may differ) and sit on the same device. The result translates,
        evaluates and shows greedy attention like a single model (its weights are the members' mean); it cannot
        be fitted or saved: save the members, and ensemble them again after loading.
        """
        from rnnkit.translate.ensemble import Ensemble

        members = list(translators)
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 fitted translators, got {len(members)}")
        for i, t in enumerate(members):
            if not isinstance(t, Translator):
                raise ValueError(f"ensemble member {i} is a {type(t).__name__}, not a Translator")
            t._check_fitted()
            if getattr(t, "members_", None):
                raise ValueError(f"ensemble member {i} is itself an ensemble; pass its members instead")
        first = members[0]
        for i, t in enumerate(members[1:], 1):
            for side in ("src", "tgt"):
                a, b = getattr(first, f"{side}_tokenizer_"), getattr(t, f"{side}_tokenizer_")
                if a.kind != b.kind or a.to_bytes() != b.to_bytes():
                    raise ValueError(f"ensemble member {i} has a different {side} tokenizer from member 0; "
                                     "members must be trained on the same data with the same tokenizer settings")
        devices = {str(next(t.model_.parameters()).device) for t in members}
        if len(devices) > 1:
            raise ValueError(f"ensemble members are on different devices {sorted(devices)}; load them on one")
        self = cls(**first.config_.to_dict(), device=devices.pop())
        self.config_, self.members_ = first.config_, members
        self.src_tokenizer_, self.tgt_tokenizer_ = first.src_tokenizer_, first.tgt_tokenizer_
        self.model_ = Ensemble(t.model_ for t in members).eval()
        self.fit_result_, self.skipped_ = None, 0
        return self

    def _check_single(self, what: str) -> None:
        if getattr(self, "members_", None):
            raise ValueError(f"{what} works on one model, and this Translator is an ensemble of "
                             f"{len(self.members_)}: call it on a member (.members_[i])")

    # --------------------------------------------------------------------------------------- save / load
    def save(self, path: str | os.PathLike) -> Path:
        """Write a model folder (config.json, model.safetensors, both tokenizers) that loads on its own."""
        from rnnkit.train import save_model_folder

        self._check_fitted()
        self._check_single("save()")
        config = {"format": FORMAT, "translator": self.config_.to_dict(),
                  "tokenizers": [self.src_tokenizer_.kind, self.tgt_tokenizer_.kind]}
        extra = dict(zip(TOKENIZER_FILES, (self.src_tokenizer_.to_bytes(), self.tgt_tokenizer_.to_bytes())))
        return save_model_folder(path, self.model_, config, extra)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "cpu") -> Translator:
        """Rebuild a translator from a folder written by :meth:`save`."""
        from rnnkit.train import load_model_folder

        config, state = load_model_folder(path, required=TOKENIZER_FILES)
        if config.get("format") != FORMAT:
            raise ValueError(f"{path} is not a translation model folder (config.json format is "
                             f"{config.get('format')!r}, expected {FORMAT!r})")
        c = TranslatorConfig.from_dict(config["translator"])
        self = cls(**{k: v for k, v in c.to_dict().items()}, device=device)
        self.config_ = c
        kinds = config["tokenizers"]
        self.src_tokenizer_, self.tgt_tokenizer_ = (
            Tokenizer.from_bytes(k, (Path(path) / f).read_bytes()) for k, f in zip(kinds, TOKENIZER_FILES))
        self.model_ = Seq2Seq(c, len(self.src_tokenizer_), len(self.tgt_tokenizer_))
        try:
            self.model_.load_state_dict(state)
        except RuntimeError as e:
            raise ValueError(f"model folder {path} does not match its config.json: {str(e).splitlines()[0]}") from None
        self.model_.to(device).eval()
        self.fit_result_, self.skipped_ = None, 0
        return self
