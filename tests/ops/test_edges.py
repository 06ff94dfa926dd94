"""The ops at their edges: zeros, empty axes, 0-d tensors, odd arguments.

Values are compared with numpy; first and second derivatives with PyTorch in float64 when it
imports (CI installs it) and, always, with the values the math gives (or finite differences
where the function is smooth), so nothing here skips without torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.broadcast import AxisError
from tensorgraph.errors import DomainError, DTypeError, ShapeError
from tensorgraph.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

F64 = np.float64


def derivatives(f: Callable[..., Any], *arrays: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """Gradients of the scalar ``f(*tensors)`` and its full Hessian over the flattened
    inputs (rows: d(grad_i)/d inputs), both by tensorgraph, second order via create_graph."""
    xs = [tg.tensor(np.asarray(a, dtype=F64), requires_grad=True) for a in arrays]
    grads = tg.gradients([f(*xs)], xs, create_graph=True, allow_unused=True)
    flat = tg.concatenate([g.reshape(-1) for g in grads])
    rows = []
    for i in range(flat.shape[0]):
        if not flat.requires_grad:  # a piecewise-linear function: its gradient is constant
            rows.append(np.zeros(flat.shape[0]))
            continue
        parts = tg.gradients([flat[i]], xs, retain_graph=True, allow_unused=True)
        rows.append(np.concatenate([p.numpy().ravel() for p in parts]))
    size = flat.shape[0]
    hessian = np.array(rows).reshape(size, size)
    return [g.detach().numpy() for g in grads], hessian


def torch_derivatives(f: Callable[..., Any], *arrays: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """The same as :func:`derivatives`, by PyTorch."""
    assert torch is not None
    xs = [torch.tensor(np.asarray(a, dtype=F64), requires_grad=True) for a in arrays]
    grads = torch.autograd.grad(f(*xs), xs, create_graph=True, allow_unused=True)
    grads = [torch.zeros_like(x) if g is None else g for g, x in zip(grads, xs)]
    flat = torch.cat([g.reshape(-1) for g in grads])
    rows = []
    for i in range(flat.shape[0]):
        if not flat[i].requires_grad:
            rows.append(np.zeros(flat.shape[0]))
            continue
        parts = torch.autograd.grad(flat[i], xs, retain_graph=True, allow_unused=True)
        rows.append(np.concatenate([np.zeros(x.numel()) if p is None else p.numpy().ravel()
                                    for p, x in zip(parts, xs)]))
    return [g.detach().numpy() for g in grads], np.array(rows)


def assert_same(ours: Sequence[Any], expected: Sequence[Any]) -> None:
    for a, b in zip(ours, expected):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- power
def test_power_zero_exponent_has_zero_gradient_at_zero() -> None:
    x = tg.tensor([0.0, 1.0], dtype=F64, requires_grad=True)
    (x ** 0.0).sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    y = tg.tensor([0.0, 2.0], dtype=F64, requires_grad=True)
    tg.power(y, np.zeros(2)).sum().backward()
    assert y.grad is not None
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0])


def test_polynomial_features_at_zero_first_and_second_order() -> None:
    weights = np.array([0.3, -1.1, 0.7, 2.0])
    points = np.array([0.0, 1.5, -2.0])

    def f(x: Any) -> Any:
        return (x.reshape(-1, 1) ** tg.arange(4.0).astype(F64) * weights).sum()

    (grad,), hessian = derivatives(f, points)
    k = np.arange(4.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.nansum(np.where(k > 0, weights * k * points[:, None] ** (k - 1), 0), 1)
        second = np.nansum(np.where(k > 1, weights * k * (k - 1) * points[:, None] ** (k - 2),
                                    0), 1)
    assert_same([grad, hessian], [expected, np.diag(second)])  # at 0: w1 and 2 w2
    if torch is not None:  # torch's scalar exponents are exact at 0 (its tensor ones are not)
        t_grad, t_hessian = torch_derivatives(
            lambda x: sum(w * x ** float(p) for p, w in enumerate(weights)).sum(), points)
        assert_same([grad, hessian], [t_grad[0], t_hessian])


def test_power_conventions_at_zero_match_torch() -> None:
    x = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.5])
    y = np.array([0.0, 1.0, 2.0, 0.5, -1.0, 0.0, 3.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        (gx, gy), _ = derivatives(lambda a, b: tg.power(a, b).sum(), x, y)
    inf = np.inf
    np.testing.assert_array_equal(gx, [0.0, 1.0, 0.0, inf, -inf, 0.0, 0.75])
    np.testing.assert_allclose(gy, [0.0, 0.0, 0.0, 0.0, -inf, np.log(2), 0.125 * np.log(0.5)])
    if torch is not None:
        tx = torch.tensor(x, requires_grad=True)
        ty = torch.tensor(y, requires_grad=True)
        t_gx, t_gy = torch.autograd.grad(torch.pow(tx, ty).sum(), (tx, ty))
        np.testing.assert_allclose(gx, t_gx.numpy())
        np.testing.assert_allclose(gy, t_gy.numpy())


def test_power_exponent_gradient_of_a_zero_base() -> None:
    y = tg.tensor([0.0, 0.5, 2.0, -1.0], dtype=F64, requires_grad=True)
    with np.errstate(divide="ignore"):
        tg.power(0.0, y).sum().backward()
    assert y.grad is not None
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, 0.0, -np.inf])
    if torch is not None:
        ty = torch.tensor([0.0, 0.5, 2.0, -1.0], dtype=torch.float64, requires_grad=True)
        torch.pow(0.0, ty).sum().backward()
        assert ty.grad is not None
        np.testing.assert_array_equal(y.grad.numpy(), ty.grad.numpy())


def test_power_exponent_gradient_of_a_negative_base_is_zero() -> None:
    # documented choice: the real power has no derivative in y for x < 0 (torch gives NaN)
    y = tg.tensor([2.0, 3.0], dtype=F64, requires_grad=True)
    tg.power(-2.0, y).sum().backward()
    assert y.grad is not None
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0])


def test_power_mixed_second_derivative_at_a_zero_exponent_is_exact() -> None:
    # d/dy (y x^(y-1)) = 1/x at y = 0: the zero-exponent rule must not cut it for x != 0
    x, y = np.array([0.5, 1.5, 2.0]), np.array([0.0, 1.0, 2.0])
    assert gradcheck(tg.power, x, y)
    assert gradgradcheck(tg.power, x, y)
    _, hessian = derivatives(lambda a, b: tg.power(a, b).sum(), x, y)
    np.testing.assert_allclose(hessian[0, 3], 1 / 0.5)


# --------------------------------------------------------------------------- prod
def _prod_hessian(v: np.ndarray) -> np.ndarray:
    n = len(v)
    return np.array([[0.0 if i == j else np.prod(np.delete(v, [i, j])) for j in range(n)]
                     for i in range(n)])


@pytest.mark.parametrize("values", [[0, 2, 3], [2, 0, 3], [0, 0, 3], [0, 0, 0], [0, 0, 0, 2],
                                    [1, 2, 3], [-1.5, 0, 0, 2]])
def test_prod_first_and_second_order_with_zeros(values: list[float]) -> None:
    v = np.asarray(values, dtype=F64)
    (grad,), hessian = derivatives(tg.prod, v)
    expected = [np.prod(np.delete(v, i)) for i in range(len(v))]
    assert_same([grad, hessian], [expected, _prod_hessian(v)])
    np.testing.assert_array_equal(hessian, hessian.T)
    if torch is not None:
        assert_same([grad, hessian], [t[0] if i == 0 else t for i, t in
                                      enumerate(torch_derivatives(torch.prod, v))])


@pytest.mark.parametrize(("axis", "keepdims"), [(1, True), (0, False), (None, True)])
def test_prod_along_an_axis_with_zeros(axis: int | None, keepdims: bool) -> None:
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.5], [-1.0, 2.0, 0.5]])
    weights = np.random.default_rng(0).normal(size=np.prod(x, axis, keepdims=keepdims).shape)

    (grad,), hessian = derivatives(lambda t: (tg.prod(t, axis, keepdims) * weights).sum(), x)
    if torch is not None:
        def torch_f(t: Any) -> Any:
            p = t.prod() if axis is None else t.prod(axis, keepdim=keepdims)
            return (p.reshape(weights.shape) * torch.tensor(weights)).sum()

        (t_grad,), t_hessian = torch_derivatives(torch_f, x)
        assert_same([grad, hessian], [t_grad, t_hessian])
    if axis == 1:  # rows are independent: the Hessian is block diagonal
        for r in range(3):
            block = hessian[3 * r:3 * r + 3, 3 * r:3 * r + 3]
            np.testing.assert_allclose(block, weights[r, 0] * _prod_hessian(x[r]))
    np.testing.assert_allclose(hessian, hessian.T)


def test_prod_of_an_empty_axis_is_one_with_an_empty_gradient() -> None:
    x = tg.zeros((0, 3), dtype=F64, requires_grad=True)
    out = tg.prod(x, axis=0)
    np.testing.assert_array_equal(out.numpy(), np.prod(np.zeros((0, 3)), axis=0))
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == (0, 3)


# --------------------------------------------------------------------------- split
SPLITS: list[Any] = [[-1], [5, 2], [1, 3], [-3, -1], [], [0], [10, -10], 2, 4, 1,
                     np.array([1, 2])]


@pytest.mark.parametrize("cuts", SPLITS, ids=repr)
def test_split_gives_numpys_pieces(cuts: Any) -> None:
    a = np.arange(12.0).reshape(4, 3)
    x = tg.tensor(a, requires_grad=True)
    pieces = tg.split(x, cuts)
    expected = np.split(a, cuts)
    assert [p.shape for p in pieces] == [e.shape for e in expected]
    for p, e in zip(pieces, expected):
        np.testing.assert_array_equal(p.numpy(), e)
    weights = [np.full(p.shape, k + 1.0) for k, p in enumerate(pieces)]
    sum((p * w).sum() for p, w in zip(pieces, weights)).backward()  # type: ignore[union-attr]
    ref = np.zeros_like(a)  # each row gets the weight of every piece that holds it
    for k, lo_hi in enumerate(np.split(np.arange(4), cuts)):
        ref[lo_hi] += k + 1.0
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), ref)


@pytest.mark.parametrize("sections", [3, 1, 5, [1]])
def test_array_split_gives_numpys_pieces(sections: Any) -> None:
    a = np.arange(10.0).reshape(5, 2)
    ours = tg.ops.array_split(tg.tensor(a), sections)
    theirs = np.array_split(a, sections)
    assert [p.numpy().tolist() for p in ours] == [t.tolist() for t in theirs]


def test_split_refuses_unequal_sections_and_odd_arguments() -> None:
    x = tg.ones((4, 3))
    with pytest.raises(ShapeError, match=r"split: axis 0 of shape \(4, 3\) \(length 4\) "
                                         r"cannot be split into 3 equal sections"):
        tg.split(x, 3)
    with pytest.raises(ShapeError, match="split: the number of sections must be positive"):
        tg.split(x, 0)
    for bad, message in [(2.0, "split: indices_or_sections must be an int or a sequence"),
                         ([1.5], "split: a split index must be an int, got float 1.5"),
                         (None, "split: indices_or_sections must be")]:
        with pytest.raises(TypeError, match=message):
            tg.split(x, bad)
    with pytest.raises(TypeError, match="split: axis must be a single int, got None"):
        tg.split(x, 2, axis=None)


# --------------------------------------------------------------------------- var
@pytest.mark.parametrize("ddof", [0.5, 1.5, -1, 2, np.float32(0.25)])
def test_var_takes_a_real_ddof_exactly(ddof: float) -> None:
    a = np.array([[1.0, 2.0, 4.0, 7.0], [0.5, -1.0, 3.0, 2.0]])
    np.testing.assert_allclose(tg.var(tg.tensor(a), axis=1, ddof=ddof).numpy(),
                               np.var(a, axis=1, ddof=ddof), rtol=1e-14)
    (grad,), _ = derivatives(lambda t: tg.var(t, axis=1, ddof=ddof).sum(), a)
    centred = a - a.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, 2 * centred / (4 - float(ddof)), rtol=1e-13)
    assert gradgradcheck(lambda t: tg.var(t, axis=1, ddof=ddof), a)
    if torch is not None:
        (t_grad,), _ = torch_derivatives(
            lambda t: torch.var(t, dim=1, correction=float(ddof)).sum(), a)
        np.testing.assert_allclose(grad, t_grad, rtol=1e-13)


def test_var_with_ddof_at_least_n_follows_numpy() -> None:
    a = np.array([1.0, 2.0, 4.0])
    for ddof in (3, 4, 3.5):
        with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"), \
                np.errstate(divide="ignore"):
            expected = np.var(a, ddof=ddof)
        x = tg.tensor(a, requires_grad=True)
        with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"), \
                np.errstate(divide="ignore"):
            out = tg.var(x, ddof=ddof)
        np.testing.assert_array_equal(out.numpy(), expected)  # inf
        out.backward()
        assert x.grad is not None
        np.testing.assert_array_equal(x.grad.numpy(), np.sign(a - a.mean()) * np.inf)


def test_var_refuses_a_non_numeric_ddof() -> None:
    for bad in ("1", None, True, [1]):
        with pytest.raises(TypeError, match="var: ddof must be a real number"):
            tg.var(tg.ones(3), ddof=bad)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="var: ddof must be finite"):
        tg.var(tg.ones(3), ddof=float("nan"))


# --------------------------------------------------------------------------- empty
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("axis", [0, None, (0, 1)])
def test_max_min_of_an_empty_axis_raise_like_numpy(name: str, axis: Any) -> None:
    with pytest.raises(ValueError):
        getattr(np, name)(np.zeros((0, 3)), axis=axis)
    with pytest.raises(ShapeError, match=rf"{name}: the {name}imum of an empty axis is "
                                         r"undefined \(shape \(0, 3\)"):
        getattr(tg, name)(tg.zeros((0, 3)), axis=axis)


@pytest.mark.parametrize("name", ["max", "min", "sum", "prod", "logsumexp"])
def test_reductions_along_a_full_axis_of_an_empty_tensor(name: str) -> None:
    x = tg.zeros((0, 3), dtype=F64, requires_grad=True)
    out = getattr(tg, name)(x, axis=1)
    assert out.shape == (0,)
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == (0, 3)


def test_sum_mean_var_over_an_empty_axis_follow_numpy() -> None:
    x = tg.zeros((0, 3), dtype=F64, requires_grad=True)
    total = tg.sum(x, axis=0)
    np.testing.assert_array_equal(total.numpy(), np.zeros(3))
    total.sum().backward()
    assert x.grad is not None and x.grad.shape == (0, 3)
    for name in ("mean", "var"):
        # numpy's value (nan) with numpy's warning; the gradient is empty
        with pytest.warns(RuntimeWarning):
            out = getattr(tg, name)(x, axis=0)
        np.testing.assert_array_equal(out.numpy(), np.full(3, np.nan))
        grad, = tg.gradients([out.sum()], [x])
        assert grad.shape == (0, 3)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -2])
def test_softmax_family_on_an_empty_tensor_is_empty(name: str, axis: int) -> None:
    x = tg.zeros((0, 3), dtype=F64, requires_grad=True)
    out = getattr(tg, name)(x, axis=axis)
    assert out.shape == (0, 3)
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == (0, 3)
    if torch is not None:
        assert tuple(getattr(torch, name)(torch.zeros((0, 3)), dim=axis).shape) == (0, 3)


# --------------------------------------------------------------------------- axes
AXIS_CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("sum", lambda t: tg.sum(t, axis=0)), ("mean", lambda t: tg.mean(t, axis=-1)),
    ("var", lambda t: tg.var(t, axis=0)), ("max", lambda t: tg.max(t, axis=0)),
    ("prod", lambda t: tg.prod(t, axis=(0,))), ("logsumexp", lambda t: tg.logsumexp(t, 0)),
    ("squeeze", lambda t: tg.squeeze(t, 0)), ("concatenate", lambda t: tg.concatenate([t])),
]


@pytest.mark.parametrize(("name", "call"), AXIS_CALLS, ids=[n for n, _ in AXIS_CALLS])
def test_an_axis_on_a_0d_tensor_is_an_axis_error(name: str, call: Callable[[Any], Any]) -> None:
    with pytest.raises(ShapeError, match=rf"^{name}: "):
        call(tg.tensor(2.0))


@pytest.mark.parametrize(("call", "name", "axis", "ndim"), [
    (lambda t: tg.sum(t, axis=2), "sum", 2, 2), (lambda t: tg.mean(t, axis=-3), "mean", -3, 2),
    (lambda t: tg.softmax(t, axis=2), "softmax", 2, 2),
    (lambda t: tg.concatenate([t, t], axis=2), "concatenate", 2, 2),
    (lambda t: tg.stack([t, t], axis=3), "stack", 3, 3),
    (lambda t: tg.split(t, 1, axis=-3), "split", -3, 2),
    (lambda t: tg.swapaxes(t, 0, 5), "swapaxes", 5, 2),
    (lambda t: tg.sum(tg.tensor(1.0), axis=0), "sum", 0, 0),
    (lambda t: tg.max(tg.tensor(1.0), axis=-1), "max", -1, 0),
])
def test_out_of_range_axes_raise_an_axis_error(call: Callable[[Any], Any], name: str,
                                               axis: int, ndim: int) -> None:
    with pytest.raises(AxisError) as info:
        call(tg.ones((2, 3)))
    err = info.value
    assert str(err).startswith(f"{name}: axis {axis} is out of range for a {ndim}-d tensor")
    assert (err.axis, err.ndim) == (axis, ndim)
    # caught as numpy code would catch numpy's, and as tensorgraph code catches ShapeError
    assert isinstance(err, np.exceptions.AxisError)
    assert isinstance(err, IndexError) and isinstance(err, ValueError)


@pytest.mark.parametrize("call", [
    lambda t: tg.softmax(t, axis=None), lambda t: tg.log_softmax(t, axis=None),
    lambda t: tg.stack([t, t], axis=None), lambda t: tg.split(t, 1, axis=None),
    lambda t: tg.swapaxes(t, None, 0), lambda t: tg.expand_dims(t, None),
])
def test_axis_none_where_it_means_nothing_is_refused(call: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError, match="axis must be"):
        call(tg.ones((2, 3)))


def test_axis_none_where_numpy_gives_it_a_meaning() -> None:
    a, b = np.arange(4.0).reshape(2, 2), np.arange(3.0)
    out = tg.concatenate([tg.tensor(a), tg.tensor(b)], axis=None)
    np.testing.assert_array_equal(out.numpy(), np.concatenate([a, b], axis=None))
    assert tg.sum(tg.tensor(a), axis=None).item() == a.sum()


# --------------------------------------------------------------------------- sizes
@pytest.mark.parametrize(("call", "name"), [
    (lambda: tg.zeros(2.0), "zeros"), (lambda: tg.ones((2, 2.5)), "ones"),
    (lambda: tg.full(2.0, 1.0), "full"), (lambda: tg.eye(2.0), "eye"),
    (lambda: tg.rand(2.0), "rand"), (lambda: tg.randn(2, 1.5), "randn"),
    (lambda: tg.ones((2, 3)).reshape(2.5, 2), "reshape"),
    (lambda: tg.ones((2, 3)).reshape(3.0, 2), "reshape"),
    (lambda: tg.broadcast_to(tg.ones(3), (2.0, 3)), "broadcast_to"),
    (lambda: tg.split(tg.ones(4), 2.0), "split"),
    (lambda: tg.transpose(tg.ones((2, 3)), (1.0, 0)), "transpose"),
    (lambda: tg.pad(tg.ones(2), 1.5), "pad"),
])
def test_float_sizes_are_refused_never_truncated(call: Callable[[], Any], name: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name}: "):
        call()


def test_integral_numpy_sizes_are_fine() -> None:
    assert tg.zeros(np.int64(2)).shape == (2,)
    assert tg.ones((np.int32(2), 3)).reshape(np.int64(3), 2).shape == (3, 2)
    assert tg.broadcast_to(tg.ones(3), (np.int64(2), 3)).shape == (2, 3)
    assert tg.eye(np.int64(2)).shape == (2, 2)
    with pytest.raises(ShapeError, match="zeros: the shape must be non-negative ints"):
        tg.zeros(-1)


# --------------------------------------------------------------------------- clip
def test_clip_with_tensor_bounds_matches_torch_clamp() -> None:
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    lo = np.array([-1.0, -1.0, -1.0, -1.0, -1.0, 4.0])  # the last: a_min > a_max
    hi = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 2.0])
    out = tg.clip(tg.tensor(x), tg.tensor(lo), tg.tensor(hi))
    np.testing.assert_array_equal(out.numpy(), np.clip(x, lo, hi))
    (gx, glo, ghi), hessian = derivatives(lambda *t: (tg.clip(*t) * np.arange(6.0)).sum(),
                                          x, lo, hi)
    w = np.arange(6.0)  # ties pass to x; the bound that wins gets the rest
    assert_same([gx, glo, ghi], [w * [0, 1, 1, 1, 0, 0], w * [1, 0, 0, 0, 0, 0],
                                 w * [0, 0, 0, 0, 1, 1]])
    np.testing.assert_array_equal(hessian, 0.0)
    if torch is not None:
        t_grads, _ = torch_derivatives(
            lambda *t: (torch.clamp(*t) * torch.arange(6.0, dtype=torch.float64)).sum(),
            x, lo, hi)
        assert_same([gx, glo, ghi], t_grads)


def test_clip_with_array_bounds_broadcasts_like_numpy() -> None:
    a = np.linspace(-3, 3, 12).reshape(3, 4)
    lo, hi = np.array([-1.0, 0.0, -2.0, 5.0]), np.array([[1.0], [2.0], [0.5]])
    for bounds in [(lo, hi), (lo, None), (None, hi), (-1.0, hi), (3.0, 1.0), ([0.0] * 4, 2.0)]:
        out = tg.clip(tg.tensor(a), *bounds)
        np.testing.assert_array_equal(out.numpy(), np.clip(a, *bounds))
    assert gradgradcheck(lambda t, b: tg.clip(t, b, 2.5), a + 0.05, lo[None, :] * 0.9)
    with pytest.raises(ShapeError, match=r"clip: shapes \(3, 4\), \(3,\)"):
        tg.clip(tg.tensor(a), np.zeros(3), None)
    with pytest.raises(DTypeError, match="clip: "):
        tg.clip(tg.ones(4), np.zeros(4), None)  # float32 with a float64 bound


def test_clip_with_a_min_above_a_max_gives_a_max_as_numpy() -> None:
    x = tg.tensor([0.0, 5.0, 10.0], dtype=F64, requires_grad=True)
    out = tg.clip(x, 4.0, 2.0)
    np.testing.assert_array_equal(out.numpy(), np.clip([0.0, 5.0, 10.0], 4.0, 2.0))
    out.sum().backward()
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)


def test_clip_propagates_nan_from_x_and_from_a_bound() -> None:
    x = np.array([np.nan, 1.0, 1.0])
    lo = np.array([0.0, np.nan, 0.0])
    np.testing.assert_array_equal(tg.clip(tg.tensor(x), lo, 2.0).numpy(), np.clip(x, lo, 2.0))


# --------------------------------------------------------------------------- operands
@pytest.mark.parametrize(("call", "name"), [
    (lambda x: x + None, "add"), (lambda x: None + x, "add"),
    (lambda x: tg.add(x, None), "add"), (lambda x: x * "a", "multiply"),
    (lambda x: tg.exp(None), "exp"), (lambda x: tg.where(x > 0, x, None), "where"),
    (lambda x: tg.add(x, [1.0, None, 2.0]), "add"), (lambda x: tg.maximum(x, None), "maximum"),
    (lambda x: x ** None, "power"), (lambda x: tg.sum(None), "sum"),
    (lambda x: tg.leaky_relu(x, None), "leaky_relu"), (lambda x: tg.clip(x, "0", 1), "clip"),
    (lambda x: x - [[1.0], [1.0, 2.0]], "subtract"),
])
def test_none_and_other_non_numbers_are_refused_naming_the_op(call: Callable[[Any], Any],
                                                               name: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name}: operand \d is "):
        call(tg.ones(3))


def test_parameters_lists_and_numpy_scalars_still_pass() -> None:
    p = tg.nn.Parameter(np.ones(3, dtype=np.float32))
    assert (tg.ones(3) + p).shape == (3,)
    assert tg.add(tg.ones(3), [1.0, 2.0, 3.0]).numpy().tolist() == [2.0, 3.0, 4.0]
    assert (tg.ones(3) * np.float16(2)).numpy().tolist() == [2.0, 2.0, 2.0]
    assert tg.where([True, False, True], tg.ones(3), 0.0).numpy().tolist() == [1.0, 0.0, 1.0]


# --------------------------------------------------------------------------- numpy's API
@pytest.mark.parametrize(("call", "message"), [
    (lambda t: np.sum(t, axis=0, dtype=np.float32), "numpy.sum: the argument dtype="),
    (lambda t: np.sum(t, 0, np.float32), "numpy.sum: the argument dtype="),
    (lambda t: np.sum(t, out=np.zeros(3)), "numpy.sum: the argument out="),
    (lambda t: np.sum(t, where=np.ones((2, 3), bool)), "numpy.sum: the argument where="),
    (lambda t: np.mean(t, where=np.ones((2, 3), bool)), "numpy.mean: the argument where="),
    (lambda t: np.max(t, initial=10.0), "numpy.max: the argument initial="),
    (lambda t: np.prod(t, initial=2.0), "numpy.prod: the argument initial="),
    (lambda t: np.var(t, mean=np.zeros(3)), "numpy.var: the argument mean="),
    (lambda t: np.concatenate([t, t], dtype=np.float32), "numpy.concatenate: the argument"),
    (lambda t: np.stack([t, t], out=np.zeros((2, 2, 3))), "numpy.stack: the argument out="),
    (lambda t: np.reshape(t, (3, 2), order="F"), "numpy.reshape: order='F'"),
    (lambda t: np.clip(t, 0, 1, out=np.zeros((2, 3))), "numpy.clip: the argument out="),
    (lambda t: np.pad(t, 1, stat_length=2), "numpy.pad: the argument"),
    (lambda t: np.where(t > 0), "numpy.where: only the three-argument form"),
])
def test_numpy_functions_refuse_arguments_they_cannot_honour(call: Callable[[Any], Any],
                                                             message: str) -> None:
    with pytest.raises(TypeError, match=message.replace("(", r"\(")):
        call(tg.tensor(np.arange(6.0).reshape(2, 3), dtype=F64))


def test_numpy_functions_place_positional_arguments_as_numpy_does() -> None:
    a = np.array([[1.0, 2.0, 4.0], [3.0, 0.5, 1.0]])
    t = tg.tensor(a)
    np.testing.assert_allclose(np.var(t, 0, None, None, 1).numpy(), np.var(a, 0, None, None, 1))
    np.testing.assert_allclose(np.var(t, axis=1, correction=1).numpy(), np.var(a, 1, ddof=1))
    np.testing.assert_allclose(np.sum(t, 1, None, None, True).numpy(), a.sum(1, keepdims=True))
    np.testing.assert_allclose(np.sum(t, dtype=np.float64).numpy(), a.sum())  # its own dtype
    np.testing.assert_allclose(np.clip(t, min=1.0, max=2.0).numpy(), np.clip(a, 1.0, 2.0))
    assert np.size(t, 1) == 3 and np.size(t) == 6
    pieces = np.array_split(t, 2, axis=1)
    assert [p.shape for p in pieces] == [(2, 2), (2, 1)]


def test_keepdims_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="sum: keepdims must be a bool, got str"):
        tg.sum(tg.ones(3), keepdims="no")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- other edges
def test_getitem_with_repeated_indices_and_fan_in_accumulates() -> None:
    a = np.arange(6.0).reshape(2, 3)
    index = np.array([0, 0, 1, 0])

    def f(t: Any) -> Any:
        return (t[index] * 2 + t[index] ** 2).sum() + t[-1, -1] * 3

    (grad,), hessian = derivatives(f, a)
    counts = np.bincount(index, minlength=2)[:, None]
    expected = counts * (2 + 2 * a)
    expected[-1, -1] += 3
    assert_same([grad, np.diag(hessian)], [expected, (2 * counts * np.ones((2, 3))).ravel()])
    if torch is not None:
        (t_grad,), t_hessian = torch_derivatives(
            lambda t: (t[index] * 2 + t[index] ** 2).sum() + t[-1, -1] * 3, a)
        assert_same([grad, hessian], [t_grad, t_hessian])


@pytest.mark.parametrize("name", ["softmax", "prod", "clip", "var", "power", "max"])
def test_read_only_non_contiguous_inputs_give_the_contiguous_answers(name: str) -> None:
    base = np.random.default_rng(1).uniform(0.5, 2.0, size=(3, 8))
    strided = base[:, ::2]
    strided.flags.writeable = False
    calls: dict[str, Callable[[Any], Any]] = {
        "softmax": lambda t: tg.softmax(t, axis=0), "prod": lambda t: tg.prod(t, axis=1),
        "clip": lambda t: tg.clip(t, 0.8, 1.5), "var": lambda t: tg.var(t, 0, ddof=0.5),
        "power": lambda t: t ** tg.tensor(strided), "max": lambda t: tg.max(t, axis=-1),
    }
    results = []
    for data in (strided, np.ascontiguousarray(strided)):
        x = tg.tensor(data, requires_grad=True)
        calls[name](x).sum().backward()
        assert x.grad is not None
        results.append(x.grad.numpy())
    np.testing.assert_array_equal(results[0], results[1])
    assert not strided.flags.writeable and np.array_equal(strided, base[:, ::2])
