"""The storage contract on the SQLite adapter, and what is particular to SQLite."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from csdomain.customers import ContactPoint, Customer
from csdomain.errors import (
    ConflictError,
    CorruptRecordError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    ValidationError,
)
from csdomain.storage import SCHEMA_VERSION, StorageError, Store, open_store
from csdomain.storage.backend import encode_cursor
from csdomain.storage.sqlite import SqliteBackend, open_backend
from csdomain.testing.storage import AGENT, T0, StoreContract, sample_ticket
from csdomain.tickets import Status


class TestSqliteStore(StoreContract):
    """The contract, one database file per test."""

    def setup_method(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="csdomain-sqlite-"))
        self.url = f"sqlite:///{self.directory / 'contract.db'}"

    def teardown_method(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    def make_store(self, tenant: str) -> Store:
        return open_store(self.url, tenant=tenant)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "desk.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{path}", tenant="acme") as store:
        yield store


def _backend(store: Store) -> SqliteBackend:
    backend = store.backend
    assert isinstance(backend, SqliteBackend)
    return backend


# -- URLs ---------------------------------------------------------------------------


def test_relative_and_absolute_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    with open_store("sqlite:///data/relative.db", tenant="acme") as store:
        store.tickets.add(sample_ticket())
    assert (tmp_path / "data" / "relative.db").is_file()
    absolute = tmp_path / "absolute.db"
    assert str(absolute).startswith("/")
    with open_store(f"sqlite:///{absolute}", tenant="acme") as store:  # sqlite:////abs
        store.tickets.add(sample_ticket())
    with open_store(f"sqlite:///{absolute}", tenant="acme") as store:
        assert store.tickets.count() == 1


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_databases_are_private(url: str) -> None:
    with open_store(url, tenant="acme") as first, open_store(url, tenant="acme") as second:
        first.tickets.add(sample_ticket())
        assert first.tickets.count() == 1 and second.tickets.count() == 0


@pytest.mark.parametrize("url", ["sqlite://host/desk.db", "sqlite:desk.db", "postgres:///x"])
def test_urls_that_name_no_file_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="sqlite:///") as info:
        open_backend(url, "acme")
    assert info.value.paths == ("url",)


def test_a_url_with_a_password_is_shown_masked() -> None:
    with pytest.raises(ValidationError) as info:
        open_store("sqlite://admin:s3cret@host/desk.db", tenant="acme")
    assert "s3cret" not in str(info.value) and "admin:***@host" in str(info.value)


def test_a_missing_directory_is_a_connection_error(tmp_path: Path) -> None:
    with pytest.raises(StorageConnectionError, match="nowhere") as info:
        open_store(f"sqlite:///{tmp_path / 'nowhere' / 'desk.db'}", tenant="acme")
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert "unable to open database file" in str(info.value)
    assert isinstance(info.value, ConnectionError)


# -- the file -----------------------------------------------------------------------


def test_wal_full_sync_and_the_schema(store: Store, path: Path) -> None:
    connection = _backend(store)._holder().connection
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert connection.execute("PRAGMA busy_timeout").fetchone() == (10_000,)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT version FROM csdomain_schema").fetchall() == [(SCHEMA_VERSION,)]
        names = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    finally:
        raw.close()
    assert {"records", "tickets", "contacts", "outbox", "tickets_deadline"} <= names


def test_reopening_keeps_the_data_and_the_schema(path: Path) -> None:
    for _ in range(3):
        with open_store(f"sqlite:///{path}", tenant="acme") as store:
            store.tickets.add(sample_ticket(f"tkt_{store.tickets.count()}"))
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT count(*) FROM csdomain_schema").fetchone() == (1,)
    finally:
        raw.close()
    with open_store(f"sqlite:///{path}", tenant="acme") as store:
        assert store.tickets.count() == 3


def test_a_file_that_is_not_a_database_is_a_corrupt_record_error(path: Path) -> None:
    path.write_bytes(b"this is not an SQLite database, just some text" * 100)
    with pytest.raises(CorruptRecordError, match="not a database") as info:
        open_store(f"sqlite:///{path}", tenant="acme")
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_tables_of_csdomains_names_that_it_did_not_create_are_a_schema_error(path: Path) -> None:
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, title TEXT)")
    finally:
        raw.close()
    with pytest.raises(SchemaError, match="did not create") as info:
        open_store(f"sqlite:///{path}", tenant="acme")
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    raw = sqlite3.connect(path)
    try:  # nothing was changed: the migration rolled back
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
        assert tables == {"tickets"}
    finally:
        raw.close()


def test_a_damaged_schema_version_is_a_schema_error(store: Store, path: Path) -> None:
    store.close()
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute("UPDATE csdomain_schema SET version = 'one'")
    finally:
        raw.close()
    with pytest.raises(SchemaError, match=r"damaged schema version table.*'one'"):
        open_store(f"sqlite:///{path}", tenant="acme")


def test_rows_written_behind_the_stores_back_are_corrupt_records(store: Store, path: Path) -> None:
    store.tickets.add(sample_ticket("tkt_1"))
    store.customers.add(Customer(id="cus_1", display_name="Li"))
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute("UPDATE tickets SET document = '{\"timeline\": [' WHERE key = 'tkt_1'")
            raw.execute("UPDATE records SET document = 'null' WHERE key = 'cus_1'")
    finally:
        raw.close()
    with pytest.raises(CorruptRecordError, match="stored ticket 'tkt_1' cannot be read") as info:
        store.tickets.get("tkt_1")
    assert (info.value.kind, info.value.key) == ("ticket", "tkt_1")
    with pytest.raises(CorruptRecordError, match="tkt_1"):  # nor saved over
        store.tickets.save(sample_ticket("tkt_1", messages=2), expected_version=1)
    with pytest.raises(CorruptRecordError) as customer:
        store.customers.get("cus_1")
    assert (customer.value.kind, customer.value.key) == ("customer", "cus_1")


def test_the_queries_use_indexes(store: Store) -> None:
    with store.transaction():
        for i in range(50):
            store.tickets.add(
                sample_ticket(f"tkt_{i:02d}", customer_id=f"cus_{i % 5}", assignee_id="agt_1"),
                next_deadline=T0 + timedelta(hours=i),
            )
    connection = _backend(store)._holder().connection
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        store.tickets.list(assignee_id="agt_1", limit=5)
        store.tickets.list(customer_id="cus_1", limit=5)
        page = store.tickets.due_before(T0 + timedelta(hours=20), limit=5)
        store.tickets.due_before(T0 + timedelta(hours=20), limit=5, cursor=page.next_cursor)
        store.tickets.count(status=Status.OPEN)
        store.customers.find_by_contact("+86 138 0013 8000")
        store.outbox.pending()
    finally:
        connection.set_trace_callback(None)
    assert len(statements) == 7
    for statement in statements:
        plan = " ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}"))
        assert "USING" in plan and "INDEX" in plan and "TEMP B-TREE" not in plan, (statement, plan)


# -- threads, transactions, errors ----------------------------------------------------


def test_each_thread_has_its_own_connection_and_close_closes_them_all(store: Store) -> None:
    backend = _backend(store)
    store.tickets.add(sample_ticket())
    connections = [backend._holder().connection]
    ready, done = threading.Barrier(3), threading.Event()

    def work() -> None:
        assert store.tickets.count() == 1
        connections.append(backend._holder().connection)
        ready.wait()
        done.wait()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    ready.wait()
    assert len({id(c) for c in connections}) == 3
    store.close()
    done.set()
    for thread in threads:
        thread.join()
    for connection in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")
    with pytest.raises(StorageError, match="closed"):
        store.tickets.count()


def test_a_finished_threads_connection_is_closed_with_it(store: Store) -> None:
    backend = _backend(store)
    seen: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: seen.append(backend._holder().connection))
    thread.start()
    thread.join()
    del thread
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        seen[0].execute("SELECT 1")


def test_writes_need_a_transaction(store: Store) -> None:
    backend = _backend(store)
    with pytest.raises(StorageError, match="transaction"):
        backend.insert("customers", "cus_1", "{}", {})
    assert not backend.in_transaction()
    with store.transaction():
        assert backend.in_transaction()
        backend.insert("customers", "cus_1", "{}", {})
    assert backend.get("customers", "cus_1") == ("cus_1", 1, "{}")


def test_a_storage_error_inside_a_transaction_rolls_it_back(store: Store) -> None:
    backend = _backend(store)

    def failing_unit_of_work() -> None:
        with store.transaction():
            store.tickets.add(sample_ticket())
            backend.insert("customers", "cus_2", None, {})  # type: ignore[arg-type]

    with pytest.raises(StorageError, match="NOT NULL"):
        failing_unit_of_work()
    assert store.tickets.count() == 0 and store.outbox.pending() == []
    with pytest.raises(StorageError, match="filter"):
        backend.select("tickets", {"no_such_column": ("x",)}, "key", None, 10)
    with pytest.raises(StorageError, match="ordered"):
        backend.select("tickets", {}, "document; DROP TABLE tickets", None, 10)


def test_documents_with_nul_characters_round_trip_at_the_backend(store: Store) -> None:
    backend = _backend(store)
    text = '{"a":"x\x00y"}\x00'
    with store.transaction():
        backend.insert("config:raw", "k", text, {})
    assert backend.get("config:raw", "k") == ("k", 1, text)


def test_a_locked_database_is_a_clear_storage_error(path: Path, store: Store) -> None:
    store.tickets.add(sample_ticket("tkt_0"))
    impatient = Store(SqliteBackend(str(path), "acme", timeout=0.2))
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(RetryableStorageError, match="locked by another writer") as info:
            impatient.tickets.add(sample_ticket("tkt_1"))
        assert isinstance(info.value.__cause__, sqlite3.OperationalError)
        assert "database is locked" in str(info.value)
        assert impatient.tickets.count() == 1  # readers do not wait (WAL)
        writer.execute("ROLLBACK")
        impatient.tickets.add(sample_ticket("tkt_1"))
    finally:
        writer.close()
        impatient.close()
    assert store.tickets.count() == 2


def test_a_duplicate_key_is_a_conflict_other_integrity_errors_are_not(store: Store) -> None:
    backend = _backend(store)
    with store.transaction():
        backend.insert("customers", "cus_1", "{}", {})
        with pytest.raises(ConflictError, match="already exists") as info:
            backend.insert("customers", "cus_1", "{}", {})
        assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
        assert (info.value.key, info.value.expected_version, info.value.stored_version) == (
            "cus_1",
            None,
            1,
        )
        with pytest.raises(StorageError, match="NOT NULL") as failure:
            backend.insert("customers", "cus_2", None, {})  # type: ignore[arg-type]
        assert type(failure.value) is StorageError  # no more particular kind of failure
        assert isinstance(failure.value.__cause__, sqlite3.IntegrityError)


def test_the_in_memory_database_serves_threads() -> None:
    with open_store("sqlite://", tenant="acme") as store:
        ticket = sample_ticket()
        store.tickets.add(ticket)
        barrier = threading.Barrier(4)
        conflicts: list[str] = []

        def save(n: int) -> None:
            changed = ticket.add_message(at=T0 + timedelta(hours=1), actor=AGENT, body=f"{n}")
            barrier.wait()
            try:
                store.tickets.save(changed, expected_version=1)
            except ConflictError:
                conflicts.append(f"{n}")

        threads = [threading.Thread(target=save, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(conflicts) == 3 and store.tickets.get(ticket.id).version == 2


def test_like_wildcards_in_addresses_match_only_themselves(store: Store) -> None:
    for id, address in (("cus_1", "a%"), ("cus_2", "abc"), ("cus_3", "a_c")):
        store.customers.add(
            Customer(
                id=id,
                display_name=id,
                contact_points=(ContactPoint(channel="email", address=address),),
            )
        )
    assert [s.value.id for s in store.customers.find_by_contact("a%")] == ["cus_1"]
    assert [s.value.id for s in store.customers.find_by_contact("a_c")] == ["cus_3"]


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, 10**30, 1.5, True, None])
def test_forged_cursors_are_validation_errors(store: Store, value: object) -> None:
    store.tickets.add(sample_ticket(), next_deadline=T0)
    cursor = encode_cursor(value, "tkt_1")
    with pytest.raises(ValidationError, match="cursor"):
        store.tickets.list(cursor=cursor)
    with pytest.raises(ValidationError, match="cursor"):
        store.tickets.due_before(T0 + timedelta(hours=1), cursor=cursor)
    assert store.tickets.list(cursor=encode_cursor("tkt_0", "tkt_0")).items[0].version == 1
