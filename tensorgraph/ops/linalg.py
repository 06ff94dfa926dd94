r"""Matrix product for 1-D, 2-D and batched (broadcasting) operands, as ``numpy.matmul``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ShapeError

if TYPE_CHECKING:
    from ..tensor import Tensor

from ._base import Domain, Op, register
from .elementwise import check_args

__all__ = ["matmul"]


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
