r"""Products: ``matmul`` (the registered op) and the numpy products composed from it
(``dot``, ``vdot``, ``inner``, ``outer``, ``tensordot``, ``kron``).

The compositions are numpy's own algorithms written with registered ops (transpose and
reshape around one matrix product, or a broadcast multiply of reshaped views), so they are
exact, run the same BLAS call numpy would, and their derivatives of every order come from the
ops they are made of.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ShapeError

if TYPE_CHECKING:
    from ..tensor import Tensor

from ._base import Domain, Op, register
from .elementwise import check_args, multiply

__all__ = ["FUNCTIONS", "dot", "inner", "kron", "matmul", "outer", "tensordot", "vdot"]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


@register
class Matmul(Op):
    r"""Matrix product :math:`Z = X Y` with numpy's rules for 1-D and batched operands.

    .. math:: \bar X = \bar Z\, Y^\top,\qquad \bar Y = X^\top \bar Z

    A 1-D left operand is treated as a row (its axis is removed again from
    :math:`\bar X`), a 1-D right operand as a column; batch axes broadcast, and the engine
    sums the gradient back over them.

    >>> import tensorgraph as tg
    >>> (tg.ones((2, 3)) @ tg.ones((3, 4))).shape
    (2, 4)
    """

    name = "matmul"
    domain = Domain(nargs=2, shapes="matmul")
    reference = np.matmul
    forward = staticmethod(np.matmul)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        if x.ndim == 1 and y.ndim == 1:  # inner product: grad is 0-d
            return grad * y
        if y.ndim == 1:
            grad = np.expand_dims(grad, -1)
            y = np.expand_dims(y, 0)
        else:
            y = np.swapaxes(y, -1, -2)
        if x.ndim == 1:
            return np.squeeze(np.expand_dims(grad, -2) @ y, -2)
        return grad @ y

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        if x.ndim == 1 and y.ndim == 1:
            return grad * x
        if x.ndim == 1:
            grad = np.expand_dims(grad, -2)
            x = np.expand_dims(x, -1)
        else:
            x = np.swapaxes(x, -1, -2)
        if y.ndim == 1:
            return np.squeeze(x @ np.expand_dims(grad, -1), -1)
        return x @ grad


def matmul(x: Any, y: Any) -> Tensor:
    """Matrix product of ``x`` and ``y`` (``x @ y``); see :class:`Matmul`."""
    check_args("matmul", x, y)
    a, b = _shape(x), _shape(y)
    if not a or not b:
        raise ShapeError(f"matmul: operands must have at least 1 dimension, got {a} @ {b}")
    if a[-1] != b[-2 if len(b) > 1 else 0]:
        raise ShapeError(f"matmul: inner dimensions differ: {a} @ {b}")
    try:
        np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        raise ShapeError(f"matmul: batch dimensions do not broadcast: {a} @ {b}") from None
    return Matmul.apply(x, y)


# --------------------------------------------------------------------------- compositions
def _axes_list(value: Any, ndim: int, name: str, which: str) -> list[int]:
    values = [value] if isinstance(value, (int, np.integer)) else list(value)
    result = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name}: axes of {which} must be ints, got {value!r}")
        if not -ndim <= v < ndim:
            raise ShapeError(f"{name}: axis {v} is out of range for {which} with {ndim} "
                             f"dimension(s)")
        result.append(int(v) % ndim)
    if len(set(result)) != len(result):
        raise ShapeError(f"{name}: repeated axis in {value!r} for {which}")
    return result


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    r"""Sum products over the given axes, as ``numpy.tensordot``.

    ``axes`` is an int N (the last N axes of ``a`` with the first N of ``b``) or a pair of
    sequences (or ints) naming the axes to contract. Computed as numpy does: both operands
    transposed and reshaped to matrices, one :func:`matmul`, a reshape back; the gradients
    are those of these ops (:math:`\bar A = \bar Z B^\top`, :math:`\bar B = A^\top \bar Z`
    on the matrices).

    >>> import tensorgraph as tg
    >>> tg.tensordot(tg.ones((2, 3, 4)), tg.ones((3, 4, 5))).shape
    (2, 5)
    """
    from .shape import reshape, transpose

    check_args("tensordot", a, b)
    sa, sb = _shape(a), _shape(b)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, (bool, np.bool_)):
        n = int(axes)
        if n < 0 or n > len(sa) or n > len(sb):
            raise ShapeError(f"tensordot: axes={n} is out of range for shapes {sa} and {sb}")
        axes_a, axes_b = list(range(len(sa) - n, len(sa))), list(range(n))
    else:
        try:
            first, second = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair of sequences, got "
                            f"{axes!r}") from None
        axes_a = _axes_list(first, len(sa), "tensordot", f"a (shape {sa})")
        axes_b = _axes_list(second, len(sb), "tensordot", f"b (shape {sb})")
        if len(axes_a) != len(axes_b):
            raise ShapeError(f"tensordot: {len(axes_a)} axes of a but {len(axes_b)} of b "
                             f"({axes!r})")
    for i, j in zip(axes_a, axes_b):
        if sa[i] != sb[j]:
            raise ShapeError(f"tensordot: shape mismatch for sum: a{sa} axis {i} has "
                             f"{sa[i]}, b{sb} axis {j} has {sb[j]}")
    free_a = [i for i in range(len(sa)) if i not in axes_a]
    free_b = [j for j in range(len(sb)) if j not in axes_b]
    inner_size = math.prod(sa[i] for i in axes_a)
    perm_a, perm_b = free_a + axes_a, axes_b + free_b
    x = a if perm_a == sorted(perm_a) else transpose(a, perm_a)
    y = b if perm_b == sorted(perm_b) else transpose(b, perm_b)
    x = reshape(x, (math.prod(sa[i] for i in free_a), inner_size))
    y = reshape(y, (inner_size, math.prod(sb[j] for j in free_b)))
    return reshape(matmul(x, y), tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


def dot(a: Any, b: Any) -> Tensor:
    r"""Dot product, as ``numpy.dot``: a product with a 0-d operand, :func:`matmul` when
    ``b`` is 1-D or neither operand has more than 2 dimensions, otherwise the sum over the
    last axis of ``a`` and the second-to-last of ``b`` (:func:`tensordot`).

    >>> import tensorgraph as tg
    >>> tg.dot(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0]))
    tensor(11., dtype=float32)
    """
    check_args("dot", a, b)
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        return multiply(a, b)
    k = -2 if len(sb) > 1 else 0
    if sa[-1] != sb[k]:
        raise ShapeError(f"dot: shapes {sa} and {sb} not aligned: {sa[-1]} (dim "
                         f"{len(sa) - 1}) != {sb[k]} (dim {k % len(sb)})")
    if len(sb) == 1 or len(sa) == 1 or (len(sa) <= 2 and len(sb) <= 2):
        return matmul(a, b)
    return tensordot(a, b, ([-1], [-2]))


def inner(a: Any, b: Any) -> Tensor:
    r"""Inner product over the last axes, as ``numpy.inner``:
    :math:`z[I, J] = \sum_k a[I, k]\, b[J, k]` (a product with a 0-d operand).

    >>> import tensorgraph as tg
    >>> tg.inner(tg.ones((2, 3)), tg.ones((4, 3))).shape
    (2, 4)
    """
    check_args("inner", a, b)
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        return multiply(a, b)
    if sa[-1] != sb[-1]:
        raise ShapeError(f"inner: the last dimensions of {sa} and {sb} differ")
    if len(sa) == 1 and len(sb) == 1:
        return matmul(a, b)
    return tensordot(a, b, ([-1], [-1]))


def vdot(a: Any, b: Any) -> Tensor:
    r"""Dot product of the flattened operands, as ``numpy.vdot`` on real arrays:
    :math:`z = \sum_i a_i b_i` over every element (sizes must agree).

    >>> import tensorgraph as tg
    >>> tg.vdot(tg.ones((2, 2)), tg.ones(4))
    tensor(4., dtype=float32)
    """
    from .shape import reshape

    check_args("vdot", a, b)
    na, nb = math.prod(_shape(a)), math.prod(_shape(b))
    if na != nb:
        raise ShapeError(f"vdot: operands of {na} and {nb} elements (shapes {_shape(a)} and "
                         f"{_shape(b)}); vdot needs equal sizes")
    return matmul(reshape(a, (na,)), reshape(b, (nb,)))


def outer(a: Any, b: Any) -> Tensor:
    r"""Outer product of the flattened operands, as ``numpy.outer``:
    :math:`z_{ij} = a_i b_j`, a multiply of the views ``a`` as a column and ``b`` as a row.

    >>> import tensorgraph as tg
    >>> tg.outer(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 0.0, 3.0])).shape
    (2, 3)
    """
    from .shape import reshape

    check_args("outer", a, b)
    return multiply(reshape(a, (math.prod(_shape(a)), 1)), reshape(b, (1, math.prod(_shape(b)))))


def kron(a: Any, b: Any) -> Tensor:
    r"""Kronecker product, as ``numpy.kron``: the operands padded to the same number of
    dimensions with leading 1s, then :math:`z[i_0 m_0 + j_0, \dots] = a[i_0, \dots]\,
    b[j_0, \dots]` (block ``i`` of the result is :math:`a_i b`), computed as numpy does:
    a broadcast multiply of interleaved views and a reshape.

    >>> import tensorgraph as tg
    >>> tg.kron(tg.eye(2), tg.ones((2, 2))).shape
    (4, 4)
    """
    from .shape import reshape

    check_args("kron", a, b)
    sa, sb = _shape(a), _shape(b)
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    spread_a = tuple(n for m in sa for n in (m, 1))
    spread_b = tuple(n for m in sb for n in (1, m))
    product = multiply(reshape(a, spread_a), reshape(b, spread_b))
    return reshape(product, tuple(m * n for m, n in zip(sa, sb)))


def _np_dot(a: Any, b: Any, out: Any = None) -> Tensor:
    if out is not None:
        raise TypeError("numpy.dot: out= is not supported on Tensors; use tensorgraph's dot")
    return dot(a, b)


def _np_outer(a: Any, b: Any, out: Any = None) -> Tensor:
    if out is not None:
        raise TypeError("numpy.outer: out= is not supported on Tensors; use tensorgraph's "
                        "outer")
    return outer(a, b)


FUNCTIONS = {
    np.dot: _np_dot, np.vdot: vdot, np.inner: inner, np.outer: _np_outer,
    np.tensordot: tensordot, np.kron: kron,
}  # fmt: skip
