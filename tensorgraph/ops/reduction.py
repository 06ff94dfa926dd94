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
from ..errors import DomainError, ShapeError

if TYPE_CHECKING:
    from ..tensor import Tensor

from ._base import Domain, Op, register
from .elementwise import _PLAIN_OPERANDS, check_args

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
    domain = Domain(params=_reduction_params, edges=(0.0, 1.0))

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
    domain = Domain(params=_reduction_params, edges=(0.0, 1.0))

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
    r"""Variance over ``axis`` with ``ddof`` (0 by default, as numpy; any real number).

    .. math:: z = \frac{1}{d} \sum (x_i - \mu)^2,\quad
              \bar x_i = \bar z \frac{2 (x_i - \mu)}{d},\quad
              d = \max(n - \mathrm{ddof}, 0)

    (The mean's own gradient term vanishes because :math:`\sum (x_i - \mu) = 0`.)
    As numpy, ``ddof >= n`` gives :math:`d = 0`: the variance is inf (nan for a constant
    slice or an empty axis) with numpy's ``RuntimeWarning``, and the gradient is the same
    formula (infinite where :math:`x_i \ne \mu`, nan where :math:`x_i = \mu`).

    >>> import tensorgraph as tg
    >>> tg.var(tg.tensor([1.0, 3.0]))
    tensor(1., dtype=float32)
    """

    name = "var"
    array_params = frozenset()
    domain = Domain(edges=(0.0, 1.0), params=lambda shapes: [
        {**p, "ddof": d} for p in _reduction_params(shapes) for d in (0, 1)
        if _count(shapes[0], normalize_axis(p["axis"], len(shapes[0]), "var")) > d
    ])

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), ddof: float = 0,
                keepdims: bool = False) -> Any:
        return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (), ddof: float = 0,
              keepdims: bool = False) -> Any:
        n = _count(x.shape, axis)
        if n == 0:  # nothing to differentiate (and no mean of an empty slice to warn about)
            return np.zeros_like(x)
        centred = x - np.mean(x, axis=axis, keepdims=True)
        dof = builtins.max(n - ddof, 0)
        scale = 2 / dof if dof > 0 else math.inf  # numpy's divisor: inf for ddof >= n
        return unreduce(grad, x.shape, axis, keepdims) * centred * scale


def _extremum_vjp(grad: Any, out: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    extreme = unreduce(out, x.shape, axis, keepdims)
    # a NaN is the extremum of its slice (numpy propagates it): it gets the gradient, as in
    # PyTorch, rather than no element at all
    winners = np.logical_or(x == extreme, np.logical_and(np.isnan(x), np.isnan(extreme)))
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
    domain = Domain(params=_reduction_params, distinct=True, ties="share", empty=False)

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
    domain = Domain(params=_reduction_params, distinct=True, ties="share", empty=False)

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

    As ``scipy.special.logsumexp``: a slice of -inf only (or an empty one) gives -inf, one
    holding +inf gives +inf, without warnings; -inf entries get gradient 0, and so does every
    entry of a slice whose result is infinite (PyTorch gives NaN there).

    >>> import tensorgraph as tg
    >>> tg.logsumexp(tg.tensor([1000.0, 1000.0]))
    tensor(1000.6932, dtype=float32)
    """

    name = "logsumexp"
    array_params = frozenset()
    domain = Domain(params=_reduction_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        # log(0) = -inf for an empty or all -inf slice, and exp(+inf) = inf, are scipy's
        # results: no warning for them
        with np.errstate(divide="ignore", over="ignore"):
            if x.size == 0:
                return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
            shift = np.max(x, axis=axis, keepdims=True)
            shift = np.where(np.isfinite(shift), shift, 0)
            total = np.sum(np.exp(x - shift), axis=axis, keepdims=True)
            out = np.log(total) + shift
        return out if keepdims else np.squeeze(out, axis=axis)

    @staticmethod
    def reference(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        with np.errstate(divide="ignore"):
            return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        infinite = np.isinf(getattr(out, "_data", out))  # a constant mask
        if not infinite.any():
            return unreduce(grad, x.shape, axis, keepdims) * np.exp(
                x - unreduce(out, x.shape, axis, keepdims)
            )
        spread = unreduce(out, x.shape, axis, keepdims)
        infinite = unreduce(infinite, x.shape, axis, keepdims)
        # an infinite result (every entry -inf, or one +inf) does not move when an entry
        # does: gradient 0 there (x - z would be nan); each branch sees only its own values
        finite = ~infinite
        weights = np.exp(np.where(finite, x, 0) - np.where(finite, spread, 0))
        return np.where(finite, unreduce(grad, x.shape, axis, keepdims) * weights, 0)


@register
class Prod(Op):
    r"""Product over ``axis``, with first and second derivatives exact at zeros.

    .. math:: \bar x_i = \bar z \prod_{j \ne i} x_j

    In a slice with no zero the product of the others is :math:`z / x_i`. Where a slice holds
    zeros, with :math:`P` the product of its non-zero entries and :math:`Z` the product of
    its zero entries (as functions of them, so their derivatives survive under
    ``create_graph``):

    * a non-zero entry gets :math:`Z P / x_i`;
    * a zero entry gets :math:`P` when it is the slice's only zero, :math:`x_k P` when
      :math:`x_k` is the slice's other zero, and 0 when there are three or more zeros.

    Each is :math:`\prod_{j \ne i} x_j` with the same first derivatives, so the Hessian is
    exact (and symmetric) with any number of zeros; third derivatives with three or more
    zeros in one slice are not.

    >>> import tensorgraph as tg
    >>> tg.prod(tg.tensor([2.0, 3.0]))
    tensor(6., dtype=float32)
    """

    name = "prod"
    array_params = frozenset()
    domain = Domain(params=_reduction_params, low=-2.0, high=2.0, avoid=(0.0,), margin=0.3,
                    edges=(0.0, 1.0))

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        return np.prod(x, axis=axis, keepdims=keepdims)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        spread = unreduce(grad, x.shape, axis, keepdims)
        is_zero = x == 0
        if type(x) is np.ndarray and not is_zero.any():  # the common case, first order
            return spread * unreduce(out, x.shape, axis, keepdims) / x
        zeros = np.sum(is_zero, axis=axis, keepdims=True)
        safe_x = np.where(is_zero, 1, x)
        nonzero_product = np.prod(safe_x, axis=axis, keepdims=True)  # P
        zero_product = np.prod(np.where(is_zero, x, 1), axis=axis, keepdims=True)  # Z
        # at a zero entry, the product of the slice's other zeros: 1 if it is the only one,
        # the other one's value (sum of the zeros minus itself) if there are two, else 0
        other_zeros = np.where(
            zeros == 1, 1,
            np.where(zeros == 2, np.sum(np.where(is_zero, x, 0), axis=axis, keepdims=True) - x,
                     0))
        others = np.where(is_zero, other_zeros * nonzero_product,
                          zero_product * nonzero_product / safe_x)
        return spread * others


def _keepdims(value: Any, op: str) -> bool:
    """``keepdims`` as a bool; a string or None is a mistake (numpy refuses them too)."""
    if value is False or value is True:
        return value
    if not isinstance(value, (bool, int, np.bool_, np.integer)):
        raise TypeError(f"{op}: keepdims must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def _reduce(op: type[Op], x: Any, axis: Axis, keepdims: bool, **extra: Any) -> Tensor:
    if type(x) not in _PLAIN_OPERANDS:
        check_args(op.name, x)
    return op.apply(x, axis=normalize_axis(axis, _ndim(x), op.name),
                    keepdims=_keepdims(keepdims, op.name), **extra)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum of elements over ``axis`` (numpy semantics); see :class:`Sum`."""
    return _reduce(Sum, x, axis, keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``; see :class:`Mean`."""
    return _reduce(Mean, x, axis, keepdims)


def var(x: Any, axis: Axis = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` with ``ddof`` delta degrees of freedom; see :class:`Var`.

    ``ddof`` is any finite real number, as in numpy (``0.5`` divides by ``n - 0.5``); with
    ``ddof >= n`` the result is numpy's inf/nan, with its ``RuntimeWarning``.
    """
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, float, np.integer,
                                                                     np.floating)):
        raise TypeError(f"var: ddof must be a real number, got {type(ddof).__name__} {ddof!r}")
    if not math.isfinite(ddof):
        raise DomainError(f"var: ddof must be finite, got {ddof!r}")
    check_args("var", x)
    axes = normalize_axis(axis, _ndim(x), "var")
    ddof = int(ddof) if isinstance(ddof, (int, np.integer)) else float(ddof)
    return Var.apply(x, axis=axes, ddof=ddof, keepdims=_keepdims(keepdims, "var"))


def _extremum(op: type[Op], x: Any, axis: Axis, keepdims: bool) -> Tensor:
    check_args(op.name, x)
    shape = _shape(x)
    axes = normalize_axis(axis, len(shape), op.name)
    if _count(shape, axes) == 0:
        # numpy: "zero-size array to reduction operation maximum which has no identity"
        raise ShapeError(f"{op.name}: the {op.name}imum of an empty axis is undefined "
                         f"(shape {shape}, axis {axis!r}); numpy raises too")
    return op.apply(x, axis=axes, keepdims=_keepdims(keepdims, op.name))


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; see :class:`Max`. An empty axis raises ``ShapeError``."""
    return _extremum(Max, x, axis, keepdims)


def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``; see :class:`Min`. An empty axis raises ``ShapeError``."""
    return _extremum(Min, x, axis, keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Stable log-sum-exp over ``axis``; see :class:`Logsumexp`."""
    return _reduce(Logsumexp, x, axis, keepdims)


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Product over ``axis``; see :class:`Prod`."""
    return _reduce(Prod, x, axis, keepdims)
