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

from ..broadcast import single_axis
from ..tensor import Tensor
from . import (
    activations,  # noqa: F401 - registers gelu, silu
    embedding,  # noqa: F401 - registers embedding
    losses,  # noqa: F401 - registers the fused losses
    nn_ops,  # noqa: F401 - registers the fused nn ops
    normalization,  # noqa: F401 - registers layer_norm
    special,  # noqa: F401 - registers erf
)
from . import decompositions as _decompositions
from . import diagonals as _diagonals
from . import einsum as _einsum
from . import indexing as _indexing
from . import join as _join
from . import linalg as _linalg
from . import norms as _norms
from . import reorder as _reorder
from . import shape as _shape
from . import sorting as _sorting
from . import stencil as _stencil
from ._base import REGISTRY, Domain, Op, register
from .assign import setitem
from .conv import conv_nd  # noqa: F401 - registers conv1d, conv2d
from .decompositions import cholesky, det, eigh, eigvalsh, inv, slogdet, solve
from .diagonals import diag, diagonal, trace, tril, triu
from .einsum import einsum
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
from .elementwise_math import FUNCTIONS as _MATH_FUNCTIONS
from .elementwise_math import UFUNCS as _MATH_UFUNCS
from .elementwise_math import (
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cbrt,
    ceil,
    cosh,
    deg2rad,
    exp2,
    expm1,
    floor,
    floor_divide,
    fmax,
    fmin,
    fmod,
    hypot,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    nan_to_num,
    rad2deg,
    reciprocal,
    remainder,
    round,
    sign,
    sinc,
    sinh,
    square,
    tan,
    trunc,
)  # fmt: skip
from .fused import log_softmax, softmax
from .indexing import getitem, scatter_add, take, take_along_axis
from .join import (
    array_split,
    column_stack,
    concatenate,
    dsplit,
    dstack,
    hsplit,
    hstack,
    split,
    stack,
    vsplit,
    vstack,
)  # fmt: skip
from .linalg import dot, inner, kron, matmul, outer, tensordot, vdot
from .norms import norm
from .pooling import adaptive_matrix  # noqa: F401 - registers the pooling ops
from .reduction import logsumexp, max, mean, min, prod, sum, var
from .reorder import flip, fliplr, flipud, repeat, roll, rot90, tile
from .scans import FUNCTIONS as _SCAN_FUNCTIONS
from .scans import cumprod, cumsum, diff
from .shape import (
    astype,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_to,
    expand_dims,
    flatten,
    moveaxis,
    pad,
    permute,
    ravel,
    reshape,
    squeeze,
    swapaxes,
    transpose,
)  # fmt: skip
from .sorting import argsort, sort
from .special import erf
from .statistics import FUNCTIONS as _STATISTICS_FUNCTIONS
from .statistics import average, nanmean, nansum, ptp, std
from .stencil import gradient

__all__ = [
    "FUNCTIONS", "REGISTRY", "UFUNCS", "Domain", "Op", "abs", "add", "arccos", "arccosh",
    "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argsort", "array_split", "astype",
    "atleast_1d", "atleast_2d", "atleast_3d", "average", "broadcast_to", "cbrt", "ceil", "clip",
    "column_stack", "concatenate", "cos", "cosh", "cumprod", "cumsum", "deg2rad", "diff",
    "divide", "dsplit", "dstack", "erf", "exp", "exp2", "expand_dims", "expm1", "flatten",
    "flip", "fliplr", "flipud", "floor", "floor_divide", "fmax", "fmin", "fmod", "getitem",
    "gradient", "hsplit", "hstack", "hypot", "leaky_relu", "log", "log1p", "log2", "log10",
    "log_softmax", "logaddexp", "logaddexp2", "logsumexp", "matmul", "max", "maximum", "mean",
    "min", "minimum", "moveaxis", "multiply", "nan_to_num", "nanmean", "nansum", "negative",
    "pad", "permute", "power", "prod", "ptp", "rad2deg", "ravel", "reciprocal", "register",
    "relu", "remainder", "repeat", "reshape", "roll", "rot90", "round", "scatter_add",
    "setitem", "sigmoid", "sign", "sin", "sinc", "sinh", "softmax", "softplus", "sort", "split",
    "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swapaxes", "take",
    "take_along_axis", "tan", "tanh", "tile", "transpose", "trunc", "var", "vsplit", "vstack",
    "where",
]  # fmt: skip
__all__ += [  # the linear algebra family (ops/linalg.py and its siblings)
    "cholesky", "det", "diag", "diagonal", "dot", "eigh", "eigvalsh", "einsum", "inner",
    "inv", "kron", "norm", "outer", "slogdet", "solve", "tensordot", "trace", "tril", "triu",
    "vdot",
]  # fmt: skip




def _constant(ufunc: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a numpy function whose result carries no gradient (sign, isfinite, ...)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        from ..autograd import _new_tensor

        raw = [getattr(a, "_data", a) for a in args]
        return _new_tensor(np.asarray(ufunc(*raw, **kwargs)), False, None)

    return call


# --------------------------------------------------------------------------- numpy's API
# numpy hands ``np.sum(t, 0, np.float32)`` to __array_function__ with the arguments as the
# user wrote them, positionally or by keyword. Each adapter below has numpy's signature, so
# every argument lands where numpy would put it, and refuses (naming the function and the
# argument) what tensorgraph does not implement instead of dropping it.


def _refuse(name: str, a: Any, **given: Any) -> None:
    """Raise for every argument of ``given`` that is not its harmless default."""
    for key, value in given.items():
        if value is None or (key == "where" and value is True):
            continue
        if key == "dtype" and np.dtype(value) == np.dtype(getattr(a, "dtype", None)):
            continue  # the tensor's own dtype: nothing to do
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise TypeError(f"numpy.{name}: the argument {key}={shown} is not supported on "
                        f"Tensors; use tensorgraph's {name} (or call numpy on "
                        f"tensor.detach().numpy())")


def _np_sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False, initial: Any = None, where: Any = None) -> Tensor:
    _refuse("sum", a, dtype=dtype, out=out, initial=initial, where=where)
    return sum(a, axis, keepdims)


def _np_prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, initial: Any = None, where: Any = None) -> Tensor:
    _refuse("prod", a, dtype=dtype, out=out, initial=initial, where=where)
    return prod(a, axis, keepdims)


def _np_mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, *, where: Any = None) -> Tensor:
    _refuse("mean", a, dtype=dtype, out=out, where=where)
    return mean(a, axis, keepdims)


def _np_var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
            keepdims: bool = False, *, where: Any = None, mean: Any = None,
            correction: Any = None) -> Tensor:
    _refuse("var", a, dtype=dtype, out=out, where=where, mean=mean)
    if correction is not None:
        if ddof != 0:
            raise ValueError("numpy.var: ddof and correction cannot both be given")
        ddof = correction
    return var(a, axis, ddof, keepdims)


def _np_max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
            initial: Any = None, where: Any = None) -> Tensor:
    _refuse("max", a, out=out, initial=initial, where=where)
    return max(a, axis, keepdims)


def _np_min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
            initial: Any = None, where: Any = None) -> Tensor:
    _refuse("min", a, out=out, initial=initial, where=where)
    return min(a, axis, keepdims)


def _np_reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
                copy: Any = None) -> Tensor:
    if order != "C":
        raise TypeError(f"numpy.reshape: order={order!r} is not supported on Tensors (only "
                        f"'C')")
    _refuse("reshape", a, copy=copy)
    if shape is None:
        shape = newshape
    return reshape(a, shape)


def _np_broadcast_to(array: Any, shape: Any, subok: bool = False) -> Tensor:
    _refuse("broadcast_to", array, subok=subok or None)
    return broadcast_to(array, shape)


def _np_concatenate(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                    casting: str = "same_kind") -> Tensor:
    _refuse("concatenate", arrays[0] if len(arrays) else None, out=out, dtype=dtype,
            casting=None if casting == "same_kind" else casting)
    return concatenate(arrays, axis)


def _np_stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None,
              casting: str = "same_kind") -> Tensor:
    _refuse("stack", arrays[0] if len(arrays) else None, out=out, dtype=dtype,
            casting=None if casting == "same_kind" else casting)
    return stack(arrays, axis)


def _np_pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Tensor:
    values = kwargs.pop("constant_values", 0.0)
    if kwargs:
        raise TypeError(f"numpy.pad: the argument(s) {sorted(kwargs)} are not supported on "
                        f"Tensors (only constant_values)")
    return pad(array, pad_width, mode, values)


def _np_where(condition: Any, *xy: Any) -> Tensor:
    if len(xy) != 2:
        raise TypeError("numpy.where: only the three-argument form where(condition, x, y) "
                        "is supported on Tensors; for indices use "
                        "np.nonzero(tensor.detach().numpy())")
    return where(condition, *xy)


def _np_clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *,
             min: Any = None, max: Any = None, **kwargs: Any) -> Tensor:
    _refuse("clip", a, out=out, **kwargs)
    if min is not None:
        if a_min is not None:
            raise TypeError("numpy.clip: pass a_min or min, not both")
        a_min = min
    if max is not None:
        if a_max is not None:
            raise TypeError("numpy.clip: pass a_max or max, not both")
        a_max = max
    return clip(a, a_min, a_max)


def _np_size(a: Any, axis: int | None = None) -> int:
    shape = a.shape
    return int(np.prod(shape)) if axis is None else shape[single_axis(axis, len(shape),
                                                                      "size")]


def _np_round(a: Any, decimals: int = 0, out: Any = None) -> Tensor:
    _refuse("round", a, out=out)
    return round(a, decimals)


UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.divide: divide,
    np.negative: negative, np.power: power, np.exp: exp, np.log: log, np.log1p: log1p,
    np.sqrt: sqrt, np.absolute: abs, np.sin: sin, np.cos: cos, np.tanh: tanh,
    np.maximum: maximum, np.minimum: minimum, np.matmul: matmul,
    np.positive: lambda x: x,
    np.square: square, np.reciprocal: reciprocal, np.expm1: expm1, np.log2: log2,
    np.log10: log10, np.exp2: exp2, np.cbrt: cbrt, np.tan: tan, np.arcsin: arcsin,
    np.arccos: arccos, np.arctan: arctan, np.sinh: sinh, np.cosh: cosh, np.arcsinh: arcsinh,
    np.arccosh: arccosh, np.arctanh: arctanh, np.logaddexp: logaddexp,
    np.logaddexp2: logaddexp2, np.arctan2: arctan2, np.hypot: hypot, np.fmax: fmax,
    np.fmin: fmin, np.remainder: remainder, np.fmod: fmod, np.sign: sign, np.floor: floor,
    np.ceil: ceil, np.trunc: trunc, np.rint: round,
    # the quotient in remainder's VJP: piecewise constant, so it carries no gradient
    np.floor_divide: _constant(np.floor_divide),
    np.isfinite: _constant(np.isfinite),
    np.isnan: _constant(np.isnan), np.isinf: _constant(np.isinf),
    np.logical_and: _constant(np.logical_and), np.logical_or: _constant(np.logical_or),
    np.logical_not: _constant(np.logical_not),
}  # fmt: skip

FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _np_sum, np.mean: _np_mean, np.var: _np_var,
    np.max: _np_max, np.amax: _np_max, np.min: _np_min,
    np.amin: _np_min, np.prod: _np_prod, np.reshape: _np_reshape,
    np.transpose: transpose, np.swapaxes: swapaxes, np.expand_dims: expand_dims,
    np.squeeze: squeeze, np.broadcast_to: _np_broadcast_to,
    np.concatenate: _np_concatenate, np.stack: _np_stack, np.split: split,
    np.array_split: array_split, np.pad: _np_pad, np.where: _np_where,
    np.clip: _np_clip, np.shape: lambda x: x.shape, np.ndim: lambda x: x.ndim,
    np.size: _np_size,
    np.zeros_like: _constant(np.zeros_like), np.ones_like: _constant(np.ones_like),
    np.argmax: _constant(np.argmax), np.argmin: _constant(np.argmin),
    np.round: _np_round, np.around: _np_round,
}  # fmt: skip
for _module in (_decompositions, _diagonals, _einsum, _linalg, _norms, _shape, _indexing, _join,
                _reorder, _sorting, _stencil):
    FUNCTIONS.update(_module.FUNCTIONS)

UFUNCS.update(_MATH_UFUNCS)
FUNCTIONS.update(_MATH_FUNCTIONS)
FUNCTIONS.update(_STATISTICS_FUNCTIONS)
FUNCTIONS.update(_SCAN_FUNCTIONS)
