"""Guards: what makes a compiled function trace again, and what makes it run eagerly.

A new signature (shape, dtype, requires_grad, Python argument) or a changed guard (a
module's training flag or hyper-parameter, a parameter given a new array) traces again;
a function whose trace cannot be replayed (a value read into Python, an array made by
numpy outside the ops, an in-place write) runs eagerly, with exactly one warning that
names the line of the user's code. In every case the numbers are the eager ones.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn, optim
from tensorgraph.compiler import CompileWarning
from tensorgraph.nn import functional as F


def _model() -> Any:
    with tg.default_dtype(np.float64):
        tg.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5, generator=2), nn.Linear(4, 1))


def _pair(body: Any) -> tuple[Any, Any, Any]:
    """An eager and a compiled training step over two identical models: returns
    (eager step, compiled step, compiled models' tuple)."""
    steps = []
    models = []
    for _ in range(2):
        model = _model()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x: Any, model: Any = model, opt: Any = opt) -> Any:
            opt.zero_grad()
            loss = body(model(x))
            loss.backward()
            opt.step()
            return loss

        steps.append(step)
        models.append(model)
    return steps[0], tg.compile(steps[1]), models


def _x(n: int, dtype: Any = np.float64, seed: int = 0) -> Any:
    return tg.tensor(np.random.default_rng(seed).standard_normal((n, 3)).astype(dtype))


def test_a_new_shape_traces_again_and_the_old_plan_stays() -> None:
    eager, fast, _ = _pair(lambda out: (out * out).mean())
    for n in (8, 8, 5, 5, 8):
        assert eager(_x(n)).item() == fast(_x(n)).item()
    assert (fast.traces, fast.replays, fast.eager_calls) == (2, 3, 0)


def test_a_new_dtype_traces_again() -> None:
    def loss(x: Any) -> Any:
        y = tg.tanh(x * 2.0).sum()
        y.backward()
        return y, x.grad

    fast = tg.compile(loss)
    for dtype in (np.float64, np.float32, np.float64, np.float32):
        x, xc = _x(4, dtype), _x(4, dtype)
        x.requires_grad_()
        xc.requires_grad_()
        value, grad = loss(x)
        fast_value, fast_grad = fast(xc)
        assert fast_value.dtype == dtype and fast_grad.dtype == dtype
        assert value.item() == fast_value.item()
        np.testing.assert_array_equal(grad.numpy(), fast_grad.numpy())
        np.testing.assert_array_equal(xc.grad.numpy(), grad.numpy())  # left in .grad too
    assert (fast.traces, fast.replays) == (2, 2)


def test_requires_grad_of_an_argument_is_part_of_the_signature() -> None:
    fast = tg.compile(lambda x: (x * 3.0).sum())
    fast(_x(2))
    fast(_x(2).requires_grad_())
    assert fast.traces == 2


def test_switching_train_and_eval_traces_each_mode_once() -> None:
    eager, fast, (model_e, model_c) = _pair(lambda out: (out * out).mean())
    for train in (True, True, False, False, True, False):
        model_e.train(train)
        model_c.train(train)
        assert eager(_x(6)).item() == fast(_x(6)).item()
    assert (fast.traces, fast.replays) == (2, 4)


def test_a_changed_dropout_probability_traces_again() -> None:
    eager, fast, (model_e, model_c) = _pair(lambda out: (out * out).mean())
    assert eager(_x(6)).item() == fast(_x(6)).item()
    model_e[1].p = model_c[1].p = 0.25
    assert eager(_x(6)).item() == fast(_x(6)).item()
    assert fast.traces == 2


def test_a_parameter_given_a_new_array_traces_again() -> None:
    eager, fast, (model_e, model_c) = _pair(lambda out: (out * out).mean())
    assert eager(_x(6)).item() == fast(_x(6)).item()
    for model in (model_e, model_c):
        model[0].weight.data = np.ones((4, 3))
    assert eager(_x(6)).item() == fast(_x(6)).item()
    assert fast.traces == 2


def _fallback(body: Any) -> tuple[list[warnings.WarningMessage], Any, list[float], list[float]]:
    eager, fast, _ = _pair(body)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [fast(_x(6, seed=k)).item() for k in range(3)]
    expected = [eager(_x(6, seed=k)).item() for k in range(3)]
    return [w for w in caught if issubclass(w.category, CompileWarning)], fast, got, expected


def _line_of(text: str) -> str:
    """``this_file:line`` of the first line of this file containing ``text``."""
    with open(__file__) as f:
        for number, line in enumerate(f, start=1):
            if text in line and "_line_of" not in line:
                return f"{__file__}:{number}"
    raise AssertionError(text)


def _item_body(out: Any) -> Any:
    scale = out.sum().item()  # guard: item
    return (out * out).mean() * (1.0 if scale > 0 else 2.0)


def _if_body(out: Any) -> Any:
    loss = (out * out).mean()
    if loss > 0.5:  # guard: if
        return loss * 2.0
    return loss


def _numpy_body(out: Any) -> Any:
    squashed = tg.tensor(np.tanh(out.numpy()))  # guard: numpy
    return (out * out).mean() + squashed.sum()


def _inplace_body(out: Any) -> Any:
    shifted = out * 1.0
    with tg.no_grad():
        other = out.detach() * 1.0
        other += 1.0  # guard: inplace
    return (shifted * other).mean()


@pytest.mark.parametrize(("body", "marker", "words"), [
    (_item_body, "# guard: item", "item"),
    (_if_body, "# guard: if", "__bool__"),
    (_numpy_body, "# guard: numpy", "numpy"),
    (_inplace_body, "# guard: inplace", "__iadd__"),
], ids=["item", "data-dependent-if", "numpy-outside-the-registry", "inplace-write"])
def test_what_a_plan_cannot_replay_runs_eagerly_with_one_warning(body: Any, marker: str,
                                                                  words: str) -> None:
    caught, fast, got, expected = _fallback(body)
    assert got == expected
    assert len(caught) == 1
    message = str(caught[0].message)
    assert words in message and _line_of(marker) in message
    assert (fast.traces, fast.replays, fast.eager_calls) == (1, 0, 2)


def test_a_tensor_made_inside_the_function_falls_back() -> None:
    caught, fast, got, expected = _fallback(
        lambda out: ((out - tg.tensor(np.full((6, 1), 0.5))) ** 2).mean())
    assert got == expected and len(caught) == 1 and fast.eager_calls == 2


def test_returning_a_python_number_falls_back() -> None:
    fast = tg.compile(lambda x: float(x.sum().numpy()))
    with pytest.warns(CompileWarning, match="numpy"):
        assert fast(_x(2)) == float(_x(2).sum().numpy())
    assert fast(_x(2)) == float(_x(2).sum().numpy())
    assert fast.eager_calls == 1


def test_functional_dropout_falls_back_rather_than_replay_a_stale_mask() -> None:
    gen_e, gen_c = np.random.default_rng(3), np.random.default_rng(3)

    def make(gen: Any) -> Any:
        return lambda x: F.dropout(x * 1.0, 0.5, True, gen).sum()

    eager, fast = make(gen_e), tg.compile(make(gen_c))
    with pytest.warns(CompileWarning):
        results = [(eager(_x(4)).item(), fast(_x(4)).item()) for _ in range(3)]
    assert all(a == b for a, b in results)


def test_an_error_in_the_function_propagates_and_nothing_is_kept() -> None:
    calls = []

    def broken(x: Any) -> Any:
        calls.append(1)
        return x @ tg.tensor(np.ones((2, 2)))

    fast = tg.compile(broken)
    for _ in range(2):
        with pytest.raises(tg.errors.ShapeError):
            fast(_x(4))
    assert fast.traces == 2 and len(calls) == 2
    assert tg.autograd._tracer is None
    assert tg.Tensor.item.__name__ == "item"  # the trace's wrappers are gone


def test_anomaly_detection_runs_eagerly() -> None:
    fast = tg.compile(lambda x: (x * 2.0).sum())
    with tg.detect_anomaly():
        assert fast(_x(3)).item() == (_x(3) * 2.0).sum().item()
    assert fast.traces == 0


def test_the_same_tensor_passed_twice_is_a_signature_of_its_own() -> None:
    def f(a: Any, b: Any) -> Any:
        return (a * 2.0 + b).sum()

    fast = tg.compile(f)
    x, y = _x(3, seed=1), _x(3, seed=2)
    assert fast(x, x).item() == f(x, x).item()
    assert fast(x, y).item() == f(x, y).item()
    assert fast(y, y).item() == f(y, y).item()
    assert (fast.traces, fast.replays) == (2, 1)


def test_what_another_thread_does_during_a_trace_is_not_recorded() -> None:
    import threading

    started, release = threading.Event(), threading.Event()
    other: list[float] = []

    def elsewhere() -> None:
        started.wait()
        w = tg.tensor([1.0, 2.0], requires_grad=True)
        loss = (w * w).sum()
        loss.backward()
        other.append(float(w.grad.numpy().sum()))
        release.set()

    def step(x: Any) -> Any:
        started.set()
        release.wait(10)  # the other thread computes while this trace runs
        return (x * 3.0).sum()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    fast = tg.compile(step)
    first = fast(_x(2))
    thread.join()
    assert other == [6.0]
    started.set()
    release.set()
    assert fast(_x(2, seed=1)).item() == (_x(2, seed=1) * 3.0).sum().item()
    assert first.item() == (_x(2) * 3.0).sum().item()
    (plans,) = fast._plans.values()
    assert isinstance(plans, list) and plans[0].n_steps == 2  # multiply and sum, nothing else
    assert (fast.traces, fast.replays) == (1, 1)


def test_an_engine_without_the_hooked_names_runs_eagerly(monkeypatch: Any) -> None:
    monkeypatch.delattr(tg.autograd, "_saved_param")
    fast = tg.compile(lambda x: (x * 3.0).sum())
    with pytest.warns(CompileWarning, match="_saved_param"):
        assert fast(_x(2)).item() == (_x(2) * 3.0).sum().item()
    assert fast(_x(2)).item() == (_x(2) * 3.0).sum().item()
    assert fast.eager_calls == 1 and tg.autograd._tracer is None


def test_dropout2d_falls_back_with_a_warning_and_the_eager_numbers() -> None:
    """``nn.Dropout2d`` draws its channel mask with numpy outside the tracer's hooks: the
    plan cannot replay it, so the signature runs eagerly, with one warning, never a stale
    mask."""
    from tensorgraph import nn

    layers = [nn.Dropout2d(0.5, generator=np.random.default_rng(4)) for _ in range(2)]

    def make(layer: Any) -> Any:
        return lambda x: (layer(x * 1.0) ** 2).sum()

    eager, fast = make(layers[0]), tg.compile(make(layers[1]))
    x = tg.tensor(np.linspace(-1, 1, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2))
    with pytest.warns(CompileWarning, match="cannot trace"):
        results = [(eager(x).item(), fast(x).item()) for _ in range(3)]
    assert all(a == b for a, b in results)
    assert len({a for a, _ in results}) > 1  # the masks differ from call to call
    assert fast.eager_calls == 2
