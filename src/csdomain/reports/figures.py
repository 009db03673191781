"""The figures a report shows: durations with their quantiles, scores with intervals, counts.

Plain, immutable values: builders (:mod:`csdomain.reports.annual`,
:mod:`csdomain.reports.period`) compute them from a store; the renderers
(:mod:`csdomain.reports.render`) only format them. A figure over no data says so
(``n == 0`` and ``None`` values) rather than showing a zero.
"""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

import attrs

from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain.errors import ValidationError
from csdomain.surveys.scores import Score
from csdomain.surveys.scores import ScoreUnit as SurveyUnit

__all__ = ["ScoreFigure", "ScoreKind", "ScoreUnit", "TimeFigure", "counted"]


class ScoreKind(Enum):
    """Which satisfaction score a figure holds."""

    CSAT = "csat"
    NPS = "nps"
    CES = "ces"


declare_labels(
    ScoreKind,
    {
        ScoreKind.CSAT: _mark("report score", "Customer satisfaction (CSAT)"),
        ScoreKind.NPS: _mark("report score", "Net Promoter Score (NPS)"),
        ScoreKind.CES: _mark("report score", "Customer Effort Score (CES)"),
    },
)


class ScoreUnit(Enum):
    """How a score's value reads: a percentage (CSAT, CES share of 5-7), NPS points, a mean."""

    PERCENT = "%"
    POINTS = "points"
    MEAN = "mean"


def _count_problem(owner: str, value: object) -> ValidationError | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return ValidationError.single(owner, "n", f"expected a whole number >= 0, got {value!r}")
    return None


@attrs.frozen
class TimeFigure:
    """A duration over ``n`` tickets: its exact mean, and its median and 90th percentile.

    ``relative_error`` is the bound on the quantiles when they come from a
    sketch (DDSketch: each quantile is within that fraction of a value whose
    rank is the requested one); ``None`` when they are exact. ``business`` says
    whether the durations count only the calendar's open time.
    """

    n: int
    mean: timedelta | None = None
    median: timedelta | None = None
    p90: timedelta | None = None
    business: bool = True
    relative_error: float | None = None

    def __attrs_post_init__(self) -> None:
        problem = _count_problem("time figure", self.n)
        if problem is not None:
            raise problem
        present = [v is not None for v in (self.mean, self.median, self.p90)]
        if (self.n == 0) != (not any(present)) or (self.n > 0 and not all(present)):
            raise ValidationError.single(
                "time figure",
                "n",
                f"a figure over n={self.n} durations needs mean, median and p90 exactly when n > 0",
            )

    @classmethod
    def exact(cls, durations: list[timedelta], *, business: bool) -> TimeFigure:
        """The figure of ``durations`` computed exactly (a customer's tickets are few).

        The median of an even count is the mean of the two middle values; p90 is
        the nearest-rank 90th percentile (the smallest value with at least 90% of
        the values at or below it).
        """
        if not durations:
            return cls(0, business=business)
        ordered = sorted(durations)
        n = len(ordered)
        total = sum(ordered, timedelta(0))
        mean = timedelta(microseconds=round(total / timedelta(microseconds=1) / n))
        middle = n // 2
        median = (
            ordered[middle]
            if n % 2
            else (ordered[middle - 1] + (ordered[middle] - ordered[middle - 1]) / 2)
        )
        rank = -(-9 * n // 10)  # ceil(0.9 n), at least 1
        return cls(n, mean, median, ordered[rank - 1], business=business)


@attrs.frozen
class ScoreFigure:
    """A satisfaction score with its sample size and confidence interval.

    ``value`` is None when no answer counts (``n == 0``). ``low`` and ``high``
    bound the interval at ``confidence`` (Wilson for shares, adjusted Wald for
    NPS, Student t for means); ``small_sample`` flags a score resting on fewer
    answers than the surveys' threshold (30).
    """

    kind: ScoreKind
    unit: ScoreUnit
    n: int
    value: float | None = None
    low: float | None = None
    high: float | None = None
    confidence: float = 0.95
    small_sample: bool = True

    def __attrs_post_init__(self) -> None:
        problem = _count_problem(f"{self.kind.value} score figure", self.n)
        if problem is not None:
            raise problem
        if (self.value is None) != (self.n == 0):
            raise ValidationError.single(
                f"{self.kind.value} score figure",
                "value",
                f"a score over n={self.n} answers has a value exactly when n > 0, "
                f"got {self.value!r}",
            )

    @classmethod
    def of(cls, kind: ScoreKind, score: Score) -> ScoreFigure:
        """The figure of a :class:`csdomain.surveys.scores.Score` (whose shares and NPS
        are fractions: shown here times 100)."""
        unit = {
            SurveyUnit.PERCENT: ScoreUnit.PERCENT,
            SurveyUnit.POINTS: ScoreUnit.POINTS,
            SurveyUnit.MEAN: ScoreUnit.MEAN,
        }[score.unit]
        scale = 1.0 if unit is ScoreUnit.MEAN else 100.0
        interval = score.interval
        return cls(
            kind,
            unit,
            score.n,
            None if score.value is None else score.value * scale,
            None if interval is None else interval.low * scale,
            None if interval is None else interval.high * scale,
            score.confidence,
            score.small_sample,
        )

    @classmethod
    def empty(cls, kind: ScoreKind) -> ScoreFigure:
        """The figure of a score nobody answered."""
        unit = {ScoreKind.CSAT: ScoreUnit.PERCENT, ScoreKind.NPS: ScoreUnit.POINTS}
        return cls(kind, unit.get(kind, ScoreUnit.MEAN), 0)


def counted(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """``counts`` as pairs, most frequent first, ties by key (a stable order for reports)."""
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
