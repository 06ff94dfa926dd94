"""Per-op overhead: forward + backward of a small elementwise expression.

The expression has :data:`N_OPS` ops::

    t = x * y;  t = t + x;  t = t * t;  t = t - y;  s = sum(t)

and every implementation computes ``s`` and the gradients of ``x`` and ``y``. On (4, 4)
tensors the arithmetic is negligible, so the time divided by :data:`N_OPS` is the fixed
cost a framework adds to every op (recording it, dispatching its VJP, accumulating). "numpy"
is the same arithmetic with the backward written by hand: the floor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["N_OPS", "build"]

N_OPS = 5

Work = Callable[[], Any]


def _data(shape: tuple[int, int], dtype: Any) -> tuple[np.ndarray[Any, Any], ...]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype))


def build_numpy(shape: tuple[int, int], dtype: Any) -> Work:
    x, y = _data(shape, dtype)

    def work() -> Any:
        t1 = x * y
        t2 = t1 + x
        t3 = t2 * t2
        t4 = t3 - y
        s = t4.sum()
        g4 = np.ones_like(t4)
        g2 = 2 * t2 * g4
        gx = g2 + g2 * y
        gy = g2 * x - g4
        return s, gx, gy

    return work


def build_tensorgraph(shape: tuple[int, int], dtype: Any) -> Work:
    import tensorgraph as tg

    a, b = _data(shape, dtype)
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)

    def work() -> Any:
        x.grad = y.grad = None
        t = x * y
        t = t + x
        t = t * t
        t = t - y
        s = t.sum()
        s.backward()
        return s, x.grad, y.grad

    return work


def build_torch(shape: tuple[int, int], dtype: Any) -> Work:
    import torch

    a, b = _data(shape, dtype)
    x = torch.from_numpy(a).requires_grad_()
    y = torch.from_numpy(b).requires_grad_()

    def work() -> Any:
        x.grad = y.grad = None
        t = x * y
        t = t + x
        t = t * t
        t = t - y
        s = t.sum()
        s.backward()  # type: ignore[no-untyped-call]
        return s, x.grad, y.grad

    return work


def build_mygrad(shape: tuple[int, int], dtype: Any) -> Work:
    import mygrad as mg

    a, b = _data(shape, dtype)
    x, y = mg.tensor(a), mg.tensor(b)  # type: ignore[attr-defined]

    def work() -> Any:
        t = x * y
        t = t + x
        t = t * t
        t = t - y
        s = mg.sum(t)
        s.backward()
        return s, x.grad, y.grad

    return work


def build_autograd(shape: tuple[int, int], dtype: Any) -> Work:
    import autograd  # type: ignore[import-untyped]
    import autograd.numpy as anp  # type: ignore[import-untyped]

    a, b = _data(shape, dtype)

    def f(x: Any, y: Any) -> Any:
        t = x * y
        t = t + x
        t = t * t
        t = t - y
        return anp.sum(t)

    vg = autograd.value_and_grad(f, argnum=(0, 1))
    return lambda: vg(a, b)


BUILDERS: dict[str, Callable[[tuple[int, int], Any], Work]] = {
    "tensorgraph": build_tensorgraph,
    "numpy": build_numpy,
    "torch": build_torch,
    "mygrad": build_mygrad,
    "autograd": build_autograd,
}


def build(name: str, shape: tuple[int, int], dtype: Any) -> Work:
    """Implementation ``name`` of the expression and its gradients on ``shape`` inputs."""
    return BUILDERS[name](shape, dtype)
