from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.data import StandardScaler, one_hot, train_test_split
from tensorgraph.errors import DataError, DomainError, DTypeError, ShapeError


def test_split_is_a_partition_reproducible_by_seed() -> None:
    X = np.arange(40.0).reshape(20, 2)
    y = np.arange(20)
    X_tr, _, y_tr, y_te = train_test_split(X, y, test_size=0.25, seed=3)
    assert len(y_te) == 5 and len(y_tr) == 15
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    assert np.array_equal(X_tr[:, 0], 2.0 * y_tr)
    again = train_test_split(X, y, test_size=0.25, seed=3)
    assert np.array_equal(again[3], y_te)
    assert not np.array_equal(train_test_split(X, y, test_size=0.25, seed=4)[3], y_te)


def test_test_size_fraction_rounds_up_and_count_is_exact() -> None:
    y = np.arange(10)
    assert len(train_test_split(y, test_size=0.21, seed=0)[1]) == 3
    assert len(train_test_split(y, test_size=4, seed=0)[1]) == 4


@pytest.mark.parametrize("counts", [(60, 40), (50, 30, 20), (7, 13, 5, 25)])
def test_stratified_split_keeps_the_class_proportions(counts: tuple[int, ...]) -> None:
    y = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng(0)
    y = rng.permutation(y)
    (
        _,
        y_te,
    ) = train_test_split(y, test_size=0.3, stratify=y, seed=1)
    n_test = int(np.ceil(0.3 * len(y)))
    assert len(y_te) == n_test
    expected = np.array(counts) * n_test / len(y)
    got = np.bincount(y_te, minlength=len(counts))
    assert np.all(np.abs(got - expected) < 1.0)


def test_split_of_tensors_gives_tensors_and_unshuffled_takes_the_tail() -> None:
    x = tg.tensor(np.arange(6.0))
    train, test = train_test_split(x, test_size=2, shuffle=False)
    assert isinstance(train, tg.Tensor)
    assert test.numpy().tolist() == [4.0, 5.0]


def test_split_errors() -> None:
    with pytest.raises(ShapeError, match="first dimension"):
        train_test_split(np.zeros(3), np.zeros(4))
    with pytest.raises(DomainError, match="test_size"):
        train_test_split(np.zeros(3), test_size=1.5)
    with pytest.raises(DomainError, match="both splits"):
        train_test_split(np.zeros(3), test_size=3)
    with pytest.raises(DataError, match="class 2 has a single sample"):
        train_test_split(np.zeros(5), stratify=np.array([0, 0, 1, 1, 2]), seed=0)


def test_scaler_uses_training_statistics_only() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, size=(50, 3))
    test = rng.normal(-1.0, 5.0, size=(20, 3))
    scaler = StandardScaler().fit(train)
    z_train, z_test = scaler.transform(train), scaler.transform(test)
    np.testing.assert_allclose(z_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z_train.std(axis=0), 1.0, rtol=1e-12)
    # Test data is mapped with the training mean and std, not its own.
    np.testing.assert_allclose(z_test, (test - train.mean(0)) / train.std(0), rtol=1e-12)
    assert abs(z_test.mean()) > 0.1
    np.testing.assert_allclose(scaler.inverse_transform(z_test), test, rtol=1e-12)


def test_scaler_zero_variance_column_becomes_zero_without_division_by_zero() -> None:
    X = np.array([[1.0, 0.1], [2.0, 0.1], [3.0, 0.1]], dtype=np.float32)
    scaler = StandardScaler()
    Z = scaler.fit_transform(X)
    assert Z.dtype == np.float32
    assert scaler.constant_.tolist() == [False, True]
    assert Z[:, 1].tolist() == [0.0, 0.0, 0.0]
    assert scaler.transform(np.array([[0.0, 1.1]], dtype=np.float32))[0, 1] == pytest.approx(1.0)


def test_scaler_state_round_trip_and_errors() -> None:
    scaler = StandardScaler().fit(np.array([[1.0], [3.0]]))
    other = StandardScaler()
    other.load_state_dict(scaler.state_dict())
    assert other.transform(np.array([[5.0]])).tolist() == [[3.0]]
    with pytest.raises(DataError, match="call fit"):
        StandardScaler().transform(np.zeros((2, 2)))
    with pytest.raises(ShapeError, match=r"fitted on 1 features, X has shape \(2, 2\)"):
        scaler.transform(np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="2-D"):
        StandardScaler().fit(np.zeros(3))
    with pytest.raises(DataError, match="non-finite value nan at row 1, column 0"):
        StandardScaler().fit(np.array([[1.0], [np.nan]]))


def test_one_hot() -> None:
    encoded = one_hot(np.array([1, 0, 2]))
    assert encoded.dtype == np.float32
    assert encoded.tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 1]]
    assert one_hot(np.array([[1], [0]]), num_classes=2).shape == (2, 1, 2)
    assert isinstance(one_hot(tg.tensor(np.array([0, 1]))), tg.Tensor)
    with pytest.raises(DomainError, match=r"label 3 is outside 0 \.\. 2"):
        one_hot([0, 3], num_classes=3)
    with pytest.raises(DTypeError, match="integers"):
        one_hot([0.0, 1.0])


def test_scaler_refuses_a_tensor_that_requires_grad_like_np_asarray() -> None:
    X = tg.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    with pytest.raises(TypeError) as expected:
        np.asarray(X)
    scaler = StandardScaler()
    for method in (scaler.fit, scaler.fit_transform):
        with pytest.raises(TypeError) as info:  # it returned a plain array, dropping the graph
            method(X)
        assert str(info.value) == str(expected.value)
    scaler.fit(X.detach())
    with pytest.raises(TypeError, match="requires grad"):
        scaler.transform(X)
    with pytest.raises(TypeError, match="requires grad"):
        scaler.inverse_transform(X)
    np.testing.assert_allclose(scaler.fit_transform(X.detach()),
                               scaler.fit_transform(np.arange(8.0).reshape(4, 2)))


def test_train_test_split_refuses_a_tensor_that_requires_grad() -> None:
    import tensorgraph as tg
    from tensorgraph.data import train_test_split

    x = tg.tensor(np.ones((4, 2)), requires_grad=True)
    with pytest.raises(TypeError, match="requires grad"):
        train_test_split(x, test_size=0.5)
