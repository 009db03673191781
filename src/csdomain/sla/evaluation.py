"""SLA evaluation: every metric of a ticket at an instant, and when to look again."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, overload

from csdomain.sla import _engine

if TYPE_CHECKING:
    from csdomain.customers import Customer
    from csdomain.sla.policy import Calendar, SlaPolicy, SlaSetup
    from csdomain.sla.status import SlaStatus
    from csdomain.tickets import Ticket

__all__ = ["evaluate", "next_deadline"]


@overload
def evaluate(
    ticket: Ticket,
    policies: SlaSetup,
    now: datetime,
    /,
    *,
    customer: Customer | None = None,
) -> SlaStatus: ...


@overload
def evaluate(
    ticket: Ticket,
    policies: SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar],
    now: datetime,
    *,
    customer: Customer | None = None,
) -> SlaStatus: ...


def evaluate(
    ticket: Ticket,
    policies: SlaSetup | SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar] | datetime | None = None,
    now: datetime | None = None,
    *,
    customer: Customer | None = None,
) -> SlaStatus:
    """Every metric of ``ticket`` at ``now``.

    Called as ``evaluate(ticket, setup, now)`` with an
    :class:`~csdomain.sla.SlaSetup` (policies and calendars checked together
    when the setup was built), or as ``evaluate(ticket, policies, calendars,
    now)``. ``policies`` is then one policy (applied as given) or an ordered
    sequence (the first whose condition matches the ticket and ``customer``
    applies; none matching gives an :class:`~csdomain.sla.SlaStatus` with no
    metrics), and ``calendars`` maps names to calendars or is a sequence of
    calendars keyed by their names. Events after ``now`` are ignored.

    Raises :class:`~csdomain.errors.ValidationError` for a naive ``now``,
    arguments of the wrong type or two calendars sharing one name, and, in the
    second call style only, :class:`~csdomain.errors.NotFoundError` when the
    target that applies names a calendar not given.
    """
    chosen, calendar_map, at = _engine.arguments(policies, calendars, now, "evaluate")
    return _engine.run(ticket, chosen, calendar_map, at, customer, None, "evaluate")[0]


@overload
def next_deadline(
    ticket: Ticket,
    policies: SlaSetup,
    now: datetime,
    /,
    *,
    customer: Customer | None = None,
) -> datetime | None: ...


@overload
def next_deadline(
    ticket: Ticket,
    policies: SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar],
    now: datetime,
    *,
    customer: Customer | None = None,
) -> datetime | None: ...


def next_deadline(
    ticket: Ticket,
    policies: SlaSetup | SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar] | datetime | None = None,
    now: datetime | None = None,
    *,
    customer: Customer | None = None,
) -> datetime | None:
    """The earliest instant after ``now`` at which a metric of ``ticket`` warns or falls due.

    None when no clock is running. A sweeper re-evaluates the ticket then; an
    event on the ticket before that instant calls for a new ``next_deadline``.
    Called like :func:`evaluate`.
    """
    chosen, calendar_map, at = _engine.arguments(policies, calendars, now, "next_deadline")
    status = _engine.run(ticket, chosen, calendar_map, at, customer, None, "next_deadline")[0]
    return status.next_deadline
