"""BatchNorm1d and the fused batch_norm op: against a numpy transcription, against PyTorch,
and its closed-form VJP checked three ways (gradcheck, the composite of primitive ops,
second order)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError, DTypeError, ShapeError
from tensorgraph.nn import functional as F
from tensorgraph.ops.nn_ops import batch_norm as fused_batch_norm
from tensorgraph.testing import gradcheck, gradgradcheck

SHAPES = [(6, 3), (5, 2, 4)]


def _axes(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (0,) if len(shape) == 2 else (0, 2)


def _cshape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (1, shape[1]) if len(shape) == 2 else (1, shape[1], 1)


class NumpyBatchNorm:
    """A plain transcription of PyTorch's documented BatchNorm1d, for comparison."""

    def __init__(self, c: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        self.mean, self.var = np.zeros(c), np.ones(c)
        self.gamma, self.beta = np.ones(c), np.zeros(c)
        self.eps, self.momentum = eps, momentum

    def __call__(self, x: np.ndarray, training: bool) -> np.ndarray:
        axes, cs = _axes(x.shape), _cshape(x.shape)
        if training:
            m = x.size // x.shape[1]
            mu, var = x.mean(axis=axes), x.var(axis=axes)
            self.mean = (1 - self.momentum) * self.mean + self.momentum * mu
            self.var = (1 - self.momentum) * self.var + self.momentum * var * m / (m - 1)
        else:
            mu, var = self.mean, self.var
        xhat = (x - mu.reshape(cs)) / np.sqrt(var.reshape(cs) + self.eps)
        return self.gamma.reshape(cs) * xhat + self.beta.reshape(cs)


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_and_running_stats_match_numpy_over_train_then_eval(shape: Any) -> None:
    rng = np.random.default_rng(0)
    bn = nn.BatchNorm1d(shape[1], momentum=0.3, dtype=np.float64)
    ref = NumpyBatchNorm(shape[1], momentum=0.3)
    gamma, beta = rng.uniform(0.5, 2, shape[1]), rng.normal(size=shape[1])
    with tg.no_grad():
        bn.weight[:] = ref.gamma = gamma
        bn.bias[:] = ref.beta = beta
    for step in range(4):
        x = rng.normal(2.0, 3.0, shape)
        np.testing.assert_allclose(bn(tg.tensor(x)).numpy(), ref(x, True), rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(bn.running_mean.numpy(), ref.mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.numpy(), ref.var, rtol=1e-12)
        assert bn.num_batches_tracked.item() == step + 1
    bn.eval()
    x = rng.normal(2.0, 3.0, shape)
    np.testing.assert_allclose(bn(tg.tensor(x)).numpy(), ref(x, False), rtol=1e-12)
    bn(tg.tensor(x))
    assert bn.num_batches_tracked.item() == 4  # eval leaves the statistics alone
    np.testing.assert_allclose(bn.running_mean.numpy(), ref.mean, rtol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_train_then_eval_matches_torch(shape: Any) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    ours = nn.BatchNorm1d(shape[1], dtype=np.float64)
    theirs = torch.nn.BatchNorm1d(shape[1]).double()
    gamma, beta = rng.uniform(0.5, 2, shape[1]), rng.normal(size=shape[1])
    with tg.no_grad():
        ours.weight[:] = gamma
        ours.bias[:] = beta
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(gamma))
        theirs.bias.copy_(torch.from_numpy(beta))
    for _ in range(3):
        x = rng.normal(1.0, 2.0, shape)
        g = rng.normal(size=shape)
        xt = tg.tensor(x, requires_grad=True)
        ours(xt).backward(g)
        xp = torch.tensor(x, requires_grad=True)
        theirs(xp).backward(torch.from_numpy(g))
        np.testing.assert_allclose(xt.grad.numpy(), xp.grad.numpy(), rtol=1e-10, atol=1e-12)
        for mine, other in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
            np.testing.assert_allclose(mine.grad.numpy(), other.grad.numpy(), rtol=1e-10)
        ours.zero_grad()
        theirs.zero_grad()
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(ours(tg.tensor(x)).numpy(),
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)


def _composite(x: Any, gamma: Any, beta: Any, eps: float = 1e-5) -> Any:
    """Batch-norm from primitive ops, whose gradient the engine derives by itself."""
    axes, cs = _axes(x.shape), _cshape(x.shape)
    mu = x.mean(axis=axes, keepdims=True)
    centred = x - mu
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / tg.sqrt(var + eps) * gamma.reshape(cs) + beta.reshape(cs)


def _inputs(shape: tuple[int, ...], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape), rng.uniform(0.5, 2, shape[1]), rng.normal(size=shape[1])]


@pytest.mark.parametrize("shape", SHAPES)
def test_fused_vjp_passes_gradcheck(shape: Any) -> None:
    assert gradcheck(lambda x, g, b: fused_batch_norm(x, g, b, axis=_axes(shape)),
                     *_inputs(shape, 2))


@pytest.mark.parametrize("shape", SHAPES)
def test_fused_vjp_passes_gradgradcheck(shape: Any) -> None:
    assert gradgradcheck(lambda x, g, b: fused_batch_norm(x, g, b, axis=_axes(shape)),
                         *_inputs(shape, 3))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(3))
def test_fused_agrees_with_the_composite_of_primitive_ops(shape: Any, seed: int) -> None:
    x, gamma, beta = _inputs(shape, seed)
    upstream = np.random.default_rng(seed + 10).normal(size=shape)
    results = []
    for fn in (lambda a, b, c: fused_batch_norm(a, b, c, axis=_axes(shape)), _composite):
        leaves = [tg.tensor(v, requires_grad=True) for v in (x, gamma, beta)]
        out = fn(*leaves)
        grads = tg.gradients(out, leaves, grad_outputs=upstream, create_graph=True)
        # second order too: differentiate <grads, v> once more through each version
        v = [np.random.default_rng(seed + 20 + i).normal(size=t.shape)
             for i, t in enumerate(leaves)]
        inner = sum((g * w).sum() for g, w in zip(grads, v))
        second = tg.gradients(inner, leaves, allow_unused=True)
        results.append((out.numpy(), [g.numpy() for g in grads], [s.numpy() for s in second]))
    (o1, g1, s1), (o2, g2, s2) = results
    np.testing.assert_allclose(o1, o2, rtol=1e-12, atol=1e-12)
    for a, b in zip(g1 + s1, g2 + s2):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


def test_fused_vjp_without_affine_and_with_float32() -> None:
    x = np.random.default_rng(4).normal(size=(5, 3))
    assert gradcheck(lambda a: fused_batch_norm(a, None, None, axis=(0,)), x)
    x32 = tg.tensor(x.astype(np.float32), requires_grad=True)
    fused_batch_norm(x32, tg.ones(3), tg.zeros(3), axis=(0,)).sum().backward()
    assert x32.grad is not None and x32.grad.dtype == np.float32


def test_closed_form_vjp_matches_a_numpy_transcription() -> None:
    x, gamma, beta = _inputs((7, 3), 5)
    g = np.random.default_rng(6).normal(size=(7, 3))
    n = x.shape[0]
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    inv_std = 1 / np.sqrt(x.var(0) + 1e-5)
    dx = gamma * inv_std / n * (n * g - g.sum(0) - xhat * (g * xhat).sum(0))
    leaves = [tg.tensor(v, requires_grad=True) for v in (x, gamma, beta)]
    fused_batch_norm(*leaves, axis=(0,)).backward(g)
    np.testing.assert_allclose(leaves[0].grad.numpy(), dx, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(leaves[1].grad.numpy(), (g * xhat).sum(0), rtol=1e-12)
    np.testing.assert_allclose(leaves[2].grad.numpy(), g.sum(0), rtol=1e-12)


def test_bias_before_batch_norm_has_zero_gradient() -> None:
    # why Linear before BatchNorm needs no bias: the mean subtraction cancels it
    layer = nn.Linear(3, 4, dtype=np.float64, generator=0)
    bn = nn.BatchNorm1d(4, dtype=np.float64)
    x = tg.tensor(np.random.default_rng(7).normal(size=(8, 3)))
    out = bn(layer(x))
    out.backward(np.random.default_rng(8).normal(size=(8, 4)))
    np.testing.assert_allclose(layer.bias.grad.numpy(), 0, atol=1e-12)
    with tg.no_grad():
        shifted = bn(tg.tensor(layer(x).numpy() + 5.0))
    np.testing.assert_allclose(shifted.numpy(), out.numpy(), atol=1e-9)


def test_batch_of_one_in_training_is_a_clear_error_but_fine_in_eval() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        bn(tg.ones((1, 3)))
    bn(tg.ones((1, 3, 2)))  # two values per channel is enough, as in PyTorch
    bn.eval()
    assert bn(tg.ones((1, 3))).shape == (1, 3)


def test_shape_dtype_and_hyper_parameter_errors() -> None:
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ShapeError, match=r"running_mean has shape \(3,\).*4 channels"):
        bn(tg.ones((2, 4)))
    with pytest.raises(ShapeError, match=r"expected \(N, C\) or \(N, C, L\)"):
        bn(tg.ones((2, 3, 1, 1)))
    with pytest.raises(DTypeError, match="running_mean is float32 but the input is float64"):
        bn(tg.ones((2, 3), dtype=np.float64))
    for bad in ({"eps": 0.0}, {"momentum": 1.5}, {"num_features": 0}):
        with pytest.raises(DomainError):
            nn.BatchNorm1d(**{"num_features": 3, **bad})


def test_momentum_none_is_the_cumulative_average() -> None:
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    rng = np.random.default_rng(9)
    batches = [rng.normal(size=(4, 2)) for _ in range(3)]
    for b in batches:
        bn(tg.tensor(b))
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([b.var(0, ddof=1) for b in batches], axis=0),
                               rtol=1e-12)


def test_without_running_stats_and_without_affine() -> None:
    x = np.random.default_rng(10).normal(size=(5, 2))
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False, dtype=np.float64)
    assert list(bn.parameters()) == [] and bn.state_dict() == {}
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5)
    np.testing.assert_allclose(bn(tg.tensor(x)).numpy(), expected, rtol=1e-12)
    bn.eval()  # still the batch's statistics
    np.testing.assert_allclose(bn(tg.tensor(x)).numpy(), expected, rtol=1e-12)


def test_functional_eval_gradients_flow_to_input_and_affine() -> None:
    rng = np.random.default_rng(11)
    rm, rv = tg.tensor(rng.normal(size=3)), tg.tensor(rng.uniform(0.5, 2, 3))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False),
                     rng.normal(size=(4, 3, 2)), rng.normal(size=3), rng.normal(size=3))
