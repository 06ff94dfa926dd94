"""Drawing the edges of an op's domain on purpose: exact edge values, kinks, ties, empty
arrays, and inputs in other memory layouts.

The interior draws of :mod:`._sampling` keep away from every kink and tie, because finite
differences are meaningless there. Users meet those points first, though (``relu`` of an
exact 0, ``max`` of equal values, ``prod`` of a slice holding zeros, an empty batch), so the
helpers here put them into the inputs deliberately and often: every edge case holds at least
one edge point, not merely a chance of one.

Like :mod:`._sampling` they ask a source for integers and unit floats only, so hypothesis
and a numpy generator share them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..ops._base import Domain

if TYPE_CHECKING:
    from ._sampling import Source

__all__ = [
    "EDGE_KINDS",
    "LAYOUTS",
    "as_layout",
    "edge_kinds",
    "force_tie",
    "place_points",
    "sides_may_be_empty",
    "tie_grid",
]

#: The kinds of edge case: smooth edge values, kinks (with their convention), ties (with
#: theirs) and empty arrays.
EDGE_KINDS = ("edges", "kinks", "ties", "empty")

#: Memory layouts :func:`as_layout` makes: a transposed (Fortran-ordered) copy, a view with
#: every other element of a larger buffer, and a view with negative strides.
LAYOUTS = ("transposed", "strided", "reversed")

#: Side lengths drawn as ``draw_int(1, SIDE_HIGH)`` may come back 0 in the empty draws.
SIDE_HIGH = 4

DrawInt = Callable[[int, int], int]


def edge_kinds(domain: Domain) -> tuple[str, ...]:
    """The edge kinds that apply to an op with this domain, in :data:`EDGE_KINDS` order."""
    kinds = []
    if domain.edge_values() or domain.edge_constants:
        kinds.append("edges")
    if domain.kinks:
        kinds.append("kinks")
    if domain.ties:
        kinds.append("ties")
    if domain.empty:
        kinds.append("empty")
    return tuple(kinds)


def sides_may_be_empty(draw_int: DrawInt) -> DrawInt:
    """Wrap ``draw_int`` so that a side length (a draw over ``[1, 4]``) is 0 half the time:
    what the empty-array draws hand to a Domain's shape function."""

    def draw(low: int, high: int) -> int:
        if (low, high) == (1, SIDE_HIGH) and draw_int(0, 1) == 0:
            return 0
        return draw_int(low, high)

    return draw


def place_points(
    source: Source, arrays: Sequence[np.ndarray], points: Sequence[Sequence[float]],
    once: bool = False,
) -> list[np.ndarray]:
    """Copies of ``arrays`` where about half the elements are replaced by one of their
    array's ``points`` (exactly), and at least one element of the whole set always is.

    ``once`` places each point value at most once over all arrays (for ``distinct``
    domains, whose draws must not tie).
    """
    result = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
    candidates = [k for k, (a, p) in enumerate(zip(result, points)) if a.size and p]
    if not candidates:
        return result
    placed = 0
    used: set[float] = set()
    for k in candidates:
        flat = result[k].reshape(-1)
        units = source.draw_unit(2 * flat.size)
        for j in range(flat.size):
            if units[2 * j] < 0.5:
                value = float(points[k][min(int(units[2 * j + 1] * len(points[k])),
                                            len(points[k]) - 1)])
                if once and value in used:
                    continue
                flat[j] = value
                used.add(value)
                placed += 1
    if not placed:
        k = candidates[source.draw_int(0, len(candidates) - 1)]
        flat = result[k].reshape(-1)
        flat[source.draw_int(0, flat.size - 1)] = points[k][source.draw_int(0, len(points[k]) - 1)]
    return result


def tie_grid(low: float, high: float, extra: Sequence[float] = ()) -> list[float]:
    """A few values in ``[low, high]`` (its ends, its middle and any ``extra`` inside it):
    drawing from so few makes ties common."""
    values = {float(low), float(high), (low + high) / 2}
    values.update(float(v) for v in extra if low <= v <= high)
    return sorted(values)


def force_tie(
    source: Source, arrays: list[np.ndarray], kind: Any, params: dict[str, Any],
    numeric: Sequence[int],
) -> bool:
    """Make sure the case holds a tie, in place; False when the shapes leave no room for one.

    For broadcasting ops every operand gets the same value at one output position; for a
    reduction over ``params["axis"]`` one whole reduced slice (of two or more elements)
    becomes constant; otherwise two elements of the first operand become equal.
    """
    operands = [arrays[i] for i in numeric]
    if kind == "broadcast" and len(operands) > 1:
        out_shape = np.broadcast_shapes(*(a.shape for a in operands))
        if not math.prod(out_shape):
            return False
        position = np.unravel_index(source.draw_int(0, math.prod(out_shape) - 1), out_shape)
        value = None
        for a in operands:
            lead = len(out_shape) - a.ndim
            index = tuple(0 if n == 1 else position[lead + d] for d, n in enumerate(a.shape))
            if value is None:
                value = float(a[index])
            a[index] = value
        return True
    x = operands[0]
    axis = params.get("axis")
    if isinstance(axis, tuple) and all(isinstance(a, int) for a in axis):
        if math.prod(x.shape[a] for a in axis) < 2 or not x.size:
            return False
        start = tuple(int(i) for i in np.unravel_index(source.draw_int(0, x.size - 1), x.shape))
        whole_slice: tuple[int | slice, ...] = tuple(slice(None) if d in axis else start[d]
                                                     for d in range(x.ndim))
        x[whole_slice] = x[start]
        return True
    if x.size < 2:
        return False
    flat = x.reshape(-1)
    i, j = source.draw_int(0, x.size - 1), source.draw_int(0, x.size - 1)
    flat[j if j != i else (i + 1) % x.size] = flat[i]
    return True


def as_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """A read-only view holding ``x``'s values in another memory ``layout`` (see
    :data:`LAYOUTS`): what an op meets when its input is a transposed, sliced or reversed
    view of another array.

    >>> import numpy as np
    >>> v = as_layout(np.arange(6.0).reshape(2, 3), "strided")
    >>> v.tolist(), v.flags.c_contiguous, v.flags.writeable
    ([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], False, False)
    """
    if layout == "transposed":
        view = np.transpose(np.transpose(x).copy(order="C"))
    elif layout == "strided":
        # (``...`` keeps a 0-d array a view: indexing it with () would give a scalar)
        base = np.zeros(tuple(2 * n for n in x.shape), dtype=x.dtype)
        view = base[tuple(slice(None, None, 2) for _ in x.shape) or ...]
        view[...] = x
    elif layout == "reversed":
        flip = tuple(slice(None, None, -1) for _ in x.shape) or ...
        view = x[flip].copy(order="C")[flip]
    else:
        raise ValueError(f"as_layout: unknown layout {layout!r}; use one of {LAYOUTS}")
    view.flags.writeable = False
    return view
