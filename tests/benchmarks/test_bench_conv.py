"""Smoke test of ``benchmarks/conv.py``: every workload runs for every implementation and the
records hold what the table shows (no timing is asserted: a quick run's numbers mean
nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import conv


def test_quick_run_records_every_workload(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    out = tmp_path / "conv.json"
    conv.main(["--quick", "--json", str(out)])
    table = capsys.readouterr().out
    records = json.loads(out.read_text())
    quick = [name for name in conv.WORKLOADS if name != "large"]
    assert sorted({r["workload"] for r in records}) == sorted(quick)
    for r in records:
        assert r["workload"] in table
        assert 0 < r["seconds"]["min"] <= r["seconds"]["median"] <= r["seconds"]["max"]
        if r["impl"] == "tensorgraph" and any(q["impl"] == "torch" for q in records):
            assert r["ratio_to_torch"]["median"] > 0
