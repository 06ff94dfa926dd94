"""Data for training: datasets shipped with the package, CSV reading, splitting, scaling and
mini-batches.

>>> from tensorgraph.data import load_breast_cancer, train_test_split, StandardScaler
>>> X, y = load_breast_cancer()
>>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, seed=0)
>>> scaler = StandardScaler().fit(X_tr)          # statistics of the training split only
>>> X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
>>> X_tr.shape, X_te.shape
((455, 30), (114, 30))
"""

from __future__ import annotations

from ..errors import DataError
from .csv import MISSING_VALUES, inspect_csv, load_csv
from .datasets import Bunch, load_breast_cancer, load_digits
from .loader import DataLoader, Dataset, TensorDataset
from .preprocessing import StandardScaler, one_hot, train_test_split

__all__ = [
    "MISSING_VALUES",
    "Bunch",
    "DataError",
    "DataLoader",
    "Dataset",
    "StandardScaler",
    "TensorDataset",
    "inspect_csv",
    "load_breast_cancer",
    "load_csv",
    "load_digits",
    "one_hot",
    "train_test_split",
]
