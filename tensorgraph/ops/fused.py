r"""Fused ops: a forward and a VJP written together where composing primitives would be
slower or less stable. Each is tested against its composite form."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..broadcast import normalize_axis

if TYPE_CHECKING:
    from ..tensor import Tensor

from ._base import Domain, Op, register

__all__ = ["log_softmax", "softmax"]


def _axis_params(shapes: Any) -> list[dict[str, Any]]:
    return [{"axis": a} for a in range(len(shapes[0]))] or [{"axis": 0}]


@register
class Softmax(Op):
    r"""Softmax along ``axis``, stable for any input (the maximum is subtracted first).

    .. math:: z_i = \frac{e^{x_i}}{\sum_j e^{x_j}},\quad
              \bar x = z \odot \big(\bar z - \textstyle\sum_j \bar z_j z_j\big)

    >>> import tensorgraph as tg
    >>> tg.softmax(tg.tensor([0.0, 0.0]))
    tensor([0.5, 0.5], dtype=float32)
    """

    name = "softmax"
    array_params = frozenset()
    domain = Domain(params=_axis_params, min_rank=1)

    @staticmethod
    def forward(x: Any, axis: int = -1) -> Any:
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        e /= np.sum(e, axis=axis, keepdims=True)
        return e

    @staticmethod
    def reference(x: Any, axis: int = -1) -> Any:
        e = np.exp(x)
        return e / np.sum(e, axis=axis, keepdims=True)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: int = -1) -> Any:
        return out * (grad - np.sum(grad * out, axis=axis, keepdims=True))


@register
class LogSoftmax(Op):
    r"""Log-softmax along ``axis``, stable for any input.

    .. math:: z_i = x_i - \ln \sum_j e^{x_j},\quad
              \bar x = \bar z - e^{z} \textstyle\sum_j \bar z_j

    >>> import tensorgraph as tg
    >>> tg.log_softmax(tg.tensor([1000.0, 1000.0]))
    tensor([-0.6931472, -0.6931472], dtype=float32)
    """

    name = "log_softmax"
    array_params = frozenset()
    domain = Domain(params=_axis_params, min_rank=1)

    @staticmethod
    def forward(x: Any, axis: int = -1) -> Any:
        shifted = x - np.max(x, axis=axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))

    @staticmethod
    def reference(x: Any, axis: int = -1) -> Any:
        return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: int = -1) -> Any:
        return grad - np.exp(out) * np.sum(grad, axis=axis, keepdims=True)


def _axis(x: Any, axis: int, name: str) -> int:
    ndim = len(x.shape) if hasattr(x, "shape") else np.ndim(x)
    if ndim == 0:
        from ..errors import ShapeError

        raise ShapeError(f"{name}: needs at least one dimension, got a 0-d tensor")
    (a,) = normalize_axis(axis, ndim, name)
    return a


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis``; see :class:`Softmax`."""
    return Softmax.apply(x, axis=_axis(x, axis, "softmax"))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """Log-softmax along ``axis``; see :class:`LogSoftmax`."""
    return LogSoftmax.apply(x, axis=_axis(x, axis, "log_softmax"))
