"""``export``: walk a model built from the nn layers and write the equivalent ONNX graph."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import IO, Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from .. import __version__
from .._archive import write_atomic
from ..autograd import no_grad
from ..errors import DTypeError, ExportError, ShapeError
from ..nn import Sequential
from ..nn.module import Module
from ..tensor import Tensor
from ._graph import GraphBuilder, Value
from ._layers import converter_for

__all__ = ["OPSET_VERSION", "export"]

#: The ONNX operator set the exported graphs use: 17 (2022) has LayerNormalization and is
#: read by every ONNX Runtime since 1.13.
OPSET_VERSION = 17

_ELEMENT_TYPES = {np.dtype(np.float32): TensorProto.FLOAT,
                  np.dtype(np.float64): TensorProto.DOUBLE}


def _example_array(model: Module, example_input: Any) -> np.ndarray:
    """The example as an array of the model's dtype; a different dtype is refused (the
    exported graph would compute in the other one)."""
    array = example_input.detach().numpy() if isinstance(example_input, Tensor) else \
        np.asarray(example_input)
    dtypes = {p.dtype for p in model.parameters()} | {
        t.dtype for t in model.buffers() if t.dtype.kind == "f"}
    if len(dtypes) > 1:
        shown = sorted(map(str, dtypes))
        raise DTypeError(f"onnx.export: the model mixes parameter dtypes {shown}; convert it "
                         "to one with model.to(dtype)")
    dtype = dtypes.pop() if dtypes else array.dtype
    if array.dtype != dtype:
        raise DTypeError(f"onnx.export: example_input has dtype {array.dtype}, the model's "
                         f"parameters {dtype}; pass an input of the model's dtype")
    if np.dtype(dtype) not in _ELEMENT_TYPES:
        raise DTypeError(f"onnx.export: models in {dtype} cannot be exported (float32 or "
                         "float64 only)")
    if array.ndim == 0 or array.shape[0] == 0:
        raise ShapeError(f"onnx.export: example_input must have a batch axis with at least "
                         f"one row, got shape {array.shape}")
    return array


def _not_exportable(module: Module, where: str) -> ExportError:
    return ExportError(
        f"onnx.export: cannot export {type(module).__name__}{where}: it is not one of the "
        "layers tensorgraph can write as ONNX (see docs/onnx.md) or it overrides their "
        "forward"
    )


def _check_exportable(module: Module, path: str) -> None:
    """Refuse a layer without a converter before the example is checked: its name is the
    useful message (an Embedding's integer ids would otherwise be refused as a dtype)."""
    if isinstance(module, Sequential) and type(module).forward is Sequential.forward:
        for name, child in module.named_children():
            _check_exportable(child, f"{path}.{name}" if path else name)
    elif converter_for(module) is None:
        raise _not_exportable(module, f" (at {path!r})" if path else "")


def _convert(b: GraphBuilder, module: Module, x: Value, path: str) -> Value:
    """Add ``module`` applied to ``x``; containers recurse, leaves use their converter.

    The example flows through tensorgraph's own layers alongside, so every converter sees
    real shapes and the final example is the output the graph must reproduce.
    """
    if isinstance(module, Sequential) and type(module).forward is Sequential.forward:
        for name, child in module.named_children():
            x = _convert(b, child, x, f"{path}.{name}" if path else name)
        return x
    convert = converter_for(module)
    where = f" (at {path!r})" if path else ""
    if convert is None:
        raise _not_exportable(module, where)
    example = np.asarray(module(Tensor(x.example))._data)
    try:
        name = convert(b, module, x)
    except ExportError as exc:
        raise ExportError(f"{exc}{where}") from None
    return Value(name, example)


def export(
    model: Module,
    example_input: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    input_names: Sequence[str] = ("input",),
    output_names: Sequence[str] = ("output",),
    dynamic_batch: bool = True,
    metadata: Mapping[str, str] | None = None,
) -> onnx.ModelProto:
    r"""Write ``model`` (in evaluation mode) as an ONNX model.

    Models built from :mod:`tensorgraph.nn` layers (``Linear``, ``Conv1d``/``Conv2d``,
    the pooling layers, ``BatchNorm1d``/``BatchNorm2d``, ``LayerNorm``, activations,
    ``Softmax``/``LogSoftmax``, ``Dropout``/``Dropout2d`` (the identity in evaluation), ``Flatten``,
    ``Identity``, and ``Sequential``/``MLP`` of them; the table is
    :data:`~tensorgraph.onnx.CONVERTERS`) are exported; the
    graph uses ONNX operator set :data:`OPSET_VERSION`. Any other module (or a subclass
    that overrides a layer's ``forward``) raises :class:`~tensorgraph.errors.ExportError`
    naming it and its place in the model.

    Parameters
    ----------
    model : Module
        Exported with its current parameters and running statistics, as ``model.eval()``
        computes; its training flags are left as they were.
    example_input : Tensor or array-like
        An input of the model's dtype with a batch axis first; it fixes the other axes.
    path : str or path-like, optional
        Where to write the ``.onnx`` file (atomically: a reader never sees half a file).
    input_names, output_names : sequence of one str
        The graph's input and output names (default ``"input"`` and ``"output"``).
    dynamic_batch : bool
        Leave the first axis of input and output free (named ``"batch"``); else it is
        fixed to the example's.
    metadata : mapping of str to str, optional
        Written as the model's ``metadata_props`` (class names, feature names, ...).

    Returns
    -------
    onnx.ModelProto
        The model, checked by ``onnx.checker`` with shape inference.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> model = nn.MLP([4, 8, 3], output="softmax", generator=0)
    >>> proto = tg.onnx.export(model, tg.zeros((1, 4)))
    >>> [node.op_type for node in proto.graph.node]
    ['Gemm', 'Relu', 'Gemm', 'Softmax', 'Identity']
    >>> [value.name for value in (*proto.graph.input, *proto.graph.output)]
    ['input', 'output']
    """
    if not isinstance(model, Module):
        raise TypeError(f"onnx.export: model must be a tensorgraph Module, got "
                        f"{type(model).__name__}")
    names = {"input_names": list(input_names), "output_names": list(output_names)}
    for what, given in names.items():
        if len(given) != 1 or not isinstance(given[0], str) or not given[0]:
            raise ValueError(f"onnx.export: {what} must hold one non-empty name (the "
                             f"layers take one input and give one output), got {given}")
    (input_name,), (output_name,) = names["input_names"], names["output_names"]
    if input_name == output_name:
        raise ValueError(f"onnx.export: input and output are both named {input_name!r}")
    _check_exportable(model, "")
    array = _example_array(model, example_input)
    builder = GraphBuilder(array.dtype)
    builder.reserve(input_name)
    builder.reserve(output_name)
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad():
            out = _convert(builder, model, Value(input_name, array), "")
    finally:
        for module, mode in modes:
            module.training = mode
    result = builder.rename(out.name, output_name)
    element = _ELEMENT_TYPES[array.dtype]

    def described(name: str, shape: tuple[int, ...]) -> onnx.ValueInfoProto:
        dims: list[int | str] = list(shape)
        if dynamic_batch:
            dims[0] = "batch"
        return helper.make_tensor_value_info(name, element, dims)

    if dynamic_batch and (not out.shape or out.shape[0] != array.shape[0]):
        raise ExportError(f"onnx.export: the output of shape {out.shape} has no batch axis "
                          f"matching the input's {array.shape}; pass dynamic_batch=False")
    graph = helper.make_graph(
        builder.nodes, type(model).__name__,
        [described(input_name, array.shape)], [described(result, out.shape)],
        initializer=builder.initializers,
    )
    proto = helper.make_model(
        graph, producer_name="tensorgraph", producer_version=__version__,
        opset_imports=[helper.make_opsetid("", OPSET_VERSION)],
        doc_string=repr(model),
    )
    if metadata:
        helper.set_model_props(proto, {str(k): str(v) for k, v in metadata.items()})
    # ONNX Runtime reads IR versions up to what its onnx release wrote; 8 goes with opset 17
    proto.ir_version = 8
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        serialized = proto.SerializeToString()

        def write(stream: IO[bytes]) -> None:
            stream.write(serialized)

        write_atomic(path, write)
    return proto
