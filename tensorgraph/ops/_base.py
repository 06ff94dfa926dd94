"""The op contract: :class:`Op`, :class:`Domain`, :func:`register` and the :data:`REGISTRY`.

An op is a class with a numpy ``forward`` and one VJP per differentiable input, named
``vjp_0``, ``vjp_1``, ... Each VJP receives ``(grad, out, *inputs, **params)`` and returns
the gradient of that input *in the broadcast output shape*; the engine undoes broadcasting.
An op whose inputs' gradients share work may override :meth:`Op.vjp` instead.

The same VJP code runs on ndarrays (ordinary backward) and on Tensors (``create_graph=True``),
so it may only call numpy functions and methods that Tensor implements.

Every op carries a :class:`Domain`: what inputs the test suite may draw for it, and the edges
it must visit on purpose (exact zeros, ties, empty arrays, kinks with their documented
derivative). The registry drives the gradient checks, so registering an op is what puts it
under test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..autograd import apply as _apply

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["REGISTRY", "Domain", "Op", "register"]


@dataclass(frozen=True)
class Domain:
    """The inputs on which an op is defined and smooth, and the edges the tests visit on purpose.

    Parameters
    ----------
    nargs : int
        Number of tensor inputs (for variadic ops: the most the tests draw).
    shapes : str or callable
        How the input shapes relate; one of the names known to
        :func:`tensorgraph.testing.strategies.op_inputs`: ``"broadcast"`` (mutually
        broadcastable), ``"same"``, ``"matmul"``, ``"concat"`` (equal but along one axis),
        ``"stack"`` (equal), ``"where"`` (a boolean condition and two broadcastable operands);
        or a function ``shapes(draw_int) -> list of shapes`` for any other relation, where
        ``draw_int(low, high)`` returns an int in ``[low, high]`` (so the same function
        serves hypothesis and a plain numpy generator). Draw side lengths as
        ``draw_int(1, 4)``: the empty-array draws turn such a draw into 0 half the time.
    low, high : float
        Range for input values.
    ranges : dict
        Per-input overrides of ``(low, high)``.
    avoid : tuple of float
        Kinks and poles: drawn values keep at least ``margin`` away from each (and from
        the points in ``kinks``, which need not be repeated here).
    margin : float
        Distance kept from the points in ``avoid`` and between tied values.
    distinct : bool
        Draw values with no ties (max, min, sort-like ops).
    params : callable, optional
        ``params(shapes) -> list of dict``: the keyword parameter sets valid for the given
        input shapes (axes, targets, ...); the tests draw one.
    nondiff : tuple of int
        Inputs the gradient checks skip (condition arrays, integer indices).
    second_order : bool
        Whether the op's VJP is itself differentiable (checked by gradgradcheck).
    min_rank : int
        Smallest number of dimensions for drawn inputs.
    edges : tuple of float, or dict
        Values where the op *is* smooth that users meet first (exact zeros and ones, an
        identity element): the edge tests place them exactly in the inputs, often, and run
        the finite-difference first- and second-order checks there. A tuple applies to
        every numeric input, a dict ``{i: values}`` to input ``i`` only. Poles never belong
        here.
    edge_constants : dict
        ``{i: values}``: in edge cases input ``i`` is drawn only from ``values`` and held
        constant (not differentiated), as a user's literal would be: power's integer
        exponents, for which ``x ** 0`` and ``x ** 2`` are smooth at ``x = 0`` while ``x ** y``
        is not smooth in ``y`` there.
    kinks : dict
        ``{point: derivative}`` for an elementwise op of one input: where it is not
        differentiable and the derivative its VJP uses there (the documented subgradient
        convention). Either side may name a keyword parameter instead of a number
        (``{"a_min": 1.0}`` for clip, ``{0.0: "negative_slope"}`` for leaky_relu). The
        tests place inputs exactly at each point and assert the VJP equals ``grad *
        derivative`` there; the ordinary draws keep ``margin`` away from the points.
    ties : {None, "share"}
        For selection ops (maximum/minimum elementwise, max/min over ``axis``): ``"share"``
        says tied candidates share the gradient equally. The tests draw ties on purpose and
        check the whole VJP against that rule, computed independently of the op.
    empty : bool
        Whether the registry draws empty arrays and empty axes for the op (it does by
        default); results and gradients must then be arrays of the right shape. ``False``
        for ops that refuse them (max and min of nothing: their public functions are
        tested for a clear error instead) or whose ``params`` cannot describe them.
    """

    nargs: int = 1
    shapes: str | Callable[[Callable[[int, int], int]], Sequence[tuple[int, ...]]] = "broadcast"
    low: float = -3.0
    high: float = 3.0
    ranges: dict[int, tuple[float, float]] = field(default_factory=dict)
    avoid: tuple[float, ...] = ()
    margin: float = 0.1
    distinct: bool = False
    params: Callable[[Sequence[tuple[int, ...]]], list[dict[str, Any]]] | None = None
    nondiff: tuple[int, ...] = ()
    second_order: bool = True
    min_rank: int = 0
    edges: tuple[float, ...] | dict[int, tuple[float, ...]] = ()
    edge_constants: dict[int, tuple[float, ...]] = field(default_factory=dict)
    kinks: dict[float | str, float | str] = field(default_factory=dict)
    ties: str | None = None
    empty: bool = True

    def __post_init__(self) -> None:
        if self.ties not in (None, "share"):
            raise ValueError(f"Domain: ties must be None or 'share', got {self.ties!r}")
        if self.kinks and self.nargs != 1:
            raise ValueError(f"Domain: kinks describe elementwise ops of one input; this "
                             f"domain has nargs={self.nargs}")
        for i in (*self.edge_values(), *self.edge_constants):
            if not 0 <= i < self.nargs:
                raise ValueError(f"Domain: edges name input {i}, but the op has {self.nargs}")

    def edge_values(self) -> dict[int, tuple[float, ...]]:
        """The smooth edge values per numeric input (``edges`` spelled out per input)."""
        if isinstance(self.edges, dict):
            return {i: tuple(v) for i, v in self.edges.items() if v}
        if not self.edges:
            return {}
        return {i: tuple(self.edges) for i in range(self.nargs)}

    def kink_points(self, params: dict[str, Any]) -> list[tuple[float, float]]:
        """``(point, derivative)`` pairs with parameter names resolved (None-valued bounds
        dropped), for the parameters a case was drawn with."""
        pairs = []
        for at, derivative in self.kinks.items():
            point = params.get(at) if isinstance(at, str) else at
            slope = params.get(derivative) if isinstance(derivative, str) else derivative
            if point is not None and slope is not None:
                pairs.append((float(point), float(slope)))
        return pairs


class Op:
    """Base class of every differentiable operation. See the module docstring."""

    name: ClassVar[str]
    domain: ClassVar[Domain]
    nondiff: ClassVar[frozenset[int]] = frozenset()
    saves_ctx: ClassVar[bool] = False
    vjps: ClassVar[tuple[Callable[..., Any], ...]] = ()
    #: set by :func:`register`: the op keeps the default :meth:`vjp` (one ``vjp_i`` per
    #: input), so the engine may call the ``vjp_i`` itself
    vjp_per_input: ClassVar[bool] = False
    #: the numpy callable the forward must agree with, for the forward test
    reference: ClassVar[Callable[..., Any] | None] = None
    #: the keyword parameters that may hold arrays, Tensors, lists or numpy scalars (an
    #: index, labels, a clip bound, a slope): a recorded node keeps a copy of those, so that
    #: the caller changing theirs cannot change the gradient. ``None`` (the default, for an op
    #: that does not say) checks every parameter; an empty set declares them all plain Python
    #: values (axes, flags), which saves the check on every call.
    array_params: ClassVar[frozenset[str] | None] = None
    #: set by :func:`register`, for the engine's fast path: no input is ``nondiff``, and the
    #: parameters are all plain Python values (``array_params`` is empty)
    plain_inputs: ClassVar[bool] = False
    plain_params: ClassVar[bool] = False

    forward: ClassVar[Callable[..., Any]]

    @classmethod
    def vjp(
        cls,
        grad: Any,
        out: Any,
        inputs: Sequence[Any],
        needs: Sequence[bool],
        params: dict[str, Any],
        ctx: Any,
    ) -> Sequence[Any]:
        """Return the gradient of every input that needs one (None for the others)."""
        return [
            f(grad, out, *inputs, **params) if need else None
            for f, need in zip(cls.vjps, needs)
        ]

    @classmethod
    def apply(cls, *args: Any, **params: Any) -> Tensor:
        """Run the op on Tensors, arrays or scalars; record it when gradients are wanted."""
        return _apply(cls, args, params)


#: Every registered op by name; the test suite iterates over it.
REGISTRY: dict[str, type[Op]] = {}


def register(cls: type[Op]) -> type[Op]:
    """Class decorator: collect ``vjp_0..vjp_k`` and add the op to :data:`REGISTRY`."""
    for attribute in ("name", "domain", "forward"):
        if not hasattr(cls, attribute):
            raise TypeError(f"register: op class {cls.__name__} has no {attribute!r}; every op "
                            f"needs a name, a Domain and a forward (see docs/adding-an-op.md)")
    if cls.name in REGISTRY:
        raise ValueError(f"register: an op named {cls.name!r} is already registered")
    vjps = []
    i = 0
    while hasattr(cls, f"vjp_{i}"):
        vjps.append(getattr(cls, f"vjp_{i}"))
        i += 1
    if vjps:
        cls.vjps = tuple(vjps)
    elif cls.vjp.__func__ is Op.vjp.__func__:  # type: ignore[attr-defined]
        raise TypeError(f"register: op {cls.name!r} defines neither vjp_0.. nor vjp()")
    cls.vjp_per_input = cls.vjp.__func__ is Op.vjp.__func__  # type: ignore[attr-defined]
    cls.nondiff = frozenset(cls.domain.nondiff)
    cls.plain_inputs = not cls.nondiff
    cls.plain_params = cls.array_params is not None and not cls.array_params
    REGISTRY[cls.name] = cls
    return cls
