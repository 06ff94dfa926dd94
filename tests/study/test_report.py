"""The printed table's verdicts when the paired differences cannot support one."""

from __future__ import annotations

from typing import Any

import pytest

from tensorgraph.study import SERIES, StudySettings, analyse, format_study_table
from tensorgraph.study.compare import StudyResult


def _table(differences: list[float], fail: int | None = None) -> list[str]:
    gd, adam = (s for s in SERIES if s.name in ("gd", "adam"))
    records: list[dict[str, Any]] = []
    for fold, difference in enumerate(differences):
        for spec, accuracy in ((gd, 0.25), (adam, 0.25 + difference)):
            records.append({"fit": len(records), "model": spec.name, "repeat": 0,
                            "fold": fold, "error": None, "test_accuracy": accuracy,
                            "test_cost": 0.5, "seconds": 1.0, "epochs": 3, "n_train": 30,
                            "n_validation": 10, "n_test": 40})
    if fail is not None:  # adam's fit on that fold failed
        records[2 * fail + 1].update(error="DomainError: boom", test_accuracy=float("nan"))
    settings = StudySettings(folds=max(len(differences), 2), repeats=1)
    result = StudyResult("toy", 80, 2, ("a", "b"), settings, [gd, adam], "gd", records,
                         analyse(records, [gd, adam], "gd"))
    return format_study_table(result).splitlines()


def test_identical_differences_give_no_verdict_interval_or_p() -> None:
    # +50 points in both fits: zero variance, which a t-test would call certain (p 0).
    row = _table([0.5, 0.5])[-1]
    assert row.startswith("Adam")
    assert row.endswith("+50.00  -  cannot tell: differences identical in every fit")
    assert "[" not in row and " 0.000 " not in row.split("±")[-1]
    zero = _table([0.0, 0.0, 0.0])[-1]
    assert zero.endswith("+0.00  -  cannot tell: differences identical in every fit")
    assert "1.000" not in zero


def test_a_verdict_on_fewer_than_five_fits_says_so() -> None:
    few = _table([0.1, 0.2, 0.15])[-1]
    assert few.endswith("(few fits: 3)") and "[" in few
    enough = _table([0.1, 0.2, 0.15, 0.12, 0.18])[-1]
    assert "few fits" not in enough and enough.endswith("better")


def test_failed_fits_are_numbered_from_0_as_in_results_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from tensorgraph.study import FitProgress

    record = {"model": "adam", "repeat": 0, "fold": 1, "error": "DomainError: boom",
              "test_accuracy": float("nan")}
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # one line per fit
    progress = FitProgress(4)
    progress(record)
    assert capsys.readouterr().err == "[1/4] adam repeat 0 fold 1: error: DomainError: boom\n"
    lines = _table([0.1, 0.2], fail=1)
    assert lines[-1] == ("1 fit(s) failed; the first: adam repeat 0 fold 1 (numbered from 0, "
                         "as in results.json): DomainError: boom")
