"""Confidence intervals and tests of csdomain.surveys.intervals: published reference
values first, then the laws every interval keeps."""

from __future__ import annotations

import itertools
import math
import statistics
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain.errors import ValidationError
from csdomain.surveys.intervals import (
    NPS_PSEUDO_COUNTS,
    Interval,
    adjusted_wald_nps,
    holm_adjust,
    nps_difference_z_test,
    t_cdf,
    t_interval,
    t_quantile,
    two_proportion_z_test,
    welch_t_test,
    wilson,
    z_for,
)

# -- reference values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe_1998_table_1(
    successes: int, n: int, low: float, high: float
) -> None:
    """R. G. Newcombe, "Two-sided confidence intervals for the single proportion:
    comparison of seven methods", Statistics in Medicine 17 (1998) 857-872, Table I,
    method 3 (Wilson score interval without continuity correction), 95%: the four
    examples 81/263, 15/148, 0/20 and 1/29, to the 4 decimals printed."""
    interval = wilson(successes, n, 0.95)
    assert interval is not None
    assert round(interval.low, 4) == low
    assert round(interval.high, 4) == high


# C. Taylor's table of Student's t (ThoughtCo, "Student's t distribution table",
# mirrored at fr.scribd.com/document/347558049/T-Distribution): upper-tail area
# -> critical value, printed to 5-7 significant digits. Quantile = 1 - area.
_T_TABLE = [
    (1, 0.05, 6.313752),
    (1, 0.025, 12.7062),
    (1, 0.01, 31.82052),
    (1, 0.005, 63.65674),
    (2, 0.1, 1.885618),
    (2, 0.05, 2.919986),
    (2, 0.025, 4.30265),
    (2, 0.005, 9.92484),
    (3, 0.05, 2.353363),
    (3, 0.025, 3.18245),
    (3, 0.01, 4.5407),
    (3, 0.005, 5.84091),
    (4, 0.1, 1.533206),
    (4, 0.025, 2.77645),
    (4, 0.01, 3.74695),
    (5, 0.05, 2.015048),
    (5, 0.025, 2.57058),
    (5, 0.01, 3.36493),
    (5, 0.005, 4.03214),
    (7, 0.025, 2.36462),
    (9, 0.005, 3.24984),
    (10, 0.1, 1.372184),
    (10, 0.05, 1.812461),
    (10, 0.025, 2.22814),
    (10, 0.01, 2.76377),
    (10, 0.005, 3.16927),
]


@pytest.mark.parametrize(("df", "area", "critical"), _T_TABLE)
def test_t_quantile_matches_a_published_table_to_4_decimals(
    df: int, area: float, critical: float
) -> None:
    """Student t critical values for 80% to 99% two-sided confidence (upper-tail areas
    0.1 to 0.005) and 1 to 10 degrees of freedom, from C. Taylor's printed table (see
    ``_T_TABLE``): the quantile agrees to 4 decimals, and its distribution function
    gives back the area."""
    assert abs(t_quantile(1 - area, df) - critical) < 5e-5
    assert t_cdf(critical, df) == pytest.approx(1 - area, abs=2e-6)


@pytest.mark.parametrize(
    ("df", "area", "critical"),
    [
        (20, 0.025, 2.086),
        (29, 0.025, 2.045),
        (30, 0.005, 2.750),
        (60, 0.05, 1.671),
        (100, 0.025, 1.984),
    ],
)
def test_t_quantile_matches_nist_for_larger_df(df: int, area: float, critical: float) -> None:
    """NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.7.2 "Critical values of
    the Student's t distribution" (3 decimals printed), for larger degrees of freedom."""
    assert round(t_quantile(1 - area, df), 3) == critical


def test_t_quantile_is_the_normal_quantile_for_huge_df() -> None:
    """As df grows Student's t becomes the normal distribution (statistics.NormalDist)."""
    assert t_quantile(0.975, 1e7) == pytest.approx(z_for(0.95), abs=1e-6)


def test_welch_t_test_matches_a_published_example() -> None:
    """Wikipedia, "Welch's t-test", Examples, example 1 (two samples of 15): Welch's
    t = -2.46, df = 25.0, two-sided p = 0.021."""
    a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4]
    a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4]
    result = welch_t_test(
        (statistics.mean(a1), statistics.stdev(a1), len(a1)),
        (statistics.mean(a2), statistics.stdev(a2), len(a2)),
    )
    assert result is not None
    assert round(result.statistic, 2) == -2.46
    assert result.df is not None and round(result.df, 1) == 25.0
    assert round(2 * result.p_value, 3) == 0.021


def test_adjusted_wald_nps_worked_example() -> None:
    """MeasuringU's worked example of the adjusted-Wald NPS interval (Sauro & Lewis,
    after Rocks 2016, "Interval estimation for the net promoter score", The American
    Statistician 70(4)): 36 answers, 15 promoters, 13 passives, 8 detractors; NPS 19%,
    95% interval about -6% to 42%. The interval is also recomputed here step by step
    in exact arithmetic from the stated method (n + 3, 3/4 to promoters and to
    detractors), so the formula, not only the rounding, is checked."""
    interval = adjusted_wald_nps(15, 13, 8, 0.95)
    assert interval is not None
    assert round(100 * interval.low) == -6
    assert round(100 * interval.high) == 42

    adjusted_n = Fraction(36) + 3
    promoters = (15 + Fraction(3, 4)) / adjusted_n
    detractors = (8 + Fraction(3, 4)) / adjusted_n
    centre = promoters - detractors
    variance = (promoters + detractors - centre**2) / adjusted_n
    half = z_for(0.95) * math.sqrt(variance)
    assert interval.low == pytest.approx(float(centre) - half, abs=1e-12)
    assert interval.high == pytest.approx(float(centre) + half, abs=1e-12)
    assert sum(NPS_PSEUDO_COUNTS) == 3


def test_holm_adjustment_by_hand() -> None:
    """Holm (1979): sorted p 0.01, 0.03, 0.04 of m = 3 become 3*0.01, max(0.03, 2*0.03),
    max(0.06, 1*0.04), returned in the input order."""
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx((0.03, 0.06, 0.06))
    assert holm_adjust([0.5, 0.9]) == (1.0, 1.0)
    assert holm_adjust([]) == ()


def test_two_proportion_z_test_by_hand() -> None:
    """40/100 against 60/100: pooled p 0.5, se sqrt(0.25 * 0.02), z = -0.2 / 0.0707."""
    result = two_proportion_z_test(40, 100, 60, 100)
    assert result is not None
    assert result.statistic == pytest.approx(-0.2 / math.sqrt(0.25 * 0.02))
    assert result.p_value == pytest.approx(statistics.NormalDist().cdf(result.statistic))
    assert result.p_value < 0.01
    assert two_proportion_z_test(5, 5, 7, 7) == two_proportion_z_test(0, 3, 0, 9)
    assert two_proportion_z_test(0, 0, 1, 2) is None


def test_nps_difference_z_test_by_hand() -> None:
    """Group 2 promoters, 8 detractors of 10 (NPS -0.6, variance (1 - 0.36)/10) against
    6 and 2 of 10 with 2 passives (NPS 0.4, variance (0.8 - 0.16)/10)."""
    result = nps_difference_z_test((2, 0, 8), (6, 2, 2))
    assert result is not None
    assert result.statistic == pytest.approx(-1.0 / math.sqrt(0.064 + 0.064))
    assert nps_difference_z_test((3, 0, 0), (5, 0, 0)) is None
    assert nps_difference_z_test((0, 0, 0), (5, 0, 0)) is None


# -- edges and bad input ----------------------------------------------------------------


def test_no_answers_give_no_interval() -> None:
    assert wilson(0, 0) is None
    assert adjusted_wald_nps(0, 0, 0) is None
    assert t_interval(4.0, 1.0, 0) is None


def test_one_answer_mean_interval_is_the_whole_scale() -> None:
    assert t_interval(6.0, 0.0, 1, bounds=(1, 7)) == Interval(1.0, 7.0)
    assert t_interval(6.0, 0.0, 1) is None


def test_one_promoter_interval_reaches_the_raw_score() -> None:
    """Centred on the shrunken 0.25, Rocks's interval for a single promoter stops at
    0.985; ours is extended to include the score itself (1.0)."""
    interval = adjusted_wald_nps(1, 0, 0)
    assert interval is not None
    assert interval.high == 1.0
    assert interval.low == pytest.approx(0.25 - z_for(0.95) * 0.375)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, True, "0.95", float("nan")])
def test_a_bad_confidence_is_refused(confidence: object) -> None:
    with pytest.raises(ValidationError, match="confidence"):
        wilson(1, 2, confidence)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="confidence"):
        adjusted_wald_nps(1, 1, 1, confidence)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="confidence"):
        t_interval(3.0, 1.0, 5, confidence)  # type: ignore[arg-type]


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValidationError, match="successes must be at most n"):
        wilson(5, 4)
    with pytest.raises(ValidationError, match="not a count"):
        wilson(-1, 4)
    with pytest.raises(ValidationError, match="not a count"):
        adjusted_wald_nps(1, True, 0)
    with pytest.raises(ValidationError, match="negative"):
        t_interval(3.0, -1.0, 5)
    with pytest.raises(ValidationError, match="degrees of freedom"):
        t_quantile(0.9, 0.5)
    with pytest.raises(ValidationError, match="probability"):
        t_quantile(1.0, 5)


def test_interval_refuses_inverted_or_infinite_ends() -> None:
    with pytest.raises(ValidationError, match="above high"):
        Interval(0.6, 0.4)
    with pytest.raises(ValidationError, match="finite"):
        Interval(0.0, math.inf)


# -- laws -------------------------------------------------------------------------------

confidences = st.floats(min_value=0.5, max_value=0.999)


@st.composite
def successes_and_n(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(min_value=1, max_value=5000))
    return draw(st.integers(min_value=0, max_value=n)), n


@given(successes_and_n(), confidences, confidences)
def test_wilson_laws(case: tuple[int, int], c1: float, c2: float) -> None:
    """The interval lies in 0..1, contains the share, and a higher confidence gives an
    interval containing the lower confidence's."""
    successes, n = case
    narrow, wide = wilson(successes, n, min(c1, c2)), wilson(successes, n, max(c1, c2))
    assert narrow is not None and wide is not None
    assert 0 <= wide.low <= narrow.low <= successes / n <= narrow.high <= wide.high <= 1


counts = st.integers(min_value=0, max_value=3000)


@given(counts, counts, counts, confidences, confidences)
def test_adjusted_wald_nps_laws(
    promoters: int, passives: int, detractors: int, c1: float, c2: float
) -> None:
    """In -1..1, contains the raw NPS, nested by confidence."""
    n = promoters + passives + detractors
    if n == 0:
        assert adjusted_wald_nps(promoters, passives, detractors, c1) is None
        return
    raw = (promoters - detractors) / n
    narrow = adjusted_wald_nps(promoters, passives, detractors, min(c1, c2))
    wide = adjusted_wald_nps(promoters, passives, detractors, max(c1, c2))
    assert narrow is not None and wide is not None
    assert -1 <= wide.low <= narrow.low <= raw <= narrow.high <= wide.high <= 1


@given(
    st.lists(st.integers(min_value=1, max_value=7), min_size=2, max_size=300),
    confidences,
    confidences,
)
def test_t_interval_laws(values: list[int], c1: float, c2: float) -> None:
    """In 1..7 (clipped to the CES scale), contains the mean, nested by confidence."""
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    narrow = t_interval(mean, sd, len(values), min(c1, c2), bounds=(1, 7))
    wide = t_interval(mean, sd, len(values), max(c1, c2), bounds=(1, 7))
    assert narrow is not None and wide is not None
    assert 1 <= wide.low <= narrow.low <= mean <= narrow.high <= wide.high <= 7


@given(
    st.floats(min_value=1e-6, max_value=1 - 1e-6),
    st.one_of(st.integers(min_value=1, max_value=500), st.floats(min_value=1, max_value=500)),
)
def test_t_quantile_inverts_the_distribution_and_is_symmetric(p: float, df: float) -> None:
    q = t_quantile(p, df)
    assert t_cdf(q, df) == pytest.approx(p, rel=1e-9, abs=1e-13)
    assert t_quantile(1 - p, df) == pytest.approx(-q, rel=1e-9, abs=1e-9)


@given(
    st.floats(min_value=0.01, max_value=0.99),
    st.floats(min_value=0.01, max_value=0.99),
    st.integers(min_value=1, max_value=200),
)
def test_t_quantile_increases_with_probability(p1: float, p2: float, df: int) -> None:
    low, high = sorted((p1, p2))
    assert t_quantile(low, df) <= t_quantile(high, df)


@given(st.lists(st.floats(min_value=0, max_value=1), max_size=30))
def test_holm_laws(p_values: list[float]) -> None:
    """Adjusted p-values are at least the raw ones, at most 1, and keep their order."""
    adjusted = holm_adjust(p_values)
    assert all(p <= a <= 1 for p, a in zip(p_values, adjusted, strict=True))
    pairs = sorted(zip(p_values, adjusted, strict=True))
    assert all(a1 <= a2 for (_, a1), (_, a2) in itertools.pairwise(pairs))
