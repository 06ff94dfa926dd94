"""Cost per op of the saved-value guards, against the engine before them, in one run.

``python -m benchmarks.guards [--baseline REV] [--rounds N] [--quick]``

The guards (docs/reliability.md, "What a graph saves cannot change"): one version counter per
storage shared by views and ``detach()``, copies of the caller's arrays and array parameters
when a node saves them, seeds and retained gradients never adopted twice, numpy scalars made
weak. Their cost is what they add to recording an op and to walking it back.

Both engines run in fresh subprocesses, alternating round by round (this tree, then
``--baseline``, checked out with ``git archive`` into a temporary directory), so the ratio of
one round compares two measurements taken moments apart on the same machine. Each
subprocess times the forward and backward of three small workloads on (4, 4) float64 tensors,
where the arithmetic is negligible and the fixed cost per op is what is left:

- ``elementwise``: ``x*y + x``, squared, minus ``y``, summed (5 ops);
- ``views``: reshape, a strided slice, a transpose, an ``expand_dims``, a sum over an axis
  (5 ops, all but the last return views, so the storage check runs on each);
- ``operands``: products with a caller's ndarray and an integer index array, summed (4 ops:
  the array and the index are copied when saved).

Times are the thread's CPU time (``time.thread_time``), which other processes on a busy
machine disturb less than the wall clock. The table gives microseconds per op (median over
rounds of each round's best of repeats) and the difference per op, this tree minus the
baseline, with its spread over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["WORKLOADS", "main", "measure"]

#: the commit before the guards landed
DEFAULT_BASELINE = "feefc08"

_CHILD = r"""
import json, sys, time
import numpy as np
import tensorgraph as tg

repeats, inner = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
scale = rng.standard_normal((4, 4))
index = np.array([0, 2, 2, 3])

def elementwise():
    x.grad = y.grad = None
    t = x * y
    t = t + x
    t = t * t
    t = t - y
    t.sum().backward()

def views():
    x.grad = None
    t = x.reshape(16)
    t = t[::2]
    t = t.reshape(2, 4).T
    t = t.expand_dims(0)
    t.sum(axis=1).sum().backward()

def operands():
    x.grad = None
    t = x * scale
    t = t[index]
    t = t * scale
    t.sum().backward()

counts = {"elementwise": 5, "views": 6, "operands": 4}
result = {}
for name, fn in (("elementwise", elementwise), ("views", views), ("operands", operands)):
    for _ in range(inner):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        for _ in range(inner):
            fn()
        best = min(best, (time.thread_time() - start) / inner)
    result[name] = best / counts[name] * 1e6
print(json.dumps(result))
"""

WORKLOADS = ("elementwise", "views", "operands")


def measure(source: Path, repeats: int, inner: int) -> dict[str, float]:
    """Microseconds per op of each workload, in a fresh interpreter importing ``source``."""
    env = dict(os.environ, PYTHONPATH=str(source), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", _CHILD, str(repeats), str(inner)], env=env,
                         check=True, capture_output=True, text=True, cwd=str(source))
    result: dict[str, float] = json.loads(out.stdout)
    return result


def _checkout(rev: str, into: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(root), "archive", rev, "tensorgraph"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="a tiny run (CI smoke test)")
    parser.add_argument("--json", metavar="PATH", help="write the raw numbers there")
    args = parser.parse_args(argv)
    rounds, repeats, inner = (2, 2, 20) if args.quick else (args.rounds, 7, 400)
    here = Path(__file__).resolve().parent.parent
    current: dict[str, list[float]] = {w: [] for w in WORKLOADS}
    baseline: dict[str, list[float]] = {w: [] for w in WORKLOADS}
    with tempfile.TemporaryDirectory() as tmp:
        _checkout(args.baseline, Path(tmp))
        for _ in range(rounds):
            for name, value in measure(here, repeats, inner).items():
                current[name].append(value)
            for name, value in measure(Path(tmp), repeats, inner).items():
                baseline[name].append(value)
    print(f"saved-value guards: this tree vs {args.baseline}, (4, 4) float64, "
          f"{rounds} alternating rounds, us per op (fwd + bwd)\n")
    print("| workload | baseline us/op | guarded us/op | added us/op [min, max] |")
    print("| --- | --- | --- | --- |")
    summary: dict[str, Any] = {}
    for name in WORKLOADS:
        added = [c - b for c, b in zip(current[name], baseline[name])]
        row = {
            "baseline": statistics.median(baseline[name]),
            "guarded": statistics.median(current[name]),
            "added": statistics.median(added),
            "added_min": min(added),
            "added_max": max(added),
        }
        summary[name] = row
        print(f"| {name} | {row['baseline']:.2f} | {row['guarded']:.2f} | "
              f"{row['added']:+.2f} [{row['added_min']:+.2f}, {row['added_max']:+.2f}] |")
    if args.json:
        Path(args.json).write_text(json.dumps({"current": current, "baseline": baseline,
                                               "summary": summary}, indent=2))
    return summary


if __name__ == "__main__":
    main()
