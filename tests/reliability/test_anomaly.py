"""``detect_anomaly()``: the first op that makes NaN or Inf, forward or backward, is named
with its input shapes and the user's call site; outside the block the engine does no work."""

from __future__ import annotations

import inspect
import re
import threading
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import anomaly, autograd
from tensorgraph.errors import AnomalyError

# the NaN/Inf these tests provoke on purpose also raise numpy's RuntimeWarning
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def raises(exc: type[BaseException], *pieces: str) -> Any:
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(p)})" for p in pieces))


def next_line() -> str:
    """``file:line`` of the line after the caller's."""
    frame = inspect.currentframe().f_back  # type: ignore[union-attr]
    assert frame is not None
    return f"{frame.f_code.co_filename}:{frame.f_lineno + 1}"


def test_forward_names_the_first_op_its_input_shapes_and_the_call_site() -> None:
    x = tg.tensor(np.array([[1.0, 2.0, 3.0], [1.5, 1.0, 4.0]]), requires_grad=True)
    with tg.detect_anomaly():
        h = x * 2.0 - 2.0  # finite; the zeros it makes are harmless until log
        with raises(AnomalyError, "log:", "forward pass", "Inf", "(2, 3)") as info:
            site = next_line()
            tg.log(h)
    assert info.value.args[0].endswith(f"the op was called at {site}")


def test_forward_reports_nan_and_inputs_that_were_already_bad() -> None:
    x = tg.tensor(np.array([np.nan, 1.0]))
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with tg.detect_anomaly(), raises(AnomalyError, "multiply:", "NaN", "input(s) [0]"):
        x * w


def test_the_first_bad_op_is_named_not_a_later_one() -> None:
    x = tg.tensor(np.array([1000.0, 1.0]), requires_grad=True)
    seen: list[str] = []
    with tg.detect_anomaly(), raises(AnomalyError, "exp:", "Inf", "(2,)"):
        seen.append("exp")
        y = tg.exp(x)
        seen.append("sum")  # pragma: no cover - never reached
        y.sum()  # pragma: no cover
    assert seen == ["exp"]


def test_backward_names_the_op_whose_vjp_makes_inf_and_its_forward_call_site() -> None:
    x = tg.tensor(np.array([0.0, 4.0]), requires_grad=True)
    with tg.detect_anomaly():
        site = next_line()
        y = tg.power(x, 0.5)  # forward fine at 0; its derivative 0.5 x^-0.5 is not
        loss = (y * 3.0).sum()
        with raises(AnomalyError, "power:", "backward pass", "Inf", "(2,)", site):
            loss.backward()


def test_backward_outside_an_anomaly_forward_says_how_to_get_the_site() -> None:
    x = tg.tensor(np.array([0.0, 4.0]), requires_grad=True)
    loss = tg.power(x, 0.5).sum()
    with tg.detect_anomaly(), raises(AnomalyError, "power:", "run the forward pass under"):
        loss.backward()


def test_a_nan_seed_is_reported() -> None:
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with tg.detect_anomaly(), raises(AnomalyError, "backward:", "NaN"):
        (x * 2).backward(np.array([np.nan, 1.0]))


def test_anomaly_in_second_order_backward() -> None:
    x = tg.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with tg.detect_anomaly():
        g = tg.grad(lambda t: (t ** 1.5).sum())(x)  # g = 1.5 sqrt(x), finite at 0
        assert np.isfinite(g.numpy()).all()
        # the derivative of g needs 0.75 / sqrt(x): infinite at 0
        with raises(AnomalyError, "power:", "Inf"):
            g.sum().backward()


def test_off_by_default_nan_flows_silently_like_numpy() -> None:
    x = tg.tensor(np.array([0.0, 1.0]), requires_grad=True)
    y = tg.log(x)
    assert np.isneginf(y.numpy()[0])
    y.sum().backward()
    assert np.isinf(x.grad.numpy()[0])  # type: ignore[union-attr]


def test_free_when_off_no_call_site_lookup_no_checksums(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any) -> Any:
        raise AssertionError("anomaly machinery ran outside detect_anomaly()")

    for name in ("_user_call_site", "_checksum", "_check_finite", "_anomaly_forward"):
        monkeypatch.setattr(anomaly, name, forbidden)
    x = tg.tensor(np.array([0.0, 1.0]), requires_grad=True)
    y = tg.log(x) * 2.0
    assert y._node is not None
    assert y._node.site is None and y._node.checksums is None
    y.sum().backward()


def test_the_mode_is_restored_after_an_error_and_nests() -> None:
    assert not autograd._modes.anomaly
    with pytest.raises(AnomalyError), tg.detect_anomaly():
        tg.log(tg.tensor([0.0]))
    assert not autograd._modes.anomaly
    with tg.detect_anomaly():
        with tg.detect_anomaly():
            assert autograd._modes.anomaly
        assert autograd._modes.anomaly
    assert not autograd._modes.anomaly


def test_as_a_decorator() -> None:
    @tg.detect_anomaly()
    def step(x: tg.Tensor) -> tg.Tensor:
        return tg.log(x)

    with raises(AnomalyError, "log:"):
        step(tg.tensor([0.0]))
    assert np.isneginf(tg.log(tg.tensor([0.0])).numpy()[0])


def test_the_mode_is_thread_local() -> None:
    results: list[bool] = []

    def other_thread() -> None:
        results.append(np.isneginf(tg.log(tg.tensor([0.0])).numpy()[0]))

    with tg.detect_anomaly():
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert results == [True]


def test_finite_computations_are_unchanged_under_anomaly_mode() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(size=(4, 3))
    grads = []
    for mode in (False, True):
        x = tg.tensor(data.copy(), requires_grad=True)
        with tg.set_grad_enabled(True):
            ctx = tg.detect_anomaly() if mode else tg.enable_grad()
            with ctx:
                (tg.softmax(x @ x.T, axis=1) * tg.tanh(x).sum()).sum().backward()
        grads.append(x.grad.numpy())  # type: ignore[union-attr]
    np.testing.assert_array_equal(grads[0], grads[1])
