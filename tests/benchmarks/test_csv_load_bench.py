"""Smoke test of ``python -m benchmarks.csv_load`` on a small file (the real run, a million
rows, is for the performance docs, not for CI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import csv_load
from tensorgraph.data import load_csv


def test_the_generated_file_is_clean_and_loads_through_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "small.csv"
    csv_load.write_file(path, rows=500, features=5)
    bunch = load_csv(path)
    assert bunch.data.shape == (500, 5) and bunch.target_names == ("0", "1")
    reference = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    np.testing.assert_array_equal(bunch.data, reference[:, :5])


def test_the_benchmark_reports_time_memory_and_ratios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert csv_load.main(["--rows", "2000", "--features", "4", "--repeat", "1",
                          "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| load_csv | " in table and "| np.loadtxt | " in table
    results = json.loads(out.read_text())["results"]
    fast = results["load_csv"]
    assert fast["shape"] == [2000, 4] and fast["nbytes"] == 2000 * 4 * 4 + 2000 * 8
    assert fast["cpu"] > 0 and fast["peak_traced"] >= fast["nbytes"]
