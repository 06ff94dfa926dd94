r"""Check the documented gradient at points where an op is not differentiable.

Finite differences cannot check a VJP at a kink (``relu`` at 0) or a tie (``max`` of equal
values): the derivative is not defined there, and the op's gradient is a documented choice
(docs/reliability.md, "Subgradients at kinks"). An op states its choice in its
:class:`~tensorgraph.ops._base.Domain`, and :func:`expected_gradients` computes what the VJP
must then return, from that declaration alone (the op's forward reference, never its VJP):

- ``kinks={point: derivative}`` (elementwise ops of one input): at elements exactly at a
  point, ``upstream * derivative``; elsewhere the central difference of the reference, one
  element at a time (the op is elementwise, so all elements can move at once);
- ``ties="share"`` (selection ops): every output's upstream gradient is split equally among
  the input elements equal to it, the only candidate of an untied output taking all of it.
  For elementwise ops the candidates are the operands at that position (broadcasting
  undone by summing); for reductions over ``axis``, the elements of the reduced slice.

:func:`check_conventions` compares the engine's VJP with that, both in an ordinary backward
and under ``create_graph=True``, and checks the derivative of the latter with respect to the
upstream gradient (the second-order map is linear in it, so finite differences are exact).

>>> import numpy as np
>>> from tensorgraph.ops import REGISTRY
>>> from tensorgraph.testing._sampling import OpCase
>>> case = OpCase(REGISTRY["relu"], (np.array([0.0, -1.0, 2.0]),), edge="kinks")
>>> [np.round(g, 6).tolist() for g in expected_gradients(case, np.array([5.0, 6.0, 7.0]))]
[[0.0, 0.0, 7.0]]
>>> check_conventions(case).passed
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import enable_grad, gradients
from ..tensor import Tensor
from ._sampling import OpCase
from .gradcheck import GradcheckResult, _leaf, _read_only, check_gradients, tolerances

__all__ = ["check_conventions", "expected_gradients"]

#: Step of the central differences taken away from the kinks.
EPS = 1e-6


def _reference(case: OpCase) -> Any:
    op = case.op
    return op.reference if op.reference is not None else op.forward


def _sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Undo broadcasting: sum ``g`` down to ``shape`` (written here, not borrowed from the
    engine, so the check stays independent of it)."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    stretched = tuple(d for d, n in enumerate(shape) if n == 1 and g.shape[d] != 1)
    return g.sum(axis=stretched, keepdims=True) if stretched else g


def _kink_gradient(case: OpCase, upstream: np.ndarray) -> list[np.ndarray]:
    (x,) = case.inputs
    reference = _reference(case)
    out = np.asarray(reference(x, **case.params))
    if out.shape != x.shape:
        raise ValueError(f"{case.op.name}: Domain.kinks describe elementwise ops, but the "
                         f"output shape {out.shape} differs from the input shape {x.shape}")
    x64 = x.astype(np.float64)
    # the differences across a kink (sqrt of -EPS) are discarded below: no warning for them
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (np.asarray(reference(x64 + EPS, **case.params), dtype=np.float64)
                 - np.asarray(reference(x64 - EPS, **case.params), dtype=np.float64)) / (2 * EPS)
    expected = upstream * slope
    for point, derivative in case.op.domain.kink_points(case.params):
        at = x64 == point
        expected = np.where(at, upstream * derivative, expected)
    return [expected]


def _tie_gradient(case: OpCase, upstream: np.ndarray) -> list[np.ndarray]:
    reference = _reference(case)
    numeric = [i for i, x in enumerate(case.inputs) if x.dtype.kind == "f"]
    out = np.asarray(reference(*case.inputs, **case.params))
    axis = case.params.get("axis")
    if isinstance(axis, tuple):
        (x,) = case.inputs
        kept = tuple(1 if d in axis else n for d, n in enumerate(x.shape))
        winners = x == out.reshape(kept)
        count = winners.sum(axis=axis, keepdims=True)
        return [np.where(winners, upstream.reshape(kept) / np.maximum(count, 1), 0.0)]
    candidates = [np.broadcast_to(case.inputs[i], out.shape) == out for i in numeric]
    count = np.maximum(np.sum(candidates, axis=0), 1)
    return [_sum_to(np.where(c, upstream / count, 0.0), case.inputs[i].shape)
            for i, c in zip(numeric, candidates)]


def expected_gradients(case: OpCase, upstream: np.ndarray) -> list[np.ndarray]:
    """The gradient of every differentiated input of a ``"kinks"`` or ``"ties"`` case that
    the op's Domain declares, for the upstream gradient ``upstream``."""
    if case.edge == "kinks":
        return _kink_gradient(case, upstream)
    if case.edge == "ties":
        return _tie_gradient(case, upstream)
    raise ValueError(f"expected_gradients: a {case.edge!r} case has no declared convention; "
                     f"draw it with edge='kinks' or edge='ties'")


def _engine(case: OpCase, diff: Sequence[int], upstream: np.ndarray,
            create_graph: bool) -> list[np.ndarray]:
    args: list[Any] = [_leaf(_read_only(x), requires_grad=True) if i in diff else _read_only(x)
                       for i, x in enumerate(case.inputs)]
    with enable_grad():
        out = case.call(*args)
        grads = gradients(out, [args[i] for i in diff], grad_outputs=Tensor(upstream),
                          create_graph=create_graph, allow_unused=True)
    return [g.detach().numpy() if create_graph else g.numpy() for g in grads]


def _describe(case: OpCase) -> str:
    if case.edge == "kinks":
        pairs = case.op.domain.kink_points(case.params)
        return "the documented derivative at its kinks (" + ", ".join(
            f"{d:g} at {p:g}" for p, d in pairs) + ")"
    return "the documented tie rule (tied candidates share the gradient equally)"


def check_conventions(case: OpCase, seed: int = 0) -> GradcheckResult:
    """Check that the op's VJP at a kink or tie is the one its Domain documents.

    Three checks, in order: an ordinary backward, a ``create_graph=True`` backward, and
    (when the Domain allows second order) the derivative of the latter with respect to the
    upstream gradient. Returns the first failure, or the worst agreement.
    """
    diff = [i for i, x in enumerate(case.inputs)
            if x.dtype.kind == "f" and i not in case.nondiff]
    _, atol, rtol = tolerances(min((case.inputs[i].dtype for i in diff),
                                   key=lambda d: d.itemsize, default=np.dtype(np.float64)))
    rng = np.random.default_rng(seed)
    out = np.asarray(_reference(case)(*case.inputs, **case.params))
    upstream = rng.standard_normal(out.shape)
    expected = expected_gradients(case, upstream)
    worst = GradcheckResult(True, 0.0, atol)
    for create_graph in (False, True):
        mode = "create_graph=True backward" if create_graph else "backward"
        for i, got, want in zip(diff, _engine(case, diff, upstream, create_graph), expected):
            if got.shape != want.shape:
                return GradcheckResult(False, np.inf, atol, f"{case.op.name}: the {mode} gives "
                                       f"input {i} a gradient of shape {got.shape}, expected "
                                       f"{want.shape}")
            if not got.size:
                continue
            error = np.abs(got - want)
            tol = atol + rtol * np.abs(want)
            ratio = np.where(np.isnan(error), np.inf, error / tol)
            k = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            if ratio[k] > 1:
                return GradcheckResult(
                    False, float(error[k]), float(tol[k]),
                    f"{case.op.name}: the {mode} gives input {i} the gradient "
                    f"{float(got[k]):.8g} at index {tuple(int(j) for j in k)} (value "
                    f"{float(case.inputs[i][k]):.8g}), but {_describe(case)} gives "
                    f"{float(want[k]):.8g} [{case!r}]")
            if error[k] > worst.error:
                worst = GradcheckResult(True, float(error[k]), float(tol[k]))
    if case.op.domain.second_order:
        # differentiate the create_graph gradient with respect to the upstream only: the
        # inputs sit on a kink or tie, where finite differences in them mean nothing
        n = len(case.inputs)

        def first_order(*args: Any) -> list[Tensor]:
            xs = [Tensor(np.asarray(a), requires_grad=True) if i in diff else a
                  for i, a in enumerate(args[:n])]
            g = args[n]
            with enable_grad():
                grads = gradients(case.call(*xs), [xs[i] for i in diff], grad_outputs=g,
                                  create_graph=g.requires_grad, allow_unused=True)
            return list(grads)

        result = check_gradients(first_order, *case.inputs, upstream, nondiff=range(n),
                                 seed=seed + 1, labels=[*(f"input {i}" for i in range(n)),
                                                        "grad_output"],
                                 what=f"{case.op.name}: second order at its {case.edge}")
        if not result.passed:
            return result
    return worst
