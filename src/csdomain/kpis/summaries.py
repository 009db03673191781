"""Ticket summaries: the flat record of one ticket that every ticket KPI reads.

:func:`summarize` walks a ticket's timeline once and keeps what the KPIs need
(when it opened, was first answered, solved, reopened and closed, and the
durations between, in calendar and business time), so accumulators fold plain
records instead of replaying timelines, and a store export or a PostgreSQL page
can feed them without tickets.

Durations are integer microseconds (exact: means over them are exact
fractions), ``None`` when the instant they end at has not happened, and for
business time also when no calendar was given.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Final

import attrs

from csdomain._kernel.documents import declare_document
from csdomain._kernel.time import delta_us, optional_utc, to_utc, utc_tuple
from csdomain._kernel.validation import (
    Check,
    Checked,
    boolean,
    checked,
    describe,
    each,
    identity_when,
    instant,
    integer,
    key,
    member_of,
    optional,
)
from csdomain.calendars import BusinessCalendar, CalendarUnion
from csdomain.errors import ValidationError
from csdomain.priorities import Priority
from csdomain.sla import SlaMetric, SlaState, SlaStatus
from csdomain.tickets import (
    ActorKind,
    MessageAdded,
    Status,
    StatusChanged,
    Ticket,
    TicketKind,
)
from csdomain.tickets.events import Visibility

__all__ = ["SlaOutcome", "TicketSummary", "summarize"]

#: One SLA metric and whether the ticket met it: True (achieved), False (breached),
#: None (not decided yet: running, paused, idle or cancelled).
SlaOutcome = tuple[SlaMetric, bool | None]

_AGENT: Final = ActorKind.AGENT
_CUSTOMER: Final = ActorKind.CUSTOMER
_PUBLIC: Final = Visibility.PUBLIC
_SOLVED: Final = Status.SOLVED
_CLOSED: Final = Status.CLOSED
_ACHIEVED: Final = SlaState.ACHIEVED
_BREACHED: Final = SlaState.BREACHED
_NOT_APPLICABLE: Final = SlaState.NOT_APPLICABLE
_MICROSECONDS: Final = "a duration in integer microseconds, zero or more"


_micros = optional(integer(minimum=0))
_when = optional(instant)
_instants = each(instant, tuple)
_outcome_metrics = frozenset(SlaMetric)


def _sla_ok(value: object) -> bool:
    return type(value) is tuple and all(
        type(pair) is tuple
        and len(pair) == 2
        and pair[0] in _outcome_metrics
        and (pair[1] is None or type(pair[1]) is bool)
        for pair in value
    )


def _sla_explain(value: object) -> Iterator[tuple[str, str]]:
    if type(value) is not tuple:
        yield "", f"expected a tuple of (SlaMetric, met) pairs, got {describe(value)}"
        return
    for i, pair in enumerate(value):
        if not (type(pair) is tuple and len(pair) == 2 and pair[0] in _outcome_metrics):
            yield (
                f"[{i}]",
                f"expected a (SlaMetric, True | False | None) pair, got {describe(pair)}",
            )
        elif not (pair[1] is None or type(pair[1]) is bool):
            yield f"[{i}]", f"met must be True, False or None, got {describe(pair[1])}"


_sla_check = Check(_sla_ok, _sla_explain, types=(tuple,))


def _sla_convert(value: Iterable[tuple[SlaMetric | str, bool | None]]) -> tuple[SlaOutcome, ...]:
    if type(value) is tuple and all(type(p) is tuple and type(p[0]) is SlaMetric for p in value):
        return value  # already (SlaMetric, met) pairs
    try:
        return tuple(
            (SlaMetric(metric) if isinstance(metric, str) else metric, met) for metric, met in value
        )
    except (TypeError, ValueError):
        return value  # type: ignore[return-value]  # the check explains it


# Loaders building summaries without __init__ skip the converter for a tuple of pairs whose
# metrics are members already (what the dumper writes loads back as strings: converted).
identity_when(
    _sla_convert,
    "type({v}) is {tuple} and all(type(p) is {tuple} and type(p[0]) is {metric} for p in {v})",
    tuple=tuple,
    metric=SlaMetric,
)


@attrs.frozen(kw_only=True)
class TicketSummary(Checked):
    """What the KPIs know of one ticket, as of its last event (flat; a document).

    * ``first_response_at``: the first public reply by an agent (internal notes,
      bot and system messages such as automatic acknowledgements do not count).
    * ``solved_at``: every move to solved, in order, and ``reopened_at`` every
      move out of solved other than closing (a reopen), in order: they alternate,
      solve first, so the ticket is resolved at an instant exactly when more solves
      than reopens happened by then (:meth:`resolved_by`). ``first_resolved_at``,
      ``reopens`` and ``first_reopened_at`` are read from them.
    * ``resolved_at``: the last solve, when the ticket is solved or closed now
      (None while a reopened ticket is unresolved, or for a ticket closed by a
      merge without a solve).
    * ``*_us``: calendar durations from ``opened_at`` to the matching instant, and
      ``*_business_us`` the open time of the desk calendar between the same
      instants, in integer microseconds.
    * ``handle_us``: the sum of the handle times the messages record (talk, hold
      and after-call work as the channel reports them), None when none does.
    * ``sla``: each measured SLA metric and whether it was met (None: not decided).
    * ``complaint``: the ticket's kind is complaint (投诉).
    * ``customer_contacts``: the customer's public messages (inbound contacts);
      ``agent_replies``: public agent replies.
    """

    ticket_id: str = attrs.field(metadata=checked(key("ticket id")))
    customer_id: str = attrs.field(metadata=checked(key("customer id")))
    channel: str = attrs.field(metadata=checked(key("channel key")))
    kind: TicketKind = attrs.field(metadata=checked(member_of(TicketKind)))
    priority: Priority = attrs.field(metadata=checked(member_of(Priority)))
    status: Status = attrs.field(metadata=checked(member_of(Status)))
    opened_at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    group_id: str | None = attrs.field(default=None, metadata=checked(optional(key("group id"))))
    assignee_id: str | None = attrs.field(default=None, metadata=checked(optional(key("agent id"))))
    first_response_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(_when)
    )
    first_response_us: int | None = attrs.field(default=None, metadata=checked(_micros))
    first_response_business_us: int | None = attrs.field(default=None, metadata=checked(_micros))
    solved_at: tuple[datetime, ...] = attrs.field(
        default=(), converter=utc_tuple, metadata=checked(_instants)
    )
    first_resolution_us: int | None = attrs.field(default=None, metadata=checked(_micros))
    first_resolution_business_us: int | None = attrs.field(default=None, metadata=checked(_micros))
    resolved_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(_when)
    )
    full_resolution_us: int | None = attrs.field(default=None, metadata=checked(_micros))
    full_resolution_business_us: int | None = attrs.field(default=None, metadata=checked(_micros))
    reopened_at: tuple[datetime, ...] = attrs.field(
        default=(), converter=utc_tuple, metadata=checked(_instants)
    )
    closed_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(_when)
    )
    handle_us: int | None = attrs.field(default=None, metadata=checked(_micros))
    sla: tuple[SlaOutcome, ...] = attrs.field(
        default=(),
        converter=_sla_convert,
        metadata=checked(_sla_check),
    )
    complaint: bool = attrs.field(default=False, metadata=checked(boolean))
    customer_contacts: int = attrs.field(default=0, metadata=checked(integer(minimum=0)))
    agent_replies: int = attrs.field(default=0, metadata=checked(integer(minimum=0)))

    def _check_whole(self) -> Iterable[tuple[str, str]]:
        # Straight-line test of the consistent case (every summary built runs it); the
        # loop below only names the problems.
        opened = self.opened_at
        solved, reopened = self.solved_at, self.reopened_at
        response, resolution, resolved = (
            self.first_response_at,
            solved[0] if solved else None,
            self.resolved_at,
        )
        if (
            (self.first_response_us is None if response is None else response >= opened)
            and (self.first_resolution_us is None if resolution is None else resolution >= opened)
            and (self.full_resolution_us is None if resolved is None else resolved >= opened)
            and (response is None or self.first_response_us == delta_us(response - opened))
            and (resolution is None or self.first_resolution_us == delta_us(resolution - opened))
            and (resolved is None or self.full_resolution_us == delta_us(resolved - opened))
            and (response is not None or self.first_response_business_us is None)
            and (resolution is not None or self.first_resolution_business_us is None)
            and (resolved is not None or self.full_resolution_business_us is None)
            and (
                self.first_response_business_us is None
                or self.first_response_business_us <= self.first_response_us  # type: ignore[operator]
            )
            and (
                self.first_resolution_business_us is None
                or self.first_resolution_business_us <= self.first_resolution_us  # type: ignore[operator]
            )
            and (
                self.full_resolution_business_us is None
                or self.full_resolution_business_us <= self.full_resolution_us  # type: ignore[operator]
            )
            and ((not reopened and len(solved) < 2) or _alternate(solved, reopened))
            and (resolved is None or (bool(solved) and resolved == solved[-1]))
            and (resolved is None or self.status is _SOLVED or self.status is _CLOSED)
            and (self.status is not _SOLVED or len(solved) > len(reopened))
            and (self.closed_at is None) is (self.status is not _CLOSED)
            and (self.closed_at is None or self.closed_at >= opened)
            and (len(self.sla) < 2 or len({m for m, _ in self.sla}) == len(self.sla))
        ):
            return ()
        return list(self._problems())

    def _problems(self) -> Iterator[tuple[str, str]]:
        opened = self.opened_at
        for at_name, us_name, business_name in _SPANS:
            at: datetime | None = getattr(self, at_name)
            calendar_us: int | None = getattr(self, us_name)
            business_us: int | None = getattr(self, business_name)
            if at is None:
                if calendar_us is not None:
                    yield us_name, f"given without {at_name}"
                if business_us is not None:
                    yield business_name, f"given without {at_name}"
                continue
            if at < opened:
                yield at_name, f"{at.isoformat()} is before opened_at {opened.isoformat()}"
                continue
            expected = delta_us(at - opened)
            if calendar_us != expected:
                yield us_name, f"must be {expected} ({at_name} - opened_at), got {calendar_us!r}"
            if business_us is not None and business_us > expected:
                yield business_name, f"open time {business_us} exceeds the calendar time {expected}"
        closed = self.closed_at
        if closed is not None and closed < opened:
            yield "closed_at", f"{closed.isoformat()} is before opened_at {opened.isoformat()}"
        solved, reopened = self.solved_at, self.reopened_at
        if not _alternate(solved, reopened):
            yield (
                "reopened_at",
                f"{len(solved)} solves and {len(reopened)} reopens do not alternate: expected "
                "solved_at[0] <= reopened_at[0] <= solved_at[1] <= ..., a solve first",
            )
        if self.resolved_at is not None and (not solved or self.resolved_at != solved[-1]):
            yield "resolved_at", "must be the last of solved_at"
        if self.status is _SOLVED and len(solved) <= len(reopened):
            yield "status", "solved, but the last solve was reopened (or there is none)"
        if self.resolved_at is not None and self.status not in (_SOLVED, _CLOSED):
            yield "resolved_at", f"set, but the status is {self.status.value}"
        if (self.closed_at is None) == (self.status is _CLOSED):
            yield "closed_at", "set exactly when the status is closed"
        if len({metric for metric, _ in self.sla}) != len(self.sla):
            yield "sla", "each metric at most once"

    @property
    def resolved(self) -> bool:
        """True when the ticket is solved or closed after a solve now."""
        return self.resolved_at is not None

    @property
    def first_resolved_at(self) -> datetime | None:
        """The first move to solved, or None."""
        return self.solved_at[0] if self.solved_at else None

    @property
    def reopens(self) -> int:
        """How many times the ticket was reopened."""
        return len(self.reopened_at)

    @property
    def first_reopened_at(self) -> datetime | None:
        """The first reopen, or None."""
        return self.reopened_at[0] if self.reopened_at else None

    def resolved_by(self, at: datetime) -> bool:
        """True when the ticket was solved and not reopened since at ``at`` (ignoring a
        close: see ``closed_at``)."""
        return bisect_right(self.solved_at, at) > bisect_right(self.reopened_at, at)


def _alternate(solved: tuple[datetime, ...], reopened: tuple[datetime, ...]) -> bool:
    """True when solves and reopens alternate in time, a solve first."""
    if not len(reopened) <= len(solved) <= len(reopened) + 1:
        return False
    previous = None
    for i, solve in enumerate(solved):
        if previous is not None and solve < previous:
            return False
        if i < len(reopened):
            if reopened[i] < solve:
                return False
            previous = reopened[i]
    return True


_SPANS: Final = (
    ("first_response_at", "first_response_us", "first_response_business_us"),
    ("first_resolved_at", "first_resolution_us", "first_resolution_business_us"),
    ("resolved_at", "full_resolution_us", "full_resolution_business_us"),
)

declare_document("ticket_summary", TicketSummary)

Calendar = BusinessCalendar | CalendarUnion


def summarize(
    ticket: Ticket, *, sla: SlaStatus | None = None, calendar: Calendar | None = None
) -> TicketSummary:
    """The summary of ``ticket`` as its whole timeline says.

    ``sla`` is the ticket's :func:`csdomain.sla.evaluate` result (its measured
    metrics become ``sla``; metrics not applicable are left out) and ``calendar``
    the desk calendar business durations are counted on (None: business
    durations are None). Pure: reads nothing but its arguments.
    """
    if not isinstance(ticket, Ticket):
        raise ValidationError.single(
            "summarize", "ticket", f"expected a Ticket, got {describe(ticket)}"
        )
    if sla is not None and not isinstance(sla, SlaStatus):
        raise ValidationError.single(
            "summarize", "sla", f"expected an SlaStatus or None, got {describe(sla)}"
        )
    if sla is not None and sla.ticket_id != ticket.id:
        raise ValidationError.single(
            "summarize",
            "sla",
            f"the SLA status of ticket {sla.ticket_id!r} given for ticket {ticket.id!r}",
        )
    if calendar is not None and not isinstance(calendar, (BusinessCalendar, CalendarUnion)):
        raise ValidationError.single(
            "summarize",
            "calendar",
            f"expected a BusinessCalendar, a CalendarUnion or None, got {describe(calendar)}",
        )
    first_response = last_solve = closed = None
    solves: list[datetime] = []
    reopens: list[datetime] = []
    contacts = replies = 0
    handle: timedelta | None = None
    for event in ticket.timeline:
        kind = type(event)
        if kind is MessageAdded:
            assert isinstance(event, MessageAdded)
            if event.handle_time is not None:
                handle = event.handle_time if handle is None else handle + event.handle_time
            if event.visibility is not _PUBLIC:
                continue
            actor = event.actor.kind
            if actor is _AGENT:
                replies += 1
                if first_response is None:
                    first_response = event.at
            elif actor is _CUSTOMER:
                contacts += 1
        elif kind is StatusChanged:
            assert isinstance(event, StatusChanged)
            if event.new is _SOLVED:
                last_solve = event.at
                solves.append(event.at)
            elif event.new is _CLOSED:
                closed = event.at
            elif event.old is _SOLVED:
                reopens.append(event.at)
    opened = ticket.created_at
    resolved = last_solve if ticket.status in (_SOLVED, _CLOSED) else None
    first_solve = solves[0] if solves else None

    def calendar_us(end: datetime | None) -> int | None:
        return None if end is None else delta_us(end - opened)

    def business_us(end: datetime | None) -> int | None:
        if end is None or calendar is None:
            return None
        return delta_us(calendar.elapsed(opened, end))

    outcomes: tuple[SlaOutcome, ...] = ()
    if sla is not None:
        outcomes = tuple(
            (m.metric, True if m.state is _ACHIEVED else False if m.state is _BREACHED else None)
            for m in sla.metrics
            if m.state is not _NOT_APPLICABLE
        )
    return TicketSummary(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        channel=ticket.channel,
        kind=ticket.kind,
        priority=ticket.priority,
        status=ticket.status,
        opened_at=opened,
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        first_response_at=first_response,
        first_response_us=calendar_us(first_response),
        first_response_business_us=business_us(first_response),
        solved_at=tuple(solves),
        first_resolution_us=calendar_us(first_solve),
        first_resolution_business_us=business_us(first_solve),
        resolved_at=resolved,
        full_resolution_us=calendar_us(resolved),
        full_resolution_business_us=business_us(resolved),
        reopened_at=tuple(reopens),
        closed_at=closed,
        handle_us=None if handle is None else delta_us(handle),
        sla=outcomes,
        complaint=ticket.kind is TicketKind.COMPLAINT,
        customer_contacts=contacts,
        agent_replies=replies,
    )
