"""Convolution and pooling, forward and backward, tensorgraph against PyTorch.

``python -m benchmarks.conv [--rounds N] [--quick] [--json PATH]``

Workloads, in float64 (the gradients are what a training step needs: the weights' and bias',
and the input's where the layer is not the first):

- ``conv1``: the first layer of a digits CNN, ``(64, 1, 8, 8)`` images, 16 filters 3x3;
- ``conv2``: its second layer, ``(64, 16, 6, 6)`` to 32 filters 3x3 (input gradient too);
- ``stack``: both, with a ReLU between, as in the network;
- ``maxpool``: 2x2 max pooling of ``(64, 32, 4, 4)``;
- ``large``: ``(32, 16, 32, 32)`` to 32 filters 3x3, padding 1: where the arithmetic, not
  the per-op overhead, dominates.

Implementations are timed interleaved (rotating order each round, garbage collection off
while timing, see :mod:`benchmarks.harness`), as the thread's CPU time
(``time.thread_time``, which other processes on a shared machine disturb less than the wall
clock), with BLAS and PyTorch pinned to one thread so the time of the calling thread is all
the time spent. The table gives the median time per forward + backward with [min-max] over
rounds and the median of the same-round ratios tensorgraph / PyTorch.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .harness import blas_threads, fmt_summary, format_table, ratio_summary, summarize

__all__ = ["WORKLOADS", "main", "measure"]

Step = Callable[[], Any]

#: name -> (input shape, layers: (out channels, kernel, padding) or "pool", input needs grad)
WORKLOADS: dict[str, tuple[tuple[int, ...], list[Any], bool]] = {
    "conv1": ((64, 1, 8, 8), [(16, 3, 0)], False),
    "conv2": ((64, 16, 6, 6), [(32, 3, 0)], True),
    "stack": ((64, 1, 8, 8), [(16, 3, 0), (32, 3, 0)], False),
    "maxpool": ((64, 32, 4, 4), ["pool"], True),
    "large": ((32, 16, 32, 32), [(32, 3, 1)], True),
}


def _params(shape: tuple[int, ...], layers: list[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    channels, found = shape[1], []
    for layer in layers:
        if layer == "pool":
            continue
        out, k, _ = layer
        found.append((rng.standard_normal((out, channels, k, k)) * 0.1,
                      rng.standard_normal(out) * 0.1))
        channels = out
    return found


def _tensorgraph_step(shape: tuple[int, ...], layers: list[Any], input_grad: bool) -> Step:
    import tensorgraph as tg
    from tensorgraph.nn import functional as F

    x = tg.tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=input_grad)
    params = [(tg.tensor(w, requires_grad=True), tg.tensor(b, requires_grad=True))
              for w, b in _params(shape, layers)]

    def step() -> None:
        h, i = x, 0
        for n, layer in enumerate(layers):
            if layer == "pool":
                h = F.max_pool2d(h, 2)
                continue
            if n:
                h = F.relu(h)
            h = F.conv2d(h, params[i][0], params[i][1], padding=layer[2])
            i += 1
        for w, b in params:
            w.grad = b.grad = None
        h.sum().backward()

    return step


def _torch_step(shape: tuple[int, ...], layers: list[Any], input_grad: bool) -> Step:
    import torch

    x = torch.tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=input_grad)
    params = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True))
              for w, b in _params(shape, layers)]

    def step() -> None:
        h, i = x, 0
        for n, layer in enumerate(layers):
            if layer == "pool":
                h = torch.nn.functional.max_pool2d(h, 2)
                continue
            if n:
                h = torch.relu(h)
            h = torch.nn.functional.conv2d(h, params[i][0], params[i][1], padding=layer[2])
            i += 1
        for w, b in params:
            w.grad = b.grad = None
        h.sum().backward()

    return step


def _interleaved_cpu(impls: dict[str, Step], rounds: int, repeats: int) -> dict[str, list[float]]:
    """:func:`benchmarks.harness.interleaved` with the thread's CPU time as the clock."""
    names = list(impls)
    for name in names:
        for _ in range(2):
            impls[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:
            gc.collect()
            gc.disable()
            start = time.thread_time()
            for _ in range(repeats):
                impls[name]()
            times[name].append((time.thread_time() - start) / repeats)
            gc.enable()
    return times


def measure(rounds: int = 15, quick: bool = False) -> list[dict[str, Any]]:
    """Time every workload; one record per workload and implementation."""
    try:
        import torch  # noqa: F401  (imported first, so that blas_threads pins its pool)

        have_torch = True
    except ImportError:
        have_torch = False
    records = []
    with blas_threads(1) as pinned:
        for name, (shape, layers, input_grad) in WORKLOADS.items():
            if quick and name == "large":
                continue
            impls = {"tensorgraph": _tensorgraph_step(shape, layers, input_grad)}
            if have_torch:
                impls["torch"] = _torch_step(shape, layers, input_grad)
            repeats = 1 if quick or name == "large" else 20
            times = _interleaved_cpu(impls, 2 if quick else rounds, repeats)
            for impl, values in times.items():
                ratio = ratio_summary(times, impl, "torch") if impl != "torch" else None
                records.append({"workload": name, "impl": impl, "pinned": pinned,
                                "seconds": summarize(values).as_dict(),
                                "ratio_to_torch": ratio.as_dict() if ratio else None,
                                "_summary": summarize(values), "_ratio": ratio})
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a smoke run; not to be read")
    parser.add_argument("--json", help="write the records to this file")
    args = parser.parse_args(argv)
    records = measure(args.rounds, args.quick)
    rows = [[r["workload"], r["impl"], fmt_summary(r["_summary"]),
             fmt_summary(r["_ratio"], unit="ratio") if r["_ratio"] else ""] for r in records]
    print(format_table(["workload", "impl", "CPU time per fwd+bwd", "ratio to torch"], rows))
    print(records[0]["pinned"] if records else "")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{k: v for k, v in r.items() if not k.startswith("_")} for r in records],
                      f, indent=2)


if __name__ == "__main__":
    main()
