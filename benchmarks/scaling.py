"""Engine scaling: backward time per node for long chains and wide fan-outs.

A *chain* is ``y = x; y = y * 1.0`` repeated n times (each node's input is the previous
node); a *fan-out* is one leaf used by n nodes ``x * c_i`` whose results are stacked and
summed. Only ``backward()`` is timed (the graph is rebuilt untimed before each timing). If
the engine's bookkeeping were quadratic anywhere (a list scan per node, re-sorting, repeated
accumulation copies) the time per node would grow with n; flat is the goal.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

import numpy as np

__all__ = ["build_chain", "build_fanout", "measure"]


def build_chain(n: int) -> tuple[Any, Any]:
    """A chain of ``n`` multiply nodes from one leaf; returns (leaf, scalar root)."""
    import tensorgraph as tg

    x = tg.tensor(np.ones(1, dtype=np.float32), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0
    return x, y


def build_fanout(n: int) -> tuple[Any, Any]:
    """One leaf feeding ``n`` multiply nodes, stacked and summed; returns (leaf, root)."""
    import tensorgraph as tg

    x = tg.tensor(np.ones(1, dtype=np.float32), requires_grad=True)
    terms = [x * float(i) for i in range(n)]
    return x, tg.stack(terms).sum()


def measure(kind: str, n: int, repeats: int) -> dict[str, Any]:
    """Backward seconds per node over ``repeats`` fresh graphs of ``n`` nodes: median/min/max."""
    builder = build_chain if kind == "chain" else build_fanout
    per_node = []
    for _ in range(repeats):
        _, root = builder(n)
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        root.backward()
        elapsed = time.perf_counter() - start
        gc.enable()
        per_node.append(elapsed / n)
        del root
    return {
        "kind": kind,
        "nodes": n,
        "us_per_node": {
            "median": statistics.median(per_node) * 1e6,
            "min": min(per_node) * 1e6,
            "max": max(per_node) * 1e6,
        },
    }
