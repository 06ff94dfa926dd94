"""Item assignment as a graph op: what ``t[index] = value`` records when a gradient flows.

``Tensor.__setitem__`` (and the in-place arithmetic operators) write into the tensor's own
array, as numpy and PyTorch do; when a gradient flows through the write, the tensor's history
becomes this op applied to its old value, so the gradient reaches both the old value (except
where it was overwritten) and the assigned value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ShapeError
from ._base import Domain, Op, register

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["setitem"]


def _setitem_shapes(draw_int: Any) -> list[tuple[int, ...]]:
    rows, cols = draw_int(1, 4), draw_int(1, 3)
    return [(rows, cols), (cols,)]


def _setitem_params(shapes: Any) -> list[dict[str, Any]]:
    rows = shapes[0][0]
    return [
        {"index": 0},
        {"index": slice(None, None, -1)},
        {"index": np.array([0, rows - 1, 0])},  # repeated rows: the last write wins
        {"index": np.arange(rows) % 2 == 0},
        {"index": (Ellipsis, slice(None))},
    ]


def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or (isinstance(p, (slice, int, np.integer))
               and not isinstance(p, bool)) for p in parts)


def _survivors(shape: tuple[int, ...], index: Any) -> np.ndarray:
    """A boolean array of the shape of ``x[index]``: which written elements are not
    overwritten by a later write to the same place (numpy keeps the last one)."""
    target = np.empty(shape, dtype=np.bool_)[index].shape
    ids = np.arange(int(np.prod(target)), dtype=np.intp).reshape(target)
    winner = np.full(shape, -1, dtype=np.intp)
    winner[index] = ids
    return np.asarray(winner[index] == ids)


@register
class Setitem(Op):
    r"""A copy of ``x`` with ``value`` written at ``index`` (numpy's assignment rules).

    .. math::
        z = x \text{ with } z[\text{index}] = v, \qquad
        \bar x = \bar z \odot [\text{not written}], \qquad
        \bar v = \operatorname{sum\_to}\big(\bar z[\text{index}] \odot [\text{kept}]\big)

    ``value`` broadcasts to the shape of ``x[index]``. Where an advanced index repeats a
    position, numpy keeps the last value written there, so only that one gets the gradient.

    >>> import numpy as np, tensorgraph as tg
    >>> tg.ops.setitem(tg.zeros(3), np.array([0, 0]), tg.tensor([1.0, 2.0]))
    tensor([2., 0., 0.], dtype=float32)
    """

    name = "setitem"
    domain = Domain(nargs=2, shapes=_setitem_shapes, params=_setitem_params, min_rank=2)

    @staticmethod
    def forward(x: Any, value: Any, index: Any = ()) -> Any:
        result = np.array(x, copy=True)
        result[index] = value
        return result

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, value: Any, index: Any = ()) -> Any:
        kept = np.ones(x.shape, dtype=x.dtype)
        kept[index] = 0
        return grad * kept

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, value: Any, index: Any = ()) -> Any:
        written = grad[index]
        if _is_basic(index):
            return written
        return written * _survivors(x.shape, index).astype(x.dtype)


def setitem(x: Any, index: Any, value: Any) -> Tensor:
    """Return a copy of ``x`` with ``value`` written at ``index``; see :class:`Setitem`."""
    from ..tensor import Tensor
    from .shape import _normalize_index

    index = _normalize_index(index)
    shape = x.shape if isinstance(x, Tensor) else np.shape(x)
    try:
        target = np.empty(shape, dtype=np.bool_)[index].shape
    except IndexError as err:
        raise ShapeError(f"setitem: index {index!r} is invalid for shape {shape}: {err}") \
            from None
    value_shape = np.shape(value._data if isinstance(value, Tensor) else value)
    try:
        np.broadcast_shapes(value_shape, target)
    except ValueError:
        raise ShapeError(
            f"setitem: a value of shape {value_shape} cannot be written into x[index] of "
            f"shape {target} (x has shape {shape})"
        ) from None
    if np.broadcast_shapes(value_shape, target) != target:
        raise ShapeError(
            f"setitem: a value of shape {value_shape} is larger than x[index] of shape "
            f"{target} (x has shape {shape})"
        )
    return Setitem.apply(x, value, index=index)
