"""An outside tester's cases for the numpy coverage and the function transforms: each one a
silent wrong answer found by trying to break them, pinned with its exact expected value (and
PyTorch's, where torch is importable; CI installs it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import GradientError, InPlaceModificationError

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

X = np.array([1.0, 2.0])
Y = np.array([0.5, -1.0])
V = np.array([1.0, -1.0])


def _close(got: Any, expected: Any) -> None:
    assert isinstance(got, tg.Tensor)
    np.testing.assert_allclose(got.numpy(), np.asarray(expected), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- nested transforms
def test_an_inner_transform_keeps_the_graph_of_an_argument_it_does_not_differentiate() -> None:
    # f(a, b) = sum(a b^2): d/db = 2 a b, whose Jacobian in a is diag(2 b)
    inner = tg.grad(lambda a, b: (a * b ** 2).sum(), 1)
    _close(tg.jacobian(inner, 0)(X, Y), np.diag(2 * Y))
    if torch is not None:
        expected = torch.func.jacrev(torch.func.grad(lambda a, b: (a * b ** 2).sum(), 1), 0)(
            torch.tensor(X), torch.tensor(Y))
        _close(tg.jacobian(inner, 0)(X, Y), expected.numpy())


def test_an_inner_transform_keeps_the_graph_of_a_closed_over_tensor() -> None:
    # every inner transform differentiates in b; the outer one differentiates in a, which
    # reaches the inner function only through its closure
    two_y = np.diag(2 * Y)
    _close(tg.jacobian(lambda a: tg.grad(lambda b: (a * b ** 2).sum())(Y))(X), two_y)
    _close(tg.jacobian(lambda a: tg.elementwise_grad(lambda b: a * b ** 2)(Y))(X), two_y)
    _close(tg.jacobian(lambda a: tg.jvp(lambda b: a * b ** 2, Y, V)[1])(X), np.diag(2 * Y * V))
    _close(tg.jacobian(lambda a: tg.hvp(lambda b: (a * b ** 3).sum(), Y, V)[1])(X),
           np.diag(6 * Y * V))
    expected = np.zeros((2, 2, 2))  # d/da_k of d(a_i b_i^2)/db_j = [i = j = k] 2 b_i
    expected[0, 0, 0], expected[1, 1, 1] = 2 * Y
    _close(tg.jacobian(lambda a: tg.jacobian(lambda b: a * b ** 2)(Y))(X), expected)


def test_a_transform_keeps_the_graph_to_a_closed_over_parameter_as_torch_func_does() -> None:
    w = tg.tensor(X, requires_grad=True)
    g = tg.grad(lambda b: (w * b ** 2).sum())(Y)
    _close(g.detach(), 2 * X * Y)
    assert g.requires_grad  # torch.func.grad's result has a grad_fn here too
    (dw,) = tg.gradients(g.sum(), [w])
    _close(dw, 2 * Y)


def test_the_pullback_of_vjp_records_its_graph_inside_another_transform() -> None:
    # the pullback of b -> b^3 at a with cotangent u is 3 a^2 u; its Jacobian is diag(6 a u)
    jac = tg.jacobian(lambda a: tg.vjp(lambda b: b ** 3, a)[1](V)[0])(X)
    _close(jac, np.diag(6 * X * V))
    if torch is not None:
        expected = torch.func.jacrev(lambda a: torch.func.vjp(lambda b: b ** 3, a)[1](
            torch.tensor(V))[0])(torch.tensor(X))
        _close(jac, expected.numpy())


def test_jvp_and_hvp_are_differentiable_in_a_tangent_that_requires_grad() -> None:
    # J v of b -> b^2 is 2 b v: its Jacobian in v is diag(2 b); H v of sum(b^3) is 6 b v
    _close(tg.jacobian(lambda v: tg.jvp(lambda b: b ** 2, Y, v)[1])(V), np.diag(2 * Y))
    _close(tg.jacobian(lambda v: tg.hvp(lambda b: (b ** 3).sum(), Y, v)[1])(V),
           np.diag(6 * Y))
    # the pullback of vjp is linear in its cotangent: d(3 b^2 u)/du = diag(3 b^2)
    _close(tg.jacobian(lambda u: tg.vjp(lambda b: b ** 3, Y)[1](u)[0])(V), np.diag(3 * Y ** 2))


# --------------------------------------------------------------------------- checkpoint
def test_checkpoint_refuses_a_segment_that_writes_into_its_input() -> None:
    # the segment ran on the caller's arrays: the forward changed h behind the graph's back,
    # the recomputation changed it again and w got the gradient of h + 2
    h = tg.tensor(np.array([1.0, 2.0]))
    w = tg.tensor(np.array([3.0, 4.0]), requires_grad=True)

    def segment(t: tg.Tensor, v: tg.Tensor) -> tg.Tensor:
        t += 1.0
        return (t * v).sum()

    with pytest.raises(InPlaceModificationError, match=r"checkpoint: .*in place.* input"):
        tg.checkpoint(segment, h, w)
    _close(h, [1.0, 2.0])  # untouched
    # writing into a copy is fine, and an output that is a view of an input stays writable
    y = tg.checkpoint(lambda t, v: ((t * 1.0).__iadd__(1.0) * v).sum(), h, w)
    y.backward()
    _close(w.grad, [2.0, 3.0])
    view = tg.checkpoint(lambda t, v: t.reshape(2, 1) * 1.0 + v.reshape(2, 1), h, w)
    same = tg.checkpoint(lambda t, v: t.reshape(2, 1), h, w)
    assert same._data.flags.writeable and view._data.flags.writeable



def test_checkpoint_refuses_a_recomputation_that_draws_another_dropout_mask() -> None:
    # a module with its own generator reached through a closure is not replayed: the
    # gradient would belong to another mask than the output
    drop = nn.Dropout(0.5, generator=0)
    x = tg.tensor(np.linspace(-1.0, 1.0, 64), requires_grad=True)
    y = tg.checkpoint(lambda t: drop(t) * 3.0, x)
    with pytest.raises(GradientError, match=r"checkpoint: recomputing the segment gave "
                                            r"other values"):
        y.sum().backward()
    # the module itself as the function is replayed, and gives the plain gradient
    x.grad = None
    y = tg.checkpoint(drop, x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, y.numpy() != 0)


# --------------------------------------------------------------------------- logaddexp
def test_logaddexp_at_an_infinite_and_a_finite_operand_has_torchs_gradient() -> None:
    # z = log(e^x + e^y) with x = +inf, y finite: dz/dx = 1/(1 + e^(y - x)) = 1, dz/dy = 0;
    # exp(x - z) made it exp(inf - inf) = nan. Both infinite stays nan, as in PyTorch.
    for fn in (np.logaddexp, np.logaddexp2):
        x = tg.tensor(np.array([np.inf, 1.0, np.inf, 2.0]), requires_grad=True)
        y = tg.tensor(np.array([1.0, np.inf, np.inf, 2.0]), requires_grad=True)
        fn(x, y).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, np.nan, 0.5], rtol=1e-15)
        np.testing.assert_allclose(y.grad.numpy(), [0.0, 1.0, np.nan, 0.5], rtol=1e-15)
    if torch is not None:
        tx = torch.tensor([np.inf, 1.0, np.inf, 2.0], requires_grad=True)
        ty = torch.tensor([1.0, np.inf, np.inf, 2.0], requires_grad=True)
        torch.logaddexp(tx, ty).sum().backward()
        np.testing.assert_array_equal(tx.grad.numpy(), [1.0, 0.0, np.nan, 0.5])
