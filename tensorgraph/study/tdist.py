"""Student's t distribution: the cumulative distribution function and its inverse.

:func:`cdf` and :func:`ppf` use ``scipy.stats.t`` when SciPy is installed (the ``stats``
extra), and otherwise this module's own implementation, :func:`t_cdf` and :func:`t_ppf`,
which is tested against published tables and against SciPy.

The CDF goes through the regularised incomplete beta function,

.. math:: P(T \\le -t) = \\tfrac12 I_{\\nu/(\\nu + t^2)}\\left(\\tfrac{\\nu}{2}, \\tfrac12\\right),
   \\qquad t \\ge 0,

evaluated with its continued fraction (modified Lentz's method, as in Press et al.,
*Numerical Recipes*, 3rd ed., §6.4). The quantile inverts the CDF by bisection to the last
representable digit: slow next to SciPy, but a study asks for a handful of quantiles.
"""

from __future__ import annotations

import math

from ..errors import DomainError

__all__ = ["betainc", "cdf", "ppf", "scipy_available", "t_cdf", "t_ppf"]

_TINY = 1e-300
_EPS = 1e-16


def _check_df(df: float, where: str) -> float:
    if not (isinstance(df, int | float) and math.isfinite(df) and df > 0):
        raise DomainError(f"{where}: the degrees of freedom must be a positive number, got {df!r}")
    return float(df)


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    # Modified Lentz evaluation of the continued fraction of I_x(a, b) (NR 3rd ed., 6.4).
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            step = d * c
            h *= step
        if abs(step - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"betainc({a}, {b}, {x}): the continued fraction did not converge")


def _ibeta_series(a: float, b: float, x: float) -> float:
    # I_x(a, b) by its continued fraction, which converges fast for x < (a + 1)/(a + b + 2).
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
        + a * math.log(x) + b * math.log1p(-x)
    )
    return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function :math:`I_x(a, b)` for ``a, b > 0``,
    ``0 <= x <= 1``."""
    if not (a > 0 and b > 0):
        raise DomainError(f"betainc: a and b must be positive, got {a} and {b}")
    if not 0.0 <= x <= 1.0:
        raise DomainError(f"betainc: x must be in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    # Above the mean of the beta distribution, use I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0):
        return _ibeta_series(a, b, x)
    return 1.0 - _ibeta_series(b, a, 1.0 - x)


def _tail_or_central(t: float, df: float) -> tuple[bool, float]:
    """For ``t > 0``: ``(True, P(T > t))`` where that tail is computed to full relative
    precision (large ``t``), else ``(False, P(|T| <= t))`` (small ``t``): each side of the
    split is the incomplete beta function's fast-converging side, with no cancellation."""
    a = df / 2.0
    x = df / (df + t * t)
    if x < (a + 1.0) / (a + 2.5):
        return True, 0.5 * _ibeta_series(a, 0.5, x)
    return False, _ibeta_series(0.5, a, t * t / (df + t * t))


def t_cdf(t: float, df: float) -> float:
    """:math:`P(T \\le t)` for Student's t with ``df`` degrees of freedom (this module's own
    implementation)."""
    df = _check_df(df, "t_cdf")
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    if t == 0:
        return 0.5
    is_tail, value = _tail_or_central(abs(t), df)
    upper = value if is_tail else 0.5 - 0.5 * value  # P(T > |t|)
    return 1.0 - upper if t > 0 else upper


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom (this module's own
    implementation): the ``t`` with ``t_cdf(t, df) == q``."""
    df = _check_df(df, "t_ppf")
    if not 0.0 <= q <= 1.0:
        raise DomainError(f"t_ppf: q must be a probability in [0, 1], got {q!r}")
    if q == 0.5:
        return 0.0
    if q in (0.0, 1.0):
        return math.copysign(math.inf, q - 0.5)
    # Solve P(T > t) = upper for t > 0, then give the quantile its sign; the small tail
    # probability is used as given (1 - q would round it away for q near 0).
    upper = 1.0 - q if q > 0.5 else q
    central = 1.0 - 2.0 * upper
    sign = 1.0 if q > 0.5 else -1.0

    def below(t: float) -> bool:  # t < the quantile, compared on the precise side
        is_tail, value = _tail_or_central(t, df)
        return value > upper if is_tail else value < central

    low, high = 0.0, 1.0
    while below(high):
        low, high = high, 2.0 * high
    for _ in range(2100):  # bisection down to adjacent floats
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if below(middle):
            low = middle
        else:
            high = middle
    return sign * 0.5 * (low + high)


def scipy_available() -> bool:
    """Whether ``scipy.stats`` can be imported (the ``stats`` extra)."""
    try:
        import scipy.stats  # noqa: F401
    except ImportError:
        return False
    return True


def cdf(t: float, df: float) -> float:
    """:math:`P(T \\le t)`: ``scipy.stats.t.cdf`` when SciPy is installed, else
    :func:`t_cdf`."""
    _check_df(df, "cdf")
    if scipy_available():
        from scipy import stats

        return float(stats.t.cdf(t, df))
    return t_cdf(t, df)


def ppf(q: float, df: float) -> float:
    """The ``q`` quantile: ``scipy.stats.t.ppf`` when SciPy is installed, else
    :func:`t_ppf`."""
    _check_df(df, "ppf")
    if not 0.0 <= q <= 1.0:
        raise DomainError(f"ppf: q must be a probability in [0, 1], got {q!r}")
    if scipy_available():
        from scipy import stats

        return float(stats.t.ppf(q, df))
    return t_ppf(q, df)
