"""The attention decoder: one step at a time (search, scheduled sampling) or the whole target at once (training).

Two wirings, chosen by the attention kind:

* Luong (``dot`` / ``general``, Luong et al. 2015 sec. 3): ``h_t = RNN([y_{t-1}; h~_{t-1}], s_{t-1})``,
  ``c_t = attn(h_t)``, ``h~_t = tanh(W_c [c_t; h_t])``, ``p(y_t) = softmax(W_o h~_t)``. The ``[...; h~_{t-1}]``
  part is input feeding (sec. 3.3); without it the recurrent part runs as one fused call in training.
* Bahdanau (``additive``, Bahdanau et al. 2015 appendix A): ``c_t = attn(s_{t-1})``,
  ``s_t = RNN([y_{t-1}; c_t], s_{t-1})``, ``h~_t = tanh(W_c [s_t; c_t; y_{t-1}])``, ``p(y_t) = softmax(W_o h~_t)``.

``h~`` has the embedding size E, so the output layer ``W_o`` can share the target embedding (tied embeddings).
Shape legend: B batch (times beams in search), T target length, S source length, E embedding, H hidden, V vocab.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.nn import GRU, LSTM
from rnnkit.translate.attention import Attention
from rnnkit.translate.tokenizer import PAD


class Memory(NamedTuple):
    """What the decoder reads from the encoder; fixed for a sentence, so search never reorders it."""

    values: Tensor  # (B, S, H) projected encoder outputs
    keys: Tensor  # (B, S, H) attention's precomputed memory side
    mask: Tensor  # (B, S) bool, True at real source positions

    def repeat(self, k: int) -> Memory:
        """Each row k times in a row (row b becomes rows b*k .. b*k+k-1), for beam search."""
        return Memory(*(t.repeat_interleave(k, dim=0) for t in self))


class DecoderState(NamedTuple):
    """The decoder's running memory between steps."""

    rnn: tuple[Tensor, ...]  # RNNState / LSTMState fields, each (L, B, H)
    feed: Tensor  # (B, E) previous attentional vector h~ (Luong); unused zeros for Bahdanau

    def select(self, index: Tensor) -> DecoderState:
        """Keep / reorder batch rows ``index`` (B',)."""
        return DecoderState(type(self.rnn)(*(t.index_select(1, index) for t in self.rnn)),
                            self.feed.index_select(0, index))


class Decoder(nn.Module):
    """Attention decoder over a target vocabulary of ``vocab_size`` tokens (see the module docstring)."""

    def __init__(self, cell: str, attention: str, vocab_size: int, embed_size: int, hidden_size: int,
                 num_layers: int, dropout: float, input_feeding: bool, tie_embeddings: bool):
        super().__init__()
        self.bahdanau = attention == "additive"
        self.input_feeding = input_feeding and not self.bahdanau
        self.embed_size = embed_size
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        extra = hidden_size if self.bahdanau else (embed_size if self.input_feeding else 0)
        rnn = {"gru": GRU, "lstm": LSTM}[cell]
        self.rnn = rnn(embed_size + extra, hidden_size, num_layers, dropout=dropout)
        self.attention = Attention(attention, hidden_size)
        combine_in = 2 * hidden_size + (embed_size if self.bahdanau else 0)
        self.combine = nn.Linear(combine_in, embed_size, bias=False)  # W_c
        self.out = nn.Linear(embed_size, vocab_size)  # W_o
        if tie_embeddings:
            self.out.weight = self.embedding.weight
        self.drop = nn.Dropout(dropout)

    def init_state(self, rnn_state: tuple[Tensor, ...]) -> DecoderState:
        B = rnn_state[0].shape[1]
        return DecoderState(rnn_state, rnn_state[0].new_zeros(B, self.embed_size))

    def step(self, prev: Tensor, memory: Memory, state: DecoderState) -> tuple[Tensor, DecoderState, Tensor]:
        """One step: previous tokens (B,) -> logits (B, V), new state, attention weights (B, S)."""
        emb = self.drop(self.embedding(prev))  # (B, E)
        if self.bahdanau:
            context, weights = self.attention(state.rnn[0][-1], memory.values, memory.keys, memory.mask)
            h, rnn = self.rnn.step(torch.cat([emb, context], -1), state.rnn)  # [B, E] + [B, H] -> [B, E + H]
            att = torch.tanh(self.combine(torch.cat([h, context, emb], -1)))  # [B, 2H + E] -> [B, E]
        else:
            x = torch.cat([emb, state.feed], -1) if self.input_feeding else emb  # [B, E] + [B, E] -> [B, 2E]
            h, rnn = self.rnn.step(x, state.rnn)  # (B, H)
            context, weights = self.attention(h, memory.values, memory.keys, memory.mask)
            att = torch.tanh(self.combine(torch.cat([context, h], -1)))  # [B, H] + [B, H] -> [B, E]
        att = self.drop(att)
        return self.out(att), DecoderState(rnn, att), weights

    def forward(self, tgt_in: Tensor, memory: Memory, state: DecoderState, sampling: float = 0.0
                ) -> tuple[Tensor, Tensor]:
        """Teacher forcing over the whole target: tgt_in (B, T) -> logits (B, T, V), attention (B, T, S).

        With ``sampling > 0`` each input token after the first is replaced, with that probability, by the
        model's own previous prediction (scheduled sampling, Bengio et al. 2015).
        """
        if not self.bahdanau and not self.input_feeding and sampling == 0.0:
            emb = self.drop(self.embedding(tgt_in))  # (B, T, E)
            h, _ = self.rnn(emb, state.rnn)  # (B, T, H), one fused call
            context, weights = self.attention(h, memory.values, memory.keys, memory.mask)  # (B, T, H), (B, T, S)
            att = self.drop(torch.tanh(self.combine(torch.cat([context, h], -1))))  # [B,T,2H] -> [B,T,E]
            return self.out(att), weights
        logits, attn = [], []
        prev = tgt_in[:, 0]
        for t in range(tgt_in.shape[1]):
            if t > 0:
                prev = tgt_in[:, t]
                if sampling > 0.0:
                    own = logits[-1].detach().argmax(-1)  # (B,)
                    use_own = torch.rand(prev.shape, device=prev.device) < sampling
                    prev = torch.where(use_own & (prev != PAD), own, prev)
            step_logits, state, weights = self.step(prev, memory, state)
            logits.append(step_logits)
            attn.append(weights)
        return torch.stack(logits, 1), torch.stack(attn, 1)


def sequence_loss(logits: Tensor, target: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """Mean token cross-entropy over non-pad targets: logits (B, T, V), target (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=PAD,
                           label_smoothing=label_smoothing)
