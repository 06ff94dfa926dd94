r"""Diagonals and triangles: ``diagonal`` and its adjoint ``diag_embed``, ``tril``, ``triu``,
and the functions built on them (``diag``, ``trace``), as numpy defines them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import normalize_axis
from ..errors import ShapeError
from ._base import Domain, Op, register
from .elementwise import check_args

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["FUNCTIONS", "diag", "diag_embed", "diagonal", "trace", "tril", "triu"]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _diagonal_length(n1: int, n2: int, offset: int) -> int:
    return max(0, min(n1 - max(-offset, 0), n2 - max(offset, 0)))


def _embed(x: Any, offset: int, axis1: int, axis2: int, shape: tuple[int, ...]) -> Any:
    result = np.zeros(shape, dtype=x.dtype)
    view = np.moveaxis(result, (axis1, axis2), (-2, -1))  # a view: writing fills result
    length = x.shape[-1]
    rows = np.arange(length) + max(-offset, 0)
    view[..., rows, rows + offset] = x
    return result


def _diagonal_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    ndim = len(shapes[0])
    pairs = [(0, 1), (-1, -2), (1, -1), (0, 2)]
    return [{"offset": k, "axis1": a, "axis2": b} for k in (-1, 0, 1, 2) for a, b in pairs
            if max(a, b) < ndim and min(a, b) >= -ndim and a % ndim != b % ndim]


@register
class Diagonal(Op):
    r"""The diagonal ``offset`` of the planes ``(axis1, axis2)``, as ``numpy.diagonal`` (a
    copy, where numpy returns a read-only view); the diagonal becomes the last axis.

    .. math:: z[\dots, i] = x[\dots, i, i + k],\qquad
              \bar x = \operatorname{diag\_embed}(\bar z, k)

    >>> import tensorgraph as tg
    >>> tg.diagonal(tg.arange(6.0).reshape(2, 3), 1)
    tensor([1., 5.], dtype=float32)
    """

    name = "diagonal"
    domain = Domain(min_rank=2, params=_diagonal_params)
    array_params = frozenset()

    @staticmethod
    def forward(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        return np.diagonal(x, offset, axis1, axis2).copy()

    reference = staticmethod(np.diagonal)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, offset: int = 0, axis1: int = 0,
              axis2: int = 1) -> Any:
        return diag_embed(grad, offset, axis1, axis2, x.shape)


def _embed_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    (*batch, length) = shapes[0]
    found = []
    for k in (-1, 0, 2):
        for extra in (0, 1):
            n1, n2 = length + max(-k, 0) + extra, length + max(k, 0)
            for a, b in ((-2, -1), (0, -1), (-1, 0)):
                ndim = len(batch) + 2
                a, b = a % ndim, b % ndim
                if a == b:
                    continue
                shape = list(batch)
                for axis, n in sorted(((a, n1), (b, n2))):
                    shape.insert(axis, n)
                found.append({"offset": k, "axis1": a, "axis2": b, "shape": tuple(shape)})
    return found


@register
class DiagEmbed(Op):
    r"""The adjoint of :class:`Diagonal`: zeros of ``shape`` with ``x``'s last axis written
    on the diagonal ``offset`` of the planes ``(axis1, axis2)`` (``numpy.diag`` of a vector,
    batched as ``torch.diag_embed``).

    .. math:: z[\dots, i, i + k] = x[\dots, i],\ 0 \text{ elsewhere};\qquad
              \bar x = \operatorname{diagonal}(\bar z, k)

    >>> import tensorgraph as tg
    >>> tg.diag(tg.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]], dtype=float32)
    """

    name = "diag_embed"
    domain = Domain(min_rank=1, params=_embed_params)
    array_params = frozenset()
    forward = staticmethod(_embed)
    reference = staticmethod(_embed)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, offset: int = 0, axis1: int = -2, axis2: int = -1,
              shape: tuple[int, ...] = ()) -> Any:
        return np.diagonal(grad, offset, axis1, axis2)


def diag_embed(x: Any, offset: int, axis1: int, axis2: int, shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` with ``x``'s last axis on a diagonal; on arrays and Tensors."""
    from ..tensor import Tensor

    if isinstance(x, Tensor):
        return DiagEmbed.apply(x, offset=offset, axis1=axis1, axis2=axis2, shape=tuple(shape))
    return _embed(x, offset, axis1, axis2, tuple(shape))


def _triangle_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    return [{"k": k} for k in (-2, -1, 0, 1)]


@register
class Tril(Op):
    r"""The lower triangle of the last two axes, as ``numpy.tril``: entries above the
    diagonal ``k`` become 0.

    .. math:: z_{ij} = x_{ij}\,[j \le i + k],\qquad \bar x = \operatorname{tril}(\bar z, k)

    >>> import tensorgraph as tg
    >>> tg.tril(tg.ones((2, 2)))
    tensor([[1., 0.],
            [1., 1.]], dtype=float32)
    """

    name = "tril"
    domain = Domain(min_rank=2, params=_triangle_params)
    array_params = frozenset()
    forward = staticmethod(np.tril)
    reference = staticmethod(np.tril)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, k: int = 0) -> Any:
        return np.tril(grad, k)


@register
class Triu(Op):
    r"""The upper triangle of the last two axes, as ``numpy.triu``: entries below the
    diagonal ``k`` become 0.

    .. math:: z_{ij} = x_{ij}\,[j \ge i + k],\qquad \bar x = \operatorname{triu}(\bar z, k)

    >>> import tensorgraph as tg
    >>> tg.triu(tg.ones((2, 2)))
    tensor([[1., 1.],
            [0., 1.]], dtype=float32)
    """

    name = "triu"
    domain = Domain(min_rank=2, params=_triangle_params)
    array_params = frozenset()
    forward = staticmethod(np.triu)
    reference = staticmethod(np.triu)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, k: int = 0) -> Any:
        return np.triu(grad, k)


def _int(value: Any, name: str, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: {what} must be an int, got {value!r}")
    return int(value)


def _triangle(op: type[Op], x: Any, k: Any) -> Tensor:
    check_args(op.name, x)
    if not _shape(x):
        raise ShapeError(f"{op.name}: needs an array of at least 1 dimension, got shape ()")
    return op.apply(x, k=_int(k, op.name, "k"))


def tril(m: Any, k: int = 0) -> Tensor:
    """Lower triangle of ``m`` (its last two axes) with entries above diagonal ``k``
    zeroed, as ``numpy.tril``; see :class:`Tril`."""
    return _triangle(Tril, m, k)


def triu(m: Any, k: int = 0) -> Tensor:
    """Upper triangle of ``m`` (its last two axes) with entries below diagonal ``k``
    zeroed, as ``numpy.triu``; see :class:`Triu`."""
    return _triangle(Triu, m, k)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal ``offset`` of ``a``'s planes ``(axis1, axis2)`` as the last axis, as
    ``numpy.diagonal``; see :class:`Diagonal`."""
    check_args("diagonal", a)
    shape = _shape(a)
    if len(shape) < 2:
        raise ShapeError(f"diagonal: needs an array of at least 2 dimensions, got shape "
                         f"{shape}")
    (first,) = normalize_axis(_int(axis1, "diagonal", "axis1"), len(shape), "diagonal")
    (second,) = normalize_axis(_int(axis2, "diagonal", "axis2"), len(shape), "diagonal")
    if first == second:
        raise ShapeError(f"diagonal: axis1 and axis2 name the same axis {first} of shape "
                         f"{shape}")
    return Diagonal.apply(a, offset=_int(offset, "diagonal", "offset"), axis1=first,
                          axis2=second)


def diag(v: Any, k: int = 0) -> Tensor:
    """``numpy.diag``: a 1-D ``v`` becomes the square matrix with ``v`` on diagonal ``k``
    (:class:`DiagEmbed`); of a 2-D ``v``, its diagonal ``k`` (:class:`Diagonal`)."""
    check_args("diag", v)
    shape = _shape(v)
    k = _int(k, "diag", "k")
    if len(shape) == 1:
        n = shape[0] + abs(k)
        return DiagEmbed.apply(v, offset=k, axis1=0, axis2=1, shape=(n, n))
    if len(shape) == 2:
        return diagonal(v, k)
    raise ShapeError(f"diag: input must be 1-D (to build a matrix) or 2-D (to take its "
                     f"diagonal), got shape {shape}")


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    r"""Sum along the diagonal ``offset`` of ``a``'s planes ``(axis1, axis2)``, as
    ``numpy.trace``: :math:`\sum_i a_{i,i+k}`, the sum of :func:`diagonal` (which is how
    numpy computes it too), so :math:`\bar a` is :math:`\bar z` on that diagonal.

    >>> import tensorgraph as tg
    >>> tg.trace(tg.eye(3))
    tensor(3., dtype=float32)
    """
    from .reduction import sum as _sum

    return _sum(diagonal(a, offset, axis1, axis2), -1)


def _refuse(name: str, **given: Any) -> None:
    for key, value in given.items():
        if value is not None:
            raise TypeError(f"numpy.{name}: the argument {key}={value!r} is not supported on "
                            f"Tensors; use tensorgraph's {name} (or call numpy on "
                            f"tensor.detach().numpy())")


def _np_trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
              out: Any = None) -> Tensor:
    if dtype is not None and np.dtype(dtype) == np.dtype(getattr(a, "dtype", None)):
        dtype = None
    _refuse("trace", dtype=dtype, out=out)
    return trace(a, offset, axis1, axis2)


def _np_linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Tensor:
    return _np_trace(x, offset, -2, -1, dtype)


def _np_linalg_diagonal(x: Any, /, *, offset: int = 0) -> Tensor:
    return diagonal(x, offset, -2, -1)


FUNCTIONS = {
    np.diagonal: diagonal, np.diag: diag, np.trace: _np_trace, np.tril: tril, np.triu: triu,
    np.linalg.trace: _np_linalg_trace, np.linalg.diagonal: _np_linalg_diagonal,
}  # fmt: skip
