r"""Weight initialisers, with PyTorch's names and formulas and an explicit random generator.

Every function fills a tensor in place (outside the graph), returns it, and draws from the
``generator`` it is given: a ``numpy.random.Generator``, an int seed, or None for
:data:`tensorgraph.creation.default_generator` (reseeded by ``tg.manual_seed``). Values are
drawn in float64 and then cast, so the same seed gives the same model in any dtype.

For a weight of shape ``(out, in, *k)``: :math:`\text{fan\_in} = \text{in} \cdot \prod k`,
:math:`\text{fan\_out} = \text{out} \cdot \prod k`.

=========================  ==========================================================
``kaiming_uniform_``       :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{3/\text{fan}}`
``kaiming_normal_``        :math:`N(0, s^2)`, :math:`s = \text{gain}/\sqrt{\text{fan}}`
``xavier_uniform_``        :math:`U(-b, b)`,
                           :math:`b = \text{gain}\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`
``xavier_normal_``         :math:`N(0, s^2)`,
                           :math:`s = \text{gain}\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`
=========================  ==========================================================

He et al. (2015), *Delving deep into rectifiers*; Glorot & Bengio (2010), *Understanding
the difficulty of training deep feedforward neural networks*.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import creation
from ..errors import DomainError, ShapeError
from ..tensor import Tensor

__all__ = [
    "calculate_fan_in_and_fan_out", "calculate_gain", "constant_", "get_generator",
    "kaiming_normal_", "kaiming_uniform_", "normal_", "ones_", "uniform_", "xavier_normal_",
    "xavier_uniform_", "zeros_",
]  # fmt: skip

GeneratorLike = np.random.Generator | int | None


def get_generator(generator: GeneratorLike) -> np.random.Generator:
    """Return ``generator`` itself, a new generator seeded with an int, or (for None) the
    library's :data:`~tensorgraph.creation.default_generator`."""
    if generator is None:
        return creation.default_generator
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be a numpy.random.Generator, an int seed or None, "
                    f"got {type(generator).__name__}")


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into ``tensor``'s array in place (no graph) and bump its version."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: expected a Tensor, got {type(tensor).__name__}")
    if not tensor._data.flags.writeable:  # the user's read-only array: the tensor gets its own
        tensor._data = np.array(tensor._data, copy=True)
    np.copyto(tensor._data, values, casting="unsafe")
    tensor._bump_version()
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended scale of the weights for a non-linearity (PyTorch's table).

    ==================  =====================================
    linear, sigmoid     1
    tanh                5/3
    relu                :math:`\sqrt2`
    leaky_relu          :math:`\sqrt{2/(1 + a^2)}` (a = param, default 0.01)
    selu                3/4
    ==================  =====================================

    >>> round(calculate_gain("relu"), 6)
    1.414214
    """
    if nonlinearity in ("linear", "identity", "sigmoid") or nonlinearity.startswith("conv"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise TypeError(f"calculate_gain: negative slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise DomainError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; expected one "
                      f"of linear, sigmoid, tanh, relu, leaky_relu, selu")


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """Return ``(fan_in, fan_out)`` of a weight shaped ``(out, in, *kernel)``."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ShapeError(f"nn.init: fan in and fan out need a tensor with at least 2 "
                         f"dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise DomainError(f"nn.init: mode must be 'fan_in' or 'fan_out', got {mode!r}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: GeneratorLike = None) -> Tensor:
    """Fill with samples of :math:`U(a, b)`."""
    if a > b:
        raise DomainError(f"uniform_: lower bound a={a} is greater than b={b}")
    return _fill(tensor, get_generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: GeneratorLike = None) -> Tensor:
    """Fill with samples of :math:`N(\\text{mean}, \\text{std}^2)`."""
    if std < 0:
        raise DomainError(f"normal_: std must be >= 0, got {std}")
    return _fill(tensor, get_generator(generator).normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return _fill(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return _fill(tensor, 1.0)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: GeneratorLike = None
                     ) -> Tensor:
    r"""He initialisation, uniform: :math:`U(-b, b)` with
    :math:`b = \text{gain} \sqrt{3 / \text{fan}}` (``gain = calculate_gain(nonlinearity,
    a)``; the defaults give :math:`\sqrt2`, right for ReLU)."""
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: GeneratorLike = None
                    ) -> Tensor:
    r"""He initialisation, normal: :math:`N(0, s^2)` with
    :math:`s = \text{gain} / \sqrt{\text{fan}}`."""
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_fan(tensor, mode)), generator)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: GeneratorLike = None) -> Tensor:
    r"""Glorot initialisation, uniform: :math:`U(-b, b)` with
    :math:`b = \text{gain}\sqrt{6 / (\text{fan\_in} + \text{fan\_out})}`; for sigmoid/tanh."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: GeneratorLike = None) -> Tensor:
    r"""Glorot initialisation, normal: :math:`N(0, s^2)` with
    :math:`s = \text{gain}\sqrt{2 / (\text{fan\_in} + \text{fan\_out})}`."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def embedding_normal_(tensor: Tensor, padding_idx: int | None = None,
                      generator: np.random.Generator | int | None = None) -> Tensor:
    r"""Fill an embedding table ``(num_embeddings, embedding_dim)`` from :math:`N(0, 1)`
    and zero the row ``padding_idx`` (if given): PyTorch's ``Embedding.reset_parameters``.

    >>> import numpy as np, tensorgraph as tg
    >>> from tensorgraph.nn import init
    >>> w = init.embedding_normal_(tg.zeros((3, 2)), padding_idx=1, generator=0)
    >>> w.numpy()[1].tolist()
    [0.0, 0.0]
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: expected a Tensor, got {type(tensor).__name__}")
    if tensor.ndim != 2:
        raise ShapeError(f"embedding_normal_: expected a 2-d table (num_embeddings, "
                         f"embedding_dim), got shape {tensor.shape}")
    values = get_generator(generator).standard_normal(tensor.shape)
    if padding_idx is not None:
        values[padding_idx] = 0.0
    return _fill(tensor, values)


__all__ += ["embedding_normal_"]
