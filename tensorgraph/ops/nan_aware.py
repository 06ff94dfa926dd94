r"""NaN-aware elementwise functions: ``fmax``, ``fmin`` and ``nan_to_num``.

Conventions (pinned by the Domains and by ``tests/ops/test_numpy_math.py``): ``fmax``/
``fmin`` ties split the gradient equally (as ``maximum``); where one operand is NaN the other
is the result and takes the whole gradient; where both are NaN, ``x`` does. ``nan_to_num``
passes the gradient where its input is finite and gives 0 where it replaced a NaN or an
infinity (as PyTorch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._base import Domain, Op, register
from .elementwise import _PLAIN_OPERANDS, check_args

__all__ = ["fmax", "fmin", "nan_to_num"]


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


@register
class NanToNum(Op):
    r"""Replace NaN and infinities by finite numbers, as ``numpy.nan_to_num``.

    .. math:: z = \begin{cases} x & x \text{ finite} \\ \mathrm{nan} & x = \mathrm{NaN} \\
              \mathrm{posinf} & x = +\infty \\ \mathrm{neginf} & x = -\infty \end{cases},
              \quad \bar x = \bar z\, [x \text{ finite}]

    ``posinf`` and ``neginf`` default to the dtype's largest and smallest finite values.
    The replaced elements get gradient 0: the result does not move when they do (as
    ``torch.nan_to_num``).

    >>> import tensorgraph as tg
    >>> tg.nan_to_num(tg.tensor([1.0, float("nan"), -float("inf")]), neginf=-9.0)
    tensor([ 1.,  0., -9.], dtype=float32)
    """

    name = "nan_to_num"
    array_params = frozenset()
    domain = Domain(kinks={math.inf: 0.0, -math.inf: 0.0}, edges=(0.0,), params=lambda shapes: [
        {"nan": 0.0, "posinf": None, "neginf": None},
        {"nan": -1.0, "posinf": 5.0, "neginf": -5.0},
    ])

    @staticmethod
    def forward(x: Any, nan: float = 0.0, posinf: float | None = None,
                neginf: float | None = None) -> Any:
        return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def reference(x: Any, nan: float = 0.0, posinf: float | None = None,
                  neginf: float | None = None) -> Any:
        big = np.finfo(x.dtype)
        high = big.max if posinf is None else posinf
        low = big.min if neginf is None else neginf
        return np.where(np.isnan(x), nan, np.where(x == np.inf, high,
                                                   np.where(x == -np.inf, low, x))).astype(x.dtype)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, **params: Any) -> Any:
        return np.where(np.isfinite(getattr(x, "_data", x)), grad, 0)


def _real(value: Any, what: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise TypeError(f"nan_to_num: {what} must be a real number, got "
                        f"{type(value).__name__} {value!r}")
    return float(value)


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """Replace NaN by ``nan`` and infinities by ``posinf``/``neginf`` (the dtype's extremes
    by default), as ``numpy.nan_to_num``; see :class:`NanToNum`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("nan_to_num", x)
    return NanToNum.apply(x, nan=_real(nan, "nan"),
                          posinf=None if posinf is None else _real(posinf, "posinf"),
                          neginf=None if neginf is None else _real(neginf, "neginf"))


def _np_nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: float | None = None,
                   neginf: float | None = None) -> Tensor:
    if not copy:
        raise TypeError("numpy.nan_to_num: copy=False (replacing in place) is not supported "
                        "on Tensors; use the returned tensor")
    return nan_to_num(x, nan, posinf, neginf)
