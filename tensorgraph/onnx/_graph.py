"""The ONNX graph under construction: named values, nodes and initializers.

The converters in :mod:`tensorgraph.onnx._layers` add nodes through :class:`GraphBuilder`
and never touch protobuf themselves, so the mapping of each layer to ONNX reads as a short
list of operator calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

__all__ = ["GraphBuilder", "Value"]


@dataclass(frozen=True)
class Value:
    """A value flowing between nodes: its ONNX name and its example array.

    ``example`` is what tensorgraph computes for the example input at this point; the
    converters read shapes from it, and :func:`~tensorgraph.onnx.export` uses the last one
    to describe the graph's output.
    """

    name: str
    example: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.example.shape)


class GraphBuilder:
    """Collect nodes and constant tensors; hand out unique value names."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._taken: set[str] = set()

    def fresh(self, hint: str) -> str:
        """A value name not used yet, readable in Netron: ``hint``, ``hint_1``, ..."""
        name, k = hint, 0
        while name in self._taken:
            k += 1
            name = f"{hint}_{k}"
        self._taken.add(name)
        return name

    def constant(self, hint: str, array: Any, dtype: Any = None) -> str:
        """Add ``array`` as an initializer (cast to the graph's dtype unless ``dtype``)."""
        target = self.dtype if dtype is None else np.dtype(dtype)
        values = np.ascontiguousarray(np.asarray(array, dtype=target))
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(values, name))
        return name

    def node(self, op_type: str, inputs: list[str], hint: str, **attributes: Any) -> str:
        """Add one node with a single output; return the output's name."""
        output = self.fresh(hint)
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=f"{op_type}:{output}",
                                           **attributes))
        return output

    def reserve(self, name: str) -> None:
        """Keep ``name`` (a graph input's or output's) from being handed out by :meth:`fresh`."""
        self._taken.add(name)

    def rename(self, value: str, name: str) -> str:
        """Route ``value`` to the reserved graph output ``name`` through an Identity."""
        self.nodes.append(helper.make_node("Identity", [value], [name], name=f"Identity:{name}"))
        return name
