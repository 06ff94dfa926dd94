r"""Statistics over ``axis``: ``std``, ``average`` (weighted), ``ptp``, and the NaN-ignoring
``nansum`` and ``nanmean``, with numpy's names, arguments and results.

Conventions (pinned by ``tests/ops/test_numpy_reductions.py``):

- ``std`` at zero spread (a constant slice) has gradient 0, as ``torch.std`` (the finite
  subgradient ``sqrt'(0) = 0`` chooses too; the true derivative is undefined there);
- ``ptp`` is ``max - min``: tied maxima (minima) share their gradient equally, as ``max``;
- ``nansum`` and ``nanmean`` give NaN entries gradient 0; an all-NaN slice has ``nanmean``
  NaN (numpy's value, without its warning) and gradient 0 (``torch.nanmean`` gives NaN).
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..broadcast import Axis, normalize_axis, unreduce
from ..errors import DomainError, ShapeError
from ..tensor import Tensor
from ._base import Domain, Op, register
from ._math_util import _safe
from .elementwise import check_args
from .reduction import _count, _extremum_vjp, _keepdims, _reduce, _reduction_params, _shape
from .reduction import mean as _mean
from .reduction import sum as _sum
from .shape import broadcast_to, reshape, transpose

__all__ = ["FUNCTIONS", "average", "nanmean", "nansum", "ptp", "std"]


def _raw(x: Any) -> Any:
    """The array behind ``x``: masks built from it are constants, also under create_graph."""
    return getattr(x, "_data", x)


@register
class Std(Op):
    r"""Standard deviation over ``axis`` with ``ddof``, as ``numpy.std``.

    .. math:: z = \sqrt{\frac{1}{d} \sum (x_i - \mu)^2},\quad
              \bar x_i = \bar z\, \frac{x_i - \mu}{d\, z},\quad d = n - \mathrm{ddof}

    At zero spread (:math:`z = 0`, a constant slice) the gradient is 0, as ``torch.std``
    gives. As for :class:`~tensorgraph.ops.reduction.Var`, ``ddof >= n`` gives numpy's
    inf/nan with its ``RuntimeWarning``, and the gradient is the limit of the same formula.

    >>> import tensorgraph as tg
    >>> tg.std(tg.tensor([1.0, 3.0]))
    tensor(1., dtype=float32)
    """

    name = "std"
    array_params = frozenset()
    # distinct draws: no slice is constant (zero spread is a kink; it has a test of its own)
    domain = Domain(distinct=True, edges=(0.0, 1.0), params=lambda shapes: [
        {**p, "ddof": d} for p in _reduction_params(shapes) for d in (0, 1)
        if _count(shapes[0], normalize_axis(p["axis"], len(shapes[0]), "std")) > d
    ])
    reference = staticmethod(lambda x, axis=None, ddof=0, keepdims=False: np.sqrt(
        np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)))

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), ddof: float = 0,
                keepdims: bool = False) -> Any:
        return np.std(x, axis=axis, ddof=ddof, keepdims=keepdims)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (), ddof: float = 0,
              keepdims: bool = False) -> Any:
        n = _count(x.shape, axis)
        if n == 0:
            return np.zeros_like(x)
        centred = x - np.mean(x, axis=axis, keepdims=True)
        dof = builtins.max(n - ddof, 0)
        if dof == 0:  # numpy's divisor 0: the formula's limit, inf (nan where x_i = mu)
            return unreduce(grad, x.shape, axis, keepdims) * centred * math.inf
        spread = unreduce(out, x.shape, axis, keepdims)
        positive = _raw(spread) > 0
        scale = np.where(positive, unreduce(grad, x.shape, axis, keepdims)
                         / _safe(positive, spread), 0)
        return centred * scale / dof


@register
class Average(Op):
    r"""Weighted mean over ``axis``, as ``numpy.average`` with ``weights`` (here already
    broadcastable to ``a``; :func:`average` arranges numpy's 1-d weights so).

    .. math:: z = \frac{\sum_i w_i a_i}{\sum_i w_i},\quad \bar a_i = \bar z\, \frac{w_i}{S},
              \quad \bar w_i = \bar z\, \frac{a_i - z}{S},\quad S = \sum_i w_i

    >>> import tensorgraph as tg
    >>> tg.average(tg.tensor([1.0, 4.0]), weights=tg.tensor([2.0, 1.0]))
    tensor(2., dtype=float32)
    """

    name = "average"
    array_params = frozenset()
    # numpy refuses weights summing to zero (an empty axis too): average() raises instead
    domain = Domain(nargs=2, shapes=lambda draw: _weight_shapes(draw), ranges={1: (0.5, 2.0)},
                    params=_reduction_params, edges={0: (0.0, 1.0), 1: (1.0,)}, empty=False)
    reference = staticmethod(lambda a, w, axis=None, keepdims=False: np.average(
        a, axis=axis, weights=np.broadcast_to(w, a.shape), keepdims=keepdims))

    @staticmethod
    def forward(a: Any, w: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        total = np.sum(np.broadcast_to(w, a.shape), axis=axis, keepdims=keepdims)
        return np.sum(a * w, axis=axis, keepdims=keepdims) / total

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Any, needs: Any, params: dict[str, Any],
            ctx: Any) -> list[Any]:
        a, w = inputs
        axis, keepdims = params["axis"], params["keepdims"]
        total = np.sum(np.broadcast_to(w, a.shape), axis=axis, keepdims=True)
        scaled = unreduce(grad, a.shape, axis, keepdims) / total
        return [scaled * w if needs[0] else None,
                scaled * (a - unreduce(out, a.shape, axis, keepdims)) if needs[1] else None]


def _weight_shapes(draw: Callable[[int, int], int]) -> list[tuple[int, ...]]:
    """``a``'s shape and a weights shape that broadcasts to it (1 in some dimensions)."""
    shape = tuple(draw(1, 4) for _ in range(draw(0, 3)))
    return [shape, tuple(1 if draw(0, 2) == 0 else s for s in shape)]


@register
class Ptp(Op):
    r"""Peak to peak, ``max - min`` over ``axis``, as ``numpy.ptp``.

    .. math:: \bar x_i = \bar z \left(\frac{[x_i = \max]}{\#\max} -
              \frac{[x_i = \min]}{\#\min}\right)

    Tied maxima (minima) share their part of the gradient equally, as in ``max``; a slice of
    one element has gradient 0.

    >>> import tensorgraph as tg
    >>> tg.ptp(tg.tensor([1.0, 4.0, 2.0]))
    tensor(3., dtype=float32)
    """

    name = "ptp"
    array_params = frozenset()
    domain = Domain(params=_reduction_params, distinct=True, edges=(0.0,), empty=False)
    reference = staticmethod(lambda x, axis=None, keepdims=False: np.max(
        x, axis=axis, keepdims=keepdims) - np.min(x, axis=axis, keepdims=keepdims))

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        return np.ptp(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        raw = _raw(x)
        high = np.max(raw, axis=axis, keepdims=keepdims)
        low = np.min(raw, axis=axis, keepdims=keepdims)
        return (_extremum_vjp(grad, high, raw, axis, keepdims)
                - _extremum_vjp(grad, low, raw, axis, keepdims))


@register
class Nansum(Op):
    r"""Sum over ``axis`` treating NaN as 0, as ``numpy.nansum``.

    .. math:: z = \sum_{x_i \ne \mathrm{NaN}} x_i,\quad
              \bar x_i = \bar z\, [x_i \ne \mathrm{NaN}]

    >>> import tensorgraph as tg
    >>> tg.nansum(tg.tensor([1.0, float("nan"), 2.0]))
    tensor(3., dtype=float32)
    """

    name = "nansum"
    array_params = frozenset()
    domain = Domain(params=_reduction_params, edges=(0.0, 1.0))
    reference = staticmethod(lambda x, axis=None, keepdims=False: np.sum(
        np.where(np.isnan(x), 0, x), axis=axis, keepdims=keepdims))

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        return np.nansum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        return np.where(np.isnan(_raw(x)), 0, unreduce(grad, x.shape, axis, keepdims))


@register
class Nanmean(Op):
    r"""Mean over ``axis`` of the entries that are not NaN, as ``numpy.nanmean``.

    .. math:: z = \frac{1}{m} \sum_{x_i \ne \mathrm{NaN}} x_i,\quad
              \bar x_i = \frac{\bar z}{m}\, [x_i \ne \mathrm{NaN}],\quad
              m = \#\{i: x_i \ne \mathrm{NaN}\}

    A slice of NaN only (or an empty one) has mean NaN, as numpy's (without its warning), and
    gradient 0.

    >>> import tensorgraph as tg
    >>> tg.nanmean(tg.tensor([1.0, float("nan"), 2.0]))
    tensor(1.5, dtype=float32)
    """

    name = "nanmean"
    array_params = frozenset()
    domain = Domain(params=_reduction_params, edges=(0.0, 1.0))

    @staticmethod
    def reference(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        count = np.sum(~np.isnan(x), axis=axis, keepdims=keepdims)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.nansum(x, axis=axis, keepdims=keepdims) / count).astype(x.dtype)

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        count = np.sum(~np.isnan(x), axis=axis, keepdims=keepdims).astype(x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0: numpy's NaN
            return np.nansum(x, axis=axis, keepdims=keepdims) / count

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        raw = _raw(x)
        missing = np.isnan(raw)
        count = np.sum(~missing, axis=axis, keepdims=True).astype(raw.dtype)
        share = unreduce(grad, x.shape, axis, keepdims) / np.maximum(count, 1)
        return np.where(missing, 0, share)


# --------------------------------------------------------------------------- public API
def _ddof(ddof: Any, op: str) -> float:
    if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, float, np.integer,
                                                                     np.floating)):
        raise TypeError(f"{op}: ddof must be a real number, got {type(ddof).__name__} {ddof!r}")
    if not math.isfinite(ddof):
        raise DomainError(f"{op}: ddof must be finite, got {ddof!r}")
    return int(ddof) if isinstance(ddof, (int, np.integer)) else float(ddof)


def std(x: Any, axis: Axis = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation over ``axis`` with ``ddof`` delta degrees of freedom, as
    ``numpy.std``; see :class:`Std` (gradient 0 at zero spread, as ``torch.std``)."""
    ddof = _ddof(ddof, "std")
    check_args("std", x)
    axes = normalize_axis(axis, len(_shape(x)), "std")
    return Std.apply(x, axis=axes, ddof=ddof, keepdims=_keepdims(keepdims, "std"))


def ptp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Peak to peak (``max - min``) over ``axis``, as ``numpy.ptp``; see :class:`Ptp`. An
    empty axis raises ``ShapeError`` (numpy raises too)."""
    check_args("ptp", x)
    shape = _shape(x)
    axes = normalize_axis(axis, len(shape), "ptp")
    if _count(shape, axes) == 0:
        raise ShapeError(f"ptp: the peak to peak of an empty axis is undefined (shape {shape}, "
                         f"axis {axis!r}); numpy raises too")
    return Ptp.apply(x, axis=axes, keepdims=_keepdims(keepdims, "ptp"))


def nansum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` treating NaN as 0, as ``numpy.nansum``; see :class:`Nansum`."""
    return _reduce(Nansum, x, axis, keepdims)


def nanmean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` ignoring NaN, as ``numpy.nanmean``; see :class:`Nanmean`."""
    return _reduce(Nanmean, x, axis, keepdims)


def _arrange_weights(a_shape: tuple[int, ...], dtype: np.dtype, weights: Any, axis: Axis) -> Any:
    """numpy's rule: weights of ``a``'s shape, or (with ``axis``) of the shape of ``a``
    along ``axis``, reshaped here to broadcast against ``a``."""
    if not isinstance(weights, (Tensor, np.ndarray)):  # a list is weak, as in x * [1.0, 3.0]
        weights = np.asarray(weights, dtype=dtype if dtype.kind == "f" else None)
    w_shape = _shape(weights)
    if w_shape == a_shape:
        return weights
    if axis is None:
        raise TypeError(f"average: axis must be given when the shapes of a {a_shape} and "
                        f"weights {w_shape} differ (as numpy)")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normal = normalize_axis(axes, len(a_shape), "average")
    given = [a + len(a_shape) if a < 0 else a for a in axes]
    if w_shape != tuple(a_shape[a] for a in given):
        raise ShapeError(f"average: weights of shape {w_shape} do not fit a of shape {a_shape} "
                         f"along axis {axis!r}: expected {tuple(a_shape[a] for a in given)}")
    order = tuple(int(i) for i in np.argsort(given))
    target = tuple(s if d in normal else 1 for d, s in enumerate(a_shape))
    if isinstance(weights, np.ndarray):
        return np.transpose(weights, order).reshape(target)
    if order != tuple(range(len(order))):
        weights = transpose(weights, order)
    return reshape(weights, target)


def average(a: Any, axis: Axis = None, weights: Any = None, returned: bool = False, *,
            keepdims: bool = False) -> Any:
    """Weighted mean over ``axis``, as ``numpy.average``; see :class:`Average`.

    Without ``weights`` it is :func:`~tensorgraph.ops.reduction.mean`. With ``returned=True``
    the result is ``(average, sum_of_weights)``, the sum broadcast to the average's shape
    (differentiable in the weights). Weights summing to zero raise ``ZeroDivisionError``, as
    in numpy.
    """
    check_args("average", a)
    keep = _keepdims(keepdims, "average")
    shape = _shape(a)
    if weights is None:
        result = _mean(a, axis, keep)
        if not returned:
            return result
        count = math.prod(shape) // builtins.max(result.size, 1) if result.size else 0
        return result, Tensor(np.full(result.shape, count, dtype=result.dtype))
    check_args("average", a, weights)
    w = _arrange_weights(shape, np.dtype(getattr(a, "dtype", np.float64)), weights, axis)
    axes = normalize_axis(axis, len(shape), "average")
    if np.any(np.sum(np.broadcast_to(np.asarray(_raw(w)), shape), axis=axes) == 0):
        raise ZeroDivisionError(f"average: the weights sum to zero along axis {axis!r} "
                                f"(a of shape {shape}), so they cannot be normalised (as numpy)")
    result = Average.apply(a, w, axis=axes, keepdims=keep)
    if not returned:
        return result
    return result, broadcast_to(_sum(broadcast_to(w, shape), axes, keep), result.shape)


# --------------------------------------------------------------------------- numpy's API
def _refuse(name: str, a: Any, **given: Any) -> None:
    from . import _refuse as refuse  # the package's, imported late: it imports this module

    refuse(name, a, **given)


def _np_std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
            keepdims: bool = False, *, where: Any = None, mean: Any = None,
            correction: Any = None) -> Tensor:
    _refuse("std", a, dtype=dtype, out=out, where=where, mean=mean)
    if correction is not None:
        if ddof != 0:
            raise ValueError("numpy.std: ddof and correction cannot both be given")
        ddof = correction
    return std(a, axis, ddof, keepdims)


def _np_nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
               keepdims: bool = False, initial: Any = None, where: Any = None) -> Tensor:
    _refuse("nansum", a, dtype=dtype, out=out, initial=initial, where=where)
    return nansum(a, axis, keepdims)


def _np_nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
                keepdims: bool = False, *, where: Any = None) -> Tensor:
    _refuse("nanmean", a, dtype=dtype, out=out, where=where)
    return nanmean(a, axis, keepdims)


def _np_ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Tensor:
    _refuse("ptp", a, out=out)
    return ptp(a, axis, keepdims)


#: numpy functions on Tensors routed here (``tensorgraph.ops`` merges them into its table)
FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.std: _np_std, np.nansum: _np_nansum, np.nanmean: _np_nanmean, np.ptp: _np_ptp,
    np.average: average,
}  # fmt: skip
