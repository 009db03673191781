"""Redaction: personal fields replaced, everything else kept, on any attrs value."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csdomain import (
    Actor,
    Agent,
    ChannelKind,
    Consent,
    ContactPoint,
    Customer,
    CustomFieldsChanged,
    MessageAdded,
    Purchase,
    Status,
    Ticket,
    TicketCreated,
    TicketEvent,
    ValidationError,
    personal_fields,
)
from csdomain._kernel.validation import Checked, checked, optional, text
from csdomain.privacy import PERSONAL, REDACTED, is_redacted, redacted
from csdomain.serialization import from_json, to_json
from csdomain.testing import strategies as cst

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
AGENT = Actor.agent("agt_1")


def customer() -> Customer:
    return Customer(
        id="cus_1",
        display_name="王芳",
        contact_points=(
            ContactPoint(
                channel=ChannelKind.PHONE_HOTLINE, address="+8613800138000", verified=True
            ).give_consent(T0),
            ContactPoint(
                channel=ChannelKind.EMAIL, address="wang.fang@example.com", do_not_contact=True
            ),
        ),
        birthday=date(1990, 5, 17),
        attributes={"note": "prefers calls", "age": 36, "vip": True, "empty": None},
        purchases=(
            Purchase(
                order_id="ord_1",
                amount=Decimal("129.00"),
                currency="CNY",
                purchased_at=T0,
                product="Kettle",
            ),
        ),
        segments=frozenset({"vip"}),
        timezone="Asia/Shanghai",
        locale="zh_CN",
    )


# -- the rules, by example --------------------------------------------------------------


def test_a_customer_loses_name_addresses_birthday_and_attribute_values() -> None:
    before = customer()
    after = redacted(before)
    assert after.display_name == REDACTED
    assert after.birthday is None
    assert after.attributes == {"note": REDACTED, "age": REDACTED, "vip": REDACTED, "empty": None}
    assert [cp.address for cp in after.contact_points] == [REDACTED, REDACTED]
    # what is not personal stays, in contact points too
    assert [attrs.evolve(cp, address="x") for cp in after.contact_points] == [
        attrs.evolve(cp, address="x") for cp in before.contact_points
    ]
    assert after.contact_points[0].consent is Consent.GIVEN
    assert after.contact_points[0].consent_changed_at == T0
    assert (after.id, after.tier, after.segments, after.timezone, after.locale) == (
        before.id,
        before.tier,
        before.segments,
        before.timezone,
        before.locale,
    )
    assert after.purchases == before.purchases
    assert before.display_name == "王芳"  # a copy: the original is untouched


def test_distinct_addresses_on_one_channel_get_distinct_markers() -> None:
    # Customer.contact_points refuses two equal (channel, address) pairs.
    phones = [
        ContactPoint(channel="sms", address="+8613800138000"),
        ContactPoint(channel="sms", address="+8613900139000", verified=True),
        ContactPoint(channel="phone_hotline", address="+8613900139000"),
    ]
    erased = redacted(Customer(id="cus_1", display_name="Li", contact_points=phones))
    assert [cp.address for cp in erased.contact_points] == [REDACTED, "[erased 2]", "[erased 2]"]
    assert all(is_redacted(cp.address) for cp in erased.contact_points)
    assert [cp.verified for cp in erased.contact_points] == [False, True, False]
    assert redacted(erased) == erased


def test_is_redacted_knows_the_markers_only() -> None:
    assert is_redacted(REDACTED) and is_redacted("[erased 2]") and is_redacted("[erased 12]")
    for other in ("[erased 1]", "[erased 02]", "[erased]x", "erased", "", None, 2):
        assert not is_redacted(other)


def _ticket() -> Ticket:
    ticket = Ticket.open(
        id="tkt_1",
        customer_id="cus_1",
        channel=ChannelKind.PHONE_HOTLINE,
        subject="Call me on 13800138000",
        at=T0,
        custom_fields={"callback": "+86 138 0013 8000", "order": 88817},
        description="my number is 13800138000",
    )
    ticket = ticket.add_message(
        at=T0 + timedelta(minutes=5), actor=AGENT, body="calling", handle_time=timedelta(minutes=4)
    )
    ticket = ticket.set_custom_fields(
        {"address": "88 Nanjing Road"}, at=T0 + timedelta(minutes=6), actor=AGENT, unset=["order"]
    )
    return ticket.change_status(Status.SOLVED, at=T0 + timedelta(hours=1), actor=AGENT)


def test_a_ticket_loses_subject_bodies_and_custom_field_values_and_still_replays() -> None:
    before = _ticket()
    after = redacted(before)
    assert after.subject == REDACTED
    assert dict(after.custom_fields) == {"callback": REDACTED, "address": REDACTED}
    assert {m.body for m in after.messages} == {REDACTED}
    assert [m.handle_time for m in after.messages] == [m.handle_time for m in before.messages]
    assert [(type(e), e.at, e.actor) for e in after.timeline] == [
        (type(e), e.at, e.actor) for e in before.timeline
    ]
    assert (after.status, after.priority, after.channel, after.created_at, after.updated_at) == (
        before.status,
        before.priority,
        before.channel,
        before.created_at,
        before.updated_at,
    )
    # the unset field name survives, so the timeline replays
    assert Ticket(timeline=after.timeline) == after


def test_redacting_the_events_redacts_the_ticket() -> None:
    before = _ticket()
    assert Ticket(timeline=tuple(redacted(e) for e in before.timeline)) == redacted(before)


def test_a_value_without_personal_data_is_returned_as_is() -> None:
    purchase = customer().purchases[0]
    assert redacted(purchase) is purchase
    assert redacted(AGENT) is AGENT


def test_an_agent_loses_the_name() -> None:
    agent = Agent(id="agt_1", name="Zhang Wei")
    assert redacted(agent) == attrs.evolve(agent, name=REDACTED)


def test_only_attrs_values_can_be_redacted() -> None:
    with pytest.raises(ValidationError, match=r"expected an attrs value .* got a dict"):
        redacted({"name": "Li"})


# Toy classes: the rules are generic, so an application's own values follow them.


@attrs.frozen
class _Visit(Checked):
    id: str = attrs.field()
    note: str | None = attrs.field(
        default=None, metadata=checked(optional(text(max_length=20)), personal=True)
    )
    aliases: tuple[str, ...] = attrs.field(default=(), metadata=checked(personal=True))
    nicknames: frozenset[str] = attrs.field(default=frozenset(), metadata=checked(personal=True))
    age: int | None = attrs.field(default=None, metadata=checked(personal=True))
    seen_on: date | None = attrs.field(default=None, metadata=checked(personal=True))


@attrs.frozen
class _Born(Checked):
    born: date = attrs.field(metadata=checked(personal=True))


@attrs.frozen
class _Short(Checked):
    initials: str = attrs.field(metadata=checked(text(max_length=3), personal=True))


def test_collections_are_emptied_and_other_values_set_to_none() -> None:
    visit = _Visit(
        id="v1",
        note="knee",
        aliases=("Xiao Li",),
        nicknames=frozenset({"Lili"}),
        age=36,
        seen_on=date(2026, 1, 2),
    )
    assert redacted(visit) == _Visit(id="v1", note=REDACTED)
    assert redacted(_Visit(id="v2")) == _Visit(id="v2")  # nothing there, nothing erased


def test_a_personal_value_that_cannot_be_erased_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        redacted(_Born(born=date(1990, 1, 1)))
    assert caught.value.paths == ("born",)
    assert "no None default" in str(caught.value)
    with pytest.raises(ValidationError, match="at most 3 characters"):
        redacted(_Short(initials="LW"))


# -- laws -------------------------------------------------------------------------------


def _kept(value: Any) -> object:
    """What redaction must keep: every field not marked personal, and inside personal
    attrs values (contact points) theirs."""
    if isinstance(value, Ticket):
        return [_kept(e) for e in value.timeline]
    if attrs.has(type(value)):
        out: dict[str, object] = {"": type(value)}
        for a in attrs.fields(type(value)):
            v = getattr(value, a.name)
            nested = isinstance(v, tuple) and v and all(attrs.has(type(i)) for i in v)
            if not a.metadata.get(PERSONAL) or nested or attrs.has(type(v)):
                out[a.name] = _kept(v)
        return out
    if isinstance(value, tuple) and all(attrs.has(type(i)) for i in value):
        return [_kept(i) for i in value]
    return value


values = st.one_of(
    cst.customers(),
    cst.ticket_events(),
    cst.tickets(max_events=12),
    cst.agents(),
)


@given(values)
def test_redacted_values_are_valid_idempotent_and_keep_what_is_not_personal(value: Any) -> None:
    erased = redacted(value)
    assert type(erased) is type(value)
    assert from_json(to_json(erased), type(value)) == erased  # passes every check
    assert attrs.evolve(erased) == erased
    assert redacted(erased) == erased
    assert _kept(erased) == _kept(value)


def _personal_leaves(value: object) -> list[object]:
    """The personal values left in ``value``, as the rules above describe them."""
    found: list[object] = []
    if isinstance(value, Ticket):
        for e in value.timeline:
            found += _personal_leaves(e)
        return found
    for name in personal_fields(type(value)):
        v = getattr(value, name)
        if isinstance(v, tuple) and v and all(attrs.has(type(i)) for i in v):
            for item in v:
                found += _personal_leaves(item)
        elif isinstance(v, dict):
            found += list(v.values())
        else:
            found.append(v)
    return found


@given(values)
def test_every_personal_value_left_is_a_marker_or_empty(value: Any) -> None:
    for leaf in _personal_leaves(redacted(value)):
        assert leaf is None or leaf in ("", (), {}) or is_redacted(leaf), leaf


# Secrets injected by hand, field by field, so that a field redaction forgot is caught.
_INJECTED: dict[type, tuple[str, ...]] = {
    Customer: ("display_name", "contact_points", "birthday", "attributes"),
    TicketCreated: ("subject", "custom_fields"),
    MessageAdded: ("body",),
    CustomFieldsChanged: ("values",),
}


def test_the_injected_fields_are_every_personal_field() -> None:
    for cls, names in _INJECTED.items():
        assert personal_fields(cls) == names
    for cls in TicketEvent.__subclasses__():
        assert cls in _INJECTED or personal_fields(cls) == (), cls


def _inject(value: Any, secret: str) -> Any:
    def scalars(d: dict[str, Any]) -> dict[str, Any]:
        return {k: f"{secret}{i}" for i, k in enumerate(d)}

    if isinstance(value, Customer):
        points = tuple(
            attrs.evolve(cp, address=f"{secret}a{i}") for i, cp in enumerate(value.contact_points)
        )
        return attrs.evolve(
            value,
            display_name=f"{secret}n",
            contact_points=points,
            attributes=scalars(value.attributes) | {"secret_key": f"{secret}k"},
        )
    if isinstance(value, TicketCreated):
        custom = scalars(value.custom_fields) | {"x": f"{secret}c"}
        return attrs.evolve(value, subject=f"{secret}s", custom_fields=custom)
    if isinstance(value, MessageAdded):
        return attrs.evolve(value, body=f"{secret}b")
    if isinstance(value, CustomFieldsChanged):
        return attrs.evolve(value, values=scalars(value.values))
    return value


@given(st.one_of(cst.customers(), cst.ticket_events()), st.uuids())
def test_no_personal_string_is_left_in_repr_or_json(value: Any, uuid: Any) -> None:
    secret = f"S{uuid.hex}"
    value = _inject(value, secret)
    erased = redacted(value)
    assert secret not in to_json(erased)
    assert secret not in repr(erased)
    assert secret not in repr(attrs.asdict(erased, recurse=True))


def test_a_birthday_is_erased_not_only_hidden() -> None:
    erased = redacted(customer())
    assert "1990" not in to_json(erased)
