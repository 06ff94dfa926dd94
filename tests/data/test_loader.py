from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.data import DataLoader, Dataset, TensorDataset
from tensorgraph.errors import DomainError, ShapeError


def _dataset(n: int = 10) -> TensorDataset:
    return TensorDataset(np.arange(2.0 * n).reshape(n, 2), np.arange(n))


def test_batches_cover_every_sample_once_with_a_partial_last_batch() -> None:
    loader = DataLoader(_dataset(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3
    assert [tuple(x.shape) for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert np.concatenate([y.numpy() for _, y in batches]).tolist() == list(range(10))
    assert all(isinstance(x, tg.Tensor) for x, _ in batches)
    assert batches[0][1].dtype == np.int64  # labels keep their integer dtype


def test_drop_last_drops_only_the_partial_batch() -> None:
    loader = DataLoader(_dataset(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [len(y) for _, y in loader] == [4, 4]
    assert len(DataLoader(_dataset(8), batch_size=4, drop_last=True)) == 2


def test_shuffle_is_a_permutation_reproducible_by_seed_and_new_each_epoch() -> None:
    def epochs(loader: DataLoader) -> list[list[int]]:
        return [np.concatenate([y.numpy() for _, y in loader]).tolist() for _ in range(2)]

    first = epochs(DataLoader(_dataset(20), batch_size=3, shuffle=True, seed=7))
    second = epochs(DataLoader(_dataset(20), batch_size=3, shuffle=True, seed=7))
    assert first == second
    assert sorted(first[0]) == list(range(20))
    assert first[0] != first[1]
    assert first[0] != list(range(20))
    other = epochs(DataLoader(_dataset(20), batch_size=3, shuffle=True, seed=8))
    assert other != first


def test_shuffle_with_an_explicit_generator_and_with_manual_seed() -> None:
    a = [
        y.numpy().tolist()
        for _, y in DataLoader(
            _dataset(), batch_size=10, shuffle=True, generator=np.random.default_rng(3)
        )
    ]
    b = [
        y.numpy().tolist()
        for _, y in DataLoader(
            _dataset(), batch_size=10, shuffle=True, generator=np.random.default_rng(3)
        )
    ]
    assert a == b
    tg.manual_seed(5)
    c = [y.numpy().tolist() for _, y in DataLoader(_dataset(), batch_size=10, shuffle=True)]
    tg.manual_seed(5)
    d = [y.numpy().tolist() for _, y in DataLoader(_dataset(), batch_size=10, shuffle=True)]
    assert c == d


def test_features_and_labels_stay_paired_after_shuffling() -> None:
    for x, y in DataLoader(_dataset(12), batch_size=5, shuffle=True, seed=1):
        assert np.array_equal(x.numpy()[:, 0], 2.0 * y.numpy())


class _Squares(Dataset):
    def __len__(self) -> int:
        return 5

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return np.array([index, index**2], dtype=np.float64), index


def test_a_custom_dataset_is_stacked_into_batches() -> None:
    (x, y), (x2, _) = list(DataLoader(_Squares(), batch_size=3))
    assert x.numpy().tolist() == [[0, 0], [1, 1], [2, 4]]
    assert y.numpy().tolist() == [0, 1, 2]
    assert x2.shape == (2, 2)


def test_bad_arguments_are_refused_with_clear_messages() -> None:
    with pytest.raises(ShapeError, match=r"\(3, 2\), \(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(DomainError, match="batch_size must be a positive integer, got 0"):
        DataLoader(_dataset(), batch_size=0)
    with pytest.raises(TypeError, match="expected a Dataset"):
        DataLoader(np.zeros((3, 2)), batch_size=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not both"):
        DataLoader(_dataset(), seed=1, generator=np.random.default_rng(1))


def test_the_data_set_copies_the_callers_arrays() -> None:
    X, y = np.arange(6.0).reshape(3, 2), np.array([0, 1, 0])
    t = tg.tensor(np.ones((3, 1)))
    ds = TensorDataset(X, y, t)
    X[0, 0] = 99.0  # the batches used to change with the caller's array
    y[:] = 5
    t._data[0, 0] = -1.0
    t._bump_version()
    first = next(iter(DataLoader(ds, batch_size=3)))
    np.testing.assert_array_equal(first[0], np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(first[1], [0, 1, 0])
    np.testing.assert_array_equal(first[2], np.ones((3, 1)))
    assert not np.shares_memory(ds.arrays[0], X)
