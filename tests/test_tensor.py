"""The Tensor's attributes, constructors, operators and numpy interplay."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import ShapeError


def test_attributes_and_conversions() -> None:
    t = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.dtype == np.float32
    assert t.T.shape == (3, 2)
    assert isinstance(t.numpy(), np.ndarray)
    assert tg.tensor(3.5).item() == 3.5
    with pytest.raises(ValueError, match="6 elements"):
        t.item()
    with pytest.raises(TypeError, match="0-d"):
        len(tg.tensor(1.0))
    assert np.shares_memory(np.asarray(t), t.numpy())  # no copy, but never writable
    assert not np.asarray(t).flags.writeable and not t.numpy().flags.writeable


def test_repr_shows_values_dtype_and_graph_state() -> None:
    assert repr(tg.tensor([1.0, 2.0])) == "tensor([1., 2.], dtype=float32)"
    x = tg.tensor([1.0], requires_grad=True)
    assert repr(x) == "tensor([1.], dtype=float32, requires_grad=True)"
    assert "op=multiply" in repr(x * 2)


def test_default_dtype_applies_to_python_data_only() -> None:
    assert tg.tensor([1.0]).dtype == np.float32
    assert tg.tensor(np.array([1.0])).dtype == np.float64
    assert tg.tensor([1, 2]).dtype == np.int64
    with tg.default_dtype(np.float64):
        assert tg.tensor([1.0]).dtype == np.float64
        assert tg.zeros(2).dtype == np.float64
    assert tg.get_default_dtype() == np.float32
    with pytest.raises(TypeError, match="floating dtype"):
        tg.set_default_dtype(np.int32)


def test_constructors() -> None:
    assert tg.zeros((2, 3)).numpy().sum() == 0
    assert tg.ones(4).numpy().tolist() == [1.0] * 4
    assert tg.full((2,), 7.0).numpy().tolist() == [7.0, 7.0]
    assert tg.arange(3).dtype == np.int64
    assert tg.arange(0.0, 1.0, 0.25).numpy().tolist() == [0.0, 0.25, 0.5, 0.75]
    assert tg.eye(3).numpy().trace() == 3
    base = tg.tensor(np.ones((2, 2), dtype=np.float64))
    assert tg.zeros_like(base).dtype == np.float64
    assert tg.ones_like(base).shape == (2, 2)
    assert tg.full_like(base, 3.0).numpy().max() == 3.0
    assert tg.zeros(2, requires_grad=True).requires_grad


def test_random_constructors_are_reproducible() -> None:
    tg.manual_seed(7)
    a = tg.randn(3, 2)
    tg.manual_seed(7)
    b = tg.randn(3, 2)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    rng = np.random.default_rng(1)
    u = tg.rand(1000, generator=rng)
    assert u.numpy().min() >= 0 and u.numpy().max() < 1 and u.dtype == np.float32


@pytest.mark.parametrize(
    "op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]
)
def test_operators_and_reflected_forms_match_numpy(op: Any) -> None:
    a = np.array([1.5, 2.0, 3.0])
    t = tg.tensor(a)
    np.testing.assert_allclose(op(t, 2.0).numpy(), op(a, 2.0))
    np.testing.assert_allclose(op(2.0, t).numpy(), op(2.0, a))
    np.testing.assert_allclose(op(a, t).numpy(), op(a, a))


def test_unary_matmul_and_abs() -> None:
    a = np.array([[1.0, -2.0], [3.0, 4.0]])
    t = tg.tensor(a)
    np.testing.assert_array_equal((-t).numpy(), -a)
    np.testing.assert_array_equal(abs(t).numpy(), np.abs(a))
    np.testing.assert_array_equal((t @ a).numpy(), a @ a)
    np.testing.assert_array_equal((a @ t).numpy(), a @ a)


def test_indexing_forms() -> None:
    a = np.arange(12.0).reshape(3, 4)
    t = tg.tensor(a)
    for index in [1, (slice(None), 2), (Ellipsis, 1), [2, 0], a[:, 0] > 3, (None, 1),
                  (np.array([0, 2]), np.array([1, 3]))]:
        np.testing.assert_array_equal(t[index].numpy(), a[index])
    np.testing.assert_array_equal(t[tg.tensor(np.array([0, 0]))].numpy(), a[[0, 0]])
    with pytest.raises(ShapeError, match="getitem"):
        t[5]


def test_setitem_on_constant_bumps_version() -> None:
    t = tg.tensor(np.zeros(3))
    t[1] = 5.0
    assert t.numpy().tolist() == [0.0, 5.0, 0.0] and t._version == 1


def test_methods_follow_numpy_signatures() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    t = tg.tensor(a)
    assert t.reshape(6, 4).shape == (6, 4)
    assert t.reshape((4, -1)).shape == (4, 6)
    assert t.transpose(2, 0, 1).shape == (4, 2, 3)
    assert t.permute((1, 0, 2)).shape == (3, 2, 4)
    assert t.swapaxes(0, 2).shape == (4, 3, 2)
    assert t.flatten().shape == (24,)
    assert t.expand_dims(0).squeeze(0).shape == (2, 3, 4)
    np.testing.assert_allclose(t.var(axis=1, ddof=1).numpy(), a.var(axis=1, ddof=1))
    np.testing.assert_allclose(t.max(axis=(0, 2)).numpy(), a.max(axis=(0, 2)))
    np.testing.assert_allclose(t.mean(axis=-1, keepdims=True).numpy(),
                               a.mean(axis=-1, keepdims=True))
    assert t.argmax(axis=1).shape == (2, 4)


def test_random_constructors_take_a_shape_tuple_or_ints() -> None:
    assert tg.randn((2, 3)).shape == (2, 3) == tg.rand(2, 3).shape
    assert tg.rand([4]).shape == (4,)
    with pytest.raises(TypeError, match=r"randn: the shape must be non-negative ints"):
        tg.randn(2.5)


def test_every_public_sub_package_is_an_attribute_of_the_package() -> None:
    import importlib

    for name in ("nn", "optim", "data", "training", "errors", "testing", "viz", "study", "perf"):
        assert getattr(tg, name) is importlib.import_module(f"tensorgraph.{name}")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tg.nope  # noqa: B018
