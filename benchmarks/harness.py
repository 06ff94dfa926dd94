"""Timing machinery shared by every benchmark: BLAS pinning, interleaved rounds, statistics.

Implementations are timed *interleaved*: in each round every implementation runs its
repeats once, in a rotating order, so that slow drifts of the machine (frequency scaling,
another process) hit all of them alike. Ratios are computed per round (implementation time /
reference time in the same round) and then summarised by their median, which is what the
targets are stated in.
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Summary",
    "blas_info",
    "blas_threads",
    "environment",
    "format_table",
    "interleaved",
    "ratio_summary",
    "summarize",
]


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[str]:
    """Pin BLAS (and OpenMP) thread pools to ``n`` threads for the block.

    Yields a description of what was pinned, for the output. threadpoolctl is an optional
    dependency (the ``bench`` extra); without it nothing is pinned and the description says
    so, so that a reader of the table knows.
    """
    if n is None:
        yield "BLAS threads not pinned"
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield "BLAS threads NOT pinned (install threadpoolctl: pip install tensorgraph[bench])"
        return
    with threadpool_limits(limits=n):
        # PyTorch's own intra-op pool, only if the caller imported torch (importing it here
        # would cost every other measurement its memory and start-up time)
        torch = sys.modules.get("torch")
        torch_threads = torch.get_num_threads() if torch is not None else None
        if torch is not None:
            torch.set_num_threads(n)
        try:
            yield f"BLAS threads pinned to {n} (threadpoolctl)"
        finally:
            if torch is not None:
                torch.set_num_threads(torch_threads)


def blas_info() -> list[dict[str, Any]]:
    """The BLAS libraries loaded in this process, as threadpoolctl reports them."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "num_threads", "prefix")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info()]


def environment() -> dict[str, Any]:
    """What a reader needs to know to judge the numbers: versions, CPU, BLAS, allocator env."""
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "blas": blas_info(),
        "env": {
            k: v for k, v in os.environ.items()
            if k.startswith(("OPENBLAS", "MALLOC_", "OMP_", "MKL_"))
        },
    }
    for name in ("tensorgraph", "torch", "mygrad", "autograd", "threadpoolctl"):
        try:
            module = __import__(name)
            env[name] = getattr(module, "__version__", "installed")
        except ImportError:
            env[name] = None
    return env


@dataclass
class Summary:
    """Median and range of a list of measurements (seconds, or a ratio)."""

    median: float
    low: float
    high: float
    n: int
    values: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}


def summarize(values: Sequence[float]) -> Summary:
    """Median, min and max of ``values``."""
    return Summary(statistics.median(values), min(values), max(values), len(values),
                   list(values))


def _time_once(fn: Callable[[], Any], repeats: int) -> float:
    """Seconds per call of ``fn``, averaged over ``repeats`` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def interleaved(
    impls: dict[str, Callable[[], Any]],
    rounds: int,
    repeats: int,
    warmup: int = 2,
) -> dict[str, list[float]]:
    """Time every implementation ``rounds`` times, interleaved round by round.

    Parameters
    ----------
    impls : dict
        Name -> zero-argument callable doing one unit of work (one training step, ...).
    rounds : int
        Number of rounds; each round times every implementation once.
    repeats : int
        Calls per timing (the time reported is the mean over them), so that a timing is
        long enough for the clock.
    warmup : int
        Untimed calls of each implementation first (caches, allocator, lazy imports).

    Returns
    -------
    dict
        Name -> list of seconds per call, one entry per round (the same round index in
        every list, which is what makes per-round ratios meaningful).
    """
    names = list(impls)
    for name in names:
        for _ in range(warmup):
            impls[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    try:
        for r in range(rounds):
            # rotate the order so no implementation always runs right after another
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                gc.collect()
                gc.disable()
                times[name].append(_time_once(impls[name], repeats))
                gc.enable()
    finally:
        if gc_was_enabled:
            gc.enable()
        else:
            gc.disable()
    return times


def ratio_summary(times: dict[str, list[float]], name: str, reference: str) -> Summary | None:
    """Summary of ``times[name][r] / times[reference][r]`` over the rounds r."""
    if name not in times or reference not in times:
        return None
    return summarize([a / b for a, b in zip(times[name], times[reference])])


def _fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_summary(s: Summary, unit: str = "time") -> str:
    """``median [min-max]`` with a readable unit."""
    if unit == "time":
        return f"{_fmt_time(s.median)} [{_fmt_time(s.low)}-{_fmt_time(s.high)}]"
    if unit == "us":
        return f"{s.median:.2f} [{s.low:.2f}-{s.high:.2f}]"
    return f"{s.median:.2f}x [{s.low:.2f}-{s.high:.2f}]"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (readable as plain text too)."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join([line, rule, *body])
