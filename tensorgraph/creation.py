"""Tensor constructors, named as numpy's (``zeros``, ``arange``, ...) and PyTorch's
(``rand``, ``randn``, ``*_like``).

Random constructors draw from an explicit ``numpy.random.Generator`` when given one, and
otherwise from :data:`default_generator`, a documented module-level generator that
:func:`manual_seed` reseeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .broadcast import as_index, as_shape
from .dtypes import get_default_dtype
from .errors import ShapeError
from .tensor import Tensor

__all__ = [
    "arange", "default_generator", "eye", "full", "full_like", "manual_seed", "ones",
    "ones_like", "rand", "randn", "zeros", "zeros_like",
]  # fmt: skip

Shape = int | Sequence[int]

#: The generator used by ``rand``/``randn`` and layer initialisers when none is passed.
default_generator: np.random.Generator = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed :data:`default_generator` and return it."""
    global default_generator
    default_generator = np.random.default_rng(seed)
    return default_generator


def _dtype(dtype: DTypeLike | None) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _sizes(shape: Any, name: str) -> tuple[int, ...]:
    """``shape`` as a tuple of non-negative ints; floats (even ``2.0``) are refused, as numpy
    refuses them, rather than truncated."""
    try:
        sizes = as_shape(shape, name)
    except TypeError:
        raise TypeError(f"{name}: the shape must be non-negative ints, got "
                        f"{type(shape).__name__} {shape!r}") from None
    if any(n < 0 for n in sizes):
        raise ShapeError(f"{name}: the shape must be non-negative ints (numpy: negative "
                         f"dimensions are not allowed), got {shape!r}")
    return sizes


def zeros(shape: Shape, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (default float dtype unless ``dtype`` is given)."""
    return Tensor(np.zeros(_sizes(shape, "zeros"), dtype=_dtype(dtype)),
                  requires_grad=requires_grad)


def ones(shape: Shape, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return Tensor(np.ones(_sizes(shape, "ones"), dtype=_dtype(dtype)),
                  requires_grad=requires_grad)


def full(shape: Shape, fill_value: float, dtype: DTypeLike | None = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value``."""
    return Tensor(np.full(_sizes(shape, "full"), fill_value, dtype=_dtype(dtype)),
                  requires_grad=requires_grad)


def arange(start: float, stop: float | None = None, step: float = 1,
           dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (numpy's rules; float arguments give the
    default float dtype, integer ones int64)."""
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    if dtype is None and values.dtype.kind == "f":
        values = values.astype(get_default_dtype())
    return Tensor(values if dtype is None else values.astype(dtype), requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype: DTypeLike | None = None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix (n x m)."""
    rows = as_index(n, "eye", "n")
    cols = rows if m is None else as_index(m, "eye", "m")
    if rows < 0 or cols < 0:
        raise ShapeError(f"eye: negative dimensions are not allowed, got n={n}, m={m}")
    return Tensor(np.eye(rows, cols, dtype=_dtype(dtype)), requires_grad=requires_grad)


def _like(x: Any) -> np.ndarray:
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def zeros_like(x: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``x``."""
    return Tensor(np.zeros_like(_like(x), dtype=dtype), requires_grad=requires_grad)


def ones_like(x: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``x``."""
    return Tensor(np.ones_like(_like(x), dtype=dtype), requires_grad=requires_grad)


def full_like(x: Any, fill_value: float, dtype: DTypeLike | None = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` with the shape (and dtype, unless given) of ``x``."""
    return Tensor(np.full_like(_like(x), fill_value, dtype=dtype), requires_grad=requires_grad)


def _shape_args(shape: tuple[Any, ...], name: str) -> tuple[int, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return _sizes(shape, name)


def rand(*shape: Any, dtype: DTypeLike | None = None, requires_grad: bool = False,
         generator: np.random.Generator | None = None) -> Tensor:
    """Uniform samples in [0, 1) from ``generator`` (or :data:`default_generator`)."""
    rng = generator if generator is not None else default_generator
    return Tensor(rng.random(_shape_args(shape, "rand"), dtype=_dtype(dtype)),
                  requires_grad=requires_grad)


def randn(*shape: Any, dtype: DTypeLike | None = None, requires_grad: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    """Standard normal samples from ``generator`` (or :data:`default_generator`)."""
    rng = generator if generator is not None else default_generator
    return Tensor(rng.standard_normal(_shape_args(shape, "randn"), dtype=_dtype(dtype)),
                  requires_grad=requires_grad)
