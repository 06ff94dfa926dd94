"""What the library does outside the graph, as host steps a plan can replay.

``nn.Dropout`` draws its mask with numpy, ``nn.BatchNorm1d`` computes the batch statistics
and updates its running statistics with numpy, the optimizers update the parameters and
their state in place: none of this is an op, so a tracer of ops alone would miss it. While
a trace runs, those modules call the tracer (``autograd._tracer``) instead; the functions
here do their work with the *same arithmetic* as the eager code (the compiled-vs-eager
tests pin that bit for bit) and are recorded as steps, so a replay draws the next mask
from the same generator, updates the same running statistics in place and calls the
optimizer's own update.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..nn import functional as F
from ..nn.init import get_generator
from ..ops import nn_ops
from ..tensor import Tensor
from ._tracer import Tracer

__all__ = ["trace_batchnorm", "trace_dropout", "trace_optimizer"]


# --------------------------------------------------------------------------- dropout
def dropout_mask(generator: Any, shape: tuple[int, ...], dtype: np.dtype, p: float) -> Any:
    """The mask of ``nn.functional.dropout`` (same draws, same arithmetic)."""
    draw_dtype = np.float64 if dtype == np.float64 else np.float32
    keep = get_generator(generator).random(shape, dtype=draw_dtype) >= p
    return keep * dtype.type(1 / (1 - p))


def trace_dropout(tracer: Tracer, module: Any, x: Any) -> Any:
    """``Dropout.forward`` while tracing; None hands the call back to the module."""
    tracer.guard(module, "training")
    tracer.guard(module, "p")
    tracer.guard(module, "generator")
    p = F.check_probability("Dropout", module.p)
    if not module.training or p == 0:
        return x
    if not isinstance(x, Tensor) or x.dtype.kind != "f" or p == 1:
        return None  # the eager path (its errors, its p == 1 convention)
    mask = tracer.call(dropout_mask, (module.generator, x.shape, x.dtype, p), {}, "Dropout")
    return x * mask


# --------------------------------------------------------------------------- batch-norm
def batch_stats(data: Any, axis: tuple[int, ...]) -> tuple[Any, Any]:
    """The batch mean and biased variance as ``nn.functional.batch_norm`` computes them."""
    batch_mean = data.mean(axis=axis, keepdims=True)
    centred = data - batch_mean
    centred *= centred
    return batch_mean, centred.mean(axis=axis, keepdims=True)


def update_running(module: Any, batch_mean: Any, batch_var: Any, per_channel: int) -> None:
    """``running = (1 - momentum) running + momentum batch`` in place, as
    ``nn.functional.batch_norm`` does, and the batch counter, as ``BatchNorm1d`` does."""
    counter = module.num_batches_tracked
    if module.momentum is None:
        momentum = 1.0 / (float(counter._data.item()) + 1)
    else:
        momentum = module.momentum
    channels = batch_mean.size
    unbiased = batch_var * (per_channel / (per_channel - 1))
    for buffer, stat in ((module.running_mean, batch_mean), (module.running_var, unbiased)):
        buf = buffer._data
        buf *= 1 - momentum
        buf += momentum * stat.reshape(channels)
        buffer._bump_version()
    counter._data[...] += 1
    counter._bump_version()


def eval_stats(running_mean: Tensor, running_var: Tensor, cshape: tuple[int, ...],
               eps: float) -> tuple[Any, Any]:
    """The mean and ``1/sqrt(var + eps)`` of evaluation mode, from the live buffers."""
    mean = running_mean._data.reshape(cshape)
    return mean, 1 / np.sqrt(running_var._data.reshape(cshape) + eps)


def trace_batchnorm(tracer: Tracer, module: Any, x: Any) -> Any:
    """``BatchNorm1d.forward`` while tracing; None hands the call back to the module."""
    for attribute in ("training", "momentum", "eps", "track_running_stats"):
        tracer.guard(module, attribute)
    if not isinstance(x, Tensor) or x.ndim not in (2, 3):
        return None
    channels = x.shape[1]
    axis = (0,) if x.ndim == 2 else (0, 2)
    per_channel = math.prod(x.shape[a] for a in axis)
    weight, bias = module.weight, module.bias
    tracks = module.track_running_stats
    for t in (weight, bias, module.running_mean, module.running_var):
        if t is not None and (t.shape != (channels,) or t.dtype != x.dtype):
            return None  # the eager path raises the error
    training = module.training or not tracks
    if training and per_channel <= 1:
        return None
    cshape = (1, channels) if x.ndim == 2 else (1, channels, 1)
    if not training:
        mean, inv_std = tracer.call(eval_stats, (module.running_mean, module.running_var,
                                                 cshape, module.eps), {}, "BatchNorm1d", -1)
        y = (x - mean) * inv_std
        if weight is not None:
            y = y * weight.reshape(cshape)
        if bias is not None:
            y = y + bias.reshape(cshape)
        return y
    batch_mean, batch_var = tracer.call(batch_stats, (x._data, axis), {}, "BatchNorm1d", -1)
    if module.training and tracks:
        tracer.call(update_running, (module, batch_mean, batch_var, per_channel), {},
                    "BatchNorm1d", None)
    return nn_ops.batch_norm(x, weight, bias, axis=axis, eps=module.eps, mean=batch_mean,
                             var=batch_var)


# --------------------------------------------------------------------------- optimizers
def _optimizer_call(optimizer: Any, method: str, *args: Any) -> None:
    getattr(type(optimizer), method)(optimizer, *args)


def trace_optimizer(tracer: Tracer, optimizer: Any, method: str, args: tuple[Any, ...]) -> None:
    """Record ``optimizer.<method>(*args)`` (``step``, ``zero_grad``) as one host step: the
    replay calls the optimizer's own update, which reads the gradients the replayed backward
    left in ``.grad`` and updates the parameters and the state in place, as eagerly."""
    for group in getattr(optimizer, "param_groups", ()):
        for p in group["params"]:
            grad = p._grad
            if grad is not None and id(grad) in tracer.created and id(grad) not in tracer.grads:
                tracer.flag(f"{type(optimizer).__name__}.{method}: a .grad set by the function "
                            f"itself (only gradients from backward() are traced)")
    if any(a is not None for a in args if callable(a)):
        tracer.flag(f"{type(optimizer).__name__}.{method} with a closure")
    tracer.steps.append(_host_step(_optimizer_call, (optimizer, method, *args)))


def _host_step(fn: Any, args: tuple[Any, ...]) -> Any:
    from ._plan import Step

    return Step(fn, args, {}, None)
