"""The Store itself, on the memory adapter: what no adapter decides.

Schemes come from a registry, configuration takes every document type,
tickets are saved by appending, cursors are bound to their query, documents
have a size limit. The contract suite (csdomain.testing.storage) runs the rest
on every adapter.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdomain import ChannelKind, ContactPoint, Customer, FrozenClock
from csdomain.conditions import AllOf, Condition, Equals
from csdomain.errors import ConflictError, NotFoundError, StorageError, ValidationError
from csdomain.serialization import declare_document
from csdomain.storage import (
    Collection,
    Column,
    ColumnType,
    Query,
    Store,
    declare_collection,
    open_store,
    register_adapter,
)
from csdomain.storage import memory as memory_adapter
from csdomain.testing import strategies as cst
from csdomain.testing.storage import sample_ticket
from csdomain.tickets import Actor, Ticket

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@attrs.frozen
class Visit:
    """A small aggregate declared only here: an extension's."""

    id: str
    agent: str
    due: datetime
    done: bool = False
    tags: tuple[str, ...] = ()


declare_document("store_test_visit", Visit)

VISITS = declare_collection(
    Collection(
        "store_test_visits",
        "visit",
        Visit,
        key_of=lambda v: v.id,
        columns=[
            Column("agent", ColumnType.TEXT),
            Column("due", ColumnType.INSTANT),
            Column("done", ColumnType.BOOLEAN),
            Column("tag", ColumnType.TEXT, multiple=True),
        ],
        queries=[
            Query("due_by_agent", where=["agent"], order="due"),
            Query("open", where=["done"], order="due"),
            Query("by_tag", where=["tag"]),
        ],
        columns_of=lambda v: {"agent": v.agent, "due": v.due, "done": v.done, "tag": v.tags},
    )
)


@pytest.fixture
def store() -> Store:
    return open_store("memory:", tenant="acme", clock=FrozenClock(T0))


# -- schemes ----------------------------------------------------------------------


def test_a_scheme_naming_a_module_is_refused_and_nothing_is_imported() -> None:
    import sys

    sys.modules.pop("this_module_must_not_load", None)
    with pytest.raises(ValidationError, match="no storage adapter serves the scheme"):
        open_store("os.path:x", tenant="acme")
    with pytest.raises(ValidationError, match="no storage adapter serves"):
        open_store("this_module_must_not_load.x:y", tenant="acme")
    assert "this_module_must_not_load" not in sys.modules


def test_a_registered_scheme_opens_with_its_opener() -> None:
    opened: list[tuple[str, str, bool]] = []

    def opener(url: str, tenant: str, *, create: bool = False) -> Any:
        opened.append((url, tenant, create))
        return memory_adapter.open_backend("memory:", tenant)

    register_adapter("storetestdb", opener)
    store = open_store("storetestdb://somewhere", tenant="acme", create=True)
    assert opened == [("storetestdb://somewhere", "acme", True)]
    assert store.tickets.count() == 0


@pytest.mark.parametrize("scheme", ["sqlite", "memory", "Bad Scheme", ""])
def test_built_in_or_malformed_schemes_cannot_be_registered(scheme: str) -> None:
    with pytest.raises(ValidationError, match="scheme"):
        register_adapter(scheme, memory_adapter.open_backend)


# -- configuration ------------------------------------------------------------------


def test_configuration_takes_conditions_and_finds_them_by_their_base(store: Store) -> None:
    rule = AllOf((Equals("customer.tier", "vip"), Equals("ticket.kind", "complaint")))
    store.config.add("vip_complaints", rule)
    assert store.config.get(Condition, "vip_complaints").value == rule
    assert store.config.get(AllOf, "vip_complaints").value == rule
    with pytest.raises(NotFoundError):
        store.config.get(Equals, "vip_complaints")  # stored, but not an Equals
    names = [name for name, _ in store.config.list(Condition).items]
    assert names == ["vip_complaints"]


# -- tickets: appended events ---------------------------------------------------------


def test_a_save_appends_only_the_new_events(store: Store) -> None:
    ticket = sample_ticket(messages=2)
    store.tickets.add(ticket)
    stored = store.tickets.get(ticket.id)
    longer = stored.value.add_message(at=T0 + timedelta(hours=1), actor=Actor.agent("a"), body="x")
    store.tickets.save(longer, expected_version=stored.version)
    rows = store.backend.read_events("tickets", [(ticket.id, len(longer.timeline))])
    assert len(rows[ticket.id]) == len(longer.timeline)
    assert store.tickets.get(ticket.id).value == longer
    sequences = [m.sequence for m in store.outbox.pending(limit=100)]
    assert sequences == list(range(len(longer.timeline)))


@pytest.mark.parametrize("fresh_store", [False, True], ids=["remembered", "built elsewhere"])
def test_a_save_that_does_not_continue_the_stored_timeline_is_refused(
    fresh_store: bool,
) -> None:
    url = f"memory:{uuid.uuid4().hex}"
    store = open_store(url, tenant="acme")
    ticket = sample_ticket(messages=2)
    store.tickets.add(ticket)
    # The same ticket id with another history: not a continuation of the stored one.
    other = sample_ticket(messages=3, subject="Another subject")
    writer = open_store(url, tenant="acme") if fresh_store else store
    with pytest.raises(ValidationError, match="append-only"):
        writer.tickets.save(other, expected_version=1)
    assert store.tickets.get(ticket.id).value == ticket
    assert store.tickets.get(ticket.id).version == 1


def test_a_rolled_back_save_teaches_the_store_nothing(store: Store) -> None:
    ticket = sample_ticket()
    store.tickets.add(ticket)
    longer = ticket.add_message(at=T0 + timedelta(hours=1), actor=Actor.agent("a"), body="x")

    def failing_unit_of_work() -> None:
        with store.transaction():
            store.tickets.save(longer, expected_version=1)
            raise RuntimeError("the unit of work fails")

    with pytest.raises(RuntimeError):
        failing_unit_of_work()
    # Version 2 was never stored: a save based on it conflicts, one based on 1 works.
    with pytest.raises((ConflictError, ValidationError)):
        store.tickets.save(longer, expected_version=2)
    store.tickets.save(longer, expected_version=1)
    assert store.tickets.get(ticket.id).value == longer


def test_a_deadline_only_save_keeps_the_events_and_moves_the_index(store: Store) -> None:
    ticket = sample_ticket()
    store.tickets.add(ticket)
    store.tickets.save(ticket, expected_version=1, next_deadline=T0 + timedelta(hours=2))
    due = store.tickets.due_before(T0 + timedelta(hours=3))
    assert [s.value.id for s in due.items] == [ticket.id] and due.items[0].version == 2
    assert store.outbox.pending(limit=100)[-1].sequence == len(ticket.timeline) - 1


# -- declared collections -------------------------------------------------------------


def _visits(store: Store) -> list[Visit]:
    visits = [
        Visit(
            f"v{i}",
            agent=f"a{i % 2}",
            due=T0 + timedelta(hours=i),
            done=i % 3 == 0,
            tags=("vip",) if i % 2 else (),
        )
        for i in range(7)
    ]
    store.collection(VISITS).add_many(visits)
    return visits


def test_a_declared_collection_serves_its_queries(store: Store) -> None:
    visits = _visits(store)
    repository = store.collection(VISITS)
    page = repository.find("due_by_agent", where={"agent": "a1"}, high=T0 + timedelta(hours=5))
    assert [s.value.id for s in page.items] == ["v1", "v3"]
    assert repository.count("by_tag", where={"tag": "vip"}) == 3
    assert [s.value.id for s in repository.find("open", where={"done": False}).items] == [
        v.id for v in visits if not v.done
    ]


def test_cursors_are_bound_to_their_query(store: Store) -> None:
    _visits(store)
    repository = store.collection(VISITS)
    first = repository.find("due_by_agent", where={"agent": "a0"}, limit=1)
    assert first.next_cursor is not None
    second = repository.find(
        "due_by_agent", where={"agent": "a0"}, limit=1, cursor=first.next_cursor
    )
    assert [s.value.id for s in second.items] == ["v2"]
    for wrong in (
        lambda: repository.find("due_by_agent", where={"agent": "a1"}, cursor=first.next_cursor),
        lambda: repository.find("open", where={"done": False}, cursor=first.next_cursor),
        lambda: store.tickets.list(cursor=first.next_cursor),
        lambda: repository.find("due_by_agent", where={"agent": "a0"}, cursor="bm90IGEgY3Vyc29y"),
        lambda: repository.find("due_by_agent", where={"agent": "a0"}, cursor=12),  # type: ignore[arg-type]
    ):
        with pytest.raises(ValidationError, match="cursor"):
            wrong()


def test_queries_are_checked_against_the_declaration(store: Store) -> None:
    repository = store.collection(VISITS)
    with pytest.raises(ValidationError, match="not a declared query"):
        repository.find("by_colour")
    with pytest.raises(ValidationError, match="filters on"):
        repository.find("due_by_agent", where={"done": True})
    with pytest.raises(ValidationError, match="aware datetime"):
        repository.find("due_by_agent", where={"agent": "a0"}, low="yesterday")
    with pytest.raises(ValidationError, match="expected text"):
        repository.find("due_by_agent", where={"agent": 7})


def test_a_document_over_the_size_limit_is_refused_and_nothing_is_stored() -> None:
    store = open_store("memory:", tenant="acme", max_document_bytes=2_048)
    customer = Customer(id="cus_1", display_name="x", attributes={"notes": "x" * 3_000})
    with pytest.raises(ValidationError, match="accepts up to 2,048"):
        store.customers.add(customer)
    assert store.customers.count() == 0
    with pytest.raises(ValidationError, match="1024 or more"):
        open_store("memory:", tenant="acme", max_document_bytes=10)


def test_events_collections_have_their_own_repository(store: Store) -> None:
    from csdomain.storage.tickets import TICKETS

    with pytest.raises(ValidationError, match="event streams"):
        store.collection(TICKETS)


# -- contacts ------------------------------------------------------------------------------


def test_unique_contact_rules_refuse_existing_duplicates_and_change_nothing(store: Store) -> None:
    from csdomain.addresses import ContactRules

    for id, spelling in (("cus_1", "+86 138 0013 8000"), ("cus_2", "13800138000")):
        point = ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address=spelling)
        store.customers.add(Customer(id=id, display_name=id, contact_points=(point,)))
    with pytest.raises(ConflictError, match="unique"):
        store.set_contact_rules(ContactRules(unique=True, default_region="CN"))
    assert store.contact_rules == ContactRules()
    # Without uniqueness, both spellings are found by either.
    store.set_contact_rules(ContactRules(default_region="CN"))
    assert [s.value.id for s in store.customers.find_by_contact("+8613800138000")] == [
        "cus_1",
        "cus_2",
    ]


def test_a_closed_store_refuses_calls() -> None:
    store = open_store("memory:", tenant="acme")
    store.close()
    with pytest.raises(StorageError):
        store.tickets.count()


def test_outbox_leases_come_back_after_they_end() -> None:
    clock = FrozenClock(T0)
    store = open_store("memory:", tenant="acme", clock=clock)
    store.tickets.add(sample_ticket())
    first = store.outbox.claim(relay="r1", limit=2, lease=timedelta(seconds=10))
    assert [m.attempts for m in first] == [1, 1]
    assert [m.id for m in store.outbox.claim(relay="r2", limit=2)] == [3, 4]
    clock.advance(seconds=11)
    again = store.outbox.claim(relay="r2", limit=2)
    assert [(m.id, m.attempts) for m in again] == [(1, 2), (2, 2)]
    assert store.outbox.ack([m.id for m in first], relay="r1") == 0  # its lease ran out
    assert store.outbox.ack([m.id for m in again], relay="r2") == 2


def test_columns_added_to_a_declaration_are_computed_for_stored_values() -> None:
    url = f"memory:{uuid.uuid4().hex}"
    plain = Collection("store_test_notes", "note", Visit, key_of=lambda v: v.id)
    first = open_store(url, tenant="acme")
    first.collection(plain).add_many(
        [Visit("n1", agent="a1", due=T0), Visit("n2", agent="a2", due=T0)]
    )
    indexed = Collection(
        "store_test_notes",
        "note",
        Visit,
        key_of=lambda v: v.id,
        columns=[Column("agent", ColumnType.TEXT)],
        queries=[Query("by_agent", where=["agent"])],
        columns_of=lambda v: {"agent": v.agent},
    )
    later = open_store(url, tenant="acme")
    notes = later.collection(indexed)
    assert [s.value.id for s in notes.find("by_agent", where={"agent": "a2"}).items] == ["n2"]
    assert notes.count("by_agent", where={"agent": "a1"}) == 1


def test_erasure_reasons_are_checked_before_anything_changes(store: Store) -> None:
    store.tickets.add(sample_ticket())
    with pytest.raises(ValidationError, match="at most 200"):
        store.erase_customer("cus_1", reason="x" * 201)
    assert store.tickets.get("tkt_1").version == 1


def test_an_adapter_advertised_by_entry_point_opens_its_scheme(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib.metadata import EntryPoint

    from csdomain.storage import adapters

    advertised = EntryPoint(
        name="storetestep",
        value="csdomain.storage.memory:open_backend",
        group=adapters.ENTRY_POINT_GROUP,
    )
    monkeypatch.setattr(
        adapters, "entry_points", lambda group: [advertised] if group == advertised.group else []
    )
    assert "storetestep" in adapters.schemes()
    store = open_store("storetestep://x", tenant="acme")  # served by the memory opener
    assert store.tickets.count() == 0
    broken = EntryPoint(name="storetestep", value="no_such_module_here:x", group=advertised.group)
    monkeypatch.setattr(adapters, "entry_points", lambda group: [broken])
    with pytest.raises(StorageError, match="cannot load the storage adapter"):
        open_store("storetestep://x", tenant="acme")


@settings(max_examples=40)
@given(ticket=cst.tickets(max_events=8), deadline=st.none() | cst.aware_datetimes())
def test_a_tickets_columns_are_what_its_declaration_gives(
    ticket: Ticket, deadline: datetime | None
) -> None:
    from csdomain.storage._context import columns_for
    from csdomain.storage.tickets import TICKETS, TicketRepository

    declared = columns_for(
        TICKETS, {**TICKETS.columns_of(ticket), "next_deadline": deadline}, "test"
    )
    assert TicketRepository._state_and_columns(ticket, deadline)[1] == declared


@pytest.mark.parametrize("adapter", ["memory", "sqlite"])
def test_every_tenant_gets_the_columns_added_after_it_stored_values(
    adapter: str, tmp_path: Any
) -> None:
    url = f"memory:{uuid.uuid4().hex}" if adapter == "memory" else f"sqlite:///{tmp_path}/d.db"
    plain = Collection("store_test_memos", "memo", Visit, key_of=lambda v: v.id)
    indexed = attrs.evolve(
        plain,
        columns=[Column("agent", ColumnType.TEXT)],
        queries=[Query("by_agent", where=["agent"])],
        columns_of=lambda v: {"agent": v.agent},
    )
    for tenant in ("acme", "globex"):
        with open_store(url, tenant=tenant, create=True) as store:
            store.collection(plain).add(Visit(f"{tenant}_1", agent="a1", due=T0))
    for tenant in ("acme", "globex"):  # the first declares the column, each recomputes
        with open_store(url, tenant=tenant) as store:
            found = store.collection(indexed).find("by_agent", where={"agent": "a1"})
            assert [s.value.id for s in found.items] == [f"{tenant}_1"]
