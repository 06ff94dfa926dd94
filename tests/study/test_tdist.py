"""Student's t quantiles and CDF: the built-in implementation against published tables,
closed forms and SciPy; the dispatch to SciPy and the fallback without it."""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tensorgraph.errors import DomainError
from tensorgraph.study import tdist

# Critical values of Student's t as printed in the usual tables (e.g. the NIST/SEMATECH
# e-Handbook of Statistical Methods, section 1.3.6.7.2), to three decimals.
PUBLISHED = {
    0.90: {1: 3.078, 10: 1.372, 30: 1.310},
    0.95: {1: 6.314, 2: 2.920, 5: 2.015, 10: 1.812, 30: 1.697, 100: 1.660},
    0.975: {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365,
            8: 2.306, 9: 2.262, 10: 2.228, 15: 2.131, 20: 2.086, 29: 2.045, 30: 2.042,
            40: 2.021, 60: 2.000, 100: 1.984, 120: 1.980},
    0.995: {1: 63.657, 2: 9.925, 5: 4.032, 10: 3.169, 30: 2.750, 100: 2.626},
}
CASES = [(q, df, value) for q, row in PUBLISHED.items() for df, value in row.items()]


@pytest.mark.parametrize(("q", "df", "value"), CASES)
def test_builtin_quantiles_match_the_published_table(q: float, df: int, value: float) -> None:
    assert tdist.t_ppf(q, df) == pytest.approx(value, abs=5e-4)
    assert tdist.t_ppf(1 - q, df) == pytest.approx(-value, abs=5e-4)


@pytest.mark.parametrize("t", [-40.0, -2.5, -0.3, 0.0, 1e-7, 0.8, 3.0, 1e4])
def test_builtin_cdf_matches_the_closed_forms_for_one_and_two_degrees(t: float) -> None:
    cauchy = 0.5 + math.atan(t) / math.pi
    two = 0.5 + t / (2 * math.sqrt(2 + t * t))
    assert tdist.t_cdf(t, 1) == pytest.approx(cauchy, rel=1e-12, abs=1e-15)
    assert tdist.t_cdf(t, 2) == pytest.approx(two, rel=1e-12, abs=1e-15)


def test_builtin_tail_keeps_its_relative_precision() -> None:
    # P(T <= -1e4) with one degree of freedom is about 3.18e-5 (Cauchy: atan's tail).
    exact = math.atan2(1.0, 1e4) / math.pi
    assert tdist.t_cdf(-1e4, 1) == pytest.approx(exact, rel=1e-12)
    assert tdist.t_ppf(exact, 1) == pytest.approx(-1e4, rel=1e-9)


def test_builtin_agrees_with_scipy() -> None:
    from scipy import stats

    for df in (0.5, 1, 2, 3, 4.5, 9, 29, 120, 1000, 1e5):
        for q in (1e-12, 0.3, 0.4999, 0.6, 0.95, 0.975, 0.995, 1 - 1e-9):
            assert tdist.t_ppf(q, df) == pytest.approx(stats.t.ppf(q, df), rel=1e-9)
        for t in (-50.0, -3.0, -1e-3, 0.5, 2.0, 1e3):
            assert tdist.t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), rel=1e-9)


@given(q=st.floats(1e-9, 1 - 1e-9), df=st.floats(0.5, 1e4))
def test_builtin_quantile_inverts_the_cdf(q: float, df: float) -> None:
    t = tdist.t_ppf(q, df)
    assert tdist.t_cdf(t, df) == pytest.approx(q, rel=1e-9, abs=1e-12)


def test_edges_and_refusals() -> None:
    assert tdist.t_ppf(0.5, 3) == 0.0
    assert tdist.t_ppf(1.0, 3) == math.inf and tdist.t_ppf(0.0, 3) == -math.inf
    assert tdist.t_cdf(math.inf, 3) == 1.0 and tdist.t_cdf(-math.inf, 3) == 0.0
    assert math.isnan(tdist.t_cdf(math.nan, 3))
    with pytest.raises(DomainError, match="degrees of freedom must be a positive number"):
        tdist.t_ppf(0.9, 0)
    with pytest.raises(DomainError, match=r"q must be a probability in \[0, 1\], got 1.5"):
        tdist.ppf(1.5, 3)
    with pytest.raises(DomainError, match="betainc: x must be in"):
        tdist.betainc(1.0, 1.0, 2.0)


def test_cdf_and_ppf_use_scipy_when_installed() -> None:
    from scipy import stats

    assert tdist.scipy_available()
    assert tdist.ppf(0.975, 7) == float(stats.t.ppf(0.975, 7))
    assert tdist.cdf(-2.1, 7) == float(stats.t.cdf(-2.1, 7))


def test_cdf_and_ppf_fall_back_to_the_builtin_without_scipy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    assert not tdist.scipy_available()
    assert tdist.ppf(0.975, 7) == tdist.t_ppf(0.975, 7)
    assert tdist.cdf(-2.1, 7) == tdist.t_cdf(-2.1, 7)
    assert tdist.ppf(0.975, 9) == pytest.approx(2.262, abs=5e-4)
