"""``python -m benchmarks.study [--data NAME ...] [--jobs N ...] [--rounds R] [--json PATH]``

Times the main job as a user runs it: ``tensorgraph compare --data NAME --jobs N`` in a
fresh process (start-up, data, every fit, the files and the picture included), for each
data set and each number of workers. The runs are interleaved (round 1: jobs 1, jobs 2;
round 2: jobs 2, jobs 1; ...) so that a change in the machine's load hits both alike; the
speed-up is computed per round and summarised by its median. Each run also reports its CPU
time and the load average around it, because on a shared machine the wall time says as much
about the neighbours as about the code. The fits' numbers must agree between runs (they do
not depend on the number of workers); the benchmark checks that too.

Targets (issue 11): the default breast-cancer study (9 models x 5 folds x 2 repeats) under
60 s of wall time on 2 cores; digits under 3 minutes; ``--jobs 2`` at least 1.7x faster than
``--jobs 1`` on 2 cores.

``--quick`` runs a tiny study once (the smoke test); its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGETS = {"breast_cancer": 60.0, "digits": 180.0}
SPEED_UP_TARGET = 1.7
QUICK = ["--models", "gd", "adam", "--folds", "2", "--repeats", "1", "--epochs", "2"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(data: str, jobs: int, out: Path, extra: list[str]) -> dict[str, Any]:
    """One ``tensorgraph compare`` in a fresh process: wall and CPU seconds, load average."""
    command = [sys.executable, "-m", "tensorgraph", "compare", "--data", data, "--jobs",
               str(jobs), "--no-progress", "--out", str(out), *extra]
    load_before = os.getloadavg()[0]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    document = json.loads((out / "results.json").read_text())
    numbers = [{k: v for k, v in fit.items() if k != "seconds"} for fit in document["fits"]]
    return {
        "data": data,
        "jobs": jobs,
        "wall_seconds": wall,
        "cpu_seconds": _children_cpu() - cpu_before,
        "fit_seconds": sum(fit["seconds"] for fit in document["fits"]),
        "fits": len(numbers),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "numbers": json.dumps(numbers),
        "table": done.stdout,
    }


def measure(datasets: list[str], jobs: list[int], rounds: int, extra: list[str]
            ) -> list[dict[str, Any]]:
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for data in datasets:
            for number in range(rounds):
                order = jobs if number % 2 == 0 else jobs[::-1]
                for n in order:
                    run = run_once(data, n, Path(tmp) / f"{data}-{n}-{number}", extra)
                    run["round"] = number
                    runs.append(run)
                    print(f"{data} jobs {n} round {number + 1}: {run['wall_seconds']:.1f} s "
                          f"wall, {run['cpu_seconds']:.1f} s CPU, load "
                          f"{run['load_before']:.1f} -> {run['load_after']:.1f}",
                          file=sys.stderr, flush=True)
    return runs


def summarise(runs: list[dict[str, Any]], jobs: list[int]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for data in dict.fromkeys(r["data"] for r in runs):
        mine = [r for r in runs if r["data"] == data]
        identical = len({r["numbers"] for r in mine}) == 1
        entry: dict[str, Any] = {"identical_numbers": identical, "fits": mine[0]["fits"]}
        for n in jobs:
            walls = [r["wall_seconds"] for r in mine if r["jobs"] == n]
            entry[f"jobs_{n}"] = {"median_wall": statistics.median(walls), "walls": walls,
                                  "median_cpu": statistics.median(
                                      r["cpu_seconds"] for r in mine if r["jobs"] == n)}
        if 1 in jobs and len(jobs) > 1:
            other = max(jobs)
            by_round = {}
            for r in mine:
                by_round.setdefault(r["round"], {})[r["jobs"]] = r["wall_seconds"]
            ratios = [w[1] / w[other] for w in by_round.values() if 1 in w and other in w]
            entry[f"speed_up_{other}_vs_1"] = {"median": statistics.median(ratios),
                                               "rounds": ratios}
        summary[data] = entry
    return summary


def report(summary: dict[str, Any], jobs: list[int], quick: bool) -> str:
    lines = ["| data | fits | " + " | ".join(f"jobs {n}: wall (CPU) s" for n in jobs)
             + " | speed-up | target | identical numbers |",
             "| --- | --- | " + " | ".join("---" for _ in jobs) + " | --- | --- | --- |"]
    for data, entry in summary.items():
        cells = [f"{entry[f'jobs_{n}']['median_wall']:.1f} "
                 f"({entry[f'jobs_{n}']['median_cpu']:.1f})" for n in jobs]
        speed = next((v for k, v in entry.items() if k.startswith("speed_up")), None)
        best = min(entry[f"jobs_{n}"]["median_wall"] for n in jobs)
        target = TARGETS.get(data)
        verdict = "-" if quick or target is None else (
            f"< {target:.0f} s: {'met' if best < target else 'MISSED'}")
        speed_cell = "-"
        if speed is not None:
            met = "met" if speed["median"] >= SPEED_UP_TARGET else "MISSED"
            speed_cell = f"{speed['median']:.2f}x" + (
                "" if quick else f" ({met}: >= {SPEED_UP_TARGET}x)")
        lines.append(f"| {data} | {entry['fits']} | " + " | ".join(cells)
                     + f" | {speed_cell} | {verdict} | {entry['identical_numbers']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.study", description=__doc__)
    parser.add_argument("--data", nargs="+", default=["breast_cancer", "digits"])
    parser.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", metavar="PATH", help="write the record there")
    parser.add_argument("--quick", action="store_true", help="a tiny study, once")
    args = parser.parse_args(argv)
    extra = QUICK if args.quick else []
    rounds = 1 if args.quick else args.rounds
    runs = measure(args.data, args.jobs, rounds, extra)
    summary = summarise(runs, args.jobs)
    print(report(summary, args.jobs, args.quick))
    print(f"\n{platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; median of {rounds} interleaved round(s)")
    if args.json:
        record = {"quick": args.quick, "cores": os.cpu_count(), "python": platform.python_version(),
                  "summary": summary,
                  "runs": [{k: v for k, v in r.items() if k not in ("numbers",)} for r in runs]}
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
    return 0 if all(entry["identical_numbers"] for entry in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
