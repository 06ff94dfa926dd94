"""LayerNorm, GELU (and its erf), SiLU, Softmax/LogSoftmax modules, Embedding and Dropout2d:
against PyTorch 2.13 in float64 (values, gradients, second derivatives) where torch is
importable, and against numpy formulas and finite differences always."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError, DTypeError, ShapeError
from tensorgraph.nn import functional as F
from tensorgraph.ops.special import erf_array
from tensorgraph.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # CI installs torch; without it the numpy checks below still run
    torch = None

RNG = np.random.default_rng(0)


def _first_and_second(fn: Any, x: np.ndarray, *extra: np.ndarray) -> tuple[Any, ...]:
    """Value, gradient (random cotangent) and a Hessian-vector product of ``fn`` at ``x``
    with tensorgraph; the same with torch when importable (else None)."""
    up = np.random.default_rng(1).normal(size=fn(tg.tensor(x), *extra).shape)
    v = np.random.default_rng(2).normal(size=x.shape)
    a = tg.tensor(x, requires_grad=True)
    out = fn(a, *extra)
    (g,) = tg.gradients([(out * up).sum()], [a], create_graph=True)
    (hv,) = tg.gradients([(g * v).sum()], [a])
    ours = (out.numpy(), g.detach().numpy(), hv.numpy())
    return ours, up, v


# --------------------------------------------------------------------------- erf
def test_erf_is_float64_accurate_against_math_erf() -> None:
    for grid in (np.linspace(-7, 7, 400_001), np.linspace(-1e-3, 1e-3, 20_001),
                 np.geomspace(1e-300, 1e-5, 1_001)):
        exact = np.array([math.erf(v) for v in grid])
        ours = erf_array(grid)
        ulp = np.abs(ours - exact) / np.spacing(np.abs(exact))
        assert ulp.max() <= 2.0, (grid[np.argmax(ulp)], ulp.max())
        assert np.abs(ours - exact).max() <= 1.2e-16


def test_erf_special_values_and_dtypes() -> None:
    values = erf_array(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 6.0, -30.0]))
    np.testing.assert_array_equal(values[1:], [1.0, -1.0, 0.0, -0.0, 1.0, -1.0])
    assert np.isnan(values[0]) and np.signbit(values[4])
    x32 = tg.erf(tg.tensor([0.5, -2.0], dtype=np.float32))
    assert x32.dtype == np.float32
    np.testing.assert_allclose(x32.numpy(), [math.erf(0.5), math.erf(-2.0)], rtol=1e-7)
    assert gradgradcheck(tg.erf, np.array([-2.0, -0.3, 0.0, 0.7, 3.0]))


# --------------------------------------------------------------------------- GELU, SiLU
def _torch_second(fn: Any, x: np.ndarray, up: np.ndarray, v: np.ndarray) -> tuple[Any, ...]:
    assert torch is not None
    b = torch.tensor(x, requires_grad=True)
    out = fn(b)
    (g,) = torch.autograd.grad((out * torch.from_numpy(up)).sum(), b, create_graph=True)
    (hv,) = torch.autograd.grad((g * torch.from_numpy(v)).sum(), b)
    return out.detach().numpy(), g.detach().numpy(), hv.numpy()


X_ACT = np.concatenate([np.linspace(-9, 9, 73), [0.0, -1e-8, 1e-8, -40.0, 40.0]])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch_to_second_order(approximate: str) -> None:
    fn = lambda t: F.gelu(t, approximate=approximate)  # noqa: E731
    ours, up, v = _first_and_second(fn, X_ACT)
    cdf = np.array([0.5 * (1 + math.erf(x / math.sqrt(2))) for x in X_ACT])
    if approximate == "none":
        np.testing.assert_allclose(ours[0], X_ACT * cdf, rtol=1e-14, atol=1e-300)
    assert gradcheck(fn, X_ACT[:20]) and gradgradcheck(fn, X_ACT[::7])
    if torch is not None:
        theirs = _torch_second(lambda b: torch.nn.functional.gelu(b, approximate=approximate),
                               X_ACT, up, v)
        # the tanh form computes 1 + tanh(u) with tanh(u) near -1 for x << 0: an ulp of a
        # different libm's tanh is 2e-16 * |x| in the result, far above its relative size
        atol = 1e-15 if approximate == "none" else 1e-14
        for mine, ref in zip(ours, theirs):
            np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=atol)


def test_silu_matches_torch_to_second_order_and_is_finite_at_extremes() -> None:
    ours, up, v = _first_and_second(F.silu, X_ACT)
    np.testing.assert_allclose(ours[0], X_ACT / (1 + np.exp(-X_ACT)), rtol=1e-14)
    if torch is not None:
        theirs = _torch_second(torch.nn.functional.silu, X_ACT, up, v)
        for mine, ref in zip(ours, theirs):
            np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-15)
    big = tg.tensor([1e4, -1e4], dtype=np.float32, requires_grad=True)
    F.silu(big).sum().backward()
    assert np.isfinite(big.grad.numpy()).all()
    np.testing.assert_array_equal(F.silu(big).detach().numpy(), [1e4, -0.0])


def test_activation_modules() -> None:
    x = tg.tensor(X_ACT)
    np.testing.assert_array_equal(nn.GELU("tanh")(x).numpy(), F.gelu(x, "tanh").numpy())
    np.testing.assert_array_equal(nn.SiLU()(x).numpy(), F.silu(x).numpy())
    assert repr(nn.GELU()) == "GELU(approximate='none')"
    with pytest.raises(DomainError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("erf")
    with pytest.raises(DomainError, match="gelu: approximate"):
        F.gelu(x, "fast")


@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_softmax_modules_dims_follow_torch(ndim: int) -> None:
    x = RNG.normal(size=(2, 3, 4, 5)[:ndim])
    for ours, theirs in ((nn.Softmax, "Softmax"), (nn.LogSoftmax, "LogSoftmax")):
        np.testing.assert_allclose(ours()(tg.tensor(x)).numpy(),
                                   ours(dim=-1)(tg.tensor(x)).numpy())
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            implicit = ours(dim=None)(tg.tensor(x)).numpy()
        axis = 0 if ndim in (1, 3) else 1
        np.testing.assert_allclose(implicit, ours(dim=axis)(tg.tensor(x)).numpy())
        if torch is not None:
            for dim in (None, 0, -1):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    mine = ours(dim=dim)(tg.tensor(x)).numpy()
                    ref = getattr(torch.nn, theirs)(dim=dim)(torch.from_numpy(x)).numpy()
                np.testing.assert_allclose(mine, ref, rtol=1e-13, atol=1e-15)
    with pytest.raises(TypeError, match="dim must be an int or None"):
        nn.Softmax(dim=1.0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- LayerNorm
@pytest.mark.parametrize(("shape", "normalized"), [((5, 6), 6), ((3, 4, 6), (6,)),
                                                  ((2, 3, 4, 5), (4, 5)), ((7,), 7)])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch_to_second_order(shape: tuple[int, ...], normalized: Any,
                                                  affine: str) -> None:
    x = RNG.normal(size=shape) * 3 + 1
    ns = (normalized,) if isinstance(normalized, int) else normalized
    w = RNG.normal(size=ns) if affine != "none" else None
    b = RNG.normal(size=ns) if affine == "both" else None
    tw = None if w is None else tg.tensor(w, requires_grad=True)
    tb = None if b is None else tg.tensor(b, requires_grad=True)
    fn = lambda t: F.layer_norm(t, normalized, tw, tb, eps=1e-5)  # noqa: E731
    ours, up, v = _first_and_second(fn, x)
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    expected = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    expected = expected * (1 if w is None else w) + (0 if b is None else b)
    np.testing.assert_allclose(ours[0], expected, rtol=1e-12, atol=1e-14)
    assert gradcheck(lambda t: F.layer_norm(t, normalized), x)
    if torch is None:
        return
    bw = None if w is None else torch.tensor(w, requires_grad=True)
    bb = None if b is None else torch.tensor(b, requires_grad=True)
    theirs = _torch_second(lambda t: torch.nn.functional.layer_norm(t, ns, bw, bb, 1e-5),
                           x, up, v)
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)
    a = tg.tensor(x, requires_grad=True)
    (F.layer_norm(a, normalized, tw, tb) * up).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    (torch.nn.functional.layer_norm(tx, ns, bw, bb) * torch.from_numpy(up)).sum().backward()
    for mine_p, ref_p in ((tw, bw), (tb, bb)):
        if mine_p is not None:
            np.testing.assert_allclose(mine_p.grad.numpy(), ref_p.grad.numpy(), rtol=1e-11,
                                       atol=1e-13)


def test_layer_norm_module_follows_torch() -> None:
    ln = nn.LayerNorm((3, 4), eps=1e-3, dtype=np.float64)
    assert [name for name, _ in ln.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(ln.weight.numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(ln.bias.numpy(), np.zeros((3, 4)))
    assert nn.LayerNorm(4, bias=False).bias is None
    plain = nn.LayerNorm(4, elementwise_affine=False)
    assert plain.weight is None and plain.bias is None and not list(plain.parameters())
    assert repr(ln) == "LayerNorm((3, 4), eps=0.001, elementwise_affine=True)"
    x = RNG.normal(size=(2, 3, 4))
    if torch is not None:
        ref = torch.nn.LayerNorm((3, 4), eps=1e-3, dtype=torch.float64)
        np.testing.assert_allclose(ln(tg.tensor(x)).numpy(),
                                   ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    y = ln(tg.tensor(x)).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0, atol=1e-14)
    ln.eval()  # no running statistics: evaluation normalises the same way
    np.testing.assert_array_equal(ln(tg.tensor(x)).numpy(), y)


def test_layer_norm_errors() -> None:
    x = tg.ones((2, 3))
    with pytest.raises(ShapeError, match=r"input of shape \(2, 3\) does not end in "
                                         r"normalized_shape \(4,\)"):
        F.layer_norm(x, 4)
    with pytest.raises(ShapeError, match=r"weight has shape \(2,\), expected"):
        F.layer_norm(x, 3, weight=tg.ones(2))
    with pytest.raises(DomainError, match="normalized_shape must be a positive int"):
        nn.LayerNorm(0)
    with pytest.raises(DomainError, match="normalized_shape must be a positive int"):
        nn.LayerNorm(())
    with pytest.raises(DomainError, match="eps must be in"):
        F.layer_norm(x, 3, eps=-1.0)
    with pytest.raises(DTypeError, match="elementwise_affine must be True or False"):
        nn.LayerNorm(3, elementwise_affine="yes")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Embedding
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch_with_repeats_and_padding(padding_idx: int | None) -> None:
    w = RNG.normal(size=(6, 3))
    ids = np.array([[1, 2, 2], [5, 0, 1]])
    a = tg.tensor(w, requires_grad=True)
    out = F.embedding(ids, a, padding_idx=padding_idx)
    np.testing.assert_array_equal(out.numpy(), w[ids])
    up = RNG.normal(size=out.shape)
    out.backward(up)
    expected = np.zeros_like(w)
    np.add.at(expected, ids, up)
    if padding_idx is not None:
        expected[padding_idx] = 0.0
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-15)
    if torch is not None:
        b = torch.tensor(w, requires_grad=True)
        ref = torch.nn.functional.embedding(torch.from_numpy(ids), b, padding_idx=padding_idx)
        ref.backward(torch.from_numpy(up))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-15)
    assert gradgradcheck(lambda t: F.embedding(ids, t), w)


def test_embedding_module_init_and_errors() -> None:
    emb = nn.Embedding(2000, 50, padding_idx=3, generator=0, dtype=np.float64)
    values = np.delete(emb.weight.numpy(), 3, axis=0)
    assert abs(values.mean()) < 0.01 and abs(values.std() - 1) < 0.01  # N(0, 1), as torch
    np.testing.assert_array_equal(emb.weight.numpy()[3], np.zeros(50))
    assert repr(emb) == "Embedding(2000, 50, padding_idx=3)"
    assert emb(np.array([[3, 4]])).shape == (1, 2, 50)
    assert emb(tg.tensor(np.array([7]))).shape == (1, 50)
    with pytest.raises(IndexError, match=r"ids must be in \[0, 1999\].*found \[2000, -1\]"):
        emb(np.array([0, 2000, -1]))
    with pytest.raises(DTypeError, match="ids must be integers"):
        emb(np.array([0.0, 1.0]))
    with pytest.raises(DomainError, match=r"padding_idx must be an int in \[-5, 5\)"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(ShapeError, match="weight must be 2-d"):
        F.embedding(np.array([0]), tg.ones(3))
    ids = np.array([1, 0])
    out = F.embedding(ids, tg.tensor(np.eye(2), requires_grad=True))
    ids[0] = 0  # the op keeps its own copy of the ids
    assert out.numpy().tolist() == [[0.0, 1.0], [1.0, 0.0]]


# --------------------------------------------------------------------------- Dropout2d
@pytest.mark.parametrize("shape", [(8, 16, 3, 3), (32, 4, 5)])
def test_dropout2d_zeroes_whole_channels_and_scales_the_rest(shape: tuple[int, ...]) -> None:
    drop = nn.Dropout2d(0.25, generator=0)
    x = tg.tensor(RNG.uniform(1, 2, shape), requires_grad=True)
    y = drop(x)
    maps = y.numpy().reshape(-1, shape[-2] * shape[-1])
    ratio = maps / x.numpy().reshape(maps.shape)
    per_map = ratio[:, 0]
    np.testing.assert_allclose(ratio, per_map[:, None] * np.ones_like(ratio))
    assert set(np.round(per_map, 12)) == {0.0, round(1 / 0.75, 12)}
    assert 0.1 < np.mean(per_map == 0) < 0.4
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy().reshape(maps.shape), ratio)
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout2d(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout2d(1.0)(x).numpy(), np.zeros(shape))


def test_dropout2d_errors_and_reproducibility() -> None:
    with pytest.raises(ShapeError, match=r"dropout2d: expected \(N, C, H, W\) or \(C, H, W\)"):
        F.dropout2d(tg.ones((2, 3)))
    with pytest.raises(DomainError, match="Dropout2d: p must be a probability"):
        nn.Dropout2d(1.5)
    x = tg.ones((4, 6, 2, 2))
    first = nn.Dropout2d(0.5, generator=3)(x).numpy()
    np.testing.assert_array_equal(first, nn.Dropout2d(0.5, generator=3)(x).numpy())
    assert repr(nn.Dropout2d(0.1)) == "Dropout2d(p=0.1)"
