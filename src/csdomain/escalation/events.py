"""The timeline events of escalation: requests, firings and queued notifications.

Each class registers itself in :data:`csdomain.tickets.EVENT_TYPES` when this
module is imported, so a ticket holding these events replays, serializes and
loads like any other (``csdomain.serialization.to_json``/``from_json`` and the
event rows of storage).

None of them changes the ticket's state fields; they are ordinary events, not
audit-only records: they are refused on a closed ticket and move
``updated_at``.

* :class:`SeniorAgentRequested` (``"escalation.senior_requested"``): someone
  (usually the customer) asked for a senior agent; the ``senior_requested``
  trigger fires once per request.
* :class:`RuleFired` (``"escalation.rule_fired"``): an escalation rule fired
  for a trigger key and cycle; the engine reads these to fire a rule at most
  once per ``(rule, trigger, cycle)``.
* :class:`NotificationQueued` (``"escalation.notification"``): a notification
  to deliver at ``deliver_at``, an open instant of the receiving calendar. It
  is the outbox message: storage puts every new ticket event in the outbox
  with the ticket, and relays deliver it at ``deliver_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import ClassVar, Final

import attrs

from csdomain._kernel.time import to_utc
from csdomain._kernel.validation import (
    checked,
    distinct_keys,
    identity_when,
    instant,
    integer,
    key,
    optional,
    text,
    tuple_of,
)
from csdomain.tickets import TicketEvent, TicketState

__all__ = ["NotificationQueued", "RuleFired", "SeniorAgentRequested"]

#: The longest reason an escalation event keeps.
REASON_MAX: Final = 1000


def _keys(value: Iterable[str]) -> tuple[str, ...]:
    return tuple_of(value)


identity_when(_keys, "type({v}) is {tuple}", tuple=tuple)


@attrs.frozen(kw_only=True)
class SeniorAgentRequested(TicketEvent):
    """Someone asked for a senior agent (the actor: usually the customer).

    Changes no state field; the ``senior_requested`` escalation trigger fires
    once for each request (its cycle is the number of requests so far).
    """

    type_name: ClassVar[str] = "escalation.senior_requested"
    reason: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=REASON_MAX)))
    )

    def apply_to(self, state: TicketState) -> None:
        """Nothing changes: the escalation engine reads the request from the timeline."""


@attrs.frozen(kw_only=True)
class RuleFired(TicketEvent):
    """Escalation rule ``rule`` fired for trigger key ``trigger`` in cycle ``cycle``.

    ``reason`` says in plain English why the trigger held (``"first_response
    breached at 2026-12-01T10:00:00+00:00 (target 4:00:00)"``). The actions the
    rule took follow as their own events. Changes no state field.
    """

    type_name: ClassVar[str] = "escalation.rule_fired"
    rule: str = attrs.field(metadata=checked(text(max_length=200)))
    trigger: str = attrs.field(metadata=checked(text(max_length=200)))
    cycle: int = attrs.field(metadata=checked(integer(minimum=0, maximum=1_000_000_000)))
    reason: str = attrs.field(metadata=checked(text(max_length=REASON_MAX)))

    def apply_to(self, state: TicketState) -> None:
        """Nothing changes: the record is what keeps the rule from firing twice."""


@attrs.frozen(kw_only=True)
class NotificationQueued(TicketEvent):
    """A notification of rule ``rule`` to deliver at ``deliver_at``.

    Its receivers are ``agents`` and/or ``groups`` (ids) and/or an
    ``external`` body's key; ``calendar`` names the receiving calendar whose
    open time ``deliver_at`` lies in (None: delivered at once, ``deliver_at``
    is the event's ``at``). ``deliver_at`` is never before ``at``.
    """

    type_name: ClassVar[str] = "escalation.notification"
    rule: str = attrs.field(metadata=checked(text(max_length=200)))
    agents: tuple[str, ...] = attrs.field(
        default=(), converter=_keys, metadata=checked(distinct_keys("agent id"))
    )
    groups: tuple[str, ...] = attrs.field(
        default=(), converter=_keys, metadata=checked(distinct_keys("group id"))
    )
    external: str | None = attrs.field(
        default=None, metadata=checked(optional(key("external body key")))
    )
    calendar: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=200)))
    )
    deliver_at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    reason: str = attrs.field(metadata=checked(text(max_length=REASON_MAX)))

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if not self.agents and not self.groups and self.external is None:
            yield "agents", "a notification needs agents, groups or external (at least one)"
        if self.deliver_at < self.at:
            yield (
                "deliver_at",
                f"{self.deliver_at.isoformat()} is before the event's instant "
                f"{self.at.isoformat()}; a notification is delivered at or after it is queued",
            )

    def apply_to(self, state: TicketState) -> None:
        """Nothing changes: the event is the outbox message a relay delivers."""
