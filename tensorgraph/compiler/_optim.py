"""A replay kernel for ``Adam.step`` / ``AdamW.step``: every parameter in a few numpy calls.

The eager update (:func:`tensorgraph.optim.functional.adam_update`) runs about a dozen
numpy calls *per parameter*, each behind a few Python checks; on a small model that Python
is most of the optimizer's time. Adam is elementwise, so the same arithmetic over one flat
array holding every parameter's moments gives every element the same value, bit for bit
(each element meets the same IEEE operations on the same operands in the same order; only
the loop around them changes). :class:`FusedAdam` therefore keeps the moments of a group
in two flat arrays and makes the optimizer's ``state["exp_avg"]`` / ``state["exp_avg_sq"]``
*views* of them (same values, still updated in place, still what ``state_dict`` reads); a
step gathers the gradients into one flat array, runs the update once, and subtracts each
parameter's slice of the step from the parameter in place (and bumps its version, as
eagerly).

Everything the fast path assumes is checked at every replay, and anything else (amsgrad,
coupled weight decay, a missing gradient, a state or parameter array replaced by the user,
a subclass with its own update, differing step counts) runs the optimizer's own
``step()``, which also raises its errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..optim.adam import Adam
from ..optim.optimizer import Optimizer

__all__ = ["FusedAdam", "fused_optimizer_step"]


class _Group:
    """The flat arrays of one parameter group, and the arrays they were built for."""

    def __init__(self, opt: Any, group: dict[str, Any]) -> None:
        params = list(group["params"])
        self.group = group
        self.params = params
        self.datas = [p._data for p in params]
        self.states = [opt.state[p] for p in params]
        dtype = self.datas[0].dtype
        sizes = [d.size for d in self.datas]
        total = sum(sizes)
        self.m = np.concatenate([s["exp_avg"] for s in self.states], axis=None, dtype=dtype)
        self.v = np.concatenate([s["exp_avg_sq"] for s in self.states], axis=None,
                                dtype=dtype)
        self.g = np.empty(total, dtype)
        self.t = np.empty(total, dtype)
        self.m_views: list[np.ndarray] = []
        self.v_views: list[np.ndarray] = []
        self.t_views: list[np.ndarray] = []
        start = 0
        for d, size, state in zip(self.datas, sizes, self.states):
            stop = start + size
            mv, vv = self.m[start:stop].reshape(d.shape), self.v[start:stop].reshape(d.shape)
            state["exp_avg"], state["exp_avg_sq"] = mv, vv
            self.m_views.append(mv)
            self.v_views.append(vv)
            self.t_views.append(self.t[start:stop].reshape(d.shape))
            start = stop
        self.entries = list(zip(params, self.datas, self.states, self.m_views, self.v_views))

    def holds(self, opt: Any, group: dict[str, Any]) -> bool:
        """Whether the flat arrays still are the group's state and every parameter has a
        gradient the fast path may use."""
        if group is not self.group or len(group["params"]) != len(self.params):
            return False
        ready, state = opt._ready, opt.state
        step = self.states[0]["step"]
        for (p, data, st, mv, vv), q in zip(self.entries, group["params"]):
            g = p._grad
            if (q is not p or g is None or p._data is not data or ready.get(p) is not data
                    or state.get(p) is not st or st["exp_avg"] is not mv
                    or st["exp_avg_sq"] is not vv or st["step"] != step
                    or g._data.shape != data.shape or g._data.dtype != data.dtype
                    or "max_exp_avg_sq" in st):
                return False
        return True


def _eligible(opt: Any, group: dict[str, Any]) -> bool:
    """The hyper-parameters and state the fast path implements."""
    if group["amsgrad"] or (group["weight_decay"] != 0 and not opt._decoupled):
        return False
    params = group["params"]
    if not params:
        return False
    dtype = params[0]._data.dtype
    for p in params:
        st = opt.state.get(p)
        if (p._grad is None or st is None or st.get("step", 0) < 1 or p._data.dtype != dtype
                or opt._ready.get(p) is not p._data or "exp_avg" not in st
                or "max_exp_avg_sq" in st):
            return False
    steps = {opt.state[p]["step"] for p in params}
    return len(steps) == 1


class FusedAdam:
    """Replaces the plan step ``_optimizer_call(optimizer, "step", None)`` of an Adam."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback  # the generic host step function
        self.groups: list[_Group | None] = []

    def __call__(self, opt: Any, method: str, closure: Any = None) -> None:
        groups = opt.param_groups
        if closure is not None:
            self.fallback(opt, method, closure)
            return
        if len(groups) != len(self.groups):
            self.groups = [None] * len(groups)
        # Optimizer.step, group by group: validate, then update (the fast path where it
        # holds, the optimizer's own update where it does not)
        for i, group in enumerate(groups):
            opt._check_group(group)
            flat = self.groups[i]
            if flat is None or not flat.holds(opt, group):
                flat = self.groups[i] = _Group(opt, group) if _eligible(opt, group) else None
            if flat is None:
                opt._step_group(group)
            else:
                _update(opt, flat)


def _update(opt: Any, flat: _Group) -> None:
    """:func:`tensorgraph.optim.functional.adam_update` over the flat arrays (the same
    scalars, computed the same way, and the same operations in the same order)."""
    group = flat.group
    lr: float = group["lr"]
    beta1, beta2 = group["betas"]
    eps: float = group["eps"]
    weight_decay: float = group["weight_decay"]
    maximize: bool = group["maximize"]
    params, m, v, g, tmp = flat.params, flat.m, flat.v, flat.g, flat.t
    for st in flat.states:
        st["step"] += 1
    step: int = flat.states[0]["step"]
    if opt._decoupled and weight_decay != 0:
        for data in flat.datas:
            data *= 1.0 - lr * weight_decay
    grads = [p._grad._data for p in params]
    weight = 1.0 - beta1
    if maximize or weight >= 0.5:  # g = -grad, or lerp's other branch (reads g twice)
        np.concatenate(grads, axis=None, out=g)
        if maximize:
            np.negative(g, out=g)
        grads, m_views, t_views = [g], [m], [tmp]
    else:  # the operations reading g read each gradient in place: no gathering pass
        m_views, t_views = flat.m_views, flat.t_views
    # _lerp_(exp_avg, g, 1 - beta1, tmp)
    for gi, m_i, ti in zip(grads, m_views, t_views):
        np.subtract(gi, m_i, out=ti)
    if weight < 0.5:
        tmp *= weight
        m += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(g, tmp, out=m)
    v *= beta2
    for gi, ti in zip(grads, t_views):
        np.multiply(gi, gi, out=ti)
    tmp *= 1.0 - beta2
    v += tmp
    bias_correction1 = 1.0 - beta1**step
    bias_correction2 = 1.0 - beta2**step
    step_size = lr / bias_correction1
    if step_size != 0:
        c = bias_correction2**0.5
        if group["eps_inside_sqrt"]:
            np.add(v, eps * bias_correction2, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)
            tmp += eps * c
        tmp *= 1.0 / (step_size * c)
        np.divide(m, tmp, out=tmp)
        for data, t in zip(flat.datas, flat.t_views):
            data -= t
    for p in params:
        p._bump_version()  # as eagerly (the engine sees the write)


def fused_optimizer_step(fallback: Any, args: tuple[Any, ...]) -> Any:
    """A :class:`FusedAdam` for a host step ``fallback(*args)`` that is an ``Adam.step()``
    (exactly Adam's or AdamW's update, not a subclass's own), else None."""
    if len(args) != 3 or args[1] != "step" or args[2] is not None:
        return None
    opt = args[0]
    cls = type(opt)
    if (not isinstance(opt, Adam) or cls._step_group is not Adam._step_group
            or cls.step is not Optimizer.step or cls._check_group is not Adam._check_group):
        return None
    return FusedAdam(fallback)
