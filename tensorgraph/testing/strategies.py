"""Hypothesis strategies for testing differentiable code with tensorgraph.

Needs hypothesis (``pip install tensorgraph[testing]``). Shapes are small on purpose (rank
0..3, sides 1..4), so a full finite-difference Jacobian stays cheap; 0-d arrays and size-1
dimensions are drawn often, because that is where broadcasting bugs hide.

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
    "float_dtypes",
    "op_inputs",
    "shapes",
    "tensors",
    "valid_axes",
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
    """Array shapes with ``min_rank..max_rank`` dimensions of ``min_side..max_side`` each."""
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
) -> np.ndarray:
    """Floating arrays with values in ``[low, high]``, at least ``margin`` from each point in
    ``avoid`` (kinks, poles), pairwise ``margin`` apart when ``distinct``.

    Parameters
    ----------
    shape : tuple or strategy, optional
        A fixed shape, a strategy for one, or None for :func:`shapes`.
    dtype : dtype or strategy
        A floating dtype or a strategy for one (see :func:`float_dtypes`).
    """
    if shape is None:
        shape = shapes()
    drawn_shape = draw(shape) if isinstance(shape, st.SearchStrategy) else tuple(shape)
    drawn_dtype = draw(dtype) if isinstance(dtype, st.SearchStrategy) else np.dtype(dtype)
    if drawn_dtype.kind != "f":
        raise TypeError(f"arrays: dtype must be floating, got {drawn_dtype}")
    (values,) = draw_values(_HypothesisSource(draw), [drawn_shape], low, high, avoid, margin,
                            distinct)
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
) -> Tensor:
    """Tensors built from :func:`arrays` (same parameters), optionally requiring grad."""
    data = draw(arrays(shape, dtype, low, high, avoid, margin, distinct))
    return Tensor(data, requires_grad=requires_grad)


@st.composite
def op_inputs(
    draw: st.DrawFn, op: type[Op] | str, dtype: DTypeLike = np.float64
) -> OpCase:
    """A drawn :class:`OpCase` for a registered op: inputs and parameters from its Domain.

    ``case.call(*case.inputs)`` applies the op; ``case.nondiff`` lists the inputs a gradient
    check must skip.
    """
    op_class = REGISTRY[op] if isinstance(op, str) else op
    try:
        return draw_op_case(op_class, _HypothesisSource(draw), dtype)
    except Reject:
        from hypothesis import reject

        reject()
