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
import types
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
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
from csdomain.revisits.placement import (
    ContactState,
    Placement,
    Refusal,
    RefusalReason,
    _aware,
    _live_task,
    place,
)
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
    at = _aware(nominal, "task_key", "nominal").astimezone(UTC)
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


#: An occurrence: its nominal instant (UTC), that instant's ISO text (for its key) and
#: its cause (an order id; None for a recurrence or a birthday).
_Occurrence = tuple[datetime, str, str | None]


def _recurring(
    text: str, start: datetime, tz: ZoneInfo, lo: datetime, hi: datetime
) -> tuple[_Occurrence, ...]:
    """The occurrences in ``[lo, hi)`` of the recurrence ``text`` started at the local
    ``start``, in the zone ``tz``; shared by every customer of the zone."""
    # a day's margin each side: the exact bounds are applied to the instants
    local = Recurrence(text).occurrences(
        start, _local(lo, tz) - _ONE_DAY, _local(hi, tz) + _ONE_DAY
    )
    return tuple(
        (at, at.isoformat(), None) for at in (_instant(t, tz) for t in local) if lo <= at < hi
    )


def _birthdays(
    birthday: date, at: time, tz: ZoneInfo, lo: datetime, hi: datetime
) -> tuple[_Occurrence, ...]:
    """The birthday's occurrences in ``[lo, hi)``: the local day each year at ``at``."""
    found = []
    for year in range(_local(lo, tz).year, _local(hi, tz).year + 1):
        nominal = _instant(datetime.combine(birthday_in(birthday, year), at), tz)
        if lo <= nominal < hi:
            found.append((nominal, nominal.isoformat(), None))
    return tuple(found)


def _completed_at(task: RevisitTask) -> datetime | None:
    for event in reversed(task.timeline):
        if event.kind is TaskEventKind.COMPLETED:
            return event.at
    return None


def _occurrences(
    view: _PlanView,
    rule: RevisitRule,
    customer: Customer,
    tasks: Sequence[RevisitTask],
    lo: datetime,
    hi: datetime,
) -> Sequence[_Occurrence]:
    """Each occurrence of ``rule`` in ``[lo, hi)`` for ``customer``."""
    if rule.recurrence is not None:
        found = view.recurring(rule, customer.timezone, lo, hi)
        if rule.anchor is Anchor.COMPLETION:
            done = [
                at
                for t in tasks
                if t.rule == rule.name and t.state is TaskState.DONE
                for at in (_completed_at(t),)
                if at is not None
            ]
            if done:
                tz = zone(customer.timezone)
                resume = _instant(_local(max(done), tz) + rule.recurrence.step, tz)
                found = tuple(o for o in found if o[0] >= resume)
        return found
    trigger = rule.trigger
    assert trigger is not None  # a rule has a recurrence or a trigger
    if trigger.kind is TriggerKind.BIRTHDAY:
        if customer.birthday is None:
            return ()
        return view.birthdays(rule, customer.birthday, customer.timezone, lo, hi)
    if trigger.kind is not TriggerKind.PURCHASE:
        return ()
    tz = zone(customer.timezone)
    days = timedelta(days=trigger.days or 0)
    purchases = []
    for purchase in customer.purchases:
        day = purchase.purchased_at.astimezone(tz).date() + days
        at = _instant(datetime.combine(day, rule.time_of_day), tz)
        if lo <= at < hi:
            purchases.append((at, "", purchase.order_id))
    return purchases


# -- building tasks -------------------------------------------------------------------


def _rule_fields(plan: RevisitPlan, rule: RevisitRule) -> dict[str, Any]:
    """The fields a task takes from its plan and rule (both paths below use them)."""
    return {
        "plan": plan.name,
        "plan_version": plan.version,
        "rule": rule.name,
        "rule_fingerprint": plan.fingerprint(rule.name),
        "purpose": rule.purpose,
        "script": rule.script,
        "questionnaire": rule.questionnaire,
        "group_id": rule.group_id,
        "role": rule.role,
        "forms": rule.forms,
        "max_attempts": rule.retry.max_attempts,
    }


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
        customer_id=customer.id,
        nominal_at=nominal,
        due_at=placed.at,
        form=placed.form,
        channel=placed.channel,
        at=now,
        cause=cause,
        **_rule_fields(plan, rule),
    )


def _unchecked_builder(cls: type, fixed: Mapping[str, object]) -> Callable[..., Any]:
    """A function making an instance of the slotted attrs class ``cls``: the fields named
    in ``fixed`` take its values, the others come as keyword arguments (a missing or
    unknown one is a TypeError). No converter or check runs."""
    names = [a.name for a in attrs.fields(cls)]
    unknown = sorted(set(fixed) - set(names))
    if unknown:
        raise TypeError(f"{cls.__qualname__} has no field {', '.join(unknown)}")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = []
    for i, name in enumerate(names):
        slot = cls.__dict__.get(name)
        if not isinstance(slot, types.MemberDescriptorType):
            raise TypeError(f"{cls.__qualname__}.{name} is not a slot")
        # the slot's own setter: what object.__setattr__ finds, without looking it up
        namespace[f"_set{i}"] = slot.__set__
        if name in fixed:
            namespace[f"_fixed{i}"] = fixed[name]
        lines.append(f"    _set{i}(o, {f'_fixed{i}' if name in fixed else name})\n")
    params = ", ".join(n for n in names if n not in fixed)
    source = f"def build({'*, ' + params if params else ''}):\n    o = _new(_cls)\n"
    exec(source + "".join(lines) + "    return o\n", namespace)  # our text: field names
    return cast(Callable[..., Any], namespace["build"])


_scheduled_event = _unchecked_builder(
    TaskEvent,
    {
        "kind": TaskEventKind.SCHEDULED,
        "agent_id": None,
        "outcome": None,
        "note": None,
        "attempt": None,
        "reason": None,
        "ticket_id": None,
    },
)

#: Makes a new task of one rule: (key, customer id, nominal instant, cause, placement, now).
_TaskMaker = Callable[[str, str, datetime, str | None, Placement, datetime], RevisitTask]


def _task_maker(plan: RevisitPlan, rule: RevisitRule) -> _TaskMaker:
    """What :func:`_new_task` builds for ``rule``, without checking again values checked
    already.

    Every value comes from a checked plan, rule and customer, from the key and from
    :func:`place` (UTC instants inside the horizon), so the task's checks would pass;
    materializing builds hundreds of thousands of tasks, and the checks (a replay of the
    timeline included) would cost most of the time. The tests hold the two paths equal.
    """
    build = _unchecked_builder(
        RevisitTask,
        {
            **_rule_fields(plan, rule),
            "state": TaskState.SCHEDULED,
            "attempts": 0,
            "outcome": None,
            "ticket_id": None,
            "cancel_reason": None,
            "assignee_id": None,
        },
    )

    def make(
        key: str,
        customer_id: str,
        nominal: datetime,
        cause: str | None,
        placed: Placement,
        now: datetime,
    ) -> RevisitTask:
        at, form, channel = placed.at, placed.form, placed.channel
        due_at = at if at.tzinfo is UTC else at.astimezone(UTC)
        event = _scheduled_event(at=now, due_at=due_at, form=form, channel=channel)
        task: RevisitTask = build(
            id=key,
            customer_id=customer_id,
            nominal_at=nominal,
            cause=cause,
            due_at=due_at,
            form=form,
            channel=channel,
            timeline=(event,),
        )
        return task

    return make


# -- what a run shares across customers -------------------------------------------------


class _PlanView:
    """The work materializing one plan shares across its customers: the rules by name,
    the expanded ones, a task maker per rule, and the occurrences of each recurrence per
    zone and of each birthday per zone and day, per horizon."""

    __slots__ = ("_occurrences", "expanded", "makers", "plan", "rules")

    def __init__(self, plan: RevisitPlan) -> None:
        self.plan = plan
        self.rules = {rule.name: rule for rule in plan.rules}
        self.expanded = tuple(rule for rule in plan.rules if _is_expanded(rule))
        self.makers = {rule.name: _task_maker(plan, rule) for rule in plan.rules}
        self._occurrences: dict[tuple[object, ...], tuple[_Occurrence, ...]] = {}

    def _keep(
        self, key: tuple[object, ...], found: tuple[_Occurrence, ...]
    ) -> tuple[_Occurrence, ...]:
        if len(self._occurrences) >= _OCCURRENCES_KEPT:
            self._occurrences.clear()  # a long run over many horizons: start again
        self._occurrences[key] = found
        return found

    def recurring(
        self, rule: RevisitRule, timezone: str, lo: datetime, hi: datetime
    ) -> tuple[_Occurrence, ...]:
        """The occurrences of the recurring ``rule`` in ``[lo, hi)`` in ``timezone``."""
        key = (rule.name, timezone, lo, hi)
        found = self._occurrences.get(key)
        if found is None:
            assert rule.recurrence is not None
            start = rule.start(self.plan.starts_on)
            found = _recurring(rule.recurrence.rrule, start, zone(timezone), lo, hi)
            self._keep(key, found)
        return found

    def birthdays(
        self, rule: RevisitRule, birthday: date, timezone: str, lo: datetime, hi: datetime
    ) -> tuple[_Occurrence, ...]:
        """The occurrences of the birthday rule ``rule`` in ``[lo, hi)`` in ``timezone``
        (the year of birth does not matter, so customers born on one day share them)."""
        key = (rule.name, timezone, lo, hi, birthday.month, birthday.day)
        found = self._occurrences.get(key)
        if found is None:
            found = _birthdays(birthday, rule.time_of_day, zone(timezone), lo, hi)
            self._keep(key, found)
        return found


#: How many plans keep their views, and how many occurrence lists a view keeps.
_VIEWS_KEPT: Final = 64
_OCCURRENCES_KEPT: Final = 16_384
# By the plan's id, the plan kept beside it (so the id is not reused while it is a key).
_views: dict[int, _PlanView] = {}


def _view(plan: RevisitPlan) -> _PlanView:
    found = _views.get(id(plan))
    if found is None or found.plan is not plan:
        if len(_views) >= _VIEWS_KEPT:
            _views.clear()
        found = _views[id(plan)] = _PlanView(plan)
    return found


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
    lo = _aware(horizon[0], "materialize", "horizon[0]").astimezone(UTC)
    hi = _aware(horizon[1], "materialize", "horizon[1]").astimezone(UTC)
    now = _aware(now, "materialize", "now").astimezone(UTC)
    if state.customer.id != customer.id:
        raise ValidationError.single(
            "materialize",
            "state",
            f"the contact state is customer {state.customer.id}'s, not customer {customer.id}'s",
        )
    view = _view(plan)
    facts = Facts(customer=customer, history=history)
    mine = [t for t in existing if t.plan == plan.name and t.customer_id == customer.id]
    rules = view.rules
    matching = {rule.name for rule in plan.rules if rule.who.holds(facts)}

    wanted: dict[str, tuple[RevisitRule, datetime, str | None]] = {}
    for rule in view.expanded:
        name = rule.name
        if name not in matching:
            continue
        fingerprint = plan.fingerprint(name)
        for nominal, text, cause in _occurrences(view, rule, customer, mine, lo, hi):
            key = (
                _digest("at", plan.name, name, customer.id, text, fingerprint)  # task_key's
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
            # our own checked values: the task's instant (UTC), form, channel and key
            added = _live_task(pending.due_at, pending.form, pending.channel, pending.id)
            state = state._with_live(added)
            pending = None
        placed = place(
            nominal, forms=rule.forms, window=window, state=state, earliest=now, horizon_end=hi
        )
        if isinstance(placed, Refusal):
            refused.append((rule.name, nominal, placed.reason))
            continue
        pending = view.makers[rule.name](key, customer.id, nominal, cause, placed, now)
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
