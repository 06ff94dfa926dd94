"""Edges of the layers: a module used twice in a state dict, numpy-scalar hyper-parameters,
batch-norm on batches it cannot normalise. Compared with torch.nn where torch is importable."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError, DTypeError, ShapeError
from tensorgraph.nn.module import StateDictError

try:
    import torch
except ImportError:  # pragma: no cover - CI has torch; the fallbacks below still check
    torch = None


def _shared() -> tuple[nn.Sequential, nn.Linear]:
    layer = nn.Linear(2, 2, dtype=np.float64, generator=0)
    return nn.Sequential(layer, nn.ReLU(), layer, nn.BatchNorm1d(2, dtype=np.float64)), layer


# --------------------------------------------------------------------------- shared modules
def test_a_module_used_twice_is_listed_under_every_name_as_pytorch() -> None:
    net, _ = _shared()
    state = net.state_dict()
    names = ["0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias",
             "3.running_mean", "3.running_var", "3.num_batches_tracked"]  # fmt: skip
    assert list(state) == names
    assert state["0.weight"] is state["2.weight"]  # one array per shared tensor
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert len(list(net.parameters())) == 4
    every = [n for n, _ in net.named_parameters(remove_duplicate=False)]
    assert every == ["0.weight", "0.bias", "2.weight", "2.bias", "3.weight", "3.bias"]
    assert [n for n, _ in net.named_modules()] == ["", "0", "1", "3"]
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == ["", "0", "1", "2", "3"]
    if torch is None:
        return
    tlayer = torch.nn.Linear(2, 2)
    tnet = torch.nn.Sequential(tlayer, torch.nn.ReLU(), tlayer, torch.nn.BatchNorm1d(2))
    assert list(tnet.state_dict()) == names
    assert [n for n, _ in tnet.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert [n for n, _ in tnet.named_parameters(remove_duplicate=False)] == every
    assert [n for n, _ in tnet.named_modules()] == [n for n, _ in net.named_modules()]


@pytest.mark.parametrize("key", ["0.weight", "2.weight"])
def test_loading_either_name_of_a_shared_tensor_updates_it(key: str) -> None:
    net, layer = _shared()
    state = {k: v.copy() for k, v in net.state_dict().items()}
    other = "2.weight" if key == "0.weight" else "0.weight"
    del state[other]
    state[key] = np.full((2, 2), 7.0)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == [other] and result.unexpected_keys == []
    np.testing.assert_array_equal(layer.weight.numpy(), np.full((2, 2), 7.0))


def test_a_state_dict_saved_from_a_shared_module_round_trips_through_a_file(tmp_path: Any) -> None:
    net, layer = _shared()
    path = tmp_path / "shared.npz"
    tg.save(net.state_dict(), path)
    fresh, fresh_layer = _shared()
    with tg.no_grad():
        fresh_layer.weight.data = np.zeros((2, 2))
    fresh.load_state_dict(tg.load(path))  # two equal arrays for one tensor: fine
    np.testing.assert_array_equal(fresh_layer.weight.numpy(), layer.weight.numpy())


def test_shared_keys_that_disagree_are_refused_and_nothing_is_loaded() -> None:
    net, layer = _shared()
    before = layer.weight.numpy().copy()
    state = {k: v.copy() for k, v in net.state_dict().items()}
    state["2.weight"] = state["0.weight"] + 1
    state["3.bias"] = np.full(2, 5.0)
    with pytest.raises(StateDictError, match=re.escape(
            "0.weight and 2.weight name one shared tensor but hold different values")):
        net.load_state_dict(state)
    np.testing.assert_array_equal(layer.weight.numpy(), before)
    assert not np.any(net[3].bias.numpy() == 5.0)  # nothing loaded
    state["2.weight"] = state["0.weight"].copy()
    state["0.weight"][0, 0] = np.nan  # NaN in both names is one value
    state["2.weight"][0, 0] = np.nan
    net.load_state_dict(state)
    assert np.isnan(layer.weight.numpy()[0, 0])


def test_a_module_that_contains_itself_is_refused_by_state_dict() -> None:
    outer = nn.Sequential(nn.Linear(1, 1, generator=0))
    outer.add_module("again", outer)
    assert [n for n, _ in outer.named_modules()] == ["", "0"]
    with pytest.raises(ValueError, match="contains itself"):
        outer.state_dict()


# --------------------------------------------------------------------------- numpy scalars
def test_numpy_scalar_hyper_parameters_build_the_same_layers() -> None:
    assert nn.Linear(np.int64(3), np.int32(4), generator=0).weight.shape == (4, 3)
    assert type(nn.Linear(np.int64(3), 4).in_features) is int
    bn = nn.BatchNorm1d(np.int64(3), eps=np.float32(1e-3), momentum=np.float64(0.2))
    assert (bn.num_features, type(bn.eps), bn.momentum) == (3, float, 0.2)
    assert nn.LeakyReLU(np.float32(0.2)).negative_slope == pytest.approx(0.2)
    mlp = nn.MLP([np.int64(2), np.int64(3), 1], dropout=np.float32(0.5), generator=0)
    assert mlp[0].in_features == 2 and mlp[2].p == 0.5


@pytest.mark.parametrize(
    ("build", "error", "text"),
    [
        (lambda: nn.Linear(True, 3), DomainError, "Linear: in_features must be a positive int"),
        (lambda: nn.Linear(3.0, 3), DomainError, "Linear: in_features must be a positive int"),
        (lambda: nn.Linear(np.int64(0), 3), DomainError, "in_features must be a positive int"),
        (lambda: nn.Linear(3, 3, bias="yes"), DTypeError, "Linear: bias must be True or False"),
        (lambda: nn.BatchNorm1d(3, eps=float("nan")), DomainError, "BatchNorm1d: eps must be"),
        (lambda: nn.BatchNorm1d(3, eps=True), DomainError, "BatchNorm1d: eps must be > 0"),
        (lambda: nn.BatchNorm1d(3, momentum=True), DomainError, "momentum must be in [0, 1]"),
        (lambda: nn.BatchNorm1d(3, momentum=np.float32(1.5)), DomainError, "momentum"),
        (lambda: nn.LeakyReLU("0.1"), DTypeError, "LeakyReLU: negative_slope must be a real"),
        (lambda: nn.MLP([2, 1], dropout=1.0), DomainError, "MLP: dropout must be in [0, 1)"),
        (lambda: nn.MLP([2, 1], dropout=True), DomainError, "MLP: dropout must be in [0, 1)"),
        (lambda: nn.MLP([2, 0, 1]), DomainError, "MLP: sizes[1] must be a positive int"),
    ],
)
def test_nonsense_layer_hyper_parameters_are_refused(build: Any, error: type, text: str) -> None:
    with pytest.raises(error, match=re.escape(text)):
        build()


# --------------------------------------------------------------------------- batch-norm edges
@pytest.mark.parametrize("shape", [(1, 3), (0, 3), (1, 3, 1)])
def test_batch_norm_refuses_a_batch_it_cannot_normalise_and_counts_nothing(
        shape: tuple[int, ...]) -> None:
    bn = nn.BatchNorm1d(3, momentum=None)
    with pytest.raises(ShapeError, match="expected more than 1 value per channel"):
        bn(tg.zeros(shape))
    assert int(bn.num_batches_tracked.item()) == 0  # the failed call left no trace
    np.testing.assert_array_equal(bn.running_mean.numpy(), np.zeros(3))
    bn.eval()
    assert bn(tg.zeros(shape)).shape == shape  # eval uses the running statistics: fine
    if torch is None:
        return
    tbn = torch.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        tbn(torch.zeros((1, 3)))


def test_cumulative_average_batch_norm_agrees_with_torch_after_a_refused_batch() -> None:
    rng = np.random.default_rng(0)
    batches = [rng.normal(size=(5, 3)) for _ in range(3)]
    bn = nn.BatchNorm1d(3, momentum=None, dtype=np.float64)
    with pytest.raises(ShapeError):
        bn(tg.tensor(np.ones((1, 3))))
    for b in batches:
        bn(tg.tensor(b))
    assert int(bn.num_batches_tracked.item()) == 3
    expected_mean = np.mean([b.mean(axis=0) for b in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.numpy(), expected_mean, rtol=1e-12)
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked.item()) == 0 and bn.running_var.numpy().tolist() == [1.0] * 3
    if torch is None:
        return
    tbn = torch.nn.BatchNorm1d(3, momentum=None, dtype=torch.float64)
    bn2 = nn.BatchNorm1d(3, momentum=None, dtype=np.float64)
    for b in batches:
        tbn(torch.from_numpy(b))
        bn2(tg.tensor(b))
    np.testing.assert_allclose(bn2.running_mean.numpy(), tbn.running_mean.numpy(), rtol=1e-13)
    np.testing.assert_allclose(bn2.running_var.numpy(), tbn.running_var.numpy(), rtol=1e-13)


def test_buffer_writes_bump_the_version_so_a_saved_graph_refuses_them() -> None:
    bn = nn.BatchNorm1d(2, dtype=np.float64).eval()
    x = tg.tensor(np.ones((3, 2)), requires_grad=True)
    before = bn.running_mean._version
    bn.reset_running_stats()
    assert bn.running_mean._version == before + 1
    counter = bn.num_batches_tracked._version
    bn.train()(x)
    assert bn.num_batches_tracked._version == counter + 1
