"""numpy's reductions and scans on tensors: values equal numpy's, gradients PyTorch's (float64).

First and second derivatives are compared with torch where torch has the function (std,
cumsum, cumprod, diff, nansum, nanmean, logsumexp, amax - amin for ptp); without torch, or
where torch has no such function (average), against central differences, so nothing skips.
The edges are drawn on purpose: zeros (cumprod), zero spread (std), empty axes, ties (ptp,
amax), NaN (nansum, nanmean) and -inf (logsumexp).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import DomainError, ShapeError
from tensorgraph.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

RNG = np.random.default_rng(2026)


def _grads(f: Callable[..., Any], arrays: list[np.ndarray], upstream: np.ndarray,
           direction: list[np.ndarray]) -> list[np.ndarray]:
    """tensorgraph's gradient of ``<upstream, f(x)>`` and of ``<direction, that gradient>``."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    first = tg.gradients((f(*xs) * upstream).sum(), xs, create_graph=True)
    inner = sum(((g * d).sum() for g, d in zip(first, direction)), tg.tensor(0.0, np.float64))
    second = (tg.gradients(inner, xs, allow_unused=True) if inner.requires_grad
              else [None] * len(xs))
    return [g.detach().numpy() for g in first] + [
        np.zeros_like(a) if g is None else g.numpy() for g, a in zip(second, arrays)]


def _torch_grads(f: Callable[..., Any], arrays: list[np.ndarray], upstream: np.ndarray,
                 direction: list[np.ndarray]) -> list[np.ndarray]:
    assert torch is not None
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    first = torch.autograd.grad((f(*xs) * torch.tensor(upstream)).sum(), xs, create_graph=True)
    inner = sum((g * torch.tensor(d)).sum() for g, d in zip(first, direction))
    second = (torch.autograd.grad(inner, xs, allow_unused=True) if inner.requires_grad
              else [None] * len(xs))
    return [g.detach().numpy() for g in first] + [
        np.zeros_like(a) if g is None else g.numpy() for g, a in zip(second, arrays)]


def _check(f: Callable[..., Any], torch_f: Callable[..., Any] | None, *arrays: np.ndarray,
           rtol: float = 1e-10, ties: Callable[..., np.ndarray] | None = None) -> None:
    """First and second derivatives of ``f`` against torch's ``torch_f``, or, without torch,
    against finite differences; for a selection at ties (where finite differences mean
    nothing) against ``ties(x, upstream)``, the documented sharing rule written in numpy, and
    a second derivative of 0."""
    arrays_list = [np.asarray(a, dtype=np.float64) for a in arrays]
    out = f(*[tg.tensor(a) for a in arrays_list])
    upstream = RNG.standard_normal(out.shape)
    direction = [RNG.standard_normal(a.shape) for a in arrays_list]
    ours = _grads(f, arrays_list, upstream, direction)
    if torch is not None and torch_f is not None:
        theirs = _torch_grads(torch_f, arrays_list, upstream, direction)
        for k, (a, b) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=f"gradient {k}")
    elif ties is not None:
        np.testing.assert_allclose(ours[0], ties(arrays_list[0], upstream), rtol=1e-12)
        np.testing.assert_array_equal(ours[1], np.zeros_like(arrays_list[0]))
    else:
        assert gradcheck(f, *arrays_list)
        assert gradgradcheck(f, *arrays_list)


def _share(x: np.ndarray, upstream: np.ndarray, axis: Any, pick: Callable[..., Any]) -> Any:
    """The gradient of ``pick`` (np.max or np.min) over ``axis``: each slice's upstream
    gradient split equally among the elements equal to its extremum."""
    extreme = pick(x, axis=axis, keepdims=True)
    winners = x == extreme
    spread = np.expand_dims(upstream, axis) if axis is not None else upstream
    return np.where(winners, spread / winners.sum(axis=axis, keepdims=True), 0.0)


def _values(tg_out: Any, expected: Any) -> None:
    assert isinstance(tg_out, tg.Tensor)
    np.testing.assert_allclose(tg_out.detach().numpy(), expected, rtol=1e-13, atol=1e-15)
    assert tg_out.shape == np.shape(expected)


# --------------------------------------------------------------------------- std
@pytest.mark.parametrize(("axis", "ddof", "keepdims"), [
    (None, 0, False), (1, 1, False), (0, 0, True), ((0, 2), 1, False), (-1, 0.5, True)])
def test_std_is_numpys_with_torchs_gradients(axis: Any, ddof: float, keepdims: bool) -> None:
    a = RNG.standard_normal((3, 4, 2))
    _values(np.std(tg.tensor(a), axis=axis, ddof=ddof, keepdims=keepdims),
            np.std(a, axis=axis, ddof=ddof, keepdims=keepdims))
    dims = axis if axis is not None else (0, 1, 2)
    _check(lambda x: tg.std(x, axis, ddof, keepdims),
           lambda x: torch.std(x, dim=dims, correction=ddof, keepdim=keepdims), a)


def test_std_at_zero_spread_has_gradient_zero_as_torch() -> None:
    a = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0], [5.0, 5.0, 5.0]])
    x = tg.tensor(a, requires_grad=True)
    (g,) = tg.gradients(x.std(axis=1, ddof=1).sum(), [x])
    assert np.all(g.numpy()[[0, 2]] == 0.0) and np.all(np.isfinite(g.numpy()))
    if torch is not None:
        t = torch.tensor(a, requires_grad=True)
        (tgrad,) = torch.autograd.grad(torch.std(t, dim=1).sum(), t)
        np.testing.assert_allclose(g.numpy(), tgrad.numpy(), rtol=1e-12)
    # a single element per slice: the std is 0 whatever x is, so the gradient is 0
    (g1,) = tg.gradients(tg.std(tg.reshape(x, (9, 1)), axis=1).sum(), [x])
    np.testing.assert_array_equal(g1.numpy(), np.zeros((3, 3)))


def test_std_routes_from_numpy_with_correction_and_refuses_what_it_cannot_honour() -> None:
    a = RNG.standard_normal((4, 3))
    x = tg.tensor(a, requires_grad=True)
    _values(np.std(x, axis=0, correction=1), np.std(a, axis=0, correction=1))
    _values(x.std(0, 1), np.std(a, axis=0, ddof=1))
    with pytest.raises(TypeError, match=r"numpy\.std: the argument where="):
        np.std(x, where=np.ones((4, 3), bool) * False)
    with pytest.raises(ValueError, match="ddof and correction"):
        np.std(x, ddof=1, correction=1)
    with pytest.raises(TypeError, match="std: ddof must be a real number"):
        tg.std(x, ddof="1")  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="ddof must be finite"):
        tg.std(x, ddof=math.inf)


def test_std_of_an_empty_axis_is_nan_with_a_zero_gradient() -> None:
    x = tg.tensor(np.zeros((0, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "degrees of freedom <= 0"
        out = tg.std(x, axis=0)
        expected = np.std(np.zeros((0, 3)), axis=0)
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    (g,) = tg.gradients(out, [x], grad_outputs=np.ones(3))
    assert g.shape == (0, 3)


# --------------------------------------------------------------------------- scans
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_cumsum_is_numpys_with_torchs_gradients(axis: int | None) -> None:
    a = RNG.standard_normal((3, 4))
    _values(np.cumsum(tg.tensor(a), axis=axis), np.cumsum(a, axis=axis))
    _values(tg.tensor(a).cumsum(axis), np.cumsum(a, axis=axis))
    dim = 0 if axis is None else axis
    _check(lambda x: tg.cumsum(x, axis),
           lambda x: torch.cumsum(x.reshape(-1) if axis is None else x, dim=dim), a)


CUMPROD_CASES = {
    "no zero": np.array([[1.5, -0.5, 2.0, 0.7, -1.2]]),
    "one zero": np.array([[1.5, -0.5, 0.0, 0.7, -1.2]]),
    "zero first": np.array([[0.0, -0.5, 2.0, 0.7, -1.2]]),
    "zero last": np.array([[1.5, -0.5, 2.0, 0.7, 0.0]]),
    "two zeros": np.array([[2.0, 0.0, 3.0, 0.0, 5.0]]),
    "two zeros adjacent": np.array([[2.0, 0.0, 0.0, 3.0, 5.0]]),
    "three zeros": np.array([[0.0, 2.0, 0.0, 3.0, 0.0, 5.0]]),
    "all zeros": np.zeros((1, 4)),
    "rows differ": np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [4.0, 5.0, 6.0]]),
}


@pytest.mark.parametrize("case", sorted(CUMPROD_CASES))
def test_cumprod_gradients_are_exact_with_zeros_to_second_order(case: str) -> None:
    a = CUMPROD_CASES[case]
    for axis in (1, 0):
        _values(np.cumprod(tg.tensor(a), axis=axis), np.cumprod(a, axis=axis))
        _check(lambda x, axis=axis: tg.cumprod(x, axis),
               lambda x, axis=axis: torch.cumprod(x, dim=axis), a)
        # finite differences too: the torch-free check of the same claim
        assert gradcheck(lambda x, axis=axis: tg.cumprod(x, axis), a)
        assert gradgradcheck(lambda x, axis=axis: tg.cumprod(x, axis), a)


def test_cumprod_naive_vjp_would_be_wrong_at_zeros() -> None:
    # sum_{i >= k} g_i z_i / x_k divides 0 by 0 at a zero: the true gradient is finite
    a = np.array([2.0, 0.0, 3.0, 4.0])
    x = tg.tensor(a, requires_grad=True)
    (g,) = tg.gradients(tg.cumprod(x).sum(), [x])
    # d/dx_1 of 2 + 2 x1 + 2 x1 3 + 2 x1 3 4 = 2 + 6 + 24; the others see x1 = 0
    np.testing.assert_array_equal(g.numpy(), [1.0, 32.0, 0.0, 0.0])
    with np.errstate(all="ignore"):
        naive = np.cumsum((np.cumprod(a))[::-1])[::-1] / a
    assert not np.isfinite(naive[1])
    assert tg.tensor(a).cumprod().numpy().tolist() == [2.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(("n", "axis", "prepend", "append"), [
    (1, -1, None, None), (2, 0, None, None), (3, 1, None, None), (1, 1, 0.0, None),
    (2, 0, None, "row"), (1, -1, "col", 5.0), (5, 1, None, None)])
def test_diff_is_numpys_with_torchs_gradients(n: int, axis: int, prepend: Any,
                                              append: Any) -> None:
    a = RNG.standard_normal((3, 4))
    extra = {"row": RNG.standard_normal((1, 4)), "col": RNG.standard_normal((3, 2))}
    pre = extra.get(prepend, prepend) if isinstance(prepend, str) else prepend
    app = extra.get(append, append) if isinstance(append, str) else append
    kwargs = {k: v for k, v in (("prepend", pre), ("append", app)) if v is not None}
    _values(np.diff(tg.tensor(a), n=n, axis=axis, **kwargs), np.diff(a, n=n, axis=axis, **kwargs))

    def torch_diff(x: Any) -> Any:
        side = (*a.shape[:axis % 2], 1, *a.shape[axis % 2 + 1:])
        tk = {k: torch.as_tensor(np.full(side, v) if np.ndim(v) == 0 else v)
              for k, v in kwargs.items()}
        return torch.diff(x, n=n, dim=axis, **tk)

    _check(lambda x: tg.diff(x, n, axis, pre, app), torch_diff, a)


def test_diff_prepend_and_append_tensors_get_gradients() -> None:
    a, p = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 1))
    _check(lambda x, q: tg.diff(x, 2, axis=1, prepend=q, append=q),
           lambda x, q: torch.diff(x, n=2, dim=1, prepend=q, append=q), a, p)


def test_diff_edges_and_refusals() -> None:
    x = tg.tensor(np.array([1.0, 4.0]), requires_grad=True)
    assert np.diff(x, n=0) is x
    short = tg.diff(x, n=3)
    assert short.shape == (0,)
    (g,) = tg.gradients(short, [x], grad_outputs=np.zeros(0))
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])
    with pytest.raises(DomainError, match="diff: the order n must be non-negative"):
        tg.diff(x, n=-1)
    with pytest.raises(ShapeError, match="diff: needs an input of at least one dimension"):
        tg.diff(tg.tensor(1.0))
    with pytest.raises(TypeError, match=r"numpy\.diff: prepend=None"):
        np.diff(x, prepend=None)


# --------------------------------------------------------------------------- statistics
@pytest.mark.parametrize(("axis", "wshape", "keepdims"), [
    (None, (3, 4), False), (1, (4,), False), (0, (3,), True), (None, (3, 4), True),
    ((1, 0), (4, 3), False), (-1, (3, 4), False)])
def test_average_is_numpys_with_exact_gradients(axis: Any, wshape: tuple[int, ...],
                                                keepdims: bool) -> None:
    a = RNG.standard_normal((3, 4))
    w = RNG.uniform(0.5, 2.0, wshape)
    _values(np.average(tg.tensor(a), axis=axis, weights=tg.tensor(w), keepdims=keepdims),
            np.average(a, axis=axis, weights=w, keepdims=keepdims))
    avg, total = np.average(tg.tensor(a), axis=axis, weights=w, returned=True)
    e_avg, e_total = np.average(a, axis=axis, weights=w, returned=True)
    _values(avg, e_avg)
    _values(total, e_total)

    def torch_average(x: Any, v: Any) -> Any:  # torch has none: numpy's formula in torch
        dims = tuple(range(2)) if axis is None else axis
        if v.shape != x.shape:
            given = (axis,) if isinstance(axis, int) else axis
            order = np.argsort([d % 2 for d in given])
            v = v.permute(*order.tolist()) if v.ndim > 1 else v
            v = v.reshape([s if d in [g % 2 for g in given] else 1 for d, s in enumerate(x.shape)])
        v = v.expand(x.shape)
        return (x * v).sum(dims, keepdim=keepdims) / v.sum(dims, keepdim=keepdims)

    _check(lambda x, v: tg.average(x, axis, v, keepdims=keepdims), torch_average, a, w)
    assert gradcheck(lambda x, v: tg.average(x, axis, v, keepdims=keepdims), a, w)


def test_average_without_weights_is_the_mean_and_refuses_what_numpy_refuses() -> None:
    a = RNG.standard_normal((3, 4))
    x = tg.tensor(a, requires_grad=True)
    _values(np.average(x, axis=1), np.average(a, axis=1))
    avg, count = np.average(x, axis=0, returned=True)
    _values(avg, np.average(a, axis=0))
    np.testing.assert_array_equal(count.numpy(), np.average(a, axis=0, returned=True)[1])
    with pytest.raises(ZeroDivisionError, match="average: the weights sum to zero"):
        tg.average(x, axis=1, weights=np.array([1.0, -1.0, 0.0, 0.0]))
    with pytest.raises(ZeroDivisionError):
        tg.average(tg.tensor(np.zeros((0, 2))), axis=0, weights=np.zeros((0, 2)))
    with pytest.raises(TypeError, match="axis must be given"):
        tg.average(x, weights=np.ones(4))
    with pytest.raises(ShapeError, match=r"weights of shape \(3,\) do not fit"):
        tg.average(x, axis=1, weights=np.ones(3))
    w32 = tg.average(tg.tensor(a.astype(np.float32)), axis=1, weights=[1.0, 2.0, 3.0, 4.0])
    assert w32.dtype == np.float32  # a list of weights is weak, as in x * [1.0, 3.0]


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_ptp_is_max_minus_min_with_shared_ties(axis: Any) -> None:
    a = np.array([[3.0, 1.0, 3.0, 2.0], [0.5, 0.5, 4.0, 0.5], [1.0, 2.0, 3.0, 4.0]])
    _values(np.ptp(tg.tensor(a), axis=axis), np.ptp(a, axis=axis))
    _values(tg.ptp(tg.tensor(a), axis=axis, keepdims=True), np.ptp(a, axis=axis, keepdims=True))
    dims = (0, 1) if axis is None else axis
    _check(lambda x: tg.ptp(x, axis), lambda x: x.amax(dims) - x.amin(dims), a,
           ties=lambda x, up: _share(x, up, axis, np.max) - _share(x, up, axis, np.min))
    with pytest.raises(ShapeError, match="ptp: the peak to peak of an empty axis"):
        tg.ptp(tg.tensor(np.zeros((0, 2))), axis=0)
    with pytest.raises(TypeError, match=r"numpy\.ptp: the argument out="):
        np.ptp(tg.tensor(a), out=np.zeros(()))


def test_amax_and_amin_route_to_max_and_min_with_shared_ties() -> None:
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = tg.tensor(a, requires_grad=True)
    for fn, name in ((np.amax, "max"), (np.amin, "min")):
        out = fn(x, axis=1)
        assert out.op_name == name
        _values(out, fn(a, axis=1))
        _check(lambda t, fn=fn: fn(t, axis=1),
               lambda t, name=name: getattr(t, "a" + name)(1), a,
               ties=lambda x, up, name=name: _share(x, up, 1, getattr(np, name)))


NAN = np.array([[1.0, np.nan, 2.5, -1.0], [np.nan, np.nan, 0.5, 3.0], [2.0, 1.0, -2.0, 0.0]])


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
@pytest.mark.parametrize(("axis", "keepdims"), [(None, False), (0, False), (1, True)])
def test_nan_reductions_are_numpys_and_give_nan_entries_zero_gradient(
        name: str, axis: Any, keepdims: bool) -> None:
    _values(getattr(np, name)(tg.tensor(NAN), axis=axis, keepdims=keepdims),
            getattr(np, name)(NAN, axis=axis, keepdims=keepdims))
    x = tg.tensor(NAN, requires_grad=True)
    (g,) = tg.gradients(getattr(tg, name)(x, axis, keepdims).sum(), [x])
    assert np.all(g.numpy()[np.isnan(NAN)] == 0.0)
    dims = (0, 1) if axis is None else axis
    _check(lambda t: getattr(tg, name)(t, axis, keepdims),
           lambda t: getattr(torch, name)(t, dim=dims, keepdim=keepdims), NAN)


def test_nanmean_of_an_all_nan_slice_is_nan_with_gradient_zero() -> None:
    a = np.array([[np.nan, np.nan], [1.0, np.nan]])
    x = tg.tensor(a, requires_grad=True)
    out = tg.nanmean(x, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "Mean of empty slice"
        np.testing.assert_array_equal(out.detach().numpy(), np.nanmean(a, axis=1))
    (g,) = tg.gradients(out.sum(), [x])
    np.testing.assert_array_equal(g.numpy(), [[0.0, 0.0], [1.0, 0.0]])  # torch: NaN, NaN
    with pytest.raises(TypeError, match=r"numpy\.nansum: the argument where="):
        np.nansum(x, where=np.ones((2, 2), bool))


# --------------------------------------------------------------------------- logsumexp
#: scipy.special.logsumexp's results (scipy 1.17): an all -inf or empty row gives -inf,
#: a +inf entry +inf, -inf entries are ignored
LSE = np.array([[-np.inf, -np.inf, -np.inf], [-np.inf, 0.0, -np.inf], [np.inf, 0.0, -np.inf],
                [1000.0, 1000.0, -np.inf], [-1.0, 2.0, 0.5]])
LSE_SCIPY = np.array([-np.inf, 0.0, np.inf, 1000.0 + math.log(2.0),
                      2.0 + math.log(1 + math.exp(-3.0) + math.exp(-1.5))])


def test_logsumexp_handles_infinities_as_scipy() -> None:
    x = tg.tensor(LSE, requires_grad=True)
    out = tg.logsumexp(x, axis=1)  # no RuntimeWarning (an error in this suite)
    np.testing.assert_allclose(out.detach().numpy(), LSE_SCIPY, rtol=1e-15)
    empty = tg.logsumexp(tg.tensor(np.zeros((2, 0))), axis=1)
    np.testing.assert_array_equal(empty.numpy(), [-np.inf, -np.inf])
    (g,) = tg.gradients(out, [x], grad_outputs=np.ones(5), create_graph=True)
    got = g.detach().numpy()
    # -inf entries and every entry of an infinite row get 0 (torch: NaN in rows 0 and 2)
    np.testing.assert_array_equal(got[:3], np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0.0]]))
    np.testing.assert_allclose(got[3], [0.5, 0.5, 0.0], rtol=1e-12)  # z rounds near 1000
    (gg,) = tg.gradients((g * g).sum(), [x])
    assert np.all(np.isfinite(gg.numpy()))
    finite_rows = LSE[3:]
    _check(lambda t: tg.logsumexp(t, axis=1), lambda t: torch.logsumexp(t, dim=1), finite_rows)


@pytest.mark.parametrize("axis", [None, 0, (0, 1)])
def test_logsumexp_gradients_are_torchs(axis: Any) -> None:
    a = RNG.standard_normal((3, 4)) * 3
    dims = (0, 1) if axis is None else axis
    _check(lambda t: tg.logsumexp(t, axis), lambda t: torch.logsumexp(t, dim=dims), a)


# --------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("fn", [
    lambda x: tg.std(x, 0), lambda x: tg.cumsum(x, 1), lambda x: tg.cumprod(x, 0),
    lambda x: tg.diff(x, 1, 0), lambda x: tg.average(x, 1, weights=tg.ones((3,))),
    lambda x: tg.ptp(x, 1), lambda x: tg.nansum(x), lambda x: tg.nanmean(x, 0)])
def test_float32_inputs_give_float32_results_and_gradients(fn: Callable[..., Any]) -> None:
    x = tg.tensor(RNG.uniform(0.5, 2.0, (2, 3)).astype(np.float32), requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    (g,) = tg.gradients(out.sum(), [x], create_graph=True)
    assert g.dtype == np.float32
