"""``TextClassifier``: sentiment (or any label) from text, with the words that drove each decision.

Example:
    >>> clf = TextClassifier(epochs=5, embed_dim=32, hidden_size=32).fit(texts, labels, valid=(vt, vl))
    >>> clf.predict(["a wonderful film"]), clf.predict_proba(["a wonderful film"])
    >>> clf.explain("not a wonderful film")   # [("not", 0.41), ("a", 0.05), ...]
    >>> clf.save("model_dir"); TextClassifier.load("model_dir")
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F

from rnnkit.text.classifier_model import ClassifierConfig, SentenceClassifier
from rnnkit.text.metrics import accuracy, confusion_matrix, macro_f1
from rnnkit.text.persist import load_text_model, save_text_model
from rnnkit.text.tokenizers import SentencePieceTokenizer, make_tokenizer
from rnnkit.text.vocab import Vocabulary

TASK = "text-classifier"


def _label_key(label: str):
    """Sort integer-like labels numerically ("2" < "10"), others alphabetically."""
    try:
        return (0, int(label), "")
    except ValueError:
        return (1, 0, label)


def _collate(samples: list[tuple[list[int], int]]) -> tuple[Tensor, Tensor, Tensor]:
    """[(ids, label)] -> (ids (B, T) padded with 0, lengths (B,), labels (B,))."""
    lengths = torch.tensor([len(s[0]) for s in samples])
    ids = torch.zeros(len(samples), int(lengths.max()), dtype=torch.long)
    for i, (seq, _) in enumerate(samples):
        ids[i, : len(seq)] = torch.tensor(seq)
    return ids, lengths, torch.tensor([s[1] for s in samples])


class TextClassifier:
    """BiLSTM / BiGRU text classifier with attention (Lin et al. 2017) or max pooling.

    Args:
        tokenizer: ``"word"`` (punctuation and ``n't`` split off) or ``"sentencepiece"`` (learned subwords).
        vocab_size: sentencepiece pieces to learn; for ``"word"``, the most frequent words kept (None: all).
        min_freq: word tokenizer: keep words seen at least this often in training (others become ``<unk>``).
        embed_dim, hidden_size, num_layers, cell, pooling, attention_hops, attention_dim, mlp_dim, dropout: the
            network (see :class:`ClassifierConfig`).
        embeddings: path to a GloVe / word2vec text file to initialise the embeddings (None: random init).
        word_dropout: probability of replacing a training token by ``<unk>`` (regularises rare-word reliance).
        penalty: weight of Lin et al.'s attention penalty ``||AA^T - I||_F^2`` (section 2.2).
        epochs, batch_size, lr, weight_decay, max_time (minutes), patience (epochs without validation gain),
        seed, device, progress: training settings passed to :class:`rnnkit.train.Trainer`.

    Learned attributes: ``classes_`` (label names, id order), ``tokenizer_``, ``vocab_``, ``model_``, ``history_``.
    """

    def __init__(self, tokenizer: str = "word", vocab_size: int | None = None, min_freq: int = 1,
                 embed_dim: int = 300, hidden_size: int = 150, num_layers: int = 1, cell: str = "lstm",
                 pooling: str = "attention", attention_hops: int = 4, attention_dim: int = 100, mlp_dim: int = 128,
                 dropout: float = 0.5, embeddings: str | None = None, word_dropout: float = 0.1,
                 penalty: float = 0.01, epochs: int = 10, batch_size: int = 32, lr: float = 1e-3,
                 weight_decay: float = 0.0, max_time: float | None = None, patience: int | None = None,
                 seed: int = 0, device: str = "auto", progress: bool = True):
        if tokenizer not in ("word", "sentencepiece"):
            raise ValueError(f"tokenizer must be 'word' or 'sentencepiece', got {tokenizer!r}")
        self.tokenizer, self.vocab_size, self.min_freq = tokenizer, vocab_size, min_freq
        self.embed_dim, self.hidden_size, self.num_layers, self.cell = embed_dim, hidden_size, num_layers, cell
        self.pooling, self.attention_hops, self.attention_dim = pooling, attention_hops, attention_dim
        self.mlp_dim, self.dropout, self.embeddings = mlp_dim, dropout, embeddings
        self.word_dropout, self.penalty = word_dropout, penalty
        self.epochs, self.batch_size, self.lr, self.weight_decay = epochs, batch_size, lr, weight_decay
        self.max_time, self.patience, self.seed, self.device, self.progress = max_time, patience, seed, device, progress

    def get_params(self) -> dict:
        """Constructor arguments (scikit-learn style); saved in ``config.json``."""
        return {k: getattr(self, k) for k in inspect.signature(type(self).__init__).parameters if k != "self"}

    # ------------------------------------------------------------------------------------------------ fit
    def fit(self, texts: Sequence[str], labels: Sequence, valid: tuple[Sequence[str], Sequence] | None = None
            ) -> TextClassifier:
        """Learn from ``texts`` and their ``labels`` (any hashable names); ``valid=(texts, labels)`` picks the
        epoch with the best validation accuracy and enables ``patience``."""
        from rnnkit.train import SampleBatches, TrainConfig, Trainer

        texts, labels = self._check_pairs(texts, labels, "fit")
        classes = sorted({str(y) for y in labels}, key=_label_key)
        if len(classes) < 2:
            raise ValueError(f"fit needs at least 2 classes to tell apart, but every label is {classes[0]!r}")
        self.classes_ = classes
        if self.tokenizer == "sentencepiece":
            self.tokenizer_ = SentencePieceTokenizer(vocab_size=self.vocab_size or 8000, lowercase=True).fit(texts)
        else:
            self.tokenizer_ = make_tokenizer({"kind": "word"})
        tokens = [self.tokenizer_.tokenize(t) for t in texts]
        max_size = self.vocab_size if self.tokenizer == "word" else None
        self.vocab_ = Vocabulary.build(tokens, min_freq=self.min_freq if self.tokenizer == "word" else 1,
                                       max_size=max_size)
        config = ClassifierConfig(
            vocab_size=len(self.vocab_), num_classes=len(classes), embed_dim=self.embed_dim,
            hidden_size=self.hidden_size, num_layers=self.num_layers, cell=self.cell, pooling=self.pooling,
            attention_dim=self.attention_dim, attention_hops=self.attention_hops, mlp_dim=self.mlp_dim,
            dropout=self.dropout)
        torch.manual_seed(self.seed)
        self.model_ = SentenceClassifier(config)
        if self.embeddings:
            from rnnkit.text.embeddings import init_embedding, load_vectors

            vectors, found = load_vectors(self.embeddings, self.vocab_)
            init_embedding(self.model_.embedding, vectors, found)
            self.embedding_coverage_ = float(found[2:].float().mean()) if len(found) > 2 else 0.0
        train = SampleBatches(self._samples(tokens, labels), self.batch_size, _collate, shuffle=True,
                              seed=self.seed, length=lambda s: len(s[0]))
        eval_fn = None
        if valid is not None:
            vtexts, vlabels = self._check_pairs(*valid, "fit(valid=...)")
            vsamples = self._samples([self.tokenizer_.tokenize(t) for t in vtexts], vlabels)
            eval_fn = self._eval_fn(vsamples)
        cfg = TrainConfig(max_epochs=self.epochs, max_time=self.max_time, lr=self.lr, weight_decay=self.weight_decay,
                          schedule="cosine", seed=self.seed, device=self.device, progress=self.progress,
                          early_stopping_patience=self.patience if valid is not None else None,
                          monitor="val_accuracy" if valid is not None else "train_loss",
                          mode="max" if valid is not None else "min")
        result = Trainer(cfg).fit(self.model_, train, loss_fn=self._loss, eval_fn=eval_fn,
                                  model_config=config.to_dict())
        self.history_ = result
        self.model_.eval()
        return self

    def _check_pairs(self, texts, labels, who: str) -> tuple[list[str], list[str]]:
        if isinstance(texts, str):
            raise ValueError(f"{who} expects a list of texts, got one string; wrap it in a list")
        texts, labels = list(texts), [str(y) for y in labels]
        if len(texts) != len(labels):
            raise ValueError(f"{who} got {len(texts)} texts but {len(labels)} labels; they must pair up")
        if not texts:
            raise ValueError(f"{who} got no texts")
        return texts, labels

    def _samples(self, tokens: list[list[str]], labels: list[str]) -> list[tuple[list[int], int]]:
        index = {c: i for i, c in enumerate(self.classes_)}
        unknown = sorted({y for y in labels if y not in index})
        if unknown:
            raise ValueError(f"labels {unknown[:5]} were not seen in training; known classes: {self.classes_}")
        return [(self.vocab_.encode(t) or [Vocabulary.unk_id], index[y]) for t, y in zip(tokens, labels)]

    def _loss(self, model: SentenceClassifier, batch) -> Tensor:
        ids, lengths, y = batch
        if self.word_dropout > 0:
            drop = (torch.rand(ids.shape, device=ids.device) < self.word_dropout) & (ids != 0)
            ids = ids.masked_fill(drop, Vocabulary.unk_id)
        logits, _, penalty = model(ids, lengths)
        return F.cross_entropy(logits, y) + self.penalty * penalty

    def _eval_fn(self, samples):
        def evaluate(model: SentenceClassifier) -> dict[str, float]:
            probs = self._proba_ids(model, samples)
            y = np.array([s[1] for s in samples])
            pred = probs.argmax(1)
            nll = float(-np.log(np.maximum(probs[np.arange(len(y)), y], 1e-12)).mean())
            return {"val_loss": nll, "val_accuracy": accuracy(y, pred), "val_macro_f1": macro_f1(y, pred)}
        return evaluate

    # ------------------------------------------------------------------------------------------- predict
    def _check_fitted(self, who: str) -> None:
        if not hasattr(self, "model_"):
            raise ValueError(f"TextClassifier.{who} needs a fitted model: call fit(texts, labels) or "
                             "TextClassifier.load(path) first")

    @torch.no_grad()
    def _proba_ids(self, model: SentenceClassifier, samples, batch_size: int = 256) -> np.ndarray:
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        order = np.argsort([len(s[0]) for s in samples], kind="stable")  # similar lengths together: less padding
        out = np.zeros((len(samples), model.config.num_classes), dtype=np.float32)
        for i in range(0, len(order), batch_size):
            idx = order[i: i + batch_size]
            ids, lengths, _ = _collate([samples[j] for j in idx])
            logits, _, _ = model(ids.to(device), lengths)
            out[idx] = torch.softmax(logits.float(), -1).cpu().numpy()
        model.train(was_training)
        return out

    def _encode_texts(self, texts) -> list[tuple[list[int], int]]:
        if isinstance(texts, str):
            raise ValueError("expected a list of texts, got one string; wrap it in a list")
        return [(self.vocab_.encode(self.tokenizer_.tokenize(t)) or [Vocabulary.unk_id], 0) for t in texts]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(N, C)``; columns follow ``classes_``."""
        self._check_fitted("predict_proba")
        return self._proba_ids(self.model_, self._encode_texts(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label name of each text."""
        self._check_fitted("predict")
        return [self.classes_[i] for i in self.predict_proba(texts).argmax(1)]

    @torch.no_grad()
    def explain(self, text: str) -> list[tuple[str, float]]:
        """Per-token weights of the decision: ``[(token, weight)]`` summing to 1.

        Attention pooling gives the attention weights averaged over hops; max pooling gives each token's share
        of the pooled features.
        """
        self._check_fitted("explain")
        if not isinstance(text, str):
            raise ValueError(f"explain expects one string, got {type(text).__name__}")
        tokens = self.tokenizer_.tokenize(text)
        if not tokens:
            return []
        self.model_.eval()
        device = next(self.model_.parameters()).device
        ids = torch.tensor([self.vocab_.encode(tokens)], device=device)
        _, weights, _ = self.model_(ids, torch.tensor([len(tokens)]))
        return [(t, float(w)) for t, w in zip(tokens, weights[0].cpu())]

    def evaluate(self, texts: Sequence[str], labels: Sequence) -> dict:
        """``{"accuracy", "macro_f1", "confusion_matrix" (C x C list, rows true), "n"}``."""
        self._check_fitted("evaluate")
        texts, labels = self._check_pairs(texts, labels, "evaluate")
        index = {c: i for i, c in enumerate(self.classes_)}
        unknown = sorted({y for y in labels if y not in index})
        if unknown:
            raise ValueError(f"labels {unknown[:5]} are not among the model's classes {self.classes_}")
        y = np.array([index[v] for v in labels])
        pred = self.predict_proba(texts).argmax(1)
        C = len(self.classes_)
        return {"accuracy": accuracy(y, pred), "macro_f1": macro_f1(y, pred, C),
                "confusion_matrix": confusion_matrix(y, pred, C).tolist(), "n": len(y)}

    # --------------------------------------------------------------------------------------- save / load
    def save(self, path: str | Path) -> None:
        """Write a model folder: config.json, model.safetensors, vocab.json (+ tokenizer.model for subwords)."""
        self._check_fitted("save")
        config = {"task": TASK, "params": self.get_params(), "model": self.model_.config.to_dict(),
                  "classes": self.classes_}
        save_text_model(path, self.model_, config, self.tokenizer_, self.vocab_)

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> TextClassifier:
        """Rebuild a classifier saved with :meth:`save`."""
        config, state, tokenizer, vocab = load_text_model(path, TASK, "a text classifier")
        self = cls(**{**config["params"], "device": device})
        self.classes_ = list(config["classes"])
        self.tokenizer_, self.vocab_ = tokenizer, vocab
        self.model_ = SentenceClassifier(ClassifierConfig(**config["model"]))
        self.model_.load_state_dict(state)
        self.model_.to(device).eval()
        return self
