"""Which drawn steps a program keeps: domains, kinks and ties, and the engine's known bugs.

A step is kept when its numpy value is finite and within ``[-BOUND, BOUND]``, its inputs are
in the op's domain (:func:`in_domain`), and clear of its kinks and ties (:func:`gaps`: relu
and abs at 0, ``maximum``/``minimum`` ties, ``clip`` at a bound, tied maxima of
``max``/``min``, ``x ** 0`` at 0). An input *exactly* on a kink is kept only when the
reference is PyTorch, whose conventions are tensorgraph's, and only when every engine
computes that input bit for bit alike (:func:`bit_identical`): otherwise one engine could
see a tie the other does not.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._programs import BOUND, Step

#: Engine bugs the fuzzer found, kept out of the drawn programs so that the rest of the space
#: stays under test: each predicate, given the builder, a step and its input values, says
#: whether the step would meet the bug. Delete an entry when its bug is fixed.
KNOWN_BUGS: dict[str, Any] = {
    # all fixed in issue 10: softmax of an empty tensor, x ** 0 at 0, two retained gradients
    # sharing one buffer
}
#: Bugs in second derivatives only: a program meeting one keeps the step but skips the
#: Hessian-vector product check.
KNOWN_SECOND_ORDER_BUGS: dict[str, Any] = {
    # all fixed in issue 10: the Hessian of x ** 1 at 0, prod of a slice with a zero
}


#: ops computing bit-identical results in every engine from bit-identical inputs
SAME = {"negative", "relu", "abs", "sqrt", "add", "subtract", "multiply", "divide", "scale",
         "maximum", "minimum", "clip", "where", "max", "min", "reshape", "transpose",
         "concatenate", "stack", "expand_dims", "getitem", "iadd", "isub", "imul", "idiv",
         "setitem"}
#: ... and these too when their inputs lie on a coarse binary grid (sums are then exact)
SAME_ON_GRID = {"sum", "prod", "matmul"}
def _on_grid(x: np.ndarray) -> bool:
    return bool(np.all(x * 256 == np.round(x * 256)) and np.all(np.abs(x) <= BOUND))


def bit_identical(step: Step, args: list[np.ndarray], inputs_identical: bool) -> bool:
    """Whether every engine computes the step's value bit for bit alike, given that its
    inputs are."""
    return inputs_identical and (step.kind in SAME or (
        step.kind in SAME_ON_GRID and all(map(_on_grid, args))))


def known_bug(builder: Any, step: Step, args: list[np.ndarray]) -> bool:
    return any(bug(builder, step, args) for bug in KNOWN_BUGS.values())


def known_second_order_bug(builder: Any, step: Step, args: list[np.ndarray]) -> bool:
    return any(bug(builder, step, args) for bug in KNOWN_SECOND_ORDER_BUGS.values())


def gaps(step: Step, args: list[np.ndarray]) -> np.ndarray:
    """Distances of the step's inputs from its kinks and ties (0: exactly on one)."""
    k, p = step.kind, step.params
    if k in ("relu", "abs") or (k == "power_scalar" and p["p"] == 0.0):
        return np.abs(args[0]).ravel()
    if k in ("maximum", "minimum"):
        return np.abs(args[0] - args[1]).ravel()
    if k == "clip":
        return np.concatenate([np.abs(args[0] - b).ravel() for b in (p["lo"], p["hi"])
                               if b is not None])
    if k in ("max", "min"):
        x = args[0] if k == "max" else -args[0]
        d = np.max(x, axis=p["axis"], keepdims=True) - x
        extra_ties = np.sum(d == 0, axis=p["axis"]) - 1
        return np.concatenate([d[d > 0], np.zeros(int(np.sum(extra_ties)))])
    return np.zeros(0)

def in_domain(step: Step, args: list[np.ndarray]) -> bool:
    k, p = step.kind, step.params
    if k in ("log", "sqrt"):
        return bool(np.all(args[0] > 0.05))
    if k in ("divide", "idiv") and len(args) > 1:
        return bool(np.all(np.abs(args[1]) > 0.25))
    if k == "var":  # tensorgraph refuses ddof >= n (numpy and torch return NaN)
        axes = range(args[0].ndim) if p["axis"] is None else np.atleast_1d(p["axis"])
        return int(np.prod([args[0].shape[a] for a in axes])) > p["ddof"]
    if k == "power":
        # PyTorch's pow double backward masks the base's gradient where the exponent is
        # 0, so its d2(x**y)/dxdy there is 0 instead of 1/x (tensorgraph is right):
        # exponents exactly 0 would compare against a wrong reference
        return bool(np.all(args[0] > 0.25) and np.all(np.abs(args[1]) <= 3)
                    and np.all(args[1] != 0))
    if k == "power_scalar" and p["p"] < 0:
        return bool(np.all(np.abs(args[0]) > 0.25))
    if k == "power_scalar" and p["p"] != int(p["p"]):
        return bool(np.all(args[0] > 0.05))
    return True
