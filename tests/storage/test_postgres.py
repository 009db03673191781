"""The storage contract and PostgreSQL's own behaviour, on a real server.

The server is ``CSDOMAIN_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/test``). Every test works in a schema of
its own, ``csdomain_test_<random>``, dropped when the test ends, so runs (and
tests) never see each other's rows. Without a reachable server the tests are
skipped, unless ``CSDOMAIN_REQUIRE_POSTGRES`` is set (as in CI): then they fail.

The tests here and in ``test_postgres_*.py`` use the adapter's Backend directly;
the helpers they share (:class:`Schema`, :data:`THINGS`, :func:`backend_on`) live here.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from backend_collections import PLAIN, THINGS

from csdomain.errors import (
    ConflictError,
    NoStoreError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    ValidationError,
)
from csdomain.storage import Store, open_store
from csdomain.storage.backend import (
    SCHEMA_VERSION,
    Row,
    Select,
    StorageError,
)
from csdomain.testing.storage import StoreContract

try:
    import psycopg
    import psycopg_pool
    from psycopg import sql

    from csdomain.storage import postgres
except (ImportError, StorageError):  # without csdomain[postgres]: see require_server
    psycopg = psycopg_pool = sql = postgres = None  # type: ignore[assignment]

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
URL = os.environ.get("CSDOMAIN_TEST_POSTGRES_URL") or DEFAULT_URL
REQUIRED = os.environ.get("CSDOMAIN_REQUIRE_POSTGRES", "") not in ("", "0")


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


def require_server() -> None:
    """Skip without a server (fail instead when CSDOMAIN_REQUIRE_POSTGRES is set)."""
    problem = _unavailable()
    if problem is None:
        return
    if REQUIRED:
        pytest.fail(f"{problem}; CSDOMAIN_REQUIRE_POSTGRES is set, so this is a failure")
    pytest.skip(f"{problem}; set CSDOMAIN_TEST_POSTGRES_URL to run the PostgreSQL tests")


def admin() -> Any:
    """A connection of the test's own, outside any store (autocommit)."""
    return psycopg.connect(URL, autocommit=True)


# -- collections declared for these tests --------------------------------------------


class Schema:
    """A fresh schema name of this test's own; :meth:`drop` removes the schema."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"csdomain_test_{secrets.token_hex(6)}"
        self.opened: list[Any] = []

    def url(self, **params: Any) -> str:
        query = urlencode({"schema": self.name, **params}, quote_via=quote)
        return f"{URL}{'&' if '?' in URL else '?'}{query}"

    def table(self, name: str) -> Any:
        return sql.Identifier(self.name, name)

    def backend(self, tenant: str = "acme", **params: Any) -> postgres.PostgresBackend:
        """A backend on this schema (created if need be), THINGS and PLAIN declared;
        closed when the test ends."""
        backend = postgres.open_backend(self.url(**params), tenant, create=True)
        self.opened.append(backend)
        backend.declare(THINGS)
        backend.declare(PLAIN)
        return backend

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """What a query over this schema's tables returns (``{}`` is the schema)."""
        with admin() as conn:
            return conn.execute(sql.SQL(query).format(sql.Identifier(self.name)), params).fetchall()

    def drop(self) -> None:
        for opened in self.opened:
            opened.close()
        with admin() as conn:
            conn.execute("SET lock_timeout = '30s'")
            conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.name))
            )


def fresh_schema() -> Iterator[Schema]:
    """A schema of the test's own, dropped afterwards (the body of a ``schema`` fixture)."""
    require_server()
    fresh = Schema()
    yield fresh
    fresh.drop()


@pytest.fixture
def schema() -> Iterator[Schema]:
    yield from fresh_schema()


@pytest.fixture
def db(schema: Schema) -> postgres.PostgresBackend:
    """A backend of tenant ``acme`` on a fresh schema."""
    return schema.backend()


def add(backend: Any, key: str, text: str | None = None, **columns: Any) -> None:
    """Insert one row of THINGS in a unit of work of its own."""
    with backend.transaction():
        backend.insert_many("things", [(key, text or json.dumps({"key": key}), columns)])


class RollbackError(Exception):
    """Raised to end a unit of work with a rollback."""


@contextmanager
def rolled_back(backend: Any) -> Iterator[None]:
    """A unit of work that ends with an exception, so it rolls back."""
    try:
        with backend.transaction():
            yield
            raise RollbackError
    except RollbackError:
        pass


@contextmanager
def traced(backend: Any) -> Iterator[list[str]]:
    """The protocol messages the calling thread's connection sends and receives
    inside the block (libpq's trace), one string per message."""
    lines: list[str] = []
    with backend._source.lease() as conn:
        pass
    pgconn = conn.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield lines
        finally:
            pgconn.untrace()
            trace.seek(0)
            lines += trace.read().splitlines()


def round_trips(lines: list[str]) -> int:
    """How many times a traced connection waited for the server (one ReadyForQuery each)."""
    return sum(1 for line in lines if "\tReadyForQuery" in line)


# -- the contract, three ways to connect ---------------------------------------------


class TestPostgresStore(StoreContract):
    """One connection per thread (``open_store(url)`` without a pool)."""

    @pytest.fixture(autouse=True)
    def _fresh_schema(self) -> Iterator[None]:
        require_server()
        self.schema = Schema()
        self.opened: list[Store] = []
        yield
        for store in self.opened:
            store.close()
        self.schema.drop()

    def open(self, tenant: str) -> Store:
        return open_store(self.schema.url(), tenant=tenant, create=True)

    def make_store(self, tenant: str) -> Store:
        store = self.open(tenant)
        self.opened.append(store)
        return store


class TestPostgresPooledStore(TestPostgresStore):
    """A connection pool (``?pool_size=N``)."""

    def open(self, tenant: str) -> Store:
        return open_store(self.schema.url(pool_size=3), tenant=tenant, create=True)


class TestPostgresStoreOnAppConnection(TestPostgresStore):
    """Stores on one connection the app holds (psycopg's default: autocommit off)."""

    def open(self, tenant: str) -> Store:
        if not hasattr(self, "connection"):
            self.connection = psycopg.connect(URL)
        return postgres.store_on_connection(
            self.connection, tenant=tenant, schema=self.schema.name, create=True
        )

    @pytest.fixture(autouse=True)
    def _close_connection(self, _fresh_schema: None) -> Iterator[None]:
        yield
        if hasattr(self, "connection"):
            self.connection.close()

    @pytest.mark.skip(reason="a store on one app connection is used by one thread at a time")
    def test_concurrent_saves_of_one_version_give_exactly_one_conflict(self, store: Store) -> None:
        """Covered on separate connections by the other two classes."""


# -- connections and units of work ------------------------------------------------------


def test_two_connections_updating_one_version_give_one_conflict_and_lose_nothing(
    schema: Schema,
) -> None:
    left, right = schema.backend(), schema.backend()
    for round in range(10):
        key = f"k{round}"
        add(left, key)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def update(
            backend: Any,
            body: str,
            key: str = key,
            barrier: Any = barrier,
            outcomes: dict[str, str] = outcomes,
        ) -> None:
            barrier.wait()
            try:
                with backend.transaction():
                    backend.update("things", key, 1, json.dumps(body), {})
                    backend.get("things", key)  # sends the update: the row stays locked
                    time.sleep(0.02)  # the other update waits for the lock meanwhile
                outcomes[body] = "saved"
            except ConflictError as exc:
                outcomes[body] = f"conflict {exc.expected_version} {exc.stored_version}"

        threads = [
            threading.Thread(target=update, args=(backend, body))
            for backend, body in ((left, "left"), (right, "right"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes.values()) == ["conflict 1 2", "saved"], outcomes
        winner = next(body for body, outcome in outcomes.items() if outcome == "saved")
        for backend in (left, right):
            assert backend.get("things", key) == Row((key, 2, json.dumps(winner)))


def test_a_backend_on_the_apps_connection_rolls_back_with_the_app(schema: Schema) -> None:
    observer = schema.backend()
    with psycopg.connect(URL) as conn:  # autocommit off: the app's transaction
        backend = postgres.PostgresBackend.from_connection(conn, "acme", schema=schema.name)
        backend.declare(THINGS)
        conn.execute("SELECT 1")  # the app has begun its own work
        add(backend, "a")
        with pytest.raises(ConflictError):
            add(backend, "a")  # a savepoint rolled back: the app's transaction goes on
        add(backend, "b")
        assert [r.key for r in backend.get_many("things", ["a", "b"])] == ["a", "b"]
        assert observer.get("things", "a") is None  # nothing committed yet
        conn.rollback()
        assert backend.get("things", "a") is None

        with conn.transaction():  # committed with the app's commit
            add(backend, "c")
            assert observer.get("things", "c") is None
        assert observer.get("things", "c") is not None

        backend.close()
        assert not conn.closed
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_unit_of_work_on_an_autocommit_app_connection_is_its_own_transaction(
    schema: Schema,
) -> None:
    observer = schema.backend()
    with psycopg.connect(URL, autocommit=True) as conn:
        backend = postgres.PostgresBackend.from_connection(conn, "acme", schema=schema.name)
        backend.declare(THINGS)
        with rolled_back(backend):
            backend.insert_many("things", [("a", "{}", {})])
        add(backend, "b")
        assert observer.get("things", "a") is None and observer.get("things", "b") is not None
        with pytest.raises(StorageError, match="nest"), backend.transaction():
            backend.transaction().__enter__()
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_documents_are_stored_exactly_as_written(db: Any, schema: Schema) -> None:
    """NUL escapes, huge and negative-zero floats: JSONB refuses or rewrites them; ``json``
    keeps the text, in rows, events and outbox messages alike."""
    text = (
        '{"nul":"before\\u0000after", "quotes":"O\'Brien \\"q\\" \\\\",'
        ' "sql":"\'); DROP TABLE x; -- $1 %s ?", "emoji":"退款 🙂👍🏽 \U0010ffff \u2028",'
        ' "huge":1e300, "negative_zero":-0.0, "tiny":5e-324, "round":1e16,'
        ' "big":9223372036854775807, "third":0.30000000000000004, "empty":"", "none":null}'
    )
    with db.transaction():
        db.insert_many("things", [("a", text, {"name": "\u2028 🙂"})])
        db.append_events("things", [("a", 0, text)])
        db.outbox_append([("things", "a", 0, "made", text)])
    assert db.get("things", "a") == Row(("a", 1, text))
    assert db.read_events("things", [("a", 1)]) == {"a": [text]}
    assert db.outbox_pending(10)[0].text == text
    by_name = Select(order="name", low="\u2028 🙂", limit=1)
    assert [row.key for _, row in db.select("things", by_name)] == ["a"]
    types = schema.rows(
        "SELECT DISTINCT data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND column_name = 'document'",
        schema.name,
    )
    assert types == [("json",)]


def test_a_schema_name_is_an_identifier_never_sql() -> None:
    require_server()
    awkward = Schema(f'csdomain_test_{secrets.token_hex(4)}"; DROP SCHEMA public; --')
    try:
        backend = awkward.backend()
        add(backend, "a")
        assert backend.get("things", "a") is not None
        with admin() as conn:
            names = [n for (n,) in conn.execute("SELECT nspname FROM pg_namespace").fetchall()]
        assert awkward.name in names and "public" in names
    finally:
        awkward.drop()


def test_a_newer_schema_version_is_refused_naming_both(schema: Schema) -> None:
    schema.backend()
    current = SCHEMA_VERSION
    with admin() as conn:
        conn.execute(
            sql.SQL("INSERT INTO {} (version) VALUES (%s)").format(schema.table("csdomain_schema")),
            (current + 1,),
        )
    newer = rf"version {current + 1}, newer than version {current}"
    for create in (False, True):
        with pytest.raises(SchemaError, match=newer):
            postgres.open_backend(schema.url(), "acme", create=create)
    with psycopg.connect(URL) as conn, pytest.raises(SchemaError, match=newer):
        postgres.store_on_connection(conn, tenant="acme", schema=schema.name)


def test_tables_of_csdomains_names_that_it_did_not_create_are_a_schema_error(
    schema: Schema,
) -> None:
    with admin() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema.name)))
        conn.execute(sql.SQL("CREATE TABLE {} (id integer)").format(schema.table("tickets")))
    for create in (False, True):
        with pytest.raises(SchemaError, match="did not create") as info:
            postgres.open_backend(schema.url(), "acme", create=create)
        assert not isinstance(info.value, NoStoreError)
        assert "tickets" in str(info.value)
    with psycopg.connect(URL) as conn, pytest.raises(SchemaError, match="did not create"):
        postgres.migrate(conn, schema.name)
    # Nothing was left behind: no version table, no tables of csdomain's.
    found = schema.rows("SELECT tablename FROM pg_tables WHERE schemaname = %s", schema.name)
    assert found == [("tickets",)]


def test_first_use_from_many_processes_at_once_migrates_once(schema: Schema) -> None:
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def open_one() -> None:
        barrier.wait()
        try:
            schema.backend()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(schema.opened) == 6
    versions = schema.rows("SELECT version FROM {}.csdomain_schema ORDER BY version")
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
    tables = {
        name
        for (name,) in schema.rows(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", schema.name
        )
    }
    assert tables == {
        "csdomain_schema",
        "csdomain_collections",
        "csdomain_reindex",
        "outbox",
        "c_things",
        "c_things__tags",
        "c_things__handles",
        "c_things__events",
        "c_plain",
    }  # a new store has no version 1 tables left to move
    assert schema.rows("SELECT count(*) FROM {}.csdomain_collections") == [(2,)]


def test_driver_errors_become_storage_errors_without_sql(schema: Schema) -> None:
    with pytest.raises(StorageConnectionError, match="connect") as refused:
        postgres.open_backend(
            "postgresql://postgres@127.0.0.1:1/test?connect_timeout=3", "acme", create=True
        )
    assert isinstance(refused.value.__cause__, psycopg.OperationalError)
    assert isinstance(refused.value, ConnectionError)
    with pytest.raises(StorageError) as bad_parameter:
        postgres.open_backend(schema.url(no_such_libpq_parameter="1"), "acme", create=True)
    assert isinstance(bad_parameter.value.__cause__, psycopg.Error)
    assert type(bad_parameter.value) is StorageError  # a mistake in the URL, not the network

    backend = schema.backend()
    add(backend, "a")
    with admin() as conn:
        conn.execute(sql.SQL("DROP TABLE {}").format(schema.table("c_plain")))
    with pytest.raises(StorageError, match="42P01") as missing:
        backend.get("plain", "a")
    assert isinstance(missing.value.__cause__, psycopg.errors.UndefinedTable)
    assert "SELECT" not in str(missing.value) and "LINE" not in str(missing.value)

    def unit_of_work() -> None:
        with backend.transaction():
            backend.update("things", "a", 1, "{}", {"size": 2})
            backend.insert_many("plain", [("a", "{}", {})])

    with pytest.raises(StorageError, match="42P01") as failed:
        unit_of_work()
    assert "INSERT" not in str(failed.value)
    assert backend.get("things", "a") == Row(("a", 1, '{"key": "a"}'))  # rolled back

    backend.close()
    with pytest.raises(StorageError, match="closed"):
        backend.get("things", "a")
    with pytest.raises(StorageError, match="closed"), backend.transaction():
        pass  # pragma: no cover


def test_writes_need_a_unit_of_work_and_odd_outbox_ids_are_ignored(db: Any) -> None:
    writes: list[Callable[[], object]] = [
        lambda: db.insert_many("things", [("a", "{}", {})]),
        lambda: db.update("things", "a", 1, "{}", {}),
        lambda: db.set_columns("things", "a", {}),
        lambda: db.rewrite("things", "a", "{}"),
        lambda: db.delete("things", "a", 1),
        lambda: db.append_events("things", [("a", 0, "{}")]),
        lambda: db.rewrite_events("things", "a", {0: "{}"}),
        lambda: db.outbox_append([("things", "a", 0, "made", "{}")]),
        lambda: db.outbox_redact("things", "a", {}),
        lambda: db.drop_legacy([("tickets", "a")]),
    ]
    for write in writes:
        with pytest.raises(StorageError, match="writes need a transaction"):
            write()
    with db.transaction():
        db.outbox_append([("things", "a", 0, "made", "{}")])
    assert db.outbox_ack(None, [2**80, -1, 0, True, "1"]) == 0  # type: ignore[list-item]
    assert db.outbox_retry([2**80]) == 0
    assert len(db.outbox_pending(10)) == 1


def test_url_parameters() -> None:
    if psycopg is None:  # no server needed, only the adapter
        require_server()
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
    with pytest.raises(ValidationError, match="create"):
        postgres.open_backend("postgresql://h/db", "acme", create="yes")  # type: ignore[arg-type]


def test_libpq_parameters_reach_the_server_and_close_ends_every_connection(
    schema: Schema,
) -> None:
    name = f"csdomain-test-{secrets.token_hex(4)}"
    backend = schema.backend(application_name=name)

    def connections() -> int:
        with admin() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchone()
        return int(row[0])

    def add_some(worker: int) -> None:
        for i in range(5):
            add(backend, f"k{worker}_{i}")

    threads = [threading.Thread(target=add_some, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert backend.count("things", {}) == 20
    assert connections() >= 2  # the opening thread's and the workers'
    backend.close()
    deadline = time.monotonic() + 5
    while connections() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections() == 0


def test_a_backend_on_the_apps_pool_leaves_the_pool_open(schema: Schema) -> None:
    with psycopg_pool.ConnectionPool(URL, min_size=1, max_size=2, open=True) as pool:
        with pytest.raises(NoStoreError):
            postgres.store_on_pool(pool, tenant="acme", schema=schema.name)
        backend = postgres.PostgresBackend.from_pool(pool, "acme", schema=schema.name, create=True)
        backend.declare(THINGS)
        with backend.transaction():  # the app's pool: autocommit off
            backend.insert_many("things", [("a", "{}", {"handles": ("h",)})])
            assert backend.count("things", {"handles": ("h",)}) == 1
        assert backend.get("things", "a") == Row(("a", 1, "{}"))
        backend.close()
        assert not pool.closed
        with pool.connection() as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_lost_connection_fails_one_call_and_the_next_reconnects(schema: Schema) -> None:
    name = f"csdomain-test-{secrets.token_hex(4)}"
    backend = schema.backend(application_name=name)
    add(backend, "a")
    with admin() as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (name,),
        )
    with pytest.raises(StorageConnectionError) as lost:
        backend.count("things", {})
    assert isinstance(lost.value.__cause__, psycopg.OperationalError)
    assert backend.count("things", {}) == 1


# -- one error type per mistake ----------------------------------------------------------


def _waiting_for_a_lock(application_name: str) -> bool:
    with admin() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.application_name = %s",
            (application_name,),
        ).fetchone()
    return bool(row and row[0])


def test_a_lock_wait_that_times_out_is_retryable(schema: Schema) -> None:
    backend = schema.backend(options="-c lock_timeout=200")
    add(backend, "a")
    with admin() as holder, holder.transaction():  # another connection holds the row
        holder.execute(
            sql.SQL("SELECT 1 FROM {} WHERE key = %s FOR UPDATE").format(schema.table("c_things")),
            ("a",),
        )

        def unit_of_work() -> None:
            with backend.transaction():
                backend.update("things", "a", 1, "{}", {})

        with pytest.raises(RetryableStorageError, match="55P03") as info:
            unit_of_work()
        assert isinstance(info.value.__cause__, psycopg.errors.LockNotAvailable)
        assert "retry" in str(info.value)
    with backend.transaction():  # retried: it works
        backend.update("things", "a", 1, "{}", {})
    assert backend.get("things", "a") == Row(("a", 2, "{}"))


def test_a_serialization_failure_is_retryable(schema: Schema) -> None:
    backend = schema.backend(options="-c default_transaction_isolation=repeatable\\ read")
    other = schema.backend()
    add(backend, "a")

    def unit_of_work() -> None:
        with backend.transaction():
            assert backend.count("things", {}) == 1  # the snapshot is taken here
            with other.transaction():  # commits a change to the row after the snapshot
                other.update("things", "a", 1, '"theirs"', {})
            backend.update("things", "a", 1, '"ours"', {})

    with pytest.raises(RetryableStorageError, match="40001") as info:
        unit_of_work()
    assert isinstance(info.value.__cause__, psycopg.errors.SerializationFailure)
    assert backend.get("things", "a") == Row(("a", 2, '"theirs"'))


def test_a_deadlock_is_retryable(schema: Schema) -> None:
    name = f"csdomain-test-{secrets.token_hex(4)}"
    backend = schema.backend(options="-c deadlock_timeout=100")
    for key in ("a", "b"):
        add(backend, key)
    other = psycopg.connect(URL, autocommit=True, application_name=name)
    other.execute("SET deadlock_timeout = '60s'")  # the backend's side detects the cycle
    touch = sql.SQL("UPDATE {} SET version = version WHERE key = %s").format(
        schema.table("c_things")
    )
    errors: list[BaseException] = []

    def other_side() -> None:
        try:
            other.execute(touch, ("a",))  # waits for the backend's lock on a
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    waiter = threading.Thread(target=other_side)

    def unit_of_work() -> None:
        with backend.transaction():
            backend.update("things", "a", 1, "{}", {})
            backend.get("things", "a")  # sends the update
            waiter.start()
            while not _waiting_for_a_lock(name):
                time.sleep(0.01)
            backend.update("things", "b", 1, "{}", {})
            backend.get("things", "b")  # closes the cycle

    try:
        other.execute("BEGIN")
        other.execute(touch, ("b",))
        with pytest.raises(RetryableStorageError, match="40P01") as info:
            unit_of_work()
        waiter.join()
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert errors == []
    assert isinstance(info.value.__cause__, psycopg.errors.DeadlockDetected)
    assert {row.version for row in backend.get_many("things", ["a", "b"])} == {1}


def test_passwords_never_appear_in_errors_or_reprs(schema: Schema) -> None:
    with pytest.raises(StorageConnectionError) as refused:
        postgres.open_backend("postgresql://app:s3cret@127.0.0.1:1/test?connect_timeout=3", "a")
    with pytest.raises(StorageConnectionError) as refused_parameter:
        postgres.open_backend(
            "postgresql://app@127.0.0.1:1/test?password=s3cret&connect_timeout=3", "a"
        )
    with pytest.raises(ValidationError) as bad_pool:
        postgres.open_backend("postgresql://app:s3cret@db/test?pool_size=lots", "acme")
    with pytest.raises(ValidationError) as twice:
        postgres.open_backend("postgresql://app@db/test?password=s3cret&schema=a&schema=b", "a")
    for error in (refused, refused_parameter, bad_pool, twice):
        assert "s3cret" not in str(error.value)
    for error in (refused, refused_parameter, twice):  # they show the URL, masked
        assert "***" in str(error.value)
    # libpq ignores the password under trust authentication: these connect.
    user, _, rest = URL.partition("://")[2].partition("@")
    with_password = f"postgresql://{user.split(':')[0]}:s3cret@{rest}"
    with_password += f"{'&' if '?' in with_password else '?'}schema={schema.name}"
    with pytest.raises(NoStoreError) as no_store:
        postgres.open_backend(with_password, "acme")
    assert "s3cret" not in str(no_store.value) and ":***@" in str(no_store.value)
    for url in (with_password, f"{with_password}&pool_size=2"):
        backend = postgres.open_backend(url, "acme", create=True)
        schema.opened.append(backend)
        assert backend.outbox_pending(1) == []
        assert "s3cret" not in repr(backend)
        assert ":***@" in repr(backend), repr(backend)
