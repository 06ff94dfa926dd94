"""nn.Unflatten: PyTorch's semantics (negative dims, one inferred -1), its gradient, and
clear errors for sizes that do not fit."""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph import nn
from tensorgraph.errors import DomainError, DTypeError, ShapeError
from tensorgraph.testing import gradcheck

HAVE_TORCH = importlib.util.find_spec("torch") is not None

CASES = [
    ((5, 64), 1, (1, 8, 8), (5, 1, 8, 8)),
    ((5, 64), -1, (8, 8), (5, 8, 8)),
    ((5, 64), 1, (4, -1), (5, 4, 16)),
    ((6, 4), 0, (2, 3), (2, 3, 4)),
    ((2, 12, 3), -2, [3, 2, 2], (2, 3, 2, 2, 3)),
    ((2, 3), 1, (3,), (2, 3)),
    ((7,), 0, (7, 1), (7, 1)),
]


@pytest.mark.parametrize(("shape", "dim", "sizes", "expected"), CASES)
def test_unflatten_splits_the_axis_in_row_major_order(
    shape: tuple[int, ...], dim: int, sizes: Any, expected: tuple[int, ...]
) -> None:
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    out = nn.Unflatten(dim, sizes)(tg.tensor(x))
    assert out.shape == expected
    # The values are numpy's reshape of the same memory order: nothing moves.
    np.testing.assert_array_equal(out.numpy(), x.reshape(expected))
    if HAVE_TORCH:
        import torch

        reference = torch.nn.Unflatten(dim, sizes)(torch.from_numpy(x))
        assert tuple(reference.shape) == expected
        np.testing.assert_array_equal(out.numpy(), reference.numpy())


def test_unflatten_inverts_flatten_and_passes_gradients() -> None:
    x = np.random.default_rng(0).normal(size=(3, 2, 4, 4))
    back = nn.Unflatten(1, (2, 4, 4))(nn.Flatten()(tg.tensor(x)))
    np.testing.assert_array_equal(back.numpy(), x)
    assert gradcheck(lambda t: nn.Unflatten(1, (2, -1))(t) * 2.0, x.reshape(3, 32))


def test_unflatten_repr_names_its_arguments() -> None:
    assert repr(nn.Unflatten(1, [1, 8, 8])) == "Unflatten(dim=1, unflattened_size=(1, 8, 8))"


@pytest.mark.parametrize(("dim", "sizes", "error", "words"), [
    (1.0, (2, 2), DTypeError, "dim must be an int"),
    (True, (2, 2), DTypeError, "dim must be an int"),
    (1, 4, DTypeError, "tuple or list of ints"),
    (1, (2, 2.0), DTypeError, "tuple or list of ints"),
    (1, (2, True), DTypeError, "tuple or list of ints"),
    (1, (), DomainError, "at least one size"),
    (1, (-1, -1), DomainError, "at most one -1"),
    (1, (0, 4), DomainError, "positive sizes"),
    (1, (-2, 4), DomainError, "positive sizes"),
])
def test_unflatten_refuses_bad_arguments_when_built(
    dim: Any, sizes: Any, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        nn.Unflatten(dim, sizes)


@pytest.mark.parametrize(("dim", "sizes", "words"), [
    (1, (1, 8, 7), r"\(1, 8, 7\) has 56 elements, but axis 1 of input of shape \(5, 64\)"),
    (2, (8, 8), r"dim=2 is not an axis of input of shape \(5, 64\)"),
    (-3, (8, 8), r"dim=-3 is not an axis"),
    (1, (5, -1), r"cannot split axis 1 of length 64 .* into \(5, -1\)"),
])
def test_unflatten_refuses_sizes_that_do_not_fit_the_input(
    dim: int, sizes: tuple[int, ...], words: str
) -> None:
    with pytest.raises(ShapeError, match=words):
        nn.Unflatten(dim, sizes)(tg.tensor(np.zeros((5, 64))))


def test_unflatten_errors_are_value_and_type_errors_as_in_pytorch() -> None:
    # Callers catching the builtin exceptions (as they would with PyTorch) still catch them.
    with pytest.raises(ValueError):
        nn.Unflatten(1, (3, 3))(tg.tensor(np.zeros((2, 8))))
    with pytest.raises(TypeError):
        nn.Unflatten(1, "88")  # type: ignore[arg-type]
