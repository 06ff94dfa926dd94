r"""Indexing ops: getitem, its adjoint scatter_add, take and take_along_axis.

Two primitives carry the gradients: ``getitem`` (numpy's basic and advanced indexing) and
``scatter_add`` (a copy of an array with values added at an index, repeated indices
accumulating), each the other's VJP. ``take`` and ``take_along_axis`` are getitems with the
index numpy would build.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import single_axis
from ..errors import DomainError, DTypeError, ShapeError
from ._base import Domain, Op, register
from .shape import _along, _normalize_index, _shape, flatten

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["IndexOutOfBoundsError", "getitem", "scatter_add", "take", "take_along_axis"]


class IndexOutOfBoundsError(ShapeError, IndexError):
    """An index outside the axis it indexes: a :class:`~tensorgraph.errors.ShapeError` that
    is also the ``IndexError`` numpy raises, so code written for numpy catches it too."""


def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or (isinstance(p, (slice, int, np.integer))
               and not isinstance(p, bool)) for p in parts)


def _target_shape(name: str, shape: tuple[int, ...], index: Any) -> tuple[int, ...]:
    """The shape of ``x[index]`` for an ``x`` of ``shape``, or an error naming ``name``."""
    try:
        target: tuple[int, ...] = np.empty(shape, dtype=np.bool_)[index].shape
    except IndexError as err:
        raise IndexOutOfBoundsError(f"{name}: index {index!r} is invalid for shape {shape}: "
                                    f"{err}") from None
    return target


# --------------------------------------------------------------------------- getitem
def _getitem_params(shapes: Any) -> list[dict[str, Any]]:
    shape = shapes[0]
    if not shape:
        return [{"index": ()}, {"index": None}]
    n = shape[0]
    return [
        {"index": 0}, {"index": slice(None, None, -1)}, {"index": (Ellipsis, slice(0, 1))},
        {"index": np.array([0, n - 1, 0])},  # repeated indices accumulate
        {"index": np.arange(n) % 2 == 0},
    ]


@register
class Getitem(Op):
    r"""Indexing with numpy's basic and advanced rules, boolean masks included.

    .. math:: \bar x = \operatorname{scatter\_add}(0, \text{index}, \bar z)

    Repeated indices accumulate their gradients.

    >>> import tensorgraph as tg
    >>> tg.getitem(tg.arange(5.0), [0, 0, 3])
    tensor([0., 0., 3.], dtype=float32)
    """

    name = "getitem"
    array_params = frozenset({"index"})
    domain = Domain(params=_getitem_params, empty=False)

    @staticmethod
    def forward(x: Any, index: Any = ()) -> Any:
        return x[index]

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, index: Any = ()) -> Any:
        return _scatter_into_zeros(grad, index, x.shape)


def getitem(x: Any, index: Any) -> Tensor:
    """Index ``x`` as numpy would; see :class:`Getitem`."""
    index = _normalize_index(index)
    _target_shape("getitem", _shape(x), index)
    return Getitem.apply(x, index=index)


# --------------------------------------------------------------------------- scatter_add
def _scatter_shapes(draw_int: Any) -> list[tuple[int, ...]]:
    rows, cols, k = draw_int(1, 4), draw_int(1, 3), draw_int(1, 4)
    return [(rows, cols), (k, cols)]


def _scatter_params(shapes: Any) -> list[dict[str, Any]]:
    rows, k = shapes[0][0], shapes[1][0]
    if rows == 0:
        return [{"index": np.zeros(0, dtype=np.intp)}] if k == 0 else []
    ks = np.arange(k)
    return [{"index": ks % rows},  # repeats once k > rows
            {"index": -1 - ks % rows},  # negative indices
            {"index": np.zeros(k, dtype=np.intp)}]  # every value into one row


@register
class ScatterAdd(Op):
    r"""A copy of ``a`` with ``values`` added at ``index``; repeated indices accumulate, as in
    ``numpy.add.at`` (which works in place) and ``torch.Tensor.index_add``.

    .. math:: z = a + \operatorname{scatter}(\text{index}, v),\quad
              \bar a = \bar z,\quad \bar v = \bar z[\text{index}]

    ``values`` broadcasts to the shape of ``a[index]``; the engine sums its gradient back.

    >>> import numpy as np, tensorgraph as tg
    >>> tg.scatter_add(tg.zeros(3), np.array([0, 2, 0]), tg.tensor([1.0, 2.0, 3.0]))
    tensor([4., 0., 2.], dtype=float32)
    """

    name = "scatter_add"
    array_params = frozenset({"index"})
    domain = Domain(nargs=2, shapes=_scatter_shapes, params=_scatter_params, min_rank=2,
                    edges=(0.0,))

    @staticmethod
    def forward(a: Any, values: Any, index: Any = ()) -> Any:
        result = np.array(a, copy=True)
        if _is_basic(index):  # no repeats possible: a plain (faster) in-place add
            result[index] += values
        else:
            np.add.at(result, index, values)
        return result

    @staticmethod
    def reference(a: Any, values: Any, index: Any = ()) -> Any:
        result = np.array(a, copy=True)
        np.add.at(result, index, values)
        return result

    @staticmethod
    def vjp_0(grad: Any, out: Any, a: Any, values: Any, index: Any = ()) -> Any:
        return grad

    @staticmethod
    def vjp_1(grad: Any, out: Any, a: Any, values: Any, index: Any = ()) -> Any:
        return grad[index]


def _scatter_into_zeros(x: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` with ``x`` added at ``index`` (getitem's adjoint), on arrays and
    Tensors alike."""
    from ..tensor import Tensor

    if isinstance(x, Tensor):
        # a read-only zero view: the forward's copy is the only full-size allocation
        zeros = np.broadcast_to(np.zeros((), dtype=x.dtype), shape)
        return ScatterAdd.apply(zeros, x, index=index)
    # an ordinary backward: calloc'd zeros and a plain write where no index can repeat
    result = np.zeros(shape, dtype=x.dtype)
    if _is_basic(index):
        result[index] = x
    else:
        np.add.at(result, index, x)
    return result


def scatter_add(a: Any, index: Any, values: Any, axis: int | None = None) -> Tensor:
    """Return a copy of ``a`` with ``values`` added at ``index``; see :class:`ScatterAdd`.

    The out-of-place form of ``numpy.add.at(a, index, values)`` and, with ``axis``, of
    ``torch.Tensor.index_add(axis, index, values)``. Repeated indices accumulate (a plain
    ``a[index] += values`` would keep only the last). Gradients flow to ``a`` and ``values``.

    Parameters
    ----------
    a : Tensor or array_like
        The array added into (not modified).
    index : index
        Without ``axis``, any numpy index (ints, slices, integer or boolean arrays). With
        ``axis``, a 1-d integer array of positions along that axis.
    values : Tensor or array_like
        Broadcastable to the shape of ``a[index]`` (with ``axis``: ``a``'s shape with
        ``len(index)`` along ``axis``).
    axis : int, optional
        Add along this axis, as ``index_add``.

    Raises
    ------
    IndexOutOfBoundsError
        An index outside ``a`` (an ``IndexError``), naming the shape.
    ShapeError
        ``values`` does not broadcast to ``a[index]``.

    >>> import tensorgraph as tg
    >>> tg.scatter_add(tg.zeros((3, 2)), [0, 0], tg.ones((2, 2)), axis=0)
    tensor([[2., 2.],
            [0., 0.],
            [0., 0.]], dtype=float32)
    """
    index = _normalize_index(index)
    shape = _shape(a)
    if axis is not None:
        ax = single_axis(axis, len(shape), "scatter_add")
        positions = _integer_indices("scatter_add", index)
        if positions.ndim != 1:
            raise ShapeError(f"scatter_add: with axis, index must be 1-d, got shape "
                             f"{positions.shape}")
        _check_bounds("scatter_add", positions, ax, shape)
        index = _along(ax, positions)
    target = _target_shape("scatter_add", shape, index)
    given = _shape(values)
    try:
        fits = np.broadcast_shapes(given, target) == target
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"scatter_add: values of shape {given} do not broadcast to a[index] "
                         f"of shape {target} (a has shape {shape})")
    return ScatterAdd.apply(a, values, index=index)


# --------------------------------------------------------------------------- take
def _integer_indices(name: str, indices: Any) -> np.ndarray:
    from ..tensor import Tensor

    if getattr(indices, "requires_grad", False):
        raise TypeError(f"{name}: indices are a tensor that requires grad; indices carry no "
                        f"gradient, .detach() them")
    idx = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if idx.size == 0 and isinstance(indices, (list, tuple)):
        idx = idx.astype(np.intp)  # numpy reads an empty list as integer positions
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{name}: indices must be integers, got an array of {idx.dtype}")
    return idx


def _check_bounds(name: str, idx: np.ndarray, axis: int, shape: tuple[int, ...]) -> None:
    n = shape[axis]
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx.min() if idx.min() < -n else idx.max())
        raise IndexOutOfBoundsError(f"{name}: index {bad} is out of bounds for axis {axis} "
                                    f"with size {n} (shape {shape})")


def take(a: Any, indices: Any, axis: int | None = None, mode: str = "raise") -> Tensor:
    """Take elements along an axis (of the flattened input for ``axis=None``), as
    ``numpy.take``: a getitem, so repeated indices accumulate their gradients.

    Only ``mode='raise'`` is supported: an index out of range raises an ``IndexError``
    (negative indices count from the end). ``'wrap'`` and ``'clip'`` are refused.

    >>> import tensorgraph as tg
    >>> tg.take(tg.arange(6.0).reshape(2, 3), [2, 0], axis=1)
    tensor([[2., 0.],
            [5., 3.]], dtype=float32)
    """
    if mode != "raise":
        raise DomainError(f"take: only mode='raise' is supported on Tensors, got mode={mode!r}")
    idx = _integer_indices("take", indices)
    if axis is None:
        a, ax = flatten(a), 0
    else:
        ax = single_axis(axis, len(_shape(a)), "take")
    shape = _shape(a)
    _check_bounds("take", idx, ax, shape)
    return Getitem.apply(a, index=_along(ax, idx))


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """Pick values by per-position indices along ``axis``, as ``numpy.take_along_axis``
    (``torch.gather``): a getitem, so repeated indices accumulate their gradients.

    ``indices`` has ``arr``'s number of dimensions; its other axes broadcast against
    ``arr``'s. With ``axis=None`` ``arr`` is flattened and ``indices`` must be 1-d.

    >>> import numpy as np, tensorgraph as tg
    >>> x = tg.tensor([[3.0, 1.0, 2.0]])
    >>> tg.take_along_axis(x, np.argsort(x.numpy(), axis=1), axis=1)
    tensor([[1., 2., 3.]], dtype=float32)
    """
    idx = _integer_indices("take_along_axis", indices)
    if axis is None:
        if idx.ndim != 1:
            raise ShapeError(f"take_along_axis: with axis=None, indices must be 1-d, got "
                             f"shape {idx.shape}")
        arr, ax = flatten(arr), 0
    else:
        ax = single_axis(axis, len(_shape(arr)), "take_along_axis")
    shape = _shape(arr)
    if idx.ndim != len(shape):
        raise ShapeError(f"take_along_axis: indices of shape {idx.shape} must have as many "
                         f"dimensions as arr of shape {shape}")
    _check_bounds("take_along_axis", idx, ax, shape)
    fancy: list[Any] = []
    for dim, n in enumerate(shape):
        if dim == ax:
            fancy.append(idx)
        else:  # numpy's own construction: an arange along each other axis
            fancy.append(np.arange(n).reshape((1,) * dim + (n,) + (1,) * (len(shape) - dim - 1)))
    try:
        np.broadcast_shapes(*(f.shape for f in fancy))
    except ValueError:
        raise ShapeError(f"take_along_axis: indices of shape {idx.shape} do not broadcast "
                         f"against arr of shape {shape} outside axis {ax}") from None
    return Getitem.apply(arr, index=tuple(fancy))


def _np_take(a: Any, indices: Any, axis: int | None = None, out: Any = None,
             mode: str = "raise") -> Tensor:
    if out is not None:
        raise TypeError("numpy.take: the argument out= is not supported on Tensors")
    return take(a, indices, axis, mode)


FUNCTIONS: dict[Any, Any] = {np.take: _np_take, np.take_along_axis: take_along_axis}
