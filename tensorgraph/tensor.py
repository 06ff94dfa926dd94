"""The :class:`Tensor`: a numpy array, its gradient, and the graph node that produced it.

``Tensor`` is deliberately thin: every method delegates to an op function in
:mod:`tensorgraph.ops`, and numpy's ``__array_ufunc__`` / ``__array_function__`` protocols
route ``np.exp(t)``, ``np.sum(t, axis=0)`` and friends to the same ops.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from . import autograd
from .dtypes import get_default_dtype
from .errors import DTypeError, GradientError, ShapeError

__all__ = ["Tensor", "tensor"]


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    Parameters
    ----------
    data : array-like
        Python data becomes the default float dtype (see :mod:`tensorgraph.dtypes`) when it
        holds floats; numpy arrays keep their dtype. The data is always copied (as
        ``torch.tensor`` does), so writing to the array you passed cannot change the tensor.
    requires_grad : bool
        Record operations on this tensor so that ``backward()`` fills ``.grad``. Only
        floating tensors may require grad.
    dtype : dtype, optional
        Cast to this dtype.

    Attributes
    ----------
    grad : Tensor or None
        The accumulated gradient, filled by ``backward()`` for leaves that require grad.
    requires_grad : bool
        Whether gradients flow to this tensor.
    """

    __slots__ = ("__weakref__", "_data", "_grad", "_node", "_requires_grad", "_vc")
    __array_priority__ = 1000.0

    _data: np.ndarray
    _node: autograd.Node | None
    #: the storage's version counter ``[writes, shared]``, shared by tensors sharing memory
    _vc: list[int]
    _grad: Tensor | None
    _requires_grad: bool

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: DTypeLike | None = None
    ) -> None:
        self._data = _as_array(data, dtype)
        self._node = None
        self._vc = [0, 0]
        self._grad = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ attributes
    @property
    def data(self) -> np.ndarray:
        """A read-only view of the tensor's array (no copy, no graph).

        Writing through it is impossible on purpose: a graph may have saved this array for
        backward. Change a tensor through its own in-place operations (``t[...] = v``,
        ``t += v``), which backward can check, or take ``.copy()`` of the array.
        Assigning ``t.data = array`` replaces the array with a copy of ``array``.
        """
        return _read_only(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        # a node that saved this tensor must not run its VJP on the new array: it gets a
        # counter past the old one, while views of the old array keep theirs
        self._data = np.array(value._data if isinstance(value, Tensor) else value)
        self._vc = [self._vc[0], 0]
        autograd._bump(self._vc)
        if self._node is not None:
            self._node.out_vc = self._vc  # its output is no longer what it computed

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (a graph op)."""
        return _ops.transpose(self)

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op."""
        return self._node is None

    @property
    def op_name(self) -> str | None:
        """The name of the op that produced this tensor (None for leaves)."""
        return None if self._node is None else self._node.op.name

    def item(self) -> Any:
        """Return the single element as a Python scalar."""
        if self._data.size != 1:
            raise ValueError(f"item: the tensor has {self._data.size} elements, not 1")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """Return a read-only view of the array (no copy; no graph).

        Take ``.copy()`` for an array you can write to; see :attr:`data`.
        """
        return _read_only(self._data)

    def tolist(self) -> Any:
        return self._data.tolist()

    @property
    def _version(self) -> int:
        """How many in-place writes the tensor's storage has received."""
        return self._vc[0]

    def _bump_version(self) -> None:
        """Record a write into ``self._data``: backward refuses nodes that saved the old
        contents, through this tensor or any other sharing its memory."""
        autograd._bump(self._vc)

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        if self.requires_grad:
            raise TypeError(
                f"cannot convert a tensor of shape {self.shape} that requires grad to a numpy "
                f"array: its graph would be dropped silently (np.asarray, np.array, a list of "
                f"tensors, or a numpy function tensorgraph does not define). Call .detach() "
                f"first to drop the graph on purpose, or build the result with tensorgraph "
                f"ops (tg.stack, tg.concatenate, ...)"
            )
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else _read_only(self._data)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = [f"dtype={self._data.dtype}"]
        if self._node is not None:
            extra.append(f"op={self._node.op.name}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}, {', '.join(extra)})"

    # ------------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only) and return ``self``."""
        if requires_grad and self._data.dtype.kind != "f":
            raise DTypeError(
                f"requires_grad: only floating tensors can require gradients, this one is "
                f"{self._data.dtype}; convert with .astype(np.float32) first"
            )
        if not requires_grad and self._node is not None:
            raise GradientError(
                "requires_grad_(False) on a non-leaf tensor; use .detach() to cut the graph"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient (filled by ``backward()``), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        # checked as PyTorch checks it: a later backward accumulates into this buffer
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: assigned grad must be a Tensor or None, got "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise ShapeError(f"grad: assigned grad has shape {value.shape}, but the "
                                 f"tensor has shape {self.shape}")
            if value.dtype != self.dtype:
                raise DTypeError(f"grad: assigned grad has dtype {value.dtype}, but the "
                                 f"tensor has dtype {self.dtype}")
            if value is self or np.shares_memory(value._data, self._data):
                raise GradientError("grad: a tensor cannot hold itself (or a view of its own "
                                    "array) as its gradient; assign a copy")
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor (set it on leaves; checked like
        :meth:`requires_grad_`: only floating tensors can require grad)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"requires_grad must be a bool, got {type(value).__name__}")
        if self._node is not None and not value:
            raise GradientError(
                "requires_grad = False on a non-leaf tensor; use .detach() to cut the graph"
            )
        self.requires_grad_(bool(value))

    def detach(self) -> Tensor:
        """Return a new leaf sharing this tensor's array, cut from the graph.

        The two share one version counter: an in-place write through either is seen by
        every graph that saved the other.
        """
        self._vc[1] = 1
        return autograd._new_tensor(self._data, False, None, self._vc)

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` during backward."""
        if self._node is None:
            if not self.requires_grad:
                raise GradientError("retain_grad: the tensor does not require grad")
            return
        self._node.retained = weakref.ref(self)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad = None``)."""
        self.grad = None

    def backward(
        self, grad: Any = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf that requires grad.

        Parameters
        ----------
        grad : array-like or Tensor, optional
            The cotangent of ``self``; required unless ``self`` has a single element.
            It must have ``self``'s shape and dtype.
        retain_graph : bool, optional
            Keep the saved arrays for another backward (defaults to ``create_graph``).
        create_graph : bool
            Record the backward pass so that gradients can be differentiated again.
        """
        seed = autograd._seed_gradient(self, grad, "backward")
        retain = create_graph if retain_graph is None else retain_graph
        autograd.run_backward([self], [seed], retain, create_graph)

    # ------------------------------------------------------------------ numpy protocols
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        fn = _UFUNCS.get(ufunc) if method == "__call__" else None
        if fn is None or kwargs:
            # np.add.at is the one ufunc method with a differentiable counterpart
            hint = ("tg.scatter_add(a, index, values), which returns the sum instead of "
                    "writing it" if ufunc is np.add and method == "at"
                    else "a tensorgraph op or call it on tensor.numpy()")
            raise TypeError(
                f"tensorgraph: numpy.{ufunc.__name__}"
                f"{'' if method == '__call__' else '.' + method}"
                f"{' with ' + ', '.join(kwargs) if kwargs and fn else ''} is not supported on "
                f"Tensors; use {hint}"
            )
        return fn(*inputs)

    def __array_function__(
        self, func: Any, types: Any, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> Any:
        fn = _FUNCTIONS.get(func)
        if fn is None:
            raise TypeError(
                f"tensorgraph: numpy.{func.__name__} is not supported on Tensors; use a "
                f"tensorgraph op or call it on tensor.numpy()"
            )
        return fn(*args, **kwargs)

    # ------------------------------------------------------------------ operators
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.multiply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.multiply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _ops.remainder(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ops.floor_divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.negative(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # comparisons: plain boolean tensors, never differentiable
    def __lt__(self, other: Any) -> Tensor:
        return _compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return _compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _compare(np.not_equal, self, other)

    # in-place operators: recorded in the graph when a gradient flows (as PyTorch does)
    def _inplace(self, op: Callable[[Any, Any], Tensor], ufunc: Callable[..., Any], other: Any,
                 symbol: str) -> Tensor:
        if autograd.is_grad_enabled() and (
            self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        ):
            # x += x reads the old x twice (x itself is about to become the result)
            self._record_inplace(lambda old: op(old, old if other is self else other), symbol)
            return self
        value = other._data if isinstance(other, Tensor) else other
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and (
            value.dtype != self.dtype
        ):
            raise DTypeError(f"in-place {symbol}: {value.dtype} into {self.dtype}")
        self._check_writable(symbol)
        try:
            ufunc(self._data, value, out=self._data)
        except ValueError as err:
            raise ShapeError(
                f"in-place {symbol}: an operand of shape {np.shape(value)} cannot be written "
                f"into a tensor of shape {self.shape} ({err})"
            ) from None
        except TypeError as err:  # numpy's casting refusal (a float into an int tensor)
            raise DTypeError(f"in-place {symbol} into a {self.dtype} tensor: {err}") from None
        self._bump_version()
        return self

    def _check_writable(self, what: str) -> None:
        if not self._data.flags.writeable:
            raise ValueError(
                f"in-place {what}: the tensor's array (shape {self.shape}) is read-only (a "
                f"broadcast view shares one element among many); write to a copy instead"
            )

    def _record_inplace(self, compute: Callable[[Tensor], Tensor], symbol: str) -> None:
        """Make ``self`` the result of ``compute(old self)``, recorded in the graph, and
        write the result into ``self``'s array (so views of it see the new values)."""
        if self._node is None and self.requires_grad:
            raise GradientError(
                f"in-place {symbol} on a leaf tensor that requires grad (shape {self.shape}); "
                f"its gradient would be lost. Write x = x {symbol.rstrip('=')} y (out of "
                f"place), or update it under no_grad()"
            )
        if self._vc[1]:
            raise GradientError(
                f"in-place {symbol} with gradients on a tensor (shape {self.shape}) that "
                f"shares its memory with another tensor (a view, its base or a detach()): "
                f"the other would change without a record in the graph. Write it out of "
                f"place (x = x {symbol.rstrip('=')} y), or copy it first"
            )
        if self._data.dtype.kind != "f":
            raise DTypeError(
                f"in-place {symbol}: a {self.dtype} tensor cannot hold a gradient-carrying "
                f"result; convert it with .astype(np.float32) first"
            )
        self._check_writable(symbol)
        previous = self._node
        # the old value, as the tensor that the recorded op reads; its node keeps that copy
        # as its output, since the array itself is about to be overwritten
        old = autograd._new_tensor(self._data.copy(), self.requires_grad, previous)
        retained = None
        if previous is not None:
            if previous.out is self._data or previous.out_vc is self._vc:
                previous.out = old._data
                previous.out_vc = old._vc
                previous.out_v0 = 0
            retained, previous.retained = previous.retained, None
        result = compute(old)
        if result.shape != self.shape or result.dtype != self.dtype:
            raise ShapeError(
                f"in-place {symbol}: the result has shape {result.shape} and dtype "
                f"{result.dtype}, but the tensor written to has shape {self.shape} and dtype "
                f"{self.dtype}; an in-place operation cannot change either"
            )
        np.copyto(self._data, result._data)
        self._bump_version()
        node = result._node
        self._node = node
        self._requires_grad = result._requires_grad
        if node is not None:
            node.out_vc = self._vc
            node.out_v0 = self._vc[0]
            if retained is not None:
                node.retained = retained

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(_ops.add, np.add, other, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(_ops.subtract, np.subtract, other, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(_ops.multiply, np.multiply, other, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(_ops.divide, np.divide, other, "/=")

    def __setitem__(self, index: Any, value: Any) -> None:
        if autograd.is_grad_enabled() and (
            self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
        ):
            self._record_inplace(
                lambda old: _ops.setitem(old, index, old if value is self else value),
                "item assignment")
            return
        if isinstance(index, Tensor):
            index = index._data
        self._check_writable("item assignment")
        array = value._data if isinstance(value, Tensor) else value
        if isinstance(array, np.ndarray) and array.dtype.kind == "f" and (
            array.dtype != self.dtype and self.dtype.kind == "f"
        ):
            raise DTypeError(f"item assignment: {array.dtype} into a {self.dtype} tensor")
        self._data[index] = array
        self._bump_version()

    # ------------------------------------------------------------------ methods (numpy names)
    def astype(self, dtype: DTypeLike) -> Tensor:
        """Return the tensor cast to ``dtype`` (differentiable between float dtypes)."""
        return _ops.astype(self, dtype)

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Tensor:
        order: Any = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
        return _ops.transpose(self, order or None)

    def permute(self, *axes: int) -> Tensor:
        return self.transpose(*axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _ops.swapaxes(self, axis1, axis2)

    def flatten(self) -> Tensor:
        return _ops.flatten(self)

    def squeeze(self, axis: Any = None) -> Tensor:
        return _ops.squeeze(self, axis)

    def expand_dims(self, axis: Any) -> Tensor:
        return _ops.expand_dims(self, axis)

    unsqueeze = expand_dims

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return _ops.broadcast_to(self, shape)

    def ravel(self) -> Tensor:
        return _ops.ravel(self)

    def flip(self, axis: Any = None) -> Tensor:
        return _ops.flip(self, axis)

    def roll(self, shift: Any, axis: Any = None) -> Tensor:
        return _ops.roll(self, shift, axis)

    def tile(self, reps: Any) -> Tensor:
        """numpy's ``tile`` (PyTorch's ``Tensor.tile``). There is no ``Tensor.repeat``:
        numpy's ``repeat`` and PyTorch's differ; use ``tg.repeat`` or ``tile``."""
        return _ops.tile(self, reps)

    def take(self, indices: Any, axis: int | None = None) -> Tensor:
        return _ops.take(self, indices, axis)

    def argsort(self, axis: int | None = -1, kind: str | None = None) -> Tensor:
        return _ops.argsort(self, axis, kind)

    def sort(self, axis: int = -1, kind: str | None = None) -> None:
        """Sort in place and return None, as ``numpy.ndarray.sort`` (``tg.sort`` returns a
        sorted copy). A gradient flowing through is recorded, as for ``t[i] = v``."""
        if autograd.is_grad_enabled() and self.requires_grad:
            self._record_inplace(lambda old: _ops.sort(old, axis, kind), "sort")
            return
        self._check_writable("sort")
        self._data[...] = _ops.sort(self._data, axis, kind)._data
        self._bump_version()

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return _ops.var(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.prod(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.logsumexp(self, axis=axis, keepdims=keepdims)

    def std(self, axis: Any = None, ddof: float = 0, keepdims: bool = False) -> Tensor:
        return _ops.std(self, axis=axis, ddof=ddof, keepdims=keepdims)

    def cumsum(self, axis: int | None = None) -> Tensor:
        return _ops.cumsum(self, axis)

    def cumprod(self, axis: int | None = None) -> Tensor:
        return _ops.cumprod(self, axis)

    def argmax(self, axis: int | None = None) -> np.ndarray:
        """Indices of the maxima (a plain array: indices carry no gradient)."""
        return np.asarray(self._data.argmax(axis=axis))

    def argmin(self, axis: int | None = None) -> np.ndarray:
        return np.asarray(self._data.argmin(axis=axis))

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def log1p(self) -> Tensor:
        return _ops.log1p(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def sin(self) -> Tensor:
        return _ops.sin(self)

    def cos(self) -> Tensor:
        return _ops.cos(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        return _ops.leaky_relu(self, negative_slope)

    def softplus(self) -> Tensor:
        return _ops.softplus(self)

    def clip(self, a_min: Any = None, a_max: Any = None) -> Tensor:
        return _ops.clip(self, a_min, a_max)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.softmax(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.log_softmax(self, axis=axis)

    def matmul(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)


def _as_array(data: Any, dtype: DTypeLike | None) -> np.ndarray:
    """A new array holding ``data`` (always a copy: the caller keeps theirs)."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        array = np.array(data, dtype=dtype)
    elif isinstance(data, np.ndarray):
        array = data.copy()
    else:
        array = np.array(data)
        if array.dtype.kind == "f" and not isinstance(data, np.generic):
            array = array.astype(get_default_dtype(), copy=False)
    if array.dtype.kind in "cOUSV":
        raise TypeError(
            f"tensor: cannot make a tensor of {array.dtype} data (shape {array.shape}); "
            f"tensorgraph holds real numbers and booleans"
        )
    return array


def _read_only(array: np.ndarray) -> np.ndarray:
    """A view of ``array`` that numpy refuses to write through."""
    if not array.flags.writeable:
        return array
    view = array.view()
    view.flags.writeable = False
    return view


def _compare(ufunc: Callable[..., Any], x: Any, y: Any) -> Tensor:
    a = x._data if isinstance(x, Tensor) else x
    b = y._data if isinstance(y, Tensor) else y
    return autograd._new_tensor(np.asarray(ufunc(a, b)), False, None)


def tensor(data: Any, dtype: DTypeLike | None = None, requires_grad: bool = False) -> Tensor:
    """Make a leaf tensor from array-like ``data`` (see :class:`Tensor` for dtype rules).

    Examples
    --------
    >>> import tensorgraph as tg
    >>> tg.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], dtype=float32, requires_grad=True)
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# The engine's hot paths (apply, backward) refer to Tensor as a module global rather than
# importing it inside each call (about a microsecond per op); bind it now that it exists.
vars(autograd)["Tensor"] = Tensor
autograd._TENSOR_TYPES.add(Tensor)

# Filled in by tensorgraph.ops once every op module is imported (they import this module).
from . import ops as _ops  # noqa: E402

_UFUNCS: dict[Any, Callable[..., Any]] = _ops.UFUNCS
_FUNCTIONS: dict[Any, Callable[..., Any]] = _ops.FUNCTIONS
for _cmp in (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal):
    _UFUNCS[_cmp] = lambda x, y, _f=_cmp: _compare(_f, x, y)
