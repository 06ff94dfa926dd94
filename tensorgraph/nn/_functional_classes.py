r"""The multi-class losses of :mod:`tensorgraph.nn.functional`: ``cross_entropy`` and
``nll_loss``, with PyTorch's ``weight``, ``ignore_index`` and ``label_smoothing``.

Both stay one fused node. Without weights, smoothing or ignored targets, cross-entropy is
the :class:`~tensorgraph.ops.nn_ops.CrossEntropyLabels` op of old (the training loop's
path, unchanged). Otherwise the class labels become the constant target distribution

.. math::
    q_{nc} = m_n\Big((1-\varepsilon)\,w_{y_n}[c = y_n] + \frac{\varepsilon}{C}\,w_c\Big),
    \qquad m_n = [y_n \ne \text{ignore\_index}]

and the loss is :class:`~tensorgraph.ops.nn_ops.CrossEntropyProbs` of :math:`q`:
:math:`\ell_n = -\sum_c q_{nc}\log\operatorname{softmax}(z_n)_c`, which is PyTorch's
:math:`(1-\varepsilon)\,\text{nll} + \frac{\varepsilon}{C}\,\text{smooth}` term by term,
with the gradient :math:`\operatorname{softmax}(z_n)\sum_c q_{nc} - q_n` in one node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DomainError, DTypeError, ShapeError
from ..ops import nn_ops
from ._checks import check_real
from ._loss_checks import (
    _as_tensor_like,
    _check_index,
    _check_reduction,
    _class_input,
    _class_weight,
    _labels,
    _legacy,
    _raw,
    _reduce,
    _shape,
    _total_weight,
)  # fmt: skip

__all__ = ["cross_entropy", "nll_loss"]


def _class_shape(ndim: int, n_classes: int) -> tuple[int, ...]:
    """The shape that broadcasts a per-class vector along axis 1 of an ``ndim``-d input."""
    return (1, n_classes, *([1] * (ndim - 2)))


def cross_entropy(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    r"""Cross-entropy of logits (classes on axis 1): the NLL of the log-softmax.

    With integer class labels :math:`y_n`:
    :math:`\ell_n = -w_{y_n}\log\operatorname{softmax}(z_n)_{y_n}`; with probability targets
    :math:`t_n` of the input's shape: :math:`\ell_n = -\sum_c w_c t_{nc}
    \log\operatorname{softmax}(z_n)_c`. Either way the gradient is
    :math:`\operatorname{softmax}(z) \sum_c t_{nc} - t` from one fused node, stable for any
    logits. ``label_smoothing`` :math:`\varepsilon` mixes the target with the uniform
    distribution (:math:`(1-\varepsilon) t + \varepsilon/C`), as PyTorch.

    Parameters
    ----------
    input : Tensor, shape ``(N, C)`` or ``(N, C, d1, ...)``
        Logits (no softmax applied).
    target : array-like or Tensor
        Integer labels of shape ``(N,)`` (or ``(N, d1, ...)``) in ``[0, C)`` (or equal to
        ``ignore_index``), or probabilities of the input's shape.
    weight : array-like or Tensor of shape ``(C,)``, optional
        A weight per class (a constant: it gets no gradient).
    ignore_index : int
        Labels equal to it contribute 0 and are left out of the mean (labels only).
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` with labels divides the sum by the total weight :math:`\sum_n w_{y_n}` of
        the targets not ignored (their count without ``weight``): NaN if every target is
        ignored, as PyTorch. With probabilities it divides by ``N * d1 * ...``.
    label_smoothing : float
        In ``[0, 1]``.

    Raises
    ------
    ShapeError, DTypeError, DomainError
        For input that is not ``(N, C, ...)``, labels of the wrong shape, dtype or range,
        a weight not of shape ``(C,)``, ``ignore_index`` with probability targets.
    """
    name = "cross_entropy"
    weight, reduction = _legacy(weight, reduction, name)
    _check_reduction(reduction, name)
    shape = _class_input(input, name)
    ignore_index = _check_index(ignore_index, name)
    smoothing = 0.0 if label_smoothing == 0.0 and type(label_smoothing) in (float, int) \
        else check_real(name, "label_smoothing", label_smoothing, low=0.0, high=1.0)
    w = None if weight is None else _class_weight(weight, shape, input, name)
    target = _as_tensor_like(target, input)
    kind = _raw(target).dtype.kind
    n_classes = shape[1]
    if kind == "f" and _shape(target) == shape:
        if ignore_index != -100:
            raise DomainError(f"{name}: ignore_index={ignore_index} is not supported for "
                              f"probability targets (as in PyTorch); it applies to labels")
        t = target
        if smoothing:
            t = t * (1 - smoothing) + smoothing / n_classes
        if w is not None:
            t = t * w.reshape(_class_shape(len(shape), n_classes))
        return _reduce(nn_ops.cross_entropy_probs(input, t), reduction, name)
    if kind == "f" and _shape(target) == (shape[0], *shape[2:]):
        raise DTypeError(f"{name}: target of shape {_shape(target)} looks like class labels "
                         f"but has dtype {_raw(target).dtype}; labels must be integers "
                         f"(.astype(np.int64)), probabilities must have the input's shape "
                         f"{shape}")
    if kind == "f":
        raise ShapeError(f"{name}: probability targets must have the input's shape {shape}, "
                         f"got {_shape(target)}")
    labels, all_kept = _labels(target, shape, name, ignore_index)
    if w is None and not smoothing and all_kept:
        return _reduce(nn_ops.cross_entropy_labels(input, labels), reduction, name)
    keep = labels != ignore_index
    safe = np.where(keep, labels, 0)
    dtype = _raw(input).dtype
    w_all = np.ones(n_classes, dtype) if w is None else w
    keep_c = np.expand_dims(keep, 1)
    q = np.where(keep_c, nn_ops._one_hot(safe, n_classes), 0) * (
        (1 - smoothing) * np.expand_dims(w_all[safe], 1))
    if smoothing:
        q = q + np.where(keep_c, (smoothing / n_classes)
                         * w_all.reshape(_class_shape(len(shape), n_classes)), 0)
    loss = nn_ops.cross_entropy_probs(input, q.astype(dtype, copy=False))
    return _reduce(loss, reduction, name, _total_weight(labels, w, ignore_index))


def nll_loss(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Any:
    r"""Negative log-likelihood of log-probabilities (e.g. a ``log_softmax`` output) at
    integer class labels: :math:`\ell_n = -w_{y_n} x_{n y_n}`.

    ``nll_loss(log_softmax(z, axis=1), y)`` equals ``cross_entropy(z, y)`` (with the same
    ``weight`` and ``ignore_index``).

    Parameters
    ----------
    input : Tensor, shape ``(N, C)`` or ``(N, C, d1, ...)``
        Log-probabilities.
    target : array-like of int, shape ``(N,)`` or ``(N, d1, ...)``
    weight : array-like or Tensor of shape ``(C,)``, optional
        A weight per class (a constant).
    ignore_index : int
        Labels equal to it contribute 0 and are left out of the mean.
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` divides by the total weight of the targets not ignored (NaN if none).
    """
    name = "nll_loss"
    weight, reduction = _legacy(weight, reduction, name)
    _check_reduction(reduction, name)
    shape = _class_input(input, name)
    ignore_index = _check_index(ignore_index, name)
    w = None if weight is None else _class_weight(weight, shape, input, name)
    labels, all_kept = _labels(_as_tensor_like(target, input), shape, name, ignore_index)
    if w is None and all_kept:
        return _reduce(nn_ops.nll_loss(input, labels), reduction, name)
    loss = nn_ops.nll_loss(input, labels, weight=w, ignore_index=ignore_index)
    return _reduce(loss, reduction, name, _total_weight(labels, w, ignore_index))
