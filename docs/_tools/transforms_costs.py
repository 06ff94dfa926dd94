"""Measure what docs/transforms.md quotes: the cost of each transform relative to one VJP,
and the peak memory checkpoint saves on an MLP (tracemalloc).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python docs/_tools/transforms_costs.py

Times are thread CPU time, the median of 5 interleaved rounds (not wall time, which a shared
machine makes meaningless). Memory is tracemalloc's peak from the forward to the end of the
backward, parameter gradients included, parameters and input excluded.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

import tensorgraph as tg
from tensorgraph import nn


def transform_costs(n: int = 64) -> None:
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(n, n)) / 8, rng.normal(size=(n, n)) / 8

    def f(x: Any) -> Any:
        return np.tanh(w2 @ np.tanh(w1 @ x))

    x, v = rng.normal(size=n), np.ones(n)
    runs: dict[str, tuple[Callable[[], Any], int]] = {
        "vjp (forward + 1 reverse pass)": (lambda: tg.vjp(f, x)[1](v), 200),
        "jvp (double VJP)": (lambda: tg.jvp(f, x, v), 100),
        "hvp (reverse over reverse)": (lambda: tg.hvp(lambda t: f(t).sum(), x, v), 100),
        f"jacobian ({n} x {n})": (lambda: tg.jacobian(f)(x), 5),
        f"hessian ({n} x {n})": (lambda: tg.hessian(lambda t: f(t).sum())(x), 3),
    }
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(5):
        for name, (fn, reps) in runs.items():
            fn()
            start = time.thread_time()
            for _ in range(reps):
                fn()
            times[name].append((time.thread_time() - start) / reps)
    base = float(np.median(times[next(iter(runs))]))
    print(f"f(x) = tanh(W2 tanh(W1 x)), n = {n}, float64")
    for name, values in times.items():
        t = float(np.median(values))
        print(f"  {name:34s} {t * 1e3:8.3f} ms  {t / base:6.1f} x one vjp")


def _mlp(depth: int, width: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(width, width, dtype="float64", generator=i), nn.Tanh()]
    return nn.Sequential(*layers)


def _step(net: nn.Sequential, x: Any, segments: int) -> None:
    h = x
    if segments == 0:
        h = net(h)
    else:
        per = len(net) // segments
        for s in range(segments):
            h = tg.checkpoint(net[s * per:(s + 1) * per], h)
    (h * h).mean().backward()


def checkpoint_memory(depth: int = 16, width: int = 256, batch: int = 512) -> None:
    x = tg.tensor(np.random.default_rng(0).normal(size=(batch, width)))
    print(f"MLP: {depth} x (Linear({width}, {width}) + Tanh), batch {batch}, float64")
    plain = 0
    for segments in (0, 1, 2, 4, 8, 16):
        net = _mlp(depth, width)
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        _step(net, x, segments)
        peak = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.stop()
        plain = plain or peak
        label = "no checkpoint" if segments == 0 else f"{segments} segment(s)"
        print(f"  {label:16s} peak {peak / 2**20:6.1f} MiB  ({100 * (1 - peak / plain):+.0f}%"
              f" saved)")
    times: dict[int, list[float]] = {0: [], 4: []}
    net = _mlp(depth, width)
    for _ in range(5):
        for segments in times:
            _step(net, x, segments)
            start = time.thread_time()
            _step(net, x, segments)
            times[segments].append(time.thread_time() - start)
    t0, t4 = (float(np.median(times[s])) for s in (0, 4))
    print(f"  time per step: {t0 * 1e3:.0f} ms without, {t4 * 1e3:.0f} ms with 4 segments "
          f"({100 * (t4 / t0 - 1):+.0f}%)")


if __name__ == "__main__":
    transform_costs()
    checkpoint_memory()
