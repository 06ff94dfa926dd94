"""Issue 3's "done when": Linear -> BatchNorm1d -> ReLU -> Dropout (x 2) -> Linear, trained
with Adam and an L2 penalty; the whole model's loss passes a gradient check w.r.t. every
parameter, and the model separates two interleaved spirals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.nn import functional as F
from tensorgraph.optim import Adam
from tensorgraph.testing import gradcheck


def two_spirals(n: int, rng: np.random.Generator, turns: float = 2.0,
                noise: float = 0.04) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaved spiral arms (labels 0 and 1), shape (n, 2) and (n, 1)."""
    radius = np.sqrt(rng.uniform(0.05, 1.0, n))  # uniform density over the disc
    label = np.arange(n) % 2
    angle = 2 * np.pi * turns * radius + np.pi * label
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return points + noise * rng.normal(size=(n, 2)), label.reshape(-1, 1).astype(np.float64)


def build(hidden: int, dtype: Any, seed: int, output: nn.Module | None = None) -> nn.Sequential:
    rng = np.random.default_rng(seed)
    layers: list[nn.Module] = [
        nn.Linear(2, hidden, bias=False, dtype=dtype, generator=rng),
        nn.BatchNorm1d(hidden, dtype=dtype), nn.ReLU(), nn.Dropout(0.1, generator=rng),
        nn.Linear(hidden, hidden, bias=False, dtype=dtype, generator=rng),
        nn.BatchNorm1d(hidden, dtype=dtype), nn.ReLU(), nn.Dropout(0.1, generator=rng),
        nn.Linear(hidden, 1, dtype=dtype, generator=rng),
    ]
    if output is not None:
        layers.append(output)
    return nn.Sequential(*layers)


def loss_of_parameters(model: nn.Module, x: np.ndarray, y: np.ndarray, lam: float,
                       loss: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    """The training loss as a function of the parameter values (a functional call): each
    argument stands in for one of ``model.parameters()``, in order."""
    slots = [(module, name) for module in model.modules()
             for name, p in module._parameters.items() if p is not None]

    def fn(*params: tg.Tensor) -> Any:
        saved = [module._parameters[name] for module, name in slots]
        for (module, name), p in zip(slots, params):
            module._parameters[name] = p  # type: ignore[assignment]
        try:
            weights = [p for p in params if p.ndim >= 2]
            return loss(model(tg.tensor(x)), y) + nn.l2_penalty(weights, lam, len(x))
        finally:
            for (module, name), p in zip(slots, saved):
                module._parameters[name] = p

    return fn


def _dropout_off(model: nn.Module) -> None:
    model.train()  # batch-norm normalises with the batch's statistics, as in training
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()


@pytest.mark.parametrize("head", ["logits", "sigmoid"])
def test_whole_model_loss_passes_gradcheck_for_every_parameter(head: str) -> None:
    x, y = two_spirals(24, np.random.default_rng(0))
    if head == "logits":
        model, loss = build(6, np.float64, seed=1), F.binary_cross_entropy_with_logits
    else:
        model, loss = build(6, np.float64, seed=1, output=nn.Sigmoid()), F.binary_cross_entropy
    _dropout_off(model)
    params = list(model.parameters())
    assert len(params) == 8  # W1, gamma1, beta1, W2, gamma2, beta2, W3, b3
    fn = loss_of_parameters(model, x, y, lam=0.1, loss=loss)
    assert gradcheck(fn, *[p.numpy().copy() for p in params])
    # and the gradients the model's own backward leaves in .grad are that same gradient
    value = fn(*params)
    value.backward()
    fresh = [tg.tensor(p.numpy().copy(), requires_grad=True) for p in params]
    expected = tg.gradients(fn(*fresh), fresh)
    for p, g in zip(params, expected):
        np.testing.assert_allclose(p.grad.numpy(), g.numpy(), rtol=1e-12, atol=1e-14)


def test_trains_to_separate_two_spirals() -> None:
    rng = np.random.default_rng(0)
    x, y = two_spirals(256, rng)
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    model = build(32, np.float32, seed=0)
    optimizer = Adam(model.parameters(), lr=0.03)
    lam, batch = 1e-3, 64
    for _ in range(60):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            optimizer.zero_grad()
            loss = (F.binary_cross_entropy_with_logits(model(tg.tensor(x32[idx])), y32[idx])
                    + nn.l2_penalty(nn.weight_matrices(model), lam, len(x)))
            loss.backward()
            optimizer.step()
    model.eval()
    with tg.no_grad():
        predicted = model(tg.tensor(x32)).numpy() > 0
    accuracy = (predicted == (y32 > 0.5)).mean()
    assert accuracy >= 0.95, f"training accuracy {accuracy:.3f}"
    assert all(p.dtype == np.float32 for p in model.parameters())
