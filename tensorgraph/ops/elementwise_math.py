"""numpy's elementwise math beyond the basics, gathered from its family modules.

The ops live in :mod:`~tensorgraph.ops.exp_log` (powers, exponentials, logarithms),
:mod:`~tensorgraph.ops.trig`, :mod:`~tensorgraph.ops.hyperbolic`,
:mod:`~tensorgraph.ops.rounding` (step functions and remainders) and
:mod:`~tensorgraph.ops.nan_aware`; each module states the conventions of its ops at their
kinks. This module re-exports their public functions, so ``from .elementwise_math import
...`` keeps working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

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
from .nan_aware import _np_nan_to_num, fmax, fmin, nan_to_num
from .rounding import ceil, floor, floor_divide, fmod, remainder, round, sign, trunc
from .trig import arccos, arcsin, arctan, arctan2, deg2rad, hypot, rad2deg, sinc, tan

__all__ = [
    "FUNCTIONS", "UFUNCS", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "cbrt", "ceil", "cosh", "deg2rad", "exp2", "expm1", "floor", "floor_divide",
    "fmax", "fmin", "fmod", "hypot", "log2", "log10", "logaddexp", "logaddexp2", "nan_to_num",
    "rad2deg", "reciprocal", "remainder", "round", "sign", "sinc", "sinh", "square", "tan",
    "trunc",
]  # fmt: skip

#: numpy's ufuncs and functions on Tensors routed to the ops above that the tables of
#: ``tensorgraph.ops`` do not list themselves (``tensorgraph.ops`` merges these in)
UFUNCS: dict[Any, Callable[..., Any]] = {
    np.deg2rad: deg2rad, np.radians: deg2rad, np.rad2deg: rad2deg, np.degrees: rad2deg,
    np.floor_divide: floor_divide,
}  # fmt: skip
FUNCTIONS: dict[Any, Callable[..., Any]] = {np.sinc: sinc, np.nan_to_num: _np_nan_to_num}
