"""Smoke test of ``benchmarks/compiled.py``: its children run and report what the tables
show (no timing is asserted: a quick run on a shared machine means nothing)."""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks import compiled


def _config(**kw: Any) -> dict[str, Any]:
    return {"dtype": "float32", "rounds": 2, "target": 0.001,
            "impls": ["numpy", "tensorgraph", "tensorgraph-compiled"], **kw}


def test_the_per_op_child_times_every_implementation() -> None:
    out = compiled.run_child(_config(kind="ops"))
    assert set(out["times"]) == {"numpy", "tensorgraph", "tensorgraph-compiled"}
    assert all(len(ts) == 2 and min(ts) > 0 for ts in out["times"].values())
    assert set(out["ratio_to_numpy"]) == {"tensorgraph", "tensorgraph-compiled"}


def test_the_step_child_reports_times_and_page_faults() -> None:
    out = compiled.run_child(_config(kind="steps", batches=[8]))
    res = out["batches"]["8"]
    assert set(res["times"]) == set(res["faults"]) == {"numpy", "tensorgraph",
                                                       "tensorgraph-compiled"}
    assert all(f >= 0 for fs in res["faults"].values() for f in fs)
    summary = res["ratio_to_numpy"]["tensorgraph-compiled"]
    assert summary["min"] <= summary["median"] <= summary["max"]


def test_the_compiled_builders_replay_and_train() -> None:
    from benchmarks.reference_numpy import MLPSpec, init_params, make_data

    spec = MLPSpec(n_in=6, hidden=(8, 8))
    x, y = make_data(spec, 16, np.float32)
    step = compiled.build_compiled_step(spec, init_params(spec, np.float32), x, y)
    costs = [float(step().item()) for _ in range(5)]
    assert costs[-1] < costs[0]
    work = compiled.build_compiled_op((4, 4), np.float32)
    first = work()
    again = work()
    assert first[0].item() == again[0].item() and work.replays == 1
