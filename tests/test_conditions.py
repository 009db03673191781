"""Conditions: evaluation on tickets and customers, construction checks, JSON round trips."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import csdomain
from csdomain import (
    ALWAYS,
    Actor,
    AllOf,
    AnyOf,
    ChannelKind,
    Compare,
    Comparison,
    Condition,
    Contains,
    Customer,
    CustomerTier,
    Equals,
    Exists,
    In,
    Not,
    Priority,
    Status,
    Ticket,
    TicketKind,
    ValidationError,
)
from csdomain.conditions import CONDITION_TYPES, MAX_DEPTH
from csdomain.serialization import from_dict, from_json, to_dict, to_json
from csdomain.testing import strategies as cst

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
AGENT = Actor.agent("agt_1")

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TICKET = (
    Ticket.open(
        id="tkt_1",
        customer_id="cus_1",
        channel=ChannelKind.EMAIL,
        subject="Refund",
        at=T0,
        kind=TicketKind.COMPLAINT,
        priority=Priority.HIGH,
        group_id="grp_1",
        tier="L2",
        tags=["refund", "vip"],
        custom_fields={
            "order": "SO-8812 express",
            "amount": 129.5,
            "items": 3,
            "gift": False,
            "note": None,
        },
    )
    .add_message(at=T0 + timedelta(minutes=5), actor=AGENT, body="Looking into it")
    .change_status(Status.PENDING, at=T0 + timedelta(minutes=6), actor=AGENT)
)
CUSTOMER = Customer(
    id="cus_1",
    display_name="Li Lei",
    tier=CustomerTier.VIP,
    segments={"b2b", "beijing"},
    attributes={"plan": "gold annual", "seats": 40, "churn_risk": 0.25, "beta": True},
)
BARE = Ticket.open(id="tkt_2", customer_id="cus_2", channel="web_chat", subject="Hi", at=T0)


# -- examples: each test on tickets and customers ----------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # equals
        (Equals("ticket.kind", TicketKind.COMPLAINT), True),
        (Equals("ticket.kind", "complaint"), True),
        (Equals("ticket.kind", "incident"), False),
        (Equals("ticket.channel", "email"), True),
        (Equals("ticket.channel", ChannelKind.EMAIL), True),
        (Equals("ticket.priority", "high"), True),
        (Equals("ticket.status", Status.PENDING), True),
        (Equals("ticket.group", "grp_1"), True),
        (Equals("ticket.assignee", "agt_1"), False),
        (Equals("ticket.tier", "L2"), True),
        (Equals("ticket.custom_fields.order", "SO-8812 express"), True),
        (Equals("ticket.custom_fields.amount", 129.5), True),
        (Equals("ticket.custom_fields.items", 3.0), True),  # numbers compare as numbers
        (Equals("ticket.custom_fields.items", "3"), False),  # text is not a number
        (Equals("ticket.custom_fields.gift", False), True),
        (Equals("ticket.custom_fields.gift", 0), False),  # booleans are not numbers
        (Equals("ticket.custom_fields.missing", 1), False),
        (Equals("customer.tier", "vip"), True),
        (Equals("customer.attributes.seats", 40), True),
        (Equals("customer.attributes.beta", True), True),
        (Equals("customer.attributes.beta", 1), False),
        # in
        (In("ticket.kind", ("complaint", "after_sales")), True),
        (In("ticket.priority", [Priority.LOW, Priority.NORMAL]), False),
        (In("ticket.channel", ("phone_hotline", ChannelKind.EMAIL)), True),
        (In("ticket.custom_fields.items", (1, 2, 3)), True),
        (In("ticket.custom_fields.items", (True, "3")), False),
        (In("customer.tier", ("vip", "enterprise")), True),
        (In("customer.attributes.plan", ("gold", "gold annual")), True),
        # compare
        (Compare("ticket.priority", "ge", "high"), True),
        (Compare("ticket.priority", Comparison.GT, Priority.HIGH), False),
        (Compare("ticket.priority", "lt", "urgent"), True),
        (Compare("ticket.priority", "le", "normal"), False),
        (Compare("ticket.custom_fields.amount", "gt", 100), True),
        (Compare("ticket.custom_fields.amount", "le", 129.5), True),
        (Compare("ticket.custom_fields.items", "lt", 3), False),
        (Compare("ticket.custom_fields.order", "gt", 0), False),  # text: no match, no error
        (Compare("ticket.custom_fields.gift", "ge", 0), False),  # booleans are not numbers
        (Compare("ticket.custom_fields.missing", "lt", 1), False),
        (Compare("customer.tier", "ge", "vip"), True),
        (Compare("customer.tier", "gt", "vip"), False),
        (Compare("customer.attributes.churn_risk", "lt", 0.5), True),
        (Compare("customer.attributes.plan", "lt", 0.5), False),
        # contains
        (Contains("ticket.tags", "refund"), True),
        (Contains("ticket.tags", "billing"), False),
        (Contains("ticket.custom_fields.order", "8812"), True),
        (Contains("ticket.custom_fields.order", "EXPRESS"), False),  # case-sensitive
        (Contains("ticket.custom_fields.amount", "129"), False),  # a number is not text
        (Contains("customer.segments", "b2b"), True),
        (Contains("customer.segments", "shanghai"), False),
        (Contains("customer.attributes.plan", "gold"), True),
        # exists
        (Exists("ticket.group"), True),
        (Exists("ticket.assignee"), False),
        (Exists("ticket.tags"), True),
        (Exists("ticket.kind"), True),
        (Exists("ticket.custom_fields.order"), True),
        (Exists("ticket.custom_fields.note"), False),  # null counts as absent
        (Exists("ticket.custom_fields.missing"), False),
        (Exists("customer.tier"), True),
        (Exists("customer.segments"), True),
        (Exists("customer.attributes.beta"), True),
        (Exists("customer.attributes.missing"), False),
        # combinators
        (ALWAYS, True),
        (AnyOf(()), False),
        (Not(Equals("ticket.kind", "incident")), True),
        (
            AllOf((Equals("ticket.kind", "complaint"), Compare("customer.tier", "ge", "vip"))),
            True,
        ),
        (AllOf((Equals("ticket.kind", "complaint"), Exists("ticket.assignee"))), False),
        (AnyOf((Exists("ticket.assignee"), Contains("ticket.tags", "vip"))), True),
        (Not(AnyOf((Exists("ticket.assignee"), Contains("customer.segments", "x")))), True),
    ],
    ids=repr,
)
def test_examples(condition: Condition, expected: bool) -> None:
    assert condition.matches(TICKET, CUSTOMER) is expected
    assert from_json(to_json(condition)) == condition


def test_empty_sets_and_unset_fields_are_absent() -> None:
    customer = Customer(id="cus_2", display_name="A")
    assert not Exists("ticket.tags").matches(BARE)
    assert not Exists("ticket.group").matches(BARE)
    assert not Exists("customer.segments").matches(BARE, customer)
    assert Exists("customer.tier").matches(BARE, customer)  # standard by default
    assert Equals("customer.tier", "standard").matches(BARE, customer)


@pytest.mark.parametrize(
    "condition",
    [
        Equals("customer.tier", "vip"),
        In("customer.tier", ("vip",)),
        Compare("customer.tier", "ge", "standard"),
        Contains("customer.segments", "b2b"),
        Exists("customer.tier"),
        Exists("customer.attributes.plan"),
        Equals("customer.attributes.beta", True),
    ],
    ids=repr,
)
def test_customer_fields_without_a_customer_are_absent(condition: Condition) -> None:
    assert condition.matches(TICKET, CUSTOMER)
    assert not condition.matches(TICKET)
    assert not condition.matches(TICKET, None)
    assert Not(condition).matches(TICKET)


def test_customer_only_evaluation() -> None:
    """Revisit plans select customers: ticket fields are absent without a ticket."""
    assert Compare("customer.tier", "ge", "vip").matches(customer=CUSTOMER)
    assert not Equals("ticket.kind", "complaint").matches(customer=CUSTOMER)
    assert not Exists("ticket.kind").matches(None, CUSTOMER)
    assert Not(Exists("ticket.tags")).matches(customer=CUSTOMER)


def test_field_paths() -> None:
    condition = AllOf(
        (
            Equals("ticket.kind", "complaint"),
            Not(AnyOf((Exists("customer.attributes.plan"), Contains("ticket.tags", "x")))),
        )
    )
    assert condition.field_paths == {
        "ticket.kind",
        "customer.attributes.plan",
        "ticket.tags",
    }
    assert ALWAYS.field_paths == frozenset()


def test_values_are_normalized_and_compared_by_type() -> None:
    assert Equals("ticket.priority", "high").value is Priority.HIGH
    assert Equals("ticket.priority", "high") == Equals("ticket.priority", Priority.HIGH)
    assert Equals("ticket.channel", ChannelKind.EMAIL).value == "email"
    assert In("ticket.status", ["open", Status.PENDING]).values == (Status.OPEN, Status.PENDING)
    assert Compare("ticket.priority", "ge", "low").comparison is Comparison.GE
    assert Equals("ticket.custom_fields.x", True) != Equals("ticket.custom_fields.x", 1)
    assert Equals("ticket.custom_fields.x", 1) != Equals("ticket.custom_fields.x", 1.0)
    assert In("ticket.custom_fields.x", (1,)) != In("ticket.custom_fields.x", (True,))
    assert len({Equals("ticket.custom_fields.x", True), Equals("ticket.custom_fields.x", 1)}) == 2
    assert AllOf([Exists("ticket.group")]).conditions == (Exists("ticket.group"),)


def test_top_level_exports() -> None:
    for cls in CONDITION_TYPES.values():
        assert getattr(csdomain, cls.__name__) is cls
        assert issubclass(cls, Condition)
    assert AllOf(()) == ALWAYS


# -- construction errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "paths", "fragment"),
    [
        # unknown fields
        (lambda: Equals("ticket.prio", "high"), ("field",), "did you mean 'ticket.priority'"),
        (lambda: Exists("customer.name"), ("field",), "unknown field"),
        (lambda: Exists("ticket"), ("field",), "expected one of ticket.kind"),
        (lambda: Exists(42), ("field",), "expected a field path"),
        (lambda: Exists("ticket.custom_fields."), ("field",), "must be a key"),
        (lambda: Equals("customer.attributes.a b", 1), ("field",), "must be a key"),
        # unknown comparison
        (lambda: Compare("ticket.priority", "gte", "high"), ("comparison",), "'lt', 'le'"),
        (lambda: Compare("ticket.priority", None, "high"), ("comparison",), "unknown"),
        # enum values not allowed
        (lambda: Equals("ticket.kind", "complain"), ("value",), "'complaint'"),
        (lambda: Equals("ticket.priority", CustomerTier.VIP), ("value",), "takes a Priority"),
        (lambda: Equals("customer.tier", "gold"), ("value",), "'standard', 'vip'"),
        (lambda: Compare("customer.tier", "ge", "gold"), ("value",), "takes a CustomerTier"),
        (lambda: In("ticket.status", ("open", "closing")), ("values[1]",), "'on_hold'"),
        # wrong value types
        (lambda: Equals("ticket.channel", "e mail"), ("value",), "channel key"),
        (lambda: Equals("ticket.group", 7), ("value",), "group id"),
        (lambda: Equals("ticket.custom_fields.x", None), ("value",), "use Exists"),
        (lambda: Equals("ticket.custom_fields.x", [1]), ("value",), "finite number"),
        (lambda: Equals("ticket.custom_fields.x", float("nan")), ("value",), "finite"),
        (lambda: In("customer.attributes.x", (1, {}, 2, None)), ("values[1]", "values[3]"), ""),
        (lambda: Compare("ticket.custom_fields.x", "lt", "9"), ("value",), "finite number"),
        (lambda: Compare("ticket.custom_fields.x", "lt", True), ("value",), "finite number"),
        (lambda: Contains("ticket.tags", "two words"), ("value",), "tags of 1-64"),
        (lambda: Contains("ticket.custom_fields.x", ""), ("value",), "non-empty text"),
        (lambda: Contains("ticket.custom_fields.x", 5), ("value",), "non-empty text"),
        # tests on fields that do not support them
        (lambda: Compare("ticket.kind", "ge", "complaint"), ("field",), "has no order"),
        (lambda: Compare("ticket.tier", "ge", "L2"), ("field",), "has no order"),
        (lambda: Contains("ticket.channel", "mail"), ("field",), "neither a set nor text"),
        (lambda: Equals("ticket.tags", "vip"), ("field",), "use Contains"),
        (lambda: In("customer.segments", ("vip",)), ("field",), "use Contains"),
        # empty or malformed In
        (lambda: In("ticket.kind", ()), ("values",), "at least one value"),
        (lambda: In("ticket.kind", []), ("values",), "at least one value"),
        (lambda: In("ticket.kind", "complaint"), ("values",), "non-empty list"),
        # combinators
        (lambda: AllOf((Exists("ticket.group"), "x")), ("conditions[1]",), "a condition"),
        (lambda: AnyOf(5), ("conditions",), "collection"),
        (lambda: Not(None), ("condition",), "a condition"),
        # several problems at once
        (lambda: Compare(3, "x", 1), ("field", "comparison"), ""),
    ],
)
def test_invalid_conditions_are_refused_when_built(
    make: Any, paths: tuple[str, ...], fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make()
    assert caught.value.paths == paths
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_nesting_is_bounded() -> None:
    deepest: Condition = Exists("ticket.group")
    for _ in range(MAX_DEPTH):
        deepest = Not(deepest)
    assert deepest.matches(TICKET) is (MAX_DEPTH % 2 == 0)
    assert from_json(to_json(deepest)) == deepest
    for make, path in [
        (lambda: Not(deepest), "condition"),
        (lambda: AllOf((ALWAYS, deepest)), "conditions"),
        (lambda: AnyOf([deepest]), "conditions"),
    ]:
        with pytest.raises(ValidationError, match=f"at most {MAX_DEPTH}") as caught:
            make()
        assert caught.value.paths == (path,)
    document: dict[str, Any] = {"op": "exists", "field": "ticket.group"}
    for _ in range(MAX_DEPTH + 1):
        document = {"op": "not", "condition": document}
    with pytest.raises(ValidationError, match=f"at most {MAX_DEPTH}") as caught:
        from_dict(_doc(document))
    assert caught.value.paths == ("condition",)  # the outermost Not is one too many


def test_the_base_class_is_not_a_condition() -> None:
    with pytest.raises(TypeError, match="base class"):
        Condition()


def test_evolve_rechecks() -> None:
    condition = Compare("ticket.priority", "ge", "high")
    with pytest.raises(ValidationError) as caught:
        attrs.evolve(condition, field="ticket.status")
    assert caught.value.paths == ("field",)


# -- documents -------------------------------------------------------------------------------


def test_document_shape() -> None:
    condition = AllOf(
        (
            Equals("ticket.kind", TicketKind.COMPLAINT),
            Not(Compare("customer.tier", Comparison.LT, CustomerTier.VIP)),
            In("ticket.custom_fields.amount", (1, 2.5, "x", False)),
        )
    )
    assert to_dict(condition) == {
        "schema_version": 1,
        "document": "condition",
        "op": "all",
        "conditions": [
            {"op": "equals", "field": "ticket.kind", "value": "complaint"},
            {
                "op": "not",
                "condition": {
                    "op": "compare",
                    "field": "customer.tier",
                    "comparison": "lt",
                    "value": "vip",
                },
            },
            {"op": "in", "field": "ticket.custom_fields.amount", "values": [1, 2.5, "x", False]},
        ],
    }
    assert from_dict(to_dict(condition), AllOf) == condition
    assert from_dict(to_dict(condition), Condition) == condition
    assert json.loads(to_json(Exists("ticket.group"))) == {
        "schema_version": 1,
        "document": "condition",
        "op": "exists",
        "field": "ticket.group",
    }


def _doc(body: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": 1, "document": "condition", **body}


@pytest.mark.parametrize(
    ("body", "paths", "fragment"),
    [
        ({"op": "equal", "field": "ticket.kind", "value": "x"}, ("op",), "unknown condition op"),
        ({"field": "ticket.kind", "value": "x"}, ("op",), "expected one of 'all'"),
        ({"op": "exists", "field": "ticket.kinds"}, ("field",), "did you mean 'ticket.kind'"),
        ({"op": "exists"}, ("field",), "required field missing"),
        ({"op": "equals", "field": "ticket.kind", "value": "bug"}, ("value",), "TicketKind"),
        ({"op": "equals", "field": "ticket.kind"}, ("value",), "required field missing"),
        (
            {"op": "compare", "field": "ticket.priority", "comparison": "eq", "value": "low"},
            ("comparison",),
            "expected a Comparison",
        ),
        ({"op": "in", "field": "ticket.kind", "values": []}, ("values",), "at least one"),
        ({"op": "not", "condition": 3}, ("condition",), "expected a condition object"),
        (
            {
                "op": "any",
                "conditions": [
                    {"op": "exists", "field": "ticket.group"},
                    {"op": "nope"},
                    {"op": "not", "condition": {"op": "contains", "field": "ticket.kind"}},
                    {"op": "all", "conditions": [{"op": "equals", "field": "x", "value": 1}]},
                ],
            },
            (
                "conditions[1].op",
                "conditions[2].condition.value",
                "conditions[3].conditions[0].field",
            ),
            "",
        ),
        (
            {
                "op": "all",
                "conditions": [
                    {"op": "exists", "field": "ticket.group"},
                    {"op": "in", "field": "ticket.status", "values": ["open", "shut"]},
                ],
            },
            ("conditions[1].values[1]",),
            "'on_hold'",
        ),
    ],
)
def test_invalid_documents_are_refused_when_loaded(
    body: dict[str, Any], paths: tuple[str, ...], fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        from_dict(_doc(body))
    assert caught.value.paths == paths
    assert fragment in str(caught.value)
    with pytest.raises(ValidationError):
        from_json(json.dumps(_doc(body)))


def test_loading_as_a_class_checks_the_op() -> None:
    document = to_dict(Not(ALWAYS))
    assert from_dict(document, Not) == Not(ALWAYS)
    with pytest.raises(ValidationError, match="holds a Not, not a AllOf"):
        from_dict(document, AllOf)


# -- properties ------------------------------------------------------------------------------

tickets = cst.tickets(max_events=8)
customers = st.none() | cst.customers(max_contact_points=1, max_purchases=0)


@QUICK
@given(cst.conditions())
def test_json_round_trip(condition: Condition) -> None:
    text = to_json(condition)
    assert from_json(text) == condition
    assert from_json(text, type(condition)) == condition
    assert to_json(from_json(text)) == text
    assert from_dict(json.loads(json.dumps(to_dict(condition)))) == condition


@QUICK
@given(cst.conditions(max_depth=2), cst.conditions(max_depth=2), tickets, customers)
def test_boolean_laws(
    a: Condition, b: Condition, ticket: Ticket, customer: Customer | None
) -> None:
    ma, mb = a.matches(ticket, customer), b.matches(ticket, customer)
    assert isinstance(ma, bool) and isinstance(mb, bool)
    assert Not(Not(a)).matches(ticket, customer) is ma
    assert Not(a).matches(ticket, customer) is not ma
    assert AllOf((a, b)).matches(ticket, customer) is (ma and mb)
    assert AnyOf((a, b)).matches(ticket, customer) is (ma or mb)
    # De Morgan
    assert Not(AllOf((a, b))).matches(ticket, customer) is AnyOf((Not(a), Not(b))).matches(
        ticket, customer
    )
    assert Not(AnyOf((a, b))).matches(ticket, customer) is AllOf((Not(a), Not(b))).matches(
        ticket, customer
    )
    assert AllOf(()).matches(ticket, customer)
    assert ALWAYS.matches(ticket, customer)
    assert not AnyOf(()).matches(ticket, customer)
    assert AllOf((a,)).matches(ticket, customer) is ma is AnyOf((a,)).matches(ticket, customer)


@QUICK
@given(cst.conditions(), tickets, customers)
def test_evaluation_is_deterministic_and_never_raises(
    condition: Condition, ticket: Ticket, customer: Customer | None
) -> None:
    first = condition.matches(ticket, customer)
    assert isinstance(first, bool)
    assert condition.matches(ticket, customer) is first
    loaded = from_json(to_json(condition))
    assert loaded.matches(ticket, customer) is first
    assert isinstance(condition.matches(None, customer), bool)
    assert isinstance(condition.matches(ticket), bool)


@QUICK
@given(cst.conditions(max_depth=0), tickets, customers)
def test_customer_fields_need_a_customer(
    condition: Condition, ticket: Ticket, customer: Customer | None
) -> None:
    (path,) = condition.field_paths
    if path.startswith("customer."):
        assert not condition.matches(ticket)
    else:
        assert condition.matches(ticket, customer) is condition.matches(ticket)


@QUICK
@given(tickets, st.none() | cst.customers(max_contact_points=0, max_purchases=0))
def test_conditions_read_the_values_they_name(ticket: Ticket, customer: Customer | None) -> None:
    """A condition built from a ticket's own values matches it."""
    own = [
        Equals("ticket.kind", ticket.kind),
        Equals("ticket.channel", ticket.channel),
        In("ticket.priority", (ticket.priority,)),
        Equals("ticket.status", ticket.status.value),
        Equals("ticket.tier", ticket.tier),
        Compare("ticket.priority", "le", ticket.priority),
        Compare("ticket.priority", "ge", ticket.priority),
        *(Contains("ticket.tags", tag) for tag in ticket.tags),
        *(
            Exists(f"ticket.custom_fields.{k}")
            for k, v in ticket.custom_fields.items()
            if v is not None
        ),
    ]
    if ticket.group_id is not None:
        own.append(Equals("ticket.group", ticket.group_id))
    if ticket.assignee_id is not None:
        own.append(Equals("ticket.assignee", ticket.assignee_id))
    if customer is not None:
        own.append(Equals("customer.tier", customer.tier))
        own.extend(Contains("customer.segments", s) for s in customer.segments)
    assert AllOf(own).matches(ticket, customer)
    assert not AnyOf([Not(c) for c in own]).matches(ticket, customer)


@settings(max_examples=20, deadline=None)
@given(cst.conditions(max_depth=1, types=[AllOf, AnyOf, Not]))
def test_strategy_honours_depth_and_types(condition: Condition) -> None:
    assert type(condition) in (AllOf, AnyOf, Not)
    parts = (condition.condition,) if isinstance(condition, Not) else condition.conditions
    assert all(type(p) not in (AllOf, AnyOf, Not) for p in parts)
