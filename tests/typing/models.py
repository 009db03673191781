"""What mypy sees of the model: channels, customers, people, priorities, clock and ids."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import assert_type

from csdomain import (
    Agent,
    AgentGrade,
    Channel,
    ChannelDirectory,
    ChannelKind,
    ChannelTraits,
    Clock,
    Consent,
    ContactPoint,
    Customer,
    CustomerTier,
    EscalationLadder,
    EscalationTier,
    FrozenClock,
    Group,
    IdGenerator,
    Impact,
    Priority,
    PriorityMatrix,
    Purchase,
    Role,
    SequentialIds,
    SystemClock,
    UlidIds,
    Urgency,
    personal_fields,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def channels() -> None:
    line = Channel(key="line", name="LINE", traits=ChannelTraits(synchronous=False))
    directory = ChannelDirectory(custom=[line])
    assert_type(directory.custom, tuple[Channel, ...])
    assert_type(directory.get(ChannelKind.EMAIL), Channel)
    assert_type(directory.get("line"), Channel)
    assert_type(directory.with_channels(line), ChannelDirectory)
    assert_type(ChannelKind.WEIBO.traits.public, bool)
    assert_type([c.key for c in directory], list[str])

    ChannelDirectory(custom=line)  # type: ignore[arg-type]
    ChannelDirectory(custom=["line"])  # type: ignore[list-item]
    Channel(key="line", name="LINE")  # type: ignore[call-arg]
    ChannelTraits(synchronous="yes")  # type: ignore[arg-type]


def contact_points() -> None:
    email = ContactPoint(channel=ChannelKind.EMAIL, address="li@example.com")
    phone = ContactPoint(channel="sms", address="+86 138 0013 8000", consent=Consent.GIVEN)
    assert_type(email.channel, str)
    assert_type(phone.consent_changed_at, datetime | None)
    assert_type(email.give_consent(AT), ContactPoint)
    assert_type(email.contactable, bool)

    ContactPoint(channel="sms")  # type: ignore[call-arg]
    ContactPoint(channel=5, address="+86")  # type: ignore[arg-type]
    ContactPoint(channel="sms", address="+86", consent="given")  # type: ignore[arg-type]
    ContactPoint(channel="sms", address="+86", consent_changed_at=date(2026, 1, 1))  # type: ignore[arg-type]


def customers() -> None:
    email = ContactPoint(channel=ChannelKind.EMAIL, address="li@example.com")
    order = Purchase(
        order_id="ord_1",
        amount=Decimal("2599.00"),
        currency="CNY",
        purchased_at=AT,
        product="Air purifier",
    )
    customer = Customer(id="c1", display_name="x", contact_points=[email])
    assert_type(customer, Customer)
    assert_type(customer.contact_points, tuple[ContactPoint, ...])
    assert_type(customer.purchases, tuple[Purchase, ...])
    assert_type(customer.segments, frozenset[str])
    assert_type(customer.attributes, dict[str, str | int | float | bool | None])
    assert_type(customer.birthday, date | None)
    assert_type(customer.tier, CustomerTier)

    # Every collection a caller naturally has is accepted.
    Customer(
        id="cus_1",
        display_name="李雷",
        contact_points=(email,),
        tier=CustomerTier.VIP,
        segments={"b2b", "beijing"},
        attributes={"plan": "gold", "seats": 40, "churn_risk": 0.25, "beta": True, "note": None},
        purchases=[order],
        birthday=date(1990, 5, 1),
    )
    Customer(id="cus_1", display_name="Li", segments=["b2b"], purchases=(p for p in [order]))
    Customer(id="cus_1", display_name="Li", segments=frozenset({"b2b"}))
    assert_type(customer.with_contact_point(email), Customer)
    assert_type(customer.with_purchase(order), Customer)
    assert_type(customer.with_attributes(plan="gold"), Customer)
    assert_type(customer.contact_points_on(ChannelKind.EMAIL), tuple[ContactPoint, ...])
    assert_type(customer.contactable_on("email"), bool)
    assert_type(personal_fields(Customer), tuple[str, ...])

    Customer(id="cus_1")  # type: ignore[call-arg]
    Customer(id="c1", display_name="x", contact_points=5)  # type: ignore[arg-type]
    Customer(id="c1", display_name="x", contact_points=["a"])  # type: ignore[list-item]
    Customer(id="c1", display_name="x", contact_points=email)  # type: ignore[arg-type]
    Customer(id="c1", display_name="x", purchases=[email])  # type: ignore[list-item]
    Customer(id="c1", display_name="x", segments="vip")  # type: ignore[arg-type]
    Customer(id="c1", display_name="x", tier="vip")  # type: ignore[arg-type]
    Customer(id="c1", display_name="x", attributes={"tags": ["a"]})  # type: ignore[dict-item]
    Customer(id="c1", display_name="x", attributes={1: "a"})  # type: ignore[dict-item]
    Customer(id="c1", display_name="x", birthday="1990-05-01")  # type: ignore[arg-type]
    Purchase(order_id="o", amount=2599, currency="CNY", purchased_at=AT, product="p")  # type: ignore[arg-type]
    customer.with_attributes(tags=["a"])  # type: ignore[arg-type]


def people() -> None:
    agent = Agent(id="agt_1", name="Zhang", grade=AgentGrade.GOLD, groups=["grp_a", "grp_b"])
    assert_type(agent.roles, frozenset[Role])
    assert_type(agent.skills, frozenset[str])
    assert_type(agent.groups, tuple[str, ...])
    Agent(id="agt_1", name="Zhang", roles=Role.SUPERVISOR, skills={"billing"})
    Agent(id="agt_1", name="Zhang", roles=[Role.AGENT, Role.ENGINEER], skills=["billing"])
    group = Group(id="grp_1", name="Branch", channels=[ChannelKind.PHONE_HOTLINE, "line"])
    assert_type(group.channels, frozenset[str])
    assert_type(group.serves("email"), bool)
    ladder = EscalationLadder(tiers=[EscalationTier(key="L1", name="Frontline")])
    assert_type(ladder.tiers, tuple[EscalationTier, ...])
    assert_type(ladder.above("L1"), EscalationTier | None)
    assert_type(EscalationLadder.default().level("L2"), int)

    Agent(id="agt_1")  # type: ignore[call-arg]
    Agent(id="agt_1", name="Zhang", grade="gold")  # type: ignore[arg-type]
    Agent(id="agt_1", name="Zhang", roles="agent")  # type: ignore[arg-type]
    Agent(id="agt_1", name="Zhang", skills="billing")  # type: ignore[arg-type]
    Agent(id="agt_1", name="Zhang", groups="grp_a")  # type: ignore[arg-type]
    Agent(id="agt_1", name="Zhang", max_load="5")  # type: ignore[arg-type]
    Group(id="grp_1", name="Branch", channels="email")  # type: ignore[arg-type]
    Group(id="grp_1", name="Branch", channels=[5])  # type: ignore[list-item]
    EscalationLadder(tiers=["L1"])  # type: ignore[list-item]
    EscalationLadder()  # type: ignore[call-arg]


def priorities() -> None:
    p = Priority
    matrix = PriorityMatrix(rows=[[p.LOW, p.HIGH, p.NORMAL], [p.LOW, p.HIGH, p.HIGH], [p.HIGH] * 3])
    assert_type(matrix.rows, tuple[tuple[Priority, ...], ...])
    assert_type(PriorityMatrix.itil().priority(Impact.HIGH, Urgency.MEDIUM), Priority)
    assert_type(p.LOW < p.HIGH, bool)
    assert_type(p.HIGH.rank, int)

    PriorityMatrix(rows=[[p.LOW] * 3, [p.LOW, "high", p.LOW], [p.HIGH] * 3])  # type: ignore[arg-type]
    PriorityMatrix(rows="low")  # type: ignore[arg-type]
    PriorityMatrix.itil().priority(Urgency.HIGH, Impact.LOW)  # type: ignore[arg-type]


def clocks_and_ids() -> None:
    clock = FrozenClock(AT)
    assert_type(clock.now(), datetime)
    assert_type(clock.advance(timedelta(minutes=5)), datetime)
    assert_type(clock.advance(hours=1.5), datetime)
    real: Clock = SystemClock()
    frozen: Clock = clock
    assert_type(real.now(), datetime)
    assert_type(frozen.now(), datetime)
    ids: IdGenerator = SequentialIds(start_after={"tkt": 4})
    ulids: IdGenerator = UlidIds(clock=clock)
    assert_type(ids.new("tkt"), str)
    assert_type(ulids.new("cus"), str)

    FrozenClock()  # type: ignore[call-arg]
    FrozenClock(date(2026, 3, 2))  # type: ignore[arg-type]
    clock.advance(5)  # type: ignore[arg-type]
    SequentialIds(start_after={"tkt": "4"})  # type: ignore[dict-item]


def ordering() -> None:
    assert_type(CustomerTier.STANDARD < CustomerTier.VIP, bool)
    _ = CustomerTier.VIP < Priority.HIGH  # type: ignore[operator]
