"""Why an SLA evaluation says what it says: the trace behind an :class:`SlaStatus`.

:func:`explain` evaluates like :func:`~csdomain.sla.evaluate` and records which
policy and targets applied and every interval each metric's latest cycle
counted, paused or excluded. The trace is plain data; turning it into text is
:mod:`csdomain.sla.rendering`'s job (:meth:`SlaExplanation.render`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, overload

import attrs

from csdomain.sla.policy import SlaMetric
from csdomain.sla.status import SlaStatus

if TYPE_CHECKING:
    from babel import Locale

    from csdomain.customers import Customer
    from csdomain.sla.policy import Calendar, SlaPolicy, SlaSetup
    from csdomain.tickets import Ticket

__all__ = ["SlaExplanation", "TraceEntry", "TraceKind", "explain"]


class TraceKind(Enum):
    """What a line of an explanation trace records."""

    POLICY = "policy"
    TARGET = "target"
    CYCLE = "cycle"
    COUNTED = "counted"
    CLOSED = "closed"
    PAUSED = "paused"
    EXCLUDED = "excluded"
    PRIORITY = "priority"
    REOPENED = "reopened"
    FULFILLED = "fulfilled"
    STOPPED = "stopped"
    WARNING = "warning"
    DUE = "due"
    BREACHED = "breached"


@attrs.frozen
class TraceEntry:
    """One line of an explanation: what happened to a metric's clock, when, and why.

    ``start``/``end`` bound an interval (``end`` is None for an instant);
    ``amount`` is the time counted; ``detail`` carries the status, holiday
    names, rule or priority the line is about, as plain values.
    """

    metric: SlaMetric | None
    kind: TraceKind
    start: datetime
    end: datetime | None = None
    amount: timedelta | None = None
    detail: tuple[str, ...] = ()


@attrs.frozen
class SlaExplanation:
    """An :class:`SlaStatus` with the trace of how it was reached.

    ``zone`` is the IANA zone the trace is best read in: that of the first
    business calendar a target counted on, else UTC.
    """

    status: SlaStatus
    entries: tuple[TraceEntry, ...]
    zone: str = "UTC"

    def render(self, locale: str | Locale = "en") -> str:
        """The trace as text, one line per entry, times in :attr:`zone`.

        English, Simplified and Traditional Chinese are translated; other
        locales get English words with their own number formats. Same as
        :func:`csdomain.sla.rendering.render_explanation`.
        """
        # Imported here: rendering needs Babel, which evaluation and tracing do not.
        from csdomain.sla.rendering import render_explanation

        return render_explanation(self, locale)


@overload
def explain(
    ticket: Ticket,
    policies: SlaSetup,
    now: datetime,
    /,
    *,
    customer: Customer | None = None,
) -> SlaExplanation: ...


@overload
def explain(
    ticket: Ticket,
    policies: SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar],
    now: datetime,
    *,
    customer: Customer | None = None,
) -> SlaExplanation: ...


def explain(
    ticket: Ticket,
    policies: SlaSetup | SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar] | datetime | None = None,
    now: datetime | None = None,
    *,
    customer: Customer | None = None,
) -> SlaExplanation:
    """:func:`~csdomain.sla.evaluate` with the trace behind it: which policy and targets
    applied, and every interval each metric's latest cycle counted, paused or excluded
    (closed hours, holidays, solved time, time before a priority change).

    Called as ``explain(ticket, setup, now)`` or ``explain(ticket, policies,
    calendars, now)``, like :func:`~csdomain.sla.evaluate`.
    """
    # The engine writes trace entries, so it imports this module: import it when called.
    from csdomain.sla import _engine

    chosen, calendar_map, at = _engine.arguments(policies, calendars, now, "explain")
    trace: list[TraceEntry] = []
    status, walk = _engine.run(ticket, chosen, calendar_map, at, customer, trace, "explain")
    if walk is None:
        return SlaExplanation(status, tuple(trace))
    entries, zone_name = _engine.trace_entries(status, walk, calendar_map, trace)
    return SlaExplanation(status, entries, zone_name)
