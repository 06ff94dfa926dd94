"""Checks of the layers' hyper-parameters: numbers of any numpy or Python kind, never bools.

``Dropout(np.float32(0.5))`` and ``Linear(np.int64(3), 4)`` are accepted (a value read from
an array is a numpy scalar); ``True``, a string, NaN or a value outside the range is refused
with a :class:`~tensorgraph.errors.DomainError` (or ``DTypeError`` for the wrong kind) naming
the layer and the argument.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

from ..errors import DomainError, DTypeError

__all__ = ["check_count", "check_real"]


def check_real(owner: str, name: str, value: Any, *, low: float = -math.inf,
               high: float = math.inf, low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a Python float, after checking it is a real number in the interval
    (NaN and infinities are outside every interval)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        raise DTypeError(f"{owner}: {name} must be a real number, got {value!r}")
    v = float(value)
    above = v > low if low_open else v >= low
    below = v < high if high_open else v <= high
    if not (above and below and math.isfinite(v)):
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise DomainError(f"{owner}: {name} must be in {lo}{low}, {high}{hi}, got {value!r}")
    return v


def check_count(owner: str, name: str, value: Any, low: int = 1) -> int:
    """``value`` as a Python int, after checking it is an integer (not a bool) >= ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise DomainError(f"{owner}: {name} must be a positive int, got {value!r}")
    if value < low:
        what = "a positive int" if low == 1 else f"an int >= {low}"
        raise DomainError(f"{owner}: {name} must be {what}, got {value!r}")
    return int(value)
