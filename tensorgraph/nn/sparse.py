r"""``Embedding``: a lookup table of learnable vectors indexed by integer ids."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..dtypes import get_default_dtype
from ..errors import DomainError, DTypeError
from . import functional as F
from . import init
from ._checks import check_count
from .init import GeneratorLike, get_generator
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    r"""A table of ``num_embeddings`` vectors of size ``embedding_dim``; called on integer
    ids of any shape, it returns their rows (shape ``ids.shape + (embedding_dim,)``).

    The weight starts :math:`N(0, 1)` (PyTorch's ``Embedding`` initialisation), with the
    row ``padding_idx`` (if given) set to zeros; that row gets no gradient, so it stays
    zero under training.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    padding_idx : int, optional
        In ``[-num_embeddings, num_embeddings)``; negative counts from the end.
    dtype : dtype, optional
    generator : numpy.random.Generator, int seed or None

    Examples
    --------
    >>> import numpy as np
    >>> from tensorgraph import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0, generator=0)
    >>> emb(np.array([[1, 2], [0, 9]])).shape
    (2, 2, 3)
    >>> emb.weight.numpy()[0].tolist()
    [0.0, 0.0, 0.0]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, dtype: DTypeLike | None = None,
                 generator: GeneratorLike = None) -> None:
        super().__init__()
        self.num_embeddings = check_count("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = check_count("Embedding", "embedding_dim", embedding_dim)
        rows = self.num_embeddings
        if padding_idx is not None:
            if isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx, Integral) \
                    or not -rows <= padding_idx < rows:
                raise DomainError(f"Embedding: padding_idx must be an int in [-{rows}, {rows}), "
                                  f"got {padding_idx!r}")
            padding_idx = int(padding_idx) % rows
        self.padding_idx = padding_idx
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        if dt.kind != "f":
            raise DTypeError(f"Embedding: dtype must be a floating dtype, got {dt}")
        self.weight = Parameter(np.empty((rows, self.embedding_dim), dt))
        init.embedding_normal_(self.weight, padding_idx, get_generator(generator))

    def forward(self, ids: Any) -> Any:
        return F.embedding(ids, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
