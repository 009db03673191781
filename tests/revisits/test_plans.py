"""Plans and rules: validation naming the rule or plan, fingerprints, and customer history."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain.calendars import BusinessCalendar
from csdomain.conditions import Compare, Equals, Facts
from csdomain.customers import Customer, CustomerTier, Purchase
from csdomain.errors import NotFoundError, ValidationError
from csdomain.revisits.history import CustomerHistory, birthday_in
from csdomain.revisits.placement import ContactWindow
from csdomain.revisits.plans import (
    Anchor,
    RetryPolicy,
    RevisitPlan,
    RevisitRule,
    Trigger,
    TriggerKind,
)
from csdomain.revisits.recurrence import Recurrence
from csdomain.revisits.vocabulary import RevisitForm
from csdomain.testing.strategies._revisits import revisit_plans, revisit_rules, revisit_triggers

UTC = timezone.utc
_WINDOW = ContactWindow(BusinessCalendar.weekdays("desk", "Asia/Shanghai", "09:00-18:00"))


def _rule(name: str = "vip-monthly", **changes: object) -> RevisitRule:
    values: dict[str, object] = {
        "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1",
        "forms": ("phone", "sms"),
        "purpose": "Monthly VIP care call",
    }
    values.update(changes)
    return RevisitRule(name, **values)  # type: ignore[arg-type]


# -- rules ----------------------------------------------------------------------------


def test_a_rule_takes_rrule_text_and_form_values() -> None:
    rule = _rule()
    assert rule.recurrence == Recurrence("FREQ=MONTHLY;BYMONTHDAY=1")
    assert rule.forms == (RevisitForm.PHONE, RevisitForm.SMS)
    assert (rule.time_of_day, rule.duration, rule.retry) == (
        time(10, 0),
        timedelta(minutes=15),
        RetryPolicy(3, 1, True),
    )
    assert rule.start(date(2026, 1, 1)) == datetime(2026, 1, 1, 10, 0)


@pytest.mark.parametrize(
    ("changes", "path", "says"),
    [
        ({"recurrence": "FREQ=MONTHY"}, "recurrence.rrule", "dateutil says: invalid 'FREQ'"),
        ({"recurrence": "FREQ=HOURLY"}, "recurrence.rrule", "finer than a revisit can recur"),
        ({"trigger": Trigger.birthday()}, "trigger", "either a recurrence or a trigger, not both"),
        ({"recurrence": None}, "recurrence", "needs a recurrence"),
        ({"forms": ()}, "forms", "at least one form"),
        ({"forms": ("phone", "phone")}, "forms[1]", "listed twice"),
        ({"forms": ("fax",)}, "forms[0]", "expected a RevisitForm"),
        ({"forms": ("questionnaire",)}, "questionnaire", "needs questionnaire"),
        ({"time_of_day": time(10, tzinfo=UTC)}, "time_of_day", "without a zone"),
        ({"duration": timedelta(0)}, "duration", "positive"),
    ],
)
def test_a_bad_rule_is_an_error_naming_the_rule(
    changes: dict[str, object], path: str, says: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _rule("vip-monthly", **changes)
    error = raised.value
    assert error.subject == "RevisitRule 'vip-monthly'"
    assert str(error).startswith("invalid RevisitRule 'vip-monthly': ")
    assert path in error.paths
    assert any(says in p.message for p in error.problems)


_BAD_CHANGES = st.sampled_from(
    [
        {"recurrence": "FREQ=SOMETIMES"},
        {"recurrence": "FREQ=DAILY;INTERVAL=-2"},
        {"recurrence": "RRULE:FREQ=SECONDLY"},
        {"trigger": Trigger.purchase(3)},
        {"recurrence": None},
        {"forms": ()},
    ]
)


@settings(max_examples=60, deadline=None)
@given(revisit_rules(recurring=True), _BAD_CHANGES)
def test_any_rule_made_bad_is_an_error_naming_it(
    rule: RevisitRule, changes: dict[str, object]
) -> None:
    values = {a.name: getattr(rule, a.name) for a in attrs.fields(RevisitRule)}
    values.update(changes)
    name = values.pop("name")
    with pytest.raises(ValidationError) as raised:
        RevisitRule(name, **values)
    assert raised.value.subject == f"RevisitRule {rule.name!r}"
    assert str(raised.value).startswith(f"invalid RevisitRule {rule.name!r}")


def test_completion_anchors_only_recurrences() -> None:
    assert _rule(anchor="completion").anchor is Anchor.COMPLETION
    with pytest.raises(ValidationError, match="applies to recurrences only"):
        _rule(recurrence=None, trigger=Trigger.birthday(), anchor=Anchor.COMPLETION)


def test_triggers_take_their_fields_only() -> None:
    assert Trigger.purchase().days == 7
    assert Trigger.complaint_solved(5).business_days == 5
    low = Compare("customer.attributes.csat", "le", 2)
    assert Trigger.survey_answered(low).condition == low
    with pytest.raises(ValidationError, match="a purchase trigger takes no business_days"):
        Trigger(TriggerKind.PURCHASE, days=1, business_days=2)
    with pytest.raises(ValidationError, match="a complaint_solved trigger needs business_days"):
        Trigger("complaint_solved")
    with pytest.raises(ValidationError, match="at most 60"):
        Trigger.complaint_solved(61)


@settings(max_examples=100, deadline=None)
@given(revisit_rules())
def test_generated_rules_rebuild_equal(rule: RevisitRule) -> None:
    assert attrs.evolve(rule) == rule
    assert (rule.recurrence is None) != (rule.trigger is None)


@settings(max_examples=50, deadline=None)
@given(revisit_triggers())
def test_generated_triggers_rebuild_equal(trigger: Trigger) -> None:
    assert attrs.evolve(trigger) == trigger


# -- plans ----------------------------------------------------------------------------


def test_a_plan_names_its_rules_and_refuses_duplicates_naming_the_plan() -> None:
    plan = RevisitPlan(
        "vip-care", rules=(_rule("a"), _rule("b")), window=_WINDOW, starts_on=date(2026, 1, 1)
    )
    assert plan.rule("b").name == "b"
    with pytest.raises(NotFoundError, match="plan 'vip-care' has 'a', 'b'"):
        plan.rule("c")
    with pytest.raises(ValidationError) as raised:
        RevisitPlan(
            "vip-care", rules=(_rule("a"), _rule("a")), window=_WINDOW, starts_on=date(2026, 1, 1)
        )
    assert raised.value.subject == "RevisitPlan 'vip-care'"
    assert raised.value.paths == ("rules[1].name",)
    with pytest.raises(ValidationError, match="at least one RevisitRule"):
        RevisitPlan("vip-care", rules=(), window=_WINDOW, starts_on=date(2026, 1, 1))


def test_fingerprints_follow_the_rule_value_and_the_plan_version() -> None:
    plan = RevisitPlan(
        "vip-care", rules=(_rule("a"), _rule("b")), window=_WINDOW, starts_on=date(2026, 1, 1)
    )
    same = RevisitPlan(
        "vip-care", rules=(_rule("a"), _rule("b")), window=_WINDOW, starts_on=date(2026, 1, 1)
    )
    assert plan.fingerprint("a") == same.fingerprint("a")
    assert plan.fingerprint("a") != plan.fingerprint("b")  # the name is part of the rule
    edited = attrs.evolve(plan, rules=(_rule("a", purpose="Other"), _rule("b")))
    assert edited.fingerprint("a") != plan.fingerprint("a")
    assert edited.fingerprint("b") == plan.fingerprint("b")
    assert attrs.evolve(plan, version=2).fingerprint("b") != plan.fingerprint("b")


@settings(max_examples=50, deadline=None)
@given(revisit_plans())
def test_fingerprints_are_a_function_of_value(plan: RevisitPlan) -> None:
    rebuilt = attrs.evolve(plan)
    for rule in plan.rules:
        assert rebuilt.fingerprint(rule.name) == plan.fingerprint(rule.name)
        assert len(plan.fingerprint(rule.name)) == 16


# -- history --------------------------------------------------------------------------


def _purchase(order: str, at: datetime, amount: str) -> Purchase:
    return Purchase(order, Decimal(amount), "CNY", at, "kettle")


def test_history_counts_purchases_in_their_windows() -> None:
    as_of = datetime(2026, 12, 1, tzinfo=UTC)
    customer = Customer(
        "cus_1",
        "Li Lei",
        purchases=(
            _purchase("o1", as_of - timedelta(days=90), "100.10"),  # just outside 90 days
            _purchase("o2", as_of - timedelta(days=89), "50.05"),
            _purchase("o3", as_of, "1.00"),
            _purchase("o4", as_of - timedelta(days=365), "7"),  # just outside 365 days
            _purchase("o5", as_of + timedelta(seconds=1), "9"),  # after as_of
        ),
    )
    seen = CustomerHistory(customer, as_of)
    assert (seen.purchase_count(90), seen.purchase_amount(90)) == (2, Decimal("51.05"))
    assert (seen.purchase_count(365), seen.purchase_amount(365)) == (3, Decimal("151.15"))
    facts = Facts(customer=customer, history=seen)
    assert Compare("history.purchase_count_90d", "ge", 2).holds(facts)
    assert Compare("history.purchase_amount_365d", "gt", 151.1).holds(facts)
    assert not Compare("history.purchase_amount_90d", "gt", 51.05).holds(facts)


def test_days_since_contact_count_local_days() -> None:
    customer = Customer("cus_1", "Li Lei", timezone="Asia/Shanghai")
    # 2026-11-30 23:30 Shanghai is 15:30Z; as of 2026-12-01 00:30 Shanghai: one local day
    seen = CustomerHistory(
        customer,
        datetime(2026, 11, 30, 16, 30, tzinfo=UTC),
        last_contact_at=datetime(2026, 11, 30, 15, 30, tzinfo=UTC),
    )
    assert seen.days_since_contact == 1
    assert CustomerHistory(customer, datetime(2026, 12, 1, tzinfo=UTC)).days_since_contact is None
    never = Facts(customer=customer, history=CustomerHistory(customer, seen.as_of))
    assert not Compare("history.days_since_contact", "ge", 0).holds(never)


def test_days_to_birthday_with_february_29() -> None:
    leapling = Customer("cus_1", "Li Lei", birthday=date(2000, 2, 29), timezone="Asia/Shanghai")
    assert birthday_in(date(2000, 2, 29), 2027) == date(2027, 2, 28)
    assert birthday_in(date(2000, 2, 29), 2028) == date(2028, 2, 29)
    # 2027-02-27 16:00Z is already the 28th in Shanghai: the birthday, 0 days
    assert CustomerHistory(leapling, datetime(2027, 2, 27, 16, tzinfo=UTC)).days_to_birthday == 0
    assert CustomerHistory(leapling, datetime(2027, 2, 27, 15, tzinfo=UTC)).days_to_birthday == 1
    # the day after: next year's (a leap year, so February 29)
    after = CustomerHistory(leapling, datetime(2027, 3, 1, 4, tzinfo=UTC))
    assert after.days_to_birthday == (date(2028, 2, 29) - date(2027, 3, 1)).days
    nobody = Customer("cus_2", "Han Meimei")
    assert CustomerHistory(nobody, datetime(2027, 3, 1, tzinfo=UTC)).days_to_birthday is None


def test_who_reads_customer_and_history_together() -> None:
    vip = Customer("cus_1", "Li Lei", tier=CustomerTier.VIP)
    rule = _rule(who=Equals("customer.tier", "vip"))
    history = CustomerHistory(vip, datetime(2026, 12, 1, tzinfo=UTC))
    assert rule.who.holds(Facts(customer=vip, history=history))
    standard = attrs.evolve(vip, tier=CustomerTier.STANDARD)
    assert not rule.who.holds(Facts(customer=standard, history=history))
