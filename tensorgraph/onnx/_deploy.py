"""Two fixed layers that make an exported classifier self-contained: :class:`Standardize`
in front (the file takes raw features) and :class:`ClassProbabilities` behind (it gives one
probability per class, as ``tensorgraph predict`` prints them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from ..nn import functional as F
from ..nn.module import Module
from ..ops import concatenate

__all__ = ["ClassProbabilities", "Standardize"]


class Standardize(Module):
    r"""The fixed feature scaling :math:`z = (x - \mu) / \sigma` of a fitted
    :class:`~tensorgraph.data.StandardScaler`, as a layer (not trained).

    Parameters
    ----------
    mean, scale : array-like, shape ``(n_features,)``
    dtype : dtype
        Of the stored statistics and so of the computation (default float32).
    """

    def __init__(self, mean: Any, scale: Any, dtype: Any = np.float32) -> None:
        super().__init__()
        mean, scale = np.asarray(mean, dtype), np.asarray(scale, dtype)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise ShapeError(f"Standardize: mean and scale must be vectors of one length, got "
                             f"shapes {mean.shape} and {scale.shape}")
        if not (np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ValueError("Standardize: every scale must be finite and > 0")
        self.register_buffer("mean", mean)
        self.register_buffer("scale", scale)

    def forward(self, x: Any) -> Any:
        return (x - self.mean) / self.scale

    def extra_repr(self) -> str:
        return f"{self.mean.shape[0]}"


class ClassProbabilities(Module):
    r"""Logits to class probabilities: the softmax of several logits, or for one logit
    :math:`[1 - \sigma(z), \sigma(z)]` (two classes, one output unit)."""

    def forward(self, x: Any) -> Any:
        if x.shape[-1] == 1:
            positive = F.sigmoid(x)
            return concatenate([1.0 - positive, positive], axis=-1)
        return F.softmax(x, axis=-1)
