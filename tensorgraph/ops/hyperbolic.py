r"""Hyperbolic functions beyond :mod:`~tensorgraph.ops.elementwise`'s ``tanh``: ``sinh``,
``cosh``, ``arcsinh``, ``arccosh`` and ``arctanh``.

The same contract as :mod:`tensorgraph.ops.elementwise`: every VJP returns its gradient in
the broadcast output shape and calls only numpy functions Tensor dispatches.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._base import Domain, Op, register
from .elementwise import _PLAIN_OPERANDS, check_args

__all__ = ["arccosh", "arcsinh", "arctanh", "cosh", "sinh"]


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
