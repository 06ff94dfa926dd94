"""Converters of the convolution, pooling and 2-d batch-norm layers (NCHW, as ONNX's own
``Conv``, ``MaxPool`` and ``AveragePool`` expect)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ExportError
from ..nn import AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv1d, Conv2d, MaxPool2d
from ._graph import GraphBuilder, Value
from ._layers import CONVERTERS, batch_norm

__all__: list[str] = []


def _batched(m: Any, x: Value, rank: int) -> None:
    if len(x.shape) != rank + 2:
        raise ExportError(f"onnx.export: {type(m).__name__} is exported for batched input "
                          f"({rank + 2}-d); the example reaches it with shape {x.shape}")


def _pads(m: Any) -> list[int]:
    """ONNX's ``pads``: every axis' start, then every axis' end. ``'same'`` puts the odd
    one of an odd total at the end, as PyTorch does."""
    if m.padding == "valid":
        return [0] * 2 * len(m.kernel_size)
    if m.padding == "same":
        totals = [d * (k - 1) for d, k in zip(m.dilation, m.kernel_size)]
        return [t // 2 for t in totals] + [t - t // 2 for t in totals]
    return list(m.padding) * 2


def conv(b: GraphBuilder, m: Any, x: Value) -> str:
    """``Conv`` with PyTorch's weight layout ``(out, in / groups, *kernel)``, which is
    ONNX's."""
    _batched(m, x, len(m.kernel_size))
    inputs = [x.name, b.constant("conv.weight", np.asarray(m.weight._data))]
    if m.bias is not None:
        inputs.append(b.constant("conv.bias", np.asarray(m.bias._data)))
    return b.node("Conv", inputs, "conv", kernel_shape=list(m.kernel_size),
                  strides=list(m.stride), dilations=list(m.dilation), pads=_pads(m),
                  group=int(m.groups))


def max_pool(b: GraphBuilder, m: MaxPool2d, x: Value) -> str:
    """``MaxPool``: padded cells never win (ONNX pads with -inf, as PyTorch)."""
    _batched(m, x, 2)
    return b.node("MaxPool", [x.name], "maxpool", kernel_shape=list(m.kernel_size),
                  strides=list(m.stride), pads=list(m.padding) * 2,
                  dilations=list(m.dilation))


def avg_pool(b: GraphBuilder, m: AvgPool2d, x: Value) -> str:
    """``AveragePool`` with ``count_include_pad`` as the layer has it."""
    _batched(m, x, 2)
    if m.divisor_override is not None:
        raise ExportError("onnx.export: AvgPool2d with divisor_override has no ONNX "
                          "AveragePool equivalent")
    return b.node("AveragePool", [x.name], "avgpool", kernel_shape=list(m.kernel_size),
                  strides=list(m.stride), pads=list(m.padding) * 2,
                  count_include_pad=int(m.count_include_pad))


def adaptive_avg_pool(b: GraphBuilder, m: AdaptiveAvgPool2d, x: Value) -> str:
    """``GlobalAveragePool`` for a 1 x 1 output; ``AveragePool`` when the output size
    divides the input's (then PyTorch's windows are equal and do not overlap)."""
    _batched(m, x, 2)
    size = x.shape[2:]
    out = [n if s is None else s for s, n in zip(m.output_size, size)]
    if out == [1, 1]:
        return b.node("GlobalAveragePool", [x.name], "avgpool")
    if any(n % s for n, s in zip(size, out)):
        raise ExportError(f"onnx.export: AdaptiveAvgPool2d to {tuple(out)} from {size}: the "
                          "windows differ in size when the output size does not divide the "
                          "input's, which ONNX's pooling cannot express")
    kernel = [n // s for n, s in zip(size, out)]
    return b.node("AveragePool", [x.name], "avgpool", kernel_shape=kernel, strides=kernel)


CONVERTERS.update({
    Conv1d: conv,
    Conv2d: conv,
    MaxPool2d: max_pool,
    AvgPool2d: avg_pool,
    AdaptiveAvgPool2d: adaptive_avg_pool,
    BatchNorm2d: batch_norm,
})
