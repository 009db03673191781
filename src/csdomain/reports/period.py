"""The desk's period report: key figures with their intervals, volumes, the survey summary.

:func:`period_report` streams the tickets opened in ``[start, end)`` from a store
in keyset pages (never the whole table at once) and builds a
:class:`PeriodReport`; :func:`csdomain.reports.render` writes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from enum import Enum

import attrs

from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import ensure_aware, to_utc, zone, zone_problem
from csdomain.errors import ValidationError
from csdomain.reports._blocks import (
    Block,
    Chart,
    ChartKind,
    Heading,
    Note,
    Paragraph,
    Series,
    table,
)
from csdomain.reports._words import Words
from csdomain.reports.annual import first_response_at, last_solved_at, reopen_count
from csdomain.reports.figures import ScoreFigure, ScoreKind, TimeFigure, counted
from csdomain.sla.policy import Calendar
from csdomain.storage import Store
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


declare_labels(
    KpiUnit,
    {
        KpiUnit.COUNT: _mark("report kpi unit", "count"),
        KpiUnit.RATE: _mark("report kpi unit", "rate"),
        KpiUnit.DURATION: _mark("report kpi unit", "duration"),
    },
)


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
    invitations: int = 0
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


def period_report(
    store: Store,
    start: datetime | date,
    end: datetime | date,
    *,
    calendar: Calendar | None = None,
    zone_name: str = "UTC",
    page_size: int = PAGE_SIZE,
) -> PeriodReport:
    """The desk's report over ``[start, end)``.

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
    channels: dict[str, int] = {}
    kinds: dict[TicketKind, int] = {}
    responses: list[timedelta] = []
    resolutions: list[timedelta] = []
    tickets = solved = reopened = complaints = backlog = 0
    for ticket in period_tickets(store, low, high, page_size=page_size):
        tickets += 1
        channels[ticket.channel] = channels.get(ticket.channel, 0) + 1
        kinds[ticket.kind] = kinds.get(ticket.kind, 0) + 1
        complaints += ticket.kind is TicketKind.COMPLAINT
        replied = first_response_at(ticket)
        if replied is not None:
            responses.append(_span(calendar, ticket.created_at, replied))
        done = last_solved_at(ticket)
        if done is not None:
            solved += 1
            resolutions.append(_span(calendar, ticket.created_at, done))
            reopened += reopen_count(ticket) > 0
        backlog += status_at(ticket, high) not in _SOLVED
    kind_order = {kind: i for i, kind in enumerate(TicketKind)}
    business = calendar is not None
    kpis = (
        KpiLine("tickets", KpiUnit.COUNT, tickets, float(tickets)),
        KpiLine("backlog", KpiUnit.COUNT, tickets, float(backlog)),
        KpiLine("solved", KpiUnit.COUNT, tickets, float(solved)),
        KpiLine("complaint_rate", KpiUnit.RATE, tickets, complaints / tickets if tickets else None),
        KpiLine("reopen_rate", KpiUnit.RATE, solved, reopened / solved if solved else None),
    )
    return PeriodReport(
        start=low,
        end=high,
        zone=zone(zone_name).key,
        calendar=calendar.name if calendar is not None else None,
        tickets=tickets,
        by_channel=counted(channels),
        by_kind=tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kind_order[kv[0]]))),
        first_response=TimeFigure.exact(responses, business=business),
        resolution=TimeFigure.exact(resolutions, business=business),
        kpis=kpis,
        csat=ScoreFigure.empty(ScoreKind.CSAT),
        nps=ScoreFigure.empty(ScoreKind.NPS),
        ces=ScoreFigure.empty(ScoreKind.CES),
    )


# -- layout -------------------------------------------------------------------------------

_KPI_NAMES = {
    "tickets": _mark("report kpi", "Tickets opened"),
    "backlog": _mark("report kpi", "Still unsolved at the end"),
    "solved": _mark("report kpi", "Solved"),
    "complaint_rate": _mark("report kpi", "Complaint rate"),
    "reopen_rate": _mark("report kpi", "Reopen rate"),
    "fcr": _mark("report kpi", "First contact resolution"),
    "first_response": _mark("report kpi", "First response time"),
    "resolution": _mark("report kpi", "Resolution time"),
    "handle": _mark("report kpi", "Handle time"),
    "sla_first_response": _mark("report kpi", "SLA compliance: first response"),
    "sla_resolution": _mark("report kpi", "SLA compliance: resolution"),
    "csat": _mark("report kpi", "CSAT"),
    "nps": _mark("report kpi", "NPS"),
    "ces": _mark("report kpi", "CES"),
    "revisit_completion": _mark("report kpi", "Revisit completion"),
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
        Note(
            words("business", calendar=report.calendar)
            if report.calendar
            else words("calendar time")
        ),
    ]
    tickets = words("col.tickets")
    for key, title, column, pairs in (
        (
            "period-by-channel",
            "section.channels",
            "col.channel",
            [(words.channel(k), c) for k, c in report.by_channel],
        ),
        (
            "period-by-kind",
            "section.kinds",
            "col.kind",
            [(words.label(k), c) for k, c in report.by_kind],
        ),
    ):
        blocks.append(Heading(words(title)))
        if pairs:
            blocks.append(
                Chart(
                    key,
                    ChartKind.HORIZONTAL_BAR,
                    words(title),
                    tuple(n for n, _ in pairs),
                    (Series(tickets, tuple(float(c) for _, c in pairs)),),
                )
            )
        blocks.append(
            table(
                [words(column), tickets, words("col.share")],
                [
                    [
                        n,
                        words.number(c),
                        words.percent(c / report.tickets) if report.tickets else "–",
                    ]
                    for n, c in pairs
                ],
                numeric=[1, 2],
            )
        )
    blocks.append(Heading(words("section.surveys")))
    if report.responses == 0 and report.csat.n == 0 and report.nps.n == 0 and report.ces.n == 0:
        blocks.append(Paragraph(words("surveys.none")))
    else:
        rate = words.percent(report.responses / report.invitations) if report.invitations else "–"
        blocks.append(
            Paragraph(
                words(
                    "surveys.summary",
                    responses=words.number(report.responses),
                    invitations=words.number(report.invitations),
                    rate=rate,
                )
            )
        )
        blocks.append(
            table(
                [words("col.score"), words("col.value"), words("col.interval")],
                [
                    [words.label(f.kind), words.score_with_n(f), words.interval(f)]
                    for f in (report.csat, report.nps, report.ces)
                ],
            )
        )
        for breakdown in report.breakdowns:
            blocks.append(Heading(words("section.breakdown", by=breakdown.by)))
            blocks.append(
                table(
                    [
                        breakdown.by,
                        words("col.score"),
                        words("col.interval"),
                        words("col.overlaps"),
                    ],
                    [
                        [
                            cell.key,
                            words.score_with_n(cell.score),
                            words.interval(cell.score),
                            words("yes") if cell.overlaps_overall else words("no"),
                        ]
                        for cell in breakdown.cells
                    ],
                )
            )
        blocks.append(Note(words("small sample note")))
    return blocks
