"""nn.init: gains, fans and the initialisers' distributions, as PyTorch defines them."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import DomainError, ShapeError
from tensorgraph.nn import init

GAINS = [("linear", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
         ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
         ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("selu", None, 0.75)]


@pytest.mark.parametrize(("name", "param", "expected"), GAINS)
def test_calculate_gain_table(name: str, param: float | None, expected: float) -> None:
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for name, param, _ in GAINS:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_fans() -> None:
    assert init.calculate_fan_in_and_fan_out(tg.zeros((5, 3))) == (3, 5)
    assert init.calculate_fan_in_and_fan_out(tg.zeros((5, 3, 2, 2))) == (12, 20)
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        init.calculate_fan_in_and_fan_out(tg.zeros(4))


def _std_within(values: np.ndarray, std: float) -> bool:
    # 60,000 samples: the sample std is within 2% of the true one with overwhelming odds
    return abs(values.std() / std - 1) < 0.02


def test_kaiming_and_xavier_follow_pytorch_formulas() -> None:
    w = tg.zeros((200, 300), dtype=np.float64)
    fan_in, fan_out = 300, 200
    init.kaiming_uniform_(w, nonlinearity="relu", generator=0)
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    assert np.abs(w.numpy()).max() <= bound and _std_within(w.numpy(), bound / math.sqrt(3))
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", generator=0)
    assert np.abs(w.numpy()).max() <= math.sqrt(2) * math.sqrt(3 / fan_out)
    init.kaiming_normal_(w, nonlinearity="relu", generator=0)
    assert _std_within(w.numpy(), math.sqrt(2) / math.sqrt(fan_in))
    init.xavier_uniform_(w, gain=2.0, generator=0)
    bound = 2.0 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w.numpy()).max() <= bound and _std_within(w.numpy(), bound / math.sqrt(3))
    init.xavier_normal_(w, generator=0)
    assert _std_within(w.numpy(), math.sqrt(2 / (fan_in + fan_out)))
    # PyTorch's default for kaiming: leaky_relu with a = 0, i.e. the ReLU gain
    a = init.kaiming_uniform_(tg.zeros((20, 30), dtype=np.float64), generator=1).numpy()
    b = init.kaiming_uniform_(tg.zeros((20, 30), dtype=np.float64), nonlinearity="relu",
                              generator=1).numpy()
    np.testing.assert_array_equal(a, b)


def test_fillers_and_generators() -> None:
    t = tg.zeros((3, 2))
    assert init.ones_(t) is t and (t.numpy() == 1).all()
    assert (init.zeros_(t).numpy() == 0).all()
    assert (init.constant_(t, 0.25).numpy() == 0.25).all()
    u = init.uniform_(tg.zeros(1000), -2, -1, generator=np.random.default_rng(0)).numpy()
    assert u.min() >= -2 and u.max() < -1
    n1 = init.normal_(tg.zeros(5), 3.0, 0.5, generator=4).numpy()
    n2 = init.normal_(tg.zeros(5, dtype=np.float64), 3.0, 0.5, generator=4).numpy()
    np.testing.assert_allclose(n1, n2, rtol=1e-6)  # same draw in any dtype
    version = t._version
    init.ones_(t)
    assert t._version == version + 1  # in-place writes are visible to the engine
    tg.manual_seed(11)
    first = init.normal_(tg.zeros(3)).numpy().copy()
    tg.manual_seed(11)
    np.testing.assert_array_equal(init.normal_(tg.zeros(3)).numpy(), first)


def test_init_errors() -> None:
    with pytest.raises(DomainError, match="unknown nonlinearity"):
        init.calculate_gain("gelu")
    with pytest.raises(DomainError, match="mode must be"):
        init.kaiming_uniform_(tg.zeros((2, 2)), mode="fan_avg")
    with pytest.raises(TypeError, match="generator must be"):
        init.uniform_(tg.zeros(2), generator="seed")  # type: ignore[arg-type]
    with pytest.raises(DomainError):
        init.uniform_(tg.zeros(2), 1.0, 0.0)
    with pytest.raises(DomainError):
        init.normal_(tg.zeros(2), 0.0, -1.0)
