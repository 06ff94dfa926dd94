"""Learning-rate schedulers: closed forms (always), torch's sequences, checkpoints, errors."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import optim
from tensorgraph.errors import DomainError, DTypeError

BASE = (0.1, 0.03)


def _opt(lrs: tuple[float, ...] = BASE) -> optim.SGD:
    groups = [{"params": [tg.tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=1.0)


def _sequence(sched: optim.LRScheduler, n: int) -> list[list[float]]:
    out = [sched.get_last_lr()]
    for _ in range(n):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out


# the schedules' closed forms, transcribed from the math
CLOSED: list[tuple[Callable[..., optim.LRScheduler], dict[str, Any], Callable[..., float]]] = [
    (optim.StepLR, {"step_size": 3, "gamma": 0.5}, lambda b, t: b * 0.5 ** (t // 3)),
    (optim.StepLR, {"step_size": 1}, lambda b, t: b * 0.1**t),
    (optim.ExponentialLR, {"gamma": 0.9}, lambda b, t: b * 0.9**t),
    (optim.CosineAnnealingLR, {"T_max": 7},
     lambda b, t: 0.0 + (b - 0.0) * (1 + math.cos(math.pi * t / 7)) / 2),
    (optim.CosineAnnealingLR, {"T_max": 5, "eta_min": 0.01},
     lambda b, t: 0.01 + (b - 0.01) * (1 + math.cos(math.pi * t / 5)) / 2),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "kw", "formula"), CLOSED, ids=lambda v: str(v))
def test_schedule_follows_its_closed_form(
    cls: Callable[..., optim.LRScheduler], kw: dict[str, Any], formula: Callable[..., float]
) -> None:
    n = 2 * kw.get("T_max", 10) + 3  # two cosine periods and a bit
    seq = _sequence(cls(_opt(), **kw), n)
    expected = [[formula(b, t) for b in BASE] for t in range(n + 1)]
    np.testing.assert_allclose(seq, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("cls", "kw", "formula"), CLOSED, ids=lambda v: str(v))
def test_schedule_matches_torch(
    cls: Callable[..., optim.LRScheduler], kw: dict[str, Any], formula: Callable[..., float]
) -> None:
    torch = pytest.importorskip("torch")
    n = 2 * kw.get("T_max", 10) + 3
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE]
    topt = torch.optim.SGD(groups, lr=1.0)
    tsched = getattr(torch.optim.lr_scheduler, cls.__name__)(topt, **kw)  # type: ignore[attr-defined]
    expected = [tsched.get_last_lr()]
    for _ in range(n):
        topt.step()
        tsched.step()
        expected.append(tsched.get_last_lr())
    assert _sequence(cls(_opt(), **kw), n) == expected  # same recursion, same floats


def test_scheduler_sets_the_lr_the_optimizer_uses() -> None:
    w = tg.tensor(np.zeros(1), requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    moves = []
    for _ in range(5):
        before = w.numpy().copy()
        w.grad = tg.tensor(np.ones(1))
        opt.step()
        sched.step()
        moves.append(float((before - w.numpy())[0]))
    assert moves == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_lr_changed_by_hand_is_followed() -> None:
    opt = _opt((1.0,))
    sched = optim.ExponentialLR(opt, gamma=0.5)
    opt.param_groups[0]["lr"] = 0.2
    sched.step()
    assert sched.get_last_lr() == [0.1]


@pytest.mark.parametrize(
    ("cls", "kw"),
    [
        (optim.StepLR, {"step_size": 2, "gamma": 0.3}),
        (optim.ExponentialLR, {"gamma": 0.8}),
        (optim.CosineAnnealingLR, {"T_max": 4, "eta_min": 0.001}),
    ],
)
def test_scheduler_checkpoint_resumes_exactly(
    cls: Callable[..., optim.LRScheduler], kw: dict[str, Any]
) -> None:
    straight = _sequence(cls(_opt(), **kw), 12)
    opt = _opt()
    sched = cls(opt, **kw)
    first = _sequence(sched, 5)
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    # as in PyTorch: build the scheduler first, then load both states
    opt2 = _opt((0.5, 0.5))
    sched2 = cls(opt2, **kw)
    opt2.load_state_dict(opt_sd)
    sched2.load_state_dict(sched_sd)
    assert first + _sequence(sched2, 7)[1:] == straight


# ---------------------------------------------------------------- ReduceLROnPlateau
def test_plateau_by_hand() -> None:
    opt = _opt((1.0,))
    sched = optim.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    lrs = []
    # 5 (best) | 5 bad 1 | 5 bad 2 > patience: lr 0.5, cooldown 1 | 5 cooldown eats it |
    # 5 bad 1 | 5 bad 2: lr 0.25, cooldown | 5 cooldown | 5 bad 1 | 5 bad 2: max(0.125, 0.2)
    for metric in [5.0] * 9:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]
    assert opt.param_groups[0]["lr"] == 0.2


def test_plateau_threshold_modes() -> None:
    # rel: 9.9999 is not below 10 * (1 - 1e-4) = 9.999, so it counts as a bad epoch
    sched = optim.ReduceLROnPlateau(_opt((1.0,)), patience=0)
    sched.step(10.0)
    sched.step(9.9999)
    assert sched.get_last_lr() == [0.1]
    # abs, max: 10.5 is not above 10 + 1; 11.5 is
    sched = optim.ReduceLROnPlateau(_opt((1.0,)), mode="max", threshold=1.0,
                                    threshold_mode="abs", patience=0)  # fmt: skip
    sched.step(10.0)
    sched.step(11.5)
    assert sched.get_last_lr() == [1.0] and sched.best == 11.5
    sched.step(12.0)
    assert sched.get_last_lr() == [0.1]


def test_plateau_eps_skips_tiny_changes() -> None:
    sched = optim.ReduceLROnPlateau(_opt((1e-9,)), patience=0, eps=1e-8)
    sched.step(1.0)
    sched.step(2.0)
    assert sched.get_last_lr() == [1e-9]


PLATEAU = [
    {},
    {"mode": "max", "factor": 0.5, "patience": 2},
    {"threshold_mode": "abs", "threshold": 0.05, "patience": 1, "cooldown": 2},
    {"mode": "max", "threshold_mode": "abs", "patience": 0, "min_lr": [0.01, 0.02]},
    {"factor": 0.3, "patience": 1, "cooldown": 1, "min_lr": 0.005, "eps": 1e-3},
]


@pytest.mark.parametrize("kw", PLATEAU, ids=str)
def test_plateau_matches_torch(kw: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    # a noisy metric that improves, plateaus, and improves again
    metrics = np.concatenate([np.linspace(1, 0.5, 8), np.full(25, 0.5), np.linspace(0.5, 0.3, 8)])
    metrics = (metrics + 0.02 * rng.standard_normal(metrics.size)).tolist()
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in BASE]
    topt = torch.optim.SGD(groups, lr=1.0)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    sched = optim.ReduceLROnPlateau(_opt(), **kw)
    for m in metrics:
        tsched.step(m)
        sched.step(m)
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert (sched.num_bad_epochs, sched.cooldown_counter) == (
            tsched.num_bad_epochs, tsched.cooldown_counter)  # fmt: skip
    assert sched.get_last_lr() != list(BASE)  # the scenario did reduce


def test_plateau_state_dict_roundtrip() -> None:
    opt = _opt()
    sched = optim.ReduceLROnPlateau(opt, patience=1)
    for m in [3.0, 2.0, 2.0]:
        sched.step(m)
    sd = sched.state_dict()
    sched2 = optim.ReduceLROnPlateau(_opt(), patience=1)
    sched2.load_state_dict(sd)
    assert (sched2.best, sched2.num_bad_epochs, sched2.last_epoch) == (2.0, 1, 3)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: optim.StepLR(o, step_size=0), DomainError, "StepLR: step_size must be >= 1"),
        (lambda o: optim.StepLR(o, step_size=2.5), DTypeError, "StepLR: step_size must be an int"),
        (lambda o: optim.StepLR(o, 2, gamma=-0.1), DomainError, "StepLR: gamma"),
        (lambda o: optim.ExponentialLR(o, gamma=float("nan")), DomainError, "ExponentialLR"),
        (lambda o: optim.CosineAnnealingLR(o, T_max=0), DomainError, "T_max must be >= 1"),
        (lambda o: optim.CosineAnnealingLR(o, 5, eta_min=-1.0), DomainError, "eta_min"),
        (lambda o: optim.StepLR(o, 2, last_epoch=3), DomainError, "initial_lr"),
        (lambda o: optim.StepLR(object(), 2), DTypeError, "expected a tensorgraph Optimizer"),
        (lambda o: optim.ReduceLROnPlateau(o, factor=1.0), DomainError, "factor"),
        (lambda o: optim.ReduceLROnPlateau(o, mode="up"), DomainError, "mode must be"),
        (lambda o: optim.ReduceLROnPlateau(o, threshold_mode="x"), DomainError, "threshold_mode"),
        (lambda o: optim.ReduceLROnPlateau(o, patience=-1), DomainError, "patience"),
        (lambda o: optim.ReduceLROnPlateau(o, cooldown=-1), DomainError, "cooldown"),
        (lambda o: optim.ReduceLROnPlateau(o, min_lr=[0.1]), DomainError, "expected 2 min_lr"),
    ],
)
def test_scheduler_errors_are_named(
    make: Callable[[optim.Optimizer], Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make(_opt())
