"""L2 penalty in the loss == coupled weight decay (SGD, Adam, RMSprop); AdamW differs.

The penalty is ``nn.l2_penalty`` (lam / (2 m) * sum ||W||_F^2 over the weight matrices),
whose gradient adds lam / m * W; the optimizers get ``weight_decay = lam / m`` on the same
weight matrices (biases in a group without decay).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim

LAM, M = 0.7, 16


def _train(
    make_opt: Callable[[list[dict[str, Any]]], optim.Optimizer], penalty: bool, steps: int = 12
) -> list[np.ndarray]:
    rng = np.random.default_rng(8)
    x = tg.tensor(rng.standard_normal((M, 4)))
    y = tg.tensor(rng.standard_normal((M, 2)))
    model = nn.Sequential(
        nn.Linear(4, 5, dtype=np.float64, generator=rng),
        nn.Tanh(),
        nn.Linear(5, 2, dtype=np.float64, generator=rng),
    )
    weights = nn.weight_matrices(model)
    others = [p for p in model.parameters() if all(p is not w for w in weights)]
    assert len(weights) == 2 and len(others) == 2  # the two biases
    opt = make_opt([{"params": weights}, {"params": others, "weight_decay": 0.0}])
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        if penalty:
            loss = loss + nn.l2_penalty(weights, LAM, M)
        loss.backward()
        opt.step()
    return [p.numpy().copy() for p in model.parameters()]


def test_penalty_gradient_is_lam_over_m_times_w() -> None:
    w = tg.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    nn.l2_penalty([w], LAM, M).backward()
    assert w.grad is not None
    np.testing.assert_allclose(w.grad.numpy(), LAM / M * w.numpy(), rtol=1e-14)


@pytest.mark.parametrize(
    ("cls", "kw"),
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
    adamw = _train(lambda groups: optim.AdamW(groups, lr=0.05, weight_decay=LAM / M), penalty=False)
    # the decoupled decay is not rescaled by 1/(sqrt(v_hat) + eps): the weights land elsewhere
    assert np.abs(adam_l2[0] - adamw[0]).max() > 1e-3
    # while AdamW without decay is exactly Adam
    adam = _train(lambda groups: optim.Adam(groups, lr=0.05), penalty=False)
    adamw0 = _train(lambda groups: optim.AdamW(groups, lr=0.05, weight_decay=0.0), penalty=False)
    for a, b in zip(adam, adamw0):
        np.testing.assert_array_equal(a, b)
