"""Optimizer base behaviour: groups, validation, zero_grad, skipping, checkpoints, versions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import optim
from tensorgraph.errors import DomainError, DTypeError, InPlaceModificationError, ShapeError

ALL = [optim.SGD, optim.RMSprop, optim.Adam, optim.AdamW]


def _param(seed: int = 0, shape: tuple[int, ...] = (3,)) -> tg.Tensor:
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# ---------------------------------------------------------------- hyper-parameter validation
BAD = [
    (optim.SGD, {"lr": -0.1}, DomainError, "SGD: lr"),
    (optim.SGD, {"momentum": -0.5}, DomainError, "SGD: momentum"),
    (optim.SGD, {"weight_decay": -1e-3}, DomainError, "SGD: weight_decay"),
    (optim.SGD, {"dampening": 1.5}, DomainError, "SGD: dampening"),
    (optim.SGD, {"nesterov": True}, DomainError, "nesterov momentum needs momentum > 0"),
    (optim.SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, DomainError,
     "dampening = 0"),
    (optim.SGD, {"lr": float("nan")}, DomainError, "SGD: lr"),
    (optim.SGD, {"lr": "0.1"}, DTypeError, "SGD: lr must be a real number"),
    (optim.SGD, {"nesterov": 1, "momentum": 0.9}, DTypeError, "SGD: nesterov must be True"),
    (optim.RMSprop, {"alpha": 1.0}, DomainError, "RMSprop: alpha"),
    (optim.RMSprop, {"alpha": -0.1}, DomainError, "RMSprop: alpha"),
    (optim.RMSprop, {"eps": 0.0}, DomainError, "RMSprop: eps"),
    (optim.RMSprop, {"momentum": -1.0}, DomainError, "RMSprop: momentum"),
    (optim.RMSprop, {"weight_decay": -1.0}, DomainError, "RMSprop: weight_decay"),
    (optim.Adam, {"lr": -1e-3}, DomainError, "Adam: lr"),
    (optim.Adam, {"betas": (1.0, 0.999)}, DomainError, r"Adam: betas\[0\]"),
    (optim.Adam, {"betas": (0.9, -0.1)}, DomainError, r"Adam: betas\[1\]"),
    (optim.Adam, {"betas": 0.9}, DTypeError, "Adam: betas must be a pair"),
    (optim.Adam, {"eps": -1e-8}, DomainError, "Adam: eps"),
    (optim.Adam, {"eps": 0.0}, DomainError, "Adam: eps"),
    (optim.Adam, {"weight_decay": -0.1}, DomainError, "Adam: weight_decay"),
    (optim.Adam, {"amsgrad": "yes"}, DTypeError, "Adam: amsgrad"),
    (optim.AdamW, {"betas": (0.9, 1.0)}, DomainError, r"AdamW: betas\[1\]"),
    (optim.AdamW, {"lr": 1.0, "weight_decay": 2.0}, DomainError, "AdamW: lr \\* weight_decay"),
]  # fmt: skip


@pytest.mark.parametrize(("cls", "kw", "error", "match"), BAD, ids=lambda v: str(v))
def test_bad_hyper_parameters_are_named(
    cls: type[optim.Optimizer], kw: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        cls([_param()], **kw)
    # the same check guards groups added later and values set by hand before a step
    opt = cls([_param()])
    with pytest.raises(error, match=match):
        opt.add_param_group({"params": [_param(1)], **kw})
    p = opt.param_groups[0]["params"][0]
    p.grad = tg.zeros_like(p)
    opt.param_groups[0].update(kw)
    before = p.numpy().copy()
    with pytest.raises(error, match=match):
        opt.step()
    np.testing.assert_array_equal(p.numpy(), before)


def test_bad_hyper_parameter_is_a_value_error() -> None:
    # DomainError subclasses ValueError, so generic handlers keep working
    with pytest.raises(ValueError):
        optim.Adam([_param()], lr=-1.0)


# ---------------------------------------------------------------- parameter checks
@pytest.mark.parametrize("cls", ALL)
def test_bad_parameters_are_rejected(cls: type[optim.Optimizer]) -> None:
    p = _param()
    with pytest.raises(DomainError, match="not a leaf tensor"):
        cls([p * 2])
    with pytest.raises(DomainError, match="does not require grad"):
        cls([tg.tensor([1.0, 2.0])])
    with pytest.raises(DomainError, match="appears twice"):
        cls([p, _param(1), p])
    with pytest.raises(DomainError, match="already in another parameter group"):
        cls([{"params": [p]}, {"params": [_param(1), p]}])
    with pytest.raises(DomainError, match="empty parameter list"):
        cls([])
    with pytest.raises(DTypeError, match="single Tensor"):
        cls(p)  # type: ignore[arg-type]
    with pytest.raises(DTypeError, match="not a set"):
        cls({p})  # type: ignore[arg-type]
    with pytest.raises(DTypeError, match="is a ndarray, not a Tensor"):
        cls([np.zeros(3)])  # type: ignore[list-item]
    opt = cls([p])
    with pytest.raises(DomainError, match="already in another parameter group"):
        opt.add_param_group({"params": p})


def test_param_groups_layout_and_defaults() -> None:
    a, b, c = _param(0), _param(1), _param(2)
    opt = optim.SGD([{"params": [a, b]}, {"params": c, "lr": 0.5, "label": "head"}],
                    lr=0.1, momentum=0.9)  # fmt: skip
    g0, g1 = opt.param_groups
    assert g0["params"] == [a, b] and g1["params"] == [c]
    assert (g0["lr"], g1["lr"], g1["momentum"], g1["label"]) == (0.1, 0.5, 0.9, "head")
    d = _param(3)
    opt.add_param_group({"params": [d], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0


def test_each_group_uses_its_own_lr() -> None:
    a, b = _param(0), _param(1)
    a0, b0 = a.numpy().copy(), b.numpy().copy()
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = tg.ones_like(a), tg.ones_like(b)
    opt.step()
    np.testing.assert_allclose(a.numpy(), a0 - 0.1)
    np.testing.assert_allclose(b.numpy(), b0 - 1.0)


# ---------------------------------------------------------------- stepping
@pytest.mark.parametrize("cls", ALL)
def test_step_skips_parameters_without_gradient(cls: type[optim.Optimizer]) -> None:
    a, b = _param(0), _param(1)
    b0 = b.numpy().copy()
    opt = cls([a, b], lr=0.1)
    a.grad = tg.ones_like(a)
    opt.step()
    np.testing.assert_array_equal(b.numpy(), b0)
    assert b not in opt.state and b._version == 0


@pytest.mark.parametrize("cls", ALL)
def test_step_never_writes_into_the_gradient(cls: type[optim.Optimizer]) -> None:
    # coupled weight decay and maximize build the effective gradient elsewhere
    p = _param()
    kw = {"weight_decay": 0.1, "maximize": True}
    opt = cls([p], lr=0.1, **kw)
    g = np.random.default_rng(5).standard_normal(3)
    g.flags.writeable = False
    p.grad = tg.tensor(g)
    p0 = p.numpy().copy()
    for _ in range(3):
        opt.step()  # numpy raises if anything writes into the read-only gradient
    assert not np.array_equal(p.numpy(), p0)


@pytest.mark.parametrize("cls", ALL)
def test_step_updates_in_place_and_reuses_its_buffers(cls: type[optim.Optimizer]) -> None:
    p = _param()
    kw: dict[str, Any] = {"weight_decay": 0.1}
    if cls is optim.SGD:
        kw["momentum"] = 0.9
    opt = cls([p], lr=0.1, **kw)
    array = p.numpy()
    p.grad = tg.ones_like(p)
    opt.step()
    state = {k: v for k, v in opt.state[p].items() if isinstance(v, np.ndarray)}
    scratch = (opt._scratch[p], opt._grad_scratch.get(p))
    for _ in range(3):
        opt.step()
    assert np.shares_memory(p.numpy(), array)  # the same buffer, updated in place
    assert all(opt.state[p][k] is v for k, v in state.items())
    assert opt._scratch[p] is scratch[0] and opt._grad_scratch.get(p) is scratch[1]


def test_gradient_shape_and_dtype_are_checked() -> None:
    p = _param()
    opt = optim.Adam([p])
    p.grad = tg.tensor(np.ones(4))
    with pytest.raises(ShapeError, match=r"gradient of shape \(4,\).*shape \(3,\)"):
        opt.step()
    p.grad = tg.tensor(np.ones(3, np.float32))
    with pytest.raises(DTypeError, match="float32 gradient for a float64 parameter"):
        opt.step()


def test_closure_is_evaluated_with_gradients() -> None:
    w = _param()
    opt = optim.SGD([w], lr=0.1)

    def closure() -> tg.Tensor:
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    w0 = w.numpy().copy()
    with tg.no_grad():
        loss = opt.step(closure)
    assert float(loss) == pytest.approx(float((w0 * w0).sum()))
    np.testing.assert_allclose(w.numpy(), w0 - 0.1 * 2 * w0)


# ---------------------------------------------------------------- zero_grad
def test_zero_grad_set_to_none() -> None:
    a, b = _param(0), _param(1)
    opt = optim.SGD([a, b], lr=0.1)
    (a * b).sum().backward()
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_in_place_keeps_the_buffers() -> None:
    a, b = _param(0), _param(1)
    opt = optim.SGD([a, b], lr=0.1)
    (a * b).sum().backward()
    assert a.grad is not None
    grad_tensor, grad_array = a.grad, a.grad.numpy()
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad_tensor and np.shares_memory(a.grad.numpy(), grad_array)
    np.testing.assert_array_equal(grad_array, 0.0)
    # the next backward accumulates into the same (zeroed) buffer
    (a * 3.0).sum().backward()
    assert np.shares_memory(a.grad.numpy(), grad_array)
    np.testing.assert_array_equal(grad_array, 3.0)


def test_zero_grad_in_place_never_writes_a_read_only_gradient() -> None:
    a = _param()
    opt = optim.SGD([a], lr=0.1)
    g = np.ones(3)
    g.flags.writeable = False
    a.grad = tg.tensor(g)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and not np.shares_memory(a.grad.numpy(), g)
    np.testing.assert_array_equal(a.grad.numpy(), 0.0)
    np.testing.assert_array_equal(g, 1.0)


def test_groups_must_be_dicts() -> None:
    opt = optim.SGD([_param()], lr=0.1)
    with pytest.raises(DTypeError, match="a parameter group must be a dict"):
        opt.add_param_group([_param(1)])  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="needs a 'params' entry"):
        opt.add_param_group({"lr": 0.1})


def test_zero_grad_in_place_cuts_a_recorded_gradient() -> None:
    a = _param()
    opt = optim.SGD([a], lr=0.1)
    (a * a * a).sum().backward(create_graph=True)
    assert a.grad is not None and not a.grad.is_leaf
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and a.grad.is_leaf
    np.testing.assert_array_equal(a.grad.numpy(), 0.0)


# ---------------------------------------------------------------- version counter
def test_step_marks_parameters_modified_for_graphs_recorded_before_it() -> None:
    w = _param()
    opt = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt.step()
    # the retained graph saved the old w; backward through it would mix old and new values
    with pytest.raises(InPlaceModificationError):
        loss.backward()


def test_ordinary_training_loop_is_unaffected_by_versions() -> None:
    w = _param()
    opt = optim.Adam([w], lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        ((w - 1.0) * (w - 1.0)).sum().backward()
        opt.step()
    assert w._version == 5


# ---------------------------------------------------------------- checkpoints
RESUME = [
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True}),
    (optim.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    (optim.AdamW, {"lr": 0.01}),
]


def _grads(k: int, seed: int) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal((2, 3)), rng.standard_normal(3)] for _ in range(k)]


def _train(opt: optim.Optimizer, params: list[tg.Tensor], grads: list[list[np.ndarray]]) -> None:
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = tg.tensor(g.copy())
        opt.step()


@pytest.mark.parametrize(("cls", "hp"), RESUME, ids=lambda v: str(v))
def test_state_dict_resume_is_exact(cls: type[optim.Optimizer], hp: dict[str, Any]) -> None:
    k = 6
    grads = _grads(2 * k, 21)
    rng = np.random.default_rng(22)
    inits = [rng.standard_normal((2, 3)), rng.standard_normal(3)]

    def fresh() -> list[tg.Tensor]:
        return [tg.tensor(a.copy(), requires_grad=True) for a in inits]

    straight = fresh()
    opt = cls([{"params": straight[:1]}, {"params": straight[1:], "lr": 0.02}], **hp)
    _train(opt, straight, grads)

    first = fresh()
    opt1 = cls([{"params": first[:1]}, {"params": first[1:], "lr": 0.02}], **hp)
    _train(opt1, first, grads[:k])
    saved = opt1.state_dict()
    snapshot = [p.numpy().copy() for p in first]
    _train(opt1, first, grads[k : k + 2])  # training on must not change the saved dict

    # a brand-new model (weights as after k steps) and optimizer (defaults for group 1's lr)
    second = [tg.tensor(a, requires_grad=True) for a in snapshot]
    opt2 = cls([{"params": second[:1]}, {"params": second[1:]}], **hp)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.02
    _train(opt2, second, grads[k:])
    for a, b in zip(straight, second):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_dict_layout() -> None:
    a, b = _param(0), _param(1)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    b.grad = tg.ones_like(b)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5
    assert set(sd["state"]) == {1} and sd["state"][1]["step"] == 1
    assert sd["state"][1]["exp_avg"] is not opt.state[b]["exp_avg"]


def test_load_state_dict_mismatch_is_named() -> None:
    opt = optim.Adam([_param(0), _param(1)])
    with pytest.raises(DomainError, match="1 parameter groups saved, the optimizer has 2"):
        optim.Adam([{"params": [_param(2)]}, {"params": [_param(3)]}]).load_state_dict(
            opt.state_dict()
        )
    with pytest.raises(DomainError, match="group 0 has 2 parameters saved"):
        optim.Adam([_param(2)]).load_state_dict(opt.state_dict())
    with pytest.raises(DomainError, match=r"group 0 lacks \['amsgrad', 'betas'"):
        optim.Adam([_param(2), _param(3)]).load_state_dict(optim.SGD([_param(6)]).state_dict())
    p = _param(4)
    opt = optim.Adam([p])
    p.grad = tg.ones_like(p)
    opt.step()
    with pytest.raises(ShapeError, match="'exp_avg' of parameter 0 has shape"):
        optim.Adam([_param(5, (4,))]).load_state_dict(opt.state_dict())
