"""The optimizer classes: agreement with the formulas (always) and with torch.optim."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from optim_reference import run_reference

import tensorgraph as tg
from tensorgraph import optim

STEPS = 20
SHAPES = [(3, 4), (4,), ()]

# (tensorgraph class, torch class name, reference kind, hyper-parameters)
CASES: list[tuple[type[optim.Optimizer], str, str, dict[str, Any]]] = [
    (optim.SGD, "SGD", "sgd", {"lr": 0.1}),
    (optim.SGD, "SGD", "sgd", {"lr": 0.05, "momentum": 0.9}),
    (optim.SGD, "SGD", "sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2,
                               "weight_decay": 0.01}),
    (optim.SGD, "SGD", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                               "weight_decay": 0.1}),
    (optim.SGD, "SGD", "sgd", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    (optim.RMSprop, "RMSprop", "rmsprop", {"lr": 0.01}),
    (optim.RMSprop, "RMSprop", "rmsprop", {"lr": 0.01, "centered": True}),
    (optim.RMSprop, "RMSprop", "rmsprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.1}),
    (optim.RMSprop, "RMSprop", "rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5,
                                           "centered": True, "maximize": True}),
    (optim.Adam, "Adam", "adam", {"lr": 0.01}),
    (optim.Adam, "Adam", "adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1}),
    (optim.Adam, "Adam", "adam", {"lr": 0.01, "amsgrad": True}),
    (optim.Adam, "Adam", "adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.05,
                                  "eps": 1e-4, "maximize": True}),
    (optim.AdamW, "AdamW", "adamw", {"lr": 0.01}),
    (optim.AdamW, "AdamW", "adamw", {"lr": 0.01, "weight_decay": 0.3, "amsgrad": True}),
    (optim.AdamW, "AdamW", "adamw", {"lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.0}),
]  # fmt: skip


def _problem(seed: int) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    inits = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return inits, grads


def _run_tensorgraph(cls: type[optim.Optimizer], hp: dict[str, Any], seed: int) -> list[Any]:
    inits, grads = _problem(seed)
    params = [tg.tensor(p.copy(), requires_grad=True) for p in inits]
    opt = cls(params, **hp)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = tg.tensor(g.copy())
        opt.step()
    return [p.numpy() for p in params]


def _case_id(case: tuple[Any, ...]) -> str:
    return f"{case[1]}-{case[3]}"


def _to_ref_hp(kind: str, hp: dict[str, Any]) -> dict[str, Any]:
    out = dict(hp)
    if "betas" in out:
        out["beta1"], out["beta2"] = out.pop("betas")
    if kind == "adamw":
        out.setdefault("weight_decay", 1e-2)
    return out


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_optimizer_matches_formulas(case: tuple[Any, ...]) -> None:
    cls, _, kind, hp = case
    inits, grads = _problem(11)
    ours = _run_tensorgraph(cls, hp, 11)
    for i, p0 in enumerate(inits):
        ref = run_reference(kind, p0, [g[i] for g in grads], **_to_ref_hp(kind, hp))
        np.testing.assert_allclose(ours[i], ref, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_optimizer_matches_torch(case: tuple[Any, ...]) -> None:
    torch = pytest.importorskip("torch")
    cls, torch_name, _, hp = case
    inits, grads = _problem(12)
    params = [torch.tensor(p.copy(), requires_grad=True) for p in inits]
    opt = getattr(torch.optim, torch_name)(params, **hp)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = torch.tensor(g.copy())
        opt.step()
    ours = _run_tensorgraph(cls, hp, 12)
    for mine, theirs in zip(ours, params):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_param_groups_match_torch() -> None:
    torch = pytest.importorskip("torch")
    inits, grads = _problem(13)

    def groups(ps: list[Any]) -> list[dict[str, Any]]:
        return [{"params": ps[:2], "weight_decay": 0.1}, {"params": ps[2:], "lr": 0.1,
                                                          "amsgrad": True}]  # fmt: skip

    tparams = [torch.tensor(p.copy(), requires_grad=True) for p in inits]
    topt = torch.optim.Adam(groups(tparams), lr=0.01)
    params = [tg.tensor(p.copy(), requires_grad=True) for p in inits]
    opt = optim.Adam(groups(params), lr=0.01)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[1]["lr"] == 0.1
    for step_grads in grads:
        for p, tp, g in zip(params, tparams, step_grads):
            p.grad, tp.grad = tg.tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12, atol=1e-14)
