r"""Fused neural-network ops: a linear layer, batch normalisation and the losses.

Each op computes in one node what would otherwise be a chain of primitives, with a
hand-derived VJP; each carries, as ``reference``, the composite numpy computation it must
agree with. The VJPs use only numpy calls that Tensor dispatches, so the same code gives
second derivatives under ``create_graph=True``.

Argument checking lives in :mod:`tensorgraph.nn.functional`, which is the public face of
these ops; the op functions here assume valid shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._base import Domain, Op, register
from .elementwise import stable_sigmoid

__all__ = [
    "batch_norm", "binary_cross_entropy_with_logits", "cross_entropy_labels",
    "cross_entropy_probs", "linear", "nll_loss", "sum_of_squares",
]  # fmt: skip

DrawInt = Callable[[int, int], int]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


# --------------------------------------------------------------------------- linear
def _linear_shapes(draw_int: DrawInt) -> Sequence[tuple[int, ...]]:
    n_in, n_out = draw_int(1, 4), draw_int(1, 4)
    lead = [(), (draw_int(1, 4),), (draw_int(1, 3), draw_int(1, 3))][draw_int(0, 2)]
    return [(*lead, n_in), (n_out, n_in), (n_out,)]


@register
class Linear(Op):
    r"""Affine map of the last axis, :math:`y = x W^\top + b`, in one node.

    ``x`` has shape ``(..., in)``, ``weight`` ``(out, in)`` (PyTorch's layout), ``bias``
    ``(out,)`` or None.

    .. math::
        \bar x = \bar y\, W,\qquad
        \bar W = \textstyle\sum_{\text{rows}} \bar y^\top x,\qquad
        \bar b = \textstyle\sum_{\text{rows}} \bar y

    where the sums run over every leading (batch) axis of ``x``.

    >>> import tensorgraph as tg
    >>> tg.ops.nn_ops.linear(tg.ones((2, 3)), tg.ones((4, 3)), tg.zeros(4)).shape
    (2, 4)
    """

    name = "linear"
    domain = Domain(nargs=3, shapes=_linear_shapes, min_rank=1, edges=(0.0,))

    @staticmethod
    def forward(x: Any, weight: Any, bias: Any = None) -> Any:
        out = np.matmul(x, weight.T)
        if bias is not None:
            out += bias  # the matmul result is a fresh array: add in place
        return out

    @staticmethod
    def reference(x: Any, weight: Any, bias: Any = None) -> Any:
        return x @ weight.T + (0 if bias is None else bias)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, weight: Any, bias: Any = None) -> Any:
        return grad @ weight

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, weight: Any, bias: Any = None) -> Any:
        # flatten the batch axes so one matmul sums over all of them
        n_out, n_in = weight.shape
        # the batch size is spelled out: reshape(-1, 0) is ambiguous when in_features is 0
        batch = int(np.prod(x.shape[:-1]))
        return grad.reshape(batch, n_out).T @ x.reshape(batch, n_in)

    @staticmethod
    def vjp_2(grad: Any, out: Any, x: Any, weight: Any, bias: Any = None) -> Any:
        return grad  # the engine sums it over the batch axes


def linear(x: Any, weight: Any, bias: Any = None) -> Any:
    """``x @ weight.T + bias`` as one node; see :class:`Linear`."""
    return Linear.apply(x, weight, bias)


# --------------------------------------------------------------------------- batch norm
def _bn_shapes(draw_int: DrawInt) -> Sequence[tuple[int, ...]]:
    n, c = draw_int(3, 5), draw_int(1, 3)
    x = (n, c) if draw_int(0, 1) == 0 else (n, c, draw_int(1, 3))
    return [x, (c,), (c,)]


def _bn_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    axis = (0,) if len(shapes[0]) == 2 else (0, 2)
    return [{"axis": axis, "eps": 1e-5}, {"axis": axis, "eps": 0.1}]


def _channel_shape(shape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel vector against ``shape``: (1, C) or (1, C, 1)."""
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _normalise(x: Any, axis: tuple[int, ...], eps: float) -> tuple[Any, Any]:
    """Return ``xhat`` and ``1/sqrt(var + eps)`` from the batch statistics of ``x``."""
    mean = np.mean(x, axis=axis, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, axis=axis, keepdims=True)
    inv_std = 1 / np.sqrt(var + eps)
    return centred * inv_std, inv_std


@register
class BatchNorm(Op):
    r"""Batch normalisation in training mode, with its closed-form VJP.

    The statistics are taken over ``axis`` (``(0,)`` for ``(N, C)`` input, ``(0, 2)`` for
    ``(N, C, L)``), each channel on its own; :math:`m` is the number of values per channel.

    .. math::
        \mu = \frac1m \sum x,\quad \sigma^2 = \frac1m \sum (x - \mu)^2,\quad
        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}},\quad
        y = \gamma \hat x + \beta

    The variance is the biased one (divided by :math:`m`), as PyTorch. The VJP, with
    sums over ``axis``:

    .. math::
        \bar\beta = \sum \bar y,\qquad \bar\gamma = \sum \bar y \odot \hat x,\qquad
        \bar x = \frac{\gamma}{m \sqrt{\sigma^2+\epsilon}}
                 \Big(m\,\bar y - \sum \bar y - \hat x \sum \bar y \odot \hat x\Big)

    The ordinary backward reuses :math:`\hat x` and :math:`1/\sqrt{\sigma^2+\epsilon}`
    saved by the forward; under ``create_graph`` they are recomputed from ``x`` so the
    VJP is itself differentiable. ``gamma`` and ``beta`` may be None (no affine part).
    ``mean`` and ``var`` may pass the batch's own (biased) statistics, shaped like the
    reduction with ``keepdims=True``, when the caller has computed them already.

    >>> import tensorgraph as tg
    >>> y = tg.ops.nn_ops.batch_norm(tg.tensor([[1.0], [3.0]]), None, None, axis=(0,))
    >>> y.numpy().ravel().round(4).tolist()
    [-1.0, 1.0]
    """

    name = "batch_norm"
    array_params = frozenset({"mean", "var", "eps"})
    domain = Domain(nargs=3, shapes=_bn_shapes, params=_bn_params, distinct=True, margin=0.2,
                    edges={1: (0.0, 1.0), 2: (0.0,)}, empty=False)
    saves_ctx = True

    @staticmethod
    def forward(x: Any, gamma: Any = None, beta: Any = None, axis: tuple[int, ...] = (0,),
                eps: float = 1e-5, mean: Any = None, var: Any = None) -> Any:
        if mean is None or var is None:
            xhat, inv_std = _normalise(x, axis, eps)
        else:
            inv_std = 1 / np.sqrt(var + eps)
            xhat = x - mean
            xhat *= inv_std
        cshape = _channel_shape(x.shape, axis)
        # a fresh output array: it must not alias xhat, which the backward reads
        out = xhat.copy() if gamma is None else xhat * gamma.reshape(cshape)
        if beta is not None:
            out += beta.reshape(cshape)
        return out, (xhat, inv_std)

    @staticmethod
    def reference(x: Any, gamma: Any = None, beta: Any = None, axis: tuple[int, ...] = (0,),
                  eps: float = 1e-5, mean: Any = None, var: Any = None) -> Any:
        cshape = _channel_shape(x.shape, axis)
        mu = x.mean(axis=axis, keepdims=True)
        y = (x - mu) / np.sqrt(x.var(axis=axis, keepdims=True) + eps)
        if gamma is not None:
            y = y * gamma.reshape(cshape)
        return y if beta is None else y + beta.reshape(cshape)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> Sequence[Any]:
        x, gamma, _ = inputs
        axis = params.get("axis", (0,))
        if ctx is None:  # create_graph: recompute on Tensors so the VJP is differentiable
            xhat, inv_std = _normalise(x, axis, params.get("eps", 1e-5))
        else:
            xhat, inv_std = ctx
        sum_g = np.sum(grad, axis=axis, keepdims=True)
        sum_gx = np.sum(grad * xhat, axis=axis, keepdims=True)
        result: list[Any] = [None, None, None]
        if needs[0]:
            m = math.prod(x.shape[a] for a in axis)
            scale = inv_std if gamma is None else gamma.reshape(sum_g.shape) * inv_std
            result[0] = (scale / m) * (m * grad - sum_g - xhat * sum_gx)
        if needs[1]:
            result[1] = sum_gx.reshape(gamma.shape)
        if len(needs) > 2 and needs[2]:
            result[2] = sum_g.reshape(inputs[2].shape)
        return result


def batch_norm(x: Any, gamma: Any = None, beta: Any = None, axis: tuple[int, ...] = (0,),
               eps: float = 1e-5, mean: Any = None, var: Any = None) -> Any:
    """Training-mode batch normalisation as one node; see :class:`BatchNorm`."""
    return BatchNorm.apply(x, gamma, beta, axis=tuple(axis), eps=eps, mean=mean, var=var)


# --------------------------------------------------------------------------- L2
@register
class SumOfSquares(Op):
    r"""The squared Frobenius norm :math:`z = \sum_i x_i^2` of a whole tensor, in one node.

    .. math:: \bar x = 2\,\bar z\, x

    The L2 cost :func:`tensorgraph.nn.l2_penalty` is built from it: as ``(x * x).sum()``
    it would be two nodes whose backward makes two full-size products (one per factor)
    and a sum of them; here it is one node and one product.

    >>> import tensorgraph as tg
    >>> float(tg.ops.nn_ops.sum_of_squares(tg.tensor([[1.0, 2.0], [3.0, 4.0]])))
    30.0
    """

    name = "sum_of_squares"
    domain = Domain(edges=(0.0,))

    @staticmethod
    def forward(x: Any) -> Any:
        # a dot product of the flattened array: one pass, no squared temporary
        return np.asarray(np.vdot(x, x), dtype=x.dtype)

    @staticmethod
    def reference(x: Any) -> Any:
        return np.sum(x * x)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return (grad * 2) * x


def sum_of_squares(x: Any) -> Any:
    """``sum(x ** 2)`` over every element as one node; see :class:`SumOfSquares`."""
    return SumOfSquares.apply(x)


# --------------------------------------------------------------------------- losses
@register
class BinaryCrossEntropyWithLogits(Op):
    r"""Elementwise binary cross-entropy of logits ``z`` against targets ``y`` in [0, 1].

    Written so that no exponential can overflow, for any logit:

    .. math::
        \ell = -y \ln\sigma(z) - (1-y)\ln(1-\sigma(z))
             = \max(z, 0) - z y + \ln\!\big(1 + e^{-|z|}\big)

    .. math:: \bar z = \bar\ell\,(\sigma(z) - y),\qquad \bar y = -\bar\ell\, z

    >>> import tensorgraph as tg
    >>> tg.ops.nn_ops.binary_cross_entropy_with_logits(tg.tensor([1000.0, -1000.0]),
    ...                                                tg.tensor([1.0, 1.0]))
    tensor([   0., 1000.], dtype=float32)
    """

    name = "binary_cross_entropy_with_logits"
    # sigma is computed through |z|: the interior draws keep z off 0; the edge draws visit it
    # (the loss is smooth there, so both orders must hold)
    domain = Domain(nargs=2, shapes="same", ranges={0: (-4.0, 4.0), 1: (0.0, 1.0)},
                    avoid=(0.0,), edges={0: (0.0,), 1: (0.0, 1.0)})

    @staticmethod
    def forward(z: Any, y: Any) -> Any:
        out = np.log1p(np.exp(-np.abs(z)))
        out += np.maximum(z, 0)
        out -= z * y
        return out

    @staticmethod
    def reference(z: Any, y: Any) -> Any:
        p = 1 / (1 + np.exp(-z))
        return -(y * np.log(p) + (1 - y) * np.log(1 - p))

    @staticmethod
    def vjp_0(grad: Any, out: Any, z: Any, y: Any) -> Any:
        return grad * (stable_sigmoid(z) - y)

    @staticmethod
    def vjp_1(grad: Any, out: Any, z: Any, y: Any) -> Any:
        return -grad * z


def binary_cross_entropy_with_logits(z: Any, y: Any) -> Any:
    """Elementwise BCE of logits; see :class:`BinaryCrossEntropyWithLogits`."""
    return BinaryCrossEntropyWithLogits.apply(z, y)


def _class_shapes(draw_int: DrawInt) -> Sequence[tuple[int, ...]]:
    n, c = draw_int(1, 4), draw_int(2, 4)
    return [(n, c)] if draw_int(0, 1) == 0 else [(n, c, draw_int(1, 3))]


def _label_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    shape = shapes[0]
    target = (shape[0], *shape[2:])
    size, c = math.prod(target), shape[1]
    return [{"labels": (np.arange(size) % c).reshape(target)},
            {"labels": ((np.arange(size) * 7 + 1) % c).reshape(target)}]


def _log_softmax(z: Any) -> Any:
    """log-softmax over axis 1 from dispatchable numpy calls (arrays or Tensors)."""
    shifted = z - np.max(z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Boolean one-hot of integer ``labels`` along a new axis 1."""
    cshape = [1] * (labels.ndim + 1)
    cshape[1] = n_classes
    onehot: np.ndarray = np.expand_dims(labels, 1) == np.arange(n_classes).reshape(cshape)
    return onehot


@register
class CrossEntropyLabels(Op):
    r"""Cross-entropy of logits ``z`` (classes on axis 1) against integer class labels.

    One value per sample (reduction is left to the caller):

    .. math::
        \ell_n = -\log \operatorname{softmax}(z_n)_{y_n}
               = -z_{n y_n} + \log \textstyle\sum_c e^{z_{nc}},\qquad
        \bar z_n = \bar\ell_n \big(\operatorname{softmax}(z_n) - \operatorname{onehot}(y_n)\big)

    The labels are a parameter (``labels=``), not an input: they carry no gradient.

    >>> import numpy as np, tensorgraph as tg
    >>> tg.ops.nn_ops.cross_entropy_labels(tg.zeros((1, 4)), np.array([2]))
    tensor([1.3862944], dtype=float32)
    """

    name = "cross_entropy_labels"
    array_params = frozenset({"labels"})
    domain = Domain(shapes=_class_shapes, params=_label_params, min_rank=2)
    saves_ctx = True

    @staticmethod
    def forward(z: Any, labels: Any = None) -> Any:
        logp = _log_softmax(z)
        picked = np.take_along_axis(logp, np.expand_dims(labels, 1), axis=1)
        return -np.squeeze(picked, 1), logp

    @staticmethod
    def reference(z: Any, labels: Any = None) -> Any:
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -np.sum(logp * _one_hot(labels, z.shape[1]), axis=1)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> Sequence[Any]:
        z = inputs[0]
        logp = _log_softmax(z) if ctx is None else ctx
        onehot = _one_hot(params["labels"], z.shape[1])
        return [np.expand_dims(grad, 1) * (np.exp(logp) - onehot)]


def cross_entropy_labels(z: Any, labels: np.ndarray) -> Any:
    """Per-sample cross-entropy with integer labels; see :class:`CrossEntropyLabels`."""
    return CrossEntropyLabels.apply(z, labels=labels)


def _soft_shapes(draw_int: DrawInt) -> Sequence[tuple[int, ...]]:
    (shape,) = _class_shapes(draw_int)
    return [shape, shape]


@register
class CrossEntropyProbs(Op):
    r"""Cross-entropy of logits ``z`` (classes on axis 1) against target probabilities ``t``
    (one-hot or soft labels, same shape as ``z``).

    .. math::
        \ell_n = -\textstyle\sum_c t_{nc} \log\operatorname{softmax}(z_n)_c,\qquad
        \bar z_n = \bar\ell_n \big(\operatorname{softmax}(z_n) \textstyle\sum_c t_{nc}
                   - t_n\big),\qquad
        \bar t_n = -\bar\ell_n \log\operatorname{softmax}(z_n)

    >>> import tensorgraph as tg
    >>> tg.ops.nn_ops.cross_entropy_probs(tg.zeros((1, 2)), tg.tensor([[0.0, 1.0]]))
    tensor([0.6931472], dtype=float32)
    """

    name = "cross_entropy_probs"
    domain = Domain(nargs=2, shapes=_soft_shapes, ranges={1: (0.0, 1.0)}, min_rank=2,
                    edges={0: (0.0,), 1: (0.0, 1.0)})
    saves_ctx = True

    @staticmethod
    def forward(z: Any, t: Any) -> Any:
        logp = _log_softmax(z)
        return -np.sum(t * logp, axis=1), logp

    @staticmethod
    def reference(z: Any, t: Any) -> Any:
        p = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
        return -np.sum(t * np.log(p), axis=1)

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> Sequence[Any]:
        z, t = inputs
        logp = _log_softmax(z) if ctx is None else ctx
        g = np.expand_dims(grad, 1)
        gz = g * (np.exp(logp) * np.sum(t, axis=1, keepdims=True) - t) if needs[0] else None
        gt = -g * logp if needs[1] else None
        return [gz, gt]


def cross_entropy_probs(z: Any, t: Any) -> Any:
    """Per-sample cross-entropy with probability targets; see :class:`CrossEntropyProbs`."""
    return CrossEntropyProbs.apply(z, t)


def _nll_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    plain = _label_params(shapes)
    c = shapes[0][1]
    weight = np.linspace(0.5, 2.0, c)
    first = plain[0]["labels"]
    return [*plain, {"labels": first, "weight": weight},
            {"labels": first, "weight": weight, "ignore_index": 1},
            {"labels": first, "ignore_index": 0}]


def _nll_scale(labels: np.ndarray, weight: Any, ignore_index: int | None
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels safe to index with (ignored ones set to 0), and the per-sample factor
    ``weight[label]`` (0 where ignored), or None when every factor is 1."""
    if ignore_index is None and weight is None:
        return labels, None
    keep = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    safe = np.where(keep, labels, 0)
    scale = keep.astype(np.float64) if weight is None else np.where(keep, weight[safe], 0)
    return safe, scale


@register
class NllLoss(Op):
    r"""Negative log-likelihood of log-probabilities ``x`` (classes on axis 1) at the
    integer ``labels``, one value per sample, optionally weighted per class by ``weight``
    :math:`w` and with samples whose label is ``ignore_index`` contributing 0 (as PyTorch):

    .. math:: \ell_n = -w_{y_n} x_{n y_n},\qquad
              \bar x_n = -\bar\ell_n\,w_{y_n}\operatorname{onehot}(y_n)

    >>> import numpy as np, tensorgraph as tg
    >>> tg.ops.nn_ops.nll_loss(tg.tensor([[-1.0, -2.0]]), np.array([1]))
    tensor([2.], dtype=float32)
    """

    name = "nll_loss"
    array_params = frozenset({"labels", "weight"})
    domain = Domain(shapes=_class_shapes, params=_nll_params, min_rank=2)

    @staticmethod
    def forward(x: Any, labels: Any = None, weight: Any = None,
                ignore_index: int | None = None) -> Any:
        safe, scale = _nll_scale(labels, weight, ignore_index)
        picked = -np.squeeze(np.take_along_axis(x, np.expand_dims(safe, 1), axis=1), 1)
        if scale is None:
            return picked
        # where, not a product: an ignored sample gives 0 even if its picked value is inf
        return np.where(scale != 0, picked * scale.astype(x.dtype), 0).astype(x.dtype)

    @staticmethod
    def reference(x: Any, labels: Any = None, weight: Any = None,
                  ignore_index: int | None = None) -> Any:
        safe, scale = _nll_scale(labels, weight, ignore_index)
        per = -np.sum(x * _one_hot(safe, x.shape[1]), axis=1)
        return per if scale is None else (per * scale).astype(x.dtype)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, labels: Any = None, weight: Any = None,
              ignore_index: int | None = None) -> Any:
        safe, scale = _nll_scale(labels, weight, ignore_index)
        if scale is not None:
            grad = grad * scale.astype(x.dtype)
        return -np.expand_dims(grad, 1) * _one_hot(safe, x.shape[1])


def nll_loss(x: Any, labels: np.ndarray, weight: Any = None,
             ignore_index: int | None = None) -> Any:
    """Per-sample NLL at integer labels (optionally class-weighted, with an ignored label);
    see :class:`NllLoss`."""
    if weight is None and ignore_index is None:
        return NllLoss.apply(x, labels=labels)
    return NllLoss.apply(x, labels=labels, weight=weight, ignore_index=ignore_index)
