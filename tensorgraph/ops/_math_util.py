"""Helpers shared by the elementwise math modules (not public)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _safe(mask: Any, x: Any) -> Any:
    """``x`` where ``mask`` holds, else 1: a divisor that never divides by 0 in the branch a
    ``where`` discards (that division would warn, and its NaN would leak into second order)."""
    return np.where(mask, x, 1)
