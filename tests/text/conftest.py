"""Fixtures for the text tests: one thread (tiny models; a busy shared CPU), small trained models reused by tests."""

from __future__ import annotations

import pytest
import torch

TINY_CLF = dict(embed_dim=16, hidden_size=16, attention_dim=16, attention_hops=2, mlp_dim=16, dropout=0.1,
                word_dropout=0.0, batch_size=16, lr=1e-2, device="cpu", progress=False, seed=0)
TINY_LM = dict(embed_dim=16, hidden_size=48, num_layers=1, bptt=16, batch_size=8, lr=1e-2, dropout=0.0,
               dropout_h=0.0, dropout_i=0.0, weight_drop=0.0, device="cpu", progress=False, seed=0)


@pytest.fixture
def tiny_clf() -> dict:
    """TextClassifier arguments for a model that trains in about a second."""
    return dict(TINY_CLF)


@pytest.fixture
def tiny_lm() -> dict:
    """LanguageModel arguments for a model that trains in seconds."""
    return dict(TINY_LM)


@pytest.fixture(scope="session")
def sentiment_data():
    from rnnkit.text.demo_data import sentiment_sentences

    texts, labels = sentiment_sentences(600, seed=1)
    return (texts[:400], labels[:400]), (texts[400:], labels[400:])


@pytest.fixture(scope="session")
def trained_classifier(sentiment_data):
    from rnnkit.text import TextClassifier

    torch.set_num_threads(1)
    (tx, ty), (vx, vy) = sentiment_data
    return TextClassifier(epochs=10, **TINY_CLF).fit(tx, ty, valid=(vx, vy))


@pytest.fixture(scope="session")
def play():
    from rnnkit.text.demo_data import play_text

    return play_text(120, seed=0)


@pytest.fixture(scope="session")
def trained_lm(play):
    from rnnkit.text import LanguageModel

    torch.set_num_threads(1)
    cut = int(len(play) * 0.9)
    return LanguageModel(epochs=4, eval_every=20, **TINY_LM).fit(play[:cut], valid=play[cut:])
