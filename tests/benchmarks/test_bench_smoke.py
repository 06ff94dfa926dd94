"""Smoke test of the benchmark suite: ``python -m benchmarks --quick`` runs and reports.

No timing is asserted (the numbers of a quick run on a shared machine mean nothing); the
test checks that every section ran and that the JSON record holds what the tables show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    for title in ("Per-op overhead", "Training step", "Engine scaling", "Peak memory"):
        assert title in done.stdout
    record = json.loads(out.read_text())
    assert record["quick"] is True
    assert {"tensorgraph", "numpy"} <= set(record["impls"])
    impls_timed = {r["impl"] for r in record["steps"]}
    assert {"tensorgraph", "numpy"} <= impls_timed
    for r in record["steps"]:
        assert r["seconds"]["min"] <= r["seconds"]["median"] <= r["seconds"]["max"]
        if r["impl"] != "numpy":
            assert r["ratio_to_numpy"]["median"] > 0
    assert "pinned" in record["steps"][0]["pinned"].lower()
    assert {r["impl"] for r in record["overhead"]} == set(record["impls"])
    assert {(r["kind"], r["nodes"]) for r in record["scaling"]} >= {("chain", 100),
                                                                    ("fanout", 100)}
    assert {r["impl"] for r in record["memory"]} == {"tensorgraph", "numpy"}
    for r in record["memory"]:
        assert r["peak_rss_mib"] >= r["baseline_rss_mib"] > 0
