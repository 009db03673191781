"""Survey scores with their n, interval and a small-sample flag; breakdowns; drivers.

The figures, each a :class:`Score`:

====================  ============================  ===========  ===============
name                  value                         unit         interval
====================  ============================  ===========  ===============
``csat``              share of 4-5 among 1-5        ``%``        Wilson
``nps``               share of 9-10 minus 0-6       ``points``   adjusted Wald
``ces``               mean of 1-7                   ``mean``     Student t
``ces_share_5_7``     share of 5-7 among 1-7        ``%``        Wilson
``response_rate``     answered / sent invitations   ``%``        Wilson
====================  ============================  ===========  ===============

Shares are fractions (0..1) and the NPS lies in -1..1: ``points`` and ``%``
say how to show them (times 100). Which CES figure a survey reports is its
question's :class:`~csdomain.surveys.questions.CesReporting`. Intervals and
their checks are in :mod:`csdomain.surveys.intervals`.

Every score carries ``n`` and ``small_sample`` (``n < SMALL_SAMPLE``, 30):
a CSAT of 100% on 4 answers says so. With ``n == 0`` there is no figure:
``value`` and ``interval`` are None (never 0, which would be a figure).

:class:`ScoreTally` counts answers per scale value and merges (associative,
commutative, the empty tally an identity), so shards of responses can be
counted apart and combined: the merged tally equals the one-pass tally, hence
the same score. :func:`breakdown` cuts a score by agent, group, channel,
ticket kind, tag or period and marks each cell whose interval overlaps the
overall figure's; :func:`drivers` finds the groups that score significantly
lower than the rest, with the test named and Holm's correction across groups.
Both read :class:`ResponseFacts`: the scores of one response with what it is
cut by (the desk adds the ticket's kind and tags).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Final, Literal, Protocol

import attrs

from csdomain._kernel.time import to_utc, zone, zone_problem
from csdomain._kernel.validation import describe
from csdomain.errors import ValidationError
from csdomain.surveys.intervals import (
    NPS_DIFFERENCE_Z,
    TWO_PROPORTION_Z,
    WELCH_T,
    Interval,
    TestResult,
    adjusted_wald_nps,
    check_confidence,
    holm_adjust,
    nps_difference_z_test,
    t_interval,
    two_proportion_z_test,
    welch_t_test,
    wilson,
)
from csdomain.surveys.questions import CesReporting, QuestionKind

__all__ = [
    "SMALL_SAMPLE",
    "Breakdown",
    "BreakdownCell",
    "DriverAnalysis",
    "DriverFinding",
    "ResponseFacts",
    "Score",
    "ScoreTally",
    "ScoreUnit",
    "breakdown",
    "ces_score",
    "csat_score",
    "drivers",
    "nps_score",
    "response_rate",
]

#: Below this many answers a score is flagged ``small_sample``.
SMALL_SAMPLE: Final = 30

#: The score kinds a tally counts, with their scales (inclusive).
_SCALES: Final[Mapping[QuestionKind, tuple[int, int]]] = {
    QuestionKind.CSAT: (1, 5),
    QuestionKind.NPS: (0, 10),
    QuestionKind.CES: (1, 7),
}


class ScoreUnit(Enum):
    """How a score's value reads."""

    #: A fraction 0..1, shown as a percentage.
    PERCENT = "%"
    #: An NPS, -1..1, shown times 100 as points (-100..100).
    POINTS = "points"
    #: A mean on the question's scale (CES 1..7).
    MEAN = "mean"


@attrs.frozen
class Score:
    """One figure with its honesty attached.

    ``value`` is None exactly when ``n == 0`` (no answers, no figure); otherwise
    ``interval`` contains ``value`` (a law the constructor checks). ``method`` names
    the interval (``"wilson"``, ``"adjusted_wald"``, ``"student_t"``).
    """

    name: str
    value: float | None
    n: int
    interval: Interval | None
    confidence: float
    unit: ScoreUnit
    method: str

    def __attrs_post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 0:
            raise ValidationError.single(
                "Score", "n", f"{describe(self.n)} is not a count; an int of at least 0"
            )
        if (self.value is None) != (self.n == 0):
            raise ValidationError.single(
                "Score",
                "value",
                f"score {self.name}: value {self.value!r} with n={self.n}; "
                "a value exactly when n > 0",
            )
        if self.value is None and self.interval is not None:
            raise ValidationError.single(
                "Score", "interval", f"score {self.name}: an interval without a value"
            )
        if (
            self.value is not None
            and self.interval is not None
            and not self.interval.contains(self.value)
        ):
            raise ValidationError.single(
                "Score",
                "interval",
                f"score {self.name}: {self.interval} does not contain its value {self.value!r}",
            )

    @property
    def small_sample(self) -> bool:
        """True when the score rests on fewer than :data:`SMALL_SAMPLE` answers."""
        return self.n < SMALL_SAMPLE

    @property
    def has_figure(self) -> bool:
        """False when there were no answers (``n == 0``)."""
        return self.value is not None


def _empty_score(name: str, confidence: float, unit: ScoreUnit, method: str) -> Score:
    return Score(name, None, 0, None, confidence, unit, method)


def _share_score(name: str, successes: int, n: int, confidence: float) -> Score:
    interval = wilson(successes, n, confidence)
    if n == 0:
        return _empty_score(name, confidence, ScoreUnit.PERCENT, "wilson")
    return Score(name, successes / n, n, interval, confidence, ScoreUnit.PERCENT, "wilson")


def _score_kind(owner: str, kind: object) -> QuestionKind:
    if isinstance(kind, QuestionKind) and kind in _SCALES:
        return kind
    raise ValidationError.single(
        owner, "kind", f"{describe(kind)} is not a score kind; csat, nps or ces"
    )


class ScoreTally:
    """Counts of answers per scale value of one score kind (CSAT, NPS or CES).

    ``add`` counts one answer in place; ``merge`` returns a new tally and leaves both
    inputs as they were; ``score`` computes the figure. Because a tally is only
    counts, merging is associative and commutative, :meth:`empty` is its identity,
    and tallies of any split of the answers merge to the tally of all of them.
    """

    __slots__ = ("_counts", "kind")

    def __init__(self, kind: QuestionKind, counts: Mapping[int, int] | None = None) -> None:
        self.kind = _score_kind("ScoreTally", kind)
        low, high = _SCALES[self.kind]
        self._counts = [0] * (high - low + 1)
        for value, count in (counts or {}).items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValidationError.single(
                    "ScoreTally",
                    f"counts[{value!r}]",
                    f"{describe(count)} is not a count; an int of at least 0",
                )
            self._counts[self._index(value)] += count

    @classmethod
    def empty(cls, kind: QuestionKind) -> ScoreTally:
        """A tally with no answers."""
        return cls(kind)

    @classmethod
    def of(cls, kind: QuestionKind, values: Iterable[int]) -> ScoreTally:
        """The tally of ``values``."""
        tally = cls(kind)
        for value in values:
            tally.add(value)
        return tally

    def _index(self, value: object) -> int:
        low, high = _SCALES[self.kind]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError.single(
                "ScoreTally",
                "value",
                f"{describe(value)} is not a {self.kind.value} score; an int {low}..{high}",
            )
        return value - low

    def add(self, value: int) -> None:
        """Count one answer (an int on the kind's scale)."""
        self._counts[self._index(value)] += 1

    def merge(self, other: ScoreTally) -> ScoreTally:
        """A new tally holding the answers of both (of the same kind)."""
        if not isinstance(other, ScoreTally) or other.kind is not self.kind:
            raise ValidationError.single(
                "ScoreTally",
                "other",
                f"cannot merge {describe(other)} into a {self.kind.value} tally; "
                f"a {self.kind.value} ScoreTally",
            )
        merged = ScoreTally(self.kind)
        merged._counts = [a + b for a, b in zip(self._counts, other._counts, strict=True)]
        return merged

    @property
    def counts(self) -> dict[int, int]:
        """The count of every scale value, zeros included, lowest first."""
        low = _SCALES[self.kind][0]
        return {low + i: count for i, count in enumerate(self._counts)}

    @property
    def n(self) -> int:
        """How many answers were counted."""
        return sum(self._counts)

    def count_between(self, low: int, high: int) -> int:
        """How many answers scored ``low..high`` (inclusive)."""
        return sum(count for value, count in self.counts.items() if low <= value <= high)

    def mean_and_sd(self) -> tuple[float, float] | None:
        """The mean and the sample standard deviation (``n - 1``); None when empty.

        Sums are exact integers, so the result does not depend on how the answers
        were split or ordered. The sd of one answer is 0 (it is unknown; the t
        interval of one answer is the whole scale).
        """
        n = self.n
        if n == 0:
            return None
        total = sum(value * count for value, count in self.counts.items())
        squares = sum(value * value * count for value, count in self.counts.items())
        mean = total / n
        if n == 1:
            return mean, 0.0
        return mean, math.sqrt((n * squares - total * total) / (n * (n - 1)))

    def score(
        self, confidence: float = 0.95, *, reporting: CesReporting = CesReporting.MEAN
    ) -> Score:
        """The kind's figure: CSAT share of 4-5, NPS, CES mean or share of 5-7
        (``reporting``, for CES only)."""
        if self.kind is QuestionKind.CSAT:
            return _share_score("csat", self.count_between(4, 5), self.n, confidence)
        if self.kind is QuestionKind.NPS:
            promoters, passives, detractors = self.nps_counts()
            interval = adjusted_wald_nps(promoters, passives, detractors, confidence)
            n = self.n
            if n == 0:
                return _empty_score("nps", confidence, ScoreUnit.POINTS, "adjusted_wald")
            value = (promoters - detractors) / n
            return Score("nps", value, n, interval, confidence, ScoreUnit.POINTS, "adjusted_wald")
        if not isinstance(reporting, CesReporting):
            raise ValidationError.single(
                "ScoreTally",
                "reporting",
                f"{describe(reporting)} is not a CES reporting; mean or share_5_7",
            )
        if reporting is CesReporting.SHARE_5_7:
            return _share_score("ces_share_5_7", self.count_between(5, 7), self.n, confidence)
        low, high = _SCALES[QuestionKind.CES]
        summary = self.mean_and_sd()
        check_confidence("ScoreTally", confidence)  # refused even with no answers
        if summary is None:
            return _empty_score("ces", confidence, ScoreUnit.MEAN, "student_t")
        mean, sd = summary
        interval = t_interval(mean, sd, self.n, confidence, bounds=(low, high))
        return Score("ces", mean, self.n, interval, confidence, ScoreUnit.MEAN, "student_t")

    def nps_counts(self) -> tuple[int, int, int]:
        """Promoters (9-10), passives (7-8), detractors (0-6) of an NPS tally."""
        if self.kind is not QuestionKind.NPS:
            raise ValidationError.single(
                "ScoreTally", "kind", f"a {self.kind.value} tally has no NPS categories"
            )
        return self.count_between(9, 10), self.count_between(7, 8), self.count_between(0, 6)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScoreTally):
            return NotImplemented
        return self.kind is other.kind and self._counts == other._counts

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        counted = {value: count for value, count in self.counts.items() if count}
        return f"ScoreTally({self.kind.value}, {counted})"


def csat_score(values: Iterable[int], confidence: float = 0.95) -> Score:
    """CSAT: the share of 4-5 among 1-5 answers, with a Wilson interval."""
    return ScoreTally.of(QuestionKind.CSAT, values).score(confidence)


def nps_score(values: Iterable[int], confidence: float = 0.95) -> Score:
    """NPS: the share of 9-10 minus the share of 0-6 among 0-10 answers (-1..1), with
    the adjusted-Wald interval."""
    return ScoreTally.of(QuestionKind.NPS, values).score(confidence)


def ces_score(
    values: Iterable[int],
    reporting: CesReporting = CesReporting.MEAN,
    confidence: float = 0.95,
) -> Score:
    """CES: the mean of 1-7 answers with a Student t interval (clipped to 1..7), or
    the share of 5-7 with a Wilson interval, as ``reporting`` says."""
    return ScoreTally.of(QuestionKind.CES, values).score(confidence, reporting=reporting)


class _AnsweredInvitation(Protocol):
    @property
    def invitation_id(self) -> str: ...


class _SentInvitation(Protocol):
    @property
    def sent_at(self) -> datetime | None: ...


def response_rate(
    responses: int | Iterable[_AnsweredInvitation],
    invitations: int | Iterable[_SentInvitation],
    confidence: float = 0.95,
) -> Score:
    """The share of sent invitations that were answered, with a Wilson interval.

    Either argument may be a count. Responses are counted by distinct
    ``invitation_id`` (an edited answer never counts twice); invitations by those
    actually sent (``sent_at`` set: pending, suppressed and voided-before-send ones
    asked nobody). More responses than sent invitations is refused.
    """
    answered = (
        responses if isinstance(responses, int) else len({r.invitation_id for r in responses})
    )
    sent = (
        invitations
        if isinstance(invitations, int)
        else sum(1 for i in invitations if i.sent_at is not None)
    )
    if answered > sent:
        raise ValidationError.single(
            "response_rate",
            "responses",
            f"{answered} responses to {sent} sent invitations; at most one response each",
        )
    return _share_score("response_rate", answered, sent, confidence)


# -- facts, breakdowns and drivers ----------------------------------------------------


class _Attributed(Protocol):
    @property
    def agent_id(self) -> str | None: ...
    @property
    def group_id(self) -> str | None: ...
    @property
    def channel(self) -> str: ...


class _Response(Protocol):
    @property
    def csat(self) -> int | None: ...
    @property
    def nps(self) -> int | None: ...
    @property
    def ces(self) -> int | None: ...
    @property
    def answered_at(self) -> datetime: ...
    @property
    def attribution(self) -> _Attributed | None: ...
    @property
    def channel(self) -> str | None: ...


def _tags(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


@attrs.frozen
class ResponseFacts:
    """One response's scores and what it can be cut by.

    ``agent_id``, ``group_id`` and ``channel`` are the response's attribution (fixed
    at solve or send, never at answer time), ``channel`` being the ticket's service
    channel; ``ticket_kind`` and ``tags`` come from the ticket (the desk fills them).
    Build one from a response with :meth:`of`.
    """

    answered_at: datetime = attrs.field(converter=to_utc)
    csat: int | None = None
    nps: int | None = None
    ces: int | None = None
    agent_id: str | None = None
    group_id: str | None = None
    channel: str | None = None
    ticket_kind: str | None = None
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_tags)

    @classmethod
    def of(
        cls,
        response: _Response,
        *,
        ticket_kind: Enum | str | None = None,
        tags: Iterable[str] = (),
    ) -> ResponseFacts:
        """The facts of a :class:`~csdomain.surveys.responses.SurveyResponse` (its
        scores, answer instant and attribution; without an attribution, the channel
        the survey was answered on), with the ticket's kind and tags."""
        attribution = response.attribution
        return cls(
            answered_at=response.answered_at,
            csat=response.csat,
            nps=response.nps,
            ces=response.ces,
            agent_id=None if attribution is None else attribution.agent_id,
            group_id=None if attribution is None else attribution.group_id,
            channel=response.channel if attribution is None else attribution.channel,
            ticket_kind=ticket_kind.value if isinstance(ticket_kind, Enum) else ticket_kind,
            tags=tags,
        )

    def score_of(self, kind: QuestionKind) -> int | None:
        """This response's score of ``kind`` (None when not answered)."""
        if kind is QuestionKind.CSAT:
            return self.csat
        if kind is QuestionKind.NPS:
            return self.nps
        return self.ces


Dimension = Literal["agent", "group", "channel", "kind", "tag", "period"]
Period = Literal["day", "week", "month"]
_DIMENSIONS: Final = ("agent", "group", "channel", "kind", "tag", "period")
_PERIODS: Final = ("day", "week", "month")


def _period_key(at: datetime, period: str, zone_name: str) -> str:
    local = at.astimezone(zone(zone_name))
    if period == "day":
        return local.date().isoformat()
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local.year}-{local.month:02d}"


def _keys_of(facts: ResponseFacts, by: str, period: str, zone_name: str) -> Iterable[str | None]:
    if by == "agent":
        return (facts.agent_id,)
    if by == "group":
        return (facts.group_id,)
    if by == "channel":
        return (facts.channel,)
    if by == "kind":
        return (facts.ticket_kind,)
    if by == "tag":
        return sorted(facts.tags)
    return (_period_key(facts.answered_at, period, zone_name),)


def _check_cut(owner: str, by: object, period: object, zone_name: object) -> None:
    if by not in _DIMENSIONS:
        raise ValidationError.single(
            owner, "by", f"{describe(by)} is not a dimension; one of {', '.join(_DIMENSIONS)}"
        )
    if period not in _PERIODS:
        raise ValidationError.single(
            owner, "period", f"{describe(period)} is not a period; one of {', '.join(_PERIODS)}"
        )
    problem = zone_problem(zone_name)
    if problem is not None:
        raise ValidationError.single(owner, "zone", problem)


def _as_facts(items: Iterable[ResponseFacts | _Response]) -> list[ResponseFacts]:
    return [item if isinstance(item, ResponseFacts) else ResponseFacts.of(item) for item in items]


def _sort_key(key: str | None) -> tuple[bool, str]:
    return (key is None, key or "")


@attrs.frozen
class BreakdownCell:
    """One cell of a breakdown: its key (None: not attributed / not known), its score
    and whether its interval overlaps the overall figure's (True: the data do not
    set this cell apart from the whole)."""

    key: str | None
    score: Score
    overlaps_overall: bool


@attrs.frozen
class Breakdown:
    """A score cut by one dimension: the overall figure and one cell per key."""

    by: str
    overall: Score
    cells: tuple[BreakdownCell, ...]

    def cell(self, key: str | None) -> BreakdownCell | None:
        """The cell of ``key``, or None."""
        return next((c for c in self.cells if c.key == key), None)


def _tallies(
    facts: Sequence[ResponseFacts], kind: QuestionKind, by: str, period: str, zone_name: str
) -> tuple[ScoreTally, dict[str | None, ScoreTally]]:
    overall = ScoreTally(kind)
    cells: dict[str | None, ScoreTally] = {}
    for item in facts:
        value = item.score_of(kind)
        if value is None:
            continue
        overall.add(value)
        for key in _keys_of(item, by, period, zone_name):
            cells.setdefault(key, ScoreTally(kind)).add(value)
    return overall, cells


def breakdown(
    responses: Iterable[ResponseFacts | _Response],
    by: Dimension,
    kind: QuestionKind,
    *,
    reporting: CesReporting = CesReporting.MEAN,
    confidence: float = 0.95,
    period: Period = "month",
    zone_name: str = "UTC",
) -> Breakdown:
    """``kind``'s score overall and per ``by``: agent, group, channel (attributed),
    ticket kind, tag (a response counts in each of its tags' cells) or period
    (``period`` of the answer instant in ``zone_name``: ``2026-03-04``,
    ``2026-W10``, ``2026-03``). Responses without a ``kind`` score are left out.
    Cells are sorted by key, the unknown key (None) last.
    """
    kind = _score_kind("breakdown", kind)
    _check_cut("breakdown", by, period, zone_name)
    facts = _as_facts(responses)
    overall_tally, cell_tallies = _tallies(facts, kind, by, period, zone_name)
    overall = overall_tally.score(confidence, reporting=reporting)
    cells = []
    for key in sorted(cell_tallies, key=_sort_key):
        score = cell_tallies[key].score(confidence, reporting=reporting)
        overlaps = (
            score.interval is None
            or overall.interval is None
            or score.interval.overlaps(overall.interval)
        )
        cells.append(BreakdownCell(key, score, overlaps))
    return Breakdown(by, overall, tuple(cells))


@attrs.frozen
class DriverFinding:
    """One group tested against the rest: both scores, the test, its one-sided
    p-value, the Holm-adjusted p-value and whether the group is significantly lower
    (adjusted p-value at most ``alpha``)."""

    key: str
    score: Score
    rest: Score
    test: TestResult
    adjusted_p_value: float
    significant: bool


@attrs.frozen
class DriverAnalysis:
    """Which groups of ``by`` score significantly lower than the rest.

    ``findings`` holds every group tested, lowest adjusted p-value first; ``lower``
    the significant ones. ``untested`` names the groups with too few answers
    (fewer than ``min_n`` in the group or in the rest) or nothing to test (no
    spread at all).
    """

    by: str
    score_name: str
    test: str
    alpha: float
    findings: tuple[DriverFinding, ...]
    untested: tuple[str, ...]

    @property
    def lower(self) -> tuple[DriverFinding, ...]:
        """The groups scoring significantly lower than the rest."""
        return tuple(f for f in self.findings if f.significant)


def _test_name(kind: QuestionKind, reporting: CesReporting) -> str:
    if kind is QuestionKind.NPS:
        return NPS_DIFFERENCE_Z
    if kind is QuestionKind.CES and reporting is CesReporting.MEAN:
        return WELCH_T
    return TWO_PROPORTION_Z


def _compare(
    kind: QuestionKind, reporting: CesReporting, group: ScoreTally, rest: ScoreTally
) -> TestResult | None:
    if kind is QuestionKind.NPS:
        return nps_difference_z_test(group.nps_counts(), rest.nps_counts())
    if kind is QuestionKind.CES and reporting is CesReporting.MEAN:
        group_summary, rest_summary = group.mean_and_sd(), rest.mean_and_sd()
        if group_summary is None or rest_summary is None:
            return None
        return welch_t_test((*group_summary, group.n), (*rest_summary, rest.n))
    low = 4 if kind is QuestionKind.CSAT else 5
    high = _SCALES[kind][1]
    return two_proportion_z_test(
        group.count_between(low, high), group.n, rest.count_between(low, high), rest.n
    )


def drivers(
    responses: Iterable[ResponseFacts | _Response],
    by: Dimension,
    kind: QuestionKind,
    *,
    reporting: CesReporting = CesReporting.MEAN,
    alpha: float = 0.05,
    confidence: float = 0.95,
    min_n: int = 5,
    period: Period = "month",
    zone_name: str = "UTC",
) -> DriverAnalysis:
    """The groups of ``by`` (tags, ticket kinds, channels, agents, ...) whose ``kind``
    score is significantly lower than that of the other responses.

    Each group is tested against the rest (the responses not in it: for tags, those
    without the tag), one-sided, since the question is "lower":

    - CSAT share of 4-5 and CES share of 5-7: the pooled two-proportion z test;
    - NPS: a Wald z test on the difference of two NPS;
    - CES mean: Welch's t test (no equal-variance assumption).

    Testing many groups at ``alpha`` each would flag some by chance; Holm's
    step-down correction across all groups tested keeps the chance of any false
    finding at most ``alpha``. Groups with fewer than ``min_n`` answers (or a rest
    that small) are not tested: a normal-approximation p-value on a handful of
    answers would mislead; they are listed as untested. The unknown key (no
    agent, no kind) is never a group, but its responses are part of every rest.
    """
    kind = _score_kind("drivers", kind)
    _check_cut("drivers", by, period, zone_name)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValidationError.single(
            "drivers", "alpha", f"{describe(alpha)} is not a significance level; 0 < alpha < 1"
        )
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 2:
        raise ValidationError.single(
            "drivers", "min_n", f"{describe(min_n)} is not a group size; an int of at least 2"
        )
    facts = _as_facts(responses)
    overall, groups = _tallies(facts, kind, by, period, zone_name)
    tested: list[tuple[str, ScoreTally, ScoreTally, TestResult]] = []
    untested: list[str] = []
    for key in sorted((k for k in groups if k is not None), key=_sort_key):
        group = groups[key]
        rest = ScoreTally(kind, {v: overall.counts[v] - c for v, c in group.counts.items()})
        result = _compare(kind, reporting, group, rest) if min(group.n, rest.n) >= min_n else None
        if result is None:
            untested.append(key)
        else:
            tested.append((key, group, rest, result))
    adjusted = holm_adjust([result.p_value for *_, result in tested])
    findings = [
        DriverFinding(
            key,
            group.score(confidence, reporting=reporting),
            rest.score(confidence, reporting=reporting),
            result,
            adjusted_p,
            adjusted_p <= alpha,
        )
        for (key, group, rest, result), adjusted_p in zip(tested, adjusted, strict=True)
    ]
    findings.sort(key=lambda f: (f.adjusted_p_value, f.test.p_value, f.key))
    return DriverAnalysis(
        by,
        overall.score(confidence, reporting=reporting).name,
        _test_name(kind, reporting),
        float(alpha),
        tuple(findings),
        tuple(untested),
    )
