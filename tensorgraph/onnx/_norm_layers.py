"""Converters of ``LayerNorm``, ``GELU`` and ``SiLU``."""

from __future__ import annotations

import math

import numpy as np

from ..nn import GELU, LayerNorm, SiLU
from ._graph import GraphBuilder, Value
from ._layers import CONVERTERS

__all__: list[str] = []


def _layer_norm_float64(b: GraphBuilder, m: LayerNorm, x: Value) -> str:
    """The statistics from ``ReduceMean``: ONNX Runtime's float64 ``LayerNormalization``
    (``epsilon`` a float32 attribute) is off by up to 1e-8 relative."""
    axes = list(range(len(x.shape) - len(m.normalized_shape), len(x.shape)))
    mean = b.node("ReduceMean", [x.name], "layernorm.mean", axes=axes, keepdims=1)
    centred = b.node("Sub", [x.name, mean], "layernorm.centred")
    square = b.node("Mul", [centred, centred], "layernorm.square")
    var = b.node("ReduceMean", [square], "layernorm.var", axes=axes, keepdims=1)
    shifted = b.node("Add", [var, b.constant("layernorm.eps", float(m.eps))], "layernorm.vareps")
    y = b.node("Div", [centred, b.node("Sqrt", [shifted], "layernorm.std")], "layernorm.norm")
    if m.weight is not None:
        y = b.node("Mul", [y, b.constant("layernorm.scale", np.asarray(m.weight._data))],
                   "layernorm.scaled")
    if m.bias is not None:
        y = b.node("Add", [y, b.constant("layernorm.bias", np.asarray(m.bias._data))],
                   "layernorm")
    return y


def layer_norm(b: GraphBuilder, m: LayerNorm, x: Value) -> str:
    """``LayerNormalization`` over the last ``len(normalized_shape)`` axes (the scale 1 and
    the shift 0 when the layer learns none); its steps one by one in a float64 graph."""
    if b.dtype == np.float64:
        return _layer_norm_float64(b, m, x)
    shape = m.normalized_shape
    scale = np.asarray(m.weight._data) if m.weight is not None else np.ones(shape)
    inputs = [x.name, b.constant("layernorm.scale", scale)]
    if m.bias is not None:
        inputs.append(b.constant("layernorm.bias", np.asarray(m.bias._data)))
    return b.node("LayerNormalization", inputs, "layernorm", axis=-len(shape),
                  epsilon=float(m.eps))


def gelu(b: GraphBuilder, m: GELU, x: Value) -> str:
    r"""Operator set 17 has no ``Gelu``: :math:`\tfrac12 x (1 + \operatorname{erf}(x/\sqrt2))`
    from ``Erf``, or the tanh form from ``Tanh``, as the layer computes."""
    if m.approximate == "tanh":
        cube = b.node("Mul", [x.name, b.node("Mul", [x.name, x.name], "gelu.square")],
                      "gelu.cube")
        inner = b.node("Add", [x.name, b.node("Mul", [cube, b.constant("c", 0.044715)],
                                              "gelu.cubic")], "gelu.inner")
        scaled = b.node("Mul", [inner, b.constant("k", math.sqrt(2 / math.pi))], "gelu.arg")
        squashed = b.node("Tanh", [scaled], "gelu.tanh")
    else:
        scaled = b.node("Mul", [x.name, b.constant("r", 1 / math.sqrt(2))], "gelu.arg")
        squashed = b.node("Erf", [scaled], "gelu.erf")
    onep = b.node("Add", [squashed, b.constant("one", 1.0)], "gelu.onep")
    half = b.node("Mul", [x.name, b.constant("half", 0.5)], "gelu.half")
    return b.node("Mul", [half, onep], "gelu")


def silu(b: GraphBuilder, m: SiLU, x: Value) -> str:
    r""":math:`x \sigma(x)`: ``Sigmoid`` and ``Mul``."""
    return b.node("Mul", [x.name, b.node("Sigmoid", [x.name], "silu.sigmoid")], "silu")


CONVERTERS.update({LayerNorm: layer_norm, GELU: gelu, SiLU: silu})
