"""Every misuse of the core engine gets a clear, early error naming the op and the shapes.

Each case states the exact exception class and the pieces its message must contain: the op
(or function) name, the offending shapes/values and, where it helps, the argument.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import (
    DTypeError,
    GradientError,
    GraphFreedError,
    ShapeError,
    TensorGraphError,
)
from tensorgraph.ops._base import REGISTRY


def leaf(shape: tuple[int, ...], dtype: Any = np.float64) -> tg.Tensor:
    rng = np.random.default_rng(0)
    return tg.tensor(rng.uniform(0.5, 1.5, size=shape).astype(dtype), requires_grad=True)


def raises(exc: type[BaseException], *pieces: str) -> Any:
    """``pytest.raises`` whose message must contain every piece (literally)."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(p)})" for p in pieces))


# --------------------------------------------------------------------------- broadcasting
#: every registered op whose tensor inputs must be mutually broadcastable
BROADCAST_OPS = sorted(
    name for name, op in REGISTRY.items()
    if op.domain.shapes in ("broadcast", "same") and op.domain.nargs >= 2
)


def test_the_broadcasting_ops_are_found() -> None:
    # the parametrisation below must not silently become empty
    assert {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum"} <= set(
        BROADCAST_OPS
    )


@pytest.mark.parametrize("name", BROADCAST_OPS)
def test_non_broadcastable_inputs_raise_shape_error_naming_op_argument_and_shapes(
    name: str,
) -> None:
    op = REGISTRY[name]
    args = [leaf((2, 3)), leaf((4,))] + [leaf((2, 3)) for _ in range(op.domain.nargs - 2)]
    with raises(ShapeError, f"{name}:", "argument 1", "(4,)", "(2, 3)"):
        op.apply(*args)


@pytest.mark.parametrize(
    "call",
    [
        lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
        lambda a, b: a ** b, lambda a, b: np.maximum(a, b), lambda a, b: tg.minimum(a, b),
    ],
    ids=["+", "-", "*", "/", "**", "np.maximum", "tg.minimum"],
)
def test_operators_and_numpy_dispatch_raise_shape_error_not_numpy_value_error(
    call: Callable[[Any, Any], Any],
) -> None:
    with raises(ShapeError, "(3,)", "(2,)"):
        call(leaf((3,)), leaf((2,)))


def test_where_names_the_operand_that_does_not_broadcast() -> None:
    cond = np.array([True, False, True, False, True])
    with raises(ShapeError, "where:", "argument 1", "(2, 3)", "(5,)"):
        tg.where(cond, leaf((2, 3)), 0.0)


def test_an_array_slope_is_refused_naming_the_parameter() -> None:
    # PyTorch takes a number only; an array would also upcast a float32 graph
    with raises(TypeError, "leaky_relu:", "negative_slope must be a number", "(4,)"):
        tg.leaky_relu(leaf((2, 3)), np.ones(4))


def test_broadcast_error_is_a_value_error_for_code_catching_the_builtin() -> None:
    with pytest.raises(ValueError):
        leaf((3,)) + leaf((2,))


# --------------------------------------------------------------------------- axes
AXIS_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sum": tg.sum, "mean": tg.mean, "var": tg.var, "max": tg.max, "min": tg.min,
    "prod": tg.prod, "logsumexp": tg.logsumexp, "softmax": tg.softmax,
    "log_softmax": tg.log_softmax,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(AXIS_FUNCTIONS))
@pytest.mark.parametrize("axis", [2, -3])
def test_out_of_range_axis_is_a_shape_error_naming_op_and_rank(name: str, axis: int) -> None:
    with raises(ShapeError, f"{name}:", f"axis {axis}", "2-d"):
        AXIS_FUNCTIONS[name](leaf((2, 3)), axis=axis)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "logsumexp"])
def test_repeated_axis_is_refused(name: str) -> None:
    with raises(ShapeError, f"{name}:", "repeated axis"):
        AXIS_FUNCTIONS[name](leaf((2, 3)), axis=(1, -1))


@pytest.mark.parametrize("axis", [1.0, "0", [0.5]])
def test_axis_of_the_wrong_type_is_a_type_error_naming_the_op(axis: Any) -> None:
    with raises(TypeError, "sum:", "axis must be an int"):
        tg.sum(leaf((2, 3)), axis=axis)


@pytest.mark.parametrize(
    ("call", "pieces"),
    [
        (lambda x: tg.swapaxes(x, 0, 2), ("swapaxes:", "axis 2")),
        (lambda x: tg.expand_dims(x, 4), ("expand_dims:", "axis 4")),
        (lambda x: tg.squeeze(x, 0), ("squeeze:", "axis 0", "size 2")),
        (lambda x: tg.transpose(x, (0, 0)), ("transpose:", "(0, 0)", "(2, 3)")),
        (lambda x: tg.transpose(x, (0, 1, 2)), ("transpose:", "(0, 1, 2)")),
        (lambda x: tg.split(x, 2, axis=1), ("split:", "length 3", "2 equal sections")),
        (lambda x: tg.concatenate([x, x], axis=2), ("concatenate:", "axis 2")),
    ],
    ids=["swapaxes", "expand_dims", "squeeze", "transpose-repeat", "transpose-len", "split",
         "concatenate"],
)
def test_bad_axes_in_shape_ops(call: Callable[[Any], Any], pieces: tuple[str, ...]) -> None:
    with raises(ShapeError, *pieces):
        call(leaf((2, 3)))


# --------------------------------------------------------------------------- reshape & co
@pytest.mark.parametrize("target", [(4, 2), (-1, 4), (-1, -1), (0, -1), (7,), (-2, 3)])
def test_bad_reshape_target_names_source_shape_size_and_target(target: tuple[int, ...]) -> None:
    with raises(ShapeError, "reshape:", "(2, 3)", "6 elements", str(target)):
        leaf((2, 3)).reshape(target)


def test_bad_broadcast_to_target() -> None:
    with raises(ShapeError, "broadcast_to:", "(2, 3)", "(3, 3)"):
        tg.broadcast_to(leaf((2, 3)), (3, 3))


def test_joins_name_the_input_whose_shape_differs() -> None:
    with raises(ShapeError, "stack:", "input 1", "(3, 2)", "(2, 3)"):
        tg.stack([leaf((2, 3)), leaf((3, 2))])
    with raises(ShapeError, "concatenate:", "input 1", "(2, 4)", "except along axis 0"):
        tg.concatenate([leaf((2, 3)), leaf((2, 4))])
    with raises(ShapeError, "concatenate:", "same number of dimensions"):
        tg.concatenate([leaf((2, 3)), leaf((3,))])


def test_index_out_of_bounds_names_index_and_shape() -> None:
    with raises(ShapeError, "getitem:", "5", "(2, 3)"):
        leaf((2, 3))[5]


def test_pad_width_that_does_not_fit() -> None:
    with raises(ShapeError, "pad:", "2-d"):
        tg.pad(leaf((2, 3)), ((1, 1), (1, 1), (1, 1)))


# --------------------------------------------------------------------------- matmul
@pytest.mark.parametrize(
    ("a", "b"),
    [((2, 3), (2, 3)), ((3,), (4,)), ((2, 3), (4,)), ((5, 2, 3), (4, 2))],
)
def test_matmul_inner_dimensions_differ(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    with raises(ShapeError, "matmul:", "inner dimensions", str(a), str(b)):
        leaf(a) @ leaf(b)


def test_matmul_batch_dimensions_and_scalars() -> None:
    with raises(ShapeError, "matmul:", "batch dimensions", "(2, 2, 3)", "(3, 3, 4)"):
        tg.matmul(leaf((2, 2, 3)), leaf((3, 3, 4)))
    with raises(ShapeError, "matmul:", "at least 1 dimension", "()"):
        tg.matmul(leaf(()), leaf((2, 3)))


# --------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize(
    "data", [np.arange(3), np.array([True, False]), np.arange(3, dtype=np.uint8)],
    ids=["int64", "bool", "uint8"],
)
def test_integer_and_boolean_tensors_cannot_require_grad(data: np.ndarray) -> None:
    with raises(DTypeError, "requires_grad", str(data.dtype)):
        tg.tensor(data, requires_grad=True)
    t = tg.tensor(data)
    with raises(DTypeError, "requires_grad", str(data.dtype)):
        t.requires_grad_()


@pytest.mark.parametrize(
    "call",
    [
        lambda a, b: a + b, lambda a, b: tg.matmul(a, b), lambda a, b: tg.where(True, a, b),
        lambda a, b: tg.concatenate([a, b]), lambda a, b: a * b.numpy(),
    ],
    ids=["add", "matmul", "where", "concatenate", "ndarray-operand"],
)
def test_float32_with_float64_in_one_op_is_refused(call: Callable[[Any, Any], Any]) -> None:
    a = leaf((3,), np.float32)
    b = leaf((3,), np.float64)
    with raises(DTypeError, "mixed floating dtypes", "float32", "float64", ".astype()"):
        call(a, b)


def test_scalars_are_weak_and_keep_the_tensor_dtype() -> None:
    for dtype in (np.float32, np.float64):
        x = leaf((3,), dtype)
        for scalar in (2.5, 2, np.float64(2.5), np.float32(2.5), np.int64(2), True):
            assert (x * scalar).dtype == dtype
            assert (scalar - x).dtype == dtype


def test_python_lists_are_weak_like_scalars() -> None:
    # numpy would turn the list into a float64 array and upcast a float32 graph
    x = leaf((2,), np.float32)
    y = x * [1.0, 3.0]
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 3.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "other", [np.array([2, 3]), np.array([True, False]), "tensor"], ids=["int", "bool", "tensor"]
)
def test_int_and_bool_operands_are_cast_and_backward_keeps_the_dtype(
    dtype: Any, other: Any
) -> None:
    # before the fix, the VJP saw the uncast integer array and returned a float64 gradient
    # for a float32 input, which backward refused with a GradientError
    x = tg.tensor(np.array([1.5, 2.0], dtype=dtype), requires_grad=True)
    o = tg.tensor(np.array([2, 3])) if isinstance(other, str) else other
    out = x * o + x ** o
    assert out.dtype == dtype
    out.sum().backward()
    raw = np.asarray(o.numpy() if isinstance(o, tg.Tensor) else o, dtype=np.float64)
    expected = raw + raw * np.array([1.5, 2.0]) ** (raw - 1)
    assert x.grad is not None and x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)


def test_mixed_precision_error_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        leaf((2,), np.float32) + leaf((2,), np.float64)


# --------------------------------------------------------------------------- backward misuse
def test_backward_on_non_scalar_without_grad_names_the_shape() -> None:
    y = leaf((2, 3)) * 2
    with raises(GradientError, "backward:", "(2, 3)", "pass grad="):
        y.backward()


def test_backward_on_a_tensor_without_graph() -> None:
    with raises(GradientError, "does not require grad"):
        tg.tensor([1.0, 2.0]).sum().backward()
    x = leaf((2,))
    with tg.no_grad():
        y = (x * 2).sum()
    with raises(GradientError, "no_grad()"):
        y.backward()


@pytest.mark.parametrize("grad", [np.ones((3, 2)), np.ones(6), np.ones((1, 2, 3)), 1.0])
def test_grad_of_the_wrong_shape(grad: Any) -> None:
    y = leaf((2, 3)) * 2
    with raises(ShapeError, "backward:", "grad has shape", "root has shape (2, 3)"):
        y.backward(grad)


def test_grad_of_the_wrong_floating_dtype() -> None:
    y = leaf((2, 3), np.float64) * 2
    with raises(GradientError, "backward:", "float32", "float64"):
        y.backward(np.ones((2, 3), np.float32))
    with raises(GradientError, "backward:", "float32", "float64"):
        y.backward(tg.ones((2, 3), dtype=np.float32))


def test_integer_grad_is_cast_like_any_integer_operand() -> None:
    x = leaf((2,), np.float32)
    (x * 3).backward(np.array([1, 2]))
    assert x.grad is not None and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 6.0])


def test_gradients_checks_its_seeds_too() -> None:
    x = leaf((2,))
    with raises(ShapeError, "gradients:", "grad has shape (3,)"):
        tg.gradients(x * 2, x, grad_outputs=np.ones(3))
    with raises(GradientError, "gradients:", "(2,)", "does not require grad"):
        tg.gradients((x * 2).sum(), tg.tensor([1.0, 2.0]))


def test_backward_through_a_freed_graph_names_the_op_and_retain_graph() -> None:
    x = leaf((3,))
    y = tg.exp(x).sum()
    y.backward()
    with raises(GraphFreedError, "second time", "'sum'", "retain_graph=True"):
        y.backward()


def test_a_freed_graph_is_detected_from_a_later_graph_sharing_it() -> None:
    x = leaf((3,))
    h = tg.exp(x)
    h.sum().backward()
    with raises(GraphFreedError, "'exp'", "retain_graph=True"):
        (h * 2).sum().backward()


def test_in_place_operator_on_a_leaf_requiring_grad_is_refused_early() -> None:
    x = leaf((2,))
    with raises(GradientError, "in-place +=", "requires grad", "(2,)"):
        x += 1
    with raises(GradientError, "item assignment", "requires grad"):
        x[0] = 1.0


def test_grad_function_needs_a_scalar_function() -> None:
    with raises(GradientError, "grad:", "single-element", "(2,)"):
        tg.grad(lambda t: t * 2)(tg.tensor([1.0, 2.0]))


def test_every_engine_error_is_a_builtin_subclass() -> None:
    # code that catches ValueError / TypeError / RuntimeError keeps working
    for exc, base in [(ShapeError, ValueError), (DTypeError, TypeError),
                      (GradientError, RuntimeError), (GraphFreedError, RuntimeError)]:
        assert issubclass(exc, base) and issubclass(exc, TensorGraphError)
