"""SLA results as localized text: explanation traces and status summaries.

The only part of :mod:`csdomain.sla` that needs :mod:`csdomain.i18n` (and so
Babel); nothing else in the package imports it, and ``import csdomain.sla``
does not import this module. English, Simplified and Traditional Chinese are
translated; other locales get English words with their own number formats.
Times are shown in the zone given (an explanation carries its calendar's).

>>> from datetime import datetime, timedelta, timezone
>>> from csdomain.sla import MetricPolicy, SlaPolicy, Target, evaluate
>>> from csdomain.tickets import Ticket
>>> t0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
>>> ticket = Ticket.open(id="T-1", customer_id="cus_1", channel="email", subject="Hi", at=t0)
>>> policy = SlaPolicy("p", [MetricPolicy("resolution", {"normal": Target(timedelta(hours=8))})])
>>> print(render_status(evaluate(ticket, policy, [], t0 + timedelta(hours=2))))
T-1 · SLA at 2026-03-02 03:00 UTC (policy p):
  Resolution: Running · 2 hr of 8 hr · due 2026-03-02 09:00
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Final

from babel.lists import format_list

from csdomain import i18n
from csdomain._kernel.messages import Message, _mark
from csdomain._kernel.time import zone
from csdomain.priorities import Priority
from csdomain.sla.explanation import SlaExplanation, TraceEntry, TraceKind
from csdomain.sla.policy import OnPriorityChange, OnReopen, SlaMetric
from csdomain.sla.status import MetricStatus, SlaState, SlaStatus
from csdomain.tickets import Status

if TYPE_CHECKING:
    from babel import Locale

__all__ = ["render_explanation", "render_status"]

_ZERO: Final = timedelta(0)

_TEMPLATES: Final[Mapping[TraceKind, Message]] = {
    TraceKind.POLICY: _mark("sla trace", "policy {policy} (rule {rank} of the ordered list)"),
    TraceKind.TARGET: _mark(
        "sla trace", "target {amount} for priority {priority}, counted in {hours}"
    ),
    TraceKind.CYCLE: _mark("sla trace", "{start}: cycle {cycle} starts ({why})"),
    TraceKind.COUNTED: _mark("sla trace", "{start} – {end}: counted {amount}"),
    TraceKind.CLOSED: _mark("sla trace", "{start} – {end}: closed hours, not counted"),
    TraceKind.PAUSED: _mark("sla trace", "{start} – {end}: paused while {status}"),
    TraceKind.EXCLUDED: _mark("sla trace", "{start} – {end}: not counted while {status}"),
    TraceKind.PRIORITY: _mark("sla trace", "{start}: priority {old} -> {new}; rule: {rule}"),
    TraceKind.REOPENED: _mark("sla trace", "{start}: reopened; rule: {rule}"),
    TraceKind.FULFILLED: _mark("sla trace", "{start}: fulfilled ({why})"),
    TraceKind.STOPPED: _mark("sla trace", "{start}: stopped unfulfilled, ticket {status}"),
    TraceKind.WARNING: _mark("sla trace", "{start}: {fraction} of the target reached (warning)"),
    TraceKind.DUE: _mark("sla trace", "due at {start}"),
    TraceKind.BREACHED: _mark("sla trace", "breached at {start}"),
}
_NO_POLICY: Final = _mark("sla trace", "no policy matches the ticket")
_GIVEN_POLICY: Final = _mark("sla trace", "policy {policy} (given)")
_HOLIDAY: Final = _mark("sla trace", "{start} – {end}: closed ({names})")
_NOT_APPLICABLE: Final = _mark("sla trace", "no target: {state}")
_CALENDAR_HOURS: Final = _mark("sla trace", "calendar hours")
_BUSINESS_HOURS: Final = _mark("sla trace", "business hours of {calendar}")

#: Words a trace line carries in its details: reasons and rule names.
_WORDS: Final[Mapping[str, Message]] = {
    "created": _mark("sla trace word", "created"),
    "customer message": _mark("sla trace word", "customer message"),
    "agent update": _mark("sla trace word", "agent update"),
    "bot update": _mark("sla trace word", "bot update"),
    "reopened": _mark("sla trace word", "reopened"),
    "agent": _mark("sla trace word", "agent reply"),
    "bot": _mark("sla trace word", "bot reply"),
    "solved": _mark("sla trace word", "solved"),
    OnReopen.RESUME.value: _mark("sla trace word", "resume with the time counted"),
    OnReopen.NEW_CYCLE.value: _mark("sla trace word", "start a new cycle"),
    OnPriorityChange.FROM_CYCLE_START.value: _mark(
        "sla trace word", "new target counted from the cycle start"
    ),
    OnPriorityChange.FROM_CHANGE.value: _mark(
        "sla trace word", "new target counted from the change"
    ),
}


class _Renderer:
    """Turns trace entries and metric statuses into lines of text in one locale and zone."""

    def __init__(self, locale: str | Locale, zone_name: str) -> None:
        self.locale = locale
        self.translations = i18n.translation(locale)
        self.tz = zone(zone_name)

    def tr(self, message: Message) -> str:
        return self.translations.pgettext(*message)

    def when(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.tz)
        return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")

    def span(self, value: timedelta | None) -> str:
        # Hours at most: a business-hours target of 90 h is not "3 days, 18 hours".
        return i18n.format_duration(value or _ZERO, self.locale, width="short", largest_unit="hour")

    def word(self, value: str) -> str:
        message = _WORDS.get(value)
        return self.tr(message) if message else value

    def label(self, value: Enum) -> str:
        return i18n.label(value, self.locale)

    def heading(self, status: MetricStatus) -> str:
        # The same message as the demo's SLA lines, so both read alike in each locale.
        _ = self.translations.gettext
        metric, state = self.label(status.metric), self.label(status.state)
        if status.cycle > 1:
            return _("{metric}: {state} (cycle {cycle})").format(
                metric=metric, state=state, cycle=status.cycle
            )
        return _("{metric}: {state}").format(metric=metric, state=state)

    def summary(self, status: MetricStatus) -> str:
        """The heading, then counted-of-target and the due or breach instant when known."""
        _ = self.translations.gettext
        line = self.heading(status)
        if status.target is not None and status.state is not SlaState.IDLE:
            line += " · " + _("{elapsed} of {target}").format(
                elapsed=self.span(status.elapsed), target=self.span(status.target)
            )
        if status.breached_at is not None:
            line += " · " + _("breached at {time}").format(time=self.when(status.breached_at))
        elif status.due_at is not None:
            line += " · " + _("due {time}").format(time=self.when(status.due_at))
        return line

    def line(self, entry: TraceEntry) -> str:
        d, kind = entry.detail, entry.kind
        values: dict[str, str] = {"start": self.when(entry.start), "end": self.when(entry.end)}
        if kind is TraceKind.POLICY:
            if not d[0]:
                return self.tr(_NO_POLICY)
            if d[1] == "given":
                return self.tr(_GIVEN_POLICY).format(policy=d[0])
            values.update(policy=d[0], rank=d[1])
        elif kind is TraceKind.TARGET:
            if entry.amount is None:
                return self.tr(_NOT_APPLICABLE).format(state=self.label(SlaState(d[0])))
            hours = (
                self.tr(_BUSINESS_HOURS).format(calendar=d[1]) if d[1] else self.tr(_CALENDAR_HOURS)
            )
            values.update(
                amount=self.span(entry.amount), priority=self.label(Priority(d[0])), hours=hours
            )
        elif kind is TraceKind.CYCLE:
            values.update(cycle=d[0], why=self.word(d[1]))
        elif kind is TraceKind.COUNTED:
            values.update(amount=self.span(entry.amount))
        elif kind is TraceKind.CLOSED and d:
            names = format_list(list(d), locale=i18n.parse_locale(self.locale))
            return self.tr(_HOLIDAY).format(names=names, **values)
        elif kind in (TraceKind.PAUSED, TraceKind.EXCLUDED, TraceKind.STOPPED):
            values.update(status=self.label(Status(d[0])))
        elif kind is TraceKind.PRIORITY:
            values.update(
                old=self.label(Priority(d[0])), new=self.label(Priority(d[1])), rule=self.word(d[2])
            )
        elif kind is TraceKind.REOPENED:
            values.update(rule=self.word(d[0]))
        elif kind is TraceKind.FULFILLED:
            values.update(why=self.word(d[0]))
        elif kind is TraceKind.WARNING:
            values.update(fraction=f"{float(d[0]):.0%}")
        return self.tr(_TEMPLATES[kind]).format(**values)


def render_explanation(explanation: SlaExplanation, locale: str | Locale = "en") -> str:
    """The trace of ``explanation`` as text, one line per entry, under a heading per
    metric; times in the explanation's zone. :meth:`SlaExplanation.render` calls this."""
    renderer = _Renderer(locale, explanation.zone)
    status = explanation.status
    lines = [f"{status.ticket_id} @ {renderer.when(status.now)} ({explanation.zone})"]
    current: SlaMetric | None = None
    for entry in explanation.entries:
        if entry.metric is not None and entry.metric is not current:
            current = entry.metric
            lines.append(renderer.heading(status[current]))
        indent = "  " if entry.metric is not None else ""
        lines.append(indent + renderer.line(entry))
    return "\n".join(lines)


def render_status(status: SlaStatus, locale: str | Locale = "en", zone: str = "UTC") -> str:
    """``status`` as text: a line naming the ticket, the instant and the policy, then one
    line per metric with its state, the time counted of the target and its due or breach
    instant; times in the IANA ``zone``."""
    renderer = _Renderer(locale, zone)
    if status.policy is None:
        head = renderer.tr(_NO_POLICY)
    else:
        head = renderer.translations.gettext("SLA at {time} (policy {policy}):").format(
            time=f"{renderer.when(status.now)} {zone}", policy=status.policy
        )
    lines = [f"{status.ticket_id} · {head}"]
    lines.extend("  " + renderer.summary(metric) for metric in status.metrics)
    return "\n".join(lines)
