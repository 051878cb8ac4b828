"""The sentence classifier network: embeddings -> BiLSTM / BiGRU -> attention or max pooling -> MLP -> logits.

Attention pooling is the structured self-attention of Lin et al. 2017 ("A Structured Self-attentive Sentence
Embedding", section 2): with the BiRNN outputs ``H (B, T, 2H)``,

.. math::
    A = \\mathrm{softmax}_T(W_{s2} \\tanh(W_{s1} H^\\top)) \\in (B, r, T), \\qquad M = A H \\in (B, r, 2H)

``r`` hops each attend to a different part of the sentence; the penalty ``||A A^T - I||_F^2`` (section 2.2)
keeps the hops apart. Max pooling takes, per feature, the largest output over time (Collobert et al. 2011).

Shape legend: B batch, T tokens, E embedding, H hidden per direction, r attention hops, C classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from rnnkit.nn import GRU, LSTM


@dataclass
class ClassifierConfig:
    """Architecture of :class:`SentenceClassifier`; travels in ``config.json`` of every saved model."""

    vocab_size: int  # V, rows of the embedding table (ids 0 = pad, 1 = unk)
    num_classes: int  # C, size of the output layer
    embed_dim: int = 300  # E; 300 matches common GloVe / word2vec files
    hidden_size: int = 150  # H per direction; the BiRNN outputs 2H features a token
    num_layers: int = 1  # stacked BiRNN layers; one is enough for sentences (Tai et al. 2015)
    cell: str = "lstm"  # "lstm" or "gru"
    pooling: str = "attention"  # "attention" (Lin et al. 2017, gives per-token weights) or "max"
    attention_dim: int = 100  # d_a, width of the attention MLP (Lin et al. use 350 on larger data)
    attention_hops: int = 4  # r, rows of the attention matrix A
    mlp_dim: int = 128  # hidden units of the output MLP (0: a single linear layer)
    dropout: float = 0.5  # on embeddings, between layers and before the output MLP

    def __post_init__(self):
        if self.cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {self.cell!r}")
        if self.pooling not in ("attention", "max"):
            raise ValueError(f"pooling must be 'attention' or 'max', got {self.pooling!r}")
        if self.num_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {self.num_classes}")
        for name in ("vocab_size", "embed_dim", "hidden_size", "num_layers", "attention_dim", "attention_hops"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)


class SentenceClassifier(nn.Module):
    """BiLSTM / BiGRU sentence classifier with attention or max pooling.

    Shape:
        - ids: (B, T) int64 token ids, 0 = padding.
        - lengths: (B,) int64, real tokens per row (>= 1).
        - returns ``(logits (B, C), weights (B, T), penalty ())``: ``weights`` sums to 1 over each row's real
          tokens (attention: mean over hops; max: share of pooled features each token supplied); ``penalty`` is
          Lin et al.'s ``||AA^T - I||_F^2`` averaged over the batch (0 for max pooling).

    Example:
        >>> net = SentenceClassifier(ClassifierConfig(vocab_size=50, num_classes=2, embed_dim=8, hidden_size=8))
        >>> logits, w, _ = net(torch.tensor([[2, 3, 4], [5, 6, 0]]), torch.tensor([3, 2]))
        >>> logits.shape, w.shape
        (torch.Size([2, 2]), torch.Size([2, 3]))
    """

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        c = self.config = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim, padding_idx=0)
        nn.init.normal_(self.embedding.weight, 0.0, 0.1)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        rnn = LSTM if c.cell == "lstm" else GRU
        self.rnn = rnn(c.embed_dim, c.hidden_size, num_layers=c.num_layers, bidirectional=True,
                       dropout=c.dropout if c.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        feat = 2 * c.hidden_size
        if c.pooling == "attention":
            self.ws1 = nn.Linear(feat, c.attention_dim, bias=False)
            self.ws2 = nn.Linear(c.attention_dim, c.attention_hops, bias=False)
            feat *= c.attention_hops
        self.head = (nn.Sequential(nn.Linear(feat, c.mlp_dim), nn.ReLU(), nn.Dropout(c.dropout),
                                   nn.Linear(c.mlp_dim, c.num_classes))
                     if c.mlp_dim > 0 else nn.Linear(feat, c.num_classes))

    def forward(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        B, T = ids.shape
        mask = ids != 0  # (B, T) real tokens
        x = self.drop(self.embedding(ids))  # (B, T, E)
        h, _ = self.rnn(x, lengths=lengths.cpu())  # (B, T, 2H), zeros at padding
        if self.config.pooling == "attention":
            scores = self.ws2(torch.tanh(self.ws1(h))).transpose(1, 2)  # (B, r, T)
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
            A = torch.softmax(scores, dim=-1)  # (B, r, T)
            M = A @ h  # (B, r, T) @ (B, T, 2H) -> (B, r, 2H)
            eye = torch.eye(A.shape[1], device=A.device)
            penalty = ((A @ A.transpose(1, 2) - eye) ** 2).sum((1, 2)).mean()
            pooled, weights = M.flatten(1), A.mean(1)  # (B, r*2H), (B, T)
        else:
            h = h.masked_fill(~mask.unsqueeze(-1), float("-inf"))
            pooled, arg = h.max(dim=1)  # (B, 2H), (B, 2H) index of the winning token per feature
            counts = torch.zeros(B, T, device=h.device).scatter_add_(1, arg, torch.ones_like(arg, dtype=h.dtype))
            weights = counts / counts.sum(1, keepdim=True)  # (B, T)
            penalty = h.new_zeros(())
        return self.head(self.drop(pooled)), weights, penalty
