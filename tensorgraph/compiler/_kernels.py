"""Replay kernels: the hot steps of a training step, writing into buffers they own.

A kernel replaces one recorded step (an op's forward or VJP, the dropout mask draw) by the
*same arithmetic* written with numpy's ``out=`` arguments and in-place operators, into
arrays it allocates once and keeps. Each kernel belongs to one step of one plan, so its
arrays are written only by that step: a value computed in one replay is read by the later
steps of the same replay and overwritten by the next replay's same step. That is safe for
every value that does not outlive a replay, which is why a plan only installs a kernel on
a step whose outputs are not *pinned* (returned to the caller or kept as a gradient).

The results are bit for bit those of the eager code: the same operations on the same
values in the same order (``a * b`` and ``b *= a`` round alike; a sum over the same
contiguous values reduces alike); the compiled-vs-eager tests pin it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..nn.init import get_generator
from ..ops import elementwise, nn_ops

__all__ = ["kernel_for"]


class _Kernel:
    """A step function writing its result into ``into`` (a buffer the plan planned by
    liveness; None: a fresh array, as eagerly) and its temporaries into scratch arrays."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype,
                 scratch: dict[Any, Any]) -> None:
        self.shape, self.dtype = shape, dtype
        #: temporaries, shared by every kernel of a plan: they never outlive one call
        self.scratch = scratch
        #: arrays of this kernel alone, for values read by later steps of the same replay
        self.private: dict[str, np.ndarray] = {}

    @staticmethod
    def owned(value: Any) -> list[Any]:
        """The parts of a step's traced result kept in :attr:`private` arrays (they must not
        outlive a replay)."""
        return []

    def result(self, into: Any) -> np.ndarray:
        return np.empty(self.shape, self.dtype) if into is None else into

    def buf(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        key = (name, shape, np.dtype(dtype).str)
        b = self.scratch.get(key)
        if b is None:
            b = self.scratch[key] = np.empty(shape, dtype)
        return b

    def own(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        b = self.private.get(name)
        if b is None:
            b = self.private[name] = np.empty(shape, dtype)
        return b


class _LinearForward(_Kernel):
    def __call__(self, x: Any, weight: Any, bias: Any = None, *, into: Any = None) -> Any:
        out = np.matmul(x, weight.T, out=self.result(into))
        if bias is not None:
            out += bias
        return out


class _MatmulGradWeight(_Kernel):
    """``Linear.vjp_0``: ``grad @ weight``."""

    def __call__(self, grad: Any, out: Any, x: Any, weight: Any, bias: Any = None, *,
                 into: Any = None) -> Any:
        return np.matmul(grad, weight, out=self.result(into))


class _LinearGradWeight(_Kernel):
    """``Linear.vjp_1``: ``grad.T @ x`` over the flattened batch axes."""

    def __call__(self, grad: Any, out: Any, x: Any, weight: Any, bias: Any = None, *,
                 into: Any = None) -> Any:
        n_out, n_in = weight.shape
        batch = int(np.prod(x.shape[:-1]))
        return np.matmul(grad.reshape(batch, n_out).T, x.reshape(batch, n_in),
                         out=self.result(into))


class _SumOfSquaresVjp(_Kernel):
    """``SumOfSquares.vjp_0``: ``(grad * 2) * x``."""

    def __call__(self, grad: Any, out: Any, x: Any, *, into: Any = None) -> Any:
        return np.multiply(grad * 2, x, out=self.result(into))


class _BatchStats(_Kernel):
    """``compiler._modules.batch_stats``, keeping the centred values ``x - mean`` (before
    squaring) for the batch-norm forward that follows, which then skips recomputing them."""

    def __call__(self, data: Any, axis: tuple[int, ...], *, into: Any = None) -> Any:
        batch_mean = data.mean(axis=axis, keepdims=True)
        centred = np.subtract(data, batch_mean, out=self.own("centred", data.shape,
                                                            data.dtype))
        square = np.multiply(centred, centred, out=self.buf("square", data.shape, data.dtype))
        # identified by the very arrays of this replay: a forward given other ones recomputes
        self.scratch["centred"] = (data, batch_mean, centred)
        return batch_mean, square.mean(axis=axis, keepdims=True)


class _ReluVjp(_Kernel):
    """``grad * (x > 0)``."""

    def __call__(self, grad: Any, out: Any, x: Any, *, into: Any = None) -> Any:
        positive = np.greater(x, 0, out=self.buf("mask", x.shape, np.bool_))
        return np.multiply(grad, positive, out=self.result(into))


class _MultiplyVjp0(_Kernel):
    def __call__(self, grad: Any, out: Any, x: Any, y: Any, *, into: Any = None) -> Any:
        return np.multiply(grad, y, out=self.result(into))


class _MultiplyVjp1(_Kernel):
    def __call__(self, grad: Any, out: Any, x: Any, y: Any, *, into: Any = None) -> Any:
        return np.multiply(grad, x, out=self.result(into))


class _DropoutMask(_Kernel):
    """``compiler._modules.dropout_mask``: the same draws from the same generator."""

    def __call__(self, generator: Any, shape: tuple[int, ...], dtype: np.dtype, p: float, *,
                 into: Any = None) -> Any:
        draw_dtype = np.float64 if dtype == np.float64 else np.float32
        uniform = self.buf("uniform", shape, draw_dtype)
        get_generator(generator).random(dtype=draw_dtype, out=uniform)
        keep = np.greater_equal(uniform, p, out=self.buf("keep", shape, np.bool_))
        return np.multiply(keep, dtype.type(1 / (1 - p)), out=self.result(into))


class _BatchNormForward(_Kernel):
    """``BatchNorm.forward`` with the batch's statistics given (``mean``, ``var``)."""

    def __call__(self, x: Any, gamma: Any = None, beta: Any = None,
                 axis: tuple[int, ...] = (0,), eps: float = 1e-5, mean: Any = None,
                 var: Any = None, *, into: Any = None) -> Any:
        if mean is None or var is None or gamma is None:
            return nn_ops.BatchNorm.forward(x, gamma, beta, axis, eps, mean, var)
        inv_std = 1 / np.sqrt(var + eps)
        xhat = self.own("xhat", x.shape, self.dtype)
        centred = self.scratch.get("centred")
        if centred is not None and centred[0] is x and centred[1] is mean:
            np.multiply(centred[2], inv_std, out=xhat)  # (x - mean) * inv_std, as below
        else:
            np.subtract(x, mean, out=xhat)
            xhat *= inv_std
        cshape = nn_ops._channel_shape(x.shape, axis)
        out = np.multiply(xhat, gamma.reshape(cshape), out=self.result(into))
        if beta is not None:
            out += beta.reshape(cshape)
        return out, (xhat, inv_std)

    @staticmethod
    def owned(value: Any) -> list[Any]:
        return [value[1][0]]


class _BatchNormVjp(_Kernel):
    """``BatchNorm.vjp`` (through ``_vjp_all``) with the input's gradient in place."""

    def __call__(self, op: Any, grad: Any, out: Any, inputs: Any, needs: Any,
                 params: dict[str, Any], ctx: Any, *, into: Any = None) -> tuple[Any, ...]:
        x, gamma, beta = inputs
        if ctx is None or not needs[0]:
            return tuple(op.vjp(grad, out, inputs, needs, params, ctx))
        axis = params.get("axis", (0,))
        xhat, inv_std = ctx
        sum_g = np.sum(grad, axis=axis, keepdims=True)
        prod = np.multiply(grad, xhat, out=self.buf("prod", grad.shape, grad.dtype))
        sum_gx = np.sum(prod, axis=axis, keepdims=True)
        m = math.prod(x.shape[a] for a in axis)
        scale = inv_std if gamma is None else gamma.reshape(sum_g.shape) * inv_std
        dx = np.multiply(m, grad, out=self.result(into))
        dx -= sum_g
        dx -= np.multiply(xhat, sum_gx, out=prod)
        dx *= scale / m
        return (dx, sum_gx.reshape(gamma.shape) if needs[1] else None,
                sum_g.reshape(beta.shape) if len(needs) > 2 and needs[2] else None)


def _is_batchnorm_vjp(args: tuple[Any, ...]) -> bool:
    return bool(args) and args[0] is nn_ops.BatchNorm


#: step function -> (kernel class, a test on the step's arguments)
_TABLE: dict[Any, tuple[type[_Kernel], Callable[[tuple[Any, ...]], bool]]] = {
    nn_ops.Linear.forward: (_LinearForward, lambda a: True),
    nn_ops.Linear.vjp_0: (_MatmulGradWeight, lambda a: True),
    nn_ops.Linear.vjp_1: (_LinearGradWeight, lambda a: True),
    nn_ops.SumOfSquares.vjp_0: (_SumOfSquaresVjp, lambda a: True),
    elementwise.Relu.vjp_0: (_ReluVjp, lambda a: True),
    elementwise.Multiply.vjp_0: (_MultiplyVjp0, lambda a: True),
    elementwise.Multiply.vjp_1: (_MultiplyVjp1, lambda a: True),
    nn_ops.BatchNorm.forward: (_BatchNormForward, lambda a: True),
}


def kernel_for(fn: Any, args: tuple[Any, ...], value: Any, scratch: dict[Any, Any]
               ) -> Any:
    """A kernel for a step calling ``fn`` whose trace result was ``value`` (None: none)."""
    from ._backward import _vjp_all
    from ._modules import batch_stats, dropout_mask

    first = value[0] if isinstance(value, tuple) else value
    if not isinstance(first, np.ndarray) or first.ndim == 0 or first.dtype.kind != "f":
        return None
    if fn is dropout_mask:
        return _DropoutMask(first.shape, first.dtype, scratch)
    if fn is batch_stats:
        return _BatchStats(first.shape, first.dtype, scratch)
    if fn is _vjp_all and _is_batchnorm_vjp(args):
        return _BatchNormVjp(first.shape, first.dtype, scratch)
    entry = _TABLE.get(fn)
    if entry is None or not entry[1](args):
        return None
    return entry[0](first.shape, first.dtype, scratch)
