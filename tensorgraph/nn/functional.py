r"""Stateless neural-network functions: layers' math, activations and losses.

The modules in :mod:`tensorgraph.nn` hold state (weights, running statistics, a random
generator) and call these functions, so the math can be used and tested without modules.
Names and argument orders follow ``torch.nn.functional``; the activations are the
tensorgraph ops themselves (with numpy's ``axis``).

Losses take ``reduction='mean' | 'sum' | 'none'`` (PyTorch's default ``'mean'``: the mean
over every per-sample loss). Shape mistakes raise :class:`~tensorgraph.errors.ShapeError`
and out-of-range values :class:`~tensorgraph.errors.DomainError`, naming the function.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import DomainError, DTypeError, ShapeError
from ..ops import clip, leaky_relu, log, log_softmax, nn_ops, relu, sigmoid, softmax, softplus, tanh
from ..tensor import Tensor
from ._checks import check_real
from .init import GeneratorLike, get_generator

__all__ = [
    "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "dropout", "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "relu",
    "sigmoid", "softmax", "softplus", "sum_of_squares", "tanh",
]  # fmt: skip
from .functional_conv import *  # noqa: F403 - conv and pooling (functional_conv.py)
from .functional_conv import __all__ as _CONV_ALL

__all__ += _CONV_ALL

REDUCTIONS = ("mean", "sum", "none")


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _as_tensor_like(value: Any, like: Any) -> Any:
    """Tensors and ndarrays as they are; Python data as an array, floats in ``like``'s
    dtype (Python data is weak, as Python scalars are)."""
    if isinstance(value, (Tensor, np.ndarray)):
        return value
    array = np.asarray(value)
    dtype = _raw(like).dtype
    if array.dtype.kind == "f" and dtype.kind == "f":
        array = array.astype(dtype)
    return array


def _raw(value: Any) -> np.ndarray:
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


# --------------------------------------------------------------------------- linear
def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    r"""Affine map :math:`y = x W^\top + b` of the last axis, as one fused node.

    Parameters
    ----------
    x : Tensor, shape ``(..., in_features)``
    weight : Tensor, shape ``(out_features, in_features)``
    bias : Tensor, shape ``(out_features,)``, optional

    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> F.linear(tg.ones((2, 3)), tg.ones((4, 3))).shape
    (2, 4)
    """
    xs, ws = _shape(x), _shape(weight)
    if len(ws) != 2:
        raise ShapeError(f"linear: weight must be 2-d (out_features, in_features), got {ws}")
    if not xs or xs[-1] != ws[1]:
        raise ShapeError(f"linear: input of shape {xs} does not end in in_features={ws[1]} "
                         f"of the weight {ws}")
    if bias is not None and _shape(bias) != (ws[0],):
        raise ShapeError(f"linear: bias must have shape ({ws[0]},) to match the weight {ws}, "
                         f"got {_shape(bias)}")
    return nn_ops.linear(x, weight, bias)


# --------------------------------------------------------------------------- batch norm
def batch_norm(x: Any, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Any = None, bias: Any = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Any:
    r"""Batch normalisation of ``(N, C)`` or ``(N, C, L)`` input, per channel ``C``.

    In training (or without running statistics) the batch's own mean and *biased* variance
    normalise the input, through the fused :class:`~tensorgraph.ops.nn_ops.BatchNorm` op
    and its closed-form VJP. In training the running statistics are then updated in place,
    outside the graph, with the *unbiased* batch variance (PyTorch's convention):

    .. math::
        \hat\mu \leftarrow (1 - \text{momentum})\,\hat\mu + \text{momentum}\,\mu_B,\qquad
        \hat\sigma^2 \leftarrow (1 - \text{momentum})\,\hat\sigma^2
            + \text{momentum}\,\tfrac{m}{m-1}\sigma_B^2

    In evaluation the running statistics normalise:
    :math:`y = \gamma (x - \hat\mu) / \sqrt{\hat\sigma^2 + \epsilon} + \beta`.

    Parameters
    ----------
    x : Tensor, shape ``(N, C)`` or ``(N, C, L)``
    running_mean, running_var : Tensor of shape ``(C,)`` or None
        Buffers updated in place in training; used to normalise in evaluation.
    weight, bias : Tensor of shape ``(C,)``, optional
        :math:`\gamma` and :math:`\beta`.
    training : bool
    momentum : float
        In ``[0, 1]``.
    eps : float
        Added to the variance inside the square root; must be > 0.

    Raises
    ------
    ShapeError
        For input that is not 2-d or 3-d, mismatched channel counts, or one value per
        channel in training (its variance is undefined).
    """
    xs = _shape(x)
    if len(xs) not in (2, 3):
        raise ShapeError(f"batch_norm: expected (N, C) or (N, C, L) input, got shape {xs}")
    channels = xs[1]
    for label, t in (("running_mean", running_mean), ("running_var", running_var),
                     ("weight", weight), ("bias", bias)):
        if t is not None and _shape(t) != (channels,):
            raise ShapeError(f"batch_norm: {label} has shape {_shape(t)} but the input "
                             f"{xs} has {channels} channels")
    if not eps > 0:
        raise DomainError(f"batch_norm: eps must be > 0, got {eps}")
    if not 0 <= momentum <= 1:
        raise DomainError(f"batch_norm: momentum must be in [0, 1], got {momentum}")
    axis = (0,) if len(xs) == 2 else (0, 2)
    per_channel = math.prod(xs[a] for a in axis)
    use_batch = training or running_mean is None or running_var is None
    if training and per_channel <= 1:
        raise ShapeError(f"batch_norm: expected more than 1 value per channel when "
                         f"training, got input of shape {xs}; use a larger batch, or eval()")
    for label, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.dtype != np.dtype(_raw(x).dtype):
            raise DTypeError(f"batch_norm: {label} is {t.dtype} but the input is "
                             f"{_raw(x).dtype}")
    if not use_batch:
        assert running_mean is not None and running_var is not None
        cshape = (1, channels) if len(xs) == 2 else (1, channels, 1)
        mean = running_mean.numpy().reshape(cshape)
        inv_std = 1 / np.sqrt(running_var.numpy().reshape(cshape) + eps)
        y = (x - mean) * inv_std
        if weight is not None:
            y = y * weight.reshape(cshape)
        if bias is not None:
            y = y + bias.reshape(cshape)
        return y
    data = _raw(x)
    batch_mean = data.mean(axis=axis, keepdims=True)
    # what np.var computes, without its second pass for the mean we already have
    centred = data - batch_mean
    centred *= centred
    batch_var = centred.mean(axis=axis, keepdims=True)
    del centred
    if training:
        unbiased = batch_var * (per_channel / (per_channel - 1))
        for buffer, stat in ((running_mean, batch_mean), (running_var, unbiased)):
            if buffer is None:
                continue
            buf = buffer._data  # written in place, outside the graph
            buf *= 1 - momentum
            buf += momentum * stat.reshape(channels)
            buffer._bump_version()
    return nn_ops.batch_norm(x, weight, bias, axis=axis, eps=eps, mean=batch_mean,
                             var=batch_var)


# --------------------------------------------------------------------------- L2
def sum_of_squares(x: Any) -> Any:
    r"""The squared Frobenius norm :math:`\sum_i x_i^2` of ``x``, as one node whose VJP is
    :math:`2\bar z x` (the building block of :func:`tensorgraph.nn.l2_penalty`).

    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> float(F.sum_of_squares(tg.tensor([3.0, 4.0])))
    25.0
    """
    return nn_ops.sum_of_squares(x)


# --------------------------------------------------------------------------- dropout
def dropout(x: Any, p: float = 0.5, training: bool = True,
            generator: GeneratorLike = None) -> Any:
    r"""Inverted dropout: zero each element with probability ``p`` and scale the survivors
    by :math:`1/(1-p)`, so the expected output equals the input and evaluation needs no
    rescaling.

    .. math:: y = x \odot m / (1 - p),\quad m_i \sim \text{Bernoulli}(1 - p),\qquad
              \bar x = \bar y \odot m / (1 - p)

    The gradient is exactly zero where an element was dropped. With ``training=False`` or
    ``p=0`` the input itself is returned (no op, no copy); ``p=1`` gives zeros (PyTorch's
    convention: every element dropped, no division by zero).

    Parameters
    ----------
    x : Tensor
    p : float
        Probability of dropping, in ``[0, 1]``.
    training : bool
    generator : numpy.random.Generator, int or None
        Source of the mask (None: the library's default generator).
    """
    p = check_probability("dropout", p)
    if not training or p == 0:
        return x
    data = _raw(x)
    if data.dtype.kind != "f":
        raise DTypeError(f"dropout: expected a floating tensor, got {data.dtype}")
    if p == 1:  # every element dropped: zeros that stay in the graph (zero gradient)
        return x * data.dtype.type(0)
    # uniforms drawn in the tensor's own precision: half the work and memory of float64 for
    # a float32 model (numpy draws float32 or float64 only)
    draw_dtype = np.float64 if data.dtype == np.float64 else np.float32
    keep = get_generator(generator).random(data.shape, dtype=draw_dtype) >= p
    mask = keep * data.dtype.type(1 / (1 - p))  # float mask in x's dtype
    return x * mask


def check_probability(owner: str, p: Any) -> float:
    """A dropout probability (a Python or numpy real, not a bool) in ``[0, 1]``, as a float."""
    try:
        return check_real(owner, "p", p, low=0.0, high=1.0)
    except (DomainError, DTypeError):
        raise DomainError(f"{owner}: p must be a probability in [0, 1], got {p!r}") from None


# --------------------------------------------------------------------------- losses
def _reduce(loss: Any, reduction: str, name: str) -> Any:
    """Apply a reduction already validated by :func:`_check_reduction`."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(reduction: str, name: str) -> None:
    if reduction not in REDUCTIONS:
        raise DomainError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _same_shape(x: Any, target: Any, name: str) -> None:
    if _shape(x) != _shape(target):
        raise ShapeError(f"{name}: input shape {_shape(x)} and target shape {_shape(target)} "
                         f"differ; they must be equal (nothing is broadcast)")


def _check_unit_interval(values: Any, what: str, name: str) -> None:
    data = _raw(values)
    # min/max propagate NaN and NaN fails both comparisons, so this one fast test (two
    # reductions) catches every bad value; the slower nan-aware ones only build the message
    if data.size and not (data.min() >= 0 and data.max() <= 1):
        raise DomainError(f"{name}: {what} must lie in [0, 1], found values in "
                          f"[{np.nanmin(data)}, {np.nanmax(data)}]"
                          + (" and NaN" if np.isnan(data).any() else ""))


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Binary cross-entropy of logits, stable for any logit (no inf or NaN at
    :math:`|z| = 1000`): :math:`\ell = \max(z, 0) - z y + \ln(1 + e^{-|z|})`.

    This is the recommended loss for binary classification: give it the model's raw
    output (logits) instead of passing probabilities through a sigmoid first. Its gradient
    is :math:`\sigma(z) - y`.

    Parameters
    ----------
    input : Tensor
        Logits.
    target : Tensor or array-like
        Targets in ``[0, 1]`` (0/1 labels or soft labels), the same shape as ``input``.
    reduction : {'mean', 'sum', 'none'}
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(reduction, name)
    target = _as_tensor_like(target, input)
    _same_shape(input, target, name)
    _check_unit_interval(target, "targets", name)
    return _reduce(nn_ops.binary_cross_entropy_with_logits(input, target), reduction, name)


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean",
                         eps: float = 1e-7) -> Any:
    r"""Binary cross-entropy of probabilities ``p`` (e.g. a sigmoid's output):
    :math:`\ell = -y \ln \tilde p - (1 - y) \ln(1 - \tilde p)` with
    :math:`\tilde p = \operatorname{clip}(p, \epsilon, 1 - \epsilon)`.

    The clipping keeps the loss finite when a probability is exactly 0 or 1 (PyTorch
    instead clamps each log at -100); beyond the clip bounds the gradient is 0, so a
    saturated sigmoid stops learning. Prefer :func:`binary_cross_entropy_with_logits`,
    which needs no clipping.

    Parameters
    ----------
    input : Tensor
        Probabilities in ``[0, 1]``.
    target : Tensor or array-like
        Targets in ``[0, 1]``, the same shape as ``input``.
    reduction : {'mean', 'sum', 'none'}
    eps : float
        The clipping margin, in ``(0, 0.5)``.
    """
    name = "binary_cross_entropy"
    _check_reduction(reduction, name)
    if not 0 < eps < 0.5:
        raise DomainError(f"{name}: eps must be in (0, 0.5), got {eps}")
    target = _as_tensor_like(target, input)
    _same_shape(input, target, name)
    _check_unit_interval(input, "input probabilities", name)
    _check_unit_interval(target, "targets", name)
    p = clip(input, eps, 1 - eps)
    loss = -(target * log(p) + (1 - target) * log(1 - p))
    return _reduce(loss, reduction, name)


def _labels(target: Any, input_shape: tuple[int, ...], name: str) -> np.ndarray:
    """Validate integer class labels for input of ``input_shape`` (classes on axis 1)."""
    labels = _raw(target)
    expected = (input_shape[0], *input_shape[2:])
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"{name}: class labels must be integers, got dtype {labels.dtype}; "
                         f"convert them with .astype(np.int64)")
    if labels.shape != expected:
        raise ShapeError(f"{name}: labels of shape {labels.shape} do not fit input of shape "
                         f"{input_shape}; expected {expected}")
    n_classes = input_shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)]
        raise DomainError(f"{name}: labels must be in [0, {n_classes - 1}] for {n_classes} "
                          f"classes, found {bad[:5].tolist()}")
    return labels


def _class_input(input: Any, name: str) -> tuple[int, ...]:
    shape = _shape(input)
    if len(shape) < 2:
        raise ShapeError(f"{name}: input must be (N, C) or (N, C, d1, ...) with classes on "
                         f"axis 1, got shape {shape}")
    return shape


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Cross-entropy of logits (classes on axis 1): the NLL of the log-softmax.

    With integer class labels :math:`y_n`:
    :math:`\ell_n = -\log\operatorname{softmax}(z_n)_{y_n}`; with one-hot or probability
    targets :math:`t_n` of the input's shape:
    :math:`\ell_n = -\sum_c t_{nc} \log\operatorname{softmax}(z_n)_c`. Either way the
    gradient is :math:`\operatorname{softmax}(z) - t` (times :math:`\sum_c t_{nc}`), from one
    fused node, stable for any logits.

    Parameters
    ----------
    input : Tensor, shape ``(N, C)`` or ``(N, C, d1, ...)``
        Logits (no softmax applied).
    target : array-like or Tensor
        Integer labels of shape ``(N,)`` (or ``(N, d1, ...)``) in ``[0, C)``, or
        probabilities of the input's shape.
    reduction : {'mean', 'sum', 'none'}
        ``'mean'`` averages over the samples (and positions ``d1, ...``).
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    shape = _class_input(input, name)
    target = _as_tensor_like(target, input)
    kind = _raw(target).dtype.kind
    if kind == "f" and _shape(target) == shape:
        loss = nn_ops.cross_entropy_probs(input, target)
    elif kind == "f" and _shape(target) == (shape[0], *shape[2:]):
        raise DTypeError(f"{name}: target of shape {_shape(target)} looks like class labels "
                         f"but has dtype {_raw(target).dtype}; labels must be integers "
                         f"(.astype(np.int64)), probabilities must have the input's shape "
                         f"{shape}")
    elif kind == "f":
        raise ShapeError(f"{name}: probability targets must have the input's shape {shape}, "
                         f"got {_shape(target)}")
    else:
        loss = nn_ops.cross_entropy_labels(input, _labels(target, shape, name))
    return _reduce(loss, reduction, name)


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Negative log-likelihood of log-probabilities (e.g. a ``log_softmax`` output) at
    integer class labels: :math:`\ell_n = -x_{n y_n}`.

    ``nll_loss(log_softmax(z, axis=1), y)`` equals ``cross_entropy(z, y)``.

    Parameters
    ----------
    input : Tensor, shape ``(N, C)`` or ``(N, C, d1, ...)``
        Log-probabilities.
    target : array-like of int, shape ``(N,)`` or ``(N, d1, ...)``
    reduction : {'mean', 'sum', 'none'}
    """
    name = "nll_loss"
    _check_reduction(reduction, name)
    shape = _class_input(input, name)
    labels = _labels(_as_tensor_like(target, input), shape, name)
    return _reduce(nn_ops.nll_loss(input, labels), reduction, name)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Squared error :math:`\ell = (x - y)^2`, reduced (mean by default).

    Parameters
    ----------
    input, target : Tensor or array-like of the same shape
    reduction : {'mean', 'sum', 'none'}
    """
    name = "mse_loss"
    _check_reduction(reduction, name)
    target = _as_tensor_like(target, input)
    _same_shape(input, target, name)
    diff = input - target
    return _reduce(diff * diff, reduction, name)
