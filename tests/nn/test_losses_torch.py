"""The losses with PyTorch's full signatures, against PyTorch 2.13 in float64 (values and
gradients, every reduction), and against numpy transcriptions of the formulas plus finite
differences (always, so the tests check something without torch too); then the edge cases
(all targets ignored, empty batches, the kinks of L1/Huber/smooth L1) and the clear errors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError, DTypeError, GradientError, ShapeError
from tensorgraph.nn import functional as F
from tensorgraph.testing import gradcheck

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # CI installs torch; without it the numpy checks below still run
    torch = None
    TF = None

RNG = np.random.default_rng(0)
REDUCTIONS = ("mean", "sum", "none")
N, C = 6, 4
LOGITS = RNG.normal(0, 2, (N, C))
LOGITS_K = RNG.normal(0, 2, (N, C, 3, 2))
LABELS = np.array([0, 3, 1, 3, 2, 1])
LABELS_K = RNG.integers(0, C, (N, 3, 2))
W_CLASS = np.array([0.5, 1.5, 2.0, 0.25])
SOFT = RNG.dirichlet(np.ones(C), size=N)
SOFT_K = np.moveaxis(RNG.dirichlet(np.ones(C), size=(N, 3, 2)), -1, 1)
PROBS = RNG.uniform(0.05, 0.95, (N, C))
BINARY = (RNG.random((N, C)) > 0.5).astype(np.float64)
TARGET = RNG.normal(0, 2, (N, C))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _torch_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    assert torch is not None
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
            for k, v in kwargs.items()}


def _compare(ours: Callable[..., Any], theirs: str, x: np.ndarray, target: np.ndarray,
             reduction: str, expected: Any, target_grad: bool = False,
             **kwargs: Any) -> None:
    """Our loss against the numpy ``expected`` value and finite differences, and (when
    torch is importable) against torch's value and gradients with a random cotangent."""
    a = tg.tensor(x, requires_grad=True)
    t = tg.tensor(target, requires_grad=True) if target_grad else target
    out = ours(a, t, reduction=reduction, **kwargs)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-14)
    up = np.random.default_rng(1).normal(size=out.shape)
    out.backward(up)
    assert gradcheck(lambda v: (ours(v, target, reduction=reduction, **kwargs) * up).sum(), x)
    if torch is None:
        return
    b = torch.tensor(x, requires_grad=True)
    tt = torch.tensor(target, requires_grad=target_grad)
    ref = getattr(TF, theirs)(b, tt, reduction=reduction, **_torch_kwargs(kwargs))
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    ref.backward(torch.from_numpy(up))
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-11, atol=1e-14)
    if target_grad:
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-11, atol=1e-14)


def _reduce(values: np.ndarray, reduction: str, denominator: float | None = None) -> Any:
    if reduction == "none":
        return values
    if reduction == "sum":
        return values.sum()
    return values.sum() / (values.size if denominator is None else denominator)


# --------------------------------------------------------------------------- cross-entropy
def _ce_labels_numpy(z: np.ndarray, y: np.ndarray, weight: np.ndarray | None,
                     ignore_index: int, smoothing: float, reduction: str) -> Any:
    logp = _log_softmax(z)
    w = np.ones(z.shape[1]) if weight is None else weight
    keep = y != ignore_index
    safe = np.where(keep, y, 0)
    picked = -np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]
    smooth = -(logp * w.reshape((1, -1) + (1,) * (z.ndim - 2))).sum(axis=1)
    per = np.where(keep, (1 - smoothing) * w[safe] * picked
                   + smoothing / z.shape[1] * smooth, 0.0)
    return _reduce(per, reduction, w[safe][keep].sum())


CE_OPTIONS = [
    {}, {"weight": W_CLASS}, {"ignore_index": 3}, {"label_smoothing": 0.2},
    {"weight": W_CLASS, "ignore_index": 1, "label_smoothing": 0.15},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=str)
@pytest.mark.parametrize("k_dim", [False, True], ids=["NC", "NCd1d2"])
def test_cross_entropy_with_labels_matches_torch(options: dict[str, Any], reduction: str,
                                                 k_dim: bool) -> None:
    z, y = (LOGITS_K, LABELS_K) if k_dim else (LOGITS, LABELS)
    expected = _ce_labels_numpy(z, y, options.get("weight"), options.get("ignore_index", -100),
                                options.get("label_smoothing", 0.0), reduction)
    _compare(F.cross_entropy, "cross_entropy", z, y, reduction, expected, **options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": W_CLASS}, {"label_smoothing": 0.3},
                                     {"weight": W_CLASS, "label_smoothing": 0.1}], ids=str)
@pytest.mark.parametrize("k_dim", [False, True], ids=["NC", "NCd1d2"])
def test_cross_entropy_with_probabilities_matches_torch(options: dict[str, Any],
                                                        reduction: str, k_dim: bool) -> None:
    z, t = (LOGITS_K, SOFT_K) if k_dim else (LOGITS, SOFT)
    eps = options.get("label_smoothing", 0.0)
    w = options.get("weight", np.ones(C)).reshape((1, C) + (1,) * (z.ndim - 2))
    per = -(_log_softmax(z) * ((1 - eps) * t + eps / C) * w).sum(axis=1)
    _compare(F.cross_entropy, "cross_entropy", z, t, reduction, _reduce(per, reduction),
             target_grad=True, **options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": W_CLASS}, {"ignore_index": 2},
                                     {"weight": W_CLASS, "ignore_index": 0}], ids=str)
@pytest.mark.parametrize("k_dim", [False, True], ids=["NC", "NCd1d2"])
def test_nll_loss_matches_torch(options: dict[str, Any], reduction: str, k_dim: bool) -> None:
    z, y = (LOGITS_K, LABELS_K) if k_dim else (LOGITS, LABELS)
    x = _log_softmax(z)
    expected = _ce_labels_numpy(z, y, options.get("weight"), options.get("ignore_index", -100),
                                0.0, reduction)
    _compare(F.nll_loss, "nll_loss", x, y, reduction, expected, **options)


def test_cross_entropy_with_every_target_ignored_is_nan_with_a_zero_gradient() -> None:
    y = np.full(N, 2)
    for fn, x in ((F.cross_entropy, LOGITS), (F.nll_loss, _log_softmax(LOGITS))):
        for options in ({"ignore_index": 2}, {"ignore_index": 2, "weight": W_CLASS}):
            a = tg.tensor(x, requires_grad=True)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no RuntimeWarning for the 0/0
                loss = fn(a, y, **options)
            assert np.isnan(loss.item())
            loss.backward()
            np.testing.assert_array_equal(a.grad.numpy(), np.zeros_like(x))
            assert fn(tg.tensor(x), y, reduction="sum", **options).item() == 0.0
            if torch is not None:
                b = torch.tensor(x, requires_grad=True)
                ref = getattr(TF, fn.__name__)(b, torch.from_numpy(y), **_torch_kwargs(options))
                assert torch.isnan(ref)
                ref.backward()
                np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


@pytest.mark.parametrize(("fn", "theirs", "target"), [
    (F.cross_entropy, "cross_entropy", np.zeros(0, np.int64)),
    (F.cross_entropy, "cross_entropy", np.zeros((0, C))),
    (F.nll_loss, "nll_loss", np.zeros(0, np.int64)),
    (F.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", np.zeros((0, C))),
    (F.binary_cross_entropy, "binary_cross_entropy", np.zeros((0, C))),
    (F.mse_loss, "mse_loss", np.zeros((0, C))),
    (F.l1_loss, "l1_loss", np.zeros((0, C))),
    (F.huber_loss, "huber_loss", np.zeros((0, C))),
    (F.smooth_l1_loss, "smooth_l1_loss", np.zeros((0, C))),
])
def test_an_empty_batch_gives_nan_mean_zero_sum_and_empty_none(fn: Any, theirs: str,
                                                                target: np.ndarray) -> None:
    x = np.zeros((0, C))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = tg.tensor(x, requires_grad=True)
        mean = fn(a, target)
        assert np.isnan(mean.item())
        mean.backward()
        assert a.grad.shape == (0, C)
        assert fn(tg.tensor(x), target, reduction="sum").item() == 0.0
        per_sample = fn in (F.cross_entropy, F.nll_loss)  # one value per sample
        assert fn(tg.tensor(x), target, reduction="none").shape == ((0,) if per_sample
                                                                     else (0, C))
    if torch is not None:
        ref = getattr(TF, theirs)(torch.from_numpy(x), torch.from_numpy(target))
        assert torch.isnan(ref)


# --------------------------------------------------------------------------- binary
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [
    {}, {"weight": RNG.uniform(0.5, 2, (N, C))}, {"weight": RNG.uniform(0.5, 2, C)},
    {"weight": RNG.uniform(0.5, 2, (N, 1))}, {"pos_weight": np.array([0.5, 1.0, 2.0, 3.0])},
    {"weight": RNG.uniform(0.5, 2, C), "pos_weight": np.array([3.0, 1.0, 0.2, 1.5])},
], ids=["plain", "weight-NC", "weight-C", "weight-N1", "pos_weight", "both"])
def test_bce_with_logits_matches_torch(options: dict[str, Any], reduction: str) -> None:
    z, y = LOGITS, PROBS
    p = options.get("pos_weight", np.ones(C))
    sig = 1 / (1 + np.exp(-z))
    per = -(p * y * np.log(sig) + (1 - y) * np.log(1 - sig)) * options.get("weight", 1.0)
    _compare(F.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", z, y,
             reduction, _reduce(per, reduction), target_grad=True, **options)


def test_bce_with_logits_pos_weight_is_stable_at_huge_logits() -> None:
    z = tg.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=np.float64, requires_grad=True)
    y = np.array([[1.0, 0.0], [1.0, 0.0]])
    loss = F.binary_cross_entropy_with_logits(z, y, pos_weight=np.array([2.0, 3.0]),
                                              reduction="none")
    np.testing.assert_allclose(loss.numpy(), [[0.0, 0.0], [2000.0, 1000.0]])
    loss.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), [[0.0, 0.0], [-2.0, 1.0]])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, RNG.uniform(0.5, 2, (N, C)), RNG.uniform(0.5, 2, C)],
                         ids=["none", "NC", "C"])
def test_bce_matches_torch(weight: np.ndarray | None, reduction: str) -> None:
    per = -(BINARY * np.log(PROBS) + (1 - BINARY) * np.log(1 - PROBS))
    per = per if weight is None else per * weight
    options = {} if weight is None else {"weight": weight}
    _compare(F.binary_cross_entropy, "binary_cross_entropy", PROBS, BINARY, reduction,
             _reduce(per, reduction), **options)


# --------------------------------------------------------------------------- regression
def _huber(d: np.ndarray, delta: float) -> np.ndarray:
    return np.where(np.abs(d) < delta, 0.5 * d * d, delta * (np.abs(d) - 0.5 * delta))


REGRESSION = [
    (F.mse_loss, "mse_loss", {}, lambda d: d * d),
    (F.l1_loss, "l1_loss", {}, np.abs),
    (F.huber_loss, "huber_loss", {}, lambda d: _huber(d, 1.0)),
    (F.huber_loss, "huber_loss", {"delta": 0.3}, lambda d: _huber(d, 0.3)),
    (F.huber_loss, "huber_loss", {"delta": 2.5}, lambda d: _huber(d, 2.5)),
    (F.smooth_l1_loss, "smooth_l1_loss", {}, lambda d: _huber(d, 1.0)),
    (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.4}, lambda d: _huber(d, 0.4) / 0.4),
    (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.0}, np.abs),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("fn", "theirs", "options", "formula"), REGRESSION,
                         ids=lambda v: str(v) if isinstance(v, dict) else None)
def test_regression_losses_match_torch(fn: Any, theirs: str, options: dict[str, Any],
                                       formula: Any, reduction: str) -> None:
    expected = _reduce(formula(LOGITS - TARGET), reduction)
    _compare(fn, theirs, LOGITS, TARGET, reduction, expected, target_grad=True, **options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("fn", "theirs", "formula", "by_weights"), [
    (F.mse_loss, "mse_loss", lambda d: d * d, True),
    (F.l1_loss, "l1_loss", np.abs, True),
    (F.huber_loss, "huber_loss", lambda d: _huber(d, 1.0), False),
])
def test_weighted_regression_losses_follow_torch_means(fn: Any, theirs: str, formula: Any,
                                                       by_weights: bool,
                                                       reduction: str) -> None:
    # PyTorch 2.13 divides the weighted MSE and L1 by the sum of the weights, the weighted
    # Huber loss by the number of elements
    w = RNG.uniform(0.1, 3, (N, C))
    expected = _reduce(formula(LOGITS - TARGET) * w, reduction,
                       w.sum() if by_weights else None)
    _compare(fn, theirs, LOGITS, TARGET, reduction, expected, target_grad=True, weight=w)


@pytest.mark.parametrize(("fn", "theirs", "options", "points", "slopes"), [
    (F.l1_loss, "l1_loss", {}, [0.0], [0.0]),
    (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.0}, [0.0], [0.0]),
    (F.huber_loss, "huber_loss", {"delta": 0.5}, [0.0, 0.5, -0.5], [0.0, 0.5, -0.5]),
    (F.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.5}, [0.0, 0.5, -0.5], [0.0, 1.0, -1.0]),
])
def test_kinks_follow_torch_conventions(fn: Any, theirs: str, options: dict[str, Any],
                                        points: list[float], slopes: list[float]) -> None:
    x = tg.tensor(np.array(points), requires_grad=True)
    fn(x, np.zeros(len(points)), reduction="sum", **options).backward()
    np.testing.assert_array_equal(x.grad.numpy(), slopes)
    if torch is not None:
        b = torch.tensor(points, dtype=torch.float64, requires_grad=True)
        getattr(TF, theirs)(b, torch.zeros(len(points), dtype=torch.float64), reduction="sum",
                            **options).backward()
        np.testing.assert_array_equal(x.grad.numpy(), b.grad.numpy())


# --------------------------------------------------------------------------- modules
def test_loss_modules_take_torch_arguments_and_match_torch() -> None:
    pairs: list[tuple[Any, Any, np.ndarray, np.ndarray]] = [
        (nn.CrossEntropyLoss(W_CLASS, ignore_index=3, label_smoothing=0.1),
         "CrossEntropyLoss", LOGITS, LABELS),
        (nn.NLLLoss(weight=W_CLASS, reduction="sum", ignore_index=0), "NLLLoss",
         _log_softmax(LOGITS), LABELS),
        (nn.BCEWithLogitsLoss(pos_weight=np.array([1.0, 2.0, 0.5, 3.0])), "BCEWithLogitsLoss",
         LOGITS, BINARY),
        (nn.BCELoss(PROBS + 1), "BCELoss", PROBS, BINARY),
        (nn.L1Loss("sum"), "L1Loss", LOGITS, TARGET),
        (nn.HuberLoss(delta=0.7), "HuberLoss", LOGITS, TARGET),
        (nn.SmoothL1Loss(beta=0.3), "SmoothL1Loss", LOGITS, TARGET),
        (nn.MSELoss(reduction="none"), "MSELoss", LOGITS, TARGET),
    ]
    for ours, theirs, x, target in pairs:
        value = ours(tg.tensor(x), target).numpy()
        if torch is None:
            assert np.isfinite(value).all()
            continue
        kwargs = {k: v for k, v in vars(ours).items() if not k.startswith("_")
                  and k not in ("training", "eps") and v is not None}
        module = getattr(torch.nn, theirs)(**_torch_kwargs(kwargs))
        ref = module(torch.from_numpy(x), torch.from_numpy(target))
        np.testing.assert_allclose(value, ref.numpy(), rtol=1e-12, atol=1e-14)
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(reduction='mean', delta=2.0)"


def test_the_earlier_positional_reduction_still_works_and_is_not_ambiguous() -> None:
    x = tg.tensor(LOGITS)
    np.testing.assert_array_equal(F.cross_entropy(x, LABELS, "sum").numpy(),
                                  F.cross_entropy(x, LABELS, reduction="sum").numpy())
    assert nn.CrossEntropyLoss("none").reduction == "none"
    with pytest.raises(TypeError, match="reduction given twice"):
        F.nll_loss(x, LABELS, "sum", reduction="none")
    with pytest.raises(TypeError, match="reduction given twice"):
        nn.BCELoss("sum", reduction="none")
    with pytest.raises(TypeError):  # PyTorch's positional size_average/ignore_index
        F.cross_entropy(x, LABELS, None, None, 3)  # type: ignore[misc]


# --------------------------------------------------------------------------- errors
def test_wrong_weights_and_options_raise_clear_errors() -> None:
    x = tg.tensor(LOGITS)
    with pytest.raises(ShapeError, match=r"weight must have shape \(4,\).*got \(3,\)"):
        F.cross_entropy(x, LABELS, W_CLASS[:3])
    with pytest.raises(ShapeError, match=r"nll_loss: weight must have shape \(4,\)"):
        F.nll_loss(x, LABELS, np.ones((4, 1)))
    with pytest.raises(GradientError, match="class weight carries no gradient"):
        F.cross_entropy(x, LABELS, tg.tensor(W_CLASS, requires_grad=True))
    with pytest.raises(ShapeError, match=r"weight of shape \(3,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, BINARY, np.ones(3))
    with pytest.raises(ShapeError, match=r"pos_weight of shape \(6, 4, 1\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, BINARY, pos_weight=np.ones((N, C, 1)))
    with pytest.raises(ShapeError, match=r"mse_loss: weight of shape \(4,\) must have the "):
        F.mse_loss(x, TARGET, weight=np.ones(C))
    with pytest.raises(ShapeError, match="huber_loss: weight"):
        F.huber_loss(x, TARGET, weight=np.ones((1, C)))
    with pytest.raises(DomainError, match="ignore_index=2 is not supported for probability"):
        F.cross_entropy(x, SOFT, ignore_index=2)
    with pytest.raises(DomainError, match=r"label_smoothing must be in \[0.0, 1.0\]"):
        F.cross_entropy(x, LABELS, label_smoothing=1.5)
    with pytest.raises(DomainError, match=r"labels must be in \[0, 3\].*found \[7\].*ignore"):
        F.cross_entropy(x, np.array([0, 1, 7, 2, 3, 5 - 5]), ignore_index=5)
    with pytest.raises(DTypeError, match="ignore_index must be an int"):
        F.nll_loss(x, LABELS, ignore_index=1.0)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="delta must be a finite number > 0"):
        F.huber_loss(x, TARGET, delta=0.0)
    with pytest.raises(DomainError, match="beta must be a finite number >= 0"):
        F.smooth_l1_loss(x, TARGET, beta=-1.0)
    with pytest.raises(DomainError, match="reduction must be one of"):
        F.l1_loss(x, TARGET, reduction="avg")
    with pytest.raises(ShapeError, match="l1_loss: input shape"):
        F.l1_loss(x, TARGET[:, :2])


def test_ignored_labels_may_be_any_int_and_others_must_be_classes() -> None:
    y = np.array([0, -7, 1, -7, 2, 3])
    loss = F.cross_entropy(tg.tensor(LOGITS), y, ignore_index=-7, reduction="none")
    assert loss.numpy()[1] == 0.0 and loss.numpy()[3] == 0.0
    with pytest.raises(DomainError, match=r"found \[-7, -7\]"):
        F.cross_entropy(tg.tensor(LOGITS), y)
