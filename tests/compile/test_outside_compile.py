"""An outside tester's attacks on ``tg.compile``: compiled and eager agree bit for bit, or
the function runs eagerly with a warning; never a silent divergence."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim


def _mlp() -> Any:
    with tg.default_dtype(np.float64):
        tg.manual_seed(0)
        return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 1))


def _batch(i: int) -> tuple[Any, Any]:
    rng = np.random.default_rng(i)
    return tg.tensor(rng.standard_normal((8, 6))), tg.tensor(rng.standard_normal((8, 1)))


def test_a_parameter_frozen_between_calls_is_not_updated_by_a_replay() -> None:
    # requires_grad_(False) on a parameter (fine-tuning: freeze a layer) after the trace:
    # eagerly it gets no gradient and the optimizer skips it
    results = []
    for compiled in (False, True):
        model = _mlp()
        opt = optim.Adam(model.parameters(), lr=1e-2)

        def step(x: Any, y: Any, model: Any = model, opt: Any = opt) -> Any:
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        run = tg.compile(step) if compiled else step
        first = model[0].weight
        for i in range(5):
            first.requires_grad_(i not in (2, 3))
            run(*_batch(i))
            if i in (2, 3):
                assert first.grad is None
        results.append([p.numpy().copy() for p in model.parameters()])
    for eager, fast in zip(*results):
        np.testing.assert_array_equal(fast, eager)


class _PausingSGD(optim.SGD):
    """SGD whose zero_grad() waits (up to a second) in one thread for another thread's
    call to finish: a replay paused in the middle, as a thread switch can pause it."""

    def __init__(self, params: Any) -> None:
        super().__init__(params, lr=0.1)
        self.pause_in: threading.Thread | None = None
        self.paused = threading.Event()
        self.other_done = threading.Event()

    def zero_grad(self, set_to_none: bool = True) -> None:
        if threading.current_thread() is self.pause_in:
            self.paused.set()
            self.other_done.wait(1.0)
        super().zero_grad(set_to_none)


def test_replays_in_two_threads_do_not_share_buffers() -> None:
    with tg.default_dtype(np.float64):
        tg.manual_seed(0)
        w = tg.randn(6, 16)
    opt = _PausingSGD([tg.zeros(1, requires_grad=True)])

    def forward(x: Any) -> Any:
        with tg.no_grad():
            h = (x @ w).tanh()  # lives in a plan buffer
            opt.zero_grad()  # thread A pauses here, between writing h and reading it
            return (h * 2.0).sum(axis=1)

    fast = tg.compile(forward)
    xa, _ = _batch(1)
    xb, _ = _batch(2)
    expected = {k: forward(x).numpy().copy() for k, x in (("a", xa), ("b", xb))}
    fast(xa)
    fast(xa)  # traced, then replayed once
    got: dict[str, Any] = {}

    def call(name: str, x: Any) -> None:
        got[name] = fast(x).numpy().copy()
        if name == "b":
            opt.other_done.set()

    a = threading.Thread(target=call, args=("a", xa))
    opt.pause_in = a
    a.start()
    assert opt.paused.wait(10)
    b = threading.Thread(target=call, args=("b", xb))
    b.start()
    a.join()
    b.join()
    np.testing.assert_array_equal(got["a"], expected["a"])
    np.testing.assert_array_equal(got["b"], expected["b"])


def _replace_weight(model: Any) -> None:
    model[0].weight = nn.Parameter(tg.tensor(np.full((8, 6), 0.1)))


def _replace_layer(model: Any) -> None:
    with tg.default_dtype(np.float64):
        model.add_module("2", nn.Linear(8, 1))


def _replace_activation(model: Any) -> None:
    setattr(model, "1", nn.ReLU())


def _append_layer(model: Any) -> None:
    model.append(nn.Sigmoid())


def _drop_bias(model: Any) -> None:
    model[2].bias = None


@pytest.mark.parametrize("change", [_replace_weight, _replace_layer, _replace_activation,
                                    _append_layer, _drop_bias])
def test_a_module_given_a_new_member_traces_again(change: Any) -> None:
    # a parameter, a layer or an activation swapped between calls (loading a pretrained
    # layer, weight tying, surgery on a model): eagerly the next call uses the new one
    results = []
    for compiled in (False, True):
        model = _mlp()

        def forward(x: Any, model: Any = model) -> Any:
            with tg.no_grad():
                return model(x).sum()

        run = tg.compile(forward) if compiled else forward
        values = []
        for i in range(4):
            if i == 2:
                change(model)
            values.append(run(_batch(i)[0]).item())
        results.append(values)
    assert results[1] == results[0]


def test_backward_seeded_with_a_tensor_argument_agrees_with_eager() -> None:
    # out.backward(seed) with a tensor seed (a vector-Jacobian product inside a step)
    results = []
    for compiled in (False, True):
        model = _mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x: Any, seed: Any, model: Any = model, opt: Any = opt) -> Any:
            opt.zero_grad()
            out = model(x)
            out.backward(seed)
            opt.step()
            return out

        run = tg.compile(step) if compiled else step
        outs = [run(*_batch(i)).numpy().copy() for i in range(4)]
        results.append((outs, [p.numpy().copy() for p in model.parameters()]))
        if compiled:
            assert (run.traces, run.replays) == (1, 3)
    for eager, fast in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        np.testing.assert_array_equal(fast, eager)


def _transposed_step(w: Any) -> Any:
    def step(x: Any) -> Any:
        w.grad = None
        y = (x.T * 2.0).tanh()  # elementwise on a transposed view: eagerly F-ordered
        loss = (y * w.reshape(-1, 1)).sum()  # a reduction sums in memory order
        loss.backward()
        return loss

    return step


def test_an_f_ordered_intermediate_is_not_replayed_into_a_c_ordered_buffer() -> None:
    w = tg.tensor(np.random.default_rng(0).standard_normal(33), requires_grad=True)
    eager = _transposed_step(w)
    fast = tg.compile(_transposed_step(w))
    rng = np.random.default_rng(1)
    for _ in range(12):
        x = tg.tensor(rng.standard_normal((64, 33)))
        expected, expected_grad = eager(x).item(), w.grad.numpy().copy()
        assert fast(x).item() == expected
        np.testing.assert_array_equal(w.grad.numpy(), expected_grad)


def test_an_argument_in_another_memory_layout_is_a_new_signature() -> None:
    def total(x: Any) -> Any:
        return ((x * x) * 1.0).sum()

    fast = tg.compile(total)
    rng = np.random.default_rng(2)
    for i in range(12):
        a = rng.standard_normal((64, 33))
        # traced on a C-ordered array, then called with F-ordered ones (a transposed batch)
        x = tg.tensor(a) if i == 0 else tg.tensor(np.ascontiguousarray(a.T)).T
        assert fast(x).item() == total(x).item()
