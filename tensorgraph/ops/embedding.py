r"""Embedding lookup: rows of a weight matrix picked by integer ids, as one op whose VJP
scatters the gradient back (skipping the padding row).

Argument checking lives in :func:`tensorgraph.nn.functional.embedding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._base import Domain, Op, register
from .indexing import _scatter_into_zeros

__all__ = ["embedding"]


def _embedding_params(shapes: Sequence[tuple[int, ...]]) -> list[dict[str, Any]]:
    rows = shapes[0][0]
    ids = np.array([[0, rows - 1], [rows // 2, 0]])  # repeated ids: their gradients add up
    # padding_idx is left out: its zero gradient is a convention, not the derivative, and
    # is pinned against PyTorch in tests/nn/test_layers_more.py
    return [{"indices": ids}, {"indices": ids[0]}, {"indices": np.array(rows - 1)}]


@register
class Embedding(Op):
    r"""Rows of ``weight`` (shape ``(num_embeddings, embedding_dim)``) at integer
    ``indices`` of any shape: the output has shape ``indices.shape + (embedding_dim,)``.

    .. math::
        y_{i} = W_{\text{indices}_i},\qquad
        \bar W_r = \sum_{i:\ \text{indices}_i = r} \bar y_i
        \quad (\bar W_{\text{padding\_idx}} = 0)

    Repeated ids add their gradients. The row ``padding_idx`` (if given) gets no gradient,
    as in PyTorch: it stays what it was (zeros at initialisation).

    >>> import numpy as np, tensorgraph as tg
    >>> w = tg.tensor([[0.0, 1.0], [2.0, 3.0]])
    >>> tg.ops.embedding.embedding(w, indices=np.array([1, 1, 0])).tolist()
    [[2.0, 3.0], [2.0, 3.0], [0.0, 1.0]]
    """

    name = "embedding"
    array_params = frozenset({"indices"})
    domain = Domain(shapes=lambda draw_int: [(draw_int(2, 5), draw_int(1, 3))],
                    params=_embedding_params, min_rank=2, empty=False)

    @staticmethod
    def forward(weight: Any, indices: Any = None, padding_idx: int | None = None) -> Any:
        return weight[indices]

    @staticmethod
    def reference(weight: Any, indices: Any = None, padding_idx: int | None = None) -> Any:
        return np.take(weight, indices, axis=0)

    @staticmethod
    def vjp_0(grad: Any, out: Any, weight: Any, indices: Any = None,
              padding_idx: int | None = None) -> Any:
        if padding_idx is not None:
            grad = grad * np.expand_dims(indices != padding_idx, -1)
        return _scatter_into_zeros(grad, indices, tuple(weight.shape))


def embedding(weight: Any, indices: np.ndarray, padding_idx: int | None = None) -> Any:
    """Rows of ``weight`` at ``indices`` as one node; see :class:`Embedding`."""
    return Embedding.apply(weight, indices=indices, padding_idx=padding_idx)
