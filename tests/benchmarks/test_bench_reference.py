"""The hand-written numpy reference model against tensorgraph's, in float64.

The benchmark's claim "tensorgraph vs hand-written numpy" is only fair if both compute the
same thing: same cost, same gradients (to 1e-12), same Adam update, same running statistics.
Dropout masks are shared by reading tensorgraph's mask off its dropout output (an element is
kept exactly where the output is non-zero; where the ReLU output is zero the mask changes
neither the forward nor any gradient).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import tg_model
from benchmarks.reference_numpy import MLPSpec, NumpyMLP, init_params, make_data


def _pairs(model: object, spec: MLPSpec) -> dict[str, object]:
    """Parameter name in the numpy model -> the tensorgraph Parameter."""
    pairs: dict[str, object] = {}
    for i, (lin, bn, _act, _drop) in enumerate(model.blocks, start=1):  # type: ignore[attr-defined]
        pairs[f"W{i}"], pairs[f"gamma{i}"], pairs[f"beta{i}"] = lin.weight, bn.weight, bn.bias
    last = len(spec.hidden) + 1
    pairs[f"W{last}"] = model.head.weight  # type: ignore[attr-defined]
    pairs[f"b{last}"] = model.head.bias  # type: ignore[attr-defined]
    return pairs


@pytest.mark.parametrize("batch", [5, 32])
def test_numpy_reference_matches_tensorgraph_to_1e_12(batch: int) -> None:
    spec = MLPSpec(n_in=7, hidden=(9, 6))
    params = init_params(spec, np.float64, seed=3)
    x, y = make_data(spec, batch, np.float64, seed=4)
    tg_net = tg_model.TensorgraphMLP(params, spec, generator=np.random.default_rng(5))
    ref = NumpyMLP(params, spec)
    pairs = _pairs(tg_net, spec)
    for _ in range(3):  # three steps: the Adam state and its bias correction are compared too
        tg_net.optimizer.zero_grad()
        record: list[object] = []
        cost = tg_net.forward(x, y, record=record)
        masks = [np.asarray(r.numpy()) != 0 for r in record]  # type: ignore[attr-defined]
        assert all(m.shape == (batch, h) for m, h in zip(masks, spec.hidden))
        assert any(not m.all() for m in masks), "dropout should have dropped something"
        ref_cost, cache = ref.forward(x, y, masks)
        assert abs(float(cost.item()) - ref_cost) <= 1e-12 * max(1.0, abs(ref_cost))
        cost.backward()
        grads = ref.backward(cache)
        assert set(grads) == set(pairs)
        for name, p in pairs.items():
            got = p.grad.numpy()  # type: ignore[attr-defined]
            assert got.dtype == np.float64
            np.testing.assert_allclose(got, grads[name], rtol=0, atol=1e-12, err_msg=name)
        tg_net.optimizer.step()
        ref.adam(grads)
        for name, p in pairs.items():
            np.testing.assert_allclose(p.numpy(), ref.params[name], rtol=0, atol=1e-12,  # type: ignore[attr-defined]
                                       err_msg=f"{name} after Adam")
    for i, (_lin, bn, _a, _d) in enumerate(tg_net.blocks):
        np.testing.assert_allclose(bn.running_mean.numpy(), ref.running_mean[i], atol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), ref.running_var[i], atol=1e-12)


def test_numpy_reference_gradient_matches_finite_differences() -> None:
    """The hand-derived backward on its own, against central differences (no tensorgraph)."""
    spec = MLPSpec(n_in=4, hidden=(5, 3))
    params = init_params(spec, np.float64, seed=1)
    x, y = make_data(spec, 6, np.float64, seed=2)
    ref = NumpyMLP(params, spec)
    masks = ref.draw_masks(6)
    _, cache = ref.forward(x, y, masks)
    grads = ref.backward(cache)
    h = 1e-6
    for name, value in ref.params.items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + h
            up = ref.forward(x, y, masks)[0]
            value[idx] = old - h
            down = ref.forward(x, y, masks)[0]
            value[idx] = old
            numeric[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-6, atol=1e-7, err_msg=name)


def test_step_returns_the_cost_and_learns() -> None:
    spec = MLPSpec(n_in=6, hidden=(8, 8), p=0.0, lam=0.0, lr=1e-2)
    params = init_params(spec, np.float64)
    x, y = make_data(spec, 64, np.float64)
    ref = NumpyMLP(params, spec)
    first = ref.step(x, y)
    for _ in range(50):
        last = ref.step(x, y)
    assert np.isfinite(first) and last < 0.5 * first
