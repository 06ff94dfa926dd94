"""The resampled comparison study: plan the fits, run them, and analyse the records.

::

    from tensorgraph import study
    from tensorgraph.data import load_breast_cancer
    result = study.run_study(load_breast_cancer(), study.select(["gd", "adam"]),
                             study.StudySettings(folds=5, repeats=2), jobs=2)
    print(study.format_study_table(result))

:func:`analyse` works on the records alone, so a saved ``results.json`` can be re-analysed
(another baseline, another confidence) without training anything again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import Bunch
from ..errors import DomainError
from .execute import run_tasks
from .fits import FitTask, fit_seed
from .models import ModelSpec, check_data_fits
from .resampling import Fold, random_splits, repeated_stratified_kfold
from .stats import Estimate, PairedTest, corrected_resampled_ttest, mean_interval

__all__ = [
    "ModelSummary",
    "StudyResult",
    "StudySettings",
    "analyse",
    "plan",
    "resolve_baseline",
    "run_study",
]


@dataclass(frozen=True)
class StudySettings:
    """How a study resamples, trains and compares.

    ``folds`` x ``repeats`` stratified cross-validation, or, with ``seeds`` set,
    that many random stratified splits holding out ``test_fraction``. Each training part
    gives ``val_fraction`` of its rows to the validation set of early stopping. ``epochs``,
    ``batch_size``, ``hidden`` and ``patience`` apply to the models that do not set their
    own. ``baseline`` names the model the others are compared with (None: ``gd`` when it is
    in the study, else the first model).
    """

    folds: int = 5
    repeats: int = 2
    seeds: int | None = None
    seed: int = 0
    val_fraction: float = 0.25
    test_fraction: float = 0.2
    epochs: int = 200
    batch_size: int = 64
    hidden: tuple[int, ...] = (64, 32)
    patience: int = 20
    baseline: str | None = None
    confidence: float = 0.95

    def __post_init__(self) -> None:
        def integer(name: str, low: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise DomainError(f"study settings: {name} must be an integer >= {low}, "
                                  f"got {value!r}")

        for name, low in (("folds", 2), ("repeats", 1), ("seed", 0), ("epochs", 1),
                          ("batch_size", 1), ("patience", 0)):
            integer(name, low)
        if self.seeds is not None:
            integer("seeds", 2)
        if not (isinstance(self.hidden, tuple) and self.hidden
                and all(isinstance(w, int) and not isinstance(w, bool) and w >= 1
                                        for w in self.hidden)):
            raise DomainError(f"study settings: hidden must be positive layer widths, got "
                              f"{self.hidden!r}")
        for name in ("val_fraction", "test_fraction", "confidence"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and not isinstance(value, bool)
                    and 0 < value < 1):
                raise DomainError(f"study settings: {name} must be in (0, 1), got {value!r}")

    def describe(self) -> str:
        """The resampling in words."""
        if self.seeds is not None:
            return (f"{self.seeds} random stratified splits ({100 * self.test_fraction:.0f}% "
                    f"test)")
        times = "once" if self.repeats == 1 else f"repeated {self.repeats} times"
        return f"{self.folds}-fold stratified cross-validation {times}"


def make_folds(y: np.ndarray, settings: StudySettings,
               class_names: Sequence[str] | None = None) -> list[Fold]:
    """The resamplings ``settings`` asks for (``class_names`` name classes in errors)."""
    if settings.seeds is not None:
        return random_splits(y, settings.seeds, settings.seed, settings.test_fraction,
                             settings.val_fraction, class_names)
    return repeated_stratified_kfold(y, settings.folds, settings.repeats, settings.seed,
                                     settings.val_fraction, class_names)


def resolve_baseline(specs: Sequence[ModelSpec], baseline: str | None) -> str:
    """The name of the baseline: ``baseline`` (checked), else ``gd`` if present, else the
    first model."""
    names = [spec.name for spec in specs]
    if not names:
        raise DomainError("a study needs at least one model")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise DomainError(f"two models are named {twice!r}; every model needs its own name")
    if baseline is None:
        return "gd" if "gd" in names else names[0]
    if baseline not in names:
        raise DomainError(f"the baseline {baseline!r} is not one of the study's models: "
                          f"{', '.join(names)}")
    return baseline


def plan(bunch: Bunch, specs: Sequence[ModelSpec], settings: StudySettings) -> list[FitTask]:
    """One task per (resampling, model), numbered repeat by repeat, fold by fold, model by
    model; fit ``i``'s seed is ``fit_seed(settings.seed, i)``."""
    if bunch.target is None:
        raise DomainError(f"{bunch.name}: the data has no target column to learn")
    resolve_baseline(specs, settings.baseline)
    for spec in specs:
        check_data_fits(spec, bunch.data.shape[1])  # a CNN needs a square number of features
        # Every fit of such a model would fail: say so before training anything.
        if spec.batch_norm and not spec.full_batch and (
                spec.batch_size or settings.batch_size) == 1:
            raise DomainError(
                f"model {spec.name!r} uses batch-norm, which cannot train on mini-batches "
                f"of one sample (batch_size 1): use a batch size of at least 2 "
                f"(--batch-size), or leave the model out (--models)")
    names = [str(n) for n in bunch.target_names]
    folds = make_folds(bunch.target, settings, names)
    tasks: list[FitTask] = []
    for fold in folds:
        for spec in specs:
            index = len(tasks)
            tasks.append(FitTask(
                index=index, spec=spec, fold=fold, seed=fit_seed(settings.seed, index),
                n_classes=bunch.n_classes, hidden=tuple(settings.hidden),
                epochs=settings.epochs, batch_size=settings.batch_size,
                patience=settings.patience,
            ))
    return tasks


@dataclass(frozen=True)
class ModelSummary:
    """A model's fits summarised: test accuracy and test cost (intervals corrected for the
    resampling), seconds per fit, epochs, failures, and its comparison with the baseline
    (None for the baseline itself)."""

    name: str
    label: str
    accuracy: Estimate
    cost: Estimate
    seconds: Estimate
    epochs: float
    failed: int
    versus_baseline: PairedTest | None


def test_train_ratio(records: Sequence[Mapping[str, Any]]) -> float:
    """:math:`n_2 / n_1` of the records' resamplings: mean test rows over mean rows used
    for training (training and validation)."""
    if not records:
        return 0.0
    n_test = np.mean([r["n_test"] for r in records])
    n_fit = np.mean([r["n_train"] + r["n_validation"] for r in records])
    return float(n_test / n_fit)


def analyse(
    records: Sequence[Mapping[str, Any]],
    specs: Sequence[ModelSpec],
    baseline: str,
    confidence: float = 0.95,
) -> list[ModelSummary]:
    """Summarise every model's fits and compare each with ``baseline``, pairing fits on
    the same (repeat, fold) where both succeeded."""
    ratio = test_train_ratio(records)
    by_model: dict[str, dict[tuple[int, int], Mapping[str, Any]]] = {s.name: {} for s in specs}
    for record in records:
        by_model[record["model"]][(record["repeat"], record["fold"])] = record
    base = by_model[baseline]
    summaries = []
    for spec in specs:
        mine = by_model[spec.name]
        ok = [r for r in mine.values() if not r["error"]]

        def values(key: str, rows: list[Mapping[str, Any]] = ok) -> list[float]:
            return [float(r[key]) for r in rows]

        versus = None
        if spec.name != baseline:
            pairs = [key for key in mine if key in base and not mine[key]["error"]
                     and not base[key]["error"]]
            differences = [mine[k]["test_accuracy"] - base[k]["test_accuracy"] for k in pairs]
            versus = corrected_resampled_ttest(differences, ratio, confidence)
        summaries.append(ModelSummary(
            name=spec.name,
            label=spec.label,
            accuracy=mean_interval(values("test_accuracy"), confidence, ratio),
            cost=mean_interval(values("test_cost"), confidence, ratio),
            seconds=mean_interval(values("seconds"), confidence),
            epochs=float(np.mean(values("epochs"))) if ok else float("nan"),
            failed=len(mine) - len(ok),
            versus_baseline=versus,
        ))
    return summaries


@dataclass
class StudyResult:
    """A finished study: the data's description, the settings, the models, every fit's
    record (in fit order) and the analysis."""

    dataset: str
    n_samples: int
    n_features: int
    class_names: tuple[str, ...]
    settings: StudySettings
    specs: list[ModelSpec]
    baseline: str
    records: list[dict[str, Any]]
    summaries: list[ModelSummary]
    study_file: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The values set on every model on top of its spec (``--lr``, ``--l2``, ``--dropout``).
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The records of the fits that failed."""
        return [r for r in self.records if r["error"]]


def run_study(
    bunch: Bunch,
    specs: Sequence[ModelSpec],
    settings: StudySettings | None = None,
    *,
    jobs: int = 1,
    scheduler: Any = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    study_file: dict[str, Any] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> StudyResult:
    """Run the study: every model on every resampling of ``bunch``, then the analysis.

    ``jobs`` and ``scheduler`` choose where the fits run (see
    :func:`~tensorgraph.study.execute.run_tasks`); the results do not depend on them.
    ``overrides`` records the values already set on every spec (see
    :func:`~tensorgraph.study.models.with_overrides`) for the table and ``results.json``.
    """
    settings = settings or StudySettings()
    baseline = resolve_baseline(specs, settings.baseline)
    tasks = plan(bunch, specs, settings)
    assert bunch.target is not None  # plan() refuses data without a target
    records = run_tasks(tasks, bunch.data, bunch.target, jobs=jobs, scheduler=scheduler,
                        on_done=on_done)
    return StudyResult(
        dataset=bunch.name,
        n_samples=len(bunch.target),
        n_features=int(bunch.data.shape[1]),
        class_names=tuple(bunch.target_names),
        settings=settings,
        specs=list(specs),
        baseline=baseline,
        records=records,
        summaries=analyse(records, specs, baseline, settings.confidence),
        study_file=study_file,
        overrides=dict(overrides or {}),
    )
