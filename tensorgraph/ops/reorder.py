r"""Reorderings and copies of elements: flip, roll, rot90, repeat and tile.

Each is an op of its own with a VJP of the same family: flip and roll are undone by
flipping and rolling back, rot90 by rotating back, repeat and tile by summing the copies.
fliplr and flipud are flips.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import as_index, normalize_axis, single_axis
from ..errors import DomainError, ShapeError
from ._base import Domain, Op, register
from .indexing import _scatter_into_zeros
from .shape import Reshape, _along, _shape, flatten

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["flip", "fliplr", "flipud", "repeat", "roll", "rot90", "tile"]


def _ints(value: Any, name: str, what: str) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple (no floats, no bools)."""
    if isinstance(value, (int, np.integer)):
        return (as_index(value, name, what),)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name}: {what} must be an int or a sequence of ints, got "
                        f"{type(value).__name__} {value!r}")
    return tuple(as_index(v, name, what) for v in np.asarray(value).reshape(-1).tolist()) \
        if isinstance(value, np.ndarray) else tuple(as_index(v, name, what) for v in value)


# --------------------------------------------------------------------------- flip
def _flip_params(shapes: Any) -> list[dict[str, Any]]:
    ndim = len(shapes[0])
    return [{"axis": tuple(range(ndim))}, {"axis": (ndim - 1,) if ndim else ()},
            {"axis": (0,) if ndim else ()}]


@register
class Flip(Op):
    r"""Reverse the order of elements along ``axis``; its own adjoint:
    :math:`z = \operatorname{flip}(x), \ \bar x = \operatorname{flip}(\bar z)`.

    >>> import tensorgraph as tg
    >>> tg.flip(tg.tensor([1.0, 2.0, 3.0]))
    tensor([3., 2., 1.], dtype=float32)
    """

    name = "flip"
    array_params = frozenset()
    domain = Domain(params=_flip_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = ()) -> Any:
        return np.flip(x, axis)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = ()) -> Any:
        return np.flip(grad, axis)


def flip(m: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """Reverse ``m`` along ``axis`` (every axis for None, an int or a tuple), as
    ``numpy.flip``; see :class:`Flip`.

    >>> import tensorgraph as tg
    >>> tg.flip(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    tensor([[2., 1.],
            [4., 3.]], dtype=float32)
    """
    return Flip.apply(m, axis=normalize_axis(axis, len(_shape(m)), "flip"))


def fliplr(m: Any) -> Tensor:
    """Reverse the columns (axis 1) of an at least 2-d tensor, as ``numpy.fliplr``.

    >>> import tensorgraph as tg
    >>> tg.fliplr(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[2., 1.],
            [4., 3.]], dtype=float32)
    """
    if len(_shape(m)) < 2:
        raise ShapeError(f"fliplr: the input must be at least 2-d, got shape {_shape(m)}")
    return Flip.apply(m, axis=(1,))


def flipud(m: Any) -> Tensor:
    """Reverse the rows (axis 0) of an at least 1-d tensor, as ``numpy.flipud``.

    >>> import tensorgraph as tg
    >>> tg.flipud(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[3., 4.],
            [1., 2.]], dtype=float32)
    """
    if len(_shape(m)) < 1:
        raise ShapeError(f"flipud: the input must be at least 1-d, got shape {_shape(m)}")
    return Flip.apply(m, axis=(0,))


# --------------------------------------------------------------------------- roll
def _roll_params(shapes: Any) -> list[dict[str, Any]]:
    ndim = len(shapes[0])
    choices: list[dict[str, Any]] = [{"shift": 1, "axis": None}, {"shift": -7, "axis": None}]
    if ndim:
        choices += [{"shift": (1,), "axis": (ndim - 1,)},
                    # one shift per axis, for any rank (the fuzzer draws up to 4-d)
                    {"shift": tuple((2, -1, 5, -3)[i % 4] for i in range(ndim)),
                     "axis": tuple(range(ndim))}]
    return choices


@register
class Roll(Op):
    r"""Shift elements cyclically along ``axis`` (the flattened array for None); undone by
    the opposite shift: :math:`z = \operatorname{roll}(x, s), \ \bar x =
    \operatorname{roll}(\bar z, -s)`.

    >>> import tensorgraph as tg
    >>> tg.roll(tg.tensor([1.0, 2.0, 3.0]), 1)
    tensor([3., 1., 2.], dtype=float32)
    """

    name = "roll"
    array_params = frozenset()
    domain = Domain(params=_roll_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, shift: int | tuple[int, ...] = 0,
                axis: tuple[int, ...] | None = None) -> Any:
        return np.roll(x, shift, axis)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, shift: int | tuple[int, ...] = 0,
              axis: tuple[int, ...] | None = None) -> Any:
        back = -shift if isinstance(shift, int) else tuple(-s for s in shift)
        return np.roll(grad, back, axis)


def roll(a: Any, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
    """Roll ``a`` by ``shift`` along ``axis``, as ``numpy.roll``; see :class:`Roll`.

    ``shift`` and ``axis`` broadcast against each other; an axis named twice is rolled by
    the sum of its shifts. With ``axis=None`` the flattened tensor is rolled (by the sum of
    the shifts) and given back its shape.

    >>> import tensorgraph as tg
    >>> tg.roll(tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), (1, -1), axis=(0, 1))
    tensor([[5., 6., 4.],
            [2., 3., 1.]], dtype=float32)
    """
    shifts = _ints(shift, "roll", "shift")
    ndim = len(_shape(a))
    if axis is None:
        return Roll.apply(a, shift=sum(shifts), axis=None)
    axes = _ints(axis, "roll", "axis")
    try:
        pairs = np.broadcast(np.asarray(shifts), np.asarray(axes))
    except ValueError:
        raise ShapeError(f"roll: shift {shift!r} and axis {axis!r} do not broadcast "
                         f"against each other") from None
    total: dict[int, int] = {}
    for s, ax in pairs:
        a_n = single_axis(int(ax), ndim, "roll")
        total[a_n] = total.get(a_n, 0) + int(s)
    order = tuple(sorted(total))
    return Roll.apply(a, shift=tuple(total[n] for n in order), axis=order)


# --------------------------------------------------------------------------- rot90
def _rot90_params(shapes: Any) -> list[dict[str, Any]]:
    ndim = len(shapes[0])
    return [*({"k": k, "axes": (0, 1)} for k in (1, 2, 3)), {"k": 1, "axes": (1, 0)},
            {"k": 3, "axes": (ndim - 1, 0)}]


@register
class Rot90(Op):
    r"""Rotate by ``k`` quarter turns in the plane of ``axes`` (from the first axis towards
    the second); undone by turning back: :math:`\bar x = \operatorname{rot90}(\bar z, -k)`.

    >>> import tensorgraph as tg
    >>> tg.rot90(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[2., 4.],
            [1., 3.]], dtype=float32)
    """

    name = "rot90"
    array_params = frozenset()
    domain = Domain(min_rank=2, params=_rot90_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Any:
        return np.rot90(x, k, axes)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, k: int = 1, axes: tuple[int, int] = (0, 1)) -> Any:
        return np.rot90(grad, (4 - k) % 4, axes)


def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate ``m`` by ``k`` quarter turns in the plane of ``axes``, as ``numpy.rot90``; see
    :class:`Rot90`.

    >>> import tensorgraph as tg
    >>> tg.rot90(tg.ones((2, 3, 4)), -1, axes=(2, 0)).shape
    (4, 3, 2)
    """
    turns = as_index(k, "rot90", "k")
    pair = _ints(axes, "rot90", "axes")
    ndim = len(_shape(m))
    if len(pair) != 2:
        raise ShapeError(f"rot90: axes must name exactly two axes, got {axes!r}")
    if ndim < 2:
        raise ShapeError(f"rot90: the input must be at least 2-d, got shape {_shape(m)}")
    first, second = (single_axis(a, ndim, "rot90") for a in pair)
    if first == second:
        raise ShapeError(f"rot90: axes {axes!r} name the same axis twice")
    return Rot90.apply(m, k=turns % 4, axes=(first, second))


# --------------------------------------------------------------------------- repeat
def _repeat_params(shapes: Any) -> list[dict[str, Any]]:
    shape = shapes[0]
    choices: list[dict[str, Any]] = []
    for axis, n in enumerate(shape):
        choices.append({"repeats": 2, "axis": axis})
        if n:  # per-element repeats, a zero among them
            choices.append({"repeats": tuple(i % 3 for i in range(1, n + 1)), "axis": axis})
    return choices


@register
class Repeat(Op):
    r"""Repeat each element ``repeats`` times along ``axis`` (one count for all, or one per
    element). The VJP sums the gradient of every copy:
    :math:`\bar x_i = \sum_{j \text{ a copy of } i} \bar z_j`.

    >>> import tensorgraph as tg
    >>> tg.repeat(tg.tensor([1.0, 2.0]), 2)
    tensor([1., 1., 2., 2.], dtype=float32)
    """

    name = "repeat"
    array_params = frozenset()
    domain = Domain(min_rank=1, params=_repeat_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, repeats: int | tuple[int, ...] = 1, axis: int = 0) -> Any:
        counts = np.asarray(repeats, dtype=np.intp) if isinstance(repeats, tuple) else repeats
        return np.repeat(x, counts, axis)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, repeats: int | tuple[int, ...] = 1,
              axis: int = 0) -> Any:
        shape = x.shape
        if isinstance(repeats, int):  # the copies of an element are adjacent: one sum
            return grad.reshape((*shape[:axis], shape[axis], repeats, *shape[axis + 1:])) \
                .sum(axis=axis + 1)
        source = np.repeat(np.arange(shape[axis]), np.asarray(repeats, dtype=np.intp))
        return _scatter_into_zeros(grad, _along(axis, source), shape)


def repeat(a: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Repeat each element of ``a`` along ``axis`` (of the flattened ``a`` for None), as
    ``numpy.repeat``; see :class:`Repeat`.

    ``repeats`` is one non-negative int, or one per element along ``axis``. (This is
    numpy's ``repeat``; PyTorch's ``Tensor.repeat`` is :func:`tile`.)

    >>> import tensorgraph as tg
    >>> tg.repeat(tg.tensor([[1.0, 2.0]]), [2, 0], axis=1)
    tensor([[1., 1.]], dtype=float32)
    """
    if getattr(repeats, "requires_grad", False):
        raise TypeError("repeat: repeats is a tensor that requires grad; counts carry no "
                        "gradient")
    counts = np.asarray(getattr(repeats, "_data", repeats))
    if counts.dtype.kind not in "iu" and not (counts.size == 0 and counts.dtype.kind == "f"):
        raise TypeError(f"repeat: repeats must be ints, got {repeats!r}")
    if (counts < 0).any():
        raise DomainError(f"repeat: repeats must be non-negative, got {repeats!r}")
    if counts.ndim > 1:
        raise ShapeError(f"repeat: repeats must be an int or 1-d, got shape {counts.shape}")
    if axis is None:
        a, ax = flatten(a), 0
    else:
        ax = single_axis(axis, len(_shape(a)), "repeat")
    n = _shape(a)[ax]
    if counts.size == 1:
        return Repeat.apply(a, repeats=int(counts.reshape(())), axis=ax)
    if counts.size != n:
        raise ShapeError(f"repeat: {counts.size} repeats for an axis of length {n} "
                         f"(shape {_shape(a)}, axis {ax}); give one count, or one per element")
    return Repeat.apply(a, repeats=tuple(int(c) for c in counts), axis=ax)


# --------------------------------------------------------------------------- tile
def _tile_params(shapes: Any) -> list[dict[str, Any]]:
    ndim = len(shapes[0])
    return [{"reps": (2,) * ndim}, {"reps": tuple(1 + i % 3 for i in range(ndim))},
            {"reps": tuple(0 if i == 0 else 2 for i in range(ndim))}]


@register
class Tile(Op):
    r"""Repeat the whole array ``reps[i]`` times along each axis ``i``. The VJP sums the
    tiles: with the output viewed as ``(reps[0], n[0], reps[1], n[1], ...)``,
    :math:`\bar x = \sum_{\text{tile axes}} \bar z`.

    >>> import tensorgraph as tg
    >>> tg.tile(tg.tensor([1.0, 2.0]), 2)
    tensor([1., 2., 1., 2.], dtype=float32)
    """

    name = "tile"
    array_params = frozenset()
    domain = Domain(params=_tile_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, reps: tuple[int, ...] = ()) -> Any:
        return np.tile(x, reps)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, reps: tuple[int, ...] = ()) -> Any:
        split = tuple(d for r, n in zip(reps, x.shape) for d in (r, n))
        return grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))


def tile(A: Any, reps: int | Sequence[int]) -> Tensor:
    """Tile ``A`` ``reps`` times, as ``numpy.tile`` (PyTorch's ``Tensor.repeat``/``tile``):
    a shorter ``reps`` is padded with leading 1s, a shorter ``A`` gets leading axes of
    length 1. See :class:`Tile`.

    >>> import tensorgraph as tg
    >>> tg.tile(tg.tensor([1.0, 2.0]), (2, 1))
    tensor([[1., 2.],
            [1., 2.]], dtype=float32)
    """
    counts = _ints(reps, "tile", "reps")
    if any(c < 0 for c in counts):
        raise DomainError(f"tile: reps must be non-negative, got {reps!r}")
    shape = _shape(A)
    if len(counts) > len(shape):
        A = Reshape.apply(A, shape=(1,) * (len(counts) - len(shape)) + tuple(shape))
    counts = (1,) * (len(shape) - len(counts)) + counts
    return Tile.apply(A, reps=counts)


FUNCTIONS: dict[Any, Any] = {
    np.flip: flip, np.fliplr: fliplr, np.flipud: flipud, np.roll: roll, np.rot90: rot90,
    np.repeat: repeat, np.tile: tile,
}
