"""Running a :class:`~tests.reliability._programs.Program` in tensorgraph and in PyTorch.

Both runners return a :class:`Run`: every value as it was made, and after every
``backward`` step the gradient of every leaf and retained intermediate (None where none has
flowed). :func:`run_tensorgraph` also checks, after each backward and at the end, that no
two gradient buffers share memory, that none aliases an input array, a seed or a value, and
that the arrays handed to tensorgraph were not mutated. :func:`hvp_tensorgraph` and
:func:`hvp_torch` replay a program's forward steps and return first-order gradients and a
Hessian-vector product computed with ``create_graph=True``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tensorgraph as tg

from ._programs import REDUCTIONS, UNARY, Program, Step, makes_value

Grads = dict[int, "np.ndarray | None"]


@dataclass
class Run:
    values: list[np.ndarray] = field(default_factory=list)
    grads: list[Grads] = field(default_factory=list)  # one snapshot per backward step


_OPERATOR = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
             "divide": operator.truediv, "power": operator.pow, "matmul": operator.matmul}
_NP = {"negative": np.negative, "exp": np.exp, "log": np.log, "tanh": np.tanh,
       "abs": np.abs, "sqrt": np.sqrt, "add": np.add, "subtract": np.subtract,
       "multiply": np.multiply, "divide": np.divide, "power": np.power, "matmul": np.matmul,
       "maximum": np.maximum, "minimum": np.minimum, "sum": np.sum, "mean": np.mean,
       "max": np.max, "min": np.min, "prod": np.prod, "var": np.var}
_IN_PLACE = {"iadd": operator.iadd, "isub": operator.isub, "imul": operator.imul,
             "idiv": operator.itruediv, "setitem": None, "refresh": None}


def _call(step: Step, a: list[Any], lib: Any) -> Any:
    """The step's op on tensorgraph tensors, called the way ``step.via`` says."""
    k, p, via = step.kind, step.params, step.via
    fn = _NP[k] if via == "numpy" and k in _NP else None
    if k in UNARY:
        if fn is not None:
            return fn(a[0])
        if via == "method":
            return -a[0] if k == "negative" else getattr(a[0], k)()
        return getattr(lib, k)(a[0])
    if k == "power_scalar":
        return np.power(a[0], p["p"]) if via == "numpy" else a[0] ** p["p"]
    if k == "scale":
        return a[0] * p["c"] if p["side"] == "right" else p["c"] * a[0]
    if k == "matmul":
        x, y = (a[0], a[1] if len(a) > 1 else p["const"])
        if p["side"] == "left":
            x, y = p["const"], a[0]
        return (fn or (_OPERATOR[k] if via == "method" else lib.matmul))(x, y)
    if k in _OPERATOR or k in ("maximum", "minimum"):
        return (fn or (_OPERATOR[k] if via == "method" else getattr(lib, k)))(a[0], a[1])
    if k in REDUCTIONS:
        kw = {"axis": p["axis"], "keepdims": p["keepdims"]}
        if k == "var":
            kw["ddof"] = p["ddof"]
        if fn is not None:
            return fn(a[0], **kw)
        return getattr(a[0], k)(**kw) if via == "method" else getattr(lib, k)(a[0], **kw)
    lib = np if via == "numpy" else lib
    if k == "where":
        return lib.where(p["mask"], a[0], a[1])
    if k == "clip":
        return lib.clip(a[0], p["lo"], p["hi"])
    if k in ("softmax", "log_softmax"):
        return getattr(lib, k)(a[0], axis=p["axis"])
    if k in ("concatenate", "stack"):
        return getattr(lib, k)(a, axis=p["axis"])
    if k == "reshape":
        return a[0].reshape(p["shape"]) if via == "method" else lib.reshape(a[0], p["shape"])
    if k == "transpose":
        return lib.transpose(a[0], p["axes"])
    if k == "expand_dims":
        return lib.expand_dims(a[0], p["axis"])
    if k == "getitem":
        return a[0][p["index"]] if via == "method" else tg.getitem(a[0], p["index"])
    raise AssertionError(f"unknown step {k}")


def _update(step: Step, t: Any, u: Any) -> Any:
    """``t op= u`` (or ``t[idx] = u``) on a tensorgraph or torch tensor; returns ``t``."""
    if step.kind == "refresh":  # the base of a view updated in place: as it is now
        return t
    if step.kind == "setitem":
        t[step.params["index"]] = u
        return t
    return _IN_PLACE[step.kind](t, u)


def _operand(step: Step, vals: list[Any]) -> Any:
    return vals[step.args[1]] if len(step.args) > 1 else step.params["c"]


# --------------------------------------------------------------------------- tensorgraph
def run_tensorgraph(program: Program) -> Run:
    """Run ``program`` in tensorgraph, checking aliasing and input mutation as it goes."""
    handed = [x.copy() for x in program.inputs]  # the arrays tensorgraph receives
    tensors = [tg.tensor(x, requires_grad=g) for x, g in zip(handed, program.requires_grad)]
    vals: list[Any] = list(tensors)
    run = Run(values=[t.numpy().copy() for t in tensors])
    seeds: list[np.ndarray] = []
    retained: list[int] = []
    for step in program.steps:
        if step.kind == "retain":
            vals[step.args[0]].retain_grad()
            retained.append(step.args[0])
        elif step.kind == "zero_grad":
            vals[step.args[0]].zero_grad()
        elif step.kind == "backward":
            seed = step.params["seed"].copy()
            seeds.append(seed)
            vals[step.args[0]].backward(seed, retain_graph=step.params["retain_graph"])
            keys = program.leaves + retained
            grads = {k: vals[k].grad for k in keys}
            _check_aliasing(grads, handed, seeds, vals)
            run.grads.append({k: None if g is None else g.numpy().copy()
                              for k, g in grads.items()})
        else:
            args = [vals[a] for a in step.args]
            out = (_update(step, args[0], _operand(step, vals)) if step.kind in _IN_PLACE
                   else _call(step, args, tg))
            assert isinstance(out, tg.Tensor), f"{step} returned {type(out).__name__}"
            vals.append(out)
            run.values.append(out.numpy().copy())
    for i, (x, h) in enumerate(zip(program.inputs, handed)):
        assert np.array_equal(x, h), f"input {i} handed to tensorgraph was modified"
    for step, seed in zip([s for s in program.steps if s.kind == "backward"], seeds):
        assert np.array_equal(step.params["seed"], seed), "a seed passed to backward changed"
    return run


def _check_aliasing(grads: dict[int, Any], handed: list[np.ndarray], seeds: list[np.ndarray],
                    vals: list[Any]) -> None:
    arrays = {k: g.numpy() for k, g in grads.items() if g is not None}
    keys = sorted(arrays)
    for n, k in enumerate(keys):
        for j in keys[n + 1:]:
            assert not np.shares_memory(arrays[k], arrays[j]), (
                f"the gradients of values {k} and {j} share one buffer")
        for what, others in (("an input array", handed), ("a seed", seeds),
                             ("a value", [v.numpy() for v in vals])):
            for o in others:
                assert not np.shares_memory(arrays[k], o), f"the gradient of {k} aliases {what}"


def forward_tensorgraph(program: Program, inputs: list[np.ndarray] | None = None
                        ) -> tuple[list[Any], list[Any]]:
    """The leaves and every value of ``program``'s forward steps (no backward)."""
    tensors = [tg.tensor(x.copy(), requires_grad=g)
               for x, g in zip(inputs or program.inputs, program.requires_grad)]
    vals: list[Any] = list(tensors)
    for step in program.steps:
        if makes_value(step):
            args = [vals[a] for a in step.args]
            vals.append(_update(step, args[0], _operand(step, vals)) if step.kind in _IN_PLACE
                        else _call(step, args, tg))
    return [tensors[i] for i in program.leaves], vals


def hvp_tensorgraph(program: Program, inputs: list[np.ndarray] | None = None,
                    second: bool = True) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """First-order gradients of ``<seed, value[hvp_root]>`` and the Hessian-vector product
    along ``hvp_direction`` (by ``create_graph=True``), one array per leaf."""
    leaves, vals = forward_tensorgraph(program, inputs)
    loss = (vals[program.hvp_root] * program.hvp_seed).sum()
    first = tg.gradients(loss, leaves, create_graph=second, allow_unused=True)
    grads = [g.numpy().copy() for g in first]
    if not second:
        return grads, []
    terms = [(g * v).sum() for g, v in zip(first, program.hvp_direction)]
    s = sum(terms[1:], terms[0])
    if not s.requires_grad:
        return grads, [np.zeros_like(g) for g in grads]
    return grads, [h.numpy().copy() for h in tg.gradients(s, leaves, allow_unused=True)]

