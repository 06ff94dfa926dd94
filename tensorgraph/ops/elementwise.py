r"""Elementwise ops with broadcasting.

Every VJP returns its gradient in the broadcast output shape; the engine reduces it to the
input's shape. VJPs use only numpy calls that Tensor dispatches, so they serve both first-
and higher-order gradients. ``grad`` is the cotangent :math:`\bar z`, ``out`` the result
:math:`z`.

Subgradients (pinned by tests): relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope,
maximum/minimum ties split the gradient equally, clip passes the gradient at the bounds,
sqrt'(0) = 0 (a finite choice instead of +inf).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..tensor import Tensor

from ._base import Domain, Op, register

__all__ = [
    "abs", "add", "clip", "cos", "divide", "exp", "leaky_relu", "log", "log1p", "maximum",
    "minimum", "multiply", "negative", "power", "relu", "sigmoid", "sin", "softplus", "sqrt",
    "subtract", "tanh", "where",
]  # fmt: skip

def stable_sigmoid(x: Any) -> Any:
    r"""Logistic function without overflow: :math:`1/(1+e^{-x})` for x >= 0,
    :math:`e^{x}/(1+e^{x})` for x < 0, both through :math:`e^{-|x|}`."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@register
class Add(Op):
    r"""Elementwise sum. :math:`z = x + y,\ \bar x = \bar z,\ \bar y = \bar z`.

    >>> import tensorgraph as tg
    >>> tg.add(tg.tensor([1.0, 2.0]), 1.0)
    tensor([2., 3.], dtype=float32)
    """

    name = "add"
    domain = Domain(nargs=2)
    reference = np.add
    forward = staticmethod(np.add)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad


@register
class Subtract(Op):
    r"""Elementwise difference. :math:`z = x - y,\ \bar x = \bar z,\ \bar y = -\bar z`.

    >>> import tensorgraph as tg
    >>> tg.subtract(tg.tensor([1.0, 2.0]), 1.0)
    tensor([0., 1.], dtype=float32)
    """

    name = "subtract"
    domain = Domain(nargs=2)
    reference = np.subtract
    forward = staticmethod(np.subtract)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return -grad


@register
class Multiply(Op):
    r"""Elementwise product. :math:`z = x y,\ \bar x = \bar z\, y,\ \bar y = \bar z\, x`.

    >>> import tensorgraph as tg
    >>> tg.multiply(tg.tensor([1.0, 2.0]), 3.0)
    tensor([3., 6.], dtype=float32)
    """

    name = "multiply"
    domain = Domain(nargs=2)
    reference = np.multiply
    forward = staticmethod(np.multiply)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * y

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * x


@register
class Divide(Op):
    r"""Elementwise quotient.
    :math:`z = x / y,\ \bar x = \bar z / y,\ \bar y = -\bar z\, z / y`.

    >>> import tensorgraph as tg
    >>> tg.divide(tg.tensor([1.0, 2.0]), 2.0)
    tensor([0.5, 1. ], dtype=float32)
    """

    name = "divide"
    domain = Domain(nargs=2, avoid=(0.0,), margin=0.3)
    reference = np.divide
    forward = staticmethod(np.divide)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad / y

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return -grad * out / y


@register
class Negative(Op):
    r"""Elementwise negation. :math:`z = -x,\ \bar x = -\bar z`.

    >>> import tensorgraph as tg
    >>> tg.negative(tg.tensor([1.0, -2.0]))
    tensor([-1.,  2.], dtype=float32)
    """

    name = "negative"
    domain = Domain()
    reference = np.negative
    forward = staticmethod(np.negative)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return -grad


@register
class Power(Op):
    r"""Elementwise power, with a tensor or a scalar exponent.

    .. math::
        z = x^y,\quad \bar x = \bar z\, y\, x^{y-1},\quad \bar y = \bar z\, z \ln x

    The exponent's gradient is defined for :math:`x > 0`; where :math:`x \le 0` it is taken
    as 0 (the real power is not differentiable in :math:`y` there).

    >>> import tensorgraph as tg
    >>> tg.power(tg.tensor([2.0, 3.0]), 2)
    tensor([4., 9.], dtype=float32)
    """

    name = "power"
    domain = Domain(nargs=2, ranges={0: (0.5, 2.5), 1: (-2.0, 2.0)})
    reference = np.power
    forward = staticmethod(np.power)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return grad * y * x ** (y - 1)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        positive = x > 0
        return np.where(positive, grad * out * np.log(np.where(positive, x, 1)), 0)


@register
class Exp(Op):
    r"""Elementwise exponential. :math:`z = e^x,\ \bar x = \bar z\, z`.

    >>> import tensorgraph as tg
    >>> tg.exp(tg.tensor([0.0]))
    tensor([1.], dtype=float32)
    """

    name = "exp"
    domain = Domain()
    reference = np.exp
    forward = staticmethod(np.exp)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * out


@register
class Log(Op):
    r"""Natural logarithm. :math:`z = \ln x,\ \bar x = \bar z / x`, for :math:`x > 0`.

    >>> import tensorgraph as tg
    >>> tg.log(tg.tensor([1.0]))
    tensor([0.], dtype=float32)
    """

    name = "log"
    domain = Domain(low=0.2, high=4.0)
    reference = np.log
    forward = staticmethod(np.log)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / x


@register
class Log1p(Op):
    r""":math:`z = \ln(1 + x),\ \bar x = \bar z / (1 + x)`, accurate for small x.

    >>> import tensorgraph as tg
    >>> tg.log1p(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "log1p"
    domain = Domain(low=-0.8, high=4.0)
    reference = np.log1p
    forward = staticmethod(np.log1p)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad / (1 + x)


@register
class Sqrt(Op):
    r"""Square root. :math:`z = \sqrt{x},\ \bar x = \bar z / (2 z)`.

    At :math:`x = 0` the derivative is :math:`+\infty`; tensorgraph uses the finite
    subgradient 0 there, so a norm-like expression at 0 does not poison a model with NaN.

    >>> import tensorgraph as tg
    >>> tg.sqrt(tg.tensor([4.0]))
    tensor([2.], dtype=float32)
    """

    name = "sqrt"
    domain = Domain(low=0.2, high=4.0)
    reference = np.sqrt
    forward = staticmethod(np.sqrt)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        positive = out > 0
        return np.where(positive, grad / (2 * np.where(positive, out, 1)), 0)


@register
class Abs(Op):
    r"""Absolute value. :math:`z = |x|,\ \bar x = \bar z\, \operatorname{sign}(x)`, with
    :math:`\operatorname{sign}(0) = 0`.

    >>> import tensorgraph as tg
    >>> tg.abs(tg.tensor([-2.0, 3.0]))
    tensor([2., 3.], dtype=float32)
    """

    name = "abs"
    domain = Domain(avoid=(0.0,))
    reference = np.abs
    forward = staticmethod(np.abs)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * np.sign(x)


@register
class Sin(Op):
    r"""Sine. :math:`z = \sin x,\ \bar x = \bar z \cos x`.

    >>> import tensorgraph as tg
    >>> tg.sin(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "sin"
    domain = Domain()
    reference = np.sin
    forward = staticmethod(np.sin)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * np.cos(x)


@register
class Cos(Op):
    r"""Cosine. :math:`z = \cos x,\ \bar x = -\bar z \sin x`.

    >>> import tensorgraph as tg
    >>> tg.cos(tg.tensor([0.0]))
    tensor([1.], dtype=float32)
    """

    name = "cos"
    domain = Domain()
    reference = np.cos
    forward = staticmethod(np.cos)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return -grad * np.sin(x)


@register
class Tanh(Op):
    r"""Hyperbolic tangent. :math:`z = \tanh x,\ \bar x = \bar z (1 - z^2)`.

    >>> import tensorgraph as tg
    >>> tg.tanh(tg.tensor([0.0]))
    tensor([0.], dtype=float32)
    """

    name = "tanh"
    domain = Domain()
    reference = np.tanh
    forward = staticmethod(np.tanh)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * (1 - out * out)


@register
class Sigmoid(Op):
    r"""Logistic sigmoid, stable for any x.

    .. math:: z = \frac{1}{1 + e^{-x}},\quad \bar x = \bar z\, z (1 - z)

    >>> import tensorgraph as tg
    >>> tg.sigmoid(tg.tensor([0.0, 1000.0, -1000.0]))
    tensor([0.5, 1. , 0. ], dtype=float32)
    """

    name = "sigmoid"
    domain = Domain(low=-6.0, high=6.0)
    forward = staticmethod(stable_sigmoid)

    @staticmethod
    def reference(x: Any) -> Any:
        return 1 / (1 + np.exp(-x))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * out * (1 - out)


@register
class Relu(Op):
    r"""Rectified linear unit. :math:`z = \max(x, 0),\ \bar x = \bar z\, [x > 0]`
    (so relu'(0) = 0).

    >>> import tensorgraph as tg
    >>> tg.relu(tg.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.], dtype=float32)
    """

    name = "relu"
    domain = Domain(avoid=(0.0,))

    @staticmethod
    def forward(x: Any) -> Any:
        return np.maximum(x, 0)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * (x > 0)


@register
class LeakyRelu(Op):
    r"""Leaky ReLU with slope :math:`a` for negative inputs.

    .. math:: z = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases},\quad
              \bar x = \bar z \cdot (1 \text{ if } x > 0 \text{ else } a)

    >>> import tensorgraph as tg
    >>> tg.leaky_relu(tg.tensor([-1.0, 2.0]), 0.1)
    tensor([-0.1,  2. ], dtype=float32)
    """

    name = "leaky_relu"
    array_params = frozenset({"negative_slope"})
    domain = Domain(avoid=(0.0,), params=lambda shapes: [{"negative_slope": 0.01},
                                                          {"negative_slope": 0.2}])

    @staticmethod
    def forward(x: Any, negative_slope: float = 0.01) -> Any:
        return np.where(x > 0, x, x * negative_slope)

    reference = forward

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, negative_slope: float = 0.01) -> Any:
        return np.where(x > 0, grad, grad * negative_slope)


@register
class Softplus(Op):
    r"""Softplus, stable for any x.

    .. math:: z = \ln(1 + e^{x}) = \max(x, 0) + \ln(1 + e^{-|x|}),\quad
              \bar x = \bar z\, \sigma(x)

    >>> import tensorgraph as tg
    >>> tg.softplus(tg.tensor([0.0, 1000.0]))
    tensor([6.931472e-01, 1.000000e+03], dtype=float32)
    """

    name = "softplus"
    domain = Domain(low=-6.0, high=6.0)

    @staticmethod
    def forward(x: Any) -> Any:
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    @staticmethod
    def reference(x: Any) -> Any:
        return np.log1p(np.exp(x))

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any) -> Any:
        return grad * stable_sigmoid(x)


def _tie_split(grad: Any, x: Any, y: Any) -> Any:
    """The share of ``grad`` owed to ``x`` in ``maximum(x, y)``: all where x > y, half on ties."""
    return np.where(x > y, grad, np.where(x == y, grad * 0.5, 0))


@register
class Maximum(Op):
    r"""Elementwise maximum. :math:`\bar x = \bar z [x > y] + \tfrac12 \bar z [x = y]`, and
    symmetrically for y: ties split the gradient equally.

    >>> import tensorgraph as tg
    >>> tg.maximum(tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0]))
    tensor([3., 5.], dtype=float32)
    """

    name = "maximum"
    domain = Domain(nargs=2, distinct=True)
    reference = np.maximum
    forward = staticmethod(np.maximum)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return _tie_split(grad, x, y)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return _tie_split(grad, y, x)


@register
class Minimum(Op):
    r"""Elementwise minimum. :math:`\bar x = \bar z [x < y] + \tfrac12 \bar z [x = y]`.

    >>> import tensorgraph as tg
    >>> tg.minimum(tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0]))
    tensor([1., 2.], dtype=float32)
    """

    name = "minimum"
    domain = Domain(nargs=2, distinct=True)
    reference = np.minimum
    forward = staticmethod(np.minimum)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return _tie_split(grad, y, x)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        return _tie_split(grad, x, y)


@register
class Clip(Op):
    r"""Limit values to :math:`[a_{min}, a_{max}]` (either bound may be None).

    .. math:: \bar x = \bar z\, [a_{min} \le x \le a_{max}]

    The gradient passes at the bounds themselves.

    >>> import tensorgraph as tg
    >>> tg.clip(tg.tensor([-2.0, 0.5, 2.0]), -1.0, 1.0)
    tensor([-1. ,  0.5,  1. ], dtype=float32)
    """

    name = "clip"
    array_params = frozenset({"a_min", "a_max"})
    domain = Domain(avoid=(-1.0, 1.0), params=lambda shapes: [
        {"a_min": -1.0, "a_max": 1.0}, {"a_min": None, "a_max": 1.0},
        {"a_min": -1.0, "a_max": None},
    ])

    @staticmethod
    def forward(x: Any, a_min: float | None = None, a_max: float | None = None) -> Any:
        if a_min is not None:
            x = np.maximum(x, a_min)
        if a_max is not None:
            x = np.minimum(x, a_max)
        return x

    @staticmethod
    def reference(x: Any, a_min: float | None = None, a_max: float | None = None) -> Any:
        return np.clip(x, a_min, a_max)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, a_min: Any = None, a_max: Any = None) -> Any:
        if a_min is not None:
            grad = np.where(x < a_min, 0, grad)
        if a_max is not None:
            grad = np.where(x > a_max, 0, grad)
        return grad


@register
class Where(Op):
    r"""Choose elementwise: :math:`z = x` where ``condition`` holds, else :math:`y`.

    .. math:: \bar x = \bar z\, [c],\quad \bar y = \bar z\, [\lnot c]

    The gradient of the branch not taken is exactly 0, even where that branch holds NaN or
    Inf, so no NaN leaks from it.

    >>> import tensorgraph as tg
    >>> tg.where(tg.tensor([True, False]), tg.tensor([1.0, 2.0]), 0.0)
    tensor([1., 0.], dtype=float32)
    """

    name = "where"
    domain = Domain(nargs=3, shapes="where", nondiff=(0,))
    reference = np.where
    forward = staticmethod(np.where)

    @staticmethod
    def vjp_0(grad: Any, out: Any, condition: Any, x: Any, y: Any) -> Any:
        return None

    @staticmethod
    def vjp_1(grad: Any, out: Any, condition: Any, x: Any, y: Any) -> Any:
        return np.where(condition, grad, 0)

    @staticmethod
    def vjp_2(grad: Any, out: Any, condition: Any, x: Any, y: Any) -> Any:
        return np.where(condition, 0, grad)


add = Add.apply
subtract = Subtract.apply
multiply = Multiply.apply
divide = Divide.apply
negative = Negative.apply
power = Power.apply
exp = Exp.apply
log = Log.apply
log1p = Log1p.apply
sqrt = Sqrt.apply
abs = Abs.apply
sin = Sin.apply
cos = Cos.apply
tanh = Tanh.apply
sigmoid = Sigmoid.apply
relu = Relu.apply
softplus = Softplus.apply
maximum = Maximum.apply
minimum = Minimum.apply
where = Where.apply


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """Leaky ReLU; see :class:`LeakyRelu`."""
    return LeakyRelu.apply(x, negative_slope=negative_slope)


def clip(x: Any, a_min: float | None = None, a_max: float | None = None) -> Tensor:
    """Clip to ``[a_min, a_max]``; see :class:`Clip`."""
    if a_min is None and a_max is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    if a_min is not None and a_max is not None and a_min > a_max:
        raise ValueError(f"clip: a_min={a_min} is greater than a_max={a_max}")
    return Clip.apply(x, a_min=a_min, a_max=a_max)
