"""The transforms refuse mistakes with an exception that names the transform and the shapes,
dtypes or counts involved: never a silently broadcast tangent or a truncated output."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.errors import DTypeError, GradientError, ShapeError

X = np.array([1.0, 2.0, 3.0])


def test_a_non_scalar_output_is_refused_where_a_scalar_is_required() -> None:
    with pytest.raises(GradientError, match=r"grad: .*single-element.*\(3,\)"):
        tg.grad(lambda x: x * 2.0)(X)
    with pytest.raises(GradientError, match=r"hvp: .*single-element.*\(3,\)"):
        tg.hvp(lambda x: x * 2.0, X, X)


@pytest.mark.parametrize("transform", [tg.jvp, tg.hvp])
def test_tangents_must_match_the_primals(transform: object) -> None:
    f = lambda x: (x ** 3).sum()  # noqa: E731
    with pytest.raises(ShapeError, match=r"tangent 0 has shape \(2,\) but primal 0 has "
                                         r"shape \(3,\)"):
        transform(f, X, np.ones(2))  # type: ignore[operator]
    with pytest.raises(ShapeError, match=r"tangent 0 has shape \(\) but primal 0"):
        transform(f, X, 1.0)  # type: ignore[operator]  # a scalar is not broadcast
    with pytest.raises(ValueError, match=r"2 tangent.* for 1 primal"):
        transform(f, (X,), (X, X))  # type: ignore[operator]
    with pytest.raises(TypeError, match="tangents must be a tuple"):
        transform(f, (X,), X)  # type: ignore[operator]
    with pytest.raises(DTypeError, match="tangent 0 is float32 but primal 0 is float64"):
        transform(f, X, X.astype(np.float32))  # type: ignore[operator]
    with pytest.raises(DTypeError, match="tangents must be real"):
        transform(f, X, X + 1j)  # type: ignore[operator]


@pytest.mark.parametrize("make", [
    lambda: tg.grad(lambda x: (x * 2).sum())(np.array([1, 2])),
    lambda: tg.jacobian(lambda x: x * 2)(np.array([1, 2])),
    lambda: tg.hessian(lambda x: (x * x).sum())(np.array([True, False])),
    lambda: tg.jvp(lambda x: x * 2, np.array([1, 2]), np.array([1.0, 1.0])),
    lambda: tg.hvp(lambda x: (x * x).sum(), tg.tensor(np.array([1, 2])), np.ones(2)),
    lambda: tg.elementwise_grad(lambda x: x * 2)(np.array([1, 2])),
    lambda: tg.vjp(lambda x: x * 2, np.array([1, 2])),
])
def test_non_float_inputs_are_refused(make: object) -> None:
    with pytest.raises(DTypeError, match=r"argument 0 is (int64|bool).*only floating"):
        make()  # type: ignore[operator]


def test_argnums_are_checked() -> None:
    f = lambda x, y: (x * y).sum()  # noqa: E731
    with pytest.raises(IndexError, match="jacobian: argnums 2 is out of range for 2"):
        tg.jacobian(f, 2)(X, X)
    with pytest.raises(ValueError, match=r"hessian|jacobian: argnums \(0, -2\) names an "):
        tg.hessian(f, (0, -2))(X, X)
    with pytest.raises(ValueError, match="argnums is empty"):
        tg.grad(f, ())(X, X)
    with pytest.raises(TypeError, match="argnums must be ints"):
        tg.elementwise_grad(f, (0.5,))(X, X)  # type: ignore[arg-type]


def test_functions_must_return_tensors() -> None:
    with pytest.raises(TypeError, match="jacobian: the function must return a Tensor or a "
                                        "non-empty tuple of Tensors, got float"):
        tg.jacobian(lambda x: 1.0)(X)
    with pytest.raises(TypeError, match=r"jvp: .* got list"):
        tg.jvp(lambda x: [], X, X)
    with pytest.raises(TypeError, match="elementwise_grad: the function must return a Tensor, "
                                        "got ndarray"):
        tg.elementwise_grad(lambda x: np.ones(3))(X)


def test_complex_inputs_are_refused() -> None:
    with pytest.raises(TypeError, match="complex128"):
        tg.jacobian(lambda x: x * 2)(X + 1j)
