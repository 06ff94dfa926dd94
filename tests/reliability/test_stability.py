"""Numerical stability at extreme inputs (|x| up to 1e4) in float32 and float64.

Every forward value and gradient is finite where the mathematical one is, no overflow or
invalid operation happens inside (numpy's error state is set to raise), and values agree
with a reference computed independently in extended precision (``np.longdouble``, whose
range holds ``exp(1e4)``), rounded to the tested dtype.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.nn import functional as F

LD = np.longdouble
if np.finfo(LD).maxexp < 16384:  # pragma: no cover - platforms without 80-bit long double
    pytest.skip("needs an extended-precision long double for the reference",
                allow_module_level=True)

EXTREMES = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4])
DTYPES = [np.float32, np.float64]
#: relative tolerance per dtype for values computed through a few roundings
RTOL = {np.float32: 2e-6, np.float64: 1e-14}


@contextmanager
def strict() -> Iterator[None]:
    """Overflow, invalid operations and division by zero inside tensorgraph raise."""
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        yield


def leaf(values: Any, dtype: Any) -> tg.Tensor:
    return tg.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def close(actual: Any, expected: Any, dtype: Any, scale: Any = 0.0) -> None:
    """``actual`` has ``dtype``, is finite, and is within ``RTOL`` of ``expected`` plus a few
    ulps of ``scale``: the size of the terms that cancel in an accurate formula (1 for a
    probability-like value, the logit for a loss that subtracts it), where only absolute
    accuracy can be asked of any floating-point formula."""
    actual = np.asarray(actual)
    assert actual.dtype == dtype
    assert np.isfinite(actual).all()
    info = np.finfo(dtype)
    exp = np.asarray(expected, dtype=LD)
    tol = RTOL[dtype] * np.abs(exp) + 4 * float(info.eps) * np.asarray(scale) + float(info.tiny)
    err = np.abs(actual.astype(LD) - exp)
    bad = err > tol
    assert not bad.any(), (
        f"mismatch at {np.argwhere(bad).tolist()}: actual {actual[bad]}, expected "
        f"{exp[bad].astype(np.float64)}, tolerance {np.broadcast_to(tol, bad.shape)[bad]}"
    )


def ld_sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x.astype(LD)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid(dtype: Any) -> None:
    x = leaf(EXTREMES, dtype)
    with strict():
        y = tg.sigmoid(x)
        y.backward(np.ones(x.shape, dtype))
    s = ld_sigmoid(EXTREMES)
    close(y.numpy(), s, dtype)
    # s(1 - s) near s = 1 is only absolutely accurate (as in PyTorch): a few ulps of 1/4
    close(x.grad.numpy(), s * (1 - s), dtype, scale=0.25)  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus(dtype: Any) -> None:
    x = leaf(EXTREMES, dtype)
    with strict():
        y = tg.softplus(x)
        y.backward(np.ones(x.shape, dtype))
    close(y.numpy(), np.log1p(np.exp(EXTREMES.astype(LD))), dtype)
    close(x.grad.numpy(), ld_sigmoid(EXTREMES), dtype)  # type: ignore[union-attr]


ROWS = np.array([
    [1e4, 1e4 - 1.0, -1e4, 0.0],
    [-1e4, -1e4, -1e4 + 2.0, -1e4],
    [1e3, -1e3, 30.0, -30.0],
    [0.0, 0.0, 0.0, 0.0],
])


def ld_logsumexp(rows: np.ndarray) -> np.ndarray:
    return np.log(np.exp(rows.astype(LD)).sum(axis=1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp(dtype: Any) -> None:
    x = leaf(ROWS, dtype)
    g = np.array([1.0, -2.0, 0.5, 3.0], dtype)
    with strict():
        y = tg.logsumexp(x, axis=1)
        y.backward(g)
    lse = ld_logsumexp(ROWS)
    close(y.numpy(), lse, dtype)
    expected = g[:, None].astype(LD) * np.exp(ROWS.astype(LD) - lse[:, None])
    # exp(x - lse): an input of size |x| carries an absolute error of eps |x| into the exponent
    close(x.grad.numpy(), expected, dtype, scale=np.abs(expected) * np.abs(ROWS).max())  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax(dtype: Any, name: str) -> None:
    x = leaf(ROWS, dtype)
    g = np.random.default_rng(0).normal(size=ROWS.shape).astype(dtype)
    with strict():
        y = getattr(tg, name)(x, axis=1)
        y.backward(g)
    logp = ROWS.astype(LD) - ld_logsumexp(ROWS)[:, None]
    p = np.exp(logp)
    gl = g.astype(LD)
    if name == "softmax":
        close(y.numpy(), p, dtype)
        expected = p * (gl - (gl * p).sum(axis=1, keepdims=True))
    else:
        close(y.numpy(), logp, dtype)
        expected = gl - p * gl.sum(axis=1, keepdims=True)
    close(x.grad.numpy(), expected, dtype, scale=np.abs(g).max())  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits(dtype: Any) -> None:
    z = leaf(EXTREMES, dtype)
    y = np.resize(np.array([0.0, 1.0, 0.3]), EXTREMES.shape).astype(dtype)
    with strict():
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        loss.backward(np.ones(z.shape, dtype))
    zl, yl = EXTREMES.astype(LD), y.astype(LD)
    # -y log s(z) - (1 - y) log(1 - s(z)), written with log1p(exp(.)) in extended precision
    expected = yl * np.log1p(np.exp(-zl)) + (1 - yl) * np.log1p(np.exp(zl))
    # max(z, 0) - z y cancels terms of size |z|: absolute accuracy of a few ulps of |z|
    close(loss.numpy(), expected, dtype, scale=1 + np.abs(EXTREMES))
    close(z.grad.numpy(), ld_sigmoid(EXTREMES) - yl, dtype, scale=1.0)  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy(dtype: Any) -> None:
    z = leaf(ROWS, dtype)
    labels = np.array([2, 0, 1, 3])
    with strict():
        loss = F.cross_entropy(z, labels)
        loss.backward()
    logp = ROWS.astype(LD) - ld_logsumexp(ROWS)[:, None]
    rows = np.arange(len(labels))
    close(loss.numpy(), -logp[rows, labels].mean(), dtype)
    onehot = np.eye(ROWS.shape[1])[labels]
    expected = (np.exp(logp) - onehot) / len(labels)
    close(z.grad.numpy(), expected, dtype, scale=1.0)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- where
@pytest.mark.parametrize("dtype", DTYPES)
def test_where_gives_exact_zero_to_the_branch_not_taken_even_where_it_is_nan(dtype: Any) -> None:
    cond = np.array([True, False, True, False])
    a = leaf([1.0, np.nan, 2.0, np.inf], dtype)
    b = leaf([np.inf, 3.0, -np.inf, 4.0], dtype)
    g = np.array([np.nan, 5.0, np.inf, 6.0], dtype)  # even a bad cotangent where not taken
    out = tg.where(cond, a, b)
    out.backward(g)
    np.testing.assert_array_equal(out.numpy(), [1.0, 3.0, 2.0, 4.0])
    np.testing.assert_array_equal(a.grad.numpy(), np.where(cond, g, 0))  # type: ignore[union-attr]
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 5.0, 0.0, 6.0])  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_over_branches_that_are_nan_where_not_taken(dtype: Any) -> None:
    x = leaf([-1e4, -1.0, 0.25, 4.0, 1e4], dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        # sqrt and log of negatives are NaN in the forward, but only where not taken
        y = tg.where(x > 0, tg.sqrt(x) + tg.log(x), -x)
        y.sum().backward()
    xv = x.numpy().astype(LD)
    expected = np.where(xv > 0, 1 / (2 * np.sqrt(np.abs(xv))) + 1 / xv, -1.0)
    close(x.grad.numpy(), expected, dtype)  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_with_an_overflowing_branch_needs_the_documented_double_where(dtype: Any) -> None:
    # exp(1e4) is inf in the untaken branch; its VJP would compute 0 * inf = NaN, so the
    # documented pattern guards the argument too (docs/reliability.md, "where")
    xs = np.array([-1e4, 0.0, 20.0, 1e4])
    x = leaf(xs, dtype)
    with strict():
        safe = tg.where(x < 50, x, 0.0)
        y = tg.where(x < 50, tg.exp(safe), 1.0)
        y.sum().backward()
    expected = np.where(xs < 50, np.exp(np.minimum(xs, 50).astype(LD)), 0)
    close(x.grad.numpy(), expected, dtype)  # type: ignore[union-attr]


# --------------------------------------------------------------------------- kinks at 0
@pytest.mark.parametrize("dtype", DTYPES)
def test_sqrt_and_abs_have_finite_documented_subgradients_at_zero(dtype: Any) -> None:
    x = leaf([0.0, 0.0, 1e4, -1e4], dtype)
    with strict():
        (tg.sqrt(tg.abs(x))).sum().backward()
    # sqrt'(0) = 0 and abs'(0) = 0 by convention; elsewhere sign(x) / (2 sqrt|x|)
    close(x.grad.numpy(), [0.0, 0.0, 0.005, -0.005], dtype)  # type: ignore[union-attr]
    y = leaf([0.0, 2.0, -3.0], dtype)
    tg.abs(y).backward(np.ones(3, dtype))
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 1.0, -1.0])  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", DTYPES)
def test_norm_like_expressions_at_zero_have_gradient_zero(dtype: Any) -> None:
    x = leaf(np.zeros(3), dtype)
    with strict():
        norm = tg.sqrt((x * x).sum())
        norm.backward()
    assert norm.item() == 0.0
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3, dtype))  # type: ignore[union-attr]
    w = leaf([3.0, -4.0, 0.0], dtype)
    with strict():
        tg.sqrt((w * w).sum()).backward()
    close(w.grad.numpy(), [0.6, -0.8, 0.0], dtype)  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_and_max_at_ties(dtype: Any) -> None:
    x = leaf([0.0, 1e4, -1e4], dtype)
    tg.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])  # type: ignore[union-attr]
    m = leaf([1e4, 1e4, -1e4], dtype)
    tg.max(m).backward()
    np.testing.assert_array_equal(m.grad.numpy(), [0.5, 0.5, 0.0])  # type: ignore[union-attr]
