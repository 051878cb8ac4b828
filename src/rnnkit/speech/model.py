"""The acoustic model: subsampling -> stacked (Bi)LSTM / (Bi)GRU -> linear -> log_softmax, trained with CTC.

    feats (B, T, M) -> stack or strided conv, factor s -> (B, T', s M or C), T' = ceil(T / s)
                    -> L rnnkit.nn LSTM / GRU layers, D dirs -> (B, T', D H)
                    [-> lookahead: y_t = sum_j w_j * h_{t+j}, j = 0..k, per channel; unidirectional only]
                    -> Linear + log_softmax                -> (B, T', V)   V = alphabet size incl. blank

Subsampling groups s consecutive frames without overlap, so it is causal within a group and a unidirectional
model streams chunk by chunk (``forward_chunk``) with exactly the whole-utterance result.

The lookahead is Deep Speech 2's row convolution (Amodei et al. 2016, sec. 3.5): a unidirectional model sees k
steps of future context (k s frames of 10 ms) at the cost of k steps of latency, which recovers much of what a
bidirectional model gains while still streaming. It starts as the identity (w_0 = 1, the others 0).

Example:
    >>> m = AcousticModel(ModelConfig(n_mels=40, vocab_size=12, hidden_size=64))
    >>> logp, lens = m(torch.randn(2, 50, 40), torch.tensor([50, 31]))
    >>> logp.shape, lens.tolist()
    (torch.Size([2, 25, 12]), [25, 16])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rnnkit.nn import GRU, LSTM
from rnnkit.nn.recurrent import reverse_padded
from rnnkit.speech.alphabet import BLANK, ctc_min_frames


@dataclass
class ModelConfig:
    """Shape of the acoustic model; saved in the model folder."""

    n_mels: int = 40  # input features per frame (from FeatureConfig)
    vocab_size: int = 0  # output labels including the CTC blank (from the Alphabet); set by fit
    subsample: int = 2  # time reduction factor s (1 = none): fewer recurrent steps, faster training
    subsample_mode: str = "stack"  # "stack" (concatenate s frames) or "conv" (strided conv, kernel = stride = s)
    conv_channels: int = 128  # output channels of the "conv" subsampler
    cell: str = "lstm"  # "lstm" or "gru"
    hidden_size: int = 128  # H per direction
    num_layers: int = 3  # stacked recurrent layers
    bidirectional: bool = True  # False for streaming: the model then only looks at the past
    dropout: float = 0.1  # between recurrent layers and before the output layer
    lookahead: int = 0  # k: future steps (after subsampling) a unidirectional model may read; 0 = none

    def __post_init__(self):
        if self.subsample < 1:
            raise ValueError(f"subsample must be >= 1, got {self.subsample}")
        if self.subsample_mode not in ("stack", "conv"):
            raise ValueError(f"subsample_mode must be 'stack' or 'conv', got {self.subsample_mode!r}")
        if self.cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', got {self.cell!r}")
        if self.hidden_size < 1 or self.num_layers < 1:
            raise ValueError("hidden_size and num_layers must be >= 1")
        if self.lookahead < 0:
            raise ValueError(f"lookahead must be >= 0 steps, got {self.lookahead}")
        if self.lookahead and self.bidirectional:
            raise ValueError("lookahead is for unidirectional (streaming) models; a bidirectional model already "
                             "reads the whole future: set bidirectional=False or lookahead=0")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        return cls(**d)


class AcousticModel(nn.Module):
    """Frames of log-mel features -> per-step log-probabilities over the alphabet (blank = 0).

    Args:
        config: a :class:`ModelConfig` with ``vocab_size`` set.

    Shape:
        - feats: (B, T, n_mels), zero-padded after each sequence's length.
        - lengths: (B,) frames per sequence.
        - returns ``(log_probs (B, T', V), out_lengths (B,))`` with ``T' = ceil(T / subsample)``.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.vocab_size < 2:
            raise ValueError(f"ModelConfig.vocab_size must be >= 2 (blank + one character), got {config.vocab_size}")
        self.config = c = config
        s = c.subsample
        if c.subsample_mode == "conv" and s > 1:
            self.conv = nn.Conv1d(c.n_mels, c.conv_channels, kernel_size=s, stride=s)
            rnn_in = c.conv_channels
        else:
            self.conv = None
            rnn_in = c.n_mels * s
        layer = LSTM if c.cell == "lstm" else GRU
        if c.bidirectional:  # one unidirectional layer per (layer, direction): see _bidirectional
            self.fwd = nn.ModuleList(layer(rnn_in if k == 0 else 2 * c.hidden_size, c.hidden_size)
                                     for k in range(c.num_layers))
            self.bwd = nn.ModuleList(layer(rnn_in if k == 0 else 2 * c.hidden_size, c.hidden_size)
                                     for k in range(c.num_layers))
        else:
            self.rnn = layer(rnn_in, c.hidden_size, num_layers=c.num_layers, dropout=c.dropout)
        self.lookahead = None
        if c.lookahead:
            # Depthwise: each channel mixes its own k + 1 steps (what Deep Speech 2 calls a row convolution).
            self.lookahead = nn.Conv1d(c.hidden_size, c.hidden_size, kernel_size=c.lookahead + 1,
                                       groups=c.hidden_size, bias=False)
            with torch.no_grad():
                self.lookahead.weight.zero_()
                self.lookahead.weight[:, 0, 0] = 1.0  # the identity: the model starts as one without lookahead
        self.drop = nn.Dropout(c.dropout)
        self.out = nn.Linear(c.hidden_size * (2 if c.bidirectional else 1), c.vocab_size)

    def output_lengths(self, lengths: Tensor) -> Tensor:
        """Frames after subsampling: ceil(T / s)."""
        s = self.config.subsample
        return torch.div(lengths + s - 1, s, rounding_mode="floor")

    def subsample(self, feats: Tensor) -> Tensor:
        """(B, T, M) -> (B, ceil(T / s), s M or C); the tail is zero-padded to a whole group."""
        s = self.config.subsample
        if s == 1:
            return feats
        B, T, M = feats.shape
        feats = F.pad(feats, (0, 0, 0, (-T) % s))  # (B, s T', M)
        if self.conv is not None:
            return F.relu(self.conv(feats.transpose(1, 2))).transpose(1, 2)  # (B, T', C)
        return feats.reshape(B, -1, s * M)  # (B, T', s M)

    def forward(self, feats: Tensor, lengths: Tensor | None = None, state=None) -> tuple[Tensor, Tensor]:
        B, T, M = feats.shape
        if M != self.config.n_mels:
            raise ValueError(f"AcousticModel expected features (B, T, {self.config.n_mels}), got {tuple(feats.shape)}")
        lengths = torch.full((B,), T, dtype=torch.long) if lengths is None else lengths.cpu().long()
        out_len = self.output_lengths(lengths)  # (B,)
        x = self.subsample(feats)  # (B, T', F)
        if self.config.bidirectional:
            y = self._bidirectional(x, out_len)  # (B, T', 2 H)
        else:
            # Padding only follows a sequence, so a forward-only pass over the padded batch leaves every real
            # step exact; calling without lengths keeps the fast fused (oneDNN / cuDNN) path.
            y, _ = self.rnn(x, state)  # (B, T', H)
        mask = (torch.arange(y.shape[1], device=y.device) < out_len.to(y.device)[:, None]).unsqueeze(-1)  # (B, T', 1)
        y = y * mask
        if self.lookahead is not None:  # zeros after each sequence's end stand for "no more future"
            y = self._look_ahead(F.pad(y, (0, 0, 0, self.config.lookahead))) * mask  # (B, T', H)
        return self.out(self.drop(y)).log_softmax(-1), out_len  # (B, T', V)

    def _look_ahead(self, y: Tensor) -> Tensor:
        """(B, T + k, H) -> (B, T, H): step t mixes steps t .. t + k of each channel."""
        return self.lookahead(y.transpose(1, 2)).transpose(1, 2)

    def _bidirectional(self, x: Tensor, lengths: Tensor) -> Tensor:
        """Stacked bidirectional layers over a padded batch, exact per sequence: (B, T, F) -> (B, T, 2 H).

        The reverse direction runs forward over each sequence reversed within its own length (padding stays
        at the end), so both directions are plain forward passes without lengths. On CPU this keeps oneDNN's
        fused LSTM, whose backward pass measured about 7x faster than the packed-sequence path.
        """
        for k, (fwd, bwd) in enumerate(zip(self.fwd, self.bwd)):
            yf, _ = fwd(x)  # (B, T, H)
            yb, _ = bwd(reverse_padded(x, lengths))  # (B, T, H), time reversed per sequence
            x = torch.cat([yf, reverse_padded(yb, lengths)], -1)  # (B, T, 2 H)
            if k < len(self.fwd) - 1:
                x = F.dropout(x, self.config.dropout, self.training)
        return x

    @torch.no_grad()
    def forward_chunk(self, feats: Tensor, state=None, final: bool = False):
        """Streaming step of a unidirectional model: whole groups of frames (1, n s, M) -> (log_probs (1, n', V), state).

        Feeding an utterance in chunks and concatenating the outputs equals :meth:`forward` on the whole. With a
        lookahead of k steps, the last k recurrent outputs wait in ``state`` for their future (so n' can be less
        than n), and ``final=True`` flushes them: call it once after the last chunk (``feats`` may then be empty).
        """
        if self.config.bidirectional:
            raise ValueError("streaming needs a unidirectional model (ModelConfig(bidirectional=False)); "
                             "a bidirectional layer reads the future")
        if feats.shape[1] % self.config.subsample:
            raise ValueError(f"forward_chunk takes whole groups of {self.config.subsample} frames, got {feats.shape[1]}")
        rnn_state, waiting = state if state is not None else (None, None)  # waiting: outputs awaiting their future
        k = self.config.lookahead
        if feats.shape[1]:
            y, rnn_state = self.rnn(self.subsample(feats), rnn_state)  # (1, n, H)
            waiting = y if waiting is None else torch.cat([waiting, y], 1)  # None whenever k = 0: no copy
        if waiting is None:
            return feats.new_zeros(1, 0, self.config.vocab_size), (rnn_state, None)
        if final and k:
            waiting = F.pad(waiting, (0, 0, 0, k))  # the end: no more future
        ready = waiting.shape[1] - k  # steps whose k future steps have arrived
        if ready <= 0:
            return feats.new_zeros(1, 0, self.config.vocab_size), (rnn_state, waiting)
        y = self._look_ahead(waiting) if k else waiting  # (1, ready, H)
        left = None if final or not k else waiting[:, ready:]
        return self.out(self.drop(y)).log_softmax(-1), (rnn_state, left)


def feasible(labels: list[list[int]], out_lengths: Tensor) -> Tensor:
    """(B,) bool: True where a sample has enough output frames for its labels (len + repeats).

    A CTC alignment needs one frame per label plus a blank between repeated labels; a sample that fails has
    infinite loss, so it is skipped rather than allowed to turn the batch loss into inf / NaN.
    """
    need = torch.tensor([ctc_min_frames(lab) for lab in labels], dtype=torch.long)
    return out_lengths.cpu() >= need


def ctc_loss(model: AcousticModel, feats: Tensor, lengths: Tensor, labels: list[list[int]]
             ) -> tuple[Tensor, int]:
    """Mean CTC loss (per target character, as torch's ``reduction="mean"``) over the feasible samples.

    Returns:
        ``(loss, skipped)``: ``skipped`` counts samples dropped by :func:`feasible`. When every sample is
        infeasible the loss is a zero that still carries gradients (so a training step is a no-op).
    """
    log_probs, out_len = model(feats, lengths)  # (B, T', V)
    ok = feasible(labels, out_len)  # (B,)
    skipped = int((~ok).sum())
    if not bool(ok.any()):
        return log_probs.sum() * 0.0, skipped
    keep = ok.nonzero().squeeze(1).tolist()
    kept_labels = [labels[i] for i in keep]
    targets = torch.tensor([x for lab in kept_labels for x in lab], dtype=torch.long)  # (sum S,)
    target_len = torch.tensor([len(lab) for lab in kept_labels], dtype=torch.long)
    lp = log_probs[keep].transpose(0, 1).float()  # (T', B', V): CTC wants time first
    loss = F.ctc_loss(lp, targets.to(lp.device), out_len[keep].to(lp.device),
                      target_len.to(lp.device), blank=BLANK, reduction="mean", zero_infinity=True)
    return loss, skipped
