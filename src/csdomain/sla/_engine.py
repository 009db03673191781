"""The SLA clock engine (private): the timeline walk, the measurement and the trace.

:func:`run` is what :func:`csdomain.sla.evaluate`, :func:`csdomain.sla.next_deadline`
and :func:`csdomain.sla.explain` share. It runs for every ticket of every sweep,
so per-event work is kept to identity tests and small loops, and trace notes are
only made when explaining.

The walk is also what :mod:`csdomain.sla.clock_state` keeps between calls: a
:class:`_Walk` is turned into an :class:`~csdomain.sla.SlaClockState`
(:meth:`_Walk.to_state`), rebuilt from one (:meth:`_Walk.resumed`) and advanced
by the events that came since, through the same :meth:`_Walk.walk`; and
:func:`measure` turns either the live cycles or a state's into the metrics.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

from csdomain._kernel.time import INSTANT_END, INSTANT_MIN, ensure_aware, zone
from csdomain._kernel.validation import describe
from csdomain.calendars import BusinessCalendar, CalendarUnion
from csdomain.conditions import AllOf
from csdomain.errors import NotFoundError, ValidationError
from csdomain.priorities import Priority
from csdomain.sla.explanation import TraceEntry, TraceKind
from csdomain.sla.policy import (
    Calendar,
    MetricPolicy,
    OnPriorityChange,
    OnReopen,
    SlaMetric,
    SlaPolicy,
    SlaSetup,
    Target,
)
from csdomain.sla.status import MetricStatus, SlaState, SlaStatus
from csdomain.tickets import (
    ActorKind,
    MessageAdded,
    PriorityChanged,
    Status,
    StatusChanged,
    Ticket,
    TicketCreated,
    TicketEvent,
    Visibility,
)

if TYPE_CHECKING:
    from csdomain.customers import Customer
    from csdomain.sla.clock_state import CycleState, SlaClockState

#: What the public functions accept as policies, and as calendars beside them.
Policies = SlaSetup | SlaPolicy | Sequence[SlaPolicy]
Calendars = Mapping[str, Calendar] | Iterable[Calendar]

_STOPPED: Final = frozenset({Status.SOLVED, Status.CLOSED})
_RESPONSE_ORDER: Final = (
    SlaMetric.FIRST_RESPONSE,
    SlaMetric.NEXT_RESPONSE,
    SlaMetric.PERIODIC_UPDATE,
)
_ZERO: Final = timedelta(0)
#: The events the walk reads; every other event leaves the clocks as they are.
_CLOCK_EVENTS: Final = frozenset({MessageAdded, StatusChanged, PriorityChanged, TicketCreated})


class _Cycle:
    """One cycle of one metric's clock, built while the timeline is walked."""

    __slots__ = (
        "achieved_at",
        "cancelled",
        "counting_since",
        "number",
        "open",
        "priority",
        "segments",
        "start",
        "suspended",
        "trace_from",
    )

    def __init__(self, number: int, start: datetime, priority: Priority) -> None:
        self.number = number
        self.start = start
        self.priority = priority
        self.segments: list[tuple[datetime, datetime]] = []
        self.counting_since: datetime | None = None
        self.open = True  # not yet fulfilled or cancelled
        self.suspended = False  # stopped by solving, may resume on reopen
        self.cancelled = False
        self.achieved_at: datetime | None = None
        self.trace_from = 0  # where this cycle's notes begin in the trace

    @classmethod
    def resumed(cls, state: CycleState) -> _Cycle:
        """The cycle ``state`` froze, live again (its segments copied: never shared)."""
        cycle = cls(state.number, state.start, state.priority)
        cycle.segments = list(state.segments)
        cycle.counting_since = state.counting_since
        cycle.open, cycle.suspended = state.open, state.suspended
        cycle.cancelled, cycle.achieved_at = state.cancelled, state.achieved_at
        return cycle

    def run(self, at: datetime, counting: bool) -> None:
        since = self.counting_since
        if counting:
            if since is None:
                self.counting_since = at
        elif since is not None:
            if since < at:
                self.segments.append((since, at))
            self.counting_since = None


class _Plan:
    """What walking a timeline needs from a policy, derived once per policy."""

    __slots__ = ("bots_answer", "by_agent", "by_bot", "halt", "opens_with", "rules", "tracks_next")

    def __init__(self, metrics: tuple[MetricPolicy, ...]) -> None:
        rules = {r.metric: r for r in metrics}
        self.rules = rules
        # Statuses in which each metric's clock does not count: its pauses, solved, closed.
        self.halt = {m: r.pause_statuses | _STOPPED for m, r in rules.items()}
        self.by_agent = tuple(m for m in _RESPONSE_ORDER if m in rules)
        self.by_bot = tuple(m for m in self.by_agent if rules[m].count_bot_replies)
        # A bot reply answers the first message only if the first-response rules
        # (or, without them, the next-response rules) count bot replies.
        first = rules.get(SlaMetric.FIRST_RESPONSE) or rules.get(SlaMetric.NEXT_RESPONSE)
        self.bots_answer = first is not None and first.count_bot_replies
        self.tracks_next = SlaMetric.NEXT_RESPONSE in rules
        self.opens_with = tuple(
            m for m in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION) if m in rules
        )


def _planned(policy: SlaPolicy) -> _Plan:
    plan = policy._plan
    if not isinstance(plan, _Plan):
        plan = _Plan(policy.metrics)
        object.__setattr__(policy, "_plan", plan)
    return plan


class _Walk:
    """The clocks of every metric of a policy, advanced event by event."""

    def __init__(self, policy: SlaPolicy, trace: list[TraceEntry] | None) -> None:
        self.policy = policy
        plan = _planned(policy)
        self.rules = plan.rules
        self.halt = plan.halt
        self.by_agent, self.by_bot = plan.by_agent, plan.by_bot
        self.bots_answer, self.tracks_next = plan.bots_answer, plan.tracks_next
        self.opens_with = plan.opens_with
        self.cycles: dict[SlaMetric, _Cycle] = {}
        self.trace = trace
        self.status = Status.NEW
        self.priority = Priority.NORMAL
        self.first_response_given = False
        self.statuses: list[tuple[datetime, Status]] = []  # kept only when tracing

    @classmethod
    def resumed(cls, policy: SlaPolicy, state: SlaClockState) -> _Walk:
        """The walk ``state`` froze, ready for the events after ``state.events``.

        ``policy`` is the one that made ``state`` (the caller checks the name); a
        cycle of a metric ``policy`` does not measure is left out.
        """
        walk = cls(policy, None)
        walk.status, walk.priority = state.status, state.priority
        walk.first_response_given = state.first_response_given
        rules = walk.rules
        walk.cycles = {c.metric: _Cycle.resumed(c) for c in state.cycles if c.metric in rules}
        return walk

    def to_state(self, ticket_id: str, events: int, last_at: datetime) -> SlaClockState:
        """This walk frozen after ``events`` events, the latest at ``last_at``."""
        # Imported here: clock_state imports this module.
        from csdomain.sla.clock_state import CycleState, SlaClockState

        cycles = self.cycles
        frozen = []
        for rules in self.policy.metrics:
            cycle = cycles.get(rules.metric)
            if cycle is not None:
                frozen.append(
                    CycleState._trusted(
                        rules.metric,
                        cycle.number,
                        cycle.start,
                        cycle.priority,
                        tuple(cycle.segments),
                        cycle.counting_since,
                        cycle.open,
                        cycle.suspended,
                        cycle.cancelled,
                        cycle.achieved_at,
                    )
                )
        return SlaClockState._trusted(
            ticket_id,
            self.policy.name,
            events,
            last_at,
            self.status,
            self.priority,
            self.first_response_given,
            tuple(frozen),
        )

    def note(self, metric: SlaMetric | None, kind: TraceKind, at: datetime, *detail: str) -> None:
        if self.trace is not None:
            self.trace.append(TraceEntry(metric, kind, at, detail=detail))

    def start(self, metric: SlaMetric, at: datetime, why: str) -> None:
        previous = self.cycles.get(metric)
        cycle = _Cycle(previous.number + 1 if previous else 1, at, self.priority)
        self.cycles[metric] = cycle
        if self.status not in self.halt[metric]:
            cycle.counting_since = at
        if self.trace is not None:
            cycle.trace_from = len(self.trace)
            self.note(metric, TraceKind.CYCLE, at, str(cycle.number), why)

    def fulfil(self, cycle: _Cycle, metric: SlaMetric, at: datetime, why: str) -> None:
        cycle.run(at, False)
        cycle.open = cycle.suspended = False
        cycle.achieved_at, cycle.priority = at, self.priority
        if self.trace is not None:
            self.note(metric, TraceKind.FULFILLED, at, why)

    def reply(self, at: datetime, kind: ActorKind) -> None:
        agent = kind is ActorKind.AGENT
        cycles = self.cycles
        for metric in self.by_agent if agent else self.by_bot:
            cycle = cycles.get(metric)
            if cycle is not None and cycle.open and not cycle.suspended:
                self.fulfil(cycle, metric, at, "agent" if agent else "bot")
            if metric is SlaMetric.PERIODIC_UPDATE and self.status not in _STOPPED:
                self.start(metric, at, "agent update" if agent else "bot update")
        if agent or self.bots_answer:
            self.first_response_given = True

    def customer_message(self, at: datetime) -> None:
        if not self.tracks_next or not self.first_response_given:
            return
        cycle = self.cycles.get(SlaMetric.NEXT_RESPONSE)
        if cycle is None or not cycle.open:
            self.start(SlaMetric.NEXT_RESPONSE, at, "customer message")

    def status_changed(self, event: StatusChanged) -> None:
        at, old, new = event.at, event.old, event.new
        self.status = new
        tracing = self.trace is not None
        if tracing:
            self.statuses.append((at, new))
        for metric, cycle in list(self.cycles.items()):
            if new is Status.CLOSED:
                if cycle.open:
                    cycle.run(at, False)
                    cycle.open, cycle.cancelled = False, True
                    cycle.priority = self.priority
                    if tracing:
                        self.note(metric, TraceKind.STOPPED, at, "closed")
                continue
            if new is Status.SOLVED:
                if metric is SlaMetric.RESOLUTION and cycle.open:
                    self.fulfil(cycle, metric, at, "solved")
                elif cycle.open:
                    cycle.run(at, False)
                    cycle.suspended, cycle.priority = True, self.priority
                    if tracing:
                        self.note(metric, TraceKind.STOPPED, at, "solved")
                continue
            if old is Status.SOLVED and (
                cycle.suspended
                or (metric is SlaMetric.RESOLUTION and not cycle.open and not cycle.cancelled)
            ):
                on_reopen = self.rules[metric].on_reopen
                if tracing:
                    self.note(metric, TraceKind.REOPENED, at, on_reopen.value)
                if on_reopen is OnReopen.NEW_CYCLE:
                    self.start(metric, at, "reopened")
                    continue
                cycle.open, cycle.suspended, cycle.achieved_at = True, False, None
            if cycle.open and not cycle.suspended:
                cycle.run(at, new not in self.halt[metric])

    def priority_changed(self, event: PriorityChanged) -> None:
        self.priority = event.new
        for metric, cycle in self.cycles.items():
            if not cycle.open:
                continue
            rule = self.rules[metric].on_priority_change
            if self.trace is not None:
                self.note(
                    metric,
                    TraceKind.PRIORITY,
                    event.at,
                    event.old.value,
                    event.new.value,
                    rule.value,
                )
            if rule is OnPriorityChange.FROM_CHANGE:
                cycle.segments.clear()
                cycle.start = event.at
                if cycle.counting_since is not None:
                    cycle.counting_since = event.at

    def walk(self, events: Sequence[TicketEvent], now: datetime) -> None:
        """Advance every clock by ``events`` (a timeline, or the end of one) up to ``now``:
        the first event after ``now`` that moves a clock ends the walk."""
        public, customer, agent, bot = (
            Visibility.PUBLIC,
            ActorKind.CUSTOMER,
            ActorKind.AGENT,
            ActorKind.BOT,
        )
        for event in events:
            at = event.at
            if at > now:
                # Events that change a ticket come in time order, so the first clock
                # event after now ends the walk; a record that changes nothing (an
                # erasure) may carry a later instant than the events after it.
                if type(event) in _CLOCK_EVENTS:
                    break
                continue
            kind = type(event)
            if kind is MessageAdded:
                if event.visibility is not public:  # type: ignore[attr-defined]
                    continue
                actor = event.actor.kind
                if actor is customer:
                    self.customer_message(at)
                elif actor is agent or actor is bot:
                    self.reply(at, actor)
            elif kind is StatusChanged:
                self.status_changed(event)  # type: ignore[arg-type]
            elif kind is PriorityChanged:
                self.priority_changed(event)  # type: ignore[arg-type]
            elif kind is TicketCreated:
                self.status, self.priority = event.status, event.priority  # type: ignore[attr-defined]
                if self.trace is not None:
                    self.statuses.append((at, self.status))
                for metric in self.opens_with:
                    self.start(metric, at, "created")


# -- measuring ----------------------------------------------------------------------


def _calendar_for(target: Target, calendars: Mapping[str, Calendar]) -> Calendar | None:
    if target.calendar is None:
        return None
    calendar = calendars.get(target.calendar)
    if calendar is None:  # only with loose calendars: an SlaSetup has checked its targets
        known = ", ".join(repr(name) for name in sorted(calendars)) or "none"
        raise NotFoundError("calendar", target.calendar, f"calendars given: {known}")
    return calendar


def _elapsed(calendar: Calendar | None, a: datetime, b: datetime) -> timedelta:
    return b - a if calendar is None else calendar.elapsed(a, b)


def _add(calendar: Calendar | None, t: datetime, d: timedelta) -> datetime:
    return (t + d).astimezone(timezone.utc) if calendar is None else calendar.add(t, d)


def _measure(
    metric: SlaMetric,
    cycle: _Cycle | CycleState | None,
    rules: MetricPolicy,
    priority: Priority,
    calendars: Mapping[str, Calendar],
    now: datetime,
) -> MetricStatus:
    if cycle is None:
        target = rules.targets.get(priority)
        if target is None:
            return MetricStatus(metric, SlaState.NOT_APPLICABLE, priority=priority)
        return MetricStatus(
            metric,
            SlaState.IDLE,
            priority=priority,
            target=target.duration,
            calendar=target.calendar,
            remaining=target.duration,
        )
    applied = priority if cycle.open else cycle.priority
    target = rules.targets.get(applied)
    if target is None:
        return MetricStatus(metric, SlaState.NOT_APPLICABLE, cycle=cycle.number, priority=applied)
    calendar = _calendar_for(target, calendars)
    goal = target.duration
    counted = _ZERO
    breached_at: datetime | None = None
    for a, b in cycle.segments:
        part = _elapsed(calendar, a, b)
        if breached_at is None and counted + part >= goal:
            due = _add(calendar, a, goal - counted)
            if due < b:
                breached_at = due
        counted += part
    running = cycle.counting_since is not None
    due_at: datetime | None = None
    counted_before = counted
    if running:
        since = cycle.counting_since
        assert since is not None
        counted += _elapsed(calendar, since, now)
        if breached_at is None:
            due_at = _add(calendar, since, goal - counted_before)
            if due_at < now:
                breached_at = due_at
        else:
            due_at = breached_at
    if breached_at is not None:
        state = SlaState.BREACHED
    elif cycle.achieved_at is not None:
        state = SlaState.ACHIEVED
    elif cycle.cancelled or cycle.suspended:
        state = SlaState.CANCELLED
    elif running:
        state = SlaState.RUNNING
    else:
        state = SlaState.PAUSED
    thresholds = target._thresholds
    passed = sum(1 for threshold in thresholds if counted >= threshold)  # ascending
    reached = target.warnings[:passed]
    next_warning_at: datetime | None = None
    if running and breached_at is None and passed < len(thresholds):
        since = cycle.counting_since
        assert since is not None
        next_warning_at = _add(calendar, since, thresholds[passed] - counted_before)
    return MetricStatus(
        metric,
        state,
        cycle=cycle.number,
        priority=applied,
        target=goal,
        calendar=target.calendar,
        elapsed=counted,
        remaining=goal - counted,
        due_at=due_at,
        breached_at=breached_at,
        achieved_at=cycle.achieved_at,
        warnings_reached=reached,
        next_warning_at=next_warning_at,
    )


# -- arguments ----------------------------------------------------------------------


def _calendar_map(calendars: Calendars, subject: str) -> Mapping[str, Calendar]:
    if isinstance(calendars, Mapping):
        return calendars
    if isinstance(calendars, (str, bytes)) or not isinstance(calendars, Iterable):
        raise ValidationError.single(
            subject,
            "calendars",
            f"expected calendars (a sequence, or a mapping by name), got {describe(calendars)}",
        )
    result: dict[str, Calendar] = {}
    where: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for i, calendar in enumerate(calendars):
        if not isinstance(calendar, (BusinessCalendar, CalendarUnion)):
            problems.append(
                (f"calendars[{i}]", f"expected a BusinessCalendar, got {describe(calendar)}")
            )
        elif calendar.name in where:
            problems.append(
                (
                    f"calendars[{i}].name",
                    f"calendar name {calendar.name!r} is already used by "
                    f"calendars[{where[calendar.name]}]; targets name their calendar, so "
                    "names must be unique",
                )
            )
        else:
            result[calendar.name] = calendar
            where[calendar.name] = i
    if problems:
        raise ValidationError(subject, problems)
    return result


def _as_of(ticket: Ticket, now: datetime) -> Ticket:
    """The ticket as it stood at ``now``, so later events cannot choose the policy."""
    if ticket.updated_at <= now or ticket.created_at > now:
        return ticket  # the sweep's case; a ticket not yet created is matched as created
    return Ticket(timeline=tuple(e for e in ticket.timeline if e.at <= now))


def _choose(
    policies: SlaPolicy | Sequence[SlaPolicy],
    ticket: Ticket,
    customer: Customer | None,
    now: datetime,
    subject: str,
) -> tuple[SlaPolicy | None, int | None]:
    if isinstance(policies, SlaPolicy):
        return policies, None
    chosen: tuple[SlaPolicy | None, int | None] = (None, None)
    as_of: Ticket | None = None  # built only if a condition needs to read the ticket
    for i, policy in enumerate(policies):  # every item is checked, not only those before a match
        if not isinstance(policy, SlaPolicy):
            raise ValidationError.single(
                subject, f"policies[{i}]", f"expected an SlaPolicy, got {describe(policy)}"
            )
        if chosen[0] is not None:
            continue
        condition = policy.condition
        if type(condition) is AllOf and not condition.conditions:  # ALWAYS: no need to look
            chosen = (policy, i)
            continue
        if as_of is None:
            as_of = _as_of(ticket, now)
        if condition.matches(as_of, customer):
            chosen = (policy, i)
    return chosen


def arguments(
    policies: Policies,
    calendars: Calendars | datetime | None,
    now: datetime | None,
    subject: str,
) -> tuple[SlaPolicy | Sequence[SlaPolicy], Mapping[str, Calendar], datetime]:
    """The policies, calendars by name and instant of either call style:
    ``(ticket, setup, now)`` or ``(ticket, policies, calendars, now)``."""
    if isinstance(policies, SlaSetup):
        if now is None and isinstance(calendars, datetime):
            now, calendars = calendars, None
        if calendars is not None:
            raise ValidationError.single(
                subject,
                "calendars",
                f"an SlaSetup holds its calendars; call {subject}(ticket, setup, now)",
            )
        try:  # the sweep's case costs one chained comparison; ensure_aware explains the rest
            if (
                type(now) is not datetime
                or now.tzinfo is None
                or not INSTANT_MIN <= now < INSTANT_END
            ):
                now = ensure_aware(now, subject, "now")
        except TypeError:  # a tzinfo giving no offset: not comparable
            now = ensure_aware(now, subject, "now")
        return policies.policies, policies._by_name, now
    if isinstance(calendars, datetime) or calendars is None:
        raise ValidationError.single(
            subject,
            "calendars",
            f"expected calendars after the policies, got {describe(calendars)}; "
            f"call {subject}(ticket, policies, calendars, now) or {subject}(ticket, setup, now) "
            "with an SlaSetup",
        )
    try:  # the sweep's case costs one chained comparison; ensure_aware explains the rest
        if type(now) is not datetime or now.tzinfo is None or not INSTANT_MIN <= now < INSTANT_END:
            now = ensure_aware(now, subject, "now")
    except TypeError:  # a tzinfo giving no offset: not comparable
        now = ensure_aware(now, subject, "now")
    return policies, _calendar_map(calendars, subject), now


def run(
    ticket: Ticket,
    policies: SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar],
    now: datetime,
    customer: Customer | None,
    trace: list[TraceEntry] | None,
    subject: str,
) -> tuple[SlaStatus, _Walk | None]:
    """Evaluate ``ticket``; with a ``trace`` list, note what happened to every clock."""
    if not isinstance(ticket, Ticket):
        raise ValidationError.single(
            subject, "ticket", f"expected a Ticket, got {describe(ticket)}"
        )
    policy, index = _choose(policies, ticket, customer, now, subject)
    if policy is None:
        if trace is not None:
            trace.append(TraceEntry(None, TraceKind.POLICY, now, detail=("",)))
        return SlaStatus(ticket.id, now, None, ()), None
    if trace is not None:
        rank = "given" if index is None else str(index + 1)
        trace.append(TraceEntry(None, TraceKind.POLICY, now, detail=(policy.name, rank)))
    walk = _Walk(policy, trace)
    walk.walk(ticket.timeline, now)
    statuses = measure(policy, walk.cycles, walk.priority, calendars, now)
    return SlaStatus(ticket.id, now, policy.name, statuses), walk


def measure(
    policy: SlaPolicy,
    cycles: Mapping[SlaMetric, _Cycle] | Mapping[SlaMetric, CycleState],
    priority: Priority,
    calendars: Mapping[str, Calendar],
    now: datetime,
) -> tuple[MetricStatus, ...]:
    """Every metric of ``policy`` at ``now``, from the latest cycles (a walk's, or a
    clock state's) and the ticket's priority."""
    return tuple(
        _measure(rules.metric, cycles.get(rules.metric), rules, priority, calendars, now)
        for rules in policy.metrics
    )


def instant(now: object, subject: str) -> datetime:
    """``now`` when it is an accepted aware instant; else ValidationError, explained."""
    try:  # the common case costs one chained comparison; ensure_aware explains the rest
        if type(now) is datetime and now.tzinfo is not None and INSTANT_MIN <= now < INSTANT_END:
            return now
    except TypeError:  # a tzinfo giving no offset: not comparable
        pass
    return ensure_aware(now, subject, "now")


def choose(
    setup: SlaSetup, ticket: Ticket, customer: Customer | None, subject: str
) -> SlaPolicy | None:
    """The policy of ``setup`` that :func:`run` chooses at any instant at or after
    ``ticket.updated_at`` (the ticket as it stands)."""
    return _choose(setup.policies, ticket, customer, ticket.updated_at, subject)[0]


# -- the trace ----------------------------------------------------------------------


def trace_entries(
    status: SlaStatus,
    walk: _Walk,
    calendars: Mapping[str, Calendar],
    trace: list[TraceEntry],
) -> tuple[tuple[TraceEntry, ...], str]:
    """The explanation's entries (policy lines first, then each metric's in time order)
    and the zone to show them in: the first business calendar's, else UTC."""
    now = status.now
    zone_name = "UTC"
    entries: list[TraceEntry] = []
    for result in status.metrics:
        metric = result.metric
        cycle = walk.cycles.get(metric)
        if result.target is None or cycle is None:
            entries.append(TraceEntry(metric, TraceKind.TARGET, now, detail=(result.state.value,)))
            continue
        rules = walk.rules[metric]
        entries.append(
            TraceEntry(
                metric,
                TraceKind.TARGET,
                cycle.start,
                amount=result.target,
                detail=(
                    result.priority.value if result.priority else "",
                    result.calendar or "",
                    rules.on_priority_change.value,
                ),
            )
        )
        calendar = calendars.get(result.calendar) if result.calendar else None
        if isinstance(calendar, BusinessCalendar) and zone_name == "UTC":
            zone_name = calendar.timezone
        segments = list(cycle.segments)
        if cycle.counting_since is not None and cycle.counting_since < now:
            segments.append((cycle.counting_since, now))
        lines = [e for e in trace[cycle.trace_from :] if e.metric is metric]
        lines.extend(_interval_entries(metric, calendar, cycle.start, segments, walk, rules))
        if result.breached_at is not None:
            lines.append(TraceEntry(metric, TraceKind.BREACHED, result.breached_at))
        elif result.due_at is not None:
            lines.append(TraceEntry(metric, TraceKind.DUE, result.due_at))
        for fraction in result.warnings_reached:
            reached_at = _reached_at(calendar, segments, result.target * fraction, cycle.start)
            lines.append(
                TraceEntry(metric, TraceKind.WARNING, reached_at, detail=(f"{fraction:g}",))
            )
        entries.extend(sorted(lines, key=lambda e: e.start))  # stable: same-instant order kept
    policy_lines = [e for e in trace if e.metric is None]
    return tuple(policy_lines + entries), zone_name


def _reached_at(
    calendar: Calendar | None,
    segments: list[tuple[datetime, datetime]],
    amount: timedelta,
    start: datetime,
) -> datetime:
    """The instant the counted time reached ``amount`` (it did, within ``segments``);
    ``start`` when nothing was counted yet (a fraction so small it rounds to zero)."""
    if not segments:
        return start
    counted = _ZERO
    for a, b in segments:
        part = _elapsed(calendar, a, b)
        if counted + part >= amount:
            return _add(calendar, a, amount - counted)
        counted += part
    return segments[-1][1]


def _status_at(walk: _Walk, at: datetime) -> Status:
    status = Status.NEW
    for changed_at, new in walk.statuses:
        if changed_at > at:
            break
        status = new
    return status


def _interval_entries(
    metric: SlaMetric,
    calendar: Calendar | None,
    start: datetime,
    segments: list[tuple[datetime, datetime]],
    walk: _Walk,
    rules: MetricPolicy,
) -> Iterator[TraceEntry]:
    cursor = start
    for a, b in segments:
        if cursor < a:
            status = _status_at(walk, cursor)
            kind = TraceKind.PAUSED if status in rules.pause_statuses else TraceKind.EXCLUDED
            yield TraceEntry(metric, kind, cursor, a, detail=(status.value,))
        if calendar is None:
            yield TraceEntry(metric, TraceKind.COUNTED, a, b, amount=b - a)
        else:
            at = a
            for s, e in calendar.open_intervals(a, b):
                if at < s:
                    yield TraceEntry(
                        metric, TraceKind.CLOSED, at, s, detail=_holidays_between(calendar, at, s)
                    )
                yield TraceEntry(metric, TraceKind.COUNTED, s, e, amount=e - s)
                at = e
            if at < b:
                yield TraceEntry(
                    metric, TraceKind.CLOSED, at, b, detail=_holidays_between(calendar, at, b)
                )
        cursor = b


def _holidays_between(calendar: Calendar, a: datetime, b: datetime) -> tuple[str, ...]:
    members = calendar.members if isinstance(calendar, CalendarUnion) else (calendar,)
    names: list[str] = []
    for member in members:
        tz = zone(member.timezone)
        first, last = a.astimezone(tz).date(), b.astimezone(tz).date()
        for holiday in member.holidays:
            if first <= holiday.date <= last and holiday.name not in names:
                names.append(holiday.name)
    return tuple(names)
