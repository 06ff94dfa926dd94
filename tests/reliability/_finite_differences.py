"""The reference when PyTorch is not importable: central finite differences.

First order: every ``backward`` step's gradient of each leaf and retained intermediate is
the central difference of ``<seed, value[root]>``, with the program replayed in plain numpy
(:func:`~tests.reliability._programs.replay`); gradients accumulate between ``zero_grad``\\ s
exactly as the engine's do, and a key has no gradient (None) until a root depending on it is
walked. Second order: the Hessian-vector product is the central difference, along the
direction, of tensorgraph's own first-order gradients (themselves checked against the
numpy replay).
"""

from __future__ import annotations

import numpy as np

from ._engines import Grads, Run, hvp_tensorgraph
from ._programs import Program, depends, parents, replay


def _objective(program: Program, root: int, seed: np.ndarray, key: int,
               value: np.ndarray) -> float:
    if key < len(program.inputs):
        values = replay(program, leaves={key: value})
    else:
        values = replay(program, override=(key, value))
    return float(np.sum(seed * values[root]))


def _gradient(program: Program, base: list[np.ndarray], root: int, seed: np.ndarray,
              key: int) -> np.ndarray:
    x = base[key]
    grad = np.zeros(x.shape)
    flat = grad.reshape(-1)
    for k in range(x.size):
        h = 1e-6 * max(1.0, abs(float(x.reshape(-1)[k])))
        sides = []
        for sign in (1.0, -1.0):
            point = x.copy()
            point.reshape(-1)[k] += sign * h
            sides.append(_objective(program, root, seed, key, point))
        flat[k] = (sides[0] - sides[1]) / (2 * h)
    return grad


def reference_run(program: Program) -> Run:
    """What a correct engine's :class:`Run` of ``program`` is, by finite differences."""
    base = replay(program)
    links = parents(program)
    run = Run(values=base)
    expected: Grads = {i: None for i in program.leaves}
    for step in program.steps:
        if step.kind == "retain" or step.kind == "zero_grad":
            expected[step.args[0]] = None
        elif step.kind == "backward":
            root, seed = step.args[0], step.params["seed"]
            reached = depends(links, root)
            for key in expected:
                if key in reached:
                    fd = _gradient(program, base, root, seed, key)
                    previous = expected[key]
                    expected[key] = fd if previous is None else previous + fd
            run.grads.append(dict(expected))
    return run


def reference_hvp(program: Program) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """First-order gradients by finite differences of the numpy replay, and the
    Hessian-vector product by central differences of tensorgraph's first-order gradients."""
    base = replay(program)
    assert program.hvp_seed is not None
    firsts = [_gradient(program, base, program.hvp_root, program.hvp_seed, leaf)
              if leaf in depends(parents(program), program.hvp_root) else np.zeros(base[leaf].shape)
              for leaf in program.leaves]
    h = 1e-6
    sides = []
    for sign in (1.0, -1.0):
        inputs = [x.copy() for x in program.inputs]
        for leaf, v in zip(program.leaves, program.hvp_direction):
            inputs[leaf] = inputs[leaf] + sign * h * v
        sides.append(hvp_tensorgraph(program, inputs, second=False)[0])
    return firsts, [(p - m) / (2 * h) for p, m in zip(*sides)]
