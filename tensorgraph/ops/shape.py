r"""Shape ops: reshapes, axis permutations, broadcasting, padding and casts.

The primitives here are reshape, transpose, broadcast_to, pad and astype. The others
(expand_dims, squeeze, flatten, ravel, atleast_1d/2d/3d, permute, swapaxes, moveaxis) are
compositions of reshape and transpose, so their gradients need no code of their own.
Joins and splits live in :mod:`.join`, indexing and sorting in :mod:`.indexing`, and the
reorderings (flip, roll, rot90, repeat, tile) in :mod:`.reorder`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from ..broadcast import as_index, as_shape, normalize_axis, single_axis
from ..errors import DomainError, DTypeError, ShapeError

if TYPE_CHECKING:
    from ..tensor import Tensor

from ._base import Domain, Op, register

__all__ = [
    "astype", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to", "expand_dims",
    "flatten", "moveaxis", "pad", "permute", "ravel", "reshape", "squeeze", "swapaxes",
    "transpose",
]  # fmt: skip


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _along(axis: int, index: Any) -> tuple[Any, ...]:
    """The index that applies ``index`` along ``axis`` (every earlier axis whole)."""
    return (slice(None),) * axis + (index,)


def _normalize_index(index: Any) -> Any:
    """An index as numpy takes it: Tensors become their arrays, lists become arrays."""
    from ..tensor import Tensor

    if isinstance(index, Tensor):
        return index.numpy()
    if isinstance(index, list):
        return np.asarray(index)
    if isinstance(index, tuple):
        return tuple(_normalize_index(i) for i in index)
    return index


# --------------------------------------------------------------------------- reshape
def _reshape_params(shapes: Any) -> list[dict[str, Any]]:
    shape = shapes[0]
    size = math.prod(shape)
    return [{"shape": (size,)}, {"shape": (1, size)}, {"shape": tuple(reversed(shape))},
            {"shape": (*shape, 1)}]


@register
class Reshape(Op):
    r"""Give the array a new shape with the same elements.
    :math:`\bar x = \operatorname{reshape}(\bar z, \text{shape of } x)`.

    >>> import tensorgraph as tg
    >>> tg.reshape(tg.arange(6.0), (2, 3)).shape
    (2, 3)
    """

    name = "reshape"
    array_params = frozenset()
    domain = Domain(params=_reshape_params)

    @staticmethod
    def forward(x: Any, shape: tuple[int, ...] = ()) -> Any:
        return np.reshape(x, shape)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, shape: tuple[int, ...] = ()) -> Any:
        return grad.reshape(x.shape)


def reshape(x: Any, shape: int | Sequence[int]) -> Tensor:
    """Reshape ``x`` (one ``-1`` entry is inferred); see :class:`Reshape`."""
    target = as_shape(shape, "reshape")
    source = _shape(x)
    size = math.prod(source)
    unknown = [i for i, s in enumerate(target) if s == -1]
    known = math.prod(s for s in target if s != -1)
    bad = len(unknown) > 1 or any(s < -1 for s in target)
    if not bad and unknown:
        bad = known == 0 or size % known != 0
        if not bad:
            target = tuple(size // known if s == -1 else s for s in target)
    if bad or math.prod(target) != size:
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {source} "
                         f"({size} elements) into {as_shape(shape, 'reshape')}")
    return Reshape.apply(x, shape=target)


def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    """Insert size-1 axes at ``axis`` (numpy's rules): a reshape."""
    source = _shape(x)
    if axis is None:
        raise TypeError("expand_dims: axis must be an int or a tuple of ints, got None")
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes_n = normalize_axis(axes, len(source) + len(axes), "expand_dims")
    rest = iter(source)
    target = tuple(1 if i in axes_n else next(rest) for i in range(len(source) + len(axes)))
    return Reshape.apply(x, shape=target)


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """Remove size-1 axes (all of them, or those in ``axis``): a reshape."""
    source = _shape(x)
    if axis is None:
        axes = tuple(i for i, s in enumerate(source) if s == 1)
    else:
        axes = normalize_axis(axis, len(source), "squeeze")
        for a in axes:
            if source[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {source} has size {source[a]}, not 1")
    return Reshape.apply(x, shape=tuple(s for i, s in enumerate(source) if i not in axes))


def flatten(x: Any) -> Tensor:
    """Return the elements as a 1-d tensor (row-major order): a reshape."""
    return Reshape.apply(x, shape=(math.prod(_shape(x)),))


def ravel(a: Any, order: str = "C") -> Tensor:
    """Return the elements as a 1-d tensor, as ``numpy.ravel`` (row-major only): a reshape.

    >>> import tensorgraph as tg
    >>> tg.ravel(tg.ones((2, 3))).shape
    (6,)
    """
    if order != "C":
        raise DomainError(f"ravel: only order='C' is supported on Tensors, got order={order!r}")
    return flatten(a)


def _atleast(name: str, ndim: int, arys: tuple[Any, ...]) -> Any:
    from ..tensor import Tensor

    results: list[Any] = []
    for a in arys:
        t = a if isinstance(a, Tensor) else Tensor(np.asarray(a))
        shape = t.shape
        if len(shape) >= ndim:
            results.append(t)  # as numpy: the argument itself when it has enough axes
        elif ndim == 3 and len(shape) == 2:
            results.append(Reshape.apply(t, shape=(*shape, 1)))
        elif ndim == 3 and len(shape) == 1:
            results.append(Reshape.apply(t, shape=(1, *shape, 1)))
        else:
            results.append(Reshape.apply(t, shape=(1,) * (ndim - len(shape)) + shape))
    if not results:
        raise TypeError(f"{name}: expected at least one tensor")
    return results[0] if len(results) == 1 else tuple(results)


def atleast_1d(*arys: Any) -> Any:
    """View each input with at least one axis (numpy's rules): a reshape.

    One input gives a tensor, several a tuple of tensors, as ``numpy.atleast_1d``.

    >>> import tensorgraph as tg
    >>> tg.atleast_1d(tg.tensor(2.0)).shape
    (1,)
    """
    return _atleast("atleast_1d", 1, arys)


def atleast_2d(*arys: Any) -> Any:
    """View each input with at least two axes: ``(n,)`` becomes ``(1, n)``.

    >>> import tensorgraph as tg
    >>> tg.atleast_2d(tg.ones(3)).shape
    (1, 3)
    """
    return _atleast("atleast_2d", 2, arys)


def atleast_3d(*arys: Any) -> Any:
    """View each input with at least three axes: ``(n,)`` becomes ``(1, n, 1)`` and
    ``(m, n)`` becomes ``(m, n, 1)``, as ``numpy.atleast_3d``.

    >>> import tensorgraph as tg
    >>> tg.atleast_3d(tg.ones((2, 3))).shape
    (2, 3, 1)
    """
    return _atleast("atleast_3d", 3, arys)


# --------------------------------------------------------------------------- transpose
def _transpose_params(shapes: Any) -> list[dict[str, Any]]:
    n = len(shapes[0])
    return [{"axes": tuple(reversed(range(n)))}, {"axes": (*range(1, n), 0) if n else ()}]


@register
class Transpose(Op):
    r"""Permute the axes. :math:`\bar x = \operatorname{transpose}(\bar z, \text{axes}^{-1})`.

    >>> import tensorgraph as tg
    >>> tg.transpose(tg.ones((2, 3))).shape
    (3, 2)
    """

    name = "transpose"
    array_params = frozenset()
    domain = Domain(params=_transpose_params)

    @staticmethod
    def forward(x: Any, axes: tuple[int, ...] = ()) -> Any:
        return np.transpose(x, axes)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axes: tuple[int, ...] = ()) -> Any:
        return np.transpose(grad, tuple(int(i) for i in np.argsort(axes)))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None); see :class:`Transpose`."""
    ndim = len(_shape(x))
    if axes is None:
        perm = tuple(reversed(range(ndim)))
    else:
        given = tuple(as_index(a, "transpose", "an axis") for a in axes)
        perm = tuple(a % ndim if -ndim <= a < ndim else -1 for a in given)
        if sorted(perm) != list(range(ndim)):
            raise ShapeError(f"transpose: axes {tuple(axes)} are not a permutation of the "
                             f"{ndim} axes of shape {_shape(x)}")
    return Transpose.apply(x, axes=perm)


permute = transpose


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes: a transpose."""
    ndim = len(_shape(x))
    a = single_axis(axis1, ndim, "swapaxes")
    b = single_axis(axis2, ndim, "swapaxes")
    perm = list(range(ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return Transpose.apply(x, axes=tuple(perm))


def moveaxis(a: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move axes to new positions, the others keeping their order: a transpose.

    >>> import tensorgraph as tg
    >>> tg.moveaxis(tg.ones((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    ndim = len(_shape(a))
    src = _axes_in_order(source, ndim, "moveaxis", "source")
    dst = _axes_in_order(destination, ndim, "moveaxis", "destination")
    if len(src) != len(dst):
        raise ShapeError(f"moveaxis: source {source!r} and destination {destination!r} must "
                         f"name the same number of axes")
    order = [n for n in range(ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Transpose.apply(a, axes=tuple(order))


def _axes_in_order(axis: Any, ndim: int, op: str, what: str) -> tuple[int, ...]:
    """Axes as given (order kept, unlike normalize_axis), non-negative and distinct."""
    given = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = tuple(single_axis(a, ndim, op) for a in given)
    if len(set(result)) != len(result):
        raise ShapeError(f"moveaxis: repeated axis in {what} {axis!r}")
    return result


# --------------------------------------------------------------------------- broadcast_to
@register
class BroadcastTo(Op):
    r"""Broadcast to ``shape``. The VJP returns :math:`\bar z` as is: the engine's
    ``sum_to`` sums it back over the broadcast axes.

    >>> import tensorgraph as tg
    >>> tg.broadcast_to(tg.tensor([1.0, 2.0]), (3, 2)).shape
    (3, 2)
    """

    name = "broadcast_to"
    array_params = frozenset()
    domain = Domain(params=lambda shapes: [{"shape": (2, *shapes[0])},
                                           {"shape": (3, *shapes[0])}])

    @staticmethod
    def forward(x: Any, shape: tuple[int, ...] = ()) -> Any:
        return np.broadcast_to(x, shape)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, shape: tuple[int, ...] = ()) -> Any:
        return grad


def broadcast_to(x: Any, shape: int | Sequence[int]) -> Tensor:
    """Broadcast ``x`` to ``shape`` (numpy's rules); see :class:`BroadcastTo`."""
    target = as_shape(shape, "broadcast_to")
    source = _shape(x)
    lead = len(target) - len(source)
    if (lead < 0 or any(t < 0 for t in target)
            or any(s not in (1, t) for s, t in zip(source, target[lead:]))):
        raise ShapeError(f"broadcast_to: cannot broadcast shape {source} to {target}")
    return BroadcastTo.apply(x, shape=target)


# --------------------------------------------------------------------------- pad
@register
class Pad(Op):
    r"""Pad with a constant. :math:`\bar x = \bar z[\text{the interior}]`.

    >>> import tensorgraph as tg
    >>> tg.pad(tg.ones(2), 1).shape
    (4,)
    """

    name = "pad"
    array_params = frozenset({"constant_values"})
    domain = Domain(min_rank=1, params=lambda shapes: [
        {"pad_width": tuple((1, 2) for _ in shapes[0]), "constant_values": 0.0},
        {"pad_width": tuple((0, 1) for _ in shapes[0]), "constant_values": 1.5}])

    @staticmethod
    def forward(x: Any, pad_width: tuple[tuple[int, int], ...] = (),
                constant_values: float = 0.0) -> Any:
        return np.pad(x, pad_width, mode="constant", constant_values=constant_values)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, pad_width: tuple[tuple[int, int], ...] = (),
              constant_values: float = 0.0) -> Any:
        return grad[tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))]


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0.0) -> Tensor:
    """Pad ``x`` with ``constant_values`` (numpy's ``pad_width`` forms); see :class:`Pad`."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got mode={mode!r}")
    if getattr(constant_values, "requires_grad", False):
        raise TypeError("pad: constant_values is a tensor that requires grad, but pad carries "
                        "no gradient to it; pass a number (or .detach() it)")
    ndim = len(_shape(x))
    if ndim == 0:
        raise ShapeError("pad: cannot pad a 0-d tensor (numpy.pad cannot either)")
    given = np.asarray(pad_width)
    if given.dtype.kind not in "iu":  # numpy: "`pad_width` must be of integral type"
        raise TypeError(f"pad: pad_width must be ints, got {pad_width!r}")
    try:
        widths = np.broadcast_to(given.astype(np.int64), (ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit a {ndim}-d tensor") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width {pad_width!r} has negative entries")
    return Pad.apply(x, pad_width=tuple((int(a), int(b)) for a, b in widths),
                     constant_values=float(constant_values))


# --------------------------------------------------------------------------- astype
@register
class Astype(Op):
    r"""Cast to another floating dtype. :math:`\bar x = \bar z` cast back to x's dtype.

    >>> import numpy as np, tensorgraph as tg
    >>> tg.astype(tg.ones(2), np.float64).dtype
    dtype('float64')
    """

    name = "astype"
    array_params = frozenset()
    domain = Domain(params=lambda shapes: [{"dtype": np.dtype(np.float64)}], second_order=True)

    @staticmethod
    def forward(x: Any, dtype: Any = None) -> Any:
        return x.astype(dtype)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, dtype: Any = None) -> Any:
        return grad.astype(x.dtype)


def astype(x: Any, dtype: DTypeLike) -> Tensor:
    """Cast ``x`` to ``dtype``; differentiable between floating dtypes."""
    from ..tensor import Tensor

    target = np.dtype(dtype)
    if isinstance(x, Tensor) and x.requires_grad and target.kind != "f":
        raise DTypeError(f"astype: casting a tensor that requires grad to {target} would cut "
                         f"its gradient; use .detach().astype({target}) to say so")
    return Astype.apply(x, dtype=target)


FUNCTIONS: dict[Any, Any] = {
    np.moveaxis: moveaxis, np.ravel: ravel, np.atleast_1d: atleast_1d,
    np.atleast_2d: atleast_2d, np.atleast_3d: atleast_3d,
}
