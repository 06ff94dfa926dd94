"""``tg.compile(fn)``: trace a training step once per input signature, then replay it.

The first call with a new *signature* (the shapes, dtypes and ``requires_grad`` of the
tensor and array arguments, the values of the Python arguments, the grad mode) runs ``fn``
eagerly while a tracer records every numpy-level call it makes: the ops' forwards, the
VJPs of ``loss.backward()`` and the host work of the modules and optimizers (dropout
masks, batch-norm statistics, the optimizer's update). The record becomes a *plan*: one
generated Python function that repeats those calls on the new inputs, with no graph, no
nodes and no bookkeeping, writing elementwise and matmul results into buffers it owns and
reuses from step to step. Later calls with that signature replay the plan while its
*guards* hold (the module training flags and hyper-parameters it depends on, the identity
of the parameter arrays); a failed guard traces again.

What a plan cannot replay (a tensor's value read into Python with ``.item()``,
``float()``, ``.numpy()`` or an ``if``; an array computed by numpy outside the ops; an
in-place tensor write) makes the function run eagerly for that signature, with one
:class:`CompileWarning` naming the call site. See ``docs/compile.md``.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor
from ._backward import traced_backward
from ._kernels import kernel_for
from ._modules import _optimizer_call
from ._optim import fused_optimizer_step
from ._plan import _roots, generate, new_writer, plan_buffers
from ._tracer import Patches, Tracer, numpy_scalar

__all__ = ["CompileWarning", "CompiledFunction", "compile"]

#: plans kept per signature (each with its own guards) before the signature runs eagerly
MAX_PLANS = 8


class CompileWarning(UserWarning):
    """A compiled function runs eagerly for a signature whose trace cannot be replayed."""


class _Eager:
    """Marker: this signature runs eagerly."""


_EAGER = _Eager()


def _signature(value: Any, leaves: list[Any], key: list[Any]) -> None:
    """Append ``value``'s part of the signature to ``key`` and its arrays to ``leaves``."""
    if isinstance(value, Tensor):
        data = value._data
        # the same tensor or array passed twice is part of the signature: the trace read
        # both arguments through one array
        same = next((i for i, leaf in enumerate(leaves) if leaf is value or data is (
            leaf._data if isinstance(leaf, Tensor) else leaf)), -1) if leaves else -1
        leaves.append(value)
        # the memory layout too: numpy lays a result out as its inputs are, and a reduction
        # sums in memory order, so an F-ordered batch rounds differently from a C-ordered one
        key.append(("T", data.shape, data.dtype.str, data.strides, value._requires_grad,
                    same))
    elif isinstance(value, np.ndarray):
        same = next((i for i, leaf in enumerate(leaves) if value is (
            leaf._data if isinstance(leaf, Tensor) else leaf)), -1) if leaves else -1
        leaves.append(value)
        key.append(("A", value.shape, value.dtype.str, value.strides, same))
    elif value is None or type(value) in (bool, int, float, str):
        key.append((type(value).__name__, value))
    elif isinstance(value, (tuple, list)):
        key.append((type(value).__name__, len(value)))
        for v in value:
            _signature(v, leaves, key)
    elif isinstance(value, dict):
        key.append(("dict", tuple(value)))
        for v in value.values():
            _signature(v, leaves, key)
    else:  # a module, a function, any other object: by identity
        key.append(("id", id(value)))


def _wrap(value: Any) -> Tensor:
    return autograd._new_tensor(np.asarray(value), False, None)


def _zero_d(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its result as an array (numpy gives scalars for 0-d results; apply
    turns them into 0-d arrays, and the VJPs saw those)."""

    @functools.wraps(fn)
    def as_array(*args: Any, **kwargs: Any) -> Any:
        return np.asarray(fn(*args, **kwargs))

    return as_array


def _c_ordered(value: Any) -> bool:
    """Whether the array(s) a step gave in the trace are C-ordered, as a kernel's result
    and a plan buffer are. numpy lays a result out as its inputs are (an elementwise op on a
    transposed view, or on a convolution's channel-major output, gives another order), and
    a reduction downstream sums in memory order: such a step allocates as eagerly."""
    values = value if isinstance(value, tuple) else (value,)
    return all(v.flags.c_contiguous for v in values if isinstance(v, np.ndarray))


def _storages(values: dict[int, Any], slots: set[int]) -> set[int]:
    """The ids of the arrays owning the memory of the given slots' values."""
    found: set[int] = set()
    for s in slots:
        _roots(values.get(s), found)
    return found


class _Plan:
    """One replayable trace: the generated function, its buffers and its guards."""

    def __init__(self, tracer: Tracer, leaves: list[Any], result: Any, use_buffers: bool
                 ) -> None:
        self.guards = tracer.guards
        self.state = [(t, arr) for t, arr, _ in tracer.state.values()]
        constants = {id(tracer.values[s]) for s in tracer.constants}
        traced = {id(v) for v in tracer.values.values()
                  if isinstance(v, np.ndarray) or numpy_scalar(v)}
        writer = new_writer((traced | set(tracer.param_copies)) - constants)
        prologue: list[str] = []
        # each argument's array into the slot it was given at the start of the trace (not
        # tracer.known's slot now: a step that returned the array itself, a VJP passing a
        # seed through, gave it a later slot)
        for i, leaf in enumerate(leaves):
            if isinstance(leaf, Tensor):
                ts = tracer.tensor_slots[id(leaf)]
                prologue.append(f"s{ts} = args[{i}]")
                prologue.append(f"s{tracer.leaf_slots[i]} = s{ts}._data")
            else:
                prologue.append(f"s{tracer.leaf_slots[i]} = args[{i}]")
        for t, _, slot in tracer.state.values():
            prologue.append(f"s{slot} = {writer.const(t)}._data")
        template = self._outputs(tracer, result, writer)
        held = _storages(tracer.values, tracer.pinned)
        scratch: dict[Any, Any] = {}  # the kernels' temporaries (see _kernels)
        for step in tracer.steps:
            out = step.outs
            value = tracer.values.get(out) if isinstance(out, int) else None
            if isinstance(value, np.ndarray) and value.ndim == 0:
                step.fn = _zero_d(step.fn)
            elif use_buffers and step.fn is _optimizer_call:
                step.fn = fused_optimizer_step(step.fn, step.args) or step.fn
            elif use_buffers and out is not None:
                if isinstance(out, tuple):
                    value = tuple(tracer.values[o] for o in out)
                if not _c_ordered(value):
                    continue  # (see _c_ordered)
                kernel = kernel_for(step.fn, step.args, value, scratch)
                if kernel is not None and not _storages(
                        dict(enumerate(kernel.owned(value))), {0, 1}) & held:
                    step.fn, step.into = kernel, "into"
        buffers = plan_buffers(tracer.steps, tracer.values, tracer.pinned) if use_buffers else []
        self.buffers = [np.empty(shape, dtype) for shape, dtype in buffers]
        writer.namespace["_wrap"] = _wrap
        self.replay = generate("replay", prologue, tracer.steps, template, writer,
                               len(self.buffers))
        self.n_steps = len(tracer.steps)
        # the buffers are the plan's own: two threads replaying at once would write into
        # each other's intermediate values, so replays of one plan take turns
        self.lock = threading.Lock()

    @staticmethod
    def _outputs(tracer: Tracer, value: Any, writer: Any) -> str:
        """The source of the replay's return value (and pin what it returns)."""
        if value is None:
            return "None"
        if isinstance(value, Tensor):
            ts = tracer.tensor_slots.get(id(value))
            if ts is not None:
                return f"s{ts}"
            slot = tracer.known.get(id(value._data))
            if id(value) in tracer.created and slot is not None:
                tracer.pinned.add(slot)
                return f"_wrap(s{slot})"
            if id(value) not in tracer.created:
                return str(writer.const(value))
            tracer.flag("the function returns a tensor the plan cannot trace")
            return "None"
        if isinstance(value, (tuple, list)):
            inner = ", ".join(_Plan._outputs(tracer, v, writer) for v in value)
            return f"({inner},)" if isinstance(value, tuple) else f"[{inner}]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k!r}: {_Plan._outputs(tracer, v, writer)}"
                                   for k, v in value.items()) + "}"
        tracer.flag(f"the function returns a {type(value).__name__}, which a plan cannot "
                    f"replay (return tensors)")
        return "None"

    def holds(self) -> bool:
        """Whether every guard still holds (the plan may replay)."""
        for obj, attribute, value in self.guards:
            now = getattr(obj, attribute)
            if now is not value and now != value:
                return False
        return all(t._data is arr for t, arr in self.state)


class CompiledFunction:
    """A function traced once per signature and replayed (see :func:`compile`).

    Attributes
    ----------
    traces, replays, eager_calls : int
        How many calls traced, replayed a plan, or ran eagerly (a signature that fell back).
    """

    def __init__(self, fn: Callable[..., Any], buffers: bool = True) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.buffers = buffers
        self._plans: dict[tuple[Any, ...], list[_Plan] | _Eager] = {}
        self._warned = False
        self.traces = self.replays = self.eager_calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if autograd._tracer is not None or autograd._modes.anomaly:
            return self.fn(*args, **kwargs)  # inside another trace, or checking anomalies
        leaves: list[Any] = []
        key: list[Any] = [autograd._modes.grad_enabled]
        _signature(args, leaves, key)
        _signature(kwargs, leaves, key)
        signature = tuple(key)
        plans = self._plans.get(signature)
        if plans is _EAGER:
            self.eager_calls += 1
            return self.fn(*args, **kwargs)
        if isinstance(plans, list):
            for plan in plans:
                if plan.holds():
                    self.replays += 1
                    with plan.lock:
                        return plan.replay(leaves, plan.buffers)
        return self._trace(signature, args, kwargs, leaves)

    def _trace(self, signature: tuple[Any, ...], args: tuple[Any, ...],
               kwargs: dict[str, Any], leaves: list[Any]) -> Any:
        self.traces += 1
        tracer = Tracer()
        original = Tensor.backward

        def backward(root: Tensor, grad: Any = None, retain_graph: bool | None = None,
                     create_graph: bool = False) -> None:
            if tracer.mine():
                traced_backward(tracer, original, root, grad, retain_graph, create_graph)
            else:  # another thread, meanwhile: not part of the trace
                original(root, grad, retain_graph, create_graph)

        with Patches(tracer, backward):
            for leaf in leaves:
                if isinstance(leaf, Tensor):
                    tracer.leaf_slots.append(tracer.input_tensor(leaf)[1])
                else:
                    tracer.leaf_slots.append(tracer.new_slot(leaf))
            result = self.fn(*args, **kwargs)
        plans = self._plans.get(signature)
        if tracer.escape is None and (plans is None or isinstance(plans, list)):
            plan = _Plan(tracer, leaves, result, self.buffers)
            if tracer.escape is None:  # (the outputs may escape too)
                kept = [p for p in plans or [] if all(t._data is a for t, a in p.state)]
                if len(kept) < MAX_PLANS:
                    self._plans[signature] = [*kept, plan]
                    return result
                tracer.escape = (f"more than {MAX_PLANS} traces for one signature (the "
                                 f"guards keep changing)")
        self._plans[signature] = _EAGER
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"tg.compile({getattr(self.fn, '__qualname__', self.fn)}): running eagerly for "
                f"this signature: {tracer.escape}", CompileWarning, stacklevel=3,
            )
        return result

    def source(self) -> list[str]:
        """The generated source of every plan (for debugging)."""
        return [p.replay.__doc__ or "" for ps in self._plans.values()
                if isinstance(ps, list) for p in ps]


def compile(fn: Callable[..., Any] | None = None, *, buffers: bool = True) -> Any:
    """Trace ``fn`` once per input signature and replay the trace on later calls.

    Parameters
    ----------
    fn : callable
        A function of tensors, arrays and Python values, typically a training step
        (``opt.zero_grad(); loss = ...; loss.backward(); opt.step(); return loss``).
    buffers : bool
        Let the plan write elementwise and matmul results into buffers it owns and reuses
        (default). ``False`` replays the same calls allocating as eagerly.

    Returns
    -------
    CompiledFunction
        Callable like ``fn``. Tensors it returns are new, detached tensors (no graph).

    Examples
    --------
    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1)
    >>> @tg.compile
    ... def step(x):
    ...     opt.zero_grad()
    ...     loss = ((w * x) ** 2).sum()
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> [round(float(step(tg.tensor([1.0, 1.0]))), 4) for _ in range(3)]
    [5.0, 3.2, 2.048]
    """
    if fn is None:
        return functools.partial(compile, buffers=buffers)
    return CompiledFunction(fn, buffers=buffers)
