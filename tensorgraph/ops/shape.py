r"""Shape ops: views, rearrangements, joins and indexing.

Only a few are primitives with their own VJP: reshape, transpose, broadcast_to,
concatenate, stack, getitem (with its adjoint scatter), pad and astype. The others
(swapaxes, expand_dims, squeeze, flatten, permute, split) are compositions of these, so
their gradients need no code of their own.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike

from ..broadcast import normalize_axis
from ..errors import DTypeError, ShapeError

if TYPE_CHECKING:
    from ..tensor import Tensor

from ._base import Domain, Op, register

__all__ = [
    "astype", "broadcast_to", "concatenate", "expand_dims", "flatten", "getitem", "pad",
    "permute", "reshape", "split", "squeeze", "stack", "swapaxes", "transpose",
]  # fmt: skip


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


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
    target = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
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
        asked = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {source} "
                         f"({size} elements) into {asked}")
    return Reshape.apply(x, shape=target)


def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    """Insert size-1 axes at ``axis`` (numpy's rules): a reshape."""
    source = _shape(x)
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
        perm = tuple(int(a) % max(ndim, 1) if -ndim <= a < ndim else -1 for a in axes)
        if sorted(perm) != list(range(ndim)):
            raise ShapeError(f"transpose: axes {tuple(axes)} are not a permutation of the "
                             f"{ndim} axes of shape {_shape(x)}")
    return Transpose.apply(x, axes=perm)


permute = transpose


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes: a transpose."""
    ndim = len(_shape(x))
    (a,) = normalize_axis(axis1, ndim, "swapaxes")
    (b,) = normalize_axis(axis2, ndim, "swapaxes")
    perm = list(range(ndim))
    perm[a], perm[b] = perm[b], perm[a]
    return Transpose.apply(x, axes=tuple(perm))


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
                                           {"shape": (3, *[max(s, 1) for s in shapes[0]])}])

    @staticmethod
    def forward(x: Any, shape: tuple[int, ...] = ()) -> Any:
        return np.broadcast_to(x, shape)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, shape: tuple[int, ...] = ()) -> Any:
        return grad


def broadcast_to(x: Any, shape: int | Sequence[int]) -> Tensor:
    """Broadcast ``x`` to ``shape`` (numpy's rules); see :class:`BroadcastTo`."""
    target = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    source = _shape(x)
    lead = len(target) - len(source)
    if lead < 0 or any(s not in (1, t) for s, t in zip(source, target[lead:])):
        raise ShapeError(f"broadcast_to: cannot broadcast shape {source} to {target}")
    return BroadcastTo.apply(x, shape=target)


# --------------------------------------------------------------------------- joins
def _along(axis: int, index: Any) -> tuple[Any, ...]:
    return (slice(None),) * axis + (index,)


@register
class Concatenate(Op):
    r"""Join tensors along an existing axis. The VJP slices :math:`\bar z` back into pieces.

    >>> import tensorgraph as tg
    >>> tg.concatenate([tg.ones(2), tg.zeros(3)]).shape
    (5,)
    """

    name = "concatenate"
    array_params = frozenset()
    domain = Domain(nargs=3, shapes="concat", min_rank=1,
                    params=lambda shapes: [{"axis": shapes[0].__len__() - 1}])

    @staticmethod
    def forward(*xs: Any, axis: int = 0) -> Any:
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def reference(*xs: Any, axis: int = 0) -> Any:
        return np.concatenate(xs, axis=axis)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> list[Any]:
        axis = params["axis"]
        grads: list[Any] = []
        start = 0
        for x, need in zip(inputs, needs):
            stop = start + x.shape[axis]
            grads.append(grad[_along(axis, slice(start, stop))] if need else None)
            start = stop
        return grads


@register
class Stack(Op):
    r"""Join equally shaped tensors along a new axis. :math:`\bar x_k = \bar z[..., k, ...]`.

    >>> import tensorgraph as tg
    >>> tg.stack([tg.ones(2), tg.zeros(2)]).shape
    (2, 2)
    """

    name = "stack"
    array_params = frozenset()
    domain = Domain(nargs=3, shapes="stack", params=lambda shapes: [
        {"axis": 0}, {"axis": len(shapes[0])}])

    @staticmethod
    def forward(*xs: Any, axis: int = 0) -> Any:
        return np.stack(xs, axis=axis)

    @staticmethod
    def reference(*xs: Any, axis: int = 0) -> Any:
        return np.stack(xs, axis=axis)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> list[Any]:
        axis = params["axis"]
        return [grad[_along(axis, k)] if need else None for k, need in enumerate(needs)]


def _check_join(name: str, xs: Sequence[Any], axis: int, new_axis: bool) -> int:
    if isinstance(xs, np.ndarray) or not isinstance(xs, (list, tuple)) or not xs:
        raise TypeError(f"{name}: expected a non-empty list or tuple of tensors")
    shapes = [_shape(x) for x in xs]
    ndim = len(shapes[0])
    if any(len(s) != ndim for s in shapes):
        raise ShapeError(f"{name}: all inputs must have the same number of dimensions, got "
                         f"shapes {shapes}")
    (a,) = normalize_axis(axis, ndim + 1 if new_axis else ndim, name)
    for i, s in enumerate(shapes):
        others = [d for j, d in enumerate(s) if new_axis or j != a]
        first = [d for j, d in enumerate(shapes[0]) if new_axis or j != a]
        if others != first:
            where = "" if new_axis else f" except along axis {a}"
            raise ShapeError(f"{name}: input {i} has shape {s}, which differs from input 0's "
                             f"shape {shapes[0]}{where}")
    return a


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join ``xs`` along ``axis``; see :class:`Concatenate`."""
    return Concatenate.apply(*xs, axis=_check_join("concatenate", xs, axis, new_axis=False))


def stack(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Stack ``xs`` along a new ``axis``; see :class:`Stack`."""
    return Stack.apply(*xs, axis=_check_join("stack", xs, axis, new_axis=True))


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split ``x`` into pieces along ``axis`` (numpy's rules): each piece is a getitem."""
    shape = _shape(x)
    (a,) = normalize_axis(axis, len(shape), "split")
    n = shape[a]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ShapeError(f"split: axis {a} of shape {shape} (length {n}) cannot be split "
                             f"into {sections} equal sections")
        bounds = [k * (n // sections) for k in range(sections + 1)]
    else:
        bounds = [0, *[int(i) for i in indices_or_sections], n]
    return [getitem(x, _along(a, slice(lo, max(lo, hi)))) for lo, hi in itertools.pairwise(bounds)]


# --------------------------------------------------------------------------- indexing
def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or (isinstance(p, (slice, int, np.integer))
               and not isinstance(p, bool)) for p in parts)


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
    domain = Domain(params=_getitem_params)

    @staticmethod
    def forward(x: Any, index: Any = ()) -> Any:
        return x[index]

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, index: Any = ()) -> Any:
        return scatter_add(grad, index=index, shape=x.shape)


@register
class ScatterAdd(Op):
    r"""The adjoint of getitem: a zero array of ``shape`` with ``grad`` added at ``index``.

    .. math:: z = \operatorname{scatter\_add}(0, \text{index}, x),\quad
              \bar x = \bar z[\text{index}]

    >>> import numpy as np, tensorgraph as tg
    >>> tg.ops.scatter_add(tg.tensor([1.0, 2.0, 3.0]), np.array([0, 2, 0]), (3,))
    tensor([4., 0., 2.], dtype=float32)
    """

    name = "scatter_add"
    array_params = frozenset({"index"})
    domain = Domain(params=lambda shapes: [{"index": 0, "shape": (3, *shapes[0])},
                                           {"index": np.array([0, 2, 0]),
                                            "shape": (3, *shapes[0])}],
                    min_rank=0)

    @staticmethod
    def forward(x: Any, index: Any = (), shape: tuple[int, ...] = ()) -> Any:
        result = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            result[index] = x
        else:
            np.add.at(result, index, x)
        return result

    @staticmethod
    def reference(x: Any, index: Any = (), shape: tuple[int, ...] = ()) -> Any:
        result = np.zeros(shape, dtype=x.dtype)
        np.add.at(result, index, x)
        return result

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, index: Any = (), shape: tuple[int, ...] = ()) -> Any:
        return grad[index]


def _normalize_index(index: Any) -> Any:
    from ..tensor import Tensor

    if isinstance(index, Tensor):
        return index.numpy()
    if isinstance(index, list):
        return np.asarray(index)
    if isinstance(index, tuple):
        return tuple(_normalize_index(i) for i in index)
    return index


def getitem(x: Any, index: Any) -> Tensor:
    """Index ``x`` as numpy would; see :class:`Getitem`."""
    index = _normalize_index(index)
    try:
        np.empty(_shape(x), dtype=np.bool_)[index]
    except IndexError as err:
        raise ShapeError(f"getitem: index {index!r} is invalid for shape {_shape(x)}: {err}") \
            from None
    return Getitem.apply(x, index=index)


def scatter_add(x: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Return zeros of ``shape`` with ``x`` added at ``index``; works on arrays and Tensors."""
    from ..tensor import Tensor

    if isinstance(x, Tensor):
        return ScatterAdd.apply(x, index=index, shape=tuple(shape))
    return ScatterAdd.forward(x, index=index, shape=tuple(shape))


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
    ndim = len(_shape(x))
    if ndim == 0:
        raise ShapeError("pad: cannot pad a 0-d tensor (numpy.pad cannot either)")
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
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
