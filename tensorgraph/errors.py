"""Exceptions raised by tensorgraph.

Every user-facing mistake raises a subclass of a built-in exception (``ValueError``,
``TypeError`` or ``RuntimeError``) so that code catching the built-in keeps working, while the
subclass says which family of mistake it was.
"""

from __future__ import annotations

__all__ = [
    "AnomalyError",
    "DTypeError",
    "DataError",
    "DomainError",
    "ExportError",
    "GradientError",
    "GraphFreedError",
    "InPlaceModificationError",
    "ShapeError",
    "TensorGraphError",
]


class TensorGraphError(Exception):
    """Base class of every exception tensorgraph raises on purpose."""


class ShapeError(TensorGraphError, ValueError):
    """Operands whose shapes do not fit the operation (the message names op and shapes)."""


class DTypeError(TensorGraphError, TypeError):
    """Operands whose dtypes do not fit the operation, or a silent cast that was refused."""


class DomainError(TensorGraphError, ValueError):
    """An argument outside the values an operation or a hyper-parameter accepts."""


class GradientError(TensorGraphError, RuntimeError):
    """A misuse of the backward pass: wrong seed gradient, non-scalar root, and so on."""


class GraphFreedError(GradientError):
    """Backward was asked to walk a graph whose saved arrays were already released."""


class InPlaceModificationError(GradientError):
    """A tensor saved for the backward pass was modified in place after it was saved."""


class AnomalyError(TensorGraphError, FloatingPointError):
    """Raised under :func:`tensorgraph.detect_anomaly` by the first op that makes NaN or Inf."""


class DataError(TensorGraphError, ValueError):
    """A malformed data file or data set (the message names the file, line and column)."""


class ExportError(TensorGraphError, TypeError):
    """A model that cannot be written in an exchange format (the message names the layer)."""
