"""Saving and loading: state dicts and whole models in numpy ``.npz`` files, never pickle.

A file written here is a plain ``.npz`` archive (readable by ``numpy.load`` with
``allow_pickle=False``) holding

* one entry per array, named ``a0``, ``a1``, ...;
* an entry ``__tensorgraph__``: a JSON document (stored as a numpy unicode scalar) with the
  format version, the kind of content (``state_dict`` or ``model``), the structure of the
  saved object with references to the arrays, and, for a model, its architecture.

Nested dicts, lists and tuples, numpy arrays, Tensors, Python numbers, strings, booleans and
None round-trip exactly (dict keys may be strings or integers, as in an optimizer's state).
Anything else is refused with a ``TypeError`` rather than pickled.

Saving is atomic: the archive is written to a temporary file in the destination directory and
moved over the destination with :func:`os.replace`, so an interrupted or failed save leaves a
previous file untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import TensorGraphError
from .tensor import Tensor

__all__ = [
    "FORMAT_VERSION",
    "SerializationError",
    "has_architecture",
    "load",
    "load_metadata",
    "load_model",
    "register_architecture",
    "save",
    "save_model",
]

FORMAT_VERSION = 1
_META = "__tensorgraph__"


class SerializationError(TensorGraphError, ValueError):
    """A file that is not a complete tensorgraph archive, or one that does not fit."""


# --------------------------------------------------------------------------- encoding
def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    if isinstance(obj, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = obj.numpy()
        return {"t": "tensor", "ref": key, "requires_grad": obj.requires_grad}
    if isinstance(obj, np.ndarray | np.generic):
        array = np.asarray(obj)
        if array.dtype.hasobject:
            raise TypeError(f"save: {where} is an object array; only numeric arrays are saved")
        key = f"a{len(arrays)}"
        arrays[key] = array
        return {"t": "array" if isinstance(obj, np.ndarray) else "scalar", "ref": key}
    if obj is None or isinstance(obj, bool | int | float | str):
        return {"t": "value", "v": obj}
    if isinstance(obj, Mapping):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, str | int):
                raise TypeError(f"save: {where} has a key {k!r}; keys must be str or int")
            items.append([k, _encode(v, arrays, f"{where}[{k!r}]")])
        return {"t": "dict", "items": items}
    if isinstance(obj, list | tuple):
        return {
            "t": type(obj).__name__,
            "items": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)],
        }
    raise TypeError(
        f"save: {where} is a {type(obj).__name__}; tensorgraph saves arrays, Tensors, numbers, "
        "strings, None and dicts/lists of them (never pickle)"
    )


def _decode(node: Any, arrays: Mapping[str, np.ndarray], path: Path) -> Any:
    try:
        kind = node["t"]
        if kind == "value":
            return node["v"]
        if kind in ("array", "tensor", "scalar"):
            array = arrays[node["ref"]]
            if kind == "scalar":
                return array[()]
            if kind == "array":
                return array
            return Tensor(array, requires_grad=bool(node["requires_grad"]))
        if kind == "dict":
            return {k: _decode(v, arrays, path) for k, v in node["items"]}
        if kind in ("list", "tuple"):
            items = [_decode(v, arrays, path) for v in node["items"]]
            return items if kind == "list" else tuple(items)
    except (KeyError, TypeError, ValueError) as exc:
        raise SerializationError(f"load: {path} has a damaged index ({exc!r})") from None
    raise SerializationError(f"load: {path} has an unknown entry kind {kind!r}")


# --------------------------------------------------------------------------- files
def _write(path: str | os.PathLike[str], meta: dict[str, Any], arrays: dict[str, Any]) -> None:
    target = Path(path)
    payload = {_META: np.array(json.dumps(meta)), **arrays}
    # Write beside the destination (same file system) and rename over it: os.replace is
    # atomic, so readers see the old file or the new one, never half of one.
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or "."
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray], Path]:
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"load: no such file: {source}")
    try:
        archive = np.load(source, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise SerializationError(
                f"load: {source} is a single .npy array, not a tensorgraph .npz file"
            )
        with archive:
            if _META not in archive.files:
                raise SerializationError(
                    f"load: {source} is an .npz file but not one written by tensorgraph "
                    f"(no '{_META}' entry); read it with numpy.load"
                )
            meta = json.loads(str(archive[_META]))
            arrays = {name: archive[name] for name in archive.files if name != _META}
    except SerializationError:
        raise
    except PermissionError:
        raise  # a genuine I/O problem keeps its own type and message
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise SerializationError(
            f"load: {source} is not a complete tensorgraph file (truncated, damaged or another "
            f"format): {exc}"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != "tensorgraph":
        raise SerializationError(f"load: {source} has a foreign '{_META}' entry")
    if meta.get("version", 0) > FORMAT_VERSION:
        raise SerializationError(
            f"load: {source} was written by a newer tensorgraph (format {meta.get('version')}, "
            f"this one reads up to {FORMAT_VERSION}); upgrade tensorgraph"
        )
    return meta, arrays, source


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Save a state dict (or any nest of arrays, Tensors, numbers and strings) to ``path``.

    Parameters
    ----------
    obj : dict, list, tuple, ndarray or Tensor
        Typically ``model.state_dict()`` or ``optimizer.state_dict()``.
    path : path-like
        The destination, used as given (no ``.npz`` is appended). Written atomically.

    Raises
    ------
    TypeError
        For a value that cannot be saved without pickle (an object, a function, ...).

    Examples
    --------
    >>> import numpy as np, tempfile, os, tensorgraph as tg
    >>> path = os.path.join(tempfile.mkdtemp(), "state.npz")
    >>> tg.save({"weight": tg.tensor([[1.0, 2.0]]), "step": 3}, path)
    >>> tg.load(path)["step"]
    3
    """
    arrays: dict[str, np.ndarray] = {}
    structure = _encode(obj, arrays, "the object")
    meta = {
        "format": "tensorgraph",
        "version": FORMAT_VERSION,
        "kind": "state_dict",
        "content": structure,
    }
    _write(path, meta, arrays)


def load(path: str | os.PathLike[str]) -> Any:
    """Load what :func:`save` saved (arrays come back as arrays, Tensors as Tensors).

    For a model file written by :func:`save_model` this returns its state dict; use
    :func:`load_model` to rebuild the model.

    Raises
    ------
    SerializationError
        For a truncated or damaged file, or one not written by tensorgraph.
    FileNotFoundError
        When ``path`` does not exist.
    """
    meta, arrays, source = _read(path)
    return _decode(meta["content"], arrays, source)


# --------------------------------------------------------------------------- models
Config = dict[str, Any]

#: By class name: (class, ``module -> config``, ``config -> module``).
_ARCHITECTURES: dict[str, tuple[type[Any], Callable[[Any], Config], Callable[[Config], Any]]] = {}


def register_architecture(
    cls: type[Any],
    config: Callable[[Any], Config] | None = None,
    build: Callable[[Config], Any] | None = None,
) -> None:
    """Allow :func:`save_model` / :func:`load_model` for modules of class ``cls``.

    Parameters
    ----------
    cls : type
    config : callable, optional
        ``config(module)`` returns JSON-compatible constructor arguments; by default
        ``module.get_config()``.
    build : callable, optional
        ``build(config)`` rebuilds an untrained module; by default ``cls(**config)``.
    """
    _ARCHITECTURES[cls.__name__] = (
        cls,
        config or (lambda module: dict(module.get_config())),
        build or (lambda settings: cls(**settings)),
    )


def _mlp_config(model: Any) -> Config:
    # MLP keeps no copy of its arguments; they are read back from its layers, which is all
    # that rebuilding needs (the initialisation is overwritten by the saved weights).
    from . import nn

    layers = list(model)
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    last = layers.index(linears[-1])
    names = {nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}
    hidden = [names[type(m)] for m in layers[:last] if type(m) in names]
    outputs = {nn.Sigmoid: "sigmoid", nn.Softmax: "softmax", nn.LogSoftmax: "log_softmax"}
    tail = layers[last + 1 :]
    batch_norm = any(isinstance(m, nn.BatchNorm1d) for m in layers)
    dropouts = [m.p for m in layers if isinstance(m, nn.Dropout)]
    return {
        "sizes": [linears[0].in_features] + [m.out_features for m in linears],
        "activation": hidden[0] if hidden else "relu",
        "batch_norm": batch_norm,
        "dropout": dropouts[0] if dropouts else 0.0,
        "output": outputs[type(tail[0])] if tail else None,
        "bias": batch_norm or len(linears) == 1 or linears[0].bias is not None,
        "dtype": str(linears[0].weight.dtype),
    }


def _builtin() -> None:
    if "MLP" not in _ARCHITECTURES:
        from .nn import MLP

        register_architecture(MLP, config=_mlp_config)


def has_architecture(model: Any) -> bool:
    """Whether :func:`save_model` can record ``model``'s architecture."""
    _builtin()
    entry = _ARCHITECTURES.get(type(model).__name__)
    return entry is not None and isinstance(model, entry[0])


def _architecture_of(model: Any) -> dict[str, Any]:
    name = type(model).__name__
    if not has_architecture(model):
        raise TypeError(
            f"save_model: cannot record the architecture of a {name} (known: "
            f"{', '.join(sorted(_ARCHITECTURES))}); save its weights with "
            "tensorgraph.save(model.state_dict(), path) instead"
        )
    config = _ARCHITECTURES[name][1](model)
    json.dumps(config)  # fails early, before any file is touched, on a non-JSON value
    return {"class": name, "config": config}


def save_model(
    model: Any, path: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None
) -> None:
    """Save a model's architecture and weights, so :func:`load_model` rebuilds it without code.

    Parameters
    ----------
    model : Module
        A module whose class is registered (``nn.MLP`` is).
    path : path-like
        The destination, written atomically.
    metadata : dict, optional
        Anything else worth keeping with the model (class names, the scaler's statistics,
        ...), under the same rules as :func:`save`; read back with :func:`load_metadata`.
    """
    arrays: dict[str, np.ndarray] = {}
    meta = {
        "format": "tensorgraph",
        "version": FORMAT_VERSION,
        "kind": "model",
        "architecture": _architecture_of(model),
        "content": _encode(dict(model.state_dict()), arrays, "the state dict"),
        "metadata": _encode(dict(metadata or {}), arrays, "the metadata"),
    }
    _write(path, meta, arrays)


def _model_meta(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any], Path]:
    meta, arrays, source = _read(path)
    if meta.get("kind") != "model":
        raise SerializationError(
            f"load_model: {source} holds a {meta.get('kind')}, not a model; load it with "
            "tensorgraph.load and pass it to model.load_state_dict"
        )
    return meta, arrays, source


def load_model(path: str | os.PathLike[str]) -> Any:
    """Rebuild a model saved by :func:`save_model`, with its weights, in eval mode.

    Raises
    ------
    SerializationError
        For a damaged or foreign file, a file that is not a model, an unknown architecture,
        or weights that do not fit the recorded architecture.
    """
    meta, arrays, source = _model_meta(path)
    architecture = meta.get("architecture") or {}
    name = architecture.get("class")
    _builtin()
    if name not in _ARCHITECTURES:
        raise SerializationError(
            f"load_model: {source} holds a {name!r} model, which this tensorgraph cannot "
            f"rebuild (known: {', '.join(sorted(_ARCHITECTURES)) or 'none'})"
        )
    try:
        model = _ARCHITECTURES[name][2](dict(architecture.get("config", {})))
    except (TypeError, ValueError) as exc:
        raise SerializationError(
            f"load_model: {source} records a {name} configuration this version cannot build: {exc}"
        ) from None
    state = _decode(meta["content"], arrays, source)
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as exc:
        raise SerializationError(
            f"load_model: the weights in {source} do not fit its {name} architecture: {exc}"
        ) from None
    model.eval()
    return model


def load_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``metadata`` dict saved with a model by :func:`save_model`."""
    meta, arrays, source = _model_meta(path)
    decoded = _decode(meta.get("metadata", {"t": "dict", "items": []}), arrays, source)
    return dict(decoded)
