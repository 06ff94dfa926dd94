"""Check every registered op's derivatives without hypothesis: the runner behind
``tensorgraph gradcheck``.

For each op, :func:`check_registry` draws a few cases from the op's
:class:`~tensorgraph.ops._base.Domain` with a seeded ``numpy.random.Generator`` (through the
same sampling code the hypothesis strategies use), runs :func:`~.gradcheck.check_gradients`
and, when the domain says the VJP is differentiable, :func:`~.gradcheck.check_second_gradients`,
and reports the worst disagreement. Then it draws one case of every edge kind the Domain
declares (exact edge values, kinks, ties, empty arrays) and checks it with
:func:`check_case`.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..ops._base import REGISTRY, Op
from ._edges import edge_kinds
from ._sampling import GeneratorSource, OpCase, Reject, draw_op_case
from .conventions import check_conventions
from .gradcheck import GradcheckResult, GradcheckWarning, check_gradients, check_second_gradients

__all__ = ["OpCheckResult", "check_case", "check_op", "check_registry", "draw_case",
           "load_all_ops"]

#: Attempts at drawing a case before giving up on an op whose params reject every shape.
MAX_DRAWS = 50


@dataclass(frozen=True)
class OpCheckResult:
    """The outcome of checking one op.

    Attributes
    ----------
    name : str
        The op's registry name.
    passed : bool
    worst_error : float
        The largest ``|analytic - numeric|`` relative to its tolerance, over every trial and
        both orders (the absolute difference is reported).
    tolerance : float
        The tolerance at that element.
    message : str
        Empty when passed; otherwise what failed, with the drawn case.
    trials : int
        Cases drawn.
    second_order : bool
        Whether second derivatives were checked too.
    """

    name: str
    passed: bool
    worst_error: float
    tolerance: float
    message: str
    trials: int
    second_order: bool


def load_all_ops() -> dict[str, type[Op]]:
    """Import every module of the tensorgraph package so that every op is registered.

    Modules that need a missing optional dependency are skipped; ``__main__`` is never run.
    Returns the registry.
    """
    import tensorgraph

    for info in pkgutil.walk_packages(tensorgraph.__path__, "tensorgraph."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as err:
            if err.name is None or err.name.split(".")[0] == "tensorgraph":
                raise
    return REGISTRY


def draw_case(op: type[Op], rng: np.random.Generator, dtype: DTypeLike = np.float64,
              edge: str | None = None) -> OpCase:
    """Draw one valid case for ``op`` from its domain with ``rng`` (an edge case of kind
    ``edge`` when given)."""
    source = GeneratorSource(rng)
    for _ in range(MAX_DRAWS):
        try:
            return draw_op_case(op, source, dtype, edge)
        except Reject:
            continue
    raise ValueError(f"{op.name}: its Domain.params offered no parameters in {MAX_DRAWS} drawn "
                     f"shapes")


def check_case(case: OpCase, seed: int = 0, second_order: bool = True) -> GradcheckResult:
    """Check one drawn case the way its kind calls for.

    Interior, ``"edges"`` and ``"empty"`` cases: finite differences, first order and (when
    ``second_order`` and the Domain allow) second order. ``"kinks"`` and ``"ties"`` cases:
    :func:`~.conventions.check_conventions`, the documented derivative there. Any exception
    the op raises becomes a failed result naming it.
    """
    if case.edge in ("kinks", "ties"):
        try:
            return check_conventions(case, seed=seed)
        except Exception as err:  # any failure of the op is a result to report, not a crash
            return GradcheckResult(False, float("inf"), 0.0, f"the {case.edge} check raised "
                                   f"{type(err).__name__}: {err}")
    result = _run(check_gradients, case, seed, "first-order")
    if result.passed and second_order and case.op.domain.second_order:
        result = _run(check_second_gradients, case, seed, "second-order")
    return result


def _run(check: Any, case: OpCase, seed: int, order: str) -> GradcheckResult:
    try:
        result: GradcheckResult = check(case.call, *case.inputs, nondiff=case.nondiff,
                                        seed=seed)
    except Exception as err:  # any failure of the op is a result to report, not a crash
        return GradcheckResult(False, float("inf"), 0.0,
                               f"{order} check raised {type(err).__name__}: {err}")
    return result


def check_op(
    op: type[Op], dtype: DTypeLike = np.float64, seed: int = 0, trials: int = 3,
    edges: bool = True,
) -> OpCheckResult:
    """Check one op's first (and, if its domain allows, second) derivatives on ``trials``
    interior cases drawn from its domain, then (with ``edges``) on one case of each edge kind
    its domain declares."""
    rng = np.random.default_rng([seed, zlib.crc32(op.name.encode())])
    second = op.domain.second_order
    worst: tuple[float, float, float] = (-1.0, 0.0, 0.0)
    kinds: list[str | None] = [None] * trials
    if edges:
        kinds += list(edge_kinds(op.domain))
    for trial, kind in enumerate(kinds):
        try:
            case = draw_case(op, rng, dtype, kind)
        except Exception as err:
            return OpCheckResult(op.name, False, float("inf"), 0.0,
                                 f"drawing a case failed: {type(err).__name__}: {err}",
                                 trial, second)
        with warnings.catch_warnings():
            if kind == "empty":  # numpy warns for the mean of nothing; it is still nan
                warnings.simplefilter("ignore", RuntimeWarning)
            result = check_case(case, seed + trial)
        if not result.passed:
            return OpCheckResult(op.name, False, result.error, result.tolerance,
                                 f"{result.message} [{case!r}]", trial + 1, second)
        score = result.error / result.tolerance if result.tolerance else 0.0
        if score > worst[0]:
            worst = (score, result.error, result.tolerance)
    return OpCheckResult(op.name, True, worst[1], worst[2], "", len(kinds), second)


def check_registry(
    names: Iterable[str] | None = None,
    dtype: DTypeLike = np.float64,
    seed: int = 0,
    trials: int = 3,
    edges: bool = True,
) -> list[OpCheckResult]:
    """Check the derivatives of the registered ops (all of them, or ``names``).

    Parameters
    ----------
    names : iterable of str, optional
        Op names to check; every registered op by default.
    dtype : dtype
        float64 (meaningful) or float32 (loose tolerances; warns once).
    seed : int
        Makes the drawn cases reproducible; each op's cases depend only on the seed and the
        op's name.
    trials : int
        Interior cases drawn per op.
    edges : bool
        Also check one case of every edge kind each op's Domain declares (exact edge
        values, kinks, ties, empty arrays; see :func:`check_case`).

    Returns
    -------
    list of OpCheckResult
        One per op, sorted by name.

    Examples
    --------
    >>> from tensorgraph.testing import check_registry
    >>> [(r.name, r.passed) for r in check_registry(["exp", "matmul"], trials=1)]
    [('exp', True), ('matmul', True)]
    """
    registry = load_all_ops()
    chosen = sorted(registry) if names is None else list(names)
    unknown = [n for n in chosen if n not in registry]
    if unknown:
        raise KeyError(f"check_registry: no registered op named {', '.join(map(repr, unknown))}")
    if np.dtype(dtype) != np.float64:
        warnings.warn(f"check_registry: checking in {np.dtype(dtype)} with loose tolerances",
                      GradcheckWarning, stacklevel=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        return [check_op(registry[n], dtype, seed, trials, edges) for n in sorted(chosen)]
