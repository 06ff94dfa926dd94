"""The resamplings of a study: repeated stratified k-fold cross-validation, or random
stratified splits, each with a validation set carved from its training part.

A :class:`Fold` holds row indices only; the arrays are cut and standardised where the fit
runs (:mod:`tensorgraph.study.fits`), with a scaler fitted on the fold's training rows.
Randomness comes from ``numpy.random.SeedSequence(seed, spawn_key=(0, repeat))``: the
folds of a repeat depend on the study seed and the repeat's number only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data import train_test_split
from ..data.preprocessing import _n_test, _stratified_counts
from ..errors import DomainError

__all__ = ["Fold", "random_splits", "repeated_stratified_kfold", "stratified_kfold"]


@dataclass(frozen=True)
class Fold:
    """One resampling: the rows to train on, to stop early on, and to test on."""

    repeat: int
    fold: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    @property
    def n_fit(self) -> int:
        """The rows not in the test set (training and validation): :math:`n_1`."""
        return len(self.train) + len(self.validation)


def _labels(y: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.size == 0:
        raise DomainError(f"{where}: expected a non-empty 1-D array of labels, got shape "
                          f"{labels.shape}")
    return np.unique(labels, return_counts=True)


# A class needs 2 samples in every training part: the validation split (early stopping) is
# stratified and keeps at least one of each class on both of its sides.
_FOR_VALIDATION = 2


def _workable_folds(counts: np.ndarray) -> tuple[int, int] | None:
    # k works for a class of c samples when c >= k and c - ceil(c/k) >= 2, i.e.
    # c / (c - 2) <= k <= c; the range every class allows, or None.
    if counts.min() <= _FOR_VALIDATION:
        return None
    low = max(2, *(math.ceil(c / (c - 2)) for c in counts.tolist()))
    high = int(counts.min())
    return (low, high) if low <= high else None


def _name(label: object, names: Sequence[str] | None) -> str:
    # The class as the user knows it: its name when the labels encode named classes.
    if names is not None and isinstance(label, int) and 0 <= label < len(names):
        return repr(names[label])
    return repr(label)


def _check_classes_for_folds(y: np.ndarray, k: int, names: Sequence[str] | None) -> None:
    """Refuse, naming the class, its samples and what to do, labels that k-fold
    cross-validation with a validation split cannot serve."""
    classes, counts = _labels(y, "stratified k-fold")
    for label, c in zip(classes.tolist(), counts.tolist(), strict=True):
        label = _name(label, names)
        if c < k:
            problem = f"class {label} has {c} samples, fewer than the {k} folds"
        elif c - math.ceil(c / k) < _FOR_VALIDATION:
            problem = (f"class {label} has {c} samples: with {k} folds a fold's training "
                       f"part keeps only {c - math.ceil(c / k)} of them, and its validation "
                       f"split (early stopping) needs {_FOR_VALIDATION} per class")
        else:
            continue
        span = _workable_folds(counts)
        fix = (("use --folds " + (f"{span[0]}" if span[0] == span[1]
                                  else f"between {span[0]} and {span[1]}")
                + " or random splits (--seeds)") if span
               else "use random splits (--seeds)" if counts.min() > _FOR_VALIDATION
               else f"every class needs at least {_FOR_VALIDATION + 1} samples (one to "
                    f"test, {_FOR_VALIDATION} to train and validate): drop or merge that "
                    f"class, or gather more samples")
        raise DomainError(f"{problem}; {fix}")


def _check_classes_for_splits(y: np.ndarray, test_fraction: float,
                              names: Sequence[str] | None) -> None:
    classes, counts = _labels(y, "random splits")
    # The same allocation train_test_split makes: what each class keeps for training.
    kept = counts - _stratified_counts(counts, _n_test(test_fraction, int(counts.sum())))
    for label, c, left in zip(classes.tolist(), counts.tolist(), kept.tolist(), strict=True):
        if c < 2 or left < _FOR_VALIDATION:
            raise DomainError(
                f"class {_name(label, names)} has {c} samples: a random split holding out "
                f"{100 * test_fraction:g}% keeps {min(left, c)} of them for training, and "
                f"the validation split (early stopping) needs {_FOR_VALIDATION} per class; "
                + ("use a smaller test fraction, or k-fold cross-validation (--folds)"
                   if c > _FOR_VALIDATION else
                   f"every class needs at least {_FOR_VALIDATION + 1} samples: drop or "
                   f"merge that class, or gather more samples"))


def stratified_kfold(y: np.ndarray, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The test rows of ``k`` stratified folds: each class is shuffled and dealt out in turn,
    so every fold holds each class's share to within one sample and the folds' sizes differ
    by at most one."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise DomainError(f"stratified k-fold: the number of folds must be an integer >= 2, "
                          f"got {k!r}")
    classes, counts = _labels(y, "stratified k-fold")
    if counts.min() < k:
        rare = classes[int(counts.argmin())].item()
        raise DomainError(
            f"stratified k-fold: class {rare!r} has {counts.min()} samples, fewer than the "
            f"{k} folds; use fewer folds (--folds) or random splits (--seeds)"
        )
    labels = np.asarray(y)
    order = np.concatenate([rng.permutation(np.flatnonzero(labels == c)) for c in classes])
    # Dealing the class-sorted rows round-robin keeps every class spread evenly.
    assignment = np.empty(len(order), dtype=np.int64)
    assignment[order] = np.arange(len(order)) % k
    return [np.flatnonzero(assignment == f) for f in range(k)]


def _carve(
    y: np.ndarray, rest: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    train, validation = train_test_split(rest, test_size=val_fraction, stratify=y[rest],
                                         seed=rng)
    return np.sort(train), np.sort(validation)


def _check_fraction(value: float, name: str) -> None:
    if not (isinstance(value, int | float) and 0 < value < 1):
        raise DomainError(f"{name} must be in (0, 1), got {value!r}")


def repeated_stratified_kfold(
    y: np.ndarray, folds: int = 5, repeats: int = 2, seed: int = 0, val_fraction: float = 0.25,
    class_names: Sequence[str] | None = None,
) -> list[Fold]:
    """``repeats`` times ``folds``-fold stratified cross-validation; each fold's
    validation rows are ``val_fraction`` of its training part (stratified).
    ``class_names`` (the names of labels 0, 1, ...) name a class in the messages."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise DomainError(f"repeats must be a positive integer, got {repeats!r}")
    _check_fraction(val_fraction, "val_fraction")
    labels = np.asarray(y)
    if isinstance(folds, int) and not isinstance(folds, bool) and folds >= 2:
        _check_classes_for_folds(labels, folds, class_names)
    every = np.arange(len(labels))
    result = []
    for repeat in range(repeats):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, repeat)))
        for number, test in enumerate(stratified_kfold(labels, folds, rng)):
            rest = np.setdiff1d(every, test, assume_unique=True)
            train, validation = _carve(labels, rest, val_fraction, rng)
            result.append(Fold(repeat, number, train, validation, test))
    return result


def random_splits(
    y: np.ndarray,
    splits: int,
    seed: int = 0,
    test_fraction: float = 0.2,
    val_fraction: float = 0.25,
    class_names: Sequence[str] | None = None,
) -> list[Fold]:
    """``splits`` independent random stratified splits (``--seeds N``): ``test_fraction``
    of the rows to test, ``val_fraction`` of the rest to validate. Split ``i`` is
    ``Fold(repeat=i, fold=0)``."""
    if isinstance(splits, bool) or not isinstance(splits, int) or splits < 2:
        raise DomainError(f"the number of random splits must be an integer >= 2, got {splits!r}")
    _check_fraction(test_fraction, "test_fraction")
    _check_fraction(val_fraction, "val_fraction")
    labels = np.asarray(y)
    _check_classes_for_splits(labels, test_fraction, class_names)
    every = np.arange(len(labels))
    result = []
    for repeat in range(splits):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, repeat)))
        rest, test = train_test_split(every, test_size=test_fraction, stratify=labels, seed=rng)
        train, validation = _carve(labels, rest, val_fraction, rng)
        result.append(Fold(repeat, 0, train, validation, np.sort(test)))
    return result
