r"""``LayerNorm``: layer normalisation with a learnable elementwise affine part."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..dtypes import get_default_dtype
from ..errors import DTypeError
from . import functional as F
from . import init
from ._checks import check_real
from ._functional_layers import normalized_shape_tuple
from .module import Module, Parameter

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    r"""Layer normalisation (Ba, Kiros & Hinton, 2016) over the trailing
    ``normalized_shape``, with PyTorch's arguments and conventions.

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}}\,\gamma + \beta

    The mean and the *biased* variance are taken per sample over the normalised axes, in
    training and evaluation alike (no running statistics). One fused node with a
    closed-form VJP (:class:`~tensorgraph.ops.normalization.LayerNorm`).

    Parameters
    ----------
    normalized_shape : int or sequence of int
    eps : float
        Added to the variance, >= 0 (default 1e-5).
    elementwise_affine : bool
        Learn :math:`\gamma` (initialised to ones) and :math:`\beta` (zeros), each of shape
        ``normalized_shape``.
    bias : bool
        Learn :math:`\beta` (only with ``elementwise_affine``).
    dtype : dtype, optional

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> nn.LayerNorm(4)
    LayerNorm((4,), eps=1e-05, elementwise_affine=True)
    >>> nn.LayerNorm((2, 3))(tg.ones((5, 2, 3))).shape
    (5, 2, 3)
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 dtype: DTypeLike | None = None) -> None:
        super().__init__()
        self.normalized_shape = normalized_shape_tuple("LayerNorm", normalized_shape)
        self.eps = check_real("LayerNorm", "eps", eps, low=0.0)
        for label, flag in (("elementwise_affine", elementwise_affine), ("bias", bias)):
            if not isinstance(flag, (bool, np.bool_)):
                raise DTypeError(f"LayerNorm: {label} must be True or False, got {flag!r}")
        self.elementwise_affine = bool(elementwise_affine)
        dt = get_default_dtype() if dtype is None else np.dtype(dtype)
        if dt.kind != "f":
            raise DTypeError(f"LayerNorm: dtype must be a floating dtype, got {dt}")
        if self.elementwise_affine:
            self.weight: Parameter | None = Parameter(np.empty(self.normalized_shape, dt))
            init.ones_(self.weight)
        else:
            self.register_parameter("weight", None)
        if self.elementwise_affine and bias:
            self.bias: Parameter | None = Parameter(np.empty(self.normalized_shape, dt))
            init.zeros_(self.bias)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
