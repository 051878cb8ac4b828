from __future__ import annotations

import math

import pytest
import torch

from rnnkit.text import Vocabulary, accuracy, confusion_matrix, lm_metrics, macro_f1
from rnnkit.text.embeddings import init_embedding, load_vectors


def test_classification_metrics_against_hand_counts():
    y = [0, 0, 1, 1, 2, 2]
    p = [0, 1, 1, 1, 2, 0]
    cm = confusion_matrix(y, p)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert accuracy(y, p) == pytest.approx(4 / 6)
    # per-class F1: class 0: P 1/2 R 1/2 -> .5; class 1: P 2/3 R 1 -> .8; class 2: P 1 R 1/2 -> 2/3
    assert macro_f1(y, p) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    with pytest.raises(ValueError, match="y_true and y_pred must have the same length, got 2 and 1"):
        confusion_matrix([0, 1], [0])


def test_lm_metrics_units():
    m = lm_metrics(1.5, tokens=100, chars=100)
    assert m["loss"] == 1.5 and m["bpc"] == pytest.approx(1.5 / math.log(2))
    assert m["perplexity"] == pytest.approx(math.exp(1.5))
    sub = lm_metrics(3.0, tokens=50, chars=150)  # 3 chars a subword
    assert sub["loss"] == pytest.approx(1.0) and sub["perplexity"] == pytest.approx(math.exp(3.0))


@pytest.mark.parametrize("header", [False, True])
def test_load_vectors_glove_and_word2vec(tmp_path, header):
    path = tmp_path / "vec.txt"
    lines = ["good 0.1 0.2 0.3", "Bad -0.5 0.0 1.0", "other 9 9 9"]
    path.write_text(("3 3\n" if header else "") + "\n".join(lines) + "\n", encoding="utf-8")
    vocab = Vocabulary(["<pad>", "<unk>", "good", "bad", "film"])
    vectors, found = load_vectors(path, vocab)
    assert found.tolist() == [False, False, True, True, False]
    assert torch.allclose(vectors[3], torch.tensor([-0.5, 0.0, 1.0]))
    emb = torch.nn.Embedding(5, 3, padding_idx=0)
    init_embedding(emb, vectors, found)
    assert torch.allclose(emb.weight[2], torch.tensor([0.1, 0.2, 0.3]))
    assert emb.weight[0].abs().sum() == 0
    with pytest.raises(ValueError, match="the vectors file has dimension 3 but embed_dim is 4; set embed_dim=3"):
        init_embedding(torch.nn.Embedding(5, 4), vectors, found)


def test_load_vectors_bad_files(tmp_path):
    vocab = Vocabulary(["<pad>", "<unk>", "a"])
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2\nb 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.txt:2 has 1 numbers, expected 2"):
        load_vectors(bad, vocab)
    with pytest.raises(OSError, match="does not exist"):
        load_vectors(tmp_path / "none.txt", vocab)
    empty = tmp_path / "empty.txt"
    empty.write_text("2 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no vectors"):
        load_vectors(empty, vocab)
