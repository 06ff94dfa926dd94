"""Time and peak memory of :func:`tensorgraph.data.load_csv` on a large clean CSV file.

``python -m benchmarks.csv_load [--rows 1000000] [--features 29] [--repeat 3] [--careful]
[--file PATH] [--json PATH]``

The file has a header line, ``--features`` float columns written with 7 significant digits
and an integer label column (30 columns by default), about 300 MB for a million rows. It is
written once into a temporary folder (or kept at ``--file``, reused when it exists).

Every measurement is a fresh Python process (``--child``), so one reader's memory does not
hide another's:

* time: wall and CPU seconds of the call alone (imports done before);
* peak memory: the peak of the Python and numpy allocations during the call
  (``tracemalloc``, which numpy reports its buffers to; measured in a separate run because
  tracing slows allocation), and the growth of the peak RSS (``VmHWM``) over the RSS before
  the call.

Ratios: peak memory over the size of the arrays returned (features + labels), and time
over ``np.loadtxt`` reading the same file into one float32 array in the same run (numpy's C
parser with no checks: the floor for a reader built on it). ``--careful`` also times the
careful reader (the path taken by files that fail the fast path): slow by design.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

READERS = ("load_csv", "np.loadtxt", "careful")


def write_file(path: Path, rows: int, features: int, seed: int = 0) -> None:
    """A clean CSV: a header, ``features`` float columns and an integer label column."""
    rng = np.random.default_rng(seed)
    line = ",".join(["%.7g"] * features) + ",%d\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join([f"f{k}" for k in range(features)] + ["label"]) + "\n")
        for start in range(0, rows, 50_000):
            n = min(50_000, rows - start)
            block = np.empty((n, features + 1))
            block[:, :features] = rng.normal(size=(n, features)).astype(np.float32)
            block[:, features] = rng.integers(0, 2, n)
            handle.write("".join(line % tuple(r) for r in block.tolist()))


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for entry in status:
            if entry.startswith(field + ":"):
                return int(entry.split()[1]) * 1024
    return 0


def _read(reader: str, path: str) -> list[np.ndarray]:
    if reader == "np.loadtxt":
        return [np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32, comments=None)]
    from tensorgraph.data import _csv_fast, load_csv

    if reader == "careful":

        def decline(*args: object) -> Any:
            raise _csv_fast.Declined

        _csv_fast.read = decline  # type: ignore[assignment]
    bunch = load_csv(path)
    assert bunch.target is not None
    return [bunch.data, bunch.target]


def child(reader: str, path: str, trace: bool) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    import tensorgraph.data  # noqa: F401 - imports are not part of the measurement

    rss_before = _status_bytes("VmRSS")
    if trace:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    arrays = _read(reader, path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result: dict[str, Any] = {
        "reader": reader,
        "nbytes": sum(a.nbytes for a in arrays),
        "shape": list(arrays[0].shape),
    }
    if trace:
        result["peak_traced"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        result.update(wall=wall, cpu=cpu, peak_rss_growth=_status_bytes("VmHWM") - rss_before)
    return result


def _spawn(reader: str, path: Path, trace: bool) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.csv_load", "--child", reader, str(path)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [*command, *(["--trace"] if trace else [])],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def measure(path: Path, readers: list[str], repeat: int) -> dict[str, dict[str, Any]]:
    """Per reader: the median wall and CPU seconds of ``repeat`` runs, the peak memories."""
    results: dict[str, dict[str, Any]] = {}
    for reader in readers:
        runs = [_spawn(reader, path, trace=False) for _ in range(repeat)]
        traced = _spawn(reader, path, trace=True)
        results[reader] = {
            "wall": statistics.median(r["wall"] for r in runs),
            "wall_all": [r["wall"] for r in runs],
            "cpu": statistics.median(r["cpu"] for r in runs),
            "cpu_all": [r["cpu"] for r in runs],
            "peak_rss_growth": max(r["peak_rss_growth"] for r in runs),
            "peak_traced": traced["peak_traced"],
            "nbytes": traced["nbytes"],
            "shape": traced["shape"],
        }
    return results


def report(results: dict[str, dict[str, Any]], file_bytes: int) -> str:
    """A Markdown table of the measurements with the ratios."""
    floor = results.get("np.loadtxt")
    rows = [
        "| reader | array MB | wall s | CPU s | CPU / np.loadtxt | peak traced MB | "
        "peak traced / array | RSS growth MB | RSS growth / array |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for reader, r in results.items():
        ratio = "-" if floor is None or reader == "np.loadtxt" else f"{r['cpu'] / floor['cpu']:.2f}"
        rows.append(
            f"| {reader} | {r['nbytes'] / 1e6:.0f} | {r['wall']:.2f} | {r['cpu']:.2f} | {ratio} "
            f"| {r['peak_traced'] / 1e6:.0f} | {r['peak_traced'] / r['nbytes']:.2f} "
            f"| {r['peak_rss_growth'] / 1e6:.0f} | {r['peak_rss_growth'] / r['nbytes']:.2f} |"
        )
    return f"file: {file_bytes / 1e6:.0f} MB\n\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.csv_load")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=29)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--careful", action="store_true", help="also time the careful reader")
    parser.add_argument("--file", type=Path, help="keep the generated file here (reused)")
    parser.add_argument("--json", type=Path, help="write the measurements there")
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.trace)))
        return 0
    readers = ["load_csv", "np.loadtxt", *(["careful"] if args.careful else [])]
    with tempfile.TemporaryDirectory() as folder:
        path = args.file or Path(folder) / "big.csv"
        if not path.exists():
            started = time.perf_counter()
            write_file(path, args.rows, args.features)
            print(f"wrote {path} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        results = measure(path, readers, args.repeat)
        table = report(results, path.stat().st_size)
    print(f"{args.rows} rows x {args.features + 1} columns, median of {args.repeat} runs\n")
    print(table)
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
