"""A traced plan: the steps a trace recorded, turned into one generated Python function.

A :class:`Step` is one call of a numpy-level function (an op's forward, a VJP, ``sum_to``,
a host function such as a dropout mask draw or an optimizer's own update) on *slots*: the
values a replay computes, named ``s0, s1, ...``. :func:`generate` writes the steps out as
the source of one function, so that a replay is a straight run of local-variable
assignments with no interpretation loop, no graph and no dictionaries; constants (op
classes, parameters, modules, the optimizer) are bound in its namespace as ``k0, k1, ...``.

Buffer reuse: a step whose function is a numpy ufunc (the forward of ``add``, ``multiply``,
``maximum``, ...) or ``matmul`` may write into a buffer that the plan owns (``out=``). The
buffers are planned by liveness (:func:`plan_buffers`): a buffer is reused by a later step
once every reader of its last value has run, and it persists from one replay to the next,
so a steady-state step allocates only what the remaining steps allocate themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Slot", "Step", "generate", "plan_buffers"]


class Slot:
    """A value computed by the replay (an input, a state array, a step's output)."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i

    def __repr__(self) -> str:
        return f"s{self.i}"


@dataclass
class Step:
    """``outs = fn(*args, **kwargs)``: ``args``/``kwargs`` hold Slots (possibly nested in
    tuples, lists and dicts) and constants. ``outs`` is a slot number, a tuple of slot
    numbers (the result is unpacked) or None (the result is dropped)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    outs: int | tuple[int, ...] | None = None
    #: the keyword through which ``fn`` accepts a buffer for its result (``"out"`` for a
    #: ufunc, ``"into"`` for a replay kernel), and which output it is (for tuple results)
    into: str | None = None
    into_index: int = 0
    #: filled by plan_buffers: the index of the buffer the step writes into
    buffer: int | None = None


def _slots_in(value: Any, found: list[int]) -> None:
    if isinstance(value, Slot):
        found.append(value.i)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _slots_in(v, found)
    elif isinstance(value, dict):
        for v in value.values():
            _slots_in(v, found)


def step_reads(step: Step) -> list[int]:
    """The slots a step reads."""
    found: list[int] = []
    _slots_in(step.args, found)
    _slots_in(step.kwargs, found)
    return found


def _outs(step: Step) -> tuple[int, ...]:
    if step.outs is None:
        return ()
    return step.outs if isinstance(step.outs, tuple) else (step.outs,)


#: functions a step may call with ``out=`` into a plan-owned buffer: their result is a
#: fresh array of the broadcast shape and result dtype, and they read their inputs fully
#: before writing (numpy handles overlap for ufuncs; matmul's out must not alias an input,
#: which the liveness plan guarantees since a buffer is only handed to a step whose
#: inputs do not live in it)
BUFFERABLE: frozenset[Any] = frozenset({
    np.add, np.subtract, np.multiply, np.true_divide, np.maximum, np.minimum, np.negative,
    np.exp, np.log, np.log1p, np.sqrt, np.tanh, np.abs, np.square, np.matmul,
})


def _roots(value: Any, found: set[int]) -> None:
    """The ids of the arrays owning the memory ``value`` (an array or a tuple of them) uses."""
    if isinstance(value, np.ndarray):
        while isinstance(value.base, np.ndarray):
            value = value.base
        found.add(id(value))
    elif isinstance(value, (tuple, list)):
        for v in value:
            _roots(v, found)


def plan_buffers(steps: list[Step], values: dict[int, Any], pinned: set[int]
                 ) -> list[tuple[tuple[int, ...], np.dtype]]:
    """Assign plan-owned buffers to the bufferable steps by liveness; return the buffers'
    shapes and dtypes (a plan allocates them once and keeps them between replays).

    ``values`` are the slots' values in the trace: they tell which slots share memory (a
    view, a tuple holding an array), so that a buffer is only reused once every reader of
    every view of it has run. ``pinned`` are slots that outlive a replay (returned, kept as
    a gradient): their memory is never a reused buffer.
    """
    roots: dict[int, set[int]] = {}
    for s, v in values.items():
        found: set[int] = set()
        _roots(v, found)
        roots[s] = found
    held: set[int] = set()
    for s in pinned:
        held |= roots.get(s, set())
    last_use: dict[int, int] = {}
    for n, step in enumerate(steps):
        for s in step_reads(step):
            for r in roots.get(s, ()):
                last_use[r] = n
    buffers: list[tuple[tuple[int, ...], np.dtype]] = []
    free: dict[tuple[tuple[int, ...], str], list[int]] = {}
    holder: dict[int, int] = {}  # storage id -> the buffer it is
    release_at: dict[int, list[int]] = {}  # step index -> buffers free after it
    for n, step in enumerate(steps):
        out = step.outs
        if step.into is None and step.fn in BUFFERABLE and not step.kwargs:
            step.into = "out"
        if isinstance(out, tuple) and step.into is not None:
            out = out[step.into_index]
        value = values.get(out) if isinstance(out, int) else None
        # (a C-ordered buffer only for a value numpy laid out in C order: see _c_ordered)
        if (step.into is not None and isinstance(value, np.ndarray) and value.ndim
                and value.base is None and value.flags.c_contiguous and id(value) not in held):
            key = (value.shape, value.dtype.str)
            reads = {r for s in step_reads(step) for r in roots.get(s, ())}
            busy = {holder[r] for r in reads if r in holder}
            pool = free.get(key, [])
            # the most recently freed buffer first: it is the one most likely still in cache
            choice = next((b for b in reversed(pool) if b not in busy), None)
            if choice is None:
                choice = len(buffers)
                buffers.append((value.shape, value.dtype))
            else:
                pool.remove(choice)
            step.buffer = choice
            holder[id(value)] = choice
            release_at.setdefault(max(last_use.get(id(value), n), n), []).append(choice)
        for b in release_at.pop(n, ()):
            free.setdefault((buffers[b][0], buffers[b][1].str), []).append(b)
    return buffers


class _Writer:
    """Names constants in the generated function's namespace."""

    def __init__(self, traced: set[int] | None = None) -> None:
        self.namespace: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        #: ids of arrays a replay computes anew: baking one in as a constant would replay
        #: the trace's values (a bug in the tracer, refused here rather than run)
        self.traced = traced or set()

    def const(self, value: Any) -> str:
        if value is None or type(value) in (bool, int, str):
            return repr(value)
        if isinstance(value, (np.ndarray, np.generic)) and id(value) in self.traced:
            raise AssertionError("tg.compile: a traced array would be replayed as a constant")
        name = self._ids.get(id(value))
        if name is None:
            name = self._ids[id(value)] = f"k{len(self._ids)}"
            self.namespace[name] = value
        return name

    def expr(self, value: Any) -> str:
        if isinstance(value, Slot):
            return f"s{value.i}"
        if isinstance(value, (tuple, list, dict)):
            found: list[int] = []
            _slots_in(value, found)
            if found:
                if isinstance(value, dict):
                    inner = ", ".join(f"{k!r}: {self.expr(v)}" for k, v in value.items())
                    return "{" + inner + "}"
                inner = ", ".join(self.expr(v) for v in value)
                if isinstance(value, list):
                    return f"[{inner}]"
                return f"({inner},)"
        return self.const(value)


def generate(
    name: str,
    prologue: list[str],
    steps: list[Step],
    result: str,
    writer: _Writer,
    n_buffers: int,
) -> Callable[..., Any]:
    """Compile the plan into a function ``replay(args, buffers)``."""
    lines = [f"def {name}(args, buffers):"]
    lines += ["    " + line for line in prologue]
    for step in steps:
        fn = writer.const(step.fn)
        parts = [writer.expr(a) for a in step.args]
        parts += [f"{k}={writer.expr(v)}" for k, v in step.kwargs.items()]
        if step.buffer is not None:
            parts.append(f"{step.into}=buffers[{step.buffer}]")
        call = f"{fn}({', '.join(parts)})"
        outs = _outs(step)
        if not outs:
            lines.append(f"    {call}")
        elif isinstance(step.outs, int):
            lines.append(f"    s{step.outs} = {call}")
        else:
            lines.append(f"    {', '.join(f's{o}' for o in outs)}, = {call}")
    lines.append(f"    return {result}")
    source = "\n".join(lines) + "\n"
    code = compile(source, f"<tensorgraph.compile plan {name}>", "exec")
    exec(code, writer.namespace)  # the source is generated from the trace, no user text
    replay: Callable[..., Any] = writer.namespace[name]
    replay.__doc__ = source  # what the plan runs, for debugging (CompiledFunction.source)
    return replay


def new_writer(traced: set[int] | None = None) -> _Writer:
    return _Writer(traced)
