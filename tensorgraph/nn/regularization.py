r"""L2 regularisation as a cost term, and the selection of the weights it applies to.

This is the penalty *in the loss*; the optimizers' ``weight_decay=`` adds the same
gradient directly (coupled) or shrinks the weights apart from the gradient (``AdamW``,
decoupled). See ``docs/nn.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import DomainError
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter

__all__ = ["l2_penalty", "weight_matrices"]


def l2_penalty(params: Iterable[Tensor], lam: float, m: int) -> Any:
    r"""The L2 cost :math:`\frac{\lambda}{2m} \sum_l \lVert W_l \rVert_F^2` over ``params``.

    Added to a loss averaged over ``m`` examples, its gradient adds
    :math:`\frac{\lambda}{m} W_l` to each weight's gradient.

    Parameters
    ----------
    params : iterable of Tensor
        The weights to penalise, usually :func:`weight_matrices` of a model (not biases,
        not batch-norm parameters).
    lam : float
        :math:`\lambda \ge 0`.
    m : int
        The number of training examples the loss is averaged over (> 0).

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> float(nn.l2_penalty([tg.tensor([[1.0, 2.0]])], lam=0.5, m=5))
    0.25
    """
    if isinstance(lam, bool) or not lam >= 0:
        raise DomainError(f"l2_penalty: lam must be >= 0, got {lam!r}")
    if isinstance(m, bool) or not m > 0:
        raise DomainError(f"l2_penalty: m (the number of examples) must be > 0, got {m!r}")
    params = list(params)
    if not params:
        raise DomainError("l2_penalty: no parameters given (an exhausted iterator?)")
    total: Any = None
    for w in params:
        if not isinstance(w, Tensor):
            raise TypeError(f"l2_penalty: expected Tensors, got {type(w).__name__}")
        square = F.sum_of_squares(w)  # one fused node instead of (w * w).sum()
        total = square if total is None else total + square
    return total * (lam / (2 * m))


def weight_matrices(model: Module) -> list[Parameter]:
    """The model's weight matrices: every parameter with two or more dimensions.

    That is the ``weight`` of each ``Linear`` layer; biases and batch-norm's
    :math:`\\gamma`, :math:`\\beta` are 1-d and excluded, as the L2 penalty conventionally
    leaves them alone. Each shared weight appears once.

    >>> from tensorgraph import nn
    >>> net = nn.MLP([2, 4, 1], batch_norm=True, generator=0)
    >>> [p.shape for p in nn.weight_matrices(net)]
    [(4, 2), (1, 4)]
    """
    return [p for p in model.parameters() if p.ndim >= 2]
