"""Linear, Sequential, activations, Flatten, Identity and the MLP builder."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError, ShapeError
from tensorgraph.nn import functional as F
from tensorgraph.testing import gradcheck


def test_linear_computes_x_wt_plus_b_with_pytorch_layout() -> None:
    layer = nn.Linear(3, 2, dtype=np.float64, generator=0)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    x = np.random.default_rng(1).normal(size=(4, 3))
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(tg.tensor(x)).numpy(), expected, rtol=1e-14)
    batched = np.random.default_rng(2).normal(size=(2, 4, 3))
    np.testing.assert_allclose(layer(tg.tensor(batched)).numpy(),
                               batched @ layer.weight.numpy().T + layer.bias.numpy(),
                               rtol=1e-14)


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 2, 3)])
def test_linear_gradients(shape: Any) -> None:
    rng = np.random.default_rng(3)
    args = (rng.normal(size=shape), rng.normal(size=(2, 3)), rng.normal(size=2))
    assert gradcheck(F.linear, *args)
    assert gradcheck(lambda x, w: F.linear(x, w), *args[:2])


def test_linear_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(2, 3)), rng.normal(size=2)
    g = rng.normal(size=(5, 2))
    leaves = [tg.tensor(v, requires_grad=True) for v in (x, w, b)]
    F.linear(*leaves).backward(g)
    tleaves = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    out = torch.nn.functional.linear(*tleaves)
    out.backward(torch.from_numpy(g))
    np.testing.assert_allclose(F.linear(x, w, b).numpy(), out.detach().numpy(), rtol=1e-14)
    for ours, theirs in zip(leaves, tleaves):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-13)


def test_linear_default_init_is_uniform_in_one_over_sqrt_fan_in() -> None:
    layer = nn.Linear(16, 400, generator=0)
    bound = 1 / math.sqrt(16)
    for p in (layer.weight, layer.bias):
        values = p.numpy()
        assert values.dtype == np.float32
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound  # spread over the whole interval
    np.testing.assert_array_equal(nn.Linear(16, 400, generator=0).weight.numpy(),
                                  layer.weight.numpy())
    assert nn.Linear(2, 2, bias=False, generator=0).bias is None
    assert nn.Linear(2, 2, dtype=np.float64).weight.dtype == np.float64


def test_linear_errors() -> None:
    with pytest.raises(DomainError, match="in_features must be a positive int"):
        nn.Linear(0, 2)
    with pytest.raises(TypeError, match="floating dtype"):
        nn.Linear(2, 2, dtype=np.int32)
    layer = nn.Linear(3, 2, generator=0)
    with pytest.raises(ShapeError, match=r"input of shape \(4, 2\) does not end in "
                                         r"in_features=3"):
        layer(tg.ones((4, 2)))
    with pytest.raises(ShapeError, match="bias must have shape"):
        F.linear(tg.ones((1, 3)), tg.ones((2, 3)), tg.ones(3))
    with pytest.raises(ShapeError, match="weight must be 2-d"):
        F.linear(tg.ones((1, 3)), tg.ones(3))


def test_sequential_indexing_len_iteration_append() -> None:
    a, b, c = nn.Linear(2, 3, generator=0), nn.ReLU(), nn.Linear(3, 1, generator=1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    assert seq.append(c) is seq and seq[2] is c
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(a, lambda x: x)  # type: ignore[arg-type]
    named = nn.Sequential({"hidden": a, "act": b})
    assert [n for n, _ in named.named_children()] == ["hidden", "act"]
    x = tg.ones((4, 2))
    np.testing.assert_array_equal(seq(x).numpy(), c(b(a(x))).numpy())


def test_activation_modules_match_their_functions() -> None:
    x = tg.tensor(np.random.default_rng(5).normal(size=(3, 4)))
    for module, expected in [
        (nn.ReLU(), np.maximum(x.numpy(), 0)),
        (nn.LeakyReLU(0.2), np.where(x.numpy() > 0, x.numpy(), 0.2 * x.numpy())),
        (nn.Sigmoid(), 1 / (1 + np.exp(-x.numpy()))),
        (nn.Tanh(), np.tanh(x.numpy())),
        (nn.Softmax(dim=1), np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True)),
        (nn.LogSoftmax(dim=0), x.numpy() - np.log(np.exp(x.numpy()).sum(0, keepdims=True))),
        (nn.Identity(), x.numpy()),
    ]:
        np.testing.assert_allclose(module(x).numpy(), expected, rtol=1e-12)


def test_flatten() -> None:
    x = tg.ones((2, 3, 4, 5))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    with pytest.raises(ShapeError, match="do not fit input"):
        nn.Flatten(2, 1)(x)


def test_mlp_layout_drops_bias_before_batch_norm() -> None:
    net = nn.MLP([4, 8, 6, 3], batch_norm=True, dropout=0.2, output="softmax", generator=0)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout",
                     "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear", "Softmax"]
    assert net[0].bias is None and net[4].bias is None and net[8].bias is not None
    plain = nn.MLP([4, 8, 1], activation="tanh", generator=0)
    assert [type(m).__name__ for m in plain] == ["Linear", "Tanh", "Linear", "Sigmoid"]
    assert plain[0].bias is not None
    assert type(nn.MLP([4, 1], output=None, generator=0)[-1]).__name__ == "Linear"
    assert type(nn.MLP([4, 3], output="log_softmax", generator=0)[-1]).__name__ == "LogSoftmax"


def test_mlp_is_reproducible_from_a_seed_and_shares_one_generator() -> None:
    a = nn.MLP([3, 5, 1], dropout=0.5, generator=7)
    b = nn.MLP([3, 5, 1], dropout=0.5, generator=7)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())
    x = tg.ones((4, 3))
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())  # same dropout masks
    deep = nn.MLP([3, 5, 5, 1], dropout=0.5, generator=7)
    assert deep[2].generator is deep[5].generator is not None


@pytest.mark.parametrize(("init", "activation"), [("kaiming", "relu"), ("xavier", "tanh")])
def test_mlp_init_options(init: str, activation: str) -> None:
    net = nn.MLP([200, 300, 1], activation=activation, init=init, generator=0)
    hidden = net[0].weight.numpy()
    gain_times_scale = {"kaiming": math.sqrt(2) * math.sqrt(3 / 200),  # He: fan_in 200
                        "xavier": 5 / 3 * math.sqrt(6 / 500)}  # Glorot: tanh gain
    bound = gain_times_scale[init]
    assert np.abs(hidden).max() <= bound and np.abs(hidden).max() > 0.95 * bound
    assert not net[0].bias.numpy().any()


def test_mlp_argument_errors() -> None:
    for kwargs in ({"sizes": [3]}, {"sizes": [3, 1], "activation": "gelu"},
                   {"sizes": [3, 1], "output": "relu"}, {"sizes": [3, 2, 1], "dropout": 1.0},
                   {"sizes": [3, 1], "init": "he"}):
        with pytest.raises(DomainError, match="MLP"):
            nn.MLP(**kwargs)  # type: ignore[arg-type]
