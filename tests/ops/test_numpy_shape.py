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


# --------------------------------------------------------------------------- sort
def test_sort_ties_route_each_gradient_by_the_stable_permutation() -> None:
    # sorted: [1 (x0), 1 (x2), 2 (x3), 3 (x1)]: x0 takes slot 0's gradient, x2 slot 1's
    x = np.array([1.0, 3.0, 1.0, 2.0])
    upstream = np.array([10.0, 20.0, 30.0, 40.0])
    for create_graph in (False, True):  # the saved permutation, and the recomputed one
        t = tg.tensor(x, requires_grad=True)
        (g,) = tg.gradients(np.sort(t), [t], grad_outputs=upstream, create_graph=create_graph)
        np.testing.assert_array_equal(g.detach().numpy(), [10.0, 40.0, 20.0, 30.0])
    if torch is not None:
        xt = torch.tensor(x, requires_grad=True)
        torch.sort(xt, stable=True).values.backward(torch.tensor(upstream))
        np.testing.assert_array_equal(xt.grad.numpy(), [10.0, 40.0, 20.0, 30.0])


def test_sort_ties_along_an_axis() -> None:
    x = np.array([[2.0, 0.0], [2.0, 1.0], [1.0, 0.0]])
    upstream = np.arange(6.0).reshape(3, 2)
    t = tg.tensor(x, requires_grad=True)
    (g,) = tg.gradients(tg.sort(t, axis=0), [t], grad_outputs=upstream)
    # column 0 sorts to rows (2, 0, 1), column 1 to rows (0, 2, 1)
    np.testing.assert_array_equal(g.numpy(), [[2.0, 1.0], [4.0, 5.0], [0.0, 3.0]])


@pytest.mark.parametrize("kind", [None, "quicksort", "mergesort", "heapsort", "stable"])
def test_every_numpy_kind_is_accepted_and_sorts_stably(kind: str | None) -> None:
    x = np.array([2.0, 1.0, 2.0, 1.0, 0.0])
    t = tg.tensor(x)
    np.testing.assert_array_equal(np.sort(t, kind=kind).numpy(), np.sort(x))
    np.testing.assert_array_equal(np.argsort(t, kind=kind).numpy(), [4, 1, 3, 0, 2])


def test_sort_refuses_what_it_cannot_honour() -> None:
    t = tg.tensor([2.0, 1.0])
    with pytest.raises(DomainError, match="sort: kind"):
        np.sort(t, kind="bogosort")
    with pytest.raises(TypeError, match="order"):
        np.sort(t, order="f0")
    with pytest.raises(ValueError, match="can't be provided at the same time"):
        np.argsort(t, kind="stable", stable=True)
    np.testing.assert_array_equal(np.sort(t, stable=True).numpy(), [1.0, 2.0])


def test_argsort_returns_an_integer_tensor_without_gradient() -> None:
    x = np.array([[3.0, 1.0, 3.0], [0.0, 0.0, -1.0]])
    t = tg.tensor(x, requires_grad=True)
    for result, axis in ((np.argsort(t), -1), (tg.argsort(t, axis=0), 0), (t.argsort(), -1)):
        assert isinstance(result, tg.Tensor) and result.dtype.kind == "i"
        assert not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), np.argsort(x, axis=axis, kind="stable"))
    np.testing.assert_array_equal(np.argsort(t, axis=None).numpy(),
                                  np.argsort(x, axis=None, kind="stable"))


def test_tensor_sort_is_in_place_and_returns_none_as_numpys() -> None:
    t = tg.tensor([3.0, 1.0, 2.0])
    assert t.sort() is None
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])
    leaf = tg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    y = leaf * 1.0
    y.sort()  # recorded: the gradient reaches the leaf through the permutation
    (y * tg.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), [100.0, 1.0, 10.0])
    with pytest.raises(GradientError, match="in-place sort on a leaf"):
        leaf.sort()


# --------------------------------------------------------------------------- indices
def _raises_index_error(fn: Callable[[], Any], op: str, shape: tuple[int, ...]) -> None:
    with pytest.raises(IndexError) as info:
        fn()
    assert f"{op}:" in str(info.value) and str(shape) in str(info.value)
    assert isinstance(info.value, ShapeError)  # and a ValueError, as tensorgraph's others


def test_out_of_range_indices_raise_an_index_error_naming_op_and_shape() -> None:
    t = tg.tensor(np.zeros((2, 3)), requires_grad=True)
    _raises_index_error(lambda: np.take(t, [6]), "take", (6,))
    _raises_index_error(lambda: np.take(t, [0, -3], axis=0), "take", (2, 3))
    _raises_index_error(lambda: np.take_along_axis(t, np.array([[3]]), 1), "take_along_axis",
                        (2, 3))
    _raises_index_error(lambda: tg.scatter_add(t, [2], np.ones((1, 3)), axis=0), "scatter_add",
                        (2, 3))
    _raises_index_error(lambda: tg.scatter_add(t, (np.array([0]), np.array([3])), 1.0),
                        "scatter_add", (2, 3))
    _raises_index_error(lambda: tg.take(tg.zeros((0, 2)), [0], axis=0), "take", (0, 2))


def test_take_refuses_other_modes_and_bad_indices() -> None:
    t = tg.tensor([1.0, 2.0])
    with pytest.raises(DomainError, match="take: only mode='raise'"):
        np.take(t, [3], mode="wrap")
    with pytest.raises(TypeError, match="out="):
        np.take(t, [0], out=np.zeros(1))
    with pytest.raises(DTypeError, match="take: indices must be integers"):
        np.take(t, np.array([0.0]))
    with pytest.raises(TypeError, match="requires grad"):
        tg.take(t, tg.tensor([0.0], requires_grad=True))
    with pytest.raises(ShapeError, match="take_along_axis: indices of shape"):
        np.take_along_axis(tg.zeros((2, 3)), np.array([0]), axis=1)
    with pytest.raises(ShapeError, match="axis=None, indices must be 1-d"):
        np.take_along_axis(tg.zeros((2, 3)), np.array([[0]]), axis=None)


def test_repeated_take_indices_accumulate_their_gradients() -> None:
    t = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    np.take(t, [2, 0, 2, 2]).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [1.0, 0.0, 3.0])


# --------------------------------------------------------------------------- scatter_add
def test_scatter_add_accumulates_repeated_indices_as_numpy_add_at() -> None:
    a = RNG.standard_normal((4, 2))
    values = RNG.standard_normal((5, 2))
    index = np.array([0, 3, 0, 0, -1])
    expected = a.copy()
    np.add.at(expected, index, values)
    ta, tv = tg.tensor(a, requires_grad=True), tg.tensor(values, requires_grad=True)
    out = tg.scatter_add(ta, index, tv)
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(ta.numpy(), a)  # out of place
    upstream = RNG.standard_normal(out.shape)
    ga, gv = tg.gradients(out, [ta, tv], grad_outputs=upstream)
    np.testing.assert_array_equal(ga.numpy(), upstream)
    np.testing.assert_array_equal(gv.numpy(), upstream[index])
    # the axis form is torch's index_add
    axis_form = tg.scatter_add(ta, index, tv, axis=0)
    np.testing.assert_array_equal(axis_form.numpy(), expected)
    # numpy's in-place form cannot write into a tensor: the refusal points here
    with pytest.raises(TypeError, match=r"numpy\.add\.at .*tg\.scatter_add"):
        np.add.at(ta, index, tv)
    np.testing.assert_array_equal(ta.numpy(), a)


SCATTERS: dict[str, tuple[Callable[..., Any], Callable[..., Any] | None, list[np.ndarray]]] = {
    "index_add": (lambda a, v: tg.scatter_add(a, [2, 0, 2], v, axis=-1),
                  lambda a, v: a.index_add(1, _i([2, 0, 2]), v), [_a(2, 3), _a(2, 3)]),
    "add_at": (lambda a, v: tg.scatter_add(a, (np.array([0, 1, 0]), np.array([1, 2, 1])), v),
               lambda a, v: a.index_put((_i([0, 1, 0]), _i([1, 2, 1])), v, accumulate=True),
               [_a(2, 3), _a(3)]),
    "broadcast-values": (lambda a, v: tg.scatter_add(a, np.array([1, 1]), v),
                         lambda a, v: a.index_put((_i([1, 1]),), v.expand(2, 3),
                                                  accumulate=True), [_a(2, 3), _a(3)]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SCATTERS))
def test_scatter_add_derivatives_are_torchs(case: str) -> None:
    f, torch_f, arrays = SCATTERS[case]
    u = RNG.standard_normal(arrays[0].shape)
    v = [RNG.standard_normal(a.shape) for a in arrays]
    ours = _ours(f, arrays, u, v)
    if torch is not None and torch_f is not None:
        for got, want in zip(ours, _theirs(torch_f, arrays, u, v)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    else:
        assert gradcheck(f, *arrays) and gradgradcheck(lambda *xs: f(*xs) ** 2, *arrays)


def test_scatter_add_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(ShapeError, match=r"scatter_add: values of shape \(3,\)"):
        tg.scatter_add(tg.zeros((2, 2)), [0, 1], tg.ones(3))
    with pytest.raises(ShapeError, match="index must be 1-d"):
        tg.scatter_add(tg.zeros((2, 2)), [[0]], tg.ones((1, 2)), axis=0)
    with pytest.raises(TypeError, match=r"numpy\.add\.at"):
        np.add.at(tg.zeros(2), [0], 1.0)  # in place: use tg.scatter_add


# --------------------------------------------------------------------------- empty arrays
EMPTIES: dict[str, tuple[Callable[..., Any], list[np.ndarray]]] = {
    "repeat": (lambda a: np.repeat(a, 2, axis=0), [_a(0, 3)]),
    "repeat-per-element-empty": (lambda a: np.repeat(a, [], axis=0), [_a(0, 3)]),
    "repeat-zero-times": (lambda a: np.repeat(a, [0, 0], axis=-1), [_a(3, 2)]),
    "tile": (lambda a: np.tile(a, (2, 3)), [_a(0, 2)]),
    "tile-zero-reps": (lambda a: np.tile(a, (0, 1)), [_a(2, 2)]),
    "flip": (lambda a: np.flip(a), [_a(0)]),
    "roll": (lambda a: np.roll(a, 2, axis=-1), [_a(0, 3)]),
    "roll-none": (lambda a: np.roll(a, 2), [_a(3, 0)]),
    "rot90": (lambda a: np.rot90(a), [_a(0, 3)]),
    "sort": (lambda a: np.sort(a), [_a(0)]),
    "take-no-indices": (lambda a: np.take(a, [], axis=1), [_a(2, 3)]),
    "take_along_axis": (lambda a: np.take_along_axis(a, np.zeros((0, 3), np.intp), 0),
                        [_a(2, 3)]),
    "gradient": (lambda a: np.gradient(a, axis=0), [_a(3, 0)]),
    "vstack": (lambda a, b: np.vstack([a, b]), [_a(0), _a(0)]),
    "column_stack": (lambda a, b: np.column_stack([a, b]), [_a(0), _a(0, 2)]),
    "array_split": (lambda a: np.array_split(a, 3)[2], [_a(2)]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EMPTIES))
def test_empty_arrays_give_numpys_shapes_and_zero_sized_gradients(case: str) -> None:
    f, arrays = EMPTIES[case]
    expected = f(*arrays)
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    assert out.shape == expected.shape and expected.size == 0
    np.testing.assert_array_equal(out.numpy(), expected)
    grads = tg.gradients(out.sum(), xs)
    for g, a in zip(grads, arrays):
        assert g.shape == a.shape
        np.testing.assert_array_equal(g.numpy(), np.zeros_like(a))


# --------------------------------------------------------------------------- misuse
MISUSE: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: np.repeat(tg.ones(3), -1), DomainError, "repeat: repeats must be non-negative"),
    (lambda: np.repeat(tg.ones(3), [1, 2]), ShapeError, "repeat: 2 repeats for an axis of"),
    (lambda: np.repeat(tg.ones(3), 1.5), TypeError, "repeat: repeats must be ints"),
    (lambda: np.repeat(tg.ones(3), 2, axis=1), ShapeError, "repeat: axis 1 is out of range"),
    (lambda: np.tile(tg.ones(3), -2), DomainError, "tile: reps must be non-negative"),
    (lambda: np.tile(tg.ones(3), 2.0), TypeError, "tile: reps must be"),
    (lambda: np.rot90(tg.ones(3)), ShapeError, "rot90: the input must be at least 2-d"),
    (lambda: np.rot90(tg.ones((2, 2)), 1, (0, -2)), ShapeError, "rot90: axes"),
    (lambda: np.rot90(tg.ones((2, 2)), 1, (0, 1, 0)), ShapeError, "exactly two axes"),
    (lambda: np.fliplr(tg.ones(3)), ShapeError, "fliplr: the input must be at least 2-d"),
    (lambda: np.flipud(tg.tensor(1.0)), ShapeError, "flipud: the input must be at least 1-d"),
    (lambda: np.flip(tg.ones(3), 1), ShapeError, "flip: axis 1 is out of range"),
    (lambda: np.roll(tg.ones((2, 2)), (1, 2, 3), (0, 1)), ShapeError, "do not broadcast"),
    (lambda: np.roll(tg.ones(3), 1.0), TypeError, "roll: shift must be"),
    (lambda: np.moveaxis(tg.ones((2, 3)), (0, 1), 0), ShapeError, "same number of axes"),
    (lambda: np.moveaxis(tg.ones((2, 3)), (0, 0), (0, 1)), ShapeError, "repeated axis"),
    (lambda: np.ravel(tg.ones(3), order="F"), DomainError, "ravel: only order='C'"),
    (lambda: np.vsplit(tg.ones(4), 2), ShapeError, "vsplit: only works on tensors of 2"),
    (lambda: np.dsplit(tg.ones((2, 2)), 2), ShapeError, "dsplit: only works on tensors of 3"),
    (lambda: np.hsplit(tg.ones((2, 3)), 2), ShapeError, "hsplit: axis 1 of shape"),
    (lambda: np.vstack(tg.ones((2, 3))), TypeError, "vstack: expected a non-empty list"),
    (lambda: np.vstack([tg.ones(3), tg.ones(2)]), ShapeError, "concatenate: input 1"),
    (lambda: np.hstack([tg.ones(3)], dtype=np.float32), TypeError, "numpy.hstack: dtype="),
    (lambda: np.gradient(tg.ones(1)), ShapeError, "gradient: axis 0 of shape (1,) has 1"),
    (lambda: np.gradient(tg.ones(2), edge_order=2), ShapeError, "needs at least 3"),
    (lambda: np.gradient(tg.ones(3), edge_order=3), DomainError, "edge_order must be 1 or 2"),
    (lambda: np.gradient(tg.ones(3), np.arange(3.0)), DomainError, "only uniform spacings"),
    (lambda: np.gradient(tg.ones(3), 0.0), DomainError, "finite non-zero"),
    (lambda: np.gradient(tg.ones((3, 3)), 1.0, 2.0, 3.0), TypeError, "3 spacings for 2 axes"),
    (lambda: np.gradient(tg.ones(3), tg.tensor(1.0, requires_grad=True)), TypeError,
     "gets no gradient"),
    (lambda: np.gradient(tg.ones((3, 3)), axis=(0, -2)), ShapeError, "repeated axis"),
]  # fmt: skip


@pytest.mark.parametrize("index", range(len(MISUSE)))
def test_misuse_raises_a_clear_error_naming_the_function(index: int) -> None:
    call, kind, message = MISUSE[index]
    with pytest.raises(kind) as info:
        call()
    assert message in str(info.value)


# --------------------------------------------------------------------------- the rest
def test_gradient_over_several_axes_returns_a_tuple_in_the_order_asked() -> None:
    x = _a(3, 4)
    got = np.gradient(tg.tensor(x), 2.0, axis=(1, 0))
    want = np.gradient(x, 2.0, axis=(1, 0))
    assert isinstance(got, tuple) and len(got) == 2
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w)


def test_gradient_vjp_is_the_adjoint_of_the_stencil() -> None:
    # <u, D x> == <D^T u, x> with D^T the VJP, for both edge orders and several lengths
    for n in (2, 3, 4, 7):
        for order in (1, 2):
            if n <= order:
                continue
            x, u = RNG.standard_normal((n, 2)), RNG.standard_normal((n, 2))
            t = tg.tensor(x, requires_grad=True)
            (adjoint,) = tg.gradients(tg.gradient(t, 0.3, axis=0, edge_order=order), [t],
                                      grad_outputs=u)
            dense = np.stack([np.gradient(e, 0.3, edge_order=order) for e in np.eye(n)], 1)
            np.testing.assert_allclose(adjoint.numpy(), dense.T @ u, rtol=1e-12, atol=1e-12)
            assert np.isclose((u * np.gradient(x, 0.3, axis=0, edge_order=order)).sum(),
                              (adjoint.numpy() * x).sum(), rtol=1e-12)


def test_numpy_array_of_tensors_refuses_to_drop_the_graph_and_stack_keeps_it() -> None:
    a = tg.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    b = tg.tensor([3.0, 4.0], dtype=np.float64)
    with pytest.raises(TypeError, match=r"tg\.stack"):
        np.array([a, b])
    with pytest.raises(TypeError, match=r"tg\.stack"):
        np.asarray((b, a))
    # without a graph there is nothing to lose: numpy gets the values
    np.testing.assert_array_equal(np.array([b, b * 2]), [[3.0, 4.0], [6.0, 8.0]])
    stacked = np.stack([a, b])
    assert isinstance(stacked, tg.Tensor) and stacked.requires_grad
    (stacked * np.array([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])


def test_tensor_methods_follow_numpy() -> None:
    x = _a(2, 3)
    t = tg.tensor(x)
    np.testing.assert_array_equal(t.flip().numpy(), np.flip(x))
    np.testing.assert_array_equal(t.flip(1).numpy(), np.flip(x, 1))
    np.testing.assert_array_equal(t.roll(1, axis=0).numpy(), np.roll(x, 1, axis=0))
    np.testing.assert_array_equal(t.ravel().numpy(), x.ravel())
    np.testing.assert_array_equal(t.tile((2, 1)).numpy(), np.tile(x, (2, 1)))
    np.testing.assert_array_equal(t.take([0, -1]).numpy(), x.take([0, -1]))
    np.testing.assert_array_equal(t.take([2], axis=1).numpy(), x.take([2], axis=1))
    # numpy's repeat and PyTorch's Tensor.repeat (numpy's tile) differ: no method, no guess
    assert not hasattr(tg.Tensor, "repeat")


def test_atleast_returns_the_tensor_itself_when_it_has_the_axes_and_a_tuple_for_several() -> None:
    t = tg.ones((2, 3))
    assert tg.atleast_2d(t) is t and np.atleast_1d(t) is t
    pair = np.atleast_3d(tg.ones(2), tg.tensor(1.0))
    assert isinstance(pair, tuple) and [p.shape for p in pair] == [(1, 2, 1), (1, 1, 1)]


def test_repeat_with_one_count_in_a_list_is_the_uniform_repeat() -> None:
    x = _a(2, 3)
    np.testing.assert_array_equal(np.repeat(tg.tensor(x), [2], axis=1).numpy(),
                                  np.repeat(x, [2], axis=1))
    assert np.repeat(tg.tensor(x, requires_grad=True), np.array([2]), axis=1).op_name == "repeat"
