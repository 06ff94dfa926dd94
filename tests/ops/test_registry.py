"""The op registry drives these tests: every registered op is checked without anyone writing
a test for it.

- its VJP against central finite differences (float64, random upstream gradient, read-only
  inputs, shapes with broadcasting, 0-d arrays and size-1 dimensions, from its Domain);
- its second derivatives (the VJP differentiated through ``create_graph=True``), when its
  Domain says the VJP is differentiable;
- its forward against its numpy ``reference``, in float32 and float64 (values and dtype);
- its completeness: Domain, docstring math, doctest, reference and a public function;

and at the edges its Domain names, drawn on purpose in every example, not by luck:

- exact edge values where the op is smooth (zeros, ones, ``x ** 0`` at 0, ``prod`` of a
  slice with zeros): both orders against finite differences;
- kinks and ties: the VJP (ordinary and ``create_graph=True``) equals the documented
  convention, computed from the Domain's declaration and the op's reference, never its VJP;
- empty arrays and empty axes: results and gradients are arrays of the right shape;
- inputs that are transposed, strided, reversed or read-only views: the same results and
  gradients as contiguous ones.

The parametrisation is built at collection time from REGISTRY after every tensorgraph module
is imported, so an op registered anywhere in the package is picked up automatically.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tensorgraph as tg
from tensorgraph.autograd import gradients
from tensorgraph.ops import REGISTRY, Domain, Op
from tensorgraph.testing import (
    check_conventions,
    edge_kinds,
    gradcheck,
    gradgradcheck,
    load_all_ops,
)
from tensorgraph.testing._edges import as_layout
from tensorgraph.testing.registry_check import draw_case
from tensorgraph.testing.strategies import float_dtypes, op_inputs

load_all_ops()
OPS = sorted(REGISTRY)
SECOND_ORDER = [name for name in OPS if REGISTRY[name].domain.second_order]


def _ops_with(kind: str, second_order: bool = False) -> list[str]:
    return [name for name in OPS if kind in edge_kinds(REGISTRY[name].domain)
            and (REGISTRY[name].domain.second_order or not second_order)]


EDGE_OPS = _ops_with("edges")
EDGE_SECOND_ORDER = _ops_with("edges", second_order=True)
CONVENTIONS = [(name, kind) for kind in ("kinks", "ties") for name in _ops_with(kind)]
EMPTY_OPS = _ops_with("empty")

#: Registered ops that deliberately have no public function of their own.
INTERNAL_OPS: set[str] = set()  # scatter_add, getitem's adjoint, is public (tg.scatter_add)

#: The ops issue 2 asks for; guards against an import that silently empties the registry.
REQUIRED_OPS = {
    "add", "subtract", "multiply", "divide", "negative", "power", "exp", "log", "log1p", "sqrt",
    "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu", "softplus", "maximum",
    "minimum", "clip", "where", "sum", "mean", "var", "max", "min", "logsumexp", "prod",
    "reshape", "transpose", "broadcast_to", "concatenate", "stack", "getitem", "pad", "matmul",
    "softmax", "log_softmax",
}  # fmt: skip

seeds = st.integers(0, 2**32 - 1)


def _read_only(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    x.flags.writeable = False
    return x


# --------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("name", OPS)
@given(data=st.data())
def test_vjp_matches_finite_differences(name: str, data: st.DataObject) -> None:
    case = data.draw(op_inputs(REGISTRY[name]), label="case")
    seed = data.draw(seeds, label="seed")
    assert gradcheck(case.call, *case.inputs, nondiff=case.nondiff, seed=seed)


@pytest.mark.parametrize("name", SECOND_ORDER)
@given(data=st.data())
def test_second_derivatives_match_finite_differences(name: str, data: st.DataObject) -> None:
    case = data.draw(op_inputs(REGISTRY[name]), label="case")
    seed = data.draw(seeds, label="seed")
    assert gradgradcheck(case.call, *case.inputs, nondiff=case.nondiff, seed=seed)


# --------------------------------------------------------------------------- forward
FORWARD_TOLERANCE = {np.dtype(np.float64): (1e-10, 1e-12), np.dtype(np.float32): (2e-5, 1e-6)}


@pytest.mark.parametrize("name", OPS)
@given(data=st.data())
def test_forward_matches_reference(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    assert op.reference is not None, f"{name} has no reference (see test_op_is_complete)"
    dtype = data.draw(float_dtypes(), label="dtype")
    case = data.draw(op_inputs(op, dtype), label="case")
    inputs = [_read_only(x) for x in case.inputs]
    out = case.call(*inputs)
    expected = np.asarray(op.reference(*inputs, **case.params))
    assert isinstance(out, tg.Tensor)
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype
    rtol, atol = FORWARD_TOLERANCE[dtype]
    np.testing.assert_allclose(out.numpy(), expected, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- edges
@pytest.mark.parametrize("name", EDGE_OPS)
@given(data=st.data())
def test_vjp_matches_finite_differences_at_edges(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    case = data.draw(op_inputs(op, edge="edges"), label="case")
    edges = op.domain.edge_values()
    assert any(np.isin(x, edges.get(i, ())).any() for i, x in enumerate(case.inputs)) or \
        op.domain.edge_constants, f"{case!r} holds no edge value"
    inputs = [_read_only(x) for x in case.inputs]
    out = case.call(*inputs)
    expected = np.asarray(op.reference(*inputs, **case.params))  # type: ignore[misc]
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
    seed = data.draw(seeds, label="seed")
    assert gradcheck(case.call, *case.inputs, nondiff=case.nondiff, seed=seed)


@pytest.mark.parametrize("name", EDGE_SECOND_ORDER)
@given(data=st.data())
def test_second_derivatives_match_finite_differences_at_edges(
    name: str, data: st.DataObject
) -> None:
    case = data.draw(op_inputs(REGISTRY[name], edge="edges"), label="case")
    seed = data.draw(seeds, label="seed")
    assert gradgradcheck(case.call, *case.inputs, nondiff=case.nondiff, seed=seed)


def _holds_its_edge(case: Any) -> bool:
    """The drawn case really sits on a kink or a tie (what the check below is about)."""
    x = case.inputs[-1] if case.op.domain.shapes == "where" else case.inputs[0]
    if case.edge == "kinks":
        return any((x == point).any() for point, _ in case.op.domain.kink_points(case.params))
    if case.op.domain.shapes == "broadcast" and len(case.inputs) > 1:
        return bool(np.any(np.broadcast_to(case.inputs[0], np.broadcast_shapes(
            *(a.shape for a in case.inputs))) == case.inputs[1]))
    reduced = case.params.get("axis", tuple(range(x.ndim)))
    kept = tuple(d for d in range(x.ndim) if d not in reduced)
    slices = np.moveaxis(x, kept, tuple(range(len(kept)))).reshape(
        (*(x.shape[d] for d in kept), -1))
    return any(np.unique(row).size < row.size for row in slices.reshape(-1, slices.shape[-1]))


@pytest.mark.parametrize(("name", "kind"), CONVENTIONS)
@given(data=st.data())
def test_vjp_at_kinks_and_ties_is_the_documented_convention(
    name: str, kind: str, data: st.DataObject
) -> None:
    case = data.draw(op_inputs(REGISTRY[name], edge=kind), label="case")
    assert case.inputs[0].size == 0 or _holds_its_edge(case), f"{case!r} is not on a {kind}"
    result = check_conventions(case, seed=data.draw(seeds, label="seed"))
    assert result.passed, result.message


@pytest.mark.parametrize("name", EMPTY_OPS)
@given(data=st.data())
def test_empty_inputs_give_results_and_gradients_of_the_right_shape(
    name: str, data: st.DataObject
) -> None:
    op = REGISTRY[name]
    case = data.draw(op_inputs(op, edge="empty"), label="case")
    assert any(x.size == 0 for x in case.inputs)
    inputs = [_read_only(x) for x in case.inputs]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # numpy's own warnings for a reduction over nothing (the mean of nothing is nan)
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.asarray(op.reference(*inputs, **case.params))  # type: ignore[misc]
        out = case.call(*inputs)
        assert out.shape == expected.shape and out.dtype == expected.dtype
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10, atol=1e-12)
        # the gradient of every input has the input's shape (gradcheck refuses any other)
        # and its values agree with finite differences (zeros for a non-empty input whose
        # every output is empty)
        seed = data.draw(seeds, label="seed")
        assert gradcheck(case.call, *case.inputs, nondiff=case.nondiff, seed=seed)
        if op.domain.second_order:  # the sum of nothing is as smooth as any other sum
            assert gradgradcheck(case.call, *case.inputs, nondiff=case.nondiff, seed=seed)


def _through(route: str, x: np.ndarray) -> tuple[tg.Tensor, tg.Tensor]:
    """A leaf, and a Tensor with ``x``'s values that is a view of it along ``route``: what
    an op receives from a transpose, a strided or reversed slice, or a (read-only)
    broadcast earlier in the graph."""
    every_other = tuple(slice(None, None, 2) for _ in x.shape)
    flip = tuple(slice(None, None, -1) for _ in x.shape)
    if route == "transposed":
        leaf = tg.tensor(x.T.copy(order="C"), requires_grad=True)
        return leaf, tg.transpose(leaf)
    if route == "strided":
        base = np.zeros(tuple(2 * n for n in x.shape), dtype=x.dtype)
        base[every_other] = x
        leaf = tg.tensor(base, requires_grad=True)
        return leaf, leaf[every_other]
    if route == "reversed":
        leaf = tg.tensor(x[flip].copy(order="C"), requires_grad=True)
        return leaf, leaf[flip]
    leaf = tg.tensor(x, requires_grad=True)
    return leaf, tg.broadcast_to(leaf, x.shape)


ROUTES = ["transposed", "strided", "reversed", "broadcast"]


@pytest.mark.parametrize("name", OPS)
@given(data=st.data())
def test_views_and_read_only_inputs_give_the_same_results(name: str, data: st.DataObject) -> None:
    op = REGISTRY[name]
    # interior, kink and tie cases (the smooth edges and the empties have tests of their own)
    kinds = [None, *(k for k in edge_kinds(op.domain) if k in ("kinks", "ties"))]
    case = data.draw(op_inputs(op, edge=data.draw(st.sampled_from(kinds), label="edge")),
                     label="case")
    route = data.draw(st.sampled_from(ROUTES), label="route")
    diff = [i for i, x in enumerate(case.inputs) if x.dtype.kind == "f" and i not in case.nondiff]
    plain = [tg.tensor(x, requires_grad=True) if i in diff else x
             for i, x in enumerate(case.inputs)]
    viewed: list[Any] = [_through(route, x)[1] if i in diff else x
                         for i, x in enumerate(case.inputs)]
    for i, x in enumerate(case.inputs):  # nondiff arrays (where's condition) as views too
        if i not in diff:
            viewed[i] = np.broadcast_to(x, x.shape) if route == "broadcast" else \
                as_layout(x, route)
    out, out_viewed = case.call(*plain), case.call(*viewed)
    # a reduction over a strided view may sum in another order: equal to rounding, measured
    # against the scale of the whole result (a small element after cancellation can differ
    # by more than 1e-12 of itself; the thorough profile met one: batch_norm, 1.08e-12)
    np.testing.assert_allclose(out_viewed.numpy(), out.numpy(), rtol=1e-12,
                               atol=_rounding(out.numpy()))
    if not diff or not out.requires_grad:
        return
    upstream = np.random.default_rng(data.draw(seeds, label="seed")).standard_normal(out.shape)
    expected = gradients(out, [plain[i] for i in diff], grad_outputs=upstream, allow_unused=True)
    got = gradients(out_viewed, [viewed[i] for i in diff], grad_outputs=upstream,
                    allow_unused=True)
    for i, g, e in zip(diff, got, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-12, atol=_rounding(e.numpy()),
                                   err_msg=f"{name}: input {i} through a {route} view")


def _rounding(values: np.ndarray) -> float:
    """A few float64 roundings of the largest magnitude in ``values``."""
    finite = np.abs(values[np.isfinite(values)])
    return 1e-300 if finite.size == 0 else float(64 * np.finfo(np.float64).eps * finite.max())


# --------------------------------------------------------------------------- completeness
def _public_modules() -> Iterator[ModuleType]:
    yield tg
    functional = getattr(getattr(tg, "nn", None), "functional", None)
    if isinstance(functional, ModuleType):
        yield functional


def _public_functions() -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for module in _public_modules():
        names = getattr(module, "__all__", [n for n in dir(module) if not n.startswith("_")])
        for n in names:
            obj = getattr(module, n, None)
            if callable(obj) and not isinstance(obj, type):
                found.append((f"{module.__name__}.{n}", obj))
    return found


def _identifiers(fn: Any) -> set[str]:
    """Names and attributes used in ``fn``'s body (not its own name, not its docstring)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def _is_apply_of(obj: Any, op: type[Op]) -> bool:
    return getattr(obj, "__self__", None) is op and getattr(obj, "__name__", "") == "apply"


def _entry_points(op: type[Op]) -> set[str]:
    """Names under which ``op``'s module offers the op: the class itself, aliases of
    ``Op.apply`` and functions that call the class."""
    names = {op.__name__}
    for n, obj in vars(sys.modules[op.__module__]).items():
        if _is_apply_of(obj, op) or (
            inspect.isfunction(obj) and obj.__module__ == op.__module__
            and op.__name__ in _identifiers(obj)
        ):
            names.add(n)
    return names


def _applies(fn: Callable[..., Any], op: type[Op]) -> bool:
    """True when ``fn`` is ``op.apply`` or calls the op (its class or one of its entry
    points) in its body."""
    return _is_apply_of(fn, op) or bool(_identifiers(fn) & _entry_points(op))


PUBLIC_FUNCTIONS = _public_functions()


@pytest.mark.parametrize("name", OPS)
def test_op_is_complete(name: str) -> None:
    op = REGISTRY[name]
    problems = []
    if op.name != name:
        problems.append(f"registered as {name!r} but named {op.name!r}")
    if not isinstance(getattr(op, "domain", None), Domain):
        problems.append("no Domain (class attribute `domain`)")
    else:
        try:
            draw_case(op, np.random.default_rng(0))
        except Exception as err:
            problems.append(f"its Domain cannot draw a case: {type(err).__name__}: {err}")
    doc = op.__doc__ or ""  # a class docstring is not inherited, so this is the op's own
    if ".. math::" not in doc and ":math:" not in doc:
        problems.append("no math in its docstring (`.. math::` or `:math:`)")
    if ">>>" not in doc:
        problems.append("no doctest example (`>>>`) in its docstring")
    if op.reference is None:
        problems.append("no numpy `reference` callable for the forward test")
    if name not in INTERNAL_OPS and not any(_applies(fn, op) for _, fn in PUBLIC_FUNCTIONS):
        problems.append("no public function in tensorgraph or tensorgraph.nn.functional "
                        "applies it")
    location = f"{op.__module__}.{op.__qualname__}"
    assert not problems, f"op {name!r} ({location}) is incomplete: " + "; ".join(problems)


def test_internal_ops_are_registered_and_really_internal() -> None:
    for name in INTERNAL_OPS:
        assert name in REGISTRY, f"INTERNAL_OPS lists {name!r}, which is not registered"
        public = [n for n, fn in PUBLIC_FUNCTIONS if _applies(fn, REGISTRY[name])]
        assert not public, f"{name!r} is public as {public}; remove it from INTERNAL_OPS"


def test_registry_holds_every_required_op() -> None:
    missing = REQUIRED_OPS - set(REGISTRY)
    assert not missing, f"ops missing from REGISTRY: {sorted(missing)}"


def test_completeness_check_spots_an_incomplete_op() -> None:
    class Bare(Op):
        name = "bare"
        domain = Domain()
        forward = staticmethod(np.negative)

    assert not _applies(tg.negative, Bare)
    assert _applies(tg.negative, REGISTRY["negative"])
    assert _applies(tg.sum, REGISTRY["sum"])  # a wrapper naming the class
    assert Bare.__doc__ is None and Bare.reference is None
