r"""Loss modules: thin holders of a ``reduction`` over the functions in
:mod:`tensorgraph.nn.functional`. Called as ``loss(input, target)``."""

from __future__ import annotations

from typing import Any

from . import functional as F
from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss"]


class _Loss(Module):
    #: What the loss reads its input as: True for logits, False for probabilities, None when
    #: that question does not apply. The training metrics read one-column outputs the same
    #: way (see :func:`tensorgraph.training.metrics.output_is_logits`).
    expects_logits: bool | None = None

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(_Loss):
    r"""Binary cross-entropy of logits, stable for any logit; see
    :func:`~tensorgraph.nn.functional.binary_cross_entropy_with_logits`.

    :math:`\ell = \max(z, 0) - z y + \ln(1 + e^{-|z|})`. The recommended loss for binary
    classification (pair it with a model that outputs logits, e.g. ``MLP(output=None)``).
    """

    expects_logits = True

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class BCELoss(_Loss):
    r"""Binary cross-entropy of probabilities (clipped to ``[eps, 1 - eps]``); see
    :func:`~tensorgraph.nn.functional.binary_cross_entropy`."""

    expects_logits = False

    def __init__(self, reduction: str = "mean", eps: float = 1e-7) -> None:
        super().__init__(reduction)
        self.eps = eps

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy(input, target, self.reduction, self.eps)


class CrossEntropyLoss(_Loss):
    r"""Cross-entropy of logits with integer labels or probability targets:
    :math:`-\log\operatorname{softmax}(z)_y`; see
    :func:`~tensorgraph.nn.functional.cross_entropy`."""

    expects_logits = True

    def forward(self, input: Any, target: Any) -> Any:
        return F.cross_entropy(input, target, self.reduction)


class NLLLoss(_Loss):
    r"""Negative log-likelihood of log-probabilities at integer labels; see
    :func:`~tensorgraph.nn.functional.nll_loss`."""

    def forward(self, input: Any, target: Any) -> Any:
        return F.nll_loss(input, target, self.reduction)


class MSELoss(_Loss):
    r"""Mean squared error :math:`(x - y)^2`; see :func:`~tensorgraph.nn.functional.mse_loss`."""

    def forward(self, input: Any, target: Any) -> Any:
        return F.mse_loss(input, target, self.reduction)
