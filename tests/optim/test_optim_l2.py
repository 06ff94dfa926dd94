"""L2 penalty in the loss == coupled weight decay (SGD, Adam); decoupled AdamW differs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import optim

LAM, M = 0.7, 16


def _penalty(weights: list[tg.Tensor], lam: float, m: int) -> tg.Tensor:
    """lam / (2 m) * sum ||W||_F^2, the cost of the original formulation."""
    total = (weights[0] * weights[0]).sum()
    for w in weights[1:]:
        total = total + (w * w).sum()
    return total * (lam / (2 * m))


def _train(
    make_opt: Callable[[list[dict[str, Any]]], optim.Optimizer], penalty: bool, steps: int = 12
) -> list[np.ndarray]:
    rng = np.random.default_rng(8)
    x = tg.tensor(rng.standard_normal((M, 4)))
    y = tg.tensor(rng.standard_normal((M, 2)))
    w = tg.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = tg.tensor(rng.standard_normal(2), requires_grad=True)
    opt = make_opt([{"params": [w]}, {"params": [b], "weight_decay": 0.0}])
    for _ in range(steps):
        opt.zero_grad()
        r = x @ w.T + b - y
        loss = (r * r).sum() / (2 * M)
        if penalty:
            loss = loss + _penalty([w], LAM, M)  # weights only, not the bias
        loss.backward()
        opt.step()
    return [w.numpy().copy(), b.numpy().copy()]


def test_penalty_gradient_is_lam_over_m_times_w() -> None:
    w = tg.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    _penalty([w], LAM, M).backward()
    assert w.grad is not None
    np.testing.assert_allclose(w.grad.numpy(), LAM / M * w.numpy(), rtol=1e-14)


@pytest.mark.parametrize(
    "cls, kw",
    [
        (optim.SGD, {"lr": 0.1}),
        (optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        (optim.Adam, {"lr": 0.05}),
        (optim.Adam, {"lr": 0.05, "amsgrad": True}),
        (optim.RMSprop, {"lr": 0.01}),
    ],
    ids=lambda v: str(v),
)
def test_l2_penalty_equals_coupled_weight_decay(
    cls: type[optim.Optimizer], kw: dict[str, Any]
) -> None:
    with_penalty = _train(lambda groups: cls(groups, **kw), penalty=True)
    with_decay = _train(lambda groups: cls(groups, weight_decay=LAM / M, **kw), penalty=False)
    plain = _train(lambda groups: cls(groups, **kw), penalty=False)
    for a, b in zip(with_penalty, with_decay):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # and the regulariser does something, so the agreement above is not vacuous
    assert np.abs(with_penalty[0] - plain[0]).max() > 1e-3


def test_adamw_is_not_an_l2_penalty() -> None:
    adam_l2 = _train(lambda groups: optim.Adam(groups, lr=0.05), penalty=True)
    adamw = _train(lambda groups: optim.AdamW(groups, lr=0.05, weight_decay=LAM / M),
                   penalty=False)  # fmt: skip
    # the decoupled decay is not rescaled by 1/sqrt(v_hat): the weights land elsewhere
    assert np.abs(adam_l2[0] - adamw[0]).max() > 1e-3
    # AdamW with zero decay is plain Adam
    adam = _train(lambda groups: optim.Adam(groups, lr=0.05), penalty=False)
    adamw0 = _train(lambda groups: optim.AdamW(groups, lr=0.05, weight_decay=0.0), penalty=False)
    for a, b in zip(adam, adamw0):
        np.testing.assert_array_equal(a, b)
