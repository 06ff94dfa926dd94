"""Hypothesis strategies for testing differentiable code with tensorgraph.

Needs hypothesis (``pip install tensorgraph[testing]``). Shapes are small on purpose (rank
0..3, sides 1..4), so a full finite-difference Jacobian stays cheap; 0-d arrays and size-1
dimensions are drawn often, because that is where broadcasting bugs hide.

The interior draws keep away from kinks and ties; the edge strategies visit them on purpose:
``op_inputs(op, edge=...)`` and :func:`edge_cases` (exact edge values, kinks, ties, empty
arrays, from the op's Domain), ``arrays(edges=...)`` (exact values placed often),
``shapes(min_side=0)`` (empty arrays), :func:`valid_axes` (negative axes),
:func:`index_arrays` (negative and repeated indices) and :func:`views` (transposed, strided,
reversed and read-only inputs).

Example: check your own function's gradient on drawn inputs.

>>> import numpy as np, tensorgraph as tg
>>> from hypothesis import given, settings
>>> from tensorgraph.testing import gradcheck, strategies as tgst
>>> @settings(max_examples=5, deadline=None)
... @given(tgst.arrays(low=-2.0, high=2.0))
... def test_tanh(x):
...     assert gradcheck(lambda t: tg.tanh(t) * t, x)
>>> test_tanh()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

try:
    from hypothesis import strategies as st
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "tensorgraph.testing.strategies needs hypothesis: pip install tensorgraph[testing]"
    ) from err

from ..ops._base import REGISTRY, Op
from ..tensor import Tensor
from ._edges import LAYOUTS, as_layout, edge_kinds, place_points
from ._sampling import (
    MAX_RANK,
    MAX_SIDE,
    OpCase,
    Reject,
    draw_axis,
    draw_broadcastable_shapes,
    draw_op_case,
    draw_shape,
    draw_values,
)

__all__ = [
    "OpCase",
    "arrays",
    "broadcastable_shapes",
    "edge_cases",
    "float_dtypes",
    "index_arrays",
    "op_inputs",
    "shapes",
    "tensors",
    "valid_axes",
    "views",
]


class _HypothesisSource:
    """The two drawing primitives of :mod:`._sampling`, implemented with hypothesis."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def draw_int(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def draw_unit(self, n: int) -> np.ndarray:
        # one byte string for all n values: a single cheap draw, where drawing n floats one
        # by one would dominate a test's run time; it shrinks towards zeros (values at low)
        raw = self._draw(st.binary(min_size=2 * n, max_size=2 * n))
        units: np.ndarray = np.frombuffer(raw, dtype="<u2") / 65535.0
        return units


def float_dtypes() -> st.SearchStrategy[np.dtype[Any]]:
    """float32 or float64."""
    return st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)])


@st.composite
def shapes(
    draw: st.DrawFn,
    min_rank: int = 0,
    max_rank: int = MAX_RANK,
    min_side: int = 1,
    max_side: int = MAX_SIDE,
) -> tuple[int, ...]:
    """Array shapes with ``min_rank..max_rank`` dimensions of ``min_side..max_side`` each
    (``min_side=0`` draws empty arrays too)."""
    return draw_shape(_HypothesisSource(draw).draw_int, min_rank, max_rank, min_side, max_side)


@st.composite
def broadcastable_shapes(
    draw: st.DrawFn,
    n: int = 2,
    min_rank: int = 0,
    max_rank: int = MAX_RANK,
    min_side: int = 1,
    max_side: int = MAX_SIDE,
) -> list[tuple[int, ...]]:
    """Lists of ``n`` mutually broadcastable shapes (missing and size-1 dimensions included).

    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from tensorgraph.testing.strategies import broadcastable_shapes
    >>> @settings(max_examples=10)
    ... @given(broadcastable_shapes(3))
    ... def test(s):
    ...     np.broadcast_shapes(*s)
    >>> test()
    """
    return draw_broadcastable_shapes(_HypothesisSource(draw).draw_int, n, min_rank, max_rank,
                                     min_side, max_side)


@st.composite
def valid_axes(draw: st.DrawFn, ndim: int) -> int | tuple[int, ...] | None:
    """``axis`` arguments valid for an ``ndim``-d array: None, an int (maybe negative) or a
    tuple of distinct ints (maybe negative, maybe empty)."""
    return draw_axis(_HypothesisSource(draw).draw_int, ndim)


@st.composite
def arrays(
    draw: st.DrawFn,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: DTypeLike | st.SearchStrategy[np.dtype[Any]] = np.float64,
    low: float = -3.0,
    high: float = 3.0,
    avoid: Sequence[float] = (),
    margin: float = 0.1,
    distinct: bool = False,
    edges: Sequence[float] = (),
) -> np.ndarray:
    """Floating arrays with values in ``[low, high]``, at least ``margin`` from each point in
    ``avoid`` (kinks, poles), pairwise ``margin`` apart when ``distinct``.

    Parameters
    ----------
    shape : tuple or strategy, optional
        A fixed shape, a strategy for one, or None for :func:`shapes`.
    dtype : dtype or strategy
        A floating dtype or a strategy for one (see :func:`float_dtypes`).
    edges : sequence of float
        Values to place exactly, on purpose: about half the elements (and at least one, in a
        non-empty array) become one of them, whatever ``avoid`` says. Use it for the points
        your function must get right that the interior draws never hit: ``0.0`` for a
        product, a kink with its documented derivative, a bound.

    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from tensorgraph.testing.strategies import arrays
    >>> @settings(max_examples=10)
    ... @given(arrays(shape=(5,), avoid=(0.0,), edges=(0.0,)))
    ... def test(x):
    ...     assert (x == 0).any() and ((x == 0) | (np.abs(x) >= 0.1)).all()
    >>> test()
    """
    if shape is None:
        shape = shapes()
    drawn_shape = draw(shape) if isinstance(shape, st.SearchStrategy) else tuple(shape)
    drawn_dtype = draw(dtype) if isinstance(dtype, st.SearchStrategy) else np.dtype(dtype)
    if drawn_dtype.kind != "f":
        raise TypeError(f"arrays: dtype must be floating, got {drawn_dtype}")
    source = _HypothesisSource(draw)
    (values,) = draw_values(source, [drawn_shape], low, high, avoid, margin, distinct)
    if edges:
        (values,) = place_points(source, [values], [tuple(edges)], once=distinct)
    return values.astype(drawn_dtype)


@st.composite
def tensors(
    draw: st.DrawFn,
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: DTypeLike | st.SearchStrategy[np.dtype[Any]] = np.float64,
    low: float = -3.0,
    high: float = 3.0,
    avoid: Sequence[float] = (),
    margin: float = 0.1,
    distinct: bool = False,
    requires_grad: bool = False,
    edges: Sequence[float] = (),
) -> Tensor:
    """Tensors built from :func:`arrays` (same parameters), optionally requiring grad."""
    data = draw(arrays(shape, dtype, low, high, avoid, margin, distinct, edges))
    return Tensor(data, requires_grad=requires_grad)


@st.composite
def op_inputs(
    draw: st.DrawFn, op: type[Op] | str, dtype: DTypeLike = np.float64,
    edge: str | None = None,
) -> OpCase:
    """A drawn :class:`OpCase` for a registered op: inputs and parameters from its Domain.

    ``case.call(*case.inputs)`` applies the op; ``case.nondiff`` lists the inputs a gradient
    check must skip. ``edge`` asks for an edge case instead of an interior one:
    ``"edges"`` (exact smooth edge values: check both orders with finite differences),
    ``"kinks"`` or ``"ties"`` (check with
    :func:`tensorgraph.testing.conventions.check_conventions`) or ``"empty"`` (zero-length
    dimensions); :func:`edge_cases` draws any that applies.
    """
    op_class = REGISTRY[op] if isinstance(op, str) else op
    try:
        return draw_op_case(op_class, _HypothesisSource(draw), dtype, edge)
    except Reject:
        from hypothesis import reject

        reject()


def edge_cases(op: type[Op] | str, dtype: DTypeLike = np.float64) -> st.SearchStrategy[OpCase]:
    """Edge cases of every kind the op's Domain declares (see :func:`op_inputs`).

    >>> from hypothesis import given, settings
    >>> from tensorgraph.testing import check_case
    >>> @settings(max_examples=10, deadline=None)
    ... @given(edge_cases("prod"))
    ... def test(case):
    ...     assert check_case(case, second_order=False).passed
    >>> test()
    """
    op_class = REGISTRY[op] if isinstance(op, str) else op
    kinds = edge_kinds(op_class.domain)
    if not kinds:
        raise ValueError(f"edge_cases: the Domain of {op_class.name!r} declares no edges, "
                         f"kinks, ties or empty arrays")
    return st.one_of(*(op_inputs(op_class, dtype, kind) for kind in kinds))


@st.composite
def index_arrays(
    draw: st.DrawFn, n: int, min_size: int = 1, max_size: int = 6
) -> np.ndarray:
    """Integer index arrays for an axis of length ``n``: negative indices and repeated ones
    (a gradient fan-in) are drawn often, and each array holds at least one of them when it
    can (negatives need ``n >= 1``, repeats two or more entries).

    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10)
    ... @given(index_arrays(3))
    ... def test(index):
    ...     np.arange(3.0)[index]  # numpy accepts it
    >>> test()
    """
    if n < 1:
        raise ValueError(f"index_arrays: an axis of length {n} has no valid index")
    size = draw(st.integers(min_size, max_size))
    values = draw(st.lists(st.integers(-n, n - 1), min_size=size, max_size=size))
    if size:
        values[0] = values[0] - n if values[0] >= 0 else values[0]  # one negative index
    if size >= 2:
        values[-1] = values[draw(st.integers(0, size - 2))]  # one repeat
    return np.asarray(values, dtype=np.int64)


@st.composite
def views(draw: st.DrawFn, x: np.ndarray) -> np.ndarray:
    """``x``'s values as a read-only view in another memory layout: transposed (Fortran
    order), every other element of a larger buffer, or with negative strides. Functions
    must not assume contiguous or writable inputs.

    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(views(np.arange(6.0).reshape(2, 3)))
    ... def test(v):
    ...     assert v.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and not v.flags.writeable
    >>> test()
    """
    return as_layout(np.asarray(x), draw(st.sampled_from(LAYOUTS)))
