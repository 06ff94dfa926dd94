"""The L2 cost term and the selection of weight matrices."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError
from tensorgraph.testing import gradcheck


def test_l2_penalty_value_and_gradient() -> None:
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(3, 2)), rng.normal(size=(1, 3))
    lam, m = 0.7, 12
    a, b = tg.tensor(w1, requires_grad=True), tg.tensor(w2, requires_grad=True)
    cost = nn.l2_penalty([a, b], lam, m)
    expected = lam / (2 * m) * ((w1**2).sum() + (w2**2).sum())
    assert float(cost) == pytest.approx(expected, rel=1e-14)
    cost.backward()
    np.testing.assert_allclose(a.grad.numpy(), lam / m * w1, rtol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), lam / m * w2, rtol=1e-14)
    assert gradcheck(lambda x, y: nn.l2_penalty([x, y], lam, m), w1, w2)


def test_l2_penalty_keeps_float32() -> None:
    assert nn.l2_penalty([tg.ones((2, 2))], 0.1, 4).dtype == np.float32


def test_weight_matrices_excludes_biases_and_batch_norm() -> None:
    net = nn.MLP([3, 4, 4, 1], batch_norm=True, dropout=0.1, generator=0)
    selected = nn.weight_matrices(net)
    assert selected == [net[0].weight, net[4].weight, net[8].weight]
    tied = nn.Sequential(nn.Linear(2, 2, generator=0), nn.Linear(2, 2, generator=1))
    tied[1].weight = tied[0].weight
    assert len(nn.weight_matrices(tied)) == 1


def test_l2_penalty_errors() -> None:
    w = [tg.ones((2, 2))]
    with pytest.raises(DomainError, match="lam must be >= 0"):
        nn.l2_penalty(w, -1.0, 3)
    with pytest.raises(DomainError, match="m \\(the number of examples\\) must be > 0"):
        nn.l2_penalty(w, 0.1, 0)
    with pytest.raises(DomainError, match="no parameters given"):
        nn.l2_penalty(iter([]), 0.1, 3)
    with pytest.raises(TypeError, match="expected Tensors"):
        nn.l2_penalty([np.ones(2)], 0.1, 3)  # type: ignore[list-item]
