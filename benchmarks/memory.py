"""Peak memory and page faults of a fresh process training the reference model.

Each measurement is a new Python process (``python -m benchmarks.memory IMPL ...``) so that
peak RSS (``VmHWM``) belongs to that implementation alone. The process imports its
implementation, builds the model, runs ``steps`` training steps with BLAS pinned to one
thread, and prints JSON: peak RSS, RSS after imports (the interpreter, numpy and the
library), minor page faults per step (``ru_minflt``, after two warm-up steps) and time per
step.

Allocator settings compared:

``default``
    glibc as it comes.
``env``
    ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456`` in the environment.
``tune_malloc``
    :func:`tensorgraph.perf.tune_malloc` called at start (the same settings, from Python).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

__all__ = ["MALLOC_ENV", "measure", "run_child"]

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "268435456"}


def _status_mib(field: str) -> float:
    """A memory line of /proc/self/status (``VmRSS``, ``VmHWM``) in MiB.

    Peak RSS is read as ``VmHWM`` rather than ``ru_maxrss``: Linux keeps ``ru_maxrss``
    across ``execve``, so a child started by a big parent would report the parent's peak.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def run_child(impl: str, batch: int, steps: int, dtype: str, tune: bool) -> dict[str, Any]:
    """Body of the child process: returns the measurements as a dict."""
    if tune:
        import tensorgraph.perf

        tensorgraph.perf.tune_malloc()
    import numpy as np

    from .harness import blas_threads
    from .models import build
    from .reference_numpy import MLPSpec, init_params, make_data

    spec = MLPSpec()
    params = init_params(spec, np.dtype(dtype))
    x, y = make_data(spec, batch, np.dtype(dtype))
    with blas_threads(1):
        step = build(impl, spec, params, x, y)
        baseline = _status_mib("VmRSS")
        for _ in range(2):
            step()
        before = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        for _ in range(steps):
            step()
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "impl": impl,
        "batch": batch,
        "steps": steps,
        "dtype": dtype,
        "baseline_rss_mib": baseline,
        "peak_rss_mib": _status_mib("VmHWM"),
        "minflt_per_step": (after.ru_minflt - before.ru_minflt) / steps,
        "ms_per_step": elapsed / steps * 1e3,
    }


def measure(impl: str, batch: int, steps: int, dtype: str, malloc: str) -> dict[str, Any]:
    """Run one child process with the ``malloc`` setting and return its measurements."""
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}
    if malloc == "env":
        env.update(MALLOC_ENV)
    cmd = [sys.executable, "-m", "benchmarks.memory", impl, "--batch", str(batch),
           "--steps", str(steps), "--dtype", dtype]
    if malloc == "tune_malloc":
        cmd.append("--tune")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory benchmark child failed ({' '.join(cmd)}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["malloc"] = malloc
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("impl")
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--tune", action="store_true", help="call tensorgraph.perf.tune_malloc()")
    args = parser.parse_args(argv)
    print(json.dumps(run_child(args.impl, args.batch, args.steps, args.dtype, args.tune)))


if __name__ == "__main__":
    main()
