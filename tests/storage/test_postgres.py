"""The storage contract and PostgreSQL's own behaviour, on a real server.

The server is ``CSDOMAIN_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Every test works in a schema of
its own, ``csdomain_test_<random>``, dropped when the test ends, so runs (and
tests) never see each other's rows. Without a reachable server the tests are
skipped, unless ``CSDOMAIN_REQUIRE_POSTGRES`` is set (as in CI): then they fail.
"""

from __future__ import annotations

import functools
import math
import os
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from csdomain.channels import ChannelKind
from csdomain.customers import ContactPoint, Customer
from csdomain.errors import (
    ConflictError,
    CorruptRecordError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    ValidationError,
)
from csdomain.priorities import Priority
from csdomain.sla import MetricPolicy, SlaMetric, SlaPolicy, Target
from csdomain.storage import SCHEMA_VERSION, StorageError, Store, open_store
from csdomain.testing.storage import StoreContract, sample_ticket
from csdomain.tickets import Actor

try:
    import psycopg
    import psycopg_pool
    from psycopg import sql

    from csdomain.storage import postgres
except (ImportError, StorageError):  # without csdomain[postgres]: see _require_server
    psycopg = None  # type: ignore[assignment]

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL = os.environ.get("CSDOMAIN_TEST_POSTGRES_URL") or DEFAULT_URL
REQUIRED = os.environ.get("CSDOMAIN_REQUIRE_POSTGRES", "") not in ("", "0")

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
AGENT = Actor.agent("agt_1")


@functools.cache
def _unavailable() -> str | None:
    """Why the tests cannot run here, or None."""
    if psycopg is None:
        return "psycopg is not installed (pip install 'csdomain[postgres]')"
    try:
        with psycopg.connect(URL, connect_timeout=5):
            pass
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        return f"no PostgreSQL server at CSDOMAIN_TEST_POSTGRES_URL ({reason})"
    return None


def _require_server() -> None:
    problem = _unavailable()
    if problem is None:
        return
    if REQUIRED:
        pytest.fail(f"{problem}; CSDOMAIN_REQUIRE_POSTGRES is set, so this is a failure")
    pytest.skip(f"{problem}; set CSDOMAIN_TEST_POSTGRES_URL to run the PostgreSQL tests")


def _admin() -> Any:
    return psycopg.connect(URL, autocommit=True)


class Schema:
    """A fresh schema name of this test's own; :meth:`drop` removes the schema."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"csdomain_test_{secrets.token_hex(6)}"

    def url(self, **params: Any) -> str:
        query = urlencode({"schema": self.name, **params}, quote_via=quote)
        return f"{URL}{'&' if '?' in URL else '?'}{query}"

    def table(self, name: str) -> Any:
        return sql.Identifier(self.name, name)

    def drop(self) -> None:
        with _admin() as conn:
            conn.execute("SET lock_timeout = '30s'")
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.name))
            )


@pytest.fixture
def schema() -> Iterator[Schema]:
    _require_server()
    fresh = Schema()
    yield fresh
    fresh.drop()


@pytest.fixture
def stores(schema: Schema) -> Iterator[list[Store]]:
    """Stores to close before the schema is dropped."""
    opened: list[Store] = []
    yield opened
    for store in opened:
        store.close()


# -- the contract, three ways to connect ---------------------------------------------


class TestPostgresStore(StoreContract):
    """One connection per thread (``open_store(url)`` without a pool)."""

    @pytest.fixture(autouse=True)
    def _fresh_schema(self) -> Iterator[None]:
        _require_server()
        self.schema = Schema()
        self.opened: list[Store] = []
        yield
        for store in self.opened:
            store.close()
        self.schema.drop()

    def open(self, tenant: str) -> Store:
        return open_store(self.schema.url(), tenant=tenant)

    def make_store(self, tenant: str) -> Store:
        store = self.open(tenant)
        self.opened.append(store)
        return store


class TestPostgresPooledStore(TestPostgresStore):
    """A connection pool (``?pool_size=N``)."""

    def open(self, tenant: str) -> Store:
        return open_store(self.schema.url(pool_size=3), tenant=tenant)


class TestPostgresStoreOnAppConnection(TestPostgresStore):
    """Stores on one connection the app holds (psycopg's default: autocommit off)."""

    def open(self, tenant: str) -> Store:
        if not hasattr(self, "connection"):
            self.connection = psycopg.connect(URL)
        return postgres.store_on_connection(self.connection, tenant=tenant, schema=self.schema.name)

    @pytest.fixture(autouse=True)
    def _close_connection(self, _fresh_schema: None) -> Iterator[None]:
        yield
        if hasattr(self, "connection"):
            self.connection.close()

    @pytest.mark.skip(reason="a store on one app connection is used by one thread at a time")
    def test_concurrent_saves_of_one_version_give_exactly_one_conflict(self, store: Store) -> None:
        """Covered on separate connections by the other two classes."""


# -- PostgreSQL's own behaviour -----------------------------------------------------------


def test_two_connections_saving_one_version_give_one_conflict_and_lose_nothing(
    schema: Schema, stores: list[Store]
) -> None:
    left = open_store(schema.url(), tenant="acme")
    right = open_store(schema.url(), tenant="acme")
    stores += [left, right]
    for round in range(10):
        ticket = sample_ticket(f"tkt_{round}")
        left.tickets.add(ticket)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def save(
            store: Store,
            body: str,
            ticket: Any = ticket,
            barrier: Any = barrier,
            outcomes: dict[str, str] = outcomes,
        ) -> None:
            changed = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body=body)
            barrier.wait()
            try:
                with store.transaction():
                    store.tickets.save(changed, expected_version=1)
                    time.sleep(0.02)  # hold the row lock: the other save waits on it
                outcomes[body] = "saved"
            except ConflictError:
                outcomes[body] = "conflict"

        threads = [
            threading.Thread(target=save, args=(store, body))
            for store, body in ((left, "left"), (right, "right"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes.values()) == ["conflict", "saved"], outcomes
        winner = next(body for body, outcome in outcomes.items() if outcome == "saved")
        for store in (left, right):
            stored = store.tickets.get(ticket.id)
            assert stored.version == 2 and stored.value.messages[-1].body == winner
        sequences = [m.sequence for m in left.outbox.pending(1000) if m.ticket_id == ticket.id]
        assert sequences == list(range(len(stored.value.timeline)))


def test_a_store_on_the_apps_connection_rolls_back_with_the_app(
    schema: Schema, stores: list[Store]
) -> None:
    observer = open_store(schema.url(), tenant="acme")
    stores.append(observer)
    with psycopg.connect(URL) as conn:  # autocommit off: the app's transaction
        store = postgres.store_on_connection(conn, tenant="acme", schema=schema.name)
        conn.execute("SELECT 1")  # the app has begun its own work
        store.tickets.add(sample_ticket("tkt_1"))
        with store.transaction():
            store.customers.add(Customer(id="cus_1", display_name="王芳"))
        with pytest.raises(ConflictError):
            store.tickets.add(sample_ticket("tkt_1"))  # the app's transaction stays usable
        assert store.tickets.count() == 1 and store.customers.count() == 1
        assert observer.tickets.count() == 0  # nothing committed yet
        conn.rollback()
        assert store.tickets.count() == 0 and store.customers.count() == 0
        assert store.outbox.pending() == [] and observer.outbox.pending() == []

        with conn.transaction():  # and committed with the app's commit
            store.tickets.add(sample_ticket("tkt_2"))
            assert observer.tickets.count() == 0
        assert [s.value.id for s in observer.tickets.list().items] == ["tkt_2"]

        store.close()
        assert not conn.closed
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_unit_of_work_on_an_autocommit_app_connection_is_its_own_transaction(
    schema: Schema, stores: list[Store]
) -> None:
    observer = open_store(schema.url(), tenant="acme")
    stores.append(observer)
    with psycopg.connect(URL, autocommit=True) as conn:
        store = postgres.store_on_connection(conn, tenant="acme", schema=schema.name)

        def failing() -> None:
            with store.transaction():
                store.tickets.add(sample_ticket("tkt_1"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            failing()
        store.tickets.add(sample_ticket("tkt_2"))
        assert [s.value.id for s in observer.tickets.list().items] == ["tkt_2"]
        with pytest.raises(StorageError, match="nest"), store.transaction(), store.transaction():
            pass  # pragma: no cover


AWKWARD_VALUES: dict[str, Any] = {
    "nul": "before\x00after",
    "quotes": 'O\'Brien "quoted" \\ back\\slash',
    "sql": "'); DROP TABLE records; -- $1 %s ?",
    "emoji": "退款 🙂👍🏽 \U0010ffff \u2028",
    "huge": 1e300,
    "negative_zero": -0.0,
    "tiny": 5e-324,
    "round_float": 1e16,
    "big_int": 2**63 - 1,
    "third": 0.1 + 0.2,
    "empty": "",
    "none": None,
}


def test_documents_are_stored_exactly_as_written(schema: Schema, stores: list[Store]) -> None:
    """NUL, huge and negative-zero floats: JSONB refuses or rewrites them; ``json`` keeps them."""
    store = open_store(schema.url(), tenant="acme")
    memory = open_store("memory:", tenant="acme")
    stores += [store, memory]
    ticket = sample_ticket().set_custom_fields(
        AWKWARD_VALUES, at=T0 + timedelta(minutes=5), actor=AGENT
    )
    customer = Customer(id="cus_1", display_name="王芳", attributes=AWKWARD_VALUES)
    for target in (store, memory):
        target.tickets.add(ticket)
        target.customers.add(customer)
    got = store.tickets.get(ticket.id).value
    assert got == ticket
    for name, value in AWKWARD_VALUES.items():
        assert type(got.custom_fields[name]) is type(value), name
    assert math.copysign(1, got.custom_fields["negative_zero"]) == -1
    assert store.customers.get("cus_1").value.attributes == customer.attributes
    # Byte for byte what the memory adapter keeps.
    pg_backend, memory_backend = store.backend, memory.backend
    for collection, key in (("tickets", ticket.id), ("customers", "cus_1")):
        assert pg_backend.get(collection, key) == memory_backend.get(collection, key)
    assert [m.event for m in store.outbox.pending()] == [m.event for m in memory.outbox.pending()]
    # The stored timeline still compares equal, so the ticket can be saved again.
    replied = got.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="ok")
    assert store.tickets.save(replied, expected_version=1).version == 2
    with _admin() as conn:
        types = conn.execute(
            "SELECT table_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND column_name = 'document' ORDER BY table_name",
            (schema.name,),
        ).fetchall()
    assert types == [("outbox", "json"), ("records", "json"), ("tickets", "json")]


def test_a_schema_name_is_an_identifier_never_sql(stores: list[Store]) -> None:
    _require_server()
    awkward = Schema(f'csdomain_test_{secrets.token_hex(4)}"; DROP SCHEMA public; --')
    try:
        store = open_store(awkward.url(), tenant="acme")
        stores.append(store)
        store.tickets.add(sample_ticket())
        assert store.tickets.count() == 1
        with _admin() as conn:
            names = [n for (n,) in conn.execute("SELECT nspname FROM pg_namespace").fetchall()]
        assert awkward.name in names and "public" in names
    finally:
        for store in stores:
            store.close()
        awkward.drop()


def test_a_newer_schema_version_is_refused_naming_both(schema: Schema) -> None:
    open_store(schema.url(), tenant="acme").close()
    with _admin() as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(schema.table("csdomain_schema")),
            (SCHEMA_VERSION + 1,),
        )
    newer = rf"version {SCHEMA_VERSION + 1}, newer than version {SCHEMA_VERSION}"
    with pytest.raises(SchemaError, match=newer):
        open_store(schema.url(), tenant="acme")
    with psycopg.connect(URL) as conn, pytest.raises(SchemaError, match=newer):
        postgres.store_on_connection(conn, tenant="acme", schema=schema.name)


def test_tables_of_csdomains_names_that_it_did_not_create_are_a_schema_error(
    schema: Schema,
) -> None:
    with _admin() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema.name)))
        conn.execute(sql.SQL("CREATE TABLE {} (id integer)").format(schema.table("tickets")))
    with pytest.raises(SchemaError, match="did not create") as info:
        open_store(schema.url(), tenant="acme")
    assert isinstance(info.value.__cause__, psycopg.errors.DuplicateTable)
    with _admin() as conn:  # the migration rolled back: no version table was left behind
        found = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema.name,)
        ).fetchall()
    assert found == [("tickets",)]


def test_first_use_from_many_processes_at_once_migrates_once(
    schema: Schema, stores: list[Store]
) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            stores.append(open_store(schema.url(), tenant="acme"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(stores) == 6
    with _admin() as conn:
        versions = conn.execute(
            sql.SQL("SELECT version FROM {} ORDER BY version").format(
                schema.table("csdomain_schema")
            )
        ).fetchall()
        indexes = {
            name
            for (name,) in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s", (schema.name,)
            )
        }
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    assert {
        "tickets_status",
        "tickets_assignee",
        "tickets_group",
        "tickets_customer",
        "tickets_next_deadline",
        "tickets_kind",
        "tickets_priority",
        "contacts_address",
        "outbox_published",
    } <= indexes


def test_driver_errors_become_storage_errors(schema: Schema, stores: list[Store]) -> None:
    with pytest.raises(StorageConnectionError, match="connect") as refused:
        open_store("postgresql://postgres@127.0.0.1:1/test?connect_timeout=3", tenant="acme")
    assert isinstance(refused.value.__cause__, psycopg.OperationalError)
    assert isinstance(refused.value, ConnectionError)
    with pytest.raises(StorageError) as bad_parameter:
        open_store(schema.url(no_such_libpq_parameter="1"), tenant="acme")
    assert isinstance(bad_parameter.value.__cause__, psycopg.Error)
    assert type(bad_parameter.value) is StorageError  # a mistake in the URL, not the network

    store = open_store(schema.url(), tenant="acme")
    stores.append(store)
    store.tickets.add(sample_ticket("tkt_1"))
    with _admin() as conn:
        conn.execute(sql.SQL("DROP TABLE {}").format(schema.table("tickets")))
    with pytest.raises(StorageError, match="42P01") as missing:
        store.tickets.get("tkt_1")
    assert isinstance(missing.value.__cause__, psycopg.errors.UndefinedTable)

    def unit_of_work() -> None:
        with store.transaction():
            store.customers.add(Customer(id="cus_1", display_name="Li"))
            store.tickets.add(sample_ticket("tkt_2"))

    with pytest.raises(StorageError):
        unit_of_work()
    assert store.customers.count() == 0  # the failed unit of work was rolled back
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.customers.count()
    with pytest.raises(StorageError, match="closed"), store.transaction():
        pass  # pragma: no cover


def test_writes_need_a_unit_of_work_and_odd_outbox_ids_are_ignored(
    schema: Schema, stores: list[Store]
) -> None:
    backend = postgres.open_backend(schema.url(), "acme")
    stores.append(Store(backend))
    with pytest.raises(StorageError, match="transaction"):
        backend.insert("customers", "cus_1", "{}", {})
    store = stores[0]
    store.tickets.add(sample_ticket())
    store.outbox.mark_published([2**80, -1, 0])
    assert len(store.outbox.pending()) == len(sample_ticket().timeline)


def test_url_parameters() -> None:
    if psycopg is None:  # no server needed, only the adapter
        _require_server()
    parse = postgres._parse_url
    assert parse("postgres://u:p%40w@h:5/db") == ("postgresql://u:p%40w@h:5/db", "csdomain", None)
    assert parse(
        "postgresql://h/db?sslmode=disable&schema=s%20x&pool_size=3&application_name=a%20b"
    ) == ("postgresql://h/db?sslmode=disable&application_name=a%20b", "s x", 3)
    for bad in (
        "postgresql://h/db?pool_size=0",
        "postgresql://h/db?pool_size=lots",
        "postgresql://h/db?schema=a&schema=b",
        "postgresql://h/db?schema=",
        f"postgresql://h/db?schema={'x' * 64}",
    ):
        with pytest.raises(ValidationError):
            parse(bad)


def test_libpq_parameters_reach_the_server_and_close_ends_every_connection(
    schema: Schema,
) -> None:
    name = f"csdomain-test-{secrets.token_hex(4)}"
    store = open_store(schema.url(application_name=name), tenant="acme")

    def connections() -> int:
        with _admin() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchone()
        return int(row[0])

    def add_some(worker: int) -> None:
        for i in range(5):
            store.tickets.add(sample_ticket(f"tkt_{worker}_{i}"))

    threads = [threading.Thread(target=add_some, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.tickets.count() == 20
    assert connections() >= 2  # the opening thread's and the workers'
    store.close()
    deadline = time.monotonic() + 5
    while connections() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections() == 0


def test_a_store_on_the_apps_pool_leaves_the_pool_open(schema: Schema) -> None:
    with psycopg_pool.ConnectionPool(URL, min_size=1, max_size=2, open=True) as pool:
        store = postgres.store_on_pool(pool, tenant="acme", schema=schema.name)
        customer = Customer(
            id="cus_1",
            display_name="Li",
            contact_points=(ContactPoint(channel=ChannelKind.EMAIL, address="li@example.com"),),
        )
        with store.transaction():
            store.customers.add(customer)
            store.tickets.add(sample_ticket())
        assert [s.value for s in store.customers.find_by_contact("li@example.com", "email")] == [
            customer
        ]
        store.close()
        assert not pool.closed
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_lost_connection_fails_one_call_and_the_next_reconnects(schema: Schema) -> None:
    name = f"csdomain-test-{secrets.token_hex(4)}"
    store = open_store(schema.url(application_name=name), tenant="acme")
    try:
        store.tickets.add(sample_ticket())
        with _admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (name,),
            )
        with pytest.raises(StorageConnectionError) as lost:
            store.tickets.count()
        assert isinstance(lost.value.__cause__, psycopg.OperationalError)
        assert store.tickets.count() == 1
    finally:
        store.close()


# -- one error type per mistake ----------------------------------------------------------


def _waiting_for_a_lock(application_name: str) -> bool:
    with _admin() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.application_name = %s",
            (application_name,),
        ).fetchone()
    return bool(row and row[0])


def test_a_lock_wait_that_times_out_is_retryable(schema: Schema, stores: list[Store]) -> None:
    store = open_store(schema.url(options="-c lock_timeout=200"), tenant="acme")
    stores.append(store)
    ticket = sample_ticket()
    store.tickets.add(ticket)
    replied = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="Done.")
    with _admin() as holder, holder.transaction():  # another connection holds the row
        holder.execute(
            sql.SQL("SELECT 1 FROM {} WHERE key = %s FOR UPDATE").format(schema.table("tickets")),
            ("tkt_1",),
        )
        with pytest.raises(RetryableStorageError, match="55P03") as info:
            store.tickets.save(replied, expected_version=1)
        assert isinstance(info.value.__cause__, psycopg.errors.LockNotAvailable)
        assert "retry" in str(info.value)
    assert store.tickets.save(replied, expected_version=1).version == 2  # retried: it works


def test_a_serialization_failure_is_retryable(schema: Schema, stores: list[Store]) -> None:
    isolation = "-c default_transaction_isolation=repeatable\\ read"
    store = open_store(schema.url(options=isolation), tenant="acme")
    other = open_store(schema.url(), tenant="acme")
    stores += [store, other]
    ticket = sample_ticket()
    store.tickets.add(ticket)
    ours = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="Ours.")
    theirs = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="Theirs.")

    def unit_of_work() -> None:
        with store.transaction():
            assert store.tickets.count() == 1  # the snapshot is taken here
            with other.transaction():  # commits a change to the row after the snapshot
                other.customers.add(Customer(id="cus_1", display_name="Li"))
                other.tickets.save(theirs, expected_version=1)
            store.tickets.save(ours, expected_version=1)

    with pytest.raises(RetryableStorageError, match="40001") as info:
        unit_of_work()
    assert isinstance(info.value.__cause__, psycopg.errors.SerializationFailure)
    stored = store.tickets.get("tkt_1")
    assert stored.version == 2 and stored.value.messages[-1].body == "Theirs."


def test_a_deadlock_is_retryable(schema: Schema, stores: list[Store]) -> None:
    name = f"csdomain-test-{secrets.token_hex(4)}"
    store = open_store(
        schema.url(options="-c deadlock_timeout=100", application_name="store"), tenant="acme"
    )
    stores.append(store)
    for key in ("tkt_1", "tkt_2"):
        store.tickets.add(sample_ticket(key))
    changed = {
        key: sample_ticket(key).add_message(at=T0 + timedelta(hours=1), actor=AGENT, body="x")
        for key in ("tkt_1", "tkt_2")
    }
    other = psycopg.connect(URL, autocommit=True, application_name=name)
    other.execute("SET deadlock_timeout = '60s'")  # the store's side detects the cycle
    tickets = schema.table("tickets")
    touch = sql.SQL("UPDATE {} SET version = version WHERE key = %s").format(tickets)
    errors: list[BaseException] = []

    def other_side() -> None:
        try:
            other.execute(touch, ("tkt_1",))  # waits for the store's lock on tkt_1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    waiter = threading.Thread(target=other_side)

    def unit_of_work() -> None:
        with store.transaction():
            store.tickets.save(changed["tkt_1"], expected_version=1)
            waiter.start()
            while not _waiting_for_a_lock(name):
                time.sleep(0.01)
            store.tickets.save(changed["tkt_2"], expected_version=1)  # closes the cycle

    try:
        other.execute("BEGIN")
        other.execute(touch, ("tkt_2",))
        with pytest.raises(RetryableStorageError, match="40P01") as info:
            unit_of_work()
        waiter.join()
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert errors == []
    assert isinstance(info.value.__cause__, psycopg.errors.DeadlockDetected)
    assert {store.tickets.get(k).version for k in changed} == {1}  # rolled back


def test_rows_written_behind_the_stores_back_are_corrupt_records(
    schema: Schema, stores: list[Store]
) -> None:
    store = open_store(schema.url(), tenant="acme")
    stores.append(store)
    store.tickets.add(sample_ticket("tkt_1"))
    store.config.add("standard", _policy_for_errors())
    with _admin() as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET document = %s::json WHERE key = 'tkt_1'").format(
                schema.table("tickets")
            ),
            ('{"schema_version": 1, "document": "ticket", "timeline": "lost"}',),
        )
        conn.execute(
            sql.SQL("UPDATE {} SET document = '42' WHERE key = 'standard'").format(
                schema.table("records")
            )
        )
    with pytest.raises(CorruptRecordError, match="stored ticket 'tkt_1' cannot be read") as info:
        store.tickets.get("tkt_1")
    assert (info.value.kind, info.value.key) == ("ticket", "tkt_1")
    with pytest.raises(CorruptRecordError) as config:
        store.config.get(SlaPolicy, "standard")
    assert (config.value.kind, config.value.key) == ("SlaPolicy", "standard")


def _policy_for_errors() -> Any:
    from csdomain.sla import SlaPolicy

    target = Target(timedelta(hours=8))
    return SlaPolicy(
        name="standard", metrics=(MetricPolicy(SlaMetric.RESOLUTION, {Priority.NORMAL: target}),)
    )


def test_passwords_never_appear_in_errors_or_reprs(schema: Schema, stores: list[Store]) -> None:
    with pytest.raises(StorageConnectionError) as refused:
        open_store("postgresql://app:s3cret@127.0.0.1:1/test?connect_timeout=3", tenant="acme")
    with pytest.raises(StorageConnectionError) as refused_parameter:
        open_store(
            "postgresql://app@127.0.0.1:1/test?password=s3cret&connect_timeout=3", tenant="a"
        )
    with pytest.raises(ValidationError) as bad_pool:
        open_store("postgresql://app:s3cret@db/test?pool_size=lots", tenant="acme")
    with pytest.raises(ValidationError) as twice:
        open_store("postgresql://app@db/test?password=s3cret&schema=a&schema=b", tenant="acme")
    for error in (refused, refused_parameter, bad_pool, twice):
        assert "s3cret" not in str(error.value)
    for error in (refused, refused_parameter, twice):  # they show the URL, masked
        assert "***" in str(error.value)
    # libpq ignores the password under trust authentication: these connect.
    user, _, rest = URL.partition("://")[2].partition("@")
    with_password = f"postgresql://{user.split(':')[0]}:s3cret@{rest}"
    with_password += f"{'&' if '?' in with_password else '?'}schema={schema.name}"
    for url in (with_password, f"{with_password}&pool_size=2"):
        store = open_store(url, tenant="acme")
        stores.append(store)
        assert store.tickets.count() == 0
        assert "s3cret" not in repr(store) and "s3cret" not in repr(store.backend)
        assert ":***@" in repr(store), repr(store)
