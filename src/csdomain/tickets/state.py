"""The state of a ticket as its timeline says: one slotted class, the one list of names.

Replaying a timeline moves a :class:`TicketState` forward event by event; each
event class carries its own rule (:meth:`~csdomain.tickets.TicketEvent.apply_to`).
:class:`~csdomain.tickets.Ticket` inherits these slots, so the derived fields
are named once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Final

from csdomain._kernel.validation import JsonScalar
from csdomain.errors import InvalidTransitionError
from csdomain.priorities import Priority
from csdomain.tickets.links import LinkKind, TicketLink
from csdomain.tickets.status import Status, TicketKind

__all__ = ["STATE_FIELDS", "TicketState"]


#: The derived fields of a ticket, in document order (the slots of :class:`TicketState`).
STATE_FIELDS: Final[tuple[str, ...]] = (
    "id",
    "kind",
    "subject",
    "customer_id",
    "channel",
    "priority",
    "status",
    "group_id",
    "assignee_id",
    "tier",
    "tags",
    "custom_fields",
    "links",
    "created_at",
    "updated_at",
)


_MERGED_INTO: Final = LinkKind.MERGED_INTO


class TicketState:
    """The fields a ticket derives from its timeline, mutable while replaying."""

    __slots__ = STATE_FIELDS

    #: The fields holding personal data (see :func:`csdomain.privacy.personal_fields`).
    __csdomain_personal__: ClassVar[tuple[str, ...]] = ("subject", "custom_fields")

    id: str
    kind: TicketKind
    subject: str
    customer_id: str
    channel: str
    priority: Priority
    status: Status
    group_id: str | None
    assignee_id: str | None
    tier: str
    tags: frozenset[str]
    custom_fields: Mapping[str, JsonScalar]
    links: tuple[TicketLink, ...]
    created_at: datetime
    updated_at: datetime

    def started(self) -> bool:
        """True once a ``created`` event has been applied."""
        return hasattr(self, "updated_at")

    def copy(self) -> TicketState:
        """A new state with the same field values (the values are immutable)."""
        new = object.__new__(TicketState)
        for name in STATE_FIELDS:
            object.__setattr__(new, name, getattr(self, name))
        return new

    @property
    def merged(self) -> bool:
        """True when the ticket was merged into another."""
        links = self.links
        return bool(links) and any(link.kind is _MERGED_INTO for link in links)

    def refuse(self, action: str, detail: str) -> InvalidTransitionError:
        """The error for an event this state does not allow (``action`` is what was tried)."""
        return InvalidTransitionError(self.id, self.status.value, action, (), detail=detail)
