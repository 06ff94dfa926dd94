"""Preparing data: :func:`train_test_split`, :class:`StandardScaler`, :func:`one_hot`.

Names and argument conventions follow scikit-learn where users will look for them
(``test_size``, ``stratify``, ``fit``/``transform``, ``mean_``/``scale_``); randomness comes
from an explicit seed or generator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import creation
from ..dtypes import get_default_dtype
from ..errors import DataError, DomainError, DTypeError, ShapeError
from ..tensor import Tensor

__all__ = ["StandardScaler", "one_hot", "train_test_split"]


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return creation.default_generator if seed is None else np.random.default_rng(seed)


def _n_test(test_size: float | int, n: int) -> int:
    if isinstance(test_size, bool):
        raise TypeError("train_test_split: test_size must be a fraction or a count, not a bool")
    if isinstance(test_size, int | np.integer):
        count = int(test_size)
    elif isinstance(test_size, float) and 0.0 < test_size < 1.0:
        count = math.ceil(test_size * n)
    else:
        raise DomainError(
            f"train_test_split: test_size must be a fraction in (0, 1) or a count, got "
            f"{test_size!r}"
        )
    if not 1 <= count <= n - 1:
        raise DomainError(
            f"train_test_split: test_size={test_size!r} leaves {count} of {n} samples for the "
            "test split; both splits need at least one sample"
        )
    return count


def _stratified_counts(counts: np.ndarray, n_test: int) -> np.ndarray:
    # Largest-remainder allocation: each class gets its share of the test split, rounded so
    # that the shares add up to n_test exactly (ties go to the lower class index).
    exact = counts * n_test / counts.sum()
    taken = np.floor(exact).astype(np.int64)
    remainder = n_test - int(taken.sum())
    order = np.argsort(-(exact - taken), kind="stable")
    taken[order[:remainder]] += 1
    return np.asarray(np.minimum(taken, counts - 1))


def train_test_split(
    *arrays: Any,
    test_size: float | int = 0.25,
    stratify: Any = None,
    seed: int | np.random.Generator | None = None,
    shuffle: bool = True,
) -> list[Any]:
    """Split arrays into random train and test subsets (the same rows for every array).

    Parameters
    ----------
    *arrays : array-like or Tensor
        Arrays sharing their first dimension, e.g. ``X, y``.
    test_size : float or int
        The fraction of samples in the test split (rounded up), or their number.
    stratify : array-like, optional
        Class labels: each class then keeps its proportion in both splits (to within one
        sample per class). Every class needs at least two samples.
    seed : int or numpy.random.Generator, optional
        Makes the split reproducible; :data:`tensorgraph.creation.default_generator` is used
        when omitted.
    shuffle : bool
        When False, the last ``test_size`` samples form the test split (no stratification).

    Returns
    -------
    list
        ``[a_train, a_test, b_train, b_test, ...]``; Tensors give Tensors, arrays give arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorgraph.data import train_test_split
    >>> X, y = np.arange(20.0).reshape(10, 2), np.array([0] * 6 + [1] * 4)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, stratify=y, seed=0)
    >>> np.bincount(y_te).tolist()
    [3, 2]
    """
    if not arrays:
        raise ValueError("train_test_split: give at least one array")
    # np.asarray, not .numpy(): a tensor that requires grad is refused, not cut from its graph
    data = [np.asarray(a) for a in arrays]
    lengths = {a.shape[0] if a.ndim else -1 for a in data}
    if len(lengths) != 1 or -1 in lengths:
        raise ShapeError(
            "train_test_split: the arrays must share their first dimension, got shapes "
            + ", ".join(str(a.shape) for a in data)
        )
    n = data[0].shape[0]
    n_test = _n_test(test_size, n)
    if not shuffle:
        if stratify is not None:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        test, train = np.arange(n - n_test, n), np.arange(n - n_test)
    else:
        rng = _rng(seed)
        if stratify is None:
            order = rng.permutation(n)
            test, train = order[:n_test], order[n_test:]
        else:
            test, train = _stratified(np.asarray(stratify), n, n_test, rng)
    out: list[Any] = []
    for original, a in zip(arrays, data, strict=True):
        for rows in (train, test):
            part = a[rows]
            out.append(Tensor(part) if isinstance(original, Tensor) else part)
    return out


def _stratified(
    labels: np.ndarray, n: int, n_test: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if labels.shape != (n,):
        raise ShapeError(f"train_test_split: stratify must have shape ({n},), got {labels.shape}")
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if (counts < 2).any():
        lonely = classes[counts < 2]
        raise DataError(
            f"train_test_split: class {lonely[0].item()!r} has a single sample; stratification "
            "needs at least two per class"
        )
    per_class = _stratified_counts(counts, n_test)
    test_parts, train_parts = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == k))
        test_parts.append(members[: per_class[k]])
        train_parts.append(members[per_class[k] :])
    # Interleave the classes so that an unshuffled pass over a split is not sorted by class.
    return rng.permutation(np.concatenate(test_parts)), rng.permutation(np.concatenate(train_parts))


class StandardScaler:
    r"""Standardise features to zero mean and unit variance, with statistics of one split.

    .. math:: z_{ij} = (x_{ij} - \mu_j) / \sigma_j

    where :math:`\mu_j` and :math:`\sigma_j` (population standard deviation, ``ddof=0``) are
    computed by :meth:`fit` on the *training* split only and then applied unchanged to the
    validation and test splits, so that no information leaks from them into training.

    Zero-variance columns (every training value equal) get :math:`\sigma_j = 1`: they are
    centred but not scaled, so they become exactly 0 on the training split instead of a
    division by zero, and :attr:`constant_` marks them.

    Attributes
    ----------
    mean_, scale_ : ndarray of float64, shape (n_features,)
    constant_ : ndarray of bool, shape (n_features,)

    Examples
    --------
    >>> import numpy as np
    >>> from tensorgraph.data import StandardScaler
    >>> scaler = StandardScaler().fit(np.array([[0.0, 5.0], [2.0, 5.0]]))
    >>> scaler.transform(np.array([[1.0, 5.0], [4.0, 6.0]])).tolist()
    [[0.0, 0.0], [3.0, 1.0]]
    """

    mean_: np.ndarray
    scale_: np.ndarray
    constant_: np.ndarray

    def __init__(self) -> None:
        self._fitted = False

    @staticmethod
    def _matrix(X: Any, where: str) -> np.ndarray:
        # np.asarray, not .numpy(): a tensor that requires grad is refused (its graph would
        # be dropped by the plain array this returns), with numpy's own TypeError.
        array = np.asarray(X)
        if array.ndim != 2:
            raise ShapeError(
                f"StandardScaler.{where}: expected a 2-D array (samples, features), got shape "
                f"{array.shape}"
            )
        if array.dtype.kind not in "biuf":
            raise DTypeError(f"StandardScaler.{where}: expected numbers, got {array.dtype}")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            row, col = np.argwhere(~np.isfinite(array))[0]
            raise DataError(
                f"StandardScaler.{where}: non-finite value {array[row, col]} at row {row}, "
                f"column {col}"
            )
        return array

    def fit(self, X: Any) -> StandardScaler:
        """Compute the mean and standard deviation of each column of ``X``."""
        array = self._matrix(X, "fit")
        if array.shape[0] == 0:
            raise ShapeError("StandardScaler.fit: X has no rows")
        wide = array.astype(np.float64)
        self.constant_ = (wide == wide[0]).all(axis=0)
        # The constant columns' mean is their exact value, so they map to exactly 0.
        self.mean_ = np.where(self.constant_, wide[0], wide.mean(axis=0))
        self.scale_ = np.where(self.constant_, 1.0, wide.std(axis=0))
        self._fitted = True
        return self

    def _check(self, X: Any, where: str) -> np.ndarray:
        if not self._fitted:
            raise DataError(f"StandardScaler.{where}: call fit() on the training data first")
        array = self._matrix(X, where)
        if array.shape[1] != self.mean_.shape[0]:
            raise ShapeError(
                f"StandardScaler.{where}: fitted on {self.mean_.shape[0]} features, X has "
                f"shape {array.shape}"
            )
        return array

    def transform(self, X: Any) -> np.ndarray:
        """Standardise ``X`` with the fitted statistics (a float array of X's float dtype)."""
        array = self._check(X, "transform")
        dtype = array.dtype if array.dtype.kind == "f" else get_default_dtype()
        return np.asarray((array - self.mean_) / self.scale_, dtype=dtype)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Undo :meth:`transform`."""
        array = self._check(Z, "inverse_transform")
        dtype = array.dtype if array.dtype.kind == "f" else get_default_dtype()
        return np.asarray(array * self.scale_ + self.mean_, dtype=dtype)

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted statistics, for :func:`tensorgraph.save`."""
        if not self._fitted:
            raise DataError("StandardScaler.state_dict: the scaler is not fitted")
        return {
            "mean": self.mean_.copy(),
            "scale": self.scale_.copy(),
            "constant": self.constant_.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore statistics saved by :meth:`state_dict`."""
        missing = {"mean", "scale", "constant"} - set(state)
        if missing:
            raise DataError(f"StandardScaler.load_state_dict: missing {sorted(missing)}")
        mean, scale, constant = (np.asarray(state[k]) for k in ("mean", "scale", "constant"))
        if not mean.ndim == 1 or mean.shape != scale.shape or mean.shape != constant.shape:
            raise ShapeError(
                f"StandardScaler.load_state_dict: mean {mean.shape}, scale {scale.shape} and "
                f"constant {constant.shape} must be 1-D of one length"
            )
        self.mean_ = mean.astype(np.float64)
        self.scale_ = scale.astype(np.float64)
        self.constant_ = constant.astype(bool)
        self._fitted = True


def one_hot(labels: Any, num_classes: int | None = None, dtype: DTypeLike | None = None) -> Any:
    """Encode integer class labels as one-hot rows.

    Parameters
    ----------
    labels : array-like or Tensor of int
        Class indices in ``0 .. num_classes - 1``, any shape.
    num_classes : int, optional
        Defaults to ``labels.max() + 1``.
    dtype : float dtype, optional
        The default float dtype when omitted.

    Returns
    -------
    ndarray or Tensor
        Shape ``labels.shape + (num_classes,)``; a Tensor when ``labels`` is one.

    Examples
    --------
    >>> from tensorgraph.data import one_hot
    >>> one_hot([2, 0], num_classes=3).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    array = labels.numpy() if isinstance(labels, Tensor) else np.asarray(labels)
    if array.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: labels must be integers, got {array.dtype}")
    if num_classes is None:
        if array.size == 0:
            raise ValueError("one_hot: give num_classes for empty labels")
        num_classes = int(array.max()) + 1
    if num_classes < 1:
        raise DomainError(f"one_hot: num_classes must be positive, got {num_classes}")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        bad = array[(array < 0) | (array >= num_classes)].flat[0]
        raise DomainError(f"one_hot: label {bad} is outside 0 .. {num_classes - 1}")
    encoded = (array[..., None] == np.arange(num_classes)).astype(dtype or get_default_dtype())
    return Tensor(encoded) if isinstance(labels, Tensor) else encoded
