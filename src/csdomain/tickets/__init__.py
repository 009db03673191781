"""Tickets (工单): the aggregate, its status machine and its timeline.

A :class:`Ticket` is immutable. Every change is a method that validates the
request, appends one or more events to the ticket's timeline and returns the
new ticket; the old value is untouched, so a rejected change leaves nothing
half-done. The timeline is the whole truth: ``Ticket(timeline=...)`` replays
it, and the state fields (status, priority, assignee, ...) are what the replay
says. The same per-event rule moves a ticket forward in a method and in a
replay, so a ticket rebuilt from its timeline equals the original.

Statuses move only along :data:`TRANSITIONS`:

============  ==========================================  ======================
from          to                                           note
============  ==========================================  ======================
new           open, pending, on_hold, solved
open          pending, on_hold, solved
pending       open, on_hold, solved                        waiting on the customer
on_hold       open, pending, solved                        waiting on a third party
solved        open (reopen), closed
closed        nothing                                      final; link a follow-up
============  ==========================================  ======================

Three moves happen by themselves, each recorded as its own
:class:`StatusChanged` event right after the message that caused it: an
agent's first public reply moves ``new`` to ``open``; a customer's public
message moves ``pending`` or ``solved`` back to ``open``. Merging a ticket
into another closes it from any status that is not closed.
"""

from csdomain.tickets.actors import Actor, ActorKind
from csdomain.tickets.events import (
    EVENT_TYPES,
    Assigned,
    CustomFieldsChanged,
    Linked,
    MessageAdded,
    PersonalDataErased,
    PriorityChanged,
    StatusChanged,
    TagsChanged,
    TicketCreated,
    TicketEvent,
    TierChanged,
    Visibility,
)
from csdomain.tickets.links import LinkKind, TicketLink
from csdomain.tickets.state import STATE_FIELDS, TicketState
from csdomain.tickets.status import TRANSITIONS, Status, TicketKind, allowed_moves
from csdomain.tickets.ticket import REASON_AGENT_REPLIED, REASON_CUSTOMER_REPLIED, Ticket

__all__ = [
    "EVENT_TYPES",
    "REASON_AGENT_REPLIED",
    "REASON_CUSTOMER_REPLIED",
    "STATE_FIELDS",
    "TRANSITIONS",
    "Actor",
    "ActorKind",
    "Assigned",
    "CustomFieldsChanged",
    "LinkKind",
    "Linked",
    "MessageAdded",
    "PersonalDataErased",
    "PriorityChanged",
    "Status",
    "StatusChanged",
    "TagsChanged",
    "Ticket",
    "TicketCreated",
    "TicketEvent",
    "TicketKind",
    "TicketLink",
    "TicketState",
    "TierChanged",
    "Visibility",
    "allowed_moves",
]
