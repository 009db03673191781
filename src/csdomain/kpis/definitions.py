"""KPI definitions as data, the standard set, and :class:`KpiSet` that computes them.

A :class:`KpiDefinition` names what is measured (:class:`Measure`), which
statistic is reported (:class:`Statistic`) and the choices vendors make
silently: business or calendar time, the FCR window and scope, the breakdown
and its period. :data:`STANDARD_KPIS` is the set a desk starts with; each of
its definitions carries its choices in ``description``.

:class:`KpiSet` holds one accumulator per distinct measurement (the mean, median
and p90 of first response share one), folds ticket summaries, survey responses
and revisit tasks, merges with another set of the same definitions, and reads
every figure as a :class:`KpiResult` with its ``n``, its interval where one
applies (Wilson for rates, the survey score's own for satisfaction) and the
quantile sketch's relative error for medians and percentiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from enum import Enum
from fractions import Fraction
from itertools import islice
from typing import Any, Final, Protocol

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import US, zone_problem
from csdomain._kernel.validation import (
    Checked,
    checked,
    describe,
    duration,
    each,
    key,
    member_of,
    optional,
    text,
)
from csdomain.errors import ValidationError
from csdomain.kpis.accumulators import (
    RELATIVE_ACCURACY,
    Backlog,
    ComplaintRate,
    FcrResult,
    FirstContactResolution,
    Proportion,
    ReopenRate,
    ResponseTime,
    ResponseTimeResult,
    RevisitCompletion,
    Satisfaction,
    SlaCompliance,
    Volume,
    VolumeResult,
)
from csdomain.kpis.summaries import TicketSummary
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.tracking import RevisitFiguresResult
from csdomain.sla import SlaMetric
from csdomain.surveys.intervals import Interval, wilson
from csdomain.surveys.questions import QuestionKind
from csdomain.surveys.scores import Score

__all__ = [
    "STANDARD_KPIS",
    "Basis",
    "KpiDefinition",
    "KpiResult",
    "KpiSet",
    "Measure",
    "Statistic",
]


class Measure(Enum):
    """What a KPI measures."""

    VOLUME = "volume"
    FIRST_CONTACT_RESOLUTION = "first_contact_resolution"
    FIRST_RESPONSE_TIME = "first_response_time"
    RESOLUTION_TIME = "resolution_time"
    FULL_RESOLUTION_TIME = "full_resolution_time"
    HANDLE_TIME = "handle_time"
    REOPEN_RATE = "reopen_rate"
    BACKLOG = "backlog"
    SLA_COMPLIANCE = "sla_compliance"
    COMPLAINT_RATE = "complaint_rate"
    CSAT = "csat"
    NPS = "nps"
    CES = "ces"
    REVISIT_COMPLETION = "revisit_completion"


class Statistic(Enum):
    """Which figure of a measure a KPI reports."""

    COUNT = "count"
    RATE = "rate"
    MEAN = "mean"
    MEDIAN = "median"
    P90 = "p90"
    SCORE = "score"


class Basis(Enum):
    """How durations are counted: open time of the desk calendar, or elapsed time."""

    BUSINESS = "business"
    CALENDAR = "calendar"


declare_labels(
    Measure,
    {
        Measure.VOLUME: _mark("kpi measure", "Ticket volume"),
        Measure.FIRST_CONTACT_RESOLUTION: _mark("kpi measure", "First contact resolution"),
        Measure.FIRST_RESPONSE_TIME: _mark("kpi measure", "First response time"),
        Measure.RESOLUTION_TIME: _mark("kpi measure", "Resolution time"),
        # Translators: time from opening to the last solve (after any reopens).
        Measure.FULL_RESOLUTION_TIME: _mark("kpi measure", "Full resolution time"),
        Measure.HANDLE_TIME: _mark("kpi measure", "Handle time"),
        Measure.REOPEN_RATE: _mark("kpi measure", "Reopen rate"),
        Measure.BACKLOG: _mark("kpi measure", "Backlog"),
        Measure.SLA_COMPLIANCE: _mark("kpi measure", "SLA compliance"),
        Measure.COMPLAINT_RATE: _mark("kpi measure", "Complaint rate"),
        Measure.CSAT: _mark("kpi measure", "Customer satisfaction (CSAT)"),
        Measure.NPS: _mark("kpi measure", "Net Promoter Score (NPS)"),
        Measure.CES: _mark("kpi measure", "Customer effort score (CES)"),
        # Translators: the share of revisits (回访) done among those due.
        Measure.REVISIT_COMPLETION: _mark("kpi measure", "Revisit completion"),
    },
)
declare_labels(
    Statistic,
    {
        Statistic.COUNT: _mark("kpi statistic", "Count"),
        Statistic.RATE: _mark("kpi statistic", "Rate"),
        Statistic.MEAN: _mark("kpi statistic", "Mean"),
        Statistic.MEDIAN: _mark("kpi statistic", "Median"),
        # Translators: the 90th percentile.
        Statistic.P90: _mark("kpi statistic", "90th percentile"),
        Statistic.SCORE: _mark("kpi statistic", "Score"),
    },
)
declare_labels(
    Basis,
    {
        Basis.BUSINESS: _mark("kpi basis", "Business hours"),
        Basis.CALENDAR: _mark("kpi basis", "Calendar time"),
    },
)

_DURATIONS: Final = {
    Measure.FIRST_RESPONSE_TIME: "first_response",
    Measure.RESOLUTION_TIME: "resolution",
    Measure.FULL_RESOLUTION_TIME: "full_resolution",
    Measure.HANDLE_TIME: "handle",
}
_RATES: Final = frozenset(
    {
        Measure.FIRST_CONTACT_RESOLUTION,
        Measure.REOPEN_RATE,
        Measure.SLA_COMPLIANCE,
        Measure.COMPLAINT_RATE,
        Measure.REVISIT_COMPLETION,
    }
)
_SURVEYS: Final = {
    Measure.CSAT: QuestionKind.CSAT,
    Measure.NPS: QuestionKind.NPS,
    Measure.CES: QuestionKind.CES,
}
_STATISTICS: Final[Mapping[Measure, frozenset[Statistic]]] = {
    Measure.VOLUME: frozenset({Statistic.COUNT}),
    Measure.BACKLOG: frozenset({Statistic.COUNT}),
    **{m: frozenset({Statistic.RATE}) for m in _RATES},
    **{m: frozenset({Statistic.MEAN, Statistic.MEDIAN, Statistic.P90}) for m in _DURATIONS},
    **{m: frozenset({Statistic.SCORE}) for m in _SURVEYS},
}
_VOLUME_DIMENSIONS: Final = ("channel", "kind", "priority", "group", "assignee", "period")


def _by(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value) if not isinstance(value, str) else (value,)


@attrs.frozen(kw_only=True)
class KpiDefinition(Checked):
    """One KPI as data: what is measured, the statistic and every choice behind it.

    * ``basis``: business or calendar time, for the duration measures (required
      there; handle time is calendar only) and nothing else.
    * ``window`` and ``scope`` (``"customer"`` or ``"ticket"``): first contact
      resolution only (see :class:`~csdomain.kpis.accumulators.FirstContactResolution`).
    * ``by``, ``period`` (``"month"``, ``"week"``, ``"day"``) and ``zone``: the
      breakdown of a volume.
    * ``sla_metric``: the metric of an SLA compliance KPI.
    * ``description``: the definition in words, with its choices.
    """

    name: str = attrs.field(metadata=checked(key("KPI name")))
    measure: Measure = attrs.field(metadata=checked(member_of(Measure)))
    statistic: Statistic = attrs.field(metadata=checked(member_of(Statistic)))
    basis: Basis | None = attrs.field(default=None, metadata=checked(optional(member_of(Basis))))
    window: timedelta | None = attrs.field(
        default=None, metadata=checked(optional(duration(allow_zero=True)))
    )
    scope: str | None = attrs.field(default=None, metadata=checked(optional(key("FCR scope"))))
    by: tuple[str, ...] = attrs.field(
        default=(), converter=_by, metadata=checked(each(key("dimension"), tuple))
    )
    period: str | None = attrs.field(default=None, metadata=checked(optional(key("period"))))
    zone: str = attrs.field(default="UTC", metadata=checked(text(max_length=64)))
    sla_metric: SlaMetric | None = attrs.field(
        default=None, metadata=checked(optional(member_of(SlaMetric)))
    )
    description: str = attrs.field(default="", metadata=checked(text(allow_empty=True)))

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        measure, name = self.measure, self.name
        allowed = _STATISTICS[measure]
        if self.statistic not in allowed:
            shown = ", ".join(sorted(s.value for s in allowed))
            yield (
                "statistic",
                f"KPI {name}: {measure.value} reports {shown}, got {self.statistic.value}",
            )
        if measure in _DURATIONS:
            if self.basis is None:
                yield "basis", f"KPI {name}: a duration needs a basis (business or calendar)"
            elif measure is Measure.HANDLE_TIME and self.basis is not Basis.CALENDAR:
                yield "basis", f"KPI {name}: handle time is agent time: basis calendar only"
        elif self.basis is not None:
            yield "basis", f"KPI {name}: only duration measures take a basis"
        fcr = measure is Measure.FIRST_CONTACT_RESOLUTION
        if fcr and (self.window is None or self.scope not in ("customer", "ticket")):
            yield (
                "window",
                f"KPI {name}: first contact resolution needs a window and a scope "
                f"('customer' or 'ticket'), got {self.window!r} and {self.scope!r}",
            )
        if not fcr and (self.window is not None or self.scope is not None):
            yield "window", f"KPI {name}: only first contact resolution takes a window and scope"
        if measure is Measure.VOLUME:
            for i, dim in enumerate(self.by):
                if dim not in _VOLUME_DIMENSIONS:
                    yield (
                        f"by[{i}]",
                        f"KPI {name}: {dim!r} is not a dimension; {', '.join(_VOLUME_DIMENSIONS)}",
                    )
            if len(set(self.by)) != len(self.by):
                yield "by", f"KPI {name}: a dimension named twice in {self.by!r}"
            if ("period" in self.by) != (self.period is not None):
                yield "period", f"KPI {name}: a period exactly when 'period' is in by"
            if self.period is not None and self.period not in ("month", "week", "day"):
                yield "period", f"KPI {name}: period month, week or day, got {self.period!r}"
            problem = zone_problem(self.zone)
            if problem is not None:
                yield "zone", f"KPI {name}: {problem}"
        elif self.by or self.period is not None:
            yield "by", f"KPI {name}: only volume takes a breakdown"
        if (measure is Measure.SLA_COMPLIANCE) != (self.sla_metric is not None):
            yield "sla_metric", f"KPI {name}: an SLA metric exactly for SLA compliance"


declare_document("kpi_definition", KpiDefinition)

_DAYS_7: Final = timedelta(days=7)


def _duration_kpis(measure: Measure, stem: str, words: str) -> list[KpiDefinition]:
    found = []
    for basis in (Basis.BUSINESS, Basis.CALENDAR):
        if measure is Measure.HANDLE_TIME and basis is Basis.BUSINESS:
            continue
        counted = (
            "open time of the desk calendar" if basis is Basis.BUSINESS else "elapsed calendar time"
        )
        for statistic, how in (
            (Statistic.MEAN, "exact mean"),
            (Statistic.MEDIAN, "median (DDSketch, within 1 % of the exact lower median)"),
            (Statistic.P90, "90th percentile (DDSketch, within 1 %)"),
        ):
            suffix = "" if measure is Measure.HANDLE_TIME else f"_{basis.value}"
            found.append(
                KpiDefinition(
                    name=f"{stem}_{statistic.value}{suffix}",
                    measure=measure,
                    statistic=statistic,
                    basis=basis,
                    description=f"{words}, {counted}; the {how}; tickets without it are "
                    "left out of n.",
                )
            )
    return found


#: The KPIs a desk starts with, each described with its choices.
STANDARD_KPIS: Final[tuple[KpiDefinition, ...]] = (
    KpiDefinition(
        name="volume",
        measure=Measure.VOLUME,
        statistic=Statistic.COUNT,
        by=("channel", "kind", "period"),
        period="month",
        zone="UTC",
        description="Tickets opened, by channel, kind and calendar month of opening (UTC); "
        "a desk in another zone sets its own zone.",
    ),
    KpiDefinition(
        name="fcr",
        measure=Measure.FIRST_CONTACT_RESOLUTION,
        statistic=Statistic.RATE,
        window=_DAYS_7,
        scope="customer",
        description="Share of solved tickets not reopened within 7 days of the first solve "
        "and with no other ticket from the same customer opened from this ticket's opening "
        "to the end of those 7 days; tickets whose window has not ended at as_of are "
        "pending, not counted.",
    ),
    *_duration_kpis(
        Measure.FIRST_RESPONSE_TIME,
        "first_response",
        "Opening to the first public agent reply (notes and bot replies do not count)",
    ),
    *_duration_kpis(Measure.RESOLUTION_TIME, "resolution", "Opening to the first solve"),
    *_duration_kpis(
        Measure.FULL_RESOLUTION_TIME,
        "full_resolution",
        "Opening to the last solve, for tickets resolved now",
    ),
    *_duration_kpis(
        Measure.HANDLE_TIME,
        "handle",
        "Agent handle time (talk, hold, after-call work) the messages record",
    ),
    KpiDefinition(
        name="reopen_rate",
        measure=Measure.REOPEN_RATE,
        statistic=Statistic.RATE,
        description="Share of tickets solved at least once that were reopened at least once.",
    ),
    KpiDefinition(
        name="backlog",
        measure=Measure.BACKLOG,
        statistic=Statistic.COUNT,
        description="Tickets opened by as_of, not closed by then and not resolved then (solved "
        "and not reopened since); without as_of: unresolved in their final state.",
    ),
    *(
        KpiDefinition(
            name=f"sla_{metric.value}",
            measure=Measure.SLA_COMPLIANCE,
            statistic=Statistic.RATE,
            sla_metric=metric,
            description=f"Share of tickets whose {metric.value.replace('_', ' ')} SLA was "
            "achieved, among those achieved or breached (running, paused and cancelled "
            "metrics are left out).",
        )
        for metric in SlaMetric
    ),
    KpiDefinition(
        name="complaint_rate",
        measure=Measure.COMPLAINT_RATE,
        statistic=Statistic.RATE,
        description="Share of tickets of kind complaint (投诉) among all tickets.",
    ),
    KpiDefinition(
        name="revisit_completion",
        measure=Measure.REVISIT_COMPLETION,
        statistic=Statistic.RATE,
        description="Revisit tasks done among those done, missed or overdue at as_of "
        "(without as_of, none is overdue); cancelled, in-progress and not-yet-due tasks "
        "count in neither part.",
    ),
    KpiDefinition(
        name="csat",
        measure=Measure.CSAT,
        statistic=Statistic.SCORE,
        description="Share of 4-5 answers among 1-5 CSAT answers, with a Wilson interval.",
    ),
    KpiDefinition(
        name="nps",
        measure=Measure.NPS,
        statistic=Statistic.SCORE,
        description="Share of 9-10 minus share of 0-6 NPS answers, adjusted-Wald interval.",
    ),
    KpiDefinition(
        name="ces",
        measure=Measure.CES,
        statistic=Statistic.SCORE,
        description="Mean CES answer (1-7), with a Student t interval.",
    ),
)


@attrs.frozen
class KpiResult:
    """One KPI's figure.

    ``value``: a count (int), a rate (exact :class:`~fractions.Fraction`, 0..1), a mean
    duration in seconds (exact Fraction), a median or p90 in seconds (float) or a survey
    score (float); None without observations. ``n``: the observations it rests on.
    ``interval``: Wilson for rates, the score's own for satisfaction, else None.
    ``quantile_error``: the sketch's relative accuracy for medians and p90, else None.
    ``cells``: a volume's counts per breakdown cell; ``pending``: FCR tickets not decided.
    """

    name: str
    value: int | Fraction | float | None
    n: int
    interval: Interval | None = None
    quantile_error: float | None = None
    cells: Mapping[tuple[str, ...], int] | None = None
    pending: int = 0


class _Answers(Protocol):
    @property
    def csat(self) -> int | None: ...
    @property
    def nps(self) -> int | None: ...
    @property
    def ces(self) -> int | None: ...


_SUMMARY_BATCH: Final = 65_536


def _check_definitions(value: object) -> tuple[KpiDefinition, ...]:
    items = tuple(value) if isinstance(value, (list, tuple)) else None
    if items is None:
        raise ValidationError.single(
            "KpiSet", "definitions", f"expected a sequence of KpiDefinition, got {describe(value)}"
        )
    problems = [
        (f"definitions[{i}]", f"expected a KpiDefinition, got {describe(d)}")
        for i, d in enumerate(items)
        if not isinstance(d, KpiDefinition)
    ]
    seen: set[str] = set()
    for i, d in enumerate(items):
        if isinstance(d, KpiDefinition):
            if d.name in seen:
                problems.append((f"definitions[{i}]", f"KPI name {d.name!r} is used twice"))
            seen.add(d.name)
    if problems:
        raise ValidationError("KpiSet", problems)
    return items


def _spec(d: KpiDefinition) -> tuple[Any, ...]:
    """What one accumulator measures: definitions differing only in statistic share it."""
    return (d.measure, d.basis, d.window, d.scope, d.by, d.period, d.zone, d.sla_metric)


class KpiSet:
    """The accumulators of a set of KPI definitions (default :data:`STANDARD_KPIS`).

    ``as_of`` is the instant the figures describe: the backlog is counted at it and
    FCR tickets whose window ends after it are pending (None: the backlog of the
    summaries' final state, every FCR ticket decided).

    Fold with :meth:`add_summary` / :meth:`add_summaries` (ticket summaries),
    :meth:`add_response` (survey responses: their csat, nps and ces answers) and
    :meth:`add_task` (revisit tasks);
    :meth:`merge` returns a new set and changes neither input, so sets folded on
    shards merge to the one-pass figures.
    """

    __slots__ = ("_by_spec", "_responses", "_summaries", "_tasks", "as_of", "definitions")

    def __init__(
        self,
        definitions: Iterable[KpiDefinition] = STANDARD_KPIS,
        *,
        as_of: datetime | None = None,
    ) -> None:
        self.definitions = _check_definitions(
            list(definitions) if not isinstance(definitions, (list, tuple)) else definitions
        )
        if as_of is not None and not (
            isinstance(as_of, datetime) and as_of.utcoffset() is not None
        ):
            raise ValidationError.single(
                "KpiSet", "as_of", f"expected an aware datetime or None, got {describe(as_of)}"
            )
        self.as_of = as_of
        self._by_spec: dict[tuple[Any, ...], Any] = {}
        for d in self.definitions:
            spec = _spec(d)
            if spec not in self._by_spec:
                self._by_spec[spec] = self._accumulator(d)
        self._sort()

    def _sort(self) -> None:
        """The accumulators by what they fold: summaries, responses, tasks."""
        values = list(self._by_spec.values())
        self._responses = [a for a in values if isinstance(a, Satisfaction)]
        self._tasks = [a for a in values if isinstance(a, RevisitCompletion)]
        self._summaries = [
            a for a in values if not isinstance(a, (Satisfaction, RevisitCompletion))
        ]

    def _accumulator(self, d: KpiDefinition) -> Any:
        measure = d.measure
        if measure is Measure.VOLUME:
            return Volume(d.by, period=d.period or "month", zone=d.zone)
        if measure is Measure.FIRST_CONTACT_RESOLUTION:
            assert d.window is not None and d.scope is not None
            return FirstContactResolution(d.window, scope=d.scope, as_of=self.as_of)
        if measure in _DURATIONS:
            assert d.basis is not None
            return ResponseTime(_DURATIONS[measure], basis=d.basis.value)
        if measure is Measure.REOPEN_RATE:
            return ReopenRate()
        if measure is Measure.BACKLOG:
            return Backlog(self.as_of)
        if measure is Measure.SLA_COMPLIANCE:
            assert d.sla_metric is not None
            return SlaCompliance(d.sla_metric)
        if measure is Measure.COMPLAINT_RATE:
            return ComplaintRate()
        if measure is Measure.REVISIT_COMPLETION:
            return RevisitCompletion(self.as_of)
        return Satisfaction(_SURVEYS[measure])

    def config(self) -> tuple[object, ...]:
        """What two mergeable sets share: the definitions and ``as_of``."""
        return (self.definitions, self.as_of)

    def add_summary(self, summary: TicketSummary) -> None:
        """Fold one ticket summary into every ticket KPI."""
        if type(summary) is not TicketSummary:
            raise ValidationError.single(
                "KpiSet.add_summary",
                "summary",
                f"expected a TicketSummary, got {describe(summary)}",
            )
        for accumulator in self._summaries:
            accumulator.add(summary)

    def add_summaries(self, summaries: Iterable[TicketSummary]) -> None:
        """Fold many summaries (the fast path: each accumulator loops over a batch)."""
        iterator = iter(summaries)
        while True:
            batch = list(islice(iterator, _SUMMARY_BATCH))
            if not batch:
                return
            for i, item in enumerate(batch):
                if type(item) is not TicketSummary:
                    raise ValidationError.single(
                        "KpiSet.add_summaries",
                        f"summaries[{i}]",
                        f"expected a TicketSummary, got {describe(item)}",
                    )
            for accumulator in self._summaries:
                accumulator._fold(batch)  # the batch is checked once, above

    def add_response(self, response: _Answers) -> None:
        """Fold one survey response into the satisfaction KPIs (its csat, nps and ces
        answers; a response without one leaves that KPI as it was)."""
        for accumulator in self._responses:
            accumulator.add(response)

    def add_task(self, task: RevisitTask) -> None:
        """Fold one revisit task into the revisit KPIs."""
        for accumulator in self._tasks:
            accumulator.add(task)

    def merge(self, other: KpiSet) -> KpiSet:
        """A new set holding both (same definitions and ``as_of``; neither input changes)."""
        if not isinstance(other, KpiSet) or other.config() != self.config():
            raise ValidationError.single(
                "KpiSet.merge",
                "other",
                "can only merge a KpiSet of the same definitions and as_of, got " + describe(other),
            )
        merged = self.empty()
        merged._by_spec = {
            spec: accumulator.merge(other._by_spec[spec])
            for spec, accumulator in self._by_spec.items()
        }
        merged._sort()
        return merged

    def empty(self) -> KpiSet:
        """A new set of the same definitions holding nothing."""
        return KpiSet(self.definitions, as_of=self.as_of)

    def results(self) -> dict[str, KpiResult]:
        """Every KPI's figure, by name, in the order of the definitions."""
        read: dict[tuple[Any, ...], Any] = {}
        found: dict[str, KpiResult] = {}
        for d in self.definitions:
            spec = _spec(d)
            if spec not in read:
                read[spec] = self._by_spec[spec].result()
            found[d.name] = _result(d, read[spec])
        return found

    def __getstate__(self) -> dict[str, object]:
        return {"definitions": self.definitions, "as_of": self.as_of, "by_spec": self._by_spec}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.definitions = state["definitions"]
        self.as_of = state["as_of"]
        self._by_spec = state["by_spec"]
        self._sort()


def _rate(name: str, successes: int, n: int, pending: int = 0) -> KpiResult:
    value = Fraction(successes, n) if n else None
    return KpiResult(name, value, n, wilson(successes, n), pending=pending)


def _result(d: KpiDefinition, raw: object) -> KpiResult:
    name, statistic = d.name, d.statistic
    if isinstance(raw, VolumeResult):
        return KpiResult(name, raw.total, raw.total, cells=raw.cells)
    if isinstance(raw, FcrResult):
        return _rate(name, raw.successes, raw.n, raw.pending)
    if isinstance(raw, Proportion):
        return _rate(name, raw.successes, raw.n)
    if isinstance(raw, ResponseTimeResult):
        if statistic is Statistic.MEAN:
            value: Fraction | float | None = None if raw.mean_us is None else raw.mean_us / US
            return KpiResult(name, value, raw.n)
        us = raw.median_us if statistic is Statistic.MEDIAN else raw.p90_us
        return KpiResult(
            name, None if us is None else us / US, raw.n, quantile_error=RELATIVE_ACCURACY
        )
    if isinstance(raw, RevisitFiguresResult):
        return _rate(name, raw.completion.hits, raw.completion.n)
    if isinstance(raw, Score):
        return KpiResult(name, raw.value, raw.n, raw.interval)
    assert isinstance(raw, int)
    return KpiResult(name, raw, raw)
