r"""``numpy.linalg.norm`` for the vector and matrix norms that have a gradient.

The 2-norm of vectors and the Frobenius norm of matrices are one registered op
(:class:`Norm`, the square root of a sum of squares, with PyTorch's subgradient 0 at the
origin). The 1-, inf- and -inf-norms are compositions of ``abs``, ``sum``, ``max`` and
``min``, exactly as numpy computes them, so their conventions are those ops': ``abs'(0) = 0``
and tied maxima (minima) share the gradient equally, as in PyTorch. Norms that need singular
values (matrix ``ord=2``, ``-2``, ``'nuc'``), the count ``ord=0`` and other powers are refused
with a clear ``TypeError``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import normalize_axis
from ..errors import ShapeError
from ._base import Domain, Op, register
from .elementwise import abs as _abs
from .elementwise import check_args

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["FUNCTIONS", "norm"]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _norm_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    ndim = len(shapes[0])
    axes: list[tuple[int, ...] | None] = [None]
    axes += [(a,) for a in range(-ndim, ndim)]
    axes += [(a, b) for a in range(ndim) for b in range(-ndim, 0) if a != b % ndim]
    return [{"axis": axis, "keepdims": keep} for axis in axes for keep in (False, True)]


def _norm_reference(x: Any, axis: tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    return np.linalg.norm(x, axis=axis, keepdims=keepdims)


@register
class Norm(Op):
    r"""Euclidean norm over ``axis`` (a vector's 2-norm, a matrix's Frobenius norm; every
    element when ``axis`` is None), as ``numpy.linalg.norm`` with ``ord`` None, 2 or 'fro'.

    .. math:: z = \sqrt{\textstyle\sum x^2},\qquad \bar x = \bar z\, x / z \ (z > 0),
              \qquad \bar x = 0 \ (z = 0)

    The norm has no derivative at the origin; 0 there is PyTorch's subgradient (the
    smallest one), pinned by ``tests/ops/test_numpy_linalg.py``.

    >>> import tensorgraph as tg
    >>> tg.norm(tg.tensor([3.0, 4.0]))
    tensor(5., dtype=float32)
    """

    name = "norm"
    domain = Domain(min_rank=1, params=_norm_params)
    array_params = frozenset()
    reference = staticmethod(_norm_reference)

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] | None = None,
              keepdims: bool = False) -> Any:
        if not keepdims:
            kept = tuple(range(len(_shape(x)))) if axis is None else axis
            grad, out = np.expand_dims(grad, kept), np.expand_dims(out, kept)
        zero = np.asarray(getattr(out, "_data", out)) == 0
        return grad * np.where(zero, 0.0, x / np.where(zero, 1.0, out))


_VECTOR_ORDS = "None, 2, 1, inf, -inf"
_MATRIX_ORDS = "None, 'fro', 1, -1, inf, -inf"


def _refuse_ord(ord: Any, kind: str) -> None:
    supported = _VECTOR_ORDS if kind == "vector" else _MATRIX_ORDS
    raise TypeError(f"norm: ord={ord!r} for a {kind} norm is not supported on Tensors "
                    f"(supported: {supported}; the others need singular values or are not "
                    f"differentiable); call numpy on tensor.detach().numpy()")


def _squeeze(x: Any, axes: tuple[int, ...]) -> Any:
    from .shape import reshape

    shape = _shape(x)
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Vector or matrix norm, as ``numpy.linalg.norm`` (``ord`` None/2/1/inf/-inf for
    vectors; None/'fro'/1/-1/inf/-inf for matrices); see :class:`Norm` and the module
    docstring for the gradients at the origin and at ties."""
    from .reduction import max as _max
    from .reduction import min as _min
    from .reduction import sum as _sum

    check_args("norm", x)
    shape = _shape(x)
    ndim = len(shape)
    keepdims = bool(keepdims)
    if axis is None:
        if ord is None:
            return Norm.apply(x, axis=None, keepdims=keepdims)
        if ndim not in (1, 2):
            raise ShapeError(f"norm: ord={ord!r} without axis needs a 1-D or 2-D input, got "
                             f"shape {shape}")
        axes = tuple(range(ndim))
    else:
        axes = normalize_axis(axis, ndim, "norm")
        if len(axes) != len(set(axes)):
            raise ShapeError(f"norm: duplicate axes {axis!r}")
    if len(axes) == 1:
        if ord is None or ord == 2:
            return Norm.apply(x, axis=axes, keepdims=keepdims)
        if isinstance(ord, str) or ord not in (1, math.inf, -math.inf):
            _refuse_ord(ord, "vector")
        magnitude = _abs(x)
        if ord == 1:
            return _sum(magnitude, axes, keepdims)
        return (_max if ord > 0 else _min)(magnitude, axes, keepdims)
    if len(axes) != 2:
        raise ShapeError(f"norm: axis={axis!r} names {len(axes)} axes; numpy takes 1 "
                         f"(vector norm) or 2 (matrix norm)")
    if ord is None or ord == "fro":
        return Norm.apply(x, axis=axes, keepdims=keepdims)
    if isinstance(ord, str) or ord not in (1, -1, math.inf, -math.inf):
        _refuse_ord(ord, "matrix")
    row, col = axes
    # ord=+-1: extreme column sum (sum over rows); ord=+-inf: extreme row sum
    summed, extreme = (row, col) if abs(ord) == 1 else (col, row)
    sums = _sum(_abs(x), summed, True)
    result = (_max if ord > 0 else _min)(sums, extreme, True)
    return result if keepdims else _squeeze(result, axes)


FUNCTIONS = {np.linalg.norm: norm}
