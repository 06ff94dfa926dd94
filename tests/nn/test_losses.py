"""Losses: numpy transcriptions of the formulas, PyTorch agreement in float64, extreme
logits, reductions and the clear errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError, DTypeError, ShapeError
from tensorgraph.nn import functional as F
from tensorgraph.testing import gradcheck

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(0, 3, (5, 4))
LABELS = np.array([0, 3, 1, 3, 2])
ONE_HOT = np.eye(4)[LABELS]
SOFT = RNG.dirichlet(np.ones(4), size=5)
BINARY = (RNG.random((5, 4)) > 0.5).astype(np.float64)
PROBS = RNG.uniform(0.05, 0.95, (5, 4))


def _reduce(values: np.ndarray, reduction: str) -> Any:
    return {"mean": values.mean(), "sum": values.sum(), "none": values}[reduction]


def _np_log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# numpy transcriptions of the textbook formulas (per-element / per-sample losses)
NUMPY: dict[str, Callable[..., np.ndarray]] = {
    "bce_logits": lambda z, y: -(y * np.log(1 / (1 + np.exp(-z)))
                                 + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z)))),
    "bce": lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)),
    "ce_labels": lambda z, y: -_np_log_softmax(z)[np.arange(len(y)), y],
    "ce_probs": lambda z, t: -(t * _np_log_softmax(z)).sum(axis=1),
    "nll": lambda lp, y: -lp[np.arange(len(y)), y],
    "mse": lambda x, y: (x - y) ** 2,
}

CASES = [
    ("bce_logits", F.binary_cross_entropy_with_logits, LOGITS, BINARY),
    ("bce_logits", F.binary_cross_entropy_with_logits, LOGITS, PROBS),
    ("bce", F.binary_cross_entropy, PROBS, BINARY),
    ("ce_labels", F.cross_entropy, LOGITS, LABELS),
    ("ce_probs", F.cross_entropy, LOGITS, SOFT),
    ("nll", F.nll_loss, _np_log_softmax(LOGITS), LABELS),
    ("mse", F.mse_loss, LOGITS, PROBS),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("key", "fn", "x", "target"), CASES)
def test_losses_match_numpy_formulas(key: str, fn: Any, x: np.ndarray, target: np.ndarray,
                                     reduction: str) -> None:
    out = fn(tg.tensor(x), target, reduction=reduction)
    expected = _reduce(NUMPY[key](x, target), reduction)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("key", "fn", "x", "target"), CASES)
def test_losses_pass_gradcheck(key: str, fn: Any, x: np.ndarray, target: np.ndarray) -> None:
    assert gradcheck(lambda a: fn(a, target), x)


def test_losses_match_torch_values_and_gradients() -> None:
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    pairs = [
        (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits, LOGITS,
         torch.from_numpy(PROBS), PROBS),
        (F.binary_cross_entropy, tf.binary_cross_entropy, PROBS, torch.from_numpy(BINARY),
         BINARY),
        (F.cross_entropy, tf.cross_entropy, LOGITS, torch.from_numpy(LABELS), LABELS),
        (F.cross_entropy, tf.cross_entropy, LOGITS, torch.from_numpy(SOFT), SOFT),
        (F.nll_loss, tf.nll_loss, _np_log_softmax(LOGITS), torch.from_numpy(LABELS), LABELS),
        (F.mse_loss, tf.mse_loss, LOGITS, torch.from_numpy(PROBS), PROBS),
    ]
    for ours, theirs, x, t_target, target in pairs:
        for reduction in ("mean", "sum", "none"):
            a = tg.tensor(x, requires_grad=True)
            out = ours(a, target, reduction=reduction)
            b = torch.tensor(x, requires_grad=True)
            ref = theirs(b, t_target, reduction=reduction)
            np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12,
                                       atol=1e-14)
            up = np.random.default_rng(1).normal(size=out.shape)
            out.backward(up)
            ref.backward(torch.from_numpy(up))
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-11,
                                       atol=1e-14)


def test_cross_entropy_on_k_dim_input_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    z = RNG.normal(size=(3, 4, 2))
    y = np.array([[0, 3], [2, 2], [1, 0]])
    out = F.cross_entropy(tg.tensor(z), y)
    ref = torch.nn.functional.cross_entropy(torch.from_numpy(z), torch.from_numpy(y))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)


def test_cross_entropy_with_int_labels_equals_one_hot_and_log_softmax_nll() -> None:
    z = tg.tensor(LOGITS, requires_grad=True)
    by_label = F.cross_entropy(z, LABELS)
    by_label.backward()
    g_label = z.grad.numpy().copy()
    z.grad = None
    by_onehot = F.cross_entropy(z, ONE_HOT)
    by_onehot.backward()
    np.testing.assert_allclose(by_label.numpy(), by_onehot.numpy(), rtol=1e-14)
    np.testing.assert_allclose(g_label, z.grad.numpy(), rtol=1e-14)
    composed = F.nll_loss(F.log_softmax(z, axis=1), LABELS)
    np.testing.assert_allclose(composed.numpy(), by_label.numpy(), rtol=1e-14)
    # the gradient is (softmax - onehot) / N
    p = np.exp(_np_log_softmax(LOGITS))
    np.testing.assert_allclose(g_label, (p - ONE_HOT) / len(LABELS), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_finite_at_extreme_logits(dtype: Any) -> None:
    z = tg.tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0], dtype=dtype),
                  requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 1000.0, 1000.0, np.log(2)],
                               rtol=1e-6)
    loss.sum().backward()
    # gradient sigmoid(z) - y
    np.testing.assert_allclose(z.grad.numpy(), [0.0, 0.0, 1.0, -1.0, -0.5], atol=1e-7)
    assert np.isfinite(z.grad.numpy()).all() and z.grad.dtype == dtype


def test_bce_on_saturated_probabilities_is_clipped_and_finite() -> None:
    p = tg.tensor([0.0, 1.0, 0.5], dtype=np.float64, requires_grad=True)
    loss = F.binary_cross_entropy(p, [1.0, 0.0, 1.0], reduction="none")
    np.testing.assert_allclose(loss.numpy(), [-np.log(1e-7), -np.log(1e-7), np.log(2)],
                               rtol=1e-9)
    loss.sum().backward()
    assert np.isfinite(p.grad.numpy()).all()


def test_cross_entropy_is_finite_for_huge_logits() -> None:
    z = tg.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(z, np.array([1]))
    loss.backward()
    assert float(loss) == pytest.approx(2000.0)
    assert np.isfinite(z.grad.numpy()).all()


def test_loss_modules_use_their_reduction() -> None:
    x = tg.tensor(LOGITS)
    for module, fn, target in [
        (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, BINARY),
        (nn.CrossEntropyLoss, F.cross_entropy, LABELS),
        (nn.NLLLoss, F.nll_loss, LABELS), (nn.MSELoss, F.mse_loss, PROBS),
    ]:
        for reduction in ("mean", "sum", "none"):
            np.testing.assert_array_equal(module(reduction)(x, target).numpy(),
                                          fn(x, target, reduction).numpy())
    assert repr(nn.MSELoss("sum")) == "MSELoss(reduction='sum')"
    np.testing.assert_array_equal(nn.BCELoss()(tg.tensor(PROBS), BINARY).numpy(),
                                  F.binary_cross_entropy(tg.tensor(PROBS), BINARY).numpy())
    with pytest.raises(DomainError, match="reduction must be one of"):
        nn.CrossEntropyLoss("avg")


def test_shape_label_and_dtype_errors_are_clear() -> None:
    x = tg.tensor(LOGITS)
    with pytest.raises(ShapeError, match=r"input shape \(5, 4\) and target shape \(5,\)"):
        F.binary_cross_entropy_with_logits(x, np.ones(5))
    with pytest.raises(ShapeError, match="mse_loss: input shape"):
        F.mse_loss(x, np.ones((5, 1)))
    with pytest.raises(DomainError, match=r"labels must be in \[0, 3\] for 4 classes, found \[4\]"):
        F.cross_entropy(x, np.array([0, 1, 2, 3, 4]))
    with pytest.raises(DomainError, match="found \\[-1\\]"):
        F.nll_loss(x, np.array([0, -1, 2, 3, 1]))
    with pytest.raises(DTypeError, match="labels must be integers"):
        F.cross_entropy(x, LABELS.astype(np.float64))
    with pytest.raises(DTypeError, match="class labels must be integers"):
        F.nll_loss(x, LABELS.astype(bool))
    with pytest.raises(ShapeError, match=r"labels of shape \(4,\) do not fit input"):
        F.cross_entropy(x, LABELS[:4])
    with pytest.raises(ShapeError, match="probability targets must have the input's shape"):
        F.cross_entropy(x, SOFT[:, :3])
    with pytest.raises(ShapeError, match="classes on axis 1"):
        F.cross_entropy(tg.tensor(LOGITS[0]), LABELS[:1])
    with pytest.raises(DomainError, match="targets must lie in \\[0, 1\\]"):
        F.binary_cross_entropy_with_logits(x, BINARY * 2 - 1)
    with pytest.raises(DomainError, match="input probabilities must lie in \\[0, 1\\]"):
        F.binary_cross_entropy(x, BINARY)
    with pytest.raises(DomainError, match="reduction must be one of"):
        F.mse_loss(x, PROBS, reduction="avg")
