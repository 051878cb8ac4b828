from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.text import TextClassifier
from rnnkit.text.classifier_model import ClassifierConfig, SentenceClassifier


def test_learns_sentiment_with_negation(trained_classifier, sentiment_data):
    clf = trained_classifier
    _, (vx, vy) = sentiment_data
    assert clf.classes_ == ["negative", "positive"]
    res = clf.evaluate(vx, vy)
    assert res["accuracy"] > 0.85, res
    assert 0 < res["macro_f1"] <= 1 and np.array(res["confusion_matrix"]).sum() == len(vx)
    negated = [i for i, t in enumerate(vx) if " not " in t or "n't" in t or "never" in t]
    assert len(negated) > 20
    assert clf.evaluate([vx[i] for i in negated], [vy[i] for i in negated])["accuracy"] > 0.8
    assert clf.predict(["the film was wonderful", "the film was not wonderful"]) == ["positive", "negative"]


def test_predict_proba_and_explain(trained_classifier):
    clf = trained_classifier
    probs = clf.predict_proba(["the plot was dull", "", "the music is great !"])
    assert probs.shape == (3, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
    pairs = clf.explain("the plot was not good at all")
    assert [t for t, _ in pairs] == ["the", "plot", "was", "not", "good", "at", "all"]
    weights = np.array([w for _, w in pairs])
    assert (weights >= 0).all() and weights.sum() == pytest.approx(1.0, abs=1e-5)
    # the sentiment-bearing words get more weight than the article
    assert max(weights[3], weights[4]) > weights[0]
    assert clf.explain("") == []


def test_save_load_gives_identical_predictions(trained_classifier, tmp_path):
    texts = ["the acting was superb", "the ending felt weak"]
    trained_classifier.save(tmp_path / "m")
    loaded = TextClassifier.load(tmp_path / "m")
    assert np.allclose(loaded.predict_proba(texts), trained_classifier.predict_proba(texts), atol=1e-6)
    got, want = loaded.explain(texts[0]), trained_classifier.explain(texts[0])
    assert [t for t, _ in got] == [t for t, _ in want]
    assert [w for _, w in got] == pytest.approx([w for _, w in want])
    (tmp_path / "m" / "vocab.json").unlink()
    with pytest.raises(ValueError, match=r"model folder .* is incomplete: missing vocab.json"):
        TextClassifier.load(tmp_path / "m")


def test_misuse_errors(trained_classifier, tiny_clf):
    with pytest.raises(ValueError, match="fit needs at least 2 classes to tell apart, but every label is 'pos'"):
        TextClassifier(**tiny_clf).fit(["a", "b"], ["pos", "pos"])
    with pytest.raises(ValueError, match="fit got 2 texts but 1 labels; they must pair up"):
        TextClassifier(**tiny_clf).fit(["a", "b"], ["pos"])
    with pytest.raises(ValueError, match=r"TextClassifier.predict needs a fitted model: call fit\(texts, labels\)"):
        TextClassifier().predict(["x"])
    with pytest.raises(ValueError, match="expected a list of texts, got one string; wrap it in a list"):
        trained_classifier.predict_proba("one string")
    with pytest.raises(ValueError, match=r"labels \['meh'\] are not among the model's classes"):
        trained_classifier.evaluate(["x"], ["meh"])
    with pytest.raises(ValueError, match="tokenizer must be 'word' or 'sentencepiece', got 'bpe'"):
        TextClassifier(tokenizer="bpe")
    with pytest.raises(ValueError, match="pooling must be 'attention' or 'max', got 'mean'"):
        ClassifierConfig(vocab_size=10, num_classes=2, pooling="mean")


@pytest.mark.parametrize("cell,pooling", [("gru", "max"), ("lstm", "max"), ("gru", "attention")])
def test_network_variants_shapes_and_padding(cell, pooling):
    torch.manual_seed(0)
    net = SentenceClassifier(ClassifierConfig(vocab_size=30, num_classes=3, embed_dim=8, hidden_size=8, cell=cell,
                                              pooling=pooling)).eval()
    ids = torch.tensor([[2, 3, 4, 5], [6, 7, 0, 0]])
    logits, w, pen = net(ids, torch.tensor([4, 2]))
    assert logits.shape == (2, 3) and w.shape == (2, 4)
    assert torch.allclose(w.sum(1), torch.ones(2)) and (w[1, 2:] == 0).all()
    # padding does not change a sentence's result
    alone, _, _ = net(ids[1:, :2], torch.tensor([2]))
    assert torch.allclose(alone, logits[1:], atol=1e-5)


def test_attention_penalty_is_lin_et_al_frobenius():
    net = SentenceClassifier(ClassifierConfig(vocab_size=30, num_classes=2, embed_dim=8, hidden_size=8,
                                              attention_hops=3)).eval()
    with torch.no_grad():
        _, _, pen = net(torch.tensor([[2]]), torch.tensor([1]))
    # one token: every hop puts weight 1 on it, A A^T is all ones, ||ones(3,3) - I||^2 = 6
    assert float(pen) == pytest.approx(6.0)


def test_sentencepiece_tokenizer_and_pretrained_vectors(sentiment_data, tmp_path, tiny_clf):
    (tx, ty), _ = sentiment_data
    clf = TextClassifier(tokenizer="sentencepiece", vocab_size=80, epochs=1, **tiny_clf).fit(tx[:100], ty[:100])
    assert len(clf.vocab_) <= 90 and clf.predict(["the plot was dull"])[0] in clf.classes_
    clf.save(tmp_path / "sp")
    assert (tmp_path / "sp" / "tokenizer.model").is_file()
    assert TextClassifier.load(tmp_path / "sp").predict_proba(["dull"]) == pytest.approx(clf.predict_proba(["dull"]))
    vec = tmp_path / "vec.txt"
    vec.write_text("good " + " ".join(["0.5"] * 16) + "\nthe " + " ".join(["-0.5"] * 16) + "\n", encoding="utf-8")
    clf = TextClassifier(embeddings=str(vec), epochs=1, **tiny_clf)
    clf.fit(tx[:60], ty[:60])
    assert 0 < clf.embedding_coverage_ < 1
