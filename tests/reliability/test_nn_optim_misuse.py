"""Misuse of layers, state dicts and optimizers gets a clear, early error naming the culprit."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim
from tensorgraph.errors import DomainError, DTypeError, InPlaceModificationError, ShapeError
from tensorgraph.nn.module import StateDictError


def raises(exc: type[BaseException], *pieces: str) -> Any:
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(p)})" for p in pieces))


def model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.ReLU(),
                         nn.Linear(4, 2, dtype=np.float64))


# --------------------------------------------------------------------------- state dicts
def test_load_state_dict_missing_key() -> None:
    m = model()
    state = m.state_dict()
    del state["2.bias"]
    with raises(StateDictError, "load_state_dict", "missing key", "2.bias"):
        m.load_state_dict(state)


def test_load_state_dict_unexpected_key() -> None:
    m = model()
    state = {**m.state_dict(), "3.weight": np.ones((2, 2))}
    with raises(StateDictError, "load_state_dict", "unexpected key", "3.weight"):
        m.load_state_dict(state)


def test_load_state_dict_mis_shaped_and_mis_typed_entries() -> None:
    m = model()
    state = m.state_dict()
    state["0.weight"] = np.ones((3, 4))
    with raises(StateDictError, "0.weight", "(3, 4)", "(4, 3)"):
        m.load_state_dict(state)
    state = m.state_dict()
    state["0.bias"] = np.ones(4, dtype=np.float32)
    with raises(StateDictError, "0.bias", "float32", "float64"):
        m.load_state_dict(state)


def test_a_refused_state_dict_changes_nothing() -> None:
    m = model()
    before = {k: np.array(v, copy=True) for k, v in m.state_dict().items()}
    state = {k: np.zeros_like(np.asarray(v)) for k, v in m.state_dict().items()}
    state["2.weight"] = np.zeros((5, 5))
    with pytest.raises(StateDictError):
        m.load_state_dict(state)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(np.asarray(v), before[k])


def test_state_dict_errors_are_value_errors() -> None:
    assert issubclass(StateDictError, ValueError)


# --------------------------------------------------------------------------- optimizers
OPTIMIZERS: dict[str, Callable[..., optim.Optimizer]] = {
    "SGD": lambda p, **kw: optim.SGD(p, lr=kw.pop("lr", 0.1), **kw),
    "Adam": optim.Adam, "AdamW": optim.AdamW, "RMSprop": optim.RMSprop,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_refuses_a_non_leaf(name: str) -> None:
    w = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with raises(DomainError, f"{name}:", "not a leaf", "(2, 3)", "'multiply'"):
        OPTIMIZERS[name]([w * 2])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_refuses_a_tensor_that_does_not_require_grad(name: str) -> None:
    with raises(DomainError, f"{name}:", "does not require grad", "(3,)"):
        OPTIMIZERS[name]([tg.tensor(np.ones(3))])


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_refuses_an_integer_tensor_and_a_bare_tensor(name: str) -> None:
    with raises(DTypeError, f"{name}:", "int64"):
        OPTIMIZERS[name]([tg.tensor(np.arange(3))])
    with raises(DTypeError, f"{name}:", "wrap it in a list"):
        OPTIMIZERS[name](tg.tensor(np.ones(3), requires_grad=True))


BAD_HYPERPARAMETERS = [
    ("SGD", {"lr": -0.1}, "lr", "-0.1"), ("SGD", {"lr": float("nan")}, "lr", "nan"),
    ("SGD", {"lr": float("inf")}, "lr", "inf"),
    ("SGD", {"momentum": float("inf")}, "momentum", "inf"),
    ("Adam", {"weight_decay": float("inf")}, "weight_decay", "inf"),
    ("SGD", {"momentum": -0.5}, "momentum", "-0.5"),
    ("SGD", {"weight_decay": -1.0}, "weight_decay", "-1.0"),
    ("Adam", {"lr": -1e-3}, "lr", "-0.001"), ("Adam", {"betas": (1.0, 0.999)}, "betas[0]", "1.0"),
    ("Adam", {"betas": (0.9, 1.0)}, "betas[1]", "1.0"),
    ("Adam", {"betas": (-0.1, 0.999)}, "betas[0]", "-0.1"),
    ("Adam", {"eps": 0.0}, "eps", "0.0"), ("Adam", {"eps": -1e-8}, "eps", "-1e-08"),
    ("AdamW", {"betas": (0.9, 1.5)}, "betas[1]", "1.5"), ("AdamW", {"eps": 0.0}, "eps", "0.0"),
    ("RMSprop", {"eps": 0.0}, "eps", "0.0"), ("RMSprop", {"momentum": -0.1}, "momentum", "-0.1"),
    ("RMSprop", {"alpha": 1.5}, "alpha", "1.5"), ("RMSprop", {"lr": -1.0}, "lr", "-1.0"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kwargs", "what", "shown"), BAD_HYPERPARAMETERS,
                         ids=[f"{n}-{w}={v}" for n, _, w, v in BAD_HYPERPARAMETERS])
def test_invalid_hyper_parameters_name_optimizer_parameter_and_value(
    name: str, kwargs: dict[str, Any], what: str, shown: str
) -> None:
    with raises(DomainError, f"{name}:", f"{what} must be", f"got {shown}"):
        OPTIMIZERS[name](model().parameters(), **kwargs)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_step_between_two_backwards_of_one_graph_is_detected(name: str) -> None:
    m = model()
    opt = OPTIMIZERS[name](m.parameters())
    loss = (m(tg.tensor(np.ones((5, 3)))) ** 2).mean()
    loss.backward(retain_graph=True)
    opt.step()  # updates the weights in place: the retained graph saved the old ones
    with raises(InPlaceModificationError, "linear:", "modified in place"):
        loss.backward()


def test_load_state_dict_and_init_under_a_live_graph_are_detected() -> None:
    m = model()
    loss = (m(tg.tensor(np.ones((5, 3)))) ** 2).mean()
    m.load_state_dict({k: np.ones_like(np.asarray(v)) for k, v in m.state_dict().items()})
    with raises(InPlaceModificationError, "linear:"):
        loss.backward()
    lin = nn.Linear(3, 2, dtype=np.float64)
    loss = lin(tg.tensor(np.ones((4, 3)))).sum()
    nn.init.zeros_(lin.weight)
    with raises(InPlaceModificationError, "linear:"):
        loss.backward()


# --------------------------------------------------------------------------- layers
@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), float("inf")])
def test_dropout_probability_outside_0_1(p: float) -> None:
    with raises(DomainError, "Dropout:", "p must be a probability in [0, 1]"):
        nn.Dropout(p=p)
    with raises(DomainError, "dropout:", "[0, 1]"):
        nn.functional.dropout(tg.ones(3), p=p)


def test_batch_norm_hyper_parameters() -> None:
    with raises(DomainError, "BatchNorm1d:", "eps must be > 0"):
        nn.BatchNorm1d(3, eps=0.0)
    with raises(DomainError, "BatchNorm1d:", "momentum", "-0.1"):
        nn.BatchNorm1d(3, momentum=-0.1)


def test_layer_shape_and_dtype_mismatches() -> None:
    lin = nn.Linear(3, 2, dtype=np.float64)
    with raises(ShapeError, "linear:", "(4, 5)", "in_features=3"):
        lin(tg.tensor(np.ones((4, 5))))
    with raises(DTypeError, "linear:", "float32", "float64"):
        lin(tg.ones((4, 3), dtype=np.float32))
    bn = nn.BatchNorm1d(3)
    with raises(ShapeError, "batch_norm:", "(4, 5)"):
        bn(tg.ones((4, 5)))


@pytest.mark.parametrize(
    ("call", "exc", "pieces"),
    [
        (lambda: nn.functional.cross_entropy(tg.ones((4, 3)), np.array([0, 1, 3, 0])),
         DomainError, ("cross_entropy:", "[0, 2]")),
        (lambda: nn.functional.cross_entropy(tg.ones((4, 3)), np.array([0, 1, 2])),
         ShapeError, ("cross_entropy:", "(3,)", "(4, 3)")),
        (lambda: nn.functional.cross_entropy(tg.ones((4, 3)), np.array([0.0, 1.0, 2.0, 0.0])),
         DTypeError, ("cross_entropy:", "integers")),
        (lambda: nn.functional.binary_cross_entropy_with_logits(tg.ones(4), np.ones(3)),
         ShapeError, ("binary_cross_entropy_with_logits:", "(4,)", "(3,)")),
        (lambda: nn.functional.binary_cross_entropy_with_logits(tg.ones(2), [0.0, 2.0]),
         DomainError, ("binary_cross_entropy_with_logits:", "[0, 1]")),
        (lambda: nn.functional.mse_loss(tg.ones(2), tg.ones(2), reduction="avg"),
         DomainError, ("mse_loss:", "reduction", "'avg'")),
    ],
    ids=["ce-label-range", "ce-label-shape", "ce-float-labels", "bce-shape", "bce-target",
         "reduction"],
)
def test_loss_misuse(call: Callable[[], Any], exc: type[BaseException],
                     pieces: tuple[str, ...]) -> None:
    with raises(exc, *pieces):
        call()
