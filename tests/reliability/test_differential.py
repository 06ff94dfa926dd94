"""Differential fuzzing: random programs run in tensorgraph and in PyTorch must agree.

Hypothesis draws whole programs (``_drawing.programs``): elementwise ops with broadcasting
and fan-out, ``where`` and ``clip``, reductions with negative axes and ``keepdims``,
``matmul``, reshapes, transposes, joins, basic, integer-array and boolean indexing, in-place
updates recorded as PyTorch records them, ``retain_grad()``, repeated
``backward(retain_graph=True)`` with accumulation, ``zero_grad`` and numpy's protocols
(``np.exp(t)``, ``np.sum(t, axis=...)``, ``np.maximum(t, u)``). Each program runs in
tensorgraph and in PyTorch (float64); the test compares every value, the accumulated
gradient of every leaf and retained intermediate after every ``backward``, and a
Hessian-vector product made with ``create_graph=True`` in both. Inputs sit exactly on
kinks and ties on purpose (relu and abs at 0, tied maxima, ``maximum`` ties, ``clip`` at a
bound, ``x ** 0`` at 0): PyTorch's conventions there are tensorgraph's.

Without torch the same programs (drawn away from kinks) are checked against central finite
differences of a plain-numpy replay (``_finite_differences``); a separate test always takes
that path, so it is exercised in CI too. Every run also checks that no two gradient buffers
share memory, that none aliases an input, a seed or a value, and that the input arrays
handed to tensorgraph are unchanged.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable

import numpy as np
from hypothesis import given, settings

from ._drawing import programs
from ._engines import Run, hvp_tensorgraph, run_tensorgraph
from ._finite_differences import reference_hvp, reference_run
from ._programs import Program

#: In-place steps on tensors whose operand requires grad (``t += u``, ``t *= u``,
#: ``t[idx] = u``), written to PyTorch's semantics: the engine records them in the graph.
INPLACE_STEPS = True
#: In-place updates of views (``v = t[1:]; v += u``, ``v = t.T; v *= u``): in PyTorch the
#: write reaches the base ``t`` and ``t``'s history is rebased. tensorgraph refuses a recorded
#: in-place write to a tensor sharing memory with another (docs/reliability.md, "In-place ops
#: record into the graph"), pinned in test_saved_values.py, so these steps are not drawn.
INPLACE_VIEW_STEPS = False

HAVE_TORCH = importlib.util.find_spec("torch") is not None
#: the profile's budget (tests/conftest.py), scaled: one example is a whole program, 10 to
#: 50 ms; under ci the three tests take about 20 s, under thorough a few minutes
EXAMPLES = settings.default.max_examples
#: longer programs when the profile asks for a deep search (thorough: 400 examples)
MAX_STEPS = 24 if EXAMPLES >= 200 else 14


def _close(got: np.ndarray | None, want: np.ndarray | None, what: str, rtol: float,
           atol: float) -> None:
    assert (got is None) == (want is None), (
        f"{what}: tensorgraph has {'no' if got is None else 'a'} gradient, the reference "
        f"{'none' if want is None else 'one'}")
    if got is None or want is None:
        return
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    scale = 1.0 + float(np.max(np.abs(want), initial=0.0))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, err_msg=what)


def _compare(got: Run, want: Run, rtol: float, atol: float) -> None:
    assert len(got.values) == len(want.values)
    for i, (g, w) in enumerate(zip(got.values, want.values)):
        _close(g, w, f"value {i}", 1e-9, 1e-12)
    assert len(got.grads) == len(want.grads)
    for n, (g, w) in enumerate(zip(got.grads, want.grads)):
        assert g.keys() == w.keys()
        for key in g:
            _close(g[key], w[key], f"backward #{n}: gradient of value {key}", rtol, atol)


def _compare_hvp(program: Program, reference: Callable[[Program], tuple[list[np.ndarray],
                 list[np.ndarray]]], rtol: float, atol: float) -> None:
    if program.hvp_root < 0:
        return
    grads, hvp = hvp_tensorgraph(program)
    want_grads, want_hvp = reference(program)
    for leaf, g, w in zip(program.leaves, grads, want_grads):
        _close(g, w, f"create_graph gradient of leaf {leaf}", rtol, atol)
    for leaf, g, w in zip(program.leaves, hvp, want_hvp):
        _close(g, w, f"Hessian-vector product at leaf {leaf}", 10 * rtol, 10 * atol)


def check_against_torch(program: Program) -> None:
    from ._torch_engine import hvp_torch, run_torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch on retained .grad access
        want = run_torch(program)
        _compare(run_tensorgraph(program), want, 1e-8, 1e-10)
        _compare_hvp(program, hvp_torch, 1e-8, 1e-10)


def check_against_finite_differences(program: Program) -> None:
    _compare(run_tensorgraph(program), reference_run(program), 1e-5, 1e-6)
    _compare_hvp(program, reference_hvp, 1e-5, 1e-6)


def check(program: Program) -> None:
    """Check ``program`` against PyTorch when it is importable, else finite differences."""
    (check_against_torch if HAVE_TORCH else check_against_finite_differences)(program)


@settings(max_examples=8 * EXAMPLES)
@given(programs(edges=HAVE_TORCH, max_steps=MAX_STEPS))
def test_programs_match_the_reference(program: Program) -> None:
    check(program)


@settings(max_examples=4 * EXAMPLES)
@given(programs(edges=HAVE_TORCH, inplace=INPLACE_STEPS, views=INPLACE_VIEW_STEPS,
                max_steps=MAX_STEPS))
def test_programs_with_in_place_updates_match_the_reference(program: Program) -> None:
    check(program)


@settings(max_examples=4 * EXAMPLES)
@given(programs(edges=False, max_steps=10))
def test_programs_match_finite_differences(program: Program) -> None:
    # the path taken where torch is missing, exercised everywhere on a smaller budget
    check_against_finite_differences(program)
