"""numpy's elementwise math beyond the basics, gathered from its family modules.

The ops live in :mod:`~tensorgraph.ops.exp_log` (powers, exponentials, logarithms),
:mod:`~tensorgraph.ops.trig`, :mod:`~tensorgraph.ops.hyperbolic`,
:mod:`~tensorgraph.ops.rounding` (step functions and remainders) and
:mod:`~tensorgraph.ops.nan_aware`; each module states the conventions of its ops at their
kinks. This module re-exports their public functions, so ``from .elementwise_math import
...`` keeps working.
"""

from __future__ import annotations

from .exp_log import (
    cbrt,
    exp2,
    expm1,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    reciprocal,
    square,
)  # fmt: skip
from .hyperbolic import arccosh, arcsinh, arctanh, cosh, sinh
from .nan_aware import fmax, fmin
from .rounding import ceil, floor, fmod, remainder, round, sign, trunc
from .trig import arccos, arcsin, arctan, arctan2, hypot, tan

__all__ = [
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "cbrt", "ceil",
    "cosh", "exp2", "expm1", "floor", "fmax", "fmin", "fmod", "hypot", "log2", "log10",
    "logaddexp", "logaddexp2", "reciprocal", "remainder", "round", "sign", "sinh",
    "square", "tan", "trunc",
]  # fmt: skip
