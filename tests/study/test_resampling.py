"""Folds: stratified, disjoint, every row tested once per repeat, validation carved from the
training part, reproducible from the seed."""

from __future__ import annotations

import numpy as np
import pytest

from tensorgraph.errors import DomainError
from tensorgraph.study import fit_seed, random_splits, repeated_stratified_kfold
from tensorgraph.study.resampling import stratified_kfold

Y = np.array([0] * 40 + [1] * 25 + [2] * 12)


def test_each_repeat_tests_every_row_once_and_keeps_the_class_shares() -> None:
    folds = repeated_stratified_kfold(Y, folds=4, repeats=3, seed=5, val_fraction=0.25)
    assert [(f.repeat, f.fold) for f in folds] == [(r, k) for r in range(3) for k in range(4)]
    for repeat in range(3):
        mine = [f for f in folds if f.repeat == repeat]
        tested = np.sort(np.concatenate([f.test for f in mine]))
        assert np.array_equal(tested, np.arange(len(Y)))
        sizes = [len(f.test) for f in mine]
        assert max(sizes) - min(sizes) <= 1
        for f in mine:
            for c, total in enumerate(np.bincount(Y)):
                assert abs(np.sum(Y[f.test] == c) - total / 4) <= 1
    for f in folds:
        parts = [set(f.train), set(f.validation), set(f.test)]
        assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
        assert len(f.train) + len(f.validation) + len(f.test) == len(Y) == f.n_fit + len(f.test)
        assert len(f.validation) == pytest.approx(0.25 * f.n_fit, abs=3)
        assert set(np.unique(Y[f.validation])) == {0, 1, 2}


def test_repeats_differ_and_the_seed_reproduces_them() -> None:
    a = repeated_stratified_kfold(Y, 3, 2, seed=1)
    b = repeated_stratified_kfold(Y, 3, 2, seed=1)
    c = repeated_stratified_kfold(Y, 3, 2, seed=2)
    assert all(np.array_equal(x.test, y.test) and np.array_equal(x.validation, y.validation)
               for x, y in zip(a, b))
    assert not np.array_equal(a[0].test, a[3].test)  # a new shuffle per repeat
    assert not np.array_equal(a[0].test, c[0].test)
    # A repeat's folds do not depend on how many repeats were asked for.
    assert np.array_equal(repeated_stratified_kfold(Y, 3, 1, seed=1)[0].test, a[0].test)


def test_random_splits_hold_out_the_test_fraction() -> None:
    splits = random_splits(Y, 3, seed=0, test_fraction=0.2)
    assert [(s.repeat, s.fold) for s in splits] == [(0, 0), (1, 0), (2, 0)]
    for s in splits:
        assert len(s.test) == pytest.approx(0.2 * len(Y), abs=2)
        assert not set(s.test) & (set(s.train) | set(s.validation))
    assert not np.array_equal(splits[0].test, splits[1].test)


def test_refusals_name_the_problem() -> None:
    with pytest.raises(DomainError, match="class 2 has 12 samples, fewer than the 13 folds"):
        stratified_kfold(Y, 13, np.random.default_rng(0))
    with pytest.raises(DomainError, match="number of folds must be an integer >= 2"):
        repeated_stratified_kfold(Y, folds=1)
    with pytest.raises(DomainError, match="repeats must be a positive integer"):
        repeated_stratified_kfold(Y, repeats=0)
    with pytest.raises(DomainError, match="number of random splits must be an integer >= 2, got 1"):
        random_splits(Y, 1)


def test_fit_seeds_depend_on_the_study_seed_and_the_index_only() -> None:
    seeds = [fit_seed(0, i) for i in range(100)]
    assert len(set(seeds)) == 100
    assert fit_seed(0, 7) == seeds[7] and fit_seed(1, 7) != seeds[7]
    assert all(0 <= s < 2**64 for s in seeds)


def test_classes_too_small_for_the_folds_and_the_validation_split_are_named() -> None:
    y = np.array([0] * 10 + [1] * 10 + [2] * 3)
    # 2 folds leave 1 sample of class 2 in a training part; the validation split needs 2.
    with pytest.raises(DomainError, match=r"^class 'rare' has 3 samples: with 2 folds a fold's "
                       r"training part keeps only 1 of them.*use --folds 3 or random splits"):
        repeated_stratified_kfold(y, 2, 1, class_names=["a", "b", "rare"])
    assert len(repeated_stratified_kfold(y, 3, 1)) == 3  # the advice works
    with pytest.raises(DomainError, match=r"^class 2 has 2 samples.*every class needs at "
                       r"least 3 samples"):
        repeated_stratified_kfold(y[:-1], 2, 1)
    with pytest.raises(DomainError, match=r"^class 2 has 2 samples: a random split holding "
                       r"out 50% keeps 1 of them for training"):
        random_splits(np.array([0] * 10 + [1] * 10 + [2] * 2), 2, test_fraction=0.5)
