r"""Scans along an axis: ``cumsum``, ``cumprod`` and ``diff``, with numpy's arguments.

The ops take one normalised ``axis`` (an int); the public functions follow numpy, where
``axis=None`` scans the flattened array. Every VJP is written with ops Tensor dispatches
(a reversed slice is ``getitem``, the reversed cumulative sum is ``cumsum``), so second
derivatives come free.

``cumprod`` is differentiated exactly with zeros in its input, to second order (see
:class:`Cumprod`): the naive :math:`\bar x_k = \sum_{i \ge k} \bar z_i z_i / x_k` divides
by zero there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..broadcast import single_axis
from ..errors import DomainError, ShapeError
from ..tensor import Tensor
from ._base import Domain, Op, register
from ._math_util import _safe
from .elementwise import check_args
from .join import concatenate
from .reduction import _shape
from .shape import broadcast_to, reshape

__all__ = ["FUNCTIONS", "cumprod", "cumsum", "diff"]


def _axis_params(shapes: Any) -> list[dict[str, Any]]:
    return [{"axis": a} for a in range(len(shapes[0]))]


def _reverse(a: Any, axis: int) -> Any:
    """``a`` reversed along ``axis`` (a view of an array; ``getitem`` on a Tensor)."""
    return a[(slice(None),) * axis + (slice(None, None, -1),)]


def _suffix_sum(a: Any, axis: int) -> Any:
    r""":math:`s_k = \sum_{i \ge k} a_i` along ``axis``: the adjoint of ``cumsum``."""
    return _reverse(np.cumsum(_reverse(a, axis), axis=axis), axis)


@register
class Cumsum(Op):
    r"""Cumulative sum along ``axis``, as ``numpy.cumsum``.

    .. math:: z_i = \sum_{j \le i} x_j,\quad \bar x_k = \sum_{i \ge k} \bar z_i

    >>> import tensorgraph as tg
    >>> tg.cumsum(tg.tensor([1.0, 2.0, 3.0]))
    tensor([1., 3., 6.], dtype=float32)
    """

    name = "cumsum"
    array_params = frozenset()
    domain = Domain(min_rank=1, params=_axis_params, edges=(0.0,))
    reference = staticmethod(lambda x, axis: np.add.accumulate(x, axis=axis))

    @staticmethod
    def forward(x: Any, axis: int = 0) -> Any:
        return np.cumsum(x, axis=axis)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: int = 0) -> Any:
        return _suffix_sum(grad, axis)


@register
class Cumprod(Op):
    r"""Cumulative product along ``axis``, as ``numpy.cumprod``.

    .. math:: z_i = \prod_{j \le i} x_j,\quad
              \bar x_k = \sum_{i \ge k} \bar z_i \prod_{j \le i,\, j \ne k} x_j

    Where :math:`x_k \ne 0` the inner product is :math:`z_i / x_k`. Where a slice holds
    zeros, with :math:`k_0` its first zero and :math:`k_1` its second:

    * at :math:`k_0`: :math:`\sum_{i \ge k_0} \bar z_i z'_i`, with :math:`z'` the cumulative
      product of :math:`x` with :math:`x_{k_0}` replaced by 1;
    * at :math:`k_1`: :math:`x_{k_0} \sum_{i \ge k_1} \bar z_i z''_i`, with :math:`x_{k_0}`
      and :math:`x_{k_1}` replaced by 1 in :math:`z''`;
    * at later zeros: 0.

    Each equals the exact gradient as a function of :math:`x`, with the same first
    derivatives, so second derivatives are exact with any number of zeros (third
    derivatives with three or more zeros in one slice are not), as for ``prod``. A slice
    without zeros costs one cumulative sum; one with zeros three scans.

    >>> import tensorgraph as tg
    >>> tg.cumprod(tg.tensor([1.0, 2.0, 3.0]))
    tensor([1., 2., 6.], dtype=float32)
    """

    name = "cumprod"
    array_params = frozenset()
    domain = Domain(min_rank=1, params=_axis_params, low=-2.0, high=2.0, edges=(0.0, 1.0))
    reference = staticmethod(lambda x, axis: np.multiply.accumulate(x, axis=axis))

    @staticmethod
    def forward(x: Any, axis: int = 0) -> Any:
        return np.cumprod(x, axis=axis)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: int = 0) -> Any:
        raw = getattr(x, "_data", x)  # masks from the values are constants
        is_zero = raw == 0
        if not is_zero.any():
            return _suffix_sum(grad * out, axis) / x
        nonzero = ~is_zero
        seen = np.cumsum(is_zero, axis=axis)  # zeros up to and including each position
        first = is_zero & (seen == 1)
        second = is_zero & (seen == 2)
        # x_k != 0: the exact gradient everywhere near x, zeros elsewhere in the slice or not
        plain = _suffix_sum(grad * out, axis) / _safe(nonzero, x)
        without_first = np.cumprod(np.where(first, 1, x), axis=axis)
        at_first = _suffix_sum(grad * without_first, axis)
        without_both = np.cumprod(np.where(first | second, 1, x), axis=axis)
        value_at_first = np.sum(np.where(first, x, 0), axis=axis, keepdims=True)
        at_second = value_at_first * _suffix_sum(grad * without_both, axis)
        return np.where(nonzero, plain,
                        np.where(first, at_first, np.where(second, at_second, 0)))


def _diff_params(shapes: Any) -> list[dict[str, Any]]:
    return [{"n": n, "axis": a} for a in range(len(shapes[0])) for n in (1, 2)]


@register
class Diff(Op):
    r"""``n``-th forward difference along ``axis``, as ``numpy.diff``.

    .. math:: z_i = x_{i+1} - x_i\ (n = 1),\quad
              \bar x = (-1)^n \operatorname{diff}_n(\operatorname{pad}(\bar z, n))

    The adjoint of a difference is minus a difference of the gradient padded with ``n``
    zeros at each end; higher ``n`` repeats it. An axis of length ``<= n`` gives an empty
    result, and a zero gradient.

    >>> import tensorgraph as tg
    >>> tg.diff(tg.tensor([1.0, 4.0, 9.0]))
    tensor([3., 5.], dtype=float32)
    """

    name = "diff"
    array_params = frozenset()
    domain = Domain(min_rank=1, params=_diff_params, edges=(0.0,))

    @staticmethod
    def reference(x: Any, n: int = 1, axis: int = -1) -> Any:
        for _ in range(n):
            x = np.moveaxis(np.moveaxis(x, axis, 0)[1:] - np.moveaxis(x, axis, 0)[:-1], 0, axis)
        return x

    @staticmethod
    def forward(x: Any, n: int = 1, axis: int = -1) -> Any:
        return np.diff(x, n=n, axis=axis)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, n: int = 1, axis: int = -1) -> Any:
        if x.shape[axis] <= n:
            return np.zeros_like(x)
        width = [(0, 0)] * len(x.shape)
        width[axis] = (n, n)
        return np.diff(np.pad(grad, width), n=n, axis=axis) * (-1) ** n


# --------------------------------------------------------------------------- public API
def _scan(op: type[Op], x: Any, axis: Any) -> Tensor:
    check_args(op.name, x)
    if axis is None:  # numpy scans the flattened array
        return op.apply(reshape(x, (-1,)), axis=0)
    shape = _shape(x)
    if not shape:
        raise ShapeError(f"{op.name}: axis {axis!r} is out of range for a 0-d tensor; pass "
                         f"axis=None to scan it as a 1-d one")
    return op.apply(x, axis=single_axis(axis, len(shape), op.name))


def cumsum(x: Any, axis: int | None = None) -> Tensor:
    """Cumulative sum along ``axis`` (``None``: of the flattened tensor), as
    ``numpy.cumsum``; see :class:`Cumsum`."""
    return _scan(Cumsum, x, axis)


def cumprod(x: Any, axis: int | None = None) -> Tensor:
    """Cumulative product along ``axis`` (``None``: of the flattened tensor), as
    ``numpy.cumprod``; see :class:`Cumprod` (exact gradients with zeros)."""
    return _scan(Cumprod, x, axis)


def _edge(value: Any, shape: tuple[int, ...], axis: int) -> Any:
    """``prepend``/``append`` as numpy takes them: a scalar fills one slice along ``axis``."""
    if np.ndim(value) == 0:
        return broadcast_to(value, (*shape[:axis], 1, *shape[axis + 1:]))
    return value


def diff(x: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
    """``n``-th difference along ``axis``, as ``numpy.diff``; see :class:`Diff`.

    ``prepend`` and ``append`` (scalars, arrays or Tensors, differentiable too) are joined to
    ``x`` along ``axis`` first; a scalar fills one slice. ``n=0`` returns ``x`` (joined).
    """
    check_args("diff", x)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"diff: n must be an int, got {type(n).__name__} {n!r}")
    if n < 0:
        raise DomainError(f"diff: the order n must be non-negative, got {n}")
    shape = _shape(x)
    if not shape:
        raise ShapeError("diff: needs an input of at least one dimension, got a 0-d tensor "
                         "(numpy refuses it too)")
    ax = single_axis(axis, len(shape), "diff")
    if prepend is not None or append is not None:
        parts = [_edge(prepend, shape, ax)] if prepend is not None else []
        parts.append(x)
        if append is not None:
            parts.append(_edge(append, shape, ax))
        x = concatenate(parts, ax)
    if n == 0:
        return x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    return Diff.apply(x, n=int(n), axis=ax)


# --------------------------------------------------------------------------- numpy's API
def _refuse(name: str, a: Any, **given: Any) -> None:
    from . import _refuse as refuse  # the package's, imported late: it imports this module

    refuse(name, a, **given)


def _np_cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Tensor:
    _refuse("cumsum", a, dtype=dtype, out=out)
    return cumsum(a, axis)


def _np_cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Tensor:
    _refuse("cumprod", a, dtype=dtype, out=out)
    return cumprod(a, axis)


def _np_diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = np._NoValue,
             append: Any = np._NoValue) -> Tensor:
    if prepend is None or append is None:
        raise TypeError("numpy.diff: prepend=None and append=None are not supported on "
                        "Tensors; leave them out, or pass values to join")
    return diff(a, n, axis, None if prepend is np._NoValue else prepend,
                None if append is np._NoValue else append)


#: numpy functions on Tensors routed here (``tensorgraph.ops`` merges them into its table)
FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.cumsum: _np_cumsum, np.cumprod: _np_cumprod, np.diff: _np_diff,
}  # fmt: skip
