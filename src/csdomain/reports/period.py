"""The desk's period report: key figures with their intervals, volumes, the survey summary.

:func:`period_report` streams the tickets opened in ``[start, end)`` from a store
in keyset pages (never the whole table at once) and builds a
:class:`PeriodReport`; :func:`csdomain.reports.render` writes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.messages import _mark
from csdomain._kernel.time import ensure_aware, to_utc, zone, zone_problem
from csdomain.errors import ValidationError
from csdomain.kpis.definitions import STANDARD_KPIS, KpiResult, KpiSet
from csdomain.kpis.summaries import summarize
from csdomain.reports._blocks import (
    Block,
    Heading,
    Note,
    Paragraph,
    table,
)
from csdomain.reports._layout import count_sections, time_notes
from csdomain.reports._words import Words
from csdomain.reports.figures import ScoreFigure, ScoreKind, ScoreUnit, TimeFigure, counted
from csdomain.sla import SlaMetric, SlaSetup, evaluate
from csdomain.sla.policy import Calendar
from csdomain.storage import Store
from csdomain.surveys.collections import RESPONSES
from csdomain.surveys.questions import QuestionKind
from csdomain.surveys.responses import SurveyResponse
from csdomain.surveys.scores import SMALL_SAMPLE, ResponseFacts, breakdown
from csdomain.tickets import Status, Ticket, TicketKind
from csdomain.tickets.events import StatusChanged, TicketCreated

__all__ = ["Breakdown", "BreakdownCell", "KpiLine", "KpiUnit", "PeriodReport", "period_report"]

#: Tickets read per page.
PAGE_SIZE = 500


class KpiUnit(Enum):
    """How a key figure's value reads."""

    COUNT = "count"
    RATE = "rate"  # a fraction from 0 to 1, shown as a percentage
    DURATION = "duration"


@attrs.frozen
class KpiLine:
    """One key figure: its name, value over ``n`` items, and interval when it has one.

    A RATE's value and bounds are fractions (0.25 for a quarter); a DURATION's are
    seconds. ``relative_error`` bounds a sketch quantile; None when exact.
    """

    name: str
    unit: KpiUnit
    n: int
    value: float | None
    low: float | None = None
    high: float | None = None
    relative_error: float | None = None


@attrs.frozen
class BreakdownCell:
    """A group's score (an agent, a group, a channel ...) and whether its interval
    overlaps the overall score's (if not, the group differs from the desk)."""

    key: str
    score: ScoreFigure
    overlaps_overall: bool


@attrs.frozen
class Breakdown:
    """A score broken down ``by`` one dimension: ``"agent"``, ``"group"``,
    ``"channel"``, ``"kind"`` or ``"period"``."""

    by: str
    cells: tuple[BreakdownCell, ...]


@attrs.frozen
class PeriodReport:
    """The desk over ``[start, end)``: figures ready to render.

    Tickets belong to the period in which they were opened; durations count the
    open time of ``calendar`` (None: calendar time); days are shown in ``zone``.
    """

    start: datetime = attrs.field(converter=to_utc)
    end: datetime = attrs.field(converter=to_utc)
    zone: str
    calendar: str | None
    tickets: int
    by_channel: tuple[tuple[str, int], ...]
    by_kind: tuple[tuple[TicketKind, int], ...]
    first_response: TimeFigure
    resolution: TimeFigure
    kpis: tuple[KpiLine, ...]
    csat: ScoreFigure
    nps: ScoreFigure
    ces: ScoreFigure
    responses: int = 0
    breakdowns: tuple[Breakdown, ...] = ()


_SOLVED = (Status.SOLVED, Status.CLOSED)


def status_at(ticket: Ticket, instant: datetime) -> Status:
    """The ticket's status just before ``instant``, from its timeline."""
    status = (
        ticket.timeline[0].status
        if isinstance(ticket.timeline[0], TicketCreated)
        else ticket.status
    )
    for event in ticket.timeline:
        if event.at >= instant:
            break
        if isinstance(event, StatusChanged):
            status = event.new
    return status


def _span(calendar: Calendar | None, start: datetime, end: datetime) -> timedelta:
    return calendar.elapsed(start, end) if calendar is not None else max(end - start, timedelta(0))


def period_tickets(
    store: Store, start: datetime, end: datetime, *, page_size: int = PAGE_SIZE
) -> Iterator[Ticket]:
    """The store's tickets opened in ``[start, end)``, read in keyset pages."""
    cursor: str | None = None
    while True:
        page = store.tickets.list(limit=page_size, cursor=cursor)
        for stored in page.items:
            if start <= stored.value.created_at < end:
                yield stored.value
        cursor = page.next_cursor
        if cursor is None:
            return


def _bound(value: datetime | date, tz_name: str, what: str) -> datetime:
    if isinstance(value, datetime):
        return to_utc(ensure_aware(value, "period report", what))
    return to_utc(datetime(value.year, value.month, value.day, tzinfo=zone(tz_name)))


def period_responses(
    store: Store, start: datetime, end: datetime, *, page_size: int = PAGE_SIZE
) -> Iterator[SurveyResponse]:
    """The survey responses answered in ``[start, end)``, read in keyset pages."""
    responses = store.collection(RESPONSES)
    cursor: str | None = None
    while True:
        page = responses.find("by_period", low=start, high=end, limit=page_size, cursor=cursor)
        for stored in page.items:
            yield stored.value
        cursor = page.next_cursor
        if cursor is None:
            return


def _time_figure(results: dict[str, KpiResult], stem: str, basis: str | None) -> TimeFigure:
    suffix = f"_{basis}" if basis else ""
    mean, median, p90 = (results[f"{stem}_{s}{suffix}"] for s in ("mean", "median", "p90"))

    def span(result: KpiResult) -> timedelta | None:
        value = result.value
        return None if value is None else timedelta(microseconds=round(float(value) * 1_000_000))

    if mean.n == 0:
        return TimeFigure(0, business=basis == "business")
    return TimeFigure(
        mean.n,
        span(mean),
        span(median),
        span(p90),
        business=basis == "business",
        relative_error=median.quantile_error,
    )


def _line(results: dict[str, KpiResult], name: str, unit: KpiUnit) -> KpiLine:
    result = results[name]
    value = None if result.value is None else float(result.value)
    interval = result.interval
    return KpiLine(
        name,
        unit,
        result.n,
        value,
        None if interval is None else interval.low,
        None if interval is None else interval.high,
    )


#: The key figures a period report shows, in order, with how their values read.
REPORTED_KPIS: Final[tuple[tuple[str, KpiUnit], ...]] = (
    ("volume", KpiUnit.COUNT),
    ("backlog", KpiUnit.COUNT),
    ("fcr", KpiUnit.RATE),
    ("reopen_rate", KpiUnit.RATE),
    ("complaint_rate", KpiUnit.RATE),
    *((f"sla_{metric.value}", KpiUnit.RATE) for metric in SlaMetric),
)


def period_report(
    store: Store,
    start: datetime | date,
    end: datetime | date,
    *,
    calendar: Calendar | None = None,
    sla: SlaSetup | None = None,
    zone_name: str = "UTC",
    page_size: int = PAGE_SIZE,
) -> PeriodReport:
    """The desk's report over ``[start, end)``.

    The key figures are the standard KPIs (:data:`csdomain.kpis.definitions.STANDARD_KPIS`)
    folded over the summaries of the tickets opened in the period (one pass, page
    by page), as of ``end``: the backlog is counted at ``end``. Durations count the
    open time of ``calendar`` (calendar time without one); SLA compliance needs
    ``sla`` (the desk's :class:`~csdomain.sla.SlaSetup`, evaluated at ``end``).
    The survey summary covers the responses answered in the period, with CSAT
    broken down by group and by channel (attributed at send or solve).

    A :class:`~datetime.date` bound is midnight at the start of that day in
    ``zone_name``. Raises :class:`~csdomain.errors.ValidationError` for naive
    instants, an unknown zone or ``end`` not after ``start``.
    """
    problem = zone_problem(zone_name)
    if problem is not None:
        raise ValidationError.single("period report", "zone", problem)
    low, high = _bound(start, zone_name, "start"), _bound(end, zone_name, "end")
    if high <= low:
        raise ValidationError.single(
            "period report",
            "end",
            f"expected an end after the start {low.isoformat()}, got {high.isoformat()}",
        )
    kpis = KpiSet(STANDARD_KPIS, as_of=high)
    channels: dict[str, int] = {}
    kinds: dict[TicketKind, int] = {}
    for ticket in period_tickets(store, low, high, page_size=page_size):
        channels[ticket.channel] = channels.get(ticket.channel, 0) + 1
        kinds[ticket.kind] = kinds.get(ticket.kind, 0) + 1
        status = evaluate(ticket, sla, high) if sla is not None else None
        kpis.add_summary(summarize(ticket, sla=status, calendar=calendar))
    facts: list[ResponseFacts] = []
    for response in period_responses(store, low, high, page_size=page_size):
        kpis.add_response(response)
        facts.append(ResponseFacts.of(response))
    results = kpis.results()
    basis = "business" if calendar is not None else "calendar"
    kind_order = {kind: i for i, kind in enumerate(TicketKind)}
    breakdowns = tuple(
        Breakdown(
            by,
            tuple(
                BreakdownCell(
                    cell.key or "–",
                    ScoreFigure.of(ScoreKind.CSAT, cell.score),
                    cell.overlaps_overall,
                )
                for cell in breakdown(facts, by, QuestionKind.CSAT).cells
            ),
        )
        for by in ("group", "channel")
        if any(f.csat is not None for f in facts)
    )
    return PeriodReport(
        start=low,
        end=high,
        zone=zone(zone_name).key,
        calendar=calendar.name if calendar is not None else None,
        tickets=sum(channels.values()),
        by_channel=counted(channels),
        by_kind=tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kind_order[kv[0]]))),
        first_response=_time_figure(results, "first_response", basis),
        resolution=_time_figure(results, "full_resolution", basis),
        kpis=tuple(_line(results, name, unit) for name, unit in REPORTED_KPIS),
        csat=_score(results, "csat", ScoreKind.CSAT),
        nps=_score(results, "nps", ScoreKind.NPS),
        ces=_score(results, "ces", ScoreKind.CES),
        responses=len(facts),
        breakdowns=breakdowns,
    )


def _score(results: dict[str, KpiResult], name: str, kind: ScoreKind) -> ScoreFigure:
    result = results[name]
    if result.value is None:
        return ScoreFigure.empty(kind)
    scale = 1.0 if kind is ScoreKind.CES else 100.0
    unit = {ScoreKind.CSAT: ScoreUnit.PERCENT, ScoreKind.NPS: ScoreUnit.POINTS}.get(
        kind, ScoreUnit.MEAN
    )
    interval = result.interval
    return ScoreFigure(
        kind,
        unit,
        result.n,
        float(result.value) * scale,
        None if interval is None else interval.low * scale,
        None if interval is None else interval.high * scale,
        small_sample=result.n < SMALL_SAMPLE,
    )


# -- layout -------------------------------------------------------------------------------

_KPI_NAMES = {
    "volume": _mark("report kpi", "Tickets opened"),
    "backlog": _mark("report kpi", "Still unsolved at the end"),
    "complaint_rate": _mark("report kpi", "Complaint rate"),
    "reopen_rate": _mark("report kpi", "Reopen rate"),
    "fcr": _mark("report kpi", "First contact resolution (7 days)"),
    "sla_first_response": _mark("report kpi", "SLA met: first response"),
    "sla_next_response": _mark("report kpi", "SLA met: next response"),
    "sla_periodic_update": _mark("report kpi", "SLA met: periodic update"),
    "sla_resolution": _mark("report kpi", "SLA met: resolution"),
}


def _kpi_value(words: Words, unit: KpiUnit, value: float | None) -> str:
    if value is None:
        return "–"
    if unit is KpiUnit.RATE:
        return words.percent(value)
    if unit is KpiUnit.DURATION:
        return words.duration(timedelta(seconds=value))
    return words.number(value)


def period_blocks(report: PeriodReport, words: Words) -> list[Block]:
    """The period report's blocks."""
    tz = zone(report.zone)
    last_day = (report.end - timedelta(microseconds=1)).astimezone(tz)
    start, end = words.day(report.start, tz), words.day(last_day)
    blocks: list[Block] = [
        Heading(words("period.title", start=start, end=end), level=1),
        Paragraph(words("period.scope", start=start, end=end, zone=report.zone)),
        Paragraph(words("period.summary", tickets=words.number(report.tickets))),
        Heading(words("section.kpis")),
    ]
    rows = []
    for line in report.kpis:
        name = _KPI_NAMES.get(line.name)
        interval = (
            words(
                "interval",
                low=_kpi_value(words, line.unit, line.low),
                high=_kpi_value(words, line.unit, line.high),
            )
            if line.low is not None and line.high is not None
            else "–"
        )
        rows.append(
            [
                words.tr(name) if name else line.name,
                _kpi_value(words, line.unit, line.value),
                interval,
                words.number(line.n),
            ]
        )
    blocks.append(
        table(
            [words("col.kpi"), words("col.value"), words("col.interval"), words("col.n")],
            rows,
            numeric=[1, 3],
        )
    )
    figures = [
        ("time.first_response", report.first_response),
        ("time.resolution", report.resolution),
    ]
    blocks += [
        Heading(words("section.times")),
        table(
            [
                words("col.measure"),
                words("col.mean"),
                words("col.median"),
                words("col.p90"),
                words("col.n"),
            ],
            [
                [
                    words(name),
                    words.duration(f.mean),
                    words.duration(f.median),
                    words.duration(f.p90),
                    words.number(f.n),
                ]
                for name, f in figures
            ],
            numeric=[1, 2, 3, 4],
        ),
        *time_notes(words, [f for _, f in figures], report.calendar),
    ]
    blocks.extend(
        count_sections(words, "period", report.by_channel, report.by_kind, report.tickets)
    )
    blocks.append(Heading(words("section.surveys")))
    if report.responses == 0 and report.csat.n == 0 and report.nps.n == 0 and report.ces.n == 0:
        blocks.append(Paragraph(words("surveys.none")))
    else:
        blocks.append(Paragraph(words("surveys.summary", responses=words.number(report.responses))))
        blocks.append(
            table(
                [words("col.score"), words("col.value"), words("col.interval")],
                [
                    [words.label(f.kind), words.score_with_n(f), words.interval(f)]
                    for f in (report.csat, report.nps, report.ces)
                ],
            )
        )
        for cut in report.breakdowns:
            blocks.append(Heading(words(f"section.breakdown.{cut.by}")))
            blocks.append(
                table(
                    [
                        words("col.group") if cut.by == "group" else words("col.channel"),
                        words("col.score"),
                        words("col.interval"),
                        words("col.overlaps"),
                    ],
                    [
                        [
                            words.channel(cell.key) if cut.by == "channel" else cell.key,
                            words.score_with_n(cell.score),
                            words.interval(cell.score),
                            words("yes") if cell.overlaps_overall else words("no"),
                        ]
                        for cell in cut.cells
                    ],
                )
            )
        blocks.append(Note(words("small sample note")))
    return blocks
