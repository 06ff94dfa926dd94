r"""Fused loss ops added for PyTorch's full loss signatures: BCE of logits with a
``pos_weight``, and the Huber loss (which, divided by its threshold, is the smooth L1 loss).

The unweighted BCE of logits, the cross-entropies and the NLL stay in
:mod:`tensorgraph.ops.nn_ops`. Argument checking lives in :mod:`tensorgraph.nn.functional`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._base import Domain, Op, register
from .elementwise import stable_sigmoid

__all__ = ["binary_cross_entropy_with_logits_pos_weight", "huber_loss"]


def _pos_weight_shapes(draw_int: Callable[[int, int], int]) -> Sequence[tuple[int, ...]]:
    c = draw_int(1, 4)
    lead = [(), (draw_int(1, 3),), (draw_int(1, 3), draw_int(1, 2))][draw_int(0, 2)]
    return [(*lead, c), (*lead, c), (c,)]


def _softplus_neg(z: Any) -> Any:
    """:math:`\\ln(1 + e^{-z})` without overflow, from a dispatchable ufunc."""
    return np.logaddexp(0, -z)


@register
class BinaryCrossEntropyWithLogitsPosWeight(Op):
    r"""Elementwise binary cross-entropy of logits ``z`` against targets ``y``, with the
    positive term weighted by ``pos_weight`` :math:`p` (broadcast over the classes, the last
    axis), as PyTorch's ``pos_weight``:

    .. math::
        \ell = -p\,y \ln\sigma(z) - (1-y)\ln(1-\sigma(z))
             = (1-y)\,z + \big(1 + (p-1)y\big)\ln\!\big(1+e^{-z}\big)

    With :math:`s = \ln(1 + e^{-z})` (computed without overflow):

    .. math::
        \bar z = \bar\ell\,\big((1-y) - (1 + (p-1)y)\,\sigma(-z)\big),\quad
        \bar y = \bar\ell\,\big((p-1)s - z\big),\quad
        \bar p = \bar\ell\, y\, s

    >>> import tensorgraph as tg
    >>> from tensorgraph.ops.losses import binary_cross_entropy_with_logits_pos_weight as f
    >>> [round(v, 4) for v in f(tg.tensor([0.0]), tg.tensor([1.0]), tg.tensor([2.0])).tolist()]
    [1.3863]
    """

    name = "binary_cross_entropy_with_logits_pos_weight"
    array_params = frozenset()
    domain = Domain(nargs=3, shapes=_pos_weight_shapes,
                    ranges={0: (-4.0, 4.0), 1: (0.0, 1.0), 2: (0.2, 3.0)},
                    edges={0: (0.0,), 1: (0.0, 1.0), 2: (1.0,)})

    @staticmethod
    def forward(z: Any, y: Any, pos_weight: Any) -> Any:
        out = (1 + (pos_weight - 1) * y) * _softplus_neg(z)
        out += (1 - y) * z
        return out

    @staticmethod
    def reference(z: Any, y: Any, pos_weight: Any) -> Any:
        p = 1 / (1 + np.exp(-z))
        return -(pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p))

    @staticmethod
    def vjp_0(grad: Any, out: Any, z: Any, y: Any, pos_weight: Any) -> Any:
        return grad * ((1 - y) - (1 + (pos_weight - 1) * y) * stable_sigmoid(-z))

    @staticmethod
    def vjp_1(grad: Any, out: Any, z: Any, y: Any, pos_weight: Any) -> Any:
        return grad * ((pos_weight - 1) * _softplus_neg(z) - z)

    @staticmethod
    def vjp_2(grad: Any, out: Any, z: Any, y: Any, pos_weight: Any) -> Any:
        return grad * (y * _softplus_neg(z))  # the engine sums it over the leading axes


def binary_cross_entropy_with_logits_pos_weight(z: Any, y: Any, pos_weight: Any) -> Any:
    """Elementwise BCE of logits with ``pos_weight``; see
    :class:`BinaryCrossEntropyWithLogitsPosWeight`."""
    return BinaryCrossEntropyWithLogitsPosWeight.apply(z, y, pos_weight)


def _huber_params(shapes: Any) -> list[dict[str, Any]]:
    return [{"delta": 1.0}, {"delta": 0.5}, {"delta": 2.5}]


@register
class HuberLoss(Op):
    r"""Elementwise Huber loss of ``x`` against ``y``: quadratic within ``delta``
    :math:`\delta` of the target, linear beyond (Huber, 1964):

    .. math::
        d = x - y,\qquad
        \ell = \begin{cases} \tfrac12 d^2 & |d| < \delta \\
                             \delta\,(|d| - \tfrac12\delta) & \text{otherwise}\end{cases},
        \qquad \bar x = \bar\ell\,\operatorname{clip}(d, -\delta, \delta) = -\bar y

    The loss is continuously differentiable, so the first derivative has no convention to
    choose (0 at :math:`d = 0`, :math:`\pm\delta` at :math:`|d| = \delta`, as PyTorch); the
    second derivative jumps at :math:`|d| = \delta`, where ``clip`` passes the gradient
    (1, the quadratic side's value). ``smooth_l1_loss`` with ``beta`` is
    :math:`\ell/\beta` with :math:`\delta = \beta`.

    >>> import tensorgraph as tg
    >>> from tensorgraph.ops.losses import huber_loss
    >>> huber_loss(tg.tensor([0.5, 3.0]), tg.tensor([0.0, 0.0]), delta=1.0).tolist()
    [0.125, 2.5]
    """

    name = "huber_loss"
    array_params = frozenset()
    domain = Domain(nargs=2, shapes="same", params=_huber_params, edges=(0.0,))

    @staticmethod
    def forward(x: Any, y: Any, delta: float = 1.0) -> Any:
        d = x - y
        ad = np.abs(d)
        return np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))

    @staticmethod
    def reference(x: Any, y: Any, delta: float = 1.0) -> Any:
        d = np.abs(x - y)
        return np.minimum(d, delta) * (d - 0.5 * np.minimum(d, delta))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any, delta: float = 1.0) -> Any:
        return grad * np.clip(x - y, -delta, delta)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any, delta: float = 1.0) -> Any:
        return -(grad * np.clip(x - y, -delta, delta))


def huber_loss(x: Any, y: Any, delta: float = 1.0) -> Any:
    """Elementwise Huber loss; see :class:`HuberLoss`."""
    return HuberLoss.apply(x, y, delta=delta)
