r"""Convolution layers: ``Conv1d`` and ``Conv2d``, with PyTorch's arguments, layout and
initialisation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..errors import DomainError, DTypeError, ShapeError
from . import functional_conv as FC
from . import init
from ._checks import check_count
from .init import GeneratorLike, get_generator
from .layers import _float_dtype
from .module import Module, Parameter

__all__ = ["Conv1d", "Conv2d"]


class _ConvNd(Module):
    """What ``Conv1d`` and ``Conv2d`` share: arguments, parameters, initialisation."""

    rank = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: DTypeLike | None = None,
                 generator: GeneratorLike = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels = check_count(name, "in_channels", in_channels)
        self.out_channels = check_count(name, "out_channels", out_channels)
        self.groups = check_count(name, "groups", groups)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise DomainError(f"{name}: groups={self.groups} must divide in_channels="
                              f"{self.in_channels} and out_channels={self.out_channels}")
        self.kernel_size = FC._ints(kernel_size, self.rank, name, "kernel_size", 1)
        self.stride = FC._ints(stride, self.rank, name, "stride", 1)
        self.dilation = FC._ints(dilation, self.rank, name, "dilation", 1)
        self.padding: str | tuple[int, ...]
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise DomainError(f"{name}: padding must be an int, a tuple of ints, 'same' "
                                  f"or 'valid', got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise DomainError(f"{name}: padding='same' needs stride 1, got stride "
                                  f"{self.stride}")
            self.padding = padding
        else:
            self.padding = FC._ints(padding, self.rank, name, "padding", 0)
        if padding_mode != "zeros":
            raise DomainError(f"{name}: padding_mode={padding_mode!r} is not supported (only "
                              f"'zeros')")
        if not isinstance(bias, (bool, np.bool_)):
            raise DTypeError(f"{name}: bias must be True or False, got {bias!r}")
        dt = _float_dtype(dtype, name)
        rng = get_generator(generator)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dt))
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)), i.e. U(+-1/sqrt(fan_in)), and the
        # bias uniform within the same bound
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        if bias:
            fan_in = init.calculate_fan_in_and_fan_out(self.weight)[0]
            bound = 1 / math.sqrt(fan_in)
            self.bias: Parameter | None = Parameter(np.empty(self.out_channels, dtype=dt))
            init.uniform_(self.bias, -bound, bound, rng)
        else:
            self.register_parameter("bias", None)

    def _convolve(self, x: Any) -> Any:
        raise NotImplementedError

    def forward(self, x: Any) -> Any:
        shape = tuple(getattr(x, "shape", np.shape(x)))
        name = type(self).__name__
        if len(shape) not in (self.rank + 1, self.rank + 2):
            raise ShapeError(f"{name}({self.extra_repr()}): expected {self.rank + 2}-d "
                             f"{FC._LAYOUT[self.rank]} or {self.rank + 1}-d unbatched input, "
                             f"got shape {shape}")
        channels = shape[-self.rank - 1]
        if channels != self.in_channels:
            raise ShapeError(f"{name}({self.extra_repr()}): expected input with "
                             f"{self.in_channels} channels, got shape {shape}")
        try:
            return self._convolve(x)
        except ShapeError as err:  # the kernel does not fit: say which layer
            raise ShapeError(f"{name}({self.extra_repr()}): {err}") from None

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * self.rank:
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * self.rank:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    r"""1-d convolution layer over ``(N, C_in, L)`` input (see
    :func:`tensorgraph.nn.functional.conv1d`).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or 1-tuple
    stride, dilation : int or 1-tuple
    padding : int, 1-tuple, ``"same"`` or ``"valid"``
    groups : int
        Must divide both channel counts.
    bias : bool
    padding_mode : ``"zeros"`` (the only mode supported)
    dtype : dtype, optional
    generator : numpy.random.Generator, int seed or None

    Attributes
    ----------
    weight : Parameter, shape ``(out_channels, in_channels / groups, kernel_size)``
    bias : Parameter, shape ``(out_channels,)``, or None

    Notes
    -----
    PyTorch's initialisation: ``kaiming_uniform_(weight, a=sqrt(5))``, which is
    :math:`U(\pm 1/\sqrt{\text{fan\_in}})` with
    :math:`\text{fan\_in} = \text{in\_channels}/\text{groups} \cdot \text{kernel\_size}`,
    and the bias uniform within the same bound.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> nn.Conv1d(2, 4, 3, padding="same", generator=0)(tg.ones((5, 2, 10))).shape
    (5, 4, 10)
    """

    rank = 1

    def _convolve(self, x: Any) -> Any:
        return FC.conv1d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups)


class Conv2d(_ConvNd):
    r"""2-d convolution layer over ``(N, C_in, H, W)`` input (see
    :func:`tensorgraph.nn.functional.conv2d`).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or pair
    stride, dilation : int or pair
    padding : int, pair, ``"same"`` or ``"valid"``
    groups : int
        Must divide both channel counts (``groups = in_channels``: depthwise).
    bias : bool
    padding_mode : ``"zeros"`` (the only mode supported)
    dtype : dtype, optional
    generator : numpy.random.Generator, int seed or None

    Attributes
    ----------
    weight : Parameter, shape ``(out_channels, in_channels / groups, kH, kW)``
    bias : Parameter, shape ``(out_channels,)``, or None

    Notes
    -----
    PyTorch's initialisation: ``kaiming_uniform_(weight, a=sqrt(5))``, which is
    :math:`U(\pm 1/\sqrt{\text{fan\_in}})` with
    :math:`\text{fan\_in} = \text{in\_channels}/\text{groups} \cdot kH \cdot kW`, and the
    bias uniform within the same bound.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> conv = nn.Conv2d(1, 16, 3, generator=0)
    >>> conv(tg.ones((64, 1, 8, 8))).shape
    (64, 16, 6, 6)
    >>> conv
    Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))
    """

    rank = 2

    def _convolve(self, x: Any) -> Any:
        return FC.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                         self.groups)
