"""The hypothesis strategy :func:`programs`: random programs built step by step in numpy.

Each drawn step is run at once in numpy (:data:`_programs.REFERENCE`) and kept only when
``_acceptance`` accepts it (a valid, moderate value, clear of kinks and ties or exactly on
one, away from the engine's known bugs), so shrinking works on valid programs only.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ._acceptance import bit_identical, gaps, in_domain, known_bug, known_second_order_bug
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

_CLIPS = [(-1.0, 1.0), (None, 0.5), (0.0, None), (-0.5, 0.5)]
_POWERS = [2.0, 3.0, -1.0, 0.5, 1.5, 0.0, 1.0]


class _Builder:
    """The state of a program being drawn: its values and what may be done with them."""

    def __init__(self, draw: Any, edges: bool) -> None:
        self.draw = draw
        self.edges = edges
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
    def add(self, step: Step) -> bool:
        """Run ``step`` in numpy and keep it if it is valid; True when kept."""
        args = [self.values[a] for a in step.args]
        if known_bug(self, step, args) or not in_domain(step, args):
            return False
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # mean of an empty slice...
                value = np.asarray(REFERENCE[step.kind](args, step.params), dtype=np.float64)
        except (ValueError, IndexError):  # e.g. max of an empty axis: not a program
            return False
        if not (np.all(np.isfinite(value)) and np.all(np.abs(value) <= BOUND)):
            return False
        identical = all(self.same[a] for a in step.args)
        distances = gaps(step, args)
        if np.any((distances > 0) & (distances < self.margin * (1 + np.abs(distances)))):
            return False  # a near tie: engines may disagree on which side it is
        if np.any(distances == 0) and not (self.edges and identical):
            return False
        self.steps.append(step)
        if known_second_order_bug(self, step, args):
            self.second_order = False
        if step.kind in INPLACE or step.kind in ("setitem", "refresh"):
            self.alive[step.args[0]] = False  # the tensor now holds the new value
        for a in step.args:
            self.consumed[a] = True
        self.values.append(value)
        self.same.append(bit_identical(step, args, identical))
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

    def view_update(self) -> None:
        """``v = b[slice]`` (or ``b.T``), then ``v op= u``: in PyTorch the write reaches ``b``
        and ``b``'s gradient sees it. A "refresh" step then names ``b``'s new contents."""
        bases = [i for i in self.targets() if self.producer[i] != "const"]
        if not bases:
            return
        b = self.recent(bases, "base")
        shape = self.values[b].shape
        if len(shape) >= 2 and self.draw(st.booleans(), label="transpose"):
            view = Step("transpose", (b,), {"axes": None})
        elif shape:
            n = shape[-1]
            index = slice(self.integer(0, n, "start"), self.integer(0, n, "stop"),
                          self.integer(1, 2, "step"))
            view = Step("getitem", (b,), {"index": (Ellipsis, index) if self.draw(
                st.booleans(), label="last axis") else index})
        else:
            return
        if not self.add(view):
            return
        v = len(self.values) - 1
        self.producer[v] = "view"
        shape = self.values[v].shape
        kind = self.choice(INPLACE, "in-place op")
        operands = [u for u in self.shaped(lambda s: _broadcasts(s, shape)
                                          and np.broadcast_shapes(s, shape) == shape)
                    if u not in (v, b)]
        if operands and self.integer(0, 3, "scalar operand"):
            step = Step(kind, (v, self.recent(operands, "operand")), {})
        else:
            step = Step(kind, (v,), {"c": self.choice([0.5, -2.0], "c")})
        if self.add(step):
            self.add(Step("refresh", (b, len(self.values) - 1),
                          {"view": view.kind, **view.params}))
            self.producer[-2] = "updated view"  # neither may be updated again
            self.producer[-1] = "updated base"

    def retain(self) -> None:
        candidates = [i for i in self.live() if self.requires[i] and self.producer[i] != "leaf"
                      and i not in self.retained]
        if candidates:
            step = Step("retain", (self.recent(candidates, "retained"),))
            if not known_bug(self, step, []):
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
def programs(draw: Any, edges: bool, inplace: bool = False, views: bool = False,
             max_steps: int = 14) -> Program:
    """Draw a :class:`Program`.

    Parameters
    ----------
    edges : bool
        Allow inputs exactly on kinks and ties (for a PyTorch reference, not finite
        differences).
    inplace : bool
        Draw in-place updates (``t += u``, ``t *= u``, ``t[idx] = u``).
    views : bool
        Draw in-place updates of views (``v = t[1:]; v += u``), which reach their base.
    max_steps : int
        The most steps before the final two ``backward`` calls.
    """
    b = _Builder(draw, edges)
    n_leaves = b.integer(1, 3, "leaves")
    n_consts = b.integer(0, 1, "constants")
    for k in range(n_leaves + n_consts):
        b.input(requires_grad=k < n_leaves)
    kinds = [b.unary, b.unary, b.binary, b.binary, b.clip, b.reduction, b.reduction,
             b.softmax, b.matmul, b.reshape_like, b.reshape_like, b.join, b.retain,
             b.retain, b.backward, b.zero_grad]
    kinds += [b.update, b.update, b.update] * inplace + [b.view_update, b.view_update] * views
    for _ in range(b.integer(1, max_steps, "steps")):
        b.choice(kinds, "step kind")()
    # every program ends by walking a graph twice (the gradients accumulate), then freeing it
    newest = [i for i in b.live() if b.requires[i]][-1:]
    b.backward(retain_graph=False, root=b.backward(True, newest[0] if newest else None))
    return b.program(n_leaves, n_consts)
