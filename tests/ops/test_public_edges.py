"""The public functions at the edges users meet first, as numpy has them: negative axes and
indices, repeated indices (a gradient fan-in), float ``ddof``, 0-d and empty inputs.

The registry tests (test_registry.py) call each op with its parameters already normalised;
these call the public functions, where users' own spellings of axes and indices arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tensorgraph as tg
from tensorgraph.testing import gradcheck, gradgradcheck
from tensorgraph.testing import strategies as tgst


def _logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> Any:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


REDUCTIONS: dict[str, Callable[..., Any]] = {
    "sum": np.sum, "mean": np.mean, "var": np.var, "max": np.max, "min": np.min,
    "prod": np.prod, "logsumexp": _logsumexp,
}  # fmt: skip


def _close(got: tg.Tensor, expected: Any) -> None:
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"shape {got.shape}, numpy's {expected.shape}"
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- axes
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reductions_take_numpy_axes(name: str, data: st.DataObject) -> None:
    shape = data.draw(tgst.shapes(), label="shape")
    axis = data.draw(tgst.valid_axes(len(shape)), label="axis")  # negative ints, tuples, None
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = data.draw(tgst.arrays(shape=shape, low=-2.0, high=2.0,
                              distinct=name in ("max", "min")), label="x")

    def fn(t: tg.Tensor) -> tg.Tensor:
        result: tg.Tensor = getattr(tg, name)(t, axis=axis, keepdims=keepdims)
        return result

    _close(fn(tg.tensor(x)), REDUCTIONS[name](x, axis=axis, keepdims=keepdims))
    assert gradcheck(fn, x)


@given(data=st.data())
def test_var_takes_numpy_ddof_floats_included(data: st.DataObject) -> None:
    shape = data.draw(tgst.shapes(min_rank=1), label="shape")
    axis = data.draw(tgst.valid_axes(len(shape)), label="axis")
    ddof = data.draw(st.sampled_from([0, 1, 0.5, 1.5]), label="ddof")
    x = data.draw(tgst.arrays(shape=shape), label="x")
    count = x.size // max(np.sum(x, axis=axis, keepdims=True).size, 1)
    assume(count > ddof)
    _close(tg.var(tg.tensor(x), axis=axis, ddof=ddof), np.var(x, axis=axis, ddof=ddof))
    assert gradcheck(lambda t: tg.var(t, axis=axis, ddof=ddof), x)


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    result: np.ndarray = e / np.sum(e, axis=axis, keepdims=True)
    return result


#: (public function, numpy equivalent); ``a`` is a negative axis of x, ``b`` one of a
#: result with one more dimension.
AXIS_FUNCTIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "concatenate": (lambda t, a, b: tg.concatenate([t, t * 2.0], axis=a),
                    lambda x, a, b: np.concatenate([x, x * 2.0], axis=a)),
    "stack": (lambda t, a, b: tg.stack([t, t * 2.0], axis=b),
              lambda x, a, b: np.stack([x, x * 2.0], axis=b)),
    "expand_dims": (lambda t, a, b: tg.expand_dims(t, b), lambda x, a, b: np.expand_dims(x, b)),
    "swapaxes": (lambda t, a, b: tg.swapaxes(t, a, -1), lambda x, a, b: np.swapaxes(x, a, -1)),
    "softmax": (lambda t, a, b: tg.softmax(t, axis=a), lambda x, a, b: _softmax(x, a)),
    "log_softmax": (lambda t, a, b: tg.log_softmax(t, axis=a),
                    lambda x, a, b: np.log(_softmax(x, a))),
}


@pytest.mark.parametrize("name", sorted(AXIS_FUNCTIONS))
@given(data=st.data())
def test_axis_arguments_may_be_negative(name: str, data: st.DataObject) -> None:
    x = data.draw(tgst.arrays(shape=tgst.shapes(min_rank=1)), label="x")
    a = data.draw(st.integers(-x.ndim, -1), label="axis")
    b = data.draw(st.integers(-x.ndim - 1, -1), label="new axis")
    ours, numpys = AXIS_FUNCTIONS[name]
    _close(ours(tg.tensor(x), a, b), numpys(x, a, b))
    assert gradcheck(lambda t: ours(t, a, b), x)


@given(data=st.data())
def test_split_follows_numpy_with_negative_and_unsorted_indices(data: st.DataObject) -> None:
    x = data.draw(tgst.arrays(shape=tgst.shapes(min_rank=1)), label="x")
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    n = x.shape[axis]
    indices = data.draw(st.lists(st.integers(-n - 1, n + 1), min_size=1, max_size=3),
                        label="indices")
    indices[0] = -abs(indices[0]) or -1  # at least one negative index
    pieces = tg.split(tg.tensor(x), indices, axis=axis)
    expected = np.split(x, indices, axis=axis)
    assert len(pieces) == len(expected)
    for piece, numpys in zip(pieces, expected):
        _close(piece, numpys)
    assert gradcheck(lambda t: tg.split(t, indices, axis=axis), x)


# --------------------------------------------------------------------------- indices
@given(data=st.data())
def test_getitem_with_negative_and_repeated_indices_accumulates(data: st.DataObject) -> None:
    x = data.draw(tgst.arrays(shape=tgst.shapes(min_rank=1)), label="x")
    index = data.draw(tgst.index_arrays(x.shape[0]), label="index")
    other = data.draw(tgst.index_arrays(x.shape[0]), label="other index")
    t = tg.tensor(x, requires_grad=True)
    out = t[index]
    _close(out, x[index])
    upstream = np.arange(1.0, 1.0 + out.size).reshape(out.shape)
    out.backward(upstream)
    expected = np.zeros_like(x)
    np.add.at(expected, index, upstream)  # every occurrence adds its share
    assert t.grad is not None
    np.testing.assert_array_equal(t.grad.numpy(), expected)
    # a fan-in of two repeated, negative gathers, to second order
    assert gradgradcheck(lambda u: tg.sum(u[index] * 2.0) * tg.sum(u[other] * u[other]), x)


@given(tgst.arrays(shape=tgst.shapes(min_rank=1)))
def test_negative_ints_and_slices_index_from_the_end(x: np.ndarray) -> None:
    for index in (-1, slice(-2, None), slice(None, None, -1), (Ellipsis, -1)):
        _close(tg.tensor(x)[index], x[index])
        assert gradgradcheck(lambda t, i=index: t[i] * t[i], x)


# --------------------------------------------------------------------------- 0-d and empty
@pytest.mark.parametrize("index", [np.array([], dtype=np.int64), slice(1, 1),
                                   np.zeros(3, dtype=bool)])
def test_empty_selections_have_empty_results_and_zero_gradients(index: Any) -> None:
    t = tg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    out = t[index]
    assert out.shape == np.empty((3, 2))[index].shape and out.size == 0
    tg.sum(out).backward()
    assert t.grad is not None and t.grad.numpy().tolist() == [[0.0, 0.0]] * 3


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_of_nothing_are_refused_by_name(name: str) -> None:
    empty = tg.tensor(np.empty((0, 3)), requires_grad=True)
    for axis in (None, 0, -2):
        with pytest.raises(ValueError, match=rf"{name}.*\(0, 3\)"):
            getattr(tg, name)(empty, axis=axis)
    # along an axis that is not empty there is nothing to refuse: an empty result
    out = getattr(tg, name)(empty, axis=1)
    assert out.shape == (0,)
    tg.sum(out).backward()
    assert empty.grad is not None and empty.grad.shape == (0, 3)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "logsumexp"])
def test_reductions_of_0d_tensors_are_the_value(name: str) -> None:
    x = np.array(0.0 if name != "logsumexp" else 1.5)
    _close(getattr(tg, name)(tg.tensor(x)), REDUCTIONS[name](x))
    assert gradgradcheck(getattr(tg, name), x)
