r"""Powers, exponentials and logarithms beyond :mod:`~tensorgraph.ops.elementwise`:
``square``, ``reciprocal``, ``cbrt``, ``exp2``, ``expm1``, ``log2``, ``log10``,
``logaddexp`` and ``logaddexp2``.

Every VJP returns its gradient in the broadcast output shape and calls only numpy functions
Tensor dispatches, so it also runs under ``create_graph=True``. Constants are Python floats
(weak scalars), so float32 inputs keep float32 results and gradients.

Convention: ``cbrt'(0) = 0``, the finite choice ``sqrt`` makes (the true derivative is
:math:`+\infty`), pinned by the Domain and by ``tests/ops/test_numpy_math.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._base import Domain, Op, register
from ._math_util import _safe
from .elementwise import _PLAIN_OPERANDS, check_args

__all__ = [
    "cbrt", "exp2", "expm1", "log2", "log10", "logaddexp", "logaddexp2", "reciprocal", "square",
]  # fmt: skip

# Python floats: weak scalars in numpy 2, so a float32 gradient stays float32
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


@register
class Square(Op):
    r"""Elementwise square. :math:`z = x^2,\ \bar x = 2 \bar z\, x`.

    >>> import tensorgraph as tg
    >>> tg.square(tg.tensor([-2.0, 3.0]))
    tensor([4., 9.], dtype=float32)
    """

    name = "square"
    domain = Domain(edges=(0.0, 1.0, -1.0))
    reference = staticmethod(lambda x: x * x)
    forward = staticmethod(np.square)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * x * 2


@register
class Reciprocal(Op):
    r"""Elementwise reciprocal. :math:`z = 1 / x,\ \bar x = -\bar z\, z^2`.

    >>> import tensorgraph as tg
    >>> tg.reciprocal(tg.tensor([2.0, -4.0]))
    tensor([ 0.5 , -0.25], dtype=float32)
    """

    name = "reciprocal"
    domain = Domain(avoid=(0.0,), margin=0.3, edges=(1.0, -1.0))
    reference = staticmethod(lambda x: 1 / x)
    forward = staticmethod(np.reciprocal)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return -grad * out * out


@register
class Expm1(Op):
    r""":math:`z = e^x - 1,\ \bar x = \bar z (z + 1)`, accurate for small x.

    >>> import tensorgraph as tg
    >>> tg.expm1(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "expm1"
    domain = Domain(edges=(0.0,))
    reference = staticmethod(lambda x: np.exp(x) - 1)
    forward = staticmethod(np.expm1)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * (out + 1)


@register
class Log2(Op):
    r"""Base-2 logarithm. :math:`z = \log_2 x,\ \bar x = \bar z / (x \ln 2)`, for :math:`x > 0`.

    >>> import tensorgraph as tg
    >>> tg.log2(tg.tensor([1.0, 8.0]))
    tensor([0., 3.], dtype=float32)
    """

    name = "log2"
    domain = Domain(low=0.2, high=4.0, edges=(1.0, 2.0))
    reference = staticmethod(lambda x: np.log(x) / math.log(2.0))
    forward = staticmethod(np.log2)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / (x * _LN2)


@register
class Log10(Op):
    r"""Base-10 logarithm. :math:`z = \log_{10} x,\ \bar x = \bar z / (x \ln 10)`, for
    :math:`x > 0`.

    >>> import tensorgraph as tg
    >>> tg.log10(tg.tensor([1.0, 10.0]))
    tensor([0., 1.], dtype=float32)
    """

    name = "log10"
    domain = Domain(low=0.2, high=4.0, edges=(1.0,))
    reference = staticmethod(lambda x: np.log(x) / math.log(10.0))
    forward = staticmethod(np.log10)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / (x * _LN10)


@register
class Exp2(Op):
    r"""Power of two. :math:`z = 2^x,\ \bar x = \bar z\, z \ln 2`.

    >>> import tensorgraph as tg
    >>> tg.exp2(tg.tensor([0.0, 3.0]))
    tensor([1., 8.], dtype=float32)
    """

    name = "exp2"
    domain = Domain(edges=(0.0, 1.0))
    reference = staticmethod(lambda x: np.power(2.0, x))
    forward = staticmethod(np.exp2)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * out * _LN2


@register
class Cbrt(Op):
    r"""Real cube root. :math:`z = \sqrt[3]{x},\ \bar x = \bar z / (3 z^2)`.

    At :math:`x = 0` the derivative is :math:`+\infty`; as for ``sqrt``, tensorgraph uses the
    finite subgradient 0 there (cbrt'(0) = 0). PyTorch has no ``cbrt``; ``x ** (1/3)`` there
    is NaN for negative x.

    >>> import tensorgraph as tg
    >>> tg.cbrt(tg.tensor([-8.0, 0.0, 1.0]))
    tensor([-2.,  0.,  1.], dtype=float32)
    """

    name = "cbrt"
    domain = Domain(avoid=(0.0,), margin=0.2, edges=(1.0, -1.0), kinks={0.0: 0.0})
    reference = staticmethod(lambda x: np.sign(x) * np.abs(x) ** (1 / 3))
    forward = staticmethod(np.cbrt)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        nonzero = out != 0
        z = _safe(nonzero, out)
        return np.where(nonzero, grad / (z * z * 3), 0)


def _gap(x: Any, y: Any, out: Any) -> Any:
    """``x - out``, but 0 where ``x`` alone is the infinite result (``x = out = inf``, ``y``
    finite): the derivative there is the limit 1, where ``inf - inf`` would give nan."""
    def raw(a: Any) -> Any:
        return np.asarray(getattr(a, "_data", a))

    alone = (raw(x) == raw(out)) & (raw(y) != raw(out))
    with np.errstate(invalid="ignore"):  # inf - inf: replaced here, or nan as in PyTorch
        return np.where(alone, 0.0, x - out)


@register
class Logaddexp(Op):
    r"""Stable :math:`z = \ln(e^x + e^y) = \max(x, y) + \ln(1 + e^{-|x - y|})`.

    .. math:: \bar x = \bar z\, e^{x - z},\quad \bar y = \bar z\, e^{y - z}

    >>> import tensorgraph as tg
    >>> tg.logaddexp(tg.tensor([0.0, 1000.0]), tg.tensor([0.0, 1000.0]))
    tensor([6.9314718e-01, 1.0006932e+03], dtype=float32)
    """

    name = "logaddexp"
    domain = Domain(nargs=2, edges=(0.0, 1.0))
    reference = staticmethod(lambda x, y: np.log(np.exp(x) + np.exp(y)))
    forward = staticmethod(np.logaddexp)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * np.exp(_gap(x, y, out))

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * np.exp(_gap(y, x, out))


@register
class Logaddexp2(Op):
    r"""Stable :math:`z = \log_2(2^x + 2^y)`.

    .. math:: \bar x = \bar z\, 2^{x - z},\quad \bar y = \bar z\, 2^{y - z}

    >>> import tensorgraph as tg
    >>> tg.logaddexp2(tg.tensor([1.0]), tg.tensor([1.0]))
    tensor([2.], dtype=float32)
    """

    name = "logaddexp2"
    domain = Domain(nargs=2, edges=(0.0, 1.0))
    reference = staticmethod(lambda x, y: np.log2(np.power(2.0, x) + np.power(2.0, y)))
    forward = staticmethod(np.logaddexp2)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * np.exp2(_gap(x, y, out))

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * np.exp2(_gap(y, x, out))


def square(x: Any) -> Tensor:
    """Elementwise ``square``, as ``numpy.square``; see :class:`Square`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("square", x)
    return Square.apply(x)


def reciprocal(x: Any) -> Tensor:
    """Elementwise ``reciprocal``, as ``numpy.reciprocal``; see :class:`Reciprocal`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("reciprocal", x)
    return Reciprocal.apply(x)


def expm1(x: Any) -> Tensor:
    """Elementwise ``expm1``, as ``numpy.expm1``; see :class:`Expm1`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("expm1", x)
    return Expm1.apply(x)


def log2(x: Any) -> Tensor:
    """Elementwise ``log2``, as ``numpy.log2``; see :class:`Log2`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("log2", x)
    return Log2.apply(x)


def log10(x: Any) -> Tensor:
    """Elementwise ``log10``, as ``numpy.log10``; see :class:`Log10`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("log10", x)
    return Log10.apply(x)


def exp2(x: Any) -> Tensor:
    """Elementwise ``exp2``, as ``numpy.exp2``; see :class:`Exp2`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("exp2", x)
    return Exp2.apply(x)


def cbrt(x: Any) -> Tensor:
    """Elementwise ``cbrt``, as ``numpy.cbrt``; see :class:`Cbrt`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("cbrt", x)
    return Cbrt.apply(x)


def logaddexp(x: Any, y: Any) -> Tensor:
    """Elementwise ``logaddexp``, as ``numpy.logaddexp``; see :class:`Logaddexp`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("logaddexp", x, y)
    return Logaddexp.apply(x, y)


def logaddexp2(x: Any, y: Any) -> Tensor:
    """Elementwise ``logaddexp2``, as ``numpy.logaddexp2``; see :class:`Logaddexp2`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("logaddexp2", x, y)
    return Logaddexp2.apply(x, y)
