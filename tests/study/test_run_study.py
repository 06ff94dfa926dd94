"""Whole studies, kept tiny: a planted difference is found, identical models are not told
apart, the engine does not change the numbers, a failing fit is recorded, and the files
keep everything."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tensorgraph import study
from tensorgraph.data import Bunch, StandardScaler, load_breast_cancer
from tensorgraph.study import fits as fits_module
from tensorgraph.study import trainer

GD = study.select(["gd"])[0]
#: full-batch gradient descent, its twin, and the same with a learning rate 100 times too small
PLANTED = [GD, replace(GD, name="crippled", label="gd, lr / 100", lr=GD.lr / 100),
           replace(GD, name="twin", label="gd again")]
SMALL = study.StudySettings(folds=5, repeats=1, epochs=50, hidden=(64, 32), patience=0)


@pytest.fixture(scope="module")
def cancer() -> Bunch:
    return load_breast_cancer()


@pytest.fixture(scope="module")
def planted(cancer: Bunch) -> study.StudyResult:
    return study.run_study(cancer, PLANTED, SMALL, jobs=1)


def _numbers(records: list[dict[str, Any]]) -> str:
    # Everything but the timings, compared exactly (JSON keeps every bit of a float).
    return json.dumps([{k: v for k, v in r.items() if k != "seconds"} for r in records])


def test_a_crippled_model_is_worse_and_a_twin_is_not_told_apart(
    planted: study.StudyResult,
) -> None:
    by_name = {s.name: s for s in planted.summaries}
    assert planted.baseline == "gd" and by_name["gd"].versus_baseline is None
    crippled = by_name["crippled"].versus_baseline
    twin = by_name["twin"].versus_baseline
    assert crippled is not None and twin is not None
    assert crippled.verdict == "worse" and crippled.high < 0 and crippled.p_value < 0.05
    assert twin.verdict == "no detectable difference" and twin.low < 0 < twin.high
    # The twin's fits are not copies of the baseline's: each fit has its own seed.
    gd_acc = [r["test_accuracy"] for r in planted.records if r["model"] == "gd"]
    twin_acc = [r["test_accuracy"] for r in planted.records if r["model"] == "twin"]
    assert gd_acc != twin_acc
    table = study.format_study_table(planted).splitlines()
    assert "5-fold stratified cross-validation once" in table[0]
    assert table[2].split()[:3] == ["model", "test", "accuracy"]
    assert table[4].startswith("full-batch gradient descent") and "(baseline)" in table[4]
    assert table[5].startswith("gd, lr / 100") and table[5].endswith("worse")
    assert table[6].endswith("no detectable difference")


def test_results_do_not_depend_on_the_engine(cancer: Bunch) -> None:
    from distributed import LocalCluster

    specs = [GD, study.select(["adam_bn_l2_dropout"])[0]]
    settings = study.StudySettings(folds=3, repeats=1, epochs=4, hidden=(8,), patience=2,
                                   seed=11)
    one = study.run_study(cancer, specs, settings, jobs=1)
    two = study.run_study(cancer, specs, settings, jobs=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        dask = study.run_study(cancer, specs, settings, scheduler=cluster.scheduler_address)
    assert [r["fit"] for r in one.records] == list(range(6))
    assert _numbers(one.records) == _numbers(two.records) == _numbers(dask.records)
    assert all(r["error"] is None for r in one.records)


def test_a_failing_fit_is_recorded_and_the_study_goes_on(
    cancer: Bunch, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = trainer.make_optimizer

    def flaky(spec: study.ModelSpec, model: Any) -> Any:
        if spec.name == "adam":
            raise FloatingPointError("the optimiser blew up")
        return real(spec, model)

    monkeypatch.setattr(trainer, "make_optimizer", flaky)
    settings = study.StudySettings(folds=2, repeats=1, epochs=2, hidden=(4,), patience=0)
    result = study.run_study(cancer, study.select(["gd", "adam"]), settings, jobs=1)
    assert [r["model"] for r in result.failed] == ["adam", "adam"]
    assert result.failed[0]["error"].startswith("FloatingPointError: the optimiser blew up")
    assert all(r["error"] is None and r["test_accuracy"] > 0.5
               for r in result.records if r["model"] == "gd")
    adam = result.summaries[1]
    assert adam.failed == 2 and adam.versus_baseline is not None
    assert adam.versus_baseline.verdict == "not enough fits"
    table = study.format_study_table(result)
    assert "not enough fits; 2 failed" in table and "2 fit(s) failed; the first: adam" in table


def test_batch_norm_drops_a_last_batch_of_one_sample() -> None:
    bn = study.select(["adam_bn"])[0]
    assert trainer.drops_last_batch(bn, 65, 64) and not trainer.drops_last_batch(bn, 66, 64)
    assert not trainer.drops_last_batch(study.select(["adam"])[0], 65, 64)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(65, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    trained = trainer.train_model(bn, (X, y), None, 2, hidden=(4,), epochs=2, batch_size=64,
                                  patience=0, init_seed=0, shuffle_seed=0)
    assert len(trained.history) == 2
    assert trained.history.params["steps"] == 1


def test_the_scaler_sees_the_training_rows_only(
    cancer: Bunch, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real_fit = StandardScaler.fit

    def spy(self: StandardScaler, X: Any) -> StandardScaler:
        seen.append(len(X))
        return real_fit(self, X)

    monkeypatch.setattr(StandardScaler, "fit", spy)
    settings = study.StudySettings(folds=3, repeats=1, epochs=1, hidden=(4,), patience=0)
    (task, *_) = study.plan(cancer, [GD], settings)
    record = fits_module.run_fit(task, cancer.data, cancer.target)
    assert seen == [len(task.fold.train)] and record["n_train"] == len(task.fold.train)


def test_files_keep_every_fit_and_can_be_reanalysed(
    planted: study.StudyResult, tmp_path: Path
) -> None:
    json_path, csv_path = study.write_study_results(planted, tmp_path)
    document = json.loads(json_path.read_text())
    assert document["versions"]["numpy"] == np.__version__
    assert document["versions"]["tensorgraph"]
    assert document["settings"]["folds"] == 5 and document["baseline"] == "gd"
    fits = document["fits"]
    assert len(fits) == 15
    first = fits[0]
    for key in ("model", "fold", "repeat", "seed", "epochs", "test_accuracy", "history"):
        assert key in first
    assert len(first["history"]["loss"]) == first["epochs"] == 50
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 15 and rows[0]["model"] == "gd"
    assert float(rows[4]["test_accuracy"]) == fits[4]["test_accuracy"]
    # Re-analysis from the file alone gives the same verdicts, and another baseline works.
    specs = [study.ModelSpec(**{**m, "betas": None, "hidden": None}) for m in document["models"]]
    again = study.analyse(fits, specs, "gd")
    assert [s.versus_baseline for s in again] == [s.versus_baseline for s in planted.summaries]
    other = study.analyse(fits, specs, "crippled")
    assert other[0].versus_baseline is not None
    assert other[0].versus_baseline.verdict == "better"


def test_the_picture_is_written(planted: study.StudyResult, tmp_path: Path) -> None:
    path = study.plot_study(planted, tmp_path / "curves.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_bad_baseline_or_duplicate_names_are_refused_before_training(cancer: Bunch) -> None:
    with pytest.raises(ValueError, match="the baseline 'sgd' is not one of the study's models"):
        study.run_study(cancer, [GD], replace(SMALL, baseline="sgd"))
    with pytest.raises(ValueError, match="two models are named 'gd'"):
        study.run_study(cancer, [GD, GD], SMALL)


def _blas_threads(_: int) -> list[int]:
    from threadpoolctl import threadpool_info

    return [int(lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_worker_processes_start_with_one_blas_thread() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tensorgraph.study import execute

    with execute._blas_environment():
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
        futures = [pool.submit(_blas_threads, i) for i in range(2)]
    with pool:
        counts = [future.result() for future in futures]
    assert all(count and set(count) == {1} for count in counts), counts


def test_without_threadpoolctl_one_job_runs_in_one_pinned_worker(
    cancer: Bunch, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tensorgraph.study import execute

    settings = study.StudySettings(folds=2, repeats=1, epochs=2, hidden=(4,), patience=0)
    here = study.run_study(cancer, [GD], settings, jobs=1)
    used: list[int] = []
    real = execute._processes

    def spy(*args: Any) -> Any:
        used.append(args[3])
        return real(*args)

    monkeypatch.setattr(execute, "_can_pin_here", lambda: False)
    monkeypatch.setattr(execute, "_processes", spy)
    there = study.run_study(cancer, [GD], settings, jobs=1)
    assert used == [1]
    assert _numbers(here.records) == _numbers(there.records)


def test_worker_processes_get_the_longest_fits_first(
    cancer: Bunch, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tensorgraph.study import execute

    specs = study.select(["gd", "adam", "adam_bn_l2_dropout"])
    tasks = study.plan(cancer, specs, study.StudySettings(folds=2, repeats=1, epochs=2,
                                                         hidden=(4,)))
    cost = {t.spec.name: execute.expected_cost(t) for t in tasks[:3]}
    # Batch-norm + L2 + dropout on mini-batches > Adam on mini-batches > one full batch.
    assert cost["adam_bn_l2_dropout"] > cost["adam"] > cost["gd"]
    submitted: list[int] = []
    real = execute.ProcessPoolExecutor.submit

    def spy(self: Any, fn: Any, task: Any) -> Any:
        submitted.append(task.index)
        return real(self, fn, task)

    monkeypatch.setattr(execute.ProcessPoolExecutor, "submit", spy)
    assert cancer.target is not None
    records = execute.run_tasks(tasks, cancer.data, cancer.target, jobs=2)
    assert submitted == sorted(range(len(tasks)), key=lambda i: -execute.expected_cost(
        tasks[i]))
    assert submitted != list(range(len(tasks)))
    assert [r["fit"] for r in records] == list(range(len(tasks)))  # fit order all the same
