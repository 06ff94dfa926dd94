"""Export to ONNX: run a trained model where tensorgraph is not installed.

:func:`export` writes a model built from the :mod:`tensorgraph.nn` layers as a standard
ONNX graph (operator set 17) with named input and output and a free batch axis, for ONNX
Runtime or any other ONNX consumer. It needs the ``onnx`` package
(``pip install "tensorgraph[onnx]"``); running the file needs ``onnxruntime``.
"""

from __future__ import annotations

try:
    import onnx as _onnx  # noqa: F401 - the optional dependency, checked once here
except ImportError as exc:  # pragma: no cover - exercised in an environment without onnx
    raise ImportError(
        "tensorgraph.onnx needs the onnx package: pip install \"tensorgraph[onnx]\""
    ) from exc

from . import (  # noqa: F401 - register the converters of these layer families
    _conv_layers,
    _norm_layers,
)
from ._deploy import ClassProbabilities, Standardize
from ._export import OPSET_VERSION, export
from ._layers import CONVERTERS

__all__ = ["CONVERTERS", "OPSET_VERSION", "ClassProbabilities", "Standardize", "export"]
