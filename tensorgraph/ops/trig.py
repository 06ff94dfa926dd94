r"""Trigonometric functions beyond :mod:`~tensorgraph.ops.elementwise`: ``tan``,
``arcsin``, ``arccos``, ``arctan``, ``arctan2``, ``hypot``, ``sinc``, ``deg2rad`` and
``rad2deg``.

The same contract as :mod:`tensorgraph.ops.elementwise`: every VJP returns its gradient in
the broadcast output shape and calls only numpy functions Tensor dispatches.

Convention (pinned by the Domains and by ``tests/ops/test_numpy_math.py``): ``hypot`` and
``arctan2`` at :math:`(0, 0)` give both inputs gradient 0 (PyTorch gives NaN). ``sinc`` is
smooth everywhere: its derivatives at and near 0 come from its Taylor series, so they are
exact there to second order and beyond (PyTorch's second derivative of ``sinc`` at 0 is NaN).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._base import Domain, Op, register
from ._math_util import _safe
from .elementwise import _PLAIN_OPERANDS, check_args

__all__ = [
    "arccos", "arcsin", "arctan", "arctan2", "deg2rad", "hypot", "rad2deg", "sinc", "tan",
]  # fmt: skip


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


# sinc'(x) = x p(x^2) with p(u) = sum_k c_k u^(k-1), c_k = (-1)^k pi^(2k) 2k / (2k+1)!,
# used for |x| < _SINC_NEAR: ten terms leave a relative error below 1e-20 there, and the
# closed form's cancellation (cos(pi x) - sinc(x), both near 1) is harmless beyond it
_SINC_NEAR = 0.25
_SINC_SLOPE = tuple((-1) ** k * math.pi ** (2 * k) * 2 * k / math.factorial(2 * k + 1)
                    for k in range(1, 11))
_DEG = math.pi / 180.0


def _sinc_slope(x: Any, out: Any) -> Any:
    """The derivative of ``sinc`` at ``x`` (``out = sinc(x)``), written with ops whose own
    derivatives are right, so that it is exact at 0 under ``create_graph`` too."""
    near = np.abs(getattr(x, "_data", x)) < _SINC_NEAR  # a constant mask
    x_near = np.where(near, x, 0.0)  # each branch sees only its own inputs (double where)
    x_far = _safe(np.logical_not(near), x)
    u = x_near * x_near
    poly: Any = _SINC_SLOPE[-1]
    for c in reversed(_SINC_SLOPE[:-1]):
        poly = poly * u + c
    far = (np.cos(x_far * math.pi) - out) / x_far
    return np.where(near, x_near * poly, far)


@register
class Sinc(Op):
    r"""Normalised sinc, as ``numpy.sinc``: :math:`z = \sin(\pi x) / (\pi x)`, 1 at 0.

    .. math:: \bar x = \bar z\, \frac{\cos(\pi x) - z}{x}\ (x \ne 0),\quad \bar x = 0\ (x = 0)

    Near 0 (:math:`|x| < 1/4`) the derivative is its Taylor series
    :math:`\sum_{k \ge 1} (-1)^k \pi^{2k} 2k\, x^{2k-1} / (2k+1)!`, so it is smooth through 0
    and its own derivative there is exact: :math:`\operatorname{sinc}''(0) = -\pi^2/3`
    (PyTorch gives NaN).

    >>> import tensorgraph as tg
    >>> tg.sinc(tg.tensor([0.0, 0.5]))
    tensor([1.        , 0.63661975], dtype=float32)
    """

    name = "sinc"
    domain = Domain(edges=(0.0, 1.0, -1.0, 0.25, -0.25))
    reference = staticmethod(lambda x: np.where(
        x == 0, 1.0, np.sin(np.pi * x) / (np.pi * np.where(x == 0, 1.0, x))))
    forward = staticmethod(np.sinc)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * _sinc_slope(x, out)


@register
class Deg2rad(Op):
    r"""Degrees to radians, as ``numpy.deg2rad`` (``numpy.radians``).
    :math:`z = \pi x / 180,\ \bar x = \pi \bar z / 180`.

    >>> import tensorgraph as tg
    >>> tg.deg2rad(tg.tensor([180.0]))
    tensor([3.1415927], dtype=float32)
    """

    name = "deg2rad"
    domain = Domain(edges=(0.0,))
    reference = staticmethod(lambda x: x * (np.pi / 180))
    forward = staticmethod(np.deg2rad)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * _DEG


@register
class Rad2deg(Op):
    r"""Radians to degrees, as ``numpy.rad2deg`` (``numpy.degrees``).
    :math:`z = 180 x / \pi,\ \bar x = 180 \bar z / \pi`.

    >>> import tensorgraph as tg
    >>> tg.rad2deg(tg.tensor([1.0]))
    tensor([57.295776], dtype=float32)
    """

    name = "rad2deg"
    domain = Domain(edges=(0.0,))
    reference = staticmethod(lambda x: x * (180 / np.pi))
    forward = staticmethod(np.rad2deg)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * (1 / _DEG)


def sinc(x: Any) -> Tensor:
    """Normalised ``sinc``, as ``numpy.sinc``; see :class:`Sinc`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("sinc", x)
    return Sinc.apply(x)


def deg2rad(x: Any) -> Tensor:
    """Degrees to radians, as ``numpy.deg2rad``; see :class:`Deg2rad`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("deg2rad", x)
    return Deg2rad.apply(x)


def rad2deg(x: Any) -> Tensor:
    """Radians to degrees, as ``numpy.rad2deg``; see :class:`Rad2deg`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("rad2deg", x)
    return Rad2deg.apply(x)


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
