"""Construction rules of the value objects and entities: bad input gives typed errors."""

from __future__ import annotations

import pickle
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from csdomain import (
    BUILTIN_CHANNELS,
    Agent,
    AgentGrade,
    Channel,
    ChannelDirectory,
    ChannelKind,
    ChannelTraits,
    Consent,
    ContactPoint,
    CSDomainError,
    Customer,
    CustomerTier,
    EscalationLadder,
    EscalationTier,
    Group,
    Impact,
    InvalidTransitionError,
    NotFoundError,
    Priority,
    PriorityMatrix,
    Purchase,
    Role,
    Ticket,
    Urgency,
    ValidationError,
    personal_fields,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def problems(error: ValidationError) -> dict[str, str]:
    return dict(error.problems)


# -- errors --------------------------------------------------------------------------


def test_error_hierarchy_matches_builtins() -> None:
    assert issubclass(ValidationError, ValueError)
    assert issubclass(NotFoundError, LookupError)
    assert issubclass(InvalidTransitionError, ValueError)
    for cls in (ValidationError, NotFoundError, InvalidTransitionError):
        assert issubclass(cls, CSDomainError)


def test_validation_error_lists_every_problem_and_pickles() -> None:
    error = ValidationError("Thing", [("a", "bad a"), ("b[0]", "bad b")])
    assert error.paths == ("a", "b[0]")
    assert "2 problems" in str(error) and "b[0]: bad b" in str(error)
    clone = pickle.loads(pickle.dumps(error))
    assert clone.problems == error.problems and str(clone) == str(error)
    with pytest.raises(ValueError, match="at least one problem"):
        ValidationError("Thing", [])


def test_not_found_error_names_kind_key_and_hint() -> None:
    error = NotFoundError("channel", "line", "known channels: email")
    assert str(error) == "channel 'line' not found; known channels: email"
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.kind, clone.key, str(clone)) == ("channel", "line", str(error))


# -- channels ------------------------------------------------------------------------


def test_builtin_channels_have_traits() -> None:
    assert len(ChannelKind) == len(BUILTIN_CHANNELS) == 18
    assert ChannelKind.PHONE_HOTLINE.traits.synchronous
    assert not ChannelKind.EMAIL.traits.synchronous
    assert ChannelKind.WEIBO.traits.public and ChannelKind.DOUYIN.traits.public
    assert not ChannelKind.WECHAT_OFFICIAL_ACCOUNT.traits.public
    assert ChannelKind.CHATBOT.traits.automated and not ChannelKind.WEB_CHAT.traits.automated


def test_channel_directory_resolves_builtin_and_custom_channels() -> None:
    line = Channel(key="line", name="LINE", traits=ChannelTraits(synchronous=False))
    directory = ChannelDirectory(custom=[line])
    assert directory.get("line") is line
    assert directory.get(ChannelKind.SMS).key == "sms"
    assert "line" in directory and "telegram" not in directory
    assert len(list(directory)) == 19
    with pytest.raises(NotFoundError, match="telegram"):
        directory.get("telegram")
    with pytest.raises(ValidationError, match="built-in"):
        ChannelDirectory(custom=[Channel(key="email", name="Mail", traits=line.traits)])
    with pytest.raises(ValidationError, match="duplicate"):
        directory.with_channels(line)


# -- customers -----------------------------------------------------------------------


def test_customer_lists_every_problem_with_its_path() -> None:
    with pytest.raises(ValidationError) as info:
        Customer(
            id="",
            display_name=" ",
            timezone="Mars/Olympus",
            locale="xx_YY",
            tier="gold",  # type: ignore[arg-type]
            attributes={"vip since": 2020, "ok": [1]},  # type: ignore[dict-item]
            birthday=datetime(1990, 1, 1),
        )
    found = problems(info.value)
    assert set(found) == {
        "id",
        "display_name",
        "timezone",
        "locale",
        "tier",
        "attributes['vip since']",
        "attributes['ok']",
        "birthday",
    }
    assert "Mars/Olympus" in found["timezone"]
    assert "'gold'" in found["tier"] and "'enterprise'" in found["tier"]


def test_contact_points_consent_and_do_not_contact() -> None:
    point = ContactPoint(channel=ChannelKind.SMS, address="+86 138 0000 0000")
    assert not point.contactable
    given = point.give_consent(T0)
    assert given.contactable and given.consent_changed_at == T0
    assert not given.withdraw_consent(T0 + timedelta(days=1)).contactable
    blocked = ContactPoint(
        channel="sms",
        address="x",
        consent=Consent.GIVEN,
        consent_changed_at=T0,
        do_not_contact=True,
    )
    assert not blocked.contactable
    with pytest.raises(ValidationError) as info:
        ContactPoint(channel="sms", address="x", consent=Consent.GIVEN)
    assert info.value.paths == ("consent_changed_at",)
    customer = Customer(
        id="cus_1",
        display_name="A",
        contact_points=[given, blocked.__class__(channel="email", address="a@b.c")],
    )
    assert customer.contactable_on(ChannelKind.SMS) and not customer.contactable_on("email")


def test_customer_rejects_duplicate_addresses_and_order_ids() -> None:
    point = ContactPoint(channel="email", address="a@b.c")
    with pytest.raises(ValidationError) as info:
        Customer(id="cus_1", display_name="A", contact_points=[point, point])
    assert info.value.paths == ("contact_points[1].address",)
    purchase = Purchase(
        order_id="o1", amount=Decimal("12.50"), currency="CNY", purchased_at=T0, product="Kettle"
    )
    customer = Customer(id="cus_1", display_name="A").with_purchase(purchase)
    with pytest.raises(ValidationError, match="duplicate order id"):
        customer.with_purchase(purchase)


@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 10**30])
def test_attribute_integers_fit_in_64_bits(number: int) -> None:
    assert Customer(id="c1", display_name="Li", attributes={"n": 2**63 - 1}).attributes["n"]
    with pytest.raises(ValidationError, match=r"attributes\['n'\]: integers must fit in 64 bits"):
        Customer(id="c1", display_name="Li", attributes={"n": number})


def test_purchase_amounts_are_finite_decimals_in_iso_currencies() -> None:
    with pytest.raises(ValidationError) as info:
        Purchase(
            order_id="o1",
            amount=12.5,  # type: ignore[arg-type]
            currency="RMB",
            purchased_at=datetime(2026, 1, 1),
            product="Kettle",
        )
    assert set(info.value.paths) == {"amount", "currency", "purchased_at"}
    with pytest.raises(ValidationError):
        Purchase(order_id="o1", amount=Decimal("NaN"), currency="CNY", purchased_at=T0, product="K")


def test_with_contact_point_replaces_by_address_and_keeps_the_original() -> None:
    customer = Customer(
        id="cus_1",
        display_name="A",
        contact_points=[ContactPoint(channel="email", address="a@b.c")],
    )
    updated = customer.with_contact_point(
        ContactPoint(channel="email", address="a@b.c", verified=True)
    )
    assert [cp.verified for cp in updated.contact_points] == [True]
    assert [cp.verified for cp in customer.contact_points] == [False]
    assert updated.with_attributes(level=3).attributes == {"level": 3}


def test_personal_fields_are_marked() -> None:
    assert personal_fields(Customer) == ("display_name", "contact_points", "birthday", "attributes")
    assert personal_fields(ContactPoint) == ("address",)
    assert personal_fields(Agent) == ("name",)


def test_customer_tiers_are_ordered() -> None:
    assert CustomerTier.STANDARD < CustomerTier.VIP < CustomerTier.ENTERPRISE
    assert sorted([CustomerTier.ENTERPRISE, CustomerTier.STANDARD]) == [
        CustomerTier.STANDARD,
        CustomerTier.ENTERPRISE,
    ]
    with pytest.raises(TypeError):
        _ = CustomerTier.VIP < Priority.HIGH  # type: ignore[operator]


# -- priorities ----------------------------------------------------------------------


def test_priority_order_and_itil_matrix() -> None:
    assert Priority.LOW < Priority.NORMAL < Priority.HIGH < Priority.URGENT
    matrix = PriorityMatrix.itil()
    assert matrix.priority(Impact.HIGH, Urgency.HIGH) is Priority.URGENT
    assert matrix.priority(Impact.LOW, Urgency.LOW) is Priority.LOW
    for impact in Impact:
        for urgency in Urgency:
            cell = matrix.priority(impact, urgency)
            if impact is not Impact.HIGH:
                assert cell <= matrix.priority(Impact(list(Impact)[impact.rank + 1]), urgency)


def test_priority_matrix_must_be_3x3_and_monotone() -> None:
    p = Priority
    with pytest.raises(ValidationError) as info:
        PriorityMatrix(rows=[[p.LOW] * 3, [p.LOW] * 3])
    assert info.value.paths == ("rows",)
    with pytest.raises(ValidationError) as info:
        PriorityMatrix(rows=[[p.HIGH, p.LOW, p.LOW], [p.HIGH] * 3, [p.URGENT] * 3])
    assert "rows[0][1]" in info.value.paths
    with pytest.raises(ValidationError) as info:
        PriorityMatrix(rows=[[p.LOW] * 3, [p.LOW, "high", p.LOW], [p.HIGH] * 3])  # type: ignore[arg-type]
    assert info.value.paths == ("rows[1][1]",)


# -- people --------------------------------------------------------------------------


def test_agent_checks_capacity_groups_roles_and_skills() -> None:
    agent = Agent(id="agt_1", name="Zhang", grade=AgentGrade.GOLD, groups=["grp_a", "grp_b"])
    assert agent.roles == frozenset({Role.AGENT}) and agent.groups == ("grp_a", "grp_b")
    with pytest.raises(ValidationError) as info:
        Agent(id="agt_1", name="", max_load=-1, groups=["g", "g"], skills=["has space"])
    assert set(info.value.paths) == {"name", "max_load", "skills[0]"}
    with pytest.raises(ValidationError) as info:
        Agent(id="agt_1", name="Zhang", groups=["g", "g"])
    assert info.value.paths == ("groups",)
    assert AgentGrade.STANDARD < AgentGrade.SENIOR < AgentGrade.ELITE < AgentGrade.EXPERT
    assert AgentGrade.EXPERT < AgentGrade.GOLD


def test_group_cannot_overflow_to_itself() -> None:
    group = Group(id="grp_branch", name="Branch", channels=[ChannelKind.PHONE_HOTLINE])
    assert group.serves("phone_hotline") and not group.serves("email")
    assert Group(id="grp_all", name="All").serves("email")
    with pytest.raises(ValidationError, match="itself"):
        Group(id="grp_a", name="A", overflow_to="grp_a")


def test_escalation_ladder() -> None:
    ladder = EscalationLadder.default()
    assert [t.key for t in ladder.tiers] == ["L1", "L2", "L3"]
    assert ladder.above("L1").key == "L2"  # type: ignore[union-attr]
    assert ladder.above("L3") is None
    assert ladder.get("L3").external
    association = EscalationTier(key="consumer_assoc", name="Consumer association", external=True)
    extended = ladder.with_tier(association)
    assert extended.level("consumer_assoc") == 3
    assert ladder.with_tier(association, after="L1").level("consumer_assoc") == 1
    with pytest.raises(NotFoundError, match="L9"):
        ladder.level("L9")
    with pytest.raises(ValidationError, match="duplicate"):
        ladder.with_tier(EscalationTier(key="L2", name="Again"))
    with pytest.raises(ValidationError, match="at least one"):
        EscalationLadder(tiers=[])


def test_dates_are_dates() -> None:
    customer = Customer(id="cus_1", display_name="A", birthday=date(1990, 2, 28))
    assert customer.birthday == date(1990, 2, 28)


def test_one_number_on_two_channels_is_two_contact_points() -> None:
    hotline = ContactPoint(channel="phone_hotline", address="+86 138 0000 0000")
    sms = ContactPoint(channel="sms", address="+86 138 0000 0000").give_consent(T0)
    customer = Customer(id="cus_1", display_name="A", contact_points=[hotline])
    customer = customer.with_contact_point(sms)
    assert len(customer.contact_points) == 2
    assert customer.contactable_on("sms") and not customer.contactable_on("phone_hotline")
    assert "subject" in personal_fields(Ticket)


@pytest.mark.parametrize("spelling", ["zh-CN", "zh_CN", "zh-Hant-TW", "en-GB"])
def test_customer_locales_accept_the_spellings_browsers_send(spelling: str) -> None:
    assert Customer(id="cus_1", display_name="A", locale=spelling).locale == spelling


def test_a_duplicate_contact_point_is_named_by_position_never_shown() -> None:
    point = ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="+86 138 0013 8000")
    with pytest.raises(ValidationError) as info:
        Customer(id="cus_1", display_name="Li", contact_points=(point, point))
    assert "the same as [0]" in str(info.value)
    assert "138" not in str(info.value)
