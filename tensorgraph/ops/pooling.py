r"""Pooling over the two spatial axes of ``(N, C, H, W)`` input, as fused ops.

- :class:`MaxPool2d`: the maximum of each window; padding is ``-inf`` (it never wins), as
  PyTorch. Where several elements of a window tie for its maximum, **the window's gradient is
  shared equally among them** (tensorgraph's rule for ``max``); PyTorch gives it all to one
  of them (the first in row-major order on the CPU). Both agree wherever the maximum is
  unique, and the sum of the gradient over a tie is the same.
- :class:`AvgPool2d`: the mean of each window; padding is 0 and, with
  ``count_include_pad=True`` (PyTorch's default), counts in the divisor ``kh * kw``; with
  ``False`` the divisor is the number of input elements in the window; ``divisor_override``
  replaces either.
- :class:`AdaptiveAvgPool2d`: output row ``i`` of ``oh`` averages input rows
  ``floor(i H / oh)`` to ``ceil((i + 1) H / oh)`` (end excluded), PyTorch's formula, and the
  same for columns. It is linear and separable: :math:`y = A_h\, x\, A_w^\top`.

The VJPs add the window gradients back with ``tap_sum`` (see
:mod:`~tensorgraph.ops._windows`) or multiply by the averaging matrices; both run on
Tensors, so the ops have second derivatives (max pooling's selection is constant almost
everywhere, so its second derivative with respect to ``x`` is 0).

The ops take normalised parameters (tuples, ``padding`` as ``(before, after)`` pairs); the
argument checking is in :mod:`tensorgraph.nn.functional`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor
from ._base import Domain, Op, register
from ._windows import Pairs, crop, out_size, pad_spatial, tap_sum, tap_views, windows

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d", "adaptive_matrix"]

DrawInt = Callable[[int, int], int]


def _raw(value: Any) -> Any:
    return value.numpy() if isinstance(value, Tensor) else value


def _pool_shapes(draw_int: DrawInt) -> Sequence[tuple[int, ...]]:
    n, c = min(draw_int(1, 4), 2), min(draw_int(1, 4), 3)
    return [(n, c, draw_int(1, 5), draw_int(1, 5))]


def _window_params(dilations: Sequence[tuple[int, int]] | None,
                   extra: Sequence[dict[str, Any]]
                   ) -> Callable[[Sequence[tuple[int, ...]]], list[dict[str, Any]]]:
    """Kernels, strides, paddings (and dilations, unless None) that fit the drawn shape."""

    def params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
        if len(shapes[0]) != 4:  # not (N, C, H, W): no parameters fit
            return []
        h, w = shapes[0][2:]
        found = []
        for kernel in ((1, 1), (2, 2), (3, 2), (2, 3)):
            for stride, pad, dilation, more in itertools.product(
                    (kernel, (1, 1), (1, 2)), (0, 1), dilations or [(1, 1)], extra):
                if pad > min(kernel) // 2:  # PyTorch's rule: at most half the kernel
                    continue
                padding = ((pad, pad), (pad, pad))
                if all(out_size(*a) >= 1 for a in zip((h, w), kernel, stride, padding,
                                                        dilation)) and \
                        _every_window_sees_input((h, w), kernel, stride, padding, dilation):
                    found.append({"kernel_size": kernel, "stride": stride, "padding": padding,
                                  **({"dilation": dilation} if dilations else {}), **more})
        return found

    return params


def _every_window_sees_input(size: tuple[int, int], kernel: tuple[int, int],
                             stride: tuple[int, int], padding: Pairs,
                             dilation: tuple[int, int]) -> bool:
    """No window lies in the padding alone (a dilated window can): there max pooling gives
    -inf, as PyTorch, whose finite differences are NaN, so the Domain leaves it out."""
    inside = pad_spatial(np.ones((1, 1, *size)), padding)
    return bool(np.all(np.sum(windows(inside, kernel, stride, dilation), axis=(-2, -1)) > 0))


def _window_slices(pos: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                   dilation: Sequence[int]) -> tuple[slice, ...]:
    return tuple(slice(p * s, p * s + d * (k - 1) + 1, d)
                 for p, k, s, d in zip(pos, kernel, stride, dilation))


def _naive_pool(x: Any, kernel: tuple[int, int], stride: tuple[int, int], padding: Pairs,
                dilation: tuple[int, int], value: float, reduce: Callable[[Any], Any]) -> Any:
    """``reduce`` of every window, one output position at a time (the references)."""
    xp = np.pad(x, ((0, 0), (0, 0), *padding), constant_values=value)
    sizes = [out_size(*a) for a in zip(x.shape[2:], kernel, stride, padding, dilation)]
    y = np.zeros((*x.shape[:2], *sizes), dtype=x.dtype)
    for pos in itertools.product(*(range(s) for s in sizes)):
        source: tuple[Any, ...] = (Ellipsis, *_window_slices(pos, kernel, stride, dilation))
        target: tuple[Any, ...] = (Ellipsis, *pos)
        window = xp[source]
        y[target] = reduce(window.reshape((*x.shape[:2], math.prod(window.shape[2:]))))
    return y


def _spread(values: Sequence[Any], x_shape: tuple[int, ...], kernel: tuple[int, int],
            padding: Pairs, stride: tuple[int, int], dilation: tuple[int, int]) -> Any:
    """The gradient of every tap (``(N, C, oh, ow)`` each) added back at the input positions
    it read, and cropped to the input's shape."""
    padded = [n + lo + hi for n, (lo, hi) in zip(x_shape[2:], padding)]
    return crop(tap_sum(values, padded, kernel, stride, dilation), padding)


@register
class MaxPool2d(Op):
    r"""Max pooling: :math:`y[n, c, i, j] = \max_{k, l} x_p[n, c, i s_h + k d_h,
    j s_w + l d_w]` with :math:`x_p` padded by :math:`-\infty`.

    .. math:: \bar x[\ldots, u, v] = \sum_{(i, j)\,:\,(u, v) \text{ ties for the max of
              window } (i, j)} \frac{\bar y[\ldots, i, j]}{\#\text{ties}}

    Ties share a window's gradient equally (PyTorch gives it to one element); a NaN in a
    window is its maximum and takes the gradient, as in ``max``.

    >>> import tensorgraph as tg
    >>> from tensorgraph.ops.pooling import MaxPool2d
    >>> MaxPool2d.apply(tg.arange(16.0).reshape(1, 1, 4, 4), kernel_size=(2, 2),
    ...                 stride=(2, 2), padding=((0, 0), (0, 0)), dilation=(1, 1))
    tensor([[[[ 5.,  7.],
              [13., 15.]]]], dtype=float32)
    """

    name = "max_pool2d"
    array_params = frozenset()
    domain = Domain(shapes=_pool_shapes, min_rank=4, distinct=True,
                    params=_window_params([(1, 1), (2, 1)], [{}]))

    @staticmethod
    def forward(x: Any, kernel_size: tuple[int, int] = (1, 1), stride: tuple[int, int] = (1, 1),
                padding: Pairs = ((0, 0), (0, 0)), dilation: tuple[int, int] = (1, 1)) -> Any:
        taps = tap_views(pad_spatial(x, padding, -np.inf), kernel_size, stride, dilation)
        out = np.array(taps[0], copy=True)
        for tap in taps[1:]:
            np.maximum(out, tap, out=out)  # propagates NaN, as np.max
        return out

    @staticmethod
    def reference(x: Any, kernel_size: tuple[int, int] = (1, 1),
                  stride: tuple[int, int] = (1, 1), padding: Pairs = ((0, 0), (0, 0)),
                  dilation: tuple[int, int] = (1, 1)) -> Any:
        return _naive_pool(x, kernel_size, stride, padding, dilation, -np.inf,
                           lambda w: w.max(axis=-1))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, kernel_size: tuple[int, int] = (1, 1),
              stride: tuple[int, int] = (1, 1), padding: Pairs = ((0, 0), (0, 0)),
              dilation: tuple[int, int] = (1, 1)) -> Any:
        # which elements won: a constant of x (its derivative is 0 almost everywhere)
        taps = tap_views(pad_spatial(_raw(x), padding, -np.inf), kernel_size, stride, dilation)
        best = _raw(out)
        won = [tap == best for tap in taps]
        nan = np.isnan(best)
        if nan.any():  # a NaN is the maximum of its window (NaN == NaN is False)
            won = [w | (nan & np.isnan(tap)) for w, tap in zip(won, taps)]
        share = np.zeros(best.shape, dtype=best.dtype)
        for w in won:
            share += w
        np.reciprocal(share, out=share, where=share > 0)
        return _spread([grad * (w * share) for w in won], tuple(x.shape), kernel_size, padding,
                       stride, dilation)


def _divisor(x_shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int],
             padding: Pairs, count_include_pad: bool, divisor_override: int | None,
             dtype: Any) -> Any:
    """What each window's sum is divided by: a number, or an (oh, ow) array of counts."""
    if divisor_override is not None:
        return divisor_override
    if count_include_pad:
        return math.prod(kernel)
    inside = pad_spatial(np.ones((1, 1, *x_shape[2:]), dtype=dtype), padding)
    return np.sum(windows(inside, kernel, stride, (1, 1)), axis=(-2, -1))[0, 0]


@register
class AvgPool2d(Op):
    r"""Average pooling: :math:`y[n, c, i, j] = \frac1D \sum_{k, l} x_p[n, c, i s_h + k,
    j s_w + l]` with :math:`x_p` padded by 0 and :math:`D` the divisor (``kh * kw`` with
    ``count_include_pad``, else the count of input elements in the window, or
    ``divisor_override``).

    .. math:: \bar x[\ldots, u, v] = \sum_{(i, j) \ni (u, v)} \bar y[\ldots, i, j] / D_{ij}

    >>> import tensorgraph as tg
    >>> from tensorgraph.ops.pooling import AvgPool2d
    >>> AvgPool2d.apply(tg.arange(4.0).reshape(1, 1, 2, 2), kernel_size=(2, 2),
    ...                 stride=(2, 2), padding=((0, 0), (0, 0)))
    tensor([[[[1.5]]]], dtype=float32)
    """

    name = "avg_pool2d"
    array_params = frozenset()
    domain = Domain(shapes=_pool_shapes, min_rank=4, edges=(0.0,), params=_window_params(
        None, [{"count_include_pad": True}, {"count_include_pad": False},
                   {"divisor_override": 3}]))

    @staticmethod
    def forward(x: Any, kernel_size: tuple[int, int] = (1, 1), stride: tuple[int, int] = (1, 1),
                padding: Pairs = ((0, 0), (0, 0)), count_include_pad: bool = True,
                divisor_override: int | None = None) -> Any:
        taps = tap_views(pad_spatial(x, padding), kernel_size, stride, (1, 1))
        total = np.array(taps[0], copy=True)
        for tap in taps[1:]:
            total += tap
        return total / np.asarray(_divisor(x.shape, kernel_size, stride, padding,
                                           count_include_pad, divisor_override, x.dtype),
                                  dtype=x.dtype)

    @staticmethod
    def reference(x: Any, kernel_size: tuple[int, int] = (1, 1),
                  stride: tuple[int, int] = (1, 1), padding: Pairs = ((0, 0), (0, 0)),
                  count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
        total = _naive_pool(x, kernel_size, stride, padding, (1, 1), 0.0,
                            lambda w: w.sum(axis=-1))
        if divisor_override is not None:
            return total / x.dtype.type(divisor_override)
        if count_include_pad:
            return total / x.dtype.type(math.prod(kernel_size))
        ones = np.ones((1, 1, *x.shape[2:]), dtype=x.dtype)
        return total / _naive_pool(ones, kernel_size, stride, padding, (1, 1), 0.0,
                                   lambda w: w.sum(axis=-1))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, kernel_size: tuple[int, int] = (1, 1),
              stride: tuple[int, int] = (1, 1), padding: Pairs = ((0, 0), (0, 0)),
              count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
        divisor = np.asarray(_divisor(tuple(x.shape), kernel_size, stride, padding,
                                      count_include_pad, divisor_override, x.dtype),
                             dtype=x.dtype)
        share = grad / divisor
        return _spread([share] * math.prod(kernel_size), tuple(x.shape), kernel_size, padding,
                       stride, (1, 1))


def adaptive_matrix(size: int, out: int, dtype: Any = np.float64) -> np.ndarray:
    """The ``(out, size)`` averaging matrix of adaptive pooling: row ``i`` averages
    ``floor(i size / out)`` to ``ceil((i + 1) size / out)`` (end excluded)."""
    matrix = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        matrix[i, start:end] = 1 / (end - start)
    return matrix


def _adaptive_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    if len(shapes[0]) != 4:  # not (N, C, H, W): no parameters fit
        return []
    h, w = shapes[0][2:]
    return [{"output_size": size} for size in
            ((1, 1), (2, 3), (3, 2), (h, w), (2 * h, 1), (1, w + 1))]


@register
class AdaptiveAvgPool2d(Op):
    r"""Adaptive average pooling to ``output_size = (oh, ow)``: with the averaging matrices
    :math:`A_h` ``(oh, H)`` and :math:`A_w` ``(ow, W)`` (see :func:`adaptive_matrix`),

    .. math:: y = A_h\, x\, A_w^\top,\qquad \bar x = A_h^\top\, \bar y\, A_w

    >>> import tensorgraph as tg
    >>> from tensorgraph.ops.pooling import AdaptiveAvgPool2d
    >>> AdaptiveAvgPool2d.apply(tg.arange(6.0).reshape(1, 1, 2, 3), output_size=(1, 1))
    tensor([[[[2.5]]]], dtype=float32)
    """

    name = "adaptive_avg_pool2d"
    array_params = frozenset()
    domain = Domain(shapes=_pool_shapes, min_rank=4, edges=(0.0,), params=_adaptive_params)

    @staticmethod
    def forward(x: Any, output_size: tuple[int, int] = (1, 1)) -> Any:
        (h, w), (oh, ow) = x.shape[2:], output_size
        return adaptive_matrix(h, oh, x.dtype) @ x @ adaptive_matrix(w, ow, x.dtype).T

    @staticmethod
    def reference(x: Any, output_size: tuple[int, int] = (1, 1)) -> Any:
        (h, w), (oh, ow) = x.shape[2:], output_size
        y = np.zeros((*x.shape[:2], oh, ow), dtype=x.dtype)
        for i, j in itertools.product(range(oh), range(ow)):
            rows = slice((i * h) // oh, -(-((i + 1) * h) // oh))
            cols = slice((j * w) // ow, -(-((j + 1) * w) // ow))
            y[..., i, j] = x[..., rows, cols].mean(axis=(-2, -1))
        return y

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, output_size: tuple[int, int] = (1, 1)) -> Any:
        (h, w), (oh, ow) = x.shape[2:], output_size
        return adaptive_matrix(h, oh, x.dtype).T @ grad @ adaptive_matrix(w, ow, x.dtype)
