"""The op contract: :class:`Op`, :class:`Domain`, :func:`register` and the :data:`REGISTRY`.

An op is a class with a numpy ``forward`` and one VJP per differentiable input, named
``vjp_0``, ``vjp_1``, ... Each VJP receives ``(grad, out, *inputs, **params)`` and returns
the gradient of that input *in the broadcast output shape*; the engine undoes broadcasting.
An op whose inputs' gradients share work may override :meth:`Op.vjp` instead.

The same VJP code runs on ndarrays (ordinary backward) and on Tensors (``create_graph=True``),
so it may only call numpy functions and methods that Tensor implements.

Every op carries a :class:`Domain`: what inputs the test suite may draw for it. The registry
drives the gradient checks, so registering an op is what puts it under test.
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
    """The inputs on which an op is defined and smooth, for drawing test cases.

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
        serves hypothesis and a plain numpy generator).
    low, high : float
        Range for input values.
    ranges : dict
        Per-input overrides of ``(low, high)``.
    avoid : tuple of float
        Kinks and poles: drawn values keep at least ``margin`` away from each.
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
    REGISTRY[cls.name] = cls
    return cls
