"""``Module`` and ``Parameter``: the containers that hold a model's state.

A :class:`Module` registers, by plain attribute assignment, its :class:`Parameter`\\ s
(trainable tensors), its sub-modules and its buffers (state that is saved but not trained,
such as batch-norm running statistics). Everything else about a model follows from that
registry: ``parameters()``, ``state_dict()``, ``train()`` / ``eval()``, the printed tree.
The API and the key names are PyTorch's (``"0.weight"``, ``"bn.running_mean"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from ..errors import DTypeError, TensorGraphError
from ..tensor import Tensor

__all__ = ["IncompatibleKeys", "Module", "Parameter", "StateDictError"]


class StateDictError(TensorGraphError, ValueError):
    """A state dict that does not fit the model: missing, unexpected or mis-shaped entries."""


class Parameter(Tensor):
    """A leaf :class:`~tensorgraph.Tensor` that a :class:`Module` trains.

    Assigning a ``Parameter`` to a module attribute registers it, so it appears in
    ``module.parameters()`` and ``module.state_dict()``. It always requires grad (unless
    created with ``requires_grad=False`` to freeze it).

    Parameters
    ----------
    data : array-like or Tensor
        The initial value; a Tensor's array is used directly (not copied).
    requires_grad : bool
        Whether the optimizer should update it (default True).

    Examples
    --------
    >>> import numpy as np
    >>> from tensorgraph import nn
    >>> w = nn.Parameter(np.zeros(2, dtype=np.float32))
    >>> w.requires_grad, w.is_leaf
    (True, True)
    """

    __slots__ = ()  # Tensor's slots suffice; no per-instance __dict__

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        super().__init__(data.numpy() if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model.

    Subclasses set their parameters, sub-modules and buffers as attributes in ``__init__``
    (after calling ``super().__init__()``) and define ``forward``; calling the module calls
    ``forward``.

    Examples
    --------
    >>> import numpy as np
    >>> from tensorgraph import nn
    >>> class Scale(nn.Module):
    ...     def __init__(self) -> None:
    ...         super().__init__()
    ...         self.s = nn.Parameter(np.ones(1, dtype=np.float32))
    ...     def forward(self, x):
    ...         return x * self.s
    >>> [name for name, _ in Scale().named_parameters()]
    ['s']
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _modules: dict[str, Module | None]
    _non_persistent: set[str]
    #: how many times a member (parameter, buffer, sub-module, attribute other than
    #: ``training``) was set or removed: tg.compile guards on it, so a plan that called this
    #: module traces again after ``m.weight = Parameter(...)`` or a swapped layer
    _members: int = 0

    def __init__(self) -> None:
        # object.__setattr__ because our own __setattr__ needs these dicts to exist
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_non_persistent", set())

    # ------------------------------------------------------------------ forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def _check_ready(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning attributes"
            )

    def __setattr__(self, name: str, value: Any) -> None:
        self._check_ready()
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            _forget(name, self.__dict__, modules, buffers)
            params[name] = value
        elif name in params:
            self._empty_slot(params, name, value, "a parameter", "Parameter")
        elif isinstance(value, Module):
            _forget(name, self.__dict__, params, buffers)
            modules[name] = value
        elif name in modules:
            self._empty_slot(modules, name, value, "a sub-module", "Module")
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                value = Tensor(np.asarray(value))
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)
        if name != "training":  # (the training flag is a guard of its own)
            self._changed()

    def _changed(self) -> None:
        """Count a change of member (see ``_members``)."""
        d = self.__dict__
        d["_members"] = d.get("_members", 0) + 1

    def _empty_slot(self, table: dict[str, Any], name: str, value: Any, what: str,
                    kind: str) -> None:
        """Assign None to a registered slot (an absent bias stays registered, as in
        PyTorch); any other value of the wrong kind is an error."""
        if value is not None:
            raise TypeError(f"{type(self).__name__}.{name} is {what}: assign a {kind} or "
                            f"None, not {type(value).__name__}")
        table[name] = None

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for table in ("_parameters", "_modules", "_buffers"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._modules, self._buffers):
            if name in table:
                del table[name]
                self._non_persistent.discard(name)
                self._changed()
                return
        object.__delattr__(self, name)
        self._changed()

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, an empty slot) under ``name``."""
        self._check_ready()
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._parameters[name] = param
        self.__dict__.pop(name, None)
        self._changed()

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register state that is saved in ``state_dict()`` but not trained.

        Parameters
        ----------
        name : str
        tensor : Tensor, array-like or None
            Converted to a Tensor that does not require grad.
        persistent : bool
            Whether the buffer appears in ``state_dict()``.
        """
        self._check_ready()
        if "." in name or not name:
            raise KeyError(f"register_buffer: invalid buffer name {name!r}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"register_buffer: {name!r} is already a parameter or a module")
        if tensor is not None and not isinstance(tensor, Tensor):
            tensor = Tensor(np.asarray(tensor))
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        self.__dict__.pop(name, None)
        self._changed()

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` under ``name`` (as ``setattr`` does, for computed names)."""
        self._check_ready()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module
        self.__dict__.pop(name, None)
        self._changed()

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "", _memo: set[int] | None = None,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for this module and every descendant.

        With ``remove_duplicate`` (the default, as in PyTorch) a module reachable by several
        paths (used twice in a ``Sequential``) is yielded once, under its first name;
        otherwise under every name. A module that contains itself is refused.
        """
        if not remove_duplicate:
            yield from self._every_named_module(prefix, ())
            return
        memo = set() if _memo is None else _memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def _every_named_module(self, prefix: str, ancestors: tuple[int, ...]
                            ) -> Iterator[tuple[str, Module]]:
        if id(self) in ancestors:
            raise ValueError(f"{type(self).__name__} at {prefix!r} contains itself; a module "
                             f"tree must not have cycles")
        yield prefix, self
        inner = (*ancestors, id(self))
        for name, child in self._modules.items():
            if child is not None:
                yield from child._every_named_module(f"{prefix}.{name}" if prefix else name,
                                                     inner)

    def modules(self) -> Iterator[Module]:
        """Yield this module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for the direct sub-modules."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """Yield the direct sub-modules."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, table: str, recurse: bool, remove_duplicate: bool
                       ) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        mods = (self.named_modules(remove_duplicate=remove_duplicate) if recurse
                else iter([("", self)]))
        for prefix, module in mods:
            for name, value in getattr(module, table).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse: bool = True, remove_duplicate: bool = True
                         ) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)`` in registration order.

        A parameter reachable under several names (a module used twice, tied weights) is
        yielded once, under its first name, unless ``remove_duplicate=False`` (PyTorch's
        argument), which yields every name.
        """
        for name, p in self._named_members("_parameters", recurse, remove_duplicate):
            assert isinstance(p, Parameter)
            yield name, p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield every parameter (recursively), each once, in registration order."""
        for _, p in self.named_parameters(recurse):
            yield p

    def named_buffers(self, recurse: bool = True, remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(name, buffer)`` for the registered buffers (a shared one once, unless
        ``remove_duplicate=False``)."""
        yield from self._named_members("_buffers", recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yield the registered buffers, each once."""
        for _, b in self.named_buffers(recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module, then on this one (e.g. custom initialisation)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and its
        descendants; return ``self``. Dropout and batch-norm behave differently in each."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; return ``self``."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the parameters' gradients: set ``.grad`` to None (default), or fill the
        existing gradient arrays with zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none or p.grad._node is not None:
                p.grad = None
            else:
                p.grad._data.fill(0)
                p.grad._bump_version()  # a graph that read this .grad must not run on 0

    def to(self, dtype: DTypeLike) -> Module:
        """Cast every floating parameter and buffer to ``dtype`` in place; return ``self``.

        The gradients are dropped (they would have the old dtype).
        """
        target = np.dtype(dtype)
        if target.kind != "f":
            raise DTypeError(f"Module.to: {target} is not a floating dtype")
        for t in [*self.parameters(), *self.buffers()]:
            if t.dtype.kind == "f" and t.dtype != target:
                t._data = t._data.astype(target)
                t._bump_version()
                t.grad = None
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Return every parameter and persistent buffer by dotted name, as array copies.

        The arrays are copies, so a saved snapshot does not change while training
        continues (``load_state_dict`` restores it). As in PyTorch, a shared tensor (a
        module used twice, tied weights) appears under every name it is reachable by, and
        those names share one array.
        """
        state: dict[str, np.ndarray] = {}
        copies: dict[int, np.ndarray] = {}  # one copy per shared tensor: its names share it
        for key, t in self._state_tensors().items():
            if id(t) not in copies:
                copies[id(t)] = t._data.copy()
            state[key] = copies[id(t)]
        return state

    def _state_tensors(self) -> dict[str, Tensor]:
        entries: dict[str, Tensor] = {}
        for prefix, module in self.named_modules(remove_duplicate=False):
            dot = f"{prefix}." if prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    entries[dot + name] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    entries[dot + name] = b
        return entries

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True
                        ) -> IncompatibleKeys:
        """Copy the arrays of ``state_dict`` into the parameters and buffers, in place.

        Parameters
        ----------
        state_dict : mapping of str to array-like or Tensor
        strict : bool
            When True (the default), missing and unexpected keys are errors. Entries of the
            wrong shape or dtype are errors either way.

        Notes
        -----
        A shared tensor (a module used twice) is listed under each of its names by
        :meth:`state_dict`; loading sets it from whichever of those names are given. When
        several are given they must hold equal values: PyTorch silently keeps the last one,
        tensorgraph refuses the disagreement (it is a corrupted or hand-edited state dict).

        Returns
        -------
        IncompatibleKeys
            The missing and unexpected keys (both empty when ``strict``).

        Raises
        ------
        StateDictError
            Listing, in one message, every missing, unexpected, mis-shaped and wrongly
            typed entry; nothing is loaded when it is raised.
        """
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems: list[str] = []
        values: dict[str, np.ndarray] = {}
        first_key: dict[int, str] = {}  # a shared tensor: the first of its names given
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.shape:
                problems.append(f"  {key}: shape {array.shape} in the state dict, "
                                f"{target.shape} in the model")
            elif array.dtype != target.dtype:
                problems.append(f"  {key}: dtype {array.dtype} in the state dict, "
                                f"{target.dtype} in the model")
            elif id(target) in first_key:
                other = first_key[id(target)]
                if not _same_values(values[other], array):
                    problems.append(f"  {other} and {key} name one shared tensor but hold "
                                    f"different values; make them equal or give only one")
            else:
                first_key[id(target)] = key
                values[key] = array
        if strict:
            problems += [f"  missing key: {k}" for k in missing]
            problems += [f"  unexpected key: {k}" for k in unexpected]
        if problems:
            raise StateDictError(f"load_state_dict: the state dict does not fit "
                                 f"{type(self).__name__}:\n" + "\n".join(problems))
        for key, array in values.items():
            target = own[key]
            if target._data.flags.writeable:
                np.copyto(target._data, array)
            else:  # a read-only array (the user's own): the tensor gets a copy of its own
                target._data = np.array(array, copy=True)
            target._bump_version()  # a graph that saved the old value must not use the new one
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's line in ``repr``."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                       for name, child in self._modules.items()]
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif extra_lines or child_lines:
            body = "\n  " + "\n  ".join(extra_lines + child_lines) + "\n"
        return f"{type(self).__name__}({body})"

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._parameters, *self._modules, *self._buffers})


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays (NaN equal to NaN: a NaN weight saved twice is still one value)."""
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _forget(name: str, *tables: dict[str, Any]) -> None:
    """Remove ``name`` from every table (a new kind of value replaces the old one)."""
    for table in tables:
        table.pop(name, None)
