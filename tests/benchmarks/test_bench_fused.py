"""Fused ops added for speed, against the composite form they replace."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.nn import functional as F


@pytest.mark.parametrize("shape", [(), (5,), (4, 3), (2, 3, 4)])
def test_sum_of_squares_matches_the_composite_value_and_gradient(shape: tuple[int, ...]) -> None:
    data = np.random.default_rng(len(shape)).normal(size=shape)
    upstream = 0.7
    fused_x = tg.tensor(data, requires_grad=True)
    fused = F.sum_of_squares(fused_x)
    (fused * upstream).backward()
    comp_x = tg.tensor(data, requires_grad=True)
    comp = (comp_x * comp_x).sum()
    (comp * upstream).backward()
    assert fused.shape == comp.shape == ()
    np.testing.assert_allclose(float(fused), float(comp), rtol=1e-12)
    assert fused_x.grad is not None and comp_x.grad is not None
    np.testing.assert_allclose(fused_x.grad.numpy(), comp_x.grad.numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(fused_x.grad.numpy(), 2 * upstream * data, rtol=1e-12)


def test_sum_of_squares_keeps_float32_and_is_twice_differentiable() -> None:
    x = tg.tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    y = F.sum_of_squares(x)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    hess_row = tg.grad(lambda t: tg.grad(F.sum_of_squares)(t)[0])(
        tg.tensor([1.5, -2.0], dtype="float64"))
    np.testing.assert_allclose(hess_row.numpy(), [2.0, 0.0])


def test_l2_penalty_with_the_fused_op_equals_the_formula() -> None:
    rng = np.random.default_rng(0)
    ws = [tg.tensor(rng.normal(size=s), requires_grad=True) for s in [(3, 2), (1, 3)]]
    lam, m = 0.7, 8
    cost = nn.l2_penalty(ws, lam, m)
    expected = lam / (2 * m) * sum(float(np.sum(w.numpy() ** 2)) for w in ws)
    np.testing.assert_allclose(float(cost), expected, rtol=1e-12)
    cost.backward()
    for w in ws:
        assert w.grad is not None
        np.testing.assert_allclose(w.grad.numpy(), lam / m * w.numpy(), rtol=1e-12)
