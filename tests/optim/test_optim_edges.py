"""Optimizer edges: state that follows the parameter's dtype after ``Module.to``, numpy
scalar hyper-parameters, read-only parameter arrays, duplicate and empty parameter lists.

Compared with torch.optim in float64 where torch is importable (CI installs it); each test
also checks something without it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim
from tensorgraph.errors import DomainError, DTypeError, ShapeError

try:
    import torch
except ImportError:  # pragma: no cover - CI has torch; the fallbacks below still check
    torch = None

# (tensorgraph class, torch class name, hyper-parameters, state keys that are arrays)
CASES: list[tuple[type[optim.Optimizer], str, dict[str, Any], set[str]]] = [
    (optim.SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01},
     {"momentum_buffer"}),
    (optim.RMSprop, "RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True},
     {"square_avg", "grad_avg", "momentum_buffer"}),
    (optim.Adam, "Adam", {"lr": 0.01, "amsgrad": True},
     {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    (optim.AdamW, "AdamW", {"lr": 0.01, "weight_decay": 0.1}, {"exp_avg", "exp_avg_sq"}),
]  # fmt: skip


def _data(dtype: type) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 3)).astype(dtype), rng.normal(size=(16, 2)).astype(dtype)


def _steps(model: nn.Module, opt: optim.Optimizer, n: int, dtype: type) -> None:
    x, y = _data(dtype)
    for _ in range(n):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(tg.tensor(x)), tg.tensor(y))
        loss.backward()
        opt.step()


@pytest.mark.parametrize("case", CASES, ids=[c[1] + "-" + str(i) for i, c in enumerate(CASES)])
def test_state_follows_the_parameters_after_module_to_float64(case: Any) -> None:
    cls, torch_name, hp, keys = case
    model = nn.Linear(3, 2, dtype=np.float32, generator=0)
    opt = cls(model.parameters(), **hp)
    _steps(model, opt, 3, np.float32)
    model.to(np.float64)
    # what torch's load_state_dict does: the saved state cast to each parameter's dtype
    before = {
        name: {k: v.astype(np.float64) if isinstance(v, np.ndarray) else v
               for k, v in opt.state[p].items()}
        for name, p in model.named_parameters()
    }  # fmt: skip
    start = {name: p.numpy().copy() for name, p in model.named_parameters()}
    _steps(model, opt, 3, np.float64)
    for p in model.parameters():
        assert p.dtype == np.float64
        assert keys <= set(opt.state[p])
        for key in keys:
            assert opt.state[p][key].dtype == np.float64, key
    if torch is None:
        return
    tmodel = torch.nn.Linear(3, 2, dtype=torch.float64)
    with torch.no_grad():
        tmodel.weight.copy_(torch.from_numpy(start["weight"]))
        tmodel.bias.copy_(torch.from_numpy(start["bias"]))
    topt = getattr(torch.optim, torch_name)(tmodel.parameters(), **hp)
    tstate = {}
    for i, name in enumerate(("weight", "bias")):
        entry: dict[str, Any] = {}
        for k, v in before[name].items():
            if k == "step":
                entry[k] = torch.tensor(float(v), dtype=torch.float32)
            else:
                entry[k] = torch.from_numpy(v)
        if torch_name == "RMSprop" and "step" not in entry:
            entry["step"] = torch.tensor(3.0)
        if torch_name == "SGD":
            entry.pop("step", None)
        tstate[i] = entry
    saved = topt.state_dict()
    topt.load_state_dict({"state": tstate, "param_groups": saved["param_groups"]})
    x, y = _data(np.float64)
    for _ in range(3):
        topt.zero_grad()
        loss = torch.nn.functional.mse_loss(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        topt.step()
    np.testing.assert_allclose(model.weight.numpy(), tmodel.weight.detach().numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.bias.numpy(), tmodel.bias.detach().numpy(),
                               rtol=1e-12, atol=1e-14)


def test_state_follows_a_cast_down_to_float32_too() -> None:
    model = nn.Linear(3, 2, dtype=np.float64, generator=0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    _steps(model, opt, 2, np.float64)
    model.to(np.float32)
    _steps(model, opt, 2, np.float32)
    for p in model.parameters():
        assert {v.dtype for v in opt.state[p].values() if isinstance(v, np.ndarray)} == {
            np.dtype(np.float32)
        }
        assert np.isfinite(p.numpy()).all()


def test_numpy_scalar_hyper_parameters_are_stored_as_python_floats_and_agree_with_torch() -> None:
    rng = np.random.default_rng(1)
    init, grads = rng.normal(size=4), [rng.normal(size=4) for _ in range(5)]
    w = tg.tensor(init.copy(), requires_grad=True)
    opt = optim.Adam([w], lr=np.float64(1e-2), betas=(np.float32(0.9), 0.999),
                     eps=np.float32(1e-8), weight_decay=np.int64(0), amsgrad=np.bool_(True))
    group = opt.param_groups[0]
    assert type(group["lr"]) is float and type(group["betas"][0]) is float
    assert group["betas"][0] == float(np.float32(0.9)) and group["amsgrad"] is True
    for g in grads:
        w.grad = tg.tensor(g.copy())
        opt.step()
    if torch is None:
        expected = init.copy()
        m = v = vmax = np.zeros(4)
        b1, b2 = float(np.float32(0.9)), 0.999
        for t, g in enumerate(grads, 1):
            m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
            vmax = np.maximum(vmax, v)
            denom = np.sqrt(vmax) / np.sqrt(1 - b2**t) + float(np.float32(1e-8))
            expected = expected - 1e-2 / (1 - b1**t) * m / denom
        np.testing.assert_allclose(w.numpy(), expected, rtol=1e-12)
        return
    tw = torch.tensor(init.copy(), requires_grad=True)
    topt = torch.optim.Adam([tw], lr=1e-2, betas=(float(np.float32(0.9)), 0.999),
                            eps=float(np.float32(1e-8)), amsgrad=True)
    for g in grads:
        tw.grad = torch.from_numpy(g.copy())
        topt.step()
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-13, atol=0)


def test_numpy_scalars_in_every_optimizer_and_scheduler() -> None:
    w = tg.tensor(np.ones(3), requires_grad=True)
    optim.SGD([w], lr=np.float32(0.1), momentum=np.float64(0.9), nesterov=np.bool_(True))
    optim.RMSprop([w], lr=np.float32(0.01), alpha=np.float32(0.9), centered=np.bool_(False))
    opt = optim.AdamW([w], lr=np.float16(1e-3), weight_decay=np.float32(0.1))
    sched = optim.StepLR(opt, step_size=np.int64(2), gamma=np.float32(0.5))
    cosine = optim.CosineAnnealingLR(optim.SGD([tg.tensor([1.0], requires_grad=True)], lr=1.0),
                                     T_max=np.int32(4))
    assert sched.step_size == 2 and type(sched.step_size) is int and cosine.T_max == 4
    plateau = optim.ReduceLROnPlateau(opt, patience=np.int64(0), factor=np.float32(0.5))
    assert plateau.patience == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"lr": -0.1}, DomainError, "lr must be in [0.0, inf)"),
        ({"lr": np.float32(-1e-3)}, DomainError, "lr must be in"),
        ({"lr": float("nan")}, DomainError, "lr must be in"),
        ({"lr": np.float64("nan")}, DomainError, "lr must be in"),
        ({"lr": True}, DTypeError, "lr must be a real number"),
        ({"lr": np.bool_(True)}, DTypeError, "lr must be a real number"),
        ({"lr": "0.1"}, DTypeError, "lr must be a real number"),
        ({"betas": (np.float32(1.0), 0.9)}, DomainError, "betas[0] must be in [0.0, 1.0)"),
        ({"amsgrad": 1}, DTypeError, "amsgrad must be True or False"),
    ],
)
def test_nonsense_hyper_parameters_are_still_refused(kwargs: dict[str, Any], error: type,
                                                     text: str) -> None:
    w = tg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(error, match="Adam: " + re.escape(text)):
        optim.Adam([w], **kwargs)


def test_schedulers_refuse_bool_and_float_counts() -> None:
    opt = optim.SGD([tg.tensor([1.0], requires_grad=True)], lr=1.0)
    with pytest.raises(DTypeError, match="StepLR: step_size must be an int"):
        optim.StepLR(opt, step_size=True)
    with pytest.raises(DTypeError, match="StepLR: step_size must be an int"):
        optim.StepLR(opt, step_size=2.0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- read-only arrays
def test_a_read_only_parameter_array_is_refused_by_step_naming_the_parameter() -> None:
    a = tg.tensor(np.ones(2), requires_grad=True)
    b = tg.tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    b.data = frozen  # a user's read-only array: the parameter takes a copy of it
    a.grad, b.grad = tg.tensor(np.ones(2)), tg.tensor(np.ones(3))
    opt.step()
    np.testing.assert_array_equal(b.numpy(), -0.1 * np.ones(3))
    np.testing.assert_array_equal(frozen, np.zeros(3))  # untouched
    c = tg.tensor(np.ones(3), requires_grad=True)
    c._data.flags.writeable = False  # as tensorgraph.testing makes the arrays it checks
    c.grad = tg.tensor(np.ones(3))
    opt = optim.SGD([{"params": [a]}, {"params": [c]}], lr=0.1)
    with pytest.raises(DomainError, match=r"SGD: parameter 0 of group 1 \(shape \(3,\)\) holds a "
                                          r"read-only array"):
        opt.step()


def test_a_parameter_built_from_a_read_only_array_trains_or_is_refused_clearly() -> None:
    source = np.ones(3)
    source.flags.writeable = False
    p = nn.Parameter(source)
    opt = optim.Adam([p], lr=0.1)
    p.grad = tg.tensor(np.ones(3))
    try:
        opt.step()
    except DomainError as err:  # before the engine copies constructor input
        assert "parameter 0 of group 0" in str(err) and "read-only" in str(err)
    else:  # after: the parameter owns a writable copy, the user's array is untouched
        np.testing.assert_allclose(p.numpy(), np.full(3, 0.9))
    np.testing.assert_array_equal(source, np.ones(3))


def test_load_state_dict_into_a_read_only_parameter_gives_it_its_own_array() -> None:
    layer = nn.Linear(2, 1, dtype=np.float64, generator=0)
    frozen = np.zeros((1, 2))
    frozen.flags.writeable = False
    layer.weight.data = frozen
    layer.load_state_dict({"weight": np.ones((1, 2)), "bias": np.ones(1)})
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones((1, 2)))
    np.testing.assert_array_equal(frozen, np.zeros((1, 2)))


def test_state_of_a_parameter_given_a_new_shape_is_a_clear_error() -> None:
    w = tg.tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = tg.tensor(np.ones(3))
    opt.step()
    w.data = np.ones(4)
    w.grad = tg.tensor(np.ones(4))
    with pytest.raises(ShapeError, match="Adam: state 'exp_avg' of parameter 0 of group 0 has "
                                         r"shape \(3,\) but the parameter now has shape \(4,\)"):
        opt.step()


def test_init_of_a_read_only_parameter_gives_it_its_own_array() -> None:
    frozen = np.zeros(3)
    frozen.flags.writeable = False
    p = tg.tensor(np.ones(3), requires_grad=True)
    p.data = frozen
    nn.init.ones_(p)
    np.testing.assert_array_equal(p.numpy(), np.ones(3))
    np.testing.assert_array_equal(frozen, np.zeros(3))


# --------------------------------------------------------------------------- parameter lists
def test_duplicate_and_empty_parameter_lists_are_refused_as_pytorch_does() -> None:
    w = tg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(DomainError, match=r"SGD: parameter 1 of group 0 .* appears twice"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(DomainError, match="already in another parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(DomainError, match="Adam: got an empty parameter list"):
        optim.Adam([], lr=0.1)
    with pytest.raises(DomainError, match="empty parameter list"):
        optim.Adam(nn.ReLU().parameters())
    shared = nn.Linear(2, 2, generator=0)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    opt = optim.SGD(net.parameters(), lr=0.1)  # a shared module: its parameters once
    assert len(opt.param_groups[0]["params"]) == 2
    if torch is not None:
        tw = torch.nn.Parameter(torch.ones(2))
        with pytest.raises(ValueError):
            torch.optim.SGD([{"params": [tw]}, {"params": [tw]}], lr=0.1)


def test_schedulers_stepped_past_the_end_follow_pytorch() -> None:
    values: dict[str, list[float]] = {}
    for name, make in (
        ("StepLR", lambda o: optim.StepLR(o, step_size=2, gamma=0.5)),
        ("CosineAnnealingLR", lambda o: optim.CosineAnnealingLR(o, T_max=3, eta_min=0.1)),
        ("ExponentialLR", lambda o: optim.ExponentialLR(o, gamma=0.9)),
    ):
        opt = optim.SGD([tg.tensor([1.0], requires_grad=True)], lr=1.0)
        sched = make(opt)
        lrs = []
        for _ in range(10):  # far past T_max
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        values[name] = lrs
        assert all(np.isfinite(lrs)) and min(lrs) >= 0
    assert max(values["CosineAnnealingLR"]) <= 1.0 + 1e-12
    assert values["CosineAnnealingLR"][5] == pytest.approx(1.0)  # climbs back: period 2 T_max
    if torch is None:
        return
    for name, kwargs in (("StepLR", {"step_size": 2, "gamma": 0.5}),
                         ("CosineAnnealingLR", {"T_max": 3, "eta_min": 0.1}),
                         ("ExponentialLR", {"gamma": 0.9})):  # fmt: skip
        topt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1.0)
        tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
        expected = []
        for _ in range(10):
            topt.step()
            tsched.step()
            expected.append(topt.param_groups[0]["lr"])
        np.testing.assert_allclose(values[name], expected, rtol=1e-15, atol=1e-15)
