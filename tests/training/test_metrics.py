from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import ShapeError
from tensorgraph.training import (
    Accuracy,
    accuracy,
    f1_score,
    get_metric,
    precision,
    predicted_classes,
    recall,
)


def _confusion(pred: np.ndarray, true: np.ndarray) -> tuple[int, int, int]:
    tp = sum(1 for p, t in zip(pred, true, strict=True) if p == 1 and t == 1)
    fp = sum(1 for p, t in zip(pred, true, strict=True) if p == 1 and t == 0)
    fn = sum(1 for p, t in zip(pred, true, strict=True) if p == 0 and t == 1)
    return tp, fp, fn


def test_binary_metrics_from_logits_and_probabilities_match_the_definitions() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 1))
    true = rng.integers(0, 2, size=50)
    pred = (logits[:, 0] > 0).astype(int)
    tp, fp, fn = _confusion(pred, true)
    assert accuracy(logits, true, from_logits=True) == pytest.approx(np.mean(pred == true))
    assert precision(logits, true, from_logits=True) == pytest.approx(tp / (tp + fp))
    assert recall(logits, true, from_logits=True) == pytest.approx(tp / (tp + fn))
    p, r = tp / (tp + fp), tp / (tp + fn)
    assert f1_score(logits, true, from_logits=True) == pytest.approx(2 * p * r / (p + r))
    probabilities = 1 / (1 + np.exp(-logits))
    assert accuracy(probabilities, true, from_logits=False) == accuracy(logits, true, True)
    assert Accuracy(from_logits=False)(tg.tensor(probabilities), tg.tensor(true)) == (
        accuracy(logits, true, from_logits=True)
    )


def test_multiclass_accuracy_uses_argmax_and_accepts_one_hot_targets() -> None:
    scores = np.array([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.3, 0.3, 0.4]])
    labels = np.array([1, 0, 1, 2])
    assert predicted_classes(scores).tolist() == [1, 0, 2, 2]
    assert accuracy(scores, labels) == 0.75
    assert accuracy(scores, np.eye(3)[labels]) == 0.75


def test_degenerate_cases_and_errors() -> None:
    assert precision(np.array([-1.0, -2.0]), np.array([1, 0]), from_logits=True) == 0.0
    assert recall(np.array([1.0, 2.0]), np.array([0, 0]), from_logits=True) == 0.0
    assert f1_score(np.array([-1.0]), np.array([0]), from_logits=True) == 0.0
    with pytest.raises(ShapeError, match="binary metric"):
        precision(np.zeros((3, 4)), np.zeros(3, dtype=int))
    with pytest.raises(ShapeError, match="3 outputs but targets of shape"):
        accuracy(np.zeros((3, 1)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="unknown metric 'auc'"):
        get_metric("auc")
    assert get_metric("f1").name == "f1"
