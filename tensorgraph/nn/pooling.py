r"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` (PyTorch's arguments
and conventions; the math is in :mod:`tensorgraph.ops.pooling`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DomainError
from . import functional_conv as FC
from .module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


def _window(name: str, kernel_size: Any, stride: Any, padding: Any
            ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Checked kernel, stride (default: the kernel) and padding (at most half the kernel)."""
    kernel = FC._ints(kernel_size, 2, name, "kernel_size", 1)
    steps = kernel if stride is None else FC._ints(stride, 2, name, "stride", 1)
    pads = FC._ints(padding, 2, name, "padding", 0)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise DomainError(f"{name}: padding {pads} must be at most half the kernel {kernel}")
    return kernel, steps, pads


class MaxPool2d(Module):
    r"""Max pooling over ``(N, C, H, W)`` input (see
    :func:`tensorgraph.nn.functional.max_pool2d`).

    Parameters
    ----------
    kernel_size : int or pair
    stride : int, pair or None
        Default: ``kernel_size``.
    padding : int or pair
        Padding with :math:`-\infty`, at most half the kernel.
    dilation : int or pair
    return_indices, ceil_mode : bool
        Only False is supported.

    Notes
    -----
    Where several elements of a window tie for its maximum, they share its gradient
    equally; PyTorch gives it all to the first of them. The two agree wherever the
    maximum is unique.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> nn.MaxPool2d(2)(tg.ones((4, 3, 8, 8))).shape
    (4, 3, 4, 4)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        FC._refuse_ceil_mode("MaxPool2d", ceil_mode)
        if return_indices:
            raise DomainError("MaxPool2d: return_indices=True is not supported")
        self.kernel_size, self.stride, self.padding = _window("MaxPool2d", kernel_size, stride,
                                                              padding)
        self.dilation = FC._ints(dilation, 2, "MaxPool2d", "dilation", 1)

    def forward(self, x: Any) -> Any:
        return FC.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}")


class AvgPool2d(Module):
    r"""Average pooling over ``(N, C, H, W)`` input (see
    :func:`tensorgraph.nn.functional.avg_pool2d`).

    Parameters
    ----------
    kernel_size : int or pair
    stride : int, pair or None
        Default: ``kernel_size``.
    padding : int or pair
        Zero padding, at most half the kernel.
    ceil_mode : bool
        Only False is supported.
    count_include_pad : bool
        Divide by ``kH * kW`` (True, PyTorch's default) or by the number of input elements
        in the window (False).
    divisor_override : int, optional
        Divide by this instead.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> nn.AvgPool2d(2)(tg.ones((1, 1, 4, 4))).numpy().ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        FC._refuse_ceil_mode("AvgPool2d", ceil_mode)
        self.kernel_size, self.stride, self.padding = _window("AvgPool2d", kernel_size, stride,
                                                              padding)
        if not isinstance(count_include_pad, (bool, np.bool_)):
            raise DomainError(f"AvgPool2d: count_include_pad must be True or False, got "
                              f"{count_include_pad!r}")
        if divisor_override is not None and (not FC._is_int(divisor_override)
                                             or divisor_override < 1):
            raise DomainError(f"AvgPool2d: divisor_override must be a positive int or None, "
                              f"got {divisor_override!r}")
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x: Any) -> Any:
        return FC.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                             count_include_pad=self.count_include_pad,
                             divisor_override=self.divisor_override)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        if not self.count_include_pad:
            text += ", count_include_pad=False"
        if self.divisor_override is not None:
            text += f", divisor_override={self.divisor_override}"
        return text


class AdaptiveAvgPool2d(Module):
    r"""Average pooling to a fixed output size, whatever the input's (see
    :func:`tensorgraph.nn.functional.adaptive_avg_pool2d`).

    Parameters
    ----------
    output_size : int or pair
        An entry None keeps that axis' input size.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph import nn
    >>> nn.AdaptiveAvgPool2d((1, 1))(tg.ones((2, 8, 5, 7))).shape
    (2, 8, 1, 1)
    """

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        if len(sizes) != 2 or not all(s is None or (FC._is_int(s) and s >= 1) for s in sizes):
            raise DomainError(f"AdaptiveAvgPool2d: output_size must be a positive int or a "
                              f"pair of positive ints (or None), got {output_size!r}")
        self.output_size = tuple(None if s is None else int(s) for s in sizes)

    def forward(self, x: Any) -> Any:
        return FC.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
