r"""Finite-difference stencils: ``numpy.gradient`` on tensors.

``gradient`` is linear in its input, so its VJP is its adjoint (the transposed stencil),
written with slicing, ``pad`` and products: ops with VJPs of their own, so second
derivatives come free.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import single_axis
from ..errors import DomainError, ShapeError
from ._base import Domain, Op, register
from .shape import _along, _shape

if TYPE_CHECKING:
    pass

__all__ = ["gradient"]


def _gradient_shapes(draw_int: Any) -> list[tuple[int, ...]]:
    # axis 0 has the two points even a first-order stencil needs; the others may be empty
    rank = draw_int(1, 3)
    return [(draw_int(2, 4), *(draw_int(1, 4) for _ in range(rank - 1)))]


def _gradient_params(shapes: Any) -> list[dict[str, Any]]:
    return [{"axis": axis, "spacing": spacing, "edge_order": order}
            for axis, n in enumerate(shapes[0]) for order in (1, 2) if n > order
            for spacing in (1.0, 0.5)]


def _coefficients(grad: Any, values: Sequence[float], axis: int) -> np.ndarray:
    """``values`` as an array along ``axis`` (length 1 on the others), in grad's dtype."""
    ndim = len(grad.shape)
    return np.asarray(values, dtype=grad.dtype).reshape(
        (1,) * axis + (len(values),) + (1,) * (ndim - axis - 1))


def _pad_along(x: Any, axis: int, before: int, after: int) -> Any:
    widths = [(0, 0)] * len(x.shape)
    widths[axis] = (before, after)
    return np.pad(x, widths)


@register
class Gradient(Op):
    r"""Central differences inside, one-sided differences of order ``edge_order`` at the
    two ends, with uniform ``spacing`` :math:`h` along ``axis`` (``numpy.gradient``).

    .. math::
        z_i = \frac{x_{i+1} - x_{i-1}}{2h}\ (0 < i < n-1), \qquad
        z_0 = \frac{x_1 - x_0}{h},\ z_{n-1} = \frac{x_{n-1} - x_{n-2}}{h}
        \ \text{(edge order 1)}, \qquad
        z_0 = \frac{-3 x_0 + 4 x_1 - x_2}{2h}, \ \ldots \ \text{(edge order 2)}

    The map is linear, :math:`z = D x`, so :math:`\bar x = D^\top \bar z`: each
    :math:`\bar z_i` goes back to the points its stencil read, times their coefficients.

    >>> import tensorgraph as tg
    >>> tg.gradient(tg.tensor([1.0, 2.0, 4.0, 7.0]))
    tensor([1. , 1.5, 2.5, 3. ], dtype=float32)
    """

    name = "gradient"
    array_params = frozenset()
    domain = Domain(shapes=_gradient_shapes, params=_gradient_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, axis: int = 0, spacing: float = 1.0, edge_order: int = 1) -> Any:
        return np.gradient(x, spacing, axis=axis, edge_order=edge_order)  # type: ignore[call-overload]

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: int = 0, spacing: float = 1.0,
              edge_order: int = 1) -> Any:
        n = x.shape[axis]
        h = spacing
        inner = grad[_along(axis, slice(1, n - 1))] * _coefficients(grad, [0.5 / h], axis)
        result = _pad_along(inner, axis, 2, 0) - _pad_along(inner, axis, 0, 2)
        if edge_order == 1:
            first, last = [-1.0 / h, 1.0 / h], [-1.0 / h, 1.0 / h]
        else:
            first, last = [-1.5 / h, 2.0 / h, -0.5 / h], [0.5 / h, -2.0 / h, 1.5 / h]
        k = len(first)
        head = grad[_along(axis, slice(0, 1))] * _coefficients(grad, first, axis)
        tail = grad[_along(axis, slice(n - 1, n))] * _coefficients(grad, last, axis)
        return result + _pad_along(head, axis, 0, n - k) + _pad_along(tail, axis, n - k, 0)


def gradient(f: Any, *varargs: Any, axis: int | Sequence[int] | None = None,
             edge_order: int = 1) -> Any:
    """The gradient of sampled values ``f`` by finite differences, as ``numpy.gradient``
    with uniform spacings; see :class:`Gradient`.

    Parameters
    ----------
    f : Tensor or array_like
        Samples on a regular grid.
    *varargs : float
        The spacing: none (1.0 on every axis), one for every axis, or one per axis in
        ``axis``. Coordinate arrays (non-uniform grids) are not supported.
    axis : int or tuple of int, optional
        The axes to differentiate along (every axis for None), in the order given.
    edge_order : {1, 2}
        The order of the one-sided differences at the ends.

    Returns
    -------
    Tensor or tuple of Tensor
        One tensor of ``f``'s shape per axis; a single one when one axis is asked for.

    Raises
    ------
    ShapeError
        An axis with fewer than ``edge_order + 1`` points.
    DomainError
        A coordinate array, a zero spacing or an ``edge_order`` other than 1 and 2.

    >>> import tensorgraph as tg
    >>> d0, d1 = tg.gradient(tg.tensor([[0.0, 1.0, 4.0], [2.0, 3.0, 6.0]]), 1.0, 0.5)
    >>> d1  # along axis 1, spacing 0.5
    tensor([[2., 4., 6.],
            [2., 4., 6.]], dtype=float32)
    """
    shape = _shape(f)
    ndim = len(shape)
    given = tuple(range(ndim)) if axis is None else (
        (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis))
    axes = tuple(single_axis(a, ndim, "gradient") for a in given)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"gradient: repeated axis in {axis!r}")
    if edge_order not in (1, 2) or isinstance(edge_order, bool):
        raise DomainError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(getattr(varargs[0], "_data", varargs[0])) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError(f"gradient: {len(varargs)} spacings for {len(axes)} axes; give none, "
                        f"one, or one per axis")
    hs = [_spacing(h) for h in spacings]
    results = []
    for a, h in zip(axes, hs):
        if shape[a] < edge_order + 1:
            raise ShapeError(f"gradient: axis {a} of shape {shape} has {shape[a]} points; "
                             f"edge_order={edge_order} needs at least {edge_order + 1}")
        results.append(Gradient.apply(f, axis=a, spacing=h, edge_order=edge_order))
    if not results:
        raise ShapeError(f"gradient: a tensor of shape {shape} has no axis to differentiate")
    return results[0] if len(results) == 1 else tuple(results)


def _spacing(h: Any) -> float:
    if getattr(h, "requires_grad", False):
        raise TypeError("gradient: a spacing that requires grad gets no gradient; pass a "
                        "number (or .detach() it)")
    value = np.asarray(getattr(h, "_data", h))
    if value.ndim != 0:
        raise DomainError(f"gradient: only uniform spacings (scalars) are supported on "
                          f"Tensors, got an array of shape {value.shape}; use "
                          f"numpy.gradient on tensor.detach().numpy() for coordinate arrays")
    if value.dtype.kind not in "iuf" or not np.isfinite(value) or value == 0:
        raise DomainError(f"gradient: a spacing must be a finite non-zero number, got {h!r}")
    return float(value)


FUNCTIONS: dict[Any, Any] = {np.gradient: gradient}
