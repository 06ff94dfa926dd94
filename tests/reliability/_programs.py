"""Random programs for the differential fuzzer, and their plain-numpy meaning.

A *program* is a few float64 inputs (leaves that require grad, and constants) and a list of
:class:`Step`\\ s: ops that make a new value from earlier ones, in-place updates (``t += u``,
``t *= u``, ``t[idx] = u``, recorded as PyTorch records them), ``retain_grad()``,
``backward(seed, retain_graph=True)`` and ``zero_grad()``. :func:`programs` draws them with
hypothesis while running each step in numpy (:data:`REFERENCE`), so a program is only ever
built from steps whose values are finite, moderate and, where an op has a kink or a tie,
either clearly away from it or *exactly* on it (exact ties only on exactly representable
values, and only when the reference is PyTorch: finite differences cannot see a kink).

:func:`replay` recomputes every value of a program in numpy from given leaf values (and,
for gradients of retained intermediates, with one value overridden): the reference of the
finite-difference fallback. ``tests/reliability/_engines.py`` runs programs in tensorgraph
and PyTorch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BOUND = 8.0  # every value stays in [-BOUND, BOUND]: gradients stay moderate
#: values exactly representable in binary with few bits: sums, products and ties of them
#: are exact in any evaluation order, so an exact tie is a tie in every engine
DYADIC = np.array([-2.0, -1.5, -1.0, -0.5, 0.0, 0.0, 0.0, 0.5, 1.0, 1.5, 2.0])
SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1), (3, 2), (2, 2, 3), (1,), (1, 1, 3), (0,), (2, 0)]

UNARY = ["negative", "exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt"]
BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power"]
REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "logsumexp"]
INPLACE = ["iadd", "isub", "imul", "idiv"]
#: ops whose result is exact (in every engine) when their inputs are
EXACT_OPS = {"negative", "relu", "abs", "add", "subtract", "multiply", "maximum", "minimum",
             "scale", "where", "clip", "sum", "max", "min", "prod", "matmul", "reshape",
             "transpose", "concatenate", "stack", "expand_dims", "getitem", "iadd", "isub",
             "imul", "setitem"}
#: producers whose result PyTorch does not save for backward and that are not views:
#: only their results may be modified in place without PyTorch refusing the backward
INPLACE_TARGETS = {"add", "subtract", "multiply", "divide", "scale", "matmul", "sum", "mean",
                   "concatenate", "stack", "where", "maximum", "minimum", "clip", "iadd",
                   "isub", "imul", "idiv", "setitem", "const"}
#: how a step may call tensorgraph: a function, a method or operator, or numpy's protocols
VIA = {
    **{n: ("fn", "method", "numpy") for n in ("negative", "exp", "log", "tanh", "abs", "sqrt")},
    **{n: ("fn", "method") for n in ("sigmoid", "relu")},
    **{n: ("fn", "method", "numpy") for n in ("add", "subtract", "multiply", "divide",
                                               "power", "matmul")},
    **{n: ("fn", "numpy") for n in ("maximum", "minimum", "where", "clip", "concatenate",
                                     "stack", "expand_dims", "reshape", "transpose")},
    **{n: ("fn", "method", "numpy") for n in ("sum", "mean", "max", "min", "prod", "var")},
}


@dataclass(frozen=True)
class Step:
    """One instruction. ``args`` are value indices; ``params`` the op's other arguments."""

    kind: str
    args: tuple[int, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    via: str = "fn"

    def __repr__(self) -> str:  # short, for hypothesis' falsifying-example report
        shown = {k: (f"array{np.shape(v)}" if isinstance(v, np.ndarray) and v.size > 6 else v)
                 for k, v in self.params.items()}
        return f"Step({self.kind!r}, {self.args}, {shown}, via={self.via!r})"


@dataclass
class Program:
    """Inputs, steps, and the final Hessian-vector product to check."""

    inputs: list[np.ndarray]
    requires_grad: list[bool]
    steps: list[Step]
    hvp_root: int = -1  # a value index (-1: no second-order check)
    hvp_seed: np.ndarray | None = None
    hvp_direction: list[np.ndarray] = field(default_factory=list)  # one per leaf

    @property
    def leaves(self) -> list[int]:
        return [i for i, g in enumerate(self.requires_grad) if g]


def _prod_axes(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.prod(x, axis=axis, keepdims=keepdims)


def _logsumexp(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _setitem(t: np.ndarray, u: Any, index: Any) -> np.ndarray:
    r = np.array(t, copy=True)
    r[index] = u
    return r


def _refresh(base: np.ndarray, view: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """``base`` after its view (``p["view"]``: getitem or transpose) became ``view``."""
    if p["view"] == "transpose":
        axes = p["axes"] if p["axes"] is not None else tuple(reversed(range(base.ndim)))
        return np.transpose(view, np.argsort(axes))
    return _setitem(base, view, p["index"])


def _red(fn: Callable[..., Any]) -> Callable[[list[np.ndarray], dict[str, Any]], Any]:
    return lambda a, p: fn(a[0], axis=p["axis"], keepdims=p["keepdims"])


#: the numpy meaning of every step that makes a value (in-place steps functionally)
REFERENCE: dict[str, Callable[[list[np.ndarray], dict[str, Any]], Any]] = {
    "negative": lambda a, p: -a[0],
    "exp": lambda a, p: np.exp(a[0]),
    "log": lambda a, p: np.log(a[0]),
    "tanh": lambda a, p: np.tanh(a[0]),
    "sigmoid": lambda a, p: 1.0 / (1.0 + np.exp(-a[0])),
    "relu": lambda a, p: np.maximum(a[0], 0.0),
    "abs": lambda a, p: np.abs(a[0]),
    "sqrt": lambda a, p: np.sqrt(a[0]),
    "power_scalar": lambda a, p: np.power(a[0], p["p"]),
    "scale": lambda a, p: a[0] * p["c"],
    "add": lambda a, p: a[0] + a[1],
    "subtract": lambda a, p: a[0] - a[1],
    "multiply": lambda a, p: a[0] * a[1],
    "divide": lambda a, p: a[0] / a[1],
    "maximum": lambda a, p: np.maximum(a[0], a[1]),
    "minimum": lambda a, p: np.minimum(a[0], a[1]),
    "power": lambda a, p: np.power(a[0], a[1]),
    "where": lambda a, p: np.where(p["mask"], a[0], a[1]),
    "clip": lambda a, p: np.clip(a[0], p["lo"], p["hi"]),
    "sum": _red(np.sum),
    "mean": _red(np.mean),
    "max": _red(np.max),
    "min": _red(np.min),
    "prod": _red(_prod_axes),
    "logsumexp": _red(_logsumexp),
    "var": lambda a, p: np.var(a[0], axis=p["axis"], ddof=p["ddof"], keepdims=p["keepdims"]),
    "softmax": lambda a, p: np.exp(a[0]) / np.sum(np.exp(a[0]), axis=p["axis"], keepdims=True),
    "log_softmax": lambda a, p: a[0] - _logsumexp(a[0], p["axis"], True),
    "matmul": lambda a, p: (a[0] @ (a[1] if len(a) > 1 else p["const"]) if p["side"] == "right"
                            else p["const"] @ a[0]),
    "reshape": lambda a, p: np.reshape(a[0], p["shape"]),
    "transpose": lambda a, p: np.transpose(a[0], p["axes"]),
    "concatenate": lambda a, p: np.concatenate(a, axis=p["axis"]),
    "stack": lambda a, p: np.stack(a, axis=p["axis"]),
    "expand_dims": lambda a, p: np.expand_dims(a[0], p["axis"]),
    "getitem": lambda a, p: np.asarray(a[0][p["index"]]),
    "iadd": lambda a, p: a[0] + (a[1] if len(a) > 1 else p["c"]),
    "isub": lambda a, p: a[0] - (a[1] if len(a) > 1 else p["c"]),
    "imul": lambda a, p: a[0] * (a[1] if len(a) > 1 else p["c"]),
    "idiv": lambda a, p: a[0] / (a[1] if len(a) > 1 else p["c"]),
    "setitem": lambda a, p: _setitem(a[0], a[1] if len(a) > 1 else p["c"], p["index"]),
    # not an op: names the new contents of a base whose view was updated in place
    "refresh": lambda a, p: _refresh(a[0], a[1], p),
}


def makes_value(step: Step) -> bool:
    """Whether ``step`` appends a value (ops and in-place updates do)."""
    return step.kind in REFERENCE


def replay(program: Program, leaves: dict[int, np.ndarray] | None = None,
           override: tuple[int, np.ndarray] | None = None) -> list[np.ndarray]:
    """Every value of ``program`` in numpy, with the given leaf values (by input index) and
    optionally one value replaced (``override = (value index, array)``)."""
    values: list[np.ndarray] = []
    for i, x in enumerate(program.inputs):
        values.append(leaves[i] if leaves and i in leaves else x)
        if override is not None and override[0] == i:
            values[-1] = override[1]
    for step in program.steps:
        if not makes_value(step):
            continue
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # mean of an empty slice...
            value = np.asarray(REFERENCE[step.kind]([values[a] for a in step.args],
                                                    step.params), dtype=np.float64)
        if override is not None and override[0] == len(values):
            value = override[1]
        values.append(value)
    return values


def parents(program: Program) -> list[tuple[int, ...]]:
    """The value indices each value was computed from (along gradient edges)."""
    result: list[tuple[int, ...]] = [() for _ in program.inputs]
    for step in program.steps:
        if makes_value(step):
            result.append(step.args)
    return result


def depends(parent_lists: list[tuple[int, ...]], root: int) -> set[int]:
    """The value indices ``root`` depends on, itself included."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        j = stack.pop()
        if j not in seen:
            seen.add(j)
            stack.extend(parent_lists[j])
    return seen
