"""Convolution: ``F.conv1d``/``F.conv2d`` and ``nn.Conv1d``/``nn.Conv2d`` against PyTorch in
float64 (outputs, input, weight and bias gradients, second derivatives) on a grid of shapes,
strides, paddings, dilations and groups; the layers' parameters and initialisation; the
errors. Without torch the same grid is checked against the numpy definition and central
differences (some cases always take that route, so the fallback itself stays tested)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.autograd import gradients
from tensorgraph.errors import DomainError, ShapeError
from tensorgraph.nn import functional as F
from tensorgraph.ops import REGISTRY
from tensorgraph.ops.conv import Conv1d as Conv1dOp
from tensorgraph.ops.conv import Conv2d as Conv2dOp
from tensorgraph.testing import gradcheck, gradgradcheck

from ._reference import TORCH, assert_agree, expected, ours

# x shape, out channels, kernel, stride, padding, dilation, groups, bias
CONV2D = [
    ((2, 3, 7, 6), 4, (3, 3), 1, 0, 1, 1, True),
    ((2, 3, 7, 6), 4, (3, 2), (2, 1), (1, 2), 1, 1, True),
    ((1, 4, 6, 6), 6, (3, 3), 2, 1, 2, 2, True),
    ((2, 4, 5, 5), 4, (1, 1), 1, 0, 1, 4, False),
    ((2, 2, 5, 7), 4, (2, 3), 1, "same", (2, 1), 1, True),
    ((1, 2, 6, 5), 2, (4, 2), 1, "same", 1, 2, True),
    ((2, 3, 5, 5), 2, (3, 3), 3, 2, 1, 1, True),
    ((1, 6, 8, 8), 6, (3, 3), 1, "valid", 2, 3, False),
    ((3, 1, 8, 8), 16, (3, 3), 1, 0, 1, 1, True),
    ((3, 6, 6), 2, (2, 2), 2, 1, 1, 1, True),  # unbatched (C, H, W)
    ((0, 2, 4, 4), 3, (3, 3), 1, 0, 1, 1, True),  # an empty batch
]
CONV1D = [
    ((2, 3, 10), 4, 3, 1, 0, 1, 1, True),
    ((2, 4, 9), 6, 2, 2, 1, 2, 2, True),
    ((1, 2, 7), 2, 4, 1, "same", 1, 1, False),
    ((3, 6, 8), 3, 3, 3, 2, 1, 3, True),
    ((2, 7), 3, 3, 1, "same", 2, 1, True),  # unbatched (C, L)
]
# small cases also checked by the torch-free route, whatever is installed
FALLBACK2D = [((1, 2, 5, 4), 3, (3, 2), (2, 1), (1, 2), 1, 1, True), CONV2D[2], CONV2D[5]]
FALLBACK1D = [CONV1D[1], CONV1D[2]]


def _pairs(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...]) -> Any:
    """The op's padding pairs, worked out here independently of the code under test."""
    if padding == "valid":
        return ((0, 0),) * len(kernel)
    if padding == "same":
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for k, d in zip(kernel, dilation))
    pads = (padding,) * len(kernel) if isinstance(padding, int) else padding
    return tuple((p, p) for p in pads)


def _tuple(v: Any, rank: int) -> tuple[int, ...]:
    return (v,) * rank if isinstance(v, int) else tuple(v)


def _check(rank: int, case: tuple[Any, ...], use_torch: bool) -> None:
    shape, out_ch, kernel, stride, padding, dilation, groups, bias = case
    rng = np.random.default_rng(len(str(case)))
    kernel = _tuple(kernel, rank)
    batched = len(shape) == rank + 2
    c = shape[1] if batched else shape[0]
    x = rng.standard_normal(shape)
    w = rng.standard_normal((out_ch, c // groups, *kernel))
    b = rng.standard_normal(out_ch) if bias else None
    ours_fn = F.conv1d if rank == 1 else F.conv2d
    op = Conv1dOp if rank == 1 else Conv2dOp
    pairs = _pairs(padding, kernel, _tuple(dilation, rank))

    def reference(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
        y = op.reference(x if batched else x[None], w, b, _tuple(stride, rank), pairs,
                         _tuple(dilation, rank), groups)
        return y if batched else y[0]

    def torch_fn(*a: Any) -> Any:
        f = TORCH.nn.functional.conv1d if rank == 1 else TORCH.nn.functional.conv2d
        with warnings.catch_warnings():  # its note that an even 'same' kernel pads a copy
            warnings.simplefilter("ignore", UserWarning)
            return f(*a, stride=stride, padding=padding, dilation=dilation, groups=groups)

    out_shape = reference(x, w, b).shape
    upstream = rng.standard_normal(out_shape)
    got = ours(lambda *a: ours_fn(*a, stride=stride, padding=padding, dilation=dilation,
                                  groups=groups), [x, w, b], upstream)
    assert_agree(got, expected(torch_fn, reference, [x, w, b], upstream, use_torch))


@pytest.mark.parametrize("case", CONV2D, ids=str)
def test_conv2d_matches_torch(case: tuple[Any, ...]) -> None:
    _check(2, case, use_torch=True)


@pytest.mark.parametrize("case", CONV1D, ids=str)
def test_conv1d_matches_torch(case: tuple[Any, ...]) -> None:
    _check(1, case, use_torch=True)


@pytest.mark.parametrize(("rank", "case"), [(2, c) for c in FALLBACK2D]
                         + [(1, c) for c in FALLBACK1D], ids=str)
def test_conv_matches_the_definition_and_finite_differences(rank: int,
                                                             case: tuple[Any, ...]) -> None:
    _check(rank, case, use_torch=False)


def test_second_derivatives_match_torch() -> None:
    """Differentiate the VJPs (create_graph): the gradient of <gx, v> + <gw, u> with
    respect to x, w and the upstream gradient."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((6, 2, 3, 2))
    b, gy = rng.standard_normal(6), rng.standard_normal((2, 6, 3, 5))
    v, u = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    kwargs: dict[str, Any] = {"stride": (2, 1), "padding": 1, "dilation": (1, 2), "groups": 2}
    leaves = [tg.tensor(a, requires_grad=True) for a in (x, w, b, gy)]
    y = F.conv2d(*leaves[:3], **kwargs)
    gx, gw = gradients(y, leaves[:2], grad_outputs=leaves[3], create_graph=True)
    total = (gx * v).sum() + (gw * u).sum()
    got = [g.numpy() for g in gradients(total, [leaves[0], leaves[1], leaves[3]])]
    if TORCH is not None:
        tl = [TORCH.tensor(a, requires_grad=True) for a in (x, w, b, gy)]
        ty = TORCH.nn.functional.conv2d(*tl[:3], **kwargs)
        tx, tw = TORCH.autograd.grad(ty, tl[:2], tl[3], create_graph=True)
        tt = (tx * TORCH.tensor(v)).sum() + (tw * TORCH.tensor(u)).sum()
        want = [g.numpy() for g in TORCH.autograd.grad(tt, [tl[0], tl[1], tl[3]])]
        for g, r in zip(got, want):
            np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-10)
    # and against finite differences of the first-order VJP, with or without torch
    assert gradgradcheck(lambda a, c, d: F.conv2d(a, c, d, **kwargs), x, w, b)


def test_float32_stays_float32_and_agrees() -> None:
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((5, 3, 3, 3))
    y32 = F.conv2d(tg.tensor(x.astype(np.float32)), tg.tensor(w.astype(np.float32)), padding=1)
    y64 = F.conv2d(tg.tensor(x), tg.tensor(w), padding=1)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.numpy(), y64.numpy(), rtol=1e-4, atol=1e-5)


def test_registry_covers_the_convolutions() -> None:
    for name in ("conv1d", "conv2d"):
        op = REGISTRY[name]
        assert op.domain.second_order and op.domain.empty and op.domain.edges
    assert gradcheck(lambda a, c: F.conv1d(a, c, stride=2, groups=2),
                     np.random.default_rng(5).standard_normal((1, 4, 7)),
                     np.random.default_rng(6).standard_normal((2, 2, 3)))


# --------------------------------------------------------------------------- layers
@pytest.mark.parametrize(("layer", "shape", "fan_in"), [
    (lambda: nn.Conv2d(6, 8, (3, 2), groups=2, generator=0), (8, 3, 3, 2), 18),
    (lambda: nn.Conv1d(4, 10, 5, generator=0), (10, 4, 5), 20),
])
def test_layers_have_torch_shapes_and_init(layer: Any, shape: tuple[int, ...],
                                           fan_in: int) -> None:
    conv = layer()
    assert conv.weight.shape == shape and conv.bias is not None
    assert conv.bias.shape == (shape[0],)
    assert conv.weight.dtype == tg.get_default_dtype()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and PyTorch's bias bound
    for p in (conv.weight, conv.bias):
        assert np.abs(p.numpy()).max() <= bound
    if TORCH is not None:
        theirs = (TORCH.nn.Conv2d(6, 8, (3, 2), groups=2) if len(shape) == 4
                  else TORCH.nn.Conv1d(4, 10, 5))
        assert tuple(theirs.weight.shape) == shape
        assert float(theirs.weight.detach().abs().max()) <= bound


def test_init_statistics_are_pytorchs() -> None:
    """U(-b, b) with b = 1/sqrt(fan_in): mean 0, variance b^2 / 3, filling the range."""
    conv = nn.Conv2d(16, 64, 3, generator=1, dtype=np.float64)
    bound = 1 / math.sqrt(16 * 9)
    wv = conv.weight.numpy()
    assert abs(wv.mean()) < 0.02 * bound
    assert abs(wv.var() / (bound**2 / 3) - 1) < 0.03
    assert wv.max() > 0.99 * bound and wv.min() < -0.99 * bound
    assert np.abs(conv.bias.numpy()).max() <= bound  # type: ignore[union-attr]
    again = nn.Conv2d(16, 64, 3, generator=1, dtype=np.float64)
    np.testing.assert_array_equal(again.weight.numpy(), wv)  # the generator decides


def test_layer_forward_equals_functional_and_trains() -> None:
    rng = np.random.default_rng(7)
    conv = nn.Conv2d(2, 3, 3, stride=1, padding="same", bias=False, dtype=np.float64,
                     generator=2)
    x = tg.tensor(rng.standard_normal((4, 2, 5, 5)))
    np.testing.assert_array_equal(conv(x).numpy(),
                                  F.conv2d(x, conv.weight, None, padding="same").numpy())
    conv(x).sum().backward()
    assert conv.weight.grad is not None and conv.weight.grad.shape == (3, 2, 3, 3)
    assert repr(conv) == "Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding='same', " \
                         "bias=False)"
    assert [n for n, _ in conv.named_parameters()] == ["weight"]


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: F.conv2d(tg.ones((2, 3, 5, 5)), tg.ones((4, 2, 3, 3))), ShapeError,
     ["conv2d", "(2, 3, 5, 5)", "3 channels", "(4, 2, 3, 3)", "expects 2"]),
    (lambda: F.conv2d(tg.ones((5, 5)), tg.ones((4, 1, 3, 3))), ShapeError,
     ["conv2d", "(C, H, W)", "(5, 5)"]),
    (lambda: F.conv2d(tg.ones((1, 1, 2, 2)), tg.ones((1, 1, 3, 3))), ShapeError,
     ["conv2d", "kernel (3, 3)", "padded input (2, 2)", "(1, 1, 2, 2)"]),
    (lambda: F.conv2d(tg.ones((1, 1, 4, 4)), tg.ones((1, 1, 3, 3)), dilation=2), ShapeError,
     ["spans (5, 5)", "padded input (4, 4)"]),
    (lambda: F.conv2d(tg.ones((1, 3, 5, 5)), tg.ones((4, 1, 3, 3)), groups=3), ShapeError,
     ["groups=3", "3", "4", "(4, 1, 3, 3)"]),
    (lambda: F.conv2d(tg.ones((1, 4, 5, 5)), tg.ones((4, 2, 3, 3)), groups=0), DomainError,
     ["groups"]),
    (lambda: F.conv2d(tg.ones((1, 2, 5, 5)), tg.ones((4, 2, 3)), None), ShapeError,
     ["weight must be 4-d", "(4, 2, 3)"]),
    (lambda: F.conv2d(tg.ones((1, 2, 5, 5)), tg.ones((4, 2, 3, 3)), tg.ones(3)), ShapeError,
     ["bias", "(4,)", "(3,)"]),
    (lambda: F.conv2d(tg.ones((1, 2, 5, 5)), tg.ones((4, 2, 3, 3)), stride=2, padding="same"),
     DomainError, ["'same'", "stride"]),
    (lambda: F.conv2d(tg.ones((1, 2, 5, 5)), tg.ones((4, 2, 3, 3)), padding="full"),
     DomainError, ["'full'"]),
    (lambda: F.conv1d(tg.ones((1, 2, 5)), tg.ones((4, 2, 3)), stride=0), DomainError,
     ["conv1d", "stride", ">= 1"]),
    (lambda: F.conv1d(tg.ones((1, 2, 5)), tg.ones((4, 2, 3)), padding=(1, 1)), DomainError,
     ["conv1d", "padding", "1 ints"]),
    (lambda: nn.Conv2d(3, 4, 3, generator=0)(tg.ones((1, 2, 5, 5))), ShapeError,
     ["Conv2d(3, 4", "3 channels", "(1, 2, 5, 5)"]),
    (lambda: nn.Conv2d(3, 4, 3, generator=0)(tg.ones((5, 5))), ShapeError,
     ["Conv2d(3, 4", "(5, 5)", "4-d"]),
    (lambda: nn.Conv1d(1, 1, 5, generator=0)(tg.ones((1, 1, 3))), ShapeError,
     ["Conv1d(1, 1", "kernel (5,)", "padded input (3,)"]),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), DomainError, ["Conv2d", "groups=2", "3", "4"]),
    (lambda: nn.Conv2d(2, 4, 3, padding_mode="reflect"), DomainError, ["padding_mode"]),
    (lambda: nn.Conv2d(2, 4, 3, stride=2, padding="same"), DomainError, ["'same'"]),
    (lambda: nn.Conv2d(2, 4, 0), DomainError, ["kernel_size", ">= 1"]),
])
def test_mistakes_raise_clear_errors(call: Any, error: type[Exception], words: list[str]) -> None:
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
