"""The function transforms agree with PyTorch's ``torch.func`` and
``torch.autograd.functional`` in float64 (scalar, vector and matrix inputs, several argnums),
and with central differences, which are checked whether or not torch is importable."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import func

from ._cases import (
    INPUTS,
    NAMES,
    assert_close,
    numeric_jacobian,
    scalar_tg,
    scalar_torch,
    tg_fn,
    torch,
    torch_fn,
    torch_inputs,
)

RNG = np.random.default_rng(3)
FD = {"rtol": 1e-6, "atol": 1e-7}  # central differences with h = 1e-6 in float64


def _argnums(name: str) -> list[Any]:
    return [0, 1, (0, 1), (1, 0)] if len(INPUTS[name]) == 2 else [0, (0,)]


def _tangents(name: str) -> tuple[np.ndarray, ...]:
    return tuple(RNG.normal(size=a.shape) for a in INPUTS[name])


def _blocks(argnums: Any) -> list[int]:
    return [argnums] if isinstance(argnums, int) else list(argnums)


def test_the_transforms_are_reexported_and_grad_left_autograd() -> None:
    for name in ("grad", "value_and_grad", "vjp", "jacobian", "hessian", "hvp", "jvp",
                 "elementwise_grad", "checkpoint"):
        assert getattr(tg, name) is getattr(func, name)
    import tensorgraph.autograd as engine

    assert not hasattr(engine, "value_and_grad") and hasattr(engine, "gradients")


@pytest.mark.parametrize("name", NAMES)
def test_jacobian_matches_jacrev_and_finite_differences(name: str) -> None:
    arrays = INPUTS[name]
    for argnums in _argnums(name):
        got = tg.jacobian(tg_fn(name), argnums)(*arrays)
        blocks = (got,) if isinstance(argnums, int) else got
        assert isinstance(blocks, tuple) and len(blocks) == len(_blocks(argnums))
        for block, i in zip(blocks, _blocks(argnums)):
            assert_close(block, numeric_jacobian(tg_fn(name), arrays, i), **FD)
        if torch is not None:
            xs = torch_inputs(arrays)
            assert_close(got, torch.func.jacrev(torch_fn(name), argnums)(*xs))
            if argnums == 0 and len(arrays) == 1:
                assert_close(got, torch.autograd.functional.jacobian(torch_fn(name), xs[0]))


def test_jacobian_of_a_tuple_output_nests_like_jacrev() -> None:
    def f(lib: Any) -> Any:
        return lambda x, W: (lib.sin(W @ x), (x * x).sum())

    x, W = INPUTS["two"]
    got = tg.jacobian(f(np), (0, 1))(x, W)
    assert len(got) == 2 and all(len(g) == 2 for g in got)
    assert got[0][1].shape == (3, 3, 4) and got[1][0].shape == (4,)
    assert_close(got[1][0], 2 * x)
    if torch is not None:
        assert_close(got, torch.func.jacrev(f(torch), (0, 1))(*torch_inputs([x, W])))


def test_jacobian_of_an_output_independent_of_the_input_is_zero() -> None:
    got = tg.jacobian(lambda x, y: y * 2.0, 0)(np.ones(3), tg.tensor(np.ones(2)))
    assert got.shape == (2, 3) and not got.numpy().any()


@pytest.mark.parametrize("name", NAMES)
def test_hessian_matches_torch_and_finite_differences(name: str) -> None:
    arrays = INPUTS[name]
    for argnums in _argnums(name):
        got = tg.hessian(scalar_tg(name), argnums)(*arrays)
        rows = (got,) if isinstance(argnums, int) else got
        for row, i in zip(rows, _blocks(argnums)):
            # the Hessian's row blocks are Jacobians of the gradient
            grad_i = tg.grad(scalar_tg(name), i)
            blocks = (row,) if isinstance(argnums, int) else row
            for block, j in zip(blocks, _blocks(argnums)):
                assert_close(block, numeric_jacobian(grad_i, arrays, j), **FD)
        if torch is not None:
            xs = torch_inputs(arrays)
            assert_close(got, torch.func.hessian(scalar_torch(name), argnums)(*xs))
            if argnums == 0 and len(arrays) == 1:
                assert_close(got, torch.autograd.functional.hessian(scalar_torch(name), xs[0]))


def test_hessian_of_a_vector_output_has_torch_func_shape() -> None:
    x = INPUTS["vector"][0]
    got = tg.hessian(tg_fn("vector"))(x)
    assert got.shape == (3, 4, 4)
    if torch is not None:
        assert_close(got, torch.func.hessian(torch_fn("vector"))(torch.tensor(x)))


@pytest.mark.parametrize("name", NAMES)
def test_hvp_matches_torch_and_the_hessian(name: str) -> None:
    arrays = INPUTS[name]
    vs = _tangents(name)
    single = len(arrays) == 1
    primals, tangents = (arrays[0], vs[0]) if single else (tuple(arrays), vs)
    value, product = tg.hvp(scalar_tg(name), primals, tangents)
    assert not value.requires_grad
    products = (product,) if single else product
    nums = tuple(range(len(arrays)))
    hessian = tg.hessian(scalar_tg(name), nums)(*arrays)
    for i, p in enumerate(products):  # (H v)_i = sum_j H_ij v_j
        expected = sum(np.tensordot(hessian[i][j].numpy(), vs[j], axes=vs[j].ndim)
                       for j in nums)
        assert_close(p, np.asarray(expected))
    if torch is not None:
        t_primals = torch_inputs(arrays)
        t_tangents = torch_inputs(list(vs))
        if single:
            t_primals, t_tangents = t_primals[0], t_tangents[0]
        t_value, t_product = torch.autograd.functional.hvp(scalar_torch(name), t_primals,
                                                           t_tangents)
        assert_close(value, t_value)
        assert_close(product, t_product)


@pytest.mark.parametrize("name", NAMES)
def test_jvp_matches_torch_func_jvp_and_the_jacobian(name: str) -> None:
    arrays = INPUTS[name]
    vs = _tangents(name)
    out, product = tg.jvp(tg_fn(name), tuple(arrays), vs)
    assert not out.requires_grad and not product.requires_grad
    jac = tg.jacobian(tg_fn(name), tuple(range(len(arrays))))(*arrays)
    expected = sum(np.tensordot(j.numpy(), v, axes=v.ndim) for j, v in zip(jac, vs))
    assert_close(product, np.asarray(expected))
    assert_close(out, tg_fn(name)(*(tg.tensor(a) for a in arrays)))
    if torch is not None:
        t_out, t_product = torch.func.jvp(torch_fn(name), torch_inputs(arrays),
                                          torch_inputs(list(vs)))
        assert_close(out, t_out)
        assert_close(product, t_product)
        if len(arrays) == 1:
            a_out, a_product = torch.autograd.functional.jvp(
                torch_fn(name), torch.tensor(arrays[0]), torch.tensor(vs[0]))
            single_out, single_product = tg.jvp(tg_fn(name), arrays[0], vs[0])
            assert_close(single_out, a_out)
            assert_close(single_product, a_product)


def test_jvp_of_a_tuple_output_and_of_a_constant_output() -> None:
    def f(lib: Any) -> Any:
        return lambda x: (lib.sin(x), (x ** 3).sum(), x.detach() * 0 + 1.0)

    x, v = np.array([0.3, -1.2]), np.array([2.0, 0.5])
    outs, products = tg.jvp(f(np), (x,), (v,))
    assert len(outs) == len(products) == 3
    assert_close(products[0], np.cos(x) * v)
    assert_close(products[1], np.asarray((3 * x ** 2 * v).sum()))
    assert_close(products[2], np.zeros(2))  # detached: no dependence on x
    if torch is not None:
        _, t_products = torch.func.jvp(f(torch), (torch.tensor(x),), (torch.tensor(v),))
        assert_close(products, t_products)


@pytest.mark.parametrize("name", NAMES)
def test_vjp_matches_torch_func_vjp(name: str) -> None:
    arrays = INPUTS[name]
    out, pullback = tg.vjp(tg_fn(name), *arrays)
    cotangent = RNG.normal(size=out.shape)
    got = pullback(cotangent)
    jac = tg.jacobian(tg_fn(name), tuple(range(len(arrays))))(*arrays)
    for g, j in zip(got, jac):
        assert_close(g, np.tensordot(cotangent, j.numpy(), axes=cotangent.ndim))
    if torch is not None:
        _, t_pullback = torch.func.vjp(torch_fn(name), *torch_inputs(arrays))
        assert_close(got, t_pullback(torch.tensor(cotangent)))


@pytest.mark.parametrize("name", NAMES)
def test_grad_matches_torch_func_grad(name: str) -> None:
    arrays = INPUTS[name]
    for argnums in _argnums(name):
        got = tg.grad(scalar_tg(name), argnums)(*arrays)
        blocks = (got,) if isinstance(argnums, int) else got
        for block, i in zip(blocks, _blocks(argnums)):
            assert_close(block, numeric_jacobian(scalar_tg(name), arrays, i), **FD)
        if torch is not None:
            assert_close(got, torch.func.grad(scalar_torch(name), argnums)(
                *torch_inputs(arrays)))


def test_elementwise_grad_is_the_derivative_of_an_elementwise_function() -> None:
    x = RNG.normal(size=(3, 4))
    got = tg.elementwise_grad(lambda t: np.sin(t) * t ** 2)(x)
    assert_close(got, np.cos(x) * x ** 2 + 2 * x * np.sin(x))
    jac = tg.jacobian(lambda t: np.sin(t) * t ** 2)(x).numpy().reshape(12, 12)
    assert_close(got, np.diag(jac).reshape(3, 4))  # the Jacobian's diagonal
    if torch is not None:
        t = torch.tensor(x, requires_grad=True)
        (expected,) = torch.autograd.grad((torch.sin(t) * t ** 2).sum(), t)
        assert_close(got, expected)


def test_elementwise_grad_of_a_non_elementwise_function_is_the_sums_gradient() -> None:
    x, y = RNG.normal(size=4), RNG.normal(size=4)
    gx, gy = tg.elementwise_grad(lambda a, b: a * b.sum(), (0, 1))(x, y)
    assert_close(gx, np.full(4, y.sum()))
    assert_close(gy, np.full(4, x.sum()))


def test_transforms_nest_for_third_derivatives() -> None:
    x = np.array([0.5, -1.0])
    third = tg.jacobian(tg.hessian(lambda t: (t ** 4).sum()))(x)
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0], expected[1, 1, 1] = 24 * x
    assert_close(third, expected)
    # grad of a jvp: d/dx (cos(x) v) = -sin(x) v
    v = np.array([1.0, 2.0])
    g = tg.grad(lambda t: tg.jvp(np.sin, t, v)[1].sum())(x)
    assert_close(g, -np.sin(x) * v)
    h = tg.grad(lambda t: tg.hvp(lambda s: (s ** 3).sum(), t, v)[1].sum())(x)
    assert_close(h, 6 * v)


def test_float32_inputs_give_float32_results() -> None:
    x = np.array([1.0, 2.0], dtype=np.float32)
    assert tg.jacobian(lambda t: t * t)(x).dtype == np.float32
    assert tg.jvp(lambda t: t * t, x, np.ones(2, np.float32))[1].dtype == np.float32
    assert tg.hvp(lambda t: (t ** 3).sum(), x, [1.0, 1.0])[1].dtype == np.float32


def test_identity_unused_and_linear_cases() -> None:
    x, v = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    assert_close(tg.jvp(lambda t: t, x, v)[1], v)  # the output is the input itself
    assert_close(tg.jvp(lambda a, b: a * 2.0, (x, x), (v, v))[1], 2 * v)  # b unused
    assert_close(tg.hvp(lambda t: (t * 3.0).sum(), x, v)[1], np.zeros(2))  # linear: H = 0
    assert_close(tg.hessian(lambda a, b: (a ** 2).sum(), (0, 1))(x, x)[1][1], np.zeros((2, 2)))
    assert_close(tg.elementwise_grad(lambda t: t)(x), np.ones(2))
    assert_close(tg.grad(lambda t: tg.tensor(np.float64(1.0)))(x), np.zeros(2))  # constant
