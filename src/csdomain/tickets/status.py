"""Ticket kinds, statuses and the table of allowed status moves."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Final

from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark

__all__ = ["TRANSITIONS", "Status", "TicketKind", "allowed_moves"]


class TicketKind(Enum):
    """What the customer came for."""

    CONSULTATION = "consultation"  # 咨询
    INCIDENT = "incident"
    PROBLEM = "problem"
    REQUEST = "request"
    COMPLAINT = "complaint"  # 投诉
    AFTER_SALES = "after_sales"  # 售后


declare_labels(
    TicketKind,
    {
        TicketKind.CONSULTATION: _mark("ticket kind", "Consultation"),
        TicketKind.INCIDENT: _mark("ticket kind", "Incident"),
        TicketKind.PROBLEM: _mark("ticket kind", "Problem"),
        TicketKind.REQUEST: _mark("ticket kind", "Service request"),
        TicketKind.COMPLAINT: _mark("ticket kind", "Complaint"),
        TicketKind.AFTER_SALES: _mark("ticket kind", "After-sales"),
    },
)


class Status(Enum):
    """Where a ticket is in its life; see :data:`TRANSITIONS` for the allowed moves."""

    # Members are singletons: hashing by identity is correct and runs in C
    # (Enum's own hash calls Python code), which SLA sweeps feel.
    __hash__ = object.__hash__

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


#: The allowed status moves: ``TRANSITIONS[current]`` is the set of next statuses.


declare_labels(
    Status,
    {
        Status.NEW: _mark("status", "New"),
        Status.OPEN: _mark("status", "Open"),
        # Translators: waiting on the customer's reply.
        Status.PENDING: _mark("status", "Pending"),
        # Translators: waiting on a third party or another team.
        Status.ON_HOLD: _mark("status", "On hold"),
        Status.SOLVED: _mark("status", "Solved"),
        Status.CLOSED: _mark("status", "Closed"),
    },
)


TRANSITIONS: Final[Mapping[Status, frozenset[Status]]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.SOLVED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.SOLVED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.SOLVED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def allowed_moves(status: Status) -> tuple[str, ...]:
    """The values of the statuses ``status`` may move to, sorted (for messages and errors)."""
    return tuple(sorted(s.value for s in TRANSITIONS[status]))
