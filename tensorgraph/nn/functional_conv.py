r"""Convolution and pooling functions, with PyTorch's names, signatures and conventions.

Imported into :mod:`tensorgraph.nn.functional` (``F.conv2d``, ``F.max_pool2d``, ...). Each
checks its arguments, normalises them (ints to tuples, ``padding="same"`` to the padding
before and after each axis) and applies one fused op of :mod:`tensorgraph.ops.conv` or
:mod:`tensorgraph.ops.pooling`. Input is batched ``(N, C, *spatial)`` or, as in PyTorch,
unbatched ``(C, *spatial)``. A wrong rank, a channel count that does not fit the weight,
``groups`` that does not divide the channels, or a kernel larger than the padded input raise
:class:`~tensorgraph.errors.ShapeError`; out-of-range hyper-parameters
:class:`~tensorgraph.errors.DomainError`; both name the function and the shapes.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from ..errors import DomainError, ShapeError
from ..ops import conv as _conv
from ..ops import pooling as _pool
from ..ops._windows import Pairs, out_size

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "conv1d", "conv2d", "max_pool2d"]

_LAYOUT = {1: "(N, C, L)", 2: "(N, C, H, W)"}
_UNBATCHED = {1: "(C, L)", 2: "(C, H, W)"}


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _ints(value: Any, rank: int, name: str, what: str, low: int) -> tuple[int, ...]:
    """An int or a sequence of ``rank`` ints, each >= ``low``, as a tuple."""
    items = (value,) * rank if _is_int(value) else value
    if not isinstance(items, (tuple, list)) or len(items) != rank or \
            not all(_is_int(v) for v in items):
        raise DomainError(f"{name}: {what} must be an int or a tuple of {rank} ints, "
                          f"got {value!r}")
    if any(v < low for v in items):
        raise DomainError(f"{name}: {what} must be >= {low}, got {value!r}")
    return tuple(int(v) for v in items)


def _batched(x: Any, rank: int, name: str) -> tuple[Any, bool]:
    """``x`` with a batch axis (added for unbatched input), and whether one was added."""
    shape = _shape(x)
    if len(shape) == rank + 2:
        return x, False
    if len(shape) == rank + 1:
        return x.reshape((1, *shape)), True
    raise ShapeError(f"{name}: expected {rank + 1}-d {_UNBATCHED[rank]} or {rank + 2}-d "
                     f"{_LAYOUT[rank]} input, got shape {shape}")


def _unbatched(y: Any, added: bool) -> Any:
    return y.reshape(y.shape[1:]) if added else y


def _fits(name: str, shape: tuple[int, ...], kernel: tuple[int, ...],
          stride: tuple[int, ...], padding: Pairs, dilation: tuple[int, ...]) -> None:
    """Refuse a window that does not fit in the padded input, naming every size."""
    spatial = shape[2:]
    if all(out_size(*a) >= 1 for a in zip(spatial, kernel, stride, padding, dilation)):
        return
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, padding))
    raise ShapeError(f"{name}: the kernel {kernel} (dilation {dilation}, so it spans {span}) "
                     f"is larger than the padded input {padded} (input shape {shape}, padding "
                     f"{tuple(lo for lo, _ in padding)})")


# --------------------------------------------------------------------------- convolution
def _conv_padding(padding: Any, kernel: tuple[int, ...], dilation: tuple[int, ...],
                  stride: tuple[int, ...], name: str) -> Pairs:
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * len(kernel)
        if padding != "same":
            raise DomainError(f"{name}: padding must be an int, a tuple of ints, 'same' or "
                              f"'valid', got {padding!r}")
        if any(s != 1 for s in stride):
            raise DomainError(f"{name}: padding='same' needs stride 1, got stride {stride}")
        # PyTorch's split: an odd total puts the extra element after
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _ints(padding, len(kernel), name, "padding", 0))


def _convolve(rank: int, op: Any, input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
          dilation: Any, groups: Any) -> Any:
    name = f"conv{rank}d"
    x, added = _batched(input, rank, name)
    xs, ws = _shape(x), _shape(weight)
    if len(ws) != rank + 2:
        kernel_names = "kL" if rank == 1 else "kH, kW"
        raise ShapeError(f"{name}: weight must be {rank + 2}-d (out_channels, "
                         f"in_channels / groups, {kernel_names}), got shape {ws}")
    if not _is_int(groups) or groups < 1:
        raise DomainError(f"{name}: groups must be a positive int, got {groups!r}")
    groups = int(groups)
    channels, out_channels = xs[1], ws[0]
    if channels % groups or out_channels % groups:
        raise ShapeError(f"{name}: groups={groups} must divide both the input channels "
                         f"({channels}, input shape {_shape(input)}) and the output channels "
                         f"({out_channels}, weight shape {ws})")
    if ws[1] * groups != channels:
        raise ShapeError(f"{name}: the input {_shape(input)} has {channels} channels but the "
                         f"weight {ws} expects {ws[1] * groups} (in_channels / groups = "
                         f"{ws[1]} times groups = {groups})")
    if bias is not None and _shape(bias) != (out_channels,):
        raise ShapeError(f"{name}: bias must have shape ({out_channels},) to match the weight "
                         f"{ws}, got {_shape(bias)}")
    kernel = tuple(ws[2:])
    if any(k < 1 for k in kernel):
        raise ShapeError(f"{name}: the weight {ws} has an empty kernel")
    stride_t = _ints(stride, rank, name, "stride", 1)
    dilation_t = _ints(dilation, rank, name, "dilation", 1)
    pairs = _conv_padding(padding, kernel, dilation_t, stride_t, name)
    _fits(name, xs, kernel, stride_t, pairs, dilation_t)
    y = op.apply(x, weight, bias, stride=stride_t, padding=pairs, dilation=dilation_t,
                 groups=groups)
    return _unbatched(y, added)


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Any:
    r"""1-d convolution (cross-correlation, as PyTorch) of ``(N, C, L)`` input.

    .. math:: y[n, o, p] = b[o] + \sum_{c, k} w[o, c, k]\, x_p[n, c, p s + k d]

    Parameters
    ----------
    input : Tensor, shape ``(N, C, L)`` or ``(C, L)``
    weight : Tensor, shape ``(O, C / groups, K)``
    bias : Tensor of shape ``(O,)``, optional
    stride, dilation : int or 1-tuple
    padding : int, 1-tuple, ``"valid"`` (0) or ``"same"`` (output length = input length;
        stride 1 only; an odd total pads one more after)
    groups : int
        Split the channels into ``groups`` independent convolutions.

    Returns
    -------
    Tensor, shape ``(N, O, P)`` with ``P = (L + 2 pad - d (K - 1) - 1) // s + 1``.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> F.conv1d(tg.ones((1, 1, 5)), tg.ones((2, 1, 3)), padding="same").shape
    (1, 2, 5)
    """
    return _convolve(1, _conv.Conv1d, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Any:
    r"""2-d convolution (cross-correlation, as PyTorch) of ``(N, C, H, W)`` input.

    .. math:: y[n, o, i, j] = b[o] + \sum_{c, k, l} w[o, c, k, l]\,
              x_p[n, c, i s_h + k d_h, j s_w + l d_w]

    Parameters
    ----------
    input : Tensor, shape ``(N, C, H, W)`` or ``(C, H, W)``
    weight : Tensor, shape ``(O, C / groups, kH, kW)`` (PyTorch's layout)
    bias : Tensor of shape ``(O,)``, optional
    stride, dilation : int or pair of ints
    padding : int, pair, ``"valid"`` (0) or ``"same"`` (output size = input size; stride 1
        only; an odd total pads one more after, as PyTorch)
    groups : int
        Split the channels into ``groups`` independent convolutions (``groups = C`` is a
        depthwise convolution).

    Returns
    -------
    Tensor, shape ``(N, O, H_out, W_out)``, ``H_out = (H + 2 pad - d (kH - 1) - 1) // s + 1``.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> F.conv2d(tg.ones((2, 3, 8, 8)), tg.ones((4, 3, 3, 3)), stride=2, padding=1).shape
    (2, 4, 4, 4)
    """
    return _convolve(2, _conv.Conv2d, input, weight, bias, stride, padding, dilation, groups)


# --------------------------------------------------------------------------- pooling
def _pool_window(name: str, shape: tuple[int, ...], kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any = 1) -> dict[str, Any]:
    kernel = _ints(kernel_size, 2, name, "kernel_size", 1)
    steps = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else _ints(stride, 2, name, "stride", 1)
    pads = _ints(padding, 2, name, "padding", 0)
    dilations = _ints(dilation, 2, name, "dilation", 1)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise DomainError(f"{name}: padding {pads} must be at most half the kernel "
                          f"{kernel} (PyTorch's rule)")
    pairs = tuple((p, p) for p in pads)
    _fits(name, shape, kernel, steps, pairs, dilations)
    return {"kernel_size": kernel, "stride": steps, "padding": pairs, "dilation": dilations}


def _refuse_ceil_mode(name: str, ceil_mode: bool) -> None:
    if ceil_mode:
        raise DomainError(f"{name}: ceil_mode=True is not supported (only PyTorch's default "
                          f"floor rule for the output size)")


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    r"""2-d max pooling of ``(N, C, H, W)`` input, padded with :math:`-\infty`.

    .. math:: y[n, c, i, j] = \max_{k, l}\, x_p[n, c, i s_h + k d_h, j s_w + l d_w]

    ``stride`` defaults to ``kernel_size``; ``padding`` is at most half the kernel (as
    PyTorch). Where elements of a window tie for its maximum, the gradient is shared equally
    among them (PyTorch gives it all to the first); see
    :class:`~tensorgraph.ops.pooling.MaxPool2d`. A dilated window lying wholly in the
    padding gives ``-inf``, as in PyTorch. ``ceil_mode`` and ``return_indices`` are not
    supported (refused if True).

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> F.max_pool2d(tg.arange(16.0).reshape(1, 1, 4, 4), 2).numpy().ravel().tolist()
    [5.0, 7.0, 13.0, 15.0]
    """
    name = "max_pool2d"
    _refuse_ceil_mode(name, ceil_mode)
    if return_indices:
        raise DomainError(f"{name}: return_indices=True is not supported")
    x, added = _batched(input, 2, name)
    params = _pool_window(name, _shape(x), kernel_size, stride, padding, dilation)
    return _unbatched(_pool.MaxPool2d.apply(x, **params), added)


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Any:
    r"""2-d average pooling of ``(N, C, H, W)`` input, padded with 0.

    .. math:: y[n, c, i, j] = \frac1D \sum_{k, l} x_p[n, c, i s_h + k, j s_w + l]

    :math:`D` is ``kH * kW`` with ``count_include_pad=True`` (PyTorch's default: the
    padding's zeros count), else the number of input elements in the window;
    ``divisor_override`` replaces it. ``stride`` defaults to ``kernel_size``.

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> F.avg_pool2d(tg.ones((1, 1, 2, 2)), 2, stride=1, padding=1).numpy().ravel().tolist()
    [0.25, 0.5, 0.25, 0.5, 1.0, 0.5, 0.25, 0.5, 0.25]
    """
    name = "avg_pool2d"
    _refuse_ceil_mode(name, ceil_mode)
    if not isinstance(count_include_pad, (bool, np.bool_)):
        raise DomainError(f"{name}: count_include_pad must be True or False, "
                          f"got {count_include_pad!r}")
    if divisor_override is not None and (not _is_int(divisor_override)
                                         or divisor_override < 1):
        raise DomainError(f"{name}: divisor_override must be a positive int or None, "
                          f"got {divisor_override!r}")
    x, added = _batched(input, 2, name)
    params = _pool_window(name, _shape(x), kernel_size, stride, padding)
    del params["dilation"]
    y = _pool.AvgPool2d.apply(x, **params, count_include_pad=bool(count_include_pad),
                              divisor_override=None if divisor_override is None
                              else int(divisor_override))
    return _unbatched(y, added)


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    r"""Average pooling to a given output size, with PyTorch's windows.

    Output row :math:`i` of :math:`h_o` averages input rows
    :math:`\lfloor i H / h_o \rfloor` to :math:`\lceil (i + 1) H / h_o \rceil` (end
    excluded), and the same for columns; ``output_size`` is an int, a pair, or a pair with
    None for "the input's size".

    Examples
    --------
    >>> import tensorgraph as tg
    >>> from tensorgraph.nn import functional as F
    >>> F.adaptive_avg_pool2d(tg.ones((2, 3, 5, 7)), 1).shape
    (2, 3, 1, 1)
    """
    name = "adaptive_avg_pool2d"
    x, added = _batched(input, 2, name)
    shape = _shape(x)
    if any(n == 0 for n in shape[2:]):
        raise ShapeError(f"{name}: the input {_shape(input)} has an empty spatial axis")
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    if len(sizes) != 2:
        raise DomainError(f"{name}: output_size must be an int or a pair, got {output_size!r}")
    filled = tuple(n if s is None else s for s, n in zip(sizes, shape[2:]))
    out = _ints(filled, 2, name, "output_size", 1)
    return _unbatched(_pool.AdaptiveAvgPool2d.apply(x, output_size=out), added)
