"""Each ticket's schedule: the indexed instants a desk works by, and its SLA clock state.

The HelpDesk keeps one :class:`TicketSchedule` per ticket in the declared
collection ``ticket_schedules``, written in the same unit of work as the ticket.
It holds the two instants support leads ask about, indexed separately:

* ``due_at``: the earliest due instant of a running SLA metric (in the past once
  breached: "breaching");
* ``warning_at``: the next instant a running metric reaches a warning threshold;

and the instant the next sweep must look at the ticket (``sweep_at``: the next
warning or due instant, or an escalation rule's timer, or *now* when a rule is due
to fire). It also keeps the ticket's :class:`~csdomain.sla.SlaClockState`, so that
evaluating a ticket in a sweep costs the same whatever the length of its timeline,
and the ticket's status, group, assignee, tier, kind and channel, the filters of
the leads' queries and of routing's load counts. Callers never compute or pass any
of these instants: :func:`schedule_for` does, from a fresh evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

import attrs

from csdomain._kernel.collections import Collection, Column, ColumnType, Query, declare_collection
from csdomain._kernel.documents import declare_document
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain.priorities import Priority
from csdomain.sla import SlaClockState, SlaMetric, SlaState, SlaStatus
from csdomain.tickets import Assigned, Status, StatusChanged, Ticket, TicketKind

__all__ = ["SCHEDULES", "UNSOLVED", "StatusGroup", "TicketSchedule", "schedule_for"]

_MICROSECOND: Final = timedelta(microseconds=1)

#: The statuses in which a ticket still waits on the desk: new, open, pending, on hold.
UNSOLVED: Final = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})


class StatusGroup(Enum):
    """Named sets of statuses for the support leads' queries.

    ``UNSOLVED`` is everything still waiting on the desk (new, open, pending and on
    hold: "open" in the everyday sense, which includes new tickets); ``ACTIVE`` the
    tickets an agent must act on (new, open); ``WAITING`` those waiting on the
    customer or a third party (pending, on hold); ``DONE`` solved and closed.
    """

    UNSOLVED = "unsolved"
    ACTIVE = "active"
    WAITING = "waiting"
    DONE = "done"

    @property
    def statuses(self) -> frozenset[Status]:
        """The statuses of the group."""
        return _GROUPS[self]


_GROUPS: Final = {
    StatusGroup.UNSOLVED: UNSOLVED,
    StatusGroup.ACTIVE: frozenset({Status.NEW, Status.OPEN}),
    StatusGroup.WAITING: frozenset({Status.PENDING, Status.ON_HOLD}),
    StatusGroup.DONE: frozenset({Status.SOLVED, Status.CLOSED}),
}

declare_labels(
    StatusGroup,
    {
        StatusGroup.UNSOLVED: _mark("status group", "Unsolved"),
        StatusGroup.ACTIVE: _mark("status group", "Active"),
        StatusGroup.WAITING: _mark("status group", "Waiting"),
        StatusGroup.DONE: _mark("status group", "Done"),
    },
)


@attrs.frozen
class TicketSchedule:
    """Where one ticket stands for the desk's sweeps and queries (see the module docs).

    ``queued_at`` is when the ticket started waiting unassigned in its group (None
    once assigned, solved or closed); ``route_at`` when its closed group opens again,
    for a sweep to route it then; ``solved_at`` when it was last solved (None
    unless solved); ``breached`` the metrics whose latest cycle is breached.
    ``setup`` fingerprints the SLA policy the clock state was walked with, so a
    changed policy is walked again instead of trusted. ``next_deadline`` is the
    earliest warning or due instant of any running metric still ahead (what
    :meth:`TicketRepository.due_before <csdomain.storage.TicketRepository.due_before>`
    indexes for the ticket).
    """

    ticket_id: str
    customer_id: str
    status: Status
    group_id: str | None
    assignee_id: str | None
    tier: str
    kind: TicketKind
    priority: Priority
    channel: str
    created_at: datetime
    queued_at: datetime | None
    solved_at: datetime | None
    due_at: datetime | None
    due_metric: SlaMetric | None
    warning_at: datetime | None
    warning_metric: SlaMetric | None
    breached: tuple[SlaMetric, ...]
    check_at: datetime | None
    route_at: datetime | None
    sweep_at: datetime | None
    next_deadline: datetime | None
    setup: str
    clock: SlaClockState
    evaluated_at: datetime


declare_document("ticket_schedule", TicketSchedule)

_TEXT, _INSTANT = ColumnType.TEXT, ColumnType.INSTANT

#: The collection of schedules, one per ticket, keyed by ticket id.
SCHEDULES: Final = declare_collection(
    Collection(
        "ticket_schedules",
        "ticket schedule",
        TicketSchedule,
        key_of=lambda schedule: schedule.ticket_id,
        columns=[
            Column("status", _TEXT),
            Column("group_id", _TEXT),
            Column("assignee_id", _TEXT),
            Column("tier", _TEXT),
            Column("kind", _TEXT),
            Column("channel", _TEXT),
            Column("due_at", _INSTANT),
            Column("warning_at", _INSTANT),
            Column("sweep_at", _INSTANT),
            Column("queued_at", _INSTANT),
            Column("solved_at", _INSTANT),
        ],
        queries=[
            Query("sweep", order="sweep_at"),
            Query("due", where=["status"], order="due_at"),
            Query("warning", where=["status"], order="warning_at"),
            Query("load", where=["assignee_id", "status"]),
            Query("queue", where=["group_id", "assignee_id", "status"], order="queued_at"),
            Query("solved", where=["status"], order="solved_at"),
        ],
        columns_of=lambda s: {
            "status": s.status,
            "group_id": s.group_id,
            "assignee_id": s.assignee_id,
            "tier": s.tier,
            "kind": s.kind,
            "channel": s.channel,
            "due_at": s.due_at,
            "warning_at": s.warning_at,
            "sweep_at": s.sweep_at,
            "queued_at": s.queued_at,
            "solved_at": s.solved_at,
        },
    )
)


def _breach(due_at: datetime | None, now: datetime) -> datetime | None:
    """When a metric due at ``due_at`` breaches, if that is still ahead of ``now``."""
    if due_at is None or due_at < now:
        return None
    return due_at + _MICROSECOND


def _last(ticket: Ticket, kinds: type | tuple[type, ...], status: Status | None) -> datetime | None:
    for event in reversed(ticket.timeline):
        if isinstance(event, kinds) and (
            status is None or (isinstance(event, StatusChanged) and event.new is status)
        ):
            return event.at
    return None


def _queued_at(ticket: Ticket) -> datetime | None:
    if ticket.status not in UNSOLVED or ticket.assignee_id is not None:
        return None
    return _last(ticket, Assigned, None) or ticket.created_at


def _earliest(
    candidates: Iterable[tuple[datetime | None, SlaMetric]],
) -> tuple[datetime | None, SlaMetric | None]:
    best: tuple[datetime | None, SlaMetric | None] = (None, None)
    for at, metric in candidates:
        if at is not None and (best[0] is None or at < best[0]):
            best = (at, metric)
    return best


def schedule_for(
    ticket: Ticket,
    clock: SlaClockState,
    sla: SlaStatus,
    *,
    check_at: datetime | None,
    setup: str,
    route_at: datetime | None = None,
) -> TicketSchedule:
    """The schedule of ``ticket`` from its SLA status ``sla`` at ``sla.now``.

    ``check_at`` is the next instant an escalation rule's trigger starts to hold;
    ``route_at`` the next opening of the group a queued ticket waits in. ``sweep_at``
    is the earliest instant still ahead of ``sla.now`` among every running metric's
    next warning and breach instant (one microsecond after its due instant; a
    breached metric does not hide another's), the
    check and the route instants (the rules due by then have fired: the caller
    settled the ticket).
    """
    now = sla.now
    unsolved = ticket.status in UNSOLVED
    running = (
        [m for m in sla.metrics if m.state in (SlaState.RUNNING, SlaState.BREACHED)]
        if unsolved
        else []
    )
    due_at, due_metric = _earliest((m.due_at, m.metric) for m in running)
    warning_at, warning_metric = _earliest((m.next_warning_at, m.metric) for m in running)
    if not unsolved:
        check_at = route_at = None
    deadlines = [
        t for m in running for t in (m.next_warning_at, m.due_at) if t is not None and t > now
    ]
    # A metric breaches one microsecond after its due instant (a reply at the due
    # instant is on time): that is when a sweep must look.
    ahead = [t for m in running for t in (m.next_warning_at, _breach(m.due_at, now)) if t]
    ahead.extend(t for t in (check_at, route_at) if t is not None and t > now)
    sweep_at = min(ahead, default=None)
    return TicketSchedule(
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        status=ticket.status,
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        tier=ticket.tier,
        kind=ticket.kind,
        priority=ticket.priority,
        channel=ticket.channel,
        created_at=ticket.created_at,
        queued_at=_queued_at(ticket),
        solved_at=_last(ticket, StatusChanged, Status.SOLVED)
        if ticket.status is Status.SOLVED
        else None,
        due_at=due_at,
        due_metric=due_metric,
        warning_at=warning_at,
        warning_metric=warning_metric,
        breached=tuple(m.metric for m in sla.metrics if m.state is SlaState.BREACHED),
        check_at=check_at,
        route_at=route_at,
        sweep_at=sweep_at,
        next_deadline=min(deadlines, default=None),
        setup=setup,
        clock=clock,
        evaluated_at=now,
    )
