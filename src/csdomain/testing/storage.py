"""The storage contract: the tests every :class:`~csdomain.storage.Store` adapter passes.

csdomain's own adapters (memory, SQLite, PostgreSQL) run it, and a third-party
adapter can too. Subclass :class:`StoreContract` in a test module whose class
name starts with ``Test`` and implement one factory method::

    from csdomain.storage import Store, open_store
    from csdomain.testing.storage import StoreContract

    class TestMyAdapter(StoreContract):
        def setup_method(self) -> None:
            self.url = make_an_empty_database()          # your own helper

        def make_store(self, tenant: str) -> Store:
            return open_store(self.url, tenant=tenant, create=True)

Within one test, :meth:`StoreContract.make_store` is called once or more per
tenant; the stores it returns must share one database (a second store of a
tenant sees what the first committed), and every test must start from an
empty one. Every test method is public and stable: new csdomain
releases add tests, they do not rename or remove them.

The outbox lease tests need a store whose clock they move: the contract
wraps the backend of a :meth:`StoreContract.make_store` store in a new
:class:`~csdomain.storage.Store` with a :class:`~csdomain.clock.FrozenClock`
(override :meth:`StoreContract.make_clocked_store` if your stores need more).
The generic collection tests store :class:`ContractTask` documents in the
declared collection :data:`CONTRACT_TASKS` (and :data:`CONTRACT_NOTES`), which
importing this module declares; a store makes their tables when it first uses them.

:class:`StoreComparison` applies the same random operations (Hypothesis
``RuleBasedStateMachine``) to the in-memory adapter and to the adapter under
test and asserts identical reads; the contract runs it as
:meth:`StoreContract.test_matches_the_memory_adapter`.

Requires pytest and Hypothesis.
"""

from __future__ import annotations

import base64
import json
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, cast

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import given as examples_of
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from csdomain._kernel.collections import collections as declared_collections
from csdomain._kernel.documents import declare_document
from csdomain.addresses import ContactRules
from csdomain.calendars import BusinessCalendar, Holiday
from csdomain.channels import ChannelKind
from csdomain.clock import Clock, FrozenClock
from csdomain.conditions import AllOf, Condition, Equals
from csdomain.customers import ContactPoint, Customer
from csdomain.errors import (
    ConflictError,
    CorruptRecordError,
    NotFoundError,
    SchemaError,
    ValidationError,
)
from csdomain.people import Agent, Group
from csdomain.priorities import Priority
from csdomain.privacy import REDACTED
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, Target
from csdomain.storage import (
    MAX_PAGE,
    Backend,
    Collection,
    Column,
    ColumnRow,
    ColumnType,
    DocumentRepository,
    OutboxMessage,
    Page,
    Query,
    StorageError,
    Store,
    Stored,
    declare_collection,
    open_store,
)
from csdomain.storage.backend import Select
from csdomain.tickets import (
    Actor,
    PersonalDataErased,
    Status,
    Ticket,
    TicketEvent,
    TicketKind,
)

__all__ = [
    "CONTRACT_NOTES",
    "CONTRACT_TASKS",
    "ContractNote",
    "ContractTask",
    "StoreComparison",
    "StoreContract",
    "sample_ticket",
    "walk",
]

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
AGENT = Actor.agent("agt_1")
#: Text that has broken storage layers: quotes, SQL, escapes, emoji, CJK, control characters.
AWKWARD_TEXTS = (
    'O\'Brien said "hi"; `tick` \\ back\\slash',
    "'); DROP TABLE tickets; --",
    "%s %(name)s {0} $1 ? :name",
    "退款未到账 🙂👍🏽 \u200b zero-width, \u202e rtl",
    "tab\tnew\nline\rcarriage \x01\x1f \u2028 \U0010ffff",
)


def sample_ticket(
    id: str = "tkt_1",
    *,
    customer_id: str = "cus_1",
    at: datetime = T0,
    messages: int = 1,
    subject: str = "Refund not received",
    status: Status | None = None,
    priority: Priority = Priority.NORMAL,
    assignee_id: str | None = None,
) -> Ticket:
    """A ticket with ``messages`` agent replies after its description, for storage tests."""
    ticket = Ticket.open(
        id=id,
        customer_id=customer_id,
        channel=ChannelKind.EMAIL,
        subject=subject,
        at=at,
        priority=priority,
        assignee_id=assignee_id,
        description="Where is my refund?",
    )
    for i in range(messages):
        ticket = ticket.add_message(
            at=at + timedelta(minutes=i + 1), actor=AGENT, body=f"Reply {i + 1}"
        )
    if status is not None and status is not ticket.status:
        ticket = ticket.change_status(status, at=ticket.updated_at, actor=AGENT)
    return ticket


def _customer(id: str = "cus_1", address: str = "+86 138 0013 8000") -> Customer:
    return Customer(
        id=id,
        display_name="王芳",
        contact_points=(
            ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address=address),
            ContactPoint(channel=ChannelKind.EMAIL, address=f"{id}@example.com"),
        ),
    )


def _policy(name: str = "standard", hours: int = 8) -> SlaPolicy:
    return SlaPolicy(
        name=name,
        metrics=(
            MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: Target(timedelta(hours=hours))}),
        ),
    )


# -- a small aggregate of the contract's own, in a declared collection ----------------


def _strings(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen
class ContractTask:
    """A small document the generic collection tests store (declared as ``contract_task``).

    Each field feeds one kind of indexed column of :data:`CONTRACT_TASKS`:
    ``owner`` text, ``code`` unique text, ``tags`` a multiple column, ``handles``
    a unique multiple column, ``due`` an instant, ``rank`` an integer and
    ``done`` a boolean.
    """

    id: str
    owner: str | None = None
    code: str | None = None
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_strings)
    handles: frozenset[str] = attrs.field(default=frozenset(), converter=_strings)
    due: datetime | None = None
    rank: int | None = None
    done: bool = False
    note: str = ""


@attrs.frozen
class ContractNote:
    """A second small document (``contract_note``), in a collection of its own."""

    id: str
    owner: str | None = None


declare_document("contract_task", ContractTask)
declare_document("contract_note", ContractNote)


def _task_columns(task: ContractTask) -> dict[str, Any]:
    return {
        "owner": task.owner,
        "code": task.code,
        "tags": task.tags,
        "handles": task.handles,
        "due": task.due,
        "rank": task.rank,
        "done": task.done,
    }


#: The collection of :class:`ContractTask` documents, with a query for each kind of filter.
CONTRACT_TASKS: Collection[ContractTask] = declare_collection(
    Collection(
        "contract_tasks",
        "contract task",
        ContractTask,
        key_of=lambda task: task.id,
        columns=[
            Column("owner", ColumnType.TEXT),
            Column("code", ColumnType.TEXT, unique=True),
            Column("tags", ColumnType.TEXT, multiple=True),
            Column("handles", ColumnType.TEXT, unique=True, multiple=True),
            Column("due", ColumnType.INSTANT),
            Column("rank", ColumnType.INTEGER),
            Column("done", ColumnType.BOOLEAN),
        ],
        queries=[
            Query("by_owner", where=["owner"]),
            Query("by_owner_done", where=["owner", "done"]),
            Query("by_tag", where=["tags"]),
            Query("by_tag_owner", where=["tags", "owner"]),
            Query("by_rank", where=["rank"]),
            Query("by_code", where=["code"]),
            Query("by_handle", where=["handles"]),
            Query("due", order="due"),
            Query("owner_due", where=["owner"], order="due"),
            Query("tag_due", where=["tags"], order="due"),
            Query("rank_order", order="rank"),
        ],
        columns_of=_task_columns,
    )
)

#: The collection of :class:`ContractNote` documents (for cursors of another collection).
CONTRACT_NOTES: Collection[ContractNote] = declare_collection(
    Collection(
        "contract_notes",
        "contract note",
        ContractNote,
        key_of=lambda note: note.id,
        columns=[Column("owner", ColumnType.TEXT)],
        queries=[Query("by_owner", where=["owner"])],
        columns_of=lambda note: {"owner": note.owner},
    )
)


def walk(page_of: Callable[[str | None], Page[Any]]) -> list[Any]:
    """Every item of a paged listing: ``page_of(cursor)`` gives one page; the items in order."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = page_of(cursor)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def _task_keys(page_of: Callable[[str | None], Page[Stored[ContractTask]]]) -> list[str]:
    return [stored.value.id for stored in walk(page_of)]


def _raw_texts(store: Store) -> list[str]:
    """Every document, event and outbox text the store's backend holds for its tenant."""
    backend = store.backend
    texts: list[str] = []
    for collection in declared_collections.values():
        if collection.events and collection.name != "tickets":
            continue  # another aggregate's event streams: read by its own repository
        if not collection.events:
            store.collection(collection)  # declared to the database, if it was not yet
        rows = [row for _, row in backend.select(collection.name, Select(limit=10**6))]
        texts.extend(row.text for row in rows)
        if collection.name == "tickets" and rows:
            # Event counts from the domain: the state row's format is the store's own.
            counts = [(row.key, len(store.tickets.get(row.key).value.timeline)) for row in rows]
            for events in backend.read_events(collection.name, counts).values():
                texts.extend(events)
    failed = backend.outbox_failed(None, 10**6)
    texts.extend(row.text for row in backend.outbox_pending(10**6))
    texts.extend(row.text for row in failed)
    texts.extend(row.failure or "" for row in failed)
    return texts


#: Personal text :func:`_personal_ticket` writes; erasure must leave none of it.
_TICKET_SECRETS = ("Call me back", "my number is", "Room 1203", "Nanjing Road", "订单 88817")


def _personal_ticket(id: str, customer_id: str) -> Ticket:
    """A solved complaint whose subject, messages and custom fields hold personal data."""
    customer = Actor.customer(customer_id)
    ticket = Ticket.open(
        id=id,
        customer_id=customer_id,
        channel=ChannelKind.PHONE_HOTLINE,
        subject="Call me back on 13800138000",
        at=T0,
        actor=customer,
        kind=TicketKind.COMPLAINT,
        priority=Priority.HIGH,
        custom_fields={"callback": "+86 138 0013 8000"},
        description="Hi, my number is +86 138 0013 8000",
    )
    ticket = ticket.add_message(
        at=T0 + timedelta(minutes=5),
        actor=AGENT,
        body="We will call 王芳 at 138 0013 8000",
        handle_time=timedelta(minutes=4),
    )
    ticket = ticket.set_custom_fields(
        {"address": "Room 1203, 88 Nanjing Road"}, at=T0 + timedelta(minutes=10), actor=AGENT
    )
    ticket = ticket.add_message(
        at=T0 + timedelta(hours=1), actor=customer, body="订单 88817 still missing"
    )
    return ticket.change_status(Status.SOLVED, at=T0 + timedelta(hours=2), actor=AGENT)


def _legacy_cursor(order_value: object, key: str) -> str:
    """A cursor spelled as csdomain 0.1 spelled them, bound to no query: every query refuses it."""
    raw = json.dumps([order_value, key], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _write_raw(store: Store, collection: str, key: str, text: str) -> None:
    """See :meth:`StoreContract._write_raw`."""
    backend = store.backend
    columns: dict[str, Any]
    if collection.startswith("config:"):
        family = collection.partition(":")[2]
        collection, key, columns = "config", f"{family}:{key}", {"type": family}
    else:
        declared = declared_collections[collection]
        columns = {c.name: () if c.multiple else None for c in declared.columns}
    with store.transaction():
        if collection == "tickets":
            columns.update(status="open", customer_id="cus_1", kind="incident", priority="normal")
            columns.update(updated_at=0, next_deadline=0)
            # The state row counts the ticket's events; the text is its only event.
            backend.insert_many("tickets", [(key, '{"events":1}', columns)])
            backend.append_events("tickets", [(key, 0, text)])
        else:
            backend.insert_many(collection, [(key, text, columns)])


class StoreContract:
    """The behaviour every store adapter must have. Subclass it and implement :meth:`make_store`."""

    def make_store(self, tenant: str) -> Store:
        """A store bound to ``tenant`` on this test's database (empty at the test's start)."""
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = self.make_store("tenant-a")
        yield store
        store.close()

    @pytest.fixture
    def other(self, store: Store) -> Iterator[Store]:
        other = self.make_store("tenant-b")
        yield other
        other.close()

    # -- records ------------------------------------------------------------------

    def test_add_then_get_gives_back_an_equal_value_at_version_1(self, store: Store) -> None:
        ticket = sample_ticket(messages=3)
        assert store.tickets.add(ticket).version == 1
        got = store.tickets.get(ticket.id)
        assert got.value == ticket and got.version == 1
        customer = _customer()
        store.customers.add(customer)
        assert store.customers.get(customer.id).value == customer
        agent = Agent(id="agt_1", name="Li")
        store.agents.add(agent)
        assert store.agents.get("agt_1").value == agent
        group = Group(id="grp_l1", name="Frontline")
        store.groups.add(group)
        assert store.groups.get("grp_l1").value == group

    def test_configuration_documents_by_type_and_name(self, store: Store) -> None:
        policy = _policy()
        calendar = BusinessCalendar.weekdays(
            "cn",
            "Asia/Shanghai",
            "09:00-12:00",
            "13:30-18:00",
            holidays=[Holiday(date(2026, 10, 1), "National Day")],
        )
        store.config.add("standard", policy)
        store.config.add("cn", calendar)
        assert store.config.get(SlaPolicy, "standard").value == policy
        assert store.config.get(BusinessCalendar, "cn").value == calendar
        with pytest.raises(NotFoundError):
            store.config.get(SlaPolicy, "cn")  # names are per document type
        saved = store.config.save("standard", _policy(hours=4), expected_version=1)
        assert saved.version == 2
        with pytest.raises(ConflictError):
            store.config.save("standard", _policy(hours=2), expected_version=1)
        names = [name for name, _ in store.config.list(SlaPolicy).items]
        assert names == ["standard"]
        store.config.delete(SlaPolicy, "standard", expected_version=2)
        with pytest.raises(NotFoundError):
            store.config.get(SlaPolicy, "standard")

    def test_add_many_stores_all_or_none(self, store: Store) -> None:
        tickets = [sample_ticket(f"tkt_{i}") for i in range(5)]
        deadline = T0 + timedelta(hours=1)
        stored = store.tickets.add_many(tickets, next_deadlines={"tkt_2": deadline})
        assert [s.version for s in stored] == [1] * 5
        assert [s.value.id for s in store.tickets.list().items] == [t.id for t in tickets]
        assert [s.value.id for s in store.tickets.due_before(deadline + timedelta(1)).items] == [
            "tkt_2"
        ]
        assert len(store.outbox.pending(1000)) == sum(len(t.timeline) for t in tickets)
        with pytest.raises(ConflictError, match="tkt_3"):
            store.tickets.add_many([sample_ticket("tkt_9"), sample_ticket("tkt_3")])
        with pytest.raises(ConflictError, match="tkt_8"):
            store.tickets.add_many([sample_ticket("tkt_8"), sample_ticket("tkt_8")])
        assert store.tickets.count() == 5 and store.tickets.get_many(["tkt_8", "tkt_9"]) == {}
        assert store.tickets.add_many([]) == []

    def test_adding_an_existing_id_is_a_conflict_and_changes_nothing(self, store: Store) -> None:
        first = sample_ticket(subject="First")
        store.tickets.add(first)
        with pytest.raises(ConflictError):
            store.tickets.add(sample_ticket(subject="Second"))
        assert store.tickets.get(first.id).value == first
        assert len(store.outbox.pending(1000)) == len(first.timeline)

    def test_missing_ids_are_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="tkt_404"):
            store.tickets.get("tkt_404")
        with pytest.raises(NotFoundError):
            store.customers.get("cus_404")
        with pytest.raises(NotFoundError):
            store.tickets.save(sample_ticket("tkt_404"), expected_version=1)
        with pytest.raises(NotFoundError):
            store.customers.delete("cus_404", expected_version=1)

    def test_save_increments_the_version_and_stale_saves_conflict(self, store: Store) -> None:
        ticket = sample_ticket()
        store.tickets.add(ticket)
        replied = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="Done.")
        assert store.tickets.save(replied, expected_version=1).version == 2
        stale = ticket.add_message(at=T0 + timedelta(hours=2), actor=AGENT, body="Lost?")
        with pytest.raises(ConflictError, match="version 1 is stale: the stored version is 2"):
            store.tickets.save(stale, expected_version=1)
        assert store.tickets.get(ticket.id) == store.tickets.get(ticket.id)
        assert store.tickets.get(ticket.id).value == replied

    def test_conflicts_name_the_record_and_both_versions(self, store: Store) -> None:
        """What a 409 body needs: kind, key, the version sent and the version stored."""
        ticket = sample_ticket()
        store.tickets.add(ticket)
        replied = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="Done.")
        store.tickets.save(replied, expected_version=1)
        conflicts: list[tuple[ConflictError, tuple[str, str, int | None, int | None]]] = []

        def conflict(expected: tuple[str, str, int | None, int | None], call: Any) -> None:
            with pytest.raises(ConflictError) as info:
                call()
            conflicts.append((info.value, expected))

        conflict(("ticket", "tkt_1", 1, 2), lambda: store.tickets.save(ticket, expected_version=1))
        conflict(("ticket", "tkt_1", None, 2), lambda: store.tickets.add(ticket))
        conflict(
            ("ticket", "tkt_1", None, 2),
            lambda: store.tickets.add_many([sample_ticket("tkt_2"), ticket]),
        )
        conflict(
            ("ticket", "tkt_3", None, 1),
            lambda: store.tickets.add_many([sample_ticket("tkt_3"), sample_ticket("tkt_3")]),
        )
        customer = _customer()
        store.customers.add(customer)
        store.customers.save(customer.with_attributes(level=2), expected_version=1)
        store.customers.save(customer.with_attributes(level=3), expected_version=2)
        conflict(
            ("customer", "cus_1", 1, 3),
            lambda: store.customers.save(customer, expected_version=1),
        )
        conflict(
            ("customer", "cus_1", 2, 3),
            lambda: store.customers.delete("cus_1", expected_version=2),
        )
        conflict(("customer", "cus_1", None, 3), lambda: store.customers.add(customer))
        store.agents.add(Agent(id="agt_1", name="Li"))
        conflict(
            ("agent", "agt_1", None, 1), lambda: store.agents.add(Agent(id="agt_1", name="Wu"))
        )
        store.config.add("standard", _policy())
        conflict(
            ("SlaPolicy", "standard", 7, 1),
            lambda: store.config.save("standard", _policy(hours=2), expected_version=7),
        )
        conflict(
            ("SlaPolicy", "standard", None, 1), lambda: store.config.add("standard", _policy())
        )
        for error, (kind, key, expected, stored) in conflicts:
            assert (error.kind, error.key) == (kind, key)
            assert (error.expected_version, error.stored_version) == (expected, stored)
            message = str(error)
            assert repr(key) in message
            if expected is None:
                assert f"already exists (version {stored})" in message
            else:
                assert f"version {expected} is stale: the stored version is {stored}" in message
            copy = pickle.loads(pickle.dumps(error))
            assert str(copy) == message and copy.stored_version == stored
        assert store.tickets.count() == 1 and store.tickets.get("tkt_1").version == 2
        assert store.customers.get("cus_1").version == 3

    def _write_raw(self, store: Store, collection: str, key: str, text: str) -> None:
        """Put a document no domain check has seen straight into the backend.

        ``collection`` is a collection's name (a ticket's ``text`` becomes its one
        event) or ``"config:<document name>"``.
        """
        _write_raw(store, collection, key, text)

    def test_a_document_that_does_not_load_is_a_corrupt_record(self, store: Store) -> None:
        store.tickets.add(sample_ticket("tkt_0"))
        self._write_raw(store, "tickets", "tkt_bad", '{"schema_version": 1, "document": "ticket"}')
        self._write_raw(store, "customers", "cus_bad", '{"no": "customer"}')
        self._write_raw(store, "config:sla_policy", "bad", "[1, 2]")
        reads: list[tuple[str, str, Any]] = [
            ("ticket", "tkt_bad", lambda: store.tickets.get("tkt_bad")),
            ("ticket", "tkt_bad", lambda: store.tickets.get_many(["tkt_0", "tkt_bad"])),
            ("ticket", "tkt_bad", lambda: store.tickets.list()),
            ("ticket", "tkt_bad", lambda: store.tickets.due_before(T0 + timedelta(days=1))),
            (
                "ticket",
                "tkt_bad",
                lambda: store.tickets.save(sample_ticket("tkt_bad"), expected_version=1),
            ),
            ("customer", "cus_bad", lambda: store.customers.get("cus_bad")),
            ("customer", "cus_bad", lambda: store.customers.list()),
            ("SlaPolicy", "bad", lambda: store.config.get(SlaPolicy, "bad")),
            ("SlaPolicy", "bad", lambda: store.config.list(SlaPolicy)),
        ]
        for kind, key, read in reads:
            with pytest.raises(CorruptRecordError) as info:
                read()
            assert (info.value.kind, info.value.key) == (kind, key)
            assert f"stored {kind} {key!r} cannot be read" in str(info.value)
            assert isinstance(info.value, ValueError)
        assert store.tickets.get("tkt_0").version == 1  # the others stay readable

    def test_a_document_from_a_newer_csdomain_is_a_schema_error(self, store: Store) -> None:
        self._write_raw(store, "customers", "cus_new", '{"schema_version": 999, "id": "cus_new"}')
        with pytest.raises(SchemaError, match=r"customer 'cus_new'.*newer"):
            store.customers.get("cus_new")

    def test_a_closed_store_refuses_every_call(self) -> None:
        store = self.make_store("tenant-a")
        store.tickets.add(sample_ticket())
        store.close()
        calls: list[Any] = [
            lambda: store.tickets.get("tkt_1"),
            lambda: store.tickets.count(),
            lambda: store.customers.list(),
            lambda: store.outbox.pending(),
            lambda: store.tickets.add(sample_ticket("tkt_2")),
        ]
        for call in calls:
            with pytest.raises(StorageError, match="closed"):
                call()
        with pytest.raises(StorageError, match="closed"), store.transaction():
            pass  # pragma: no cover

    def test_versions_guard_customers_and_deletes(self, store: Store) -> None:
        customer = _customer()
        store.customers.add(customer)
        changed = customer.with_attributes(level=3)
        store.customers.save(changed, expected_version=1)
        with pytest.raises(ConflictError):
            store.customers.save(customer, expected_version=1)
        with pytest.raises(ConflictError):
            store.customers.delete(customer.id, expected_version=1)
        assert store.customers.get(customer.id).value == changed
        store.customers.delete(customer.id, expected_version=2)
        with pytest.raises(NotFoundError):
            store.customers.get(customer.id)
        assert store.customers.find_by_contact("+86 138 0013 8000") == ()

    def test_get_many_returns_what_exists(self, store: Store) -> None:
        for i in range(3):
            store.tickets.add(sample_ticket(f"tkt_{i}"))
        found = store.tickets.get_many(["tkt_2", "tkt_0", "tkt_9", "tkt_0"])
        assert sorted(found) == ["tkt_0", "tkt_2"]
        assert found["tkt_2"].value == sample_ticket("tkt_2")
        assert store.tickets.get_many([]) == {}

    def test_timelines_are_append_only(self, store: Store) -> None:
        ticket = sample_ticket(messages=2)
        store.tickets.add(ticket)
        rewritten = sample_ticket(messages=2, subject="Rewritten history")
        with pytest.raises(ValidationError, match="append-only"):
            store.tickets.save(rewritten, expected_version=1)
        shorter = sample_ticket(messages=1)
        with pytest.raises(ValidationError, match="append-only"):
            store.tickets.save(shorter, expected_version=1)
        assert store.tickets.get(ticket.id).value == ticket
        assert store.tickets.get(ticket.id).version == 1

    def test_bad_input_is_refused_before_anything_is_stored(self, store: Store) -> None:
        with pytest.raises(ValidationError):
            store.tickets.add("not a ticket")  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            store.tickets.get("bad id with spaces")
        with pytest.raises(ValidationError):
            store.tickets.save(sample_ticket(), expected_version=0)
        with pytest.raises(ValidationError):
            store.tickets.add(sample_ticket(), next_deadline=datetime(2026, 3, 2, 9))
        with pytest.raises(ValidationError):
            store.customers.add(sample_ticket())  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            store.tickets.list(limit=0)
        with pytest.raises(ValidationError):
            store.tickets.list(cursor="not-a-cursor")
        for forged in ([1], 2**70, None, 1.5):
            with pytest.raises(ValidationError):
                store.tickets.due_before(T0, cursor=_legacy_cursor(forged, "tkt_1"))
        assert store.tickets.count() == 0 and store.outbox.pending() == []

    def test_awkward_numbers_are_stored_unchanged(self, store: Store) -> None:
        values = {"huge": 2**63 - 1, "tiny": 5e-324, "big": 1e300, "negative_zero": -0.0}
        ticket = sample_ticket().set_custom_fields(values, at=T0 + timedelta(hours=1), actor=AGENT)
        store.tickets.add(ticket)
        stored = store.tickets.get(ticket.id).value
        assert stored == ticket
        for name, value in values.items():
            assert type(stored.custom_fields[name]) is type(value)
            assert repr(stored.custom_fields[name]) == repr(value)
        store.tickets.save(
            stored.add_message(at=T0 + timedelta(hours=2), actor=AGENT, body="ok"),
            expected_version=1,
        )

    @pytest.mark.parametrize("text", AWKWARD_TEXTS)
    def test_awkward_text_is_stored_unchanged(self, store: Store, text: str) -> None:
        ticket = sample_ticket(subject=text).add_message(
            at=T0 + timedelta(hours=1), actor=AGENT, body=text
        )
        ticket = ticket.set_custom_fields({"note": text}, at=T0 + timedelta(hours=1), actor=AGENT)
        store.tickets.add(ticket)
        got = store.tickets.get(ticket.id).value
        assert got == ticket and got.subject == text and got.custom_fields["note"] == text
        customer = _customer(address=text)
        store.customers.add(customer)
        assert [s.value for s in store.customers.find_by_contact(text)] == [customer]

    # -- units of work ------------------------------------------------------------

    def test_a_transaction_commits_everything_together(self, store: Store) -> None:
        with store.transaction():
            store.customers.add(_customer())
            store.tickets.add(sample_ticket())
            store.config.add("standard", _policy())
        assert store.customers.count() == 1 and store.tickets.count() == 1
        assert store.config.get(SlaPolicy, "standard").version == 1

    def test_an_exception_rolls_everything_back(self, store: Store) -> None:
        store.tickets.add(sample_ticket("tkt_0"))
        before = store.outbox.pending(1000)

        def failing_unit_of_work() -> None:
            with store.transaction():
                store.customers.add(_customer())
                store.tickets.add(sample_ticket("tkt_1"))
                store.tickets.save(sample_ticket("tkt_0", messages=2), expected_version=1)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            failing_unit_of_work()
        assert store.customers.count() == 0
        assert [s.value.id for s in store.tickets.list().items] == ["tkt_0"]
        assert store.tickets.get("tkt_0").version == 1
        assert store.outbox.pending(1000) == before
        assert store.customers.find_by_contact("+86 138 0013 8000") == ()

    def test_a_conflict_inside_a_transaction_rolls_it_back(self, store: Store) -> None:
        store.tickets.add(sample_ticket("tkt_0"))

        def adding_a_duplicate() -> None:
            with store.transaction():
                store.tickets.add(sample_ticket("tkt_1"))
                store.tickets.add(sample_ticket("tkt_0"))

        with pytest.raises(ConflictError):
            adding_a_duplicate()
        assert store.tickets.count() == 1

    def test_transactions_do_not_nest(self, store: Store) -> None:
        with store.transaction():
            store.tickets.add(sample_ticket("tkt_0"))
            with pytest.raises(StorageError, match="nest"), store.transaction():
                pass  # pragma: no cover
        assert store.tickets.count() == 1

    def test_concurrent_saves_of_one_version_give_exactly_one_conflict(self, store: Store) -> None:
        ticket = sample_ticket()
        store.tickets.add(ticket)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def save(body: str) -> None:
            changed = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body=body)
            barrier.wait()
            try:
                store.tickets.save(changed, expected_version=1)
                outcomes.append(body)
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=save, args=(b,)) for b in ("left", "right")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes).count("conflict") == 1
        winner = next(o for o in outcomes if o != "conflict")
        stored = store.tickets.get(ticket.id)
        assert stored.version == 2 and stored.value.messages[-1].body == winner

    # -- queries ------------------------------------------------------------------

    def test_pages_cover_every_record_once_in_id_order(self, store: Store) -> None:
        ids = [f"tkt_{i:03d}" for i in range(25)]
        with store.transaction():
            for i in reversed(ids):
                store.tickets.add(sample_ticket(i, messages=0))
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = store.tickets.list(limit=10, cursor=cursor)
            seen.extend(s.value.id for s in page.items)
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == ids and pages == 3

    def test_ticket_filters_and_counts(self, store: Store) -> None:
        store.tickets.add(sample_ticket("tkt_a", customer_id="cus_1", assignee_id="agt_1"))
        store.tickets.add(sample_ticket("tkt_b", customer_id="cus_2", status=Status.SOLVED))
        store.tickets.add(
            sample_ticket("tkt_c", customer_id="cus_1", priority=Priority.URGENT, messages=0)
        )

        def ids(**filters: Any) -> list[str]:
            return [s.value.id for s in store.tickets.list(**filters).items]

        assert ids(status=Status.OPEN) == ["tkt_a"]
        assert ids(status=[Status.NEW, Status.SOLVED]) == ["tkt_b", "tkt_c"]
        assert ids(customer_id="cus_1") == ["tkt_a", "tkt_c"]
        assert ids(assignee_id="agt_1") == ["tkt_a"]
        assert ids(priority=Priority.URGENT) == ["tkt_c"]
        assert ids(kind=TicketKind.CONSULTATION, customer_id="cus_2") == ["tkt_b"]
        assert ids(group_id="grp_none") == []
        assert store.tickets.count(customer_id="cus_1") == 2
        assert store.tickets.count(status=Status.SOLVED) == 1

    def test_due_before_lists_unsolved_tickets_by_deadline(self, store: Store) -> None:
        deadlines = {"tkt_a": 3, "tkt_b": 1, "tkt_c": 2, "tkt_d": 10}
        for key, hours in deadlines.items():
            store.tickets.add(sample_ticket(key), next_deadline=T0 + timedelta(hours=hours))
        store.tickets.add(sample_ticket("tkt_e"))  # no deadline
        solved = sample_ticket("tkt_f", status=Status.SOLVED)
        store.tickets.add(solved, next_deadline=T0)
        due = store.tickets.due_before(T0 + timedelta(hours=3), limit=1)
        assert [s.value.id for s in due.items] == ["tkt_b"]
        rest = store.tickets.due_before(T0 + timedelta(hours=3), cursor=due.next_cursor)
        assert [s.value.id for s in rest.items] == ["tkt_c"] and rest.next_cursor is None
        # Saving without a deadline takes the ticket off the list.
        b = store.tickets.get("tkt_b")
        store.tickets.save(b.value, expected_version=b.version)
        assert [s.value.id for s in store.tickets.due_before(T0 + timedelta(hours=4)).items] == [
            "tkt_c",
            "tkt_a",
        ]

    def test_customers_are_found_by_exact_contact_address(self, store: Store) -> None:
        store.customers.add(_customer("cus_1", "+86 138 0013 8000"))
        store.customers.add(_customer("cus_2", "+86 139 0000 0000"))
        found = store.customers.find_by_contact("+86 138 0013 8000")
        assert [s.value.id for s in found] == ["cus_1"]
        assert store.customers.find_by_contact("+86 138 0013 800") == ()
        assert [
            s.value.id for s in store.customers.find_by_contact("cus_2@example.com", "email")
        ] == ["cus_2"]
        assert store.customers.find_by_contact("cus_2@example.com", "sms") == ()
        moved = _customer("cus_1", "+86 137 1111 1111")
        store.customers.save(moved, expected_version=1)
        assert store.customers.find_by_contact("+86 138 0013 8000") == ()
        assert [s.value.id for s in store.customers.find_by_contact("+86 137 1111 1111")] == [
            "cus_1"
        ]

    # -- outbox -------------------------------------------------------------------

    def test_the_outbox_holds_every_new_event_in_order(self, store: Store) -> None:
        ticket = sample_ticket(messages=1)
        store.tickets.add(ticket)
        more = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="More")
        store.tickets.save(more, expected_version=1)
        pending = store.outbox.pending(100)
        assert [m.event for m in pending] == list(more.timeline)
        assert [m.sequence for m in pending] == list(range(len(more.timeline)))
        assert {m.ticket_id for m in pending} == {ticket.id}
        assert [m.id for m in pending] == sorted(m.id for m in pending)
        store.outbox.mark_published([m.id for m in pending[:2]])
        assert [m.id for m in store.outbox.pending()] == [m.id for m in pending[2:]]
        assert len(store.outbox.pending(limit=1)) == 1

    def test_a_unit_of_work_reads_its_own_outbox_messages(self, store: Store) -> None:
        ticket = sample_ticket()
        with store.transaction():
            store.tickets.add(ticket)
            inside = store.outbox.pending(100)
            store.outbox.mark_published([m.id for m in inside[:1]])
        assert [m.event for m in inside] == list(ticket.timeline)
        assert [m.event for m in store.outbox.pending(100)] == list(ticket.timeline[1:])

    # -- tenancy ------------------------------------------------------------------

    def test_no_call_reaches_another_tenants_records(self, store: Store, other: Store) -> None:
        ticket = sample_ticket()
        store.tickets.add(ticket, next_deadline=T0)
        store.customers.add(_customer())
        store.config.add("standard", _policy())
        with pytest.raises(NotFoundError):
            other.tickets.get(ticket.id)
        assert other.tickets.get_many([ticket.id]) == {}
        assert other.tickets.list().items == () and other.tickets.count() == 0
        assert other.tickets.due_before(T0 + timedelta(days=1)).items == ()
        assert other.customers.find_by_contact("+86 138 0013 8000") == ()
        assert other.outbox.pending() == []
        with pytest.raises(NotFoundError):
            other.tickets.save(ticket, expected_version=1)
        with pytest.raises(NotFoundError):
            other.customers.delete("cus_1", expected_version=1)
        with pytest.raises(NotFoundError):
            other.config.get(SlaPolicy, "standard")
        other.outbox.mark_published([m.id for m in store.outbox.pending()])
        assert len(store.outbox.pending()) == len(ticket.timeline)
        # The same ids are free in the other tenant.
        other.tickets.add(ticket)
        assert other.tickets.get(ticket.id).version == 1
        assert store.tickets.get(ticket.id).version == 1

    # -- declared collections -------------------------------------------------------

    def test_a_declared_collection_stores_versioned_documents(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        task = ContractTask(
            "task_1", owner="li", code="A-1", tags={"vip"}, due=T0, rank=3, note=AWKWARD_TEXTS[0]
        )
        assert tasks.add(task) == Stored(task, 1)
        assert tasks.get("task_1") == Stored(task, 1)
        changed = attrs.evolve(task, owner="wu", done=True, note=AWKWARD_TEXTS[3])
        assert tasks.save(changed, expected_version=1) == Stored(changed, 2)
        with pytest.raises(ConflictError) as info:
            tasks.save(task, expected_version=1)
        assert (info.value.kind, info.value.key) == ("contract task", "task_1")
        assert (info.value.expected_version, info.value.stored_version) == (1, 2)
        with pytest.raises(ConflictError) as info:
            tasks.add(task)
        assert (info.value.expected_version, info.value.stored_version) == (None, 2)
        with pytest.raises(ConflictError):
            tasks.delete("task_1", expected_version=1)
        assert tasks.get("task_1") == Stored(changed, 2)
        with pytest.raises(NotFoundError, match="task_9"):
            tasks.get("task_9")
        with pytest.raises(NotFoundError):
            tasks.save(ContractTask("task_9"), expected_version=1)
        with pytest.raises(NotFoundError):
            tasks.delete("task_9", expected_version=1)
        tasks.delete("task_1", expected_version=2)
        with pytest.raises(NotFoundError):
            tasks.get("task_1")
        assert tasks.count() == 0 and tasks.find("by_owner", where={"owner": "wu"}).items == ()
        # The key is free again, and starts over at version 1.
        assert tasks.add(task).version == 1

    def test_a_collections_add_many_stores_all_or_none(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        stored = tasks.add_many([ContractTask(f"task_{i}", owner="li") for i in range(3)])
        assert [s.version for s in stored] == [1, 1, 1]
        with pytest.raises(ConflictError, match="task_1"):
            tasks.add_many([ContractTask("task_7"), ContractTask("task_1")])
        with pytest.raises(ConflictError, match="task_8"):
            tasks.add_many([ContractTask("task_8"), ContractTask("task_8")])
        with pytest.raises(ConflictError):  # two new records with one unique value
            tasks.add_many([ContractTask("task_5", code="X"), ContractTask("task_6", code="X")])
        found = tasks.get_many(["task_2", "task_0", "task_5", "task_6", "task_7", "task_0"])
        assert sorted(found) == ["task_0", "task_2"]
        assert found["task_2"] == Stored(ContractTask("task_2", owner="li"), 1)
        assert tasks.count() == 3 and tasks.count("by_owner", where={"owner": "li"}) == 3
        assert tasks.add_many([]) == [] and tasks.get_many([]) == {}

    def test_a_collection_finds_records_by_column_values(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(
            [
                ContractTask("t1", owner="li", tags={"vip", "refund"}, rank=1),
                ContractTask("t2", owner="wu", tags={"refund"}, rank=2, done=True),
                ContractTask("t3", owner=None, rank=None),
                ContractTask("t4", owner="li", tags={"vip"}, rank=-5, done=True),
                ContractTask("t5", owner="李", rank=2**63 - 1),
            ]
        )

        def keys(query: str, **where: Any) -> list[str]:
            return _task_keys(lambda c: tasks.find(query, where=where, limit=2, cursor=c))

        assert keys("by_owner", owner="li") == ["t1", "t4"]
        assert keys("by_owner", owner=("li", "wu")) == ["t1", "t2", "t4"]
        assert keys("by_owner", owner=None) == ["t3"]  # None matches a NULL column
        assert keys("by_owner", owner=(None, "wu")) == ["t2", "t3"]
        assert keys("by_owner", owner="李") == ["t5"]
        assert keys("by_owner", owner="nobody") == []
        assert keys("by_owner_done", owner="li", done=True) == ["t4"]
        assert keys("by_owner_done", owner="li", done=False) == ["t1"]
        assert keys("by_owner_done", owner=("li", "wu"), done=True) == ["t2", "t4"]
        # A multiple column matches a record holding any of the values, listed once.
        assert keys("by_tag", tags="vip") == ["t1", "t4"]
        assert keys("by_tag", tags=("vip", "refund")) == ["t1", "t2", "t4"]
        assert keys("by_tag_owner", tags="refund", owner="wu") == ["t2"]
        assert keys("by_rank", rank=2**63 - 1) == ["t5"]
        assert keys("by_rank", rank=-5) == ["t4"]
        assert keys("by_rank", rank=None) == ["t3"]
        assert tasks.count("by_owner", where={"owner": "li"}) == 2
        assert tasks.count("by_owner", where={"owner": None}) == 1
        assert tasks.count("by_tag", where={"tags": ("vip", "refund")}) == 3
        assert tasks.count("by_owner_done", where={"owner": "li", "done": True}) == 1
        assert tasks.count() == 5
        # Saving moves the record between the values; deleting drops it from them.
        tasks.save(ContractTask("t1", owner="wu", tags={"other"}, rank=1), expected_version=1)
        assert keys("by_tag", tags="vip") == ["t4"] and keys("by_tag", tags="other") == ["t1"]
        assert keys("by_owner", owner="wu") == ["t1", "t2"]
        tasks.delete("t4", expected_version=1)
        assert keys("by_tag", tags="vip") == [] and keys("by_owner", owner="li") == []
        assert tasks.count("by_tag", where={"tags": "vip"}) == 0

    def test_a_collection_lists_an_instant_range_in_order(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        hours = {"a": 3, "b": 1, "c": 2, "d": 2, "e": None, "f": 10, "g": -1}
        tasks.add_many(
            ContractTask(
                key,
                owner="li" if key in "abe" else "wu",
                due=None if h is None else T0 + timedelta(hours=h),
            )
            for key, h in hours.items()
        )

        def keys(query: str, limit: int = 2, **bounds: Any) -> list[str]:
            where = bounds.pop("where", {})
            return _task_keys(
                lambda c: tasks.find(query, where=where, limit=limit, cursor=c, **bounds)
            )

        # Ordered by (due, key); a record without a due instant is left out.
        assert keys("due") == ["g", "b", "c", "d", "a", "f"]
        assert keys("due", limit=1) == keys("due", limit=1000) == keys("due")
        assert keys("due", low=T0, high=T0 + timedelta(hours=3)) == ["b", "c", "d"]
        assert keys("due", low=T0 + timedelta(hours=2)) == ["c", "d", "a", "f"]
        assert keys("due", high=T0) == ["g"]
        assert keys("due", low=T0 + timedelta(hours=11)) == []
        # Bounds in another zone are the same instants.
        shanghai = timezone(timedelta(hours=8))
        assert keys(
            "due", low=(T0 + timedelta(hours=2)).astimezone(shanghai), high=T0.replace(hour=12)
        ) == [
            "c",
            "d",
        ]
        assert keys("owner_due", where={"owner": "li"}) == ["b", "a"]
        assert keys("owner_due", where={"owner": "wu"}, low=T0) == ["c", "d", "f"]

    def test_keyset_pages_cover_every_record_once(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        keys = [f"task_{i:02d}" for i in range(30)]
        shuffled = keys[7:] + keys[:7]
        # Many records share one due instant: pages are ordered by (due, key).
        tasks.add_many(
            ContractTask(k, owner="li", due=T0 + timedelta(hours=i % 4))
            for i, k in enumerate(shuffled)
        )
        expected = [
            k
            for k, _ in sorted(
                ((k, i % 4) for i, k in enumerate(shuffled)), key=lambda pair: (pair[1], pair[0])
            )
        ]
        for size in (1, 4, 7, 30, 31):

            def due(cursor: str | None, size: int = size) -> Page[Stored[ContractTask]]:
                return tasks.find("due", limit=size, cursor=cursor)

            def owned(cursor: str | None, size: int = size) -> Page[Stored[ContractTask]]:
                return tasks.find("by_owner", where={"owner": "li"}, limit=size, cursor=cursor)

            assert _task_keys(due) == expected and _task_keys(owned) == keys
        # Writes between pages: a record added behind the cursor is not seen, one
        # ahead of it is, and none appears twice.
        first = tasks.find("by_owner", where={"owner": "li"}, limit=10)
        tasks.add(ContractTask("task_00a", owner="li"))
        tasks.add(ContractTask("task_99", owner="li"))
        tasks.delete("task_15", expected_version=1)
        rest = _task_keys(
            lambda c: tasks.find(
                "by_owner", where={"owner": "li"}, limit=10, cursor=c or first.next_cursor
            )
        )
        seen = [s.value.id for s in first.items] + rest
        assert seen == [k for k in keys if k != "task_15"] + ["task_99"]

    def test_a_unique_column_value_belongs_to_one_record(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(
            [
                ContractTask("t1", code="A-1"),
                ContractTask("t2", code="B-2"),
                ContractTask("t3"),  # NULLs never collide
                ContractTask("t4"),
            ]
        )
        with pytest.raises(ConflictError) as info:
            tasks.add(ContractTask("t5", code="A-1"))
        assert (info.value.kind, info.value.key) == ("contract task", "t5")
        assert (info.value.expected_version, info.value.stored_version) == (None, None)
        assert "code" in str(info.value)
        with pytest.raises(NotFoundError):
            tasks.get("t5")
        with pytest.raises(ConflictError) as info:
            tasks.save(ContractTask("t2", code="A-1", owner="li"), expected_version=1)
        assert info.value.key == "t2" and "code" in str(info.value)
        assert tasks.get("t2") == Stored(ContractTask("t2", code="B-2"), 1)
        assert [s.value.id for s in tasks.find("by_code", where={"code": "A-1"}).items] == ["t1"]
        # A record keeps its own value when it is saved; a freed value can be taken.
        assert (
            tasks.save(ContractTask("t1", code="A-1", owner="li"), expected_version=1).version == 2
        )
        tasks.save(ContractTask("t1", code="A-2"), expected_version=2)
        tasks.add(ContractTask("t5", code="A-1"))
        tasks.delete("t2", expected_version=1)
        tasks.add(ContractTask("t6", code="B-2"))

        # Inside a unit of work, the conflict rolls back what came before it.
        def two_holders_of_one_code() -> None:
            with store.transaction():
                tasks.add(ContractTask("t7", code="C-3"))
                tasks.add(ContractTask("t8", code="C-3"))

        with pytest.raises(ConflictError):
            two_holders_of_one_code()
        assert tasks.get_many(["t7", "t8"]) == {}
        assert tasks.count() == 5
        assert tasks.count("by_code", where={"code": ("A-1", "A-2", "B-2", "C-3")}) == 3

    def test_a_unique_multiple_column_gives_each_value_one_record(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add(ContractTask("t1", handles={"h1", "h2"}))
        tasks.add(ContractTask("t2", handles={"h3"}))

        def holders(handle: str) -> list[str]:
            return [s.value.id for s in tasks.find("by_handle", where={"handles": handle}).items]

        with pytest.raises(ConflictError) as info:
            tasks.add(ContractTask("t3", handles={"h4", "h2"}))
        assert (info.value.kind, info.value.key) == ("contract task", "t3")
        assert "handles" in str(info.value)
        assert tasks.get_many(["t3"]) == {} and holders("h4") == []
        with pytest.raises(ConflictError):
            tasks.save(ContractTask("t2", handles={"h3", "h1"}), expected_version=1)
        assert tasks.get("t2") == Stored(ContractTask("t2", handles={"h3"}), 1)
        assert holders("h1") == ["t1"] and holders("h3") == ["t2"]
        with pytest.raises(ConflictError):
            tasks.add_many([ContractTask("t3", handles={"h5"}), ContractTask("t4", handles={"h5"})])
        assert tasks.count() == 2 and holders("h5") == []
        # Dropping a value frees it; a record keeps the values it holds when saved.
        tasks.save(ContractTask("t1", handles={"h1"}), expected_version=1)
        tasks.add(ContractTask("t3", handles={"h2", "h6"}))
        tasks.save(ContractTask("t3", handles={"h2", "h6"}, owner="li"), expected_version=1)
        tasks.delete("t2", expected_version=1)
        tasks.add(ContractTask("t4", handles={"h3"}))
        assert [holders(h) for h in ("h1", "h2", "h3", "h6")] == [["t1"], ["t3"], ["t4"], ["t3"]]

    def test_cursors_are_bound_to_their_query(self, store: Store, other: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        notes = store.collection(CONTRACT_NOTES)
        tasks.add_many(ContractTask(f"t{i}", owner="li", due=T0) for i in range(3))
        notes.add_many(ContractNote(f"t{i}", owner="li") for i in range(3))
        store.tickets.add_many(sample_ticket(f"t{i}") for i in range(3))
        other.collection(CONTRACT_TASKS).add_many(
            ContractTask(f"t{i}", owner="li") for i in range(3)
        )
        by_owner = tasks.find("by_owner", where={"owner": "li"}, limit=1).next_cursor
        due = tasks.find("due", limit=1).next_cursor
        note = notes.find("by_owner", where={"owner": "li"}, limit=1).next_cursor
        ticket = store.tickets.list(limit=1).next_cursor
        assert by_owner and due and note and ticket
        foreign: list[Callable[[], object]] = [
            lambda: tasks.find("due", cursor=by_owner),
            lambda: tasks.find("by_owner", where={"owner": "li"}, cursor=due),
            lambda: tasks.find("by_owner", where={"owner": "li"}, cursor=note),
            lambda: tasks.find("by_owner", where={"owner": "li"}, cursor=ticket),
            lambda: notes.find("by_owner", where={"owner": "li"}, cursor=by_owner),
            lambda: tasks.find("by_owner", where={"owner": "wu"}, cursor=by_owner),
            lambda: tasks.find("due", low=T0, cursor=due),
            lambda: tasks.list(cursor=by_owner),
            lambda: store.tickets.list(cursor=by_owner),
            lambda: store.tickets.list(status=Status.OPEN, cursor=ticket),
            lambda: store.tickets.due_before(T0, cursor=due),
            lambda: store.customers.list(cursor=ticket),
            lambda: other.collection(CONTRACT_TASKS).find(
                "by_owner", where={"owner": "li"}, cursor=by_owner
            ),
        ]
        flipped = by_owner[:5] + ("A" if by_owner[5] != "A" else "B") + by_owner[6:]
        forged = [
            "",
            "not-a-cursor",
            "%%%",
            by_owner[:-3],
            by_owner + "AAAA",
            flipped,
            _legacy_cursor("t0", "t0"),
            _legacy_cursor(2**70, "t0"),
            base64.urlsafe_b64encode(b'["", "t0", "t0"]').decode(),
            base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
            "A" * 10_000,
        ]
        for call in foreign:
            with pytest.raises(ValidationError, match="cursor"):
                call()
        for cursor in forged:
            with pytest.raises(ValidationError, match="cursor"):
                tasks.find("by_owner", where={"owner": "li"}, cursor=cursor)
            with pytest.raises(ValidationError, match="cursor"):
                tasks.find("due", cursor=cursor)
        # The real cursors still work where they belong.
        rest = tasks.find("by_owner", where={"owner": "li"}, cursor=by_owner)
        assert [s.value.id for s in rest.items] == ["t1", "t2"]
        assert [
            s.value.id for s in notes.find("by_owner", where={"owner": "li"}, cursor=note).items
        ] == [
            "t1",
            "t2",
        ]

    def test_bad_configuration_and_collection_input_changes_nothing(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        store.config.add("standard", _policy())
        tasks.add(ContractTask("t1", owner="li", code="A", due=T0))

        def snapshot() -> Any:
            return (
                store.config.get(SlaPolicy, "standard"),
                [n for n, _ in store.config.list(SlaPolicy).items],
                tasks.get("t1"),
                tasks.count(),
                _task_keys(lambda c: tasks.find("due", cursor=c)),
            )

        before = snapshot()
        naive = datetime(2026, 3, 2, 9)
        calls: list[Callable[[], object]] = [
            lambda: store.config.add("bad name", _policy()),
            lambda: store.config.add("other", {"not": "a document"}),
            lambda: store.config.add("other", 42),
            lambda: store.config.get(dict, "standard"),
            lambda: store.config.get(SlaPolicy, "bad name"),
            lambda: store.config.save("standard", _policy(hours=1), expected_version=0),
            lambda: store.config.save("standard", _policy(hours=1), expected_version=True),
            lambda: store.config.delete(SlaPolicy, "standard", expected_version=-1),
            lambda: store.config.list(SlaPolicy, limit=0),
            lambda: store.config.list(SlaPolicy, cursor="forged"),
            lambda: tasks.add("not a task"),  # type: ignore[arg-type]
            lambda: tasks.add(ContractTask("bad key with spaces")),
            lambda: tasks.add(ContractTask("t2", rank=2**63)),
            lambda: tasks.add(ContractTask("t2", rank=True)),
            lambda: tasks.add(ContractTask("t2", due=naive)),
            lambda: tasks.add(ContractTask("t2", owner=5)),  # type: ignore[arg-type]
            lambda: tasks.add(ContractTask("t2", tags={"ok", 7})),  # type: ignore[arg-type]
            lambda: tasks.add_many([ContractTask("t3"), ContractTask("t2", due=naive)]),
            lambda: tasks.save(ContractTask("t1", owner="wu"), expected_version=0),
            lambda: tasks.save(ContractTask("t1", due=naive), expected_version=1),
            lambda: tasks.delete("t1", expected_version=0),
            lambda: tasks.get("bad id"),
            lambda: tasks.get_many(["t1", "bad id"]),
            lambda: tasks.find("no_such_query"),
            lambda: tasks.find("by_owner"),
            lambda: tasks.find("by_owner", where={"owner": "li", "rank": 1}),
            lambda: tasks.find("by_owner", where={"nope": "li"}),
            lambda: tasks.find("by_owner", where={"owner": 5}),
            lambda: tasks.find("by_owner", where={"owner": ()}),
            lambda: tasks.find("by_rank", where={"rank": 2**64}),
            lambda: tasks.find("due", low=naive),
            lambda: tasks.find("due", high="tomorrow"),
            lambda: tasks.find("by_owner", where={"owner": "li"}, low=T0),
            lambda: tasks.find("by_owner", where={"owner": "li"}, limit=0),
            lambda: tasks.find("by_owner", where={"owner": "li"}, limit=10**6),
            lambda: tasks.count("by_owner", where={"nope": 1}),
            lambda: tasks.count("no_such_query"),
        ]
        for call in calls:
            with pytest.raises(ValidationError):
                call()
        assert snapshot() == before

    def test_lone_surrogates_are_refused_before_storage(self, store: Store) -> None:
        lone = "broken \ud800 text"
        with pytest.raises(ValidationError):
            sample_ticket(subject=lone)
        with pytest.raises(ValidationError):
            sample_ticket().add_message(at=T0 + timedelta(hours=1), actor=AGENT, body=lone)
        with pytest.raises(ValidationError):
            sample_ticket().set_custom_fields({"note": lone}, at=T0, actor=AGENT)
        with pytest.raises(ValidationError):
            Customer(id="cus_1", display_name=lone)
        with pytest.raises(ValidationError):
            ContactPoint(channel=ChannelKind.EMAIL, address=lone)
        tasks = store.collection(CONTRACT_TASKS)
        with pytest.raises(ValidationError):
            tasks.add(ContractTask("t1", note=lone))
        with pytest.raises(ValidationError):
            tasks.add(ContractTask("t1", owner=lone))
        with pytest.raises(ValidationError):
            tasks.find("by_owner", where={"owner": lone})
        assert tasks.count() == 0 and store.outbox.pending() == []
        assert store.tickets.count() == 0 and store.customers.count() == 0

    # -- configuration ----------------------------------------------------------------

    def test_configuration_holds_conditions(self, store: Store) -> None:
        vip = Equals("customer.tier", "vip")
        upset_vip = AllOf([vip, Equals("ticket.kind", "complaint")])
        assert store.config.add("vip", vip) == Stored(vip, 1)
        store.config.add("upset_vip", upset_vip)
        assert store.config.get(Condition, "vip") == Stored(vip, 1)
        assert store.config.get(Condition, "upset_vip") == Stored(upset_vip, 1)
        assert [n for n, _ in store.config.list(Condition).items] == ["upset_vip", "vip"]
        enterprise = Equals("customer.tier", "enterprise")
        assert store.config.save("vip", enterprise, expected_version=1).version == 2
        with pytest.raises(ConflictError):
            store.config.save("vip", vip, expected_version=1)
        assert store.config.get(Condition, "vip") == Stored(enterprise, 2)
        store.config.delete(Condition, "upset_vip", expected_version=1)
        with pytest.raises(NotFoundError):
            store.config.get(Condition, "upset_vip")
        with pytest.raises(NotFoundError):
            store.config.get(SlaPolicy, "vip")  # names are per document type

    # -- tickets as appended events ----------------------------------------------------

    def test_a_ticket_save_appends_only_its_new_events(self, store: Store) -> None:
        ticket = sample_ticket(messages=2)
        n = len(ticket.timeline)
        store.tickets.add(ticket)
        before = store.backend.read_events("tickets", [(ticket.id, n)])[ticket.id]
        assert len(before) == n
        store.outbox.mark_published([m.id for m in store.outbox.pending()])
        more = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="Done.")
        more = more.change_status(Status.SOLVED, at=T0 + timedelta(hours=1), actor=AGENT)
        assert store.tickets.save(more, expected_version=1) == Stored(more, 2)
        after = store.backend.read_events("tickets", [(ticket.id, n + 2)])[ticket.id]
        assert after[:n] == before and len(after) == n + 2
        assert [(m.sequence, m.event) for m in store.outbox.pending()] == [
            (n, more.timeline[n]),
            (n + 1, more.timeline[n + 1]),
        ]
        # A save adding no event changes the state row only.
        due = T0 + timedelta(hours=5)
        assert store.tickets.save(more, expected_version=2, next_deadline=due).version == 3
        assert store.backend.read_events("tickets", [(ticket.id, n + 2)])[ticket.id] == after
        assert len(store.outbox.pending()) == 2
        fresh = self.make_store(store.tenant)
        try:
            assert fresh.tickets.get(ticket.id) == Stored(more, 3)
            extra = more.add_message(
                at=T0 + timedelta(hours=2), actor=Actor.customer("cus_1"), body="Thanks"
            )
            assert fresh.tickets.save(extra, expected_version=3).version == 4
        finally:
            fresh.close()
        assert store.tickets.get(ticket.id) == Stored(extra, 4)
        assert [m.sequence for m in store.outbox.pending()] == list(range(n, len(extra.timeline)))

    def test_a_save_that_does_not_continue_the_timeline_changes_nothing(self, store: Store) -> None:
        ticket = sample_ticket(messages=2)
        store.tickets.add(ticket)
        store.tickets.get(ticket.id)  # this store now remembers the timeline
        outbox = store.outbox.pending()
        events = store.backend.read_events("tickets", [(ticket.id, len(ticket.timeline))])
        later = T0 + timedelta(hours=1)
        rewritten = sample_ticket(messages=3, subject="Rewritten history")
        branched = sample_ticket(messages=1).add_message(at=later, actor=AGENT, body="Other")
        shorter = sample_ticket(messages=1)
        edited = sample_ticket(messages=2, at=T0 + timedelta(seconds=1))
        fresh = self.make_store(store.tenant)  # knows nothing: compares the stored events
        try:
            for saving in (store, fresh):
                for bad in (rewritten, branched, shorter, edited):
                    with pytest.raises(ValidationError, match="append-only"):
                        saving.tickets.save(bad, expected_version=1)
        finally:
            fresh.close()
        assert store.tickets.get(ticket.id) == Stored(ticket, 1)
        assert store.outbox.pending() == outbox
        assert store.backend.read_events("tickets", [(ticket.id, len(ticket.timeline))]) == events
        assert store.tickets.save(ticket, expected_version=1).version == 2  # nothing new: fine

    # -- record leases ------------------------------------------------------------------

    def test_a_lease_takes_the_lowest_due_records_and_pushes_them_on(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        hours = {"a": 3, "b": 1, "c": 2, "d": 2, "e": None, "f": 10, "g": -1}
        tasks.add_many(
            ContractTask(k, due=None if h is None else T0 + timedelta(hours=h))
            for k, h in hours.items()
        )
        later = T0 + timedelta(hours=5)

        def lease(high: datetime, limit: int = 2, **options: Any) -> list[tuple[str, int]]:
            taken = tasks.lease("due", high=high, until=later, limit=limit, **options)
            assert all(s == tasks.get(s.value.id) for s in taken)  # the new versions
            return [(s.value.id, s.version) for s in taken]

        due = T0 + timedelta(hours=2, minutes=30)
        assert lease(due) == [("g", 2), ("b", 2)]  # by (due, key), below high
        assert lease(due, limit=5) == [("c", 2), ("d", 2)]  # not those taken already
        assert lease(due) == []
        # The taken records are due at `later` now; the others kept their instants.
        assert _task_keys(lambda c: tasks.find("due", cursor=c)) == ["a", "b", "c", "d", "g", "f"]
        assert lease(T0 + timedelta(hours=4), low=T0 + timedelta(hours=3)) == [("a", 2)]
        # Once `later` is due, they can be leased again (a record without a due
        # instant never is), and the documents are as they were saved.
        taken = tasks.lease("due", high=later + timedelta(seconds=1), until=T0 + timedelta(days=1))
        assert [(s.value.id, s.version) for s in taken] == [
            (k, 3) for k in ("a", "b", "c", "d", "g")
        ]
        assert [s.value for s in taken] == [
            ContractTask(k, due=T0 + timedelta(hours=h))
            for k, h in sorted(hours.items())
            if h is not None and h < 10
        ]
        assert tasks.get("e").version == 1 and tasks.get("f").version == 1

    def test_a_lease_respects_its_filters_and_limit(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(
            ContractTask(
                f"t{i}",
                owner=(None, "li", "wu")[i % 3],
                tags={"vip"} if i % 2 else {"refund", "vip"} if i % 4 == 0 else set(),
                due=T0 + timedelta(minutes=i),
                rank=100 - i,
            )
            for i in range(12)
        )
        high, until = T0 + timedelta(hours=1), T0 + timedelta(days=1)

        def keys(query: str, limit: int = 100, **where: Any) -> list[str]:
            taken = tasks.lease(query, where=where, high=high, until=until, limit=limit)
            return [s.value.id for s in taken]

        assert keys("owner_due", limit=2, owner="li") == ["t1", "t4"]
        assert keys("owner_due", owner="li") == ["t7", "t10"]
        assert keys("owner_due", limit=6, owner=(None, "wu")) == [
            "t0",
            "t2",
            "t3",
            "t5",
            "t6",
            "t8",
        ]
        assert keys("tag_due", tags="refund") == []  # t0, t4 and t8 are taken
        assert keys("owner_due", owner=("li", "wu", None)) == ["t9", "t11"]
        assert keys("owner_due", owner="nobody") == []
        # An integer order column: ranks 100 - i, so the highest keys come first.
        ranks = tasks.lease("rank_order", high=92, until=1_000, limit=3)
        assert [(s.value.id, s.version) for s in ranks] == [("t11", 3), ("t10", 3), ("t9", 3)]
        assert [s.value.id for s in tasks.lease("rank_order", high=92, until=1_000)] == []
        # Ties go by key (code point order): t10 < t11 < t9.
        again = tasks.lease("rank_order", high=1_001, until=2_000)
        assert [s.value.id for s in again] == [f"t{i}" for i in range(8, -1, -1)] + [
            "t10",
            "t11",
            "t9",
        ]

    def test_a_lease_filters_on_a_multiple_column(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tags = {"a": {"vip"}, "b": {"refund", "vip"}, "c": set(), "d": {"refund"}, "e": {"vip"}}
        tasks.add_many(
            ContractTask(k, tags=t, due=T0 + timedelta(hours=i))
            for i, (k, t) in enumerate(tags.items())
        )
        high, until = T0 + timedelta(hours=4), T0 + timedelta(days=1)

        def keys(tag: Any) -> list[str]:
            return [
                s.value.id
                for s in tasks.lease("tag_due", where={"tags": tag}, high=high, until=until)
            ]

        assert keys("vip") == ["a", "b"]  # e is not due; each record once
        assert keys(("vip", "refund")) == ["d"]
        assert keys("refund") == [] and keys("other") == []
        assert tasks.get("c").version == 1 and tasks.get("e").version == 1

    def test_a_lease_belongs_to_its_unit_of_work(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(ContractTask(f"t{i}", due=T0 + timedelta(hours=i)) for i in range(3))
        high, until = T0 + timedelta(hours=2), T0 + timedelta(days=1)
        leased: list[str] = []

        def leasing_then_failing() -> None:
            with store.transaction():
                leased.extend(s.value.id for s in tasks.lease("due", high=high, until=until))
                raise _AbortError

        with pytest.raises(_AbortError):
            leasing_then_failing()
        assert leased == ["t0", "t1"]
        assert [tasks.get(k).version for k in ("t0", "t1", "t2")] == [1, 1, 1]
        assert _task_keys(lambda c: tasks.find("due", high=high, cursor=c)) == ["t0", "t1"]
        # Inside a unit of work, a lease sees the writes before it and its saves follow it.
        with store.transaction():
            tasks.add(ContractTask("t9", due=T0 - timedelta(hours=1)))
            tasks.save(ContractTask("t1", note="moved"), expected_version=1)  # no due: not leased
            taken = tasks.lease("due", high=high, until=until)
            assert [(s.value.id, s.version) for s in taken] == [("t9", 2), ("t0", 2)]
            for stored in taken:
                tasks.save(
                    attrs.evolve(stored.value, note="swept"), expected_version=stored.version
                )
        assert [(tasks.get(k).version, tasks.get(k).value.note) for k in ("t0", "t9")] == [
            (3, "swept"),
            (3, "swept"),
        ]
        # A save recomputes the column from the value: t0 is due at its own instant again.
        assert _task_keys(lambda c: tasks.find("due", high=high, cursor=c)) == ["t9", "t0"]

    def test_a_save_from_before_a_lease_is_a_conflict(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        task = ContractTask("t1", owner="li", due=T0)
        tasks.add(task)
        (taken,) = tasks.lease("due", high=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))
        assert taken == Stored(task, 2)
        with pytest.raises(ConflictError) as info:
            tasks.save(attrs.evolve(task, note="stale"), expected_version=1)
        assert (info.value.key, info.value.expected_version, info.value.stored_version) == (
            "t1",
            1,
            2,
        )
        with pytest.raises(ConflictError):
            tasks.delete("t1", expected_version=1)
        assert tasks.get("t1") == Stored(task, 2)
        assert tasks.save(attrs.evolve(task, note="fresh"), expected_version=2).version == 3

    def test_a_lease_after_a_failed_write_takes_nothing(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(ContractTask(f"t{i}", due=T0) for i in range(2))

        def stale_save_then_lease() -> None:
            with store.transaction():
                # Some adapters check the save only when the unit of work next reads.
                tasks.save(ContractTask("t0", note="stale"), expected_version=2)
                tasks.lease("due", high=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))

        with pytest.raises(ConflictError):
            stale_save_then_lease()
        assert [s.version for s in tasks.get_many(["t0", "t1"]).values()] == [1, 1]
        assert _task_keys(lambda c: tasks.find("due", high=T0 + timedelta(hours=1), cursor=c)) == [
            "t0",
            "t1",
        ]

    def test_a_lease_takes_only_its_tenants_records(self, store: Store, other: Store) -> None:
        mine, theirs = store.collection(CONTRACT_TASKS), other.collection(CONTRACT_TASKS)
        mine.add(ContractTask("t1", due=T0))
        theirs.add(ContractTask("t1", due=T0 - timedelta(hours=1)))
        theirs.add(ContractTask("t2", due=T0))
        taken = mine.lease("due", high=T0 + timedelta(hours=1), until=T0 + timedelta(hours=2))
        assert [(s.value.id, s.version) for s in taken] == [("t1", 2)]
        assert [s.version for s in theirs.get_many(["t1", "t2"]).values()] == [1, 1]
        assert [s.value.id for s in theirs.lease("due", high=T0, until=T0)] == ["t1"]

    def test_bad_lease_input_is_refused_and_changes_nothing(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add(ContractTask("t1", owner="li", due=T0, rank=1))
        high, until = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
        naive = datetime(2026, 3, 2, 9, 0)
        bad: list[tuple[str, dict[str, Any]]] = [
            ("query", {"query": "nothing"}),
            ("query", {"query": "by_owner", "where": {"owner": "li"}}),  # ordered by key
            ("where", {"query": "owner_due"}),
            ("where", {"query": "due", "where": {"owner": "li"}}),
            ("high", {"high": naive}),
            ("high", {"high": "soon"}),
            ("high", {"high": None}),
            ("until", {"until": naive}),
            ("until", {"until": 2**63}),
            ("low", {"low": naive}),
            ("limit", {"limit": 0}),
            ("limit", {"limit": 1001}),
            ("limit", {"limit": True}),
            ("high", {"query": "rank_order", "high": T0}),  # an integer column takes integers
        ]
        for path, given in bad:
            arguments: dict[str, Any] = {"query": "due", "high": high, "until": until, **given}
            query = arguments.pop("query")
            with pytest.raises(ValidationError) as info:
                tasks.lease(query, **arguments)
            assert "contract_tasks" in str(info.value), str(info.value)
            assert path in info.value.paths or path in str(info.value), (path, str(info.value))
        assert tasks.get("t1").version == 1
        assert [s.value.id for s in tasks.lease("due", high=high, until=until)] == ["t1"]

    def test_a_backend_lease_takes_nothing_it_is_not_given(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add(ContractTask("t1", due=T0, rank=1))
        backend = store.backend
        name = CONTRACT_TASKS.name
        micros = int(T0.timestamp() * 1_000_000)
        high = micros + 1
        assert backend.lease(name, Select(order="due", high=high, limit=0), micros) == []
        for order in ("key", "owner", "tags", "code", "done", "nothing"):
            with pytest.raises(StorageError):
                backend.lease(name, Select(order=order, high=high), micros)
        with pytest.raises(StorageError):
            backend.lease(name, Select(order="due", after=(micros, "t0"), high=high), micros)
        for select, until in (
            (Select(order="due"), micros),
            (Select(order="due", high="soon"), micros),
            (Select(order="due", high=high, low=True), micros),
            (Select(order="due", high=high), 2**63),
            (Select(order="due", high=high), None),
        ):
            with pytest.raises(ValidationError):
                backend.lease(name, select, until)  # type: ignore[arg-type]
        assert tasks.get("t1").version == 1
        (row,) = backend.lease(name, Select(order="due", high=high), micros + 10)
        assert (row.key, row.version) == ("t1", 2)
        stored = backend.get(name, "t1")
        assert stored is not None and json.loads(row.text) == json.loads(stored.text)

    # -- outbox claims ------------------------------------------------------------------

    def make_clocked_store(self, tenant: str, clock: Clock) -> Store:
        """A store on this test's database whose outbox leases read ``clock``.

        The default wraps the backend of ``make_store(tenant)``; override it for
        stores that need more than their backend.
        """
        return Store(self.make_store(tenant).backend, clock=clock)

    @pytest.fixture
    def clock(self) -> FrozenClock:
        return FrozenClock(T0)

    @pytest.fixture
    def clocked(self, clock: FrozenClock) -> Iterator[Store]:
        store = self.make_clocked_store("tenant-c", clock)
        yield store
        store.close()

    def test_a_claim_leases_messages_to_one_relay_until_the_lease_ends(
        self, clocked: Store, clock: FrozenClock
    ) -> None:
        store = clocked
        store.tickets.add_many(
            [sample_ticket(f"tkt_{i}", messages=0) for i in range(3)]
        )  # 2 events each
        lease = timedelta(seconds=30)
        first = store.outbox.claim(relay="r1", limit=4, lease=lease)
        assert [(m.ticket_id, m.sequence, m.attempts) for m in first] == [
            ("tkt_0", 0, 1),
            ("tkt_0", 1, 1),
            ("tkt_1", 0, 1),
            ("tkt_1", 1, 1),
        ]
        second = store.outbox.claim(relay="r2", limit=100, lease=lease)
        assert [(m.ticket_id, m.sequence) for m in second] == [("tkt_2", 0), ("tkt_2", 1)]
        assert [m.id for m in first + second] == sorted(m.id for m in first + second)
        assert store.outbox.claim(relay="r3", lease=lease) == []
        assert len(store.outbox.pending(100)) == 6  # leased, not yet published
        clock.advance(seconds=29)
        assert store.outbox.claim(relay="r3", lease=lease) == []
        assert store.outbox.ack([m.id for m in first[:2]], relay="r1") == 2
        assert store.outbox.ack([first[2].id], relay="r2") == 0  # not r2's lease
        assert store.outbox.ack([first[0].id], relay="r1") == 0  # published already
        clock.advance(seconds=1)  # both leases end now; the unacknowledged come back
        again = store.outbox.claim(relay="r3", limit=100, lease=lease)
        assert [(m.id, m.attempts) for m in again] == [(m.id, 2) for m in first[2:] + second]
        assert [m.event for m in again] == [m.event for m in first[2:] + second]
        # r1 and r2 lost their leases to r3: their acknowledgements change nothing.
        assert store.outbox.ack([m.id for m in first[2:]], relay="r1") == 0
        assert store.outbox.ack([m.id for m in second], relay="r2") == 0
        assert store.outbox.fail([m.id for m in second], relay="r2", reason="late") == 0
        assert store.outbox.ack([m.id for m in again], relay="r3") == 4
        assert store.outbox.pending() == [] and store.outbox.failed().items == ()
        clock.advance(hours=1)
        assert store.outbox.claim(relay="r1", lease=lease) == []

    def test_failed_messages_are_set_aside_listed_and_retried(
        self, clocked: Store, clock: FrozenClock
    ) -> None:
        store = clocked
        store.tickets.add_many(
            [sample_ticket("tkt_0", messages=0), sample_ticket("tkt_1", messages=0)]
        )
        lease = timedelta(minutes=1)
        claimed = store.outbox.claim(relay="r1", limit=10, lease=lease)
        assert len(claimed) == 4
        assert store.outbox.fail([claimed[1].id], relay="r2", reason="not mine") == 0
        reason = 'broker refused: 400 "bad payload" 退回'
        assert store.outbox.fail([claimed[1].id, claimed[2].id], relay="r1", reason=reason) == 2
        failed = store.outbox.failed()
        assert [(f.id, f.ticket_id, f.sequence, f.attempts, f.reason) for f in failed.items] == [
            (claimed[1].id, "tkt_0", 1, 1, reason),
            (claimed[2].id, "tkt_1", 0, 1, reason),
        ]
        assert failed.next_cursor is None
        assert [m.id for m in store.outbox.pending()] == [claimed[0].id, claimed[3].id]
        assert store.outbox.ack([claimed[0].id, claimed[3].id], relay="r1") == 2
        clock.advance(hours=1)
        assert store.outbox.claim(relay="r2", lease=lease) == []  # the failed stay aside
        page = store.outbox.failed(limit=1)
        assert [f.id for f in page.items] == [claimed[1].id] and page.next_cursor
        rest = store.outbox.failed(limit=1, cursor=page.next_cursor)
        assert [f.id for f in rest.items] == [claimed[2].id] and rest.next_cursor is None
        with pytest.raises(ValidationError, match="cursor"):
            store.outbox.failed(cursor="forged")
        assert store.outbox.retry([claimed[1].id, claimed[0].id]) == 1  # claimed[0] is published
        assert [f.id for f in store.outbox.failed().items] == [claimed[2].id]
        again = store.outbox.claim(relay="r2", lease=lease)
        assert [(m.id, m.attempts, m.event) for m in again] == [
            (claimed[1].id, 2, claimed[1].event)
        ]
        assert store.outbox.ack([claimed[1].id], relay="r2") == 1
        assert store.outbox.retry([claimed[1].id]) == 0  # published, not failed

    def test_an_undecodable_message_is_set_aside_without_blocking_the_others(
        self, clocked: Store
    ) -> None:
        store = clocked
        store.tickets.add(sample_ticket("tkt_1", messages=0))  # 2 events
        with store.transaction():
            store.backend.outbox_append(
                [
                    # JSON (an adapter may keep documents in a JSON column), not events
                    ("tickets", "tkt_1", 2, "message", '{"type": "no_such_event"}'),
                    ("tickets", "tkt_1", 3, "message", '{"type": "message", "at": "noon"}'),
                    ("tickets", "tkt_1", 4, "message", "[]"),
                ]
            )
        store.tickets.add(sample_ticket("tkt_2", messages=0))
        lease = timedelta(seconds=30)
        first = store.outbox.claim(relay="r1", limit=2, lease=lease)
        assert [(m.ticket_id, m.sequence) for m in first] == [("tkt_1", 0), ("tkt_1", 1)]
        assert store.outbox.ack([m.id for m in first], relay="r1") == 2
        # The next message that decodes is handed out, however small the claim.
        second = store.outbox.claim(relay="r1", limit=1, lease=lease)
        assert [(m.ticket_id, m.sequence) for m in second] == [("tkt_2", 0)]
        third = store.outbox.claim(relay="r2", limit=100, lease=lease)
        assert [(m.ticket_id, m.sequence) for m in third] == [("tkt_2", 1)]
        failed = store.outbox.failed().items
        assert [(f.ticket_id, f.sequence) for f in failed] == [
            ("tkt_1", 2),
            ("tkt_1", 3),
            ("tkt_1", 4),
        ]
        assert all(f.reason for f in failed)
        assert [(m.ticket_id, m.sequence) for m in store.outbox.pending()] == [
            ("tkt_2", 0),
            ("tkt_2", 1),
        ]
        assert (
            store.outbox.ack([second[0].id], relay="r1")
            + store.outbox.ack([third[0].id], relay="r2")
            == 2
        )
        assert store.outbox.pending() == []

    def test_bad_outbox_input_is_refused(self, clocked: Store) -> None:
        store = clocked
        store.tickets.add(sample_ticket(messages=0))  # 2 events
        calls: list[Callable[[], object]] = [
            lambda: store.outbox.claim(relay="r1", limit=0),
            lambda: store.outbox.claim(relay="", limit=1),
            lambda: store.outbox.claim(relay=7, limit=1),  # type: ignore[arg-type]
            lambda: store.outbox.claim(relay="r1", lease=timedelta(seconds=-1)),
            lambda: store.outbox.claim(relay="r1", lease=30),  # type: ignore[arg-type]
            lambda: store.outbox.ack(["1"], relay="r1"),  # type: ignore[list-item]
            lambda: store.outbox.fail([1], relay="r1", reason=5),  # type: ignore[arg-type]
            lambda: store.outbox.retry([True]),
            lambda: store.outbox.failed(limit=0),
        ]
        for call in calls:
            with pytest.raises(ValidationError):
                call()
        assert [m.attempts for m in store.outbox.pending()] == [0, 0]
        assert store.outbox.failed().items == ()

    # -- unique contact points --------------------------------------------------------

    def test_unique_contact_points_belong_to_one_customer(self, store: Store, other: Store) -> None:
        rules = ContactRules(unique=True, default_region="CN")
        store.set_contact_rules(rules)
        assert store.contact_rules == rules
        wang = Customer(
            id="cus_1",
            display_name="王芳",
            contact_points=(
                ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="+86 138 0013 8000"),
                ContactPoint(channel=ChannelKind.EMAIL, address="Wang.Fang@Example.COM"),
                ContactPoint(channel=ChannelKind.WECHAT_OFFICIAL_ACCOUNT, address="oAbC123"),
            ),
        )
        store.customers.add(wang)

        def found(address: str, channel: str | None = None) -> list[str]:
            return [s.value.id for s in store.customers.find_by_contact(address, channel)]

        for address, channel in (
            ("13800138000", None),
            ("+8613800138000", "phone_hotline"),
            ("+86 138-0013-8000", None),
            ("138 0013 8000", "phone_hotline"),
            ("Wang.Fang@example.com", "email"),
            ("Wang.Fang@EXAMPLE.COM", None),
            ("oAbC123", "wechat_official_account"),
        ):
            assert found(address, channel) == ["cus_1"], address
        assert found("oabc123") == [] and found("13800138000", "email") == []
        assert found("13900000000") == []
        taken = (
            ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="13800138000"),
            ContactPoint(channel=ChannelKind.EMAIL, address="Wang.Fang@example.com"),
            ContactPoint(channel=ChannelKind.WECHAT_OFFICIAL_ACCOUNT, address="oAbC123"),
        )
        for point in taken:
            li = Customer(id="cus_2", display_name="Li", contact_points=(point,))
            with pytest.raises(ConflictError) as info:
                store.customers.add(li)
            assert (info.value.kind, info.value.key) == ("customer", "cus_2")
            assert (info.value.expected_version, info.value.stored_version) == (None, None)
        assert store.customers.count() == 1 and store.customers.get_many(["cus_2"]) == {}
        # Another platform id (ids are exact) and another number are free.
        li = Customer(
            id="cus_2",
            display_name="Li",
            contact_points=(
                ContactPoint(channel=ChannelKind.WECHAT_OFFICIAL_ACCOUNT, address="oabc123"),
                ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="13900000000"),
            ),
        )
        store.customers.add(li)
        grabbing = li.with_contact_point(taken[0])
        with pytest.raises(ConflictError):
            store.customers.save(grabbing, expected_version=1)
        assert store.customers.get("cus_2") == Stored(li, 1)
        assert found("13900000000") == ["cus_2"] and found("13800138000") == ["cus_1"]
        # A freed contact point can be taken; other tenants have rules of their own.
        store.customers.save(
            attrs.evolve(wang, contact_points=wang.contact_points[1:]), expected_version=1
        )
        store.customers.add(Customer(id="cus_3", display_name="Zhao", contact_points=(taken[0],)))
        assert found("+86 138 0013 8000") == ["cus_3"]
        assert other.contact_rules.unique is False
        other.customers.add(attrs.evolve(wang, id="cus_8"))
        other.customers.add(attrs.evolve(wang, id="cus_9"))
        assert len(other.customers.find_by_contact("+86 138 0013 8000")) == 2
        # The rules are the tenant's, stored: another store of the tenant has them.
        again = self.make_store(store.tenant)
        try:
            assert again.contact_rules == rules
            with pytest.raises(ConflictError):
                again.customers.add(
                    Customer(id="cus_4", display_name="Qian", contact_points=(taken[0],))
                )
        finally:
            again.close()

    def test_unique_contact_rules_are_refused_while_duplicates_exist(self, store: Store) -> None:
        phone = ChannelKind.PHONE_HOTLINE
        store.customers.add(_customer("cus_1", "+86 138 0013 8000"))
        store.customers.add(_customer("cus_2", "+8613800138000"))
        with pytest.raises(ConflictError, match=r"cus_[12]"):
            store.set_contact_rules(ContactRules(unique=True, default_region="CN"))
        assert store.contact_rules.unique is False
        assert store.customers.count() == 2
        store.customers.delete("cus_2", expected_version=1)
        store.set_contact_rules(ContactRules(unique=True, default_region="CN"))
        duplicate = Customer(
            id="cus_5",
            display_name="Li",
            contact_points=(ContactPoint(channel=phone, address="13800138000"),),
        )
        with pytest.raises(ConflictError):
            store.customers.add(duplicate)
        store.set_contact_rules(ContactRules(unique=False, default_region="CN"))
        store.customers.add(duplicate)
        assert [s.value.id for s in store.customers.find_by_contact("13800138000")] == [
            "cus_1",
            "cus_5",
        ]

    # -- erasure ----------------------------------------------------------------------

    def test_erasure_leaves_no_personal_value_readable(self, store: Store, other: Store) -> None:
        customer = Customer(
            id="cus_1",
            display_name="王芳",
            contact_points=(
                ContactPoint(channel=ChannelKind.PHONE_HOTLINE, address="+86 138 0013 8000"),
                ContactPoint(channel=ChannelKind.EMAIL, address="wang.fang@example.com"),
            ),
            birthday=date(1990, 5, 17),
            attributes={"note": "prefers calls on 13800138000"},
        )
        keep = attrs.evolve(_customer("cus_2", "+86 139 0000 0000"), display_name="Li Lei")
        store.customers.add(customer)
        store.customers.add(keep)
        other.customers.add(customer)
        ticket = _personal_ticket("tkt_1", "cus_1")
        kept_ticket = sample_ticket("tkt_2", customer_id="cus_2")
        store.tickets.add(ticket, next_deadline=T0 + timedelta(days=1))
        store.tickets.add(kept_ticket)
        other.tickets.add(ticket)
        # Relay part of the ticket's events: published rows go, pending ones are rewritten.
        mine = [m for m in store.outbox.pending(100) if m.ticket_id == "tkt_1"]
        store.outbox.mark_published([m.id for m in mine[:3]])
        # One set aside as a dead letter, one leased to a relay: both hold personal data.
        dead, leased = store.outbox.claim(relay="relay_1", limit=2)
        assert (dead.id, leased.id) == (mine[3].id, mine[4].id)
        assert store.outbox.fail([dead.id], relay="relay_1", reason="broker down") == 1
        at = T0 + timedelta(days=2)

        erasure = store.erase_customer("cus_1", reason="PIPL request 88", at=at)

        assert (erasure.customer_id, erasure.reason, erasure.at) == ("cus_1", "PIPL request 88", at)
        secrets = (
            "13800138000",
            "138 0013 8000",
            "王芳",
            "wang.fang",
            "1990-05-17",
            "prefers",
            *_TICKET_SECRETS,
        )
        texts = _raw_texts(store)
        assert any("PIPL request 88" in t for t in texts)  # the audit record
        leaks = [(s, t[:200]) for t in texts for s in secrets if s in t]
        assert leaks == []
        erased = store.customers.get("cus_1").value
        assert erased.display_name == REDACTED
        assert [cp.address for cp in erased.contact_points] == [REDACTED, REDACTED]
        assert [cp.channel for cp in erased.contact_points] == ["phone_hotline", "email"]
        assert store.customers.find_by_contact("+86 138 0013 8000") == ()
        assert store.customers.find_by_contact("wang.fang@example.com") == ()
        stored = store.tickets.get("tkt_1").value
        assert stored.subject == REDACTED
        assert {m.body for m in stored.messages} == {REDACTED}
        assert stored.custom_fields == dict.fromkeys(ticket.custom_fields, REDACTED)
        # What KPIs need stays: statuses, instants, channels, priorities, handle times.
        assert isinstance(stored.timeline[-1], PersonalDataErased)
        old, new = ticket.timeline, stored.timeline[: len(ticket.timeline)]
        assert [(type(e), e.at, e.actor) for e in new] == [(type(e), e.at, e.actor) for e in old]
        assert (stored.status, stored.priority, stored.channel, stored.kind) == (
            ticket.status,
            ticket.priority,
            ticket.channel,
            ticket.kind,
        )
        assert stored.created_at == ticket.created_at
        assert [m.handle_time for m in stored.messages] == [m.handle_time for m in ticket.messages]
        assert [
            (m.sequence, m.ticket_id) for m in store.outbox.pending(100) if m.ticket_id == "tkt_1"
        ] == [(m.sequence, "tkt_1") for m in mine[4:]] + [(len(ticket.timeline), "tkt_1")]
        assert [(f.id, f.reason) for f in store.outbox.failed().items] == [(dead.id, "broker down")]
        assert store.tickets.count(customer_id="cus_1") == 1
        assert [s.value.id for s in store.tickets.due_before(at).items] == []  # solved
        # Everything else is untouched.
        assert store.customers.get("cus_2") == Stored(keep, 1)
        assert store.tickets.get("tkt_2") == Stored(kept_ticket, 1)
        assert other.customers.get("cus_1") == Stored(customer, 1)
        assert other.tickets.get("tkt_1") == Stored(ticket, 1)
        # Idempotent: a second erasure changes nothing and returns the first record.
        versions = (store.customers.get("cus_1").version, store.tickets.get("tkt_1").version)
        assert store.erase_customer("cus_1", reason="again", at=at + timedelta(days=1)) == erasure
        assert (
            store.customers.get("cus_1").version,
            store.tickets.get("tkt_1").version,
        ) == versions
        assert sorted(_raw_texts(store)) == sorted(texts)
        with pytest.raises(NotFoundError, match="cus_404"):
            store.erase_customer("cus_404", reason="unknown")
        # The erased ticket takes new events (appended after the erasure).
        reloaded = store.tickets.get("tkt_1")
        reply = reloaded.value.add_message(
            at=at + timedelta(hours=1), actor=AGENT, body="Closed out"
        )
        assert (
            store.tickets.save(reply, expected_version=reloaded.version).version
            == reloaded.version + 1
        )

    def test_erasure_of_a_customer_without_tickets(self, store: Store) -> None:
        store.customers.add(_customer("cus_1"))
        erasure = store.erase_customer("cus_1", reason="asked", at=T0)
        assert erasure.customer_id == "cus_1"
        erased = store.customers.get("cus_1").value
        assert (
            erased.display_name == REDACTED
            and store.customers.find_by_contact("+86 138 0013 8000") == ()
        )
        assert not any("138 0013" in t or "王芳" in t for t in _raw_texts(store))
        assert store.erase_customer("cus_1", reason="asked", at=T0 + timedelta(1)) == erasure

    # -- column pages (select_columns) --------------------------------------------

    def test_column_pages_are_the_pages_of_select_as_stored_values(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(_column_tasks())
        tasks.save(attrs.evolve(_column_tasks()[0], rank=7), expected_version=1)  # version 2
        shapes: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
            ({}, "key", {}),
            ({"owner": "li"}, "key", {}),
            ({"owner": ("li", "wu")}, "key", {}),
            ({"owner": (None, "wu")}, "key", {}),
            ({"owner": "li", "done": True}, "key", {}),
            ({"owner": ("li", "wu", "李"), "done": (True, False)}, "key", {}),
            ({"tags": ("vip", "refund")}, "key", {}),  # a multiple column: each record once
            ({"tags": "refund", "owner": "wu"}, "key", {}),
            ({"rank": (2**63 - 1, -(2**63), None)}, "key", {}),
            ({}, "due", {}),
            ({}, "due", {"low": T0, "high": T0 + timedelta(hours=3)}),
            ({}, "due", {"low": (T0 + timedelta(hours=1)).astimezone(_SHANGHAI)}),
            ({}, "due", {"high": T0}),
            ({"owner": ("li", "wu")}, "due", {"low": T0}),
            ({"tags": "vip"}, "due", {}),
            ({}, "rank", {"low": -1, "high": 2**63 - 1}),
            ({}, "rank", {"high": 0}),
        ]
        for where, order, bounds in shapes:
            expected = _select_keys(tasks, where, order, bounds)
            for limit in (1, 2, 3, 100):
                for names in (_SINGLE_COLUMNS, ("due",), ("done", "owner")):
                    found = _same_pages(tasks, where, order, names, limit=limit, **bounds)
                    assert found == expected, (where, order, bounds, limit, names)
        assert _task_keys(lambda c: tasks.select({}, "due", cursor=c, high=T0)) == ["t5"]
        rows = tasks.select_columns({"owner": "li"}, "key", columns=["rank", "due"]).items
        assert rows[0] == ColumnRow("t1", 2, {"rank": 7, "due": T0 + timedelta(hours=3)})
        shanghai_due = next(row for row in rows if row.key == "t4").values["due"]
        assert shanghai_due == T0 + timedelta(hours=1) and shanghai_due.utcoffset() == timedelta(0)

    def test_column_and_document_cursors_continue_each_others_walks(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(_column_tasks())
        shapes: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
            ({"owner": ("li", "wu")}, "key", {}),
            ({}, "due", {"low": T0 - timedelta(days=1)}),
            ({"tags": "vip"}, "due", {}),
        ]
        for where, order, bounds in shapes:
            expected = _select_keys(tasks, where, order, bounds)
            for first_columns in (True, False):
                keys: list[str] = []
                cursor: str | None = None
                columns = first_columns
                while True:
                    page: Page[Any]
                    if columns:
                        page = tasks.select_columns(
                            where, order, columns=["owner"], limit=1, cursor=cursor, **bounds
                        )
                        keys += [row.key for row in page.items]
                    else:
                        page = tasks.select(where, order, limit=1, cursor=cursor, **bounds)
                        keys += [stored.value.id for stored in page.items]
                    if page.next_cursor is None:
                        break
                    cursor, columns = page.next_cursor, not columns
                assert keys == expected, (where, order, first_columns)
        # find's cursors are the select cursors of its query: they continue too.
        found = tasks.find("by_owner", where={"owner": "li"}, limit=1)
        rest = tasks.select_columns(
            {"owner": "li"}, "key", columns=["owner"], cursor=found.next_cursor
        )
        assert [row.key for row in rest.items] == ["t4", "t7"]
        # A column page's cursor is bound to its query as select's is.
        due = tasks.select_columns({}, "due", columns=["due"], limit=1).next_cursor
        with pytest.raises(ValidationError, match="cursor"):
            tasks.select_columns({"owner": "li"}, "key", columns=["due"], cursor=due)
        with pytest.raises(ValidationError, match="cursor"):
            tasks.select({}, "due", low=T0, cursor=due)

    def test_bad_column_page_input_is_refused_naming_what_is_accepted(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(_column_tasks())
        before = _task_keys(lambda c: tasks.list(cursor=c)), tasks.get("t1")
        refused: list[tuple[object, str]] = [
            ([], "at least one column"),
            ((), "at least one column"),
            ("owner", "sequence of column names"),
            (None, "sequence of column names"),
            ({"owner": 1}, "sequence of column names"),
            (["tags"], "'tags' holds several values"),
            (["owner", "handles"], "'handles' holds several values"),
            (["nope"], "'nope' is not a column"),
            (["key"], "'key' is not a column"),
            ([5], "5 is not a column"),
            (["owner", "due", "owner"], "'owner' is asked for twice"),
        ]
        for columns, reason in refused:
            with pytest.raises(ValidationError) as info:
                tasks.select_columns({}, "key", columns=columns)  # type: ignore[arg-type]
            error = info.value
            assert error.subject == "contract task query" and error.paths == ("columns",)
            message = str(error)
            assert reason in message and repr(columns) in message, message
            assert "['code', 'done', 'due', 'owner', 'rank']" in message, message
        # What select refuses, select_columns refuses the same way.
        calls: list[Callable[[], object]] = [
            lambda: tasks.select_columns({"nope": 1}, "key", columns=["owner"]),
            lambda: tasks.select_columns({"owner": 5}, "key", columns=["owner"]),
            lambda: tasks.select_columns({"owner": ()}, "key", columns=["owner"]),
            lambda: tasks.select_columns({}, "owner", columns=["owner"]),
            lambda: tasks.select_columns({}, "due", columns=["owner"], low=datetime(2026, 3, 2)),
            lambda: tasks.select_columns({}, "due", columns=["owner"], high="tomorrow"),
            lambda: tasks.select_columns({}, "key", columns=["owner"], low="t1"),
            lambda: tasks.select_columns({}, "key", columns=["owner"], limit=0),
            lambda: tasks.select_columns({}, "key", columns=["owner"], limit=MAX_PAGE + 1),
            lambda: tasks.select_columns({}, "key", columns=["owner"], cursor="forged"),
            lambda: tasks.select_columns([], "key", columns=["owner"]),  # type: ignore[arg-type]
            lambda: tasks.select_values({}, "key", columns=["nope"], make=_as_triple),
            lambda: tasks.select_values({"nope": 1}, "key", columns=["owner"], make=_as_triple),
        ]
        for call in calls:
            with pytest.raises(ValidationError):
                call()
        assert (_task_keys(lambda c: tasks.list(cursor=c)), tasks.get("t1")) == before

    def test_column_pages_read_no_document(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add(ContractTask("t1", owner="li"))
        self._write_raw(store, "contract_tasks", "t2", '{"no": "contract task"}')
        with pytest.raises(CorruptRecordError):
            tasks.select({}, "key")
        if not hasattr(store.backend, "select_columns"):
            # A backend without the method: the repository reads the documents.
            with pytest.raises(CorruptRecordError):
                tasks.select_columns({}, "key", columns=["owner"])
            return
        page = tasks.select_columns({}, "key", columns=["owner", "rank"])
        assert page.items == (
            ColumnRow("t1", 1, {"owner": "li", "rank": None}),
            ColumnRow("t2", 1, {"owner": None, "rank": None}),
        )

    def test_column_pages_without_the_backend_method_are_the_same(self, store: Store) -> None:
        tasks = store.collection(CONTRACT_TASKS)
        tasks.add_many(_column_tasks())
        plain = _without_columns(store)
        for where, order, bounds in (
            ({}, "key", {}),
            ({"owner": ("li", None)}, "key", {}),
            ({"tags": ("vip", "refund")}, "due", {"low": T0}),
            ({}, "rank", {"high": 2**63 - 1}),
        ):
            for limit in (1, 3, 100):
                expected = _column_walk(tasks, where, order, _SINGLE_COLUMNS, limit, bounds)
                found = _column_walk(plain, where, order, _SINGLE_COLUMNS, limit, bounds)
                assert found == expected, (where, order, bounds, limit)
        # The backend's columns hold what a lease set; the documents, their last save.
        tasks.lease("due", high=T0 + timedelta(hours=2), until=T0 + timedelta(days=1))
        leased = tasks.select_columns({"owner": "wu"}, "key", columns=["due"]).items
        documented = plain.select_columns({"owner": "wu"}, "key", columns=["due"]).items
        assert [(r.key, r.version) for r in leased] == [(r.key, r.version) for r in documented]
        if hasattr(store.backend, "select_columns"):
            assert leased[0] == ColumnRow("t2", 2, {"due": T0 + timedelta(days=1)})
        assert documented[0] == ColumnRow("t2", 2, {"due": T0 + timedelta(hours=1)})

    def test_walking_column_pages_is_walking_select_pages_projected(self) -> None:
        """Random records and random queries of every declared shape: the same walks."""
        examples = iter(range(1_000_000))

        @settings(
            max_examples=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @examples_of(
            records=_COLUMN_RECORDS, queries=st.lists(_column_queries(), min_size=1, max_size=4)
        )
        def check(records: list[ContractTask], queries: list[_ColumnQuery]) -> None:
            store = self.make_store(f"columns-{next(examples)}")  # an empty tenant per example
            try:
                tasks = store.collection(CONTRACT_TASKS)
                tasks.add_many(records)
                plain = _without_columns(store)
                for where, order, bounds, limit, names in queries:
                    expected = _select_keys(tasks, where, order, bounds, limit)
                    assert (
                        _same_pages(tasks, where, order, names, limit=limit, **bounds) == expected
                    )
                    assert _column_walk(plain, where, order, names, limit, bounds) == _column_walk(
                        tasks, where, order, names, limit, bounds
                    )
            finally:
                store.close()

        check()

    # -- the memory adapter as an oracle ------------------------------------------

    def test_matches_the_memory_adapter(self) -> None:
        """Random operations give the same reads here as on the in-memory adapter."""
        examples = iter(range(1_000_000))

        def machine() -> StoreComparison:
            # A tenant of its own per example: an empty store on this test's database.
            tenant = f"machine-{next(examples)}"
            clock = FrozenClock(T0)
            return StoreComparison(
                self.make_clocked_store(tenant, clock),
                open_store("memory:", tenant=tenant, clock=clock),
                clock,
            )

        run_state_machine_as_test(
            machine,  # type: ignore[arg-type]  # Hypothesis accepts any factory of machines
            settings=settings(
                max_examples=15,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )


# -- column pages -------------------------------------------------------------------

_SHANGHAI = timezone(timedelta(hours=8))
#: The single-valued columns of CONTRACT_TASKS: those a column page can read.
_SINGLE_COLUMNS = ("owner", "code", "due", "rank", "done")


def _column_tasks() -> list[ContractTask]:
    """Records with every kind of column value, extremes and NULLs among them."""
    return [
        ContractTask(
            "t1",
            owner="li",
            code="A-1",
            tags={"vip", "refund"},
            due=T0 + timedelta(hours=3),
            rank=1,
        ),
        ContractTask(
            "t2",
            owner="wu",
            code="B-2",
            tags={"refund"},
            due=T0 + timedelta(hours=1),
            rank=2,
            done=True,
        ),
        ContractTask("t3"),
        ContractTask(
            "t4",
            owner="li",
            tags={"vip"},
            due=(T0 + timedelta(hours=1)).astimezone(_SHANGHAI),
            rank=-5,
            done=True,
        ),
        ContractTask("t5", owner="李", code="C-3", due=T0 - timedelta(days=400), rank=2**63 - 1),
        ContractTask("t6", owner="wu", due=T0 + timedelta(hours=2, microseconds=1), rank=-(2**63)),
        ContractTask("t7", owner="li", code=AWKWARD_TEXTS[0], due=T0 + timedelta(hours=3), rank=0),
    ]


def _select_keys(
    tasks: DocumentRepository[ContractTask],
    where: Mapping[str, Any],
    order: str,
    bounds: Mapping[str, Any],
    limit: int = 100,
) -> list[str]:
    """The keys of a walk of ``select`` pages."""
    return _task_keys(lambda c: tasks.select(where, order, limit=limit, cursor=c, **bounds))


def _typed(values: Mapping[str, Any]) -> dict[str, tuple[type, Any, Any]]:
    """Values with their types (``True == 1``) and UTC offsets (equal instants may differ)."""
    return {
        name: (type(v), v, v.utcoffset() if isinstance(v, datetime) else None)
        for name, v in values.items()
    }


def _projected(task: ContractTask, names: Iterable[str]) -> dict[str, Any]:
    """The values of ``names`` a column page gives for ``task``: its columns, in UTC."""
    columns = _task_columns(task)
    return {
        name: columns[name].astimezone(timezone.utc)
        if isinstance(columns[name], datetime)
        else columns[name]
        for name in names
    }


def _as_triple(key: str, version: int, values: Sequence[Any]) -> tuple[str, int, list[Any]]:
    """A ``select_values`` row as ``(key, version, values)``."""
    return key, version, list(values)


def _same_pages(
    tasks: DocumentRepository[ContractTask],
    where: Mapping[str, Any],
    order: str,
    names: tuple[str, ...],
    *,
    limit: int,
    **bounds: Any,
) -> list[str]:
    """Walk ``select`` and ``select_columns`` side by side, asserting that every page
    holds the same records (the column values projected) and the same cursor;
    returns the keys walked."""
    keys: list[str] = []
    cursor: str | None = None
    while True:
        page = tasks.select(where, order, limit=limit, cursor=cursor, **bounds)
        rows = tasks.select_columns(
            where, order, columns=names, limit=limit, cursor=cursor, **bounds
        )
        assert [(r.key, r.version, _typed(r.values)) for r in rows.items] == [
            (s.value.id, s.version, _typed(_projected(s.value, names))) for s in page.items
        ]
        assert rows.next_cursor == page.next_cursor
        made = tasks.select_values(
            where, order, columns=names, make=_as_triple, limit=limit, cursor=cursor, **bounds
        )
        assert list(made.items) == [
            (r.key, r.version, [r.values[name] for name in names]) for r in rows.items
        ]
        assert made.next_cursor == rows.next_cursor
        keys.extend(row.key for row in rows.items)
        if page.next_cursor is None:
            return keys
        cursor = page.next_cursor


def _column_walk(
    tasks: DocumentRepository[ContractTask],
    where: Mapping[str, Any],
    order: str,
    names: tuple[str, ...],
    limit: int,
    bounds: Mapping[str, Any],
) -> list[Any]:
    """Every page of a ``select_columns`` walk: its rows (values typed) and its cursor."""
    pages: list[Any] = []
    cursor: str | None = None
    while True:
        page = tasks.select_columns(
            where, order, columns=names, limit=limit, cursor=cursor, **bounds
        )
        pages.append(([(r.key, r.version, _typed(r.values)) for r in page.items], page.next_cursor))
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


class _WithoutColumns:
    """A backend that passes every call on to another one but lacks ``select_columns``,
    as a third-party backend may."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        if name == "select_columns":
            raise AttributeError(name)
        return getattr(self._backend, name)


def _without_columns(store: Store) -> DocumentRepository[ContractTask]:
    """The contract tasks of ``store``'s tenant through a backend without select_columns."""
    return Store(cast(Backend, _WithoutColumns(store.backend))).collection(CONTRACT_TASKS)


_OWNERS = st.sampled_from([None, "li", "wu"])
_TAGS = st.sampled_from(["a", "b", "c"])
_DUES = st.sampled_from(
    [T0 - timedelta(days=1), T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1, microseconds=1)]
)
_RANKS = st.sampled_from([-(2**63), -1, 0, 5, 2**63 - 1])
#: Random contract tasks (distinct keys and codes).
_COLUMN_RECORDS = st.lists(
    st.builds(
        ContractTask,
        id=st.sampled_from([f"t{i}" for i in range(8)]),
        owner=_OWNERS,
        tags=st.frozensets(_TAGS, max_size=2),
        due=st.none() | _DUES,
        rank=st.none() | _RANKS,
        done=st.booleans(),
    ),
    max_size=8,
    unique_by=lambda task: task.id,
).map(lambda tasks: [attrs.evolve(t, code=f"code-{t.id}" if t.done else None) for t in tasks])
#: ``(where, order, bounds, limit, columns)`` of a column page.
_ColumnQuery = tuple[dict[str, Any], str, dict[str, Any], int, tuple[str, ...]]
_FILTER_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "owner": _OWNERS,
    "done": st.booleans(),
    "tags": _TAGS,
    "rank": st.none() | _RANKS,
    "code": st.sampled_from([None, "code-t1", "code-t2"]),
    "handles": st.just("h1"),
}


@st.composite
def _column_queries(draw: st.DrawFn) -> _ColumnQuery:
    """A page of a declared query of CONTRACT_TASKS (or the listing by key), at random."""
    query = draw(st.sampled_from([*CONTRACT_TASKS.queries, Query("all")]))
    where: dict[str, Any] = {}
    for name in query.where:
        values = draw(st.lists(_FILTER_VALUES[name], min_size=1, max_size=3))
        where[name] = values[0] if len(values) == 1 else tuple(values)
    bounds: dict[str, Any] = {}
    if query.order != "key":
        positions: st.SearchStrategy[Any] = _DUES if query.order == "due" else _RANKS
        for bound in ("low", "high"):
            value = draw(st.none() | positions)
            if value is not None:
                bounds[bound] = value
    names = draw(st.lists(st.sampled_from(_SINGLE_COLUMNS), min_size=1, unique=True))
    return where, query.order, bounds, draw(st.integers(1, 4)), tuple(names)


_IDS = st.sampled_from([f"tkt_{i}" for i in range(6)])
_CUSTOMERS = st.sampled_from([f"cus_{i}" for i in range(3)])
_TASKS = st.sampled_from([f"task_{i}" for i in range(5)])
_RELAYS = st.sampled_from(["relay_a", "relay_b"])
_LEASE = timedelta(seconds=30)


def _messages(messages: list[OutboxMessage]) -> list[tuple[str, int, int, TicketEvent]]:
    return [(m.ticket_id, m.sequence, m.attempts, m.event) for m in messages]


class StoreComparison(RuleBasedStateMachine):
    """The same operations on two stores, ``subject`` and ``oracle``; every read must agree.

    Each test case starts from an empty ``subject``: give it a fresh database.
    With a ``clock`` (both stores opened with it), the machine also claims,
    acknowledges and fails outbox messages and moves the clock past leases.
    """

    def __init__(self, subject: Store, oracle: Store, clock: FrozenClock | None = None) -> None:
        super().__init__()
        self.subject = subject
        self.oracle = oracle
        self.clock = clock
        # relay -> the messages its last claim returned, on the subject and on the oracle
        self.claimed: dict[str, tuple[list[OutboxMessage], list[OutboxMessage]]] = {}

    def teardown(self) -> None:
        self.subject.close()
        self.oracle.close()

    def each(
        self, action: Callable[[Store], Any], view: Callable[[Any], Any] = lambda result: result
    ) -> tuple[Any, Any]:
        """Run ``action`` on both stores; their results seen through ``view`` must be equal
        (or both raise the same error type). Returns the two results (None for an error)."""
        outcomes: list[tuple[str, Any]] = []
        results: list[Any] = []
        for store in (self.subject, self.oracle):
            try:
                result = action(store)
            except (ConflictError, NotFoundError, ValidationError) as error:
                outcomes.append(("error", type(error)))
                results.append(None)
            else:
                outcomes.append(("ok", view(result)))
                results.append(result)
        assert outcomes[0] == outcomes[1], outcomes
        return results[0], results[1]

    def both(self, action: Callable[[Store], Any]) -> Any:
        """Run ``action`` on both stores; they must return equal values or raise the same type."""
        return self.each(action)[1]

    def _side(self, store: Store) -> int:
        return 0 if store is self.subject else 1

    # -- tickets ------------------------------------------------------------------------

    tickets = Bundle("tickets")

    @rule(
        target=tickets, id=_IDS, hours=st.integers(0, 48), deadline=st.none() | st.integers(0, 72)
    )
    def add(self, id: str, hours: int, deadline: int | None) -> str:
        ticket = sample_ticket(
            id, customer_id=f"cus_{hours % 3}", at=T0 + timedelta(hours=hours), messages=hours % 3
        )
        due = None if deadline is None else T0 + timedelta(hours=deadline)
        self.both(lambda s: s.tickets.add(ticket, next_deadline=due).version)
        return id

    @rule(id=tickets, body=st.sampled_from(["ok", "later", "退款"]), stale=st.booleans())
    def reply(self, id: str, body: str, stale: bool) -> None:
        stored = self.oracle.tickets.get(id) if self.oracle.tickets.get_many([id]) else None
        if stored is None:
            return
        ticket = stored.value
        if ticket.status is Status.CLOSED:
            return
        changed = ticket.add_message(
            at=ticket.updated_at + timedelta(minutes=5), actor=AGENT, body=body
        )
        version = stored.version - 1 if stale and stored.version > 1 else stored.version
        self.both(lambda s: s.tickets.save(changed, expected_version=version).version)

    @rule(id=tickets)
    def solve(self, id: str) -> None:
        found = self.oracle.tickets.get_many([id])
        if not found or Status.SOLVED not in found[id].value.allowed_statuses:
            return
        stored = found[id]
        solved = stored.value.change_status(Status.SOLVED, at=stored.value.updated_at, actor=AGENT)
        self.both(lambda s: s.tickets.save(solved, expected_version=stored.version).version)

    @rule(ids=st.lists(_IDS, max_size=4))
    def get_many(self, ids: list[str]) -> None:
        self.both(lambda s: {k: (v.version, v.value) for k, v in s.tickets.get_many(ids).items()})

    @rule(id=_IDS)
    def get(self, id: str) -> None:
        self.both(lambda s: s.tickets.get(id))

    @rule(
        limit=st.integers(1, 4),
        status=st.none() | st.sampled_from([Status.OPEN, Status.SOLVED, Status.NEW]),
    )
    def page_through(self, limit: int, status: Status | None) -> None:
        self.both(
            lambda s: [
                (x.value.id, x.version)
                for x in walk(lambda c: s.tickets.list(status=status, limit=limit, cursor=c))
            ]
        )

    @rule(hours=st.integers(0, 80))
    def due(self, hours: int) -> None:
        self.both(
            lambda s: [x.value.id for x in s.tickets.due_before(T0 + timedelta(hours=hours)).items]
        )

    @rule(fail=st.booleans(), id=_IDS)
    def unit_of_work(self, fail: bool, id: str) -> None:
        def work(store: Store) -> int:
            try:
                with store.transaction():
                    store.tickets.add(sample_ticket(f"{id}_uow"))
                    if fail:
                        raise _AbortError
            except _AbortError:
                pass
            except ConflictError:
                # Adapters may check batched writes at commit: a unit of work rolled
                # back before it need not report the conflict; a committed one must.
                if not fail:
                    raise
            return store.tickets.count()

        self.both(work)

    # -- customers and erasure ------------------------------------------------------------

    @rule(id=_CUSTOMERS, number=st.integers(0, 2))
    def add_customer(self, id: str, number: int) -> None:
        customer = _customer(id, f"+86 138 0013 800{number}")
        self.both(lambda s: s.customers.add(customer).version)

    @rule(id=_CUSTOMERS | st.just("cus_404"), days=st.integers(0, 3))
    def erase(self, id: str, days: int) -> None:
        at = T0 + timedelta(days=days)
        self.both(lambda s: s.erase_customer(id, reason="asked to be forgotten", at=at))

    @rule(number=st.integers(0, 2))
    def find_by_contact(self, number: int) -> None:
        self.both(lambda s: s.customers.find_by_contact(f"+86 138 0013 800{number}"))

    # -- a declared collection ------------------------------------------------------------

    @rule(
        id=_TASKS,
        owner=st.sampled_from([None, "li", "wu"]),
        code=st.none() | st.sampled_from(["A", "B"]),
        tags=st.frozensets(st.sampled_from(["vip", "refund"])),
        hours=st.none() | st.integers(0, 4),
        save=st.booleans(),
        stale=st.booleans(),
    )
    def write_task(
        self,
        id: str,
        owner: str | None,
        code: str | None,
        tags: frozenset[str],
        hours: int | None,
        save: bool,
        stale: bool,
    ) -> None:
        due = None if hours is None else T0 + timedelta(hours=hours)
        task = ContractTask(id, owner=owner, code=code, tags=tags, due=due, rank=hours)
        if not save:
            self.both(lambda s: s.collection(CONTRACT_TASKS).add(task))
            return
        found = self.oracle.collection(CONTRACT_TASKS).get_many([id])
        version = found[id].version if found else 1
        version = version + 1 if stale else version
        self.both(lambda s: s.collection(CONTRACT_TASKS).save(task, expected_version=version))

    @rule(id=_TASKS, version=st.integers(1, 3))
    def delete_task(self, id: str, version: int) -> None:
        self.both(lambda s: s.collection(CONTRACT_TASKS).delete(id, expected_version=version))

    @staticmethod
    def _task_where(query: str, owner: str | None, tag: str) -> dict[str, Any]:
        wheres: dict[str, dict[str, Any]] = {
            "by_owner": {"owner": owner},
            "by_tag": {"tags": tag},
            "due": {},
            "owner_due": {"owner": owner},
            "tag_due": {"tags": tag},
            "rank_order": {},
        }
        return wheres[query]

    @staticmethod
    def _task_bound(query: str, hours: int) -> Any:
        """A bound of ``query``'s order: ranks are the tasks' hours (integers)."""
        return hours if query == "rank_order" else T0 + timedelta(hours=hours)

    @rule(
        query=st.sampled_from(["by_owner", "by_tag", "due", "owner_due", "tag_due", "rank_order"]),
        owner=st.sampled_from([None, "li", "wu"]),
        tag=st.sampled_from(["vip", "refund"]),
        low=st.none() | st.integers(0, 4),
        limit=st.integers(1, 3),
    )
    def find_tasks(
        self, query: str, owner: str | None, tag: str, low: int | None, limit: int
    ) -> None:
        where = self._task_where(query, owner, tag)
        bounds: dict[str, Any] = {}
        if low is not None and query not in ("by_owner", "by_tag"):
            bounds["low"] = self._task_bound(query, low)

        def find(store: Store) -> tuple[list[Any], int]:
            tasks = store.collection(CONTRACT_TASKS)
            found = walk(lambda c: tasks.find(query, where=where, limit=limit, cursor=c, **bounds))
            return found, tasks.count(query, where=where)

        self.both(find)

    @rule(
        query=st.sampled_from(["due", "owner_due", "tag_due", "rank_order"]),
        owner=st.sampled_from([None, "li", "wu"]),
        tag=st.sampled_from(["vip", "refund"]),
        high=st.integers(0, 6),
        until=st.integers(0, 8),
        low=st.none() | st.integers(0, 3),
        limit=st.integers(1, 3),
        roll_back=st.booleans(),
    )
    def lease_tasks(
        self,
        query: str,
        owner: str | None,
        tag: str,
        high: int,
        until: int,
        low: int | None,
        limit: int,
        roll_back: bool,
    ) -> None:
        where = self._task_where(query, owner, tag)
        bounds = {
            "high": self._task_bound(query, high),
            "until": self._task_bound(query, until),
            "low": None if low is None else self._task_bound(query, low),
        }

        def lease(store: Store) -> list[Stored[ContractTask]]:
            tasks = store.collection(CONTRACT_TASKS)
            if not roll_back:
                return tasks.lease(query, where=where, limit=limit, **bounds)
            taken: list[Stored[ContractTask]] = []
            try:
                with store.transaction():
                    taken += tasks.lease(query, where=where, limit=limit, **bounds)
                    raise _AbortError
            except _AbortError:
                return taken

        self.both(lease)

    # -- the outbox relay -----------------------------------------------------------------

    @precondition(lambda self: self.clock is not None)
    @rule(relay=_RELAYS, limit=st.integers(1, 5))
    def claim(self, relay: str, limit: int) -> None:
        claimed = self.each(
            lambda s: s.outbox.claim(relay=relay, limit=limit, lease=_LEASE), _messages
        )
        self.claimed[relay] = claimed

    @precondition(lambda self: self.clock is not None)
    @rule(relay=_RELAYS, acting=_RELAYS, count=st.integers(0, 5), fail=st.booleans())
    def settle(self, relay: str, acting: str, count: int, fail: bool) -> None:
        """``acting`` acknowledges (or fails) the first ``count`` of ``relay``'s last claim."""
        claimed = self.claimed.get(relay)
        if claimed is None:
            return

        def settle(store: Store) -> int:
            ids = [m.id for m in claimed[self._side(store)][:count]]
            if fail:
                return store.outbox.fail(ids, relay=acting, reason="refused by the broker")
            return store.outbox.ack(ids, relay=acting)

        self.both(settle)

    @precondition(lambda self: self.clock is not None)
    @rule(seconds=st.sampled_from([0, 10, 29, 30, 45]))
    def advance(self, seconds: int) -> None:
        assert self.clock is not None
        self.clock.advance(seconds=seconds)

    @precondition(lambda self: self.clock is not None)
    @rule(count=st.integers(0, 3))
    def retry(self, count: int) -> None:
        self.both(lambda s: s.outbox.retry([f.id for f in s.outbox.failed().items[:count]]))

    # -- what both must agree on after every step ----------------------------------------

    @invariant()
    def same_counts_and_outbox(self) -> None:
        self.both(lambda s: (s.tickets.count(), s.tickets.count(status=Status.OPEN)))
        self.both(lambda s: [(m.ticket_id, m.sequence, m.event) for m in s.outbox.pending(1000)])
        self.both(
            lambda s: [
                (f.ticket_id, f.sequence, f.attempts, f.reason)
                for f in walk(lambda c: s.outbox.failed(cursor=c))
            ]
        )

    @invariant()
    def same_customers_and_tasks(self) -> None:
        self.both(lambda s: walk(lambda c: s.customers.list(cursor=c)))
        self.both(lambda s: walk(lambda c: s.collection(CONTRACT_TASKS).list(cursor=c)))


class _AbortError(Exception):
    """Raised inside a unit of work to roll it back on purpose."""
