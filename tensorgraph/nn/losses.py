r"""Loss modules: thin holders of a ``reduction`` over the functions in
:mod:`tensorgraph.nn.functional`. Called as ``loss(input, target)``."""

from __future__ import annotations

from typing import Any

from . import functional as F
from ._loss_checks import _check_reduction
from .module import Module

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "L1Loss", "MSELoss",
    "NLLLoss", "SmoothL1Loss",
]  # fmt: skip


class _Loss(Module):
    #: What the loss reads its input as: True for logits, False for probabilities, None when
    #: that question does not apply. The training metrics read one-column outputs the same
    #: way (see :func:`tensorgraph.training.metrics.output_is_logits`).
    expects_logits: bool | None = None

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    """A loss whose first argument is PyTorch's ``weight``; a string there is the reduction
    (the earlier ``Loss("sum")`` form: a weight is never a string)."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        if isinstance(weight, str):
            if reduction != "mean":
                raise TypeError(f"{type(self).__name__}: reduction given twice ({weight!r} "
                                f"in the place of weight, and reduction={reduction!r})")
            weight, reduction = None, weight
        super().__init__(reduction)
        # a constant of the loss, not a parameter (as PyTorch's registered buffer)
        self.weight = weight


class BCEWithLogitsLoss(_WeightedLoss):
    r"""Binary cross-entropy of logits, stable for any logit; see
    :func:`~tensorgraph.nn.functional.binary_cross_entropy_with_logits`.

    :math:`\ell = w\,[\max(z, 0) - z y + \ln(1 + e^{-|z|})]`, with ``pos_weight`` weighting
    the positive term per class (the last axis). The recommended loss for binary
    classification (pair it with a model that outputs logits, e.g. ``MLP(output=None)``).
    """

    expects_logits = True

    def __init__(self, weight: Any = None, reduction: str = "mean", *,
                 pos_weight: Any = None) -> None:
        super().__init__(weight, reduction)
        self.pos_weight = pos_weight

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class BCELoss(_WeightedLoss):
    r"""Binary cross-entropy of probabilities (clipped to ``[eps, 1 - eps]``), optionally
    weighted per element; see :func:`~tensorgraph.nn.functional.binary_cross_entropy`."""

    expects_logits = False

    def __init__(self, weight: Any = None, reduction: str = "mean", *,
                 eps: float = 1e-7) -> None:
        super().__init__(weight, reduction)
        self.eps = eps

    def forward(self, input: Any, target: Any) -> Any:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction,
                                      eps=self.eps)


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross-entropy of logits with integer labels or probability targets:
    :math:`-w_y\log\operatorname{softmax}(z)_y`, with PyTorch's ``weight``,
    ``ignore_index`` and ``label_smoothing``; see
    :func:`~tensorgraph.nn.functional.cross_entropy`."""

    expects_logits = True

    def __init__(self, weight: Any = None, reduction: str = "mean", *,
                 ignore_index: int = -100, label_smoothing: float = 0.0) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Any, target: Any) -> Any:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    r"""Negative log-likelihood of log-probabilities at integer labels, with ``weight`` and
    ``ignore_index``; see :func:`~tensorgraph.nn.functional.nll_loss`."""

    def __init__(self, weight: Any = None, reduction: str = "mean", *,
                 ignore_index: int = -100) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Any, target: Any) -> Any:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    r"""Mean squared error :math:`(x - y)^2`; see :func:`~tensorgraph.nn.functional.mse_loss`."""

    def forward(self, input: Any, target: Any) -> Any:
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    r"""Mean absolute error :math:`|x - y|` (derivative 0 at :math:`x = y`); see
    :func:`~tensorgraph.nn.functional.l1_loss`."""

    def forward(self, input: Any, target: Any) -> Any:
        return F.l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    r"""Huber loss with threshold ``delta``; see :func:`~tensorgraph.nn.functional.huber_loss`."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Any, target: Any) -> Any:
        return F.huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


class SmoothL1Loss(_Loss):
    r"""Smooth L1 loss with threshold ``beta`` (``beta=0`` is the L1 loss); see
    :func:`~tensorgraph.nn.functional.smooth_l1_loss`."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Any, target: Any) -> Any:
        return F.smooth_l1_loss(input, target, self.reduction, beta=self.beta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"
