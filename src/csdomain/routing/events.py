"""Routing's timeline event: why routing chose a group and an agent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import attrs

from csdomain._kernel.validation import checked, each, key, optional, text, tuple_of
from csdomain.tickets import TicketEvent, TicketState

__all__ = ["Routed"]


def _reasons(value: Iterable[str]) -> tuple[str, ...]:
    return tuple_of(value)


@attrs.frozen(kw_only=True)
class Routed(TicketEvent):
    """Routing placed the ticket: ``group_id`` (and ``assignee_id``, None while it waits
    in the group's queue), the triage ``rule`` that chose the group (None: the default
    group, or a reassignment) and ``reasons``, routing's trace in plain English.

    It records why; the :class:`~csdomain.tickets.Assigned` event before it made the
    change, so replay, KPIs and storage columns read assignments from one event type.
    """

    type_name: ClassVar[str] = "helpdesk.routed"
    group_id: str = attrs.field(metadata=checked(key("group id")))
    assignee_id: str | None = attrs.field(default=None, metadata=checked(optional(key("agent id"))))
    rule: str | None = attrs.field(default=None, metadata=checked(optional(key("rule name"))))
    reasons: tuple[str, ...] = attrs.field(
        factory=tuple, converter=_reasons, metadata=checked(each(text(max_length=500), tuple))
    )

    def apply_to(self, state: TicketState) -> None:
        """Nothing changes: the assignment before it did."""
