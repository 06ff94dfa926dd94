r"""Elementwise ops with broadcasting.

Every VJP returns its gradient in the broadcast output shape; the engine reduces it to the
input's shape. VJPs use only numpy calls that Tensor dispatches, so they serve both first-
and higher-order gradients. ``grad`` is the cotangent :math:`\bar z`, ``out`` the result
:math:`z`.

Subgradients (pinned by tests): relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope,
maximum/minimum ties split the gradient equally, clip passes the gradient at the bounds
(to ``x``; a Tensor bound gets the gradient only where it wins), sqrt'(0) = 0 (a finite
choice instead of +inf); power follows PyTorch at 0 (see :class:`Power`).

The public functions refuse operands numpy would make object arrays of (``None``, strings,
ragged lists) with a ``TypeError`` naming the op; the check is one set lookup per operand
when every operand is a Tensor, an array or a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..broadcast import broadcast_shapes
from ..errors import DTypeError
from ..tensor import Tensor
from ._base import Domain, Op, register

__all__ = [
    "abs", "add", "clip", "cos", "divide", "exp", "leaky_relu", "log", "log1p", "maximum",
    "minimum", "multiply", "negative", "power", "relu", "sigmoid", "sin", "softplus", "sqrt",
    "subtract", "tanh", "where",
]  # fmt: skip

#: Operand types that need no further look (checked by exact type: one set lookup each).
#: Tensor subclasses (nn.Parameter) join it the first time :func:`check_args` meets them.
_PLAIN_OPERANDS: set[type] = {Tensor, np.ndarray, float, int, bool, np.float64, np.float32,
                              np.int64, np.int32, np.bool_}


def check_operands(op: str, args: tuple[Any, ...]) -> None:
    """Refuse operands numpy would turn into object arrays (``None``, strings, ragged or
    mixed lists), naming the op and the operand; numpy would crash deep inside its object
    loops, or worse, turn ``[1, None]`` into ``[1, nan]`` without a word."""
    for i, a in enumerate(args):
        if type(a) in _PLAIN_OPERANDS or isinstance(a, (Tensor, np.ndarray)):
            kind = a.dtype.kind if isinstance(a, (Tensor, np.ndarray)) else "f"
        elif isinstance(a, (int, float, np.number, np.bool_)) and not isinstance(a, complex):
            continue
        elif isinstance(a, (list, tuple)):
            try:
                kind = np.asarray(a).dtype.kind
            except ValueError:  # ragged
                kind = "O"
        else:
            kind = "O"
        if kind == "c" or isinstance(a, complex):
            raise DTypeError(f"{op}: operand {i} is complex; tensorgraph computes with real "
                             f"floating tensors only (take .real or abs() in numpy first)")
        if kind not in "biuf":
            shown = repr(a) if len(repr(a)) <= 40 else repr(a)[:37] + "..."
            raise TypeError(f"{op}: operand {i} is {type(a).__name__} {shown}; expected a "
                            f"Tensor, a numpy array, a number or a list of numbers")


def check_args(name: str, *args: Any) -> None:
    """Run :func:`check_operands` unless every operand is a Tensor, an array or a number."""
    for a in args:
        if type(a) in _PLAIN_OPERANDS:
            continue
        if isinstance(a, Tensor):  # a Parameter: remember its class
            _PLAIN_OPERANDS.add(type(a))
            continue
        check_operands(name, args)
        return


def stable_sigmoid(x: Any) -> Any:
    r"""Logistic function without overflow: :math:`1/(1+e^{-x})` for x >= 0,
    :math:`e^{x}/(1+e^{x})` for x < 0, both through :math:`e^{-|x|}`.

    :math:`|x|` is written as a ``where`` rather than ``abs``: the two agree in value, but
    under ``create_graph`` abs'(0) = 0 would make the second derivative of softplus at 0
    come out 0 instead of :math:`\sigma'(0) = 1/4`."""
    e = np.exp(-np.where(x >= 0, x, -x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@register
class Add(Op):
    r"""Elementwise sum. :math:`z = x + y,\ \bar x = \bar z,\ \bar y = \bar z`.

    >>> import tensorgraph as tg
    >>> tg.add(tg.tensor([1.0, 2.0]), 1.0)
    tensor([2., 3.], dtype=float32)
    """

    name = "add"
    domain = Domain(nargs=2, edges=(0.0, 1.0))
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
    domain = Domain(nargs=2, edges=(0.0, 1.0))
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
    domain = Domain(nargs=2, edges=(0.0, 1.0))
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
    domain = Domain(nargs=2, avoid=(0.0,), margin=0.3, edges={0: (0.0, 1.0), 1: (1.0, -1.0)})
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
    domain = Domain(edges=(0.0,))
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

    At the edges of the real power the conventions are PyTorch's (``torch.pow``), pinned by
    ``tests/ops/test_edges.py``:

    * :math:`\bar x = 0` wherever :math:`y = 0`, also at :math:`x = 0` (where the formula
      would give :math:`0 \cdot \infty`): :math:`x^0 = 1` is constant. At :math:`x = 0` the
      other exponents follow the formula: :math:`y = 1` gives 1, :math:`y > 1` gives 0,
      :math:`0 < y < 1` gives :math:`+\infty` and :math:`y < 0` gives :math:`\pm\infty`.
      Second derivatives are exact too (``x ** arange(3.)`` at 0 has second derivatives
      0, 0, 2): where :math:`x = y = 0` the VJP evaluates :math:`x^0` instead of
      :math:`x^{-1}`.
    * :math:`\bar y = 0` where :math:`x = 0` and :math:`y \ge 0` (as PyTorch);
      where :math:`x = 0` and :math:`y < 0`, :math:`z = +\infty` and
      :math:`\bar y = \bar z \cdot (-\infty)`, the limit from :math:`x > 0` (as PyTorch).
    * :math:`\bar y = 0` where :math:`x < 0`: the real power has no derivative in
      :math:`y` there. PyTorch gives NaN; tensorgraph keeps the finite 0 (documented in
      ``docs/reliability.md``).

    >>> import tensorgraph as tg
    >>> tg.power(tg.tensor([2.0, 3.0]), 2)
    tensor([4., 9.], dtype=float32)
    """

    name = "power"
    domain = Domain(nargs=2, ranges={0: (0.5, 2.5), 1: (-2.0, 2.0)}, edges={0: (0.0, 1.0, -1.0)},
                    edge_constants={1: (0.0, 1.0, 2.0, 3.0)})
    reference = np.power
    forward = staticmethod(np.power)

    @staticmethod
    def vjp_0(grad: Any, out: Any, x: Any, y: Any) -> Any:
        if isinstance(y, (int, float, np.floating, np.integer)):  # a scalar exponent: x ** 2
            if y == 0:
                return np.zeros_like(grad)
            return grad * y * x ** (y - 1)
        # x ** (y - 1) is 0 ** -1 = inf where x = y = 0: take x ** 0 = 1 there, so the
        # gradient is 0 * 1 = 0 and its own derivative in x stays finite too
        both_zero = np.logical_and(x == 0, y == 0)
        return grad * y * x ** np.where(both_zero, 0, y - 1)

    @staticmethod
    def vjp_1(grad: Any, out: Any, x: Any, y: Any) -> Any:
        positive = x > 0
        # x > 0: the formula; x = 0 with y < 0: z = inf and ln x = -inf (PyTorch's value);
        # x = 0 with y >= 0, and x < 0: 0. ln x is 0 where unused, so that no 0 * inf is
        # ever computed (it would warn although the where discards it)
        infinite = np.logical_and(x == 0, y < 0)
        # (each where has an array operand, so that it keeps x's dtype: a where of two
        # Python scalars would be float64 in a float32 graph)
        log_x = np.where(positive, np.log(np.where(positive, x, 1)), 0)
        log_x = np.where(infinite, -np.inf, log_x)
        return np.where(np.logical_or(positive, infinite), grad * out * log_x, 0)


@register
class Exp(Op):
    r"""Elementwise exponential. :math:`z = e^x,\ \bar x = \bar z\, z`.

    >>> import tensorgraph as tg
    >>> tg.exp(tg.tensor([0.0]))
    tensor([1.], dtype=float32)
    """

    name = "exp"
    domain = Domain(edges=(0.0,))
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
    domain = Domain(low=0.2, high=4.0, edges=(1.0,))
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
    domain = Domain(low=-0.8, high=4.0, edges=(0.0,))
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
    domain = Domain(low=0.2, high=4.0, edges=(1.0,), kinks={0.0: 0.0})
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
    domain = Domain(avoid=(0.0,), kinks={0.0: 0.0})
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
    domain = Domain(edges=(0.0,))
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
    domain = Domain(edges=(0.0,))
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
    domain = Domain(edges=(0.0,))
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
    domain = Domain(low=-6.0, high=6.0, edges=(0.0,))
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
    domain = Domain(avoid=(0.0,), kinks={0.0: 0.0})

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
    domain = Domain(avoid=(0.0,), kinks={0.0: "negative_slope"},
                    params=lambda shapes: [{"negative_slope": 0.01}, {"negative_slope": 0.2}])

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
    domain = Domain(low=-6.0, high=6.0, edges=(0.0,))

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
    domain = Domain(nargs=2, distinct=True, ties="share")
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
    domain = Domain(nargs=2, distinct=True, ties="share")
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
    domain = Domain(avoid=(-1.0, 1.0), edges=(0.0,), kinks={"a_min": 1.0, "a_max": 1.0},
                    params=lambda shapes: [
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
    domain = Domain(nargs=3, shapes="where", nondiff=(0,), edges=(0.0,))
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


def add(x: Any, y: Any) -> Tensor:
    """Elementwise ``x + y``; see :class:`Add`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("add", x, y)
    return Add.apply(x, y)


def subtract(x: Any, y: Any) -> Tensor:
    """Elementwise ``x - y``; see :class:`Subtract`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("subtract", x, y)
    return Subtract.apply(x, y)


def multiply(x: Any, y: Any) -> Tensor:
    """Elementwise ``x * y``; see :class:`Multiply`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("multiply", x, y)
    return Multiply.apply(x, y)


def divide(x: Any, y: Any) -> Tensor:
    """Elementwise ``x / y``; see :class:`Divide`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("divide", x, y)
    return Divide.apply(x, y)


def negative(x: Any) -> Tensor:
    """Elementwise ``-x``; see :class:`Negative`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("negative", x)
    return Negative.apply(x)


def power(x: Any, y: Any) -> Tensor:
    """Elementwise ``x ** y``; see :class:`Power`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("power", x, y)
    return Power.apply(x, y)


def exp(x: Any) -> Tensor:
    """Elementwise ``exp``; see :class:`Exp`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("exp", x)
    return Exp.apply(x)


def log(x: Any) -> Tensor:
    """Elementwise ``log``; see :class:`Log`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("log", x)
    return Log.apply(x)


def log1p(x: Any) -> Tensor:
    """Elementwise ``log1p``; see :class:`Log1p`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("log1p", x)
    return Log1p.apply(x)


def sqrt(x: Any) -> Tensor:
    """Elementwise ``sqrt``; see :class:`Sqrt`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("sqrt", x)
    return Sqrt.apply(x)


def abs(x: Any) -> Tensor:
    """Elementwise ``abs``; see :class:`Abs`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("abs", x)
    return Abs.apply(x)


def sin(x: Any) -> Tensor:
    """Elementwise ``sin``; see :class:`Sin`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("sin", x)
    return Sin.apply(x)


def cos(x: Any) -> Tensor:
    """Elementwise ``cos``; see :class:`Cos`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("cos", x)
    return Cos.apply(x)


def tanh(x: Any) -> Tensor:
    """Elementwise ``tanh``; see :class:`Tanh`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("tanh", x)
    return Tanh.apply(x)


def sigmoid(x: Any) -> Tensor:
    """Elementwise ``sigmoid``; see :class:`Sigmoid`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("sigmoid", x)
    return Sigmoid.apply(x)


def relu(x: Any) -> Tensor:
    """Elementwise ``relu``; see :class:`Relu`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("relu", x)
    return Relu.apply(x)


def softplus(x: Any) -> Tensor:
    """Elementwise ``softplus``; see :class:`Softplus`."""
    if type(x) not in _PLAIN_OPERANDS:
        check_args("softplus", x)
    return Softplus.apply(x)


def maximum(x: Any, y: Any) -> Tensor:
    """Elementwise maximum; see :class:`Maximum`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("maximum", x, y)
    return Maximum.apply(x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """Elementwise minimum; see :class:`Minimum`."""
    if type(x) not in _PLAIN_OPERANDS or type(y) not in _PLAIN_OPERANDS:
        check_args("minimum", x, y)
    return Minimum.apply(x, y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` holds, else ``y``; see :class:`Where`."""
    if (type(condition) not in _PLAIN_OPERANDS or type(x) not in _PLAIN_OPERANDS
            or type(y) not in _PLAIN_OPERANDS):
        check_args("where", condition, x, y)
    return Where.apply(condition, x, y)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """Leaky ReLU; see :class:`LeakyRelu`."""
    if type(x) not in _PLAIN_OPERANDS or type(negative_slope) not in (float, int):
        check_args("leaky_relu", x, negative_slope)
        if np.ndim(getattr(negative_slope, "_data", negative_slope)) != 0:
            raise TypeError(f"leaky_relu: negative_slope must be a number (as in PyTorch), got "
                            f"an array of shape {np.shape(negative_slope)}")
    return LeakyRelu.apply(x, negative_slope=negative_slope)


_SCALAR_BOUNDS = frozenset({float, int})


def _is_scalar_bound(bound: Any) -> bool:
    return isinstance(bound, (int, float, np.integer, np.floating)) and not isinstance(
        bound, (bool, np.bool_))


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    r"""Clip to ``[a_min, a_max]``, as ``numpy.clip``; see :class:`Clip`.

    Either bound may be None, a number, an array or a Tensor broadcasting against ``x``
    (as ``torch.clamp``, a Tensor bound that requires grad gets a gradient). As numpy, where
    ``a_min > a_max`` the result is ``a_max``. Gradients, with ties passing to ``x``:

    .. math:: \bar x = \bar z\, [a_{min} \le x \le a_{max}],\quad
              \bar a_{min} = \bar z\, [x < a_{min} \le a_{max}],\quad
              \bar a_{max} = \bar z\, [\max(x, a_{min}) > a_{max}]

    which is ``torch.clamp``'s rule. A NaN in ``x`` or in a bound propagates to the result.

    >>> import tensorgraph as tg
    >>> tg.clip(tg.tensor([-2.0, 0.5, 2.0]), tg.tensor([-1.0, 1.0, 0.0]), 1.0)
    tensor([-1.,  1.,  1.], dtype=float32)
    """
    if a_min is None and a_max is None:
        raise ValueError("clip: at least one of a_min and a_max must be given")
    if (a_min is None or type(a_min) in _SCALAR_BOUNDS or _is_scalar_bound(a_min)) and (
            a_max is None or type(a_max) in _SCALAR_BOUNDS or _is_scalar_bound(a_max)):
        if type(x) not in _PLAIN_OPERANDS:
            check_args("clip", x)
        return Clip.apply(x, a_min=a_min, a_max=a_max)
    check_operands("clip", (x, *(b for b in (a_min, a_max) if b is not None)))
    # array or Tensor bounds: two wheres (x where it is inside, else the bound it crossed),
    # so each bound that requires grad gets its gradient and second order comes free
    shapes = [np.shape(getattr(b, "_data", b)) for b in (x, a_min, a_max) if b is not None]
    broadcast_shapes("clip", *shapes)
    out: Any = x
    try:
        if a_min is not None:
            out = where(np.logical_or(out < a_min, np.isnan(a_min)), a_min, out)
        if a_max is not None:
            out = where(np.logical_or(out > a_max, np.isnan(a_max)), a_max, out)
    except DTypeError as err:  # name the function the user called, not its parts
        raise DTypeError(f"clip: {err}") from None
    return out  # type: ignore[no-any-return]
