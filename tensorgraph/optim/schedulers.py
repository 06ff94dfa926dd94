r"""Learning-rate schedulers, with PyTorch's ``torch.optim.lr_scheduler`` semantics.

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups. Build it after the
optimizer (construction performs step 0: ``last_epoch`` becomes 0 and the learning rates
stay at their initial values, saved as ``group["initial_lr"]``), then call
``scheduler.step()`` once per epoch *after* ``optimizer.step()``. The epoch-based schedulers
use PyTorch's recursive updates (each new lr computed from the current one), so their values
agree with PyTorch's to the last bit of float64, including the restart of a cosine
schedule after ``T_max`` epochs.
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any, SupportsFloat

import numpy as np

from .. import autograd
from ..errors import DomainError, DTypeError
from .optimizer import Optimizer, check_hparam

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "ReduceLROnPlateau",
    "StepLR",
]


def _check_optimizer(owner: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise DTypeError(f"{owner}: expected a tensorgraph Optimizer, got {type(optimizer)!r}")
    return optimizer


def _check_count(owner: str, name: str, value: Any, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
        raise DTypeError(f"{owner}: {name} must be an int, got {value!r}")
    if value < low:
        raise DomainError(f"{owner}: {name} must be >= {low}, got {value}")
    return int(value)


class LRScheduler:
    """Base class of the epoch-based schedulers.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``param_groups[i]["lr"]`` are scheduled.
    last_epoch : int
        The index of the last epoch; ``-1`` (default) starts a new schedule. To resume,
        prefer :meth:`load_state_dict` on a scheduler built with the default.

    Attributes
    ----------
    base_lrs : list of float
        The initial learning rates (``group["initial_lr"]``).
    last_epoch : int
        How many times :meth:`step` ran after construction.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        self.optimizer = _check_optimizer(name, optimizer)
        _check_count(name, "last_epoch", last_epoch, -1)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise DomainError(
                        f"{name}: resuming with last_epoch={last_epoch} needs "
                        f"param_groups[{i}]['initial_lr'] (load the optimizer's state first)"
                    )
        self.base_lrs: list[float] = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for the epoch ``last_epoch`` (called by :meth:`step`)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new learning rates into the optimizer."""
        if autograd._tracer is not None:  # tg.compile: replayed as one plan step
            autograd._tracer.host(self, "step", ())
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates most recently set by this scheduler (a new list)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (lists copied)."""
        return {
            k: list(v) if isinstance(v, list) else v
            for k, v in self.__dict__.items()
            if k != "optimizer"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by :meth:`state_dict`."""
        unknown = set(state_dict) - set(self.__dict__)
        if unknown:
            raise DomainError(
                f"{type(self).__name__}.load_state_dict: unexpected keys {sorted(unknown)}"
            )
        self.__dict__.update(
            {k: list(v) if isinstance(v, list) else v for k, v in state_dict.items()}
        )

    def _lrs(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]


class StepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / \text{step\_size} \rfloor}

    (applied recursively: at each non-zero multiple of ``step_size`` the current lr is
    multiplied by :math:`\gamma`).
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = _check_count("StepLR", "step_size", step_size, 1)
        self.gamma = check_hparam("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class ExponentialLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every epoch: :math:`\eta_t = \eta_0 \gamma^t`."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_hparam("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial lr to ``eta_min`` over ``T_max`` epochs
    (Loshchilov & Hutter, 2017, *SGDR*, without restarts).

    .. math::

        \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    Like PyTorch, the value is computed recursively from the current lr,

    .. math::

        \eta_{t} = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
                   \frac{1 + \cos(\pi t / T_{\max})}{1 + \cos(\pi (t-1) / T_{\max})},

    with the special case :math:`\eta_t = \eta_{t-1} + (\eta_0 - \eta_{\min})
    (1 - \cos(\pi / T_{\max})) / 2` when :math:`(t - 1 - T_{\max}) \bmod 2T_{\max} = 0`
    (where the ratio would be 0/0). Past :math:`T_{\max}` the schedule climbs back, a cosine
    of period :math:`2 T_{\max}`; an lr changed by hand is followed from its new value.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = _check_count("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = check_hparam("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._lrs()
        if self._step_count == 1 and t > 0:
            return [lo + (b - lo) * (1 + math.cos(t * math.pi / T)) / 2 for b in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [
                lr + (b - lo) * (1 - math.cos(math.pi / T)) / 2
                for b, lr in zip(self.base_lrs, self._lrs(), strict=True)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - lo) + lo for lr in self._lrs()]


class ReduceLROnPlateau(LRScheduler):
    r"""Reduce the learning rate when a metric stops improving (PyTorch's semantics).

    Call ``step(metric)`` once per epoch. A metric is an improvement over the best so far
    when (mode ``"min"``) it is below ``best * (1 - threshold)`` (``threshold_mode="rel"``)
    or ``best - threshold`` (``"abs"``); mode ``"max"`` mirrors this. After more than
    ``patience`` epochs without improvement each lr becomes ``max(lr * factor, min_lr)``
    (skipped when the change would be at most ``eps``), the bad-epoch count restarts and the
    next ``cooldown`` epochs count no bad epochs.

    Parameters
    ----------
    mode : {"min", "max"}
    factor : float
        In :math:`[0, 1)`.
    patience : int
        Epochs without improvement tolerated before reducing (>= 0).
    threshold : float
    threshold_mode : {"rel", "abs"}
    cooldown : int
        Epochs to wait after a reduction before counting bad epochs again (>= 0).
    min_lr : float or list of float
        Lower bound on each group's lr (one value per group, or one for all).
    eps : float
        Minimal change applied to an lr; smaller changes are ignored.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        self.optimizer = _check_optimizer(name, optimizer)
        self.factor = check_hparam(name, "factor", factor, high=1.0, high_open=True)
        if mode not in ("min", "max"):
            raise DomainError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise DomainError(
                f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        self.mode = mode
        self.threshold_mode = threshold_mode
        self.threshold = check_hparam(name, "threshold", threshold)
        self.patience = _check_count(name, "patience", patience, 0)
        self.cooldown = _check_count(name, "cooldown", cooldown, 0)
        self.eps = check_hparam(name, "eps", eps)
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise DomainError(
                    f"{name}: expected {n} min_lr values (one per group), got {len(min_lr)}"
                )
            self.default_min_lr: float | None = None
            self.min_lrs = [check_hparam(name, "min_lr", v) for v in min_lr]
        else:
            self.default_min_lr = check_hparam(name, "min_lr", min_lr)
            self.min_lrs = [self.default_min_lr] * n
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.last_epoch = 0
        self._last_lr = self._lrs()
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, a: float, best: float) -> bool:
        """Whether metric ``a`` improves on ``best`` under ``mode`` and ``threshold``."""
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < best * (1.0 - self.threshold)
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics: SupportsFloat) -> None:  # type: ignore[override]
        """Record this epoch's metric and reduce the learning rates if it has plateaued."""
        if autograd._tracer is not None:  # a Python value decides: a plan cannot replay it
            autograd._tracer.flag("ReduceLROnPlateau.step inside a compiled function")
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise DomainError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but "
                    f"min_lr was given for {len(self.min_lrs)}; update .min_lrs"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new
