"""The corrected resampled t-test and the intervals of the mean."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from tensorgraph.errors import DomainError
from tensorgraph.study import stats


def test_corrected_ttest_on_a_hand_computed_example() -> None:
    # Ten paired differences from 5-fold CV repeated twice: n2/n1 = 1/(k-1) = 1/4.
    d = [0.01, 0.02, 0.00, 0.03, 0.01, 0.02, 0.00, 0.01, 0.02, 0.03]
    # By hand: mean 0.015; squared deviations 6 x 0.005^2 + 4 x 0.015^2 = 1.05e-3, so
    # s^2 = 1.05e-3 / 9 = 1.1667e-4; corrected variance (1/10 + 1/4) s^2 = 4.0833e-5,
    # se = 6.3901e-3, t = 0.015 / se = 2.3474 on 9 degrees of freedom.
    # t(0.975, 9) = 2.2622 (tables), so the half-width is 2.2622 * se = 1.4455e-2, and the
    # two-sided p-value 2 P(T_9 > 2.3474) = 0.0435: below 0.05, so "better".
    test = stats.corrected_resampled_ttest(d, test_train_ratio=0.25)
    assert test.mean_difference == pytest.approx(0.015)
    assert test.t == pytest.approx(0.015 / math.sqrt(0.35 * 1.05e-3 / 9), rel=1e-12)
    assert test.t == pytest.approx(2.3474, abs=1e-4)
    assert test.df == 9 and test.n == 10
    assert test.p_value == pytest.approx(0.0435, abs=1e-4)
    assert (test.low, test.high) == pytest.approx((0.015 - 0.014455, 0.015 + 0.014455),
                                                  abs=1e-6)
    assert test.verdict == "better"
    # The uncorrected test would be far more confident (t = 4.39): the correction matters.
    plain = stats.corrected_resampled_ttest(d, test_train_ratio=0.0)
    assert plain.t == pytest.approx(4.3916, abs=1e-4)
    assert plain.p_value < test.p_value


def test_without_correction_it_is_the_ordinary_paired_t_test() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.9, 0.02, 12), rng.normal(0.91, 0.02, 12)
    test = stats.corrected_resampled_ttest(a - b, test_train_ratio=0.0)
    reference = scipy_stats.ttest_rel(a, b)
    assert test.t == pytest.approx(reference.statistic, rel=1e-10)
    assert test.p_value == pytest.approx(reference.pvalue, rel=1e-8)


def test_verdicts_follow_the_sign_and_the_p_value() -> None:
    worse = stats.corrected_resampled_ttest([-0.05, -0.04, -0.06, -0.05, -0.05], 0.25)
    assert worse.verdict == "worse" and worse.high < 0
    unclear = stats.corrected_resampled_ttest([0.02, -0.01, 0.0, 0.01, -0.02], 0.25)
    assert unclear.verdict == "no detectable difference"
    assert unclear.low < 0 < unclear.high and unclear.p_value > 0.05


def test_degenerate_samples() -> None:
    # Zero variance: no spread to weigh the mean against, so no verdict, interval or p.
    cannot = "cannot tell: differences identical in every fit"
    same = stats.corrected_resampled_ttest([0.0, 0.0, 0.0], 0.25)
    assert same.verdict == cannot and same.mean_difference == 0.0
    assert math.isnan(same.p_value) and math.isnan(same.low) and math.isnan(same.t)
    shifted = stats.corrected_resampled_ttest([0.5, 0.5], 0.25)
    assert shifted.verdict == cannot and shifted.mean_difference == 0.5
    assert math.isnan(shifted.p_value) and math.isnan(shifted.high)
    # Differences equal up to rounding (0.9 - 0.4 vs 0.8 - 0.3) are identical too.
    assert stats.corrected_resampled_ttest([0.9 - 0.4, 0.8 - 0.3, 0.5], 0.25).verdict == cannot
    one = stats.corrected_resampled_ttest([0.03], 0.25)
    assert one.verdict == "not enough fits" and math.isnan(one.p_value)
    # Failed fits arrive as NaN and are left out.
    assert stats.corrected_resampled_ttest([0.01, math.nan], 0.25).n == 1


def test_mean_interval_plain_and_corrected() -> None:
    values = [0.95, 0.97, 0.96, 0.99, 0.94, 0.96]
    plain = stats.mean_interval(values, 0.95)
    low, high = scipy_stats.t.interval(0.95, 5, loc=np.mean(values),
                                       scale=scipy_stats.sem(values))
    assert (plain.low, plain.high) == pytest.approx((low, high), rel=1e-12)
    assert plain.std == pytest.approx(np.std(values, ddof=1))
    corrected = stats.mean_interval(values, 0.95, test_train_ratio=0.25)
    widening = math.sqrt((1 / 6 + 0.25) / (1 / 6))
    assert corrected.half_width == pytest.approx(plain.half_width * widening, rel=1e-12)
    nothing = stats.mean_interval([math.nan])
    assert nothing.n == 0 and math.isnan(nothing.mean)
    single = stats.mean_interval([0.5])
    assert single.mean == 0.5 and math.isnan(single.half_width)


def test_refusals() -> None:
    with pytest.raises(DomainError, match="confidence must be in"):
        stats.mean_interval([1.0, 2.0], confidence=95)
    with pytest.raises(DomainError, match="test/train ratio must be a number >= 0"):
        stats.corrected_resampled_ttest([1.0, 2.0], -0.2)
