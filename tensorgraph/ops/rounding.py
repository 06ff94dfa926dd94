r"""Rounding and integer parts: ``sign``, ``floor``, ``ceil``, ``trunc``, ``round``,
``remainder`` (``%``), ``fmod`` and ``floor_divide`` (``//``).

Conventions (pinned by the Domains and by ``tests/ops/test_numpy_math.py``):

- ``sign``, ``floor``, ``ceil``, ``trunc``, ``rint`` and ``round`` have gradient 0
  everywhere, their jumps included (as PyTorch);
- ``remainder`` and ``fmod``: :math:`\bar x = \bar z` and
  :math:`\bar y = -\bar z \lfloor x / y \rfloor` (``trunc`` for ``fmod``), as PyTorch, also
  at their jumps;
- ``floor_divide`` (``//``) has gradient 0 for both operands everywhere, jumps included: it
  is the piecewise-constant quotient of ``remainder`` (PyTorch refuses to differentiate it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._base import Domain, Op, register
from .elementwise import _PLAIN_OPERANDS, check_args

__all__ = ["ceil", "floor", "floor_divide", "fmod", "remainder", "round", "sign", "trunc"]

_INTEGERS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
_HALVES = (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5)


class _Step(Op):
    """A piecewise-constant op: its gradient is 0 everywhere, jumps included (as PyTorch)."""

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, **params: Any) -> Any:
        return np.zeros_like(grad)


@register
class Sign(_Step):
    r"""Sign, :math:`-1, 0` or :math:`1` (NaN for NaN). :math:`\bar x = 0` (also at 0).

    >>> import tensorgraph as tg
    >>> tg.sign(tg.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.], dtype=float32)
    """

    name = "sign"
    domain = Domain(avoid=(0.0,), kinks={0.0: 0.0})
    reference = staticmethod(lambda x: (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))
    forward = staticmethod(np.sign)


@register
class Floor(_Step):
    r"""Largest integer :math:`\le x`. :math:`z = \lfloor x \rfloor,\ \bar x = 0` (also at
    the integers).

    >>> import tensorgraph as tg
    >>> tg.floor(tg.tensor([-1.5, 2.5]))
    tensor([-2.,  2.], dtype=float32)
    """

    name = "floor"
    domain = Domain(kinks=dict.fromkeys(_INTEGERS, 0.0))
    reference = staticmethod(lambda x: x - np.mod(x, 1.0))
    forward = staticmethod(np.floor)


@register
class Ceil(_Step):
    r"""Smallest integer :math:`\ge x`. :math:`z = \lceil x \rceil,\ \bar x = 0` (also at
    the integers).

    >>> import tensorgraph as tg
    >>> tg.ceil(tg.tensor([-1.5, 2.5]))
    tensor([-1.,  3.], dtype=float32)
    """

    name = "ceil"
    domain = Domain(kinks=dict.fromkeys(_INTEGERS, 0.0))
    reference = staticmethod(lambda x: -np.floor(-x))
    forward = staticmethod(np.ceil)


@register
class Trunc(_Step):
    r"""Round toward zero. :math:`z = \operatorname{sign}(x) \lfloor |x| \rfloor,\
    \bar x = 0` (also at the integers).

    >>> import tensorgraph as tg
    >>> tg.trunc(tg.tensor([-1.5, 2.5]))
    tensor([-1.,  2.], dtype=float32)
    """

    name = "trunc"
    domain = Domain(kinks=dict.fromkeys(_INTEGERS, 0.0))
    reference = staticmethod(lambda x: np.sign(x) * np.floor(np.abs(x)))
    forward = staticmethod(np.trunc)


@register
class Round(_Step):
    r"""Round to ``decimals`` decimals, halves to even, as ``numpy.round``:
    :math:`\bar x = 0` (also at the halves, as ``torch.round``).

    >>> import tensorgraph as tg
    >>> tg.round(tg.tensor([0.5, 1.5, 2.26]), 1)
    tensor([0.5, 1.5, 2.3], dtype=float32)
    """

    name = "round"
    array_params = frozenset()
    domain = Domain(kinks=dict.fromkeys(_HALVES, 0.0))
    reference = staticmethod(lambda x, decimals=0: np.rint(x * 10.0**decimals) / 10.0**decimals)

    @staticmethod
    def forward(x: Any, decimals: int = 0) -> Any:
        return np.round(x, decimals)


@register
class Remainder(Op):
    r"""Remainder with the sign of the divisor, as ``numpy.remainder`` (``np.mod``, ``%``).

    .. math:: z = x - \lfloor x / y \rfloor\, y,\quad \bar x = \bar z,\quad
              \bar y = -\bar z \lfloor x / y \rfloor

    The same gradients hold at the jumps, where :math:`x / y` is an integer (as PyTorch).

    >>> import tensorgraph as tg
    >>> tg.remainder(tg.tensor([5.0, -5.0]), 3.0)
    tensor([2., 1.], dtype=float32)
    """

    name = "remainder"
    domain = Domain(nargs=2, ranges={0: (-0.9, 0.9), 1: (1.0, 2.0)}, avoid=(0.0,),
                    edges={1: (1.0, -1.0)})
    reference = staticmethod(lambda x, y: x - np.floor_divide(x, y) * y)
    forward = staticmethod(np.remainder)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return -grad * np.floor_divide(x, y)


@register
class Fmod(Op):
    r"""Remainder with the sign of the dividend, as ``numpy.fmod`` (C's ``fmod``).

    .. math:: z = x - \operatorname{trunc}(x / y)\, y,\quad \bar x = \bar z,\quad
              \bar y = -\bar z \operatorname{trunc}(x / y)

    The same gradients hold at the jumps (as PyTorch).

    >>> import tensorgraph as tg
    >>> tg.fmod(tg.tensor([5.0, -5.0]), 3.0)
    tensor([ 2., -2.], dtype=float32)
    """

    name = "fmod"
    domain = Domain(nargs=2, ranges={0: (1.15, 1.9), 1: (1.0, 1.1)}, edges={1: (1.0,)})
    reference = staticmethod(lambda x, y: x - np.trunc(x / y) * y)
    forward = staticmethod(np.fmod)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return -grad * np.trunc(x / y)


@register
class FloorDivide(Op):
    r"""Floor of the quotient, as ``numpy.floor_divide`` (``//``).

    .. math:: z = \lfloor x / y \rfloor,\quad \bar x = 0,\quad \bar y = 0

    Piecewise constant: both gradients are 0 everywhere, its jumps included (where
    :math:`x / y` is an integer), as for ``floor``. The result stays in the graph.

    >>> import tensorgraph as tg
    >>> tg.floor_divide(tg.tensor([5.0, -5.0]), 3.0)
    tensor([ 1., -2.], dtype=float32)
    """

    name = "floor_divide"
    domain = Domain(nargs=2, ranges={0: (-0.9, 0.9), 1: (1.0, 2.0)}, avoid=(0.0,),
                    edges={1: (1.0, -1.0)})
    reference = staticmethod(lambda x, y: np.floor(x / y))
    forward = staticmethod(np.floor_divide)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return np.zeros_like(grad)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return np.zeros_like(grad)


def floor_divide(x: Any, y: Any) -> Tensor:
    """Elementwise ``floor_divide`` (``//``), as ``numpy.floor_divide``; see
    :class:`FloorDivide`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("floor_divide", x, y)
    return FloorDivide.apply(x, y)


def sign(x: Any) -> Tensor:
    """Elementwise ``sign``, as ``numpy.sign``; see :class:`Sign`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("sign", x)
    return Sign.apply(x)


def floor(x: Any) -> Tensor:
    """Elementwise ``floor``, as ``numpy.floor``; see :class:`Floor`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("floor", x)
    return Floor.apply(x)


def ceil(x: Any) -> Tensor:
    """Elementwise ``ceil``, as ``numpy.ceil``; see :class:`Ceil`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("ceil", x)
    return Ceil.apply(x)


def trunc(x: Any) -> Tensor:
    """Elementwise ``trunc``, as ``numpy.trunc``; see :class:`Trunc`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("trunc", x)
    return Trunc.apply(x)


def round(x: Any, decimals: int = 0) -> Tensor:
    """Round to ``decimals`` decimals, halves to even, as ``numpy.round``; see :class:`Round`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("round", x)
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, (bool, np.bool_)):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__} "
                        f"{decimals!r}")
    return Round.apply(x, decimals=int(decimals))


def remainder(x: Any, y: Any) -> Tensor:
    """Elementwise ``remainder``, as ``numpy.remainder``; see :class:`Remainder`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("remainder", x, y)
    return Remainder.apply(x, y)


def fmod(x: Any, y: Any) -> Tensor:
    """Elementwise ``fmod``, as ``numpy.fmod``; see :class:`Fmod`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("fmod", x, y)
    return Fmod.apply(x, y)
