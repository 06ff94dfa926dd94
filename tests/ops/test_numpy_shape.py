"""numpy's shape, join, indexing and reordering functions on tensors (issue 12).

Every function is called through plain numpy (``np.repeat(t, ...)``) on Tensors: the values
must equal numpy's exactly, and the first and second derivatives of ``sum(u * f(x) ** 2)``
must equal PyTorch's in float64 (torch.repeat_interleave, tile, flip, roll, rot90, gather,
index_add, sort, gradient, ...). Without torch the same cases are checked against central
differences, so nothing here skips. Edges: empty arrays, negative axes, repeated indices,
ties in sort, and out-of-range indices (an ``IndexError`` naming the op and the shape).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import DomainError, DTypeError, GradientError, ShapeError
from tensorgraph.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

RNG = np.random.default_rng(12)


def _a(*shape: int) -> np.ndarray:
    return RNG.uniform(-2.0, 2.0, shape)


def _i(values: Any) -> Any:
    return torch.tensor(values) if torch is not None else None


#: id -> (the numpy call, used on arrays and on Tensors alike; the torch equivalent or None;
#: the inputs)
CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any] | None, list[np.ndarray]]] = {
    "repeat-int-axis": (lambda a: np.repeat(a, 3, axis=1),
                        lambda a: torch.repeat_interleave(a, 3, dim=1), [_a(2, 3)]),
    "repeat-per-element": (lambda a: np.repeat(a, [2, 0, 1], axis=-2),
                           lambda a: torch.repeat_interleave(a, _i([2, 0, 1]), dim=0),
                           [_a(3, 2)]),
    "repeat-axis-none": (lambda a: np.repeat(a, 2),
                         lambda a: torch.repeat_interleave(a.flatten(), 2), [_a(2, 3)]),
    "tile": (lambda a: np.tile(a, (2, 1, 3)), lambda a: torch.tile(a, (2, 1, 3)), [_a(2, 3)]),
    "tile-short-reps": (lambda a: np.tile(a, 2), lambda a: torch.tile(a, (2,)), [_a(2, 3)]),
    "vstack": (lambda a, b: np.vstack([a, b]), lambda a, b: torch.vstack([a, b]),
               [_a(3), _a(2, 3)]),
    "hstack": (lambda a, b: np.hstack([a, b]), lambda a, b: torch.hstack([a, b]),
               [_a(2, 3), _a(2, 1)]),
    "hstack-1d": (lambda a, b: np.hstack((a, b)), lambda a, b: torch.hstack((a, b)),
                  [_a(3), _a(2)]),
    "dstack": (lambda a, b: np.dstack([a, b]), lambda a, b: torch.dstack([a, b]),
               [_a(2, 3), _a(2, 3, 2)]),
    "column_stack": (lambda a, b: np.column_stack([a, b]),
                     lambda a, b: torch.column_stack([a, b]), [_a(3), _a(3, 2)]),
    "stack": (lambda a, b: np.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], -1),
              [_a(2, 3), _a(2, 3)]),
    "array_split": (lambda a: np.concatenate([np.ravel(p) * (k + 1) for k, p in enumerate(
                        np.array_split(a, 3, axis=1))]),
                    lambda a: torch.cat([p.ravel() * (k + 1) for k, p in enumerate(
                        torch.tensor_split(a, 3, dim=1))]), [_a(2, 5)]),
    "vsplit": (lambda a: np.vsplit(a, [1])[1], lambda a: torch.vsplit(a, [1])[1], [_a(3, 2)]),
    "hsplit": (lambda a: np.hsplit(a, 2)[0], lambda a: torch.hsplit(a, 2)[0], [_a(2, 4)]),
    "dsplit": (lambda a: np.dsplit(a, [1, 1])[2], lambda a: torch.dsplit(a, [1, 1])[2],
               [_a(2, 2, 3)]),
    "flip-all": (lambda a: np.flip(a), lambda a: torch.flip(a, (0, 1, 2)), [_a(2, 3, 2)]),
    "flip-int": (lambda a: np.flip(a, -1), lambda a: torch.flip(a, (-1,)), [_a(2, 3)]),
    "flip-tuple": (lambda a: np.flip(a, (0, 2)), lambda a: torch.flip(a, (0, 2)),
                   [_a(2, 3, 2)]),
    "fliplr": (lambda a: np.fliplr(a), lambda a: torch.fliplr(a), [_a(2, 3)]),
    "flipud": (lambda a: np.flipud(a), lambda a: torch.flipud(a), [_a(3)]),
    "roll-none": (lambda a: np.roll(a, 4), lambda a: torch.roll(a, 4), [_a(2, 3)]),
    "roll-tuple": (lambda a: np.roll(a, (1, -2), (0, -1)), lambda a: torch.roll(a, (1, -2),
                                                                                (0, 1)),
                   [_a(3, 4)]),
    "roll-repeated-axis": (lambda a: np.roll(a, (1, 2), (1, 1)), lambda a: torch.roll(a, 3, 1),
                           [_a(2, 4)]),
    "roll-shift-broadcast": (lambda a: np.roll(a, 1, (0, 1)),
                             lambda a: torch.roll(a, (1, 1), (0, 1)), [_a(3, 4)]),
    "rot90": (lambda a: np.rot90(a), lambda a: torch.rot90(a), [_a(2, 3)]),
    "rot90-k2": (lambda a: np.rot90(a, 2), lambda a: torch.rot90(a, 2), [_a(2, 3)]),
    "rot90-k-1-axes": (lambda a: np.rot90(a, -1, (2, 0)), lambda a: torch.rot90(a, -1, (2, 0)),
                       [_a(2, 3, 4)]),
    "moveaxis": (lambda a: np.moveaxis(a, (0, -1), (-1, 1)),
                 lambda a: torch.movedim(a, (0, -1), (-1, 1)), [_a(2, 3, 4)]),
    "swapaxes": (lambda a: np.swapaxes(a, 0, -1), lambda a: torch.swapaxes(a, 0, -1),
                 [_a(2, 3, 4)]),
    "atleast_1d": (lambda a: np.atleast_1d(a), lambda a: torch.atleast_1d(a), [_a()]),
    "atleast_2d": (lambda a: np.atleast_2d(a), lambda a: torch.atleast_2d(a), [_a(3)]),
    "atleast_3d-1d": (lambda a: np.atleast_3d(a), lambda a: torch.atleast_3d(a), [_a(3)]),
    "atleast_3d-2d": (lambda a: np.atleast_3d(a), lambda a: torch.atleast_3d(a), [_a(2, 3)]),
    "squeeze": (lambda a: np.squeeze(a, -1), lambda a: torch.squeeze(a, -1), [_a(2, 1, 3, 1)]),
    "ravel": (lambda a: np.ravel(a), lambda a: torch.ravel(a), [_a(2, 3)]),
    "take-none": (lambda a: np.take(a, [5, -1, 0, 5]), lambda a: torch.take(a, _i([5, 5, 0, 5])),
                  [_a(2, 3)]),
    "take-axis": (lambda a: np.take(a, np.array([[2, 0], [2, 2]]), axis=-1),
                  lambda a: a[:, _i([[2, 0], [2, 2]])], [_a(2, 3)]),
    "take-scalar-index": (lambda a: np.take(a, 1, axis=0), lambda a: a[1], [_a(2, 3)]),
    "take_along_axis": (lambda a: np.take_along_axis(a, np.array([[0, 0, 2], [1, 0, 1]]), 1),
                        lambda a: torch.take_along_dim(a, _i([[0, 0, 2], [1, 0, 1]]), 1),
                        [_a(2, 3)]),
    "take_along_axis-broadcast": (
        lambda a: np.take_along_axis(a, np.array([[2], [0]]), axis=1),
        lambda a: torch.take_along_dim(a, _i([[2], [0]]), 1), [_a(2, 3)]),
    "take_along_axis-none": (lambda a: np.take_along_axis(a, np.array([4, 4, 1]), None),
                             lambda a: a.flatten()[_i([4, 4, 1])], [_a(2, 3)]),
    "sort": (lambda a: np.sort(a), lambda a: torch.sort(a, stable=True).values, [_a(3, 4)]),
    "sort-axis0": (lambda a: np.sort(a, axis=0, kind="quicksort"),
                   lambda a: torch.sort(a, dim=0, stable=True).values, [_a(3, 4)]),
    "sort-none": (lambda a: np.sort(a, axis=None),
                  lambda a: torch.sort(a.flatten(), stable=True).values, [_a(3, 4)]),
    "gradient-1d": (lambda a: np.gradient(a), lambda a: torch.gradient(a)[0], [_a(5)]),
    "gradient-edge2-spacing": (
        lambda a: np.gradient(a, 0.5, axis=1, edge_order=2),
        lambda a: torch.gradient(a, spacing=0.5, dim=1, edge_order=2)[0], [_a(2, 4)]),
    "gradient-two-points": (lambda a: np.gradient(a, axis=0),
                            lambda a: torch.gradient(a, dim=0)[0], [_a(2, 3)]),
    "gradient-all-axes": (
        lambda a: np.concatenate([np.ravel(g) * (k + 1) for k, g in enumerate(
            np.gradient(a, 2.0, 0.5, edge_order=2))]),
        lambda a: torch.cat([g.ravel() * (k + 1) for k, g in enumerate(
            torch.gradient(a, spacing=[2.0, 0.5], edge_order=2))]), [_a(3, 4)]),
}  # fmt: skip


def _ours(f: Callable[..., Any], arrays: list[np.ndarray], u: np.ndarray,
          v: list[np.ndarray]) -> list[np.ndarray]:
    """First and second derivatives of ``sum(u * f(x) ** 2)``: its gradient, and the
    gradient of ``sum(v * gradient)`` (a Hessian-vector product)."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    assert isinstance(out, tg.Tensor) and out.requires_grad
    first = tg.gradients((u * out**2).sum(), xs, create_graph=True)
    hvp = sum(((g * w).sum() for g, w in zip(first, v)), tg.tensor(0.0, dtype=np.float64))
    second = tg.gradients(hvp, xs)
    return [g.detach().numpy() for g in (*first, *second)]


def _theirs(f: Callable[..., Any], arrays: list[np.ndarray], u: np.ndarray,
            v: list[np.ndarray]) -> list[np.ndarray]:
    assert torch is not None
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    first = torch.autograd.grad((torch.tensor(u) * f(*xs) ** 2).sum(), xs, create_graph=True)
    hvp = sum((g * torch.tensor(w)).sum() for g, w in zip(first, v))
    second = torch.autograd.grad(hvp, xs)
    return [g.detach().numpy() for g in (*first, *second)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_are_numpys_and_derivatives_torchs(case: str) -> None:
    f, torch_f, arrays = CASES[case]
    expected = f(*arrays)
    out = f(*[tg.tensor(a) for a in arrays])
    assert isinstance(out, tg.Tensor)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_array_equal(out.numpy(), expected)
    u = RNG.standard_normal(expected.shape)
    v = [RNG.standard_normal(a.shape) for a in arrays]
    ours = _ours(f, arrays, u, v)
    if torch is not None and torch_f is not None:
        theirs = _theirs(torch_f, arrays, u, v)
        for got, want in zip(ours, theirs):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    else:  # no torch: central differences of both orders
        assert gradcheck(f, *arrays)
        assert gradgradcheck(lambda *xs: f(*xs) ** 2, *arrays)


def test_the_cases_cover_every_function_of_the_issue() -> None:
    names = {c.split("-")[0] for c in CASES}
    assert names >= {
        "repeat", "tile", "vstack", "hstack", "dstack", "column_stack", "array_split",
        "vsplit", "hsplit", "dsplit", "flip", "fliplr", "flipud", "roll", "rot90", "moveaxis",
        "swapaxes", "atleast_1d", "atleast_2d", "atleast_3d", "squeeze", "ravel", "take",
        "take_along_axis", "sort", "gradient", "stack",
    }  # fmt: skip
