"""The pure update functions against plain numpy transcriptions of their formulas."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from optim_reference import ref_adam, ref_rmsprop, ref_sgd

from tensorgraph.optim import functional as F

TOL = {"rtol": 1e-12, "atol": 1e-14}


def _draws(seed: int, n: int, shape: tuple[int, ...] = (3, 4)) -> tuple[np.ndarray, list[Any]]:
    rng = np.random.default_rng(seed)
    p = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(n)]
    for g in grads:
        g.flags.writeable = False  # the update must never write into the gradient
    return p, grads


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    {"lr": 0.1, "weight_decay": 0.2, "maximize": True},
    {"lr": 0.1, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.01, "maximize": True},
]


@pytest.mark.parametrize("hp", SGD_CASES, ids=str)
def test_sgd_update_matches_formulas(hp: dict[str, Any]) -> None:
    p, grads = _draws(0, 7)
    ref, ref_buf = p.copy(), None
    buf = None
    tmp, gtmp = np.empty_like(p), np.empty_like(p)
    for g in grads:
        buf = F.sgd_update(p, g, buf, scratch=tmp, grad_scratch=gtmp, **hp)
        ref, ref_buf = ref_sgd(ref, g, ref_buf, **hp)
        np.testing.assert_allclose(p, ref, **TOL)
    if hp.get("momentum", 0):
        assert buf is not None and ref_buf is not None
        np.testing.assert_allclose(buf, ref_buf, **TOL)
    else:
        assert buf is None


def test_sgd_first_momentum_step_is_plain_sgd() -> None:
    # the buffer starts as the gradient itself (not zero), so step 1 is p - lr g
    p, (g,) = _draws(1, 1)
    expected = p - 0.1 * g
    buf = F.sgd_update(p, g, None, lr=0.1, momentum=0.9)
    np.testing.assert_array_equal(buf, g)
    np.testing.assert_allclose(p, expected, **TOL)


RMSPROP_CASES = [
    {},
    {"lr": 0.01, "alpha": 0.9},
    {"lr": 0.01, "centered": True},
    {"lr": 0.01, "momentum": 0.9},
    {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
    {"lr": 0.02, "alpha": 0.3, "eps": 1e-3, "maximize": True},  # alpha < 0.5: other lerp branch
]


@pytest.mark.parametrize("hp", RMSPROP_CASES, ids=str)
def test_rmsprop_update_matches_formulas(hp: dict[str, Any]) -> None:
    p, grads = _draws(2, 7)
    v, gbar, buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    ref = (p.copy(), v.copy(), gbar.copy(), buf.copy())
    for g in grads:
        F.rmsprop_update(p, g, v, gbar, buf, **hp)
        ref = ref_rmsprop(ref[0], g, ref[1], ref[2], ref[3], **hp)
        np.testing.assert_allclose(p, ref[0], **TOL)
        np.testing.assert_allclose(v, ref[1], **TOL)


ADAM_CASES = [
    {},
    {"lr": 0.01, "beta1": 0.8, "beta2": 0.99},
    {"lr": 0.01, "weight_decay": 0.1},
    {"lr": 0.01, "amsgrad": True},
    {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05, "maximize": True},
    {"lr": 0.01, "eps": 1e-3, "eps_inside_sqrt": True},
    {"lr": 0.01, "beta1": 0.3, "beta2": 0.6},  # beta1 < 0.5: the other lerp branch
]


@pytest.mark.parametrize("decoupled", [False, True], ids=["adam", "adamw"])
@pytest.mark.parametrize("hp", ADAM_CASES, ids=str)
def test_adam_update_matches_formulas(hp: dict[str, Any], decoupled: bool) -> None:
    p, grads = _draws(3, 8)
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    ref = (p.copy(), m.copy(), v.copy(), vmax.copy())
    update = F.adamw_update if decoupled else F.adam_update
    kw = {"weight_decay": 0.0, **hp} if decoupled and "weight_decay" not in hp else hp
    for t, g in enumerate(grads, start=1):
        update(p, g, m, v, vmax, step=t, **kw)
        ref = ref_adam(ref[0], g, ref[1], ref[2], ref[3], t, decoupled=decoupled, **kw)
        np.testing.assert_allclose(p, ref[0], **TOL)
        np.testing.assert_allclose(m, ref[1], **TOL)
        np.testing.assert_allclose(v, ref[2], **TOL)


def test_adam_bias_correction_by_hand() -> None:
    # one scalar, two steps, every quantity written out
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    p = np.array([1.0])
    m, v = np.zeros(1), np.zeros(1)
    F.adam_update(p, np.array([0.5]), m, v, step=1, lr=lr, beta1=b1, beta2=b2, eps=eps)
    # t = 1: m = 0.05, v = 0.00025; m_hat = 0.5, v_hat = 0.25: the step is lr * 0.5/(0.5+eps)
    np.testing.assert_allclose(m, [0.05], rtol=1e-15)
    np.testing.assert_allclose(v, [0.00025], rtol=1e-15)
    p1 = 1.0 - lr * 0.5 / (0.5 + eps)
    np.testing.assert_allclose(p, [p1], rtol=1e-15)
    F.adam_update(p, np.array([-1.0]), m, v, step=2, lr=lr, beta1=b1, beta2=b2, eps=eps)
    m2, v2 = 0.9 * 0.05 + 0.1 * -1.0, 0.999 * 0.00025 + 0.001 * 1.0
    m_hat, v_hat = m2 / (1 - 0.9**2), v2 / (1 - 0.999**2)
    np.testing.assert_allclose(p, [p1 - lr * m_hat / (np.sqrt(v_hat) + eps)], rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_lr() -> None:
    # bias correction makes the first step lr * g / (|g| + eps): about lr * sign(g)
    p, (g,) = _draws(4, 1)
    p0 = p.copy()
    F.adam_update(p, g, np.zeros_like(p), np.zeros_like(p), step=1, lr=0.01, eps=1e-12)
    np.testing.assert_allclose(p0 - p, 0.01 * np.sign(g), rtol=1e-9)


def test_adamw_decay_applies_before_the_adam_step() -> None:
    # with a zero gradient the moments stay zero and only the decay moves p
    p, _ = _draws(5, 0)
    p0 = p.copy()
    z = np.zeros_like(p)
    z.flags.writeable = False
    F.adamw_update(p, z, np.zeros_like(p), np.zeros_like(p), step=1, lr=0.1, weight_decay=0.5)
    np.testing.assert_allclose(p, p0 * (1 - 0.1 * 0.5), **TOL)


def test_float32_stays_float32() -> None:
    rng = np.random.default_rng(6)
    p = rng.standard_normal(5).astype(np.float32)
    g = rng.standard_normal(5).astype(np.float32)
    m, v, vmax = (np.zeros(5, np.float32) for _ in range(3))
    F.adam_update(p, g, m, v, vmax, step=1, amsgrad=True, weight_decay=0.1)
    sq, gbar, rbuf = (np.zeros(5, np.float32) for _ in range(3))
    F.rmsprop_update(p, g, sq, gbar, rbuf, centered=True, momentum=0.9, weight_decay=0.1)
    buf = F.sgd_update(p, g, None, lr=0.1, momentum=0.9, weight_decay=0.1)
    assert buf is not None
    arrays = (p, m, v, vmax, sq, gbar, rbuf, buf)
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_missing_state_arrays_are_named() -> None:
    p, (g,) = _draws(7, 1)
    z = np.zeros_like(p)
    with pytest.raises(ValueError, match="amsgrad"):
        F.adam_update(p, g, z, z.copy(), step=1, amsgrad=True)
    with pytest.raises(ValueError, match="1-based"):
        F.adam_update(p, g, z, z.copy(), step=0)
    with pytest.raises(ValueError, match="grad_avg"):
        F.rmsprop_update(p, g, z, centered=True)
    with pytest.raises(ValueError, match="momentum_buffer"):
        F.rmsprop_update(p, g, z, momentum=0.9)
