"""Metrics: classification (accuracy, macro-F1, confusion matrix) and language modelling (nats, bits, perplexity)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int | None = None) -> np.ndarray:
    """``(C, C)`` counts; row = true class, column = predicted class (scikit-learn's layout)."""
    t, p = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {len(t)} and {len(p)}")
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Fraction of exact matches."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if len(t) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float((t == p).mean())


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int | None = None) -> float:
    """Unweighted mean of per-class F1 over classes present in ``y_true`` or ``y_pred``.

    A class with no true and no predicted examples is left out (scikit-learn's ``labels=None`` behaviour).
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(1), cm.sum(0)
    present = (support + predicted) > 0
    denom = support + predicted  # 2TP + FP + FN
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return float(f1[present].mean())


def lm_metrics(nats_per_token: float, tokens: int, chars: int) -> dict[str, float]:
    """Language-model figures from the mean loss per token.

    ``loss`` and ``bpc`` are per *character* (so character and subword models compare); ``perplexity`` is per
    token of the model's own vocabulary. For a character model tokens == chars.
    """
    nats_per_char = nats_per_token * tokens / max(chars, 1)
    return {"loss": nats_per_char, "bpc": nats_per_char / math.log(2),
            "perplexity": math.exp(min(nats_per_token, 50.0)), "token_loss": nats_per_token}
