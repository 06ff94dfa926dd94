r"""Sliding windows over the spatial axes of ``(N, C, *spatial)`` arrays, and their adjoint.

Convolution and pooling are written on two primitives:

- :func:`windows` (*im2col*): from a padded input of shape ``(N, C, *P)``, the array of shape
  ``(N, C, *O, *K)`` whose element ``[n, c, o, k]`` is ``xp[n, c, o * stride + k * dilation]``;
- :func:`col2im`, its adjoint: from ``(N, C, *O, *K)`` back to ``(N, C, *P)``, adding every
  window element into the position it was read from (overlapping windows accumulate).

Both run on ndarrays (the ordinary forward and backward: a strided view, and one strided
``+=`` per kernel offset) and on Tensors (inside a VJP under ``create_graph=True``: one
``getitem`` or a scatter into zeros (getitem's adjoint) per kernel offset, ops that are
themselves differentiable), so the VJPs written on them give second derivatives.

On ndarrays ``windows`` returns a read-only view (no copy): the copy happens once, where the
caller reshapes it for a matrix product.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Tensor
from .indexing import _scatter_into_zeros
from .join import stack

__all__ = [
    "Pairs", "col2im", "crop", "is_tensor", "out_size", "pad_spatial", "tap_sum", "tap_views",
    "windows",
]

Pairs = tuple[tuple[int, int], ...]


def is_tensor(*values: Any) -> bool:
    """Whether any of ``values`` is a Tensor (a VJP running under ``create_graph=True``)."""
    return any(isinstance(v, Tensor) for v in values)


def out_size(size: int, kernel: int, stride: int, padding: tuple[int, int],
             dilation: int) -> int:
    """Output length of a window of ``kernel`` taps ``dilation`` apart sliding by ``stride``
    over ``size`` values padded by ``padding = (before, after)`` (PyTorch's formula; may be
    <= 0 when the window does not fit, which the public functions refuse)."""
    return (size + padding[0] + padding[1] - dilation * (kernel - 1) - 1) // stride + 1


def pad_spatial(x: Any, padding: Pairs, value: float = 0.0) -> Any:
    """``x`` with its spatial axes (all but the first two) padded by ``value``."""
    if not any(lo or hi for lo, hi in padding):
        return x
    return np.pad(x, ((0, 0), (0, 0), *padding), constant_values=value)


def crop(x: Any, padding: Pairs) -> Any:
    """Undo :func:`pad_spatial`: drop ``padding`` from the spatial axes of ``x``."""
    if not any(lo or hi for lo, hi in padding):
        return x
    spatial = x.shape[2:]
    index = tuple(slice(lo, n - hi) for (lo, hi), n in zip(padding, spatial))
    return x[(slice(None), slice(None), *index)]


def _taps(kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
          out: Sequence[int]) -> list[tuple[slice, ...]]:
    """For every kernel offset (row-major), the strided slice of the padded input it reads."""
    return [
        tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
              for k, s, d, o in zip(offset, stride, dilation, out))
        for offset in itertools.product(*(range(k) for k in kernel))
    ]


def windows(xp: Any, kernel: Sequence[int], stride: Sequence[int],
            dilation: Sequence[int]) -> Any:
    """The windows of the padded input ``xp`` ``(N, C, *P)``: shape ``(N, C, *O, *K)``."""
    spatial = xp.shape[2:]
    rank = len(spatial)
    out = [out_size(p, k, s, (0, 0), d) for p, k, s, d in zip(spatial, kernel, stride, dilation)]
    if not is_tensor(xp):
        span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
        view = sliding_window_view(xp, span, axis=tuple(range(2, 2 + rank)))
        pick = (slice(None), slice(None), *(slice(None, None, s) for s in stride),
                *(slice(None, None, d) for d in dilation))
        return view[pick]
    n, c = xp.shape[:2]
    everything = (slice(None), slice(None))
    taps = [xp[(*everything, *index)] for index in _taps(kernel, stride, dilation, out)]
    return stack(taps, axis=-1).reshape((n, c, *out, *kernel))


def tap_views(xp: Any, kernel: Sequence[int], stride: Sequence[int],
              dilation: Sequence[int]) -> list[Any]:
    """The windows of ``xp`` one kernel offset at a time: for each offset (row-major), the
    strided slice ``(N, C, *O)`` of what that tap reads. Reducing over these with ufuncs
    (``np.maximum``, ``+``) is much faster than reducing the 6-d view of :func:`windows`
    over its last axes, which numpy does element by element."""
    spatial = xp.shape[2:]
    out = [out_size(p, k, s, (0, 0), d) for p, k, s, d in zip(spatial, kernel, stride, dilation)]
    everything = (slice(None), slice(None))
    return [xp[(*everything, *index)] for index in _taps(kernel, stride, dilation, out)]


def tap_sum(values: Sequence[Any], padded: Sequence[int], kernel: Sequence[int],
            stride: Sequence[int], dilation: Sequence[int]) -> Any:
    """The adjoint of :func:`tap_views`: ``values[t]`` ``(N, C, *O)`` added back at the
    positions tap ``t`` read, into an array ``(N, C, *padded)``."""
    n, c = values[0].shape[:2]
    out = values[0].shape[2:]
    shape = (n, c, *padded)
    everything = (slice(None), slice(None))
    taps = _taps(kernel, stride, dilation, out)
    if not is_tensor(*values):
        result = np.zeros(shape, dtype=np.result_type(*values))
        for value, index in zip(values, taps):
            result[(*everything, *index)] += value
        return result
    total: Any = None
    for value, index in zip(values, taps):
        placed = _scatter_into_zeros(value, (*everything, *index), shape)
        total = placed if total is None else total + placed
    return total


def col2im(cols: Any, padded: Sequence[int], stride: Sequence[int],
           dilation: Sequence[int]) -> Any:
    """The adjoint of :func:`windows`: ``cols`` ``(N, C, *O, *K)`` (any strides: a transposed
    view is read in place, never copied) summed back into an array ``(N, C, *padded)``."""
    rank = len(padded)
    kernel = cols.shape[2 + rank:]
    offsets = itertools.product(*(range(k) for k in kernel))
    return tap_sum([cols[(Ellipsis, *offset)] for offset in offsets], padded, kernel, stride,
                   dilation)
