r"""``BatchNorm1d`` and ``BatchNorm2d``: batch normalisation with PyTorch's conventions."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .. import autograd
from ..dtypes import get_default_dtype
from ..errors import DomainError, DTypeError, ShapeError
from ..tensor import Tensor
from . import functional as F
from ._checks import check_count, check_real
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class BatchNorm1d(Module):
    r"""Batch normalisation over ``(N, C)`` or ``(N, C, L)`` input, per channel.

    .. math::
        y = \gamma\, \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta

    In training, :math:`\mu` and :math:`\sigma^2` are the batch's mean and *biased*
    variance (over ``N``, and ``L`` when present), and the running statistics are updated
    with the *unbiased* variance:
    ``running = (1 - momentum) * running + momentum * batch``. In evaluation the running
    statistics are used. A batch with one value per channel cannot be normalised in
    training and raises an error. These are PyTorch's conventions (Ioffe & Szegedy, 2015).

    The backward pass is one fused node with the closed-form VJP (see
    :class:`tensorgraph.ops.nn_ops.BatchNorm`). A ``Linear`` layer placed before
    batch-norm needs no bias: the mean subtraction cancels any constant per feature, and
    :math:`\beta` takes its role.

    Parameters
    ----------
    num_features : int
        ``C``.
    eps : float
        Added to the variance inside the square root (default 1e-5).
    momentum : float or None
        Weight of the new batch in the running statistics (default 0.1); None gives the
        cumulative average over all batches seen (``1 / num_batches_tracked``).
    affine : bool
        Learn :math:`\gamma` (``weight``, init 1) and :math:`\beta` (``bias``, init 0).
    track_running_stats : bool
        Keep ``running_mean`` (init 0), ``running_var`` (init 1) and
        ``num_batches_tracked`` as buffers; without them the batch statistics are used in
        evaluation too.
    dtype : dtype, optional

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> y = bn(tg.randn(8, 3, generator=np.random.default_rng(0)))
    >>> bn.running_var.shape
    (3,)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.num_features = check_count("BatchNorm1d", "num_features", num_features)
        try:
            self.eps = check_real("BatchNorm1d", "eps", eps, low=0.0, low_open=True)
        except (DomainError, DTypeError):
            raise DomainError(f"BatchNorm1d: eps must be > 0, got {eps!r}") from None
        if momentum is not None:
            try:
                momentum = check_real("BatchNorm1d", "momentum", momentum, low=0.0, high=1.0)
            except (DomainError, DTypeError):
                raise DomainError(f"BatchNorm1d: momentum must be in [0, 1] or None, "
                                  f"got {momentum!r}") from None
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dt))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dt))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dt))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            for buffer, value in ((self.running_mean, 0), (self.running_var, 1),
                                  (self.num_batches_tracked, 0)):
                buffer._data.fill(value)  # in place (outside the graph), then recorded
                buffer._bump_version()

    def forward(self, x: Any) -> Any:
        if autograd._tracer is not None:  # tg.compile: the statistics become plan steps
            y = autograd._tracer.batchnorm(self, x)
            if y is not None:
                return y
        momentum = 0.0 if self.momentum is None else self.momentum
        counting = self.training and self.track_running_stats
        counter: Tensor | None = self.num_batches_tracked if counting else None
        if counter is not None and self.momentum is None:
            momentum = 1.0 / (float(counter.item()) + 1)
        y = F.batch_norm(
            x,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight, self.bias, training=self.training or not self.track_running_stats,
            momentum=momentum, eps=self.eps,
        )
        if counter is not None:  # counted only once the batch was accepted and used
            counter._data[...] += 1
            counter._bump_version()
        return y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm2d(BatchNorm1d):
    r"""Batch normalisation over ``(N, C, H, W)`` input, per channel: the statistics of each
    channel are taken over ``N``, ``H`` and ``W``.

    .. math::
        y = \gamma\, \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta

    PyTorch's conventions, as :class:`BatchNorm1d` (whose parameters, buffers and
    arguments it has): in training the batch's mean and *biased* variance normalise, the
    running variance is updated with the *unbiased* one (:math:`m = N H W` values per
    channel), ``running = (1 - momentum) * running + momentum * batch``; in evaluation the
    running statistics normalise. The input is seen as ``(N, C, H W)`` (a view), on which
    the fused batch-norm op reduces over axes 0 and 2: exactly the statistics over
    ``(0, 2, 3)``.

    Parameters
    ----------
    num_features : int
        ``C``.
    eps : float
        Added to the variance inside the square root (default 1e-5).
    momentum : float or None
        Weight of the new batch in the running statistics (default 0.1); None gives the
        cumulative average.
    affine : bool
        Learn :math:`\gamma` (``weight``, init 1) and :math:`\beta` (``bias``, init 0).
    track_running_stats : bool
        Keep ``running_mean``, ``running_var`` and ``num_batches_tracked``.
    dtype : dtype, optional

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> bn = nn.BatchNorm2d(3)
    >>> bn(tg.randn(4, 3, 5, 5, generator=np.random.default_rng(0))).shape
    (4, 3, 5, 5)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype: DTypeLike | None = None) -> None:
        # the checks of BatchNorm1d, with this layer's name in the messages
        check_count("BatchNorm2d", "num_features", num_features)
        try:
            check_real("BatchNorm2d", "eps", eps, low=0.0, low_open=True)
        except (DomainError, DTypeError):
            raise DomainError(f"BatchNorm2d: eps must be > 0, got {eps!r}") from None
        if momentum is not None:
            try:
                check_real("BatchNorm2d", "momentum", momentum, low=0.0, high=1.0)
            except (DomainError, DTypeError):
                raise DomainError(f"BatchNorm2d: momentum must be in [0, 1] or None, "
                                  f"got {momentum!r}") from None
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def forward(self, x: Any) -> Any:
        shape = tuple(getattr(x, "shape", np.shape(x)))
        if len(shape) != 4:
            raise ShapeError(f"BatchNorm2d: expected 4-d (N, C, H, W) input, got shape "
                             f"{shape}")
        n, c, h, w = shape
        if c != self.num_features:
            raise ShapeError(f"BatchNorm2d: expected {self.num_features} channels, got input "
                             f"of shape {shape}")
        if self.training and n * h * w <= 1:
            raise ShapeError(f"BatchNorm2d: expected more than 1 value per channel when "
                             f"training, got input of shape {shape}; use a larger batch, or "
                             f"eval()")
        y = super().forward(x.reshape((n, c, h * w)))
        return y.reshape(shape)
