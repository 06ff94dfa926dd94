r"""Special functions numpy lacks: the error function ``erf`` (an op), for the exact GELU.

numpy has no ``erf``, and ``np.vectorize(math.erf)`` costs a Python call per element. The
approximation here is vectorised and accurate to float64 rounding:

* :math:`|x| < 1`: :math:`\operatorname{erf}(x) = x\,S(x^2)` with :math:`S` a Chebyshev
  series in :math:`x^2` on :math:`[0, 1]` (14 terms);
* :math:`1 \le |x| < 6`: :math:`\operatorname{erf}(x) = \operatorname{sign}(x)
  (1 - e^{-x^2} G(|x|))`, where :math:`G(a) = e^{a^2}\operatorname{erfc}(a)` (smooth and
  slowly varying) is a Chebyshev series on :math:`[1, 4]` (27 terms) and :math:`[4, 6]`
  (18 terms); :math:`e^{-x^2}` is computed from a split :math:`x = x_h + x_l` so that the
  rounding of :math:`x^2` does not enter;
* :math:`|x| \ge 6`: :math:`\pm 1` (:math:`\operatorname{erfc}(6) < 2.2\cdot 10^{-17}`, below
  half an ulp of 1).

The coefficients are the Chebyshev interpolants at 14, 27 and 18 Chebyshev points of the
first kind, computed in 40-digit arithmetic with ``mpmath`` (``mpmath.erf``,
``mpmath.erfc``) and rounded to float64 (the script is in ``docs/nn.md``, section GELU).
Measured against ``math.erf`` on 2,000,001 points of :math:`[-7, 7]` and 200,001 points of
:math:`[-10^{-3}, 10^{-3}]`: at most 2 ulp (largest absolute error 1.1e-16, largest
relative error 3.7e-16); ``tests/nn/test_layers_more.py`` pins it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import Domain, Op, register

__all__ = ["erf"]

_SMALL = np.array([
    0.9754769393826541, -0.14226120510371365, 0.010035582187599796, -0.0005768764699767485,
    2.741993125219606e-05, -1.1043175507344507e-06, 3.8488755420345036e-08,
    -1.1808582533875466e-09, 3.2334215826050907e-11, -7.991015947004549e-13,
    1.799072511396137e-14, -3.7186354877527125e-16, 7.103598527027531e-18,
    -1.2609201146052294e-19,
])
_MID = np.array([
    0.24442575284923573, -0.13589862891594598, 0.03563511414853497, -0.00888409861822249,
    0.002118423997553177, -0.00048539876408003704, 0.00010727375453771771,
    -2.2936634481904863e-05, 4.7568746915755546e-06, -9.58994483266277e-07,
    1.8829006882958966e-07, -3.606320662143091e-08, 6.7476020519374555e-09,
    -1.234907042333986e-09, 2.213150119337267e-10, -3.887955444797815e-11,
    6.701388253274511e-12, -1.1342374261033591e-12, 1.8865559201769263e-13,
    -3.08578048935475e-14, 4.966710292049003e-15, -7.871154823514142e-16,
    1.2288878793954633e-16, -1.8910872611295617e-17, 2.86971530154717e-18,
    -4.2944380452355876e-19, 6.214856677811336e-20,
])
_TAIL = np.array([
    0.11277819743166245, -0.021913497155272348, 0.0020915397845687493, -0.00019628624819122983,
    1.8126654238718202e-05, -1.6483628246572167e-06, 1.4769699327777977e-07,
    -1.3047490253442588e-08, 1.136975347104367e-09, -9.778180226640498e-11,
    8.303212348062975e-12, -6.964650842590712e-13, 5.772832164826897e-14,
    -4.7301485583332766e-15, 3.8327149694795676e-16, -3.072022656082258e-17,
    2.436380488246265e-18, -1.901224916042864e-19,
])


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _clenshaw(coef: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Sum the Chebyshev series ``sum_j coef[j] T_j(u)`` for ``u`` in [-1, 1]."""
    b1 = np.zeros_like(u)
    b2 = np.zeros_like(u)
    twice = 2 * u
    for c in coef[:0:-1]:
        b1, b2 = twice * b1 - b2 + c, b1
    result: np.ndarray = u * b1 - b2 + coef[0]
    return result


def _exp_minus_square(a: np.ndarray) -> np.ndarray:
    """``exp(-a*a)`` without the rounding error of ``a*a`` (relative ``a**2 * 2**-53``)."""
    high = a.astype(np.float32).astype(np.float64)  # 24 bits: high * high is exact
    low = a - high
    result: np.ndarray = np.exp(-high * high) * np.exp(-low * (a + high))
    return result


def erf_array(x: np.ndarray) -> np.ndarray:
    r"""The error function of an array, elementwise (computed in float64, returned in ``x``'s
    floating dtype, or for integers and booleans in the float dtype numpy's ufuncs give them,
    e.g. float16 for int8, float64 for int64); NaN gives NaN, :math:`\pm\infty` gives
    :math:`\pm 1`."""
    dtype = np.result_type(np.asarray(x).dtype, np.float16)  # as np.tanh: int8 -> float16
    a64 = np.asarray(x, dtype=np.float64)
    a = np.abs(a64)
    out = np.empty_like(a)
    small = a < 1
    xs = a64[small]
    out[small] = xs * _clenshaw(_SMALL, 2 * (xs * xs) - 1)
    for lo, hi, coef in ((1.0, 4.0, _MID), (4.0, 6.0, _TAIL)):
        band = (a >= lo) & (a < hi)
        ab = a[band]
        erfc = _exp_minus_square(ab) * _clenshaw(coef, (2 * ab - (lo + hi)) / (hi - lo))
        out[band] = np.copysign(1 - erfc, a64[band])
    big = ~(a < 6)  # also NaN, which copysign keeps
    out[big] = np.copysign(np.where(np.isnan(a[big]), np.nan, 1.0), a64[big])
    return out.astype(dtype, copy=False)


def _erf_reference(x: Any) -> Any:
    values = np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, dtype=np.float64))
    return values.astype(np.result_type(np.asarray(x).dtype, np.float16))


@register
class Erf(Op):
    r"""The error function, elementwise.

    .. math::
        z = \operatorname{erf}(x) = \frac{2}{\sqrt\pi}\int_0^x e^{-t^2}\,dt,\qquad
        \bar x = \bar z\,\frac{2}{\sqrt\pi} e^{-x^2}

    Accurate to float64 rounding (see :mod:`tensorgraph.ops.special`).

    >>> import tensorgraph as tg
    >>> tg.erf(tg.tensor([0.0, 1.0], dtype="float64")).numpy().round(12).tolist()
    [0.0, 0.84270079295]
    """

    name = "erf"
    array_params = frozenset()
    reference = staticmethod(_erf_reference)
    domain = Domain(edges=(0.0, 1.0))

    @staticmethod
    def forward(x: Any) -> Any:
        return erf_array(x)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * (_TWO_OVER_SQRT_PI * np.exp(-(x * x)))


def erf(x: Any) -> Any:
    """The error function of a Tensor (recorded, differentiable to any order) or of an array
    (computed directly); see :class:`Erf`.

    >>> import numpy as np
    >>> from tensorgraph.ops.special import erf
    >>> float(erf(np.array(0.5)))  # doctest: +ELLIPSIS
    0.5204998778130...
    """
    from ..tensor import Tensor

    if isinstance(x, Tensor):
        return Erf.apply(x)
    return erf_array(np.asarray(x))
