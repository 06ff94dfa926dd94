r"""Layer normalisation, GELU, SiLU, embedding lookup and channel dropout: the functions of
:mod:`tensorgraph.nn.functional` behind ``nn.LayerNorm``, ``nn.GELU``, ``nn.SiLU``,
``nn.Embedding`` and ``nn.Dropout2d``, with PyTorch's signatures."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np

from ..errors import DomainError, DTypeError, ShapeError
from ..ops import activations, normalization
from ..ops import embedding as embedding_ops
from ..tensor import Tensor
from ._checks import check_real
from ._loss_checks import _raw, _shape
from .init import GeneratorLike, get_generator

__all__ = ["dropout2d", "embedding", "gelu", "layer_norm", "normalized_shape_tuple", "silu"]


def normalized_shape_tuple(owner: str, normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    """``normalized_shape`` (an int or a sequence of ints, each >= 1) as a tuple."""
    items: tuple[Any, ...] = (
        (normalized_shape,) if isinstance(normalized_shape, Integral)
        else tuple(normalized_shape))  # type: ignore[arg-type]
    if not items or any(isinstance(n, (bool, np.bool_)) or not isinstance(n, Integral)
                        or n < 1 for n in items):
        raise DomainError(f"{owner}: normalized_shape must be a positive int or a non-empty "
                          f"sequence of positive ints, got {normalized_shape!r}")
    return tuple(int(n) for n in items)


def layer_norm(input: Any, normalized_shape: int | Sequence[int], weight: Any = None,
               bias: Any = None, eps: float = 1e-5) -> Any:
    r"""Layer normalisation over the trailing axes ``normalized_shape``, as one fused node
    (:class:`~tensorgraph.ops.normalization.LayerNorm`):
    :math:`y = \gamma \odot (x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta`, with the mean
    and *biased* variance of each sample over those axes (PyTorch's convention).

    Parameters
    ----------
    input : Tensor, shape ``(*, *normalized_shape)``
    normalized_shape : int or sequence of int
        The trailing shape to normalise over.
    weight, bias : Tensor of shape ``normalized_shape``, optional
    eps : float
        Added to the variance inside the square root, >= 0.

    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> F.layer_norm(tg.tensor([[1.0, 3.0]]), 2).numpy().round(4).tolist()
    [[-1.0, 1.0]]
    """
    name = "layer_norm"
    shape = normalized_shape_tuple(name, normalized_shape)
    xs = _shape(input)
    k = len(shape)
    if len(xs) < k or xs[len(xs) - k:] != shape:
        raise ShapeError(f"{name}: input of shape {xs} does not end in normalized_shape "
                         f"{shape}")
    for label, t in (("weight", weight), ("bias", bias)):
        if t is not None and _shape(t) != shape:
            raise ShapeError(f"{name}: {label} has shape {_shape(t)}, expected the "
                             f"normalized_shape {shape}")
    eps = check_real(name, "eps", eps, low=0.0)
    axis = tuple(range(len(xs) - k, len(xs)))
    return normalization.layer_norm(input, weight, bias, axis=axis, eps=eps)


def gelu(input: Any, approximate: str = "none") -> Any:
    r"""GELU, :math:`x\,\Phi(x)` (``approximate='none'``, through a float64-accurate erf)
    or its tanh approximation (``'tanh'``), as PyTorch; one node
    (:class:`~tensorgraph.ops.activations.Gelu`).

    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> round(float(F.gelu(tg.tensor(1.0, dtype="float64"))), 10)
    0.8413447461
    """
    return activations.gelu(input, approximate)


def silu(input: Any) -> Any:
    r"""SiLU (swish), :math:`x\,\sigma(x)`, stable for any input; one node
    (:class:`~tensorgraph.ops.activations.Silu`)."""
    return activations.silu(input)


def embedding(input: Any, weight: Any, padding_idx: int | None = None) -> Any:
    r"""Rows of ``weight`` (``(num_embeddings, embedding_dim)``) at the integer ids
    ``input`` (any shape): the result has shape ``input.shape + (embedding_dim,)``.

    The row ``padding_idx`` (negative counts from the end, as PyTorch) gets no gradient.

    Raises
    ------
    DTypeError
        For ids that are not integers.
    IndexError
        For an id outside ``[0, num_embeddings)`` (naming it).
    ShapeError
        For a weight that is not 2-d.
    """
    name = "embedding"
    ws = _shape(weight)
    if len(ws) != 2:
        raise ShapeError(f"{name}: weight must be 2-d (num_embeddings, embedding_dim), got "
                         f"shape {ws}")
    ids = np.array(_raw(input), copy=True)  # the op keeps it; the caller may change theirs
    if ids.dtype.kind not in "iu":
        raise DTypeError(f"{name}: ids must be integers, got dtype {ids.dtype}; convert them "
                         f"with .astype(np.int64)")
    rows = ws[0]
    if ids.size and (ids.min() < 0 or ids.max() >= rows):
        bad = ids[(ids < 0) | (ids >= rows)]
        raise IndexError(f"{name}: ids must be in [0, {rows - 1}] for {rows} embeddings, "
                         f"found {bad[:5].tolist()}")
    if padding_idx is not None:
        if isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx, Integral) \
                or not -rows <= padding_idx < rows:
            raise DomainError(f"{name}: padding_idx must be an int in [-{rows}, {rows}), got "
                              f"{padding_idx!r}")
        padding_idx = int(padding_idx) % rows
    return embedding_ops.embedding(weight, ids, padding_idx)


def dropout2d(input: Any, p: float = 0.5, training: bool = True,
              generator: GeneratorLike = None) -> Any:
    r"""Channel dropout: zero each whole channel (a feature map) of ``(N, C, H, W)`` or
    ``(C, H, W)`` input with probability ``p``, and scale the kept channels by
    :math:`1/(1-p)` (Tompson et al., 2015).

    .. math:: y_{nc} = x_{nc}\,m_{nc}/(1-p),\quad m_{nc} \sim \text{Bernoulli}(1-p)

    Identity with ``training=False`` or ``p=0``; zeros (and a zero gradient) with ``p=1``.
    3-d input is ``(C, H, W)``, one sample, as PyTorch documents it (PyTorch 2.13 itself
    still reads 3-d input as ``(N, C, L)``, with a warning that this will change).
    """
    from .functional import check_probability

    p = check_probability("dropout2d", p)
    xs = _shape(input)
    if len(xs) not in (3, 4):
        raise ShapeError(f"dropout2d: expected (N, C, H, W) or (C, H, W) input, got shape "
                         f"{xs}; use dropout for other shapes")
    if not training or p == 0:
        return input
    data = _raw(input)
    if data.dtype.kind != "f":
        raise DTypeError(f"dropout2d: expected a floating tensor, got {data.dtype}")
    if p == 1:
        return input * data.dtype.type(0)
    mask_shape = (*xs[:-2], 1, 1)
    draw_dtype = np.float64 if data.dtype == np.float64 else np.float32
    keep = get_generator(generator).random(mask_shape, dtype=draw_dtype) >= p
    mask = keep * data.dtype.type(1 / (1 - p))
    return input * mask if isinstance(input, Tensor) else data * mask
