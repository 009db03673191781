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
            return open_store(self.url, tenant=tenant)

Within one test, :meth:`StoreContract.make_store` is called once per tenant;
the stores it returns must share one database, and every test must start
from an empty one. Every test method is public and stable: new csdomain
releases add tests, they do not rename or remove them.

:class:`StoreComparison` applies the same random operations (Hypothesis
``RuleBasedStateMachine``) to the in-memory adapter and to the adapter under
test and asserts identical reads; the contract runs it as
:meth:`StoreContract.test_matches_the_memory_adapter`.

Requires pytest and Hypothesis.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from csdomain.calendars import BusinessCalendar, Holiday
from csdomain.channels import ChannelKind
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
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, Target
from csdomain.storage import StorageError, Store, open_store
from csdomain.storage.backend import encode_cursor
from csdomain.tickets import Actor, Status, Ticket, TicketKind

__all__ = ["StoreComparison", "StoreContract", "sample_ticket"]

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
        """Put a document no domain check has seen straight into the backend."""
        columns: dict[str, Any] = {}
        if collection == "tickets":
            columns = {
                "status": "open",
                "assignee_id": None,
                "group_id": None,
                "customer_id": "cus_1",
                "kind": "incident",
                "priority": "normal",
                "updated_at": 0,
                "next_deadline": 0,
                "event_count": 1,
            }
        with store.transaction():
            store.backend.insert(collection, key, text, columns)

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
                store.tickets.due_before(T0, cursor=encode_cursor(forged, "tkt_1"))
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

    # -- the memory adapter as an oracle ------------------------------------------

    def test_matches_the_memory_adapter(self) -> None:
        """Random operations give the same reads here as on the in-memory adapter."""
        examples = iter(range(1_000_000))

        def machine() -> StoreComparison:
            # A tenant of its own per example: an empty store on this test's database.
            tenant = f"machine-{next(examples)}"
            return StoreComparison(self.make_store(tenant), open_store("memory:", tenant=tenant))

        run_state_machine_as_test(
            machine,  # type: ignore[arg-type]  # Hypothesis accepts any factory of machines
            settings=settings(
                max_examples=15,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )


_IDS = st.sampled_from([f"tkt_{i}" for i in range(6)])


class StoreComparison(RuleBasedStateMachine):
    """The same operations on two stores, ``subject`` and ``oracle``; every read must agree.

    Each test case starts from an empty ``subject``: give it a fresh database.
    """

    def __init__(self, subject: Store, oracle: Store) -> None:
        super().__init__()
        self.subject = subject
        self.oracle = oracle

    def teardown(self) -> None:
        self.subject.close()
        self.oracle.close()

    def both(self, action: Callable[[Store], Any]) -> Any:
        """Run ``action`` on both stores; they must return equal values or raise the same type."""
        results = []
        for store in (self.subject, self.oracle):
            try:
                results.append(("ok", action(store)))
            except (ConflictError, NotFoundError, ValidationError) as error:
                results.append(("error", type(error)))
        assert results[0] == results[1], results
        return results[0][1]

    tickets = Bundle("tickets")

    @rule(
        target=tickets, id=_IDS, hours=st.integers(0, 48), deadline=st.none() | st.integers(0, 72)
    )
    def add(self, id: str, hours: int, deadline: int | None) -> str:
        ticket = sample_ticket(id, at=T0 + timedelta(hours=hours), messages=hours % 3)
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
        def walk(store: Store) -> list[tuple[str, int]]:
            seen: list[tuple[str, int]] = []
            cursor: str | None = None
            while True:
                page = store.tickets.list(status=status, limit=limit, cursor=cursor)
                seen.extend((s.value.id, s.version) for s in page.items)
                if page.next_cursor is None:
                    return seen
                cursor = page.next_cursor

        self.both(walk)

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
            return store.tickets.count()

        self.both(work)

    @invariant()
    def same_counts_and_outbox(self) -> None:
        self.both(lambda s: (s.tickets.count(), s.tickets.count(status=Status.OPEN)))
        self.both(lambda s: [(m.ticket_id, m.sequence, m.event) for m in s.outbox.pending(1000)])


class _AbortError(Exception):
    """Raised inside a unit of work to roll it back on purpose."""
