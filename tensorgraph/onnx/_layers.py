"""One converter per layer: the ONNX operators that compute what the layer's ``forward``
computes in evaluation mode.

A converter receives the :class:`GraphBuilder`, the module and the input :class:`Value`,
and returns the name of its output. :data:`CONVERTERS` maps each layer class to its
converter; :func:`converter_for` also accepts a subclass that does not override
``forward`` (it computes the same thing), and nothing else: a subclass with its own
``forward`` could compute anything, so it is refused by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import ExportError
from ..nn import (
    BatchNorm1d,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    Unflatten,
)
from ..nn.module import Module
from ._deploy import ClassProbabilities, Standardize
from ._graph import GraphBuilder, Value

__all__ = ["CONVERTERS", "Converter", "converter_for"]

Converter = Callable[[GraphBuilder, Any, Value], str]


def _array(t: Any) -> np.ndarray:
    return np.asarray(t._data)


def _prefix(module: Any) -> str:
    return type(module).__name__.lower()


def linear(b: GraphBuilder, m: Linear, x: Value) -> str:
    """``Gemm`` for a matrix input (``transB`` keeps PyTorch's weight layout), else
    ``MatMul`` with the transposed weight and ``Add``."""
    weight = _array(m.weight)
    if len(x.shape) == 2:
        inputs = [x.name, b.constant("linear.weight", weight)]
        if m.bias is not None:
            inputs.append(b.constant("linear.bias", _array(m.bias)))
        return b.node("Gemm", inputs, "linear", transB=1)
    y = b.node("MatMul", [x.name, b.constant("linear.weight_t", weight.T)], "linear")
    if m.bias is None:
        return y
    return b.node("Add", [y, b.constant("linear.bias", _array(m.bias))], "linear")


def batch_norm(b: GraphBuilder, m: Any, x: Value) -> str:
    """``BatchNormalization`` with the running statistics (evaluation mode)."""
    if m.running_mean is None:
        raise ExportError(
            f"onnx.export: {type(m).__name__} with track_running_stats=False normalises "
            "with each batch's own statistics even in evaluation; ONNX's "
            "BatchNormalization needs fixed statistics"
        )
    channels = m.num_features
    scale = _array(m.weight) if m.weight is not None else np.ones(channels)
    shift = _array(m.bias) if m.bias is not None else np.zeros(channels)
    inputs = [x.name, b.constant("bn.scale", scale), b.constant("bn.bias", shift),
              b.constant("bn.mean", _array(m.running_mean)),
              b.constant("bn.var", _array(m.running_var))]
    return b.node("BatchNormalization", inputs, "batchnorm", epsilon=float(m.eps))


def _unary(op_type: str, **attributes: Callable[[Any], Any]) -> Converter:
    def convert(b: GraphBuilder, m: Any, x: Value) -> str:
        values = {key: read(m) for key, read in attributes.items()}
        return b.node(op_type, [x.name], _prefix(m), **values)

    convert.__doc__ = f"``{op_type}``."
    return convert


def flatten(b: GraphBuilder, m: Flatten, x: Value) -> str:
    """``Flatten`` when all but the batch axis are joined, else ``Reshape``: axes before
    ``start_dim`` copied (0), the joined ones one size, the rest as they are."""
    rank = len(x.shape)
    start, end = m.start_dim % rank, m.end_dim % rank
    if start == 1 and end == rank - 1:
        return b.node("Flatten", [x.name], "flatten", axis=1)
    joined = -1 if start == 0 else math.prod(x.shape[start:end + 1])
    shape = [0] * start + [joined] + list(x.shape[end + 1:])
    return b.node("Reshape", [x.name, b.constant("flatten.shape", shape, np.int64)], "flatten")


def unflatten(b: GraphBuilder, m: Unflatten, x: Value) -> str:
    """``Reshape``: axes before ``dim`` copied (0), ``dim`` split into the sizes (an inferred
    ``-1`` resolved from the example), the axes after it as they are."""
    rank = len(x.shape)
    axis = m.dim % rank
    known = math.prod(s for s in m.unflattened_size if s != -1)
    sizes = [x.shape[axis] // known if s == -1 else s for s in m.unflattened_size]
    if axis == 0:
        raise ExportError("onnx.export: Unflatten of the batch axis (dim=0) would fix the batch "
                          "size; unflatten a later axis")
    shape = [0] * axis + sizes + list(x.shape[axis + 1:])
    return b.node("Reshape", [x.name, b.constant("unflatten.shape", shape, np.int64)],
                  "unflatten")


def standardize(b: GraphBuilder, m: Standardize, x: Value) -> str:
    """``Sub`` the mean, ``Div`` by the scale."""
    centred = b.node("Sub", [x.name, b.constant("mean", _array(m.mean))], "centred")
    return b.node("Div", [centred, b.constant("scale", _array(m.scale))], "standardized")


def class_probabilities(b: GraphBuilder, m: ClassProbabilities, x: Value) -> str:
    """``Softmax``, or for one logit ``Sigmoid`` and ``Concat`` of :math:`1 - p` and
    :math:`p`."""
    if x.shape[-1] != 1:
        return b.node("Softmax", [x.name], "probabilities", axis=-1)
    positive = b.node("Sigmoid", [x.name], "positive")
    negative = b.node("Sub", [b.constant("one", 1.0), positive], "negative")
    return b.node("Concat", [negative, positive], "probabilities", axis=-1)


def _passed_through(b: GraphBuilder, m: Any, x: Value) -> str:
    """No node: the identity in evaluation mode."""
    return x.name


CONVERTERS: dict[type[Module], Converter] = {
    Linear: linear,
    BatchNorm1d: batch_norm,
    ReLU: _unary("Relu"),
    LeakyReLU: _unary("LeakyRelu", alpha=lambda m: float(m.negative_slope)),
    Sigmoid: _unary("Sigmoid"),
    Tanh: _unary("Tanh"),
    Softmax: _unary("Softmax", axis=lambda m: int(m.dim)),
    LogSoftmax: _unary("LogSoftmax", axis=lambda m: int(m.dim)),
    Identity: _passed_through,
    Dropout: _passed_through,
    Flatten: flatten,
    Unflatten: unflatten,
    Standardize: standardize,
    ClassProbabilities: class_probabilities,
}


def converter_for(module: Module) -> Converter | None:
    """The converter of ``module``'s class, or of the exported class it inherits its
    ``forward`` from; None if there is none."""
    forward = type(module).forward
    for cls in type(module).__mro__:
        convert = CONVERTERS.get(cls)
        if convert is not None:
            return convert if forward is getattr(cls, "forward", None) else None
    return None
