"""Pooling and BatchNorm2d against PyTorch in float64: ``F.max_pool2d``, ``F.avg_pool2d``,
``F.adaptive_avg_pool2d`` (outputs and input gradients on a grid of kernels, strides,
paddings and dilations), the documented conventions where they differ from PyTorch (ties in
max pooling), the layers, ``nn.BatchNorm2d`` in training and evaluation with its running
statistics, and the errors. Without torch the grid is checked against the numpy definition
and central differences (some cases always are)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError, ShapeError
from tensorgraph.nn import functional as F
from tensorgraph.ops.pooling import AdaptiveAvgPool2d as AdaptiveOp
from tensorgraph.ops.pooling import AvgPool2d as AvgOp
from tensorgraph.ops.pooling import MaxPool2d as MaxOp
from tensorgraph.testing import gradcheck, gradgradcheck

from ._reference import TORCH, assert_agree, expected, ours

# x shape, kernel, stride, padding, dilation
MAX = [
    ((2, 3, 6, 6), 2, None, 0, 1),
    ((1, 2, 7, 5), (3, 2), (2, 1), (1, 1), 1),
    ((2, 1, 8, 8), 3, 1, 1, 2),
    ((1, 2, 5, 6), (2, 3), 2, (1, 0), (1, 2)),
    ((3, 5, 5), 2, 1, 1, 1),  # unbatched
]
# x shape, kernel, stride, padding, count_include_pad, divisor_override
AVG = [
    ((2, 3, 6, 6), 2, None, 0, True, None),
    ((1, 2, 7, 5), (3, 2), (2, 1), (1, 1), True, None),
    ((1, 2, 7, 5), (3, 2), (2, 1), (1, 1), False, None),
    ((2, 1, 5, 5), 3, 2, 1, True, 7),
    ((3, 4, 4), 2, 1, 1, False, None),  # unbatched
]
# x shape, output_size
ADAPTIVE = [
    ((2, 3, 5, 7), 1), ((2, 3, 5, 7), (2, 3)), ((1, 2, 4, 4), (3, 5)),
    ((1, 2, 7, 3), (None, 2)), ((2, 8, 6), (4, 4)),
]


def _pairs(padding: Any) -> tuple[tuple[int, int], ...]:
    pads = (padding, padding) if isinstance(padding, int) else padding
    return tuple((p, p) for p in pads)


def _two(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)  # type: ignore[return-value]


def _unbatched(reference: Any, batched: bool) -> Any:
    return reference if batched else (lambda x: reference(x[None])[0])


def _distinct(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Values with no ties (max pooling is then differentiable everywhere)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) / 7.0


def _check_max(case: tuple[Any, ...], use_torch: bool) -> None:
    shape, kernel, stride, padding, dilation = case
    x = _distinct(shape, len(str(case)))
    k, s = _two(kernel), _two(kernel if stride is None else stride)
    reference = _unbatched(lambda a: MaxOp.reference(a, k, s, _pairs(padding), _two(dilation)),
                           len(shape) == 4)
    upstream = np.random.default_rng(1).standard_normal(reference(x).shape)
    got = ours(lambda a: F.max_pool2d(a, kernel, stride, padding, dilation), [x], upstream)
    want = expected(lambda a: TORCH.nn.functional.max_pool2d(a, kernel, stride, padding,
                                                             dilation), reference, [x], upstream,
                    use_torch)
    assert_agree(got, want)


def _check_avg(case: tuple[Any, ...], use_torch: bool) -> None:
    shape, kernel, stride, padding, include, divisor = case
    x = np.random.default_rng(len(str(case))).standard_normal(shape)
    k, s = _two(kernel), _two(kernel if stride is None else stride)
    reference = _unbatched(lambda a: AvgOp.reference(a, k, s, _pairs(padding), include,
                                                     divisor), len(shape) == 4)
    upstream = np.random.default_rng(2).standard_normal(reference(x).shape)
    got = ours(lambda a: F.avg_pool2d(a, kernel, stride, padding, False, include, divisor), [x],
               upstream)
    want = expected(lambda a: TORCH.nn.functional.avg_pool2d(a, kernel, stride, padding, False,
                                                             include, divisor),
                    reference, [x], upstream, use_torch)
    assert_agree(got, want)


def _check_adaptive(case: tuple[Any, ...], use_torch: bool) -> None:
    shape, size = case
    x = np.random.default_rng(len(str(case))).standard_normal(shape)
    sizes = _two(size) if not isinstance(size, tuple) else size
    out = tuple(n if s is None else s for s, n in zip(sizes, shape[-2:]))
    reference = _unbatched(lambda a: AdaptiveOp.reference(a, out), len(shape) == 4)
    upstream = np.random.default_rng(3).standard_normal(reference(x).shape)
    got = ours(lambda a: F.adaptive_avg_pool2d(a, size), [x], upstream)
    want = expected(lambda a: TORCH.nn.functional.adaptive_avg_pool2d(a, size), reference, [x],
                    upstream, use_torch)
    assert_agree(got, want)


@pytest.mark.parametrize("case", MAX, ids=str)
def test_max_pool2d_matches_torch(case: tuple[Any, ...]) -> None:
    _check_max(case, use_torch=True)


@pytest.mark.parametrize("case", AVG, ids=str)
def test_avg_pool2d_matches_torch(case: tuple[Any, ...]) -> None:
    _check_avg(case, use_torch=True)


@pytest.mark.parametrize("case", ADAPTIVE, ids=str)
def test_adaptive_avg_pool2d_matches_torch(case: tuple[Any, ...]) -> None:
    _check_adaptive(case, use_torch=True)


@pytest.mark.parametrize(("check", "case"), [(_check_max, MAX[1]), (_check_max, MAX[3]),
                                             (_check_avg, AVG[2]), (_check_avg, AVG[3]),
                                             (_check_adaptive, ADAPTIVE[2])], ids=str)
def test_pooling_matches_the_definition_and_finite_differences(check: Any,
                                                               case: tuple[Any, ...]) -> None:
    check(case, use_torch=False)


def test_max_pool2d_ties_share_the_gradient() -> None:
    """The documented choice: a window's tied maxima share its gradient equally (PyTorch
    gives it all to the first); each window's total is the same either way."""
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]])
    leaf = tg.tensor(x, requires_grad=True)
    F.max_pool2d(leaf, 2, stride=1).backward(np.array([[[[4.0, 8.0], [12.0, 16.0]]]]))
    # window (0, 0) has four tied ones (4 / 4 each), (0, 1) two (8 / 2 to (0, 1) and (1, 1)),
    # (1, 0) two (12 / 2 to (1, 0) and (1, 1)), (1, 1) one (16 to (1, 1))
    np.testing.assert_allclose(leaf.grad.numpy()[0, 0], [[1.0, 5.0, 0.0], [7.0, 27.0, 0.0],
                                                        [0.0, 0.0, 0.0]])
    if TORCH is not None:
        t = TORCH.tensor(x, requires_grad=True)
        TORCH.nn.functional.max_pool2d(t, 2, stride=1).backward(
            TORCH.tensor([[[[4.0, 8.0], [12.0, 16.0]]]]))
        assert float(t.grad.sum()) == pytest.approx(float(leaf.grad.numpy().sum()))
    assert gradgradcheck(lambda a: F.max_pool2d(a, 2), _distinct((1, 2, 4, 4), 0))


def test_max_pool2d_nan_and_all_padding_windows_follow_torch() -> None:
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    leaf = tg.tensor(x, requires_grad=True)
    y = F.max_pool2d(leaf, 2)
    y.backward(np.ones((1, 1, 2, 2)))
    assert np.isnan(y.numpy()[0, 0, 0, 0])
    assert leaf.grad.numpy()[0, 0, 0, 1] == 1.0  # the NaN is the maximum and takes it
    # a dilated window lying in the padding alone: -inf, and no gradient (as PyTorch)
    one = tg.tensor(np.array([[[[-3.0]]]]), requires_grad=True)
    z = F.max_pool2d(one, 2, 2, 1, (2, 1))
    z.sum().backward()
    assert z.numpy().ravel().tolist() == [-np.inf]
    assert one.grad.numpy().ravel().tolist() == [0.0]


def test_avg_and_adaptive_pooling_have_second_derivatives() -> None:
    x = np.random.default_rng(9).standard_normal((1, 2, 5, 4))
    assert gradgradcheck(lambda a: F.avg_pool2d(a, 3, 2, 1, count_include_pad=False), x)
    assert gradgradcheck(lambda a: F.adaptive_avg_pool2d(a, (2, 3)), x)
    assert gradcheck(lambda a: F.adaptive_avg_pool2d(a, (7, 1)), x)


def test_pooling_layers() -> None:
    x = tg.tensor(np.random.default_rng(10).standard_normal((2, 3, 8, 8)))
    mp, ap, aap = nn.MaxPool2d(2), nn.AvgPool2d(3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1)
    np.testing.assert_array_equal(mp(x).numpy(), F.max_pool2d(x, 2).numpy())
    np.testing.assert_array_equal(ap(x).numpy(), F.avg_pool2d(x, 3, 2, 1).numpy())
    assert aap(x).shape == (2, 3, 1, 1)
    np.testing.assert_allclose(aap(x).numpy()[..., 0, 0], x.numpy().mean(axis=(2, 3)))
    assert repr(mp) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), " \
                       "dilation=(1, 1))"
    assert repr(aap) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert nn.AdaptiveAvgPool2d((None, 2))(x).shape == (2, 3, 8, 2)
    assert not list(mp.parameters())


# --------------------------------------------------------------------------- BatchNorm2d
@pytest.mark.parametrize("kwargs", [{}, {"momentum": 0.3, "eps": 1e-3}, {"momentum": None},
                                    {"affine": False}, {"track_running_stats": False}], ids=str)
def test_batchnorm2d_train_then_eval(kwargs: dict[str, Any]) -> None:
    rng = np.random.default_rng(11)
    ours_bn = nn.BatchNorm2d(3, dtype=np.float64, **kwargs)
    momentum = kwargs.get("momentum", 0.1)
    eps = kwargs.get("eps", 1e-5)
    mean, var = np.zeros(3), np.ones(3)
    theirs = TORCH.nn.BatchNorm2d(3, **kwargs).double() if TORCH is not None else None
    if ours_bn.weight is not None:
        gamma, beta = rng.uniform(0.5, 2, 3), rng.normal(size=3)
        with tg.no_grad():
            ours_bn.weight[:] = gamma
            ours_bn.bias[:] = beta
        if theirs is not None:
            with TORCH.no_grad():
                theirs.weight[:] = TORCH.tensor(gamma)
                theirs.bias[:] = TORCH.tensor(beta)
    else:
        gamma, beta = np.ones(3), np.zeros(3)
    for seen in range(1, 4):
        x = rng.normal(1.0, 2.0, (4, 3, 3, 5))
        upstream = rng.standard_normal(x.shape)
        leaf = tg.tensor(x, requires_grad=True)
        y = ours_bn(leaf)
        y.backward(upstream)
        # the definition: per-channel statistics over N, H and W
        mu, v = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        want = (x - mu[:, None, None]) / np.sqrt(v[:, None, None] + eps)
        want = gamma[:, None, None] * want + beta[:, None, None]
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-12)
        weight = 1 / seen if momentum is None else momentum
        mean = (1 - weight) * mean + weight * mu
        var = (1 - weight) * var + weight * v * 60 / 59  # the unbiased variance: m = 4 * 3 * 5
        if ours_bn.track_running_stats:
            np.testing.assert_allclose(ours_bn.running_mean.numpy(), mean, rtol=1e-12)
            np.testing.assert_allclose(ours_bn.running_var.numpy(), var, rtol=1e-12)
        if theirs is not None:
            t = TORCH.tensor(x, requires_grad=True)
            ty = theirs(t)
            ty.backward(TORCH.tensor(upstream))
            np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(leaf.grad.numpy(), t.grad.numpy(), rtol=1e-9,
                                       atol=1e-12)
            if ours_bn.weight is not None:
                np.testing.assert_allclose(ours_bn.weight.grad.numpy(),
                                           theirs.weight.grad.numpy(), rtol=1e-10)
                np.testing.assert_allclose(ours_bn.bias.grad.numpy(),
                                           theirs.bias.grad.numpy(), rtol=1e-10)
                ours_bn.zero_grad()
                theirs.zero_grad()
            if ours_bn.track_running_stats:
                np.testing.assert_allclose(ours_bn.running_var.numpy(),
                                           theirs.running_var.numpy(), rtol=1e-12)
    ours_bn.eval()
    x = rng.normal(1.0, 2.0, (2, 3, 4, 4))
    y = ours_bn(tg.tensor(x)).numpy()
    if ours_bn.track_running_stats:
        want = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps)
        np.testing.assert_allclose(y, gamma[:, None, None] * want + beta[:, None, None],
                                   rtol=1e-10)
    if theirs is not None:
        theirs.eval()
        np.testing.assert_allclose(y, theirs(TORCH.tensor(x)).detach().numpy(), rtol=1e-10,
                                   atol=1e-12)


def test_batchnorm2d_gradients_against_finite_differences() -> None:
    bn = nn.BatchNorm2d(2, dtype=np.float64)
    x = np.random.default_rng(12).standard_normal((2, 2, 3, 2))
    assert gradcheck(lambda a: bn(a), x)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: F.max_pool2d(tg.ones((1, 1, 4, 4)), 2, padding=2), DomainError,
     ["max_pool2d", "padding (2, 2)", "half the kernel (2, 2)"]),
    (lambda: F.max_pool2d(tg.ones((1, 1, 2, 2)), 3), ShapeError,
     ["max_pool2d", "kernel (3, 3)", "padded input (2, 2)", "(1, 1, 2, 2)"]),
    (lambda: F.max_pool2d(tg.ones((4, 4)), 2), ShapeError, ["max_pool2d", "(4, 4)", "4-d"]),
    (lambda: F.max_pool2d(tg.ones((1, 1, 4, 4)), 2, ceil_mode=True), DomainError,
     ["ceil_mode"]),
    (lambda: F.max_pool2d(tg.ones((1, 1, 4, 4)), 2, return_indices=True), DomainError,
     ["return_indices"]),
    (lambda: F.avg_pool2d(tg.ones((1, 1, 4, 4)), 0), DomainError, ["avg_pool2d", "kernel_size"]),
    (lambda: F.avg_pool2d(tg.ones((1, 1, 4, 4)), 2, divisor_override=0), DomainError,
     ["divisor_override"]),
    (lambda: F.adaptive_avg_pool2d(tg.ones((1, 1, 4, 4)), 0), DomainError, ["output_size"]),
    (lambda: F.adaptive_avg_pool2d(tg.ones((1, 1, 0, 4)), 2), ShapeError, ["empty"]),
    (lambda: F.adaptive_avg_pool2d(tg.ones((1, 1, 4, 4)), (1, 2, 3)), DomainError,
     ["output_size"]),
    (lambda: nn.MaxPool2d(2, padding=3), DomainError, ["MaxPool2d", "padding"]),
    (lambda: nn.AvgPool2d(2, ceil_mode=True), DomainError, ["AvgPool2d", "ceil_mode"]),
    (lambda: nn.AdaptiveAvgPool2d(-1), DomainError, ["AdaptiveAvgPool2d", "-1"]),
    (lambda: nn.BatchNorm2d(3)(tg.ones((2, 3, 4))), ShapeError,
     ["BatchNorm2d", "4-d", "(2, 3, 4)"]),
    (lambda: nn.BatchNorm2d(3)(tg.ones((2, 4, 2, 2))), ShapeError,
     ["BatchNorm2d", "3 channels", "(2, 4, 2, 2)"]),
    (lambda: nn.BatchNorm2d(3)(tg.ones((1, 3, 1, 1))), ShapeError,
     ["BatchNorm2d", "more than 1 value", "(1, 3, 1, 1)"]),
    (lambda: nn.BatchNorm2d(3, eps=0), DomainError, ["BatchNorm2d", "eps"]),
    (lambda: nn.BatchNorm2d(3, momentum=2), DomainError, ["BatchNorm2d", "momentum"]),
])
def test_mistakes_raise_clear_errors(call: Any, error: type[Exception], words: list[str]) -> None:
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
