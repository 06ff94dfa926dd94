"""Optimizers and learning-rate schedulers, with PyTorch's names and update rules.

Each optimizer holds its per-parameter state and calls a pure update function of
:mod:`tensorgraph.optim.functional`, which works in place on numpy arrays. See
``docs/optim.md`` for the math of every algorithm.
"""

from __future__ import annotations

from . import functional
from .adam import Adam, AdamW
from .optimizer import Optimizer, ParamGroup
from .rmsprop import RMSprop
from .schedulers import CosineAnnealingLR, ExponentialLR, LRScheduler, ReduceLROnPlateau, StepLR
from .sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "Optimizer",
    "ParamGroup",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepLR",
    "functional",
]
