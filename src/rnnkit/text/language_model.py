"""``LanguageModel``: a character or subword LSTM language model that trains with truncated BPTT and writes.

Training cuts the corpus into ``batch_size`` parallel streams and walks them ``bptt`` tokens at a time; the
recurrent state of one window is the starting state of the next (detached, so gradients stop at the window
edge: truncated backpropagation through time). The random start offset changes every epoch, so windows do not
always break at the same places (a cheap stand-in for AWD-LSTM's random BPTT length).

Example:
    >>> lm = LanguageModel(epochs=3).fit(train_text, valid=valid_text)
    >>> lm.evaluate(valid_text)                  # {"loss": nats/char, "bpc": ..., "perplexity": ...}
    >>> for piece in lm.generate("ROMEO:", max_tokens=200, temperature=0.8, top_p=0.95):
    ...     print(piece, end="", flush=True)
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.text.lm_model import LMConfig, RNNLanguageModel, detach_state
from rnnkit.text.metrics import lm_metrics
from rnnkit.text.persist import load_text_model, save_text_model
from rnnkit.text.sampling import check_sampling, sample_next
from rnnkit.text.tokenizers import CharTokenizer, SentencePieceTokenizer
from rnnkit.text.vocab import Vocabulary

TASK = "language-model"


class StreamBatches:
    """``(x (B, bptt), y (B, bptt), first)`` windows over ``B`` contiguous streams of one long id sequence.

    Batches of an epoch come in order (``first`` is True on the first), so a carried state continues each
    stream. The start offset is drawn from ``(seed, epoch)``: deterministic, so a resumed run replays exactly.
    """

    def __init__(self, ids: Tensor, batch_size: int, bptt: int, seed: int = 0, random_offset: bool = True):
        if batch_size < 1 or bptt < 1:
            raise ValueError(f"batch_size and bptt must be >= 1, got {batch_size} and {bptt}")
        need = batch_size * 2 + bptt
        if len(ids) < need:
            raise ValueError(f"the training text has {len(ids)} tokens, too few for batch_size={batch_size} "
                             f"streams; give at least {need} tokens or lower batch_size / bptt")
        self.ids, self.batch_size, self.bptt, self.seed, self.random_offset = ids, batch_size, bptt, seed, random_offset
        self._len = -(-((len(ids) - bptt) // batch_size - 1) // bptt)

    def __len__(self) -> int:
        return self._len

    def epoch(self, epoch: int, start: int = 0) -> Iterator[tuple[Tensor, Tensor, bool]]:
        rng = np.random.default_rng([self.seed, epoch])
        offset = int(rng.integers(self.bptt)) if self.random_offset else 0
        data = self.ids[offset:]
        B = self.batch_size
        L = (len(data) - 1) // B  # tokens per stream
        x = data[: B * L].view(B, L)  # (B, L)
        y = data[1: B * L + 1].view(B, L)  # (B, L), next tokens
        for i, j in enumerate(range(0, L, self.bptt)):
            if i >= self._len:
                break
            if i >= start:
                yield x[:, j: j + self.bptt], y[:, j: j + self.bptt], i == 0


class LanguageModel:
    """Character- or subword-level LSTM language model (AWD-LSTM regularisation, tied weights).

    Args:
        tokenizer: ``"char"`` or ``"sentencepiece"`` (subwords learned from the training text).
        vocab_size: sentencepiece pieces to learn (ignored for ``"char"``).
        embed_dim, hidden_size, num_layers, tie_weights, dropout, dropout_h, dropout_i, dropout_e, weight_drop:
            the network, see :class:`rnnkit.text.lm_model.LMConfig`. The defaults are the CPU setting measured in
            benchmarks/text/RESULTS.md (one 256-unit layer, no dropout: short budgets under-fit); for long runs
            stack layers and turn on the AWD-LSTM dropouts (e.g. 0.1-0.3) and ``weight_drop`` (0.2-0.5).
        bptt: tokens per truncated-BPTT window. batch_size: parallel streams.
        epochs, lr, weight_decay, max_time (minutes), max_steps, schedule, eval_every (optimizer steps), seed,
        device, progress: training settings passed to :class:`rnnkit.train.Trainer` (the cosine schedule
        spans the shorter of ``epochs`` and ``max_steps``).

    Learned attributes: ``tokenizer_``, ``vocab_``, ``model_``, ``history_``.
    """

    def __init__(self, tokenizer: str = "char", vocab_size: int = 2000, embed_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 1, tie_weights: bool = True, dropout: float = 0.0, dropout_h: float = 0.0,
                 dropout_i: float = 0.0, dropout_e: float = 0.0, weight_drop: float = 0.0, bptt: int = 64,
                 batch_size: int = 32, epochs: int = 10, lr: float = 8e-3, weight_decay: float = 0.0,
                 max_time: float | None = None, max_steps: int | None = None, schedule: str = "cosine",
                 eval_every: int | None = None,
                 seed: int = 0, device: str = "auto", progress: bool = True):
        if tokenizer not in ("char", "sentencepiece"):
            raise ValueError(f"tokenizer must be 'char' or 'sentencepiece', got {tokenizer!r}")
        self.tokenizer, self.vocab_size, self.embed_dim, self.hidden_size = tokenizer, vocab_size, embed_dim, hidden_size
        self.num_layers, self.tie_weights, self.dropout, self.dropout_h = num_layers, tie_weights, dropout, dropout_h
        self.dropout_i, self.dropout_e, self.weight_drop, self.bptt = dropout_i, dropout_e, weight_drop, bptt
        self.batch_size, self.epochs, self.lr, self.weight_decay = batch_size, epochs, lr, weight_decay
        self.max_time, self.max_steps, self.schedule, self.eval_every = max_time, max_steps, schedule, eval_every
        self.seed, self.device, self.progress = seed, device, progress

    def get_params(self) -> dict:
        """Constructor arguments (scikit-learn style); saved in ``config.json``."""
        return {k: getattr(self, k) for k in inspect.signature(type(self).__init__).parameters if k != "self"}

    # ------------------------------------------------------------------------------------------------ fit
    def fit(self, text: str, valid: str | None = None) -> LanguageModel:
        """Learn from one long training ``text``; ``valid`` text picks the best weights by validation loss."""
        from rnnkit.train import TrainConfig, Trainer

        if not isinstance(text, str) or not text.strip():
            raise ValueError("LanguageModel.fit needs a non-empty training text (one string)")
        if self.tokenizer == "sentencepiece":
            self.tokenizer_ = SentencePieceTokenizer(vocab_size=self.vocab_size).fit(text.split("\n"))
        else:
            self.tokenizer_ = CharTokenizer()
        tokens = self.tokenizer_.tokenize(text)
        self.vocab_ = Vocabulary.build([tokens])
        ids = torch.tensor(self.vocab_.encode(tokens))
        config = LMConfig(vocab_size=len(self.vocab_), embed_dim=self.embed_dim, hidden_size=self.hidden_size,
                          num_layers=self.num_layers, tie_weights=self.tie_weights, dropout=self.dropout,
                          dropout_h=self.dropout_h, dropout_i=self.dropout_i, dropout_e=self.dropout_e,
                          weight_drop=self.weight_drop)
        torch.manual_seed(self.seed)
        self.model_ = RNNLanguageModel(config)
        with torch.no_grad():  # start from the unigram distribution: skips the plateau where the model learns it
            counts = torch.bincount(ids, minlength=len(self.vocab_)).float() + 1.0
            self.model_.decoder.bias.copy_((counts / counts.sum()).log())
        train = StreamBatches(ids, self.batch_size, self.bptt, seed=self.seed)
        eval_fn = None
        if valid is not None:
            vtokens = self._encode_checked(valid, "valid")
            # 16 parallel streams: close to the exact one-stream score (evaluate()) at a fraction of its time
            eval_fn = lambda model: {"val_loss": self._stream_loss(model, vtokens, batch_size=16)}  # noqa: E731
        carried: dict[str, object] = {"state": None}

        def loss_fn(model: RNNLanguageModel, batch) -> Tensor:
            x, y, first = batch
            state = None if first else detach_state(carried["state"])
            logits, carried["state"] = model(x, state)  # (B, T, V)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

        cfg = TrainConfig(max_epochs=self.epochs, max_time=self.max_time, max_steps=self.max_steps, lr=self.lr,
                          weight_decay=self.weight_decay, schedule=self.schedule, seed=self.seed,
                          device=self.device, progress=self.progress, eval_every=self.eval_every,
                          monitor="val_loss" if valid is not None else "train_loss")
        self.history_ = Trainer(cfg).fit(self.model_, train, loss_fn=loss_fn, eval_fn=eval_fn,
                                         model_config=config.to_dict())
        self.model_.eval()
        return self

    def _encode_checked(self, text: str, what: str) -> Tensor:
        if not isinstance(text, str) or not text:
            raise ValueError(f"{what} text is empty")
        tokens = self.tokenizer_.tokenize(text)
        if len(tokens) < 2:
            raise ValueError(f"{what} text needs at least 2 tokens to score, got {len(tokens)}")
        return torch.tensor(self.vocab_.encode(tokens))

    @torch.no_grad()
    def _stream_loss(self, model: RNNLanguageModel, ids: Tensor, batch_size: int = 1, window: int = 512) -> float:
        """Mean next-token loss (nats per token) over ``ids``, reading it as ``batch_size`` streams in order."""
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        batch_size = max(1, min(batch_size, (len(ids) - 1) // 64))  # streams of at least 64 tokens
        L = (len(ids) - 1) // batch_size
        x = ids[: batch_size * L].view(batch_size, L).to(device)
        y = ids[1: batch_size * L + 1].view(batch_size, L).to(device)
        total, state = 0.0, None
        for j in range(0, L, window):
            logits, state = model(x[:, j: j + window], state)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                           y[:, j: j + window].reshape(-1), reduction="sum"))
        model.train(was_training)
        return total / (batch_size * L)

    # ------------------------------------------------------------------------------------------- evaluate
    def _check_fitted(self, who: str) -> None:
        if not hasattr(self, "model_"):
            raise ValueError(f"LanguageModel.{who} needs a fitted model: call fit(text) or LanguageModel.load(path)")

    def evaluate(self, text: str) -> dict[str, float]:
        """``{"loss": nats/char, "bpc": bits/char, "perplexity": per token, "token_loss": nats/token}``."""
        self._check_fitted("evaluate")
        ids = self._encode_checked(text, "evaluation")
        nats = self._stream_loss(self.model_, ids)
        # characters predicted: all but the first token's (the first token is given, not predicted)
        chars = len(text) - len(self.tokenizer_.detokenize(self.tokenizer_.tokenize(text)[:1]))
        return lm_metrics(nats, len(ids) - 1, chars)

    # ------------------------------------------------------------------------------------------- generate
    def generate(self, prompt: str, max_tokens: int = 200, temperature: float = 0.8, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = None) -> Iterator[str]:
        """Continue ``prompt``, yielding each new token's text as soon as it is sampled (a generator).

        Args:
            prompt: the start of the text (not repeated in the output); must not be empty.
            max_tokens: tokens to write.
            temperature: 0 = greedy; < 1 safer, > 1 wilder.
            top_k, top_p: keep only the k most likely tokens / the nucleus of mass p (None: no filter).
            seed: makes the sample repeat.
        """
        self._check_fitted("generate")
        if not isinstance(prompt, str) or prompt == "":
            raise ValueError("the prompt is empty; give the text to continue, e.g. 'ROMEO:'")
        if max_tokens < 0:
            raise ValueError(f"max_tokens must be >= 0, got {max_tokens}")
        check_sampling(temperature, top_k, top_p)
        tokens = self.tokenizer_.tokenize(prompt)
        unknown = sorted({t for t in tokens if t not in self.vocab_})
        if unknown:
            raise ValueError(f"the prompt holds tokens the model never saw in training: {unknown[:10]}")
        if not tokens:
            raise ValueError("the prompt has no tokens after tokenization; give some text to continue")
        return self._generate(self.vocab_.encode(tokens), max_tokens, temperature, top_k, top_p, seed)

    @torch.no_grad()
    def _generate(self, ids: list[int], max_tokens, temperature, top_k, top_p, seed) -> Iterator[str]:
        model = self.model_
        model.eval()
        device = next(model.parameters()).device
        gen = torch.Generator(device=device)
        gen.manual_seed(seed if seed is not None else int(torch.randint(0, 2**31 - 1, ()).item()))
        logits, state = model(torch.tensor([ids], device=device))  # (1, T, V)
        last = logits[:, -1]  # (1, V)
        for _ in range(max_tokens):
            last = last.float().clone()
            last[:, :2] = float("-inf")  # never write <pad> or <unk>
            nxt = sample_next(last, temperature, top_k, top_p, generator=gen)  # (1,)
            yield self.tokenizer_.detokenize(self.vocab_.decode(nxt.tolist()))
            logits, state = model(nxt.view(1, 1), state)
            last = logits[:, -1]

    # --------------------------------------------------------------------------------------- save / load
    def save(self, path: str | Path) -> None:
        """Write a model folder: config.json, model.safetensors, vocab.json (+ tokenizer.model for subwords)."""
        self._check_fitted("save")
        config = {"task": TASK, "params": self.get_params(), "model": self.model_.config.to_dict()}
        save_text_model(path, self.model_, config, self.tokenizer_, self.vocab_)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> LanguageModel:
        """Rebuild a language model saved with :meth:`save`."""
        config, state, tokenizer, vocab = load_text_model(path, TASK, "a language model")
        self = cls(**{**config["params"], "device": device})
        self.tokenizer_, self.vocab_ = tokenizer, vocab
        self.model_ = RNNLanguageModel(LMConfig(**config["model"]))
        self.model_.load_state_dict(state)
        self.model_.to(device).eval()
        return self
