"""The same programs replayed in PyTorch (float64, CPU): the reference of the fuzzer.

Only imported when torch is importable. numpy's conventions are mapped onto torch's where
the two differ: ``axis=None`` becomes every dim, ``prod`` over several axes is taken one
axis at a time, ``var``'s ``ddof`` is torch's ``correction``, a slice with a negative step
(which torch does not accept) becomes an integer-array index.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._engines import Run, _operand, _update
from ._programs import Program, Step, makes_value

_F64 = torch.float64


def _dims(x: Any, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _prod(x: Any, axis: Any, keepdims: bool) -> Any:
    dims = sorted((d % max(x.ndim, 1) for d in _dims(x, axis)), reverse=True)
    if not dims:
        return x.clone()
    for d in dims:
        x = torch.prod(x, dim=d, keepdim=keepdims)
    return x


def _reduce(k: str, x: Any, p: dict[str, Any]) -> Any:
    dims, keep = _dims(x, p["axis"]), p["keepdims"]
    if k == "prod":
        return _prod(x, p["axis"], keep)
    if x.ndim == 0:  # torch reads dim=() as "every dim", which is what a 0-d tensor means
        dims = ()
    if k == "var":
        return torch.var(x, dim=dims, correction=p["ddof"], keepdim=keep)
    fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin,
          "logsumexp": torch.logsumexp}[k]
    return fn(x, dim=dims, keepdim=keep)


def torch_index(index: Any, shape: tuple[int, ...]) -> Any:
    """numpy's index as torch accepts it."""
    parts = index if isinstance(index, tuple) else (index,)
    out: list[Any] = []
    for axis, part in enumerate(parts):
        if isinstance(part, np.ndarray):
            out.append(torch.tensor(part))
        elif isinstance(part, slice) and part.step is not None and part.step < 0:
            out.append(torch.tensor(np.arange(shape[axis])[part].copy()))
        else:
            out.append(part)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _call(step: Step, a: list[Any], shapes: list[tuple[int, ...]]) -> Any:
    k, p = step.kind, step.params
    simple = {"negative": torch.neg, "exp": torch.exp, "log": torch.log, "tanh": torch.tanh,
              "sigmoid": torch.sigmoid, "relu": torch.relu, "abs": torch.abs,
              "sqrt": torch.sqrt, "add": torch.add, "subtract": torch.sub,
              "multiply": torch.mul, "divide": torch.div, "maximum": torch.maximum,
              "minimum": torch.minimum, "power": torch.pow}
    if k in simple:
        return simple[k](*a)
    if k == "power_scalar":
        return torch.pow(a[0], p["p"])
    if k == "scale":
        return a[0] * p["c"]
    if k == "where":
        return torch.where(torch.tensor(p["mask"]), a[0], a[1])
    if k == "clip":
        return torch.clamp(a[0], min=p["lo"], max=p["hi"])
    if k in ("sum", "mean", "max", "min", "prod", "var", "logsumexp"):
        return _reduce(k, a[0], p)
    if k == "softmax":
        return torch.softmax(a[0], dim=p["axis"])
    if k == "log_softmax":
        return torch.log_softmax(a[0], dim=p["axis"])
    if k == "matmul":
        if len(a) > 1:
            return torch.matmul(a[0], a[1])
        const = torch.tensor(p["const"])
        return torch.matmul(a[0], const) if p["side"] == "right" else torch.matmul(const, a[0])
    if k == "reshape":
        return torch.reshape(a[0], p["shape"])
    if k == "transpose":
        axes = p["axes"] if p["axes"] is not None else tuple(reversed(range(a[0].ndim)))
        return torch.permute(a[0], axes)
    if k == "expand_dims":
        return torch.unsqueeze(a[0], p["axis"])
    if k == "concatenate":
        return torch.cat(a, dim=p["axis"])
    if k == "stack":
        return torch.stack(a, dim=p["axis"])
    if k == "getitem":
        return a[0][torch_index(p["index"], shapes[0])]
    raise AssertionError(f"unknown step {k}")


def _apply(step: Step, vals: list[Any]) -> Any:
    args = [vals[a] for a in step.args]
    if step.kind == "setitem":
        index = torch_index(step.params["index"], tuple(args[0].shape))
        step = Step("setitem", step.args, {**step.params, "index": index})
    if step.kind in ("iadd", "isub", "imul", "idiv", "setitem", "refresh"):
        return _update(step, args[0], _operand(step, vals))
    return _call(step, args, [tuple(x.shape) for x in args])


def _leaves(program: Program, inputs: list[np.ndarray] | None = None) -> list[Any]:
    return [torch.tensor(x, dtype=_F64, requires_grad=g)
            for x, g in zip(inputs or program.inputs, program.requires_grad)]


def run_torch(program: Program) -> Run:
    tensors = _leaves(program)
    vals: list[Any] = list(tensors)
    run = Run(values=[t.detach().numpy(force=True).copy() for t in tensors])
    retained: list[int] = []
    for step in program.steps:
        if step.kind == "retain":
            vals[step.args[0]].retain_grad()
            retained.append(step.args[0])
        elif step.kind == "zero_grad":
            vals[step.args[0]].grad = None
        elif step.kind == "backward":
            vals[step.args[0]].backward(torch.tensor(step.params["seed"]),
                                        retain_graph=step.params["retain_graph"])
            run.grads.append({k: None if vals[k].grad is None else
                              vals[k].grad.detach().numpy(force=True).copy()
                              for k in program.leaves + retained})
        else:
            out = _apply(step, vals)
            vals.append(out)
            run.values.append(out.detach().numpy(force=True).copy())
    return run


def hvp_torch(program: Program) -> tuple[list[np.ndarray], list[np.ndarray]]:
    tensors = _leaves(program)
    vals: list[Any] = list(tensors)
    for step in program.steps:
        if makes_value(step):
            vals.append(_apply(step, vals))
    leaves = [tensors[i] for i in program.leaves]
    loss = (vals[program.hvp_root] * torch.tensor(program.hvp_seed)).sum()
    first = torch.autograd.grad(loss, leaves, create_graph=True, allow_unused=True)
    first = tuple(torch.zeros_like(x) if g is None else g for g, x in zip(first, leaves))
    grads = [g.detach().numpy(force=True).copy() for g in first]
    s = sum((g * torch.tensor(v)).sum() for g, v in zip(first, program.hvp_direction))
    if not isinstance(s, torch.Tensor) or not s.requires_grad:
        return grads, [np.zeros_like(g) for g in grads]
    second = torch.autograd.grad(s, leaves, allow_unused=True)
    return grads, [np.zeros(x.shape) if h is None else h.detach().numpy(force=True).copy()
                   for h, x in zip(second, leaves)]
