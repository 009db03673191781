"""SLA policies and their evaluation: per-metric clocks over business calendars.

An :class:`SlaPolicy` names a condition (which tickets it covers) and, for
each :class:`Metric` it measures, a :class:`MetricPolicy`: a :class:`Target`
per priority (a duration counted in business hours of a named calendar, or in
calendar hours, with warning fractions) and the rules of that metric's clock:
the statuses in which it pauses, whether bot replies count as responses, what
a reopen does and what a priority change does.

:func:`evaluate` is a pure function of (ticket, policies, calendars, now). It
reads the ticket's timeline up to ``now`` (later events are ignored) and
returns an :class:`SlaStatus` holding a :class:`MetricStatus` per metric:
state, target, elapsed, remaining, due, breach and fulfilment instants,
warnings reached and the cycle number. :func:`explain` returns the same
evaluation with a trace of every interval counted, paused or excluded and the
rule behind each choice, renderable in English and Chinese.

The clocks (see ``docs/sla.md`` for worked examples):

* **first_response** runs from creation to the first public agent reply.
* **next_response** runs from a customer's public message that awaits an
  answer (one arriving after the first response, while no next-response cycle
  runs) to the next public agent reply; each such message starts a new cycle.
* **periodic_update** runs from each public agent reply to the next one, so it
  bounds the gap between updates; the first reply starts cycle 1.
* **resolution** runs from creation to solved.

Only public replies by agents count as responses, and bot replies too when the
metric's ``count_bot_replies`` says so; internal notes never count. No clock
counts while the ticket is solved or closed. Solving fulfils resolution; the
response clocks stop without being fulfilled (state ``cancelled``) and a reopen
resumes them, or starts a new cycle, as ``on_reopen`` says. Closing is final;
a clock still open when a ticket closes (a merge) ends ``cancelled``.

A metric is *breached* at its due instant (the instant its counted time reaches
the target) when the clock is still running after it: a reply exactly at the
due instant is on time, a reply one microsecond later is late, and so is a
reply after closing time when the target was due at closing time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import TYPE_CHECKING, Final, NamedTuple

import attrs

from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import Message, _mark
from csdomain._kernel.time import ensure_aware, zone
from csdomain._kernel.validation import (
    Check,
    Checked,
    boolean,
    checked,
    duration,
    instance,
    member_of,
    optional,
    text,
)
from csdomain.calendars import BusinessCalendar, CalendarUnion
from csdomain.conditions import ALWAYS, AllOf, Condition
from csdomain.errors import NotFoundError, ValidationError
from csdomain.priorities import Priority
from csdomain.tickets import (
    ActorKind,
    MessageAdded,
    PriorityChanged,
    Status,
    StatusChanged,
    Ticket,
    TicketCreated,
    Visibility,
)

if TYPE_CHECKING:
    from babel import Locale

    from csdomain.customers import Customer

__all__ = [
    "DEFAULT_PAUSE_STATUSES",
    "Metric",
    "MetricPolicy",
    "MetricStatus",
    "OnPriorityChange",
    "OnReopen",
    "SlaExplanation",
    "SlaPolicy",
    "SlaState",
    "SlaStatus",
    "Target",
    "TraceEntry",
    "TraceKind",
    "evaluate",
    "explain",
    "next_deadline",
    "select_policy",
]

Calendar = BusinessCalendar | CalendarUnion


class Metric(Enum):
    """What an SLA target measures."""

    __hash__ = object.__hash__  # identity, as for Status

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    PERIODIC_UPDATE = "periodic_update"
    RESOLUTION = "resolution"


declare_labels(
    Metric,
    {
        Metric.FIRST_RESPONSE: _mark("sla metric", "First response"),
        Metric.NEXT_RESPONSE: _mark("sla metric", "Next response"),
        # Translators: the SLA metric bounding the gap between agent updates.
        Metric.PERIODIC_UPDATE: _mark("sla metric", "Periodic update"),
        Metric.RESOLUTION: _mark("sla metric", "Resolution"),
    },
)


class SlaState(Enum):
    """Where a metric's clock stands at the evaluation instant."""

    #: The policy has no target for this metric at the ticket's priority.
    NOT_APPLICABLE = "not_applicable"
    #: The metric has a target, but nothing has started a cycle yet.
    IDLE = "idle"
    RUNNING = "running"
    #: The ticket's status is in the metric's pause set.
    PAUSED = "paused"
    #: Fulfilled at or before the due instant.
    ACHIEVED = "achieved"
    #: The due instant passed while the clock ran (fulfilled late, or not yet).
    BREACHED = "breached"
    #: Stopped unfulfilled: solved before a reply (a reopen resumes it) or closed.
    CANCELLED = "cancelled"


declare_labels(
    SlaState,
    {
        SlaState.NOT_APPLICABLE: _mark("sla state", "Not applicable"),
        # Translators: the metric has a target but its clock has not started.
        SlaState.IDLE: _mark("sla state", "Not started"),
        SlaState.RUNNING: _mark("sla state", "Running"),
        SlaState.PAUSED: _mark("sla state", "Paused"),
        SlaState.ACHIEVED: _mark("sla state", "Achieved"),
        SlaState.BREACHED: _mark("sla state", "Breached"),
        SlaState.CANCELLED: _mark("sla state", "Cancelled"),
    },
)


class OnReopen(Enum):
    """What a reopen (solved -> open, pending or on hold) does to a metric's clock."""

    #: Continue the cycle with the time already counted (the solved period excluded).
    RESUME = "resume"
    #: Start a new cycle from zero at the reopen.
    NEW_CYCLE = "new_cycle"


class OnPriorityChange(Enum):
    """Which target applies after a priority change in a running cycle."""

    #: The new priority's target, counted from the cycle's start: raising the
    #: priority can breach at once.
    FROM_CYCLE_START = "from_cycle_start"
    #: The new priority's target, counted from the change: time before it is excluded.
    FROM_CHANGE = "from_change"


#: Statuses in which each metric's clock pauses unless its policy says otherwise.
DEFAULT_PAUSE_STATUSES: Final[Mapping[Metric, frozenset[Status]]] = {
    Metric.FIRST_RESPONSE: frozenset(),
    Metric.NEXT_RESPONSE: frozenset(),
    Metric.PERIODIC_UPDATE: frozenset(),
    Metric.RESOLUTION: frozenset({Status.PENDING, Status.ON_HOLD}),
}

_PAUSABLE: Final = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})
_STOPPED: Final = frozenset({Status.SOLVED, Status.CLOSED})
_RESPONSE_ORDER: Final = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE, Metric.PERIODIC_UPDATE)
_ZERO: Final = timedelta(0)


# -- configuration ------------------------------------------------------------


def _warnings_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple):
        yield "", f"expected a sequence of fractions, got {value!r}"
        return
    previous = 0.0
    for i, item in enumerate(value):
        if type(item) is not float or not 0.0 < item < 1.0:
            yield f"[{i}]", f"expected a fraction strictly between 0 and 1, got {item!r}"
            return
        if item <= previous:
            yield f"[{i}]", f"{item} does not come after {previous}; list fractions ascending"
        previous = item


def _fractions(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return tuple(float(v) if type(v) is int and not isinstance(v, bool) else v for v in value)
    return value


@attrs.frozen
class Target(Checked):
    """How long a metric may take at one priority.

    ``calendar`` names a business calendar (its ``name``) whose open hours count;
    ``None`` counts calendar hours (every instant). ``warnings`` are fractions
    of the target (ascending, each strictly between 0 and 1) at which a
    warning is reached.

    >>> from datetime import timedelta
    >>> Target(timedelta(hours=4), calendar="cn-support", warnings=(0.5, 0.75)).warnings
    (0.5, 0.75)
    """

    duration: timedelta = attrs.field(metadata=checked(duration(allow_zero=False)))
    calendar: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=200)))
    )
    warnings: tuple[float, ...] = attrs.field(
        default=(0.75,), converter=_fractions, metadata=checked(Check.of(_warnings_explain))
    )
    # The warning fractions as durations, computed once: evaluation compares them often.
    _thresholds: tuple[timedelta, ...] = attrs.field(
        init=False, default=(), eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        object.__setattr__(self, "_thresholds", tuple(self.duration * f for f in self.warnings))


def _targets_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict) or not value:
        yield "", f"expected a non-empty mapping of Priority to Target, got {value!r}"
        return
    for key, target in value.items():
        if not isinstance(key, Priority):
            allowed = ", ".join(p.value for p in Priority)
            yield f"[{key!r}]", f"expected a Priority ({allowed}) as the key"
        elif not isinstance(target, Target):
            yield f"[{key.value}]", f"expected a Target, got {target!r}"


def _targets_convert(value: object) -> object:
    if isinstance(value, Mapping):
        converted: dict[object, object] = {}
        for key, target in value.items():
            try:
                converted[Priority(key) if isinstance(key, str) else key] = target
            except ValueError:
                converted[key] = target  # reported by the check
        return converted
    return value


def _statuses_convert(value: object) -> object:
    if isinstance(value, (list, tuple, set, frozenset)):
        try:
            return frozenset(Status(v) if isinstance(v, str) else v for v in value)
        except ValueError:
            return value
    return value


def _pauses_explain(value: object) -> Iterator[tuple[str, str]]:
    allowed = ", ".join(sorted(s.value for s in _PAUSABLE))
    if not isinstance(value, frozenset) or not all(isinstance(s, Status) for s in value):
        yield "", f"expected a set of statuses among {allowed}, got {value!r}"
        return
    for status in sorted(value - _PAUSABLE, key=lambda s: s.value):
        yield (
            "",
            f"{status.value!r} cannot pause a clock: no clock counts while a ticket is "
            f"solved or closed; choose among {allowed}",
        )


def _metric(value: Metric | str) -> Metric:
    return Metric(value) if isinstance(value, str) else value


def _default_pauses(self: MetricPolicy) -> frozenset[Status]:
    return DEFAULT_PAUSE_STATUSES.get(self.metric, frozenset())


@attrs.frozen
class MetricPolicy(Checked):
    """The targets of one metric and the rules of its clock.

    >>> from datetime import timedelta
    >>> from csdomain.priorities import Priority
    >>> rules = MetricPolicy(Metric.RESOLUTION, {Priority.URGENT: Target(timedelta(hours=8))})
    >>> sorted(s.value for s in rules.pause_statuses)
    ['on_hold', 'pending']

    ``targets`` maps priorities to targets; a priority without a target makes
    the metric not applicable to tickets of that priority. ``pause_statuses``
    defaults to :data:`DEFAULT_PAUSE_STATUSES` (resolution pauses in pending
    and on hold; the response metrics do not pause).
    """

    metric: Metric = attrs.field(
        converter=_metric,
        metadata=checked(member_of(Metric)),
    )
    targets: dict[Priority, Target] = attrs.field(
        converter=_targets_convert, metadata=checked(Check.of(_targets_explain))
    )
    pause_statuses: frozenset[Status] = attrs.field(
        default=attrs.Factory(_default_pauses, takes_self=True),
        converter=_statuses_convert,
        metadata=checked(Check.of(_pauses_explain)),
    )
    count_bot_replies: bool = attrs.field(default=False, metadata=checked(boolean))
    on_reopen: OnReopen = attrs.field(
        default=OnReopen.RESUME, metadata=checked(member_of(OnReopen))
    )
    on_priority_change: OnPriorityChange = attrs.field(
        default=OnPriorityChange.FROM_CYCLE_START, metadata=checked(member_of(OnPriorityChange))
    )

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.count_bot_replies and self.metric is Metric.RESOLUTION:
            yield "count_bot_replies", "resolution is fulfilled by solving, not by replies"


def _metrics_explain(value: object) -> Iterator[tuple[str, str]]:
    if not isinstance(value, tuple) or not value:
        yield "", "expected at least one MetricPolicy"
        return
    seen: set[Metric] = set()
    for i, item in enumerate(value):
        if not isinstance(item, MetricPolicy):
            yield f"[{i}]", f"expected a MetricPolicy, got {item!r}"
        elif item.metric in seen:
            yield f"[{i}].metric", f"{item.metric.value!r} is configured twice"
        else:
            seen.add(item.metric)


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


@attrs.frozen
class SlaPolicy(Checked):
    """A named SLA policy: which tickets it covers and the metrics it measures.

    Policies are chosen by :func:`select_policy`: the first in an ordered list
    whose ``condition`` matches the ticket (and customer).
    """

    name: str = attrs.field(metadata=checked(text(max_length=200)))
    metrics: tuple[MetricPolicy, ...] = attrs.field(
        converter=_tuple, metadata=checked(Check.of(_metrics_explain))
    )
    condition: Condition = attrs.field(
        default=ALWAYS, metadata=checked(instance(Condition, "a Condition"))
    )
    # What evaluation derives from the metrics, built on first use (the policy is immutable).
    _plan: _Plan | None = attrs.field(init=False, default=None, eq=False, repr=False)

    def _planned(self) -> _Plan:
        plan = self._plan
        if plan is None:
            plan = _Plan(self.metrics)
            object.__setattr__(self, "_plan", plan)
        return plan

    def rules(self, metric: Metric) -> MetricPolicy | None:
        """The rules this policy has for ``metric``, or None when it does not measure it."""
        for rules in self.metrics:
            if rules.metric is metric:
                return rules
        return None


def select_policy(
    policies: Iterable[SlaPolicy], ticket: Ticket, customer: Customer | None = None
) -> SlaPolicy | None:
    """The first policy whose condition matches ``ticket`` (and ``customer``), or None.

    :func:`evaluate` matches the ticket as it stood at its ``now``.
    """
    for policy in policies:
        if policy.condition.matches(ticket, customer):
            return policy
    return None


# -- results ------------------------------------------------------------------


class MetricStatus(NamedTuple):
    """One metric of one ticket at one instant (the latest cycle).

    A named tuple (evaluation builds four per ticket on every sweep, and a
    tuple is the cheapest immutable value to build); compare and read it by
    field name.

    ``elapsed`` is the time counted in the cycle (business time of the target's
    calendar); ``remaining`` is ``target - elapsed`` and negative once
    overdue. ``due_at`` is the instant the target is reached while the clock
    runs (None while paused, stopped or not applicable). ``breached_at`` is the
    due instant once passed; ``achieved_at`` the instant the cycle was fulfilled
    (a reply, or solving for resolution), late or not. ``warnings_reached``
    lists the target's warning fractions already reached, and
    ``next_warning_at`` when the next one will be (None unless running).
    """

    metric: Metric
    state: SlaState
    cycle: int = 0
    priority: Priority | None = None
    target: timedelta | None = None
    calendar: str | None = None
    elapsed: timedelta = _ZERO
    remaining: timedelta | None = None
    due_at: datetime | None = None
    breached_at: datetime | None = None
    achieved_at: datetime | None = None
    warnings_reached: tuple[float, ...] = ()
    next_warning_at: datetime | None = None

    @property
    def is_breached(self) -> bool:
        """True when the latest cycle is breached."""
        return self.state is SlaState.BREACHED

    @property
    def next_deadline(self) -> datetime | None:
        """The next warning instant, else the due instant, while the clock runs."""
        return self.next_warning_at or self.due_at


@attrs.frozen
class SlaStatus:
    """Every metric of one ticket at ``now`` under the chosen policy (``policy`` None: none)."""

    ticket_id: str
    now: datetime
    policy: str | None
    metrics: tuple[MetricStatus, ...]

    def __getitem__(self, metric: Metric) -> MetricStatus:
        for status in self.metrics:
            if status.metric is metric:
                return status
        measured = ", ".join(s.metric.value for s in self.metrics) or "none"
        raise NotFoundError("SLA metric", metric.value, f"the policy measures: {measured}")

    @property
    def breached(self) -> tuple[MetricStatus, ...]:
        """The metrics whose latest cycle is breached."""
        return tuple(s for s in self.metrics if s.state is SlaState.BREACHED)

    @property
    def next_deadline(self) -> datetime | None:
        """The earliest future instant at which a running metric warns or is due."""
        instants = [d for s in self.metrics if (d := s.next_deadline) is not None and d > self.now]
        return min(instants, default=None)


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

    metric: Metric | None
    kind: TraceKind
    start: datetime
    end: datetime | None = None
    amount: timedelta | None = None
    detail: tuple[str, ...] = ()


@attrs.frozen
class SlaExplanation:
    """An :class:`SlaStatus` with the trace of how it was reached."""

    status: SlaStatus
    entries: tuple[TraceEntry, ...]
    zone: str = "UTC"

    def render(self, locale: str | Locale = "en") -> str:
        """The trace as text, one line per entry, times in the calendar's zone.

        English, Simplified and Traditional Chinese are translated; other
        locales get English words with their own number formats.
        """
        return _render(self, locale)


# -- evaluation ---------------------------------------------------------------


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
        first = rules.get(Metric.FIRST_RESPONSE) or rules.get(Metric.NEXT_RESPONSE)
        self.bots_answer = first is not None and first.count_bot_replies
        self.tracks_next = Metric.NEXT_RESPONSE in rules
        self.opens_with = tuple(m for m in (Metric.FIRST_RESPONSE, Metric.RESOLUTION) if m in rules)


class _Walk:
    """The clocks of every metric of a policy, advanced event by event.

    This runs for every ticket of every sweep, so per-event work is kept to
    identity tests and small loops; trace notes are only made when tracing.
    """

    def __init__(self, policy: SlaPolicy, trace: list[TraceEntry] | None) -> None:
        plan = policy._planned()
        self.rules = plan.rules
        self.halt = plan.halt
        self.by_agent, self.by_bot = plan.by_agent, plan.by_bot
        self.bots_answer, self.tracks_next = plan.bots_answer, plan.tracks_next
        self.opens_with = plan.opens_with
        self.cycles: dict[Metric, _Cycle] = {}
        self.trace = trace
        self.status = Status.NEW
        self.priority = Priority.NORMAL
        self.first_response_given = False
        self.statuses: list[tuple[datetime, Status]] = []  # kept only when tracing

    def note(self, metric: Metric | None, kind: TraceKind, at: datetime, *detail: str) -> None:
        if self.trace is not None:
            self.trace.append(TraceEntry(metric, kind, at, detail=detail))

    def start(self, metric: Metric, at: datetime, why: str) -> None:
        previous = self.cycles.get(metric)
        cycle = _Cycle(previous.number + 1 if previous else 1, at, self.priority)
        self.cycles[metric] = cycle
        if self.status not in self.halt[metric]:
            cycle.counting_since = at
        if self.trace is not None:
            cycle.trace_from = len(self.trace)
            self.note(metric, TraceKind.CYCLE, at, str(cycle.number), why)

    def fulfil(self, cycle: _Cycle, metric: Metric, at: datetime, why: str) -> None:
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
            if metric is Metric.PERIODIC_UPDATE and self.status not in _STOPPED:
                self.start(metric, at, "agent update" if agent else "bot update")
        if agent or self.bots_answer:
            self.first_response_given = True

    def customer_message(self, at: datetime) -> None:
        if not self.tracks_next or not self.first_response_given:
            return
        cycle = self.cycles.get(Metric.NEXT_RESPONSE)
        if cycle is None or not cycle.open:
            self.start(Metric.NEXT_RESPONSE, at, "customer message")

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
                if metric is Metric.RESOLUTION and cycle.open:
                    self.fulfil(cycle, metric, at, "solved")
                elif cycle.open:
                    cycle.run(at, False)
                    cycle.suspended, cycle.priority = True, self.priority
                    if tracing:
                        self.note(metric, TraceKind.STOPPED, at, "solved")
                continue
            if old is Status.SOLVED and (
                cycle.suspended
                or (metric is Metric.RESOLUTION and not cycle.open and not cycle.cancelled)
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

    def walk(self, ticket: Ticket, now: datetime) -> None:
        public, customer, agent, bot = (
            Visibility.PUBLIC,
            ActorKind.CUSTOMER,
            ActorKind.AGENT,
            ActorKind.BOT,
        )
        for event in ticket.timeline:
            at = event.at
            if at > now:
                break
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


def _calendar_for(target: Target, calendars: Mapping[str, Calendar]) -> Calendar | None:
    if target.calendar is None:
        return None
    calendar = calendars.get(target.calendar)
    if calendar is None:
        known = ", ".join(repr(name) for name in sorted(calendars)) or "none"
        raise NotFoundError("calendar", target.calendar, f"calendars given: {known}")
    return calendar


def _elapsed(calendar: Calendar | None, a: datetime, b: datetime) -> timedelta:
    return b - a if calendar is None else calendar.elapsed(a, b)


def _add(calendar: Calendar | None, t: datetime, d: timedelta) -> datetime:
    return (t + d).astimezone(timezone.utc) if calendar is None else calendar.add(t, d)


def _measure(
    metric: Metric,
    cycle: _Cycle | None,
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


def _calendar_map(
    calendars: Mapping[str, Calendar] | Iterable[Calendar],
) -> Mapping[str, Calendar]:
    if isinstance(calendars, Mapping):
        return calendars
    result: dict[str, Calendar] = {}
    for i, calendar in enumerate(calendars):
        if not isinstance(calendar, (BusinessCalendar, CalendarUnion)):
            raise ValidationError.single(
                "evaluate", f"calendars[{i}]", f"expected a BusinessCalendar, got {calendar!r}"
            )
        result[calendar.name] = calendar
    return result


def _choose(
    policies: SlaPolicy | Sequence[SlaPolicy],
    ticket: Ticket,
    customer: Customer | None,
    now: datetime,
) -> tuple[SlaPolicy | None, int | None]:
    if isinstance(policies, SlaPolicy):
        return policies, None
    chosen: tuple[SlaPolicy | None, int | None] = (None, None)
    as_of: Ticket | None = None  # built only if a condition needs to read the ticket
    for i, policy in enumerate(policies):  # every item is checked, not only those before a match
        if not isinstance(policy, SlaPolicy):
            raise ValidationError.single(
                "evaluate", f"policies[{i}]", f"expected an SlaPolicy, got {policy!r}"
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


def _as_of(ticket: Ticket, now: datetime) -> Ticket:
    """The ticket as it stood at ``now``, so later events cannot choose the policy."""
    if ticket.updated_at <= now or ticket.created_at > now:
        return ticket  # the sweep's case; a ticket not yet created is matched as created
    return Ticket(timeline=tuple(e for e in ticket.timeline if e.at <= now))


def _run(
    ticket: Ticket,
    policies: SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar],
    now: datetime,
    customer: Customer | None,
    trace: list[TraceEntry] | None,
) -> tuple[SlaStatus, _Walk | None]:
    if type(now) is not datetime or now.tzinfo is None:
        ensure_aware(now, "evaluate", "now")
    if not isinstance(ticket, Ticket):
        raise ValidationError.single("evaluate", "ticket", f"expected a Ticket, got {ticket!r}")
    policy, index = _choose(policies, ticket, customer, now)
    if policy is None:
        if trace is not None:
            trace.append(TraceEntry(None, TraceKind.POLICY, now, detail=("",)))
        return SlaStatus(ticket.id, now, None, ()), None
    if trace is not None:
        rank = "given" if index is None else str(index + 1)
        trace.append(TraceEntry(None, TraceKind.POLICY, now, detail=(policy.name, rank)))
    calendar_map = _calendar_map(calendars)
    walk = _Walk(policy, trace)
    walk.walk(ticket, now)
    statuses = tuple(
        _measure(
            rules.metric,
            walk.cycles.get(rules.metric),
            rules,
            walk.priority,
            calendar_map,
            now,
        )
        for rules in policy.metrics
    )
    return SlaStatus(ticket.id, now, policy.name, statuses), walk


def evaluate(
    ticket: Ticket,
    policies: SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar],
    now: datetime,
    *,
    customer: Customer | None = None,
) -> SlaStatus:
    """Every metric of ``ticket`` at ``now``.

    ``policies`` is one policy (applied as given) or an ordered sequence (the
    first whose condition matches the ticket and ``customer`` applies; none
    matching gives an :class:`SlaStatus` with no metrics). ``calendars`` maps
    names to calendars, or is a sequence of calendars keyed by their names.
    Events after ``now`` are ignored.

    Raises :class:`~csdomain.errors.ValidationError` for a naive ``now`` or
    arguments of the wrong type, and :class:`~csdomain.errors.NotFoundError`
    when a target names a calendar not given.
    """
    return _run(ticket, policies, calendars, now, customer, None)[0]


def next_deadline(
    ticket: Ticket,
    policies: SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar],
    now: datetime,
    *,
    customer: Customer | None = None,
) -> datetime | None:
    """The earliest instant after ``now`` at which a metric of ``ticket`` warns or falls due.

    None when no clock is running. A sweeper re-evaluates the ticket then; an
    event on the ticket before that instant calls for a new ``next_deadline``.
    """
    return evaluate(ticket, policies, calendars, now, customer=customer).next_deadline


def explain(
    ticket: Ticket,
    policies: SlaPolicy | Sequence[SlaPolicy],
    calendars: Mapping[str, Calendar] | Iterable[Calendar],
    now: datetime,
    *,
    customer: Customer | None = None,
) -> SlaExplanation:
    """:func:`evaluate` with the trace behind it: which policy and targets applied, and
    every interval each metric's latest cycle counted, paused or excluded (closed
    hours, holidays, solved time, time before a priority change)."""
    trace: list[TraceEntry] = []
    status, walk = _run(ticket, policies, calendars, now, customer, trace)
    if walk is None:
        return SlaExplanation(status, tuple(trace))
    calendar_map = _calendar_map(calendars)
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
        calendar = calendar_map.get(result.calendar) if result.calendar else None
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
    return SlaExplanation(status, tuple(policy_lines + entries), zone_name)


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
    metric: Metric,
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


# -- rendering ----------------------------------------------------------------

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
    """Turns trace entries into lines of text in one locale and one zone."""

    def __init__(self, locale: str | Locale, zone_name: str) -> None:
        # i18n labels this module's enums, so it is imported here, not at the top.
        from csdomain import i18n

        self.i18n = i18n
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
        return self.i18n.format_duration(
            value or _ZERO, self.locale, width="short", largest_unit="hour"
        )

    def word(self, value: str) -> str:
        message = _WORDS.get(value)
        return self.tr(message) if message else value

    def label(self, value: Enum) -> str:
        return self.i18n.label(value, self.locale)

    def heading(self, status: MetricStatus) -> str:
        cycle = f" ({status.cycle})" if status.cycle > 1 else ""
        # The same message as the demo's SLA lines, so both read alike in each locale.
        heading = self.translations.gettext("{metric}: {state}")
        return (
            heading.format(metric=self.label(status.metric), state=self.label(status.state)) + cycle
        )

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
            return self.tr(_HOLIDAY).format(names=", ".join(d), **values)
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


def _render(explanation: SlaExplanation, locale: str | Locale) -> str:
    renderer = _Renderer(locale, explanation.zone)
    status = explanation.status
    lines = [f"{status.ticket_id} @ {renderer.when(status.now)} ({explanation.zone})"]
    current: Metric | None = None
    for entry in explanation.entries:
        if entry.metric is not None and entry.metric is not current:
            current = entry.metric
            lines.append(renderer.heading(status[current]))
        indent = "  " if entry.metric is not None else ""
        lines.append(indent + renderer.line(entry))
    return "\n".join(lines)
