r"""Activation modules added with issue 14: ``GELU`` and ``SiLU`` (PyTorch's names and
arguments). ``ReLU``, ``Softmax`` and the others live in :mod:`tensorgraph.nn.layers`."""

from __future__ import annotations

from typing import Any

from ..errors import DomainError
from . import functional as F
from .module import Module

__all__ = ["GELU", "SiLU"]


class GELU(Module):
    r"""Gaussian error linear unit (Hendrycks & Gimpel, 2016): :math:`x\,\Phi(x)`, with
    ``approximate='tanh'`` for :math:`\tfrac12 x(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3)))`.

    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> nn.GELU()(tg.tensor([0.0, 1.0], dtype="float64")).numpy().round(6).tolist()
    [0.0, 0.841345]
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise DomainError(f"GELU: approximate must be 'none' or 'tanh', got "
                              f"{approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Any:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    r"""Sigmoid linear unit, or swish: :math:`x\,\sigma(x)` (Elfwing et al., 2018)."""

    def forward(self, x: Any) -> Any:
        return F.silu(x)
