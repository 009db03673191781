"""Files written by csdomain 0.1 (schema version 1) open and migrate to version 2 in place.

The fixture writes a version 1 file as csdomain 0.1 did: its schema statements
(``MIGRATIONS[0]``, kept unchanged), its ``csdomain_schema`` bookkeeping, and its
rows: ticket documents with their indexed columns, customers, agents, groups
and configuration documents in ``records``, contact points, and outbox
messages, some published.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from csdomain._kernel.time import to_epoch_us
from csdomain.customers import ContactPoint, Customer
from csdomain.errors import SchemaError
from csdomain.people import Agent, Group
from csdomain.priorities import Priority
from csdomain.serialization import ticket_json_and_events, to_json
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, Target
from csdomain.storage import open_store
from csdomain.storage.backend import OutboxRow
from csdomain.storage.sqlite import MIGRATIONS, SqliteBackend, open_backend
from csdomain.testing.storage import T0, sample_ticket
from csdomain.tickets import Status, Ticket

# What csdomain 0.1 wrote in a ticket row beside its document (its TICKET_COLUMNS).
_V1_TICKET_COLUMNS = (
    "status",
    "assignee_id",
    "group_id",
    "customer_id",
    "kind",
    "priority",
    "updated_at",
    "next_deadline",
    "event_count",
)


def _v1_columns(ticket: Ticket, next_deadline: Any) -> tuple[Any, ...]:
    return (
        ticket.status.value,
        ticket.assignee_id,
        ticket.group_id,
        ticket.customer_id,
        ticket.kind.value,
        ticket.priority.value,
        to_epoch_us(ticket.updated_at),
        None if next_deadline is None else to_epoch_us(next_deadline),
        len(ticket.timeline),
    )


def _write_v1(path: Path, tenants: dict[str, list[Ticket]]) -> dict[str, list[tuple[Any, ...]]]:
    """A version 1 file holding these tickets and a few records per tenant; returns the
    rows written per tenant as ``(collection, key, version, text)``, and a ticket's
    ``next_deadline`` (microseconds or None)."""
    raw = sqlite3.connect(path, isolation_level=None)
    written: dict[str, list[tuple[Any, ...]]] = {}
    try:
        raw.execute("PRAGMA journal_mode = WAL").fetchall()
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("CREATE TABLE csdomain_schema (version INTEGER NOT NULL)")
        raw.execute("INSERT INTO csdomain_schema (version) VALUES (0)")
        for statement in MIGRATIONS[0]:
            raw.execute(statement)
        raw.execute("UPDATE csdomain_schema SET version = ?", (1,))
        for tenant, tickets in tenants.items():
            rows: list[tuple[Any, ...]] = []
            for n, ticket in enumerate(tickets):
                text, events = ticket_json_and_events(ticket)
                deadline = T0 + timedelta(hours=n) if n % 2 else None
                version = 1 + n % 3  # saved a few times
                raw.execute(
                    f"INSERT INTO tickets (tenant, key, version, document, "
                    f"{', '.join(_V1_TICKET_COLUMNS)}) VALUES (?, ?, ?, ?{', ?' * 9})",
                    (tenant, ticket.id, version, text, *_v1_columns(ticket, deadline)),
                )
                raw.executemany(
                    "INSERT INTO outbox (tenant, ticket_id, sequence, event_type, document) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (tenant, ticket.id, i, ticket.timeline[i].type_name, event)
                        for i, event in enumerate(events)
                    ],
                )
                micros = None if deadline is None else to_epoch_us(deadline)
                rows.append(("tickets", ticket.id, version, text, micros))
            customer = Customer(
                id="cus_1",
                display_name="王芳",
                contact_points=(ContactPoint(channel="phone_hotline", address="+8613800138000"),),
            )
            policy = SlaPolicy(
                name="standard",
                metrics=(
                    MetricPolicy(
                        SlaMetric.RESOLUTION, {Priority.NORMAL: Target(timedelta(hours=8))}
                    ),
                ),
            )
            records = [
                ("customers", "cus_1", 2, to_json(customer)),
                ("agents", "agt_1", 1, to_json(Agent(id="agt_1", name="Li"))),
                ("groups", "grp_1", 1, to_json(Group(id="grp_1", name="Billing"))),
                ("config:sla_policy", "standard", 1, to_json(policy)),
            ]
            raw.executemany(
                "INSERT INTO records (tenant, collection, key, version, document) "
                "VALUES (?, ?, ?, ?, ?)",
                [(tenant, *record) for record in records],
            )
            raw.execute(
                "INSERT INTO contacts (tenant, address, channel, customer_id) VALUES (?, ?, ?, ?)",
                (tenant, "+8613800138000", "phone_hotline", "cus_1"),
            )
            written[tenant] = sorted(records) + rows
        # The relay published the first messages.
        raw.execute("UPDATE outbox SET published = 1 WHERE id <= 2")
        raw.execute("COMMIT")
    finally:
        raw.close()
    return written


@pytest.fixture
def tickets() -> list[Ticket]:
    return [
        sample_ticket("tkt_1", messages=2),
        sample_ticket("tkt_2", status=Status.OPEN, assignee_id="agt_1"),
        sample_ticket("tkt_3", customer_id="cus_2"),
    ]


@pytest.fixture
def v1(tmp_path: Path, tickets: list[Ticket]) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "desk-0.1.db"
    written = _write_v1(path, {"acme": tickets, "beta": tickets[:1]})
    return path, written


def _tables(path: Path) -> set[str]:
    raw = sqlite3.connect(path)
    try:
        return {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    finally:
        raw.close()


def _query(path: Path, sql: str) -> list[Any]:
    raw = sqlite3.connect(path)
    try:
        return raw.execute(sql).fetchall()
    finally:
        raw.close()


def test_a_version_1_file_migrates_to_version_2_in_place(v1: tuple[Path, Any]) -> None:
    path, _ = v1
    outbox_before = _query(
        path, "SELECT id, tenant, ticket_id, sequence, event_type, document, published FROM outbox"
    )
    backend = open_backend(f"sqlite:///{path}", "acme")  # an existing store: no create
    backend.close()
    assert _query(path, "SELECT version FROM csdomain_schema") == [(len(MIGRATIONS),)]
    tables = _tables(path)
    assert {"legacy_records", "legacy_tickets", "outbox", "csdomain_collections"} <= tables
    assert not {"records", "tickets", "contacts", "outbox_v2"} & tables
    assert not any(name.startswith(("tickets_", "contacts_")) for name in tables)
    outbox_after = _query(
        path,
        "SELECT id, tenant, stream, key, sequence, event_type, document, state, lease_owner, "
        "lease_until, attempts, failure FROM outbox ORDER BY id",
    )
    assert outbox_after == [
        (
            id,
            tenant,
            "tickets",
            ticket_id,
            sequence,
            event_type,
            document,
            "published" if published else "pending",
            None,
            None,
            0,
            None,
        )
        for id, tenant, ticket_id, sequence, event_type, document, published in outbox_before
    ]


def test_legacy_rows_give_back_what_version_1_stored_and_drop_legacy_forgets_them(
    v1: tuple[Path, Any],
) -> None:
    path, written = v1
    acme = open_backend(f"sqlite:///{path}", "acme")
    beta = open_backend(f"sqlite:///{path}", "beta")
    rows = acme.legacy_rows(100)
    assert rows == written["acme"]
    assert {row[0] for row in rows} == {
        "tickets",
        "customers",
        "agents",
        "groups",
        "config:sla_policy",
    }
    assert acme.legacy_rows(3) == written["acme"][:3]
    assert acme.legacy_rows(5) == written["acme"][:5]  # records, then tickets
    assert acme.legacy_rows(0) == []
    with acme.transaction():
        acme.drop_legacy([(row[0], row[1]) for row in rows[:5]])
    assert acme.legacy_rows(100) == written["acme"][5:]
    with acme.transaction():
        acme.drop_legacy([(row[0], row[1]) for row in rows[5:]])
    assert acme.legacy_rows(100) == []
    # Another tenant's rows are still there: the tables stay.
    assert {"legacy_records", "legacy_tickets"} <= _tables(path)
    assert beta.legacy_rows(100) == written["beta"]
    with beta.transaction():
        beta.drop_legacy([(row[0], row[1]) for row in written["beta"]])
    assert not {"legacy_records", "legacy_tickets"} & _tables(path)
    assert acme.legacy_rows(100) == beta.legacy_rows(100) == []
    acme.close()
    beta.close()


def test_the_outbox_keeps_its_ids_and_its_counter(v1: tuple[Path, Any]) -> None:
    path, _ = v1
    raw = sqlite3.connect(path, isolation_level=None)
    try:  # 0.1 had handed out more ids than it kept (say, rows removed by hand)
        raw.execute("UPDATE sqlite_sequence SET seq = 1000 WHERE name = 'outbox'")
        (last,) = raw.execute("SELECT max(id) FROM outbox").fetchone()
    finally:
        raw.close()
    backend = open_backend(f"sqlite:///{path}", "acme")
    pending = backend.outbox_pending(100)
    assert pending[0].id == 3 and pending[-1].id <= last  # published ones are not pending
    assert all(m.stream == "tickets" and m.attempts == 0 for m in pending)
    with backend.transaction():
        claimed = backend.outbox_claim("relay", 2, 0, 1)
        backend.outbox_append([("tickets", "tkt_9", 0, "opened", "{}")])
    assert [m.id for m in claimed] == [3, 4]
    newest = backend.outbox_pending(1000)[-1]
    assert newest == OutboxRow(1001, "tickets", "tkt_9", 0, "opened", "{}")
    backend.close()


def test_a_new_store_and_a_migrated_one_have_the_same_schema(
    v1: tuple[Path, Any], tmp_path: Path
) -> None:
    path, written = v1
    for tenant, rows in written.items():
        backend = open_backend(f"sqlite:///{path}", tenant)
        with backend.transaction():
            backend.drop_legacy([(row[0], row[1]) for row in rows])
        backend.close()
    fresh = tmp_path / "fresh.db"
    open_backend(f"sqlite:///{fresh}", "acme", create=True).close()

    def schema(at: Path) -> list[Any]:
        return _query(at, "SELECT type, name, sql FROM sqlite_master ORDER BY name")

    assert schema(path) == schema(fresh)


def test_opening_a_version_1_file_through_the_store_moves_its_rows(
    v1: tuple[Path, Any], tickets: list[Ticket]
) -> None:
    path, _ = v1
    with open_store(f"sqlite:///{path}", tenant="acme") as store:
        for ticket in tickets:
            assert store.tickets.get(ticket.id).value == ticket
        assert store.customers.get("cus_1").value.display_name == "王芳"
        assert store.agents.get("agt_1").value.name == "Li"
        assert store.config.get(SlaPolicy, "standard").value.name == "standard"
        assert [s.value.id for s in store.customers.find_by_contact("+86 138 0013 8000")] == [
            "cus_1"
        ]
        opened = sum(1 for t in tickets if t.status is Status.OPEN)
        assert store.tickets.count(status=Status.OPEN) == opened
        assert store.tickets.count() == len(tickets)
        due = store.tickets.due_before(T0 + timedelta(days=1))  # the deadlines moved too
        assert [s.value.id for s in due.items] == ["tkt_2"]
        assert store.backend.legacy_rows(10) == []
    with open_store(f"sqlite:///{path}", tenant="beta") as store:
        assert store.tickets.get("tkt_1").value == tickets[0]
    assert not {"legacy_records", "legacy_tickets"} & _tables(path)
    assert _query(path, "SELECT version FROM csdomain_schema") == [(len(MIGRATIONS),)]


def test_a_damaged_version_1_file_is_a_schema_error_and_is_left_as_it_was(
    v1: tuple[Path, Any],
) -> None:
    path, _ = v1
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("DROP TABLE contacts")
    finally:
        raw.close()
    before = _tables(path)
    with pytest.raises(SchemaError, match="damaged csdomain schema version 1") as info:
        open_backend(f"sqlite:///{path}", "acme")
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert _tables(path) == before  # the migration rolled back
    assert _query(path, "SELECT version FROM csdomain_schema") == [(1,)]


def test_threads_racing_to_migrate_one_file_migrate_it_once(v1: tuple[Path, Any]) -> None:
    path, written = v1

    backends: list[SqliteBackend] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_it() -> None:
        barrier.wait()
        try:
            backends.append(open_backend(f"sqlite:///{path}", "acme"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(backends) == 4
    assert backends[0].legacy_rows(100) == written["acme"]
    for backend in backends:
        backend.close()
    assert _query(path, "SELECT count(*), max(version) FROM csdomain_schema") == [
        (1, len(MIGRATIONS))
    ]
