"""Confidence intervals for survey scores, hand-written and checked against published tables.

Which method, and why:

=====================  ==========================================================
Figure                 Interval
=====================  ==========================================================
a share (CSAT 4-5,     :func:`wilson`: the Wilson score interval (Wilson 1927),
CES 5-7, response      method 3 of Newcombe (1998). It stays inside 0..1, never
rate)                  has zero width at 0 or n successes, and contains the share.
NPS (-1..1)            :func:`adjusted_wald_nps`: Rocks's (2016) adjusted Wald,
                       as MeasuringU (Sauro & Lewis) recommend it: add 3/4 of a
                       promoter, 3/4 of a detractor and 3/2 of a passive (3 in
                       all) to the counts, then a Wald interval on the difference
                       of the two adjusted proportions.
a mean (CES 1..7)      :func:`t_interval`: Student's t interval, with the t
                       quantile from :func:`t_quantile`.
=====================  ==========================================================

SciPy is not used: every formula here is short, and each is tested against
published reference values (Newcombe 1998 Table I for Wilson, printed tables of
Student's t to 4 decimals), which the issue's rule asks of a hand-written
method. The normal quantile is :meth:`statistics.NormalDist.inv_cdf`.

The Student t distribution is computed, not approximated: :func:`t_cdf` is the
regularized incomplete beta function (DLMF 8.17.22, its continued fraction
evaluated with the modified Lentz algorithm), and :func:`t_quantile` starts
from Hill's approximation (G. W. Hill, "Algorithm 396: Student's
t-quantiles", Communications of the ACM 13(10), 1970) and polishes it with
safeguarded Newton steps on that distribution function until it agrees to
about 1e-12. Degrees of freedom may be fractional (Welch's test needs them).

Every interval is clipped to the range of its figure (0..1, -1..1, the
scale's range): the true value lies in that range, so clipping never loses
coverage.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Final

import attrs

from csdomain._kernel.validation import describe
from csdomain.errors import ValidationError

__all__ = [
    "NPS_DIFFERENCE_Z",
    "NPS_PSEUDO_COUNTS",
    "TWO_PROPORTION_Z",
    "WELCH_T",
    "Interval",
    "TestResult",
    "adjusted_wald_nps",
    "check_confidence",
    "holm_adjust",
    "normal_quantile",
    "nps_difference_z_test",
    "t_cdf",
    "t_interval",
    "t_quantile",
    "two_proportion_z_test",
    "welch_t_test",
    "wilson",
    "z_for",
]

_STANDARD_NORMAL: Final = NormalDist()

#: The pseudo-counts of the adjusted-Wald NPS interval (Rocks 2016; MeasuringU):
#: promoters, passives, detractors. They sum to 3 and do not depend on the confidence.
NPS_PSEUDO_COUNTS: Final = (0.75, 1.5, 0.75)


@attrs.frozen
class Interval:
    """A closed interval ``[low, high]`` of finite floats, ``low <= high``."""

    low: float
    high: float

    def __attrs_post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError.single(
                    "Interval",
                    name,
                    f"{describe(value)} is not a number; a finite float",
                )
            if not math.isfinite(value):
                raise ValidationError.single(
                    "Interval",
                    name,
                    f"{value!r} is not finite; a finite float",
                )
        if self.low > self.high:
            raise ValidationError.single(
                "Interval",
                "",
                f"low {self.low!r} is above high {self.high!r}; low must be at most high",
            )

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low

    def contains(self, value: float) -> bool:
        """True when ``low <= value <= high``."""
        return self.low <= value <= self.high

    def overlaps(self, other: Interval) -> bool:
        """True when the two intervals share at least one point."""
        return self.low <= other.high and other.low <= self.high


def check_confidence(owner: str, confidence: object) -> float:
    """``confidence`` as a float, or a ValidationError naming ``owner`` unless
    0 < confidence < 1."""
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0 < confidence < 1
    ):
        raise ValidationError.single(
            owner,
            "confidence",
            f"{describe(confidence)} is not a confidence level; a number strictly "
            "between 0 and 1 (0.95 for 95%)",
        )
    return float(confidence)


def _check_count(owner: str, path: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError.single(
            owner, path, f"{describe(value)} is not a count; an int of at least 0"
        )
    return value


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (``statistics.NormalDist().inv_cdf``)."""
    return _STANDARD_NORMAL.inv_cdf(probability)


def z_for(confidence: float) -> float:
    """The two-sided critical value of the standard normal: ``z`` with
    ``P(-z < Z < z) = confidence`` (1.959964 for 0.95)."""
    confidence = check_confidence("z_for", confidence)
    return normal_quantile(0.5 + confidence / 2)


def _clip(low: float, high: float, lowest: float, highest: float) -> Interval:
    return Interval(min(max(low, lowest), highest), max(min(high, highest), lowest))


def wilson(successes: int, n: int, confidence: float = 0.95) -> Interval | None:
    """The Wilson score interval for the proportion ``successes / n``.

    The set of ``p`` with ``|p_hat - p| <= z * sqrt(p (1 - p) / n)``: centre
    ``(p_hat + z²/2n) / (1 + z²/n)``, half-width
    ``z / (1 + z²/n) * sqrt(p_hat (1 - p_hat) / n + z² / 4n²)``. It lies in
    0..1 and contains ``p_hat``. ``n == 0`` has no interval: None.

    >>> interval = wilson(81, 263)
    >>> round(interval.low, 4), round(interval.high, 4)
    (0.2553, 0.3662)
    """
    confidence = check_confidence("wilson", confidence)
    _check_count("wilson", "successes", successes)
    _check_count("wilson", "n", n)
    if successes > n:
        raise ValidationError.single(
            "wilson",
            "successes",
            f"{successes} successes out of n={n}; successes must be at most n",
        )
    if n == 0:
        return None
    z = z_for(confidence)
    share = successes / n
    z2n = z * z / n
    centre = (share + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(share * (1 - share) / n + z2n / (4 * n))
    low, high = centre - half, centre + half
    # Rounding must not push the exact ends (0 or n successes) off the share itself.
    if successes == 0:
        low = 0.0
    if successes == n:
        high = 1.0
    return _clip(min(low, share), max(high, share), 0.0, 1.0)


def adjusted_wald_nps(
    promoters: int, passives: int, detractors: int, confidence: float = 0.95
) -> Interval | None:
    """The adjusted-Wald interval for the Net Promoter Score, on the scale -1..1.

    Exactly the method MeasuringU (Sauro & Lewis) recommend after Rocks (2016):
    with ``n`` answers, ``n' = n + 3``; ``p' = (promoters + 3/4) / n'``,
    ``d' = (detractors + 3/4) / n'`` (passives get the remaining 3/2);
    ``nps' = p' - d'``; variance ``(p' + d' - nps'²) / n'`` (the variance of a
    difference of two proportions of one multinomial sample); interval
    ``nps' ± z * sqrt(variance)``. The pseudo-counts are the same at every
    confidence level, as in Rocks's method.

    Two choices of ours, both only ever widening the interval: it is clipped to
    -1..1, and, because it is centred on the shrunken ``nps'``, it is extended
    to reach the raw score ``(promoters - detractors) / n`` when a tiny or
    extreme sample would leave the score outside (one promoter: raw 1.0,
    interval up to 0.985 before the extension). ``n == 0``: None.
    """
    confidence = check_confidence("adjusted_wald_nps", confidence)
    for path, count in (
        ("promoters", promoters),
        ("passives", passives),
        ("detractors", detractors),
    ):
        _check_count("adjusted_wald_nps", path, count)
    n = promoters + passives + detractors
    if n == 0:
        return None
    z = z_for(confidence)
    extra_promoters, extra_passives, extra_detractors = NPS_PSEUDO_COUNTS
    adjusted_n = n + extra_promoters + extra_passives + extra_detractors
    promoter_share = (promoters + extra_promoters) / adjusted_n
    detractor_share = (detractors + extra_detractors) / adjusted_n
    adjusted = promoter_share - detractor_share
    variance = (promoter_share + detractor_share - adjusted * adjusted) / adjusted_n
    half = z * math.sqrt(variance)
    raw = (promoters - detractors) / n
    return _clip(min(adjusted - half, raw), max(adjusted + half, raw), -1.0, 1.0)


# -- Student's t ----------------------------------------------------------------------

_TINY: Final = 1e-300
_EPSILON: Final = 1e-15


def _beta_continued_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of DLMF 8.17.22, ``1 / (1 + d1 / (1 + d2 / (1 + ...)))``,
    by the modified Lentz algorithm."""
    value = 1.0
    numerator_part = 1.0  # Lentz's C
    denominator_part = 0.0  # Lentz's D
    for step in range(1, 10_000):
        m = step // 2
        if step % 2 == 0:
            d = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            d = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        denominator_part = 1.0 + d * denominator_part
        if abs(denominator_part) < _TINY:
            denominator_part = _TINY
        numerator_part = 1.0 + d / numerator_part
        if abs(numerator_part) < _TINY:
            numerator_part = _TINY
        denominator_part = 1.0 / denominator_part
        delta = numerator_part * denominator_part
        value *= delta
        if abs(delta - 1.0) < _EPSILON:
            break
    return 1.0 / value


def _regularized_beta(x: float, a: float, b: float) -> float:
    """``I_x(a, b)``, the regularized incomplete beta function, for 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        # The fraction converges fast only below its mean; use I_x(a,b) = 1 - I_1-x(b,a).
        return 1.0 - _regularized_beta(1.0 - x, b, a)
    log_front = (
        a * math.log(x)
        + b * math.log1p(-x)
        - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
        - math.log(a)
    )
    return math.exp(log_front) * _beta_continued_fraction(x, a, b)


def _check_df(owner: str, df: object) -> float:
    if isinstance(df, bool) or not isinstance(df, int | float) or not math.isfinite(df) or df < 1:
        raise ValidationError.single(
            owner, "df", f"{describe(df)} is not a number of degrees of freedom; at least 1"
        )
    return float(df)


def t_cdf(t: float, df: float) -> float:
    """``P(T <= t)`` for Student's t with ``df`` degrees of freedom (``df >= 1``, may be
    fractional): ``1 - I_x(df/2, 1/2) / 2`` with ``x = df / (df + t²)``, for ``t >= 0``."""
    df = _check_df("t_cdf", df)
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * _regularized_beta(df / (df + t * t), df / 2, 0.5)
    return 1.0 - tail if t > 0 else tail


def _t_density(t: float, df: float) -> float:
    log_density = (
        math.lgamma((df + 1) / 2)
        - math.lgamma(df / 2)
        - 0.5 * math.log(df * math.pi)
        - (df + 1) / 2 * math.log1p(t * t / df)
    )
    return math.exp(log_density)


def _hill_upper(two_tailed: float, df: float) -> float:
    """Hill's (1970, Algorithm 396) approximation of the t quantile with two-tailed
    probability ``two_tailed`` (0 < two_tailed < 1): the ``t > 0`` with
    ``P(|T| > t) = two_tailed``. Exact for 1 and 2 degrees of freedom."""
    if df == 1:
        angle = two_tailed * math.pi / 2
        return math.cos(angle) / math.sin(angle)
    if df == 2:
        return math.sqrt(2 / (two_tailed * (2 - two_tailed)) - 2)
    a = 1 / (df - 0.5)
    b = 48 / (a * a)
    c = ((20700 * a / b - 98) * a - 16) * a + 96.36
    d = ((94.5 / (b + c) - 3) / b + 1) * math.sqrt(a * math.pi / 2) * df
    x = d * two_tailed
    y = x ** (2 / df)
    if y > 0.05 + a:
        # The asymptotic (Cornish-Fisher-like) branch, seeded by the normal quantile.
        x = normal_quantile(1 - two_tailed / 2)
        y = x * x
        if df < 5:
            c += 0.3 * (df - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x
        y = math.expm1(a * y * y)
    else:
        y = (
            (1 / (((df + 6) / (df * y) - 0.089 * d - 0.822) * (df + 2) * 3) + 0.5 / (df + 4)) * y
            - 1
        ) * (df + 1) / (df + 2) + 1 / y
    return math.sqrt(df * y)


def t_quantile(probability: float, df: float) -> float:
    """The Student t quantile: ``t`` with ``P(T <= t) = probability``.

    Hill's Algorithm 396 gives the starting point; Newton steps on :func:`t_cdf`
    (kept inside a bracket that bisection narrows when a step would leave it)
    make it exact to about 1e-12. ``df >= 1``, fractional allowed.

    >>> round(t_quantile(0.975, 10), 4)
    2.2281
    """
    df = _check_df("t_quantile", df)
    if (
        isinstance(probability, bool)
        or not isinstance(probability, int | float)
        or not 0 < probability < 1
    ):
        raise ValidationError.single(
            "t_quantile",
            "probability",
            f"{describe(probability)} is not a probability; strictly between 0 and 1",
        )
    if probability == 0.5:
        return 0.0
    upper = probability > 0.5
    target = probability if upper else 1 - probability  # solve for t > 0
    t = _hill_upper(2 * (1 - target), df)
    low, high = 0.0, math.inf
    for _ in range(200):
        error = t_cdf(t, df) - target
        if error > 0:
            high = min(high, t)
        else:
            low = max(low, t)
        if abs(error) < 1e-15:
            break
        step = error / _t_density(t, df)
        candidate = t - step
        if not low < candidate < high:
            candidate = (low + high) / 2 if math.isfinite(high) else max(2 * t, low + 1)
        if abs(candidate - t) <= 1e-13 * max(1.0, t):
            t = candidate
            break
        t = candidate
    return t if upper else -t


def t_interval(
    mean: float,
    sd: float,
    n: int,
    confidence: float = 0.95,
    *,
    bounds: tuple[float, float] | None = None,
) -> Interval | None:
    """Student's t interval for a mean: ``mean ± t(1 - α/2, n - 1) * sd / sqrt(n)``.

    ``sd`` is the sample standard deviation (``n - 1`` in the denominator).
    ``bounds`` (the scale's range, e.g. ``(1, 7)`` for CES) clips the interval.
    ``n == 0``: None. ``n == 1`` leaves the spread unknown: the interval is the
    whole of ``bounds`` (or None without bounds) rather than a made-up width.
    """
    confidence = check_confidence("t_interval", confidence)
    _check_count("t_interval", "n", n)
    for path, value in (("mean", mean), ("sd", sd)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValidationError.single(
                "t_interval", path, f"{describe(value)} is not a finite number"
            )
    if sd < 0:
        raise ValidationError.single(
            "t_interval", "sd", f"{sd!r} is negative; a standard deviation is at least 0"
        )
    if bounds is not None and not bounds[0] <= mean <= bounds[1]:
        raise ValidationError.single(
            "t_interval",
            "mean",
            f"{mean!r} lies outside the bounds {bounds[0]!r}..{bounds[1]!r}",
        )
    if n == 0:
        return None
    if n == 1:
        return None if bounds is None else Interval(float(bounds[0]), float(bounds[1]))
    half = t_quantile(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is None:
        return Interval(low, high)
    return _clip(low, high, float(bounds[0]), float(bounds[1]))


# -- tests of "lower than the rest" ------------------------------------------------------

#: The name :func:`two_proportion_z_test` puts in its results.
TWO_PROPORTION_Z: Final = "two-proportion z test (pooled, one-sided: lower)"
#: The name :func:`nps_difference_z_test` puts in its results.
NPS_DIFFERENCE_Z: Final = "z test for a difference of two NPS (unpooled, one-sided: lower)"
#: The name :func:`welch_t_test` puts in its results.
WELCH_T: Final = "Welch's t test (unequal variances, one-sided: lower)"


@attrs.frozen
class TestResult:
    """The outcome of a one-sided test that a group scores lower than the rest.

    ``p_value`` is the probability, were the two equal, of a statistic at least this
    low; ``df`` is the degrees of freedom of a t test (None for a z test).
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic: float
    p_value: float
    df: float | None = None


def _lower_tail_normal(z: float) -> float:
    return _STANDARD_NORMAL.cdf(z)


def two_proportion_z_test(
    successes: int, n: int, rest_successes: int, rest_n: int
) -> TestResult | None:
    """Is the share ``successes / n`` lower than ``rest_successes / rest_n``?

    The pooled two-proportion z test: ``z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2))``
    with ``p`` the pooled share, ``p_value = Φ(z)``. When both groups are all
    successes or all failures they do not differ: ``z = 0``, ``p_value = 1``.
    None when either group is empty.
    """
    for path, count in (
        ("successes", successes),
        ("n", n),
        ("rest_successes", rest_successes),
        ("rest_n", rest_n),
    ):
        _check_count("two_proportion_z_test", path, count)
    if successes > n or rest_successes > rest_n:
        raise ValidationError.single(
            "two_proportion_z_test",
            "",
            f"{successes}/{n} or {rest_successes}/{rest_n}: successes must be at most n",
        )
    if n == 0 or rest_n == 0:
        return None
    pooled = (successes + rest_successes) / (n + rest_n)
    variance = pooled * (1 - pooled) * (1 / n + 1 / rest_n)
    if variance == 0:
        return TestResult(TWO_PROPORTION_Z, 0.0, 1.0)
    z = (successes / n - rest_successes / rest_n) / math.sqrt(variance)
    return TestResult(TWO_PROPORTION_Z, z, _lower_tail_normal(z))


def nps_difference_z_test(
    group: tuple[int, int, int], rest: tuple[int, int, int]
) -> TestResult | None:
    """Is the NPS of ``group`` lower than that of ``rest``? Each is
    ``(promoters, passives, detractors)``.

    A Wald z test on the difference of two independent NPS: each NPS has variance
    ``(P + D - (P - D)²) / n`` (shares of promoters and detractors), the two are
    added, ``p_value = Φ(z)``. None when a group is empty or both variances are 0
    (every answer in both groups in one category: nothing to test).
    """
    estimates = []
    for path, counts in (("group", group), ("rest", rest)):
        for index, count in enumerate(counts):
            _check_count("nps_difference_z_test", f"{path}[{index}]", count)
        promoters, passives, detractors = counts
        n = promoters + passives + detractors
        if n == 0:
            return None
        score = (promoters - detractors) / n
        estimates.append((score, ((promoters + detractors) / n - score * score) / n))
    (score, variance), (rest_score, rest_variance) = estimates
    if variance + rest_variance == 0:
        return None
    z = (score - rest_score) / math.sqrt(variance + rest_variance)
    return TestResult(NPS_DIFFERENCE_Z, z, _lower_tail_normal(z))


def welch_t_test(
    group: tuple[float, float, int], rest: tuple[float, float, int]
) -> TestResult | None:
    """Is the mean of ``group`` lower than that of ``rest``? Each is
    ``(mean, sample sd, n)``.

    Welch's t test: ``t = (m1 - m2) / sqrt(s1²/n1 + s2²/n2)`` with the
    Welch-Satterthwaite degrees of freedom; ``p_value = P(T_df <= t)`` from
    :func:`t_cdf`. Unlike Student's pooled test it does not assume equal variances,
    which differ freely between groups of survey answers. None when a group has
    fewer than 2 answers or both standard deviations are 0.
    """
    parts = []
    for path, (mean, sd, n) in (("group", group), ("rest", rest)):
        _check_count("welch_t_test", f"{path}.n", n)
        if n < 2:
            return None
        if sd < 0 or not math.isfinite(sd) or not math.isfinite(mean):
            raise ValidationError.single(
                "welch_t_test", path, f"mean {mean!r}, sd {sd!r}: finite, sd at least 0"
            )
        parts.append((mean, sd * sd / n, n))
    (mean, share, n), (rest_mean, rest_share, rest_n) = parts
    standard_error2 = share + rest_share
    if standard_error2 == 0:
        return None
    t = (mean - rest_mean) / math.sqrt(standard_error2)
    df = standard_error2**2 / (share**2 / (n - 1) + rest_share**2 / (rest_n - 1))
    df = max(df, 1.0)  # at least min(n1, n2) - 1 >= 1 in exact arithmetic
    return TestResult(WELCH_T, t, t_cdf(t, df), df)


def holm_adjust(p_values: tuple[float, ...] | list[float]) -> tuple[float, ...]:
    """Holm's (1979) step-down adjustment of ``p_values``, in their order.

    Sorted ascending, the i-th of m (from 1) becomes ``min(1, (m - i + 1) p)``, made
    non-decreasing along the sorted order. Rejecting where the adjusted value is at
    most ``alpha`` keeps the chance of any false finding at most ``alpha`` across all
    the groups tested (the family-wise error), with no assumption about how the
    tests depend on one another, and is never less powerful than Bonferroni.
    """
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    m = len(p_values)
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return tuple(adjusted)
