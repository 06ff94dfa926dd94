"""The tracer: runs the function eagerly once and records every numpy-level call it makes.

While a :class:`Tracer` is installed (``autograd._tracer``), ``autograd.apply`` reports
each op it runs (:meth:`Tracer.record_op`); ``Tensor.backward`` is replaced by a traced
backward (:mod:`._backward`) that calls the same VJPs the engine would and records them;
``nn.Dropout``, ``nn.BatchNorm1d`` and the optimizers report the numpy work they do
outside the graph (a mask draw, the running statistics, an optimizer update) as *host
steps*. Every array an op meets must then be accounted for: an input of the call, the
array of a tensor that existed before the call (a parameter, a buffer: read live at each
replay), or the output of an earlier step. Anything else (a value read into Python with
``.item()``, an array computed by numpy outside the registry, an in-place write the graph
does not see) is an *escape*: the trace still finishes eagerly (its result is the eager
result), but no plan is made and the call site is reported.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from ..nn.module import Module
from ..tensor import Tensor
from ._plan import Slot, Step

__all__ = ["Tracer"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep

#: op forward -> (function, how to build its arguments) for the ops whose forward is a numpy
#: ufunc in all but name (the plan may then give it an ``out=`` buffer)
_UFUNC_FORMS: dict[str, Callable[[list[Any]], tuple[Any, tuple[Any, ...]]]] = {
    "relu": lambda a: (np.maximum, (a[0], 0)),
}


def user_site() -> str:
    """``file:line`` of the innermost frame outside the tensorgraph package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"


def _called_from_package() -> bool:
    """Whether the caller of the patched method (two frames up) is tensorgraph's own code."""
    frame = sys._getframe(2)
    return os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR)


class Tracer:
    """Records one eager run of a function as a list of :class:`Step`."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.n_slots = 0
        self.values: dict[int, Any] = {}  # slot -> its value in the trace (kept alive)
        self.known: dict[int, int] = {}  # id(array) -> slot
        self.tensor_slots: dict[int, int] = {}  # id(input Tensor) -> slot of the Tensor
        self.created: dict[int, Any] = {}  # tensors made during the trace (kept alive)
        self.state: dict[int, tuple[Tensor, np.ndarray, int]] = {}  # id(t) -> t, array, slot
        self.guards: list[tuple[Any, str, Any]] = []  # (object, attribute, value)
        self.param_copies: dict[int, Any] = {}  # id(copy apply made) -> the value given
        self.keep: list[Any] = []  # everything whose id is a key above stays alive
        self.escape: str | None = None
        self.constants: set[int] = set()  # slots whose value is a constant of the plan
        self.pinned: set[int] = set()  # slots that outlive the replay (grads, outputs)
        self.grads: set[int] = set()  # ids of the .grad tensors the traced backward set
        #: the thread that traces: what other threads do meanwhile is not recorded
        self.thread = threading.get_ident()
        self.depth = 0  # > 0 while tracer-internal code runs (no escapes flagged)

    # ------------------------------------------------------------------ slots
    def new_slot(self, value: Any) -> int:
        i = self.n_slots
        self.n_slots += 1
        self.values[i] = value
        if isinstance(value, (np.ndarray, tuple, list, set)) and (
                isinstance(value, np.ndarray) or len(value)):  # () is a shared singleton
            self.known[id(value)] = i
        return i

    def alias(self, value: Any, slot: int) -> None:
        """``value`` (a defensive copy or a read-only view) holds what ``slot`` holds."""
        self.known[id(value)] = slot
        self.keep.append(value)

    def input_tensor(self, t: Tensor) -> tuple[int, int]:
        ts = self.new_slot(t)
        self.tensor_slots[id(t)] = ts
        ds = self.new_slot(t._data)
        return ts, ds

    def mine(self) -> bool:
        """Whether the calling thread is the one tracing."""
        return threading.get_ident() == self.thread

    def flag(self, reason: str) -> None:
        """Record an escape (the first one wins: it is the one the user fixes first)."""
        if self.escape is None and self.mine():
            self.escape = f"{reason} at {user_site()}"

    # ------------------------------------------------------------------ resolving values
    def resolve(self, value: Any, where: str) -> Any:
        """The template of ``value`` for a step: Slots for traced values, else a constant."""
        if isinstance(value, (np.ndarray, tuple, list)):
            slot = self.known.get(id(value))
            if slot is not None:
                return Slot(slot)
        if isinstance(value, np.ndarray):
            original = self.param_copies.get(id(value))
            if original is not None:
                return self.resolve(original, where)
            self.flag(f"{where}: an array the plan cannot trace (computed by numpy outside "
                      f"tensorgraph's ops?) of shape {value.shape}")
            return value
        if isinstance(value, Tensor):
            return self.resolve_tensor_data(value, where)
        if isinstance(value, (tuple, list)):
            items = [self.resolve(v, where) for v in value]
            return tuple(items) if isinstance(value, tuple) else items
        return value

    def resolve_tensor_data(self, t: Tensor, where: str) -> Any:
        slot = self.known.get(id(t._data))
        if slot is not None:
            return Slot(slot)
        if id(t) in self.created:
            self.flag(f"{where}: a tensor made inside the function from data the plan cannot "
                      f"trace (tg.tensor(...), a comparison, an in-place write); make constant "
                      f"tensors outside the compiled function")
            return t._data
        return Slot(self.state_slot(t))

    def state_slot(self, t: Tensor) -> int:
        """The slot of the array of a tensor that existed before the call (read live)."""
        entry = self.state.get(id(t))
        if entry is None:
            slot = self.new_slot(t._data)
            entry = self.state[id(t)] = (t, t._data, slot)
        return entry[2]

    def tensor_ref(self, t: Tensor, where: str) -> Any:
        """The template of a Tensor object itself (a gradient's owner, an output)."""
        slot = self.tensor_slots.get(id(t))
        if slot is not None:
            return Slot(slot)
        if id(t) in self.created:
            self.flag(f"{where}: a tensor made inside the function")
        return t

    # ------------------------------------------------------------------ recording
    def record_op(self, op: Any, given: tuple[Any, ...], arrays: list[Any],
                  params: dict[str, Any], out: Any, ctx: Any, result: Tensor) -> None:
        """Called by ``autograd.apply`` after it ran ``op`` (see the module docstring)."""
        if not self.mine():
            return
        self.created[id(result)] = result  # apply makes its result without _new_tensor
        self.depth += 1
        try:
            where = f"op {op.name!r}"
            templates: list[Any] = []
            for i, a in enumerate(arrays):
                source = given[i] if i < len(given) else a
                if isinstance(source, Tensor):
                    source_data = source._data
                    template = self.resolve_tensor_data(source, where)
                elif isinstance(source, np.ndarray):
                    source_data = source
                    template = self.resolve(source, where)
                else:  # a Python scalar or Python data: a constant of the trace
                    templates.append(a)
                    continue
                if a is not source_data and isinstance(a, np.ndarray):
                    if a.dtype != source_data.dtype:  # a weak cast apply made
                        slot = self.new_slot(a)
                        self.steps.append(Step(_astype, (template, a.dtype), {}, slot))
                        template = Slot(slot)
                    else:  # apply's defensive copy: the same values
                        self.alias(a, template.i if isinstance(template, Slot) else -1)
                templates.append(template)
            kwargs = {k: self.resolve(v, where) for k, v in params.items()}
            fn: Callable[..., Any] = op.forward
            args = tuple(templates)
            form = _UFUNC_FORMS.get(op.name)
            if form is not None and not kwargs:
                fn, args = form(list(args))
            if op.saves_ctx:
                o, c = self.new_slot(out), self.new_slot(ctx)
                self.steps.append(Step(fn, args, kwargs, (o, c)))
            else:
                o = self.new_slot(out)
                self.steps.append(Step(fn, args, kwargs, o))
            if result._data is not out:
                self.alias(result._data, o)
        finally:
            self.depth -= 1

    def call(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
             where: str, nout: int | None = 1) -> Any:
        """Run ``fn`` now and record it as a step; ``nout`` outputs (a tuple when > 1,
        None when the result is not used)."""
        self.depth += 1
        try:
            targs = tuple(self.resolve_host(a, where) for a in args)
            tkw = {k: self.resolve_host(v, where) for k, v in kwargs.items()}
            value = fn(*args, **kwargs)
            if nout is None:
                self.steps.append(Step(fn, targs, tkw, None))
            elif nout == 1:
                self.steps.append(Step(fn, targs, tkw, self.new_slot(value)))
            else:  # -1: as many outputs as the result holds
                outs = tuple(self.new_slot(v) for v in value)
                self.steps.append(Step(fn, targs, tkw, outs))
            return value
        finally:
            self.depth -= 1

    def resolve_host(self, value: Any, where: str) -> Any:
        """Like :meth:`resolve`, but Tensors and other objects pass as themselves (a host
        function reads a module's buffer or an optimizer live)."""
        if isinstance(value, np.ndarray):
            return self.resolve(value, where)
        if isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value):
            return self.resolve(value, where)
        if isinstance(value, Tensor):
            return self.tensor_ref(value, where)
        if isinstance(value, dict):
            return {k: self.resolve_host(v, where) for k, v in value.items()}
        if isinstance(value, set):
            slot = self.known.get(id(value))
            return Slot(slot) if slot is not None else value
        return value

    def guard(self, obj: Any, attribute: str) -> None:
        self.guards.append((obj, attribute, getattr(obj, attribute)))

    # ------------------------------------------------------------------ the module hooks
    def note_module(self, module: Module) -> None:
        if self.mine():
            self.guard(module, "training")

    def dropout(self, module: Any, x: Any) -> Any:
        """``nn.Dropout.forward`` (None: let the module run its own code)."""
        from ._modules import trace_dropout

        return trace_dropout(self, module, x) if self.mine() else None

    def batchnorm(self, module: Any, x: Any) -> Any:
        """``nn.BatchNorm1d.forward`` (None: let the module run its own code)."""
        from ._modules import trace_batchnorm

        return trace_batchnorm(self, module, x) if self.mine() else None

    def host(self, owner: Any, method: str, args: tuple[Any, ...]) -> None:
        """``owner.<method>(*args)`` of an optimizer or a scheduler is about to run: record
        it as one step that calls the same method again at each replay."""
        from ._modules import trace_optimizer

        if self.mine():
            trace_optimizer(self, owner, method, args)


def _set_grad(t: Tensor, value: Any) -> None:
    t.grad = value


def _astype(a: Any, dtype: Any) -> Any:
    return a.astype(dtype)


# --------------------------------------------------------------------------- escapes
def _escaping(name: str, original: Callable[..., Any], library_ok: bool) -> Callable[..., Any]:
    def patched(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        tracer = autograd._tracer
        if tracer is not None and tracer.depth == 0 and tracer.mine():
            if library_ok and _called_from_package():
                value = original(self, *args, **kwargs)
                slot = tracer.known.get(id(self._data))
                if slot is not None and isinstance(value, np.ndarray):
                    tracer.alias(value, slot)
                return value
            tracer.flag(f"Tensor.{name} reads a tensor's value into Python, which a plan "
                        f"cannot replay")
        return original(self, *args, **kwargs)

    return patched


#: what the tracer wraps in tensorgraph.autograd while it traces (see Patches)
_ENGINE_NAMES = ("_new_tensor", "_saved_param", "run_backward", "_seed_gradient",
                 "_check_versions", "_modes")

_ESCAPES = {
    "item": False, "tolist": False, "__bool__": False, "__float__": False, "__int__": False,
    "numpy": True, "__array__": False, "argmax": False, "argmin": False,
    "__iadd__": False, "__isub__": False, "__imul__": False, "__itruediv__": False,
    "__setitem__": False,
}


class Patches:
    """Install the trace's wrappers on Tensor, Module and autograd; restore them on exit."""

    def __init__(self, tracer: Tracer, backward: Callable[..., Any]) -> None:
        self.tracer = tracer
        self.backward = backward
        self.saved: list[tuple[Any, str, Any]] = []

    def _set(self, owner: Any, name: str, value: Any) -> None:
        self.saved.append((owner, name, owner.__dict__[name] if isinstance(owner, type)
                           else getattr(owner, name)))
        setattr(owner, name, value)

    def __enter__(self) -> Tracer:
        tracer = self.tracer
        missing = [n for n in _ENGINE_NAMES if not hasattr(autograd, n)]
        if missing:  # the engine changed under the tracer: trace nothing, run eagerly
            tracer.flag(f"tg.compile cannot hook tensorgraph.autograd.{missing[0]} (the engine "
                        f"changed; please report it)")
            return tracer
        for name, library_ok in _ESCAPES.items():
            self._set(Tensor, name, _escaping(name, getattr(Tensor, name), library_ok))
        data_prop = Tensor.__dict__["data"]

        def data_get(t: Tensor) -> np.ndarray:
            if tracer.depth == 0 and tracer.mine() and not _called_from_package():
                tracer.flag("Tensor.data reads a tensor's array, which a plan cannot replay")
            value: np.ndarray = data_prop.fget(t)
            slot = tracer.known.get(id(t._data))
            if slot is not None:
                tracer.alias(value, slot)
            return value

        self._set(Tensor, "data", property(data_get, data_prop.fset, doc=data_prop.__doc__))
        self._set(Tensor, "backward", self.backward)
        grad_prop = Tensor.__dict__["grad"]

        def grad_set(t: Tensor, value: Any) -> None:
            # a gradient reset inside the function (``x.grad = None``) is replayed
            if tracer.depth == 0 and tracer.mine():
                if value is not None and id(value) in tracer.created:
                    tracer.flag("a .grad set to a tensor made inside the function")
                tracer.depth += 1
                try:
                    target = tracer.tensor_ref(t, "setting .grad")
                finally:
                    tracer.depth -= 1
                tracer.steps.append(Step(_set_grad, (target, value), {}, None))
            grad_prop.fset(t, value)

        self._set(Tensor, "grad", property(grad_prop.fget, grad_set, doc=grad_prop.__doc__))
        init = Tensor.__init__

        def tensor_init(t: Tensor, *args: Any, **kwargs: Any) -> None:
            init(t, *args, **kwargs)
            tracer.created[id(t)] = t

        self._set(Tensor, "__init__", tensor_init)
        new_tensor = autograd._new_tensor

        def made(*args: Any, **kwargs: Any) -> Tensor:
            t = new_tensor(*args, **kwargs)
            tracer.created[id(t)] = t
            return t

        self._set(autograd, "_new_tensor", made)
        saved_param = autograd._saved_param

        def saved(value: Any) -> Any:
            copy = saved_param(value)
            if isinstance(copy, np.ndarray) and copy is not value:
                tracer.param_copies[id(copy)] = value
                tracer.keep.append(copy)
            elif isinstance(value, (np.ndarray, Tensor)) and not isinstance(copy, np.ndarray):
                tracer.flag("an op parameter was taken from a tensor's or array's value")
            return copy

        self._set(autograd, "_saved_param", saved)
        run_backward = autograd.run_backward

        def gradients_escape(*args: Any, **kwargs: Any) -> Any:
            if tracer.depth == 0:
                tracer.flag("tg.gradients/grad/vjp (only Tensor.backward is traced)")
            return run_backward(*args, **kwargs)

        self._set(autograd, "run_backward", gradients_escape)
        call = Module.__call__

        def module_call(m: Module, *args: Any, **kwargs: Any) -> Any:
            tracer.note_module(m)
            return call(m, *args, **kwargs)

        self._set(Module, "__call__", module_call)
        autograd._tracer = tracer
        return tracer

    def __exit__(self, *exc: Any) -> None:
        autograd._tracer = None
        for owner, name, value in reversed(self.saved):
            setattr(owner, name, value)
