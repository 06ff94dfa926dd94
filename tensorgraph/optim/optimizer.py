r"""The :class:`Optimizer` base class: parameter groups, state, ``zero_grad``, checkpoints.

An optimizer owns a list of *parameter groups* (``param_groups``, PyTorch's layout: a list of
dicts, each with a ``"params"`` list and its own hyper-parameters) and a per-parameter
``state`` dict. A subclass supplies its default hyper-parameters, checks them in
:meth:`Optimizer._check_group` and updates one group in :meth:`Optimizer._step_group`,
calling a pure function of :mod:`tensorgraph.optim.functional`.

Updates run on the parameters' arrays in place, outside the graph (no Tensor op is
recorded). After updating a parameter the optimizer bumps its version counter, as PyTorch
does for its in-place updates: a graph recorded *before* the step that still holds the
parameter (``retain_graph=True``) then refuses to run backward with the new values instead
of silently mixing old activations with new weights. Graphs recorded after the step, the
ordinary training loop, are unaffected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real
from typing import Any

import numpy as np

from .. import autograd
from ..autograd import enable_grad
from ..errors import DomainError, DTypeError, ShapeError
from ..tensor import Tensor

__all__ = ["Optimizer", "ParamGroup"]  # check_flag, check_hparam: internal helpers

ParamGroup = dict[str, Any]


def check_hparam(
    owner: str,
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that a real hyper-parameter lies in an interval; return it as a float.

    Python and numpy reals are accepted (``np.float32(1e-3)``) and returned as a Python
    float, which the optimizers store: a numpy float32 hyper-parameter would otherwise do the
    bias corrections of a float64 model in float32. Raises
    :class:`~tensorgraph.errors.DTypeError` for a value that is not a real number (booleans
    included) and :class:`~tensorgraph.errors.DomainError` for one outside the interval
    (NaN included), both naming ``owner`` and ``name``.
    """
    # fast path first: this runs for every group at every step
    if type(value) is not float and (
        isinstance(value, (bool, np.bool_)) or not isinstance(value, Real)
    ):
        raise DTypeError(f"{owner}: {name} must be a real number, got {value!r}")
    v = float(value)
    above = v > low if low_open else v >= low
    # an infinite hyper-parameter is never meant: it turns every parameter into inf or NaN
    below = (v < high if high_open else v <= high) and v < math.inf
    if not (above and below):  # NaN fails both comparisons
        lo = "(" if low_open else "["
        hi = ")" if high_open or high == math.inf else "]"
        raise DomainError(f"{owner}: {name} must be in {lo}{low}, {high}{hi}, got {value!r}")
    return v


def check_flag(owner: str, name: str, value: Any) -> bool:
    """Check that a switch is a real ``bool`` (not 0/1 or a string); return it."""
    if not isinstance(value, (bool, np.bool_)):
        raise DTypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


class Optimizer:
    """Base class of the optimizers.

    Parameters
    ----------
    params : iterable of Tensor or of dict
        The tensors to optimize, or parameter groups: dicts with a ``"params"`` entry (a
        Tensor or an iterable of Tensors) and any hyper-parameter overriding ``defaults``.
        Every parameter must be a floating leaf tensor with ``requires_grad=True`` and appear
        once.
    defaults : dict
        Default hyper-parameters of each group.

    Attributes
    ----------
    param_groups : list of dict
        The groups, each with ``"params"`` (a list of Tensors) and every hyper-parameter.
        Changing ``group["lr"]`` between steps is how schedulers work.
    state : dict
        Per-parameter state (moments, step counts), keyed by the parameter Tensor.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[ParamGroup], defaults: ParamGroup):
        name = type(self).__name__
        self.defaults: ParamGroup = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[ParamGroup] = []
        # work arrays reused across steps; not part of the state (nothing to checkpoint)
        self._scratch: dict[Tensor, np.ndarray] = {}
        self._grad_scratch: dict[Tensor, np.ndarray] = {}
        # the array each parameter had when last checked by _make_ready
        self._ready: dict[Tensor, np.ndarray] = {}
        if isinstance(params, (Tensor, dict)):
            raise DTypeError(
                f"{name}: params must be an iterable of Tensors or of dicts (parameter "
                f"groups), got a single {type(params).__name__}; wrap it in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise DTypeError(f"{name}: params must have a stable order; pass a list, not a set")
        groups = list(params)
        if not groups:
            raise DomainError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: ParamGroup) -> None:
        """Add a group of parameters with its own hyper-parameters (missing ones default).

        Raises
        ------
        DTypeError
            A parameter that is not a floating :class:`~tensorgraph.Tensor`.
        DomainError
            A non-leaf parameter, one that does not require grad, one that appears twice
            (in this group or another), or an invalid hyper-parameter.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise DTypeError(f"{name}: a parameter group must be a dict, got {param_group!r}")
        if "params" not in param_group:
            raise DomainError(f"{name}: a parameter group needs a 'params' entry")
        raw = param_group["params"]
        if isinstance(raw, (set, frozenset)):
            raise DTypeError(f"{name}: params must have a stable order; pass a list, not a set")
        params = [raw] if isinstance(raw, Tensor) else list(raw)
        index = len(self.param_groups)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        here: set[int] = set()
        for i, p in enumerate(params):
            where = f"parameter {i} of group {index}"
            if not isinstance(p, Tensor):
                raise DTypeError(f"{name}: {where} is a {type(p).__name__}, not a Tensor")
            if p.dtype.kind != "f":
                raise DTypeError(f"{name}: {where} has dtype {p.dtype}; only floats train")
            if not p.is_leaf:
                raise DomainError(
                    f"{name}: {where} (shape {p.shape}) is not a leaf tensor (it was made by "
                    f"{p.op_name!r}); optimize the leaves it was computed from"
                )
            if not p.requires_grad:
                raise DomainError(
                    f"{name}: {where} (shape {p.shape}) does not require grad; call "
                    f".requires_grad_() on it or leave it out"
                )
            if id(p) in here:
                raise DomainError(f"{name}: {where} (shape {p.shape}) appears twice in the group")
            if id(p) in seen:
                raise DomainError(
                    f"{name}: {where} (shape {p.shape}) is already in another parameter group"
                )
            here.add(id(p))
        group: ParamGroup = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: ParamGroup) -> None:
        """Validate a group's hyper-parameters (subclasses; raise DomainError/DTypeError)."""

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter.

        Parameters
        ----------
        set_to_none : bool
            ``True`` (default): ``p.grad = None``, so the next backward allocates a fresh
            gradient and ``step()`` skips parameters that get none. ``False``: fill the
            existing gradient arrays with zeros in place (their buffers are reused).
        """
        if autograd._tracer is not None:  # tg.compile: replayed as one plan step
            autograd._tracer.host(self, "zero_grad", (set_to_none,))
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad._node is not None or not p.grad._data.flags.writeable:
                    # a gradient recorded with create_graph (cut it from its graph), or a
                    # read-only array the user assigned: a fresh zero buffer instead
                    p.grad = Tensor(np.zeros_like(p.grad._data))
                else:
                    p.grad._data.fill(0)
                    p.grad._bump_version()  # a graph that read this .grad must not run on 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient (parameters with ``grad=None`` are
        skipped) and return ``closure()``'s value when a closure is given.

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss (called with gradients enabled,
            before the update).
        """
        loss = None
        if autograd._tracer is not None:  # tg.compile: replayed as one plan step
            autograd._tracer.host(self, "step", (closure,))
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            # cheap (a few comparisons per group) and catches a bad lr set by hand
            self._check_group(group)
            self._step_group(group)
        return loss

    def _step_group(self, group: ParamGroup) -> None:
        raise NotImplementedError

    def _grad_array(self, p: Tensor) -> np.ndarray | None:
        """The gradient array of ``p``, checked against the parameter (None: no gradient).

        Also readies ``p`` for an in-place update: its array must be writable, and its state
        arrays follow its dtype (see :meth:`_follow_dtype`).
        """
        g = p.grad
        if g is None:
            return None
        data = g._data
        if data.shape != p._data.shape:
            raise ShapeError(
                f"{type(self).__name__}: gradient of shape {data.shape} for a parameter of "
                f"shape {p._data.shape}"
            )
        if data.dtype != p._data.dtype:
            raise DTypeError(
                f"{type(self).__name__}: {data.dtype} gradient for a {p._data.dtype} parameter"
            )
        param = p._data
        # checked once per array: again only when the parameter got a new one (Module.to,
        # p.data = ...), so a steady-state step pays one dict lookup here
        if self._ready.get(p) is not param:
            self._make_ready(p)
            self._ready[p] = param
        return data

    def _make_ready(self, p: Tensor) -> None:
        """Check ``p``'s (new) array and fit its state and work arrays to it."""
        param = p._data
        if not param.flags.writeable:
            raise DomainError(
                f"{type(self).__name__}: {self._where(p)} (shape {p.shape}) holds a read-only "
                f"array, which step() cannot update in place; give the parameter an array of "
                f"its own (p.data = np.array(p.data))"
            )
        state = self.state.get(p)
        if state:
            self._follow_dtype(p, state)
        for table in (self._scratch, self._grad_scratch):
            work = table.get(p)
            if work is not None and (work.dtype != param.dtype or work.shape != param.shape):
                del table[p]

    def _follow_dtype(self, p: Tensor, state: dict[str, Any]) -> None:
        """Cast ``p``'s state arrays (moments, momentum buffers) to ``p``'s dtype.

        A model cast with ``Module.to(np.float64)`` after some steps keeps its Parameter
        objects but gives them float64 arrays; the state follows, as PyTorch casts state to
        its parameter's dtype when loading it. Moments kept in float32 would silently make a
        float64 model's updates float32-accurate.
        """
        dtype, shape = p._data.dtype, p._data.shape
        for key, value in state.items():
            if not isinstance(value, np.ndarray):
                continue
            if value.shape != shape:  # the user gave the parameter an array of a new shape
                raise ShapeError(
                    f"{type(self).__name__}: state {key!r} of {self._where(p)} has shape "
                    f"{value.shape} but the parameter now has shape {shape}; build a new "
                    f"optimizer for the reshaped parameter"
                )
            if value.dtype != dtype:
                state[key] = value.astype(dtype)

    def _where(self, p: Tensor) -> str:
        """``parameter i of group j``, for messages."""
        for j, group in enumerate(self.param_groups):
            for i, q in enumerate(group["params"]):
                if q is p:
                    return f"parameter {i} of group {j}"
        return "a parameter"

    def _buffers(self, p: Tensor, need_grad: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Work arrays for ``p``: the scratch array and, if ``need_grad``, the array holding
        the effective gradient. Allocated once, reused by every later step."""
        tmp = self._scratch.get(p)
        if tmp is None:  # (dropped by _make_ready when the parameter's array changed)
            tmp = self._scratch[p] = np.empty_like(p._data)
        if not need_grad:
            return tmp, None
        gtmp = self._grad_scratch.get(p)
        if gtmp is None:
            gtmp = self._grad_scratch[p] = np.empty_like(p._data)
        return tmp, gtmp

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Return a copy of the optimizer's state: ``{"state": ..., "param_groups": ...}``.

        As in PyTorch, parameters are replaced by their position (counted across groups),
        so the dict can be loaded into a fresh optimizer over a new copy of the model. The
        arrays are copies: training on does not change a saved state dict.
        """
        index = {id(p): i for i, p in enumerate(self._all_params())}
        state = {
            index[id(p)]: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
            for p, s in self.state.items()
        }
        groups = [
            {**{k: v for k, v in g.items() if k != "params"},
             "params": [index[id(p)] for p in g["params"]]}
            for g in self.param_groups
        ]  # fmt: skip
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict` (the arrays are copied in).

        The saved groups must have the same sizes as this optimizer's; each saved array must
        have its parameter's shape (it is cast to the parameter's dtype).
        """
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise DomainError(
                f"{name}.load_state_dict: {len(saved_groups)} parameter groups saved, the "
                f"optimizer has {len(self.param_groups)}"
            )
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise DomainError(
                    f"{name}.load_state_dict: group {i} lacks {missing} (a state dict of "
                    f"another optimizer?)"
                )
            if len(saved["params"]) != len(group["params"]):
                raise DomainError(
                    f"{name}.load_state_dict: group {i} has {len(saved['params'])} parameters "
                    f"saved, the optimizer's has {len(group['params'])}"
                )
        by_index = {
            k: p
            for saved, group in zip(saved_groups, self.param_groups)
            for k, p in zip(saved["params"], group["params"])
        }
        new_state: dict[Tensor, dict[str, Any]] = {}
        for k, s in state_dict["state"].items():
            if k not in by_index:
                raise DomainError(f"{name}.load_state_dict: state for unknown parameter {k}")
            p = by_index[k]
            entry: dict[str, Any] = {}
            for key, value in s.items():
                if isinstance(value, np.ndarray):
                    if value.shape != p.shape:
                        raise ShapeError(
                            f"{name}.load_state_dict: state {key!r} of parameter {k} has shape "
                            f"{value.shape}, the parameter {p.shape}"
                        )
                    value = np.array(value, dtype=p.dtype)
                entry[key] = value
            new_state[p] = entry
        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new_group = {**{k: v for k, v in saved.items() if k != "params"},
                         "params": group["params"]}  # fmt: skip
            self._check_group(new_group)
            new_groups.append(new_group)
        self.state = new_state
        self.param_groups = new_groups
        self._ready.clear()  # check every parameter against its new state at the next step

    def _all_params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params")
        lines.append(")")
        return "\n".join(lines)
