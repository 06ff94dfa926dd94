"""``python -m benchmarks [--quick] [--json PATH] [--only SECTION ...]``

Runs the suite and prints Markdown tables of medians with [min-max] and same-round ratios:

- ``overhead``: per-op cost of forward + backward on (4, 4) and (256, 256) tensors;
- ``steps``: one training step of the reference model at batch 32, 256 and 2048;
- ``scaling``: backward time per node for chains and fan-outs of 10^2 .. 10^5 nodes;
- ``memory``: peak RSS and page faults per step of a fresh process at batch 2048.

``--quick`` runs a small version of everything (the CI smoke test); its numbers are not
meant to be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import numpy as np

from . import harness, memory, overhead, scaling, steps
from .harness import fmt_summary, format_table, ratio_summary, summarize

IMPLS = ["tensorgraph", "numpy", "torch", "mygrad", "autograd"]
QUICK_IMPLS = ["tensorgraph", "numpy"]
SECTIONS = ["overhead", "steps", "scaling", "memory"]


def _importable(name: str) -> bool:
    module = "tensorgraph" if name == "tensorgraph" else name
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _ratio_cells(times: dict[str, list[float]], name: str) -> list[str]:
    cells = []
    for ref in ("numpy", "torch"):
        r = ratio_summary(times, name, ref)
        cells.append("-" if r is None or name == ref else fmt_summary(r, "ratio"))
    return cells


def _ratio_dict(times: dict[str, list[float]], name: str) -> dict[str, Any]:
    out = {}
    for ref in ("numpy", "torch"):
        r = ratio_summary(times, name, ref)
        if r is not None and name != ref:
            out[f"ratio_to_{ref}"] = r.as_dict()
    return out


def run_overhead(quick: bool, impls: list[str]) -> tuple[str, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    with harness.blas_threads(1) as pinned:
        for shape in [(4, 4), (256, 256)]:
            work = {n: overhead.build(n, shape, np.float32) for n in impls}
            small = shape == (4, 4)
            times = harness.interleaved(
                work, rounds=3 if quick else 21,
                repeats=(20 if quick else 400) if small else (2 if quick else 30),
            )
            per_op = {n: [t / overhead.N_OPS for t in ts] for n, ts in times.items()}
            for n in work:
                s = summarize([t * 1e6 for t in per_op[n]])
                rows.append([str(shape), n, fmt_summary(s, "us"), *_ratio_cells(per_op, n)])
                records.append({"shape": list(shape), "impl": n, "us_per_op": s.as_dict(),
                                **_ratio_dict(per_op, n)})
    table = format_table(
        ["shape", "impl", "us/op median [min-max]", "/ numpy", "/ torch"], rows)
    return f"Per-op overhead, float32, {pinned}, {overhead.N_OPS} ops fwd+bwd\n\n{table}", records


def step_configs(quick: bool, impls: list[str]) -> list[dict[str, Any]]:
    base = {"impls": impls, "rounds": 3 if quick else 15,
            "target_seconds": 0.005 if quick else 0.15,
            "batches": [32] if quick else [32, 256, 2048]}
    if quick:
        return [{**base, "dtype": "float32", "threads": 1, "malloc": "default"}]
    return [
        {**base, "dtype": "float32", "threads": 1, "malloc": "default"},
        {**base, "dtype": "float32", "threads": 1, "malloc": "tune_malloc"},
        {**base, "dtype": "float64", "threads": 1, "malloc": "tune_malloc"},
        {**base, "dtype": "float32", "threads": 2, "malloc": "tune_malloc"},
    ]


def run_steps(quick: bool, impls: list[str]) -> tuple[str, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for config in step_configs(quick, impls):
        result = steps.run_config(config)
        label = f"{config['dtype']}, {config['threads']} thr, malloc {config['malloc']}"
        for batch, times in result["batches"].items():
            for n, ts in times.items():
                s = summarize(ts)
                rows.append([batch, label, n, fmt_summary(s), *_ratio_cells(times, n)])
                records.append({"batch": int(batch), "dtype": config["dtype"],
                                "threads": config["threads"], "malloc": config["malloc"],
                                "pinned": result["pinned"], "impl": n,
                                "seconds": s.as_dict(), **_ratio_dict(times, n)})
    table = format_table(["batch", "config", "impl", "step median [min-max]", "/ numpy",
                          "/ torch"], rows)
    return f"Training step of the reference model (forward + backward + Adam)\n\n{table}", records


def run_scaling(quick: bool) -> tuple[str, list[dict[str, Any]]]:
    sizes = [100, 1000] if quick else [100, 1000, 10_000, 100_000]
    records = []
    rows = []
    for kind in ("chain", "fanout"):
        for n in sizes:
            r = scaling.measure(kind, n, repeats=2 if quick else (3 if n >= 100_000 else 7))
            records.append(r)
            u = r["us_per_node"]
            rows.append([kind, f"{n:,}", f"{u['median']:.2f} [{u['min']:.2f}-{u['max']:.2f}]"])
    table = format_table(["graph", "nodes", "backward us/node median [min-max]"], rows)
    return f"Engine scaling (tensorgraph backward only, float32 (1,) tensors)\n\n{table}", records


def run_memory(quick: bool) -> tuple[str, list[dict[str, Any]]]:
    batch, n_steps = (256, 10) if quick else (2048, 200)
    records = []
    rows = []
    for malloc in (["default"] if quick else ["default", "env", "tune_malloc"]):
        for impl in ("tensorgraph", "numpy"):
            r = memory.measure(impl, batch, n_steps, "float32", malloc)
            records.append(r)
            rows.append([malloc, impl, f"{r['peak_rss_mib']:.1f}", f"{r['baseline_rss_mib']:.1f}",
                         f"{r['peak_rss_mib'] - r['baseline_rss_mib']:.1f}",
                         f"{r['minflt_per_step']:.0f}", f"{r['ms_per_step']:.2f}"])
    table = format_table(["malloc", "impl", "peak RSS MiB", "after imports MiB",
                          "peak - imports", "minor faults/step", "ms/step"], rows)
    title = f"Peak memory: fresh process, {n_steps} steps at batch {batch}, float32, 1 thread"
    return f"{title}\n\n{table}", records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small smoke run (CI)")
    parser.add_argument("--json", metavar="PATH", help="write all results as JSON to PATH")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS,
                        help="run only these sections")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=None,
                        help="implementations to compare (default: all installed ones; with "
                             "--quick: tensorgraph and numpy, since importing a peer can "
                             "take longer than the whole quick run)")
    args = parser.parse_args(argv)
    wanted = args.impls or (QUICK_IMPLS if args.quick else IMPLS)
    impls = [n for n in wanted if _importable(n)]
    skipped = [n for n in wanted if n not in impls]
    env = harness.environment()
    print(f"# tensorgraph benchmarks{' (--quick: not for reading)' if args.quick else ''}\n")
    print(f"python {env['python']}, numpy {env['numpy']}, {env['platform']}, "
          f"{env['cpus']} CPUs")
    print(f"BLAS: {env['blas']}")
    print(f"allocator/BLAS environment: {env['env'] or 'none set'}")
    print(f"implementations: {', '.join(impls)}"
          + (f" (not installed: {', '.join(skipped)})" if skipped else ""))
    print("ratios: implementation time / reference time within the same round; "
          "median [min-max] over rounds\n")
    record: dict[str, Any] = {"quick": args.quick, "environment": env, "impls": impls}
    start = time.perf_counter()
    for section in args.only:
        if section == "overhead":
            text, rec = run_overhead(args.quick, impls)
        elif section == "steps":
            text, rec = run_steps(args.quick, impls)
        elif section == "scaling":
            text, rec = run_scaling(args.quick)
        else:
            text, rec = run_memory(args.quick)
        record[section] = rec
        print(f"## {text}\n", flush=True)
    record["seconds"] = time.perf_counter() - start
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)
        print(f"JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
