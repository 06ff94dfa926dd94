"""Drawing test inputs from an op's :class:`~tensorgraph.ops._base.Domain`, written once.

The same code serves the hypothesis strategies (:mod:`tensorgraph.testing.strategies`) and the
hypothesis-free registry runner (:mod:`tensorgraph.testing.registry_check`). It asks a
:class:`Source` for two primitives only: an integer in a closed range and a vector of floats
in ``[0, 1]``. Hypothesis implements them with its own strategies (so failing cases shrink),
the runner with a ``numpy.random.Generator``.

Values are made from the unit floats by a monotone map onto the allowed set: ``[low, high]``
with an open hole of half-width ``margin`` around every point in ``avoid``. For ``distinct``
domains the unit floats are first spread so that neighbours differ by a fixed gap, and the map
never shrinks distances, so no two values tie.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import DTypeLike

from ..ops._base import Domain, Op
from ._edges import EDGE_KINDS, edge_kinds, force_tie, place_points, sides_may_be_empty, tie_grid

__all__ = [
    "EDGE_KINDS",
    "MAX_RANK",
    "MAX_SIDE",
    "GeneratorSource",
    "OpCase",
    "Reject",
    "Source",
    "allowed_intervals",
    "draw_axis",
    "draw_broadcastable_shapes",
    "draw_op_case",
    "draw_shape",
    "draw_values",
]

#: Drawn shapes have at most this many dimensions ...
MAX_RANK = 3
#: ... each of length 1 to this (small, so a full Jacobian stays cheap).
MAX_SIDE = 4

DrawInt = Callable[[int, int], int]
Shape = tuple[int, ...]


class Source(Protocol):
    """Where randomness comes from: hypothesis' ``draw`` or a numpy generator."""

    def draw_int(self, low: int, high: int) -> int:
        """Return an int in ``[low, high]`` (both included)."""
        ...

    def draw_unit(self, n: int) -> np.ndarray:
        """Return ``n`` float64 values in ``[0, 1]``."""
        ...


class GeneratorSource:
    """A :class:`Source` backed by a ``numpy.random.Generator``."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def draw_int(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high, endpoint=True))

    def draw_unit(self, n: int) -> np.ndarray:
        return self.rng.random(n)


class Reject(Exception):
    """The drawn shapes admit no valid parameters (an empty ``params`` list): draw again."""


@dataclass(frozen=True)
class OpCase:
    """One drawn test case for an op: its inputs, its keyword parameters, its nondiff inputs.

    ``case.call(*inputs)`` applies the op; ``case.inputs`` are numpy arrays (read-write; the
    checkers make their own read-only copies).
    """

    op: type[Op]
    inputs: tuple[np.ndarray, ...]
    params: dict[str, Any] = field(default_factory=dict)
    nondiff: tuple[int, ...] = ()
    #: the kind of edge case (one of ``EDGE_KINDS``), or None for an interior case
    edge: str | None = None

    def call(self, *inputs: Any) -> Any:
        """Apply the op to ``inputs`` with this case's parameters."""
        return self.op.apply(*inputs, **self.params)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.inputs)
        edge = f", {self.edge} edge" if self.edge else ""
        small = all(a.size <= 16 for a in self.inputs)
        values = f", values {[a.tolist() for a in self.inputs]}" if small and self.edge else ""
        return f"OpCase({self.op.name}{edge}: inputs {shapes}, params {self.params!r}{values})"


# --------------------------------------------------------------------------- shapes
def draw_shape(
    draw_int: DrawInt,
    min_rank: int = 0,
    max_rank: int = MAX_RANK,
    min_side: int = 1,
    max_side: int = MAX_SIDE,
) -> Shape:
    """Draw a shape with ``min_rank..max_rank`` dimensions of length ``min_side..max_side``."""
    rank = draw_int(min_rank, max(min_rank, max_rank))
    return tuple(draw_int(min_side, max_side) for _ in range(rank))


def draw_broadcastable_shapes(
    draw_int: DrawInt,
    n: int,
    min_rank: int = 0,
    max_rank: int = MAX_RANK,
    min_side: int = 1,
    max_side: int = MAX_SIDE,
) -> list[Shape]:
    """Draw ``n`` mutually broadcastable shapes.

    A base shape is drawn; each result drops some of its leading dimensions (never going
    below ``min_rank``) and turns some of the remaining ones into 1, so size-1 and missing
    dimensions both get exercised.
    """
    base = draw_shape(draw_int, min_rank, max_rank, min_side, max_side)
    result = []
    for _ in range(n):
        drop = draw_int(0, len(base) - min_rank)
        # a third of the kept dimensions become 1 (broadcast), on average
        result.append(tuple(1 if draw_int(0, 2) == 0 else s for s in base[drop:]))
    return result


def draw_axis(draw_int: DrawInt, ndim: int) -> int | tuple[int, ...] | None:
    """Draw a valid ``axis`` argument for an ``ndim``-d array (numpy's forms).

    ``None``, a single int (possibly negative) or a tuple of distinct ints (possibly
    negative, possibly empty).
    """
    kind = draw_int(0, 2)
    if kind == 0 or ndim == 0:
        return None if kind == 0 or draw_int(0, 1) == 0 else ()
    if kind == 1:
        a = draw_int(0, ndim - 1)
        return a - ndim if draw_int(0, 1) else a
    chosen = [a for a in range(ndim) if draw_int(0, 1)]
    return tuple(a - ndim if draw_int(0, 1) else a for a in chosen)


def _matmul_shapes(draw_int: DrawInt) -> list[Shape]:
    n, k, m = draw_int(1, MAX_SIDE), draw_int(1, MAX_SIDE), draw_int(1, MAX_SIDE)
    x_rank, y_rank = draw_int(1, 3), draw_int(1, 3)
    batch = draw_int(1, 3)
    # a rank-3 operand gets the batch axis or, a third of the time, a broadcast 1
    x_batch = (batch if draw_int(0, 2) else 1,) if x_rank == 3 else ()
    y_batch = (batch if draw_int(0, 2) else 1,) if y_rank == 3 else ()
    x = (k,) if x_rank == 1 else (*x_batch, n, k)
    y = (k,) if y_rank == 1 else (*y_batch, k, m)
    return [x, y]


def _domain_shapes(domain: Domain, draw_int: DrawInt) -> list[Shape]:
    """The input shapes for one case, following ``domain.shapes``."""
    kind = domain.shapes
    if callable(kind):
        return [tuple(int(d) for d in s) for s in kind(draw_int)]
    rank = domain.min_rank
    if kind == "broadcast":
        return draw_broadcastable_shapes(draw_int, domain.nargs, min_rank=rank)
    if kind == "where":
        return draw_broadcastable_shapes(draw_int, 3, min_rank=rank)
    if kind == "same":
        return [draw_shape(draw_int, rank)] * domain.nargs
    if kind == "matmul":
        return _matmul_shapes(draw_int)
    # variadic joins draw 1..nargs inputs
    count = draw_int(1, domain.nargs)
    if kind == "stack":
        return [draw_shape(draw_int, rank)] * count
    if kind == "concat":
        # equal shapes except along the last axis (the axis the op's params join along)
        base = draw_shape(draw_int, max(rank, 1))
        return [(*base[:-1], draw_int(1, MAX_SIDE)) for _ in range(count)]
    raise ValueError(f"Domain: unknown shapes kind {kind!r}")


# --------------------------------------------------------------------------- values
def allowed_intervals(
    low: float, high: float, avoid: Sequence[float], margin: float
) -> list[tuple[float, float]]:
    """``[low, high]`` without the open intervals ``(a - margin, a + margin)`` for ``a`` in
    ``avoid``, as sorted disjoint closed intervals.

    Raises
    ------
    ValueError
        When nothing of ``[low, high]`` is left.
    """
    if not low <= high:
        raise ValueError(f"Domain: low={low} is greater than high={high}")
    pieces = [(float(low), float(high))]
    for a in sorted(avoid):
        cut: list[tuple[float, float]] = []
        for lo, hi in pieces:
            if lo < a - margin:
                cut.append((lo, min(hi, a - margin)))
            if hi > a + margin:
                cut.append((max(lo, a + margin), hi))
        pieces = cut
    if not pieces:
        raise ValueError(
            f"Domain: [{low}, {high}] holds no value at least {margin} away from {tuple(avoid)}"
        )
    return pieces


def _to_intervals(t: np.ndarray, pieces: list[tuple[float, float]]) -> np.ndarray:
    """Map positions ``t`` in ``[0, total length]`` monotonically onto the union ``pieces``.

    The map is an isometry inside each piece and jumps over the holes, so it never brings
    two values closer together.
    """
    lengths = np.array([hi - lo for lo, hi in pieces])
    starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
    which = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(pieces) - 1)
    lows = np.array([lo for lo, _ in pieces])
    highs = np.array([hi for _, hi in pieces])
    values: np.ndarray = np.minimum(lows[which] + (t - starts[which]), highs[which])
    return values


def draw_values(
    source: Source,
    shapes: Sequence[Shape],
    low: float,
    high: float,
    avoid: Sequence[float] = (),
    margin: float = 0.1,
    distinct: bool = False,
) -> list[np.ndarray]:
    """Draw one float64 array per shape, with values in the allowed set (see the module doc).

    With ``distinct`` every value of every array differs from every other by at least
    ``margin``, or by ``length / count`` when the allowed set is too short to fit them all
    that far apart (still far beyond any finite-difference step).
    """
    pieces = allowed_intervals(low, high, avoid, margin)
    length = sum(hi - lo for lo, hi in pieces)
    sizes = [math.prod(s) for s in shapes]
    total = sum(sizes)
    units = source.draw_unit(total) if total else np.zeros(0)
    if distinct and total > 1:
        gap = min(margin, length / total)
        order = np.argsort(units, kind="stable")
        positions = np.empty(total)
        # the k-th smallest keeps its drawn place in the shortened range, shifted by k gaps
        positions[order] = np.sort(units) * (length - (total - 1) * gap) + np.arange(total) * gap
    else:
        positions = units * length
    values = _to_intervals(positions, pieces)
    result = []
    start = 0
    for shape, size in zip(shapes, sizes):
        result.append(values[start : start + size].reshape(shape))
        start += size
    return result


def draw_op_case(
    op: type[Op], source: Source, dtype: DTypeLike = np.float64, edge: str | None = None
) -> OpCase:
    """Draw inputs and parameters for ``op`` from its domain.

    ``edge`` asks for an edge case instead of an interior one (see :data:`EDGE_KINDS`):

    - ``"edges"``: about half the elements (and always at least one) are exactly one of the
      domain's smooth ``edges``; ``edge_constants`` inputs are drawn from their values and
      become nondiff;
    - ``"kinks"``: the same with the domain's ``kinks`` (parameter names resolved);
    - ``"ties"``: values from a few points only, and a tie forced (see :func:`force_tie`);
    - ``"empty"``: at least one input has a zero-length dimension.

    Raises
    ------
    Reject
        When the op's ``params`` function offers nothing for the drawn shapes (or an empty
        draw came out non-empty).
    ValueError
        When ``edge`` does not apply to the op's domain.
    """
    domain = op.domain
    if edge is not None and edge not in edge_kinds(domain):
        raise ValueError(f"{op.name}: its Domain declares no {edge!r} edge cases "
                         f"(it has {edge_kinds(domain)})")
    if edge == "empty":
        # an empty array has a dimension: draw at least one (a Domain's own shape function
        # gets side lengths that may be 0 instead)
        ranked = domain if callable(domain.shapes) else replace(domain,
                                                                 min_rank=max(domain.min_rank, 1))
        shapes = _domain_shapes(ranked, sides_may_be_empty(source.draw_int))
    elif edge is not None and not callable(domain.shapes) and source.draw_int(0, 3):
        # three edge cases in four have a dimension, so an edge value shares a slice with
        # others (prod of [0, 2, 3]); the fourth may be 0-d
        shapes = _domain_shapes(replace(domain, min_rank=max(domain.min_rank, 1)),
                                source.draw_int)
    else:
        shapes = _domain_shapes(domain, source.draw_int)
    if edge == "empty" and all(math.prod(s) for s in shapes):
        shapes = _emptied(shapes, domain, source.draw_int)
    params: dict[str, Any] = {}
    if domain.params is not None:
        choices = domain.params(shapes)
        if not choices:
            raise Reject(f"{op.name}: no parameters fit the shapes {shapes}")
        params = dict(choices[source.draw_int(0, len(choices) - 1)])
    kinks = domain.kink_points(params)
    avoid = (*domain.avoid, *(point for point, _ in kinks))
    inputs: list[np.ndarray | None] = [None] * len(shapes)
    numeric = list(range(len(shapes)))
    if domain.shapes == "where":
        # the condition is boolean; both outcomes should occur, so it is a fair coin per element
        inputs[0] = np.asarray(draw_values(source, [shapes[0]], 0.0, 1.0)[0] > 0.5)
        numeric.remove(0)
    # inputs sharing a range are drawn together, so ``distinct`` holds across them
    groups: dict[tuple[float, float], list[int]] = {}
    for i in numeric:
        groups.setdefault(domain.ranges.get(i, (domain.low, domain.high)), []).append(i)
    edge_values = domain.edge_values()
    for (low, high), members in groups.items():
        member_shapes = [shapes[i] for i in members]
        if edge == "ties":
            grid = tie_grid(low, high, [v for i in members for v in edge_values.get(i, ())])
            drawn = [_from_grid(source, s, grid) for s in member_shapes]
        else:
            drawn = draw_values(source, member_shapes, low, high, avoid, domain.margin,
                                domain.distinct)
        if edge == "edges":
            points = [() if i in domain.edge_constants else edge_values.get(i, ())
                      for i in members]
            drawn = place_points(source, drawn, points, once=domain.distinct)
        elif edge == "kinks":
            drawn = place_points(source, drawn, [[p for p, _ in kinks]] * len(members))
        for i, values in zip(members, drawn):
            inputs[i] = values
    nondiff = set(domain.nondiff)
    if edge == "edges":
        for i, constants in domain.edge_constants.items():
            shape = shapes[i]
            inputs[i] = _from_grid(source, shape, sorted(constants))
            nondiff.add(i)
    if edge == "ties" and not force_tie(source, inputs, domain.shapes, params,  # type: ignore[arg-type]
                                        numeric):
        raise Reject(f"{op.name}: no tie fits in the shapes {shapes} with {params}")
    arrays = tuple(a if i not in numeric else a.astype(dtype)  # type: ignore[union-attr]
                   for i, a in enumerate(inputs))
    assert all(a is not None for a in arrays) and len(arrays) == len(shapes)
    return OpCase(op, arrays, params, tuple(sorted(nondiff)), edge)  # type: ignore[arg-type]


def _emptied(shapes: list[Shape], domain: Domain, draw_int: DrawInt) -> list[Shape]:
    """``shapes`` with one axis (aligned from the right) made 0 wherever it is not 1, which
    keeps broadcastable, equal and concatenable shapes so; shape relations this cannot keep
    (matmul's, an op's own function) are drawn again instead."""
    rank = max(len(s) for s in shapes)
    if callable(domain.shapes) or domain.shapes == "matmul" or rank == 0:
        raise Reject(f"no input of {shapes} is empty")
    k = draw_int(1, rank)  # the k-th axis from the right
    having = [i for i, s in enumerate(shapes) if len(s) >= k]
    chosen = having
    if domain.shapes in ("broadcast", "where"):
        # a size-1 dimension broadcasts against 0: keep some, to exercise that too
        chosen = [i for i in having if shapes[i][-k] != 1] or having[:1]
    return [(*s[:-k], 0, *s[len(s) - k + 1:]) if i in chosen else s for i, s in enumerate(shapes)]


def _from_grid(source: Source, shape: Shape, grid: Sequence[float]) -> np.ndarray:
    """An array of ``shape`` whose every element is one of ``grid``, drawn uniformly."""
    size = math.prod(shape)
    units = source.draw_unit(size) if size else np.zeros(0)
    index = np.minimum((units * len(grid)).astype(np.int64), len(grid) - 1)
    return np.asarray(grid, dtype=np.float64)[index].reshape(shape)
