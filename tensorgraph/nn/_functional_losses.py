r"""The loss functions of :mod:`tensorgraph.nn.functional`, with PyTorch's signatures.

Every loss takes ``reduction='mean' | 'sum' | 'none'``. The class-weighted losses follow
PyTorch's means exactly: ``cross_entropy`` and ``nll_loss`` with class labels divide the
sum by the total weight of the targets that are not ignored (a mean with weights), and give
NaN when every target is ignored (0/0, with a zero gradient, as PyTorch); a mean over an
empty batch is NaN too. Everything after the ``weight`` argument is keyword-only (PyTorch's
deprecated ``size_average`` and ``reduce`` sit between them, so a positional call copied
from PyTorch fails loudly instead of binding the wrong argument); for compatibility with
the earlier ``loss(input, target, "sum")`` form a string in ``weight``'s place is the
reduction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DomainError
from ..ops import abs as _abs
from ..ops import clip, log, nn_ops
from ..ops import losses as loss_ops
from ._loss_checks import (
    _as_tensor_like,
    _broadcast_weight,
    _check_reduction,
    _check_unit_interval,
    _exact_weight,
    _legacy,
    _raw,
    _reduce,
    _same_shape,
)  # fmt: skip

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "huber_loss", "l1_loss",
    "mse_loss", "smooth_l1_loss",
]  # fmt: skip


# --------------------------------------------------------------------------- binary
def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, *,
                                     reduction: str = "mean", pos_weight: Any = None) -> Any:
    r"""Binary cross-entropy of logits, stable for any logit (no inf or NaN at
    :math:`|z| = 1000`): :math:`\ell = w\,[\max(z, 0) - z y + \ln(1 + e^{-|z|})]`.

    This is the recommended loss for binary classification: give it the model's raw
    output (logits) instead of passing probabilities through a sigmoid first. Its gradient
    is :math:`w(\sigma(z) - y)`. With ``pos_weight`` :math:`p` the positive term is
    weighted: :math:`\ell = -w\,[p\,y\ln\sigma(z) + (1-y)\ln(1-\sigma(z))]` (PyTorch's).

    Parameters
    ----------
    input : Tensor
        Logits.
    target : Tensor or array-like
        Targets in ``[0, 1]`` (0/1 labels or soft labels), the same shape as ``input``.
    weight : Tensor or array-like, optional
        Rescales each element's loss; broadcast to the input's shape.
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` averages over every element.
    pos_weight : Tensor or array-like, optional
        Weight of the positive term per class, broadcast along the last axis (shape ``(C,)``
        for input ``(N, C)``); it receives a gradient.
    """
    name = "binary_cross_entropy_with_logits"
    weight, reduction = _legacy(weight, reduction, name)
    _check_reduction(reduction, name)
    target = _as_tensor_like(target, input)
    _same_shape(input, target, name)
    _check_unit_interval(target, "targets", name)
    if pos_weight is None:
        loss = nn_ops.binary_cross_entropy_with_logits(input, target)
    else:
        pos_weight = _broadcast_weight(pos_weight, input, "pos_weight", name)
        loss = loss_ops.binary_cross_entropy_with_logits_pos_weight(input, target, pos_weight)
    if weight is not None:
        loss = loss * _broadcast_weight(weight, input, "weight", name)
    return _reduce(loss, reduction, name)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, *,
                         reduction: str = "mean", eps: float = 1e-7) -> Any:
    r"""Binary cross-entropy of probabilities ``p`` (e.g. a sigmoid's output):
    :math:`\ell = -w\,[y \ln \tilde p + (1 - y) \ln(1 - \tilde p)]` with
    :math:`\tilde p = \operatorname{clip}(p, \epsilon, 1 - \epsilon)`.

    The clipping keeps the loss finite when a probability is exactly 0 or 1 (PyTorch
    instead clamps each log at -100, so the two differ only for :math:`p` within
    :math:`\epsilon` of 0 or 1); beyond the clip bounds the gradient is 0, so a saturated
    sigmoid stops learning. Prefer :func:`binary_cross_entropy_with_logits`, which needs no
    clipping.

    Parameters
    ----------
    input : Tensor
        Probabilities in ``[0, 1]``.
    target : Tensor or array-like
        Targets in ``[0, 1]``, the same shape as ``input``.
    weight : Tensor or array-like, optional
        Rescales each element's loss; broadcast to the input's shape.
    reduction : {'mean', 'sum', 'none'}
    eps : float
        The clipping margin, in ``(0, 0.5)``.
    """
    name = "binary_cross_entropy"
    weight, reduction = _legacy(weight, reduction, name)
    _check_reduction(reduction, name)
    if not 0 < eps < 0.5:
        raise DomainError(f"{name}: eps must be in (0, 0.5), got {eps}")
    target = _as_tensor_like(target, input)
    _same_shape(input, target, name)
    _check_unit_interval(input, "input probabilities", name)
    _check_unit_interval(target, "targets", name)
    p = clip(input, eps, 1 - eps)
    loss = -(target * log(p) + (1 - target) * log(1 - p))
    if weight is not None:
        loss = loss * _broadcast_weight(weight, input, "weight", name)
    return _reduce(loss, reduction, name)


# --------------------------------------------------------------------------- regression
def _regression(input: Any, target: Any, reduction: str, name: str) -> Any:
    _check_reduction(reduction, name)
    target = _as_tensor_like(target, input)
    _same_shape(input, target, name)
    return target


def mse_loss(input: Any, target: Any, reduction: str = "mean", *, weight: Any = None) -> Any:
    r"""Squared error :math:`\ell = w (x - y)^2`, reduced (mean by default).

    With ``weight`` (the input's shape, as PyTorch) ``'mean'`` divides by the sum of the
    weights, as PyTorch 2.13 does for this loss.

    Parameters
    ----------
    input, target : Tensor or array-like of the same shape
    reduction : {'mean', 'sum', 'none'}
    weight : Tensor or array-like of the input's shape, optional
    """
    name = "mse_loss"
    target = _regression(input, target, reduction, name)
    diff = input - target
    loss = diff * diff
    if weight is None:
        return _reduce(loss, reduction, name)
    weight = _exact_weight(weight, input, name)
    return _reduce(loss * weight, reduction, name, float(_raw(weight).sum()))


def l1_loss(input: Any, target: Any, reduction: str = "mean", *, weight: Any = None) -> Any:
    r"""Absolute error :math:`\ell = w\,|x - y|`; its derivative at :math:`x = y` is 0
    (PyTorch's ``sign(0) = 0``).

    With ``weight`` (the input's shape) ``'mean'`` divides by the sum of the weights, as
    PyTorch 2.13.

    Parameters
    ----------
    input, target : Tensor or array-like of the same shape
    reduction : {'mean', 'sum', 'none'}
    weight : Tensor or array-like of the input's shape, optional
    """
    name = "l1_loss"
    target = _regression(input, target, reduction, name)
    loss = _abs(input - target)
    if weight is None:
        return _reduce(loss, reduction, name)
    weight = _exact_weight(weight, input, name)
    return _reduce(loss * weight, reduction, name, float(_raw(weight).sum()))


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Any:
    r"""Huber loss: :math:`\tfrac12 d^2` for :math:`|d| < \delta`, else
    :math:`\delta(|d| - \tfrac12\delta)`, with :math:`d = x - y`; one fused node
    (:class:`~tensorgraph.ops.losses.HuberLoss`). Its derivative is
    :math:`\operatorname{clip}(d, -\delta, \delta)`, continuous (0 at :math:`d = 0`).

    With ``weight`` (the input's shape) ``'mean'`` divides by the number of elements (not
    by the sum of the weights), as PyTorch 2.13 does for this loss.

    Parameters
    ----------
    input, target : Tensor or array-like of the same shape
    reduction : {'mean', 'sum', 'none'}
    delta : float
        The threshold, > 0.
    weight : Tensor or array-like of the input's shape, optional
    """
    name = "huber_loss"
    target = _regression(input, target, reduction, name)
    if isinstance(delta, bool) or not isinstance(delta, (int, float, np.number)) \
            or not delta > 0 or not np.isfinite(delta):
        raise DomainError(f"{name}: delta must be a finite number > 0, got {delta!r}")
    loss = loss_ops.huber_loss(input, target, delta=float(delta))
    if weight is not None:
        loss = loss * _exact_weight(weight, input, name)
    return _reduce(loss, reduction, name)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", *,
                   beta: float = 1.0) -> Any:
    r"""Smooth L1 loss: :math:`\tfrac12 d^2/\beta` for :math:`|d| < \beta`, else
    :math:`|d| - \tfrac12\beta` (the Huber loss with :math:`\delta = \beta`, divided by
    :math:`\beta`). ``beta=0`` is the L1 loss, as PyTorch (derivative 0 at :math:`d = 0`).

    Parameters
    ----------
    input, target : Tensor or array-like of the same shape
    reduction : {'mean', 'sum', 'none'}
    beta : float
        The threshold, >= 0.
    """
    name = "smooth_l1_loss"
    target = _regression(input, target, reduction, name)
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.number)) \
            or not beta >= 0 or not np.isfinite(beta):
        raise DomainError(f"{name}: beta must be a finite number >= 0, got {beta!r}")
    if beta == 0:
        loss = _abs(input - target)
    else:
        loss = loss_ops.huber_loss(input, target, delta=float(beta)) * (1 / float(beta))
    return _reduce(loss, reduction, name)
