"""``checkpoint``: trade compute for memory by recomputing a segment in the backward pass.

The segment runs forward under ``no_grad``, so none of its intermediate arrays is kept; the
graph holds one node for the whole segment. Its VJP runs the segment again under
``enable_grad`` and back-propagates the incoming gradient through that fresh graph, which
is freed at once. Like ``torch.utils.checkpoint.checkpoint(..., use_reentrant=False)`` it
works with ``backward()``, with :func:`~tensorgraph.gradients` and with ``create_graph``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from . import creation
from .autograd import _new_tensor, apply, enable_grad, is_grad_enabled, no_grad, run_backward
from .errors import GradientError, InPlaceModificationError
from .ops._base import Domain, Op
from .tensor import Tensor

__all__ = ["checkpoint"]

_Slot = tuple[str, Any]  # ("input", index into the op's inputs) or ("value", the value)


class _Checkpoint(Op):
    """One node standing for a whole recomputed segment. Not registered: it is no numpy op,
    and the registry's tests draw inputs for registered ops only."""

    name = "checkpoint"
    domain = Domain()
    # fn, the call's layout and the RNG states are kept as given (no copies)
    array_params: ClassVar[frozenset[str] | None] = frozenset()

    @staticmethod
    def forward(*arrays: Any, fn: Callable[..., Any], layout: Any, extra: Any,
                rng: Any) -> np.ndarray:
        # read-only views: the segment runs on the caller's arrays, and a write into one of
        # them would change the caller's tensor behind the graph's back (the recomputation
        # would then see, and write, the changed values)
        tensors = [_new_tensor(_read_only(a), False, None) for a in arrays]
        try:
            with no_grad():  # the point of it all: the segment records no graph
                out = _run(fn, layout, tensors)
        except ValueError as err:
            if "read-only" not in str(err):
                raise
            raise InPlaceModificationError(
                f"checkpoint: the function writes in place into one of its input tensors "
                f"({err}); the recomputation in backward would see the changed values. "
                f"Write out of place (t = t + 1), or into a copy"
            ) from None
        if not isinstance(out, Tensor):
            raise TypeError(f"checkpoint: the function must return one Tensor, got "
                            f"{type(out).__name__}")
        data = out._data
        if not data.flags.writeable and any(
                a.flags.writeable and data.base is (a if a.base is None else a.base)
                for a in arrays):
            data.flags.writeable = True  # a view of an input: as writable as the input
        return data

    @classmethod
    def vjp(cls, grad: Any, out: Any, inputs: Any, needs: Any, params: dict[str, Any],
            ctx: Any) -> list[Any]:
        create_graph = isinstance(grad, Tensor)  # the engine hands Tensors to record a graph
        n_args = len(inputs) - len(params["extra"])
        if create_graph:
            # the segment's own inputs, so the gradient's graph reaches back to them
            tensors = list(inputs)
        else:
            tensors = [_new_tensor(a, need, None) if i < n_args else params["extra"][i - n_args]
                       for i, (a, need) in enumerate(zip(inputs, needs))]
        targets = [t for t, need in zip(tensors, needs) if need]
        with _replayed(params["rng"]), enable_grad():
            again = _run(params["fn"], params["layout"], tensors[:n_args])
        expected = out._data if isinstance(out, Tensor) else out
        if not isinstance(again, Tensor) or again.shape != expected.shape \
                or again.dtype != expected.dtype:
            shown = getattr(again, "shape", type(again).__name__)
            raise GradientError(
                f"checkpoint: recomputing the segment gave {shown} "
                f"{getattr(again, 'dtype', '')} where the forward gave {expected.shape} "
                f"{expected.dtype}; the function must be deterministic given its inputs"
            )
        if params["rng"] is not None:
            _refuse_other_values(again._data, np.asarray(expected))
        _refuse_hidden_leaves(again, targets)
        grads: Any = [None] * len(targets)
        if again.requires_grad and targets:
            # the engine itself rather than gradients(): no copy of each returned gradient
            # (the outer backward adopts them), and None for an input the segment ignores
            grads = run_backward([again], [grad], retain_graph=create_graph,
                                 create_graph=create_graph, targets=targets)
        found = iter(grads)
        result: list[Any] = []
        for need, t in zip(needs, tensors):
            if not need:
                result.append(None)
                continue
            g = next(found)
            if g is None:
                g = np.zeros(t.shape, t.dtype)
            if create_graph and not isinstance(g, Tensor):
                g = _new_tensor(np.asarray(g), False, None)
            elif not create_graph and isinstance(g, Tensor):
                g = g._data
            result.append(g)
        return result


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def _run(fn: Callable[..., Any], layout: Any, tensors: list[Tensor]) -> Any:
    slots, kwargs = layout
    args = [tensors[v] if kind == "input" else v for kind, v in slots]
    return fn(*args, **kwargs)


def _refuse_other_values(again: np.ndarray, expected: np.ndarray) -> None:
    """Raise if the recomputation gave other values than the forward (beyond rounding): its
    gradient would belong to another function, typically a dropout mask drawn from a
    generator that was not replayed."""
    scale = float(np.max(np.abs(expected), initial=0.0, where=np.isfinite(expected)))
    rtol = 1e-4 if expected.dtype.itemsize < 8 else 1e-9
    if not np.allclose(again, expected, rtol=rtol, atol=rtol * scale, equal_nan=True):
        raise GradientError(
            "checkpoint: recomputing the segment gave other values than the forward (shape "
            f"{expected.shape}, largest difference {np.nanmax(np.abs(again - expected)):.3g}); "
            "its gradient would belong to another function. Randomness must come from the "
            "default generator or from a module of fn (pass the nn.Module, or its bound "
            "method, as fn, so its generator is replayed)"
        )


def _refuse_hidden_leaves(out: Tensor, targets: list[Tensor]) -> None:
    """Raise if the recomputed graph reaches a tensor that requires grad but is not an input
    of the checkpoint node: its gradient would be lost."""
    if out._node is None:
        return
    stop = {id(t) for t in targets}
    seen: set[int] = set()
    hidden: list[Tensor] = []
    stack = [out._node]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for arg, need in zip(node.args or (), node.needs):
            if not need or id(arg) in stop:
                continue
            if arg._node is None:
                if arg.requires_grad and all(arg is not h for h in hidden):
                    hidden.append(arg)
            else:
                stack.append(arg._node)
    if hidden:
        shapes = ", ".join(str(h.shape) for h in hidden[:5])
        raise GradientError(
            f"checkpoint: the function uses {len(hidden)} tensor(s) that require grad but "
            f"were not passed to checkpoint (shapes {shapes}); their gradients would be lost. "
            f"Pass them as arguments, or pass the nn.Module itself as the function (its "
            f"parameters are then inputs of the checkpoint)"
        )


# --------------------------------------------------------------------------- randomness
def _generators(owner: Any) -> list[np.random.Generator]:
    """The default generator and the ``generator`` of every module of ``owner``."""
    found = [creation.default_generator]
    for module in () if owner is None else owner.modules():
        g = getattr(module, "generator", None)
        if isinstance(g, np.random.Generator) and all(g is not f for f in found):
            found.append(g)
    return found


def _module(fn: Callable[..., Any]) -> Any:
    """The nn.Module that ``fn`` is (or whose bound method it is), else None."""
    from .nn.module import Module

    owner = fn if isinstance(fn, Module) else getattr(fn, "__self__", None)
    return owner if isinstance(owner, Module) else None


class _replayed:
    """Put each generator back in its forward-time state for the recomputation, and restore
    the states they had before it afterwards, so the recomputation draws the very same
    dropout masks and leaves the program's random stream untouched (torch's
    ``preserve_rng_state=True``)."""

    def __init__(self, saved: list[tuple[np.random.Generator, dict[str, Any]]] | None
                 ) -> None:
        self.saved = saved or []
        self.now: list[Any] = []
        self.default: np.random.Generator | None = None

    def __enter__(self) -> None:
        self.now = [g.bit_generator.state for g, _ in self.saved]
        for g, state in self.saved:
            g.bit_generator.state = state
        if self.saved:  # manual_seed() since the forward replaced the default generator
            self.default = creation.default_generator
            creation.default_generator = self.saved[0][0]

    def __exit__(self, *exc: object) -> None:
        for (g, _), state in zip(self.saved, self.now):
            g.bit_generator.state = state
        if self.default is not None:
            creation.default_generator = self.default


# --------------------------------------------------------------------------- the function
def checkpoint(fn: Callable[..., Any], *args: Any, preserve_rng_state: bool = True,
               **kwargs: Any) -> Any:
    """Run ``fn(*args, **kwargs)`` without keeping its graph; recompute it in backward.

    Like ``torch.utils.checkpoint.checkpoint(fn, *args, use_reentrant=False)``. The forward
    runs under ``no_grad``, so the segment's intermediate arrays are freed as soon as the
    forward no longer needs them; the result carries one graph node. In backward that node
    runs ``fn`` again under ``enable_grad`` and back-propagates through the recomputed
    graph. Memory: the arrays saved inside the segment are held only during its own
    backward. Compute: the segment's forward runs twice.

    Gradients reach the Tensor arguments and, when ``fn`` is an ``nn.Module`` (or a bound
    method of one), its parameters. A tensor that requires grad and reaches ``fn`` any other
    way (a closure, a global) is refused with a :class:`~tensorgraph.errors.GradientError`
    in backward rather than silently getting no gradient.

    Parameters
    ----------
    fn : callable
        Must return one Tensor and be deterministic given its inputs and random state.
    *args, **kwargs
        Passed to ``fn``; Tensors among ``args`` are the inputs of the checkpoint.
    preserve_rng_state : bool
        Replay the random state (the default generator and the ``generator`` of every
        module of ``fn``) in the recomputation, so that dropout draws the same masks.
        With False the recomputation draws new ones: its gradient then belongs to another
        mask than the forward's output. With True, a recomputation whose values differ
        from the forward's (a generator that was not replayed) raises a
        :class:`~tensorgraph.errors.GradientError` in backward.

    Notes
    -----
    Running statistics (``BatchNorm1d`` in training mode) are updated twice, once per run,
    as in PyTorch. A double backward (``create_graph=True``) through a checkpoint walks the
    graph upstream of the segment once more per checkpoint.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorgraph as tg
    >>> x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> y = tg.checkpoint(lambda t: (t.exp() * t).sum(), x)
    >>> y.backward()
    >>> np.round(x.grad.numpy(), 4)  # (1 + x) exp(x)
    array([ 5.4366, 22.1672])
    """
    slots: list[_Slot] = []
    inputs: list[Tensor] = []
    for a in args:
        if isinstance(a, Tensor) and a.dtype.kind == "f":
            slots.append(("input", len(inputs)))
            inputs.append(a)
        else:  # integer tensors (labels, indices) and Python values: constants
            slots.append(("value", a))
    owner = _module(fn)
    known = {id(t) for t in inputs}
    extra = [] if owner is None else [
        p for p in owner.parameters() if p.requires_grad and id(p) not in known]
    if not is_grad_enabled() or not any(t.requires_grad for t in (*inputs, *extra)):
        return fn(*args, **kwargs)
    rng = ([(g, g.bit_generator.state) for g in _generators(owner)]
           if preserve_rng_state else None)
    return apply(_Checkpoint, (*inputs, *extra),
                 {"fn": fn, "layout": (slots, kwargs), "extra": tuple(extra), "rng": rng})
