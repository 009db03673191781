"""PostgreSQL: a version 1 schema (csdomain 0.1) moves forward in place, and a schema
without csdomain's tables is no store unless creating one was asked for.

The version 1 schema is made here from version 1's own statements
(``MIGRATIONS[1]``, as csdomain 0.1 ran them). See ``test_postgres.py`` for the
server these tests need.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from test_postgres import URL, Schema, admin, fresh_schema, postgres, psycopg, rolled_back, sql

from csdomain.errors import NoStoreError
from csdomain.storage.backend import SCHEMA_VERSION, OutboxRow

TICKET = '{"schema_version": 1, "document": "ticket", "id": "tkt_1"}'
CUSTOMER = '{"schema_version": 1, "document": "customer", "id": "cus_1", "n": 1e300}'
POLICY = '{"schema_version": 1, "document": "SlaPolicy", "name": "standard"}'
AGENT = '{"schema_version": 1, "document": "agent", "id": "agt_1"}'


@pytest.fixture
def schema() -> Iterator[Schema]:
    yield from fresh_schema()


def _version_1(schema: Schema, *, rows: bool = True) -> None:
    """The schema csdomain 0.1 made, holding two tenants' rows."""
    ident = sql.Identifier(schema.name)
    with admin() as conn, conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(ident))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (version INTEGER PRIMARY KEY,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            ).format(schema.table("csdomain_schema"))
        )
        for step in postgres.MIGRATIONS[1]:
            assert isinstance(step, sql.SQL)
            conn.execute(step.format(schema=ident))
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(schema.table("csdomain_schema")))
        if not rows:
            return
        records = [
            ("acme", "customers", "cus_1", 3, CUSTOMER),
            ("acme", "config:SlaPolicy", "standard", 1, POLICY),
            ("globex", "agents", "agt_1", 1, AGENT),
        ]
        for row in records:
            conn.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s)").format(
                    schema.table("records")
                ),
                row,
            )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} VALUES ('acme', 'tkt_1', 2, %s, 'open', NULL, NULL, 'cus_1',"
                " 'question', 'normal', 1000, 2000, 3)"
            ).format(schema.table("tickets")),
            (TICKET,),
        )
        conn.execute(
            sql.SQL("INSERT INTO {} VALUES ('acme', 'cus_1', 'email', 'li@example.com')").format(
                schema.table("contacts")
            )
        )
        for tenant, sequence, published in (
            ("acme", 0, True),
            ("acme", 1, False),
            ("globex", 0, False),
            ("acme", 2, False),
        ):
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (tenant, ticket_id, sequence, event_type, document, published)"
                    " VALUES (%s, 'tkt_1', %s, 'MessageAdded', %s, %s)"
                ).format(schema.table("outbox")),
                (tenant, sequence, f'{{"n": {sequence}}}', published),
            )


def _tables(schema: Schema) -> set[str]:
    return {
        name
        for (name,) in schema.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", schema.name
        )
    }


def _open(schema: Schema, tenant: str, **options: Any) -> postgres.PostgresBackend:
    backend = postgres.open_backend(schema.url(), tenant, **options)
    schema.opened.append(backend)
    return backend


def test_a_version_1_schema_moves_forward_in_place(schema: Schema) -> None:
    _version_1(schema)
    acme = _open(schema, "acme")  # a store already: no create needed
    assert schema.rows("SELECT version FROM {}.csdomain_schema ORDER BY version") == [(1,), (2,)]
    assert _tables(schema) == {
        "csdomain_schema",
        "csdomain_collections",
        "csdomain_reindex",
        "legacy_records",
        "legacy_tickets",
        "outbox",
    }
    assert acme.legacy_rows(100) == [
        ("config:SlaPolicy", "standard", 1, POLICY),
        ("customers", "cus_1", 3, CUSTOMER),
        ("tickets", "tkt_1", 2, TICKET, 2000),  # with its indexed next deadline
    ]
    assert acme.legacy_rows(2) == acme.legacy_rows(100)[:2]
    globex = _open(schema, "globex")
    assert globex.legacy_rows(100) == [("agents", "agt_1", 1, AGENT)]
    # The outbox keeps its messages, ids and what was published.
    pending = [
        OutboxRow(i, "tickets", "tkt_1", s, "MessageAdded", f'{{"n": {s}}}')
        for i, s in ((2, 1), (4, 2))
    ]
    assert acme.outbox_pending(10) == pending
    assert [m.id for m in globex.outbox_pending(10)] == [3]
    assert [m.id for m in acme.outbox_claim("r1", 10, 0, 100)] == [2, 4]
    with acme.transaction():
        acme.outbox_append([("tickets", "tkt_2", 0, "TicketOpened", "{}")])
    assert [m.id for m in acme.outbox_pending(10)] == [2, 4, 5]  # ids go on
    states = schema.rows("SELECT id, state, stream, key FROM {}.outbox ORDER BY id")
    assert states[:4] == [
        (1, "published", "tickets", "tkt_1"),
        (2, "pending", "tickets", "tkt_1"),
        (3, "pending", "tickets", "tkt_1"),
        (4, "pending", "tickets", "tkt_1"),
    ]


def test_moved_rows_are_forgotten_and_the_emptied_tables_dropped(schema: Schema) -> None:
    _version_1(schema)
    acme, globex = _open(schema, "acme"), _open(schema, "globex")
    moved = [(row[0], row[1]) for row in acme.legacy_rows(100)]
    with rolled_back(acme):
        acme.drop_legacy(moved)
    assert len(acme.legacy_rows(100)) == 3  # a rollback keeps them
    with acme.transaction():
        acme.drop_legacy(moved[:1])
        acme.drop_legacy([("customers", "cus_9"), ("agents", "agt_1")])  # others: untouched
    assert [row[1] for row in acme.legacy_rows(100)] == ["cus_1", "tkt_1"]
    with acme.transaction():
        acme.drop_legacy(moved[1:])
    assert acme.legacy_rows(100) == []
    assert "legacy_records" in _tables(schema)  # globex has rows left
    assert globex.legacy_rows(100) == [("agents", "agt_1", 1, AGENT)]
    with globex.transaction():
        globex.drop_legacy([("agents", "agt_1")])
    assert globex.legacy_rows(100) == []
    assert not {"legacy_records", "legacy_tickets"} & _tables(schema)
    with acme.transaction():
        acme.drop_legacy(moved)  # the tables are gone: nothing to forget
    assert acme.legacy_rows(100) == []


def test_a_version_1_schema_without_rows_loses_its_legacy_tables_at_once(
    schema: Schema,
) -> None:
    _version_1(schema, rows=False)
    backend = _open(schema, "acme")
    assert not {"legacy_records", "legacy_tickets", "contacts"} & _tables(schema)
    assert backend.legacy_rows(10) == []


def test_processes_opening_a_version_1_schema_at_once_migrate_it_once(schema: Schema) -> None:
    _version_1(schema)
    barrier = threading.Barrier(5)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            _open(schema, "acme")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert schema.rows("SELECT version FROM {}.csdomain_schema ORDER BY version") == [(1,), (2,)]
    assert len(schema.opened[0].legacy_rows(100)) == 3


def test_a_schema_without_csdomains_tables_is_no_store_unless_creating(schema: Schema) -> None:
    with pytest.raises(NoStoreError, match="pass create=True") as missing:
        _open(schema, "acme")
    assert schema.name in str(missing.value)
    with admin() as conn:  # an empty schema, or one of the app's own tables only
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema.name)))
        conn.execute(sql.SQL("CREATE TABLE {} (id integer)").format(schema.table("orders")))
    with pytest.raises(NoStoreError):
        _open(schema, "acme")
    with psycopg.connect(URL) as conn, pytest.raises(NoStoreError):
        postgres.store_on_connection(conn, tenant="acme", schema=schema.name)
    assert _tables(schema) == {"orders"}  # nothing was created
    # Created in the app's transaction, the tables go when it rolls back.
    with psycopg.connect(URL) as conn:
        conn.execute("SELECT 1")
        postgres.PostgresBackend.from_connection(conn, "acme", schema=schema.name, create=True)
        conn.rollback()
    assert _tables(schema) == {"orders"}
    backend = _open(schema, "acme", create=True)
    assert backend.legacy_rows(10) == [] and backend.outbox_pending(10) == []
    assert "csdomain_schema" in _tables(schema)
    _open(schema, "acme")  # a store now


def test_migrate_creates_or_upgrades_at_deploy_time(schema: Schema) -> None:
    _version_1(schema, rows=False)
    with psycopg.connect(URL) as conn:
        assert postgres.migrate(conn, schema.name) == SCHEMA_VERSION
        conn.commit()
    other = Schema()
    try:
        with psycopg.connect(URL, autocommit=True) as conn:
            assert postgres.migrate(conn, other.name) == SCHEMA_VERSION
        _open(other, "acme")
    finally:
        other.drop()
