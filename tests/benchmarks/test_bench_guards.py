"""The saved-value guards benchmark runs end to end (its numbers are not meant to be read)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks import guards

ROOT = Path(__file__).resolve().parents[2]


def _has_baseline() -> bool:
    if shutil.which("git") is None:
        return False
    done = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", guards.DEFAULT_BASELINE],
                          capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(not _has_baseline(), reason="needs the git history (a source archive has none)")
def test_quick_run_measures_every_workload_on_both_engines() -> None:
    summary = guards.main(["--quick"])
    assert set(summary) == set(guards.WORKLOADS)
    for row in summary.values():
        assert row["baseline"] > 0 and row["measured"] > 0
