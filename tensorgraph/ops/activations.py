r"""Activation ops beyond the elementwise basics: GELU (exact and tanh forms) and SiLU.

Each is one node with a hand-written VJP made of dispatchable calls (``np.exp``,
``np.tanh``, :func:`~tensorgraph.ops.special.erf`, :func:`stable_sigmoid`), so second
derivatives come from ``create_graph=True``. The formulas and constants are PyTorch's
(``torch.nn.functional.gelu``, ``silu``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import Domain, Op, register
from .elementwise import stable_sigmoid
from .special import erf

__all__ = ["gelu", "silu"]

_INV_SQRT2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_SCALE = math.sqrt(2 / math.pi)  # PyTorch's kBeta (M_SQRT2 * M_2_SQRTPI / 2: same double)
_TANH_CUBIC = 0.044715
APPROXIMATIONS = ("none", "tanh")


def _gelu_params(shapes: Any) -> list[dict[str, Any]]:
    return [{"approximate": "none"}, {"approximate": "tanh"}]


def _tanh_inner(x: Any) -> Any:
    return _TANH_SCALE * (x + _TANH_CUBIC * (x * x * x))


@register
class Gelu(Op):
    r"""Gaussian error linear unit (Hendrycks & Gimpel, 2016), elementwise.

    Exact (``approximate="none"``), with :math:`\Phi` the standard normal CDF and
    :math:`\varphi` its density:

    .. math::
        z = x\,\Phi(x) = \tfrac12 x\big(1 + \operatorname{erf}(x/\sqrt2)\big),\qquad
        \bar x = \bar z\,\big(\Phi(x) + x\,\varphi(x)\big)

    The tanh form (``approximate="tanh"``), with :math:`u = \sqrt{2/\pi}(x + 0.044715x^3)`
    and :math:`t = \tanh u`:

    .. math::
        z = \tfrac12 x (1 + t),\qquad
        \bar x = \bar z\,\Big(\tfrac12(1 + t) + \tfrac12 x (1 - t^2)
                 \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\, x^2)\Big)

    >>> import tensorgraph as tg
    >>> tg.ops.activations.gelu(tg.tensor([0.0, 1.0], dtype="float64")).numpy().round(6)
    array([0.      , 0.841345])
    """

    name = "gelu"
    array_params = frozenset()
    domain = Domain(params=_gelu_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, approximate: str = "none") -> Any:
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_tanh_inner(x)))
        return 0.5 * x * (1 + erf(x * _INV_SQRT2))

    @staticmethod
    def reference(x: Any, approximate: str = "none") -> Any:
        if approximate == "tanh":
            inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + np.tanh(inner))
        phi = np.vectorize(math.erf, otypes=[np.float64])(x.astype(np.float64) / np.sqrt(2))
        return (0.5 * x * (1 + phi)).astype(x.dtype)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, approximate: str = "none") -> Any:
        if approximate == "tanh":
            t = np.tanh(_tanh_inner(x))
            slope = _TANH_SCALE * (1 + (3 * _TANH_CUBIC) * (x * x))
            return grad * (0.5 * (1 + t) + (0.5 * x) * ((1 - t * t) * slope))
        cdf = 0.5 * (1 + erf(x * _INV_SQRT2))
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * (x * x))
        return grad * (cdf + x * pdf)


def gelu(x: Any, approximate: str = "none") -> Any:
    """GELU of ``x``, exact (``"none"``) or its tanh approximation; see :class:`Gelu`."""
    if approximate not in APPROXIMATIONS:
        from ..errors import DomainError

        raise DomainError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(x, approximate=approximate)


@register
class Silu(Op):
    r"""Sigmoid linear unit, or swish (Elfwing et al., 2018; Ramachandran et al., 2017).

    .. math::
        z = x\,\sigma(x),\qquad
        \bar x = \bar z\,\sigma(x)\big(1 + x(1 - \sigma(x))\big)

    :math:`\sigma` is computed without overflow for any :math:`x`.

    >>> import tensorgraph as tg
    >>> tg.ops.activations.silu(tg.tensor([0.0, 1000.0, -1000.0])).tolist()
    [0.0, 1000.0, -0.0]
    """

    name = "silu"
    array_params = frozenset()
    domain = Domain(edges=(0.0,))

    @staticmethod
    def forward(x: Any) -> Any:
        return x * stable_sigmoid(x)

    @staticmethod
    def reference(x: Any) -> Any:
        return x / (1 + np.exp(-x))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        s = stable_sigmoid(x)
        return grad * (s * (1 + x * (1 - s)))


def silu(x: Any) -> Any:
    """SiLU (swish) of ``x``, :math:`x\\sigma(x)`; see :class:`Silu`."""
    return Silu.apply(x)
