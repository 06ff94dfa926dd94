r"""Stateless neural-network functions: layers' math, activations and losses.

The modules in :mod:`tensorgraph.nn` hold state (weights, running statistics, a random
generator) and call these functions, so the math can be used and tested without modules.
Names and argument orders follow ``torch.nn.functional``; the activations are the
tensorgraph ops themselves (with numpy's ``axis``).

Losses take ``reduction='mean' | 'sum' | 'none'`` (PyTorch's default ``'mean'``: the mean
over every per-sample loss, or over the weights where PyTorch divides by them); they live in
``_functional_losses`` and ``_functional_classes`` and are re-exported here. Shape mistakes
raise :class:`~tensorgraph.errors.ShapeError` and out-of-range values
:class:`~tensorgraph.errors.DomainError`, naming the function.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import DomainError, DTypeError, ShapeError
from ..ops import leaky_relu, log_softmax, nn_ops, relu, sigmoid, softmax, softplus, tanh
from ..tensor import Tensor
from ._checks import check_real
from ._functional_classes import cross_entropy, nll_loss
from ._functional_layers import dropout2d, embedding, gelu, layer_norm, silu
from ._functional_losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    l1_loss,
    mse_loss,
    smooth_l1_loss,
)  # fmt: skip
from ._loss_checks import REDUCTIONS, _raw, _shape
from .init import GeneratorLike, get_generator

__all__ = [
    "REDUCTIONS", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "dropout", "dropout2d", "embedding", "gelu", "huber_loss", "l1_loss",
    "layer_norm", "leaky_relu", "linear", "log_softmax", "mse_loss", "nll_loss", "relu",
    "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus", "sum_of_squares", "tanh",
]  # fmt: skip
from .functional_conv import *  # noqa: F403 - conv and pooling (functional_conv.py)
from .functional_conv import __all__ as _CONV_ALL

__all__ += _CONV_ALL


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
