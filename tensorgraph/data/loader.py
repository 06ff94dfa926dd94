"""Datasets and mini-batches: :class:`Dataset`, :class:`TensorDataset`, :class:`DataLoader`.

Names and behaviour follow PyTorch's ``torch.utils.data``. Randomness is explicit: a
:class:`DataLoader` shuffles with its own ``numpy.random.Generator`` (from ``seed`` or
``generator``), or with :data:`tensorgraph.creation.default_generator` when given neither.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import creation
from ..errors import DomainError, ShapeError
from ..tensor import Tensor

__all__ = ["DataLoader", "Dataset", "TensorDataset"]


class Dataset:
    """A sized collection of samples: subclasses define ``__len__`` and ``__getitem__``.

    ``dataset[i]`` returns one sample, a tuple of arrays (e.g. ``(features, label)``).
    :class:`DataLoader` stacks the samples of a batch along a new first axis.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are the rows of arrays sharing their first dimension.

    Parameters
    ----------
    *arrays : array-like or Tensor
        E.g. ``TensorDataset(X, y)``. Copied: later writes into ``X`` do not change the
        data set. Tensors are stored by a copy of their arrays (data carries no graph).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorgraph.data import TensorDataset
    >>> ds = TensorDataset(np.zeros((5, 2)), np.arange(5))
    >>> len(ds), ds[1][1]
    (5, np.int64(1))
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        # Copied, as tg.tensor copies: writing into the caller's array afterwards must not
        # change the batches.
        self.arrays = tuple(
            np.array(a.detach().numpy() if isinstance(a, Tensor) else a, copy=True)
            for a in arrays
        )
        for a in self.arrays:
            if a.ndim == 0:
                raise ShapeError("TensorDataset: 0-d arrays hold no samples")
        lengths = [a.shape[0] for a in self.arrays]
        if len(set(lengths)) > 1:
            raise ShapeError(
                "TensorDataset: the arrays must share their first dimension, got shapes "
                + ", ".join(str(a.shape) for a in self.arrays)
            )

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        # An integer gives one sample; an index array or slice gives a batch in one go.
        return tuple(a[index] for a in self.arrays)


def _check_positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise DomainError(f"DataLoader: {what} must be a positive integer, got {value!r}")
    return int(value)


class DataLoader:
    """Iterate over a dataset in mini-batches of Tensors.

    Parameters
    ----------
    dataset : Dataset
    batch_size : int
        Samples per batch. The last batch holds the remainder unless ``drop_last``.
    shuffle : bool
        Draw a new permutation at the start of every pass (epoch).
    drop_last : bool
        Drop the last batch when it is smaller than ``batch_size``.
    seed : int, optional
        Seed of the loader's own generator: the sequence of permutations over successive
        epochs is then the same on every run.
    generator : numpy.random.Generator, optional
        A generator to draw permutations from (give ``seed`` or ``generator``, not both).

    Yields
    ------
    tuple of Tensor
        One Tensor per field of the samples, e.g. ``(X_batch, y_batch)``; arrays keep their
        dtypes (integer labels stay integers).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorgraph.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> [tuple(y.shape) for _, y in DataLoader(ds, batch_size=2)]
    [(2,), (2,), (1,)]
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not isinstance(dataset, Dataset):
            raise TypeError(
                f"DataLoader: expected a Dataset (e.g. TensorDataset(X, y)), got "
                f"{type(dataset).__name__}"
            )
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        self.dataset = dataset
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = np.random.default_rng(seed) if seed is not None else generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        # Looked up at each pass, so tensorgraph.manual_seed() between epochs takes effect.
        rng = self.generator if self.generator is not None else creation.default_generator
        return rng.permutation(n)

    def _fetch(self, indices: np.ndarray) -> tuple[Any, ...]:
        if isinstance(self.dataset, TensorDataset):
            return self.dataset[indices]
        samples = [self.dataset[int(i)] for i in indices]
        return tuple(np.stack([np.asarray(s[k]) for s in samples]) for k in range(len(samples[0])))

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        order = self._order()
        for b in range(len(self)):
            indices = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield tuple(Tensor(np.asarray(field)) for field in self._fetch(indices))
