"""``Seq2Seq``: a bidirectional recurrent encoder and an attention decoder (:mod:`rnnkit.translate.decoder`).

The encoder reads the source both ways (Bahdanau et al. 2015 sec. 3.2); its outputs ``[h_fwd; h_bwd]`` (2H) are
projected to the decoder size H to form the attention memory, and each layer's final forward and backward states
are bridged (``tanh(W [h_fwd; h_bwd])``) into the decoder's initial state.

The search protocol used by :mod:`rnnkit.translate.search`: ``start(src, lengths) -> (memory, state)``,
``step(prev, memory, state) -> (log_probs, state, attention)``, ``reorder(state, index)``.

Shape legend: B batch, S source length, T target length, E embedding, H hidden, L layers, V vocabulary.

Example:
    >>> model = Seq2Seq(TranslatorConfig(embed_size=16, hidden_size=16), src_vocab=20, tgt_vocab=30)
    >>> src, lengths = torch.randint(4, 20, (2, 7)), torch.tensor([7, 5])
    >>> logits = model(src, lengths, torch.randint(4, 30, (2, 6)))
    >>> logits.shape
    torch.Size([2, 6, 30])
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.nn import GRU, LSTM
from rnnkit.translate.config import TranslatorConfig
from rnnkit.translate.decoder import Decoder, DecoderState, Memory, sequence_loss
from rnnkit.translate.tokenizer import BOS, PAD


class Encoder(nn.Module):
    """Embedding and a bidirectional GRU / LSTM. ``src (B, S), lengths (B,) -> outputs (B, S, 2H), state``."""

    def __init__(self, cell: str, vocab_size: int, embed_size: int, hidden_size: int, num_layers: int,
                 dropout: float):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        rnn = {"gru": GRU, "lstm": LSTM}[cell]
        self.rnn = rnn(embed_size, hidden_size, num_layers, dropout=dropout, bidirectional=True)
        self.drop = nn.Dropout(dropout)

    def forward(self, src: Tensor, lengths: Tensor):
        emb = self.drop(self.embedding(src))  # (B, S, E)
        return self.rnn(emb, lengths=lengths)  # (B, S, 2H), state fields (2L, B, H)


class Seq2Seq(nn.Module):
    """The translation network. ``forward`` is teacher forcing; decoding goes through the search protocol."""

    def __init__(self, config: TranslatorConfig, src_vocab: int, tgt_vocab: int):
        super().__init__()
        c = config
        self.config = c
        self.encoder = Encoder(c.cell, src_vocab, c.embed_size, c.hidden_size, c.num_layers, c.dropout)
        self.memory_proj = nn.Linear(2 * c.hidden_size, c.hidden_size, bias=False)  # 2H -> H
        # One bridge per state field (h, and c for LSTM): [h_fwd; h_bwd] (2H) -> decoder H.
        n_fields = 2 if c.cell == "lstm" else 1
        self.bridge = nn.ModuleList(nn.Linear(2 * c.hidden_size, c.hidden_size) for _ in range(n_fields))
        self.register_buffer("_never", torch.tensor([PAD, BOS]), persistent=False)
        self.decoder = Decoder(c.cell, c.attention, tgt_vocab, c.embed_size, c.hidden_size, c.num_layers,
                               c.dropout, c.input_feeding, c.tie_embeddings)

    def start(self, src: Tensor, lengths: Tensor) -> tuple[Memory, DecoderState]:
        """Encode ``src (B, S)`` with ``lengths (B,)``: the attention memory and the decoder's first state."""
        outputs, enc_state = self.encoder(src, lengths)  # (B, S, 2H); fields (2L, B, H)
        values = self.memory_proj(outputs)  # (B, S, H)
        mask = torch.arange(src.shape[1], device=src.device).unsqueeze(0) < lengths.to(src.device).unsqueeze(1)
        memory = Memory(values, self.decoder.attention.keys(values), mask)
        fields = []
        for bridge, f in zip(self.bridge, enc_state):
            L2, B, H = f.shape
            both = f.view(L2 // 2, 2, B, H).permute(0, 2, 1, 3).reshape(L2 // 2, B, 2 * H)  # (L, B, 2H)
            fields.append(torch.tanh(bridge(both)))  # (L, B, H)
        return memory, self.decoder.init_state(type(enc_state)(*fields))

    def step(self, prev: Tensor, memory: Memory, state: DecoderState) -> tuple[Tensor, DecoderState, Tensor]:
        """Log-probabilities (B, V) of the next token given the previous ones (B,); PAD and BOS are never emitted."""
        logits, state, weights = self.decoder.step(prev, memory, state)
        logits = logits.float().index_fill(-1, self._never.to(logits.device), float("-inf"))
        return torch.log_softmax(logits, -1), state, weights

    @staticmethod
    def reorder(state: DecoderState, index: Tensor) -> DecoderState:
        return state.select(index)

    def forward(self, src: Tensor, lengths: Tensor, tgt_in: Tensor, sampling: float = 0.0) -> Tensor:
        """Teacher forcing: ``src (B, S), lengths (B,), tgt_in (B, T)`` (BOS first) -> logits (B, T, V)."""
        memory, state = self.start(src, lengths)
        logits, _ = self.decoder(tgt_in, memory, state, sampling)
        return logits

    def loss(self, src: Tensor, lengths: Tensor, tgt: Tensor) -> Tensor:
        """Label-smoothed cross-entropy of ``tgt (B, T+1)`` = BOS, tokens, EOS, padding."""
        sampling = self.config.scheduled_sampling if self.training else 0.0
        logits = self(src, lengths, tgt[:, :-1], sampling)  # (B, T, V)
        smoothing = self.config.label_smoothing if self.training else 0.0
        return sequence_loss(logits, tgt[:, 1:], smoothing)
