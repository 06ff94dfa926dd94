"""Undoing broadcasting and normalising axes: the only place gradients change shape.

The engine calls :func:`sum_to` on every gradient a VJP returns, so a VJP can return its
gradient in the broadcast output shape and never has to think about broadcasting. Reductions
use :func:`unreduce` to spread a reduced gradient back over the axes they removed.

Both functions work on numpy arrays and on Tensors alike (they only call methods the two
share), which is what lets the same code serve first- and higher-order gradients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from .errors import ShapeError

__all__ = [
    "AxisError", "as_index", "as_shape", "broadcast_shapes", "normalize_axis", "single_axis",
    "sum_to", "unreduce",
]  # fmt: skip

ArrayT = TypeVar("ArrayT")
Axis = int | Sequence[int] | None


class AxisError(ShapeError, np.exceptions.AxisError):
    """An axis out of range for a tensor's number of dimensions.

    A :class:`~tensorgraph.errors.ShapeError` (a ``ValueError``) that is also numpy's
    ``AxisError`` (a ``ValueError`` and an ``IndexError``), so code written for numpy catches
    it too. The message names the op, the axis and the number of dimensions.
    """

    def __init__(self, op: str, axis: int, ndim: int) -> None:
        message = f"{op}: axis {axis} is out of range for a {ndim}-d tensor"
        if ndim == 0:
            message += " (a 0-d tensor has no axes; use axis=None or ())"
        else:
            message += f" (valid axes are {-ndim}..{ndim - 1})"
        Exception.__init__(self, message)
        self.axis = axis
        self.ndim = ndim
        self._msg = message

    def __str__(self) -> str:
        return self._msg


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def normalize_axis(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """Return ``axis`` as a sorted tuple of non-negative ints (all axes for ``None``).

    Raises
    ------
    AxisError
        When an axis is out of range for ``ndim`` (a 0-d tensor has none); names ``op``.
    ShapeError
        When an axis is repeated.
    TypeError
        When an axis is not an int (a float, a bool, a string).
    """
    if axis is None:
        return tuple(range(ndim))
    if _is_int(axis):
        axes: tuple[Any, ...] = (axis,)
    else:
        try:
            axes = tuple(axis)  # type: ignore[arg-type]
        except TypeError:  # a float, a string...: not numpy's axis
            raise TypeError(
                f"{op}: axis must be an int or a tuple of ints, got {axis!r}") from None
    result = []
    for a in axes:
        if not _is_int(a):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise AxisError(op, int(a), ndim)
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ShapeError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result))


def single_axis(axis: Any, ndim: int, op: str) -> int:
    """Return the one axis an op works along (softmax, split, concatenate, ...) as an int.

    Unlike :func:`normalize_axis`, ``None`` and tuples are refused: these ops act along
    exactly one axis.
    """
    if axis is None or not _is_int(axis):
        raise TypeError(f"{op}: axis must be a single int, got {axis!r}")
    (a,) = normalize_axis(axis, ndim, op)
    return a


def as_index(value: Any, op: str, what: str) -> int:
    """Return ``value`` as an int, refusing floats (even integral ones), bools and the rest.

    numpy refuses ``np.zeros(2.0)``; silently truncating ``2.5`` to 2 would be worse.
    """
    if _is_int(value):
        return int(value)
    raise TypeError(f"{op}: {what} must be an int, got {type(value).__name__} {value!r}")


def as_shape(shape: Any, op: str) -> tuple[int, ...]:
    """Return ``shape`` (an int or a sequence of ints) as a tuple of ints.

    Raises
    ------
    TypeError
        When ``shape`` or one of its entries is not an int (``2.0``, ``2.5``, ``None``),
        naming ``op``; sizes are never truncated.
    """
    if _is_int(shape):
        return (int(shape),)
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (Sequence, np.ndarray)):
        raise TypeError(f"{op}: a shape must be an int or a sequence of ints, got "
                        f"{type(shape).__name__} {shape!r}")
    entries = tuple(shape)
    if not all(_is_int(s) for s in entries):
        raise TypeError(f"{op}: a shape must be an int or a sequence of ints, got {shape!r}")
    return tuple(int(s) for s in entries)


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


#: the most elements :func:`unreduce` fills instead of returning a broadcast view
_SMALL = 4096


def unreduce(
    grad: ArrayT, shape: tuple[int, ...], axis: tuple[int, ...], keepdims: bool
) -> ArrayT:
    """Broadcast a reduction's gradient back to the reduced input's ``shape``.

    ``axis`` is the normalised tuple of reduced axes. Without ``keepdims`` the reduced axes
    are first reinserted as size-1 axes; the result is a broadcast view (read-only), which
    every consumer treats as a value, except for one value spread over at most
    :data:`_SMALL` elements, which gives a new array.
    """
    g: Any = grad
    if type(g) is np.ndarray and g.size == 1:
        # one value spread everywhere (a full reduction, the common case)
        if math.prod(shape) <= _SMALL:
            out: Any = np.empty(shape, g.dtype)
            # small: a new array holding the value. Cheaper to make than a read-only view,
            # and the ops downstream then take numpy's contiguous loops (an op reading a
            # zero-strided view of a few elements costs about twice as much)
            out[...] = g
            return out  # type: ignore[no-any-return]
        # large: the zero-strided, read-only view np.broadcast_to would return, without its
        # ~3 us of Python set-up
        view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view  # type: ignore[return-value]
    if not keepdims and axis:
        g = g.reshape(tuple(1 if i in axis else n for i, n in enumerate(shape)))
    return np.broadcast_to(g, shape)  # type: ignore[return-value]
