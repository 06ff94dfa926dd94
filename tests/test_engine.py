"""Plain tests of the backward engine: graph shapes, accumulation, lifetime, modes, dtypes."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.autograd import Node
from tensorgraph.errors import DTypeError, GradientError, GraphFreedError, ShapeError
from tensorgraph.ops._base import Domain, Op


def leaf(values: Any, dtype: Any = np.float64) -> tg.Tensor:
    return tg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def test_diamond_accumulates_both_paths() -> None:
    x = leaf([1.0, 2.0])
    a = x * 3
    b = x.exp()
    (a * b).sum().backward()
    # d/dx (3x e^x) = 3 e^x + 3x e^x
    expected = 3 * np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_reuse_of_one_tensor_twice() -> None:
    x = leaf([1.5, -2.0])
    (x + x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    y = leaf([3.0])
    (y * y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [27.0])


def test_wide_fan_out_each_node_visited_once() -> None:
    calls = []

    class Counting(Op):
        r"""Identity that counts its VJP calls. :math:`\bar x = \bar z`."""

        name = "counting"
        domain = Domain()

        @staticmethod
        def forward(x: Any) -> Any:
            return x.copy()

        @staticmethod
        def vjp_0(grad: Any, out: Any, x: Any) -> Any:
            calls.append(1)
            return grad

    Counting.vjps = (Counting.vjp_0,)
    x = leaf(np.ones(3))
    shared = Counting.apply(x)
    total = shared * 0
    for k in range(50):
        total = total + shared * k
    total.sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, sum(range(50))))


def test_gradients_accumulate_across_backward_calls_and_reset() -> None:
    x = leaf([1.0, 2.0])
    (x * 2).sum().backward()
    first = x.grad
    (x * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 7.0])
    assert x.grad is first  # accumulated in place into the buffer x owns
    x.zero_grad()
    assert x.grad is None


def test_leaf_gradient_never_aliases_the_seed_or_another_leaf() -> None:
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    seed = np.array([1.0, 1.0])
    (x + y).backward(seed)
    assert not np.shares_memory(x.grad.numpy(), y.grad.numpy())
    assert not np.shares_memory(x.grad.numpy(), seed)
    (x + y).backward(seed)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])


def test_inputs_without_requires_grad_get_no_gradient_computed() -> None:
    calls: list[int] = []

    class Spy(Op):
        r"""Product that records which VJPs ran. :math:`z = x y`."""

        name = "spy"
        domain = Domain(nargs=2)
        forward = staticmethod(np.multiply)

        @staticmethod
        def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
            calls.append(0)
            return grad * y

        @staticmethod
        def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
            calls.append(1)
            return grad * x

    Spy.vjps = (Spy.vjp_0, Spy.vjp_1)
    x = leaf([1.0, 2.0])
    constant = tg.tensor(np.array([3.0, 4.0]))
    Spy.apply(x, constant).sum().backward()
    assert calls == [0]
    assert constant.grad is None


def test_deep_chain_of_100k_nodes_is_iterative() -> None:
    x = leaf([0.5])
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0])


def test_graph_is_freed_and_a_second_walk_says_retain_graph() -> None:
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2).sum()
    y.backward()
    node = y._node
    assert isinstance(node, Node) and node.out is None and node.args is None
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_walk() -> None:
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])


def test_non_scalar_root_needs_a_gradient_naming_its_shape() -> None:
    x = leaf(np.ones((2, 3)))
    with pytest.raises(GradientError, match=r"\(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(ShapeError, match=r"grad has shape \(3,\)"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(GradientError, match="dtype float32"):
        (x * 2).backward(np.ones((2, 3), dtype=np.float32))


def test_backward_on_tensor_without_graph_is_an_error() -> None:
    with pytest.raises(GradientError, match="does not require grad"):
        tg.tensor([1.0]).sum().backward()


def test_retain_grad_keeps_an_intermediate_gradient_only_when_asked() -> None:
    x = leaf([1.0, 2.0])
    hidden = x * 3
    other = x * 4
    hidden.retain_grad()
    (hidden * other).sum().backward()
    np.testing.assert_array_equal(hidden.grad.numpy(), [4.0, 8.0])
    assert other.grad is None


def test_no_grad_and_enable_grad_nest_and_decorate() -> None:
    x = leaf([1.0])
    with tg.no_grad():
        assert not (x * 2).requires_grad
        with tg.enable_grad():
            assert (x * 2).requires_grad
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def f(t: tg.Tensor) -> tg.Tensor:
        return t * 2

    assert not f(x).requires_grad


def test_grad_mode_is_thread_local() -> None:
    seen: list[bool] = []
    with tg.no_grad():
        worker = threading.Thread(target=lambda: seen.append(tg.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_detach_cuts_the_graph_and_shares_data() -> None:
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_requires_grad_only_for_floating_tensors() -> None:
    with pytest.raises(DTypeError, match="int64"):
        tg.tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(DTypeError, match="bool"):
        tg.tensor(np.array([True])).requires_grad_()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved_end_to_end(dtype: Any) -> None:
    x = leaf(np.linspace(-1, 1, 6).reshape(2, 3), dtype)
    w = leaf(np.ones((3, 2)), dtype)
    y = ((x @ w).relu() * 2.5 + 1).sigmoid().log_softmax(axis=-1).mean()
    assert y.dtype == dtype
    y.backward()
    assert x.grad.dtype == dtype and w.grad.dtype == dtype


def test_mixed_float_precision_is_refused_with_the_op_named() -> None:
    a = tg.tensor(np.ones(2, dtype=np.float32))
    b = tg.tensor(np.ones(2, dtype=np.float64))
    with pytest.raises(DTypeError, match="add: mixed floating dtypes float32 and float64"):
        a + b
    assert (a * np.float64(2.0)).dtype == np.float32  # numpy scalars are weak
    assert (a + np.array([1, 2])).dtype == np.float32  # integers adopt the float dtype


def test_numpy_scalars_stay_weak_in_the_backward_pass_too() -> None:
    # the VJPs see what the forward saw: np.float64(2.0) as a Python float, so the float32
    # gradient of x stays float32 (a float64 scalar would upcast it and be refused)
    x = leaf([1.0, -2.0], np.float32)
    (x * np.float64(2.0) / np.float64(4.0)).sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), np.full(2, 0.5, dtype=np.float32))


def test_broadcasting_is_undone_by_the_engine() -> None:
    x = leaf(np.ones((3, 1)))
    b = leaf(np.ones(4))
    (x * b * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 1), 8.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(4, 6.0))


def test_second_derivative_and_hessian_vector_product() -> None:
    x = leaf([0.3, -1.2, 2.0])
    y = (x ** 3).sum() + (x.sin() * x).sum()
    (g,) = tg.gradients(y, x, create_graph=True)
    v = np.array([1.0, 0.5, -2.0])
    (hv,) = tg.gradients((g * v).sum(), x)
    xs = x.numpy()
    hessian_diag = 6 * xs + 2 * np.cos(xs) - xs * np.sin(xs)
    np.testing.assert_allclose(hv.numpy(), hessian_diag * v, rtol=1e-12)


def test_backward_create_graph_fills_grad_with_a_graph() -> None:
    x = leaf([2.0])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad is not None and x.grad.requires_grad
    g = x.grad
    x.zero_grad()
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0])


def test_functional_grad_value_and_grad_and_vjp() -> None:
    f = lambda x, y: (x * y).sum()  # noqa: E731
    gx, gy = tg.grad(f, argnums=(0, 1))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(gy.numpy(), [1.0, 2.0])
    value, g = tg.value_and_grad(lambda x: (x ** 2).sum())(np.array([3.0]))
    assert value.item() == 9.0 and g.numpy().tolist() == [6.0]
    third = tg.grad(tg.grad(tg.grad(lambda x: x ** 4)))
    assert third(np.float64(2.0)).item() == pytest.approx(48.0)
    _, pullback = tg.vjp(lambda x: x * np.array([1.0, 2.0]), np.array([5.0, 6.0]))
    (ct,) = pullback(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(ct.numpy(), [1.0, 2.0])


def test_gradients_leaves_grad_untouched_and_reports_unused_inputs() -> None:
    x, unused = leaf([1.0]), leaf([2.0])
    y = (x * 4).sum()
    with pytest.raises(GradientError, match="not used"):
        tg.gradients(y, [x, unused], retain_graph=True)
    gx, gu = tg.gradients(y, [x, unused], allow_unused=True)
    assert x.grad is None and gx.numpy().tolist() == [4.0] and gu.numpy().tolist() == [0.0]


def test_numpy_dispatch_returns_tracked_tensors() -> None:
    x = leaf(np.arange(6.0).reshape(2, 3))
    y = np.sum(np.exp(x) * np.maximum(x, 1.0), axis=0)
    assert isinstance(y, tg.Tensor) and y.requires_grad
    np.matmul(x, np.ones((3, 1))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"numpy\.median is not supported"):
        np.median(x)
    with pytest.raises(TypeError, match=r"numpy\.copysign is not supported"):
        np.copysign(x, x)
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce is not supported"):
        np.add.reduce(x)


def test_comparisons_are_not_differentiable() -> None:
    x = leaf([1.0, 2.0])
    mask = x > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad
    assert (x == x).numpy().all()


def test_in_place_operator_on_leaf_requiring_grad_is_refused() -> None:
    x = leaf([1.0])
    with pytest.raises(GradientError, match="in-place"):
        x += 1
    with tg.no_grad():
        x += 1
    assert x.numpy().tolist() == [2.0]


def test_getitem_repeated_indices_accumulate() -> None:
    x = leaf([1.0, 2.0, 3.0])
    x[[0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 1.0])


def test_register_refuses_an_op_without_a_domain() -> None:
    from tensorgraph.ops import register

    class Incomplete(Op):
        name = "incomplete"

        @staticmethod
        def forward(x: Any) -> Any:
            return x

    with pytest.raises(TypeError, match="no 'domain'"):
        register(Incomplete)
    assert "incomplete" not in tg.REGISTRY
