"""The default floating dtype for Python data, and the dtype rules of the engine.

Rules (documented in ``docs/conventions.md``):

* Python data (lists, floats) becomes the *default float dtype*, ``float32`` unless changed
  with :func:`set_default_dtype` or the :class:`default_dtype` context manager.
* numpy arrays keep their dtype.
* Python scalars and numpy scalars are *weak*: they take the dtype of the tensor they meet,
  so ``x * 2.0`` stays float32 for a float32 ``x``.
* Two floating arrays of different precision in one op are an error
  (:class:`~tensorgraph.errors.DTypeError`): a silent upcast would hide a bug and double the
  memory of a float32 model. Cast explicitly with ``Tensor.astype``.
* Integer and boolean arrays meeting a floating one are cast to that floating dtype.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["default_dtype", "get_default_dtype", "is_floating", "set_default_dtype"]

_FLOATING = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


class _DefaultDType(threading.local):
    dtype: np.dtype[Any] = np.dtype(np.float32)


_default = _DefaultDType()


def is_floating(dtype: np.dtype) -> bool:
    """Return True for the floating dtypes that may carry gradients."""
    return dtype.kind == "f"


def get_default_dtype() -> np.dtype:
    """Return the dtype given to Python floating data (``float32`` by default)."""
    return _default.dtype


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the dtype given to Python floating data (thread-local).

    Parameters
    ----------
    dtype : float16, float32 or float64
    """
    resolved = np.dtype(dtype)
    if resolved not in _FLOATING:
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {resolved}")
    _default.dtype = resolved


class default_dtype:
    """Context manager that sets the default float dtype inside a ``with`` block.

    Examples
    --------
    >>> import numpy as np, tensorgraph as tg
    >>> with tg.default_dtype(np.float64):
    ...     tg.tensor([1.0]).dtype
    dtype('float64')
    """

    def __init__(self, dtype: DTypeLike) -> None:
        self._dtype = np.dtype(dtype)
        self._previous = get_default_dtype()

    def __enter__(self) -> None:
        self._previous = get_default_dtype()
        set_default_dtype(self._dtype)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        set_default_dtype(self._previous)
