"""Inverted dropout: the mask, its scaling, its gradient, eval mode, p = 0, p = 1 and bad p."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError
from tensorgraph.nn import functional as F


def test_mask_scales_survivors_and_gradient_is_zero_exactly_where_dropped() -> None:
    x = tg.tensor(np.random.default_rng(0).uniform(1, 2, (50, 40)), requires_grad=True)
    drop = nn.Dropout(0.3, generator=1)
    y = drop(x)
    kept = y.numpy() != 0
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / 0.7, rtol=1e-15)
    assert abs(kept.mean() - 0.7) < 0.03  # 2000 draws: about 3 standard deviations
    upstream = np.random.default_rng(2).normal(size=x.shape)
    y.backward(upstream)
    grad = x.grad.numpy()
    assert (grad[~kept] == 0).all()
    np.testing.assert_allclose(grad[kept], upstream[kept] / 0.7, rtol=1e-15)


def test_same_mask_reused_in_backward_and_mask_matches_numpy_transcription() -> None:
    p = 0.4
    x = np.random.default_rng(3).normal(size=(6, 5))
    y = F.dropout(tg.tensor(x), p, training=True, generator=np.random.default_rng(7))
    keep = np.random.default_rng(7).random(x.shape) >= p
    np.testing.assert_array_equal(y.numpy(), np.where(keep, x / (1 - p), 0.0))


def test_eval_and_p_zero_return_the_input_itself() -> None:
    x = tg.ones((3, 2), requires_grad=True)
    assert nn.Dropout(0.0)(x) is x
    assert nn.Dropout(0.5).eval()(x) is x
    assert F.dropout(x, 0.9, training=False) is x


@pytest.mark.parametrize("p", [-0.1, 1.5, True, np.bool_(True), "0.5", float("nan"), None])
def test_p_outside_unit_interval_is_a_clear_error(p: object) -> None:
    with pytest.raises(DomainError, match="Dropout: p must be a probability in \\[0, 1\\]"):
        nn.Dropout(p)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="dropout: p must be"):
        F.dropout(tg.ones(2), p)  # type: ignore[arg-type]


@pytest.mark.parametrize("p", [np.float32(0.5), np.float64(0.25), np.int64(0), 0, 1])
def test_numpy_and_integer_probabilities_are_accepted(p: object) -> None:
    drop = nn.Dropout(p, generator=0)  # type: ignore[arg-type]
    assert type(drop.p) is float and drop.p == float(p)  # type: ignore[arg-type]
    y = drop(tg.ones(1000))
    assert y.dtype == np.float32
    scale = np.float32(1 / (1 - drop.p)) if drop.p < 1 else np.float32(0)
    assert set(np.unique(y.numpy()).tolist()) <= {0.0, float(scale)}


def test_p_one_drops_everything_with_a_zero_gradient_as_pytorch() -> None:
    x = tg.tensor(np.random.default_rng(0).normal(size=(4, 3)), requires_grad=True)
    y = nn.Dropout(1.0, generator=0)(x)
    np.testing.assert_array_equal(y.numpy(), np.zeros((4, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((4, 3)))
    assert nn.Dropout(1.0).eval()(x) is x  # eval mode: the identity, whatever p
    try:
        import torch
    except ImportError:  # the check above stands alone
        return
    xt = torch.tensor(x.numpy(), requires_grad=True)
    yt = torch.nn.Dropout(1.0)(xt)
    yt.sum().backward()
    np.testing.assert_array_equal(yt.detach().numpy(), y.numpy())
    np.testing.assert_array_equal(xt.grad.numpy(), x.grad.numpy())


def test_seeded_masks_are_reproducible_and_keep_dtype() -> None:
    a, b = nn.Dropout(0.5, generator=5), nn.Dropout(0.5, generator=5)
    x = tg.ones((4, 4))
    first = a(x)
    np.testing.assert_array_equal(first.numpy(), b(x).numpy())
    assert first.dtype == np.float32
    assert not np.array_equal(a(x).numpy(), first.numpy())  # the generator advances
    tg.manual_seed(3)
    c = nn.Dropout(0.5)(x).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).numpy(), c)


def test_expected_value_is_preserved() -> None:
    x = tg.ones(200_00)
    assert abs(float(nn.Dropout(0.2, generator=0)(x).mean()) - 1.0) < 0.02
