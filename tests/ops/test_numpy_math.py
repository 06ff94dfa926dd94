"""numpy's elementwise math on tensors: values equal numpy's, gradients PyTorch's (float64).

First and second derivatives are compared with torch when it is importable (CI installs it);
without torch the same cases are checked against central differences, so nothing here skips.
The documented conventions (cbrt'(0), hypot and arctan2 at the origin, zero gradients of the
step functions, NaN in fmax/fmin, negative divisors in remainder/fmod) are pinned by value.
"""

from __future__ import annotations

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
}  # fmt: skip

STEPS = ("sign", "floor", "ceil", "trunc", "round")

#: name -> (torch function name, x range, y range)
BINARY: dict[str, tuple[str, tuple[float, float], tuple[float, float]]] = {
    "logaddexp": ("logaddexp", (-3, 3), (-3, 3)),
    "logaddexp2": ("logaddexp2", (-3, 3), (-3, 3)),
    "arctan2": ("atan2", (-3, 3), (0.3, 3)), "hypot": ("hypot", (-3, 3), (0.3, 3)),
    "fmax": ("fmax", (-3, 3), (-3, 3)), "fmin": ("fmin", (-3, 3), (-3, 3)),
    "remainder": ("remainder", (-5, 5), (-2, 2)), "fmod": ("fmod", (-5, 5), (-2, 2)),
}  # fmt: skip


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
        np.testing.assert_array_equal(first[0], np.zeros_like(arrays[0]))
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
    if name in ("remainder", "fmod"):  # divisors of both signs, away from 0
        y = np.array([-1.7, -0.6, 0.8, 1.9])
    if name in ("arctan2", "hypot"):  # the second argument of both signs, away from the origin
        y = y * np.array([1.0, -1.0, 1.0, -1.0])
    torch_fn = getattr(torch, torch_name) if torch is not None else None
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
