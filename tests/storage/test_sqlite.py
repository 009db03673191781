"""The storage contract on the SQLite adapter, and what is particular to SQLite: URLs,
opening (and refusing) files, the file's settings and schema, threads and locks."""

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
    NoStoreError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    ValidationError,
)
from csdomain.storage import SCHEMA_VERSION, StorageError, Store, open_store
from csdomain.storage.sqlite import MIGRATIONS, SqliteBackend, open_backend
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
        return open_store(self.url, tenant=tenant, create=True)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "desk.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{path}", tenant="acme", create=True) as store:
        yield store


def _backend(store: Store) -> SqliteBackend:
    backend = store.backend
    assert isinstance(backend, SqliteBackend)
    return backend


def _names(path: Path) -> set[str]:
    raw = sqlite3.connect(path)
    try:
        return {name for (name,) in raw.execute("SELECT name FROM sqlite_master")}
    finally:
        raw.close()


def test_the_adapter_writes_the_schema_version_this_csdomain_reads() -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION  # 2: the store moves to version 2 with this


# -- URLs ---------------------------------------------------------------------------


def test_relative_and_absolute_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    with open_store("sqlite:///data/relative.db", tenant="acme", create=True) as store:
        store.tickets.add(sample_ticket())
        monkeypatch.chdir("/")  # a thread opening its connection later finds the same file
        counted: list[int] = []
        thread = threading.Thread(target=lambda: counted.append(store.tickets.count()))
        thread.start()
        thread.join()
        assert counted == [1]
    assert (tmp_path / "data" / "relative.db").is_file()
    absolute = tmp_path / "absolute.db"
    assert str(absolute).startswith("/")
    with open_store(f"sqlite:///{absolute}", tenant="acme", create=True) as store:  # sqlite:////
        store.tickets.add(sample_ticket())
    with open_store(f"sqlite:///{absolute}", tenant="acme") as store:
        assert store.tickets.count() == 1
    odd = tmp_path / "a dir?#%" / "d&b.db"
    odd.parent.mkdir()
    with open_store(f"sqlite:///{odd}", tenant="acme", create=True) as store:
        store.tickets.add(sample_ticket())
    assert odd.is_file()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_databases_are_private_and_always_new(url: str) -> None:
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


# -- opening a file -------------------------------------------------------------------


def test_a_missing_file_is_no_store_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(NoStoreError, match=r"does not exist; pass create=True") as info:
        open_store(f"sqlite:///{path}", tenant="acme")
    assert "typo.db" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing created, no -wal or -shm either
    with pytest.raises(NoStoreError):
        open_store(f"sqlite:///{tmp_path / 'nowhere' / 'desk.db'}", tenant="acme")


def test_an_empty_file_is_no_store_unless_creating(path: Path) -> None:
    path.write_bytes(b"")  # a file truncated to 0 bytes, or made by touch
    with pytest.raises(NoStoreError, match=r"\(an empty file\); pass create=True"):
        open_store(f"sqlite:///{path}", tenant="acme")
    assert path.read_bytes() == b"" and _names(path) == set()
    with open_store(f"sqlite:///{path}", tenant="acme", create=True) as store:
        store.tickets.add(sample_ticket())
    with open_store(f"sqlite:///{path}", tenant="acme") as store:
        assert store.tickets.count() == 1


def test_a_file_of_other_tables_is_no_store_unless_creating_and_keeps_its_tables(
    path: Path,
) -> None:
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute("CREATE TABLE app_settings (name TEXT, value TEXT)")
            raw.execute("INSERT INTO app_settings VALUES ('theme', 'dark')")
    finally:
        raw.close()
    with pytest.raises(NoStoreError, match="only other tables"):
        open_store(f"sqlite:///{path}", tenant="acme")
    assert _names(path) == {"app_settings"}
    with open_store(f"sqlite:///{path}", tenant="acme", create=True) as store:
        store.tickets.add(sample_ticket())
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT * FROM app_settings").fetchall() == [("theme", "dark")]
        assert raw.execute("SELECT version FROM csdomain_schema").fetchall() == [(len(MIGRATIONS),)]
    finally:
        raw.close()


def test_a_missing_directory_is_a_connection_error_when_creating(tmp_path: Path) -> None:
    with pytest.raises(StorageConnectionError, match="nowhere") as info:
        open_store(f"sqlite:///{tmp_path / 'nowhere' / 'desk.db'}", tenant="acme", create=True)
    assert isinstance(info.value.__cause__, sqlite3.OperationalError)
    assert "unable to open database file" in str(info.value)
    assert isinstance(info.value, ConnectionError)


@pytest.mark.parametrize("create", [False, True])
def test_a_file_that_is_not_a_database_is_a_corrupt_record_error(path: Path, create: bool) -> None:
    text = b"this is not an SQLite database, just some text" * 100
    path.write_bytes(text)
    with pytest.raises(CorruptRecordError, match="not a database") as info:
        open_store(f"sqlite:///{path}", tenant="acme", create=create)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)
    assert path.read_bytes() == text


@pytest.mark.parametrize("keep", [0.5, 0.1])
def test_a_truncated_store_is_a_corrupt_record_error(path: Path, keep: float) -> None:
    with open_store(f"sqlite:///{path}", tenant="acme", create=True) as store:
        store.tickets.add_many(sample_ticket(f"tkt_{i}", messages=5) for i in range(300))
    data = path.read_bytes()  # closed: the WAL is checkpointed into the file
    path.write_bytes(data[: int(len(data) * keep)])

    def read_everything() -> None:
        with open_store(f"sqlite:///{path}", tenant="acme") as store:
            for ticket_id in (f"tkt_{i}" for i in range(300)):
                store.tickets.get(ticket_id)
            store.outbox.pending(1_000)

    with pytest.raises(CorruptRecordError, match="damaged or is not a SQLite database"):
        read_everything()


def test_a_truncated_header_is_a_corrupt_record_error(path: Path) -> None:
    with open_store(f"sqlite:///{path}", tenant="acme", create=True) as store:
        store.tickets.add(sample_ticket())
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(CorruptRecordError):
        open_store(f"sqlite:///{path}", tenant="acme", create=True)


@pytest.mark.parametrize("create", [False, True])
def test_tables_of_csdomains_names_that_it_did_not_create_are_a_schema_error(
    path: Path, create: bool
) -> None:
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, title TEXT)")
    finally:
        raw.close()
    with pytest.raises(SchemaError, match=r"did not create.*use another file"):
        open_store(f"sqlite:///{path}", tenant="acme", create=create)
    assert _names(path) == {"outbox"}  # nothing was changed


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


def test_a_damaged_declaration_is_a_schema_error(store: Store, path: Path) -> None:
    store.close()
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute("UPDATE csdomain_collections SET declaration = '[' WHERE name = 'tickets'")
    finally:
        raw.close()
    with pytest.raises(SchemaError, match="damaged declaration of collection 'tickets'"):
        open_store(f"sqlite:///{path}", tenant="acme")


# -- the file -----------------------------------------------------------------------


def test_wal_full_sync_secure_delete_and_the_schema(store: Store, path: Path) -> None:
    connection = _backend(store)._holder().connection
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert connection.execute("PRAGMA busy_timeout").fetchone() == (10_000,)
    assert connection.execute("PRAGMA secure_delete").fetchone() == (1,)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT version FROM csdomain_schema").fetchall() == [(len(MIGRATIONS),)]
        declared = {name for (name,) in raw.execute("SELECT name FROM csdomain_collections")}
    finally:
        raw.close()
    assert {"tickets", "customers", "agents", "groups", "config"} <= declared
    assert {
        "csdomain_schema",
        "csdomain_collections",
        "outbox",
        "outbox_state",
        "c_tickets",
        "c_tickets__events",
        "q_tickets__due",
        "c_customers",
        "c_customers__contact",
    } <= _names(path)


def test_reopening_keeps_the_data_and_the_schema(path: Path) -> None:
    for n in range(3):
        with open_store(f"sqlite:///{path}", tenant="acme", create=n == 0) as store:
            store.tickets.add(sample_ticket(f"tkt_{store.tickets.count()}"))
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT count(*) FROM csdomain_schema").fetchone() == (1,)
    finally:
        raw.close()
    with open_store(f"sqlite:///{path}", tenant="acme") as store:
        assert store.tickets.count() == 3


def test_rows_written_behind_the_stores_back_are_corrupt_records(store: Store, path: Path) -> None:
    store.tickets.add(sample_ticket("tkt_1"))
    store.customers.add(Customer(id="cus_1", display_name="Li"))
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute(
                "UPDATE c_tickets__events SET document = '{\"type\": [' "
                "WHERE key = 'tkt_1' AND sequence = 0"
            )
            raw.execute("UPDATE c_customers SET document = 'null' WHERE key = 'cus_1'")
    finally:
        raw.close()
    with pytest.raises(CorruptRecordError, match="stored ticket 'tkt_1' cannot be read") as info:
        store.tickets.get("tkt_1")
    assert (info.value.kind, info.value.key) == ("ticket", "tkt_1")
    with pytest.raises(CorruptRecordError) as customer:
        store.customers.get("cus_1")
    assert (customer.value.kind, customer.value.key) == ("customer", "cus_1")


def test_text_that_is_not_utf8_is_a_corrupt_record(store: Store, path: Path) -> None:
    store.customers.add(Customer(id="cus_1", display_name="Li"))
    raw = sqlite3.connect(path)
    try:
        with raw:
            raw.execute("UPDATE c_customers SET document = CAST(x'ff00fe' AS TEXT)")
    finally:
        raw.close()
    with pytest.raises(CorruptRecordError, match="UTF-8"):
        store.customers.get("cus_1")


def test_the_queries_use_indexes(store: Store) -> None:
    with store.transaction():
        for i in range(50):
            store.tickets.add(
                sample_ticket(f"tkt_{i:02d}", customer_id=f"cus_{i % 5}", assignee_id="agt_1"),
                next_deadline=T0 + timedelta(hours=i),
            )
    store.customers.add(
        Customer(
            id="cus_1",
            display_name="Li",
            contact_points=(ContactPoint(channel="phone_hotline", address="+86 138 0013 8000"),),
        )
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
        store.tickets.list(status=[Status.OPEN, Status.PENDING], limit=5)
        store.customers.find_by_contact("+86 138 0013 8000")
        store.outbox.pending()
        store.outbox.claim(relay="relay-1", limit=5)
    finally:
        connection.set_trace_callback(None)
    reads = [s for s in statements if s.startswith(("SELECT", "UPDATE outbox"))]
    assert len(reads) >= 14
    for statement in reads:
        plan = " | ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}"))
        assert "INDEX" in plan or "PRIMARY KEY" in plan, (statement, plan)
        scans = [step for step in plan.split(" | ") if step.startswith("SCAN")]
        assert all(step.startswith("SCAN (subquery") for step in scans), (statement, plan)
        if "TEMP B-TREE" in plan:  # a sort only where per-value arms are merged
            assert "MERGE (UNION ALL)" in plan, (statement, plan)


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


def test_a_file_deleted_while_open_is_an_error_not_a_new_store(store: Store, path: Path) -> None:
    store.tickets.add(sample_ticket())
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            store.tickets.count()
        except StorageError as exc:
            failures.append(exc)

    thread = threading.Thread(target=read)  # a new thread opens a new connection
    thread.start()
    thread.join()
    assert len(failures) == 1 and isinstance(failures[0], StorageConnectionError)
    assert not path.exists()


def test_a_storage_error_inside_a_transaction_rolls_it_back(store: Store) -> None:
    backend = _backend(store)

    def failing_unit_of_work() -> None:
        with store.transaction():
            store.tickets.add(sample_ticket())
            backend.insert_many("agents", [("agt_1", None, {})])  # type: ignore[list-item]

    with pytest.raises(StorageError, match="NOT NULL") as info:
        failing_unit_of_work()
    assert type(info.value) is StorageError  # no more particular kind of failure
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    assert store.tickets.count() == 0 and store.outbox.pending() == []


def test_text_sqlite_cannot_encode_is_a_storage_error(store: Store) -> None:
    backend = _backend(store)
    with store.transaction(), pytest.raises(StorageError, match="not valid Unicode"):
        backend.insert_many("agents", [("agt_1", '"\ud800"', {})])
    assert backend.get("agents", "agt_1") is None


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
    for id, address in (("cus_1", "a%@x.cn"), ("cus_2", "abc@x.cn"), ("cus_3", "a_c@x.cn")):
        store.customers.add(
            Customer(
                id=id,
                display_name=id,
                contact_points=(ContactPoint(channel="email", address=address),),
            )
        )
    assert [s.value.id for s in store.customers.find_by_contact("a%@x.cn")] == ["cus_1"]
    assert [s.value.id for s in store.customers.find_by_contact("a_c@x.cn")] == ["cus_3"]


def test_erasure_leaves_no_phone_number_in_the_file_or_its_wal(store: Store, path: Path) -> None:
    store.customers.add(
        Customer(
            id="cus_1",
            display_name="王芳",
            contact_points=(ContactPoint(channel="phone_hotline", address="+86 138 0013 8000"),),
        )
    )
    store.customers.add(
        Customer(
            id="cus_2",
            display_name="Li",
            contact_points=(ContactPoint(channel="phone_hotline", address="+86 139 0013 9000"),),
        )
    )
    ticket = sample_ticket("tkt_1", customer_id="cus_1").add_message(
        at=T0 + timedelta(hours=1), actor=AGENT, body="call me back on 138 0013 8000"
    )
    store.tickets.add(ticket)
    store.outbox.mark_published([m.id for m in store.outbox.pending(1)])
    reader = open_store(f"sqlite:///{path}", tenant="acme")  # keeps the WAL from resetting
    assert reader.customers.get("cus_1").version == 1

    def stored() -> bytes:
        wal = Path(f"{path}-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    assert b"13800138000" in stored() and b"13900139000" in stored()
    store.erase_customer("cus_1", reason="the customer asked")
    store.erase_customer("cus_2", reason="the customer asked")  # a customer without tickets
    data = stored()
    for phone in ("13800138000", "138 0013 8000", "13900139000"):
        assert phone.encode() not in data, phone
    reader.close()
