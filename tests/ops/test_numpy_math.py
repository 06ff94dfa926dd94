"""numpy's elementwise math on tensors: values equal numpy's, gradients PyTorch's (float64).

First and second derivatives are compared with torch when it is importable (CI installs it);
without torch the same cases are checked against central differences, so nothing here skips.
The documented conventions (cbrt'(0), hypot and arctan2 at the origin, zero gradients of the
step functions and of floor_divide, NaN in fmax/fmin, negative divisors in remainder/fmod,
sinc's derivatives at 0, the replaced elements of nan_to_num) are pinned by value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

RNG = np.random.default_rng(12)

#: name -> (torch function name, or None where torch has none; low; high)
UNARY: dict[str, tuple[str | None, float, float]] = {
    "square": ("square", -3, 3), "reciprocal": ("reciprocal", 0.5, 3),
    "expm1": ("expm1", -3, 3), "log2": ("log2", 0.2, 4), "log10": ("log10", 0.2, 4),
    "exp2": ("exp2", -3, 3), "cbrt": (None, 0.3, 3), "tan": ("tan", -1.2, 1.2),
    "arcsin": ("asin", -0.9, 0.9), "arccos": ("acos", -0.9, 0.9), "arctan": ("atan", -3, 3),
    "sinh": ("sinh", -3, 3), "cosh": ("cosh", -3, 3), "arcsinh": ("asinh", -3, 3),
    "arccosh": ("acosh", 1.2, 4), "arctanh": ("atanh", -0.9, 0.9),
    "sign": ("sign", -3, 3), "floor": ("floor", -3, 3), "ceil": ("ceil", -3, 3),
    "trunc": ("trunc", -3, 3), "round": ("round", -3, 3),
    "sinc": ("sinc", -3, 3), "deg2rad": ("deg2rad", -3, 3), "rad2deg": ("rad2deg", -3, 3),
}  # fmt: skip

STEPS = ("sign", "floor", "ceil", "trunc", "round", "floor_divide")

#: name -> (torch function name, x range, y range)
BINARY: dict[str, tuple[str, tuple[float, float], tuple[float, float]]] = {
    "logaddexp": ("logaddexp", (-3, 3), (-3, 3)),
    "logaddexp2": ("logaddexp2", (-3, 3), (-3, 3)),
    "arctan2": ("atan2", (-3, 3), (0.3, 3)), "hypot": ("hypot", (-3, 3), (0.3, 3)),
    "fmax": ("fmax", (-3, 3), (-3, 3)), "fmin": ("fmin", (-3, 3), (-3, 3)),
    "remainder": ("remainder", (-5, 5), (-2, 2)), "fmod": ("fmod", (-5, 5), (-2, 2)),
    "floor_divide": ("floor_divide", (-5, 5), (-2, 2)),
}  # fmt: skip


TORCH_BINARY = {"logaddexp", "logaddexp2", "arctan2", "hypot", "fmax", "fmin", "remainder", "fmod"}


def _first_and_second(f: Callable[..., Any], arrays: list[np.ndarray], upstream: np.ndarray,
                      direction: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """tensorgraph's gradients of ``<upstream, f(x)>`` and of ``<direction, grad_0>``."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    first = tg.gradients((f(*xs) * upstream).sum(), xs, create_graph=True)
    if not first[0].requires_grad:  # a constant gradient (floor, sign, ...): no second order
        return [g.numpy() for g in first], [np.zeros_like(a) for a in arrays]
    second = tg.gradients((first[0] * direction).sum(), xs, allow_unused=True)
    return ([g.detach().numpy() for g in first],
            [np.zeros_like(a) if g is None else g.detach().numpy()
             for g, a in zip(second, arrays)])


def _torch_first_and_second(f: Callable[..., Any], arrays: list[np.ndarray],
                            upstream: np.ndarray, direction: np.ndarray
                            ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    assert torch is not None
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    first = torch.autograd.grad((f(*xs) * torch.tensor(upstream)).sum(), xs, create_graph=True)
    if first[0].requires_grad:
        second = torch.autograd.grad((first[0] * torch.tensor(direction)).sum(), xs,
                                     allow_unused=True)
    else:  # a zero gradient (floor, sign, ...) that torch does not differentiate further
        second = (None,) * len(xs)
    return ([g.detach().numpy() for g in first],
            [np.zeros_like(a) if g is None else g.detach().numpy()
             for g, a in zip(second, arrays)])


def _compare(name: str, tg_fn: Callable[..., Any], torch_fn: Callable[..., Any] | None,
             arrays: list[np.ndarray]) -> None:
    out = tg_fn(*[tg.tensor(a) for a in arrays])
    np.testing.assert_array_equal(out.numpy(), getattr(np, name)(*arrays))
    upstream = RNG.standard_normal(out.shape)
    direction = RNG.standard_normal(out.shape)
    first, second = _first_and_second(tg_fn, arrays, upstream, direction)
    if torch is not None and torch_fn is not None:
        t_first, t_second = _torch_first_and_second(torch_fn, arrays, upstream, direction)
        for ours, theirs in zip(first + second, t_first + t_second):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    elif name in STEPS:  # no torch: the jumps are drawn on purpose, so no finite differences
        for g, a in zip(first, arrays):
            np.testing.assert_array_equal(g, np.zeros_like(a))
    else:  # no torch (or no torch function): central differences, first and second order
        assert gradcheck(tg_fn, *arrays)
        assert gradgradcheck(tg_fn, *arrays)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_are_numpys_and_gradients_torchs(name: str) -> None:
    torch_name, low, high = UNARY[name]
    x = RNG.uniform(low, high, (3, 4))
    if name in STEPS:
        x[0, :3] = [0.0, 1.0, -0.5]  # the jumps, where the gradient is 0 too
    torch_fn = getattr(torch, torch_name) if torch is not None and torch_name else None
    _compare(name, getattr(tg, name), torch_fn, [x])
    # plain numpy on a tensor reaches the same op
    t = tg.tensor(x, requires_grad=True)
    routed = getattr(np, name if name != "round" else "rint")(t)
    assert isinstance(routed, tg.Tensor) and routed.requires_grad


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_are_numpys_and_gradients_torchs(name: str) -> None:
    torch_name, (xl, xh), (yl, yh) = BINARY[name]
    x = RNG.uniform(xl, xh, (3, 4))
    y = RNG.uniform(yl, yh, (4,))
    if name in ("remainder", "fmod", "floor_divide"):  # divisors of both signs, away from 0
        y = np.array([-1.7, -0.6, 0.8, 1.9])
    if name in ("arctan2", "hypot"):  # the second argument of both signs, away from the origin
        y = y * np.array([1.0, -1.0, 1.0, -1.0])
    # torch refuses to differentiate floor_divide: its zero gradient is pinned without it
    torch_fn = getattr(torch, torch_name) if torch is not None and name in TORCH_BINARY else None
    _compare(name, getattr(tg, name), torch_fn, [x, y])
    t = tg.tensor(x, requires_grad=True)
    routed = getattr(np, name)(t, y)
    assert isinstance(routed, tg.Tensor) and routed.requires_grad


def test_cbrt_is_real_and_its_derivative_at_zero_is_zero() -> None:
    x = tg.tensor(np.array([-8.0, 0.0, 1e-300, 27.0]), requires_grad=True)
    tg.cbrt(x).sum().backward()
    np.testing.assert_allclose(tg.cbrt(x).detach().numpy(), [-2.0, 0.0, 1e-100, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [1 / 12, 0.0, 1 / 3e-200, 1 / 27])


@pytest.mark.parametrize("name", ["hypot", "arctan2"])
def test_hypot_and_arctan2_give_gradient_zero_at_the_origin(name: str) -> None:
    x = tg.tensor(np.array([0.0, 3.0]), requires_grad=True)
    y = tg.tensor(np.array([0.0, 4.0]), requires_grad=True)
    gx, gy = tg.gradients(getattr(tg, name)(x, y).sum(), [x, y], create_graph=True)
    assert gx.numpy()[0] == 0.0 and gy.numpy()[0] == 0.0
    assert np.all(np.isfinite(tg.gradients((gx + gy).sum(), [x, y])[0].numpy()))


def test_fmax_and_fmin_follow_numpy_with_nan_and_share_ties() -> None:
    x = tg.tensor(np.array([np.nan, 1.0, np.nan, 2.0]), requires_grad=True)
    y = tg.tensor(np.array([1.0, np.nan, np.nan, 2.0]), requires_grad=True)
    for fn, npfn in ((tg.fmax, np.fmax), (tg.fmin, np.fmin)):
        out = fn(x, y)
        np.testing.assert_array_equal(out.detach().numpy(),
                                      npfn(x.detach().numpy(), y.detach().numpy()))
        gx, gy = tg.gradients(out.sum(), [x, y])
        # the non-NaN operand wins; both NaN: x; a tie is shared (maximum's rule)
        np.testing.assert_array_equal(gx.numpy(), [0.0, 1.0, 1.0, 0.5])
        np.testing.assert_array_equal(gy.numpy(), [1.0, 0.0, 0.0, 0.5])


def test_modulo_operator_is_remainder_with_pytorch_gradients() -> None:
    a = np.array([5.0, -5.0, 5.5, -0.5])
    x = tg.tensor(a, requires_grad=True)
    y = tg.tensor(np.array([3.0, 3.0, -2.0, -2.0]), requires_grad=True)
    out = x % y
    np.testing.assert_array_equal(out.detach().numpy(), np.remainder(a, y.detach().numpy()))
    np.testing.assert_array_equal((7.0 % x).detach().numpy(), np.remainder(7.0, a))
    gx, gy = tg.gradients(out.sum(), [x, y])
    np.testing.assert_array_equal(gx.numpy(), [1.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(gy.numpy(), [-1.0, 2.0, 3.0, -0.0])
    gx, gy = tg.gradients(tg.fmod(x, y).sum(), [x, y])
    np.testing.assert_array_equal(gy.numpy(), [-1.0, 1.0, 2.0, 0.0])


def test_step_functions_keep_the_graph_with_zero_gradient() -> None:
    x = tg.tensor(np.array([-1.5, 0.0, 0.5, 2.5]), requires_grad=True)
    for fn in (tg.sign, tg.floor, tg.ceil, tg.trunc, tg.round):
        x.grad = None
        (fn(x) * x).sum().backward()  # d/dx (step(x) * x) = step(x)
        np.testing.assert_array_equal(x.grad.numpy(), fn(x).detach().numpy())
    np.testing.assert_array_equal(np.round(x, 1).detach().numpy(), [-1.5, 0.0, 0.5, 2.5])
    np.testing.assert_array_equal(tg.round(tg.tensor(np.array([2.26, 0.5])), 1).numpy(),
                                  np.round(np.array([2.26, 0.5]), 1))
    with pytest.raises(TypeError, match="round: decimals"):
        tg.round(x, 1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted({*UNARY, *BINARY}))
def test_float32_inputs_give_float32_results_and_gradients(name: str) -> None:
    low, high = (UNARY[name][1:] if name in UNARY else BINARY[name][1])
    arrays = [RNG.uniform(low, high, (2, 3)).astype(np.float32)]
    if name in BINARY:
        arrays.append(RNG.uniform(*BINARY[name][2], (3,)).astype(np.float32) + 0.5)
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = getattr(tg, name)(*xs)
    assert out.dtype == np.float32
    first = tg.gradients(out.sum(), xs, create_graph=True)
    assert all(g.dtype == np.float32 for g in first)
    if first[0].requires_grad:  # the step functions' gradient is a constant 0
        second = tg.gradients(first[0].sum(), xs, allow_unused=True)
        assert all(g is None or g.dtype == np.float32 for g in second)


def test_sinc_is_exact_at_zero_to_second_order() -> None:
    x = tg.tensor(np.array([0.0, 1e-8, -1e-3, 0.5, 1.0, -2.0]), requires_grad=True)
    out = tg.sinc(x)
    np.testing.assert_array_equal(out.detach().numpy(), np.sinc(x.detach().numpy()))
    (first,) = tg.gradients(out.sum(), [x], create_graph=True)
    (second,) = tg.gradients(first.sum(), [x], create_graph=True)
    (third,) = tg.gradients(second.sum(), [x])
    a = x.detach().numpy()
    # first derivative (cos(pi x) - sinc x) / x, 0 at 0; second -pi^2/3 at 0; third 0 at 0
    slope = np.where(a == 0, 0.0, (np.cos(np.pi * a) - np.sinc(a)) / np.where(a == 0, 1, a))
    np.testing.assert_allclose(first.detach().numpy()[3:], slope[3:], rtol=1e-13)
    assert first.detach().numpy()[0] == 0.0
    np.testing.assert_allclose(first.detach().numpy()[1:3], -np.pi**2 / 3 * a[1:3], rtol=1e-6)
    np.testing.assert_allclose(second.detach().numpy()[0], -math.pi**2 / 3, rtol=1e-15)
    np.testing.assert_allclose(second.detach().numpy()[1], -math.pi**2 / 3, rtol=1e-12)
    assert abs(third.numpy()[0]) < 1e-12
    if torch is not None:  # torch's second derivative at 0 is NaN; elsewhere they agree
        tx = torch.tensor(a, requires_grad=True)
        (tf,) = torch.autograd.grad(torch.sinc(tx).sum(), tx, create_graph=True)
        (ts,) = torch.autograd.grad(tf.sum(), tx)
        assert np.isnan(ts.numpy()[0])
        np.testing.assert_allclose(second.detach().numpy()[3:], ts.numpy()[3:], rtol=1e-12)
    else:
        assert gradgradcheck(tg.sinc, a)


def test_sinc_derivatives_are_continuous_where_the_series_takes_over() -> None:
    # |x| < 1/4 uses the Taylor series, beyond it the closed form: both agree at the seam
    a = np.array([0.25 - 1e-12, 0.25, -0.25 + 1e-12, -0.25])
    x = tg.tensor(a, requires_grad=True)
    (first,) = tg.gradients(tg.sinc(x).sum(), [x], create_graph=True)
    (second,) = tg.gradients(first.sum(), [x])
    f, s = first.detach().numpy(), second.numpy()
    np.testing.assert_allclose(f[0], f[1], rtol=1e-11)
    np.testing.assert_allclose(s[0], s[1], rtol=1e-10)
    np.testing.assert_allclose(f[2], f[3], rtol=1e-11)
    assert gradcheck(tg.sinc, a) and gradgradcheck(tg.sinc, a)


def test_radians_and_degrees_route_to_deg2rad_and_rad2deg() -> None:
    a = np.array([-180.0, 0.0, 90.0, 360.0])
    x = tg.tensor(a, requires_grad=True)
    for fn, ref, slope in ((np.radians, np.deg2rad, np.pi / 180),
                           (np.degrees, np.rad2deg, 180 / np.pi)):
        out = fn(x)
        assert isinstance(out, tg.Tensor) and out.requires_grad
        np.testing.assert_array_equal(out.detach().numpy(), ref(a))
        (g,) = tg.gradients(out.sum(), [x])
        np.testing.assert_allclose(g.numpy(), np.full(4, slope), rtol=1e-15)
    np.testing.assert_allclose(tg.rad2deg(tg.deg2rad(x)).detach().numpy(), a, rtol=1e-15)


def test_nan_to_num_follows_numpy_and_gives_replaced_elements_gradient_zero() -> None:
    a = np.array([1.5, np.nan, np.inf, -np.inf, -2.0, 0.0])
    x = tg.tensor(a, requires_grad=True)
    for kwargs in ({}, {"nan": -1.0}, {"posinf": 9.0, "neginf": -9.0}, {"nan": 2, "posinf": 3}):
        out = np.nan_to_num(x, **kwargs)  # through numpy's own function
        assert isinstance(out, tg.Tensor)
        np.testing.assert_array_equal(out.detach().numpy(), np.nan_to_num(a, **kwargs))
        (g,) = tg.gradients(out.sum(), [x])
        np.testing.assert_array_equal(g.numpy(), [1.0, 0.0, 0.0, 0.0, 1.0, 1.0])
        if torch is not None:
            tx = torch.tensor(a, requires_grad=True)
            (t_grad,) = torch.autograd.grad(torch.nan_to_num(tx, **kwargs).sum(), tx)
            np.testing.assert_array_equal(g.numpy(), t_grad.numpy())
    assert gradgradcheck(lambda t: tg.nan_to_num(t) ** 2, np.array([1.5, -2.0, 0.5]))
    f32 = tg.nan_to_num(tg.tensor(np.array([np.inf], dtype=np.float32)))
    assert f32.dtype == np.float32 and f32.numpy()[0] == np.finfo(np.float32).max
    with pytest.raises(TypeError, match="copy=False"):
        np.nan_to_num(x, copy=False)
    with pytest.raises(TypeError, match="nan_to_num: posinf must be a real number"):
        tg.nan_to_num(x, posinf="big")  # type: ignore[arg-type]


def test_floor_divide_and_the_operator_have_zero_gradient_also_at_the_jumps() -> None:
    a = np.array([5.0, -5.0, 6.0, -0.5, 0.0, 7.5])
    b = np.array([3.0, 3.0, -2.0, -2.0, 2.0, 2.5])  # 6 / -2, 0 / 2 and 7.5 / 2.5: on a jump
    x = tg.tensor(a, requires_grad=True)
    y = tg.tensor(b, requires_grad=True)
    for out in (x // y, np.floor_divide(x, y), tg.floor_divide(x, y)):
        assert out.requires_grad and out.op_name == "floor_divide"
        np.testing.assert_array_equal(out.detach().numpy(), np.floor_divide(a, b))
        gx, gy = tg.gradients(out.sum(), [x, y])
        np.testing.assert_array_equal(gx.numpy(), np.zeros(6))
        np.testing.assert_array_equal(gy.numpy(), np.zeros(6))
    np.testing.assert_array_equal((7.0 // y).detach().numpy(), np.floor_divide(7.0, b))
    # the quotient in remainder's VJP, under create_graph: second order still exact
    gx, gy = tg.gradients((x % y).sum(), [x, y], create_graph=True)
    np.testing.assert_array_equal(gy.detach().numpy(), -np.floor_divide(a, b))
    (ggy,) = tg.gradients((gy * y).sum(), [y])
    np.testing.assert_array_equal(ggy.numpy(), -np.floor_divide(a, b))
