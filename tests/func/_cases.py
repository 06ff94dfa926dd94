"""Functions written once for both libraries, and the references the transforms are checked
against: PyTorch's ``torch.func`` / ``torch.autograd.functional`` in float64 when torch is
importable (CI installs it), and central differences always (so nothing skips without torch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tensorgraph as tg

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None

_RNG = np.random.default_rng(7)
A = _RNG.normal(size=(3, 4))
B = _RNG.normal(size=(4, 2))


def _fns(lib: Any, c: Callable[[np.ndarray], Any]) -> dict[str, Callable[..., Any]]:
    """The test functions; ``lib`` is numpy (on Tensors) or torch, ``c`` makes a constant."""
    return {
        # a scalar input
        "scalar": lambda x: lib.sin(x) * x ** 3,
        # a vector input, a vector output
        "vector": lambda x: lib.tanh(c(A) @ x) * lib.exp(x[0]) + (x ** 2).sum(),
        # a matrix input, a matrix output
        "matrix": lambda X: lib.tanh(X @ c(B)) * X[:, :1],
        # two inputs (a vector and a matrix)
        "two": lambda x, W: lib.sin(W @ x) * x[:3] + (W ** 2).sum(axis=1),
    }


#: the inputs of each function (float64)
INPUTS: dict[str, list[np.ndarray]] = {
    "scalar": [np.array(0.7)],
    "vector": [_RNG.normal(size=4)],
    "matrix": [_RNG.normal(size=(3, 4))],
    "two": [_RNG.normal(size=4), _RNG.normal(size=(3, 4))],
}

NAMES = tuple(INPUTS)


def tg_fn(name: str) -> Callable[..., Any]:
    return _fns(np, lambda a: a)[name]


def torch_fn(name: str) -> Callable[..., Any]:
    assert torch is not None
    return _fns(torch, lambda a: torch.tensor(a))[name]


def scalar_tg(name: str) -> Callable[..., Any]:
    f = tg_fn(name)
    return lambda *a: f(*a).sum()


def scalar_torch(name: str) -> Callable[..., Any]:
    f = torch_fn(name)
    return lambda *a: f(*a).sum()


def torch_inputs(arrays: list[np.ndarray]) -> tuple[Any, ...]:
    assert torch is not None
    return tuple(torch.tensor(a) for a in arrays)


def to_numpy(value: Any) -> Any:
    """Nested tuples of Tensors (either library) as nested tuples of arrays."""
    if isinstance(value, (tuple, list)):
        return tuple(to_numpy(v) for v in value)
    if isinstance(value, tg.Tensor):
        assert value.dtype == np.float64, value.dtype
        return value.detach().numpy()
    if isinstance(value, np.ndarray):
        return value
    return value.detach().numpy()  # a torch tensor


def assert_close(actual: Any, expected: Any, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    actual, expected = to_numpy(actual), to_numpy(expected)
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol, atol)
        return
    assert not isinstance(actual, tuple)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def numeric_jacobian(f: Callable[..., Any], arrays: list[np.ndarray], i: int,
                     h: float = 1e-6) -> np.ndarray:
    """Central differences of the array-valued ``f(*arrays)`` w.r.t. ``arrays[i]``, shaped
    ``out.shape + arrays[i].shape``."""
    def value(xs: list[np.ndarray]) -> np.ndarray:
        out = f(*(tg.tensor(x) for x in xs))
        return np.asarray(out.numpy() if isinstance(out, tg.Tensor) else out, dtype=np.float64)

    base = value(arrays)
    x = arrays[i]
    jac = np.zeros(base.shape + x.shape)
    for k in np.ndindex(x.shape):
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[i][k] += h
        minus[i][k] -= h
        jac[(..., *k)] = (value(plus) - value(minus)) / (2 * h)
    return jac
