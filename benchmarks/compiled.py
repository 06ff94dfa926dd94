"""``python -m benchmarks.compiled [--quick] [--json PATH]``: tg.compile against eager,
hand-written numpy and PyTorch.

Two tables, each timed in a fresh process (default allocator, one BLAS thread), the
implementations *interleaved* round by round (rotating order) and compared by same-round
ratios, as :mod:`benchmarks.steps` does; the clock is the thread's CPU time
(``time.thread_time``), which other processes on a shared machine do not inflate:

- **per op**: forward + backward of the five-op expression of :mod:`benchmarks.overhead`
  on (4, 4) tensors, with tensorgraph eager and the same function under ``tg.compile``;
- **reference step**: one training step of the reference model (64 -> 256 -> 256 -> 1,
  batch-norm, ReLU, dropout, BCE + L2, Adam) at batch 32, 256 and 2048, with the minor
  page faults per step (``resource.getrusage``, counted over the timed calls) and the peak
  RSS of a process that only builds that implementation and runs it (``VmHWM``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .harness import blas_threads, environment, format_table
from .memory import MALLOC_ENV, _status_mib

__all__ = ["build_compiled_op", "build_compiled_step", "main", "measure"]

STEP_IMPLS = ["numpy", "tensorgraph", "tensorgraph-compiled", "torch"]
OP_IMPLS = ["numpy", "tensorgraph", "tensorgraph-compiled", "torch"]


def build_compiled_step(spec: Any, params: Any, x: Any, y: Any) -> Callable[[], Any]:
    """The reference model's step, written as for eager mode, under ``tg.compile``."""
    import tensorgraph as tg

    from .tg_model import TensorgraphMLP

    model = TensorgraphMLP(params, spec)
    X, Y = tg.tensor(x), tg.tensor(y)

    @tg.compile
    def step(x: Any, y: Any) -> Any:
        model.optimizer.zero_grad()
        cost = model.forward(x, y)
        cost.backward()
        model.optimizer.step()
        return cost

    return lambda: step(X, Y)


def build_compiled_op(shape: tuple[int, int], dtype: Any) -> Callable[[], Any]:
    """:func:`benchmarks.overhead.build_tensorgraph`'s function under ``tg.compile``."""
    import tensorgraph as tg

    from .overhead import build_tensorgraph

    return tg.compile(build_tensorgraph(shape, dtype))  # type: ignore[no-any-return]


def _step_builder(name: str) -> Any:
    from .models import build

    if name == "tensorgraph-compiled":
        return build_compiled_step
    return lambda spec, params, x, y: build(name, spec, params, x, y)


def _op_builder(name: str) -> Any:
    from .overhead import build

    if name == "tensorgraph-compiled":
        return build_compiled_op
    return lambda shape, dtype: build(name, shape, dtype)


def _interleaved(work: dict[str, Callable[[], Any]], rounds: int, target: float
                 ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Thread-CPU seconds per call and minor page faults per call, one entry per round."""
    for fn in work.values():  # first calls: traces, lazy state, the allocator's arenas
        fn()
        fn()
    repeats = {}
    for name, fn in work.items():
        start = time.thread_time()
        fn()
        repeats[name] = max(1, min(2000, round(target / max(time.thread_time() - start, 1e-6))))
    times: dict[str, list[float]] = {n: [] for n in work}
    faults: dict[str, list[float]] = {n: [] for n in work}
    names = list(work)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn, n = work[name], repeats[name]
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = time.thread_time()
            for _ in range(n):
                fn()
            times[name].append((time.thread_time() - start) / n)
            faults[name].append((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
                                / n)
    return times, faults


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _ratios(times: dict[str, list[float]], ref: str) -> dict[str, dict[str, float]]:
    return {n: _summary([a / b for a, b in zip(ts, times[ref])])
            for n, ts in times.items() if n != ref and ref in times}


def _available(name: str) -> bool:
    if name != "torch":
        return True
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_child(config: dict[str, Any]) -> dict[str, Any]:
    """Body of a child process: ``config["kind"]`` is ``"ops"``, ``"steps"`` or ``"peak"``."""
    from .reference_numpy import MLPSpec, init_params, make_data

    dtype = np.dtype(config["dtype"])
    impls = [n for n in config["impls"] if _available(n)]
    if "torch" in impls:
        import torch  # noqa: F401  (blas_threads pins its pool too)
    out: dict[str, Any] = {"config": config}
    with blas_threads(1) as pinned:
        out["pinned"] = pinned
        if config["kind"] == "ops":
            work = {n: _op_builder(n)((4, 4), dtype) for n in impls}
            times, _ = _interleaved(work, config["rounds"], config["target"])
            out["times"] = times
            out["ratio_to_numpy"] = _ratios(times, "numpy")
            out["ratio_to_torch"] = _ratios(times, "torch")
            return out
        spec = MLPSpec()
        if config["kind"] == "peak":
            x, y = make_data(spec, config["batch"], dtype)
            baseline = _status_mib("VmRSS")
            step = _step_builder(impls[0])(spec, init_params(spec, dtype), x, y)
            for _ in range(config["steps"]):
                step()
            out["peak_mib"] = _status_mib("VmHWM") - baseline
            return out
        out["batches"] = {}
        for batch in config["batches"]:
            x, y = make_data(spec, batch, dtype)
            work = {n: _step_builder(n)(spec, init_params(spec, dtype), x, y) for n in impls}
            times, faults = _interleaved(work, config["rounds"], config["target"])
            out["batches"][str(batch)] = {
                "times": times, "faults": faults,
                "ratio_to_numpy": _ratios(times, "numpy"),
                "ratio_to_torch": _ratios(times, "torch"),
            }
    return out


def measure(config: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration in a fresh process (the default allocator: no MALLOC_ env)."""
    env = {k: v for k, v in os.environ.items() if k not in MALLOC_ENV}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "benchmarks.compiled", "--child", json.dumps(config)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"compiled benchmark child failed ({config}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _cell(s: dict[str, float], scale: float = 1.0, unit: str = "x") -> str:
    return (f"{s['median'] * scale:.2f}{unit} "
            f"[{s['min'] * scale:.2f}-{s['max'] * scale:.2f}]")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compiled")
    parser.add_argument("--quick", action="store_true", help="a smoke run (numbers not meant "
                        "to be read)")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(json.loads(args.child))))
        return {}
    quick = args.quick
    rounds, target = (3, 0.005) if quick else (15, 0.25)
    batches = [32] if quick else [32, 256, 2048]
    base = {"dtype": args.dtype, "rounds": rounds, "target": target}
    ops = measure({**base, "kind": "ops", "impls": OP_IMPLS})
    steps = measure({**base, "kind": "steps", "impls": STEP_IMPLS, "batches": batches})
    peaks = {(impl, b): measure({**base, "kind": "peak", "impls": [impl], "batch": b,
                                 "steps": 3 if quick else 20})["peak_mib"]
             for b in batches for impl in STEP_IMPLS if _available(impl)}
    rows = []
    for name, ts in ops["times"].items():
        r_np = ops["ratio_to_numpy"].get(name)
        r_t = ops["ratio_to_torch"].get(name)
        rows.append([name, _cell(_summary(ts), 1e6 / 5, ""), _cell(r_np) if r_np else "1",
                     _cell(r_t) if r_t else "-"])
    print(f"\nper op, forward + backward of 5 ops on (4, 4) {args.dtype} "
          f"({ops['pinned']}, thread CPU time)\n")
    print(format_table(["impl", "us/op", "x numpy", "x torch"], rows))
    for batch, res in steps["batches"].items():
        rows = []
        for name, ts in res["times"].items():
            r_np = res["ratio_to_numpy"].get(name)
            r_t = res["ratio_to_torch"].get(name)
            rows.append([name, _cell(_summary(ts), 1e3, " ms"), _cell(r_np) if r_np else "1",
                         _cell(r_t) if r_t else "-",
                         f"{statistics.median(res['faults'][name]):.1f}",
                         f"{peaks.get((name, int(batch)), float('nan')):.1f}"])
        print(f"\nreference step, batch {batch}, {args.dtype} ({steps['pinned']}, thread CPU "
              f"time, {rounds} interleaved rounds)\n")
        print(format_table(["impl", "ms/step", "x numpy", "x torch", "page faults/step",
                            "peak RSS MiB"], rows))
    record = {"environment": environment(), "ops": ops, "steps": steps,
              "peak_mib": {f"{k[0]}@{k[1]}": v for k, v in peaks.items()}}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)
    return record


if __name__ == "__main__":
    main()
