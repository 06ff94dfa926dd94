"""An outside tester's attacks on ``tg.compile``: compiled and eager agree bit for bit, or
the function runs eagerly with a warning; never a silent divergence."""

from __future__ import annotations

from typing import Any

import numpy as np

import tensorgraph as tg
from tensorgraph import nn, optim


def _mlp() -> Any:
    with tg.default_dtype(np.float64):
        tg.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 1))


def _batch(i: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(i)
    return tg.tensor(rng.standard_normal((8, 6))), tg.tensor(rng.standard_normal((8, 1)))


def test_a_parameter_frozen_between_calls_is_not_updated_by_a_replay() -> None:
    # requires_grad_(False) on a parameter (fine-tuning: freeze a layer) after the trace:
    # eagerly it gets no gradient and the optimizer skips it
    results = []
    for compiled in (False, True):
        model = _mlp()
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x: Any, y: Any, model: Any = model, opt: Any = opt) -> Any:
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        run = tg.compile(step) if compiled else step
        first = model[0].weight
        for i in range(5):
            first.requires_grad_(i not in (2, 3))
            run(*_batch(i))
            if i in (2, 3):
                assert first.grad is None
        results.append([p.numpy().copy() for p in model.parameters()])
    for eager, fast in zip(*results):
        np.testing.assert_array_equal(fast, eager)
