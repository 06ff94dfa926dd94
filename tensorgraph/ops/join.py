r"""Joins and splits: concatenate and stack (the primitives), the numpy stacking helpers
(vstack, hstack, dstack, column_stack) built from them and reshapes, and the splits
(split, array_split, vsplit, hsplit, dsplit), whose pieces are getitems.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import as_index, single_axis
from ..errors import ShapeError
from ._base import Domain, Op, register
from .indexing import getitem
from .shape import _along, _shape, atleast_1d, atleast_2d, atleast_3d, flatten, reshape

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "array_split", "column_stack", "concatenate", "dsplit", "dstack", "hsplit", "hstack",
    "split", "stack", "vsplit", "vstack",
]  # fmt: skip


# --------------------------------------------------------------------------- joins
@register
class Concatenate(Op):
    r"""Join tensors along an existing axis. The VJP slices :math:`\bar z` back into pieces.

    >>> import tensorgraph as tg
    >>> tg.concatenate([tg.ones(2), tg.zeros(3)]).shape
    (5,)
    """

    name = "concatenate"
    array_params = frozenset()
    domain = Domain(nargs=3, shapes="concat", min_rank=1,
                    params=lambda shapes: [{"axis": shapes[0].__len__() - 1}])

    @staticmethod
    def forward(*xs: Any, axis: int = 0) -> Any:
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def reference(*xs: Any, axis: int = 0) -> Any:
        return np.concatenate(xs, axis=axis)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> list[Any]:
        axis = params["axis"]
        grads: list[Any] = []
        start = 0
        for x, need in zip(inputs, needs):
            stop = start + x.shape[axis]
            grads.append(grad[_along(axis, slice(start, stop))] if need else None)
            start = stop
        return grads


@register
class Stack(Op):
    r"""Join equally shaped tensors along a new axis. :math:`\bar x_k = \bar z[..., k, ...]`.

    >>> import tensorgraph as tg
    >>> tg.stack([tg.ones(2), tg.zeros(2)]).shape
    (2, 2)
    """

    name = "stack"
    array_params = frozenset()
    domain = Domain(nargs=3, shapes="stack", params=lambda shapes: [
        {"axis": 0}, {"axis": len(shapes[0])}])

    @staticmethod
    def forward(*xs: Any, axis: int = 0) -> Any:
        return np.stack(xs, axis=axis)

    @staticmethod
    def reference(*xs: Any, axis: int = 0) -> Any:
        return np.stack(xs, axis=axis)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> list[Any]:
        axis = params["axis"]
        return [grad[_along(axis, k)] if need else None for k, need in enumerate(needs)]


def _check_join(name: str, xs: Sequence[Any], axis: Any, new_axis: bool) -> int:
    if isinstance(xs, np.ndarray) or not isinstance(xs, (list, tuple)) or not xs:
        raise TypeError(f"{name}: expected a non-empty list or tuple of tensors")
    shapes = [_shape(x) for x in xs]
    ndim = len(shapes[0])
    if any(len(s) != ndim for s in shapes):
        raise ShapeError(f"{name}: all inputs must have the same number of dimensions, got "
                         f"shapes {shapes}")
    if ndim == 0 and not new_axis:
        raise ShapeError(f"{name}: zero-dimensional tensors cannot be concatenated "
                         f"(numpy refuses them too); use stack")
    a = single_axis(axis, ndim + 1 if new_axis else ndim, name)
    for i, s in enumerate(shapes):
        others = [d for j, d in enumerate(s) if new_axis or j != a]
        first = [d for j, d in enumerate(shapes[0]) if new_axis or j != a]
        if others != first:
            where = "" if new_axis else f" except along axis {a}"
            raise ShapeError(f"{name}: input {i} has shape {s}, which differs from input 0's "
                             f"shape {shapes[0]}{where}")
    return a


def concatenate(xs: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join ``xs`` along ``axis``; see :class:`Concatenate`. ``axis=None`` flattens every
    input first, as numpy does."""
    if axis is None and isinstance(xs, (list, tuple)):
        xs = [flatten(x) for x in xs]
        axis = 0
    return Concatenate.apply(*xs, axis=_check_join("concatenate", xs, axis, new_axis=False))


def stack(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Stack ``xs`` along a new ``axis``; see :class:`Stack`."""
    return Stack.apply(*xs, axis=_check_join("stack", xs, axis, new_axis=True))


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split ``x`` into pieces along ``axis``, as ``numpy.split``: each piece is a getitem.

    An int ``N`` asks for ``N`` equal pieces (an error when the axis length is not a
    multiple of ``N``); a sequence of indices gives the cut points, with Python's slicing
    rules (negative indices count from the end, indices past the end give empty pieces).
    """
    return _split("split", x, indices_or_sections, axis, equal=True)


def array_split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """As :func:`split`, but ``N`` pieces need not be equal (``numpy.array_split``): the
    first ``n % N`` pieces get one element more."""
    return _split("array_split", x, indices_or_sections, axis, equal=False)


def _split(name: str, x: Any, indices_or_sections: Any, axis: Any,
           equal: bool) -> list[Tensor]:
    shape = _shape(x)
    if not shape:
        raise ShapeError(f"{name}: cannot split a 0-d tensor")
    a = single_axis(axis, len(shape), name)
    n = shape[a]
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(
            indices_or_sections, (bool, np.bool_)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ShapeError(f"{name}: the number of sections must be positive, got {sections}")
        if equal and n % sections:
            raise ShapeError(f"{name}: axis {a} of shape {shape} (length {n}) cannot be split "
                             f"into {sections} equal sections; use array_split for unequal "
                             f"ones")
        size, extra = divmod(n, sections)
        bounds = [k * size + min(k, extra) for k in range(sections + 1)]
    else:
        if isinstance(indices_or_sections, (str, bytes, float, np.floating)) or not isinstance(
                indices_or_sections, (Sequence, np.ndarray)):
            raise TypeError(f"{name}: indices_or_sections must be an int or a sequence of "
                            f"ints, got {type(indices_or_sections).__name__} "
                            f"{indices_or_sections!r}")
        bounds = [0, *[as_index(i, name, "a split index") for i in indices_or_sections], n]
    # Python slicing, as numpy.split: negative cuts count from the end, cuts past the end
    # clip, and a cut before the previous one gives an empty piece
    return [getitem(x, _along(a, slice(lo, hi))) for lo, hi in itertools.pairwise(bounds)]


def _dims_split(name: str, x: Any, indices_or_sections: Any, axis: int, min_ndim: int
                ) -> list[Tensor]:
    ndim = len(_shape(x))
    if ndim < min_ndim:
        raise ShapeError(f"{name}: only works on tensors of {min_ndim} or more dimensions, got "
                         f"shape {_shape(x)}")
    return _split(name, x, indices_or_sections, axis, equal=True)


def vsplit(ary: Any, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """Split along the first axis (``numpy.vsplit``; at least 2-d), as :func:`split`.

    >>> import tensorgraph as tg
    >>> [p.shape for p in tg.vsplit(tg.ones((4, 2)), [1])]
    [(1, 2), (3, 2)]
    """
    return _dims_split("vsplit", ary, indices_or_sections, 0, 2)


def hsplit(ary: Any, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """Split along the second axis (the first for a 1-d tensor), as ``numpy.hsplit``.

    >>> import tensorgraph as tg
    >>> [p.shape for p in tg.hsplit(tg.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    return _dims_split("hsplit", ary, indices_or_sections, 1 if len(_shape(ary)) > 1 else 0, 1)


def dsplit(ary: Any, indices_or_sections: int | Sequence[int]) -> list[Tensor]:
    """Split along the third axis (``numpy.dsplit``; at least 3-d), as :func:`split`.

    >>> import tensorgraph as tg
    >>> [p.shape for p in tg.dsplit(tg.ones((1, 2, 3)), 3)]
    [(1, 2, 1), (1, 2, 1), (1, 2, 1)]
    """
    return _dims_split("dsplit", ary, indices_or_sections, 2, 3)


# --------------------------------------------------------------------------- stacking helpers
def _listed(name: str, tup: Any) -> list[Any]:
    if isinstance(tup, np.ndarray) or not isinstance(tup, (list, tuple)) or not tup:
        raise TypeError(f"{name}: expected a non-empty list or tuple of tensors, got "
                        f"{type(tup).__name__}")
    return list(tup)


def _as_tuple(result: Any) -> tuple[Any, ...]:
    return result if isinstance(result, tuple) else (result,)


def vstack(tup: Sequence[Any]) -> Tensor:
    """Stack row-wise (``numpy.vstack``): 1-d inputs become rows, then a concatenate along
    axis 0.

    >>> import tensorgraph as tg
    >>> tg.vstack([tg.ones(3), tg.zeros(3)]).shape
    (2, 3)
    """
    xs = _listed("vstack", tup)
    return concatenate(list(_as_tuple(atleast_2d(*xs))), axis=0)


def hstack(tup: Sequence[Any]) -> Tensor:
    """Stack column-wise (``numpy.hstack``): along axis 1, or axis 0 for 1-d inputs.

    >>> import tensorgraph as tg
    >>> tg.hstack([tg.ones(2), tg.zeros(3)]).shape
    (5,)
    """
    xs = list(_as_tuple(atleast_1d(*_listed("hstack", tup))))
    return concatenate(xs, axis=0 if len(xs[0].shape) == 1 else 1)


def dstack(tup: Sequence[Any]) -> Tensor:
    """Stack depth-wise (``numpy.dstack``): inputs made 3-d, then joined along axis 2.

    >>> import tensorgraph as tg
    >>> tg.dstack([tg.ones((2, 3)), tg.zeros((2, 3))]).shape
    (2, 3, 2)
    """
    return concatenate(list(_as_tuple(atleast_3d(*_listed("dstack", tup)))), axis=2)


def column_stack(tup: Sequence[Any]) -> Tensor:
    """Stack 1-d tensors as columns (``numpy.column_stack``); 2-d inputs join as they are.

    >>> import tensorgraph as tg
    >>> tg.column_stack([tg.ones(3), tg.zeros(3)]).shape
    (3, 2)
    """
    xs = _listed("column_stack", tup)
    columns = [reshape(x, (-1, 1)) if len(_shape(x)) < 2 else x for x in xs]
    return concatenate(columns, axis=1)


def _np_stacker(fn: Any, name: str) -> Any:
    def call(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
        if dtype is not None or casting != "same_kind":
            raise TypeError(f"numpy.{name}: dtype= and casting= are not supported on Tensors; "
                            f"cast the inputs with .astype() first")
        return fn(tup)  # type: ignore[no-any-return]

    return call


FUNCTIONS: dict[Any, Any] = {
    np.vstack: _np_stacker(vstack, "vstack"), np.hstack: _np_stacker(hstack, "hstack"),
    np.dstack: dstack, np.column_stack: column_stack,
    np.vsplit: vsplit, np.hsplit: hsplit, np.dsplit: dsplit,
}
