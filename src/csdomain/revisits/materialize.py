"""Materializing a revisit plan: which tasks a customer should have, idempotently.

:func:`materialize` is pure: given a plan, one customer, what is known of the
customer (history, contact state, the tasks already stored) and a horizon, it
returns a :class:`MaterializePlan` of the tasks to add, the tasks to cancel and
the occurrences that could not be placed. The caller stores the result.

Task keys
    Every task has a deterministic key (:func:`task_key`): a hash of the
    plan, the rule, the customer, the occurrence (its nominal instant, or the
    event that caused it: an order, a ticket, a survey response) and the
    rule's fingerprint (:meth:`RevisitPlan.fingerprint`, a hash of the rule's
    value and the plan's version). Running :func:`materialize` again finds the
    same keys among the stored tasks and adds nothing: applying its result and
    running it again gives an empty plan.

Re-planning
    A stored task that is *untouched* (scheduled, no attempt made, due after
    ``now``) is cancelled with ``PLAN_CHANGED`` when its rule is gone, no
    longer matches the customer (``who``), was made under another fingerprint
    (the rule or the plan's version changed), or, for the rules materialize
    expands (recurrences, birthdays, purchases), when its occurrence lies in
    the horizon but is no longer one of the rule's (an RRULE edited, a
    completion-anchored rule that skips it, a customer who moved zone). A new
    task then takes its place under the new key. Touched tasks (started,
    attempted, done, missed, rescheduled) and past ones are never changed, and
    an occurrence that such a task covers gets no second task. Tasks caused
    by events (complaints, survey answers, through :func:`trigger_task`) are
    cancelled only when their rule is gone: their event is not replayed.

Occurrences
    A recurrence starts on the plan's first day at the rule's time of day,
    local to the customer (``Customer.timezone``); each occurrence is a local
    wall time made an instant by zoneinfo (``fold=0``: a time skipped by a
    spring-forward change reads with the offset before it, a repeated one is
    its first occurrence). A birthday rule has one occurrence a year, on the
    birthday at the time of day (February 29 is February 28 in other years); a
    purchase rule one per purchase, ``days`` local days after the purchase day
    at the time of day. Occurrences count when their nominal instant is in
    ``[horizon start, horizon end)``. Each is placed by
    :func:`~csdomain.revisits.placement.place`, not before ``now``, with the
    customer's live tasks and those placed earlier in the same run kept at
    the window's minimum gap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

import attrs

from csdomain._kernel.time import UTC, ensure_aware, zone
from csdomain.calendars import BusinessCalendar
from csdomain.conditions import Facts
from csdomain.customers import Customer
from csdomain.errors import NotFoundError, ValidationError
from csdomain.revisits.events import TaskEvent, TaskEventKind
from csdomain.revisits.history import CustomerHistory, birthday_in
from csdomain.revisits.placement import ContactState, Placement, Refusal, RefusalReason, place
from csdomain.revisits.plans import Anchor, RevisitPlan, RevisitRule, TriggerKind
from csdomain.revisits.recurrence import Recurrence
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import CancelReason, TaskState

__all__ = [
    "TRIGGER_HORIZON",
    "MaterializePlan",
    "materialize",
    "replacement_key",
    "task_key",
    "trigger_key",
    "trigger_nominal",
    "trigger_task",
]

#: How far after its nominal instant :func:`trigger_task` looks for a place.
TRIGGER_HORIZON: Final = timedelta(days=90)
#: The triggers materialize expands itself; the others come as events.
_EXPANDED: Final = frozenset({TriggerKind.BIRTHDAY, TriggerKind.PURCHASE})
_ONE_DAY: Final = timedelta(days=1)


# -- keys -----------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    text = "\x1f".join(parts)
    return "rvt_" + hashlib.sha256(text.encode()).hexdigest()[:20]


def task_key(
    plan_name: str,
    rule_name: str,
    customer_id: str,
    nominal: datetime,
    *,
    fingerprint: str = "",
) -> str:
    """The key of the task of ``rule_name`` in ``plan_name`` for ``customer_id`` at the
    ``nominal`` instant, under the rule's ``fingerprint``: ``"rvt_"`` and 20 hex digits
    of a SHA-256, the same in every run and process.

    >>> from datetime import datetime, timezone
    >>> task_key("vip-care", "monthly", "cus_1", datetime(2026, 10, 1, 2, tzinfo=timezone.utc))
    'rvt_17e35cd04ba547785c1c'
    """
    at = ensure_aware(nominal, "task_key", "nominal").astimezone(UTC)
    return _digest("at", plan_name, rule_name, customer_id, at.isoformat(), fingerprint)


def trigger_key(
    plan_name: str, rule_name: str, customer_id: str, cause: str, *, fingerprint: str = ""
) -> str:
    """The key of the task a ``cause`` (an order, ticket or survey response id) makes for
    ``customer_id`` under ``rule_name`` of ``plan_name`` (see :func:`task_key`)."""
    return _digest("cause", plan_name, rule_name, customer_id, cause, fingerprint)


def replacement_key(key: str) -> str:
    """The key of the task that takes over the occurrence of task ``key`` after ``key`` was
    cancelled because the customer withdrew consent on its channel (deterministic, so
    materializing again finds it)."""
    return _digest("replaces", key)


_WITHDRAWN: Final = CancelReason.CONSENT_WITHDRAWN


# -- the result -----------------------------------------------------------------------


@attrs.frozen
class MaterializePlan:
    """What :func:`materialize` found for one customer.

    ``new``: tasks to add (state scheduled); ``cancel``: ``(task id, reason)`` of
    stored tasks to cancel; ``refused``: ``(rule name, nominal instant, reason)``
    of occurrences that could not be placed; ``kept``: how many occurrences
    stored tasks already cover.
    """

    new: tuple[RevisitTask, ...] = ()
    cancel: tuple[tuple[str, CancelReason], ...] = ()
    refused: tuple[tuple[str, datetime, RefusalReason], ...] = ()
    kept: int = 0

    @property
    def empty(self) -> bool:
        """True when nothing is to be added or cancelled."""
        return not self.new and not self.cancel

    def applied(self, existing: Sequence[RevisitTask], at: datetime) -> tuple[RevisitTask, ...]:
        """``existing`` with the cancellations made at ``at``, then the new tasks: what a
        store holds once it has saved this result."""
        reasons = dict(self.cancel)
        kept = tuple(
            task.cancel(reasons[task.id], at) if task.id in reasons else task for task in existing
        )
        return kept + self.new


# -- occurrences ----------------------------------------------------------------------


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _instant(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


@lru_cache(maxsize=8192)
def _recurring(
    text: str, start: datetime, timezone: str, lo: datetime, hi: datetime
) -> tuple[datetime, ...]:
    """The nominal instants in ``[lo, hi)`` of the recurrence ``text`` started at the
    local ``start``, in ``timezone``; shared by every customer of the zone."""
    tz = zone(timezone)
    # a day's margin each side: the exact bounds are applied to the instants
    local = Recurrence(text).occurrences(
        start, _local(lo, tz) - _ONE_DAY, _local(hi, tz) + _ONE_DAY
    )
    return tuple(at for at in (_instant(t, tz) for t in local) if lo <= at < hi)


def _completed_at(task: RevisitTask) -> datetime | None:
    for event in reversed(task.timeline):
        if event.kind is TaskEventKind.COMPLETED:
            return event.at
    return None


def _occurrences(
    plan: RevisitPlan,
    rule: RevisitRule,
    customer: Customer,
    tasks: Sequence[RevisitTask],
    lo: datetime,
    hi: datetime,
) -> Iterator[tuple[datetime, str | None]]:
    """``(nominal instant, cause)`` of each occurrence of ``rule`` in ``[lo, hi)``."""
    tz = zone(customer.timezone)
    if rule.recurrence is not None:
        found = _recurring(
            rule.recurrence.rrule, rule.start(plan.starts_on), customer.timezone, lo, hi
        )
        if rule.anchor is Anchor.COMPLETION:
            done = [
                at
                for t in tasks
                if t.rule == rule.name and t.state is TaskState.DONE
                for at in (_completed_at(t),)
                if at is not None
            ]
            if done:
                resume = _instant(_local(max(done), tz) + rule.recurrence.step, tz)
                found = tuple(at for at in found if at >= resume)
        for at in found:
            yield at, None
        return
    trigger = rule.trigger
    assert trigger is not None  # a rule has a recurrence or a trigger
    if trigger.kind is TriggerKind.BIRTHDAY and customer.birthday is not None:
        for year in range(_local(lo, tz).year, _local(hi, tz).year + 1):
            day = birthday_in(customer.birthday, year)
            at = _instant(datetime.combine(day, rule.time_of_day), tz)
            if lo <= at < hi:
                yield at, None
    elif trigger.kind is TriggerKind.PURCHASE:
        days = timedelta(days=trigger.days or 0)
        for purchase in customer.purchases:
            day = purchase.purchased_at.astimezone(tz).date() + days
            at = _instant(datetime.combine(day, rule.time_of_day), tz)
            if lo <= at < hi:
                yield at, purchase.order_id


# -- building tasks -------------------------------------------------------------------


def _new_task(
    plan: RevisitPlan,
    rule: RevisitRule,
    customer: Customer,
    key: str,
    nominal: datetime,
    cause: str | None,
    placed: Placement,
    now: datetime,
) -> RevisitTask:
    """The new task, through the checked constructor (for event triggers)."""
    return RevisitTask.schedule(
        id=key,
        plan=plan.name,
        rule=rule.name,
        customer_id=customer.id,
        purpose=rule.purpose,
        nominal_at=nominal,
        due_at=placed.at,
        form=placed.form,
        channel=placed.channel,
        at=now,
        forms=rule.forms,
        plan_version=plan.version,
        rule_fingerprint=plan.fingerprint(rule.name),
        max_attempts=rule.retry.max_attempts,
        script=rule.script,
        questionnaire=rule.questionnaire,
        group_id=rule.group_id,
        role=rule.role,
        cause=cause,
    )


def _unchecked_constructor(cls: type) -> Callable[..., Any]:
    """A function setting every field of the attrs class ``cls`` from keyword arguments,
    without converters or checks (a missing or unknown field is a TypeError)."""
    names = [a.name for a in attrs.fields(cls)]
    lines = "".join(f"    _set(o, {name!r}, {name})\n" for name in names)
    source = f"def build(*, {', '.join(names)}):\n    o = _new(_cls)\n{lines}    return o\n"
    namespace: dict[str, Any] = {"_new": object.__new__, "_set": object.__setattr__, "_cls": cls}
    exec(source, namespace)  # our own text, made of the class's field names
    return cast(Callable[..., Any], namespace["build"])


_event_unchecked = _unchecked_constructor(TaskEvent)
_task_unchecked = _unchecked_constructor(RevisitTask)


def _scheduled_task(
    plan: RevisitPlan,
    rule: RevisitRule,
    customer: Customer,
    key: str,
    nominal: datetime,
    cause: str | None,
    placed: Placement,
    now: datetime,
) -> RevisitTask:
    """What :func:`_new_task` builds, without checking again values checked already.

    Every value comes from a checked plan, rule and customer, from the key and from
    :func:`place` (UTC instants inside the horizon), so the task's checks would pass;
    materializing builds hundreds of thousands of tasks, and the checks (a replay of the
    timeline included) would cost most of the time. The tests hold the two paths equal.
    """
    due_at = placed.at.astimezone(UTC)
    event = _event_unchecked(
        kind=TaskEventKind.SCHEDULED,
        at=now,
        agent_id=None,
        outcome=None,
        note=None,
        due_at=due_at,
        form=placed.form,
        channel=placed.channel,
        attempt=None,
        reason=None,
        ticket_id=None,
    )
    task: RevisitTask = _task_unchecked(
        id=key,
        plan=plan.name,
        plan_version=plan.version,
        rule=rule.name,
        rule_fingerprint=plan.fingerprint(rule.name),
        customer_id=customer.id,
        purpose=rule.purpose,
        script=rule.script,
        questionnaire=rule.questionnaire,
        group_id=rule.group_id,
        role=rule.role,
        nominal_at=nominal,
        forms=rule.forms,
        max_attempts=rule.retry.max_attempts,
        cause=cause,
        state=TaskState.SCHEDULED,
        attempts=0,
        outcome=None,
        ticket_id=None,
        cancel_reason=None,
        assignee_id=None,
        due_at=due_at,
        form=placed.form,
        channel=placed.channel,
        timeline=(event,),
    )
    return task


def _untouched(task: RevisitTask, now: datetime) -> bool:
    return task.state is TaskState.SCHEDULED and task.attempts == 0 and task.due_at > now


def _is_expanded(rule: RevisitRule) -> bool:
    return rule.recurrence is not None or (
        rule.trigger is not None and rule.trigger.kind in _EXPANDED
    )


def _stale(
    task: RevisitTask,
    rule: RevisitRule | None,
    plan: RevisitPlan,
    matching: set[str],
    wanted: dict[str, tuple[RevisitRule, datetime, str | None]],
    lo: datetime,
    hi: datetime,
) -> bool:
    """Whether an untouched stored task no longer belongs to the plan as it is."""
    if rule is None:
        return True
    if not _is_expanded(rule):  # caused by an event, which is not replayed
        return False
    return (
        rule.name not in matching
        or task.rule_fingerprint != plan.fingerprint(rule.name)
        or (lo <= task.nominal_at < hi and task.id not in wanted)
    )


# -- materialize ----------------------------------------------------------------------


def materialize(
    plan: RevisitPlan,
    customer: Customer,
    *,
    history: CustomerHistory,
    state: ContactState,
    existing: Sequence[RevisitTask],
    horizon: tuple[datetime, datetime],
    now: datetime,
) -> MaterializePlan:
    """The tasks ``customer`` should gain and lose under ``plan`` for occurrences in
    ``horizon`` (see the module documentation).

    ``existing`` are the customer's stored tasks (tasks of other plans are
    ignored here; they count through ``state``); ``state`` is the customer's
    contact state (live tasks of every plan, last inbound messages); ``now``
    is when the tasks are scheduled and the earliest instant they land on.
    Pure and deterministic.
    """
    lo = ensure_aware(horizon[0], "materialize", "horizon[0]").astimezone(UTC)
    hi = ensure_aware(horizon[1], "materialize", "horizon[1]").astimezone(UTC)
    now = ensure_aware(now, "materialize", "now").astimezone(UTC)
    if state.customer.id != customer.id:
        raise ValidationError.single(
            "materialize",
            "state",
            f"the contact state is customer {state.customer.id}'s, not customer {customer.id}'s",
        )
    facts = Facts(customer=customer, history=history)
    mine = [t for t in existing if t.plan == plan.name and t.customer_id == customer.id]
    rules = {rule.name: rule for rule in plan.rules}
    matching = {name for name, rule in rules.items() if rule.who.holds(facts)}

    wanted: dict[str, tuple[RevisitRule, datetime, str | None]] = {}
    for name in matching:
        rule = rules[name]
        if not _is_expanded(rule):
            continue
        fingerprint = plan.fingerprint(name)
        for nominal, cause in _occurrences(plan, rule, customer, mine, lo, hi):
            key = (
                task_key(plan.name, name, customer.id, nominal, fingerprint=fingerprint)
                if cause is None
                else trigger_key(plan.name, name, customer.id, cause, fingerprint=fingerprint)
            )
            wanted[key] = (rule, nominal, cause)

    cancel: list[tuple[str, CancelReason]] = []
    covered: set[tuple[str, object]] = set()
    ids: set[str] = set()
    # Cancelled when the customer withdrew consent on its channel: the occurrence is open
    # again (on a form the customer still consents to) under the next key of the chain.
    withdrawn: set[str] = set()
    for task in mine:
        ids.add(task.id)
        if task.state is TaskState.CANCELLED and task.cancel_reason is _WITHDRAWN:
            withdrawn.add(task.id)
            continue
        rule_of = rules.get(task.rule)
        if _untouched(task, now) and _stale(task, rule_of, plan, matching, wanted, lo, hi):
            cancel.append((task.id, CancelReason.PLAN_CHANGED))
            continue
        if task.state is TaskState.CANCELLED and task.cancel_reason is CancelReason.PLAN_CHANGED:
            continue  # re-planned: its occurrence is open to the rule's current version
        covered.add((task.rule, task.nominal_at if task.cause is None else task.cause))

    if cancel:
        for task_id, _ in cancel:
            state = state.without(task_id)

    new: list[RevisitTask] = []
    refused: list[tuple[str, datetime, RefusalReason]] = []
    kept = 0
    window = plan.window
    pending: RevisitTask | None = None  # placed, not yet in ``state`` (the last needs not be)
    for key, (rule, nominal, cause) in sorted(wanted.items(), key=_by_nominal):
        while key in withdrawn:
            key = replacement_key(key)
        if key in ids or (rule.name, nominal if cause is None else cause) in covered:
            kept += 1
            continue
        if pending is not None:
            state = state.with_task(pending.due_at, pending.form, pending.channel, pending.id)
            pending = None
        placed = place(
            nominal, forms=rule.forms, window=window, state=state, earliest=now, horizon_end=hi
        )
        if isinstance(placed, Refusal):
            refused.append((rule.name, nominal, placed.reason))
            continue
        pending = _scheduled_task(plan, rule, customer, key, nominal, cause, placed, now)
        new.append(pending)
    return MaterializePlan(tuple(new), tuple(cancel), tuple(refused), kept)


def _by_nominal(item: tuple[str, tuple[RevisitRule, datetime, str | None]]) -> tuple[datetime, str]:
    key, (rule, nominal, _) = item
    return nominal, rule.name + "\x1f" + key


# -- event triggers -------------------------------------------------------------------


def _open_day(calendar: BusinessCalendar, day: date, tz: ZoneInfo) -> bool:
    start = _instant(datetime.combine(day, time(0)), tz)
    end = _instant(datetime.combine(day + _ONE_DAY, time(0)), tz)
    return next(iter(calendar.open_intervals(start, end)), None) is not None


def trigger_nominal(
    plan: RevisitPlan, rule: RevisitRule, customer: Customer, at: datetime
) -> datetime:
    """The nominal instant of the task ``rule``'s trigger makes for an event at ``at``.

    Complaint solved: the ``business_days``-th open day of the customer's
    window calendar after the local solve day (any day with open time counts,
    a make-up Sunday too; 0: the solve day itself, from the solve instant), at
    the first open instant at or after the rule's time of day. Purchase and
    survey answered: ``days`` local days after the event's day, at the rule's
    time of day. A birthday or recurring rule has no event: ``ValidationError``.
    """
    at = ensure_aware(at, "trigger_nominal", "at").astimezone(UTC)
    trigger = rule.trigger
    if trigger is None or trigger.kind is TriggerKind.BIRTHDAY:
        what = "a recurrence" if trigger is None else "a birthday trigger"
        raise ValidationError.single(
            f"RevisitRule {rule.name!r}",
            "trigger",
            f"rule {rule.name!r} has {what}, which no event triggers; events trigger "
            "complaint_solved, purchase and survey_answered rules",
        )
    tz = zone(customer.timezone)
    day = at.astimezone(tz).date()
    if trigger.kind is not TriggerKind.COMPLAINT_SOLVED:
        target = day + timedelta(days=trigger.days or 0)
        return _instant(datetime.combine(target, rule.time_of_day), tz)
    calendar = plan.window.calendar_for(customer.timezone)
    left = trigger.business_days or 0
    limit = day + timedelta(days=3660)  # a calendar must open within ten years
    while left:
        day += _ONE_DAY
        if day > limit:
            raise NotFoundError(
                "open day", day.isoformat(), f"the window of plan {plan.name!r} stays closed"
            )
        if _open_day(calendar, day, tz):
            left -= 1
    nominal = _instant(datetime.combine(day, rule.time_of_day), tz)
    return calendar.next_open(nominal if nominal > at else at)


def trigger_task(
    plan: RevisitPlan,
    rule: RevisitRule,
    customer: Customer,
    *,
    cause: str,
    at: datetime,
    state: ContactState,
    existing: Sequence[RevisitTask],
    horizon_end: datetime | None = None,
) -> RevisitTask | Refusal:
    """The task an event (``cause``: a ticket, order or survey response id, at ``at``)
    makes for ``customer`` under ``rule`` of ``plan``, or why it cannot be placed.

    The nominal instant is :func:`trigger_nominal`'s; the task is placed there or
    later, not before ``at``, up to ``horizon_end`` (default
    :data:`TRIGGER_HORIZON` after the nominal instant). Its key comes from the
    cause (:func:`trigger_key`), so the same event twice gives the task already in
    ``existing`` (whatever its state) rather than a second one. Whether the
    rule's ``who`` and the trigger's condition hold is the caller's to check.
    """
    if plan.rule(rule.name) != rule:
        raise ValidationError.single(
            f"RevisitPlan {plan.name!r}",
            "rules",
            f"rule {rule.name!r} is not this plan's version of the rule",
        )
    at = ensure_aware(at, "trigger_task", "at").astimezone(UTC)
    # Event-caused tasks are never re-planned, so their key leaves the fingerprint out: the
    # same event after an edit of the plan still finds its task.
    expanded = _is_expanded(rule)
    fingerprint = plan.fingerprint(rule.name) if expanded else ""
    key = trigger_key(plan.name, rule.name, customer.id, cause, fingerprint=fingerprint)
    for task in existing:
        same_event = task.plan == plan.name and task.rule == rule.name and task.cause == cause
        if task.id == key or (same_event and not expanded):
            return task
    nominal = trigger_nominal(plan, rule, customer, at)
    end = nominal + TRIGGER_HORIZON if horizon_end is None else horizon_end
    placed = place(
        nominal, forms=rule.forms, window=plan.window, state=state, earliest=at, horizon_end=end
    )
    if isinstance(placed, Refusal):
        return placed
    return _new_task(plan, rule, customer, key, nominal, cause, placed, at)
