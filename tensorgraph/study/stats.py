"""How sure a study is: intervals of the mean over resampled fits, and the paired
comparison of two models with the corrected resampled t-test.

Resampled fits are not independent: two training sets of a cross-validation share most of
their samples, so the plain variance of the mean, :math:`s^2 / J`, understates the
uncertainty and the plain paired t-test finds differences that are not there. Nadeau and
Bengio (2003) correct the variance of a mean over :math:`J` resamplings, with
:math:`n_2` test and :math:`n_1` training samples in each, to

.. math:: \\hat\\sigma^2 = \\left(\\frac{1}{J} + \\frac{n_2}{n_1}\\right) s^2,

and compare it with Student's t with :math:`J - 1` degrees of freedom (Bouckaert and Frank
(2004) use the same statistic over repeated k-fold cross-validation). ``docs/study.md``
states the method and its assumptions.

C. Nadeau and Y. Bengio, "Inference for the Generalization Error", *Machine Learning* 52,
239-281 (2003). R. R. Bouckaert and E. Frank, "Evaluating the Replicability of
Significance Tests for Comparing Learning Algorithms", PAKDD 2004, LNCS 3056, 3-12.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DomainError
from . import tdist

__all__ = [
    "BETTER",
    "FEW_FITS",
    "IDENTICAL",
    "NOT_ENOUGH",
    "NO_DIFFERENCE",
    "WORSE",
    "Estimate",
    "PairedTest",
    "corrected_resampled_ttest",
    "mean_interval",
]

BETTER, WORSE = "better", "worse"
NO_DIFFERENCE = "no detectable difference"
NOT_ENOUGH = "not enough fits"
IDENTICAL = "cannot tell: differences identical in every fit"
#: Below this many pairs a verdict is flagged as resting on few fits (df = J - 1 < 4: the
#: t quantile is large and the normality of the differences is hard to believe).
FEW_FITS = 5
#: Differences closer than this are the same number (accuracies are multiples of
#: 1/n_test; their differences computed in floating point can differ in the last bits).
_SAME = 1e-12


def _check(confidence: float, ratio: float, where: str) -> None:
    if not 0 < confidence < 1:
        raise DomainError(f"{where}: confidence must be in (0, 1), got {confidence!r}")
    if not (math.isfinite(ratio) and ratio >= 0):
        raise DomainError(f"{where}: the test/train ratio must be a number >= 0, got {ratio!r}")


@dataclass(frozen=True)
class Estimate:
    """The mean of ``n`` values, their standard deviation (ddof 1) and the interval
    ``[low, high]`` of the mean at the given confidence (NaN with fewer than two values)."""

    mean: float
    std: float
    low: float
    high: float
    n: int
    confidence: float

    @property
    def half_width(self) -> float:
        """Half the width of the interval (the "±" of the table)."""
        return (self.high - self.low) / 2


def mean_interval(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95, test_train_ratio: float = 0.0
) -> Estimate:
    """The mean of ``values`` with a Student-t interval.

    ``test_train_ratio`` :math:`= n_2/n_1` > 0 applies Nadeau and Bengio's correction for
    values measured on resampled test sets (the interval of a model's cross-validated
    accuracy); 0 gives the ordinary interval (for independent values, e.g. timings).
    NaN values (failed fits) are left out.
    """
    _check(confidence, test_train_ratio, "mean_interval")
    data = np.asarray(values, dtype=np.float64)
    data = data[~np.isnan(data)]
    n = int(data.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0, confidence)
    mean = float(data.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, math.nan, 1, confidence)
    std = float(data.std(ddof=1))
    half = tdist.ppf(0.5 + confidence / 2, n - 1) * std * math.sqrt(1 / n + test_train_ratio)
    return Estimate(mean, std, mean - half, mean + half, n, confidence)


@dataclass(frozen=True)
class PairedTest:
    """A paired comparison of a model against the baseline on the same resamplings.

    ``mean_difference`` is model minus baseline; ``[low, high]`` its interval; ``t`` the
    corrected statistic with ``df`` degrees of freedom; ``p_value`` two-sided; ``verdict``
    one of "better", "worse", "no detectable difference", "not enough fits", or
    "cannot tell: differences identical in every fit" (zero variance: no spread to weigh
    the mean against, so no interval, t or p-value; all NaN).
    """

    mean_difference: float
    low: float
    high: float
    t: float
    df: int
    p_value: float
    n: int
    verdict: str


def corrected_resampled_ttest(
    differences: Sequence[float] | np.ndarray,
    test_train_ratio: float,
    confidence: float = 0.95,
) -> PairedTest:
    """Nadeau and Bengio's corrected resampled t-test of paired differences.

    Parameters
    ----------
    differences : sequence of float
        Per resampling ``j``: the model's score minus the baseline's, both measured on the
        same test set after training on the same training set.
    test_train_ratio : float
        :math:`n_2 / n_1`, test samples over training samples of one resampling
        (``1 / (k - 1)`` for k-fold cross-validation); 0 gives the ordinary paired t-test.
    confidence : float
        Of the interval; the verdict is "better"/"worse" when the two-sided p-value is
        below ``1 - confidence`` (equivalently, when the interval excludes 0).

    Examples
    --------
    >>> test = corrected_resampled_ttest([0.02, 0.01, 0.03, 0.02, 0.02], 0.25)
    >>> round(test.t, 4), test.df, test.verdict
    (4.2164, 4, 'better')
    """
    _check(confidence, test_train_ratio, "corrected_resampled_ttest")
    data = np.asarray(differences, dtype=np.float64)
    data = data[~np.isnan(data)]
    n = int(data.size)
    if n < 2:
        mean = float(data.mean()) if n else math.nan
        return PairedTest(mean, math.nan, math.nan, math.nan, max(n - 1, 0), math.nan, n,
                          NOT_ENOUGH)
    mean = float(data.mean())
    df = n - 1
    if float(np.ptp(data)) <= _SAME:
        # Every pair differs by the same amount (zero included): a t-test would divide by
        # a zero spread and call any non-zero mean certain. It is not: say so.
        return PairedTest(mean, math.nan, math.nan, math.nan, df, math.nan, n, IDENTICAL)
    variance = float(data.var(ddof=1))
    se = math.sqrt((1 / n + test_train_ratio) * variance)
    t = mean / se
    p = min(1.0, 2.0 * tdist.cdf(-abs(t), df))
    half = tdist.ppf(0.5 + confidence / 2, df) * se
    low, high = mean - half, mean + half
    alpha = 1.0 - confidence
    verdict = NO_DIFFERENCE if not p < alpha else (BETTER if mean > 0 else WORSE)
    return PairedTest(mean, low, high, t, df, p, n, verdict)
