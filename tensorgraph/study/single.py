"""One split, one fit per model: the single-split run behind ``tensorgraph train``.

The data is split once (stratified: train / validation / test), standardised with the
statistics of the training split, and every model sees the same batches in the same order
for a given seed, so the same seed gives the same numbers (except the timings). A resampled
study with intervals and paired tests is :func:`tensorgraph.study.run_study`; this module is
the quick look at one split::

    from tensorgraph import study
    from tensorgraph.data import load_breast_cancer
    split = study.prepare(load_breast_cancer(), seed=0)
    runs = study.run(split, study.select(None), study.StudyConfig())
    print(study.format_table(runs))
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import nn
from ..data import Bunch, StandardScaler, train_test_split
from ..errors import DomainError
from ..training import History, evaluate
from .fits import single_blas_thread
from .models import ModelSpec, check_data_fits
from .trainer import Trained, train_model

__all__ = [
    "Run",
    "Split",
    "StudyConfig",
    "format_table",
    "plot_curves",
    "prepare",
    "run",
    "train_one",
    "write_results",
]


@dataclass
class Split:
    """One split of a data set: standardised train / validation / test arrays."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    scaler: StandardScaler
    target_column: str | None = None

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])


def prepare(bunch: Bunch, seed: int = 0, val_size: float = 0.2, test_size: float = 0.2) -> Split:
    """Split ``bunch`` (stratified) into train / validation / test and standardise it with
    the training split's statistics. ``val_size`` and ``test_size`` are fractions of the
    whole set."""
    if bunch.target is None:
        raise DomainError(f"{bunch.name}: the data has no target column to learn")
    if not 0 < val_size < 1 or not 0 < test_size < 1 or val_size + test_size >= 1:
        raise DomainError(
            f"prepare: val_size and test_size must be in (0, 1) with a sum below 1, got "
            f"{val_size} and {test_size}"
        )
    rng = np.random.default_rng(seed)
    X_rest, X_test, y_rest, y_test = train_test_split(
        bunch.data, bunch.target, test_size=test_size, stratify=bunch.target, seed=rng
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_size / (1 - test_size), stratify=y_rest, seed=rng
    )
    scaler = StandardScaler().fit(X_train)
    return Split(
        name=bunch.name,
        X_train=scaler.transform(X_train),
        y_train=y_train,
        X_val=scaler.transform(X_val),
        y_val=y_val,
        X_test=scaler.transform(X_test),
        y_test=y_test,
        feature_names=bunch.feature_names,
        class_names=bunch.target_names,
        scaler=scaler,
        target_column=bunch.target_column,
    )


@dataclass(frozen=True)
class StudyConfig:
    """Settings shared by every model of a run."""

    epochs: int = 100
    batch_size: int = 64
    hidden: tuple[int, ...] = (64, 32)
    seed: int = 0
    patience: int = 20  # early stopping on the validation loss; 0 turns it off
    progress: bool = False


@dataclass
class Run:
    """The result of training one model of the series."""

    spec: ModelSpec
    model: nn.Sequential
    history: History
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    final_cost: float
    epochs_run: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The row of the results table, JSON-ready."""
        return {
            "model": self.spec.name,
            "label": self.spec.label,
            "train_accuracy": self.train_accuracy,
            "val_accuracy": self.val_accuracy,
            "test_accuracy": self.test_accuracy,
            "final_cost": self.final_cost,
            "epochs_run": self.epochs_run,
            "seconds": round(self.seconds, 3),
        }


def _train(
    spec: ModelSpec, split: Split, config: StudyConfig, description: str | None
) -> Trained:
    return train_model(
        spec,
        (split.X_train, split.y_train),
        (split.X_val, split.y_val),
        split.n_classes,
        hidden=config.hidden,
        epochs=config.epochs,
        batch_size=config.batch_size,
        patience=config.patience,
        init_seed=config.seed,
        shuffle_seed=config.seed,
        progress=config.progress,
        description=description,
    )


def train_one(
    spec: ModelSpec, split: Split, config: StudyConfig, description: str | None = None
) -> Run:
    """Train the model of ``spec`` on ``split`` and measure it."""
    check_data_fits(spec, split.n_features)
    started = time.perf_counter()
    with single_blas_thread():  # small networks lose to BLAS threads fighting for cores
        trained = _train(spec, split, config, description)
    model = trained.model

    def score(X: np.ndarray, y: np.ndarray) -> float:
        return evaluate(model, None, (X, y), metrics=["accuracy"])["accuracy"]

    # The cost of the final model (after early stopping restored the best weights), in eval
    # mode, so that it describes the same model as the accuracies.
    final_cost = evaluate(model, trained.loss, (split.X_train, split.y_train))["loss"]
    return Run(
        spec=spec,
        model=model,
        history=trained.history,
        train_accuracy=score(split.X_train, split.y_train),
        val_accuracy=score(split.X_val, split.y_val),
        test_accuracy=score(split.X_test, split.y_test),
        final_cost=final_cost,
        epochs_run=len(trained.history),
        seconds=time.perf_counter() - started,
    )


def run(
    split: Split,
    specs: Sequence[ModelSpec],
    config: StudyConfig,
    on_done: Callable[[int, Run], None] | None = None,
) -> list[Run]:
    """Train every model of ``specs`` on ``split``; ``on_done(index, run)`` after each."""
    runs = []
    for index, spec in enumerate(specs):
        label = f"[{index + 1}/{len(specs)}] {spec.label}"
        runs.append(train_one(spec, split, config, description=label))
        if on_done is not None:
            on_done(index, runs[-1])
    return runs


_COLUMNS = ("model", "train acc", "val acc", "test acc", "final cost", "epochs", "seconds")


def format_table(runs: Sequence[Run]) -> str:
    """The results as an aligned text table (accuracies in percent)."""
    rows = [
        [
            r.spec.label,
            f"{100 * r.train_accuracy:.2f}%",
            f"{100 * r.val_accuracy:.2f}%",
            f"{100 * r.test_accuracy:.2f}%",
            f"{r.final_cost:.4f}",
            str(r.epochs_run),
            f"{r.seconds:.1f}",
        ]
        for r in runs
    ]
    widths = [max(len(row[i]) for row in [list(_COLUMNS), *rows]) for i in range(len(_COLUMNS))]
    lines = []
    for k, row in enumerate([list(_COLUMNS), *rows]):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_results(
    out: str | os.PathLike[str], split: Split, config: StudyConfig, runs: Sequence[Run]
) -> list[Path]:
    """Write ``results.json`` (settings, results and per-epoch curves) and ``results.csv``
    to the directory ``out``; return their paths."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "dataset": split.name,
        "samples": {
            "train": len(split.y_train),
            "validation": len(split.y_val),
            "test": len(split.y_test),
        },
        "classes": list(split.class_names),
        "config": {**asdict(config), "hidden": list(config.hidden)},
        "models": [
            {**r.summary(), "spec": asdict(r.spec), "history": r.history.history} for r in runs
        ],
    }
    json_path, csv_path = directory / "results.json", directory / "results.csv"
    json_path.write_text(json.dumps(document, indent=2, allow_nan=True) + "\n", encoding="utf-8")
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(runs[0].summary()) if runs else ["model"])
        writer.writeheader()
        for r in runs:
            writer.writerow(r.summary())
    return [json_path, csv_path]


def plot_curves(path: str | os.PathLike[str], runs: Sequence[Run], title: str) -> Path:
    """Draw the training cost and the validation accuracy of every model on two panels.

    Raises ImportError (naming ``pip install tensorgraph[plot]``) without matplotlib.
    """
    from ..training.history import pyplot

    plt = pyplot("the comparison plot")
    fig, (cost_ax, acc_ax) = plt.subplots(1, 2, figsize=(13, 5))
    for r in runs:
        epochs = [e + 1 for e in r.history.epoch]
        cost_ax.plot(epochs, r.history.history["loss"], label=r.spec.label, linewidth=1.2)
        acc_ax.plot(epochs, r.history.history["val_accuracy"], label=r.spec.label, linewidth=1.2)
    cost_ax.set_yscale("log")
    cost_ax.set_title("training cost")
    acc_ax.set_title("validation accuracy")
    for ax in (cost_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
