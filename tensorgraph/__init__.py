"""tensorgraph: a readable reverse-mode autograd engine on numpy.

>>> import tensorgraph as tg
>>> x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.], dtype=float32)
"""

from __future__ import annotations

from typing import Any

from . import errors
from .autograd import (
    detect_anomaly,
    enable_grad,
    gradients,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    eye,
    full,
    full_like,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)  # fmt: skip
from .dtypes import default_dtype, get_default_dtype, set_default_dtype
from .func import (
    checkpoint,
    elementwise_grad,
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from .ops import (
    REGISTRY,
    abs,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argsort,
    array_split,
    astype,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    average,
    broadcast_to,
    cbrt,
    ceil,
    cholesky,
    clip,
    column_stack,
    concatenate,
    cos,
    cosh,
    cumprod,
    cumsum,
    deg2rad,
    det,
    diag,
    diagonal,
    diff,
    divide,
    dot,
    dsplit,
    dstack,
    eigh,
    eigvalsh,
    einsum,
    erf,
    exp,
    exp2,
    expand_dims,
    expm1,
    flatten,
    flip,
    fliplr,
    flipud,
    floor,
    floor_divide,
    fmax,
    fmin,
    fmod,
    getitem,
    gradient,
    hsplit,
    hstack,
    hypot,
    inner,
    inv,
    kron,
    leaky_relu,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logaddexp,
    logaddexp2,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    moveaxis,
    multiply,
    nan_to_num,
    nanmean,
    nansum,
    negative,
    norm,
    outer,
    pad,
    permute,
    power,
    prod,
    ptp,
    rad2deg,
    ravel,
    reciprocal,
    relu,
    remainder,
    repeat,
    reshape,
    roll,
    rot90,
    round,
    scatter_add,
    setitem,
    sigmoid,
    sign,
    sin,
    sinc,
    sinh,
    slogdet,
    softmax,
    softplus,
    solve,
    sort,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    subtract,
    sum,
    swapaxes,
    take,
    take_along_axis,
    tan,
    tanh,
    tensordot,
    tile,
    trace,
    transpose,
    tril,
    triu,
    trunc,
    var,
    vdot,
    vsplit,
    vstack,
    where,
)  # fmt: skip
from .tensor import Tensor, tensor

__version__ = "0.1.0"

__all__ = [
    "REGISTRY", "Tensor", "abs", "add", "arange", "arccos", "arccosh", "arcsin", "arcsinh",
    "arctan", "arctan2", "arctanh", "argsort", "array_split", "astype", "atleast_1d",
    "atleast_2d", "atleast_3d", "average", "broadcast_to", "cbrt", "ceil", "checkpoint", "clip",
    "column_stack", "compile", "concatenate", "cos", "cosh", "cumprod", "cumsum",
    "default_dtype", "deg2rad", "detect_anomaly", "diff", "divide", "dsplit", "dstack",
    "elementwise_grad", "enable_grad", "erf", "errors", "exp", "exp2", "expand_dims", "expm1",
    "eye", "flatten", "flip", "fliplr", "flipud", "floor", "floor_divide", "fmax", "fmin",
    "fmod", "full", "full_like", "get_default_dtype", "getitem", "grad", "gradient",
    "gradients", "hessian", "hsplit", "hstack", "hvp", "hypot", "is_grad_enabled", "jacobian",
    "jvp", "leaky_relu", "log", "log1p", "log2", "log10", "log_softmax", "logaddexp",
    "logaddexp2", "logsumexp", "manual_seed", "matmul", "max", "maximum", "mean", "min",
    "minimum", "moveaxis", "multiply", "nan_to_num", "nanmean", "nansum", "negative", "no_grad",
    "ones", "ones_like", "pad", "permute", "power", "prod", "ptp", "rad2deg", "rand", "randn",
    "ravel", "reciprocal", "relu", "remainder", "repeat", "reshape", "roll", "rot90", "round",
    "scatter_add", "set_default_dtype", "set_grad_enabled", "setitem", "sigmoid", "sign", "sin",
    "sinc", "sinh", "softmax", "softplus", "sort", "split", "sqrt", "square", "squeeze",
    "stack", "std", "subtract", "sum", "swapaxes", "take", "take_along_axis", "tan", "tanh",
    "tensor", "tile", "transpose", "trunc", "value_and_grad", "var", "vjp", "vsplit", "vstack",
    "where", "zeros", "zeros_like",
]  # fmt: skip

# Imported last: nn builds on the engine and ops above; importing it here keeps the
# package free of import cycles.
from . import data as data  # data sets and loaders; training: fit, callbacks; save/load
from . import nn as nn
from . import optim as optim  # optimizers and schedulers: tg.optim
from . import training as training
from .compiler import compile as compile  # tg.compile(fn): trace once, replay (docs/compile.md)
from .serialization import load as load
from .serialization import load_model as load_model
from .serialization import save as save
from .serialization import save_model as save_model

__all__ += [  # the linear algebra family (tensorgraph/ops/linalg.py and its siblings)
    "cholesky", "det", "diag", "diagonal", "dot", "eigh", "eigvalsh", "einsum", "inner",
    "inv", "kron", "norm", "outer", "slogdet", "solve", "tensordot", "trace", "tril", "triu",
    "vdot",
]  # fmt: skip

#: sub-packages imported on first use (as ``tg.viz``, ``tg.study``, ...): their optional
#: dependencies (hypothesis, graphviz, matplotlib) are only needed by who uses them
_LAZY_SUBMODULES = frozenset({"onnx", "perf", "study", "testing", "viz"})


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'tensorgraph' has no attribute {name!r}")
