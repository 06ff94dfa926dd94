"""Neural-network building blocks: modules, layers, batch-norm, dropout, losses, L2.

Names and conventions are PyTorch's (``nn.Linear``, ``nn.BatchNorm1d``,
``nn.functional.cross_entropy``); see ``docs/nn.md`` for the math.

>>> import tensorgraph as tg
>>> from tensorgraph import nn
>>> model = nn.MLP([2, 16, 1], output=None, generator=0)
>>> loss = nn.BCEWithLogitsLoss()(model(tg.ones((4, 2))), tg.ones((4, 1)))
>>> loss.backward()
>>> model[0].weight.grad.shape
(16, 2)
"""

from __future__ import annotations

from . import functional, init
from .activation import GELU, SiLU
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv1d, Conv2d
from .dropout import Dropout, Dropout2d
from .layers import (
    MLP,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    Unflatten,
)  # fmt: skip
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)  # fmt: skip
from .module import IncompatibleKeys, Module, Parameter, StateDictError
from .normalization import LayerNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .regularization import l2_penalty, weight_matrices
from .sparse import Embedding

__all__ = [
    "GELU", "MLP", "AdaptiveAvgPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss",
    "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "CrossEntropyLoss", "Dropout",
    "Dropout2d", "Embedding", "Flatten", "HuberLoss", "Identity", "IncompatibleKeys", "L1Loss",
    "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module",
    "NLLLoss", "Parameter", "ReLU", "Sequential", "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax",
    "StateDictError", "Tanh", "Unflatten", "functional", "init", "l2_penalty",
    "weight_matrices",
]  # fmt: skip
