r"""Layer normalisation as one fused op with its closed-form VJP.

Argument checking lives in :func:`tensorgraph.nn.functional.layer_norm`, the public face of
this op; the op function assumes valid shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._base import Domain, Op, register

__all__ = ["layer_norm"]


def _ln_shapes(draw_int: Callable[[int, int], int]) -> Sequence[tuple[int, ...]]:
    lead = [(), (draw_int(1, 3),), (draw_int(1, 3), draw_int(1, 2))][draw_int(0, 2)]
    norm = [(draw_int(2, 5),), (draw_int(1, 3), draw_int(2, 3))][draw_int(0, 1)]
    return [(*lead, *norm), norm, norm]


def _ln_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    ndim, k = len(shapes[0]), len(shapes[1])
    axis = tuple(range(ndim - k, ndim))
    return [{"axis": axis, "eps": 1e-5}, {"axis": axis, "eps": 0.1}]


def _normalise(x: Any, axis: tuple[int, ...], eps: float) -> tuple[Any, Any]:
    """``xhat`` and ``1/sqrt(var + eps)`` over ``axis`` (keepdims), from dispatchable calls."""
    mean = np.mean(x, axis=axis, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    return centred * inv_std, inv_std


@register
class LayerNorm(Op):
    r"""Layer normalisation (Ba, Kiros & Hinton, 2016) over the trailing axes ``axis``.

    Each sample (each index of the leading axes) is normalised by its own mean and biased
    variance over the :math:`m` elements of the normalised axes; ``weight`` and ``bias``
    have the normalised shape and act elementwise:

    .. math::
        \mu = \tfrac1m \textstyle\sum x,\quad \sigma^2 = \tfrac1m \sum (x - \mu)^2,\quad
        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}},\quad
        y = \gamma \odot \hat x + \beta

    The VJP, with :math:`\hat g = \bar y \odot \gamma` and means over the normalised axes:

    .. math::
        \bar x = \frac{1}{\sqrt{\sigma^2+\epsilon}}
                 \Big(\hat g - \operatorname{mean}(\hat g)
                      - \hat x \operatorname{mean}(\hat g \odot \hat x)\Big),\qquad
        \bar\gamma = \textstyle\sum_{\text{lead}} \bar y \odot \hat x,\qquad
        \bar\beta = \textstyle\sum_{\text{lead}} \bar y

    The ordinary backward reuses :math:`\hat x` and :math:`1/\sqrt{\sigma^2+\epsilon}` saved
    by the forward; under ``create_graph`` they are recomputed from ``x`` on Tensors, so the
    VJP is itself differentiable. ``weight`` and ``bias`` may be None.

    >>> import tensorgraph as tg
    >>> y = tg.ops.normalization.layer_norm(tg.tensor([[1.0, 3.0]]), None, None, axis=(1,))
    >>> y.numpy().round(4).tolist()
    [[-1.0, 1.0]]
    """

    name = "layer_norm"
    array_params = frozenset()
    domain = Domain(nargs=3, shapes=_ln_shapes, params=_ln_params, distinct=True, margin=0.2,
                    edges={1: (0.0, 1.0), 2: (0.0,)}, empty=False)
    saves_ctx = True

    @staticmethod
    def forward(x: Any, weight: Any = None, bias: Any = None, axis: tuple[int, ...] = (-1,),
                eps: float = 1e-5) -> Any:
        xhat, inv_std = _normalise(x, axis, eps)
        # a fresh output array: it must not alias xhat, which the backward reads
        out = xhat.copy() if weight is None else xhat * weight
        if bias is not None:
            out += bias
        return out, (xhat, inv_std)

    @staticmethod
    def reference(x: Any, weight: Any = None, bias: Any = None, axis: tuple[int, ...] = (-1,),
                  eps: float = 1e-5) -> Any:
        y = (x - x.mean(axis=axis, keepdims=True)) / np.sqrt(x.var(axis=axis, keepdims=True)
                                                             + eps)
        if weight is not None:
            y = y * weight
        return y if bias is None else y + bias

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> Sequence[Any]:
        x, weight = inputs[0], inputs[1]
        axis = params.get("axis", (-1,))
        if ctx is None:  # create_graph: recompute on Tensors so the VJP is differentiable
            xhat, inv_std = _normalise(x, axis, params.get("eps", 1e-5))
        else:
            xhat, inv_std = ctx
        result: list[Any] = [None] * len(needs)
        if needs[0]:
            g = grad if weight is None else grad * weight
            mean_g = np.mean(g, axis=axis, keepdims=True)
            mean_gx = np.mean(g * xhat, axis=axis, keepdims=True)
            result[0] = inv_std * (g - mean_g - xhat * mean_gx)
        if len(needs) > 1 and needs[1]:
            result[1] = grad * xhat  # the engine sums it over the leading axes
        if len(needs) > 2 and needs[2]:
            result[2] = grad
        return result


def layer_norm(x: Any, weight: Any = None, bias: Any = None, axis: tuple[int, ...] = (-1,),
               eps: float = 1e-5) -> Any:
    """Layer normalisation over ``axis`` as one node; see :class:`LayerNorm`."""
    return LayerNorm.apply(x, weight, bias, axis=tuple(axis), eps=eps)
