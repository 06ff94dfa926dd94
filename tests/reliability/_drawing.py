"""The hypothesis strategy :func:`programs`: random programs built step by step in numpy.

Each drawn step is run at once in numpy (:data:`_programs.REFERENCE`) and kept only when the
result is finite and within ``[-BOUND, BOUND]``, and when the op's inputs are clear of its
kinks and ties (relu and abs at 0, ``maximum``/``minimum`` ties, ``clip`` at a bound, tied
maxima of ``max``/``min``, ``x ** 0`` at 0). An input *exactly* on a kink is kept only when
the reference is PyTorch (``edges=True``), whose conventions are tensorgraph's, and only when
every engine computes that input bit for bit alike (it was made by correctly rounded
elementwise arithmetic, selections and reshapes, or by sums of values on a coarse binary
grid): otherwise one engine could see a tie the other does not.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ._programs import (
    BINARY,
    BOUND,
    DYADIC,
    INPLACE,
    INPLACE_TARGETS,
    REDUCTIONS,
    REFERENCE,
    SHAPES,
    UNARY,
    VIA,
    Program,
    Step,
)

#: ops computing bit-identical results in every engine from bit-identical inputs
_SAME = {"negative", "relu", "abs", "sqrt", "add", "subtract", "multiply", "divide", "scale",
         "maximum", "minimum", "clip", "where", "max", "min", "reshape", "transpose",
         "concatenate", "stack", "expand_dims", "getitem", "iadd", "isub", "imul", "idiv",
         "setitem"}
#: ... and these too when their inputs lie on a coarse binary grid (sums are then exact)
_SAME_ON_GRID = {"sum", "prod", "matmul"}
_CLIPS = [(-1.0, 1.0), (None, 0.5), (0.0, None), (-0.5, 0.5)]
_POWERS = [2.0, 3.0, -1.0, 0.5, 1.5, 0.0, 1.0]


#: Engine bugs the fuzzer found, kept out of the drawn programs so that the rest of the space
#: stays under test: each predicate, given the builder, a step and its input values, says
#: whether the step would meet the bug. Delete an entry when its bug is fixed.
KNOWN_BUGS: dict[str, Any] = {
    # tg.softmax(tg.tensor(np.zeros((2, 0))), axis=-1) raises numpy's "zero-size array to
    # reduction operation maximum" (torch returns an empty tensor); log_softmax too
    "softmax of an empty tensor": lambda b, step, args: step.kind in (
        "softmax", "log_softmax") and args[0].size == 0,
    # x = tg.tensor(np.array([0.0]), requires_grad=True); (x ** 0).sum().backward():
    # x.grad is NaN (0 * 0 ** -1) with a RuntimeWarning; torch gives 0
    "x ** 0 at 0": lambda b, step, args: step.kind == "power_scalar"
    and step.params["p"] == 0.0 and bool(np.any(args[0] == 0)),
    # w = tensor([1., 2.]) float64 leaf; a = w * 2; a.retain_grad(); b = a + w;
    # b.retain_grad(); c = b * 3; c.backward(ones, retain_graph=True); c.backward(ones):
    # a.grad and b.grad are one buffer (add's VJP passes the cotangent through and
    # _accumulate_grad adopts it for both), so both read 9 instead of 6
    "two retained gradients": lambda b, step, args: step.kind == "retain"
    and len(b.retained) > 0,
}
#: Bugs in second derivatives only: a program meeting one keeps the step but skips the
#: Hessian-vector product check.
KNOWN_SECOND_ORDER_BUGS: dict[str, Any] = {
    # x = tg.tensor(np.array([2.0, 0.0]), requires_grad=True)
    # g, = tg.gradients(tg.prod(x), [x], create_graph=True); tg.gradients(g[0], [x]) is
    # [0, 0]; the Hessian row is [0, 1] (torch agrees): prod's VJP at a slice holding a zero
    # is a where() whose derivative with respect to the zero is lost
    # the same 0 * 0 ** -1 one derivative later: the Hessian of x ** 1 at 0 is NaN
    "x ** 1 at 0": lambda b, step, args: step.kind == "power_scalar"
    and step.params["p"] == 1.0 and bool(np.any(args[0] == 0)),
    "prod of a slice with a zero": lambda b, step, args: step.kind == "prod"
    and bool(np.any(args[0] == 0)),
}


def _on_grid(x: np.ndarray) -> bool:
    return bool(np.all(x * 256 == np.round(x * 256)) and np.all(np.abs(x) <= BOUND))


class _Builder:
    """The state of a program being drawn: its values and what may be done with them."""

    def __init__(self, draw: Any, edges: bool, inplace: bool) -> None:
        self.draw = draw
        self.edges = edges
        self.inplace = inplace
        self.margin = 1e-9 if edges else 2e-3
        self.values: list[np.ndarray] = []
        self.same: list[bool] = []
        self.requires: list[bool] = []
        self.producer: list[str] = []
        self.alive: list[bool] = []
        self.consumed: list[bool] = []
        self.retained: set[int] = set()
        self.second_order = True  # False once a step meets a known second-order bug
        self.steps: list[Step] = []
        self.dyadic = edges and draw(st.integers(0, 2), label="dyadic values") > 0

    # ------------------------------------------------------------------ drawing helpers
    def integer(self, lo: int, hi: int, label: str = "") -> int:
        return int(self.draw(st.integers(lo, hi), label=label or None))

    def choice(self, options: list[Any], label: str = "") -> Any:
        return options[self.integer(0, len(options) - 1, label)]

    def recent(self, candidates: list[int], label: str) -> int:
        """One of ``candidates``: the newest half the time (graphs grow deep, and the
        last value depends on most steps), else any; shrinking towards the newest."""
        if len(candidates) == 1 or not self.draw(st.booleans(), label=f"{label}: older"):
            return candidates[-1]
        return candidates[len(candidates) - 1 - self.integer(0, len(candidates) - 1, label)]

    def array(self, shape: tuple[int, ...], positive: bool = False) -> np.ndarray:
        rng = np.random.default_rng(self.integer(0, 2**32 - 1, "array seed"))
        if self.dyadic:
            x = rng.choice(DYADIC, size=shape)
            return np.abs(x) + 0.5 if positive else x
        return rng.uniform(0.3, 1.5, size=shape) if positive else rng.uniform(-1.5, 1.5, shape)

    def live(self, grad_first: bool = True) -> list[int]:
        idx = [i for i, a in enumerate(self.alive) if a]
        tracked = [i for i in idx if self.requires[i]]
        return tracked if grad_first and tracked else idx

    def shaped(self, fits: Any) -> list[int]:
        return [i for i in self.live(grad_first=False) if fits(self.values[i].shape)]

    # ------------------------------------------------------------------ accepting a step
    def gaps(self, step: Step, args: list[np.ndarray]) -> np.ndarray:
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

    def in_domain(self, step: Step, args: list[np.ndarray]) -> bool:
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

    def add(self, step: Step) -> bool:
        """Run ``step`` in numpy and keep it if it is valid; True when kept."""
        args = [self.values[a] for a in step.args]
        if any(bug(self, step, args) for bug in KNOWN_BUGS.values()):
            return False
        if not self.in_domain(step, args):
            return False
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # mean of an empty slice...
                value = np.asarray(REFERENCE[step.kind](args, step.params), dtype=np.float64)
        except (ValueError, IndexError):  # e.g. max of an empty axis: not a program
            return False
        if not (np.all(np.isfinite(value)) and np.all(np.abs(value) <= BOUND)):
            return False
        same = all(self.same[a] for a in step.args) and (
            step.kind in _SAME or (step.kind in _SAME_ON_GRID and all(map(_on_grid, args))))
        gaps = self.gaps(step, args)
        if np.any((gaps > 0) & (gaps < self.margin * (1 + np.abs(gaps)))):
            return False  # a near tie: engines may disagree on which side it is
        if np.any(gaps == 0) and not (self.edges and all(self.same[a] for a in step.args)):
            return False
        self.steps.append(step)
        if any(bug(self, step, args) for bug in KNOWN_SECOND_ORDER_BUGS.values()):
            self.second_order = False
        if step.kind in INPLACE or step.kind == "setitem":
            self.alive[step.args[0]] = False  # the tensor now holds the new value
        for a in step.args:
            self.consumed[a] = True
        self.values.append(value)
        self.same.append(same)
        self.requires.append(any(self.requires[a] for a in step.args))
        self.producer.append(step.kind)
        self.alive.append(True)
        self.consumed.append(False)
        return True

    def input(self, requires_grad: bool) -> None:
        self.values.append(self.array(self.choice(SHAPES, "input shape")))
        self.same.append(True)
        self.requires.append(requires_grad)
        self.producer.append("leaf" if requires_grad else "const")
        self.alive.append(True)
        self.consumed.append(False)

    # ------------------------------------------------------------------ the kinds of step
    def via(self, kind: str) -> str:
        return str(self.choice(list(VIA.get(kind, ("fn",))), "via"))

    def unary(self) -> None:
        kind = self.choice([*UNARY, "relu", "abs", "power_scalar", "scale"], "unary op")
        x = self.recent(self.live(), "x")
        params: dict[str, Any] = {}
        if kind == "power_scalar":
            params = {"p": self.choice(_POWERS, "exponent"), "side": "right"}
        elif kind == "scale":
            params = {"c": self.choice([2.0, -0.5, 0.0, 3.0], "c"),
                      "side": self.choice(["left", "right"], "side")}
        self.add(Step(kind, (x,), params, self.via(kind)))

    def binary(self) -> None:
        kind = self.choice([*BINARY, "where"], "binary op")
        a = self.recent(self.live(), "a")
        shape = self.values[a].shape
        b = self.recent(self.shaped(lambda s: _broadcasts(s, shape)), "b")  # may be a: a + a
        params: dict[str, Any] = {}
        if kind == "where":
            out = np.broadcast_shapes(shape, self.values[b].shape)
            rng = np.random.default_rng(self.integer(0, 2**32 - 1, "mask seed"))
            params = {"mask": rng.random(out) < 0.5}
        self.add(Step(kind, (a, b), params, self.via(kind)))

    def clip(self) -> None:
        lo, hi = self.choice(_CLIPS, "bounds")
        self.add(Step("clip", (self.recent(self.live(), "x"),), {"lo": lo, "hi": hi},
                      self.via("clip")))

    def reduction(self) -> None:
        kind = self.choice(REDUCTIONS, "reduction")
        x = self.recent(self.live(), "x")
        params = {"axis": self.axis(self.values[x].ndim),
                  "keepdims": self.draw(st.booleans(), label="keepdims")}
        if kind == "var":
            params["ddof"] = self.integer(0, 1, "ddof")
        self.add(Step(kind, (x,), params, "fn" if kind == "logsumexp" else self.via(kind)))

    def axis(self, ndim: int) -> Any:
        if ndim == 0:
            return None
        form = self.integer(0, 2, "axis form")
        if form == 0:
            return None
        first = self.integer(-ndim, ndim - 1, "axis")
        if form == 1 or ndim == 1:
            return first
        second = (first % ndim + self.integer(1, ndim - 1, "second axis")) % ndim
        return (first, second - ndim * self.integer(0, 1, "negative"))

    def softmax(self) -> None:
        candidates = self.shaped(lambda s: len(s) >= 1)
        if candidates:
            x = self.recent(candidates, "x")
            n = self.values[x].ndim
            self.add(Step(self.choice(["softmax", "log_softmax"], "fused"), (x,),
                          {"axis": self.integer(-n, n - 1, "axis")}))

    def matmul(self) -> None:
        candidates = self.shaped(lambda s: len(s) >= 1)
        if not candidates:
            return
        x = self.recent(candidates, "x")
        shape = self.values[x].shape
        partners = self.shaped(lambda s: _matmul_fits(shape, s))
        if partners and self.draw(st.booleans(), label="matmul a value"):
            self.add(Step("matmul", (x, self.recent(partners, "y")), {"side": "right"},
                          self.via("matmul")))
            return
        side = self.choice(["right", "left"], "side")
        n = shape[-1] if side == "right" else shape[-2 if len(shape) > 1 else 0]
        k = self.integer(0, 3, "k")
        const = self.array((n, k) if k else (n,)) if side == "right" else self.array(
            (k, n) if k else (n,))
        self.add(Step("matmul", (x,), {"side": side, "const": const}, self.via("matmul")))

    def reshape_like(self) -> None:
        kind = self.choice(["reshape", "transpose", "expand_dims", "getitem", "getitem"],
                           "shape op")
        x = self.recent(self.live(), "x")
        shape = self.values[x].shape
        if kind == "reshape":
            params: dict[str, Any] = {"shape": self.new_shape(shape)}
        elif kind == "transpose":
            perm = self.draw(st.permutations(range(len(shape))), label="perm")
            params = {"axes": None if self.draw(st.booleans(), label="reverse") else tuple(perm)}
        elif kind == "expand_dims":
            params = {"axis": self.integer(-len(shape) - 1, len(shape), "axis")}
        else:
            params = {"index": self.index(shape, for_setitem=False)}
        self.add(Step(kind, (x,), params, "method" if kind == "getitem" and self.draw(
            st.booleans(), label="x[i]") else self.via(kind)))

    def new_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        size = int(np.prod(shape))
        if size == 0:
            return self.choice([(0,), (0, 2), (2, 0, 1)], "empty shape")
        divisors = [d for d in range(1, size + 1) if size % d == 0]
        first = self.choice(divisors, "first dim")
        rest = size // first
        second = self.choice([d for d in divisors if rest % d == 0], "second dim")
        dims = [first, second, rest // second]
        dims = dims[: self.integer(1, 3, "rank")]
        dims[-1] *= size // int(np.prod(dims))
        if self.draw(st.booleans(), label="-1"):
            dims[self.integer(0, len(dims) - 1, "where -1")] = -1
        return tuple(dims)

    def join(self) -> None:
        kind = self.choice(["concatenate", "stack"], "join")
        x = self.recent(self.live(), "x")
        shape = self.values[x].shape
        if kind == "concatenate":
            if not shape:
                return
            axis = self.integer(-len(shape), len(shape) - 1, "axis")
            a = axis % len(shape)
            fits = self.shaped(lambda s: len(s) == len(shape) and all(
                d == e for j, (d, e) in enumerate(zip(s, shape)) if j != a))
        else:
            axis = self.integer(-len(shape) - 1, len(shape), "axis")
            fits = self.shaped(lambda s: s == shape)
        self.add(Step(kind, (x, self.recent(fits, "y")), {"axis": axis}, self.via(kind)))

    def index(self, shape: tuple[int, ...], for_setitem: bool) -> Any:
        """A numpy index for an array of ``shape``: basic, integer arrays, boolean masks."""
        if not shape:
            return self.choice([(), None] if not for_setitem else [()], "0-d index")
        n = shape[0]
        rng = np.random.default_rng(self.integer(0, 2**32 - 1, "index seed"))
        forms = ["slice", "mask", "full mask", "last"] + (["int", "array"] if n else [])
        if len(shape) > 1 and shape[1]:
            forms.append("second axis array")
        if not for_setitem:
            forms.append("newaxis")
        form = self.choice(forms, "index form")
        if form == "int":
            return self.integer(-n, n - 1, "i")
        if form == "slice":
            start, stop = self.integer(-n - 1, n + 1, "start"), self.integer(-n - 1, n + 1, "stop")
            step = self.choice([1, 2] if for_setitem else [1, 2, -1], "step")
            return slice(start, stop, step)
        if form == "array":
            k = self.integer(0, 4, "count")
            if for_setitem:  # repeated targets would make the assignment order matter
                return rng.permutation(n)[: min(k, n)] - n * self.integer(0, 1, "negative")
            return rng.integers(-n, n, size=k)
        if form == "second axis array":
            m = shape[1]
            return (slice(None), rng.permutation(m)[: self.integer(1, m, "count")]
                    if for_setitem else rng.integers(-m, m, size=self.integer(1, 4, "count")))
        if form == "mask":
            return rng.random(n) < 0.5
        if form == "full mask":
            return rng.random(shape) < 0.5
        if form == "last":
            return (Ellipsis, slice(0, 1)) if shape[-1] else (Ellipsis, slice(None))
        return (None, slice(0, 2))

    # ------------------------------------------------------------------ in place, grads
    def targets(self) -> list[int]:
        """Values PyTorch lets us modify in place: not leaves, not views, not saved by the
        op that made them, not yet used by another op, not retained."""
        return [i for i in self.live(grad_first=False) if self.producer[i] in INPLACE_TARGETS
                and not self.consumed[i] and i not in self.retained]

    def update(self) -> None:
        targets = self.targets()
        if not targets:
            return
        t = self.recent(targets, "target")
        shape = self.values[t].shape
        kind = self.choice([*INPLACE, "setitem"], "in-place op")
        params: dict[str, Any] = {}
        if kind == "setitem":
            params["index"] = self.index(shape, for_setitem=True)
            shape = np.empty(shape)[params["index"]].shape
        # t += t is allowed (PyTorch accepts it), t *= t is not (mul_ saves the old t)
        operands = self.shaped(lambda s: _broadcasts(s, shape)
                               and np.broadcast_shapes(s, shape) == shape)
        operands = [u for u in operands if u != t or kind in ("iadd", "isub")]
        if operands and self.integer(0, 3, "scalar operand"):
            self.add(Step(kind, (t, self.recent(operands, "operand")), params))
        else:
            params["c"] = self.choice([0.5, -2.0, 0.0] if kind != "idiv" else [0.5, -2.0], "c")
            self.add(Step(kind, (t,), params))

    def retain(self) -> None:
        candidates = [i for i in self.live() if self.requires[i] and self.producer[i] != "leaf"
                      and i not in self.retained]
        if candidates:
            step = Step("retain", (self.recent(candidates, "retained"),))
            if not any(bug(self, step, []) for bug in KNOWN_BUGS.values()):
                self.retained.add(step.args[0])
                self.steps.append(step)

    def backward(self, retain_graph: bool = True, root: int | None = None) -> int | None:
        roots = [i for i in self.live() if self.requires[i]]
        if roots:
            root = self.recent(roots, "root") if root is None else root
            seed = np.random.default_rng(self.integer(0, 2**32 - 1, "seed")).normal(
                size=self.values[root].shape)
            self.steps.append(Step("backward", (root,), {"seed": seed,
                                                          "retain_graph": retain_graph}))
        return root

    def zero_grad(self) -> None:
        candidates = [i for i, p in enumerate(self.producer) if p == "leaf"] + sorted(
            self.retained)
        if candidates:
            self.steps.append(Step("zero_grad", (self.choice(candidates, "zeroed"),)))

    def program(self, n_leaves: int, n_consts: int) -> Program:
        requires = [True] * n_leaves + [False] * n_consts
        inputs = self.values[: len(requires)]
        roots = [i for i in self.live() if self.requires[i]]
        program = Program(list(inputs), requires, self.steps)
        if roots and self.second_order:
            root = self.recent(roots, "hvp root")
            rng = np.random.default_rng(self.integer(0, 2**32 - 1, "hvp seed"))
            program.hvp_root = root
            program.hvp_seed = rng.normal(size=self.values[root].shape)
            program.hvp_direction = [rng.normal(size=inputs[i].shape) for i in program.leaves]
        return program


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _matmul_fits(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    if not a or not b or a[-1] != b[-2 if len(b) > 1 else 0]:
        return False
    return _broadcasts(a[:-2], b[:-2])


@st.composite
def programs(draw: Any, edges: bool, inplace: bool, max_steps: int = 14) -> Program:
    """Draw a :class:`Program`.

    Parameters
    ----------
    edges : bool
        Allow inputs exactly on kinks and ties (for a PyTorch reference, not finite
        differences).
    inplace : bool
        Draw in-place updates (``t += u``, ``t *= u``, ``t[idx] = u``).
    """
    b = _Builder(draw, edges, inplace)
    n_leaves = b.integer(1, 3, "leaves")
    n_consts = b.integer(0, 1, "constants")
    for k in range(n_leaves + n_consts):
        b.input(requires_grad=k < n_leaves)
    kinds = [b.unary, b.unary, b.binary, b.binary, b.clip, b.reduction, b.reduction,
             b.softmax, b.matmul, b.reshape_like, b.reshape_like, b.join, b.retain,
             b.retain, b.backward, b.zero_grad] + [b.update, b.update, b.update] * inplace
    for _ in range(b.integer(1, max_steps, "steps")):
        b.choice(kinds, "step kind")()
    # every program ends by walking a graph twice (the gradients accumulate), then freeing it
    newest = [i for i in b.live() if b.requires[i]][-1:]
    b.backward(retain_graph=False, root=b.backward(True, newest[0] if newest else None))
    return b.program(n_leaves, n_consts)
