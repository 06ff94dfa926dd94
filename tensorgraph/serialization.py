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
previous file untouched. A new file gets the permissions ``open()`` would give it (``0o666``
less the umask), a replaced file keeps its own, and a symlink is written through (its target
is replaced, the link stays).

Loading trusts nothing in the file: every size is checked against the file's length before
anything is allocated, object arrays are refused (nothing is ever unpickled), and the index
is validated field by field; any flaw is a :class:`SerializationError` naming the file.
"""

from __future__ import annotations

import itertools
import json
import os
import reprlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._archive import ArchiveError, read_npz, write_npz
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
#: How deeply containers may nest in a file. An optimizer's state dict nests 4 levels; the
#: limit keeps a crafted file from exhausting the stack (and save refuses what load would).
MAX_DEPTH = 100


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    """The JSON index entry of ``obj``; its arrays are added to ``arrays``."""
    return _encode_at(obj, arrays, where, 0)


def _encode_at(obj: Any, arrays: dict[str, np.ndarray], where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"save: {where} nests containers more than {MAX_DEPTH} levels deep")
    if isinstance(obj, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = obj._data
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
            items.append([k, _encode_at(v, arrays, f"{where}[{k!r}]", depth + 1)])
        return {"t": "dict", "items": items}
    if isinstance(obj, list | tuple):
        return {
            "t": type(obj).__name__,
            "items": [
                _encode_at(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)
            ],
        }
    raise TypeError(
        f"save: {where} is a {type(obj).__name__}; tensorgraph saves arrays, Tensors, numbers, "
        "strings, None and dicts/lists of them (never pickle)"
    )


class _Damaged(Exception):
    """A flaw in the index, described for the message (becomes a SerializationError)."""


def _field(node: Any, key: str, kinds: type | tuple[type, ...], at: str) -> Any:
    if not isinstance(node, dict) or key not in node:
        raise _Damaged(f"{at} has no {key!r}")
    value = node[key]
    if not isinstance(value, kinds):
        raise _Damaged(f"{at}[{key!r}] is {type(value).__name__} {_short(value)}")
    return value


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 40, 40


def _short(value: Any) -> str:
    """A bounded repr of a value read from a file (however long or deeply nested)."""
    return _REPR.repr(value)


def _decode_node(node: Any, arrays: Mapping[str, np.ndarray], at: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _Damaged(f"containers nest more than {MAX_DEPTH} levels deep")
    kind = _field(node, "t", str, at)
    if kind == "value":
        value = _field(node, "v", (type(None), bool, int, float, str), at)
        return value
    if kind in ("array", "tensor", "scalar"):
        ref = _field(node, "ref", str, at)
        if ref not in arrays:
            raise _Damaged(f"{at} refers to a missing array {_short(ref)}")
        array = arrays[ref]
        if kind == "array":
            return array
        if kind == "scalar":
            if array.ndim != 0:
                raise _Damaged(f"{at} is a scalar but its array has shape {array.shape}")
            return array[()]
        requires_grad = _field(node, "requires_grad", bool, at)
        if array.dtype.kind not in "biufc" or (requires_grad and array.dtype.kind not in "fc"):
            raise _Damaged(f"{at} is a tensor of dtype {array.dtype}"
                           + (" that requires grad" if requires_grad else ""))
        return Tensor(array, requires_grad=requires_grad)
    items = _field(node, "items", list, at)
    if kind == "dict":
        out: dict[Any, Any] = {}
        for i, pair in enumerate(items):
            if not isinstance(pair, list) or len(pair) != 2:
                raise _Damaged(f"{at} item {i} is not a [key, value] pair")
            key = pair[0]
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise _Damaged(f"{at} item {i} has a key of type {type(key).__name__}")
            if key in out:
                raise _Damaged(f"{at} has the key {_short(key)} twice")
            out[key] = _decode_node(pair[1], arrays, f"{at}[{_short(key)}]", depth + 1)
        return out
    if kind in ("list", "tuple"):
        values = [_decode_node(v, arrays, f"{at}[{i}]", depth + 1) for i, v in enumerate(items)]
        return values if kind == "list" else tuple(values)
    raise _Damaged(f"{at} has an unknown entry kind {_short(kind)}")


def _decode(node: Any, arrays: Mapping[str, np.ndarray], path: Path) -> Any:
    try:
        return _decode_node(node, arrays, "the index", 0)
    except _Damaged as exc:
        raise SerializationError(f"load: {path} has a damaged index: {exc}") from None


# --------------------------------------------------------------------------- files
def _write(path: str | os.PathLike[str], meta: dict[str, Any], arrays: dict[str, Any]) -> None:
    write_npz(path, {_META: np.array(json.dumps(meta)), **arrays})


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray], Path]:
    source = Path(path)
    if not source.exists():
        raise FileNotFoundError(f"load: no such file: {source}")
    if source.is_dir():
        raise SerializationError(f"load: {source} is a directory, not a tensorgraph file")
    try:
        arrays = read_npz(source)
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file: {source}") from None
    except OSError as exc:  # no permission, a device, an I/O error: the file cannot be read
        raise SerializationError(
            f"load: cannot read {source}: {exc.strerror or type(exc).__name__}"
        ) from None
    except ArchiveError as exc:
        text = str(exc)
        if text.startswith("is a single .npy"):
            raise SerializationError(f"load: {source} {text}") from None
        raise SerializationError(
            f"load: {source} is not a complete tensorgraph file (truncated, damaged or another "
            f"format): {text}"
        ) from None
    index = arrays.pop(_META, None)
    if index is None:
        raise SerializationError(
            f"load: {source} is an .npz file but not one written by tensorgraph "
            f"(no '{_META}' entry); read it with numpy.load"
        )
    if index.shape != () or index.dtype.kind != "U":
        raise SerializationError(
            f"load: {source} has a foreign '{_META}' entry (shape {index.shape}, dtype "
            f"{index.dtype}; expected one unicode string)"
        )
    try:
        meta = json.loads(str(index[()]))
    except RecursionError:
        raise SerializationError(f"load: {source} has an index nested too deeply") from None
    except (ValueError, UnicodeError) as exc:  # JSONDecodeError is a ValueError
        raise SerializationError(f"load: {source} has an index that is not JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != "tensorgraph":
        raise SerializationError(f"load: {source} has a foreign '{_META}' entry")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SerializationError(f"load: {source} has an invalid format version {_short(version)}")
    if version > FORMAT_VERSION:
        raise SerializationError(
            f"load: {source} was written by a newer tensorgraph (format {version}, "
            f"this one reads up to {FORMAT_VERSION}); upgrade tensorgraph"
        )
    if meta.get("kind") not in ("state_dict", "model") or "content" not in meta:
        raise SerializationError(
            f"load: {source} has a damaged index: kind {_short(meta.get('kind'))}"
            + ("" if "content" in meta else ", no content")
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
            f"load_model: {source} holds a {meta['kind']}, not a model; load it with "
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
    architecture = meta.get("architecture")
    name = architecture.get("class") if isinstance(architecture, dict) else None
    config = architecture.get("config", {}) if isinstance(architecture, dict) else None
    if not isinstance(name, str) or not isinstance(config, dict):
        raise SerializationError(
            f"load_model: {source} has a damaged architecture record: {_short(architecture)}"
        )
    _builtin()
    if name not in _ARCHITECTURES:
        raise SerializationError(
            f"load_model: {source} holds a {name!r} model, which this tensorgraph cannot "
            f"rebuild (known: {', '.join(sorted(_ARCHITECTURES)) or 'none'})"
        )
    if name == "MLP":
        _check_mlp_size(config, arrays, source)
    try:
        model = _ARCHITECTURES[name][2](dict(config))
    except RecursionError:
        raise SerializationError(
            f"load_model: {source} records a {name} configuration nested too deeply"
        ) from None
    except (TypeError, ValueError) as exc:
        raise SerializationError(
            f"load_model: {source} records a {name} configuration this version cannot build: {exc}"
        ) from None
    state = _decode(meta["content"], arrays, source)
    if not isinstance(state, dict):
        raise SerializationError(f"load_model: {source} holds weights that are not a dict")
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as exc:
        raise SerializationError(
            f"load_model: the weights in {source} do not fit its {name} architecture: {exc}"
        ) from None
    model.eval()
    return model


def _check_mlp_size(config: Config, arrays: Mapping[str, np.ndarray], source: Path) -> None:
    """Refuse, before building anything, an MLP whose weights the file cannot hold: a crafted
    ``sizes`` of ``[10**6, 10**6]`` would otherwise allocate terabytes before the weights are
    found missing."""
    sizes = config.get("sizes")
    if not isinstance(sizes, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes
    ):
        raise SerializationError(
            f"load_model: {source} records MLP sizes {_short(sizes)}; expected positive ints"
        )
    weights = sum(a * b for a, b in itertools.pairwise(sizes))
    held = sum(a.size for a in arrays.values())
    if weights > held:
        raise SerializationError(
            f"load_model: the weights in {source} do not fit its MLP architecture: sizes "
            f"{_short(sizes)} need at least {weights} weights, the file holds {held} numbers"
        )


def load_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``metadata`` dict saved with a model by :func:`save_model`."""
    meta, arrays, source = _model_meta(path)
    decoded = _decode(meta.get("metadata", {"t": "dict", "items": []}), arrays, source)
    if not isinstance(decoded, dict):
        raise SerializationError(f"load_metadata: {source} has metadata that is not a dict")
    return decoded
