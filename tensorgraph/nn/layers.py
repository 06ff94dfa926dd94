r"""Layers: ``Linear``, ``Sequential``, activations as modules, ``Flatten``, ``Identity``,
and ``MLP``, the builder of the L-layer network."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..dtypes import get_default_dtype
from ..errors import DomainError, DTypeError, ShapeError
from ..ops import flatten as _flatten_all
from ..ops import reshape
from . import functional as F
from . import init
from ._checks import check_count, check_real
from .batchnorm import BatchNorm1d
from .dropout import Dropout
from .init import GeneratorLike, get_generator
from .module import Module, Parameter

__all__ = [
    "MLP", "Flatten", "Identity", "LeakyReLU", "Linear", "LogSoftmax", "ReLU", "Sequential",
    "Sigmoid", "Softmax", "Tanh",
]  # fmt: skip


def _float_dtype(dtype: DTypeLike | None, where: str) -> np.dtype:
    result = get_default_dtype() if dtype is None else np.dtype(dtype)
    if result.kind != "f":
        raise TypeError(f"{where}: dtype must be a floating dtype, got {result}")
    return result


class Linear(Module):
    r"""Fully connected layer :math:`y = x W^\top + b`.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
        Learn an additive bias (default True). Not needed before a batch-norm layer,
        whose mean subtraction removes any constant per feature.
    dtype : dtype, optional
        Of the parameters (default: ``tg.get_default_dtype()``, float32 unless changed).
    generator : numpy.random.Generator, int seed or None
        Source of the initial values (None: the library's default generator).

    Attributes
    ----------
    weight : Parameter, shape ``(out_features, in_features)`` (PyTorch's layout)
    bias : Parameter, shape ``(out_features,)``, or None

    Notes
    -----
    The default initialisation is PyTorch's: weight and bias uniform in
    :math:`\pm 1/\sqrt{\text{in\_features}}` (what PyTorch's
    ``kaiming_uniform_(a=sqrt(5))`` amounts to). For ReLU networks He initialisation
    (:func:`tensorgraph.nn.init.kaiming_uniform_`) keeps activations from shrinking
    layer after layer; ``MLP(init="kaiming")`` applies it.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> layer = nn.Linear(3, 2, generator=0)
    >>> layer(tg.ones((5, 3))).shape
    (5, 2)
    >>> layer
    Linear(in_features=3, out_features=2, bias=True)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: DTypeLike | None = None, generator: GeneratorLike = None) -> None:
        super().__init__()
        self.in_features = check_count("Linear", "in_features", in_features)
        self.out_features = check_count("Linear", "out_features", out_features)
        if not isinstance(bias, (bool, np.bool_)):
            raise DTypeError(f"Linear: bias must be True or False, got {bias!r}")
        dt = _float_dtype(dtype, "Linear")
        rng = get_generator(generator)
        bound = 1 / math.sqrt(self.in_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        init.uniform_(self.weight, -bound, bound, rng)
        if bias:
            self.bias: Parameter | None = Parameter(np.empty(self.out_features, dtype=dt))
            init.uniform_(self.bias, -bound, bound, rng)
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Any) -> Any:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Sequential(Module):
    """Modules applied one after the other.

    Built from modules (named ``"0"``, ``"1"``, ...) or from one mapping of names to
    modules. Supports ``len``, iteration, indexing (a slice gives a ``Sequential``) and
    ``append``.

    >>> from tensorgraph import nn
    >>> net = nn.Sequential(nn.Linear(2, 3, generator=0), nn.ReLU())
    >>> len(net), type(net[1]).__name__
    (2, 'ReLU')
    """

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self._add(str(name), module)
        else:
            for i, item in enumerate(modules):
                self._add(str(i), item)

    def _add(self, name: str, module: Any) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: item {name} is a {type(module).__name__}, "
                            f"not a Module")
        self.add_module(name, module)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; return ``self``."""
        self._add(str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return (m for m in self._modules.values() if m is not None)

    def __getitem__(self, index: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(dict(items[index]))  # type: ignore[arg-type]
        if not -len(items) <= index < len(items):
            raise IndexError(f"Sequential: index {index} is out of range for "
                             f"{len(items)} modules")
        return items[index][1]

    def forward(self, x: Any) -> Any:
        for module in self:
            x = module(x)
        return x


class ReLU(Module):
    r""":math:`\max(x, 0)`, elementwise."""

    def forward(self, x: Any) -> Any:
        return F.relu(x)


class LeakyReLU(Module):
    r""":math:`x` for :math:`x > 0`, else :math:`a x` (``negative_slope`` a = 0.01)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = check_real("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, x: Any) -> Any:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    r""":math:`1/(1 + e^{-x})`, elementwise and stable for any x."""

    def forward(self, x: Any) -> Any:
        return F.sigmoid(x)


class Tanh(Module):
    r""":math:`\tanh x`, elementwise."""

    def forward(self, x: Any) -> Any:
        return F.tanh(x)


class _AlongDim(Module):
    """An activation applied along one axis, ``dim`` (PyTorch's argument name).

    The default is the last axis, ``-1``. PyTorch's default, ``dim=None``, is its
    deprecated implicit choice; passed explicitly here it does the same, so results agree:
    axis 0 for 0-, 1- and 3-d input, axis 1 otherwise, with PyTorch's ``UserWarning``
    asking for an explicit ``dim``. For 1-d and 2-d input the two defaults pick the same
    axis; for 3-d and 4-d input they differ, which is why an explicit ``dim`` is best.
    """

    def __init__(self, dim: int | None = -1) -> None:
        super().__init__()
        if dim is not None and (isinstance(dim, (bool, np.bool_))
                                or not isinstance(dim, (int, np.integer))):
            raise TypeError(f"{type(self).__name__}: dim must be an int or None, got {dim!r}")
        self.dim = None if dim is None else int(dim)

    def _axis(self, x: Any) -> int:
        if self.dim is not None:
            return self.dim
        ndim = len(x.shape)
        name = type(self).__name__.lower()
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated (as in "
                      f"PyTorch). Change the call to include dim=X as an argument.",
                      UserWarning, stacklevel=3)
        return 0 if ndim in (0, 1, 3) else 1

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_AlongDim):
    r"""Softmax along ``dim`` (default the last axis), stable for any input (``dim=None``:
    PyTorch's implicit, deprecated choice, with its warning)."""

    def forward(self, x: Any) -> Any:
        return F.softmax(x, axis=self._axis(x))


class LogSoftmax(_AlongDim):
    r"""Log-softmax along ``dim`` (default the last axis), stable for any input
    (``dim=None``: PyTorch's implicit, deprecated choice, with its warning)."""

    def forward(self, x: Any) -> Any:
        return F.log_softmax(x, axis=self._axis(x))


class Flatten(Module):
    """Flatten axes ``start_dim`` to ``end_dim`` into one (PyTorch's defaults: all but the
    batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x: Any) -> Any:
        shape = tuple(x.shape)
        if not shape:
            return _flatten_all(x)
        start, end = self.start_dim % len(shape), self.end_dim % len(shape)
        if not (-len(shape) <= self.start_dim < len(shape)
                and -len(shape) <= self.end_dim < len(shape)) or start > end:
            raise ShapeError(f"Flatten: start_dim={self.start_dim}, end_dim={self.end_dim} "
                             f"do not fit input of shape {shape}")
        middle = math.prod(shape[start:end + 1])
        return reshape(x, (*shape[:start], middle, *shape[end + 1:]))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, x: Any) -> Any:
        return x


_ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh,
}
_OUTPUTS: dict[str | None, Any] = {
    None: None, "sigmoid": Sigmoid, "softmax": lambda: Softmax(-1),
    "log_softmax": lambda: LogSoftmax(-1),
}


class MLP(Sequential):
    r"""The L-layer fully connected network, as a :class:`Sequential`.

    For each hidden layer: ``Linear`` (without bias when batch-norm follows: the
    normalisation removes it) -> ``BatchNorm1d`` (if ``batch_norm``) -> activation ->
    ``Dropout`` (if ``dropout > 0``). Then the output ``Linear`` (with bias) and the output
    activation.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``[2, 16, 16, 1]``: at least two.
    activation : {'relu', 'leaky_relu', 'tanh', 'sigmoid'}
    batch_norm : bool
    dropout : float
        Dropout probability after each hidden activation, in ``[0, 1)``.
    output : {None, 'sigmoid', 'softmax', 'log_softmax'}
        The output activation. **With None the model returns logits**, which is what
        :func:`~tensorgraph.nn.functional.binary_cross_entropy_with_logits` and
        :func:`~tensorgraph.nn.functional.cross_entropy` expect, and the recommended,
        numerically stable path for training; apply ``sigmoid``/``softmax`` to the logits
        to read probabilities. ``'sigmoid'`` (the default, the classic formulation) pairs
        with ``BCELoss``, ``'log_softmax'`` with ``NLLLoss``.
    bias : bool
        Bias in hidden ``Linear`` layers not followed by batch-norm (default True).
    init : {'default', 'kaiming', 'xavier'}
        ``'default'`` keeps ``Linear``'s PyTorch initialisation; ``'kaiming'`` (He) suits
        ReLU-family activations, ``'xavier'`` (Glorot) tanh/sigmoid. Biases start at 0 with
        either of the latter.
    dtype : dtype, optional
    generator : numpy.random.Generator, int seed or None
        One generator serves every layer's initialisation and every dropout mask, so a
        seed makes the whole model reproducible.

    Examples
    --------
    >>> from tensorgraph import nn
    >>> nn.MLP([2, 8, 1], batch_norm=True, dropout=0.1, output=None, generator=0)
    MLP(
      (0): Linear(in_features=2, out_features=8, bias=False)
      (1): BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
      (2): ReLU()
      (3): Dropout(p=0.1)
      (4): Linear(in_features=8, out_features=1, bias=True)
    )
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu",
                 batch_norm: bool = False, dropout: float = 0.0,
                 output: str | None = "sigmoid", bias: bool = True, init: str = "default",
                 dtype: DTypeLike | None = None, generator: GeneratorLike = None) -> None:
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2:
            raise DomainError(f"MLP: sizes needs at least an input and an output width, "
                              f"got {sizes}")
        if activation not in _ACTIVATIONS:
            raise DomainError(f"MLP: activation must be one of {sorted(_ACTIVATIONS)}, "
                              f"got {activation!r}")
        if output not in _OUTPUTS:
            raise DomainError(f"MLP: output must be one of {list(_OUTPUTS)}, got {output!r}")
        if output in ("softmax", "log_softmax") and sizes[-1] == 1:
            raise DomainError(f"MLP: a {output} over one output unit is constant (always "
                              f"{'1' if output == 'softmax' else '0'}); use output='sigmoid' "
                              f"for one unit, or two units for two classes")
        if init not in ("default", "kaiming", "xavier"):
            raise DomainError(f"MLP: init must be 'default', 'kaiming' or 'xavier', "
                              f"got {init!r}")
        try:
            dropout = check_real("MLP", "dropout", dropout, low=0.0, high=1.0, high_open=True)
        except (DomainError, DTypeError):
            raise DomainError(f"MLP: dropout must be in [0, 1), got {dropout!r}") from None
        sizes = [check_count("MLP", f"sizes[{i}]", n) for i, n in enumerate(sizes)]
        rng = get_generator(generator)
        layers: list[tuple[Linear, str]] = []
        for n_in, n_out in itertools.pairwise(sizes[:-1]):
            linear = Linear(n_in, n_out, bias=bias and not batch_norm, dtype=dtype,
                            generator=rng)
            self.append(linear)
            layers.append((linear, activation))
            if batch_norm:
                self.append(BatchNorm1d(n_out, dtype=dtype))
            self.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                self.append(Dropout(dropout, generator=rng))
        last = Linear(sizes[-2], sizes[-1], dtype=dtype, generator=rng)
        self.append(last)
        layers.append((last, "linear"))  # output activations have gain 1
        if _OUTPUTS[output] is not None:
            self.append(_OUTPUTS[output]())
        for layer, nonlinearity in layers if init != "default" else []:
            if init == "kaiming":
                slope = 0.01 if nonlinearity == "leaky_relu" else 0.0
                _init.kaiming_uniform_(layer.weight, slope, nonlinearity=nonlinearity,
                                       generator=rng)
            else:
                _init.xavier_uniform_(layer.weight, _init.calculate_gain(nonlinearity),
                                      generator=rng)
            if layer.bias is not None:
                _init.zeros_(layer.bias)


_init = init  # the module, under a name MLP's ``init`` argument does not shadow


class Unflatten(Module):
    """Split axis ``dim`` of the input into the axes ``unflattened_size`` (PyTorch's
    ``nn.Unflatten``): the inverse of :class:`Flatten`.

    Parameters
    ----------
    dim : int
        The axis to split; negative counts from the end, as in PyTorch.
    unflattened_size : tuple or list of int
        The sizes that replace axis ``dim``; their product must be that axis' length. One of
        them may be ``-1``, inferred from the others (as ``Tensor.unflatten`` does).

    Raises
    ------
    TypeError
        ``dim`` is not an int, or ``unflattened_size`` is not a tuple or list of ints.
    DomainError
        A size is 0 or negative other than one ``-1``.
    ShapeError
        In ``forward``: ``dim`` is not an axis of the input, or the sizes do not multiply to
        its length.

    Examples
    --------
    >>> import numpy as np
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> nn.Unflatten(1, (1, 8, 8))(tg.tensor(np.zeros((5, 64)))).shape
    (5, 1, 8, 8)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
            raise DTypeError(f"Unflatten: dim must be an int, got {dim!r}")
        if not isinstance(unflattened_size, tuple | list) or not all(
            isinstance(s, int | np.integer) and not isinstance(s, bool)
            for s in unflattened_size
        ):
            raise DTypeError("Unflatten: unflattened_size must be a tuple or list of ints, "
                             f"got {unflattened_size!r}")
        sizes = tuple(int(s) for s in unflattened_size)
        if not sizes:
            raise DomainError("Unflatten: unflattened_size must name at least one size, got ()")
        if sizes.count(-1) > 1 or any(s < 1 and s != -1 for s in sizes):
            raise DomainError("Unflatten: unflattened_size must be positive sizes with at most "
                              f"one -1 (inferred), got {sizes}")
        self.dim = int(dim)
        self.unflattened_size = sizes

    def forward(self, x: Any) -> Any:
        shape = tuple(x.shape)
        if not -len(shape) <= self.dim < len(shape):
            raise ShapeError(f"Unflatten: dim={self.dim} is not an axis of input of shape "
                             f"{shape}")
        axis = self.dim % len(shape)
        length, sizes = shape[axis], self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes:
            if length % known:
                raise ShapeError(f"Unflatten: cannot split axis {self.dim} of length {length} "
                                 f"(input shape {shape}) into {sizes}")
            sizes = tuple(length // known if s == -1 else s for s in sizes)
        elif known != length:
            raise ShapeError(f"Unflatten: unflattened_size {sizes} has {known} elements, but "
                             f"axis {self.dim} of input of shape {shape} has {length}")
        return reshape(x, (*shape[:axis], *sizes, *shape[axis + 1:]))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


__all__ += ["Unflatten"]
