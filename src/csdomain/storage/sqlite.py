"""The SQLite adapter: the embedded default, with the standard library's ``sqlite3``.

``open_store("sqlite:///desk.db", tenant=...)`` opens (and creates) the file
``desk.db`` relative to the working directory; ``sqlite:////var/lib/desk.db``
is an absolute path. ``sqlite://`` or ``sqlite:///:memory:`` is a private
in-memory database that lives as long as its store.

Durability: a file database runs in WAL mode with ``synchronous=FULL``, so a
transaction that has committed survives a crash of the process *and* of the
machine (the WAL is synced at every commit; ``NORMAL`` would be faster but may
lose the last commits on power loss). A process killed in the middle of a
transaction leaves none of it behind.

Threading: a store may be shared by threads. Each thread gets its own
connection to the file, opened on its first use and closed when the thread
ends; :meth:`Store.close <csdomain.storage.Store.close>` closes all of them
(call it when no thread is using the store any more). A transaction belongs to
the thread that opened it. Transactions start with ``BEGIN IMMEDIATE``, which
takes SQLite's single writer lock at once: two writers - threads or processes -
run one after the other (the second waits up to the busy timeout, 10 s by
default, then gets a :class:`~csdomain.errors.RetryableStorageError` saying the
database is locked) instead of
failing when they first write, and the version checks inside a transaction see
the latest commit, so no update is lost. Readers never wait for writers (WAL).
Calls outside a transaction read in autocommit mode, each statement on its own
snapshot. As the lock is per file, a thread with a transaction open should not
write through another store (another tenant) of the same file until it ends:
that write would wait for the thread's own lock. The private in-memory
database has a single connection; a lock serializes its users, and a
transaction holds it from start to end.

Schema: the tables are created on first use and the file records the schema
version (table ``csdomain_schema``); newer csdomains migrate an older file
forward, in a write transaction, and a file written by a newer csdomain (or
holding tables of the same names that csdomain did not create) is refused with
:class:`~csdomain.errors.SchemaError`.

Every ``sqlite3`` error is reported as a :class:`~csdomain.errors.StorageError`
with the driver's exception as its ``__cause__``: ``database is locked`` or busy
as :class:`~csdomain.errors.RetryableStorageError`, ``unable to open database
file`` (a missing directory, no permission) as
:class:`~csdomain.errors.StorageConnectionError`, a damaged file or one that is
not a database as :class:`~csdomain.errors.CorruptRecordError`, anything else as
``StorageError`` itself; a duplicate key on insert is a
:class:`~csdomain.errors.ConflictError` carrying the stored version. A bad URL
is a :class:`~csdomain.errors.ValidationError`.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any, Final

from csdomain.errors import (
    ConflictError,
    CorruptRecordError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    ValidationError,
)
from csdomain.privacy import mask_url
from csdomain.storage.backend import (
    SCHEMA_VERSION,
    TICKET_COLUMNS,
    Row,
    StorageError,
    chunks,
)

__all__ = ["BUSY_TIMEOUT", "MIGRATIONS", "SqliteBackend", "open_backend"]

#: Seconds a connection waits for another writer's lock before giving up.
BUSY_TIMEOUT: Final = 10.0

#: Forward-only migrations: ``MIGRATIONS[i - 1]`` takes the schema from version
#: ``i - 1`` to ``i``; each is a sequence of statements run in one transaction.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE records (
            tenant TEXT NOT NULL,
            collection TEXT NOT NULL,
            key TEXT NOT NULL,
            version INTEGER NOT NULL,
            document TEXT NOT NULL,
            PRIMARY KEY (tenant, collection, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE tickets (
            tenant TEXT NOT NULL,
            key TEXT NOT NULL,
            version INTEGER NOT NULL,
            document TEXT NOT NULL,
            status TEXT,
            assignee_id TEXT,
            group_id TEXT,
            customer_id TEXT,
            kind TEXT,
            priority TEXT,
            updated_at INTEGER,
            next_deadline INTEGER,
            event_count INTEGER,
            PRIMARY KEY (tenant, key)
        )""",
        "CREATE INDEX tickets_status ON tickets (tenant, status, key)",
        "CREATE INDEX tickets_assignee ON tickets (tenant, assignee_id, key)",
        "CREATE INDEX tickets_group ON tickets (tenant, group_id, key)",
        "CREATE INDEX tickets_customer ON tickets (tenant, customer_id, key)",
        "CREATE INDEX tickets_kind ON tickets (tenant, kind, key)",
        "CREATE INDEX tickets_priority ON tickets (tenant, priority, key)",
        """CREATE INDEX tickets_deadline ON tickets (tenant, next_deadline, key)
            WHERE next_deadline IS NOT NULL""",
        """CREATE TABLE contacts (
            tenant TEXT NOT NULL,
            address TEXT NOT NULL,
            channel TEXT NOT NULL,
            customer_id TEXT NOT NULL
        )""",
        "CREATE INDEX contacts_address ON contacts (tenant, address, channel, customer_id)",
        "CREATE INDEX contacts_customer ON contacts (tenant, customer_id)",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL,
            ticket_id TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            event_type TEXT NOT NULL,
            document TEXT NOT NULL,
            published INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX outbox_pending ON outbox (tenant, published, id)",
    ),
)

_TICKET_INSERT = (
    f"INSERT INTO tickets (tenant, key, version, document, {', '.join(TICKET_COLUMNS)}) "
    f"VALUES (?, ?, 1, ?{', ?' * len(TICKET_COLUMNS)})"
)
_TICKET_UPDATE = (
    "UPDATE tickets SET version = version + 1, document = ?, "
    + ", ".join(f"{name} = ?" for name in TICKET_COLUMNS)
    + " WHERE tenant = ? AND key = ? AND version = ?"
)
_CHUNK = 500  # values per IN (...) list, well below SQLite's parameter limit


def open_backend(url: str, tenant: str) -> SqliteBackend:
    """The backend for ``sqlite:///path``, ``sqlite:////abs/path`` or ``sqlite://`` (memory)."""
    return SqliteBackend(_path(url), tenant)


def _path(url: str) -> str | None:
    """The file a URL names, or None for a private in-memory database."""
    scheme, sep, rest = url.partition("://")
    if scheme.lower() != "sqlite" or not sep:
        raise ValidationError.single(
            "open_store",
            "url",
            "expected a URL such as 'sqlite:///desk.db' (relative), 'sqlite:////var/desk.db' "
            f"(absolute) or 'sqlite://' (in memory), got {mask_url(url)!r}",
        )
    if rest == "":
        return None
    if not rest.startswith("/"):
        raise ValidationError.single(
            "open_store",
            "url",
            f"{mask_url(url)!r} names a host; SQLite databases are files: use "
            "'sqlite:///relative.db' or 'sqlite:////absolute/path.db'",
        )
    path = rest[1:]
    if path in ("", ":memory:"):
        return None
    return path


def _position(value: object, key: object) -> bool:
    """True for a cursor position SQLite can compare: text or a 64-bit integer, and a key."""
    if type(value) is int:
        return -(2**63) <= value < 2**63 and isinstance(key, str)
    return type(value) is str and isinstance(key, str)


def _busy(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(exc)


def _unopenable(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith("SQLITE_CANTOPEN") or "unable to open database file" in str(exc)


def _damaged(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or str(exc) in (
        "file is not a database",
        "database disk image is malformed",
    )


def _duplicate(exc: sqlite3.IntegrityError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE") or (
        not name and "UNIQUE constraint failed" in str(exc)
    )


class _Holder:
    """One thread's connection. The thread-local keeps it alive and the backend tracks
    it weakly: when the thread ends, the connection is closed with it."""

    __slots__ = ("__weakref__", "close", "connection", "transaction")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.transaction = False
        self.close = weakref.finalize(self, _close, connection)


def _close(connection: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):  # closing is best effort
        connection.close()


class SqliteBackend:
    """A tenant's view of one SQLite database (see the module documentation)."""

    def __init__(self, path: str | None, tenant: str, *, timeout: float = BUSY_TIMEOUT) -> None:
        self.tenant = tenant
        self.path = path
        self._label = "the in-memory database" if path is None else f"the database {path!r}"
        self._timeout = timeout
        self._local = threading.local()
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._holders_lock = threading.Lock()
        self._closed = False
        # The in-memory database: one connection, one lock (held through a transaction).
        self._memory_lock = threading.RLock()
        self._memory: _Holder | None = None
        if path is None:
            self._memory = _Holder(self._connect(":memory:"))
            self._holders.add(self._memory)
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    # -- connections --------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<SqliteBackend {self._label} tenant={self.tenant!r}>"

    def _error(self, doing: str, exc: Exception) -> StorageError:
        """The StorageError subclass for a driver error: one type per kind of failure."""
        if isinstance(exc, sqlite3.Error):
            if _busy(exc):
                return RetryableStorageError(
                    f"{self._label} is locked by another writer; waited {self._timeout:g} s "
                    f"while {doing} ({exc}); retry later, or keep transactions short"
                )
            if _unopenable(exc):
                return StorageConnectionError(
                    f"SQLite cannot open {self._label} while {doing} ({exc}); check that "
                    "its directory exists and that this process may read and write it"
                )
            if _damaged(exc):
                return CorruptRecordError(
                    f"{self._label} is damaged or is not a SQLite database ({exc}), found "
                    f"while {doing}; restore it from a backup or point the URL at the "
                    "right file"
                )
        return StorageError(f"SQLite failed while {doing} in {self._label}: {exc}")

    def _connect(self, target: str) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                target, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise self._error("opening it", exc) from exc
        try:
            if target != ":memory:":
                connection.execute("PRAGMA journal_mode = WAL").fetchall()
            connection.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            connection.close()
            raise self._error("opening it", exc) from exc
        return connection

    def _holder(self) -> _Holder:
        memory = self._memory
        if self._closed or (self.path is None and memory is None):
            raise StorageError(f"this store of {self._label} is closed")
        if memory is not None:
            return memory
        holder: _Holder | None = getattr(self._local, "holder", None)
        if holder is None:
            assert self.path is not None
            holder = _Holder(self._connect(self.path))
            with self._holders_lock:
                if self._closed:  # closed meanwhile by another thread
                    holder.close()
                    raise StorageError(f"this store of {self._label} is closed")
                self._holders.add(holder)
            self._local.holder = holder
        return holder

    @contextmanager
    def _use(self, doing: str) -> Iterator[sqlite3.Connection]:
        """The calling thread's connection; driver errors become StorageError."""
        holder = self._holder()
        try:
            if self.path is None:
                with self._memory_lock:
                    yield holder.connection
            else:
                yield holder.connection
        except (sqlite3.Error, sqlite3.Warning, OverflowError) as exc:
            raise self._error(doing, exc) from exc

    def _writing(self, doing: str) -> AbstractContextManager[sqlite3.Connection]:
        if not self.in_transaction():
            raise StorageError(f"{doing}: writes need a transaction (use store.transaction())")
        return self._use(doing)

    def close(self) -> None:
        """Close every thread's connection; the store cannot be used afterwards."""
        with self._holders_lock:
            self._closed = True
            holders = list(self._holders)
            self._holders.clear()
        for holder in holders:
            holder.close()
        self._memory = None

    # -- schema -------------------------------------------------------------------

    def _version(self, connection: sqlite3.Connection) -> int:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'csdomain_schema'"
        ).fetchone()
        if found is None:
            return 0
        row = connection.execute("SELECT max(version) FROM csdomain_schema").fetchone()
        if row is None or row[0] is None:
            return 0
        if type(row[0]) is not int or row[0] < 0:
            raise SchemaError(
                f"{self._label} has a damaged schema version table: csdomain_schema holds "
                f"{row[0]!r}, expected a version number from 1 to {SCHEMA_VERSION}"
            )
        return row[0]

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"{self._label} was written by a newer csdomain: schema {version}, this "
                f"csdomain reads up to {SCHEMA_VERSION}; upgrade csdomain"
            )

    def _migrate(self) -> None:
        with self._use("reading the schema version") as connection:
            version = self._version(connection)
        self._check_version(version)
        if version == SCHEMA_VERSION:
            return
        with self.transaction(), self._use("migrating the schema") as connection:
            version = self._version(connection)  # again, under the writer lock
            self._check_version(version)
            if version == 0:
                connection.execute("CREATE TABLE csdomain_schema (version INTEGER NOT NULL)")
                connection.execute("INSERT INTO csdomain_schema (version) VALUES (0)")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target - 1]:
                    try:
                        connection.execute(statement)
                    except sqlite3.OperationalError as exc:
                        if "already exists" not in str(exc):
                            raise
                        raise SchemaError(
                            f"{self._label} holds tables that csdomain did not create ({exc}) "
                            f"and no record of a csdomain schema; use another file"
                        ) from exc
                connection.execute("UPDATE csdomain_schema SET version = ?", (target,))

    # -- transactions ---------------------------------------------------------------

    def in_transaction(self) -> bool:
        if self.path is None:
            return getattr(self._local, "memory_transaction", False) is True
        holder: _Holder | None = getattr(self._local, "holder", None)
        return holder is not None and holder.transaction

    def _mark(self, holder: _Holder, value: bool) -> None:
        if self.path is None:
            self._local.memory_transaction = value
        else:
            holder.transaction = value

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.in_transaction():
            raise StorageError(
                "a transaction is already open on this store in this thread; "
                "transactions do not nest"
            )
        holder = self._holder()
        connection = holder.connection
        with self._memory_lock if self.path is None else nullcontext():
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error("starting a transaction", exc) from exc
            self._mark(holder, True)
            try:
                try:
                    yield
                except BaseException:
                    self._rollback(connection)
                    raise
                try:
                    connection.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._rollback(connection)
                    raise self._error("committing a transaction", exc) from exc
            finally:
                self._mark(holder, False)

    @staticmethod
    def _rollback(connection: sqlite3.Connection) -> None:
        with suppress(sqlite3.Error):  # SQLite may have rolled back already
            if connection.in_transaction:
                connection.execute("ROLLBACK")

    # -- rows -------------------------------------------------------------------------

    def _table(self, collection: str) -> tuple[str, str, tuple[str, ...]]:
        """The table, the WHERE clause choosing this tenant's collection, and its values."""
        if collection == "tickets":
            return "tickets", "tenant = ?", (self.tenant,)
        return "records", "tenant = ? AND collection = ?", (self.tenant, collection)

    def get(self, collection: str, key: str) -> Row | None:
        table, where, params = self._table(collection)
        with self._use(f"reading {collection}") as connection:
            found = connection.execute(
                f"SELECT key, version, document FROM {table} WHERE {where} AND key = ?",
                (*params, key),
            ).fetchone()
        return None if found is None else Row(found)

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Row]:
        table, where, params = self._table(collection)
        rows: list[Row] = []
        with self._use(f"reading {collection}") as connection:
            for part in chunks(keys, _CHUNK):
                marks = ", ".join("?" * len(part))
                rows.extend(
                    Row(found)
                    for found in connection.execute(
                        f"SELECT key, version, document FROM {table} "
                        f"WHERE {where} AND key IN ({marks})",
                        (*params, *part),
                    )
                )
        return rows

    def insert(self, collection: str, key: str, text: str, columns: Mapping[str, Any]) -> None:
        with self._writing(f"adding to {collection}") as connection:
            try:
                if collection == "tickets":
                    connection.execute(
                        _TICKET_INSERT,
                        (self.tenant, key, text, *(columns.get(n) for n in TICKET_COLUMNS)),
                    )
                else:
                    connection.execute(
                        "INSERT INTO records (tenant, collection, key, version, document) "
                        "VALUES (?, ?, ?, 1, ?)",
                        (self.tenant, collection, key, text),
                    )
            except sqlite3.IntegrityError as exc:
                if not _duplicate(exc):
                    raise
                stored = self.get(collection, key)
                raise ConflictError(
                    collection,
                    key,
                    None,
                    None if stored is None else stored.version,
                    f"in tenant {self.tenant!r}",
                ) from exc

    def insert_many(
        self, collection: str, rows: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> None:
        for key, text, columns in rows:  # one statement each is cheap here: no round trips
            self.insert(collection, key, text, columns)

    def update(
        self,
        collection: str,
        key: str,
        expected_version: int,
        text: str,
        columns: Mapping[str, Any],
    ) -> bool:
        with self._writing(f"saving to {collection}") as connection:
            if collection == "tickets":
                cursor = connection.execute(
                    _TICKET_UPDATE,
                    (
                        text,
                        *(columns.get(n) for n in TICKET_COLUMNS),
                        self.tenant,
                        key,
                        expected_version,
                    ),
                )
            else:
                cursor = connection.execute(
                    "UPDATE records SET version = version + 1, document = ? "
                    "WHERE tenant = ? AND collection = ? AND key = ? AND version = ?",
                    (text, self.tenant, collection, key, expected_version),
                )
            return cursor.rowcount == 1

    def delete(self, collection: str, key: str, expected_version: int) -> bool:
        table, where, params = self._table(collection)
        with self._writing(f"deleting from {collection}") as connection:
            cursor = connection.execute(
                f"DELETE FROM {table} WHERE {where} AND key = ? AND version = ?",
                (*params, key, expected_version),
            )
            return cursor.rowcount == 1

    def _where(
        self, collection: str, filters: Mapping[str, Sequence[Any]]
    ) -> tuple[str, str, list[Any]] | None:
        """Table, WHERE clause and values for ``filters``; None when nothing can match."""
        table, where, params = self._table(collection)
        clauses, values = [where], list(params)
        for name, wanted in filters.items():
            if table != "tickets" or name not in TICKET_COLUMNS:
                raise StorageError(f"{collection} have no indexed column {name!r} to filter by")
            given = [v for v in wanted if v is not None]
            tests = []
            for part in chunks(given, _CHUNK):
                tests.append(f"{name} IN ({', '.join('?' * len(part))})")
                values.extend(part)
            if len(given) < len(wanted):
                tests.append(f"{name} IS NULL")
            if not tests:
                return None
            clauses.append(tests[0] if len(tests) == 1 else f"({' OR '.join(tests)})")
        return table, " AND ".join(clauses), values

    def select(
        self,
        collection: str,
        filters: Mapping[str, Sequence[Any]],
        order: str,
        after: tuple[Any, str] | None,
        limit: int,
        below: Any = None,
    ) -> list[tuple[Any, Row]]:
        query = self._where(collection, filters)
        if query is None:
            return []
        table, where, values = query
        if order != "key" and (table != "tickets" or order not in TICKET_COLUMNS):
            raise StorageError(f"{collection} cannot be ordered by {order!r}")
        # ``order`` is "key" or one of TICKET_COLUMNS: never text from outside.
        if order != "key":
            where += f" AND {order} IS NOT NULL"
        if below is not None:
            where += f" AND {order} < ?"
            values.append(below)
        if after is not None:
            value, key = after
            if not _position(value, key):
                raise ValidationError.single(
                    "cursor",
                    "",
                    f"{after!r} is not a position this store returned; pass next_cursor as given",
                )
            if order == "key":  # (key, key) > (value, key) needs key >= value: the index seeks
                where += " AND key >= ? AND (key, key) > (?, ?)"
                values.extend((value, value, key))
            else:
                where += f" AND ({order}, key) > (?, ?)"
                values.extend((value, key))
        values.append(limit)
        with self._use(f"listing {collection}") as connection:
            found = connection.execute(
                f"SELECT {order}, key, version, document FROM {table} "
                f"WHERE {where} ORDER BY {'key' if order == 'key' else f'{order}, key'} LIMIT ?",
                values,
            ).fetchall()
        return [(value, Row((key, version, text))) for value, key, version, text in found]

    def count(self, collection: str, filters: Mapping[str, Sequence[Any]]) -> int:
        query = self._where(collection, filters)
        if query is None:
            return 0
        table, where, values = query
        with self._use(f"counting {collection}") as connection:
            (total,) = connection.execute(
                f"SELECT count(*) FROM {table} WHERE {where}", values
            ).fetchone()
        return int(total)

    # -- contacts ---------------------------------------------------------------------

    def set_contacts(self, customer_id: str, contacts: Iterable[tuple[str, str]]) -> None:
        pairs = sorted(set(contacts))
        with self._writing("indexing contact points") as connection:
            connection.execute(
                "DELETE FROM contacts WHERE tenant = ? AND customer_id = ?",
                (self.tenant, customer_id),
            )
            connection.executemany(
                "INSERT INTO contacts (tenant, address, channel, customer_id) VALUES (?, ?, ?, ?)",
                [(self.tenant, address, channel, customer_id) for channel, address in pairs],
            )

    def find_contacts(self, address: str, channel: str | None) -> list[str]:
        sql = "SELECT customer_id FROM contacts WHERE tenant = ? AND address = ?"
        params: tuple[str, ...] = (self.tenant, address)
        if channel is not None:
            sql += " AND channel = ?"
            params += (channel,)
        with self._use("finding contact points") as connection:
            found = connection.execute(sql, params).fetchall()
        return sorted({customer for (customer,) in found})

    # -- outbox -----------------------------------------------------------------------

    def outbox_append(self, messages: Sequence[tuple[str, int, str, str]]) -> None:
        with self._writing("writing to the outbox") as connection:
            connection.executemany(
                "INSERT INTO outbox (tenant, ticket_id, sequence, event_type, document) "
                "VALUES (?, ?, ?, ?, ?)",
                [(self.tenant, *message) for message in messages],
            )

    def outbox_pending(self, limit: int) -> list[tuple[int, str, int, str, str]]:
        with self._use("reading the outbox") as connection:
            found = connection.execute(
                "SELECT id, ticket_id, sequence, event_type, document FROM outbox "
                "WHERE tenant = ? AND published = 0 ORDER BY id LIMIT ?",
                (self.tenant, limit),
            ).fetchall()
        return [(int(i), t, int(s), e, d) for i, t, s, e, d in found]

    def outbox_mark(self, ids: Sequence[int]) -> None:
        with self._writing("marking outbox messages published") as connection:
            for part in chunks(list(ids), _CHUNK):
                connection.execute(
                    "UPDATE outbox SET published = 1 WHERE tenant = ? AND published = 0 "
                    f"AND id IN ({', '.join('?' * len(part))})",
                    (self.tenant, *part),
                )
