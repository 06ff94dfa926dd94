"""Undoing broadcasting and normalising axes: the only place gradients change shape.

The engine calls :func:`sum_to` on every gradient a VJP returns, so a VJP can return its
gradient in the broadcast output shape and never has to think about broadcasting. Reductions
use :func:`unreduce` to spread a reduced gradient back over the axes they removed.

Both functions work on numpy arrays and on Tensors alike (they only call methods the two
share), which is what lets the same code serve first- and higher-order gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from .errors import ShapeError

__all__ = ["broadcast_shapes", "normalize_axis", "sum_to", "unreduce"]

ArrayT = TypeVar("ArrayT")
Axis = int | Sequence[int] | None


def normalize_axis(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """Return ``axis`` as a sorted tuple of non-negative ints (all axes for ``None``).

    Raises
    ------
    ShapeError
        When an axis is out of range for ``ndim`` or repeated; the message names ``op``.
    """
    if axis is None:
        return tuple(range(ndim))
    try:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    except TypeError:  # a float, a string...: not numpy's axis
        raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}") from None
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ShapeError(f"{op}: axis {a} is out of range for a {ndim}-d tensor")
        result.append(int(a) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result))


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """Return the broadcast shape of ``shapes``, or raise a ShapeError naming ``op``."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        listed = ", ".join(str(tuple(s)) for s in shapes)
        raise ShapeError(f"{op}: shapes {listed} cannot be broadcast together") from None


def sum_to(grad: ArrayT, shape: tuple[int, ...]) -> ArrayT:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    Parameters
    ----------
    grad : ndarray or Tensor
        A gradient in the broadcast (output) shape.
    shape : tuple of int
        The shape of the input the gradient belongs to.

    Raises
    ------
    ShapeError
        When ``shape`` does not broadcast to ``grad``'s shape: then a VJP returned a
        gradient of the wrong shape, and the message names both.
    """
    g: Any = grad
    gshape = g.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != gs for s, gs in zip(shape, gshape[lead:])):
        raise ShapeError(
            f"sum_to: a gradient of shape {tuple(gshape)} cannot be reduced to the input "
            f"shape {tuple(shape)}"
        )
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)
    return g  # type: ignore[no-any-return]


def unreduce(
    grad: ArrayT, shape: tuple[int, ...], axis: tuple[int, ...], keepdims: bool
) -> ArrayT:
    """Broadcast a reduction's gradient back to the reduced input's ``shape``.

    ``axis`` is the normalised tuple of reduced axes. Without ``keepdims`` the reduced axes
    are first reinserted as size-1 axes; the result is a broadcast view (read-only), which
    every consumer treats as a value.
    """
    g: Any = grad
    if type(g) is np.ndarray and g.size == 1:
        # one value spread everywhere (a full reduction, the common case): the zero-strided,
        # read-only view np.broadcast_to would return, without its ~3 us of Python set-up
        view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view  # type: ignore[return-value]
    if not keepdims and axis:
        g = g.reshape(tuple(1 if i in axis else n for i, n in enumerate(shape)))
    return np.broadcast_to(g, shape)  # type: ignore[return-value]
