"""Decoding: batch / padding independence (OpenNMT-py #137) and exact stopping with a length penalty (#1320)."""

import itertools
import math

import pytest
import torch

from rnnkit.translate.config import TranslatorConfig
from rnnkit.translate.model import Seq2Seq
from rnnkit.translate.search import beam_search, greedy_search, length_penalty
from rnnkit.translate.tokenizer import EOS, PAD

A, B_ = 4, 5  # the toy vocabulary: PAD, UNK, BOS, EOS, a, b


class _Memory:
    def repeat(self, k):
        return self


class ToyModel:
    """Next-token probabilities from a table indexed by (step, previous token); follows the search protocol."""

    def __init__(self, table):
        self.table = table  # (T, V, V) log-probs: table[t, prev] is the distribution of step t

    def start(self, src, lengths):
        n = src.shape[0]
        return _Memory(), torch.zeros(n, dtype=torch.long)  # state: the step counter per row

    def step(self, prev, memory, state):
        t = int(state[0])
        return self.table[t, prev], state + 1, torch.zeros(prev.shape[0], 1)

    @staticmethod
    def reorder(state, index):
        return state.index_select(0, index)


def _table(rows, steps=8):
    """rows: {(t or None, prev or None): {token: prob}} -> (steps, 6, 6) log-prob table (unlisted tokens: 0)."""
    table = torch.full((steps, 6, 6), float("-inf"))
    for t in range(steps):
        for prev in range(6):
            probs = rows.get((t, prev)) or rows.get((t, None)) or rows.get((None, prev)) or rows[(None, None)]
            for tok, p in probs.items():
                table[t, prev, tok] = math.log(p)
    return table


def _random_table(seed, steps=8):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(steps, 6, 6, generator=g) * 2.0
    logits[..., :3] = float("-inf")  # never PAD, UNK, BOS
    return torch.log_softmax(logits, -1)


def _brute_force(table, max_len, alpha):
    """Best (tokens, normalized score) over every sequence of a / b up to max_len tokens, then EOS."""
    best = (None, float("-inf"))
    for n in range(max_len + 1):
        for seq in itertools.product([A, B_], repeat=n):
            prev, score = 2, 0.0
            for t, tok in enumerate((*seq, EOS)):
                score += float(table[t, prev, tok])
                prev = tok
            normed = score / length_penalty(float(n + 1), alpha)
            if normed > best[1]:
                best = (list(seq), normed)
    return best


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.5, 3.0])
@pytest.mark.parametrize("seed", range(6))
def test_exhaustive_beam_equals_brute_force(seed, alpha):
    table, max_len = _random_table(seed), 4
    model = ToyModel(table)
    src = torch.zeros(1, 1, dtype=torch.long)
    hyp = beam_search(model, src, torch.tensor([1]), torch.tensor([max_len]), beam_size=2**max_len, alpha=alpha)[0]
    tokens, score = _brute_force(table, max_len, alpha)
    assert hyp.tokens == tokens
    assert hyp.score == pytest.approx(score, abs=1e-5)


def test_length_penalty_stopping_waits_for_longer_hypotheses():
    # Step 0: EOS is the most likely token (finished first, raw score -0.69). "a a a EOS" has a lower raw
    # log-probability (-1.08) but wins once normalised with alpha = 1.5; a search that stops when the top
    # candidate finishes returns the empty translation instead.
    table = _table({(0, None): {EOS: 0.5, A: 0.4, B_: 0.1}, (3, A): {EOS: 0.9, A: 0.05, B_: 0.05},
                    (None, None): {A: 0.97, EOS: 0.02, B_: 0.01}})
    model, src = ToyModel(table), torch.zeros(1, 1, dtype=torch.long)
    hyp = beam_search(model, src, torch.tensor([1]), torch.tensor([6]), beam_size=2, alpha=1.5)[0]
    assert hyp.tokens == [A, A, A]
    assert hyp.score == pytest.approx(math.log(0.4 * 0.97 * 0.97 * 0.9) / length_penalty(4.0, 1.5), abs=1e-5)
    assert _brute_force(table, 6, 1.5)[0] == [A, A, A]
    no_penalty = beam_search(model, src, torch.tensor([1]), torch.tensor([6]), beam_size=2, alpha=0.0)[0]
    assert no_penalty.tokens == []  # without the penalty the short hypothesis is right


def test_max_len_forces_eos_per_sentence():
    table = _table({(None, None): {A: 0.9, EOS: 0.1}})
    model = ToyModel(table)
    src = torch.zeros(2, 1, dtype=torch.long)
    greedy = greedy_search(model, src, torch.tensor([1, 1]), torch.tensor([2, 5]))
    assert [h.tokens for h in greedy] == [[A] * 2, [A] * 5]
    beam = beam_search(model, src, torch.tensor([1, 1]), torch.tensor([2, 5]), beam_size=3, alpha=0.0)
    assert all(len(h.tokens) <= m for h, m in zip(beam, (2, 5)))


@pytest.mark.parametrize("cell, attention", [("gru", "general"), ("lstm", "additive"), ("gru", "dot")])
def test_batched_decoding_equals_one_by_one_with_padding(cell, attention):
    torch.manual_seed(0)
    model = Seq2Seq(TranslatorConfig(cell=cell, attention=attention, embed_size=24, hidden_size=32, num_layers=2),
                    src_vocab=40, tgt_vocab=30).eval()
    lengths = torch.tensor([9, 3, 6, 1, 9, 4])
    src = torch.randint(4, 40, (6, 12))  # three extra padding columns beyond the longest sentence
    src[torch.arange(12).unsqueeze(0) >= lengths.unsqueeze(1)] = PAD
    max_lens = 2 * lengths + 3
    for search in (lambda *a: greedy_search(*a), lambda *a: beam_search(*a, beam_size=4, alpha=0.6)):
        batched = search(model, src, lengths, max_lens)
        for i in range(6):
            single = search(model, src[i:i + 1, : lengths[i]], lengths[i:i + 1], max_lens[i:i + 1])[0]
            assert batched[i].tokens == single.tokens
            assert batched[i].score == pytest.approx(single.score, abs=1e-4)


def test_bad_search_arguments():
    model = ToyModel(_random_table(0))
    src = torch.zeros(1, 1, dtype=torch.long)
    with pytest.raises(ValueError, match="beam_size must be >= 1, got 0"):
        beam_search(model, src, torch.tensor([1]), torch.tensor([3]), beam_size=0)
    with pytest.raises(ValueError, match="length_penalty must be >= 0, got -1"):
        beam_search(model, src, torch.tensor([1]), torch.tensor([3]), alpha=-1)
