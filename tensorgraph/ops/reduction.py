r"""Reductions over ``axis`` (int, tuple, None or negative) with ``keepdims``, as numpy.

Each VJP spreads the reduced gradient back with :func:`~tensorgraph.broadcast.unreduce`.
Ties in max/min share the gradient equally among the tied elements (documented choice).
"""

from __future__ import annotations

import builtins
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import Axis, normalize_axis, unreduce

if TYPE_CHECKING:
    from ..tensor import Tensor

from ._base import Domain, Op, register

__all__ = ["logsumexp", "max", "mean", "min", "prod", "sum", "var"]


def _reduction_params(shapes: Any) -> list[dict[str, Any]]:
    # The ops take the normalised axis tuple (the public functions normalise user axes).
    ndim = len(shapes[0])
    axes: list[tuple[int, ...]] = [tuple(range(ndim))] + [(a,) for a in range(ndim)]
    if ndim >= 2:
        axes.append((0, ndim - 1))
    return [{"axis": a, "keepdims": k} for a in axes for k in (False, True)]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _ndim(x: Any) -> int:
    return len(_shape(x))


def _count(shape: tuple[int, ...], axis: tuple[int, ...]) -> int:
    return math.prod(shape[a] for a in axis)


@register
class Sum(Op):
    r"""Sum over ``axis``.

    .. math:: z = \sum_{i \in axis} x_i,\quad \bar x = \operatorname{broadcast}(\bar z)

    >>> import tensorgraph as tg
    >>> tg.sum(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    tensor([4., 6.], dtype=float32)
    """

    name = "sum"
    array_params = frozenset()
    domain = Domain(params=_reduction_params)

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        # what np.sum calls on an ndarray, without its ~1.5 us of Python dispatch
        return np.add.reduce(x, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        return unreduce(grad, x.shape, axis, keepdims)


@register
class Mean(Op):
    r"""Arithmetic mean over ``axis``. :math:`z = \frac1n \sum x_i,\ \bar x = \bar z / n`.

    >>> import tensorgraph as tg
    >>> tg.mean(tg.tensor([1.0, 2.0, 6.0]))
    tensor(3., dtype=float32)
    """

    name = "mean"
    array_params = frozenset()
    domain = Domain(params=_reduction_params)

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        return np.mean(x, axis=axis, keepdims=keepdims)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        return unreduce(grad, x.shape, axis, keepdims) / _count(x.shape, axis)


@register
class Var(Op):
    r"""Variance over ``axis`` with ``ddof`` (0 by default, as numpy).

    .. math:: z = \frac{1}{n - \mathrm{ddof}} \sum (x_i - \mu)^2,\quad
              \bar x_i = \bar z \frac{2 (x_i - \mu)}{n - \mathrm{ddof}}

    (The mean's own gradient term vanishes because :math:`\sum (x_i - \mu) = 0`.)

    >>> import tensorgraph as tg
    >>> tg.var(tg.tensor([1.0, 3.0]))
    tensor(1., dtype=float32)
    """

    name = "var"
    array_params = frozenset()
    domain = Domain(params=lambda shapes: [
        {**p, "ddof": d} for p in _reduction_params(shapes) for d in (0, 1)
        if _count(shapes[0], normalize_axis(p["axis"], len(shapes[0]), "var")) > d
    ])

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), ddof: int = 0,
                keepdims: bool = False) -> Any:
        return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (), ddof: int = 0,
              keepdims: bool = False) -> Any:
        centred = x - np.mean(x, axis=axis, keepdims=True)
        scale = 2 / (_count(x.shape, axis) - ddof)
        return unreduce(grad, x.shape, axis, keepdims) * centred * scale


def _extremum_vjp(grad: Any, out: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    winners = x == unreduce(out, x.shape, axis, keepdims)
    count = np.sum(winners, axis=axis, keepdims=True).astype(x.dtype)
    return np.where(winners, unreduce(grad, x.shape, axis, keepdims) / count, 0)


@register
class Max(Op):
    r"""Maximum over ``axis``. :math:`\bar x_i = \bar z\, [x_i = z] / \#\{j: x_j = z\}`:
    tied maxima share the gradient equally.

    >>> import tensorgraph as tg
    >>> tg.max(tg.tensor([1.0, 3.0, 2.0]))
    tensor(3., dtype=float32)
    """

    name = "max"
    array_params = frozenset()
    domain = Domain(params=_reduction_params, distinct=True)

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        return np.max(x, axis=axis, keepdims=keepdims)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        return _extremum_vjp(grad, out, x, axis, keepdims)


@register
class Min(Op):
    r"""Minimum over ``axis``. :math:`\bar x_i = \bar z\, [x_i = z] / \#\{j: x_j = z\}`:
    tied minima share the gradient equally (as in :class:`Max`).

    >>> import tensorgraph as tg
    >>> tg.min(tg.tensor([1.0, 3.0, 2.0]))
    tensor(1., dtype=float32)
    """

    name = "min"
    array_params = frozenset()
    domain = Domain(params=_reduction_params, distinct=True)

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        return np.min(x, axis=axis, keepdims=keepdims)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        return _extremum_vjp(grad, out, x, axis, keepdims)


@register
class Logsumexp(Op):
    r"""Stable :math:`z = \ln \sum e^{x_i} = m + \ln \sum e^{x_i - m}` with :math:`m = \max x`.

    .. math:: \bar x_i = \bar z\, e^{x_i - z}

    >>> import tensorgraph as tg
    >>> tg.logsumexp(tg.tensor([1000.0, 1000.0]))
    tensor(1000.6932, dtype=float32)
    """

    name = "logsumexp"
    array_params = frozenset()
    domain = Domain(params=_reduction_params)

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        if x.size == 0:
            return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
        shift = np.max(x, axis=axis, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0)
        total = np.sum(np.exp(x - shift), axis=axis, keepdims=True)
        out = np.log(total) + shift
        return out if keepdims else np.squeeze(out, axis=axis)

    @staticmethod
    def reference(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        return unreduce(grad, x.shape, axis, keepdims) * np.exp(
            x - unreduce(out, x.shape, axis, keepdims)
        )


@register
class Prod(Op):
    r"""Product over ``axis``, with a gradient that is right when inputs contain zeros.

    .. math:: \bar x_i = \bar z \prod_{j \ne i} x_j

    computed as :math:`z / x_i` when the slice holds no zero, as the product of the others
    at the single zero of a slice with one zero, and 0 elsewhere.

    >>> import tensorgraph as tg
    >>> tg.prod(tg.tensor([2.0, 3.0]))
    tensor(6., dtype=float32)
    """

    name = "prod"
    array_params = frozenset()
    domain = Domain(params=_reduction_params, low=-2.0, high=2.0, avoid=(0.0,), margin=0.3)

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        return np.prod(x, axis=axis, keepdims=keepdims)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        is_zero = x == 0
        zeros = np.sum(is_zero, axis=axis, keepdims=True)
        safe_x = np.where(is_zero, 1, x)
        product_of_nonzeros = np.prod(safe_x, axis=axis, keepdims=True)
        others = np.where(
            is_zero,
            np.where(zeros == 1, product_of_nonzeros, 0),
            np.where(zeros == 0, product_of_nonzeros / safe_x, 0),
        )
        return unreduce(grad, x.shape, axis, keepdims) * others


def _reduce(op: type[Op], x: Any, axis: Axis, keepdims: bool, **extra: Any) -> Tensor:
    return op.apply(x, axis=normalize_axis(axis, _ndim(x), op.name), keepdims=bool(keepdims),
                    **extra)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum of elements over ``axis`` (numpy semantics); see :class:`Sum`."""
    return _reduce(Sum, x, axis, keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``; see :class:`Mean`."""
    return _reduce(Mean, x, axis, keepdims)


def var(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom; see :class:`Var`."""
    axes = normalize_axis(axis, _ndim(x), "var")
    n = _count(_shape(x), axes)
    if not 0 <= ddof < builtins.max(n, 1):
        raise ValueError(f"var: ddof={ddof} must be in [0, {n}) for {n} reduced elements")
    return Var.apply(x, axis=axes, ddof=int(ddof), keepdims=bool(keepdims))


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; see :class:`Max`."""
    return _reduce(Max, x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; see :class:`Min`."""
    return _reduce(Min, x, axis, keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Stable log-sum-exp over ``axis``; see :class:`Logsumexp`."""
    return _reduce(Logsumexp, x, axis, keepdims)


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Product over ``axis``; see :class:`Prod`."""
    return _reduce(Prod, x, axis, keepdims)
