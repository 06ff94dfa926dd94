"""The graph and the reverse-mode engine.

A :class:`Node` records one application of an op: the op, its arguments, which of them need
a gradient, its output array and its keyword parameters. :func:`apply` runs an op's forward on
raw arrays and records a node when gradients are wanted. :func:`run_backward` walks the nodes
in reverse topological order (iteratively, so a chain of 100,000 nodes is fine), calls each
op's VJP once per node, undoes broadcasting with :func:`~tensorgraph.broadcast.sum_to` and
accumulates fan-in.

During an ordinary backward the VJPs run on plain ``ndarray``\\ s. With ``create_graph=True``
the very same VJP code runs on :class:`~tensorgraph.tensor.Tensor`\\ s (which implement numpy's
dispatch protocols), so the backward pass is itself recorded and can be differentiated again.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from . import anomaly as _anomaly  # the hooks run under detect_anomaly() only
from .anomaly import detect_anomaly
from .broadcast import sum_to
from .dtypes import get_default_dtype
from .errors import (
    DTypeError,
    GradientError,
    GraphFreedError,
    InPlaceModificationError,
    ShapeError,
)

if TYPE_CHECKING:
    from .ops._base import Op
    from .tensor import Tensor

__all__ = [
    "Node",
    "apply",
    "detect_anomaly",
    "enable_grad",
    "gradients",
    "is_grad_enabled",
    "no_grad",
    "run_backward",
    "set_grad_enabled",
]

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- grad mode
class _Modes(threading.local):
    """Per-thread switches: gradient recording and anomaly detection (the switch that
    :class:`~tensorgraph.anomaly.detect_anomaly` turns on)."""

    grad_enabled: bool = True
    anomaly: bool = False


_modes = _Modes()


def is_grad_enabled() -> bool:
    """Return True when ops record the graph (the default) in this thread."""
    return _modes.grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off in this thread, for a ``with`` block or a function.

    ``no_grad()`` is ``set_grad_enabled(False)`` and ``enable_grad()`` is
    ``set_grad_enabled(True)``. The switch is thread-local and restored on exit.
    """

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_modes.grad_enabled)
        _modes.grad_enabled = self._mode

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _modes.grad_enabled = self._previous.pop()


class no_grad(set_grad_enabled):
    """Context manager and decorator: ops inside record no graph.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Context manager and decorator: turn recording back on inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


# --------------------------------------------------------------------------- the clock
# One clock orders the events a backward pass cares about: every node takes a tick when it
# is made, and every write into a tensor's storage takes one too (besides counting in the
# storage's own version counter). When no write at all happened since a node was made, the
# common case, none of its saved tensors can have changed: checking that is one comparison
# with the global _last_write, not a loop over the node's arguments.
_ticks = itertools.count(1)

#: the tick of the latest write into any storage
_last_write = [0]


def _bump(vc: list[int]) -> None:
    """Record a write into the storage that the version counter ``vc`` counts."""
    vc[0] += 1
    _last_write[0] = next(_ticks)


# --------------------------------------------------------------------------- the graph
class Node:
    """One recorded application of an op; the output tensor points to it as ``_node``.

    Attributes
    ----------
    op : type[Op]
        The op class (its ``vjp`` is called in backward).
    args : tuple
        The arguments as given (Tensors, arrays or Python scalars).
    arrays : tuple
        What the forward saw: the arrays of the Tensor arguments (cast ones cast), numpy
        scalars as Python scalars. The VJPs of an ordinary backward receive these.
    needs : tuple of bool
        Which arguments need a gradient.
    out : ndarray or None
        The forward result (None once the graph is freed).
    params : dict
        The op's keyword parameters (axis, keepdims, ...).
    ctx
        What the forward chose to keep for its VJP (``Op.saves_ctx``), else None.
    versions : tuple of int
        The version of each argument's storage when it was saved (-1 for non-Tensors).
    seq : int
        The node's tick on the clock: later than every node it uses, earlier than every
        write made after it. Backward walks nodes in decreasing ``seq``, and checks
        ``versions`` only when some storage was written after ``seq``.
    out_vc, out_v0
        The version counter of the output's storage and its value when the node was made
        (backward refuses a node whose output changed since: its VJP may read it).
    site, checksums
        Under :func:`detect_anomaly`: the user's ``file:line`` and CRC-32 checksums of the
        saved arrays, verified before the VJP runs.
    """

    __slots__ = ("args", "arrays", "checksums", "ctx", "needs", "op", "out", "out_v0",
                 "out_vc", "params", "retained", "seq", "site", "versions")

    def __init__(
        self,
        op: type[Op],
        args: tuple[Any, ...],
        arrays: tuple[Any, ...],
        needs: tuple[bool, ...],
        out: np.ndarray,
        params: dict[str, Any],
        ctx: Any,
        versions: tuple[int, ...],
    ) -> None:
        self.op = op
        self.args: tuple[Any, ...] | None = args
        self.arrays: tuple[Any, ...] | None = arrays
        self.needs = needs
        self.out: np.ndarray | None = out
        self.params = params
        self.ctx = ctx
        self.versions = versions
        self.seq = next(_ticks)
        # the output tensor's version counter, set by apply once the tensor exists
        self.out_vc: list[int] = _NO_VC
        self.out_v0 = 0
        self.retained: Any = None  # weakref to the output Tensor when retain_grad() was called
        self.site: str | None = None  # the user's call site, recorded under detect_anomaly()
        # checksums of the saved arrays, taken under detect_anomaly()
        self.checksums: tuple[tuple[int | None, ...], int | None] | None = None

    def __repr__(self) -> str:
        state = "freed" if self.args is None else f"{len(self.needs)} inputs"
        return f"<Node {self.op.name} ({state})>"

    def free(self) -> None:
        """Release everything saved for backward (the op name stays, for error messages)."""
        self.args = self.arrays = None
        self.out = None
        self.ctx = None


#: the tracer of tg.compile while it traces a function (None otherwise): apply reports each
#: op to it, and the modules that compute outside the graph (Dropout, BatchNorm1d, the
#: optimizers) hand their work to it; see tensorgraph/compiler
_tracer: Any = None

#: placeholder counter of a node whose output tensor is not made yet (never written)
_NO_VC: list[int] = [0, 0]


def _new_tensor(
    data: np.ndarray, requires_grad: bool, node: Node | None, vc: list[int] | None = None
) -> Tensor:
    """Make a Tensor around ``data`` without copying it.

    ``vc`` is the version counter of the storage: ``[writes, shared]``. Tensors that share
    memory (a view and its base, ``detach()``) share one counter, so a write through any of
    them is seen by every node that saved any of them. ``shared`` is 1 once a second tensor
    uses the storage.
    """
    t = Tensor.__new__(Tensor)
    t._data = data
    t._grad = None
    t._requires_grad = requires_grad
    t._node = node
    t._vc = [0, 0] if vc is None else vc
    return t


def _view_counter(out: np.ndarray, given: tuple[Any, ...]) -> list[int] | None:
    """The version counter of the Tensor argument whose memory ``out`` shares, if any."""
    base = out.base
    for a in given:
        if isinstance(a, Tensor):
            data = a._data
            if out is data or (base is not None and (base is data or base is data.base)):
                break
    else:
        if base is None:
            return None
        for a in given:  # a view whose base numpy did not collapse (broadcast_to, ...)
            if isinstance(a, Tensor) and np.may_share_memory(out, a._data):
                break
        else:
            return None
    vc: list[int] = a._vc
    vc[1] = 1
    return vc


def _saved_param(value: Any) -> Any:
    """What a node keeps of a keyword parameter: arrays copied (the caller may write to
    theirs after the forward), Tensors as a copy of their array, numpy scalars as Python
    scalars (weak, like a Python number: they take the tensor's dtype)."""
    if isinstance(value, np.ndarray):
        # a 0-d array is a number: weak like one, so a float64 slope keeps a float32 graph
        return value.item() if value.ndim == 0 and value.dtype.kind in "biuf" else value.copy()
    if isinstance(value, Tensor):
        if value._requires_grad:
            raise TypeError(
                f"a tensor that requires grad (shape {value.shape}) was passed as a parameter "
                f"of an op, which carries no gradient to it; pass a number or an array, or "
                f".detach() it to drop its gradient on purpose"
            )
        data = value._data
        return data.item() if data.ndim == 0 and data.dtype.kind in "biuf" else data.copy()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(_saved_param(v) for v in value)
    if isinstance(value, list):
        return [_saved_param(v) for v in value]
    return value


def _saved_params(params: dict[str, Any], names: Any) -> dict[str, Any]:
    """``params`` with the values named in ``names`` made safe to keep (a copy of the dict
    when one changes; the same dict when all are plain Python values)."""
    saved = params
    for name in names:
        value = params.get(name)
        if type(value) in _PLAIN_PARAM or _is_int_tuple(value) or isinstance(value, np.dtype):
            continue
        if saved is params:
            saved = dict(params)
        saved[name] = _saved_param(value)
    return saved


_PLAIN_PARAM = frozenset((int, float, bool, str, type(None), slice, type(Ellipsis)))

#: tuples of ints seen as parameters (axes, shapes): a memo, so that checking that such a
#: tuple holds nothing mutable is one hash lookup per op, not a loop
_INT_TUPLES: set[tuple[int, ...]] = set()


def _is_int_tuple(value: Any) -> bool:
    if type(value) is not tuple:
        return False
    try:
        if value in _INT_TUPLES:
            return True
    except TypeError:  # unhashable: it holds an array or a list
        return False
    if all(type(v) is int for v in value):
        if len(_INT_TUPLES) < 4096:
            _INT_TUPLES.add(value)
        return True
    return False


def apply(op: type[Op], args: tuple[Any, ...], params: dict[str, Any]) -> Tensor:
    """Run ``op`` forward on ``args`` and record a graph node when a gradient is wanted.

    Tensors are unwrapped to their arrays, numpy scalars are treated like Python scalars
    (weak: they adopt the tensor's dtype), integer and boolean arrays meeting a floating one
    are cast to it, and two floating arrays of different precision are refused.
    """
    # The common case first: Tensors of one floating dtype, maybe with Python numbers, and
    # parameters that cannot hold arrays. Nothing to cast, copy or refuse; any other
    # argument sends the call to _prepare, which handles (and checks) everything.
    recorded: tuple[Any, ...] | None = None
    raw: list[int] | None = None
    arrays: list[Any] = []
    needs: list[bool] = []
    versions: list[int] = []  # aligned with args: -1 for what is not a Tensor
    if op.plain_inputs and (not params or op.plain_params):
        dtype = None
        floats = False
        for a in args:
            kind = type(a)
            if kind in _TENSOR_TYPES:
                data = a._data
                if data.dtype is not dtype:
                    if dtype is not None or data.dtype.kind != "f":
                        break
                    dtype = data.dtype
                arrays.append(data)
                needs.append(a._requires_grad)
                versions.append(a._vc[0])
            elif kind is float or kind is int:
                floats = floats or kind is float
                arrays.append(a)
                needs.append(False)
                versions.append(-1)
            else:
                break
        else:
            if dtype is not None:  # (numbers alone go the long way)
                if floats and dtype.itemsize < 8:
                    _make_floats_weak(arrays, dtype)
                recorded = args
    if recorded is None:
        recorded, arrays, needs, versions, params, raw = _prepare(op, args, params)

    try:
        if op.saves_ctx:
            out, ctx = op.forward(*arrays, **params)
        else:
            out, ctx = op.forward(*arrays, **params), None
    except ValueError as err:
        # numpy's own broadcasting message names neither the op nor which argument
        if "broadcast" not in str(err):
            raise
        raise ShapeError(_broadcast_message(op.name, arrays, params)) from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    node = None
    modes = _modes
    requires = True in needs and modes.grad_enabled
    if requires:
        if raw:
            recorded = _copy_raw_arrays(raw, args, recorded, arrays)
        node = Node(op, recorded, tuple(arrays), tuple(needs), out, params, ctx,
                    tuple(versions))
    if modes.anomaly:
        _anomaly._anomaly_forward(op, node, arrays, out)
    vc = None
    # an op returns a view of an input (base set), or at most its first input itself
    base = out.base
    if base is not None or (arrays and out is arrays[0]):
        first = args[0]
        # the common case inline: a view of the first argument (reshape, transpose, [...])
        if type(first) in _TENSOR_TYPES and (out is first._data or (base is not None and (
                base is first._data or base is first._data.base))):
            vc = first._vc
            vc[1] = 1
        else:
            vc = _view_counter(out, args)
    result = Tensor.__new__(Tensor)
    result._data = out
    result._grad = None
    result._requires_grad = requires
    result._node = node
    result._vc = [0, 0] if vc is None else vc
    if node is not None:
        node.out_vc = result._vc
        node.out_v0 = result._vc[0]
    if _tracer is not None:  # tg.compile is tracing: it records the call (compiler/_tracer.py)
        _tracer.record_op(op, args, arrays, params, out, ctx, result)
    return result


#: Tensor and the subclasses met so far (nn.Parameter): exact types, one set lookup each
_TENSOR_TYPES: set[type] = set()


def _make_floats_weak(arrays: list[Any], dtype: np.dtype) -> None:
    """Python floats as scalars of ``dtype``: a float is weak in the forward, but a VJP doing
    numpy math on it alone (np.log(10.0) for 10.0 ** w) would get a float64 and upcast the
    gradient."""
    make = dtype.type
    for i, a in enumerate(arrays):
        if type(a) is float:
            arrays[i] = make(a)


def _prepare(
    op: type[Op], args: tuple[Any, ...], params: dict[str, Any]
) -> tuple[tuple[Any, ...], list[Any], list[bool], list[int], dict[str, Any],
           list[int] | None]:
    """Every case of :func:`apply`'s arguments: return the arguments to record, the arrays
    the forward sees, which arguments need a gradient, the versions of the Tensors saved,
    the parameters to keep and the positions of the caller's own ndarrays (copied if a node
    saves them)."""
    arrays: list[Any] = []
    needs: list[bool] = []
    versions: list[int] = []  # aligned with args: -1 for what is not a Tensor
    float_dtype: np.dtype | None = None
    cast_ints = weak_floats = False
    raw: list[int] | None = None  # arguments that are the caller's own ndarrays
    scalars: list[int] | None = None  # Python float arguments
    nondiff = op.nondiff
    if params:
        names = op.array_params
        if names is None:  # an op that did not say which parameters may hold arrays
            params = _saved_params(params, params)
        elif names:
            params = _saved_params(params, names)
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            _TENSOR_TYPES.add(type(a))
            data = a._data
            need = a._requires_grad
            versions.append(a._vc[0])
        else:
            versions.append(-1)
            need = False
            if isinstance(a, np.ndarray):
                data = a
                if raw is None:
                    raw = []
                raw.append(i)
            elif isinstance(a, (list, tuple)):
                # Python data is weak like a Python scalar: numpy would make a float64 array
                # of it and silently upcast a float32 graph
                data = np.asarray(a)
                if data.dtype.kind == "f" and i not in nondiff:
                    weak_floats = True
                    arrays.append(data)
                    needs.append(False)
                    continue
            else:
                # a numpy scalar is weak like a Python one (numpy would let it upcast)
                if isinstance(a, np.generic):
                    a = a.item()
                if type(a) is float:
                    if scalars is None:
                        scalars = []
                    scalars.append(i)
                elif type(a) is complex:
                    raise DTypeError(_complex_message(op.name, i))
                arrays.append(a)
                needs.append(False)
                continue
        kind = data.dtype.kind
        if kind == "f":
            if float_dtype is None:
                float_dtype = data.dtype
            elif data.dtype != float_dtype:
                raise DTypeError(
                    f"{op.name}: mixed floating dtypes {float_dtype} and {data.dtype} "
                    f"(argument {i}); cast one explicitly with .astype()"
                )
        elif kind == "c":
            raise DTypeError(_complex_message(op.name, i))
        elif kind not in "biu":  # object, string, bytes, datetime: numpy would convert them
            raise TypeError(
                f"{op.name}: argument {i} is an array of {data.dtype} (shape {data.shape}); "
                f"tensorgraph computes with numbers: convert it explicitly first"
            )
        elif i not in nondiff:
            cast_ints = True
        arrays.append(data)
        needs.append(need and i not in nondiff)
    recorded = args
    if cast_ints or weak_floats:
        recorded, versions = _cast_weak(op, args, arrays, float_dtype)
    if scalars and float_dtype is not None and float_dtype.itemsize < 8:
        _make_floats_weak(arrays, float_dtype)
    return recorded, arrays, needs, versions, params, raw


def _copy_raw_arrays(
    raw: list[int], given: tuple[Any, ...], args: tuple[Any, ...], arrays: list[Any]
) -> tuple[Any, ...]:
    """Copy the caller's own ndarrays that a node is about to save: the caller may write to
    them before backward, and nothing would notice. A read-only array that owns its memory
    cannot be written, so it is kept as is."""
    recorded = list(args)
    for i in raw:
        a = arrays[i]
        if a is given[i] and (a.flags.writeable or a.base is not None):
            arrays[i] = recorded[i] = a.copy()
    return tuple(recorded)


def _complex_message(name: str, i: int) -> str:
    return (f"{name}: argument {i} is complex; tensorgraph computes with real floating "
            f"tensors only (take .real or abs() explicitly in numpy first)")


def _cast_weak(
    op: type[Op], args: tuple[Any, ...], arrays: list[Any], float_dtype: Any
) -> tuple[tuple[Any, ...], list[int]]:
    """Cast integer, boolean and Python-data arguments to the op's floating dtype, in place
    in ``arrays``; return the arguments to record (a cast Tensor is recorded as its cast copy,
    so the VJPs see the same floating array as the forward) and their version counters."""
    target = get_default_dtype() if float_dtype is None else float_dtype
    recorded = list(args)
    for i, a in enumerate(arrays):
        if i in op.nondiff or not isinstance(a, np.ndarray) or a.dtype == target:
            continue
        if a.dtype.kind != "f" and float_dtype is None:
            continue  # no floating operand: integer arithmetic stays numpy's
        if a.dtype.kind == "f" and not isinstance(args[i], (list, tuple)):
            continue  # a real floating array of another precision was refused above
        arrays[i] = a.astype(target)
        recorded[i] = arrays[i]
    versions = [a._vc[0] if isinstance(a, Tensor) else -1 for a in recorded]
    return tuple(recorded), versions


def _broadcast_message(name: str, arrays: Sequence[Any], params: dict[str, Any]) -> str:
    """Say which argument of ``name`` does not broadcast with the ones before it."""
    shapes = [np.shape(a) for a in arrays]
    listed = ", ".join(str(s) for s in shapes)
    so_far: tuple[int, ...] = ()
    for i, shape in enumerate(shapes):
        try:
            so_far = np.broadcast_shapes(so_far, shape)
        except ValueError:
            return (
                f"{name}: argument {i} of shape {shape} cannot be broadcast with shape "
                f"{so_far} of the arguments before it (argument shapes {listed})"
            )
    arrays_in_params = {k: np.shape(v) for k, v in params.items() if isinstance(v, np.ndarray)}
    return (
        f"{name}: the arguments of shapes {listed} cannot be broadcast together with the "
        f"array parameters {arrays_in_params}"
    )


# --------------------------------------------------------------------------- backward
def _topological_order(roots: Sequence[Node]) -> list[Node]:
    """Nodes reachable from ``roots``, each once, every node after all nodes that use it."""
    # A node is made after every node it uses (their outputs are its inputs), so decreasing
    # ``seq`` is a topological order: an iterative search collects the reachable nodes, and
    # one sort (in C) orders them. No recursion, and no post-order bookkeeping per node.
    seen = set(roots)
    stack = list(seen)
    order: list[Node] = []
    while stack:
        node = stack.pop()
        if node.args is None:
            raise GraphFreedError(
                f"backward through the graph a second time: the arrays saved by "
                f"'{node.op.name}' were freed after the first backward; pass "
                f"retain_graph=True to the first backward() to walk it again"
            )
        order.append(node)
        for arg, need in zip(node.args, node.needs):
            if need:  # only a Tensor argument can need a gradient
                child = arg._node
                if child is not None and child not in seen:
                    seen.add(child)
                    stack.append(child)
    order.sort(key=_SEQ, reverse=True)
    return order


_SEQ = operator.attrgetter("seq")


def _check_versions(node: Node) -> None:
    """Refuse to run a VJP on an argument or output modified in place since the forward."""
    assert node.args is not None
    for i, (a, version) in enumerate(zip(node.args, node.versions)):
        if version >= 0 and a._vc[0] != version:
            raise InPlaceModificationError(
                f"{node.op.name}: argument {i} (a tensor of shape {a.shape}) was modified "
                f"in place after it was saved for backward (version {version} -> "
                f"{a._vc[0]}; the write may have gone through another tensor sharing its "
                f"memory: a view, its base or a detach()){_site(node)}; compute on a copy, "
                f"or modify it only after backward()"
            )
    if node.out_vc[0] != node.out_v0:
        raise InPlaceModificationError(
            f"{node.op.name}: its output (shape {getattr(node.out, 'shape', None)}) was "
            f"modified in place after it was saved for backward{_site(node)}; compute on a "
            f"copy, or modify it only after backward()"
        )


def _site(node: Node) -> str:
    return "" if node.site is None else f"; the op was called at {node.site}"


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Tensor] | None = None,
) -> list[Any] | None:
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    With ``targets=None`` gradients are accumulated into the ``.grad`` of every leaf that
    requires grad (and of tensors that called ``retain_grad()``). With ``targets`` nothing is
    accumulated; the gradient of each target is returned instead (None where none flowed).
    """
    pending: dict[Node, Any] = {}  # node -> the sum of the gradients that reached it so far
    # leaf -> its gradient so far (a Tensor hashes by identity: the leaves are the keys)
    leaf_grads: dict[Tensor, Any] = {}
    adopted: set[int] = set()  # the caller's seeds are never adopted as a .grad buffer
    root_nodes: list[Node] = []
    for root, g in zip(roots, root_grads):
        adopted.add(id(g))
        if isinstance(g, Tensor):
            adopted.add(id(g._data))
        node = root._node
        if node is None:
            total = leaf_grads.get(root)
            leaf_grads[root] = g if total is None else total + g
        else:
            total = pending.get(node)
            pending[node] = g if total is None else total + g
            root_nodes.append(node)

    target_nodes: dict[Node, Any] = {}
    if targets is not None:
        target_nodes = {t._node: None for t in targets if t._node is not None}

    modes = _modes
    anomaly = modes.anomaly
    if anomaly:
        _anomaly.check_seeds(root_grads)
    # what `with set_grad_enabled(create_graph)` does, without a context-manager object per
    # backward (a measurable part of a small graph's fixed cost)
    previous_mode = modes.grad_enabled
    modes.grad_enabled = create_graph
    try:
        for node in _topological_order(root_nodes):
            g = pending.pop(node, None)
            if g is None:
                continue
            if target_nodes and node in target_nodes:
                target_nodes[node] = g
            if node.retained is not None and targets is None:
                owner = node.retained()
                if owner is not None:
                    _accumulate_grad(owner, g, create_graph, adopted)
            if _last_write[0] > node.seq:  # some storage was written since the node was made
                _check_versions(node)
            if anomaly and node.checksums is not None:
                _anomaly._verify_checksums(node)
            op, args, needs, params = node.op, node.args, node.needs, node.params
            # what the VJP sees: the forward's arrays normally, Tensors when building a graph
            if create_graph:
                out: Any = _new_tensor(node.out, True, node)  # type: ignore[arg-type]
                if not isinstance(g, Tensor):
                    g = _new_tensor(np.asarray(g), False, None)
                inputs = args
            else:
                out = node.out
                if type(g) is not np.ndarray and isinstance(g, Tensor):
                    g = g._data
                inputs = node.arrays
            assert args is not None and inputs is not None
            if op.vjp_per_input and not anomaly:
                # one vjp_i per input, called in the routing loop below: Op.vjp's own loop,
                # inlined (its classmethod call and list cost a microsecond per node)
                vjps: Sequence[Any] | None = op.vjps
                input_grads: Sequence[Any] = ()
            else:
                vjps = None
                input_grads = op.vjp(
                    g, out, inputs, needs, params, None if create_graph else node.ctx
                )
                if anomaly:
                    _anomaly.check_vjp(node, input_grads, inputs)
            for i, arg in enumerate(args):
                if not needs[i]:
                    continue
                gi = input_grads[i] if vjps is None else vjps[i](g, out, *inputs, **params)
                if gi is None:
                    continue
                data = arg._data
                if gi.shape != data.shape:
                    gi = sum_to(gi, data.shape)
                if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                    raise GradientError(
                        f"{op.name}: VJP returned a {gi.dtype} gradient for a "
                        f"{arg.dtype} input of shape {arg.shape}"
                    )
                child = arg._node
                if child is not None:
                    total = pending.get(child)
                    pending[child] = gi if total is None else total + gi
                else:
                    # a gradient passed through unchanged may be shared with another input
                    if gi is g and not create_graph:
                        gi = gi.copy()
                    total = leaf_grads.get(arg)
                    leaf_grads[arg] = gi if total is None else total + gi
            if not retain_graph:  # Node.free(), inlined
                node.args = node.arrays = node.out = node.ctx = None
    finally:
        modes.grad_enabled = previous_mode
    # every node that received a gradient was walked (its users all come before it)
    assert not pending, "backward: a gradient reached a node outside the walk"

    if targets is not None:
        return [leaf_grads.get(t) if t._node is None else target_nodes.get(t._node)
                for t in targets]
    for leaf, g in leaf_grads.items():
        if leaf._requires_grad:
            _accumulate_grad(leaf, g, create_graph, adopted)
    return None


def _accumulate_grad(t: Tensor, g: Any, create_graph: bool, adopted: set[int]) -> None:
    """Add ``g`` into ``t._grad``: in place into a buffer ``t`` owns, or as a graph.

    ``adopted`` holds the ids of arrays (and, with ``create_graph``, Tensors) that this
    backward has already handed to a ``.grad`` or that the caller owns (the seeds): such a
    buffer is copied, never shared, so no two gradients alias and no gradient aliases a seed.
    """
    if create_graph:
        g_t = g if isinstance(g, Tensor) else _new_tensor(np.asarray(g), False, None)
        if g_t._node is None and not g_t.requires_grad:
            g_t = _new_tensor(np.array(g_t._data), False, None)
        elif g_t._node is None or id(g_t) in adopted:
            g_t = g_t * 1.0  # a new tensor in the same graph, so the buffers stay apart
        adopted.add(id(g_t))
        t._grad = g_t if t._grad is None else t._grad + g_t
        return
    data = g._data if isinstance(g, Tensor) else g
    if t._grad is None or t._grad._node is not None:
        # adopt an array no one else holds (base None: not a view); copy anything else
        if not (isinstance(data, np.ndarray) and data.base is None and data.flags.writeable
                and id(data) not in adopted):
            data = np.array(data, dtype=t.dtype)
        adopted.add(id(data))
        t._grad = _new_tensor(data, False, None) if t._grad is None else t._grad + data
    else:
        grad = t._grad
        np.add(grad._data, data, out=grad._data)
        _bump(grad._vc)  # a graph that saved this .grad must not read the new sum


#: read-only seeds of single-element roots, by (shape, dtype)
_ONES: dict[tuple[tuple[int, ...], np.dtype], np.ndarray] = {}


def _seed_gradient(root: Tensor, grad: Any, what: str) -> Any:
    """Check and return the gradient that starts a backward pass from ``root``."""
    if not root.requires_grad:
        raise GradientError(
            f"{what}: the tensor of shape {root.shape} does not require grad and has no "
            f"graph; did you build it under no_grad() or from tensors without "
            f"requires_grad=True?"
        )
    if grad is None:
        if root.size != 1:
            raise GradientError(
                f"{what}: the root has shape {root.shape}; backward() without a gradient is "
                f"only defined for a single-element tensor; pass grad= of shape {root.shape}"
            )
        # the seed of a scalar loss: one read-only array per (shape, dtype), made once. No VJP
        # writes into its gradient, and a read-only seed is never adopted as a .grad buffer
        key = (root._data.shape, root._data.dtype)
        ones = _ONES.get(key)
        if ones is None:
            ones = np.ones(key[0], dtype=key[1])
            ones.flags.writeable = False
            if len(_ONES) < 64:
                _ONES[key] = ones
        return ones
    if isinstance(grad, Tensor):
        seed: Any = grad
        shape, dtype = grad.shape, grad.dtype
    else:
        seed = np.array(grad, dtype=root.dtype if not isinstance(grad, np.ndarray) else None)
        if seed.dtype.kind in "biu":  # integer and boolean data cast, as in every op
            seed = seed.astype(root.dtype)
        shape, dtype = seed.shape, seed.dtype
    if shape != root.shape:
        raise ShapeError(f"{what}: grad has shape {shape} but the root has shape {root.shape}")
    if dtype != root.dtype:
        raise GradientError(f"{what}: grad has dtype {dtype} but the root has dtype {root.dtype}")
    return seed


def gradients(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad`` (like ``torch.autograd.grad``).

    Parameters
    ----------
    outputs, inputs : Tensor or sequence of Tensor
    grad_outputs : array-like or sequence, optional
        The cotangents of ``outputs``; required for non-scalar outputs.
    retain_graph : bool, optional
        Keep the graph for another backward (defaults to ``create_graph``).
    create_graph : bool
        Record the backward pass so the result can be differentiated again.
    allow_unused : bool
        Return zeros for an input the outputs do not depend on instead of raising.
    """
    from .tensor import Tensor

    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        seeds = [None] * len(outs)
    elif isinstance(outputs, Tensor):
        seeds = [grad_outputs]
    else:
        seeds = list(grad_outputs)
    seeds = [_seed_gradient(o, s, "gradients") for o, s in zip(outs, seeds)]
    for t in ins:
        if not t.requires_grad:
            raise GradientError(f"gradients: an input of shape {t.shape} does not require grad")
    retain = create_graph if retain_graph is None else retain_graph
    result = run_backward(outs, seeds, retain, create_graph, targets=ins)
    assert result is not None
    final: list[Tensor] = []
    for t, g in zip(ins, result):
        if g is None:
            if not allow_unused:
                raise GradientError(
                    f"gradients: an input of shape {t.shape} was not used to compute the "
                    f"outputs; pass allow_unused=True to get zeros for it"
                )
            g = np.zeros(t.shape, dtype=t.dtype)
        if isinstance(g, Tensor):
            final.append(g)
        else:
            final.append(_new_tensor(np.array(g, copy=True), False, None))
    return tuple(final)
