"""The annual service report (年度服务报告) of one customer.

:func:`annual_report` reads the customer's tickets (the ticket store's
``by_customer`` query, page by page), the revisit tasks of the customer and the
survey responses of the customer, and builds an :class:`AnnualReport`: tickets
by month, channel and kind; first response and resolution times (mean, median,
90th percentile; business time in the calendar given, else calendar time);
each complaint with its revisits and their outcomes; satisfaction by month with
sample sizes and intervals. :func:`csdomain.reports.render` writes it as text,
Markdown or HTML.

The year is read in a time zone (by default the customer's own): a ticket
belongs to the year, and to the month, in which it was opened there.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime, timedelta

import attrs

from csdomain._kernel.time import to_utc, zone, zone_problem
from csdomain.errors import ValidationError
from csdomain.kpis.summaries import summarize
from csdomain.privacy import is_redacted
from csdomain.reports.figures import ScoreFigure, ScoreKind, TimeFigure, counted
from csdomain.revisits.collection import REVISIT_TASKS
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import Outcome, RevisitForm, TaskState
from csdomain.sla.policy import Calendar
from csdomain.storage import Store
from csdomain.surveys.collections import RESPONSES
from csdomain.surveys.questions import QuestionKind
from csdomain.surveys.responses import SurveyResponse
from csdomain.surveys.scores import ScoreTally
from csdomain.tickets import Status, Ticket, TicketKind

__all__ = [
    "AnnualReport",
    "ComplaintLine",
    "MonthSatisfaction",
    "RevisitLine",
    "annual_report",
    "mask_name",
]

#: Tickets read per page while building a report.
PAGE_SIZE = 200


def mask_name(name: str) -> str:
    """A display name with all but the first character of each word hidden.

    >>> mask_name("王芳"), mask_name("Li Wei"), mask_name("欧阳娜娜")
    ('王*', 'L* W**', '欧***')

    An erased name stays the erasure marker; an empty one stays empty.
    """
    if is_redacted(name):
        return name
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


@attrs.frozen
class RevisitLine:
    """One revisit (回访) of a complaint: when it was due, its form, state and outcome
    (None until the task is done)."""

    task_id: str
    due_at: datetime = attrs.field(converter=to_utc)
    form: RevisitForm
    state: TaskState
    outcome: Outcome | None = None


@attrs.frozen
class ComplaintLine:
    """A complaint of the year: opened, solved (last solve, if solved), its state,
    its revisits and the customer's satisfaction answer about it (CSAT 1-5), if any."""

    ticket_id: str
    channel: str
    opened_at: datetime = attrs.field(converter=to_utc)
    status: Status
    solved_at: datetime | None = None
    revisits: tuple[RevisitLine, ...] = ()
    csat: int | None = None


@attrs.frozen
class MonthSatisfaction:
    """Satisfaction answered in one month of the year (1-12)."""

    month: int
    csat: ScoreFigure
    nps: ScoreFigure


@attrs.frozen
class AnnualReport:
    """A customer's year of service, as figures ready to render.

    ``customer_name`` is masked (:func:`mask_name`). ``calendar`` names the
    business calendar the times count in, None for calendar time. ``by_month``
    holds the tickets opened in each month, January first.
    """

    customer_id: str
    customer_name: str
    year: int
    zone: str
    calendar: str | None
    tickets: int
    by_month: tuple[int, ...]
    by_channel: tuple[tuple[str, int], ...]
    by_kind: tuple[tuple[TicketKind, int], ...]
    first_response: TimeFigure
    resolution: TimeFigure
    reopened: int
    complaints: tuple[ComplaintLine, ...]
    satisfaction: tuple[MonthSatisfaction, ...]
    csat: ScoreFigure
    nps: ScoreFigure

    def __attrs_post_init__(self) -> None:
        if len(self.by_month) != 12 or sum(self.by_month) != self.tickets:
            raise ValidationError.single(
                f"annual report of {self.customer_id}",
                "by_month",
                f"expected 12 monthly counts adding up to {self.tickets} tickets, "
                f"got {self.by_month!r}",
            )


# -- reading the store -------------------------------------------------------------------


def customer_tickets(
    store: Store, customer_id: str, *, page_size: int = PAGE_SIZE
) -> Iterator[Ticket]:
    """Every ticket of the customer, read in keyset pages of ``page_size``."""
    cursor: str | None = None
    while True:
        page = store.tickets.list(customer_id=customer_id, limit=page_size, cursor=cursor)
        for stored in page.items:
            yield stored.value
        cursor = page.next_cursor
        if cursor is None:
            return


def customer_responses(
    store: Store, customer_id: str, start: datetime, end: datetime, *, page_size: int = PAGE_SIZE
) -> Iterator[SurveyResponse]:
    """The customer's survey responses answered in ``[start, end)``, oldest first."""
    responses = store.collection(RESPONSES)
    cursor: str | None = None
    while True:
        page = responses.find(
            "by_customer",
            where={"customer_id": customer_id},
            low=start,
            high=end,
            limit=page_size,
            cursor=cursor,
        )
        for stored in page.items:
            yield stored.value
        cursor = page.next_cursor
        if cursor is None:
            return


def customer_tasks(
    store: Store, customer_id: str, *, page_size: int = PAGE_SIZE
) -> Iterator[RevisitTask]:
    """Every revisit task of the customer, by due instant, read in keyset pages."""
    tasks = store.collection(REVISIT_TASKS)
    cursor: str | None = None
    while True:
        page = tasks.find(
            "by_customer", where={"customer_id": customer_id}, limit=page_size, cursor=cursor
        )
        for stored in page.items:
            yield stored.value
        cursor = page.next_cursor
        if cursor is None:
            return


def annual_report(
    store: Store,
    customer_id: str,
    year: int,
    *,
    calendar: Calendar | None = None,
    zone_name: str | None = None,
    page_size: int = PAGE_SIZE,
) -> AnnualReport:
    """The annual service report of customer ``customer_id`` for ``year``.

    Times count the open time of ``calendar`` (the desk's business hours), or
    calendar time without one, as the KPIs define them
    (:func:`csdomain.kpis.summaries.summarize`): first response is the first public
    agent reply (notes and automatic acknowledgements do not count), resolution
    runs to the last solve of a ticket solved now. A customer's tickets are few, so
    medians and 90th percentiles are exact (nearest rank), not sketched.
    The year and its months are read in ``zone_name`` (an IANA zone; by default the
    customer's ``timezone``).
    Raises :class:`~csdomain.errors.NotFoundError` for an unknown customer and
    :class:`~csdomain.errors.ValidationError` for a year outside 1970-9998 or an
    unknown zone.
    """
    if isinstance(year, bool) or not isinstance(year, int) or not 1970 <= year <= 9998:
        raise ValidationError.single(
            "annual report", "year", f"expected a year from 1970 to 9998, got {year!r}"
        )
    customer = store.customers.get(customer_id).value
    problem = zone_problem(zone_name or customer.timezone)
    if problem is not None:
        raise ValidationError.single("annual report", "zone", problem)
    tz = zone(zone_name or customer.timezone)
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)

    business = calendar is not None
    by_month = [0] * 12
    channels: dict[str, int] = {}
    kinds: dict[TicketKind, int] = {}
    responses: list[timedelta] = []
    resolutions: list[timedelta] = []
    reopened = 0
    complaints: list[ComplaintLine] = []
    for ticket in customer_tickets(store, customer_id, page_size=page_size):
        if not start <= ticket.created_at < end:
            continue
        by_month[ticket.created_at.astimezone(tz).month - 1] += 1
        channels[ticket.channel] = channels.get(ticket.channel, 0) + 1
        kinds[ticket.kind] = kinds.get(ticket.kind, 0) + 1
        summary = summarize(ticket, calendar=calendar)
        replied = summary.first_response_business_us if business else summary.first_response_us
        if replied is not None:
            responses.append(timedelta(microseconds=replied))
        resolved = summary.full_resolution_business_us if business else summary.full_resolution_us
        if resolved is not None:
            resolutions.append(timedelta(microseconds=resolved))
        reopened += summary.reopens > 0
        solved = summary.resolved_at
        if ticket.kind is TicketKind.COMPLAINT:
            complaints.append(
                ComplaintLine(
                    ticket_id=ticket.id,
                    channel=ticket.channel,
                    opened_at=ticket.created_at,
                    status=ticket.status,
                    solved_at=solved,
                )
            )
    csat_months = [ScoreTally.empty(QuestionKind.CSAT) for _ in range(12)]
    nps_months = [ScoreTally.empty(QuestionKind.NPS) for _ in range(12)]
    ticket_csat: dict[str, int] = {}
    for response in customer_responses(store, customer_id, start, end, page_size=page_size):
        month = response.answered_at.astimezone(tz).month - 1
        if response.csat is not None:
            csat_months[month].add(response.csat)
            if response.ticket_id is not None:
                ticket_csat[response.ticket_id] = response.csat  # the latest answer counts
        if response.nps is not None:
            nps_months[month].add(response.nps)
    csat_year = functools.reduce(ScoreTally.merge, csat_months)
    nps_year = functools.reduce(ScoreTally.merge, nps_months)
    revisits: dict[str, list[RevisitLine]] = {c.ticket_id: [] for c in complaints}
    if revisits:
        # A complaint's follow-ups are caused by it (their cause is the ticket id), whenever
        # they fall: one solved on 30 December is revisited in January.
        for task in customer_tasks(store, customer_id, page_size=page_size):
            if task.cause in revisits:
                revisits[task.cause].append(
                    RevisitLine(task.id, task.due_at, task.form, task.state, task.outcome)
                )
    complaints = [
        attrs.evolve(c, csat=ticket_csat.get(c.ticket_id), revisits=tuple(revisits[c.ticket_id]))
        for c in complaints
    ]

    kind_order = {kind: i for i, kind in enumerate(TicketKind)}
    return AnnualReport(
        customer_id=customer.id,
        customer_name=mask_name(customer.display_name),
        year=year,
        zone=tz.key,
        calendar=calendar.name if calendar is not None else None,
        tickets=sum(by_month),
        by_month=tuple(by_month),
        by_channel=counted(channels),
        by_kind=tuple(sorted(kinds.items(), key=lambda kv: (-kv[1], kind_order[kv[0]]))),
        first_response=TimeFigure.exact(responses, business=business),
        resolution=TimeFigure.exact(resolutions, business=business),
        reopened=reopened,
        complaints=tuple(sorted(complaints, key=lambda c: (c.opened_at, c.ticket_id))),
        satisfaction=tuple(
            MonthSatisfaction(
                month,
                ScoreFigure.of(ScoreKind.CSAT, csat_months[month - 1].score()),
                ScoreFigure.of(ScoreKind.NPS, nps_months[month - 1].score()),
            )
            for month in range(1, 13)
        ),
        csat=ScoreFigure.of(ScoreKind.CSAT, csat_year.score()),
        nps=ScoreFigure.of(ScoreKind.NPS, nps_year.score()),
    )
