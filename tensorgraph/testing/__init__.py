"""Check derivatives: gradient checks, a registry runner, and hypothesis strategies.

:func:`gradcheck` and :func:`gradgradcheck` compare the engine's first and second
derivatives of any function with central finite differences; :func:`check_conventions`
checks the documented derivative at kinks and ties, where finite differences cannot;
:func:`check_case` runs whichever fits a drawn case and :func:`check_registry` runs them over
every registered op, its edges included. None of these needs hypothesis. The hypothesis
strategies live in :mod:`tensorgraph.testing.strategies`, imported on first use (``pip
install tensorgraph[testing]`` installs hypothesis).

>>> import numpy as np, tensorgraph as tg
>>> from tensorgraph.testing import gradcheck
>>> gradcheck(tg.exp, np.array([0.5, -1.0]))
True
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ._edges import EDGE_KINDS, edge_kinds
from .conventions import check_conventions, expected_gradients
from .gradcheck import (
    GradcheckError,
    GradcheckResult,
    GradcheckWarning,
    check_gradients,
    gradcheck,
    gradgradcheck,
    tolerances,
)
from .registry_check import OpCheckResult, check_case, check_registry, load_all_ops

__all__ = [
    "EDGE_KINDS",
    "GradcheckError",
    "GradcheckResult",
    "GradcheckWarning",
    "OpCheckResult",
    "check_case",
    "check_conventions",
    "check_gradients",
    "check_registry",
    "edge_kinds",
    "expected_gradients",
    "gradcheck",
    "gradgradcheck",
    "load_all_ops",
    "strategies",
    "tolerances",
]


def __getattr__(name: str) -> ModuleType:
    # strategies imports hypothesis, an optional dependency: load it only when asked for
    if name == "strategies":
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
