"""Every differentiable op, and the tables that route numpy calls on Tensors to them.

:data:`UFUNCS` and :data:`FUNCTIONS` are what ``Tensor.__array_ufunc__`` and
``Tensor.__array_function__`` consult; anything not listed raises a ``TypeError`` naming the
numpy function. Non-differentiable helpers (``sign``, comparisons, ``isfinite``) return plain
tensors without a graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import nn_ops  # noqa: F401 - registers the fused nn ops
from ._base import REGISTRY, Domain, Op, register
from .assign import setitem
from .elementwise import (
    abs,
    add,
    clip,
    cos,
    divide,
    exp,
    leaky_relu,
    log,
    log1p,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    subtract,
    tanh,
    where,
)  # fmt: skip
from .fused import log_softmax, softmax
from .linalg import matmul
from .reduction import logsumexp, max, mean, min, prod, sum, var
from .shape import (
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    scatter_add,
    split,
    squeeze,
    stack,
    swapaxes,
    transpose,
)  # fmt: skip

__all__ = [
    "FUNCTIONS", "REGISTRY", "UFUNCS", "Domain", "Op", "abs", "add", "astype", "broadcast_to",
    "clip", "concatenate", "cos", "divide", "exp", "expand_dims", "flatten", "getitem",
    "leaky_relu", "log", "log1p", "log_softmax", "logsumexp", "matmul", "max", "maximum",
    "mean", "min", "minimum", "multiply", "negative", "pad", "permute", "power", "prod",
    "register", "relu", "reshape", "scatter_add", "setitem", "sigmoid", "sin", "softmax",
    "softplus", "split", "sqrt", "squeeze", "stack", "subtract", "sum", "swapaxes", "tanh",
    "transpose", "var", "where",
]  # fmt: skip


def _constant(ufunc: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a numpy function whose result carries no gradient (sign, isfinite, ...)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        from ..autograd import _new_tensor

        raw = [getattr(a, "_data", a) for a in args]
        return _new_tensor(np.asarray(ufunc(*raw, **kwargs)), False, None)

    return call


UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.divide: divide,
    np.negative: negative, np.power: power, np.exp: exp, np.log: log, np.log1p: log1p,
    np.sqrt: sqrt, np.absolute: abs, np.sin: sin, np.cos: cos, np.tanh: tanh,
    np.maximum: maximum, np.minimum: minimum, np.matmul: matmul,
    np.positive: lambda x: x,
    np.sign: _constant(np.sign), np.isfinite: _constant(np.isfinite),
    np.isnan: _constant(np.isnan), np.isinf: _constant(np.isinf),
    np.logical_and: _constant(np.logical_and), np.logical_or: _constant(np.logical_or),
    np.logical_not: _constant(np.logical_not),
}  # fmt: skip

FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: sum, np.mean: mean, np.var: var, np.max: max, np.amax: max, np.min: min,
    np.amin: min, np.prod: prod, np.reshape: reshape, np.transpose: transpose,
    np.swapaxes: swapaxes, np.expand_dims: expand_dims, np.squeeze: squeeze,
    np.broadcast_to: broadcast_to, np.concatenate: concatenate, np.stack: stack,
    np.split: split, np.pad: pad, np.where: where, np.clip: clip,
    np.shape: lambda x: x.shape, np.ndim: lambda x: x.ndim, np.size: lambda x: x.size,
    np.zeros_like: _constant(np.zeros_like), np.ones_like: _constant(np.ones_like),
    np.argmax: _constant(np.argmax), np.argmin: _constant(np.argmin),
    np.argsort: _constant(np.argsort),
}  # fmt: skip
