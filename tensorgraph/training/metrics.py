"""Classification metrics on model outputs: accuracy, and precision, recall, F1 for binary tasks.

Outputs are read as the training loop sees them:

* shape ``(n, k)`` with ``k > 1``: one score per class (logits or probabilities); the
  prediction is the arg-max;
* shape ``(n,)`` or ``(n, 1)``: one score for the positive class; the prediction is
  ``score > 0`` for logits (``from_logits=True``, the default, matching
  ``binary_cross_entropy_with_logits``) or ``score > 0.5`` for probabilities.

Targets are class indices of shape ``(n,)`` (or ``(n, 1)``), or one-hot rows of shape
``(n, k)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor

__all__ = [
    "Accuracy",
    "F1Score",
    "Metric",
    "Precision",
    "Recall",
    "accuracy",
    "f1_score",
    "get_metric",
    "precision",
    "predicted_classes",
    "recall",
]


def _array(x: Any) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def predicted_classes(output: Any, from_logits: bool = True) -> np.ndarray:
    """Class indices predicted by ``output`` (see the module docstring), as int64 of shape (n,).

    Examples
    --------
    >>> from tensorgraph.training import predicted_classes
    >>> predicted_classes([[-1.0], [2.0]]).tolist(), predicted_classes([[0.1, 0.9]]).tolist()
    ([0, 1], [1])
    """
    scores = _array(output)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return np.asarray(scores.argmax(axis=1), dtype=np.int64)
    if scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1):
        threshold = 0.0 if from_logits else 0.5
        return (scores.reshape(-1) > threshold).astype(np.int64)
    raise ShapeError(
        f"predicted_classes: expected outputs of shape (n,) or (n, k), got {scores.shape}"
    )


def _labels(target: Any, n: int, where: str) -> np.ndarray:
    labels = _array(target)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1) if labels.ndim <= 2 else labels
    if labels.shape != (n,):
        raise ShapeError(f"{where}: {n} outputs but targets of shape {_array(target).shape}")
    return labels.astype(np.int64)


def accuracy(output: Any, target: Any, from_logits: bool = True) -> float:
    """The fraction of samples whose predicted class equals the target class.

    Examples
    --------
    >>> from tensorgraph.training import accuracy
    >>> accuracy([[2.0], [-1.0], [0.5]], [1, 1, 1])
    0.6666666666666666
    """
    predicted = predicted_classes(output, from_logits)
    labels = _labels(target, len(predicted), "accuracy")
    return float((predicted == labels).mean()) if len(labels) else float("nan")


def _binary_counts(output: Any, target: Any, from_logits: bool, where: str) -> tuple[int, int, int]:
    scores = _array(output)
    if scores.ndim == 2 and scores.shape[1] > 1:
        raise ShapeError(
            f"{where}: a binary metric, but the outputs have shape {scores.shape} "
            "(several classes); use accuracy"
        )
    predicted = predicted_classes(scores, from_logits)
    labels = _labels(target, len(predicted), where)
    true_positive = int(((predicted == 1) & (labels == 1)).sum())
    false_positive = int(((predicted == 1) & (labels != 1)).sum())
    false_negative = int(((predicted != 1) & (labels == 1)).sum())
    return true_positive, false_positive, false_negative


def precision(output: Any, target: Any, from_logits: bool = True) -> float:
    r"""Binary precision :math:`TP / (TP + FP)` of the positive class 1 (0 when nothing is
    predicted positive)."""
    tp, fp, _ = _binary_counts(output, target, from_logits, "precision")
    return tp / (tp + fp) if tp + fp else 0.0


def recall(output: Any, target: Any, from_logits: bool = True) -> float:
    r"""Binary recall :math:`TP / (TP + FN)` of the positive class 1 (0 when there is no
    positive sample)."""
    tp, _, fn = _binary_counts(output, target, from_logits, "recall")
    return tp / (tp + fn) if tp + fn else 0.0


def f1_score(output: Any, target: Any, from_logits: bool = True) -> float:
    r"""Binary F1, the harmonic mean of precision and recall: :math:`2TP / (2TP + FP + FN)`
    (0 when there is neither a positive sample nor a positive prediction)."""
    tp, fp, fn = _binary_counts(output, target, from_logits, "f1")
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


class Metric:
    """A named metric ``metric(output, target) -> float`` for :func:`~tensorgraph.training.fit`.

    Parameters
    ----------
    fn : callable
        ``fn(output, target, from_logits=...) -> float``.
    name : str
        The key in the logs and in ``History.history`` (``val_`` is prepended for the
        validation split).
    from_logits : bool
        Whether binary outputs are logits (threshold 0) or probabilities (threshold 0.5).
    """

    def __init__(self, fn: Callable[..., float], name: str, from_logits: bool = True) -> None:
        self.fn, self.name, self.from_logits = fn, name, from_logits

    def __call__(self, output: Any, target: Any) -> float:
        return float(self.fn(output, target, from_logits=self.from_logits))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class Accuracy(Metric):
    """Binary or multi-class accuracy (see :func:`accuracy`)."""

    def __init__(self, from_logits: bool = True) -> None:
        super().__init__(accuracy, "accuracy", from_logits)


class Precision(Metric):
    """Binary precision (see :func:`precision`)."""

    def __init__(self, from_logits: bool = True) -> None:
        super().__init__(precision, "precision", from_logits)


class Recall(Metric):
    """Binary recall (see :func:`recall`)."""

    def __init__(self, from_logits: bool = True) -> None:
        super().__init__(recall, "recall", from_logits)


class F1Score(Metric):
    """Binary F1 score (see :func:`f1_score`)."""

    def __init__(self, from_logits: bool = True) -> None:
        super().__init__(f1_score, "f1", from_logits)


_BY_NAME: dict[str, Callable[[], Metric]] = {
    "accuracy": Accuracy,
    "acc": Accuracy,
    "precision": Precision,
    "recall": Recall,
    "f1": F1Score,
    "f1_score": F1Score,
}


def get_metric(spec: str | Metric | Callable[[Any, Any], float]) -> Metric:
    """A :class:`Metric` from a name (``"accuracy"``, ``"precision"``, ``"recall"``,
    ``"f1"``), a Metric, or a plain function ``f(output, target) -> float`` (named after it)."""
    if isinstance(spec, Metric):
        return spec
    if isinstance(spec, str):
        if spec not in _BY_NAME:
            raise ValueError(
                f"unknown metric {spec!r}; known: {', '.join(sorted(_BY_NAME))}, or pass a "
                "function f(output, target) -> float"
            )
        return _BY_NAME[spec]()
    if callable(spec):
        function = spec
        return Metric(lambda o, t, from_logits: function(o, t), getattr(spec, "__name__", "metric"))
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(spec).__name__}")
