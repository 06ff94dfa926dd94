r"""Check hand-written derivatives against central finite differences.

:func:`gradcheck` compares the gradient the engine computes for ``fn`` (its VJPs) with

.. math:: \frac{\partial}{\partial x_j} \langle \bar z, f(x) \rangle \approx
          \Big\langle \bar z, \frac{f(x + \epsilon e_j) - f(x - \epsilon e_j)}{2 \epsilon}
          \Big\rangle

for a random upstream gradient :math:`\bar z` (all-ones would hide transposed or permuted
gradients). Small inputs are checked element by element (the full vector-Jacobian product);
large ones along random directions :math:`v`, comparing :math:`\langle \nabla, v \rangle`
with :math:`\langle \bar z, f(x + \epsilon v) - f(x - \epsilon v) \rangle / 2\epsilon`.

:func:`gradgradcheck` applies the same check to the map from the inputs and :math:`\bar z` to
the first-order gradients, built with ``create_graph=True``: that checks second derivatives.

Inputs are handed to ``fn`` as read-only arrays, so a forward or a VJP that writes into its
inputs (or into the upstream gradient, or the output it saved) fails the check.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd import enable_grad, gradients, no_grad
from ..errors import DTypeError, ShapeError
from ..tensor import Tensor

__all__ = [
    "GradcheckError",
    "GradcheckResult",
    "GradcheckWarning",
    "check_gradients",
    "check_second_gradients",
    "gradcheck",
    "gradgradcheck",
    "tolerances",
]

#: Inputs with at most this many elements are checked element by element.
MAX_FULL_SIZE = 256
#: When a projection check fails, inputs up to this size are re-checked element by element
#: to name the worst element.
MAX_LOCATE_SIZE = 4096


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the finite-difference one (or broke a rule)."""


class GradcheckWarning(UserWarning):
    """A gradient check was asked to run in a precision where it is unreliable."""


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of a gradient check.

    Attributes
    ----------
    passed : bool
    error : float
        The largest ``|analytic - numeric|``, relative to its tolerance, over all inputs
        (the absolute difference at the worst element or direction).
    tolerance : float
        The tolerance at that element (``atol + rtol * |numeric|``).
    message : str
        Empty when passed; otherwise names the input, the element, both values and the
        tolerance.
    """

    passed: bool
    error: float
    tolerance: float
    message: str = ""


def tolerances(dtype: Any) -> tuple[float, float, float]:
    """Default ``(eps, atol, rtol)`` for checking in ``dtype``.

    float64: ``(1e-6, 1e-7, 1e-5)``; float32: ``(1e-3, 1e-2, 1e-2)`` (a step near the cube
    root of float32's resolution balances truncation and rounding error).
    """
    if np.dtype(dtype) == np.float64:
        return 1e-6, 1e-7, 1e-5
    if np.dtype(dtype) == np.float32:
        return 1e-3, 1e-2, 1e-2
    raise DTypeError(f"gradcheck: cannot check gradients in {np.dtype(dtype)}; use float64")


# --------------------------------------------------------------------------- preparing inputs
def _read_only(array: np.ndarray) -> np.ndarray:
    copy = np.array(array, copy=True)
    copy.flags.writeable = False
    return copy


def _read_only_leaf(value: np.ndarray, requires_grad: bool = True) -> Tensor:
    """A Tensor whose own array (a copy of ``value``) is read-only, so that a forward or a VJP
    writing to it in place fails loudly instead of corrupting the check."""
    t = Tensor(value, requires_grad=requires_grad)
    t._data.flags.writeable = False
    return t


def _prepare(inputs: Sequence[Any], nondiff: Sequence[int]) -> tuple[list[Any], list[int]]:
    """Read-only copies of the array inputs, and the indices of those to differentiate.

    Floating arrays, Tensors and Python floats are differentiated unless listed in
    ``nondiff``; integer and boolean data, and anything else, are passed through as given.
    """
    values: list[Any] = []
    diff: list[int] = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor):
            x = x.numpy()
        elif isinstance(x, (float, np.floating)) and not isinstance(x, bool):
            x = np.asarray(x, dtype=np.float64 if isinstance(x, float) else x.dtype)
        elif isinstance(x, list):
            x = np.asarray(x)
        if isinstance(x, np.ndarray):
            x = _read_only(x)
            if x.dtype.kind == "f" and i not in nondiff:
                diff.append(i)
        values.append(x)
    return values, diff


def _check_dtype(values: Sequence[Any], diff: Sequence[int]) -> np.dtype[Any]:
    """The least precise dtype among the differentiated inputs (it sets the tolerances)."""
    dtypes = {np.dtype(values[i].dtype) for i in diff}
    for d in dtypes:
        tolerances(d)  # refuses anything but float32 and float64
    # mixed precision is allowed here (astype takes float32 in, float64 back); ops that
    # refuse it raise their own DTypeError
    dtype: np.dtype[Any] = min(dtypes, key=lambda d: d.itemsize)
    if dtype != np.float64:
        warnings.warn(
            f"gradcheck: checking in {dtype} with loose tolerances; finite differences in "
            f"{dtype} miss many errors. Pass float64 inputs for a meaningful check.",
            GradcheckWarning,
            stacklevel=4,
        )
    return dtype


def _outputs(result: Any, what: str) -> list[Tensor]:
    outs = list(result) if isinstance(result, (list, tuple)) else [result]
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{what}: fn must return a Tensor or a sequence of Tensors, got "
                            f"{type(o).__name__}")
    return outs


def _upstream(
    outs: Sequence[Tensor], grad_output: Any, rng: np.random.Generator, what: str
) -> list[np.ndarray | None]:
    """One read-only cotangent per floating output (None for the others)."""
    given: Sequence[Any] | None
    if grad_output is None:
        given = None
    elif len(outs) == 1 and not isinstance(grad_output, (list, tuple)):
        given = [grad_output]
    else:
        given = list(grad_output)
        if len(given) != len(outs):
            raise ShapeError(f"{what}: {len(given)} grad_outputs for {len(outs)} outputs")
    result: list[np.ndarray | None] = []
    for k, o in enumerate(outs):
        if o.dtype.kind != "f":
            result.append(None)
            continue
        if given is None:
            g = rng.standard_normal(o.shape).astype(o.dtype)
        else:
            raw = given[k].numpy() if isinstance(given[k], Tensor) else given[k]
            if isinstance(raw, np.ndarray) and raw.dtype.kind == "f" and raw.dtype != o.dtype:
                raise DTypeError(f"{what}: grad_output {k} is {raw.dtype} but output {k} is "
                                 f"{o.dtype}")
            g = np.asarray(raw, dtype=o.dtype)
            if g.shape != o.shape:
                raise ShapeError(f"{what}: grad_output {k} has shape {g.shape} but output {k} "
                                 f"has shape {o.shape}")
        result.append(_read_only(g))
    return result


def _call(fn: Callable[..., Any], args: Sequence[Any], what: str) -> list[Tensor]:
    try:
        return _outputs(fn(*args), what)
    except ValueError as err:
        if "read-only" not in str(err):
            raise
        raise GradcheckError(
            f"{what}: fn's forward or VJP tried to modify an array in place ({err}); inputs, "
            f"upstream gradients and saved outputs must be treated as read-only"
        ) from err


# --------------------------------------------------------------------------- the check
def _analytic(
    fn: Callable[..., Any],
    values: Sequence[Any],
    diff: Sequence[int],
    grad_output: Any,
    rng: np.random.Generator,
    what: str,
) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """The engine's gradient of <grad_output, fn(values)> w.r.t. each differentiated input."""
    args = [_read_only_leaf(v) if i in diff else v for i, v in enumerate(values)]
    with enable_grad():
        outs = _call(fn, args, what)
    ups = _upstream(outs, grad_output, rng, what)
    for o in outs:
        o._data.flags.writeable = False  # the VJP sees this array as ``out``
    roots = [(o, g) for o, g in zip(outs, ups) if g is not None and o.requires_grad]
    leaves = [args[i] for i in diff]
    if not roots:
        return [np.zeros(v.shape, dtype=v.dtype) for v in (values[i] for i in diff)], ups
    try:
        grads = gradients([o for o, _ in roots], leaves,
                          grad_outputs=[_read_only_leaf(g, False) for _, g in roots],
                          allow_unused=True)
    except ValueError as err:
        if "read-only" not in str(err):
            raise
        raise GradcheckError(
            f"{what}: a VJP tried to modify an array in place ({err}); inputs, upstream "
            f"gradients and saved outputs must be treated as read-only"
        ) from err
    return [g.numpy() for g in grads], ups


def _directional(
    fn: Callable[..., Any],
    values: Sequence[Any],
    i: int,
    step: np.ndarray,
    ups: Sequence[np.ndarray | None],
    diff: Sequence[int],
    what: str,
) -> float:
    r""":math:`\langle \bar z, f(x_i + s) - f(x_i - s) \rangle`, accumulated in float64.

    The differentiated inputs are passed as Tensors (without grad), the others as given:
    exactly as in the analytic pass.
    """
    total = 0.0
    results = []
    for sign in (1.0, -1.0):
        args = list(values)
        args[i] = _read_only(values[i] + sign * step)
        with no_grad():
            results.append(_call(fn, [Tensor(a) if j in diff else a
                                      for j, a in enumerate(args)], what))
    for plus, minus, g in zip(results[0], results[1], ups):
        if g is not None:
            delta = plus.numpy().astype(np.float64) - minus.numpy().astype(np.float64)
            total += float(np.sum(g.astype(np.float64) * delta))
    return total


def _numeric_full(
    fn: Callable[..., Any],
    values: Sequence[Any],
    i: int,
    ups: Sequence[np.ndarray | None],
    eps: float,
    diff: Sequence[int],
    what: str,
) -> np.ndarray:
    x = values[i]
    numeric = np.empty(x.shape, dtype=np.float64)
    step = np.zeros(x.shape, dtype=x.dtype)
    flat = step.reshape(-1)
    for j, index in enumerate(np.ndindex(*x.shape)):
        flat[j] = eps
        numeric[index] = _directional(fn, values, i, step, ups, diff, what) / (2 * eps)
        flat[j] = 0
    return numeric


def _label(i: int, labels: Sequence[str] | None) -> str:
    return labels[i] if labels is not None else f"input {i}"


def _element_report(
    analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float
) -> tuple[float, float, float, tuple[int, ...], int]:
    """(score, error, tolerance, index, count) of the worst element; score = error / tol."""
    if not numeric.size:
        return 0.0, 0.0, atol, (), 0
    error = np.abs(analytic.astype(np.float64) - numeric).reshape(-1)
    tol = (atol + rtol * np.abs(numeric)).reshape(-1)
    ratio = np.where(np.isnan(error), np.inf, error / tol)
    flat = int(np.argmax(ratio))
    index = tuple(int(k) for k in np.unravel_index(flat, numeric.shape))
    return float(ratio[flat]), float(error[flat]), float(tol[flat]), index, int(np.sum(ratio > 1))


def check_gradients(
    fn: Callable[..., Any],
    *inputs: Any,
    grad_output: Any = None,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    nondiff: Sequence[int] = (),
    seed: int = 0,
    projections: int = 6,
    max_full_size: int = MAX_FULL_SIZE,
    labels: Sequence[str] | None = None,
    what: str = "gradcheck",
) -> GradcheckResult:
    """Run the check of :func:`gradcheck` and return a :class:`GradcheckResult`.

    ``labels`` names the inputs in messages (default ``"input i"``).
    """
    values, diff = _prepare(inputs, nondiff)
    if not diff:
        raise ValueError(f"{what}: no floating input to differentiate (nondiff={tuple(nondiff)})")
    dtype = _check_dtype(values, diff)
    default_eps, default_atol, default_rtol = tolerances(dtype)
    eps = default_eps if eps is None else eps
    atol = default_atol if atol is None else atol
    rtol = default_rtol if rtol is None else rtol
    rng = np.random.default_rng(seed)
    analytic, ups = _analytic(fn, values, diff, grad_output, rng, what)

    worst = GradcheckResult(True, 0.0, atol)
    worst_score = -1.0
    for i, grad in zip(diff, analytic):
        x = values[i]
        name = f"{_label(i, labels)} (shape {x.shape})"
        if grad.shape != x.shape:
            return GradcheckResult(False, math.inf, atol, f"{what}: the gradient of {name} "
                                   f"has shape {grad.shape}")
        located = x.size <= max_full_size
        if not located:
            score, error, tol, k = _projection_report(fn, values, i, grad, ups, eps, atol, rtol,
                                                      projections, rng, diff, what)
            if score <= 1:
                if score > worst_score:
                    worst, worst_score = GradcheckResult(True, error, tol), score
                continue
            detail = (f"along random direction {k} of {projections} the analytic directional "
                      f"derivative differs from the numeric one by {error:.6g} > tolerance "
                      f"{tol:.3g}")
            if x.size > MAX_LOCATE_SIZE:
                message = f"{what}: {name}: {detail}"
                return GradcheckResult(False, error, tol, message)
        numeric = _numeric_full(fn, values, i, ups, eps, diff, what)
        score, error, tol, index, count = _element_report(grad, numeric, atol, rtol)
        if score > 1:
            message = (
                f"{what}: {name}: at index {index} the analytic gradient is "
                f"{float(grad[index]):.8g} but the numeric one is {float(numeric[index]):.8g}; "
                f"|difference| {error:.3g} > tolerance {tol:.3g} (atol {atol:g} + rtol {rtol:g}"
                f" * |numeric|, eps {eps:g}); {count} of {x.size} elements differ"
            )
            if not located:
                message += f" ({detail})"
            return GradcheckResult(False, error, tol, message)
        if score > worst_score:
            worst, worst_score = GradcheckResult(True, error, tol), score
    return worst


def _projection_report(
    fn: Callable[..., Any],
    values: Sequence[Any],
    i: int,
    grad: np.ndarray,
    ups: Sequence[np.ndarray | None],
    eps: float,
    atol: float,
    rtol: float,
    projections: int,
    rng: np.random.Generator,
    diff: Sequence[int],
    what: str,
) -> tuple[float, float, float, int]:
    """(score, error, tolerance, direction) of the worst of ``projections`` random directions.

    The tolerance is the root-sum-square of the per-element tolerances weighted by the
    direction, ``atol * |v| + rtol * |grad * v|``: what the directional derivative may differ
    by when every element is within its own tolerance.
    """
    x = values[i]
    best = (-1.0, 0.0, atol, 0)
    for k in range(projections):
        v = rng.standard_normal(x.shape)
        step = (eps * v).astype(x.dtype)
        numeric = _directional(fn, values, i, step, ups, diff, what) / (2 * eps)
        analytic = float(np.sum(grad.astype(np.float64) * v))
        error = abs(analytic - numeric)
        tol = atol * float(np.linalg.norm(v)) + rtol * float(np.linalg.norm(grad * v))
        score = math.inf if math.isnan(error) else error / tol
        if score > best[0]:
            best = (score, error, tol, k)
    return best


def gradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    grad_output: Any = None,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    nondiff: Sequence[int] = (),
    seed: int = 0,
    raise_exception: bool = True,
    projections: int = 6,
    max_full_size: int = MAX_FULL_SIZE,
) -> bool:
    r"""Check the gradient of ``fn`` at ``inputs`` against central finite differences.

    Parameters
    ----------
    fn : callable
        Takes the inputs (as Tensors) and returns a Tensor or a sequence of Tensors.
    *inputs : array-like or Tensor
        Floating arrays, Tensors and Python floats are differentiated (unless in
        ``nondiff``); integer or boolean arrays and other values are passed as they are.
        Every array is copied and made read-only.
    grad_output : array-like or sequence, optional
        The upstream gradient :math:`\bar z` (one per output); random normal by default.
    eps, atol, rtol : float, optional
        Finite-difference step and tolerances; the defaults depend on the inputs' dtype
        (see :func:`tolerances`). An element passes when
        ``|analytic - numeric| <= atol + rtol * |numeric|``.
    nondiff : sequence of int
        Inputs not to differentiate.
    seed : int
        Seeds the random upstream gradient and the projection directions.
    raise_exception : bool
        Raise :class:`GradcheckError` on failure (default) or return False.
    projections : int
        Number of random directions for inputs larger than ``max_full_size`` elements.
    max_full_size : int
        Inputs up to this size are checked element by element.

    Returns
    -------
    bool
        True when every gradient agrees.

    Warns
    -----
    GradcheckWarning
        When the inputs are float32 (checked with loose tolerances).

    Examples
    --------
    >>> import numpy as np, tensorgraph as tg
    >>> from tensorgraph.testing import gradcheck
    >>> gradcheck(lambda x, y: tg.sin(x) * y, np.linspace(-1, 1, 5), np.ones(5))
    True
    """
    result = check_gradients(fn, *inputs, grad_output=grad_output, eps=eps, atol=atol,
                             rtol=rtol, nondiff=nondiff, seed=seed, projections=projections,
                             max_full_size=max_full_size)
    if not result.passed and raise_exception:
        raise GradcheckError(result.message)
    return result.passed


def first_order_function(
    fn: Callable[..., Any], n_inputs: int, diff: Sequence[int]
) -> Callable[..., list[Tensor]]:
    """The map ``(*inputs, *grad_outputs) -> gradients of the diff inputs`` of ``fn``.

    When its arguments require grad it builds the gradients with ``create_graph=True`` so
    they can be differentiated again; otherwise (as during finite differences) it runs an
    ordinary backward, so the numeric side uses only first-order VJPs.
    """

    def first_order(*args: Any) -> list[Tensor]:
        xs, gs = list(args[:n_inputs]), args[n_inputs:]
        create = any(isinstance(a, Tensor) and a.requires_grad for a in args)
        with enable_grad():
            for i in diff:
                if not create:
                    xs[i] = Tensor(xs[i].numpy(), requires_grad=True)
            outs = _outputs(fn(*xs), "gradgradcheck")
            floating = [(o, g) for o, g in zip(outs, gs) if o.dtype.kind == "f"]
            roots = [(o, g) for o, g in floating if o.requires_grad]
            leaves = [xs[i] for i in diff]
            if not roots:
                return [Tensor(np.zeros(x.shape, dtype=x.dtype)) for x in leaves]
            grads = gradients([o for o, _ in roots], leaves,
                              grad_outputs=[g for _, g in roots], create_graph=create,
                              allow_unused=True)
        return list(grads)

    return first_order


def gradgradcheck(
    fn: Callable[..., Any],
    *inputs: Any,
    grad_output: Any = None,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    nondiff: Sequence[int] = (),
    seed: int = 0,
    raise_exception: bool = True,
    projections: int = 6,
    max_full_size: int = MAX_FULL_SIZE,
) -> bool:
    r"""Check the second derivatives of ``fn``: the derivative of its VJP.

    The first-order gradients :math:`g(x, \bar z) = \bar z^\top J_f(x)` are built with
    ``create_graph=True`` and differentiated (with a random second upstream gradient) with
    respect to both the inputs and :math:`\bar z`; the result is compared with central
    differences of the first-order gradients. Parameters are those of :func:`gradcheck`;
    ``grad_output`` is the first-order upstream gradient (random by default).

    Examples
    --------
    >>> import numpy as np, tensorgraph as tg
    >>> from tensorgraph.testing import gradgradcheck
    >>> gradgradcheck(lambda x: tg.tanh(x) * x, np.linspace(-1, 1, 4))
    True
    """
    result = check_second_gradients(
        fn, *inputs, grad_output=grad_output, eps=eps, atol=atol, rtol=rtol, nondiff=nondiff,
        seed=seed, projections=projections, max_full_size=max_full_size,
    )
    if not result.passed and raise_exception:
        raise GradcheckError(result.message)
    return result.passed


def check_second_gradients(
    fn: Callable[..., Any],
    *inputs: Any,
    grad_output: Any = None,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    nondiff: Sequence[int] = (),
    seed: int = 0,
    projections: int = 6,
    max_full_size: int = MAX_FULL_SIZE,
) -> GradcheckResult:
    """Run the check of :func:`gradgradcheck` and return a :class:`GradcheckResult`."""
    values, diff = _prepare(inputs, nondiff)
    if not diff:
        raise ValueError(f"gradgradcheck: no floating input to differentiate "
                         f"(nondiff={tuple(nondiff)})")
    with no_grad():
        outs = _call(fn, [Tensor(v) if isinstance(v, np.ndarray) else v for v in values],
                     "gradgradcheck")
    rng = np.random.default_rng(seed)
    ups = _upstream(outs, grad_output, rng, "gradgradcheck")
    # non-floating outputs get no cotangent: pass a placeholder the first-order map ignores
    extra = [g if g is not None else np.zeros(o.shape, dtype=np.int8)
             for o, g in zip(outs, ups)]
    labels = [f"input {i}" for i in range(len(values))]
    labels += [f"grad_output {k}" for k in range(len(extra))]
    return check_gradients(
        first_order_function(fn, len(values), diff), *values, *extra, eps=eps, atol=atol,
        rtol=rtol, nondiff=nondiff, seed=seed + 1, projections=projections,
        max_full_size=max_full_size, labels=labels, what="gradgradcheck",
    )
