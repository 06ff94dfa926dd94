"""A tensor saved for backward and then modified in place never yields a wrong gradient.

The rule (docs/reliability.md): a tensor that is an argument or the output of a recorded op
must not be modified in place until the backward that frees that graph. Writes through the
Tensor API (``.data = ...``, ``+=`` under ``no_grad``, ``t[...] = ...``) bump a version
counter and the backward raises ``InPlaceModificationError`` naming the op. Writes that
bypass the Tensor API (numpy on the shared buffer, a view, a detached alias) are caught by
the checksums that ``detect_anomaly()`` keeps of every saved array.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import GradientError, InPlaceModificationError


def raises(exc: type[BaseException], *pieces: str) -> Any:
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(p)})" for p in pieces))


def _set_data(w: tg.Tensor) -> None:
    w.data = np.full(3, 5.0)


def _iadd(w: tg.Tensor) -> None:
    with tg.no_grad():
        w += 1.0


def _imul_constant(w: tg.Tensor) -> None:
    w *= 2.0  # w does not require grad: allowed, but it was saved by multiply


def _setitem(w: tg.Tensor) -> None:
    with tg.no_grad():
        w[0] = 7.0


TENSOR_API_WRITES: dict[str, Callable[[tg.Tensor], None]] = {
    ".data =": _set_data, "+= under no_grad": _iadd, "*= on a constant": _imul_constant,
    "t[...] =": _setitem,
}  # fmt: skip


@pytest.mark.parametrize("write", sorted(TENSOR_API_WRITES))
@pytest.mark.parametrize("position", [0, 1])
def test_tensor_api_write_on_a_saved_argument_is_detected_naming_op_and_argument(
    write: str, position: int
) -> None:
    x = tg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w = tg.tensor(np.array([4.0, 5.0, 6.0]), requires_grad=write != "*= on a constant")
    args = (x, w) if position == 1 else (w, x)
    loss = tg.multiply(*args).sum()
    TENSOR_API_WRITES[write](w)
    with raises(InPlaceModificationError, "multiply:", f"argument {position}", "(3,)",
                "modified in place", "version 0 -> 1"):
        loss.backward()
    assert x.grad is None  # nothing was accumulated from the refused pass


def test_write_to_an_op_output_is_detected_even_when_it_is_the_root() -> None:
    # exp's VJP reads its output; modifying that output would silently change the gradient
    x = tg.tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = tg.exp(x)
    with tg.no_grad():
        y += 1.0
    with raises(InPlaceModificationError, "exp:", "its output", "(2,)"):
        y.backward(np.ones(2))


def test_write_to_an_intermediate_is_detected_by_its_consumer() -> None:
    x = tg.tensor(np.array([0.5, 1.0]), requires_grad=True)
    h = x * 3.0
    loss = (h * h).sum()
    with tg.no_grad():
        h[1] = 0.0
    with raises(InPlaceModificationError, "multiply:"):
        loss.backward()


def test_retained_graph_then_in_place_update_then_second_backward() -> None:
    # the classic "optimizer step between two backward passes over one graph" mistake
    w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    with tg.no_grad():
        w -= 0.1 * w.grad.numpy()  # type: ignore[union-attr]
    with raises(InPlaceModificationError, "multiply:", "modified in place"):
        loss.backward()


def test_writes_after_backward_are_fine_and_the_next_step_is_right() -> None:
    w = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    for _ in range(3):
        w.grad = None
        loss = (w * w).sum()
        loss.backward()
        with tg.no_grad():
            w -= 0.25 * w.grad.numpy()  # type: ignore[union-attr]
    np.testing.assert_allclose(w.numpy(), np.array([1.0, -2.0]) * 0.5**3)


def test_writes_to_tensors_outside_the_graph_are_not_flagged() -> None:
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    other = tg.tensor(np.array([3.0, 4.0]))
    loss = (x * 2.0).sum()
    other += 1.0
    other[0] = 0.0
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])  # type: ignore[union-attr]


# --------------------------------------------------------------------------- numpy route
def _numpy_write(w: tg.Tensor) -> None:
    w.numpy()[0] = 9.0


def _data_item_write(w: tg.Tensor) -> None:
    w.data[1] = 9.0


def _asarray_write(w: tg.Tensor) -> None:
    np.asarray(w)[2] += 1.0


def _view_write(w: tg.Tensor) -> None:
    view = w.numpy()[::2]
    view *= -1.0


NUMPY_WRITES: dict[str, Callable[[tg.Tensor], None]] = {
    "numpy()[...] =": _numpy_write, ".data[...] =": _data_item_write,
    "np.asarray(t)[...] +=": _asarray_write, "numpy view *=": _view_write,
}  # fmt: skip


@pytest.mark.parametrize("write", sorted(NUMPY_WRITES))
def test_writes_through_numpy_are_impossible(write: str) -> None:
    # the arrays a tensor hands out are read-only views: a write that backward could not
    # detect cannot happen at all, with or without detect_anomaly()
    x = tg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w = tg.tensor(np.array([4.0, 5.0, 6.0]))
    loss = tg.multiply(x, w).sum()
    with pytest.raises(ValueError, match="read-only"):
        NUMPY_WRITES[write](w)
    np.testing.assert_array_equal(w.numpy(), [4.0, 5.0, 6.0])
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 5.0, 6.0])  # type: ignore[union-attr]


@pytest.mark.parametrize("anomaly", [False, True])
def test_a_write_through_a_detached_alias_is_caught(anomaly: bool) -> None:
    x = tg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    w = tg.tensor(np.array([4.0, 5.0, 6.0]))
    with tg.detect_anomaly() if anomaly else contextlib.nullcontext():
        loss = tg.multiply(x, w).sum()
        alias = w.detach()
        alias += 1.0  # shares w's memory, and so its version counter
        with raises(InPlaceModificationError, "multiply:", "argument 1", "(3,)", "detach()"):
            loss.backward()


def test_numpy_write_to_an_output_is_impossible() -> None:
    x = tg.tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = tg.exp(x)
    with pytest.raises(ValueError, match="read-only"):
        y.numpy()[0] = 0.0
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]))  # type: ignore[union-attr]


def test_checksums_do_not_flag_an_untouched_graph_of_views_and_casts() -> None:
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with tg.detect_anomaly():
        y = (x.T[::-1] * np.array([1, 2])).reshape(-1)
        (tg.exp(y * 0.1) * y).sum().backward()
    assert x.grad is not None and np.isfinite(x.grad.numpy()).all()


def test_in_place_on_a_leaf_requiring_grad_with_grad_enabled_is_refused_at_once() -> None:
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with raises(GradientError, "in-place *=", "gradient would be lost", "no_grad()"):
        x *= 2.0
