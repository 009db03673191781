"""What mypy sees of conditions."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import assert_type

from csdomain import (
    ALWAYS,
    AllOf,
    AnyOf,
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
    Ticket,
    TicketKind,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def conditions() -> None:
    escalate = AnyOf(
        (
            AllOf(
                (Equals("ticket.kind", TicketKind.COMPLAINT), Compare("customer.tier", "ge", "vip"))
            ),
            AllOf(
                [
                    Compare("ticket.custom_fields.order_total", Comparison.GE, 10_000),
                    Not(Exists("ticket.assignee_id")),
                ]
            ),
        )
    )
    assert_type(escalate.conditions, tuple[Condition, ...])
    vip: Condition = In("customer.tier", (CustomerTier.VIP, CustomerTier.ENTERPRISE))
    assert_type(
        In("ticket.priority", [Priority.HIGH, "urgent"]).values,
        tuple[str | int | float | bool | Enum, ...],
    )
    assert_type(Contains("ticket.tags", "refund").value, str)
    always: Condition = ALWAYS
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at=AT)
    customer = Customer(id="cus_1", display_name="Li", tier=CustomerTier.VIP)
    assert_type(escalate.matches(ticket, customer), bool)
    assert_type(vip.matches(customer=customer), bool)
    assert_type(escalate.field_paths, frozenset[str])
    assert_type(always.matches(ticket), bool)

    Equals("ticket.kind")  # type: ignore[call-arg]
    Equals("ticket.kind", None)  # type: ignore[arg-type]
    Equals("ticket.kind", ["complaint"])  # type: ignore[arg-type]
    Not([Exists("ticket.assignee_id")])  # type: ignore[arg-type]
    Contains("ticket.tags", 5)  # type: ignore[arg-type]
    escalate.matches("tkt_1")  # type: ignore[arg-type]
    AllOf([5])  # type: ignore[list-item]
    AnyOf("ticket.kind")  # type: ignore[arg-type]
    In("ticket.status", "open")  # type: ignore[arg-type]
    In("ticket.status", [None])  # type: ignore[list-item]
    Compare("ticket.priority", 5, "high")  # type: ignore[arg-type]
