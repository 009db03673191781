"""What mypy sees of storage: stores, repositories, versions and pages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, assert_type

import attrs

from csdomain import Agent, ConflictError, Customer, FrozenClock, Group, Status, Ticket
from csdomain.addresses import ContactRules
from csdomain.conditions import Condition
from csdomain.sla import SlaPolicy
from csdomain.storage import (
    Collection,
    Column,
    ColumnRow,
    ColumnType,
    DocumentRepository,
    Erasure,
    FailedMessage,
    OutboxMessage,
    Page,
    Query,
    Store,
    Stored,
    open_store,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def stores() -> None:
    store = open_store("memory:", tenant="acme")
    assert_type(store, Store)
    assert_type(store.tenant, str)
    ticket = Ticket.open(id="tkt_1", customer_id="cus_1", channel="email", subject="S", at=AT)
    assert_type(store.tickets.add(ticket, next_deadline=AT + timedelta(hours=2)), Stored[Ticket])
    stored = store.tickets.get("tkt_1")
    assert_type(stored, Stored[Ticket])
    assert_type(stored.value, Ticket)
    assert_type(stored.version, int)
    assert_type(store.tickets.save(stored.value, expected_version=stored.version), Stored[Ticket])
    page = store.tickets.list(status=Status.NEW, limit=2)
    assert_type(page, Page[Stored[Ticket]])
    assert_type(page.items, tuple[Stored[Ticket], ...])
    assert_type(page.next_cursor, str | None)
    assert_type(store.tickets.due_before(AT), Page[Stored[Ticket]])
    assert_type(store.tickets.count(status=[Status.NEW, Status.OPEN]), int)
    assert_type(store.customers.get("cus_1").value, Customer)
    assert_type(store.customers.find_by_contact("li@example.com"), tuple[Stored[Customer], ...])
    assert_type(store.agents.get("agt_1").value, Agent)
    assert_type(store.groups.list().items, tuple[Stored[Group], ...])
    assert_type(store.outbox.pending(), list[OutboxMessage])
    assert_type(store.config.get(SlaPolicy, "standard"), Stored[SlaPolicy])
    with store.transaction():
        store.customers.add(Customer(id="cus_2", display_name="Li"))
    with open_store("sqlite:///desk.db", tenant="acme") as other:
        assert_type(other, Store)
    try:
        store.tickets.save(ticket, expected_version=1)
    except ConflictError as error:
        assert_type(error, ConflictError)

    open_store("memory:")  # type: ignore[call-arg]
    open_store("memory:", "acme")  # type: ignore[call-arg]
    store.tickets.save(ticket)  # type: ignore[call-arg]
    store.tickets.add(Customer(id="cus_2", display_name="Li"))  # type: ignore[arg-type]
    store.customers.add(ticket)  # type: ignore[arg-type]
    store.tickets.list(status="new")  # type: ignore[arg-type]


def configuration(policy: SlaPolicy) -> None:
    store = open_store("memory:", tenant="acme")
    assert_type(store.config.add("standard", policy), Stored[SlaPolicy])
    assert_type(store.config.save("standard", policy, expected_version=1), Stored[SlaPolicy])


@attrs.frozen
class Visit:
    id: str
    due: datetime


VISITS = Collection(
    "typing_visits",
    "visit",
    Visit,
    key_of=lambda visit: visit.id,
    columns=[Column("due", ColumnType.INSTANT)],
    queries=[Query("by_due", order="due")],
    columns_of=lambda visit: {"due": visit.due},
)


def _due(key: str, version: int, values: Sequence[Any]) -> datetime:
    due: datetime = values[0]
    return due


def collections() -> None:
    store = open_store("memory:", tenant="acme", create=True, clock=FrozenClock(AT))
    visits = store.collection(VISITS)
    assert_type(visits, DocumentRepository[Visit])
    assert_type(visits.add(Visit("v1", AT)), Stored[Visit])
    assert_type(visits.find("by_due", low=AT), Page[Stored[Visit]])
    assert_type(visits.count(), int)
    assert_type(visits.select_columns({}, "due", columns=["due"]), Page[ColumnRow])
    assert_type(visits.select_values({}, "due", columns=["due"], make=_due), Page[datetime])
    visits.select_values({}, "due", columns=["due"], make=len)  # type: ignore[arg-type]
    visits.add(Customer(id="cus_2", display_name="Li"))  # type: ignore[arg-type]
    Collection("x", "x", Visit, key_of=lambda visit: visit.due)  # type: ignore[arg-type, return-value]


def outbox_and_erasure() -> None:
    store = open_store("memory:", tenant="acme")
    claimed = store.outbox.claim(relay="r1", limit=10, lease=timedelta(seconds=30))
    assert_type(claimed, list[OutboxMessage])
    assert_type(store.outbox.ack([m.id for m in claimed], relay="r1"), int)
    assert_type(store.outbox.failed().items, tuple[FailedMessage, ...])
    assert_type(store.erase_customer("cus_1", reason="request ER-1"), Erasure)
    assert_type(store.contact_rules, ContactRules)
    store.set_contact_rules(ContactRules(unique=True, default_region="CN"))
    assert_type(store.config.get(Condition, "vip").value, Condition)
    store.outbox.claim(limit=10)  # type: ignore[call-arg]
    store.outbox.claim(relay="r1", lease=30)  # type: ignore[arg-type]
    store.erase_customer("cus_1")  # type: ignore[call-arg]
