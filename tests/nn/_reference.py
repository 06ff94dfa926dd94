"""What the conv and pooling tests compare against: PyTorch when it is importable, else a
plain numpy transcription of the definition, differentiated by central differences (so the
tests still check values and gradients without torch)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

import tensorgraph as tg


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:  # the fallback below still checks values and gradients
        return None
    return torch


TORCH = _import_torch()

Arrays = Sequence[np.ndarray | None]


def numeric_vjp(f: Callable[..., np.ndarray], inputs: Arrays, upstream: np.ndarray,
                eps: float = 1e-6) -> list[np.ndarray | None]:
    """``upstream``-weighted central differences of ``f`` with respect to every input."""
    grads: list[np.ndarray | None] = []
    for i, x in enumerate(inputs):
        if x is None:
            grads.append(None)
            continue
        g = np.zeros_like(x)
        for index in np.ndindex(*x.shape):
            shifted = [None if a is None else a.copy() for a in inputs]
            values = []
            for sign in (1, -1):
                shifted[i][index] = x[index] + sign * eps  # type: ignore[index]
                values.append(float(np.sum(upstream * f(*shifted))))
            g[index] = (values[0] - values[1]) / (2 * eps)
        grads.append(g)
    return grads


class Expected(NamedTuple):
    out: np.ndarray
    grads: list[np.ndarray | None]
    #: agreement asked for: float64 rounding against torch, less against central differences
    tol: float


def expected(torch_fn: Callable[..., Any], numpy_fn: Callable[..., np.ndarray], inputs: Arrays,
             upstream: np.ndarray, use_torch: bool = True) -> Expected:
    """The output and the gradients (``upstream`` pulled back) from PyTorch in float64, or
    from the numpy definition and central differences."""
    if use_torch and TORCH is not None:
        leaves = [None if a is None else TORCH.tensor(a, requires_grad=True) for a in inputs]
        out = torch_fn(*leaves)
        out.backward(TORCH.tensor(upstream))
        return Expected(out.detach().numpy(),
                        [None if t is None else t.grad.numpy() for t in leaves], 1e-10)
    return Expected(numpy_fn(*inputs), numeric_vjp(numpy_fn, inputs, upstream), 1e-6)


def ours(fn: Callable[..., Any], inputs: Arrays, upstream: np.ndarray
         ) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """tensorgraph's output and gradients for the same inputs and upstream gradient."""
    leaves = [None if a is None else tg.tensor(a, requires_grad=True) for a in inputs]
    out = fn(*leaves)
    out.backward(upstream)
    return out.numpy(), [None if t is None else t.grad.numpy() for t in leaves]


def assert_agree(got: tuple[np.ndarray, list[np.ndarray | None]], want: Expected) -> None:
    """Outputs and every gradient equal to ``want.tol`` (relative to the largest magnitude)."""
    (out, grads), (out_ref, grads_ref, tol) = got, want
    assert out.shape == out_ref.shape, (out.shape, out_ref.shape)
    np.testing.assert_allclose(out, out_ref, rtol=tol, atol=tol * max(1.0, np.abs(out_ref).max(
        initial=0.0)))
    for i, (g, r) in enumerate(zip(grads, grads_ref)):
        assert (g is None) == (r is None), f"input {i}"
        if g is not None and r is not None:
            np.testing.assert_allclose(g, r, rtol=tol, atol=tol * max(1.0, np.abs(r).max(
                initial=0.0)), err_msg=f"gradient of input {i}")
