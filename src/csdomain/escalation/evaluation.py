"""Evaluating escalation rules: which fire now, when to look again, and what firing does.

Everything here is a pure function of its arguments: the rules, the ticket (its
timeline), the ticket's :class:`~csdomain.sla.SlaStatus` at ``now``, the
customer and the calendars by name.

**Once per cycle.** A rule fires at most once per ticket per ``(rule name,
trigger key, cycle)``. :func:`apply_firing` records each firing as a
:class:`~csdomain.escalation.events.RuleFired` event in the ticket's timeline,
and :func:`due_firings` skips a rule whose ``(name, key, cycle)`` the timeline
already holds. The dedupe lives in the ticket itself, so it holds however often
sweeps run and however many workers run them: two workers that both see a rule
due both append a ``RuleFired``, but storage saves tickets with a version
check, so only one save wins and the other worker's unit of work fails with a
``ConflictError`` (it reloads the ticket, and the rule is no longer due).
Renaming a rule or changing its trigger changes the key, so the changed rule
may fire again.

**Trigger keys** (:func:`trigger_key`): ``"sla_breach:first_response"``,
``"sla_warning:resolution:0.75"``, ``"senior_requested"``, ``"complaint"``,
``"reopened:2"``, ``"unassigned_for"``, ``"waiting_on_customer_for"``,
``"priority_at_least:high"``.

**When each trigger holds, its cycle and its instant.** ``at`` is the instant
the trigger started to hold (never after ``now``):

* ``sla_breach(metric)``: the metric's latest cycle has a ``breached_at`` (state
  breached); cycle = the metric's cycle number; ``at`` = ``breached_at``. A
  metric is breached once its clock runs past the due instant (a reply exactly
  at it is on time), so a running clock's breach starts to hold one microsecond
  after ``due_at``.
* ``sla_warning(metric, f)``: the latest cycle has counted ``elapsed >= f *
  target`` and is running, paused or breached (a warning speaks of a clock
  still owed: once the cycle is achieved on time or cancelled it no longer
  fires); cycle = the metric's cycle number. (``f * target`` is taken to the
  microsecond, and is one microsecond at least.) ``at`` is the instant the counted
  time reached ``f * target``, found on the target's calendar (calendar time
  when the target has none) by counting open time back from ``now`` (running)
  or from ``breached_at`` (breached, when counted time was the whole target)
  as if the clock had run without a pause in between: exact when the fraction
  was reached since the clock last resumed, later than the true instant
  otherwise. A paused clock tells no instant: ``at`` is ``now``. Given the
  ticket's ``SlaClockState`` (``due_firings(..., clock=...)``), the instant is
  exact in every case: read off the cycle's counted intervals.
* ``senior_requested``: at least one ``SeniorAgentRequested`` event; cycle =
  how many there are; ``at`` = the latest one's instant. A new request fires
  the rule again (two requests between sweeps fire it once, for the second).
* ``complaint``: the ticket's kind is complaint; cycle 1; ``at`` = creation.
* ``reopened(n)``: the ticket has been reopened (a move solved -> open) at
  least ``n`` times; cycle 1; ``at`` = the ``n``-th reopen.
* ``unassigned_for(d, calendar)``: no assignee, and ``d`` of open time of the
  trigger's calendar (calendar time when None) has passed since the ticket last
  became unassigned; cycle = how many times it became unassigned (created
  without an assignee counts 1); ``at`` = ``calendar.add(since, d)``.
* ``waiting_on_customer_for(d, calendar)``: pending, and ``d`` has passed since
  it last entered pending, counted the same way; cycle = how many times it
  entered pending; ``at`` = ``calendar.add(since, d)``.
* ``priority_at_least(p)``: the priority is ``p`` or higher; cycle = how many
  times it rose from below ``p`` to ``p`` or higher (created at ``p`` or higher
  counts 1); ``at`` = the latest such rise.

Only unsolved tickets (new, open, pending, on hold) fire; a rule fires only
when its condition matches (``rule.condition.matches(ticket, customer)``).

**Next check.** :func:`next_check` is the earliest instant after ``now`` at
which a not yet fired rule (condition matching, ticket unsolved) will start to
hold with no new event: an SLA warning on a running clock at
``calendar.add(now, f * target - elapsed)``, a running clock's breach one
microsecond after ``due_at``, ``calendar.add(since, d)`` for the waiting
triggers. A paused clock gives no instant (only an event resumes it); neither do
the event triggers.

**Applying a firing.** :func:`apply_firing` appends the ``RuleFired`` record,
then each action in order, with actor ``Actor.system()`` and the reason ``"rule
<name>"``; an action that would change nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

import attrs

from csdomain._kernel.time import INSTANT_MIN, duration_text
from csdomain.conditions import ALWAYS
from csdomain.errors import NotFoundError, ValidationError
from csdomain.escalation.events import NotificationQueued, RuleFired, SeniorAgentRequested
from csdomain.escalation.rules import Action, ActionKind, EscalationRule, Trigger, TriggerKind
from csdomain.people import EscalationLadder, Group
from csdomain.priorities import Priority
from csdomain.sla.status import MetricStatus, SlaState, SlaStatus
from csdomain.tickets import (
    Actor,
    Assigned,
    MessageAdded,
    PriorityChanged,
    Status,
    StatusChanged,
    Ticket,
    TicketCreated,
    TicketEvent,
    TicketKind,
    TierChanged,
)

if TYPE_CHECKING:
    from csdomain.customers import Customer
    from csdomain.sla import CycleState, SlaClockState
    from csdomain.sla.policy import Calendar

__all__ = ["Firing", "apply_firing", "due_firings", "next_check", "trigger_key"]

#: The statuses in which rules fire.
UNSOLVED: Final = frozenset({Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD})

_MICROSECOND: Final = timedelta(microseconds=1)
_ZERO: Final = timedelta(0)
_LIVE_FOR_WARNING: Final = frozenset({SlaState.RUNNING, SlaState.PAUSED, SlaState.BREACHED})


@attrs.frozen
class Firing:
    """A rule due to fire on a ticket: what :func:`due_firings` finds and
    :func:`apply_firing` applies.

    ``trigger`` is the trigger key and ``cycle`` the trigger's cycle (together
    with ``rule``, what the ``RuleFired`` record says); ``at`` is the instant
    the trigger started to hold; ``reason`` says why in plain English;
    ``actions`` are the rule's actions.
    """

    rule: str
    trigger: str
    cycle: int
    at: datetime
    reason: str
    actions: tuple[Action, ...]


def trigger_key(trigger: Trigger) -> str:
    """The trigger's key in ``RuleFired`` records: its kind, and what tells two
    triggers of that kind apart.

    >>> trigger_key(Trigger.sla_warning("resolution", 0.75))
    'sla_warning:resolution:0.75'
    >>> trigger_key(Trigger.reopened(2))
    'reopened:2'
    """
    kind = trigger.kind
    if kind is TriggerKind.SLA_WARNING:
        assert trigger.metric is not None
        return f"{kind.value}:{trigger.metric.value}:{trigger.fraction!r}"
    if kind is TriggerKind.SLA_BREACH:
        assert trigger.metric is not None
        return f"{kind.value}:{trigger.metric.value}"
    if kind is TriggerKind.REOPENED:
        return f"{kind.value}:{trigger.times}"
    if kind is TriggerKind.PRIORITY_AT_LEAST:
        assert trigger.priority is not None
        return f"{kind.value}:{trigger.priority.value}"
    return str(kind.value)


# -- what the timeline says -----------------------------------------------------------


class _Facts:
    """What the triggers read from a ticket's timeline, gathered in one pass."""

    __slots__ = (
        "fired",
        "pending",
        "pending_since",
        "priorities",
        "reopens",
        "senior_at",
        "seniors",
        "unassigned",
        "unassigned_since",
    )

    def __init__(self, timeline: Sequence[TicketEvent]) -> None:
        self.fired: set[tuple[str, str, int]] = set()
        self.seniors = 0
        self.senior_at: datetime | None = None
        self.reopens: list[datetime] = []
        self.unassigned = 0
        self.unassigned_since: datetime | None = None
        self.pending = 0
        self.pending_since: datetime | None = None
        #: (instant, priority from then on), creation first.
        self.priorities: list[tuple[datetime, Priority]] = []
        for event in timeline:
            if type(event) is MessageAdded:  # most of a timeline, and nothing to read
                continue
            if isinstance(event, RuleFired):
                self.fired.add((event.rule, event.trigger, event.cycle))
            elif isinstance(event, StatusChanged):
                if event.new is Status.PENDING:
                    self.pending += 1
                    self.pending_since = event.at
                elif event.old is Status.SOLVED and event.new is Status.OPEN:
                    self.reopens.append(event.at)
            elif isinstance(event, Assigned):
                if event.assignee_id is None and event.old_assignee_id is not None:
                    self.unassigned += 1
                    self.unassigned_since = event.at
            elif isinstance(event, PriorityChanged):
                self.priorities.append((event.at, event.new))
            elif isinstance(event, SeniorAgentRequested):
                self.seniors += 1
                self.senior_at = event.at
            elif isinstance(event, TicketCreated):
                if event.assignee_id is None:
                    self.unassigned = 1
                    self.unassigned_since = event.at
                self.priorities.append((event.at, event.priority))

    def rises_to(self, level: Priority) -> tuple[int, datetime | None]:
        """How many times the priority rose to ``level`` or higher, and the latest rise."""
        count, latest, below = 0, None, True
        for at, priority in self.priorities:
            if priority >= level:
                if below:
                    count, latest = count + 1, at
                below = False
            else:
                below = True
        return count, latest


# -- calendars ------------------------------------------------------------------------


def _calendar(name: str | None, calendars: Mapping[str, Calendar], what: str) -> Calendar | None:
    if name is None:
        return None
    found = calendars.get(name)
    if found is None:
        known = ", ".join(repr(n) for n in sorted(calendars)) or "none"
        raise NotFoundError("calendar", name, f"{what} names it; calendars given: {known}")
    return found


def _add(calendar: Calendar | None, t: datetime, d: timedelta) -> datetime:
    return (t + d).astimezone(timezone.utc) if calendar is None else calendar.add(t, d)


def _back(calendar: Calendar | None, end: datetime, d: timedelta) -> datetime:
    """The earliest instant ``u <= end`` with ``elapsed(u, end) <= d``: where a clock that
    ran without a pause up to ``end`` stood ``d`` of open time earlier."""
    if calendar is None:
        return max(end - d, INSTANT_MIN).astimezone(timezone.utc)
    window = 2 * d + timedelta(days=1)
    while True:
        lo = max(end - window, INSTANT_MIN)
        counted = _ZERO
        for start, stop in reversed(list(calendar.open_intervals(lo, end))):
            owed = d - counted
            if owed < stop - start:
                return stop - owed
            counted += stop - start
        if lo == INSTANT_MIN:
            return lo.astimezone(timezone.utc)
        window *= 2


# -- triggers -------------------------------------------------------------------------

#: (cycle, instant the trigger starts or started to hold, reason) or None.
_Held = tuple[int, datetime, str] | None


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def _reached(calendar: Calendar | None, cycle: CycleState, threshold: timedelta) -> datetime | None:
    """The instant ``cycle`` counted ``threshold``, read off its segments (None when it
    has not)."""
    counted = _ZERO
    for start, end in cycle.segments:
        part = end - start if calendar is None else calendar.elapsed(start, end)
        if counted + part >= threshold:
            return _add(calendar, start, threshold - counted)
        counted += part
    since = cycle.counting_since
    return None if since is None else _add(calendar, since, threshold - counted)


def _sla_warning(
    trigger: Trigger,
    sla: SlaStatus,
    calendars: Mapping[str, Calendar],
    now: datetime,
    explain: bool,
    clock: SlaClockState | None,
) -> _Held:
    assert trigger.metric is not None and trigger.fraction is not None
    status = sla.get(trigger.metric)
    if status is None or status.target is None or status.state not in _LIVE_FOR_WARNING:
        return None
    # At least a microsecond: a fraction of a target rounding below it would hold before
    # the clock counted anything, at an instant before the cycle began.
    threshold = max(status.target * trigger.fraction, _MICROSECOND)
    calendar = _calendar(status.calendar, calendars, f"the {status.metric.value} target")
    metric, share, target = status.metric.value, _percent(trigger.fraction), status.target
    if status.elapsed >= threshold:
        if not explain:
            return status.cycle, now, ""
        cycle = None if clock is None else _cycle_of(clock, status)
        exact = None if cycle is None else _reached(calendar, cycle, threshold)
        if exact is not None and exact <= now:
            reason = f"{metric} reached {share} of its target ({target}) at {exact.isoformat()}"
            return status.cycle, exact, reason
        if status.state is SlaState.PAUSED:
            reason = (
                f"{metric} has counted {status.elapsed} of its target ({target}), "
                f"past {share} (the clock is paused)"
            )
            return status.cycle, now, reason
        if status.state is SlaState.BREACHED and status.breached_at is not None:
            at = _back(calendar, status.breached_at, target - threshold)
        else:
            at = _back(calendar, now, status.elapsed - threshold)
        reason = f"{metric} reached {share} of its target ({target}) at {at.isoformat()}"
        return status.cycle, at, reason
    if status.state is SlaState.RUNNING and not explain:
        return status.cycle, _add(calendar, now, threshold - status.elapsed), ""
    return None


def _cycle_of(clock: SlaClockState, status: MetricStatus) -> CycleState | None:
    for cycle in clock.cycles:
        if cycle.metric is status.metric and cycle.number == status.cycle:
            return cycle
    return None


def _sla_breach(trigger: Trigger, sla: SlaStatus, explain: bool) -> _Held:
    assert trigger.metric is not None
    status = sla.get(trigger.metric)
    if status is None:
        return None
    if status.breached_at is not None:
        reason = _breach_reason(status, status.breached_at) if explain else ""
        return status.cycle, status.breached_at, reason
    if status.state is SlaState.RUNNING and status.due_at is not None and not explain:
        return status.cycle, status.due_at + _MICROSECOND, ""
    return None


def _breach_reason(status: MetricStatus, at: datetime) -> str:
    return f"{status.metric.value} breached at {at.isoformat()} (target {status.target})"


def _waited(
    trigger: Trigger,
    cycle: int,
    since: datetime | None,
    calendars: Mapping[str, Calendar],
    what: str,
) -> _Held:
    assert trigger.duration is not None
    if since is None:
        return None
    calendar = _calendar(trigger.calendar, calendars, f"the {trigger.kind.value} trigger")
    at = _add(calendar, since, trigger.duration)
    clock = (
        "calendar time"
        if trigger.calendar is None
        else f"open time of calendar {trigger.calendar!r}"
    )
    reason = (
        f"{what} since {since.isoformat()}: {duration_text(trigger.duration)} of {clock} "
        f"passed at {at.isoformat()}"
    )
    return cycle, at, reason


def _held(
    trigger: Trigger,
    ticket: Ticket,
    facts: _Facts,
    sla: SlaStatus,
    calendars: Mapping[str, Calendar],
    now: datetime,
    explain: bool,
    clock: SlaClockState | None = None,
) -> _Held:
    """Whether ``trigger`` holds or will hold with no new event: its cycle, the instant
    it starts or started to hold, and (with ``explain``, for one that holds) why."""
    kind = trigger.kind
    if kind is TriggerKind.SLA_BREACH:
        return _sla_breach(trigger, sla, explain)
    if kind is TriggerKind.SLA_WARNING:
        return _sla_warning(trigger, sla, calendars, now, explain, clock)
    if kind is TriggerKind.SENIOR_REQUESTED:
        if facts.senior_at is None:
            return None
        reason = f"a senior agent was requested at {facts.senior_at.isoformat()}"
        if facts.seniors > 1:
            reason += f" (request {facts.seniors})"
        return facts.seniors, facts.senior_at, reason
    if kind is TriggerKind.COMPLAINT:
        if ticket.kind is not TicketKind.COMPLAINT:
            return None
        return 1, ticket.created_at, "the ticket is a complaint"
    if kind is TriggerKind.REOPENED:
        assert trigger.times is not None
        if len(facts.reopens) < trigger.times:
            return None
        at = facts.reopens[trigger.times - 1]
        times = "once" if trigger.times == 1 else f"{trigger.times} times"
        return 1, at, f"reopened {times}, the last of them at {at.isoformat()}"
    if kind is TriggerKind.UNASSIGNED_FOR:
        since = facts.unassigned_since if ticket.assignee_id is None else None
        return _waited(trigger, facts.unassigned, since, calendars, "unassigned")
    if kind is TriggerKind.WAITING_ON_CUSTOMER_FOR:
        since = facts.pending_since if ticket.status is Status.PENDING else None
        return _waited(trigger, facts.pending, since, calendars, "waiting on the customer")
    assert kind is TriggerKind.PRIORITY_AT_LEAST and trigger.priority is not None
    if ticket.priority < trigger.priority:
        return None
    count, latest = facts.rises_to(trigger.priority)
    if latest is None:
        return None
    reason = (
        f"priority {ticket.priority.value} is at least {trigger.priority.value} "
        f"since {latest.isoformat()}"
    )
    return count, latest, reason


def _check_status(ticket: Ticket, sla: SlaStatus, now: datetime, subject: str) -> None:
    if not isinstance(sla, SlaStatus):
        raise ValidationError.single(subject, "sla", f"expected an SlaStatus, got {sla!r}")
    if sla.ticket_id != ticket.id:
        raise ValidationError.single(
            subject,
            "sla",
            f"the SLA status is of ticket {sla.ticket_id!r}, not of ticket {ticket.id!r}",
        )
    if sla.now != now:
        raise ValidationError.single(
            subject,
            "now",
            f"the SLA status was evaluated at {sla.now.isoformat()}, not at "
            f"now={now.isoformat()}; evaluate it at the same instant",
        )


def _matches(rule: EscalationRule, ticket: Ticket, customer: Customer | None) -> bool:
    condition = rule.condition
    return condition is ALWAYS or condition.matches(ticket, customer)


def due_firings(
    rules: Sequence[EscalationRule],
    ticket: Ticket,
    sla: SlaStatus,
    *,
    customer: Customer | None,
    now: datetime,
    calendars: Mapping[str, Calendar],
    clock: SlaClockState | None = None,
) -> tuple[Firing, ...]:
    """The rules (in order) due to fire on ``ticket`` at ``now``.

    A rule is due when the ticket is unsolved, its condition matches the
    ticket and ``customer``, its trigger holds at ``now`` and the timeline holds
    no ``RuleFired`` for its ``(name, trigger key, cycle)``. ``sla`` is the
    ticket's SLA status evaluated at ``now`` (``ValidationError`` if it is of
    another ticket or instant); ``calendars`` holds, by name, the calendars the
    SLA targets and the triggers name (``NotFoundError`` for a missing one).

    ``clock``, the ticket's :class:`~csdomain.sla.SlaClockState` that ``sla`` was
    evaluated from (optional), makes an SLA warning's instant exact: it is read off
    the cycle's counted intervals instead of counted back from ``now``.
    """
    _check_status(ticket, sla, now, "due_firings")
    if clock is not None and clock.ticket_id != ticket.id:
        raise ValidationError.single(
            "due_firings",
            "clock",
            f"the clock state is of ticket {clock.ticket_id!r}, not of ticket {ticket.id!r}",
        )
    if ticket.status not in UNSOLVED or not rules:
        return ()
    facts = _Facts(ticket.timeline)
    found: list[Firing] = []
    for rule in rules:
        trigger = rule.trigger
        # Cheap first (does it hold, is it recorded, does the condition match), then
        # the instant and the reason, for the rules that fire.
        held = _held(trigger, ticket, facts, sla, calendars, now, False)
        if held is None or held[1] > now:
            continue
        key = trigger_key(trigger)
        if (rule.name, key, held[0]) in facts.fired or not _matches(rule, ticket, customer):
            continue
        explained = _held(trigger, ticket, facts, sla, calendars, now, True, clock)
        assert explained is not None
        cycle, at, reason = explained
        found.append(Firing(rule.name, key, cycle, at, reason, rule.actions))
    return tuple(found)


def next_check(
    rules: Sequence[EscalationRule],
    ticket: Ticket,
    sla: SlaStatus,
    *,
    customer: Customer | None,
    now: datetime,
    calendars: Mapping[str, Calendar],
) -> datetime | None:
    """The earliest instant after ``now`` at which a rule not yet fired will start to
    hold with no new event on the ticket (None: no such instant).

    Arguments as for :func:`due_firings`. A rule already due at ``now`` is not
    counted (:func:`due_firings` returns it). Sweeps index this instant.
    """
    _check_status(ticket, sla, now, "next_check")
    if ticket.status not in UNSOLVED or not rules:
        return None
    facts = _Facts(ticket.timeline)
    earliest: datetime | None = None
    for rule in rules:
        held = _held(rule.trigger, ticket, facts, sla, calendars, now, False)
        if held is None:
            continue
        cycle, at, _ = held
        if at <= now or (earliest is not None and at >= earliest):
            continue
        if (rule.name, trigger_key(rule.trigger), cycle) in facts.fired:
            continue
        if _matches(rule, ticket, customer):
            earliest = at
    return earliest


# -- applying -------------------------------------------------------------------------


def _recorded(ticket: Ticket, firing: Firing) -> bool:
    """True when the timeline records ``firing`` already (a RuleFired of its rule, trigger
    key and cycle)."""
    rule, trigger, cycle = firing.rule, firing.trigger, firing.cycle
    for event in ticket.timeline:
        if (
            isinstance(event, RuleFired)
            and event.rule == rule
            and event.trigger == trigger
            and event.cycle == cycle
        ):
            return True
    return False


def _record(ticket: Ticket, events: list[TicketEvent]) -> Ticket:
    return ticket.record(*events) if events else ticket


def _group(groups: Mapping[str, Group], group_id: str, what: str) -> Group:
    found = groups.get(group_id)
    if found is None:
        known = ", ".join(repr(g) for g in sorted(groups)) or "none"
        raise NotFoundError("group", group_id, f"{what}; groups given: {known}")
    return found


def _raised_tier(tier: str, action: Action, ladder: EscalationLadder) -> str | None:
    if action.tier is None:
        above = ladder.above(tier)
        return None if above is None else above.key
    if ladder.level(action.tier) <= ladder.level(tier):
        return None
    return action.tier


def _raised_priority(ticket: Ticket, action: Action) -> Priority | None:
    current = ticket.priority
    if action.priority is not None:
        return action.priority if current < action.priority else None
    levels = list(Priority)
    return levels[current.rank + 1] if current.rank + 1 < len(levels) else None


def _deliver_at(
    calendar_name: str | None, calendars: Mapping[str, Calendar], at: datetime, what: str
) -> datetime:
    calendar = _calendar(calendar_name, calendars, what)
    return at if calendar is None else calendar.next_open(at)


def apply_firing(
    ticket: Ticket,
    firing: Firing,
    *,
    at: datetime,
    ladder: EscalationLadder,
    groups: Mapping[str, Group],
    calendars: Mapping[str, Calendar],
    choose_agent: Callable[[Ticket, Action], str | None],
) -> Ticket:
    """``ticket`` with ``firing`` applied at ``at``: the ``RuleFired`` record, then each
    action in order, every event at ``at`` by ``Actor.system()``.

    * ``raise_tier``: ``change_tier`` to the tier the action names, or to the next
      one up the ``ladder`` (skipped at the top, or when the ticket is at or above
      the named tier).
    * ``move_to_group``: ``assign(group_id=g, assignee_id=None)`` (skipped when
      the ticket is in ``g`` already, keeping its assignee).
    * ``raise_priority``: ``change_priority`` one step up :class:`Priority`'s
      order, or to the named priority when the ticket's is lower (skipped when
      it is urgent, or at or above the named one).
    * ``assign``: ``assign(assignee_id=choose_agent(ticket, action))``, with the
      ticket as the earlier actions left it (skipped when it returns None or
      the current assignee).
    * ``notify``: one ``NotificationQueued`` per group of ``action.groups``
      (delivered at ``next_open(at)`` of the group's calendar, ``at`` for a
      group without one), one for ``action.agents`` (the calendar of the
      ticket's group) and one for ``action.external`` (at ``at``).

    The tier and group changes give the reason ``"rule <name>"``. A firing the
    timeline already records (same rule, trigger key and cycle) is not applied
    again: ``ticket`` is returned as it is. Raises ``NotFoundError`` for a group,
    tier or calendar the arguments do not hold (:func:`~csdomain.escalation.check_rules`
    finds those in the configuration beforehand).
    """
    if _recorded(ticket, firing):
        return ticket
    system = Actor.system()
    because = f"rule {firing.rule}"
    pending: list[TicketEvent] = [
        RuleFired(
            at=at,
            actor=system,
            rule=firing.rule,
            trigger=firing.trigger,
            cycle=firing.cycle,
            reason=firing.reason,
        )
    ]
    note = f"rule {firing.rule}: {firing.reason}"
    if len(note) > 1000:
        note = note[:999] + "…"
    current = ticket
    tier = ticket.tier  # as the pending events leave it
    for action in firing.actions:
        kind = action.kind
        if kind is ActionKind.RAISE_TIER:
            # Recorded with the other pending events: one append for the whole firing.
            raised = _raised_tier(tier, action, ladder)
            if raised is not None:
                pending.append(
                    TierChanged(at=at, actor=system, old=tier, new=raised, reason=because)
                )
                tier = raised
            continue
        if kind is ActionKind.NOTIFY:
            for group_id in action.groups:
                group = _group(groups, group_id, f"rule {firing.rule!r} notifies it")
                pending.append(
                    NotificationQueued(
                        at=at,
                        actor=system,
                        rule=firing.rule,
                        groups=(group_id,),
                        calendar=group.calendar,
                        deliver_at=_deliver_at(
                            group.calendar, calendars, at, f"group {group_id!r}"
                        ),
                        reason=note,
                    )
                )
            if action.agents:
                calendar_name = None
                if current.group_id is not None:
                    calendar_name = _group(
                        groups, current.group_id, "the ticket's group, whose agents are notified"
                    ).calendar
                pending.append(
                    NotificationQueued(
                        at=at,
                        actor=system,
                        rule=firing.rule,
                        agents=action.agents,
                        calendar=calendar_name,
                        deliver_at=_deliver_at(
                            calendar_name, calendars, at, f"group {current.group_id!r}"
                        ),
                        reason=note,
                    )
                )
            if action.external is not None:
                pending.append(
                    NotificationQueued(
                        at=at,
                        actor=system,
                        rule=firing.rule,
                        external=action.external,
                        deliver_at=at,
                        reason=note,
                    )
                )
            continue
        current, pending = _record(current, pending), []
        if kind is ActionKind.MOVE_TO_GROUP:
            assert action.group_id is not None
            _group(groups, action.group_id, f"rule {firing.rule!r} moves the ticket to it")
            if current.group_id != action.group_id:
                current = current.assign(
                    at=at, actor=system, group_id=action.group_id, assignee_id=None
                )
        elif kind is ActionKind.RAISE_PRIORITY:
            priority = _raised_priority(current, action)
            if priority is not None:
                current = current.change_priority(priority, at=at, actor=system)
        else:
            assert kind is ActionKind.ASSIGN
            agent = choose_agent(current, action)
            if agent is not None and agent != current.assignee_id:
                current = current.assign(at=at, actor=system, assignee_id=agent)
    return _record(current, pending)
