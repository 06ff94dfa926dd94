"""tensorgraph.testing catches what it claims to catch, and the documented subgradient choices
hold.

The broken ops below are registered only for the duration of a test (or not at all), so the
registry-driven tests never see them.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tensorgraph as tg
from tensorgraph.ops import REGISTRY, Domain, Op, register
from tensorgraph.testing import (
    GradcheckError,
    GradcheckWarning,
    check_conventions,
    check_registry,
    expected_gradients,
    gradcheck,
    gradgradcheck,
)
from tensorgraph.testing import strategies as tgst


def throwaway(cls: type[Op]) -> type[Op]:
    """Everything ``@register`` does to an op class, without leaving it in REGISTRY."""
    register(cls)
    del REGISTRY[cls.name]
    return cls


def _number_after(label: str, message: str) -> float:
    match = re.search(rf"{label} (?:is )?(-?[0-9.]+(?:e[-+]?[0-9]+)?)", message)
    assert match, f"no {label!r} in {message!r}"
    return float(match.group(1))


# --------------------------------------------------------------------------- broken ops
@throwaway
class SquareAbsSlope(Op):
    """x * y**2 whose y-gradient uses |y| instead of y: wrong exactly where y < 0."""

    name = "square_abs_slope"
    domain = Domain(nargs=2)

    @staticmethod
    def forward(x: Any, y: Any) -> Any:
        return x * y * y

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * y * y

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * x * 2 * np.abs(y)


@throwaway
class MutatingVjp(Op):
    """Identity whose VJP zeroes its input in place."""

    name = "mutating_vjp"
    domain = Domain()

    @staticmethod
    def forward(x: Any) -> Any:
        return x * 1.0

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        x[...] = 0
        return grad


@throwaway
class MutatingForward(Op):
    """Adds one, in place in its input."""

    name = "mutating_forward"
    domain = Domain()

    @staticmethod
    def forward(x: Any) -> Any:
        x += 1
        return x

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad


@throwaway
class MutatingUpstream(Op):
    """Doubles, scaling the upstream gradient in place."""

    name = "mutating_upstream"
    domain = Domain()

    @staticmethod
    def forward(x: Any) -> Any:
        return 2 * x

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        grad *= 2
        return grad


@throwaway
class SquareWrongVjp(Op):
    """x**2 with a correct forward and a VJP missing its factor 2."""

    name = "square_wrong_vjp"
    domain = Domain()

    @staticmethod
    def forward(x: Any) -> Any:
        return x * x

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * x


@throwaway
class Cube(Op):
    """x**3 whose VJP 3 x**2 goes through SquareWrongVjp: the first derivative is right, the
    second (6 x) comes out as 3 x."""

    name = "cube_wrong_second"
    domain = Domain()

    @staticmethod
    def forward(x: Any) -> Any:
        return x * x * x

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        square = SquareWrongVjp.apply(x) if isinstance(x, tg.Tensor) else x * x
        return grad * 3 * square


# --------------------------------------------------------------------------- gradcheck
def test_gradcheck_passes_correct_gradients() -> None:
    x = np.linspace(-1.5, 1.5, 6).reshape(2, 3)
    y = np.array([0.5, -1.0, 2.0])
    assert gradcheck(lambda a, b: tg.tanh(a) * b + tg.exp(b), x, y)
    assert gradcheck(lambda a, b: a @ b, x, y)


def test_gradcheck_names_the_input_the_element_and_both_values() -> None:
    x = np.array([[0.5, 1.0, 2.0], [1.5, -0.7, 0.3]])
    y = np.array([[0.4, 1.1, 2.0], [1.3, -0.8, 0.6]])  # the only negative y is at (1, 1)
    upstream = np.array([[1.0, -2.0, 0.5], [0.3, 1.7, -1.1]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(SquareAbsSlope.apply, x, y, grad_output=upstream)
    message = str(info.value)
    assert "input 1" in message and "(1, 1)" in message and "tolerance" in message
    right = upstream[1, 1] * x[1, 1] * 2 * y[1, 1]
    wrong = upstream[1, 1] * x[1, 1] * 2 * abs(y[1, 1])
    assert _number_after("analytic gradient", message) == pytest.approx(wrong, rel=1e-6)
    assert _number_after("numeric one", message) == pytest.approx(right, rel=1e-6)
    assert gradcheck(SquareAbsSlope.apply, x, y, raise_exception=False) is False


def test_gradcheck_uses_a_random_upstream_gradient() -> None:
    # sum over an axis of a transposed gradient is invisible to an all-ones upstream
    @throwaway
    class TransposedVjp(Op):
        name = "transposed_vjp"
        domain = Domain()

        @staticmethod
        def forward(x: Any) -> Any:
            return 2 * x

        @staticmethod
        def vjp_0(grad: Any, out: Any, x: Any) -> Any:
            return 2 * grad.T

    x = np.arange(9.0).reshape(3, 3)
    assert gradcheck(TransposedVjp.apply, x, grad_output=np.ones((3, 3)))
    assert not gradcheck(TransposedVjp.apply, x, raise_exception=False)


@pytest.mark.parametrize("op", [MutatingVjp, MutatingForward, MutatingUpstream])
def test_gradcheck_refuses_in_place_modification(op: type[Op]) -> None:
    x = np.array([0.5, -1.0, 2.0])
    before = x.copy()
    with pytest.raises(GradcheckError, match="in place"):
        gradcheck(op.apply, x)
    np.testing.assert_array_equal(x, before)  # the caller's array is never touched


def test_gradcheck_skips_nondiff_and_integer_inputs() -> None:
    x = np.array([1.0, -2.0, 3.0])
    condition = np.array([True, False, True])
    assert gradcheck(lambda c, a, b: tg.where(c, a, b), condition, x, x[::-1].copy())
    # a wrong gradient for an input marked nondiff is not looked at
    assert gradcheck(SquareAbsSlope.apply, x, -x, nondiff=(1,))
    with pytest.raises(ValueError, match="no floating input"):
        gradcheck(lambda c: tg.where(c, 1.0, 0.0), condition)


def test_gradcheck_passes_nondiff_inputs_as_given_in_every_evaluation() -> None:
    seen = set()

    def pick(x: tg.Tensor, index: Any) -> tg.Tensor:
        seen.add((type(x), type(index), index.flags.writeable))
        return x[index] * x[index]

    assert gradcheck(pick, np.array([1.0, -2.0, 3.0]), np.array([2, 0, 2]))
    assert seen == {(tg.Tensor, np.ndarray, False)}  # read-only, analytic and numeric alike


def test_gradcheck_handles_several_outputs() -> None:
    x = np.linspace(-1.0, 1.0, 6)
    assert gradcheck(lambda a: tg.split(tg.sin(a), 3), x)


def test_gradcheck_checks_shapes_of_grad_output() -> None:
    with pytest.raises(ValueError, match=r"grad_output 0 has shape \(2,\)"):
        gradcheck(tg.exp, np.ones(3), grad_output=np.ones(2))


def test_float32_check_warns_and_uses_loose_tolerances() -> None:
    x = np.array([0.3, -1.2, 2.0], dtype=np.float32)
    with pytest.warns(GradcheckWarning, match="float32"):
        assert gradcheck(tg.tanh, x)
    with pytest.warns(GradcheckWarning):
        assert not gradcheck(SquareWrongVjp.apply, x, raise_exception=False)


def test_mixed_precision_is_checked_at_the_lower_precision() -> None:
    x = np.array([0.3, -1.2], dtype=np.float32)
    with pytest.warns(GradcheckWarning, match="float32"):
        assert gradgradcheck(lambda t: tg.astype(t, np.float64) ** 2, x)
    with pytest.raises(TypeError, match="float16"):
        gradcheck(tg.exp, x.astype(np.float16))


def test_large_inputs_are_checked_along_random_directions() -> None:
    calls = 0

    def counted_sin(a: tg.Tensor) -> tg.Tensor:
        nonlocal calls
        calls += 1
        return tg.sin(a)

    x = np.random.default_rng(0).uniform(-2, 2, (40, 25))
    assert gradcheck(counted_sin, x, projections=5)
    assert calls == 1 + 2 * 5  # one analytic pass, two evaluations per direction

    # one wrong element in a thousand is still caught, and located
    y = np.abs(x) + 0.5
    y[17, 3] = -1.0
    with pytest.raises(GradcheckError) as info:
        gradcheck(SquareAbsSlope.apply, np.ones_like(x), y)
    message = str(info.value)
    assert "random direction" in message and "input 1" in message and "(17, 3)" in message


def test_projection_failure_beyond_the_locate_limit_names_the_direction() -> None:
    x = np.full((80, 60), 0.7)
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(80, 60\)\): along random "):
        gradcheck(SquareWrongVjp.apply, x)


# --------------------------------------------------------------------------- gradgradcheck
def test_gradgradcheck_passes_correct_second_derivatives() -> None:
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    assert gradgradcheck(lambda a: tg.sigmoid(a) * tg.sin(a), x)
    assert gradgradcheck(lambda a, b: tg.log_softmax(a @ b, axis=0), x, x.T.copy())


def test_gradgradcheck_catches_a_wrong_second_derivative() -> None:
    x = np.array([0.5, -1.5, 2.0])
    assert gradcheck(Cube.apply, x)  # the first derivative is right
    with pytest.raises(GradcheckError, match="gradgradcheck: input 0") as info:
        gradgradcheck(Cube.apply, x)
    assert "at index" in str(info.value)


def test_gradgradcheck_differentiates_through_the_upstream_gradient() -> None:
    @throwaway
    class DetachesUpstream(Op):
        """x**2 whose VJP cuts the upstream gradient out of the graph."""

        name = "detaches_upstream"
        domain = Domain()

        @staticmethod
        def forward(x: Any) -> Any:
            return x * x

        @staticmethod
        def vjp_0(grad: Any, out: Any, x: Any) -> Any:
            if isinstance(grad, tg.Tensor):
                grad = grad.detach()
            return grad * 2 * x

    x = np.array([0.5, -1.5])
    assert gradcheck(DetachesUpstream.apply, x)
    with pytest.raises(GradcheckError, match=r"gradgradcheck: grad_output 0"):
        gradgradcheck(DetachesUpstream.apply, x)


# --------------------------------------------------------------------------- registry runner
@pytest.fixture
def broken_op_registered() -> Iterator[str]:
    register(SquareWrongVjp)
    try:
        yield SquareWrongVjp.name
    finally:
        del REGISTRY[SquareWrongVjp.name]


def test_check_registry_reports_each_op(broken_op_registered: str) -> None:
    results = check_registry(["exp", broken_op_registered, "matmul"], trials=2)
    assert [r.name for r in results] == sorted(["exp", broken_op_registered, "matmul"])
    by_name = {r.name: r for r in results}
    assert by_name["exp"].passed and by_name["matmul"].passed
    assert by_name["exp"].worst_error <= by_name["exp"].tolerance
    broken = by_name[broken_op_registered]
    assert not broken.passed
    assert broken.worst_error > broken.tolerance
    assert "input 0" in broken.message and broken_op_registered in broken.message


def test_check_registry_is_reproducible_and_refuses_unknown_names() -> None:
    first = check_registry(["prod", "softmax"], seed=3, trials=2)
    assert first == check_registry(["prod", "softmax"], seed=3, trials=2)
    with pytest.raises(KeyError, match="no_such_op"):
        check_registry(["no_such_op"])


# --------------------------------------------------------------------------- strategies
@given(tgst.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes: list[tuple[int, ...]]) -> None:
    assert len(shapes) == 3
    assert all(len(s) <= 3 and all(1 <= d <= 4 for d in s) for s in shapes)
    np.broadcast_shapes(*shapes)


@given(st.data())
def test_valid_axes_are_accepted_by_numpy(data: st.DataObject) -> None:
    shape = data.draw(tgst.shapes())
    axis = data.draw(tgst.valid_axes(len(shape)))
    x = np.arange(float(np.prod(shape))).reshape(shape)
    expected = np.sum(x, axis=axis)  # numpy accepts the axis: that is what valid means
    np.testing.assert_allclose(tg.sum(tg.tensor(x), axis=axis).numpy(), expected)


@given(tgst.arrays(dtype=tgst.float_dtypes(), low=-2.0, high=2.0, avoid=(0.0, 1.0),
                   margin=0.25, distinct=True))
def test_arrays_respect_range_avoid_and_distinct(x: np.ndarray) -> None:
    assert x.dtype in (np.float32, np.float64)
    assert np.all((x >= -2.0) & (x <= 2.0))
    assert np.all(np.abs(x) >= 0.25 - 1e-6) and np.all(np.abs(x - 1.0) >= 0.25 - 1e-6)
    flat = np.sort(x.reshape(-1))
    assert np.all(np.diff(flat) > 0)


@given(tgst.tensors(shape=(2, 3), requires_grad=True))
def test_tensors_are_leaves_of_the_given_shape(t: tg.Tensor) -> None:
    assert t.shape == (2, 3) and t.requires_grad and t.dtype == np.float64


@given(tgst.op_inputs("maximum"))
def test_op_inputs_has_no_ties_across_inputs_for_maximum(case: Any) -> None:
    x, y = case.inputs
    values = np.concatenate([x.reshape(-1), y.reshape(-1)])
    gaps = np.diff(np.sort(values))
    assert gaps.size == 0 or gaps.min() > 0.01
    np.broadcast_shapes(x.shape, y.shape)


@settings(max_examples=50)
@given(tgst.op_inputs("sum"))
def test_op_inputs_for_a_reduction_are_small_and_valid(case: Any) -> None:
    (x,) = case.inputs
    assert x.ndim <= 3 and all(1 <= d <= 4 for d in x.shape)
    assert set(case.params["axis"]) <= set(range(x.ndim))


def test_op_inputs_reaches_0d_and_size_1_shapes() -> None:
    from tensorgraph.testing.registry_check import draw_case

    rng = np.random.default_rng(0)
    drawn = [draw_case(REGISTRY["add"], rng).inputs for _ in range(200)]
    assert any(a.ndim == 0 for case in drawn for a in case)
    assert any(1 in a.shape and a.size > 1 for case in drawn for a in case)
    assert any(case[0].shape != case[1].shape for case in drawn)  # real broadcasting


def test_strategies_without_hypothesis_say_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    monkeypatch.delitem(sys.modules, "tensorgraph.testing.strategies")
    with pytest.raises(ImportError, match=r"pip install tensorgraph\[testing\]"):
        import tensorgraph.testing.strategies  # noqa: F401


# --------------------------------------------------------------------------- subgradients
def _grad(fn: Any, *values: Any, upstream: Any = None) -> list[np.ndarray]:
    leaves = [tg.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in values]
    out = fn(*leaves)
    out.backward(np.ones(out.shape) if upstream is None else np.asarray(upstream))
    return [leaf.grad.numpy() for leaf in leaves]  # type: ignore[union-attr]


def test_relu_abs_sqrt_derivatives_at_zero_are_zero() -> None:
    assert _grad(tg.relu, [0.0, -1.0, 2.0])[0].tolist() == [0.0, 0.0, 1.0]
    assert _grad(tg.abs, [0.0, -1.0, 2.0])[0].tolist() == [0.0, -1.0, 1.0]
    assert _grad(tg.sqrt, [0.0, 4.0])[0].tolist() == [0.0, 0.25]


def test_numpy_math_conventions_at_their_kinks() -> None:
    assert _grad(tg.cbrt, [0.0, 8.0])[0].tolist() == [0.0, 1 / 12]
    for fn in (tg.hypot, tg.arctan2):  # the origin: 0, where PyTorch gives NaN
        assert [g.tolist() for g in _grad(fn, [0.0], [0.0])] == [[0.0], [0.0]]
    for fn in (tg.sign, tg.floor, tg.ceil, tg.trunc, tg.round):  # 0 at the jumps too
        assert _grad(fn, [0.0, 1.0, 0.5, -1.5])[0].tolist() == [0.0] * 4
    gx, gy = _grad(tg.fmax, [1.0, 2.0], [1.0, 0.0])  # ties shared, as maximum
    assert gx.tolist() == [0.5, 1.0] and gy.tolist() == [0.5, 0.0]


def test_leaky_relu_derivative_at_zero_is_the_slope() -> None:
    grad = _grad(lambda x: tg.leaky_relu(x, 0.2), [0.0, -1.0, 2.0])[0]
    assert grad.tolist() == [0.2, 0.2, 1.0]


def test_max_and_min_reductions_split_ties_equally() -> None:
    assert _grad(tg.max, [1.0, 3.0, 3.0])[0].tolist() == [0.0, 0.5, 0.5]
    assert _grad(tg.min, [2.0, 2.0, 2.0])[0] == pytest.approx([1 / 3] * 3)
    rows = [[2.0, 2.0, 1.0], [1.0, 3.0, 0.0]]
    assert _grad(lambda x: tg.max(x, axis=1), rows)[0].tolist() == [[0.5, 0.5, 0], [0, 1, 0]]
    assert _grad(lambda x: tg.min(x, axis=0), rows)[0].tolist() == [[0, 1, 0], [1, 0, 1]]


def test_maximum_and_minimum_split_ties_half_and_half() -> None:
    gx, gy = _grad(tg.maximum, [1.0, 2.0, 0.0], [1.0, 0.0, 3.0])
    assert gx.tolist() == [0.5, 1.0, 0.0] and gy.tolist() == [0.5, 0.0, 1.0]
    gx, gy = _grad(tg.minimum, [1.0, 2.0, 0.0], [1.0, 0.0, 3.0])
    assert gx.tolist() == [0.5, 0.0, 1.0] and gy.tolist() == [0.5, 1.0, 0.0]
    # broadcasting: a scalar tied with two of three elements
    gx, gy = _grad(tg.maximum, 1.0, [1.0, 1.0, 0.0])
    assert gx.tolist() == 2.0 and gy.tolist() == [0.5, 0.5, 0.0]


def test_clip_passes_the_gradient_at_the_bounds() -> None:
    grad = _grad(lambda x: tg.clip(x, -1.0, 1.0), [-1.0, 1.0, -2.0, 2.0, 0.0])[0]
    assert grad.tolist() == [1.0, 1.0, 0.0, 0.0, 1.0]


def _prod_others(x: np.ndarray, axis: int) -> np.ndarray:
    """A plain transcription of d prod / d x_i = prod_{j != i} x_j, one slice at a time."""
    result = np.empty_like(x)
    moved, out = np.moveaxis(x, axis, -1), np.moveaxis(result, axis, -1)
    for index in np.ndindex(*moved.shape[:-1]):
        row = moved[index]
        out[index] = [np.prod(np.delete(row, i)) for i in range(row.size)]
    return result


@pytest.mark.parametrize("values", [
    [2.0, 0.0, 3.0],                                  # one zero
    [0.0, 2.0, 0.0],                                  # two zeros
    [[2.0, 0.0, 3.0], [0.0, 0.0, 1.0], [1.5, 2.0, -3.0]],
])  # fmt: skip
def test_prod_gradient_with_zeros(values: list[Any]) -> None:
    x = np.asarray(values)
    axis = x.ndim - 1
    upstream = np.arange(1.0, 1.0 + x.size // x.shape[axis]).reshape(x.shape[:axis])
    grad = _grad(lambda t: tg.prod(t, axis=axis), x, upstream=upstream)[0]
    expected = _prod_others(x, axis) * np.expand_dims(upstream, axis)
    np.testing.assert_array_equal(grad, expected)
    if x.ndim == 1:
        assert grad.tolist() == ([0.0, 6.0, 0.0] if values[0] else [0.0, 0.0, 0.0])


def test_where_leaks_no_nan_from_the_branch_not_taken() -> None:
    condition = np.array([True, False, True, False])
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=np.float64, requires_grad=True)
    y = tg.tensor([np.nan, 5.0, np.inf, -6.0], dtype=np.float64, requires_grad=True)
    tg.where(condition, x, y).backward(np.array([0.5, -1.0, 2.0, 3.0]))
    assert x.grad is not None and y.grad is not None
    assert x.grad.numpy().tolist() == [0.5, 0.0, 2.0, 0.0]
    assert y.grad.numpy().tolist() == [0.0, -1.0, 0.0, 3.0]  # exactly 0 where y is nan/inf


def test_getitem_with_repeated_indices_accumulates() -> None:
    grad = _grad(lambda t: t[[0, 0, 2, 0]], [1.0, 2.0, 3.0], upstream=[1.0, 2.0, 3.0, 4.0])[0]
    assert grad.tolist() == [7.0, 0.0, 3.0]
    rows, cols = np.array([0, 1, 0]), np.array([1, 1, 1])
    grad = _grad(lambda t: t[rows, cols], np.zeros((2, 2)), upstream=[1.0, 2.0, 3.0])[0]
    assert grad.tolist() == [[0.0, 4.0], [0.0, 2.0]]


def test_boolean_mask_indexing_routes_the_gradient_to_the_selected_elements() -> None:
    x = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    mask = x > 0
    grad = _grad(lambda t: t[mask], x, upstream=[10.0, 20.0, 30.0])[0]
    assert grad.tolist() == [[10.0, 0.0, 20.0], [0.0, 30.0, 0.0]]
    assert gradcheck(lambda t: t[mask] * t[mask], x)


# --------------------------------------------------------------------------- edges
def test_domain_refuses_unknown_tie_rules_and_kinks_of_several_inputs() -> None:
    with pytest.raises(ValueError, match="ties must be None or 'share'"):
        Domain(ties="first")
    with pytest.raises(ValueError, match="kinks describe elementwise ops of one input"):
        Domain(nargs=2, kinks={0.0: 0.0})
    with pytest.raises(ValueError, match="edges name input 2"):
        Domain(nargs=2, edges={2: (0.0,)})


def test_domain_spells_out_edges_and_resolves_kink_parameters() -> None:
    assert Domain(nargs=2, edges=(0.0, 1.0)).edge_values() == {0: (0.0, 1.0), 1: (0.0, 1.0)}
    assert Domain(nargs=2, edges={1: (1.0,)}).edge_values() == {1: (1.0,)}
    clip = REGISTRY["clip"].domain
    assert clip.kink_points({"a_min": -1.0, "a_max": None}) == [(-1.0, 1.0)]
    leaky = REGISTRY["leaky_relu"].domain
    assert leaky.kink_points({"negative_slope": 0.2}) == [(0.0, 0.2)]


def _slices(x: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    kept = [d for d in range(x.ndim) if d not in axis]
    return np.moveaxis(x, kept, list(range(len(kept)))).reshape(-1, math.prod(
        x.shape[d] for d in axis))


def test_every_edge_case_holds_its_edge() -> None:
    from tensorgraph.testing.registry_check import draw_case

    rng = np.random.default_rng(0)
    for _ in range(60):
        (x,) = draw_case(REGISTRY["prod"], rng, edge="edges").inputs
        assert np.isin(x, (0.0, 1.0)).any()
        (x,) = draw_case(REGISTRY["relu"], rng, edge="kinks").inputs
        assert (x == 0).any() and ((x == 0) | (np.abs(x) >= 0.1)).all()
        case = draw_case(REGISTRY["max"], rng, edge="ties")
        assert any(np.unique(row).size < row.size
                   for row in _slices(case.inputs[0], case.params["axis"]))
        x, y = draw_case(REGISTRY["maximum"], rng, edge="ties").inputs
        assert (np.broadcast_arrays(x, y)[0] == np.broadcast_arrays(x, y)[1]).any()
        assert any(a.size == 0 for a in draw_case(REGISTRY["add"], rng, edge="empty").inputs)
        power = draw_case(REGISTRY["power"], rng, edge="edges")
        assert 1 in power.nondiff and np.isin(power.inputs[1], (0.0, 1.0, 2.0, 3.0)).all()


def test_edge_draws_are_frequent_not_lucky() -> None:
    # where prod's gradient is hard (a zero among other factors, two zeros in one slice),
    # drawn in a good share of the cases; 0-d inputs still among them
    from tensorgraph.testing.registry_check import draw_case

    rng = np.random.default_rng(1)
    cases = [draw_case(REGISTRY["prod"], rng, edge="edges") for _ in range(200)]
    rows = [_slices(c.inputs[0], c.params["axis"]) for c in cases]
    assert sum(any((r == 0).any() and r.size > 1 for r in rs) for rs in rows) >= 50
    assert sum(any((r == 0).sum() >= 2 for r in rs) for rs in rows) >= 15
    assert sum(c.inputs[0].ndim == 0 for c in cases) >= 10


def test_an_edge_kind_the_domain_does_not_declare_is_refused() -> None:
    from tensorgraph.testing.registry_check import draw_case

    with pytest.raises(ValueError, match=r"exp: its Domain declares no 'kinks'"):
        draw_case(REGISTRY["exp"], np.random.default_rng(0), edge="kinks")
    with pytest.raises(ValueError, match="declares no edges"):
        tgst.edge_cases(throwaway(type("NoEdges", (Op,), {
            "name": "no_edges", "domain": Domain(empty=False),
            "forward": staticmethod(np.negative), "vjp_0": staticmethod(lambda g, o, x: -g),
        })))


@given(tgst.arrays(shape=tgst.shapes(min_rank=1), avoid=(0.0,), margin=0.25,
                   edges=(0.0, 1.0)))
def test_arrays_place_the_edges_exactly_and_keep_the_rest_away(x: np.ndarray) -> None:
    at_edge = np.isin(x, (0.0, 1.0))
    assert at_edge.any()
    assert (at_edge | (np.abs(x) >= 0.25 - 1e-12)).all()


@given(st.integers(1, 5).flatmap(lambda n: st.tuples(st.just(n), tgst.index_arrays(n))))
def test_index_arrays_hold_negative_and_repeated_indices(drawn: tuple[int, Any]) -> None:
    n, index = drawn
    assert index.dtype == np.int64 and ((-n <= index) & (index < n)).all()
    assert (index < 0).any()
    assert index.size < 2 or np.unique(index).size < index.size


@given(tgst.arrays(shape=(3, 2)).flatmap(lambda x: st.tuples(st.just(x), tgst.views(x))))
def test_views_are_read_only_non_contiguous_copies(drawn: tuple[np.ndarray, np.ndarray]) -> None:
    x, view = drawn
    np.testing.assert_array_equal(view, x)
    assert not view.flags.writeable and not view.flags.c_contiguous


@settings(max_examples=20)
@given(tgst.edge_cases("clip"))
def test_edge_cases_draw_every_declared_kind(case: Any) -> None:
    assert case.edge in ("edges", "kinks", "empty")


# --------------------------------------------------------------------------- conventions
@throwaway
class ReluOneAtZero(Op):
    """relu whose derivative at 0 is 1 (x >= 0) instead of the documented 0."""

    name = "relu_one_at_zero"
    domain = Domain(kinks={0.0: 0.0})

    @staticmethod
    def forward(x: Any) -> Any:
        return np.maximum(x, 0)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * (x >= 0)


@throwaway
class ReluWrongUnderCreateGraph(Op):
    """relu that follows the convention in a plain backward only."""

    name = "relu_wrong_under_create_graph"
    domain = Domain(kinks={0.0: 0.0})

    @staticmethod
    def forward(x: Any) -> Any:
        return np.maximum(x, 0)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * ((x >= 0) if isinstance(x, tg.Tensor) else (x > 0))


@throwaway
class MaxFirstWins(Op):
    """max over an axis whose gradient goes to the first maximum only."""

    name = "max_first_wins"
    domain = Domain(ties="share", params=lambda shapes: [{"axis": (0,), "keepdims": False}])

    @staticmethod
    def forward(x: Any, axis: tuple[int, ...] = (), keepdims: bool = False) -> Any:
        return np.max(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, axis: tuple[int, ...] = (),
              keepdims: bool = False) -> Any:
        first = np.argmax(x, axis=0)
        return (np.arange(x.shape[0]).reshape(-1, *[1] * (x.ndim - 1)) == first) * grad


def _case(op: type[Op], *inputs: Any, edge: str, **params: Any) -> Any:
    from tensorgraph.testing._sampling import OpCase

    return OpCase(op, tuple(np.asarray(x, dtype=np.float64) for x in inputs), params,
                  edge=edge)


def test_check_conventions_pins_the_documented_derivative_at_kinks() -> None:
    x = [[0.0, -1.5], [2.0, 0.0]]
    assert check_conventions(_case(REGISTRY["relu"], x, edge="kinks")).passed
    result = check_conventions(_case(ReluOneAtZero, x, edge="kinks"))
    assert not result.passed
    assert "the documented derivative at its kinks (0 at 0)" in result.message
    assert "index (0, 0)" in result.message and "(value 0)" in result.message
    result = check_conventions(_case(ReluWrongUnderCreateGraph, x, edge="kinks"))
    assert not result.passed and "create_graph=True backward" in result.message
    slope = check_conventions(_case(REGISTRY["leaky_relu"], [0.0, 1.0], edge="kinks",
                                    negative_slope=0.2))
    assert slope.passed


def test_expected_gradients_follow_the_declaration_not_the_vjp() -> None:
    upstream = np.array([1.0, 2.0, 4.0])
    clip = _case(REGISTRY["clip"], [-1.0, 1.0, 3.0], edge="kinks", a_min=-1.0, a_max=1.0)
    assert [g.tolist() for g in expected_gradients(clip, upstream)] == [[1.0, 2.0, 0.0]]
    ties = _case(REGISTRY["maximum"], [1.0, 2.0, 0.0], 1.0, edge="ties")
    assert [g.tolist() for g in expected_gradients(ties, upstream)] == [[0.5, 2.0, 0.0], 4.5]
    tied_max = _case(REGISTRY["max"], [[3.0, 3.0, 3.0], [1.0, 2.0, 2.0]], edge="ties",
                     axis=(1,), keepdims=False)
    expected = expected_gradients(tied_max, np.array([3.0, 1.0]))[0]
    assert expected.tolist() == [[1.0, 1.0, 1.0], [0.0, 0.5, 0.5]]


def test_check_conventions_catches_a_tie_given_to_the_first_maximum() -> None:
    x = [[2.0, 1.0], [2.0, 3.0]]
    assert check_conventions(_case(REGISTRY["max"], x, edge="ties", axis=(0,),
                                   keepdims=False)).passed
    result = check_conventions(_case(MaxFirstWins, x, edge="ties", axis=(0,), keepdims=False))
    assert not result.passed and "tied candidates share the gradient equally" in result.message


@pytest.fixture
def wrong_at_zero_registered() -> Iterator[str]:
    @register
    class SquareWrongAtZero(Op):
        """x**2 whose VJP is off by the upstream exactly at x = 0, a smooth point."""

        name = "square_wrong_at_zero"
        domain = Domain(edges=(0.0,))

        @staticmethod
        def forward(x: Any) -> Any:
            return x * x

        @staticmethod
        def vjp_0(grad: Any, out: Any, x: Any) -> Any:
            return grad * (2 * x + (x == 0))

    try:
        yield SquareWrongAtZero.name
    finally:
        del REGISTRY[SquareWrongAtZero.name]


def test_check_registry_checks_the_edges(wrong_at_zero_registered: str) -> None:
    (interior,) = check_registry([wrong_at_zero_registered], trials=5, edges=False)
    assert interior.passed  # the interior draws never hit an exact 0
    (with_edges,) = check_registry([wrong_at_zero_registered], trials=5)
    assert not with_edges.passed and "edges edge" in with_edges.message


@pytest.mark.parametrize("layout", ["transposed", "strided", "reversed"])
@pytest.mark.parametrize("x", [np.array(2.5), np.array([[True, False, True]]),
                               np.arange(6.0).reshape(3, 2)])
def test_as_layout_keeps_values_shape_and_dtype_in_a_read_only_view(
    layout: str, x: np.ndarray
) -> None:
    from tensorgraph.testing._edges import as_layout

    view = as_layout(x, layout)
    assert isinstance(view, np.ndarray) and view.shape == x.shape and view.dtype == x.dtype
    np.testing.assert_array_equal(view, x)
    assert not view.flags.writeable
