"""Training-step timing of the reference model, every implementation in the same process.

One configuration (dtype, BLAS threads, allocator setting) runs in its own process
(``python -m benchmarks.steps CONFIG_JSON``), because the allocator setting must hold for
the whole process and for every implementation alike. Within it, for each batch size, the
implementations are timed interleaved round by round (:func:`benchmarks.harness.interleaved`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from .memory import MALLOC_ENV

__all__ = ["run_child", "run_config"]


def _calibrate(step: Any, target: float) -> int:
    """Calls per timing so that one timing lasts about ``target`` seconds."""
    start = time.perf_counter()
    step()
    elapsed = time.perf_counter() - start
    return max(1, min(1000, round(target / max(elapsed, 1e-7))))


def _repeated(step: Any, times: int) -> Any:
    def work() -> None:
        for _ in range(times):
            step()

    return work


def run_child(config: dict[str, Any]) -> dict[str, Any]:
    """Body of the child process."""
    if config["malloc"] == "tune_malloc":
        import tensorgraph.perf

        tensorgraph.perf.tune_malloc()
    import numpy as np

    from .harness import blas_threads, interleaved
    from .models import available, build
    from .reference_numpy import MLPSpec, init_params, make_data

    impls = [name for name in config["impls"] if available(name)]
    if "torch" in impls:
        import torch  # noqa: F401  (so that blas_threads pins its pool too)
    spec = MLPSpec()
    dtype = np.dtype(config["dtype"])
    results: dict[str, Any] = {"config": config, "impls": impls, "batches": {}}
    with blas_threads(config["threads"]) as pinned:
        results["pinned"] = pinned
        for batch in config["batches"]:
            params = init_params(spec, dtype)
            x, y = make_data(spec, batch, dtype)
            steps = {name: build(name, spec, params, x, y) for name in impls}
            for step in steps.values():  # first steps: imports, lazy state, allocator
                step()
            repeats = {n: _calibrate(s, config["target_seconds"]) for n, s in steps.items()}
            work = {n: _repeated(s, repeats[n]) for n, s in steps.items()}
            times = interleaved(work, rounds=config["rounds"], repeats=1, warmup=0)
            results["batches"][str(batch)] = {
                n: [t / repeats[n] for t in ts] for n, ts in times.items()
            }
    return results


def run_config(config: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration in a fresh process with its allocator environment."""
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}
    if config["malloc"] == "env":
        env.update(MALLOC_ENV)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "benchmarks.steps", json.dumps(config)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"step benchmark child failed ({config}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    print(json.dumps(run_child(json.loads(sys.argv[1]))))
