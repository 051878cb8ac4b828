"""Greedy and batched beam search over any model that follows the search protocol of :class:`Seq2Seq`.

Protocol: ``model.start(src, lengths) -> (memory, state)``; ``model.step(prev (N,), memory, state) ->
(log_probs (N, V), state, attention (N, S))``; ``model.reorder(state, index (N,)) -> state``; ``memory.repeat(k)``.

Two properties are tested, because translation toolkits have lost BLEU to both:

* A sentence's output does not depend on the batch it is decoded in or on its padding (OpenNMT-py #137): every row
  is masked by its own length and stops at its own ``max_len``; nothing is shared across rows.
* Beam search with the GNMT length penalty ``lp(n) = ((5 + n) / 6) ** alpha`` (Wu et al. 2016, eq. 14; n counts the
  tokens including EOS) stops only when no live hypothesis can still beat the best finished one (OpenNMT-py #1320).
  A live hypothesis with log-probability ``p <= 0`` can at best reach ``p / lp(max_len + 1)``: log-probabilities
  only fall as it grows, and the penalty divides by at most ``lp(max_len + 1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rnnkit.translate.tokenizer import BOS, EOS


@dataclass
class Hypothesis:
    """One decoded sentence."""

    tokens: list[int]  # output ids without BOS / EOS
    score: float  # log-probability, divided by the length penalty for beam search
    attention: Tensor | None = None  # (len(tokens) + 1, S) weights per output step (EOS included), greedy only


def length_penalty(length: Tensor | float, alpha: float) -> Tensor | float:
    """GNMT length penalty ``((5 + length) / 6) ** alpha``; 1 when ``alpha == 0``."""
    return ((5.0 + length) / 6.0) ** alpha


def _check_lengths(lengths: Tensor, max_lens: Tensor) -> None:
    if max_lens.shape != lengths.shape or int(max_lens.min()) < 0:
        raise ValueError(f"max_lens must be (B,) = {tuple(lengths.shape)} non-negative ints, got "
                         f"{tuple(max_lens.shape)}")


@torch.no_grad()
def greedy_search(model, src: Tensor, lengths: Tensor, max_lens: Tensor, keep_attention: bool = False
                  ) -> list[Hypothesis]:
    """Pick the most likely token at every step.

    Args:
        model: follows the search protocol (module docstring).
        src: (B, S) source ids; lengths: (B,) real lengths.
        max_lens: (B,) the most output tokens per sentence; EOS is forced after that many.
        keep_attention: also return each sentence's attention weights.
    """
    _check_lengths(lengths, max_lens)
    memory, state = model.start(src, lengths)
    B, device = src.shape[0], src.device
    max_lens = max_lens.to(device)
    prev = torch.full((B,), BOS, dtype=torch.long, device=device)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    steps, weights = [], []
    for t in range(int(max_lens.max()) + 1):
        log_probs, state, w = model.step(prev, memory, state)  # (B, V), (B, S)
        nxt = log_probs.argmax(-1)  # (B,)
        nxt = torch.where(max_lens == t, torch.full_like(nxt, EOS), nxt)  # a sentence's own limit
        steps.append((nxt, log_probs.gather(1, nxt.unsqueeze(1)).squeeze(1)))
        if keep_attention:
            weights.append(w)
        done = done | (nxt == EOS)
        prev = nxt
        if bool(done.all()):
            break
    toks = torch.stack([s[0] for s in steps], 1).tolist()  # (B, T)
    lps = torch.stack([s[1] for s in steps], 1)  # (B, T)
    attn = torch.stack(weights, 1) if keep_attention else None  # (B, T, S)
    out = []
    for b in range(B):
        n = toks[b].index(EOS)
        a = attn[b, : n + 1, : int(lengths[b])].cpu() if attn is not None else None
        out.append(Hypothesis(toks[b][:n], float(lps[b, : n + 1].sum()), a))
    return out


@torch.no_grad()
def beam_search(model, src: Tensor, lengths: Tensor, max_lens: Tensor, beam_size: int = 5, alpha: float = 0.0
                ) -> list[Hypothesis]:
    """Batched beam search with the GNMT length penalty and exact stopping (module docstring).

    Args:
        model: follows the search protocol.
        src: (B, S) source ids; lengths: (B,) real lengths.
        max_lens: (B,) the most output tokens per sentence (EOS excluded); EOS is forced after that many.
        beam_size: K, hypotheses kept per sentence.
        alpha: length-penalty exponent; 0 ranks by raw log-probability.

    Returns:
        The best finished hypothesis per sentence, ``score = log p / lp(len + 1)``.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    if alpha < 0:
        raise ValueError(f"length_penalty must be >= 0, got {alpha}")
    _check_lengths(lengths, max_lens)
    B, K, device = src.shape[0], beam_size, src.device
    memory, state = model.start(src, lengths)
    memory = memory.repeat(K)  # row b*K + k reads sentence b
    state = model.reorder(state, torch.arange(B, device=device).repeat_interleave(K))
    max_lens = max_lens.to(device)
    scores = torch.full((B, K), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis at first; the other K-1 copies must not be picked twice
    history = torch.empty(B, K, 0, dtype=torch.long, device=device)
    prev = torch.full((B * K,), BOS, dtype=torch.long, device=device)
    best_score = torch.full((B,), float("-inf"), device=device)
    best_tokens: list[list[int]] = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool, device=device)
    bound_lp = length_penalty(max_lens.float() + 1.0, alpha)  # (B,) largest penalty any hypothesis can get
    rank = torch.arange(2 * K, device=device).expand(B, 2 * K)
    for t in range(int(max_lens.max()) + 1):
        log_probs, state, _ = model.step(prev, memory, state)  # (B*K, V)
        V = log_probs.shape[-1]
        cand = scores.unsqueeze(-1) + log_probs.view(B, K, V)  # (B, K, V)
        at_limit = (max_lens == t).view(B, 1, 1)
        cand = torch.where(at_limit & (torch.arange(V, device=device) != EOS), float("-inf"), cand)
        top, idx = cand.view(B, K * V).topk(min(2 * K, K * V), dim=-1)  # (B, 2K) best first
        beam, tok = idx // V, idx % V
        # Finish EOS candidates that rank within the top K (fairseq's rule) and are finite.
        finish = (tok == EOS) & (rank[:, : top.shape[1]] < K) & torch.isfinite(top) & ~done.unsqueeze(1)
        if bool(finish.any()):
            normed = top / length_penalty(float(t + 1), alpha)
            for b, j in finish.nonzero().tolist():
                if normed[b, j] > best_score[b]:
                    best_score[b] = normed[b, j]
                    best_tokens[b] = history[b, beam[b, j]].tolist()
        # Keep the K best candidates that are not EOS: sort EOS ones to the back, stable in rank.
        order = (rank[:, : top.shape[1]] + (tok == EOS).long() * 4 * K).argsort(dim=-1)[:, :K]  # (B, K)
        scores = top.gather(1, order)
        beam, tok = beam.gather(1, order), tok.gather(1, order)
        history = torch.cat([history.gather(1, beam.unsqueeze(-1).expand(-1, -1, history.shape[2])),
                             tok.unsqueeze(-1)], -1)  # (B, K, t+1)
        # Exact stop: the best live hypothesis cannot overtake the best finished one any more.
        live_bound = scores.max(-1).values / bound_lp  # (B,)
        done = done | (best_score >= live_bound) | (max_lens <= t)
        if bool(done.all()):
            break
        scores = scores.masked_fill(done.unsqueeze(1), float("-inf"))
        flat = (torch.arange(B, device=device).unsqueeze(1) * K + beam).view(-1)  # (B*K,)
        state = model.reorder(state, flat)
        prev = tok.reshape(-1)
    return [Hypothesis(best_tokens[b], float(best_score[b])) for b in range(B)]
