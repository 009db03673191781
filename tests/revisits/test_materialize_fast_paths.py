"""The shortcuts materializing takes give what the checked, uncached paths give.

:func:`materialize` builds its tasks without re-running their checks, keeps per-plan
work (rules, task makers, occurrences per zone, birthday and horizon) across
customers, and adds placed tasks to the contact state without checking them again.
Each law here holds one shortcut equal to the slow path it replaces.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csdomain._kernel.time import ensure_aware
from csdomain.calendars import BusinessCalendar
from csdomain.conditions import ALWAYS
from csdomain.customers import Consent, ContactPoint, Customer
from csdomain.errors import ValidationError
from csdomain.revisits.history import CustomerHistory
from csdomain.revisits.materialize import MaterializePlan, materialize, task_key, trigger_key
from csdomain.revisits.placement import (
    ContactState,
    ContactWindow,
    Placement,
    _aware,
    _live_task,
)
from csdomain.revisits.plans import RevisitPlan, RevisitRule, Trigger, TriggerKind
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import RevisitForm
from csdomain.testing.strategies import customers
from csdomain.testing.strategies._common import aware_datetimes
from csdomain.testing.strategies._revisits import revisit_plans, revisit_rules

# the module, not the function the package exports under the same name
_engine = importlib.import_module("csdomain.revisits.materialize")

UTC = timezone.utc
_SINCE = datetime(2020, 1, 1, tzinfo=UTC)
_ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC")
_PLANS = st.one_of(
    revisit_plans(rules=revisit_rules(trigger_kinds=(TriggerKind.BIRTHDAY, TriggerKind.PURCHASE))),
    revisit_plans(rules=revisit_rules(who=st.just(ALWAYS), recurring=True)),
)


def _reachable(customer: Customer) -> Customer:
    """``customer`` reachable on every form, so occurrences get placed."""
    points = tuple(
        ContactPoint(channel, f"c{i}@example.com", consent=Consent.GIVEN, consent_changed_at=_SINCE)
        for i, channel in enumerate(("phone_hotline", "email", "sms", "wechat_official_account"))
    )
    return attrs.evolve(customer, contact_points=points)


@st.composite
def _crowd(draw: st.DrawFn) -> list[Customer]:
    """2-6 customers sharing a few zones and birthdays (born in different years), so the
    shared occurrences are read by several of them."""
    base = draw(st.lists(customers(max_contact_points=4), min_size=2, max_size=6))
    zones = draw(st.lists(st.sampled_from(_ZONES), min_size=1, max_size=2))
    days = draw(st.lists(st.dates(date(1950, 1, 1), date(2008, 12, 31)), min_size=1, max_size=2))
    crowd = []
    for i, customer in enumerate(base):
        day = days[i % len(days)]
        if i % 3 != 2:  # born on the same day in another year (February 29 -> 28)
            day = date(1950 + 4 * i, day.month, min(day.day, 28))
        changed = attrs.evolve(
            customer, id=f"cus_{i}", timezone=zones[i % len(zones)], birthday=day
        )
        crowd.append(_reachable(changed) if draw(st.booleans()) else changed)
    return crowd


def _now(data: st.DataObject, plan: RevisitPlan) -> datetime:
    start = datetime.combine(plan.starts_on, time(0), tzinfo=UTC)
    return start + timedelta(minutes=data.draw(st.integers(-60 * 24 * 30, 60 * 24 * 400)))


def _run(
    plan: RevisitPlan,
    customer: Customer,
    now: datetime,
    days: int,
    existing: Sequence[RevisitTask] = (),
) -> MaterializePlan:
    return materialize(
        plan,
        customer,
        history=CustomerHistory(customer, now),
        state=ContactState.from_tasks(customer, existing),
        existing=existing,
        horizon=(now, now + timedelta(days=days)),
        now=now,
    )


_SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(_PLANS, _crowd(), st.integers(1, 120), st.data())
def test_a_task_built_on_the_fast_path_equals_the_checked_one(
    plan: RevisitPlan, crowd: list[Customer], days: int, data: st.DataObject
) -> None:
    now = _now(data, plan)
    for customer in crowd:
        for task in _run(plan, customer, now, days).new:
            rule = plan.rule(task.rule)
            placed = Placement(task.due_at, task.form, task.channel)
            checked = _engine._new_task(
                plan, rule, customer, task.id, task.nominal_at, task.cause, placed, now
            )
            assert task == checked
            assert attrs.evolve(task) == task  # and it passes the public constructor
            fingerprint = plan.fingerprint(rule.name)
            key = (
                task_key(
                    plan.name, rule.name, customer.id, task.nominal_at, fingerprint=fingerprint
                )
                if task.cause is None
                else trigger_key(
                    plan.name, rule.name, customer.id, task.cause, fingerprint=fingerprint
                )
            )
            assert task.id == key


@_SETTINGS
@given(_PLANS, _crowd(), st.lists(st.integers(1, 120), min_size=1, max_size=3), st.data())
def test_what_one_customer_leaves_in_the_caches_changes_nothing_for_the_next(
    plan: RevisitPlan, crowd: list[Customer], horizons: list[int], data: st.DataObject
) -> None:
    now = _now(data, plan)
    # warm: every customer and horizon in turn on one plan object, then the same again
    # with the results applied (stored tasks in play)
    warm = [_run(plan, c, now, days) for days in horizons for c in crowd]
    again = [
        _run(plan, c, now, days, result.applied((), now))
        for (days, c), result in zip([(d, c) for d in horizons for c in crowd], warm, strict=True)
    ]
    cold: list[MaterializePlan] = []
    for days in horizons:
        for customer in crowd:
            _engine._views.clear()
            cold.append(_run(plan, customer, now, days))
    assert warm == cold
    assert all(result.empty for result in again)
    # an equal plan that is another object gets its own view, and the same results
    twin = attrs.evolve(plan)
    assert [_run(twin, c, now, days) for days in horizons for c in crowd] == warm


def test_customers_born_on_one_day_share_the_birthdays_occurrences() -> None:
    rule = RevisitRule(
        "birthday",
        trigger=Trigger.birthday(),
        forms=(RevisitForm.EMAIL,),
        purpose="Birthday greeting",
        time_of_day=time(9, 30),
    )
    window = ContactWindow(BusinessCalendar.weekdays("weekdays", "UTC", "09:00-18:00"))
    plan = RevisitPlan("care", rules=(rule,), window=window, starts_on=date(2027, 1, 1))
    now = datetime(2027, 2, 1, tzinfo=UTC)
    born = (
        (date(2000, 2, 29), "Asia/Shanghai"),
        (date(2004, 2, 29), "Asia/Shanghai"),
        (date(1990, 3, 10), "Asia/Shanghai"),
        (date(2008, 2, 29), "UTC"),
    )
    crowd = [
        _reachable(Customer(f"cus_{i}", "C", birthday=day, timezone=zone))
        for i, (day, zone) in enumerate(born)
    ]
    nominals = [[t.nominal_at for t in _run(plan, c, now, 60).new] for c in crowd]
    # 2027 is no leap year: February 28 at 09:30 local time
    shanghai = ZoneInfo("Asia/Shanghai")
    leap = datetime(2027, 2, 28, 9, 30, tzinfo=shanghai)
    assert nominals == [
        [leap],
        [leap],
        [datetime(2027, 3, 10, 9, 30, tzinfo=shanghai)],
        [datetime(2027, 2, 28, 9, 30, tzinfo=UTC)],
    ]


@given(customers(max_contact_points=4), st.lists(aware_datetimes(), max_size=4))
def test_adding_a_checked_live_task_is_with_task(
    customer: Customer, instants: list[datetime]
) -> None:
    state = ContactState.from_tasks(customer, ())
    fast = state
    for i, at in enumerate(instants):
        state = state.with_task(at, RevisitForm.SMS, "sms", f"rvt_{i}")
        fast = fast._with_live(_live_task(at.astimezone(UTC), RevisitForm.SMS, "sms", f"rvt_{i}"))
    assert fast.live_tasks == state.live_tasks
    assert fast._instants == state._instants


@given(st.one_of(aware_datetimes(), st.datetimes(), st.integers(), st.none()))
def test_the_instant_shortcut_answers_as_ensure_aware(value: object) -> None:
    def answer(check: object) -> object:
        try:
            return check(value, "materialize", "now")  # type: ignore[operator]
        except ValidationError as error:
            return str(error)

    expected = answer(ensure_aware)
    got = answer(_aware)
    assert got is expected or (isinstance(got, str) and got == expected)


def test_the_unchecked_builder_refuses_what_is_no_field_or_no_slot() -> None:
    build = _engine._unchecked_builder
    with pytest.raises(TypeError, match="has no field colour"):
        build(RevisitTask, {"colour": "red"})

    @attrs.frozen(slots=False)
    class Loose:
        a: int

    with pytest.raises(TypeError, match="is not a slot"):
        build(Loose, {})
    make = build(Placement, {"form": RevisitForm.SMS})
    at = datetime(2027, 1, 1, tzinfo=UTC)
    assert make(at=at, channel="sms") == Placement(at, RevisitForm.SMS, "sms")
    with pytest.raises(TypeError):
        make(at=at)  # a field left out
