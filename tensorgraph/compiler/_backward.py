"""``Tensor.backward`` while tracing: the engine's walk, with every VJP call recorded.

It computes exactly what :func:`tensorgraph.autograd.run_backward` computes for an ordinary
backward (no ``create_graph``, no ``retain_grad``): the same topological order (a
depth-first post-order), the same VJP calls on the same arrays, ``sum_to`` where a
gradient has the broadcast shape, fan-in summed out of place in the order of the walk, and
the leaves' gradients accumulated the way the engine does (:func:`accumulate`). Each of
these calls is also recorded as a step of the plan, so a replay repeats the arithmetic
bit for bit without building or walking a graph.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from .. import autograd
from ..broadcast import sum_to
from ..errors import GradientError, GraphFreedError
from ..tensor import Tensor
from ._tracer import Tracer

__all__ = ["accumulate", "traced_backward"]


def accumulate(t: Tensor, g: np.ndarray, adopted: set[int]) -> None:
    """Add ``g`` into ``t.grad`` as the engine's ``_accumulate_grad`` does (no create_graph):
    adopt a fresh array nobody else holds, copy anything else, add in place into a
    gradient buffer the tensor already owns."""
    if t._grad is None or t._grad._node is not None:
        data = g
        if not (data.base is None and data.flags.writeable and id(data) not in adopted):
            data = np.array(data, dtype=t.dtype)
        adopted.add(id(data))
        t._grad = (autograd._new_tensor(data, False, None) if t._grad is None
                   else t._grad + data)
    else:
        grad = t._grad
        np.add(grad._data, g, out=grad._data)
        autograd._bump(grad._vc)  # as the engine: a graph that saved this .grad sees it


def _new_adopted(*seeds: Any) -> set[int]:
    return {id(s) for s in seeds}


def _topological_order(root: Any) -> list[Any]:
    """The engine's own order (so gradients sum in the same order, bit for bit); empty for
    a freed graph, whose error the engine raises when the call falls back to it."""
    try:
        return autograd._topological_order([root])
    except GraphFreedError:
        return []


def _vjp_all(op: Any, g: Any, out: Any, inputs: Any, needs: Any, params: Any,
             ctx: Any) -> tuple[Any, ...]:
    return tuple(op.vjp(g, out, inputs, needs, params, ctx))


def traced_backward(tracer: Tracer, original: Any, root: Tensor, grad: Any = None,
                    retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Run (and record) ``root.backward(grad, retain_graph, create_graph)``."""
    node = root._node
    order = _topological_order(node) if node is not None else []
    if (create_graph or node is None or not order or autograd._modes.anomaly
            or any(n.retained is not None for n in order)):
        tracer.flag("backward with create_graph, retain_grad, anomaly detection or from a "
                    "leaf")
        original(root, grad, retain_graph, create_graph)
        return
    retain = bool(retain_graph)
    tracer.depth += 1
    try:
        seed = autograd._seed_gradient(root, grad, "backward")
        seed_t = tracer.resolve(seed, "backward") if grad is not None else seed
        if grad is None:
            tracer.keep.append(seed)
            slot = tracer.new_slot(seed)  # a constant of the signature (ones)
            tracer.constants.add(slot)
            tracer.steps.append(_const_step(seed, slot))
        adopted = tracer.call(_new_adopted, (seed,), {}, "backward")
        del seed_t
        pending: dict[Any, Any] = {node: seed}
        leaves: dict[int, Tensor] = {}
        leaf_grads: dict[int, Any] = {}
        for n in order:
            g = pending.pop(n, None)
            if g is None:
                continue
            autograd._check_versions(n)
            op, needs, params = n.op, n.needs, n.params
            where = f"backward of {op.name!r}"
            if op.vjp_per_input:
                grads: list[Any] = [
                    tracer.call(f, (g, n.out, *n.arrays), params, where) if need else None
                    for f, need in zip(op.vjps, needs)
                ]
            else:
                grads = list(tracer.call(_vjp_all, (op, g, n.out, n.arrays, needs, params,
                                                    n.ctx), {}, where, nout=-1))
            for arg, need, gi in zip(n.args, needs, grads):
                if not need or gi is None:
                    continue
                data = arg._data
                if gi.shape != data.shape:
                    gi = tracer.call(sum_to, (gi, data.shape), {}, where)
                if gi.dtype != data.dtype:
                    raise GradientError(f"{op.name}: VJP returned a {gi.dtype} gradient for "
                                        f"a {arg.dtype} input of shape {arg.shape}")
                child = arg._node
                if child is not None:
                    pending[child] = gi if child not in pending else tracer.call(
                        operator.add, (pending[child], gi), {}, where)
                else:
                    k = id(arg)
                    leaves[k] = arg
                    if gi is g:
                        gi = tracer.call(np.copy, (gi,), {}, where)
                    leaf_grads[k] = gi if k not in leaf_grads else tracer.call(
                        operator.add, (leaf_grads[k], gi), {}, where)
            if not retain:
                n.free()
        for k, leaf in leaves.items():
            if leaf._requires_grad:
                gslot = tracer.known.get(id(leaf_grads[k]))
                if gslot is not None:
                    tracer.pinned.add(gslot)  # it may become the .grad: it outlives a replay
                tracer.call(accumulate, (leaf, leaf_grads[k], adopted), {},
                            "backward", nout=None)
                tracer.grads.add(id(leaf._grad))
    finally:
        tracer.depth -= 1


def _const_step(value: Any, slot: int) -> Any:
    from ._plan import Step

    return Step(_identity, (value,), {}, slot)


def _identity(value: Any) -> Any:
    return value
