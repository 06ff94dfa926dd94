"""Classification metrics on model outputs: accuracy, and precision, recall, F1 for binary tasks.

Outputs are read as the training loop sees them:

* shape ``(n, k)`` with ``k > 1``: one score per class (logits, probabilities or
  log-probabilities alike); the prediction is the arg-max;
* shape ``(n,)`` or ``(n, 1)``: one score for the positive class. A score alone does not say
  whether it is a logit or a probability, so the caller says it: ``from_logits=True`` (the
  prediction is ``sigmoid(score) > threshold``, i.e. ``score > 0`` at the default threshold
  0.5) or ``from_logits=False`` (``score > threshold``; scores outside ``[0, 1]`` are then an
  error, not probabilities). Left as None, :func:`~tensorgraph.training.fit` and
  :func:`~tensorgraph.training.evaluate` decide it from the model (a last ``Sigmoid`` layer
  gives probabilities, a last ``Linear`` layer logits) or, failing that, from the loss
  (:func:`output_is_logits`); when neither tells, the metric raises rather than guess.

Targets are class indices of shape ``(n,)`` (or ``(n, 1)``; 0/1 floats are fine), or one-hot
(or probability) rows of shape ``(n, k)``, read by their arg-max.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import DomainError, ShapeError
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
    "output_is_logits",
    "precision",
    "predicted_classes",
    "recall",
]


def _array(x: Any) -> np.ndarray:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _threshold(threshold: Any, where: str) -> float:
    real = isinstance(threshold, (int, float, np.integer, np.floating))
    if isinstance(threshold, (bool, np.bool_)) or not real:
        raise DomainError(f"{where}: threshold must be a probability in (0, 1), got {threshold!r}")
    if not 0 < float(threshold) < 1:
        raise DomainError(f"{where}: threshold must be a probability in (0, 1), got {threshold!r}")
    return float(threshold)


def _binary_predictions(
    scores: np.ndarray, from_logits: bool | None, threshold: float, where: str
) -> np.ndarray:
    if from_logits is None:
        raise DomainError(
            f"{where}: the outputs have one column (shape {scores.shape}), and one score does "
            "not say whether it is a logit or a probability; pass from_logits=True (logits, "
            "e.g. a model ending in Linear, trained with BCEWithLogitsLoss) or "
            "from_logits=False (probabilities, e.g. a model ending in Sigmoid, trained with "
            "BCELoss), e.g. metrics=[Accuracy(from_logits=True)]"
        )
    flat = scores.reshape(-1)
    if from_logits:
        # sigmoid(z) > t  <=>  z > log(t / (1 - t)); exactly z > 0 at t = 0.5
        cut = 0.0 if threshold == 0.5 else math.log(threshold / (1 - threshold))
        return np.asarray(flat > cut, dtype=np.int64)
    if flat.size and not (flat.min() >= 0 and flat.max() <= 1):  # NaN fails both
        raise DomainError(
            f"{where}: from_logits=False but the outputs are not probabilities (values in "
            f"[{np.nanmin(flat)}, {np.nanmax(flat)}]{' and NaN' if np.isnan(flat).any() else ''}"
            "); for logits pass from_logits=True"
        )
    return np.asarray(flat > threshold, dtype=np.int64)


def predicted_classes(
    output: Any, from_logits: bool | None = None, threshold: float = 0.5
) -> np.ndarray:
    """Class indices predicted by ``output`` (see the module docstring), as int64 of shape (n,).

    Parameters
    ----------
    output : array-like or Tensor, shape ``(n,)``, ``(n, 1)`` or ``(n, k)``
    from_logits : bool or None
        How to read one-column outputs (required for them; ignored for ``k > 1``).
    threshold : float
        The probability above which a one-column output predicts class 1, in (0, 1).

    Examples
    --------
    >>> from tensorgraph.training import predicted_classes
    >>> predicted_classes([[-1.0], [2.0]], from_logits=True).tolist()
    [0, 1]
    >>> predicted_classes([[0.2], [0.7]], from_logits=False).tolist()
    [0, 1]
    >>> predicted_classes([[0.1, 0.9]]).tolist()
    [1]
    """
    return _predict(_scores(output, "predicted_classes"), from_logits, threshold,
                    "predicted_classes")  # fmt: skip


def _scores(output: Any, where: str) -> np.ndarray:
    scores = _array(output)
    if scores.ndim not in (1, 2):
        raise ShapeError(f"{where}: expected outputs of shape (n,) or (n, k), got {scores.shape}")
    if scores.dtype.kind == "f" and not np.isfinite(scores).all():
        # argmax would pick a NaN as the class, and a threshold would call it negative
        bad = np.flatnonzero(~np.isfinite(scores).reshape(len(scores), -1).all(axis=1))
        raise DomainError(f"{where}: the outputs of {len(bad)} sample(s) are not finite "
                          f"(NaN or inf; first at row {int(bad[0])}): no class can be read")
    return scores


def _predict(scores: np.ndarray, from_logits: bool | None, threshold: float, where: str
             ) -> np.ndarray:  # fmt: skip
    threshold = _threshold(threshold, where)
    if scores.ndim == 2 and scores.shape[1] > 1:
        return np.asarray(scores.argmax(axis=1), dtype=np.int64)
    return _binary_predictions(scores, from_logits, threshold, where)


def _labels(target: Any, n: int, n_classes: int, where: str) -> np.ndarray:
    raw = _array(target)
    labels = raw.argmax(axis=1) if raw.ndim == 2 and raw.shape[1] > 1 else raw
    labels = labels.reshape(-1) if labels.ndim <= 2 else labels
    if labels.shape != (n,):
        raise ShapeError(f"{where}: {n} outputs but targets of shape {raw.shape}")
    if labels.dtype.kind not in "iubf":
        raise DomainError(f"{where}: targets must be class labels, got dtype {labels.dtype}")
    if labels.dtype.kind == "f":  # 0./1. floats (a BCE target) are labels; 0.3 is not
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            raise DomainError(
                f"{where}: targets must be class labels (whole numbers) or one-hot rows, "
                f"found {labels[~whole][:3].tolist()}"
            )
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)]
        raise DomainError(
            f"{where}: the outputs have {n_classes} classes, so labels must be in "
            f"[0, {n_classes - 1}]; found {bad[:5].tolist()}"
        )
    return labels


def _classes(scores: np.ndarray) -> int:
    return scores.shape[1] if scores.ndim == 2 and scores.shape[1] > 1 else 2


def accuracy(
    output: Any, target: Any, from_logits: bool | None = None, threshold: float = 0.5
) -> float:
    """The fraction of samples whose predicted class equals the target class.

    ``from_logits`` (and ``threshold``) say how to read one-column outputs; see
    :func:`predicted_classes`.

    Examples
    --------
    >>> from tensorgraph.training import accuracy
    >>> accuracy([[2.0], [-1.0], [0.5]], [1, 1, 1], from_logits=True)
    0.6666666666666666
    >>> accuracy([[0.1, 0.7, 0.2], [0.8, 0.1, 0.1]], [1, 2])
    0.5
    """
    scores = _scores(output, "accuracy")
    labels = _labels(target, len(scores), _classes(scores), "accuracy")
    predicted = _predict(scores, from_logits, threshold, "accuracy")
    return float((predicted == labels).mean()) if len(labels) else float("nan")


def _binary_counts(
    output: Any, target: Any, from_logits: bool | None, threshold: float, where: str
) -> tuple[int, int, int]:
    scores = _scores(output, where)
    if scores.ndim == 2 and scores.shape[1] > 1:
        raise ShapeError(
            f"{where}: a binary metric, but the outputs have shape {scores.shape} "
            "(several classes); use accuracy"
        )
    labels = _labels(target, len(scores), 2, where)
    predicted = _predict(scores, from_logits, threshold, where)
    true_positive = int(((predicted == 1) & (labels == 1)).sum())
    false_positive = int(((predicted == 1) & (labels != 1)).sum())
    false_negative = int(((predicted != 1) & (labels == 1)).sum())
    return true_positive, false_positive, false_negative


def precision(
    output: Any, target: Any, from_logits: bool | None = None, threshold: float = 0.5
) -> float:
    r"""Binary precision :math:`TP / (TP + FP)` of the positive class 1 (0 when nothing is
    predicted positive)."""
    tp, fp, _ = _binary_counts(output, target, from_logits, threshold, "precision")
    return tp / (tp + fp) if tp + fp else 0.0


def recall(
    output: Any, target: Any, from_logits: bool | None = None, threshold: float = 0.5
) -> float:
    r"""Binary recall :math:`TP / (TP + FN)` of the positive class 1 (0 when there is no
    positive sample)."""
    tp, _, fn = _binary_counts(output, target, from_logits, threshold, "recall")
    return tp / (tp + fn) if tp + fn else 0.0


def f1_score(
    output: Any, target: Any, from_logits: bool | None = None, threshold: float = 0.5
) -> float:
    r"""Binary F1, the harmonic mean of precision and recall: :math:`2TP / (2TP + FP + FN)`
    (0 when there is neither a positive sample nor a positive prediction)."""
    tp, fp, fn = _binary_counts(output, target, from_logits, threshold, "f1")
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


class Metric:
    """A named metric ``metric(output, target) -> float`` for :func:`~tensorgraph.training.fit`.

    Parameters
    ----------
    fn : callable
        ``fn(output, target, from_logits=..., threshold=...) -> float``.
    name : str
        The key in the logs and in ``History.history`` (``val_`` is prepended for the
        validation split).
    from_logits : bool or None
        Whether one-column outputs are logits (True) or probabilities (False); None lets
        ``fit``/``evaluate`` decide from the model and the loss (see
        :func:`output_is_logits`), and is an error where they cannot.
    threshold : float
        The probability above which a one-column output predicts class 1 (default 0.5).
    """

    def __init__(
        self,
        fn: Callable[..., float],
        name: str,
        from_logits: bool | None = None,
        threshold: float = 0.5,
    ) -> None:
        if from_logits is not None and not isinstance(from_logits, (bool, np.bool_)):
            raise DomainError(f"{name}: from_logits must be True, False or None, "
                              f"got {from_logits!r}")  # fmt: skip
        self.fn, self.name = fn, name
        self.from_logits = None if from_logits is None else bool(from_logits)
        self.threshold = _threshold(threshold, name)

    def __call__(self, output: Any, target: Any) -> float:
        return float(
            self.fn(output, target, from_logits=self.from_logits, threshold=self.threshold)
        )

    def check(self, output: Any, target: Any) -> None:
        """Raise now if this metric cannot read ``output`` (one batch, before training on);
        a user's own function is not called (it may count its calls)."""
        if self.fn in (accuracy, precision, recall, f1_score):
            self(output, target)

    def resolved(self, from_logits: bool | None) -> Metric:
        """This metric with ``from_logits`` filled in where it was left None."""
        if self.from_logits is not None or from_logits is None:
            return self
        twin = copy.copy(self)
        twin.from_logits = from_logits
        return twin

    def __repr__(self) -> str:
        return f"{type(self).__name__}(from_logits={self.from_logits}, threshold={self.threshold})"


class Accuracy(Metric):
    """Binary or multi-class accuracy (see :func:`accuracy`)."""

    def __init__(self, from_logits: bool | None = None, threshold: float = 0.5) -> None:
        super().__init__(accuracy, "accuracy", from_logits, threshold)


class Precision(Metric):
    """Binary precision (see :func:`precision`)."""

    def __init__(self, from_logits: bool | None = None, threshold: float = 0.5) -> None:
        super().__init__(precision, "precision", from_logits, threshold)


class Recall(Metric):
    """Binary recall (see :func:`recall`)."""

    def __init__(self, from_logits: bool | None = None, threshold: float = 0.5) -> None:
        super().__init__(recall, "recall", from_logits, threshold)


class F1Score(Metric):
    """Binary F1 score (see :func:`f1_score`)."""

    def __init__(self, from_logits: bool | None = None, threshold: float = 0.5) -> None:
        super().__init__(f1_score, "f1", from_logits, threshold)


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
        return Metric(lambda o, t, **_: function(o, t), getattr(spec, "__name__", "metric"))
    raise TypeError(f"a metric must be a name, a Metric or a function, got {type(spec).__name__}")


# --------------------------------------------------------------------------- what outputs mean
def _last_layer(model: Any) -> Any:
    """The module that makes a Sequential's output (skipping Dropout and Identity, which
    change no meaning), or None for a model whose structure says nothing."""
    from ..nn import Dropout, Identity, Sequential

    layer = model
    while isinstance(layer, Sequential):
        inner = [m for m in layer if not isinstance(m, (Dropout, Identity))]
        if not inner:
            return None
        layer = inner[-1]
    return layer


def _model_says(model: Any) -> tuple[bool | None, str]:
    from ..nn import Linear, Sigmoid

    last = _last_layer(model)
    if isinstance(last, Sigmoid):
        return False, "the model ends in Sigmoid"
    if isinstance(last, Linear):
        return True, "the model ends in Linear"
    return None, ""


def _loss_says(loss: Any) -> tuple[bool | None, str]:
    from ..nn import functional as F

    known = {
        F.binary_cross_entropy: False,
        F.binary_cross_entropy_with_logits: True,
        F.cross_entropy: True,
    }
    target = loss
    while isinstance(target, functools.partial):
        target = target.func
    says = getattr(target, "expects_logits", None)
    if says is None:
        try:
            says = known.get(target)
        except TypeError:  # an unhashable callable
            says = None
    name = getattr(target, "__name__", type(target).__name__)
    return (None, "") if says is None else (bool(says), f"the loss {name}")


def output_is_logits(model: Any, loss: Any = None) -> tuple[bool | None, str]:
    """Whether ``model``'s one-column outputs are logits (True) or probabilities (False), as
    far as the model and the loss tell, with the reason; ``(None, "")`` when neither does.

    The model is asked first: a ``Sequential`` (an ``MLP``) ending in ``Sigmoid`` outputs
    probabilities, one ending in ``Linear`` logits. Then the loss: ``BCELoss`` and
    ``binary_cross_entropy`` take probabilities, ``BCEWithLogitsLoss``,
    ``binary_cross_entropy_with_logits`` and the cross-entropies logits, and any loss
    callable can say so itself with an ``expects_logits`` attribute.
    """
    from_model, why_model = _model_says(model)
    from_loss, why_loss = _loss_says(loss) if loss is not None else (None, "")
    if from_model is not None:
        return from_model, why_model
    return from_loss, why_loss


def conflict(model: Any, loss: Any) -> str | None:
    """A warning text when the model and the loss disagree about the outputs."""
    from_model, why_model = _model_says(model)
    from_loss, why_loss = _loss_says(loss) if loss is not None else (None, "")
    if from_model is None or from_loss is None or from_model == from_loss:
        return None
    reads = {True: "logits", False: "probabilities"}
    return (
        f"{why_model} (its outputs are {reads[from_model]}) but {why_loss} expects "
        f"{reads[from_loss]}; the metrics read the outputs as {reads[from_model]}"
    )
