"""Graph lifetime: backward() frees what the graph saved, and training does not leak.

``weakref`` tells whether an intermediate Tensor, its node and its array are still alive;
``gc.get_objects()`` counts every live Tensor and Node during a few hundred training steps.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.autograd import Node


def live(kind: type) -> int:
    gc.collect()
    # type(), not isinstance(): isinstance would poke lazy objects of other libraries
    return sum(1 for o in gc.get_objects() if issubclass(type(o), kind))


def _graph() -> tuple[tg.Tensor, tg.Tensor, list[weakref.ref[Any]]]:
    """x -> h = exp(x) -> y = sum(h * h); return x, y and weakrefs to h, its array and the
    product's output array (Nodes have no weakref slot: they are counted instead)."""
    x = tg.tensor(np.linspace(-1.0, 1.0, 1000), requires_grad=True)
    h = tg.exp(x)
    hh = h * h
    y = hh.sum()
    refs = [weakref.ref(h), weakref.ref(h._data), weakref.ref(hh._data)]
    return x, y, refs


def test_backward_releases_intermediate_tensors_nodes_and_arrays() -> None:
    x, y, refs = _graph()
    nodes = live(Node)
    assert all(r() is not None for r in refs)  # alive: the graph behind y holds them
    y.backward()
    assert [r() for r in refs] == [None, None, None]
    assert live(Node) == nodes - 2  # exp's and multiply's nodes are gone; y keeps its own
    assert y._node is not None and y._node.args is None and y._node.out is None
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp(2 * x.numpy()))  # type: ignore[union-attr]


def test_retain_graph_keeps_them_until_the_last_backward() -> None:
    _, y, refs = _graph()
    y.backward(retain_graph=True)
    gc.collect()
    assert all(r() is not None for r in refs)
    y.backward()
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_dropping_an_unused_graph_releases_it_without_backward() -> None:
    _, y, refs = _graph()
    del y
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_no_grad_builds_no_graph_at_all() -> None:
    x = tg.tensor(np.ones(10), requires_grad=True)
    with tg.no_grad():
        h = tg.exp(x)
        y = (h * h).sum()
    assert h._node is None and y._node is None


def test_graph_objects_form_no_reference_cycles() -> None:
    # without cycles, refcounting frees a graph the moment it is dropped; gc is not needed
    gc.disable()
    try:
        _, y, refs = _graph()
        y.sum().backward()
        del y
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


def _manual_step(params: dict[str, tg.Tensor], x: np.ndarray, t: np.ndarray) -> float:
    h = tg.tanh(x @ params["w1"] + params["b1"])
    loss = ((h @ params["w2"] - t) ** 2).mean()
    for p in params.values():
        p.zero_grad()
    loss.backward()
    with tg.no_grad():
        for p in params.values():
            p -= 0.05 * p.grad.numpy()  # type: ignore[union-attr]
    return loss.item()


def _module_loop() -> Callable[[], float]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4))
    labels = (x[:, 0] > 0).astype(np.int64)
    model = tg.nn.Sequential(tg.nn.Linear(4, 8, dtype=np.float64), tg.nn.ReLU(),
                             tg.nn.Linear(8, 2, dtype=np.float64))
    opt = tg.optim.Adam(model.parameters(), lr=1e-2)
    xt = tg.tensor(x)

    def step() -> float:
        opt.zero_grad()
        loss = tg.nn.functional.cross_entropy(model(xt), labels)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _manual_loop() -> Callable[[], float]:
    rng = np.random.default_rng(0)
    params = {
        "w1": tg.tensor(rng.normal(size=(4, 8)) * 0.5, requires_grad=True),
        "b1": tg.tensor(np.zeros(8), requires_grad=True),
        "w2": tg.tensor(rng.normal(size=(8, 1)) * 0.5, requires_grad=True),
    }
    x = rng.normal(size=(16, 4))
    t = np.sin(x[:, :1])
    return lambda: _manual_step(params, x, t)


@pytest.mark.parametrize("make", [_manual_loop, _module_loop], ids=["ops", "nn+optim"])
def test_training_loop_keeps_live_tensors_and_nodes_flat(make: Callable[[], Any]) -> None:
    step = make()
    losses = [step() for _ in range(20)]  # warm up: optimiser state, caches
    counts = []
    for _ in range(4):
        for _ in range(75):
            losses.append(step())
        counts.append((live(tg.Tensor), live(Node)))
    assert len(set(counts)) == 1, f"live (Tensor, Node) counts grew over 300 steps: {counts}"
    assert counts[0][1] == 0  # no graph survives a step
    assert losses[-1] < losses[0]  # it did train
