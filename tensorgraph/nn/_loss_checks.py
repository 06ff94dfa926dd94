"""Argument checks and reductions shared by the loss functions of
:mod:`tensorgraph.nn.functional`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DomainError, DTypeError, GradientError, ShapeError
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _raw(value: Any) -> np.ndarray:
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)


def _as_tensor_like(value: Any, like: Any) -> Any:
    """Tensors and ndarrays as they are; Python data as an array, floats in ``like``'s
    dtype (Python data is weak, as Python scalars are)."""
    if isinstance(value, (Tensor, np.ndarray)):
        return value
    array = np.asarray(value)
    dtype = _raw(like).dtype
    if array.dtype.kind == "f" and dtype.kind == "f":
        array = array.astype(dtype)
    return array


# --------------------------------------------------------------------------- helpers
def _check_reduction(reduction: Any, name: str) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise DomainError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _legacy(weight: Any, reduction: str, name: str) -> tuple[Any, str]:
    """Accept the earlier positional ``loss(input, target, "sum")``: a string where the
    weight goes is the reduction (a weight is never a string)."""
    if isinstance(weight, str):
        if reduction != "mean":
            raise TypeError(f"{name}: reduction given twice ({weight!r} in the place of "
                            f"weight, and reduction={reduction!r})")
        return None, weight
    return weight, reduction


def _reduce(loss: Any, reduction: str, name: str, total_weight: float | None = None) -> Any:
    """Apply a validated reduction; ``'mean'`` divides by ``total_weight`` when given (else
    by the number of elements). A mean over nothing is NaN without a warning, and its
    gradient is 0 (PyTorch's 0/0)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    count = loss.size if total_weight is None else total_weight
    if count == 0:
        return loss.sum() + np.nan  # the NaN is a constant: the gradient stays 0
    if total_weight is None:
        return loss.mean()
    return loss.sum() / total_weight


def _same_float(value: Any, input: Any, what: str, name: str) -> None:
    """Refuse a floating ``value`` of another float dtype than the input's, naming the loss
    (the inner op would refuse it too, without saying which loss or argument)."""
    dtype, like = _raw(value).dtype, _raw(input).dtype
    if dtype.kind == "f" and like.kind == "f" and dtype != like:
        raise DTypeError(f"{name}: {what} has dtype {dtype}, the input {like}; cast one "
                         f"explicitly with .astype()")


def _same_shape(x: Any, target: Any, name: str) -> None:
    if _shape(x) != _shape(target):
        raise ShapeError(f"{name}: input shape {_shape(x)} and target shape {_shape(target)} "
                         f"differ; they must be equal (nothing is broadcast)")
    _same_float(target, x, "target", name)


def _check_unit_interval(values: Any, what: str, name: str) -> None:
    data = _raw(values)
    # min/max propagate NaN and NaN fails both comparisons, so this one fast test (two
    # reductions) catches every bad value; the slower nan-aware ones only build the message
    if data.size and not (data.min() >= 0 and data.max() <= 1):
        raise DomainError(f"{name}: {what} must lie in [0, 1], found values in "
                          f"[{np.nanmin(data)}, {np.nanmax(data)}]"
                          + (" and NaN" if np.isnan(data).any() else ""))


def _broadcast_weight(weight: Any, input: Any, what: str, name: str) -> Any:
    """``weight`` as a tensor-like that broadcasts to the input's shape without changing it."""
    weight = _as_tensor_like(weight, input)
    ws, xs = _shape(weight), _shape(input)
    try:
        fits = np.broadcast_shapes(ws, xs) == xs
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{name}: {what} of shape {ws} does not broadcast to the input's "
                         f"shape {xs}")
    _same_float(weight, input, what, name)
    return weight


def _exact_weight(weight: Any, input: Any, name: str) -> Any:
    weight = _as_tensor_like(weight, input)
    if _shape(weight) != _shape(input):
        raise ShapeError(f"{name}: weight of shape {_shape(weight)} must have the input's "
                         f"shape {_shape(input)} (as PyTorch)")
    _same_float(weight, input, "weight", name)
    return weight


def _class_weight(weight: Any, shape: tuple[int, ...], input: Any, name: str) -> np.ndarray:
    """A per-class weight: a 1-d float array of length C in the input's dtype. It is a
    constant (no gradient reaches it, as in PyTorch), so one that requires grad is refused."""
    if isinstance(weight, Tensor) and weight.requires_grad:
        raise GradientError(f"{name}: the class weight carries no gradient; pass "
                            f"weight.detach() (PyTorch refuses it too)")
    data = _raw(weight)
    if data.shape != (shape[1],):
        raise ShapeError(f"{name}: weight must have shape ({shape[1]},), one value per "
                         f"class of the input {shape}, got {data.shape}")
    if data.dtype.kind not in "fiu":
        raise DTypeError(f"{name}: weight must be real numbers, got dtype {data.dtype}")
    return data.astype(_raw(input).dtype, copy=False)


def _labels(target: Any, input_shape: tuple[int, ...], name: str,
            ignore_index: int | None = None) -> tuple[np.ndarray, bool]:
    """Validate integer class labels for input of ``input_shape`` (classes on axis 1);
    return them and whether none equals ``ignore_index``."""
    labels = _raw(target)
    expected = (input_shape[0], *input_shape[2:])
    if labels.dtype.kind not in "iu":
        raise DTypeError(f"{name}: class labels must be integers, got dtype {labels.dtype}; "
                         f"convert them with .astype(np.int64)")
    if labels.shape != expected:
        raise ShapeError(f"{name}: labels of shape {labels.shape} do not fit input of shape "
                         f"{input_shape}; expected {expected}")
    n_classes = input_shape[1]
    # two reductions decide the common case (every label a class); the masks only when not
    if not labels.size or (labels.min() >= 0 and labels.max() < n_classes):
        if ignore_index is not None and 0 <= ignore_index < n_classes:
            return labels, not (labels == ignore_index).any()
        return labels, True
    bad_mask = (labels < 0) | (labels >= n_classes)
    if ignore_index is not None:
        bad_mask &= labels != ignore_index
    if bad_mask.any():
        raise DomainError(f"{name}: labels must be in [0, {n_classes - 1}] for "
                          f"{n_classes} classes, found {labels[bad_mask][:5].tolist()}"
                          + ("" if ignore_index is None else
                             f" (ignore_index={ignore_index})"))
    return labels, False  # some label is not a class, so it is ignore_index


def _class_input(input: Any, name: str) -> tuple[int, ...]:
    shape = _shape(input)
    if len(shape) < 2:
        raise ShapeError(f"{name}: input must be (N, C) or (N, C, d1, ...) with classes on "
                         f"axis 1, got shape {shape}")
    return shape


def _check_index(ignore_index: Any, name: str) -> int:
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index,
                                                                     (int, np.integer)):
        raise DTypeError(f"{name}: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


def _total_weight(labels: np.ndarray, weight: np.ndarray | None, ignore: int) -> float:
    keep = labels != ignore
    if weight is None:
        return float(np.count_nonzero(keep))
    return float(weight[labels[keep]].sum())
