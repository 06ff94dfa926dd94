r"""Convolution (PyTorch's cross-correlation) over 1 or 2 spatial axes, as fused ops.

Layout and weight shape are PyTorch's: input ``(N, C, *S)``, weight ``(O, C / groups, *K)``,
bias ``(O,)``, output ``(N, O, *P)``. With :math:`x_p` the zero-padded input, :math:`g` the
group of output channel :math:`o` and :math:`c` running over the channels of that group:

.. math::
    y[n, o, p] = b[o] + \sum_{c, k} w[o, c, k]\; x_p[n, c, p \cdot s + k \cdot d]

The forward is *im2col*: the windows of :math:`x_p` (a strided view, see
:mod:`~tensorgraph.ops._windows`) are copied once into a matrix of shape
``(groups, C/groups * K, N * P)``, which the weight seen as ``(groups, O/groups,
C/groups * K)`` multiplies: one BLAS matrix product per group. The convolution is bilinear,
so its VJPs are convolutions again: with :math:`\bar y` the incoming gradient,

.. math::
    \bar w[o, c, k] = \sum_{n, p} \bar y[n, o, p]\; x_p[n, c, p \cdot s + k \cdot d],\qquad
    \bar b[o] = \sum_{n, p} \bar y[n, o, p],

.. math::
    \bar x_p[n, c, i] = \sum_{o, k, p \,:\, p s + k d = i} \bar y[n, o, p]\; w[o, c, k]

(:math:`\bar x` is :math:`\bar x_p` without the padding): :math:`\bar w` is a matrix product
with the same windows (saved by the forward), :math:`\bar x` a transposed convolution, the
product :math:`\bar y\, w` scattered back by *col2im*. Both are written on ``windows``,
``col2im``, ``matmul``, ``reshape`` and ``transpose``, which all run on Tensors, so under
``create_graph=True`` the VJPs are themselves differentiated: second derivatives are exact.

The functions with argument checking are :func:`tensorgraph.nn.functional.conv1d` and
:func:`~tensorgraph.nn.functional.conv2d`; the ops here take normalised parameters: tuples
``stride`` and ``dilation``, ``padding`` as one ``(before, after)`` pair per spatial axis
(``"same"`` with an even kernel pads one more after than before, as PyTorch), ``groups``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._base import Domain, Op, register
from ._windows import Pairs, col2im, crop, is_tensor, out_size, pad_spatial, windows

__all__ = ["Conv1d", "Conv2d", "conv_nd"]

DrawInt = Callable[[int, int], int]


def _im2col(x: Any, kernel: Sequence[int], stride: tuple[int, ...], padding: Pairs,
            dilation: tuple[int, ...], groups: int) -> Any:
    """The im2col matrix ``(groups, C/g * prod K, N * prod P)`` of ``x``.

    Rows are (channel, kernel offset), columns (sample, output position): this order copies
    the windows' view with the output positions innermost, which are contiguous in ``x`` at
    stride 1, several times faster than the (sample, position) x (channel, offset) order.
    """
    n, c = x.shape[:2]
    rank = len(kernel)
    view = windows(pad_spatial(x, padding), kernel, stride, dilation)  # (N, C, *P, *K)
    positions = math.prod(view.shape[2:2 + rank])
    order = (1, *range(2 + rank, 2 + 2 * rank), 0, *range(2, 2 + rank))
    return view.transpose(order).reshape((groups, c // groups * math.prod(kernel),
                                          n * positions))


def _weight_matrix(w: Any, groups: int) -> Any:
    """Weight ``(O, C/g, *K)`` as ``(groups, O/g, C/g * prod K)``."""
    o = w.shape[0]
    return w.reshape((groups, o // groups, math.prod(w.shape[1:])))


def _grad_matrix(grad: Any, groups: int) -> Any:
    """Output gradient ``(N, O, *P)`` as ``(groups, O/g, N * prod P)``."""
    n, o = grad.shape[:2]
    rank = grad.ndim - 2
    return grad.transpose((1, 0, *range(2, 2 + rank))).reshape(
        (groups, o // groups, n * math.prod(grad.shape[2:])))


def conv_nd(x: Any, w: Any, b: Any, stride: tuple[int, ...], padding: Pairs,
            dilation: tuple[int, ...], groups: int) -> tuple[Any, Any]:
    """The convolution and its im2col matrix (what the weight's VJP reuses)."""
    n, o = x.shape[0], w.shape[0]
    kernel = w.shape[2:]
    rank = len(kernel)
    cols = _im2col(x, kernel, stride, padding, dilation, groups)
    if np.may_share_memory(cols, x):  # a 1x1 kernel's windows are x itself: keep our own
        cols = cols.copy()
    spatial = [out_size(size, k, s, pad, d) for size, k, s, pad, d
               in zip(x.shape[2:], kernel, stride, padding, dilation)]
    # (g, Og, Cg K) @ (g, Cg K, N P): one matrix product per group
    y = (_weight_matrix(w, groups) @ cols).reshape((o, n, *spatial))
    y = y.transpose((1, 0, *range(2, 2 + rank)))
    if b is not None:
        y = y + b.reshape((1, o) + (1,) * rank)
    return y, cols


def _input_grad(grad: Any, w: Any, x_shape: tuple[int, ...], stride: tuple[int, ...],
                padding: Pairs, dilation: tuple[int, ...], groups: int) -> Any:
    """:math:`\\bar x`: the transposed convolution of ``grad`` with ``w``, by col2im."""
    n, c = x_shape[:2]
    kernel, spatial = w.shape[2:], grad.shape[2:]
    rank = len(kernel)
    # (g, Cg K, Og) @ (g, Og, N P): the gradient of the im2col matrix
    gcols = _weight_matrix(w, groups).transpose((0, 2, 1)) @ _grad_matrix(grad, groups)
    # back to the windows' layout (N, C, *P, *K), as a view
    gcols = gcols.reshape((c, *kernel, n, *spatial)).transpose(
        (rank + 1, 0, *range(rank + 2, 2 * rank + 2), *range(1, rank + 1)))
    padded = [size + lo + hi for size, (lo, hi) in zip(x_shape[2:], padding)]
    return crop(col2im(gcols, padded, stride, dilation), padding)


def _weight_grad(grad: Any, cols: Any, w_shape: tuple[int, ...], groups: int) -> Any:
    """:math:`\\bar w`: ``grad`` against the im2col matrix, summed over batch and positions."""
    # (g, Og, N P) @ (g, N P, Cg K)
    return (_grad_matrix(grad, groups) @ cols.transpose((0, 2, 1))).reshape(w_shape)


class _Conv(Op):
    """The convolution over ``rank`` spatial axes (subclassed once per rank)."""

    array_params = frozenset()
    saves_ctx = True

    @staticmethod
    def forward(x: Any, w: Any, b: Any = None, stride: tuple[int, ...] = (1,),
                padding: Pairs = ((0, 0),), dilation: tuple[int, ...] = (1,),
                groups: int = 1) -> Any:
        return conv_nd(x, w, b, stride, padding, dilation, groups)

    @staticmethod
    def reference(x: Any, w: Any, b: Any = None, stride: tuple[int, ...] = (1,),
                  padding: Pairs = ((0, 0),), dilation: tuple[int, ...] = (1,),
                  groups: int = 1) -> Any:
        """The definition, one output position at a time (no im2col, no matmul)."""
        xp = np.pad(x, ((0, 0), (0, 0), *padding))
        n, o = x.shape[0], w.shape[0]
        cg, kernel = w.shape[1], w.shape[2:]
        og = o // groups
        spatial = [out_size(size, k, s, pad, d) for size, k, s, pad, d
                   in zip(x.shape[2:], kernel, stride, padding, dilation)]
        y = np.zeros((n, o, *spatial), dtype=np.result_type(x, w))
        for oc in range(o):
            group = oc // og
            channels = slice(group * cg, (group + 1) * cg)
            for pos in itertools.product(*(range(s) for s in spatial)):
                index = tuple(slice(p * s, p * s + d * (k - 1) + 1, d)
                              for p, s, d, k in zip(pos, stride, dilation, kernel))
                patch = xp[(slice(None), channels, *index)]
                target: tuple[Any, ...] = (slice(None), oc, *pos)
                y[target] = np.sum(patch * w[oc], axis=tuple(
                    range(1, patch.ndim)))
        if b is not None:
            y = y + b.reshape((1, o) + (1,) * len(spatial))
        return y

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Sequence[Any], needs: Sequence[bool],
            params: dict[str, Any], ctx: Any) -> Sequence[Any]:
        x, w = inputs[0], inputs[1]
        stride, padding = params["stride"], params["padding"]
        dilation, groups = params["dilation"], params["groups"]
        result: list[Any] = [None] * len(inputs)
        if needs[0]:
            result[0] = _input_grad(grad, w, tuple(x.shape), stride, padding, dilation, groups)
        if needs[1]:
            if ctx is None or is_tensor(grad):  # create_graph: windows of x as a Tensor
                ctx = _im2col(x, w.shape[2:], stride, padding, dilation, groups)
            result[1] = _weight_grad(grad, ctx, tuple(w.shape), groups)
        if len(inputs) > 2 and needs[2]:
            result[2] = np.sum(grad, axis=(0, *range(2, grad.ndim)))
        return result


# --------------------------------------------------------------------------- domains
def _conv_shapes(rank: int) -> Callable[[DrawInt], Sequence[tuple[int, ...]]]:
    def shapes(draw_int: DrawInt) -> Sequence[tuple[int, ...]]:
        # side lengths drawn over [1, 4] may come back 0 in the empty-array draws (batch,
        # channels per group); min() keeps the Jacobians small
        n = min(draw_int(1, 4), 2)
        groups = draw_int(1, 2)
        cg, og = min(draw_int(1, 4), 2), min(draw_int(1, 4), 2)
        kernel = tuple(draw_int(1, 3) for _ in range(rank))
        spatial = tuple(draw_int(1, 5) for _ in range(rank))
        return [(n, groups * cg, *spatial), (groups * og, cg, *kernel), (groups * og,)]

    return shapes


def _conv_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    x, w = shapes[0], shapes[1]
    rank = len(x) - 2
    if rank < 1 or len(w) != rank + 2:  # shapes no convolution takes: no parameters fit
        return []
    c, o, cg = x[1], w[0], w[1]
    # no input channels: any group count dividing the outputs describes the case
    groups = [c // cg] if cg else [g for g in (1, 2) if o % g == 0]
    ones, twos = (1,) * rank, (2,) * rank
    steps = [ones, twos] + ([(1, 2)] if rank == 2 else [])
    pads: list[Pairs] = [((0, 0),) * rank, ((1, 1),) * rank, ((0, 1),) * rank]
    if rank == 2:
        pads.append(((2, 0), (0, 0)))
    found = []
    for stride, dilation, padding, g in itertools.product(steps, steps, pads, groups):
        sizes = [out_size(*args) for args in zip(x[2:], w[2:], stride, padding, dilation)]
        if all(s >= 1 for s in sizes):
            found.append({"stride": stride, "padding": padding, "dilation": dilation,
                          "groups": g})
    return found


def _domain(rank: int) -> Domain:
    # bilinear, smooth everywhere: exact zeros (dead pixels, pruned weights) are edges
    return Domain(nargs=3, shapes=_conv_shapes(rank), params=_conv_params, min_rank=rank + 2,
                  edges=(0.0,))


@register
class Conv1d(_Conv):
    r"""1-d convolution of ``(N, C, L)`` input with an ``(O, C/groups, K)`` weight.

    .. math:: y[n, o, p] = b[o] + \sum_{c, k} w[o, c, k]\, x_p[n, c, p s + k d]

    VJPs as in the module docstring: :math:`\bar w` from the im2col matrix, :math:`\bar x` by
    col2im of :math:`\bar y\, w`, :math:`\bar b = \sum_{n,p} \bar y`.

    >>> import tensorgraph as tg
    >>> from tensorgraph.ops.conv import Conv1d
    >>> Conv1d.apply(tg.ones((1, 1, 4)), tg.ones((1, 1, 2)), None, stride=(1,),
    ...              padding=((0, 0),), dilation=(1,), groups=1)
    tensor([[[2., 2., 2.]]], dtype=float32)
    """

    name = "conv1d"
    domain = _domain(1)


@register
class Conv2d(_Conv):
    r"""2-d convolution of ``(N, C, H, W)`` input with an ``(O, C/groups, KH, KW)`` weight.

    .. math:: y[n, o, i, j] = b[o] + \sum_{c, k, l} w[o, c, k, l]\,
              x_p[n, c, i s_h + k d_h, j s_w + l d_w]

    VJPs as in the module docstring: :math:`\bar w` from the im2col matrix, :math:`\bar x` by
    col2im of :math:`\bar y\, w`, :math:`\bar b = \sum_{n,i,j} \bar y`.

    >>> import tensorgraph as tg
    >>> from tensorgraph.ops.conv import Conv2d
    >>> Conv2d.apply(tg.ones((1, 1, 3, 3)), tg.ones((1, 1, 2, 2)), None, stride=(1, 1),
    ...              padding=((0, 0), (0, 0)), dilation=(1, 1), groups=1).shape
    (1, 1, 2, 2)
    """

    name = "conv2d"
    domain = _domain(2)
