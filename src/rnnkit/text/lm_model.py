"""The language-model network: embeddings -> stacked LSTMs -> tied softmax, with AWD-LSTM regularisation.

Each layer is its own one-layer ``rnnkit.nn.LSTM`` so that variational dropout can sit between layers and
DropConnect can act on each ``W_hh`` (Merity et al. 2018). The decoder shares its weight matrix with the
embedding (weight tying: Press & Wolf 2017, Inan et al. 2017); when ``hidden_size != embed_dim`` a linear
projection maps the top layer to ``embed_dim`` first.

The recurrent memory is explicit: ``forward(ids, state)`` takes and returns a tuple with one ``LSTMState`` per
layer (fields ``(1, B, H_l)``), so truncated backpropagation is ``state = detach_state(state)``.

Shape legend: B batch, T time, V vocabulary, E embedding, H hidden.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import Tensor, nn
from torch.nn.utils import parametrize

from rnnkit.nn import LSTM, LSTMState
from rnnkit.text.regularization import LockedDropout, embedding_dropout, weight_drop

LMState = tuple[LSTMState, ...]


@dataclass
class LMConfig:
    """Architecture and regularisation of :class:`RNNLanguageModel`; saved in ``config.json``."""

    vocab_size: int  # V, tokens the model reads and writes (ids 0 = pad, 1 = unk are never sampled)
    embed_dim: int = 128  # E, also the width the tied decoder reads
    hidden_size: int = 512  # H of every LSTM layer
    num_layers: int = 2  # stacked LSTM layers
    tie_weights: bool = True  # decoder weight = embedding weight (fewer parameters, better perplexity)
    dropout: float = 0.1  # variational dropout on the top layer's output (AWD "dropout")
    dropout_h: float = 0.1  # variational dropout between LSTM layers (AWD "dropouth")
    dropout_i: float = 0.1  # variational dropout on the embeddings (AWD "dropouti")
    dropout_e: float = 0.0  # whole-token embedding dropout (AWD "dropoute")
    weight_drop: float = 0.1  # DropConnect on every W_hh (AWD "wdrop")

    def __post_init__(self):
        for name in ("vocab_size", "embed_dim", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("dropout", "dropout_h", "dropout_i", "dropout_e", "weight_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)


def detach_state(state: LMState | None) -> LMState | None:
    """Cut the graph behind ``state`` (truncated backpropagation through time), layer by layer."""
    return None if state is None else tuple(s.detach() for s in state)


class RNNLanguageModel(nn.Module):
    """Stacked-LSTM language model with weight tying and AWD-LSTM regularisation.

    Shape:
        - ids: (B, T) int64 token ids.
        - state: None (zeros) or a tuple of L ``LSTMState``, layer l with fields (1, B, H).
        - returns ``(logits (B, T, V), state)``.

    Example:
        >>> net = RNNLanguageModel(LMConfig(vocab_size=30, embed_dim=8, hidden_size=16))
        >>> logits, s = net(torch.randint(2, 30, (4, 10)))
        >>> logits2, s = net(torch.randint(2, 30, (4, 10)), detach_state(s))  # carries the memory on
    """

    def __init__(self, config: LMConfig):
        super().__init__()
        c = self.config = config
        self.embedding = nn.Embedding(c.vocab_size, c.embed_dim)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        sizes = [c.embed_dim] + [c.hidden_size] * c.num_layers
        self.layers = nn.ModuleList(weight_drop(LSTM(sizes[i], sizes[i + 1]), c.weight_drop)
                                    for i in range(c.num_layers))
        self.drop_i, self.drop_h, self.drop_o = (LockedDropout(c.dropout_i), LockedDropout(c.dropout_h),
                                                 LockedDropout(c.dropout))
        out = c.hidden_size
        self.proj = None
        if c.tie_weights and c.hidden_size != c.embed_dim:
            self.proj = nn.Linear(c.hidden_size, c.embed_dim)
            out = c.embed_dim
        self.decoder = nn.Linear(out, c.vocab_size)
        if c.tie_weights:
            self.decoder.weight = self.embedding.weight  # (V, E) shared

    def forward(self, ids: Tensor, state: LMState | None = None) -> tuple[Tensor, LMState]:
        if state is not None and len(state) != len(self.layers):
            raise ValueError(f"state must hold one LSTMState per layer ({len(self.layers)}), got {len(state)}")
        x = embedding_dropout(self.embedding, ids, self.config.dropout_e, self.training)  # (B, T, E)
        x = self.drop_i(x)
        new = []
        with parametrize.cached():  # one DropConnect mask per W_hh for the whole call
            for i, layer in enumerate(self.layers):
                x, s = layer(x, None if state is None else state[i])  # (B, T, H)
                new.append(s)
                x = self.drop_h(x) if i < len(self.layers) - 1 else self.drop_o(x)
        if self.proj is not None:
            x = self.proj(x)  # (B, T, H) -> (B, T, E)
        return self.decoder(x), tuple(new)  # (B, T, V)
