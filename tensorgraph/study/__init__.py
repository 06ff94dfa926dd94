"""The comparison study behind ``tensorgraph compare``: which techniques help on your data,
and how sure the answer is.

Every model of a study (by default the nine MLPs of :data:`SERIES`, from full-batch gradient
descent to Adam with batch-norm, L2 and dropout; :data:`CATALOGUE` adds the small CNN
``cnn`` for square images such as the digits) is trained on every resampling of the data
(repeated stratified k-fold cross-validation by default), and measured on the resampling's
test rows, which neither training, early stopping nor the standardisation ever saw. Each
model's mean test accuracy comes with an interval, and each model is compared with a
baseline on the same resamplings by Nadeau and Bengio's corrected resampled t-test
(``docs/study.md`` explains the method and its assumptions)::

    from tensorgraph import study
    from tensorgraph.data import load_breast_cancer
    result = study.run_study(load_breast_cancer(), study.select(None), study.StudySettings(),
                             jobs=2)
    print(study.format_study_table(result))
    study.write_study_results(result, "results")

The modules: :mod:`~.models` (specs, networks, costs, optimisers), :mod:`~.resampling`
(folds), :mod:`~.fits` (one fit as a task), :mod:`~.execute` (worker processes, Dask),
:mod:`~.stats` and :mod:`~.tdist` (intervals and the test), :mod:`~.compare` (plan, run,
analyse), :mod:`~.report` (table, files, picture), :mod:`~.studyfile` (TOML study files),
and :mod:`~.single`, one split and one fit per model, which ``tensorgraph train`` uses.
"""

from __future__ import annotations

from .cnn import SquareCNN, image_side
from .compare import (
    ModelSummary,
    StudyResult,
    StudySettings,
    analyse,
    plan,
    resolve_baseline,
    run_study,
)
from .execute import (
    BLAS_VARIABLES,
    FitProgress,
    default_jobs,
    expected_cost,
    run_tasks,
    worker_processes,
)
from .fits import FitTask, fit_seed, run_fit, single_blas_thread
from .models import (
    ARCHITECTURES,
    CATALOGUE,
    CNN,
    OPTIMIZERS,
    SERIES,
    ModelSpec,
    build_model,
    check_data_fits,
    describe_overrides,
    make_loss,
    make_optimizer,
    output_width,
    select,
    with_overrides,
)
from .report import code_versions, format_study_table, plot_study, write_study_results
from .resampling import Fold, random_splits, repeated_stratified_kfold, stratified_kfold
from .single import (
    Run,
    Split,
    StudyConfig,
    format_table,
    plot_curves,
    prepare,
    run,
    train_one,
    write_results,
)
from .stats import Estimate, PairedTest, corrected_resampled_ttest, mean_interval
from .studyfile import SETTING_KEYS, StudyFile, load_study_file, parse_study
from .trainer import Trained, drops_last_batch, train_model

__all__ = [
    "ARCHITECTURES",
    "BLAS_VARIABLES",
    "CATALOGUE",
    "CNN",
    "OPTIMIZERS",
    "SERIES",
    "SETTING_KEYS",
    "Estimate",
    "FitProgress",
    "FitTask",
    "Fold",
    "ModelSpec",
    "ModelSummary",
    "PairedTest",
    "Run",
    "Split",
    "SquareCNN",
    "StudyConfig",
    "StudyFile",
    "StudyResult",
    "StudySettings",
    "Trained",
    "analyse",
    "build_model",
    "check_data_fits",
    "code_versions",
    "corrected_resampled_ttest",
    "default_jobs",
    "describe_overrides",
    "drops_last_batch",
    "expected_cost",
    "fit_seed",
    "format_study_table",
    "format_table",
    "image_side",
    "load_study_file",
    "make_loss",
    "make_optimizer",
    "mean_interval",
    "output_width",
    "parse_study",
    "plan",
    "plot_curves",
    "plot_study",
    "prepare",
    "random_splits",
    "repeated_stratified_kfold",
    "resolve_baseline",
    "run",
    "run_fit",
    "run_study",
    "run_tasks",
    "select",
    "single_blas_thread",
    "stratified_kfold",
    "train_model",
    "train_one",
    "with_overrides",
    "worker_processes",
    "write_results",
    "write_study_results",
]
