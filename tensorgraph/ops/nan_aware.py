r"""NaN-aware elementwise functions: ``fmax`` and ``fmin``.

Convention (pinned by the Domains and by ``tests/ops/test_numpy_math.py``): ``fmax``/``fmin``
ties split the gradient equally (as ``maximum``); where one operand is NaN the other is the
result and takes the whole gradient; where both are NaN, ``x`` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from ._base import Domain, Op, register
from .elementwise import _PLAIN_OPERANDS, check_args

__all__ = ["fmax", "fmin"]


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
