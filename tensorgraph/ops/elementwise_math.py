r"""Elementwise math beyond the basics: the numpy functions plain numpy code uses.

The same contract as :mod:`tensorgraph.ops.elementwise`: every VJP returns its gradient in the
broadcast output shape and calls only numpy functions Tensor dispatches, so it also runs under
``create_graph=True``. Constants are Python floats (weak scalars), so float32 inputs keep
float32 results and gradients.

Conventions where the derivative does not exist (pinned by the Domains and by
``tests/ops/test_numpy_math.py``):

- ``cbrt'(0) = 0``, the finite choice ``sqrt`` makes (the true derivative is :math:`+\infty`);
- ``hypot`` and ``arctan2`` at :math:`(0, 0)` give both inputs gradient 0 (PyTorch gives NaN);
- ``sign``, ``floor``, ``ceil``, ``trunc``, ``rint`` and ``round`` have gradient 0 everywhere,
  their jumps included (as PyTorch);
- ``fmax``/``fmin`` ties split the gradient equally (as ``maximum``); where one operand is NaN
  the other is the result and takes the whole gradient; where both are NaN, ``x`` does;
- ``remainder`` and ``fmod``: :math:`\bar x = \bar z` and
  :math:`\bar y = -\bar z \lfloor x / y \rfloor` (``trunc`` for ``fmod``), as PyTorch, also at
  their jumps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._base import Domain, Op, register
from .elementwise import _PLAIN_OPERANDS, check_args

__all__ = [
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "cbrt", "ceil",
    "cosh", "exp2", "expm1", "floor", "fmax", "fmin", "fmod", "hypot", "log2", "log10",
    "logaddexp", "logaddexp2", "reciprocal", "remainder", "round", "sign", "sinh",
    "square", "tan", "trunc",
]  # fmt: skip

# Python floats: weak scalars in numpy 2, so a float32 gradient stays float32
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _safe(mask: Any, x: Any) -> Any:
    """``x`` where ``mask`` holds, else 1: a divisor that never divides by 0 in the branch a
    ``where`` discards (that division would warn, and its NaN would leak into second order)."""
    return np.where(mask, x, 1)


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


@register
class Tan(Op):
    r"""Tangent. :math:`z = \tan x,\ \bar x = \bar z (1 + z^2)`; poles at
    :math:`\pi/2 + k\pi`.

    >>> import tensorgraph as tg
    >>> tg.tan(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "tan"
    domain = Domain(low=-1.2, high=1.2, edges=(0.0,))
    reference = staticmethod(lambda x: np.sin(x) / np.cos(x))
    forward = staticmethod(np.tan)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * (out * out + 1)


@register
class Arcsin(Op):
    r"""Inverse sine on :math:`[-1, 1]`. :math:`z = \arcsin x,\ \bar x = \bar z / \sqrt{1 - x^2}`.

    At :math:`x = \pm 1` the derivative is :math:`+\infty` and the VJP gives
    :math:`\bar z \cdot \infty` (as PyTorch); the tests draw from :math:`(-0.9, 0.9)`.

    >>> import tensorgraph as tg
    >>> tg.arcsin(tg.tensor([0.0, 1.0]))
    tensor([0.       , 1.5707964], dtype=float32)
    """

    name = "arcsin"
    domain = Domain(low=-0.9, high=0.9, edges=(0.0,))
    reference = staticmethod(lambda x: np.arctan2(x, np.sqrt(1 - x * x)))
    forward = staticmethod(np.arcsin)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / np.sqrt((1 - x) * (1 + x))


@register
class Arccos(Op):
    r"""Inverse cosine on :math:`[-1, 1]`.
    :math:`z = \arccos x,\ \bar x = -\bar z / \sqrt{1 - x^2}`.

    At :math:`x = \pm 1` the VJP gives :math:`-\bar z \cdot \infty` (as PyTorch); the tests
    draw from :math:`(-0.9, 0.9)`.

    >>> import tensorgraph as tg
    >>> tg.arccos(tg.tensor([1.0]))
    tensor([0.], dtype=float32)
    """

    name = "arccos"
    domain = Domain(low=-0.9, high=0.9, edges=(0.0,))
    reference = staticmethod(lambda x: np.arctan2(np.sqrt(1 - x * x), x))
    forward = staticmethod(np.arccos)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return -grad / np.sqrt((1 - x) * (1 + x))


@register
class Arctan(Op):
    r"""Inverse tangent. :math:`z = \arctan x,\ \bar x = \bar z / (1 + x^2)`.

    >>> import tensorgraph as tg
    >>> tg.arctan(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "arctan"
    domain = Domain(edges=(0.0, 1.0))
    reference = staticmethod(lambda x: np.arctan2(x, 1.0))
    forward = staticmethod(np.arctan)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / (x * x + 1)


@register
class Sinh(Op):
    r"""Hyperbolic sine. :math:`z = \sinh x,\ \bar x = \bar z \cosh x`.

    >>> import tensorgraph as tg
    >>> tg.sinh(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "sinh"
    domain = Domain(edges=(0.0,))
    reference = staticmethod(lambda x: (np.exp(x) - np.exp(-x)) / 2)
    forward = staticmethod(np.sinh)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * np.cosh(x)


@register
class Cosh(Op):
    r"""Hyperbolic cosine. :math:`z = \cosh x,\ \bar x = \bar z \sinh x`.

    >>> import tensorgraph as tg
    >>> tg.cosh(tg.tensor([0.0]))
    tensor([1.], dtype=float32)
    """

    name = "cosh"
    domain = Domain(edges=(0.0,))
    reference = staticmethod(lambda x: (np.exp(x) + np.exp(-x)) / 2)
    forward = staticmethod(np.cosh)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * np.sinh(x)


@register
class Arcsinh(Op):
    r"""Inverse hyperbolic sine. :math:`z = \operatorname{arsinh} x,\
    \bar x = \bar z / \sqrt{x^2 + 1}`.

    >>> import tensorgraph as tg
    >>> tg.arcsinh(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "arcsinh"
    domain = Domain(edges=(0.0,))
    reference = staticmethod(lambda x: np.sign(x) * np.log(np.abs(x) + np.sqrt(x * x + 1)))
    forward = staticmethod(np.arcsinh)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / np.sqrt(x * x + 1)


@register
class Arccosh(Op):
    r"""Inverse hyperbolic cosine, for :math:`x \ge 1`. :math:`z = \operatorname{arcosh} x,\
    \bar x = \bar z / \sqrt{(x - 1)(x + 1)}`.

    At :math:`x = 1` the VJP gives :math:`\bar z \cdot \infty` (as PyTorch); the tests draw
    from :math:`(1.2, 4)`.

    >>> import tensorgraph as tg
    >>> tg.arccosh(tg.tensor([1.0]))
    tensor([0.], dtype=float32)
    """

    name = "arccosh"
    domain = Domain(low=1.2, high=4.0, edges=(2.0,))
    reference = staticmethod(lambda x: np.log(x + np.sqrt(x * x - 1)))
    forward = staticmethod(np.arccosh)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / np.sqrt((x - 1) * (x + 1))


@register
class Arctanh(Op):
    r"""Inverse hyperbolic tangent on :math:`(-1, 1)`. :math:`z = \operatorname{artanh} x,\
    \bar x = \bar z / (1 - x^2)`; poles at :math:`\pm 1`.

    >>> import tensorgraph as tg
    >>> tg.arctanh(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "arctanh"
    domain = Domain(low=-0.9, high=0.9, edges=(0.0,))
    reference = staticmethod(lambda x: np.log((1 + x) / (1 - x)) / 2)
    forward = staticmethod(np.arctanh)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / ((1 - x) * (1 + x))


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
        return grad * np.exp(x - out)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * np.exp(y - out)


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
        return grad * np.exp2(x - out)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * np.exp2(y - out)


@register
class Arctan2(Op):
    r"""Angle of the point :math:`(x_2, x_1)`, as ``numpy.arctan2(x1, x2)``.

    .. math:: z = \operatorname{atan2}(x_1, x_2),\quad
              \bar x_1 = \bar z\, \frac{x_2}{x_1^2 + x_2^2},\quad
              \bar x_2 = -\bar z\, \frac{x_1}{x_1^2 + x_2^2}

    At the origin, where the angle is not even continuous, both gradients are 0 (PyTorch
    gives NaN). Across the negative :math:`x_2` axis the angle jumps by :math:`2\pi`; the
    formula's one-sided value is used there.

    >>> import tensorgraph as tg
    >>> tg.arctan2(tg.tensor([0.0, 1.0]), tg.tensor([1.0, 0.0]))
    tensor([0.       , 1.5707964], dtype=float32)
    """

    name = "arctan2"
    domain = Domain(nargs=2, avoid=(0.0,), margin=0.3, edges={0: (1.0, -1.0),
                                                             1: (0.0, 1.0, -1.0)})
    reference = staticmethod(lambda y, x: np.angle(x + 1j * y))
    forward = staticmethod(np.arctan2)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> Sequence[Any]:
        y, x = inputs
        r2 = x * x + y * y
        away = r2 > 0
        scale = np.where(away, grad / _safe(away, r2), 0)
        return [scale * x if needs[0] else None, -scale * y if needs[1] else None]


@register
class Hypot(Op):
    r"""Euclidean norm of :math:`(x, y)`, without overflow.

    .. math:: z = \sqrt{x^2 + y^2},\quad \bar x = \bar z\, x / z,\quad \bar y = \bar z\, y / z

    At :math:`(0, 0)` both gradients are 0, the subgradient of the norm that ``abs'(0) = 0``
    and ``sqrt'(0) = 0`` choose too (PyTorch gives NaN).

    >>> import tensorgraph as tg
    >>> tg.hypot(tg.tensor([3.0]), tg.tensor([4.0]))
    tensor([5.], dtype=float32)
    """

    name = "hypot"
    domain = Domain(nargs=2, avoid=(0.0,), margin=0.3, edges={0: (0.0, 1.0), 1: (1.0, -1.0)})
    reference = staticmethod(lambda x, y: np.sqrt(x * x + y * y))
    forward = staticmethod(np.hypot)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> Sequence[Any]:
        x, y = inputs
        away = out > 0
        scale = np.where(away, grad / _safe(away, out), 0)
        return [scale * x if needs[0] else None, scale * y if needs[1] else None]


class _Step(Op):
    """A piecewise-constant op: its gradient is 0 everywhere, jumps included (as PyTorch)."""

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, **params: Any) -> Any:
        return np.zeros_like(grad)


_INTEGERS = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
_HALVES = (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5)


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


def _fmax_share(grad: Any, x: Any, y: Any) -> Any:
    """The share of ``grad`` owed to ``x`` in ``fmax(x, y)``: all where x wins or y is NaN,
    half on ties."""
    wins = np.logical_or(x > y, np.isnan(y))
    return np.where(wins, grad, np.where(x == y, grad * 0.5, 0))


def _fmax_share_second(grad: Any, x: Any, y: Any) -> Any:
    """The share owed to ``y`` in ``fmax(x, y)`` (``x`` takes it all when both are NaN)."""
    wins = np.logical_or(y > x, np.logical_and(np.isnan(x), np.logical_not(np.isnan(y))))
    return np.where(wins, grad, np.where(x == y, grad * 0.5, 0))


@register
class Fmax(Op):
    r"""Elementwise maximum ignoring NaN, as ``numpy.fmax``.
    :math:`\bar x = \bar z [x > y] + \tfrac12 \bar z [x = y]`, symmetrically for y.

    Ties split the gradient equally (as :class:`~tensorgraph.ops.elementwise.Maximum`;
    ``torch.fmax`` gives it all to ``x``). Where one operand is NaN the other is the result
    and takes the gradient; where both are, ``x`` does (as PyTorch).

    >>> import tensorgraph as tg
    >>> tg.fmax(tg.tensor([1.0, float("nan")]), tg.tensor([3.0, 2.0]))
    tensor([3., 2.], dtype=float32)
    """

    name = "fmax"
    domain = Domain(nargs=2, distinct=True, ties="share")
    reference = staticmethod(lambda x, y: np.where(np.isnan(y) | (x >= y), x, y))
    forward = staticmethod(np.fmax)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return _fmax_share(grad, x, y)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return _fmax_share_second(grad, x, y)


@register
class Fmin(Op):
    r"""Elementwise minimum ignoring NaN, as ``numpy.fmin``.
    :math:`\bar x = \bar z [x < y] + \tfrac12 \bar z [x = y]`, symmetrically for y.

    Ties, and NaN operands, as :class:`Fmax`.

    >>> import tensorgraph as tg
    >>> tg.fmin(tg.tensor([1.0, float("nan")]), tg.tensor([3.0, 2.0]))
    tensor([1., 2.], dtype=float32)
    """

    name = "fmin"
    domain = Domain(nargs=2, distinct=True, ties="share")
    reference = staticmethod(lambda x, y: np.where(np.isnan(y) | (x <= y), x, y))
    forward = staticmethod(np.fmin)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return _fmax_share(grad, -x, -y)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return _fmax_share_second(grad, -x, -y)


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


def tan(x: Any) -> Tensor:
    """Elementwise ``tan``, as ``numpy.tan``; see :class:`Tan`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("tan", x)
    return Tan.apply(x)


def arcsin(x: Any) -> Tensor:
    """Elementwise ``arcsin``, as ``numpy.arcsin``; see :class:`Arcsin`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("arcsin", x)
    return Arcsin.apply(x)


def arccos(x: Any) -> Tensor:
    """Elementwise ``arccos``, as ``numpy.arccos``; see :class:`Arccos`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("arccos", x)
    return Arccos.apply(x)


def arctan(x: Any) -> Tensor:
    """Elementwise ``arctan``, as ``numpy.arctan``; see :class:`Arctan`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("arctan", x)
    return Arctan.apply(x)


def sinh(x: Any) -> Tensor:
    """Elementwise ``sinh``, as ``numpy.sinh``; see :class:`Sinh`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("sinh", x)
    return Sinh.apply(x)


def cosh(x: Any) -> Tensor:
    """Elementwise ``cosh``, as ``numpy.cosh``; see :class:`Cosh`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("cosh", x)
    return Cosh.apply(x)


def arcsinh(x: Any) -> Tensor:
    """Elementwise ``arcsinh``, as ``numpy.arcsinh``; see :class:`Arcsinh`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("arcsinh", x)
    return Arcsinh.apply(x)


def arccosh(x: Any) -> Tensor:
    """Elementwise ``arccosh``, as ``numpy.arccosh``; see :class:`Arccosh`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("arccosh", x)
    return Arccosh.apply(x)


def arctanh(x: Any) -> Tensor:
    """Elementwise ``arctanh``, as ``numpy.arctanh``; see :class:`Arctanh`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("arctanh", x)
    return Arctanh.apply(x)


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


def arctan2(x: Any, y: Any) -> Tensor:
    """Elementwise ``arctan2``, as ``numpy.arctan2``; see :class:`Arctan2`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("arctan2", x, y)
    return Arctan2.apply(x, y)


def hypot(x: Any, y: Any) -> Tensor:
    """Elementwise ``hypot``, as ``numpy.hypot``; see :class:`Hypot`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("hypot", x, y)
    return Hypot.apply(x, y)


def fmax(x: Any, y: Any) -> Tensor:
    """Elementwise ``fmax``, as ``numpy.fmax``; see :class:`Fmax`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("fmax", x, y)
    return Fmax.apply(x, y)


def fmin(x: Any, y: Any) -> Tensor:
    """Elementwise ``fmin``, as ``numpy.fmin``; see :class:`Fmin`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("fmin", x, y)
    return Fmin.apply(x, y)


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



def round(x: Any, decimals: int = 0) -> Tensor:
    """Round to ``decimals`` decimals, halves to even, as ``numpy.round``; see :class:`Round`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("round", x)
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, (bool, np.bool_)):
        raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__} "
                        f"{decimals!r}")
    return Round.apply(x, decimals=int(decimals))
