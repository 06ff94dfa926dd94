"""One fit of a study as an independent task: what it needs (:class:`FitTask`), its seed,
and :func:`run_fit`, the function a worker runs.

A fit's seed comes from the study seed and the fit's index alone,
``SeedSequence(study_seed, spawn_key=(1, index))``, never from the order in which fits
finish, so the results do not depend on how many workers ran them or where.
:func:`run_fit` never raises for a failing fit: it returns the record with the error, so
one bad fit does not lose the others.
"""

from __future__ import annotations

import contextlib
import math
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..data import StandardScaler
from ..training import evaluate
from .models import ModelSpec, make_loss
from .resampling import Fold
from .trainer import train_model

__all__ = ["FitTask", "fit_seed", "run_fit", "single_blas_thread"]

#: Per-epoch curves kept in each fit's record.
CURVES = ("loss", "accuracy", "val_loss", "val_accuracy")


def fit_seed(study_seed: int, index: int) -> int:
    """The seed of fit number ``index`` of a study seeded with ``study_seed`` (64 bits)."""
    sequence = np.random.SeedSequence(study_seed, spawn_key=(1, index))
    return int(sequence.generate_state(1, np.uint64)[0])


@dataclass(frozen=True)
class FitTask:
    """Everything one fit needs besides the data: the model, the fold, the seed, the
    shared training settings."""

    index: int
    spec: ModelSpec
    fold: Fold
    seed: int
    n_classes: int
    hidden: tuple[int, ...]
    epochs: int
    batch_size: int
    patience: int


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread inside the block when threadpoolctl is installed.

    Small networks lose far more to BLAS threads competing for cores than they gain; worker
    processes are started with ``OPENBLAS_NUM_THREADS=1`` (and the like) already, this also
    covers fits run in the calling process.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _error_record(task: FitTask, exc: BaseException, seconds: float) -> dict[str, Any]:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return {**_identity(task), "error": f"{type(exc).__name__}: {exc}{where}",
            "seconds": seconds, "epochs": 0, **dict.fromkeys(_SCORES, math.nan),
            "history": {}}


_SCORES = ("train_accuracy", "val_accuracy", "test_accuracy", "test_cost", "final_cost")


def _identity(task: FitTask) -> dict[str, Any]:
    return {
        "fit": task.index,
        "model": task.spec.name,
        "repeat": task.fold.repeat,
        "fold": task.fold.fold,
        "seed": task.seed,
        "n_train": len(task.fold.train),
        "n_validation": len(task.fold.validation),
        "n_test": len(task.fold.test),
    }


def run_fit(task: FitTask, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Train ``task``'s model on its fold of ``(X, y)`` and measure it on the fold's test
    rows; return the fit's record (a JSON-ready dict, ``error`` None on success)."""
    started = time.perf_counter()
    try:
        with single_blas_thread():
            return _run(task, X, y, started)
    except Exception as exc:  # recorded, so that the study goes on
        return _error_record(task, exc, time.perf_counter() - started)


def _run(task: FitTask, X: np.ndarray, y: np.ndarray, started: float) -> dict[str, Any]:
    fold = task.fold
    # The scaler sees the training rows only: neither the validation nor the test rows.
    scaler = StandardScaler().fit(X[fold.train])
    parts = {name: (scaler.transform(X[rows]), y[rows])
             for name, rows in (("train", fold.train), ("val", fold.validation),
                                ("test", fold.test))}
    init_seed, shuffle_seed = (int(s) for s in np.random.SeedSequence(task.seed)
                               .generate_state(2, np.uint32))
    trained = train_model(
        task.spec, parts["train"], parts["val"], task.n_classes,
        hidden=task.hidden, epochs=task.epochs, batch_size=task.batch_size,
        patience=task.patience, init_seed=init_seed, shuffle_seed=shuffle_seed,
    )
    model, loss = trained.model, trained.loss
    scores = {f"{name}_accuracy": evaluate(model, None, data, metrics=["accuracy"])["accuracy"]
              for name, data in parts.items()}
    history = trained.history.history
    return {
        **_identity(task),
        "error": None,
        "seconds": time.perf_counter() - started,
        "epochs": len(trained.history),
        "train_accuracy": scores["train_accuracy"],
        "val_accuracy": scores["val_accuracy"],
        "test_accuracy": scores["test_accuracy"],
        # Both costs describe the final model (best weights restored), in eval mode. The test
        # cost is the cross-entropy alone, comparable across models; the final cost is the
        # training cost the model minimised (with its L2 term, if any).
        "test_cost": evaluate(model, make_loss(model, replace(task.spec, l2=0.0),
                                               task.n_classes), parts["test"])["loss"],
        "final_cost": evaluate(model, loss, parts["train"])["loss"],
        "history": {key: [float(v) for v in history[key]] for key in CURVES if key in history},
    }
