"""Property-based fuzzing of the engine: random graphs, checked against finite differences.

A hypothesis ``RuleBasedStateMachine`` grows a graph from a few float64 leaves with ops drawn
from the registry's elementwise, reduction and shape families (the smooth ones: their
``Domain`` has no kinks to avoid and covers the whole default range), on broadcastable
shapes, reusing nodes (fan-out, ``a + a``), cutting the graph with ``detach()`` and
``no_grad()``, calling ``backward`` on random roots with random cotangents (with and without
``retain_graph``) and ``zero_grad``.

Every recorded computation is also kept as a recipe that is replayed in plain numpy (each
op's numpy ``reference``), so after each ``backward`` the accumulated ``.grad`` of every leaf
is compared with a central finite-difference gradient of the replay, accumulated the same
way. Also checked after each step: no gradient buffer shares memory with another gradient, a
tensor's data or a cotangent the test passed in, and walking a freed graph raises
``GraphFreedError`` without touching any gradient.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import tensorgraph as tg
from tensorgraph.errors import GraphFreedError
from tensorgraph.ops._base import REGISTRY, Op


def _smooth(op: type[Op]) -> bool:
    d = op.domain
    return not d.avoid and not d.ranges and not d.distinct and d.low <= -3 and d.high >= 3


def _family(module: str) -> list[type[Op]]:
    return sorted(
        (op for op in REGISTRY.values()
         if op.__module__ == f"tensorgraph.ops.{module}" and _smooth(op)),
        key=lambda op: op.name,
    )


ELEMENTWISE = _family("elementwise")
REDUCTIONS = _family("reduction")
# the shape family spans the modules ops/shape.py was split into (one input, or a join)
SHAPE_OPS = [op for module in ("shape", "join", "indexing", "reorder") for op in _family(module)
             if op.domain.params is not None
             and (op.domain.nargs == 1 or op.domain.shapes in ("concat", "stack"))]

LEAF_SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1), (2, 2, 1)]
BOUND = 8.0  # values stay in [-BOUND, BOUND] so finite differences stay accurate
MAX_RECORDS = 24
MAX_CONSTANTS = 3  # tensors outside the graph (constants, detached, made under no_grad)
#: one op in five runs under no_grad (its result is then a constant of the graph)
GRAD_OFF = st.integers(0, 4).map(lambda k: k == 0)


def test_the_families_are_not_empty() -> None:
    names = {op.name for op in ELEMENTWISE + REDUCTIONS + SHAPE_OPS}
    assert {"add", "multiply", "tanh", "where"} <= names
    assert {"sum", "mean", "logsumexp"} <= names
    assert {"reshape", "transpose", "broadcast_to", "getitem", "concatenate"} <= names


@dataclass
class Record:
    """A tensor of the fuzzed graph and how to recompute it in plain numpy."""

    tensor: tg.Tensor
    leaf: int | None = None  # index of the leaf it is
    const: np.ndarray | None = None  # a value outside the graph (detach, no_grad, constant)
    op: type[Op] | None = None
    inputs: tuple[Any, ...] = ()  # record indices (int) or raw arrays (where's condition)
    params: dict[str, Any] = field(default_factory=dict)


class GraphMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[Record] = []
        self.leaves: list[tg.Tensor] = []
        self.expected: list[np.ndarray | None] = []  # reference accumulated gradients
        self.freed: set[int] = set()  # records whose node a backward has freed
        self.seeds: list[np.ndarray] = []
        self.backwards = 0

    # ------------------------------------------------------------------ helpers
    def _add(self, record: Record) -> None:
        value = record.tensor.numpy()
        if not (np.isfinite(value).all() and np.abs(value).max(initial=0.0) <= BOUND):
            return  # too large for accurate finite differences: the step adds nothing
        if not record.tensor.requires_grad and record.leaf is None:
            # no graph behind it (made from constants, under no_grad, or detached)
            record = Record(record.tensor, const=value.copy())
        self.records.append(record)

    def _replay(self, i: int, leaf_values: list[np.ndarray], memo: dict[int, Any]) -> Any:
        if i in memo:
            return memo[i]
        r = self.records[i]
        if r.leaf is not None:
            value = leaf_values[r.leaf]
        elif r.const is not None:
            value = r.const
        else:
            assert r.op is not None
            args = [self._replay(a, leaf_values, memo) if isinstance(a, int) else a
                    for a in r.inputs]
            fn = r.op.reference if r.op.reference is not None else r.op.forward
            value = np.asarray(fn(*args, **r.params), dtype=np.float64)
        memo[i] = value
        return value

    def _ancestry(self, i: int) -> tuple[set[int], set[int]]:
        """(leaf indices, op-record indices) reachable from record i along gradient edges."""
        leaves: set[int] = set()
        ops: set[int] = set()
        stack = [i]
        seen: set[int] = set()
        while stack:
            j = stack.pop()
            if j in seen:
                continue
            seen.add(j)
            r = self.records[j]
            if r.leaf is not None:
                leaves.add(r.leaf)
            elif r.const is None:
                ops.add(j)
                assert r.op is not None
                stack.extend(a for k, a in enumerate(r.inputs)
                             if isinstance(a, int) and k not in r.op.nondiff)
        return leaves, ops

    def _finite_difference(self, root: int, seed: np.ndarray, leaf: int) -> np.ndarray:
        base = [lf.numpy().copy() for lf in self.leaves]
        grad = np.zeros_like(base[leaf])
        flat = grad.reshape(-1)
        for k in range(flat.size):
            values = []
            for sign in (1.0, -1.0):
                point = [b.copy() for b in base]
                h = 1e-6 * max(1.0, abs(float(point[leaf].reshape(-1)[k])))
                point[leaf].reshape(-1)[k] += sign * h
                values.append(float(np.sum(seed * self._replay(root, point, {}))))
            flat[k] = (values[0] - values[1]) / (2 * h)
        return grad

    # ------------------------------------------------------------------ rules
    @precondition(lambda self: len(self.leaves) < 3)
    @rule(shape=st.sampled_from(LEAF_SHAPES), seed=st.integers(0, 2**32 - 1))
    def leaf(self, shape: tuple[int, ...], seed: int) -> None:
        values = np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)
        t = tg.tensor(values, requires_grad=True)
        self.records.append(Record(t, leaf=len(self.leaves)))
        self.leaves.append(t)
        self.expected.append(None)

    @precondition(lambda self: self._constants() < MAX_CONSTANTS)
    @rule(shape=st.sampled_from(LEAF_SHAPES), seed=st.integers(0, 2**32 - 1))
    def constant(self, shape: tuple[int, ...], seed: int) -> None:
        values = np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)
        self._add(Record(tg.tensor(values)))

    @precondition(lambda self: len(self.leaves) > 0 and len(self.records) < MAX_RECORDS)
    @rule(data=st.data(), op=st.sampled_from(ELEMENTWISE), grad_off=GRAD_OFF)
    def elementwise(self, data: st.DataObject, op: type[Op], grad_off: bool) -> None:
        first = self._recent(data, self._tracked(), "first")
        inputs: list[Any] = [first]
        shape = self.records[first].tensor.shape
        for _ in range(op.domain.nargs - 1 if op.domain.shapes != "where" else 1):
            fits = [i for i, r in enumerate(self.records)
                    if _broadcasts(shape, r.tensor.shape)]
            other = self._recent(data, fits, "other")  # may be first: a + a
            inputs.append(other)
            shape = np.broadcast_shapes(shape, self.records[other].tensor.shape)
        if op.domain.shapes == "where":
            seed = data.draw(st.integers(0, 2**32 - 1), label="condition")
            condition = np.random.default_rng(seed).random(shape) < 0.5
            inputs.insert(0, condition)
        params = _draw_params(data, op, [np.shape(self._value(a)) for a in inputs])
        if params is not None:
            self._apply(op, inputs, params, grad_off)

    @precondition(lambda self: len(self.leaves) > 0 and len(self.records) < MAX_RECORDS)
    @rule(data=st.data(), op=st.sampled_from(REDUCTIONS + SHAPE_OPS), grad_off=GRAD_OFF)
    def reduce_or_reshape(self, data: st.DataObject, op: type[Op], grad_off: bool) -> None:
        first = self._recent(data, self._tracked(), "input")
        shape = self.records[first].tensor.shape
        if len(shape) < op.domain.min_rank:
            return
        inputs: list[Any] = [first]
        if op.domain.shapes in ("concat", "stack"):
            same = [i for i, r in enumerate(self.records) if r.tensor.shape == shape]
            inputs.append(self._recent(data, same, "second"))
        params = _draw_params(data, op, [shape] * len(inputs))
        if params is not None:
            self._apply(op, inputs, params, grad_off)

    def _tracked(self) -> list[int]:
        """Records with a graph behind them (all records when there are none)."""
        return [i for i, r in enumerate(self.records) if r.tensor.requires_grad] or list(
            range(len(self.records))
        )

    def _recent(self, data: st.DataObject, candidates: list[int], label: str) -> int:
        """Draw one of ``candidates`` (record indices), favouring the newest: graphs grow
        deep instead of wide, and shrinking moves towards the latest record."""
        back = data.draw(st.integers(0, len(candidates) - 1), label=label)
        return candidates[len(candidates) - 1 - back]

    def _value(self, a: Any) -> Any:
        return self.records[a].tensor.numpy() if isinstance(a, int) else a

    def _apply(self, op: type[Op], inputs: list[Any], params: dict[str, Any],
               grad_off: bool) -> None:
        args = [self.records[a].tensor if isinstance(a, int) else a for a in inputs]
        with tg.set_grad_enabled(not grad_off):
            out = op.apply(*args, **params)
        self._add(Record(out, op=op, inputs=tuple(inputs), params=params))

    @precondition(lambda self: len(self.records) > 0 and self._constants() < MAX_CONSTANTS)
    @rule(data=st.data())
    def detach(self, data: st.DataObject) -> None:
        i = self._recent(data, self._tracked(), "detached")
        self._add(Record(self.records[i].tensor.detach()))

    def _constants(self) -> int:
        return sum(r.const is not None for r in self.records)

    @precondition(lambda self: any(r.tensor.requires_grad for r in self.records))
    @rule(data=st.data(), retain=st.booleans())
    def backward(self, data: st.DataObject, retain: bool) -> None:
        roots = [i for i, r in enumerate(self.records) if r.tensor.requires_grad]
        # a graph is more interesting than a leaf: prefer op results when there are any
        roots = [i for i in roots if self.records[i].op is not None] or roots
        root = self._recent(data, roots, "root")
        tensor = self.records[root].tensor
        seed_value = data.draw(st.integers(0, 2**32 - 1), label="seed")
        seed = np.random.default_rng(seed_value).normal(size=tensor.shape)
        self.seeds.append(seed)
        _, ops = self._ancestry(root)
        before = [None if lf.grad is None else lf.grad.numpy().copy() for lf in self.leaves]
        if ops & self.freed:
            try:
                tensor.backward(seed, retain_graph=retain)
            except GraphFreedError as err:
                assert "retain_graph=True" in str(err)
            else:  # pragma: no cover - the failure this test exists to find
                raise AssertionError("backward through a freed graph did not raise")
            after = [None if lf.grad is None else lf.grad.numpy() for lf in self.leaves]
            for b, a in zip(before, after):
                assert (b is None and a is None) or np.array_equal(b, a)
            return
        self._backward_and_check(root, seed, retain)

    def _backward_and_check(self, root: int, seed: np.ndarray, retain: bool) -> None:
        leaves, ops = self._ancestry(root)
        self.records[root].tensor.backward(seed, retain_graph=retain)
        self.backwards += 1
        if not retain:
            self.freed |= ops
        for leaf in leaves:
            fd = self._finite_difference(root, seed, leaf)
            previous = self.expected[leaf]
            self.expected[leaf] = fd if previous is None else previous + fd
        self._check_gradients()

    def teardown(self) -> None:
        # every program ends with one checked backward from its newest live graph
        live = [i for i, r in enumerate(self.records)
                if r.op is not None and r.const is None and not (self._ancestry(i)[1] & self.freed)]
        if live:
            seed = np.random.default_rng(len(self.records)).normal(
                size=self.records[live[-1]].tensor.shape)
            self.seeds.append(seed)
            self._backward_and_check(live[-1], seed, retain=False)
            self.gradients_alias_nothing()

    @precondition(lambda self: len(self.leaves) > 0)
    @rule(data=st.data())
    def zero_grad(self, data: st.DataObject) -> None:
        i = data.draw(st.integers(0, len(self.leaves) - 1))
        self.leaves[i].zero_grad()
        self.expected[i] = None

    # ------------------------------------------------------------------ checks
    def _check_gradients(self) -> None:
        for i, (lf, expected) in enumerate(zip(self.leaves, self.expected)):
            if expected is None:
                assert lf.grad is None, f"leaf {i} got a gradient although none flowed to it"
                continue
            assert lf.grad is not None, f"leaf {i} got no gradient"
            got = lf.grad.numpy()
            assert got.shape == lf.shape and got.dtype == lf.dtype
            scale = 1.0 + np.abs(expected).max(initial=0.0)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6 * scale,
                                       err_msg=f"leaf {i}")

    @invariant()
    def gradients_alias_nothing(self) -> None:
        grads = [lf.grad.numpy() for lf in self.leaves if lf.grad is not None]
        others = [r.tensor.numpy() for r in self.records] + self.seeds
        for k, g in enumerate(grads):
            for h in grads[k + 1:]:
                assert not np.shares_memory(g, h), "two leaves share one gradient buffer"
            for o in others:
                assert not np.shares_memory(g, o), "a gradient aliases data or a cotangent"


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _draw_params(
    data: st.DataObject, op: type[Op], shapes: list[tuple[int, ...]]
) -> dict[str, Any] | None:
    if op.domain.params is None:
        return {}
    choices = op.domain.params(shapes)
    if not choices:
        return None
    return dict(data.draw(st.sampled_from(choices), label=f"{op.name} params"))


# The loaded profile (tests/conftest.py: dev, ci, thorough) decides the effort. One example
# is a whole program of up to 50 steps and costs about 0.1 s, so the profile's max_examples
# is tripled: ci then runs 90 programs in about 10-20 s, thorough 1200 in a few minutes.
GraphMachine.TestCase.settings = settings(
    settings.default,
    max_examples=3 * settings.default.max_examples,
    stateful_step_count=50,
)
TestGraphMachine = GraphMachine.TestCase
