"""Materializing plans: idempotence, re-planning only future untouched tasks, exact instants."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from csdomain.calendars import BusinessCalendar, ExtraWorkday, Holiday
from csdomain.conditions import ALWAYS, Equals
from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier, Purchase
from csdomain.errors import ValidationError
from csdomain.revisits.history import CustomerHistory
from csdomain.revisits.materialize import (
    MaterializePlan,
    materialize,
    task_key,
    trigger_key,
    trigger_nominal,
    trigger_task,
)
from csdomain.revisits.placement import ContactState, ContactWindow, RefusalReason
from csdomain.revisits.plans import Anchor, RevisitPlan, RevisitRule, Trigger, TriggerKind
from csdomain.revisits.tasks import RevisitTask
from csdomain.revisits.vocabulary import CancelReason, Outcome, RevisitForm, TaskState
from csdomain.testing.strategies import customers
from csdomain.testing.strategies._revisits import revisit_plans, revisit_rules

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
_SINCE = datetime(2025, 1, 1, tzinfo=UTC)
_HOURS = ("09:00-12:00", "13:30-18:00")

# China's 2025 National Day: October 1-8 off, Sunday September 28 and Saturday October 11
# worked instead (调休).
_CN_DESK = BusinessCalendar.weekdays(
    "cn-desk",
    "Asia/Shanghai",
    *_HOURS,
    holidays=[Holiday(date(2025, 10, d), "National Day") for d in range(1, 9)],
    extra_workdays=[
        ExtraWorkday(date(2025, 9, 28), "make-up day", hours=_HOURS),
        ExtraWorkday(date(2025, 10, 11), "make-up day", hours=_HOURS),
    ],
)
_WINDOW = ContactWindow(_CN_DESK)


def _consented(channel: str, address: str) -> ContactPoint:
    return ContactPoint(channel, address, consent=Consent.GIVEN, consent_changed_at=_SINCE)


def _customer(zone: str = "Asia/Shanghai", **changes: object) -> Customer:
    values: dict[str, object] = {
        "tier": CustomerTier.VIP,
        "timezone": zone,
        "contact_points": (
            _consented("phone_hotline", "+86 138 0013 8000"),
            _consented("email", "li@example.com"),
        ),
    }
    values.update(changes)
    return Customer("cus_1", "Li Lei", **values)  # type: ignore[arg-type]


_MONTHLY = RevisitRule(
    "vip-monthly",
    who=Equals("customer.tier", "vip"),
    recurrence="FREQ=MONTHLY;BYMONTHDAY=1",
    forms=("phone", "email"),
    purpose="Monthly VIP care call",
)
_COMPLAINT = RevisitRule(
    "complaint-follow-up",
    trigger=Trigger.complaint_solved(3),
    forms=("phone",),
    purpose="Is the complaint really solved?",
)


def _plan(*rules: RevisitRule, window: ContactWindow = _WINDOW, version: int = 1) -> RevisitPlan:
    return RevisitPlan(
        "vip-care",
        rules=rules or (_MONTHLY, _COMPLAINT),
        window=window,
        starts_on=date(2025, 1, 1),
        version=version,
    )


def _run(
    plan: RevisitPlan,
    customer: Customer,
    tasks: tuple[RevisitTask, ...],
    now: datetime,
    days: int = 90,
) -> MaterializePlan:
    return materialize(
        plan,
        customer,
        history=CustomerHistory(customer, now),
        state=ContactState.from_tasks(customer, tasks),
        existing=tasks,
        horizon=(now, now + timedelta(days=days)),
        now=now,
    )


# -- worked examples on exact instants ------------------------------------------------


def test_a_vips_monthly_call_moves_off_national_day() -> None:
    now = datetime(2025, 9, 15, tzinfo=UTC)
    found = _run(_plan(), _customer(), (), now, days=60)
    october, november = found.new
    # nominal: 1 October 10:00 in Shanghai; the desk is closed until 9 October 09:00
    assert october.nominal_at == datetime(2025, 10, 1, 2, tzinfo=UTC)
    assert october.due_at == datetime(2025, 10, 9, 1, tzinfo=UTC)
    assert (october.form, october.channel) == (RevisitForm.PHONE, "phone_hotline")
    # 1 November is a Saturday: Monday 3 November 09:00
    assert november.nominal_at == datetime(2025, 11, 1, 2, tzinfo=UTC)
    assert november.due_at == datetime(2025, 11, 3, 1, tzinfo=UTC)
    assert october.id == task_key(
        "vip-care",
        "vip-monthly",
        "cus_1",
        october.nominal_at,
        fingerprint=_plan().fingerprint("vip-monthly"),
    )
    assert (october.state, october.attempts, october.timeline[0].at) == (
        TaskState.SCHEDULED,
        0,
        now,
    )
    assert (found.cancel, found.refused, found.kept) == ((), (), 0)


def test_a_customer_in_new_york_is_called_on_new_york_time() -> None:
    now = datetime(2025, 9, 15, tzinfo=UTC)
    found = _run(_plan(), _customer("America/New_York"), (), now, days=30)
    (october,) = found.new
    # 1 October 10:00 EDT (14:00Z): China's holidays are read on New York's dates, so the
    # template's National Day closes 1 October in New York too, until 9 October 09:00 EDT
    assert october.nominal_at == datetime(2025, 10, 1, 14, tzinfo=UTC)
    assert october.due_at == datetime(2025, 10, 9, 13, tzinfo=UTC)
    plain = _plan(window=ContactWindow(BusinessCalendar.weekdays("desk", "Asia/Shanghai", *_HOURS)))
    (moved,) = _run(plain, _customer("America/New_York"), (), now, days=30).new
    assert moved.due_at == datetime(2025, 10, 1, 14, tzinfo=UTC)  # 10:00 in New York: open


def test_a_complaint_follow_up_lands_on_a_make_up_sunday() -> None:
    plan = _plan()
    customer = _customer()
    # solved on Wednesday 24 September 2025, 16:00 in Shanghai: Thursday (1), Friday (2),
    # Saturday closed, Sunday 28 September worked instead (3), at 10:00
    solved = datetime(2025, 9, 24, 8, tzinfo=UTC)
    assert trigger_nominal(plan, _COMPLAINT, customer, solved) == datetime(
        2025, 9, 28, 2, tzinfo=UTC
    )
    task = trigger_task(
        plan,
        _COMPLAINT,
        customer,
        cause="tkt_42",
        at=solved,
        state=ContactState(customer),
        existing=(),
    )
    assert isinstance(task, RevisitTask)
    assert task.due_at == datetime(2025, 9, 28, 2, tzinfo=UTC)
    assert (task.cause, task.id) == (
        "tkt_42",
        trigger_key("vip-care", _COMPLAINT.name, "cus_1", "tkt_42"),
    )
    # the same event again (a re-solve after a reopen) finds the task, whatever its state
    cancelled = task.cancel(CancelReason.TICKET_REOPENED, solved + timedelta(days=1))
    again = trigger_task(
        plan,
        _COMPLAINT,
        customer,
        cause="tkt_42",
        at=solved + timedelta(days=2),
        state=ContactState(customer),
        existing=(cancelled,),
    )
    assert again is cancelled


def test_event_triggers_do_not_come_from_materialize_and_need_an_event_rule() -> None:
    plan = _plan()
    found = _run(plan, _customer(), (), datetime(2025, 9, 15, tzinfo=UTC))
    assert {t.rule for t in found.new} == {"vip-monthly"}
    with pytest.raises(ValidationError, match="which no event triggers"):
        trigger_nominal(plan, _MONTHLY, _customer(), datetime(2025, 9, 15, tzinfo=UTC))


def test_birthdays_and_purchases() -> None:
    birthday = RevisitRule(
        "birthday",
        trigger=Trigger.birthday(),
        forms=("email",),
        purpose="Happy birthday",
        time_of_day=time(9, 30),
    )
    purchase = RevisitRule(
        "after-purchase",
        trigger=Trigger.purchase(7),
        forms=("phone",),
        purpose="How is the kettle?",
    )
    window = ContactWindow(
        BusinessCalendar.always_open(timezone="Asia/Shanghai"), min_gap=timedelta(0)
    )
    plan = _plan(birthday, purchase, window=window)
    bought = datetime(2027, 2, 20, 15, tzinfo=UTC)  # 23:00 in Shanghai, 20 February
    customer = _customer(
        birthday=date(2000, 2, 29),
        purchases=(Purchase("ord_1", Decimal("199"), "CNY", bought, "kettle"),),
    )
    found = _run(plan, customer, (), datetime(2027, 2, 1, tzinfo=UTC), days=60)
    by_rule = {t.rule: t for t in found.new}
    # 28 February 2027 (no 29th) at 09:30 in Shanghai
    assert by_rule["birthday"].nominal_at == datetime(2027, 2, 28, 1, 30, tzinfo=UTC)
    # 20 February + 7 days, at 10:00 in Shanghai, keyed by the order
    assert by_rule["after-purchase"].nominal_at == datetime(2027, 2, 27, 2, tzinfo=UTC)
    assert by_rule["after-purchase"].cause == "ord_1"
    assert by_rule["after-purchase"].id == trigger_key(
        "vip-care",
        "after-purchase",
        "cus_1",
        "ord_1",
        fingerprint=plan.fingerprint("after-purchase"),
    )


def test_no_consented_form_is_a_refusal_recorded_in_the_result() -> None:
    now = datetime(2025, 9, 15, tzinfo=UTC)
    silent = _customer(contact_points=(ContactPoint("phone_hotline", "+86 138 0013 8000"),))
    found = _run(_plan(), silent, (), now, days=60)
    assert found.new == ()
    assert found.refused == (
        ("vip-monthly", datetime(2025, 10, 1, 2, tzinfo=UTC), RefusalReason.NO_FORM),
        ("vip-monthly", datetime(2025, 11, 1, 2, tzinfo=UTC), RefusalReason.NO_FORM),
    )


def test_the_state_must_be_the_customers() -> None:
    other = attrs.evolve(_customer(), id="cus_2")
    with pytest.raises(ValidationError, match="customer cus_2's, not customer cus_1's"):
        materialize(
            _plan(),
            _customer(),
            history=CustomerHistory(_customer(), _SINCE),
            state=ContactState(other),
            existing=(),
            horizon=(_SINCE, _SINCE),
            now=_SINCE,
        )


def test_a_completion_anchored_rule_waits_an_interval_after_the_task_is_done() -> None:
    rule = attrs.evolve(_MONTHLY, anchor=Anchor.COMPLETION)
    window = ContactWindow(
        BusinessCalendar.always_open(timezone="Asia/Shanghai"), min_gap=timedelta(0)
    )
    plan = _plan(rule, window=window)
    customer = _customer()
    now = datetime(2025, 9, 15, tzinfo=UTC)
    first = _run(plan, customer, (), now, days=100)
    october, november, december = first.new
    done_at = datetime(2025, 10, 20, 3, tzinfo=UTC)  # 20 October 11:00 in Shanghai
    done = october.start("agent-7", done_at).complete(Outcome.REACHED_SATISFIED, done_at)
    tasks = (done, november, december)
    again = _run(plan, customer, tasks, datetime(2025, 10, 21, tzinfo=UTC), days=100)
    # occurrences before 20 November 11:00 are skipped: November's task is re-planned away
    assert again.cancel == ((november.id, CancelReason.PLAN_CHANGED),)
    assert [t.nominal_at for t in again.new] == [datetime(2026, 1, 1, 2, tzinfo=UTC)]  # new horizon


# -- laws -----------------------------------------------------------------------------

_EXPANDED_RULES = revisit_rules(trigger_kinds=(TriggerKind.BIRTHDAY, TriggerKind.PURCHASE))
_PLANS = revisit_plans(rules=_EXPANDED_RULES)
_BUSY_PLANS = revisit_plans(rules=revisit_rules(who=st.just(ALWAYS), recurring=True))


def _now(data: st.DataObject, plan: RevisitPlan) -> datetime:
    """An instant around the plan's first day (recurrences with COUNT or UNTIL end)."""
    start = datetime.combine(plan.starts_on, time(0), tzinfo=UTC)
    return start + timedelta(minutes=data.draw(st.integers(-60 * 24 * 30, 60 * 24 * 400)))


_CUSTOMERS = customers(max_contact_points=4)


def _phoneable(customer: Customer) -> Customer:
    """``customer`` reachable on every form (the laws need tasks to place)."""
    points = tuple(
        _consented(channel, f"c{i}@example.com")
        for i, channel in enumerate(("phone_hotline", "email", "sms", "wechat_official_account"))
    )
    return attrs.evolve(customer, contact_points=points)


def _horizon_check(plan: MaterializePlan, now: datetime, days: int) -> None:
    for task in plan.new:
        assert attrs.evolve(task) == task  # the unchecked build passes every check
        assert now <= task.nominal_at < now + timedelta(days=days) or task.cause is not None
        assert task.due_at >= now


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_PLANS, _BUSY_PLANS), _CUSTOMERS, st.integers(1, 120), st.booleans(), st.data())
def test_materializing_twice_is_materializing_once(
    plan: RevisitPlan, customer: Customer, days: int, reachable: bool, data: st.DataObject
) -> None:
    now = _now(data, plan)
    if reachable:
        customer = _phoneable(customer)
    first = _run(plan, customer, (), now, days)
    _horizon_check(first, now, days)
    assert first.cancel == ()
    assert len({t.id for t in first.new}) == len(first.new)
    tasks = first.applied((), now)
    second = _run(plan, customer, tasks, now, days)
    assert second.new == () and second.cancel == ()
    assert second.kept == len(first.new)
    # The same occurrences stay refused; the reason may differ, since the second run
    # sees every task of the first (one placed after a refused occurrence can turn
    # "rate limited" into "no room before the horizon").
    assert {(rule, nominal) for rule, nominal, _ in second.refused} <= {
        (rule, nominal) for rule, nominal, _ in first.refused
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_BUSY_PLANS, _CUSTOMERS, st.integers(10, 120), st.data())
def test_editing_a_plan_replans_only_future_untouched_tasks(
    plan: RevisitPlan, customer: Customer, days: int, data: st.DataObject
) -> None:
    customer = _phoneable(customer)
    now = _now(data, plan)
    first = _run(plan, customer, (), now, days)
    assume(first.new)
    # some tasks are touched: started, or done (attempts made)
    touched_ids = data.draw(st.sets(st.sampled_from([t.id for t in first.new])))
    tasks = tuple(
        t.start("agent-7", t.due_at) if t.id in touched_ids else t for t in first.applied((), now)
    )
    later = now + timedelta(days=data.draw(st.integers(0, days)))
    edited_name = data.draw(st.sampled_from([r.name for r in plan.rules]))
    edited = attrs.evolve(
        plan,
        rules=tuple(
            attrs.evolve(r, purpose=r.purpose + " (edited)") if r.name == edited_name else r
            for r in plan.rules
        ),
    )
    replanned = _run(edited, customer, tasks, later, days)
    expected = {
        t.id
        for t in tasks
        if t.rule == edited_name and t.id not in touched_ids and t.due_at > later
    }
    assert {task_id for task_id, _ in replanned.cancel} == expected
    assert {reason for _, reason in replanned.cancel} <= {CancelReason.PLAN_CHANGED}
    # within the first horizon, a new task takes the place of a cancelled one (or of one
    # refused before); past it, any rule may have new occurrences
    by_id = {t.id: t for t in tasks}
    first_end = now + timedelta(days=days)
    open_slots = {(by_id[i].rule, by_id[i].nominal_at) for i in expected} | {
        (rule, nominal) for rule, nominal, _ in first.refused
    }
    touched_slots = {(by_id[i].rule, by_id[i].nominal_at) for i in touched_ids}
    for task in replanned.new:
        assert (task.rule, task.nominal_at) not in touched_slots
        assert task.rule_fingerprint == edited.fingerprint(task.rule)
        if task.nominal_at < first_end:
            assert (task.rule, task.nominal_at) in open_slots
    _horizon_check(replanned, later, days)
    # and once applied, the edited plan is stable
    after = replanned.applied(tasks, later)
    assert _run(edited, customer, after, later, days).empty
