"""The SQLite adapter: the embedded default, with the standard library's ``sqlite3``.

``open_store("sqlite:///desk.db", tenant=..., create=True)`` opens the file
``desk.db`` relative to the working directory, creating the store if the file
is missing or empty; ``sqlite:////var/lib/desk.db`` is an absolute path.
Without ``create=True`` a missing file, an empty (0-byte) file or a SQLite
file holding no csdomain schema is refused with
:class:`~csdomain.errors.NoStoreError` and left as it was (a missing file is
not created), so a mistyped path never opens a new, empty store. ``sqlite://``
or ``sqlite:///:memory:`` is a private in-memory database that lives as long
as its store; it is always created.

Layout: each declared collection (:class:`~csdomain.storage.backend.Collection`)
gets a table ``c_<name>`` (tenant, key, version, document and its single-valued
columns), a table ``c_<name>__<column>`` of (tenant, value, key) entries per
multiple-valued column, a table ``c_<name>__events`` of appended event rows
when it stores event streams, a unique index per unique column and one index
per declared query. Table and index names come from the declaration's
validated names only, never from values. ``declare`` records each declaration
(table ``csdomain_collections``) and, when it changes, adds the new columns and
indexes; columns are never dropped. A multiple column holds no NULL (``None``
among its values is refused, and matches no record in a filter). A page reads
the index of the declared query serving it; a filter of several values on an
indexed column reads each value's range in order and merges them, so a page
costs a page per value whatever the number of matches.

The outbox is one table with a state (pending, published or failed) and a
lease (owner and end) per message: a claim leases messages in one write
transaction (``UPDATE ... RETURNING``), so two relays never hold the same
message at once. Ids increase across tenants and a committed message's id is
never handed out again, even after the message is deleted; the id of a
message whose transaction rolled back may be (nobody else saw it).

Durability: a file database runs in WAL mode with ``synchronous=FULL``, so a
transaction that has committed survives a crash of the process *and* of the
machine (the WAL is synced at every commit; ``NORMAL`` would be faster but may
lose the last commits on power loss). A process killed in the middle of a
transaction leaves none of it behind. Erasure: connections run with
``secure_delete`` on, so deleted and replaced text is overwritten in the file,
and a transaction that erased or deleted (``rewrite``, ``rewrite_events``,
``set_columns``, ``outbox_redact``, ``delete``, or a save that removed values
of a multiple column, such as contact points) checkpoints and truncates the
WAL after it commits, so the old text is left neither in the file nor in its
WAL. The checkpoint waits up to the busy timeout for other writers and for
readers of older snapshots; if they outlast it, the old text stays in the WAL
until a later checkpoint overwrites it. A save that only replaces a document
is not taken for an erasure: its old text goes with the next checkpoint.

Threading: a store may be shared by threads. Each thread gets its own
connection to the file, opened on its first use and closed when the thread
ends; :meth:`Store.close <csdomain.storage.Store.close>` closes all of them
(call it when no thread is using the store any more). A transaction belongs to
the thread that opened it. Transactions start with ``BEGIN IMMEDIATE``, which
takes SQLite's single writer lock at once: two writers - threads or processes -
run one after the other (the second waits up to the busy timeout, 10 s by
default, then gets a :class:`~csdomain.errors.RetryableStorageError` saying the
database is locked) instead of failing when they first write, and the version
checks inside a transaction see the latest commit, so no update is lost.
Readers never wait for writers (WAL). Calls outside a transaction read in
autocommit mode, each statement on its own snapshot. As the lock is per file,
a thread with a transaction open cannot open another one on the same file
through another store (another tenant's): it would wait for itself, so it is
refused with a :class:`~csdomain.errors.StorageError`. The private in-memory
database has a single connection; a lock serializes its users, and a
transaction holds it from start to end.

Schema: the file records the schema version (table ``csdomain_schema``); a
file written by csdomain 0.1 (version 1) is migrated forward in place, in one
write transaction: its ``records`` and ``tickets`` tables become
``legacy_records`` and ``legacy_tickets`` (the store moves their rows into the
declared collections, then they are dropped), ``contacts`` is dropped (the
store recomputes it) and the outbox gains its state and lease columns. A file
written by a newer csdomain, or holding tables of the names csdomain uses that
it did not create, is refused with :class:`~csdomain.errors.SchemaError`.

Every ``sqlite3`` error is reported as a :class:`~csdomain.errors.StorageError`
with the driver's exception as its ``__cause__``: ``database is locked`` or busy
as :class:`~csdomain.errors.RetryableStorageError`, ``unable to open database
file`` (a missing directory, no permission) as
:class:`~csdomain.errors.StorageConnectionError`, a damaged or truncated file or
one that is not a database as :class:`~csdomain.errors.CorruptRecordError`,
anything else as ``StorageError`` itself; a duplicate key on insert is a
:class:`~csdomain.errors.ConflictError` carrying the stored version, and a
unique value another record holds one naming the column and that record. A
bad URL is a :class:`~csdomain.errors.ValidationError`.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any, Final, NamedTuple
from urllib.parse import quote

from csdomain._kernel.collections import NAME_PATTERN, RESERVED
from csdomain.errors import (
    ConflictError,
    CorruptRecordError,
    NoStoreError,
    NotFoundError,
    RetryableStorageError,
    SchemaError,
    StorageConnectionError,
    ValidationError,
)
from csdomain.privacy import mask_url
from csdomain.storage.backend import (
    Collection,
    Column,
    ColumnType,
    ColumnValues,
    NewRow,
    OutboxRow,
    Row,
    Select,
    StorageError,
    check_filter,
    check_lease,
    check_projection,
    chunks,
)

__all__ = ["BUSY_TIMEOUT", "MIGRATIONS", "SqliteBackend", "open_backend"]

#: Seconds a connection waits for another writer's lock before giving up.
BUSY_TIMEOUT: Final = 10.0

#: Forward-only migrations: ``MIGRATIONS[i - 1]`` takes the schema from version
#: ``i - 1`` to ``i``; each is a sequence of statements run in one transaction.
#: Version 1 is csdomain 0.1's schema, kept as it was so that its files are
#: recognised; version 2 moves its rows aside and adds declared collections.
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
    (
        # Version 1 rows wait here until the store moves them (legacy_rows, drop_legacy).
        "ALTER TABLE records RENAME TO legacy_records",
        "ALTER TABLE tickets RENAME TO legacy_tickets",
        "DROP INDEX tickets_status",
        "DROP INDEX tickets_assignee",
        "DROP INDEX tickets_group",
        "DROP INDEX tickets_customer",
        "DROP INDEX tickets_kind",
        "DROP INDEX tickets_priority",
        "DROP INDEX tickets_deadline",
        "DROP TABLE contacts",
        """CREATE TABLE outbox_v2 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL,
            stream TEXT NOT NULL,
            key TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            event_type TEXT NOT NULL,
            document TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'published', 'failed')),
            lease_owner TEXT,
            lease_until INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,
            failure TEXT
        )""",
        """INSERT INTO outbox_v2 (id, tenant, stream, key, sequence, event_type, document, state)
            SELECT id, tenant, 'tickets', ticket_id, sequence, event_type, document,
                CASE WHEN published = 1 THEN 'published' ELSE 'pending' END
            FROM outbox ORDER BY id""",
        # Keep the id counter (ids are never reused): move it to the new table.
        "DELETE FROM sqlite_sequence WHERE name = 'outbox_v2'",
        "UPDATE sqlite_sequence SET name = 'outbox_v2' WHERE name = 'outbox'",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_v2 RENAME TO outbox",
        "CREATE INDEX outbox_state ON outbox (tenant, state, id)",
        """CREATE TABLE csdomain_collections (
            name TEXT PRIMARY KEY,
            declaration TEXT NOT NULL
        )""",
        # Tenants whose rows of a collection lack the values of columns added since.
        """CREATE TABLE csdomain_reindex (
            collection TEXT NOT NULL,
            tenant TEXT NOT NULL,
            PRIMARY KEY (collection, tenant)
        ) WITHOUT ROWID""",
    ),
)

# The schema version this adapter writes; backend.SCHEMA_VERSION names the same
# number once the store moves to version 2 (a test checks that they agree).
_VERSION: Final = len(MIGRATIONS)

# Tables csdomain creates outside collections: present without csdomain_schema, they
# are another application's, and the file is refused.
_OWN_TABLES: Final = frozenset(
    {
        "records",
        "tickets",
        "contacts",
        "outbox",
        "outbox_v2",
        "csdomain_collections",
        "csdomain_reindex",
        "legacy_records",
        "legacy_tickets",
    }
)

_CHUNK: Final = 500  # values per IN (...) list, well below SQLite's parameter limit
_ARMS: Final = 16  # most parts a select of several values per indexed column is split in
_STATEMENTS: Final = 512  # page statements kept rendered, by shape (then rendered anew)
# The sources of a page statement's parameters other than its filters' values.
_TENANT, _LOW, _HIGH, _AFTER, _LIMIT = ("tenant",), ("low",), ("high",), ("after",), ("limit",)


class _Slot(NamedTuple):
    """A placeholder a page statement is rendered with: the parameter is the
    ``position``-th value of ``source``."""

    source: Any
    position: int


_INT64: Final = 2**63
_SQL_TYPES: Final = {
    ColumnType.TEXT: "TEXT",
    ColumnType.INTEGER: "INTEGER",
    ColumnType.INSTANT: "INTEGER",
    ColumnType.BOOLEAN: "INTEGER",  # 0 and 1
}
_KINDS: Final = {
    ColumnType.TEXT: "a text",
    ColumnType.INTEGER: "a 64-bit integer",
    ColumnType.INSTANT: "an instant (microseconds since the epoch)",
    ColumnType.BOOLEAN: "a boolean",
}
# UPDATE ... RETURNING (the one-statement claim) needs SQLite 3.35.
_RETURNING: Final = sqlite3.sqlite_version_info >= (3, 35)
_OUTBOX_COLUMNS: Final = "id, stream, key, sequence, event_type, document, attempts, failure"
# (file, thread) of every transaction open in this process: a second one in the same
# thread, through another store of the file, would wait for the first one's lock.
_WRITERS: set[tuple[str, int]] = set()
# Driver errors, and what the driver raises for values it cannot bind.
_DRIVER: Final = (sqlite3.Error, sqlite3.Warning, OverflowError, UnicodeEncodeError)


def open_backend(url: str, tenant: str, *, create: bool = False) -> SqliteBackend:
    """The backend for ``sqlite:///path``, ``sqlite:////abs/path`` or ``sqlite://`` (memory).

    ``NoStoreError`` when the file holds no csdomain store, unless ``create`` is True.
    """
    return SqliteBackend(_path(url), tenant, create=create)


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


def _uri(path: str, mode: str) -> str:
    """A ``file:`` URI for the absolute ``path``: ``mode=rw`` never creates the file,
    ``rwc`` may."""
    return f"file://{quote(path)}?mode={mode}"


def _busy(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in str(exc)


def _unopenable(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith("SQLITE_CANTOPEN") or "unable to open database file" in str(exc)


def _damaged(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc)
    return (
        name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_IOERR_SHORT_READ"))
        or text in ("file is not a database", "database disk image is malformed")
        or text.startswith("Could not decode to UTF-8")
    )


def _duplicate(exc: sqlite3.IntegrityError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return name in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE") or (
        not name and "UNIQUE constraint failed" in str(exc)
    )


def _order_among(order: str, columns: tuple[str, ...]) -> int | None:
    """Where the order value is in a row of a column page whose ``columns`` include the
    order column (it is then read once, ``(key, version, values...)``); None else."""
    if order == "key" or order not in columns:
        return None
    return 2 + columns.index(order)


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _values(table: _Table, column: str, values: Any) -> list[Any]:
    """A multiple column's values as stored: distinct, in a stable order; StorageError
    for a value that is no collection of values, or holds None."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise StorageError(
            f"{table.what} column {column!r} holds several values: expected a tuple or set "
            f"of values, got {values!r}"
        )
    distinct = set(values)
    if None in distinct:
        raise StorageError(
            f"{table.what} column {column!r}: a multiple column's values cannot be None, "
            f"got {sorted(distinct, key=repr)!r}"
        )
    return sorted(distinct, key=lambda v: (type(v).__name__, v))


def _flag(value: int | None) -> bool | None:
    """A boolean column's stored 0 or 1 (or NULL) as Python reads it."""
    return None if value is None else bool(value)


def _check_columns(table: _Table, columns: ColumnValues) -> None:
    if columns.keys() <= table.columns.keys():  # the usual case, checked in C
        return
    for name in columns:
        if name not in table.columns:
            raise StorageError(
                f"collection {table.name!r} has no column {name!r}; columns: {list(table.columns)}"
            )


# -- declarations -------------------------------------------------------------------


def _identifier(subject: str, name: object) -> str:
    """``name`` if it may be part of a table or index name; ``ValidationError`` else."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name) or name in RESERVED:
        raise ValidationError.single(
            subject,
            "name",
            f"expected a lower-case identifier (a letter, then up to 39 letters, digits or _) "
            f"that is not one of {sorted(RESERVED)}, got {name!r}",
        )
    return name


def _declaration(collection: Collection[Any]) -> dict[str, Any]:
    """The stored form of a declaration, with every name checked again (attrs validators
    can be bypassed, and these names become SQL identifiers)."""
    name = _identifier("collection", collection.name)
    columns: dict[str, Any] = {}
    for column in collection.columns:
        _identifier(f"collection {name!r} column", column.name)
        if not isinstance(column.type, ColumnType):
            raise ValidationError.single(
                f"collection {name!r}",
                f"columns.{column.name}",
                f"expected a ColumnType, got {column.type!r}",
            )
        if column.multiple and collection.events and column.name == "events":
            raise ValidationError.single(
                f"collection {name!r}",
                "columns.events",
                "a multiple column 'events' would share the event rows' table; rename it",
            )
        columns[column.name] = {
            "type": column.type.value,
            "unique": bool(column.unique),
            "multiple": bool(column.multiple),
        }
    single = {n for n, c in columns.items() if not c["multiple"]}
    queries: dict[str, Any] = {}
    for query in collection.queries:
        _identifier(f"collection {name!r} query", query.name)
        for filtered in query.where:
            if filtered not in columns:
                raise ValidationError.single(
                    f"collection {name!r}",
                    f"queries.{query.name}",
                    f"filters on {filtered!r}, which is not a column; columns: {sorted(columns)}",
                )
        if query.order != "key" and query.order not in single:
            raise ValidationError.single(
                f"collection {name!r}",
                f"queries.{query.name}",
                f"is ordered by {query.order!r}; expected 'key' or a single-valued column: "
                f"{sorted(single)}",
            )
        queries[query.name] = {"where": list(query.where), "order": query.order}
    return {"columns": columns, "queries": queries, "events": bool(collection.events)}


def _parse_declaration(name: str, text: object) -> dict[str, Any]:
    """A stored declaration, checked as strictly as a new one; SchemaError if damaged."""
    try:
        if not isinstance(text, str):
            raise TypeError("not text")
        value = json.loads(text)
        columns, queries, events = value["columns"], value["queries"], value["events"]
        if not (isinstance(columns, dict) and isinstance(queries, dict)):
            raise TypeError("columns and queries are not objects")
        if not isinstance(events, bool):
            raise TypeError("events is not true or false")
        for column, spec in columns.items():
            _identifier("stored column", column)
            ColumnType(spec["type"])
            if not (isinstance(spec["unique"], bool) and isinstance(spec["multiple"], bool)):
                raise TypeError("unique or multiple is not true or false")
        for query, spec in queries.items():
            _identifier("stored query", query)
            where, order = spec["where"], spec["order"]
            if not isinstance(where, list) or any(c not in columns for c in where):
                raise TypeError(f"query {query!r} filters on unknown columns")
            if order != "key" and (order not in columns or columns[order]["multiple"]):
                raise TypeError(f"query {query!r} is ordered by an unknown column")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SchemaError(
            f"csdomain_collections holds a damaged declaration of collection {name!r} "
            f"({exc}); restore the file from a backup"
        ) from exc
    return {"columns": columns, "queries": queries, "events": events}


def _covers(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """True when the stored declaration already serves everything ``wanted`` declares."""
    return (
        all(stored["columns"].get(n) == c for n, c in wanted["columns"].items())
        and all(stored["queries"].get(n) == q for n, q in wanted["queries"].items())
        and (stored["events"] or not wanted["events"])
    )


def _entries_ddl(name: str, column: str, spec: Mapping[str, Any]) -> list[str]:
    table = f"c_{name}__{column}"
    primary = "tenant, value" if spec["unique"] else "tenant, value, key"
    return [
        f"CREATE TABLE {table} (tenant TEXT NOT NULL, "
        f"value {_SQL_TYPES[ColumnType(spec['type'])]} NOT NULL, key TEXT NOT NULL, "
        f"PRIMARY KEY ({primary})) WITHOUT ROWID",
        f"CREATE INDEX k_{name}__{column} ON {table} (tenant, key)",
    ]


def _query_ddl(name: str, query: str, spec: Mapping[str, Any], columns: Mapping[str, Any]) -> str:
    """The index serving a query, or "" when the primary key serves it already."""
    parts = ["tenant", *(c for c in spec["where"] if not columns[c]["multiple"])]
    order = spec["order"]
    if order != "key" and order not in parts:
        parts.append(order)
    parts.append("key")
    if parts == ["tenant", "key"]:
        return ""
    partial = f" WHERE {order} IS NOT NULL" if order != "key" else ""
    return f"CREATE INDEX q_{name}__{query} ON c_{name} ({', '.join(parts)}){partial}"


def _create_ddl(name: str, declaration: Mapping[str, Any]) -> list[str]:
    columns = declaration["columns"]
    parts = ["tenant TEXT NOT NULL", "key TEXT NOT NULL", "version INTEGER NOT NULL"]
    parts.append("document TEXT NOT NULL")
    parts.extend(
        f"{n} {_SQL_TYPES[ColumnType(c['type'])]}" for n, c in columns.items() if not c["multiple"]
    )
    statements = [f"CREATE TABLE c_{name} ({', '.join(parts)}, PRIMARY KEY (tenant, key))"]
    for column, spec in columns.items():
        if spec["multiple"]:
            statements.extend(_entries_ddl(name, column, spec))
        elif spec["unique"]:
            statements.append(
                f"CREATE UNIQUE INDEX u_{name}__{column} ON c_{name} (tenant, {column})"
            )
    if declaration["events"]:
        statements.append(_EVENTS_DDL.format(name=name))
    for query, spec in declaration["queries"].items():
        if index := _query_ddl(name, query, spec, columns):
            statements.append(index)
    return statements


_EVENTS_DDL: Final = (
    "CREATE TABLE c_{name}__events (tenant TEXT NOT NULL, key TEXT NOT NULL, "
    "sequence INTEGER NOT NULL, document TEXT NOT NULL, "
    "PRIMARY KEY (tenant, key, sequence)) WITHOUT ROWID"
)


def _change_ddl(
    name: str, stored: Mapping[str, Any], wanted: Mapping[str, Any]
) -> tuple[list[str], bool, dict[str, Any]]:
    """Statements taking the stored declaration to one serving ``wanted``, whether they
    add columns, and the declaration to record (stored columns and queries are kept)."""
    statements: list[str] = []
    added = False
    columns = dict(stored["columns"])
    for column, spec in wanted["columns"].items():
        old = columns.get(column)
        if old is None:
            added = True
            if spec["multiple"]:
                statements.extend(_entries_ddl(name, column, spec))
            else:
                sql_type = _SQL_TYPES[ColumnType(spec["type"])]
                statements.append(f"ALTER TABLE c_{name} ADD COLUMN {column} {sql_type}")
                if spec["unique"]:
                    statements.append(
                        f"CREATE UNIQUE INDEX u_{name}__{column} ON c_{name} (tenant, {column})"
                    )
        elif (old["type"], old["multiple"]) != (spec["type"], spec["multiple"]):
            shape = "{multiple}{type}".format
            raise SchemaError(
                f"collection {name!r} stores column {column!r} as "
                f"{shape(multiple='multiple ' if old['multiple'] else '', type=old['type'])}, "
                f"now declared as "
                f"{shape(multiple='multiple ' if spec['multiple'] else '', type=spec['type'])}; "
                "a stored column keeps its type: declare a column of another name"
            )
        elif old["unique"] != spec["unique"]:
            if spec["multiple"]:  # the primary key changes: rebuild the entries table
                table = f"c_{name}__{column}"
                new = _entries_ddl(name, f"{column}__new", spec)[0]
                statements.extend(
                    [
                        new,
                        f"INSERT INTO {table}__new (tenant, value, key) "
                        f"SELECT tenant, value, key FROM {table}",
                        f"DROP TABLE {table}",
                        f"ALTER TABLE {table}__new RENAME TO {table}",
                        _entries_ddl(name, column, spec)[1],
                    ]
                )
            elif spec["unique"]:
                statements.append(
                    f"CREATE UNIQUE INDEX u_{name}__{column} ON c_{name} (tenant, {column})"
                )
            else:
                statements.append(f"DROP INDEX IF EXISTS u_{name}__{column}")
        columns[column] = spec
    if wanted["events"] and not stored["events"]:
        statements.append(_EVENTS_DDL.format(name=name))
    queries = dict(stored["queries"])
    for query, spec in wanted["queries"].items():
        if queries.get(query) == spec:
            continue
        if query in queries:
            statements.append(f"DROP INDEX IF EXISTS q_{name}__{query}")
        if index := _query_ddl(name, query, spec, columns):
            statements.append(index)
        queries[query] = spec
    merged = {
        "columns": columns,
        "queries": queries,
        "events": bool(stored["events"] or wanted["events"]),
    }
    return statements, added, merged


class _Table:
    """A declared collection's statements, rendered once from its validated names.

    Its columns are those stored: every column ever declared (a column a later
    declaration leaves out is kept, and written as NULL or no values).
    """

    __slots__ = (
        "columns",
        "events",
        "get",
        "insert",
        "multiple",
        "name",
        "rewrite",
        "set_columns",
        "single",
        "table",
        "unique",
        "update",
        "what",
    )

    def __init__(self, collection: Collection[Any], stored: Mapping[str, Any]) -> None:
        name = collection.name
        table = f"c_{name}"
        self.name = name
        self.what = collection.what
        self.table = table
        self.columns = {
            n: Column(n, ColumnType(c["type"]), unique=c["unique"], multiple=c["multiple"])
            for n, c in sorted(stored["columns"].items())  # the same order however declared
        }
        columns = self.columns.values()
        self.single = tuple(c.name for c in columns if not c.multiple)
        self.multiple = tuple(c.name for c in columns if c.multiple)
        self.unique = tuple(c.name for c in columns if c.unique)
        self.events = f"c_{name}__events" if stored["events"] else ""
        names = "".join(f", {n}" for n in self.single)
        self.get = f"SELECT key, version, document FROM {table} WHERE tenant = ? AND key = ?"
        self.insert = (
            f"INSERT INTO {table} (tenant, key, version, document{names}) "
            f"VALUES (?, ?, 1, ?{', ?' * len(self.single)})"
        )
        assignments = "".join(f", {n} = ?" for n in self.single)
        self.update = (
            f"UPDATE {table} SET version = version + 1, document = ?{assignments} "
            "WHERE tenant = ? AND key = ? AND version = ?"
        )
        self.set_columns = (
            f"UPDATE {table} SET {assignments[2:]} WHERE tenant = ? AND key = ?"
            if self.single
            else ""
        )
        self.rewrite = f"UPDATE {table} SET document = ? WHERE tenant = ? AND key = ?"

    def row(self, tenant: str, key: str, text: str, columns: ColumnValues) -> tuple[Any, ...]:
        return (tenant, key, text, *[columns.get(n) for n in self.single])


# -- connections ----------------------------------------------------------------------


class _Holder:
    """One thread's connection. The thread-local keeps it alive and the backend tracks
    it weakly: when the thread ends, the connection is closed with it."""

    __slots__ = ("__weakref__", "close", "connection", "erased", "transaction")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.transaction = False
        # The open transaction erased or deleted text: truncate the WAL after it.
        self.erased = False
        self.close = weakref.finalize(self, _close, connection)


def _close(connection: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):  # closing is best effort
        connection.close()


class SqliteBackend:
    """A tenant's view of one SQLite database (see the module documentation)."""

    def __init__(
        self,
        path: str | None,
        tenant: str,
        *,
        timeout: float = BUSY_TIMEOUT,
        create: bool = False,
    ) -> None:
        self.tenant = tenant
        self.path = path
        # Resolved once: threads connecting later find the file whatever the directory.
        self._file = None if path is None else os.path.abspath(path)
        self._label = "the in-memory database" if path is None else f"the database {path!r}"
        self._timeout = timeout
        self._local = threading.local()
        self._holders: weakref.WeakSet[_Holder] = weakref.WeakSet()
        self._holders_lock = threading.Lock()
        self._closed = False
        self._collections: dict[str, Collection[Any]] = {}
        self._tables: dict[str, _Table] = {}
        self._statements: dict[tuple[Any, ...], tuple[str, list[tuple[Any, int]]] | None] = {}
        # The in-memory database: one connection, one lock (held through a transaction).
        self._memory_lock = threading.RLock()
        self._memory: _Holder | None = None
        try:
            self._open(create)
        except BaseException:
            self.close()
            raise

    # -- connections --------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<SqliteBackend {self._label} tenant={self.tenant!r}>"

    def _error(self, doing: str, exc: BaseException) -> StorageError:
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
        if isinstance(exc, UnicodeEncodeError):
            return StorageError(
                f"SQLite cannot store text that is not valid Unicode while {doing} in "
                f"{self._label} ({exc.reason} at position {exc.start}); lone surrogates "
                "are refused"
            )
        return StorageError(f"SQLite failed while {doing} in {self._label}: {exc}")

    def _connect(self, target: str, *, configure: bool = True) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                target,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=target.startswith("file:"),
                cached_statements=256,
            )
        except sqlite3.Error as exc:
            raise self._error("opening it", exc) from exc
        if configure:
            self._configure(connection)
        return connection

    def _configure(self, connection: sqlite3.Connection) -> None:
        try:
            if self.path is not None:
                connection.execute("PRAGMA journal_mode = WAL").fetchall()
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as exc:
            connection.close()
            raise self._error("opening it", exc) from exc

    def _holder(self) -> _Holder:
        memory = self._memory
        if self._closed:
            raise StorageError(f"this store of {self._label} is closed")
        if memory is not None:
            return memory
        holder: _Holder | None = getattr(self._local, "holder", None)
        if holder is None:
            if self._file is None:
                raise StorageError(f"this store of {self._label} is closed")
            # mode=rw: a file deleted meanwhile is an error, never a new empty database.
            holder = _Holder(self._connect(_uri(self._file, "rw")))
            self._adopt(holder)
        return holder

    def _adopt(self, holder: _Holder) -> None:
        with self._holders_lock:
            if self._closed:  # closed meanwhile by another thread
                holder.close()
                raise StorageError(f"this store of {self._label} is closed")
            self._holders.add(holder)
        if self.path is None:
            self._memory = holder
        else:
            self._local.holder = holder

    def _reading(self) -> AbstractContextManager[Any]:
        """The lock reads hold: the in-memory database's, else none."""
        return self._memory_lock if self.path is None else nullcontext()

    def _fetch(self, doing: str, sql: str, params: Sequence[Any]) -> list[Any]:
        """All rows of one statement; driver errors become StorageError."""
        holder = self._holder()
        try:
            with self._reading():
                return holder.connection.execute(sql, params).fetchall()
        except _DRIVER as exc:
            raise self._error(doing, exc) from exc

    def _writer(self, doing: str) -> sqlite3.Connection:
        """The connection of the calling thread's transaction (which holds the locks)."""
        if not self.in_transaction():
            raise StorageError(f"{doing}: writes need a transaction (use store.transaction())")
        return self._holder().connection

    def _table(self, collection: str) -> _Table:
        table = self._tables.get(collection)
        if table is None:
            raise StorageError(
                f"collection {collection!r} is not declared on this store (declare it "
                f"first); declared: {sorted(self._tables)}"
            )
        return table

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

    def _open(self, create: bool) -> None:
        if self.path is None:
            self._adopt(_Holder(self._connect(":memory:")))
            create = True  # a private in-memory database is always new
            connection = self._holder().connection
        else:
            assert self._file is not None
            exists = os.path.exists(self._file)
            if not exists and not create:
                raise NoStoreError(
                    f"{self._label} does not exist; pass create=True to create a csdomain "
                    "store there"
                )
            # Inspected before WAL mode is set, so a refused file is left unchanged.
            connection = self._connect(_uri(self._file, "rw" if exists else "rwc"), configure=False)
            holder = _Holder(connection)
            self._adopt(holder)
        try:
            version, tables = self._inspect(connection)
        except _DRIVER as exc:
            raise self._error("reading the schema version", exc) from exc
        if version == 0:
            foreign = sorted(tables & _OWN_TABLES)
            if foreign:
                raise SchemaError(
                    f"{self._label} holds tables of the names csdomain uses ({', '.join(foreign)}) "
                    "that csdomain did not create, and no record of a csdomain schema; use "
                    "another file"
                )
            if not create:
                raise NoStoreError(
                    f"{self._label} holds no csdomain store "
                    f"({'an empty file' if not tables else 'only other tables'}); pass "
                    "create=True to create one there"
                )
        self._check_version(version)
        if self.path is not None:
            self._configure(connection)
        if version < _VERSION:
            self._migrate()

    def _inspect(self, connection: sqlite3.Connection) -> tuple[int, set[str]]:
        """The stored schema version (0: none) and the names of the tables present."""
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "csdomain_schema" not in tables:
            return 0, tables
        (version,) = connection.execute("SELECT max(version) FROM csdomain_schema").fetchone()
        if type(version) is not int or version < 1:
            raise SchemaError(
                f"{self._label} has a damaged schema version table: csdomain_schema holds "
                f"{version!r}, expected a version number from 1 to {_VERSION}"
            )
        return version, tables

    def _check_version(self, version: int) -> None:
        if version > _VERSION:
            raise SchemaError(
                f"{self._label} was written by a newer csdomain: schema {version}, this "
                f"csdomain reads up to {_VERSION}; upgrade csdomain"
            )

    def _migrate(self) -> None:
        with self.transaction():
            connection = self._holder().connection
            version = 0
            try:
                version, _ = self._inspect(connection)  # again, under the writer lock
                self._check_version(version)
                if version == 0:
                    connection.execute("CREATE TABLE csdomain_schema (version INTEGER NOT NULL)")
                    connection.execute("INSERT INTO csdomain_schema (version) VALUES (0)")
                for target in range(version + 1, _VERSION + 1):
                    for statement in MIGRATIONS[target - 1]:
                        connection.execute(statement)
                    connection.execute("UPDATE csdomain_schema SET version = ?", (target,))
                self._drop_empty_legacy(connection)
            except sqlite3.OperationalError as exc:
                if _busy(exc) or _damaged(exc):
                    raise self._error("migrating the schema", exc) from exc
                if "already exists" in str(exc):
                    raise SchemaError(
                        f"{self._label} holds tables that csdomain did not create ({exc}) "
                        "and no record of a csdomain schema; use another file"
                    ) from exc
                raise SchemaError(
                    f"{self._label} has a damaged csdomain schema version {version}: "
                    f"migrating it to version {_VERSION} failed ({exc}); restore the file "
                    "from a backup"
                ) from exc
            except _DRIVER as exc:
                raise self._error("migrating the schema", exc) from exc

    @staticmethod
    def _drop_empty_legacy(connection: sqlite3.Connection) -> None:
        """Drop the version 1 tables once no tenant has rows left in them."""
        present = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name IN ('legacy_records', 'legacy_tickets')"
            )
        ]
        for name in present:
            if connection.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchone() is not None:
                return
        for name in present:
            connection.execute(f"DROP TABLE {name}")

    def declare(self, collection: Collection[Any]) -> bool:
        """Create or extend the tables and indexes of ``collection`` (see the module
        documentation); True, once per tenant, when this tenant has rows stored before
        columns were added (recorded in ``csdomain_reindex`` for every tenant)."""
        wanted = _declaration(collection)
        name = collection.name
        found = self._fetch(
            f"reading the declaration of {name!r}",
            "SELECT declaration FROM csdomain_collections WHERE name = ?",
            (name,),
        )
        stored = _parse_declaration(name, found[0][0]) if found else None
        if stored is None or not _covers(stored, wanted):
            # Under the writer lock, and again from what is stored: racing processes agree.
            with nullcontext() if self.in_transaction() else self.transaction():
                stored, _ = self._apply(name, wanted)
        self._collections[name] = collection
        self._tables[name] = _Table(collection, stored)
        self._statements.clear()  # rendered for the declaration replaced
        # Each tenant recomputes its own rows once after columns were added.
        stale = self._fetch(
            f"reading whether {name!r} needs reindexing",
            "SELECT 1 FROM csdomain_reindex WHERE collection = ? AND tenant = ?",
            (name, self.tenant),
        )
        if not stale:
            return False
        with nullcontext() if self.in_transaction() else self.transaction():
            taken = self._writer(f"reindexing {name!r}").execute(
                "DELETE FROM csdomain_reindex WHERE collection = ? AND tenant = ?",
                (name, self.tenant),
            )
            return taken.rowcount == 1  # one store of the tenant recomputes, not each

    def _apply(self, name: str, wanted: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        connection = self._writer(f"declaring collection {name!r}")
        doing = f"creating the tables of collection {name!r}"
        try:
            found = connection.execute(
                "SELECT declaration FROM csdomain_collections WHERE name = ?", (name,)
            ).fetchone()
            if found is None:
                statements, added, merged = _create_ddl(name, wanted), False, wanted
            else:
                stored = _parse_declaration(name, found[0])
                if _covers(stored, wanted):
                    return stored, False
                statements, added, merged = _change_ddl(name, stored, wanted)
            for statement in statements:
                connection.execute(statement)
            if added:
                connection.execute(
                    "INSERT OR IGNORE INTO csdomain_reindex (collection, tenant) "
                    f"SELECT DISTINCT ?, tenant FROM c_{name}",
                    (name,),
                )
            connection.execute(
                "INSERT INTO csdomain_collections (name, declaration) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET declaration = excluded.declaration",
                (name, json.dumps(merged, sort_keys=True, separators=(",", ":"))),
            )
        except sqlite3.IntegrityError as exc:
            raise SchemaError(
                f"collection {name!r} cannot take its new declaration: stored rows break a "
                f"uniqueness it now asks for ({exc}); make the values unique first"
            ) from exc
        except sqlite3.OperationalError as exc:
            if "already exists" in str(exc):
                raise SchemaError(
                    f"{self._label} holds a table or index for collection {name!r} that "
                    f"csdomain did not create ({exc}); use another file or collection name"
                ) from exc
            raise self._error(doing, exc) from exc
        except _DRIVER as exc:
            raise self._error(doing, exc) from exc
        return merged, added

    # -- transactions ---------------------------------------------------------------

    def in_transaction(self) -> bool:
        """True when the calling thread has a transaction open on this backend."""
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
        """A write transaction (``BEGIN IMMEDIATE``); nesting raises StorageError."""
        if self.in_transaction():
            raise StorageError(
                "a transaction is already open on this store in this thread; "
                "transactions do not nest"
            )
        holder = self._holder()
        connection = holder.connection
        writer = (self._file or "", threading.get_ident())
        if self._file is not None and writer in _WRITERS:
            raise StorageError(
                f"a transaction on {self._label} is already open in this thread through "
                "another store (another tenant's, perhaps); SQLite has one writer per "
                "file, so this one would wait for it forever: end that one first"
            )
        with self._reading():
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._error("starting a transaction", exc) from exc
            self._mark(holder, True)
            holder.erased = False
            if self._file is not None:
                _WRITERS.add(writer)
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
                _WRITERS.discard(writer)
            if holder.erased and self.path is not None:
                holder.erased = False
                # Erased text must not outlive the commit in the WAL: copy it into the
                # file (secure_delete zeroed the old cells) and empty the WAL.
                with suppress(sqlite3.Error):
                    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    @staticmethod
    def _rollback(connection: sqlite3.Connection) -> None:
        with suppress(sqlite3.Error):  # SQLite may have rolled back already
            if connection.in_transaction:
                connection.execute("ROLLBACK")

    @contextmanager
    def _atomic(self, connection: sqlite3.Connection, needed: bool = True) -> Iterator[None]:
        """A savepoint around a write of several statements: all of it or none, even
        when the caller catches its error and carries on with the transaction."""
        if not needed:
            yield
            return
        connection.execute("SAVEPOINT csdomain_write")
        try:
            yield
        except BaseException:
            with suppress(sqlite3.Error):  # a failed COMMIT-level error ends it already
                connection.execute("ROLLBACK TO csdomain_write")
                connection.execute("RELEASE csdomain_write")
            raise
        connection.execute("RELEASE csdomain_write")

    # -- documents --------------------------------------------------------------------

    def get(self, collection: str, key: str) -> Row | None:
        """The row with ``key``, or None."""
        table = self._table(collection)
        found = self._fetch(f"reading {table.what} {key!r}", table.get, (self.tenant, key))
        return Row(found[0]) if found else None

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Row]:
        """The rows with these keys that exist, in any order."""
        table = self._table(collection)
        rows: list[Row] = []
        for part in chunks(list(dict.fromkeys(keys)), _CHUNK):
            found = self._fetch(
                f"reading {table.what} records",
                f"SELECT key, version, document FROM {table.table} "
                f"WHERE tenant = ? AND key IN ({_marks(len(part))})",
                (self.tenant, *part),
            )
            rows.extend(Row(row) for row in found)
        return rows

    def insert_many(self, collection: str, rows: Sequence[NewRow]) -> None:
        """Insert version 1 of every row, all or none (see the protocol)."""
        table = self._table(collection)
        connection = self._writer(f"adding {table.what} records")
        if not rows:
            return
        for _, _, columns in rows:
            _check_columns(table, columns)
        savepoint = len(rows) > 1 or bool(table.multiple)
        try:
            with self._atomic(connection, savepoint):
                try:
                    self._insert_rows(connection, table, rows)
                except sqlite3.IntegrityError as exc:
                    if not _duplicate(exc):
                        raise
                    if savepoint:  # undo the rows inserted before the failing one
                        connection.execute("ROLLBACK TO csdomain_write")
                    conflict = self._insert_conflict(connection, table, rows)
                    if conflict is None:
                        raise
                    raise conflict from exc
        except _DRIVER as exc:
            raise self._error(f"adding {table.what} records", exc) from exc

    def _insert_rows(
        self, connection: sqlite3.Connection, table: _Table, rows: Sequence[NewRow]
    ) -> None:
        tenant = self.tenant
        if len(rows) == 1:
            key, text, columns = rows[0]
            connection.execute(table.insert, table.row(tenant, key, text, columns))
        else:
            connection.executemany(
                table.insert, [table.row(tenant, key, text, columns) for key, text, columns in rows]
            )
        for column in table.multiple:
            entries = [
                (tenant, value, key)
                for key, _, columns in rows
                for value in _values(table, column, columns.get(column))
            ]
            if entries:
                connection.executemany(
                    f"INSERT INTO {table.table}__{column} (tenant, value, key) VALUES (?, ?, ?)",
                    entries,
                )

    def _insert_conflict(
        self, connection: sqlite3.Connection, table: _Table, rows: Sequence[NewRow]
    ) -> ConflictError | None:
        """Which row of a failed insert broke a key or uniqueness, and how: the rows are
        inserted again one at a time (then undone), as a sequence of inserts would be."""
        connection.execute("SAVEPOINT csdomain_probe")
        inserted: set[str] = set()
        try:
            for row in rows:
                key, _, columns = row
                try:
                    connection.execute(table.insert, table.row(self.tenant, *row))
                except sqlite3.IntegrityError as exc:
                    if not _duplicate(exc):
                        raise
                    stored = connection.execute(
                        f"SELECT version FROM {table.table} WHERE tenant = ? AND key = ?",
                        (self.tenant, key),
                    ).fetchone()
                    if stored is not None:
                        repeated = "it repeats in this batch; " if key in inserted else ""
                        return ConflictError(
                            table.what, key, None, stored[0], f"{repeated}in tenant {self.tenant!r}"
                        )
                    return self._unique_conflict(connection, table, key, columns, single=True)
                inserted.add(key)
                try:
                    self._insert_entries(connection, table, key, columns)
                except sqlite3.IntegrityError as exc:
                    if not _duplicate(exc):
                        raise
                    return self._unique_conflict(connection, table, key, columns, single=False)
            return None
        finally:
            connection.execute("ROLLBACK TO csdomain_probe")
            connection.execute("RELEASE csdomain_probe")

    def _insert_entries(
        self, connection: sqlite3.Connection, table: _Table, key: str, columns: ColumnValues
    ) -> None:
        for column in table.multiple:
            values = _values(table, column, columns.get(column))
            if values:
                connection.executemany(
                    f"INSERT INTO {table.table}__{column} (tenant, value, key) VALUES (?, ?, ?)",
                    [(self.tenant, value, key) for value in values],
                )

    def _unique_conflict(
        self,
        connection: sqlite3.Connection,
        table: _Table,
        key: str,
        columns: ColumnValues,
        *,
        single: bool,
    ) -> ConflictError:
        """The ConflictError for a unique value of ``columns`` another record holds."""
        for column in table.unique:
            if table.columns[column].multiple == single:
                continue
            if single:
                value = columns.get(column)
                if value is None:
                    continue
                holder = connection.execute(
                    f"SELECT key FROM {table.table} WHERE tenant = ? AND {column} = ? "
                    "AND key <> ? LIMIT 1",
                    (self.tenant, value, key),
                ).fetchone()
            else:
                values = _values(table, column, columns.get(column))
                holder = None
                for part in chunks(values, _CHUNK):
                    holder = connection.execute(
                        f"SELECT key FROM {table.table}__{column} WHERE tenant = ? "
                        f"AND value IN ({_marks(len(part))}) AND key <> ? LIMIT 1",
                        (self.tenant, *part, key),
                    ).fetchone()
                    if holder is not None:
                        break
            if holder is not None:
                return ConflictError(
                    table.what,
                    key,
                    None,
                    None,
                    f"its {column} value is held by another {table.what} ({holder[0]})",
                )
        return ConflictError(
            table.what, key, None, None, "one of its unique values is held by another record"
        )

    def _replace_entries(
        self, connection: sqlite3.Connection, table: _Table, key: str, columns: ColumnValues
    ) -> None:
        """Make the entries of ``key`` those of ``columns``, writing only the differences."""
        tenant = self.tenant
        for column in table.multiple:
            entries = f"{table.table}__{column}"
            new = _values(table, column, columns.get(column))
            kept = set(new)
            old = {
                value
                for (value,) in connection.execute(
                    f"SELECT value FROM {entries} WHERE tenant = ? AND key = ?", (tenant, key)
                )
            }
            gone = [(tenant, value, key) for value in old if value not in kept]
            if gone:  # a contact point removed: keep no copy of it (see _Holder.erased)
                connection.executemany(
                    f"DELETE FROM {entries} WHERE tenant = ? AND value = ? AND key = ?", gone
                )
                self._holder().erased = True
            added = [(tenant, value, key) for value in new if value not in old]
            if added:
                try:
                    connection.executemany(
                        f"INSERT INTO {entries} (tenant, value, key) VALUES (?, ?, ?)", added
                    )
                except sqlite3.IntegrityError as exc:
                    if not _duplicate(exc):
                        raise
                    raise self._unique_conflict(
                        connection, table, key, columns, single=False
                    ) from exc

    def _missing_or_stale(
        self, connection: sqlite3.Connection, table: _Table, key: str, expected: int | None
    ) -> NotFoundError | ConflictError:
        stored = connection.execute(
            f"SELECT version FROM {table.table} WHERE tenant = ? AND key = ?",
            (self.tenant, key),
        ).fetchone()
        if stored is None:
            return NotFoundError(table.what, key, f"no such {table.what} in tenant {self.tenant!r}")
        return ConflictError(table.what, key, expected, stored[0], f"in tenant {self.tenant!r}")

    def update(
        self,
        collection: str,
        key: str,
        expected_version: int,
        text: str,
        columns: ColumnValues,
    ) -> None:
        """Replace the row if its version is ``expected_version`` (then +1)."""
        table = self._table(collection)
        connection = self._writer("saving")
        _check_columns(table, columns)
        params = (text, *[columns.get(n) for n in table.single], self.tenant, key, expected_version)
        try:
            if not table.multiple:  # the common save: one statement, atomic by itself
                self._update_row(connection, table, key, columns, expected_version, params)
                return
            with self._atomic(connection):
                self._update_row(connection, table, key, columns, expected_version, params)
                self._replace_entries(connection, table, key, columns)
        except _DRIVER as exc:
            raise self._error(f"saving {table.what} {key!r}", exc) from exc

    def _update_row(
        self,
        connection: sqlite3.Connection,
        table: _Table,
        key: str,
        columns: ColumnValues,
        expected_version: int,
        params: tuple[Any, ...],
    ) -> None:
        try:
            cursor = connection.execute(table.update, params)
        except sqlite3.IntegrityError as exc:
            if not _duplicate(exc):
                raise
            raise self._unique_conflict(connection, table, key, columns, single=True) from exc
        if cursor.rowcount != 1:
            raise self._missing_or_stale(connection, table, key, expected_version)

    def set_columns(self, collection: str, key: str, columns: ColumnValues) -> None:
        """Replace a row's column values, keeping its document and version."""
        table = self._table(collection)
        connection = self._writer(f"reindexing {table.what} {key!r}")
        _check_columns(table, columns)
        try:
            with self._atomic(connection, bool(table.multiple)):
                if table.set_columns:
                    try:
                        cursor = connection.execute(
                            table.set_columns,
                            (*[columns.get(n) for n in table.single], self.tenant, key),
                        )
                    except sqlite3.IntegrityError as exc:
                        if not _duplicate(exc):
                            raise
                        raise self._unique_conflict(
                            connection, table, key, columns, single=True
                        ) from exc
                    found = cursor.rowcount == 1
                else:
                    found = connection.execute(table.get, (self.tenant, key)).fetchone() is not None
                if not found:
                    raise self._missing_or_stale(connection, table, key, None)
                self._replace_entries(connection, table, key, columns)
        except _DRIVER as exc:
            raise self._error(f"reindexing {table.what} {key!r}", exc) from exc
        self._holder().erased = True

    def rewrite(self, collection: str, key: str, text: str) -> None:
        """Replace a row's document keeping its version: erasure only."""
        table = self._table(collection)
        connection = self._writer(f"rewriting {table.what} {key!r}")
        try:
            cursor = connection.execute(table.rewrite, (text, self.tenant, key))
            if cursor.rowcount != 1:
                raise self._missing_or_stale(connection, table, key, None)
        except _DRIVER as exc:
            raise self._error(f"rewriting {table.what} {key!r}", exc) from exc
        self._holder().erased = True

    def delete(self, collection: str, key: str, expected_version: int) -> None:
        """Delete the row, its entries and its events if its version is ``expected_version``."""
        table = self._table(collection)
        connection = self._writer(f"deleting {table.what} {key!r}")
        try:
            with self._atomic(connection, bool(table.multiple or table.events)):
                cursor = connection.execute(
                    f"DELETE FROM {table.table} WHERE tenant = ? AND key = ? AND version = ?",
                    (self.tenant, key, expected_version),
                )
                if cursor.rowcount != 1:
                    raise self._missing_or_stale(connection, table, key, expected_version)
                for entries in (*(f"{table.table}__{n}" for n in table.multiple), table.events):
                    if entries:
                        connection.execute(
                            f"DELETE FROM {entries} WHERE tenant = ? AND key = ?",
                            (self.tenant, key),
                        )
        except _DRIVER as exc:
            raise self._error(f"deleting {table.what} {key!r}", exc) from exc
        self._holder().erased = True

    # -- queries ----------------------------------------------------------------------

    def _tests(
        self, table: _Table, name: str, values: object, split: bool, tenant: Any = None
    ) -> list[tuple[str, list[Any]]] | None:
        """The alternatives matching ``values`` in column ``name`` (one per value when
        ``split``: each then seeks the index in order); None when nothing can match.
        ``tenant`` is the parameter standing for the tenant (by default, this one's)."""
        given, null = self._given(table, name, values)
        column = table.columns[name]
        tenant = self.tenant if tenant is None else tenant
        if column.multiple:  # its values are never NULL: None matches no record
            if not given:
                return None
            entries = f"{table.table}__{name}"
            tests = [
                (
                    f"r.key IN (SELECT e.key FROM {entries} AS e WHERE e.tenant = ? "
                    f"AND e.value IN ({_marks(len(part))}))",
                    [tenant, *part],
                )
                for part in chunks(given, _CHUNK)
            ]
        elif split:
            tests = [(f"r.{name} = ?", [value]) for value in given]
            if null:
                tests.append((f"r.{name} IS NULL", []))
            return tests or None
        else:
            tests = [
                (
                    f"r.{name} = ?" if len(part) == 1 else f"r.{name} IN ({_marks(len(part))})",
                    list(part),
                )
                for part in chunks(given, _CHUNK)
            ]
            if null:
                tests.append((f"r.{name} IS NULL", []))
        if not tests:
            return None
        if len(tests) == 1:
            return tests
        return [(f"({' OR '.join(t for t, _ in tests)})", [p for _, ps in tests for p in ps])]

    def _fits(self, table: _Table, order: str, value: object) -> bool:
        """Whether ``value`` is a value SQLite can compare with the order column."""
        kind = ColumnType.TEXT if order == "key" else table.columns[order].type
        if kind is ColumnType.TEXT:
            if type(value) is not str:
                return False
            try:  # text SQLite cannot bind (lone surrogates) is no position either
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
            return True
        if kind is ColumnType.BOOLEAN:
            return type(value) is bool or (type(value) is int and value in (0, 1))
        return type(value) is int and -_INT64 <= value < _INT64

    def _position(self, table: _Table, order: str, after: object) -> tuple[Any, str]:
        """``after`` if it is a position of this order's type; ValidationError else."""
        if isinstance(after, (tuple, list)) and len(after) == 2:
            value, key = after
            if (
                self._fits(table, order, value)
                and self._fits(table, "key", key)
                and (order != "key" or value == key)  # ordered by key, the value is the key
            ):
                return value, key
        raise ValidationError.single(
            "cursor",
            "",
            f"position {after!r} is not a cursor this store returned for a query of "
            f"{table.name!r} ordered by {order!r}; pass next_cursor as given",
        )

    def select(self, collection: str, query: Select) -> list[tuple[Any, Row]]:
        """The rows of one page (see :class:`Select`) as ``(order value, row)`` pairs.

        The declared query serving it narrows the rows with its index; a filter of
        several values on an indexed column reads each value's range in index order
        and merges them (a compound ``UNION ALL ... ORDER BY``), each range read only
        as far as the page takes rows from it: no page sorts its matches.
        """
        table, found = self._page(collection, query, None)
        if query.order == "key":
            return [(row[0], Row(row)) for row in found]
        boolean = table.columns[query.order].type is ColumnType.BOOLEAN
        return [(_flag(v) if boolean else v, Row((k, n, t))) for v, k, n, t in found]

    def select_columns(
        self, collection: str, query: Select, columns: tuple[str, ...]
    ) -> list[tuple[Any, str, int, tuple[Any, ...]]]:
        """The rows of one page as stored column values (see
        :meth:`~csdomain.storage.backend.ProjectingBackend.select_columns`): the
        statement of :meth:`select`, reading the columns instead of the document."""
        table, found = self._page(collection, query, columns)
        inside = _order_among(query.order, columns)
        if inside is not None:  # (key, version, values...): the order value among them
            page = [(row[inside], row[0], row[1], row[2:]) for row in found]
        else:  # ordered by key, (key, version, values...): its key is the order value
            at = 1 if query.order == "key" else 2  # the version's index
            page = [(row[0], row[at - 1], row[at], row[at + 1 :]) for row in found]
        kinds = table.columns
        boolean = query.order != "key" and kinds[query.order].type is ColumnType.BOOLEAN
        flags = {i for i, n in enumerate(columns) if kinds[n].type is ColumnType.BOOLEAN}
        if not (boolean or flags):
            return page
        return [
            (
                _flag(v) if boolean else v,
                k,
                n,
                tuple(_flag(x) if i in flags else x for i, x in enumerate(values)),
            )
            for v, k, n, values in page
        ]

    def _page(
        self, collection: str, query: Select, columns: tuple[str, ...] | None
    ) -> tuple[_Table, list[Any]]:
        """The table and the rows of one page: ``([order value,] key, version, document)``,
        or the values of ``columns`` instead of the document when given (with no order
        value first when the order column is among them: it is read once)."""
        table = self._table(collection)
        if columns is not None:
            check_projection(collection, columns, table.columns)
        order = query.order
        if order != "key" and (order not in table.columns or table.columns[order].multiple):
            single = list(table.single)
            raise StorageError(
                f"collection {collection!r} cannot be ordered by {order!r}; expected 'key' "
                f"or a single-valued column: {single}"
            )
        # Each filter's distinct values, and whether it accepts NULL.
        given: dict[str, tuple[list[Any], bool]] = {}
        for name, values in query.where.items():
            given[name] = self._given(table, name, values)
        after = None if query.after is None else self._position(table, order, query.after)
        kind = ColumnType.TEXT if order == "key" else table.columns[order].type
        for bound, value in (("low", query.low), ("high", query.high)):
            if value is not None and not self._fits(table, order, value):
                raise ValidationError.single(
                    f"query of {collection!r} ordered by {order!r}",
                    bound,
                    f"expected {_KINDS[kind]} value or None, got {value!r}",
                )
        if query.limit <= 0:
            return table, []
        # The statement depends on the shape of the query only (which filters, how many
        # values each, which bounds): rendered once per shape, its parameters per call.
        shape = (
            collection,
            columns,
            order,
            tuple((name, len(values), null) for name, (values, null) in given.items()),
            query.low is not None,
            query.high is not None,
            after is not None,
        )
        try:
            statement = self._statements[shape]
        except KeyError:
            statement = self._statement(table, columns, shape)
            if len(self._statements) >= _STATEMENTS:
                self._statements.clear()
            self._statements[shape] = statement
        if statement is None:  # no row can match
            return table, []
        sql, slots = statement
        sources: dict[Any, Sequence[Any]] = {name: values for name, (values, _) in given.items()}
        sources[_TENANT] = (self.tenant,)
        sources[_LOW] = (query.low,)
        sources[_HIGH] = (query.high,)
        sources[_AFTER] = () if after is None else after
        sources[_LIMIT] = (query.limit,)
        params = [sources[source][position] for source, position in slots]
        return table, self._fetch(f"listing {table.what} records", sql, params)

    def _given(self, table: _Table, name: str, values: object) -> tuple[list[Any], bool]:
        """The distinct values other than None a filter on column ``name`` accepts, and
        whether it accepts NULL (None among ``values``); StorageError for an unknown
        column or values that are not a collection."""
        wanted = check_filter(table.name, name, values, table.columns)
        # None given once or twice, a value given twice: the NULL test is there or not.
        return list(dict.fromkeys(v for v in wanted if v is not None)), None in wanted

    def _statement(
        self, table: _Table, columns: tuple[str, ...] | None, shape: tuple[Any, ...]
    ) -> tuple[str, list[tuple[Any, int]]] | None:
        """The SQL of a page of this ``shape`` (see :meth:`_page`) and where each of its
        parameters comes from, ``(source, position)``: the ``position``-th distinct value of
        the filter on column ``source``, or the tenant, a bound, the position's value
        and key, or the limit (None: no row can match).

        The statement is rendered from placeholders standing for the values, so the
        parameters come out in the order the text takes them."""
        collection, _, order, filters, has_low, has_high, has_after = shape
        where = {
            name: (*(_Slot(name, i) for i in range(count)), *((None,) if null else ()))
            for name, count, null in filters
        }
        try:  # the declared query whose index serves it (the store sends no other)
            served = self._collections[collection].query_for(where, order).where
        except ValidationError:
            served = ()
        indexed = [n for n in served if n in table.columns and not table.columns[n].multiple]
        tenant = _Slot(_TENANT, 0)
        arms = self._arms(table, where, indexed, tenant)
        if arms is None:
            return None
        column = f"r.{order}"
        common: list[tuple[str, list[Any]]] = []
        if order != "key":
            common.append((f"{column} IS NOT NULL", []))
        if has_low:
            common.append((f"{column} >= ?", [_Slot(_LOW, 0)]))
        if has_high:
            common.append((f"{column} < ?", [_Slot(_HIGH, 0)]))
        if has_after:
            value, key = _Slot(_AFTER, 0), _Slot(_AFTER, 1)
            if order == "key":  # (key, key) > (value, key) needs key >= value: the index seeks
                common.append(("r.key >= ? AND (r.key, r.key) > (?, ?)", [value, value, key]))
            else:
                common.append((f"({column}, r.key) > (?, ?)", [value, key]))
        selected = "r.key AS key" if order == "key" else f"{column} AS position, r.key AS key"
        # Aliases v0, v1, ...: a column may be called "position" or "document".
        payload = (
            "r.document AS document"
            if columns is None
            else "".join(f", r.{name} AS v{i}" for i, name in enumerate(columns))[2:]
        )
        ordering = "key" if order == "key" else "position, key"
        inside = None if columns is None else _order_among(order, columns)
        if inside is not None:  # the order column is read once, as one of the values
            selected, ordering = "r.key AS key", f"v{inside - 2}, key"
        statements: list[str] = []
        params: list[Any] = []
        for arm in arms:
            tests = [("r.tenant = ?", [tenant]), *arm, *common]
            statements.append(
                f"SELECT {selected}, r.version AS version{', ' if payload else ''}{payload} "
                f"FROM {table.table} AS r WHERE {' AND '.join(t for t, _ in tests)}"
            )
            params.extend(p for _, ps in tests for p in ps)
        # Several arms: a compound ORDER BY merges them, each read in its index's order
        # (no sort) and only as far as the merge takes rows from it, up to the LIMIT.
        sql = f"{' UNION ALL '.join(statements)} ORDER BY {ordering} LIMIT ?"
        params.append(_Slot(_LIMIT, 0))
        if not all(type(p) is _Slot for p in params):  # pragma: no cover - a rendering bug
            raise StorageError(f"the statement of {shape!r} takes a parameter of no source")
        return sql, [(p.source, p.position) for p in params]

    def _arms(
        self, table: _Table, where: Mapping[str, Any], indexed: Sequence[str], tenant: Any
    ) -> list[list[tuple[str, list[Any]]]] | None:
        """The tests of each part of a select: one part per combination of the values
        given for the index's columns (while there are few), else one part."""
        split: list[list[tuple[str, list[Any]]]] = []
        rest: list[tuple[str, list[Any]]] = []
        for name in indexed:
            tests = self._tests(table, name, where[name], True, tenant)
            if tests is None:
                return None
            split.append(tests)
        combinations = 1
        for tests in split:
            combinations *= len(tests)
        if combinations > _ARMS:  # too many: one statement, which sorts its matches
            split = []
            indexed = ()
        for name in sorted(set(where) - set(indexed)):
            tests = self._tests(table, name, where[name], False, tenant)
            if tests is None:
                return None
            rest.extend(tests)
        return [[*arm, *rest] for arm in itertools.product(*split)]

    def lease(self, collection: str, query: Select, until: int) -> list[Row]:
        """Take the lowest due rows, set their order column to ``until`` and bump their
        versions (see :meth:`Backend.lease <csdomain.storage.backend.Backend.lease>`).

        The rows are chosen by the page statement of :meth:`select` and updated by key
        in the same write transaction: it holds SQLite's writer lock (``BEGIN
        IMMEDIATE``), so no other lease or save comes between.
        """
        if not self.in_transaction():
            with self.transaction():
                return self.lease(collection, query, until)
        table = self._table(collection)
        connection = self._writer(f"leasing {table.what} records")
        if not check_lease(collection, query, until, table.columns.get(query.order)):
            return []
        due = self.select(
            collection, Select(query.where, query.order, None, query.low, query.high, query.limit)
        )
        if not due:
            return []
        keys = [row.key for _, row in due]
        try:
            for part in chunks(keys, _CHUNK):
                connection.execute(
                    f"UPDATE {table.table} SET {query.order} = ?, version = version + 1 "
                    f"WHERE tenant = ? AND key IN ({_marks(len(part))})",
                    (until, self.tenant, *part),
                )
        except _DRIVER as exc:
            raise self._error(f"leasing {table.what} records", exc) from exc
        return [Row((row.key, row.version + 1, row.text)) for _, row in due]

    def count(self, collection: str, where: Mapping[str, tuple[Any, ...]]) -> int:
        """How many rows match ``where`` (as in :class:`Select`)."""
        table = self._table(collection)
        tests: list[tuple[str, list[Any]]] = [("r.tenant = ?", [self.tenant])]
        for name in sorted(where):
            found = self._tests(table, name, where[name], False)
            if found is None:
                return 0
            tests.extend(found)
        ((total,),) = self._fetch(
            f"counting {table.what} records",
            f"SELECT count(*) FROM {table.table} AS r WHERE {' AND '.join(t for t, _ in tests)}",
            [p for _, ps in tests for p in ps],
        )
        return int(total)

    # -- event streams ----------------------------------------------------------------

    def _events(self, collection: str) -> tuple[_Table, str]:
        table = self._table(collection)
        if not table.events:
            raise StorageError(
                f"collection {collection!r} keeps no event rows (declared without events=True)"
            )
        return table, table.events

    def append_events(self, collection: str, events: Sequence[tuple[str, int, str]]) -> None:
        """Insert ``(key, sequence, event text)`` rows; stored events are never replaced."""
        table, events_table = self._events(collection)
        connection = self._writer(f"appending {table.what} events")
        if not events:
            return
        sql = f"INSERT INTO {events_table} (tenant, key, sequence, document) VALUES (?, ?, ?, ?)"
        tenant = self.tenant
        try:
            with self._atomic(connection, len(events) > 1):
                try:
                    if len(events) == 1:
                        connection.execute(sql, (tenant, *events[0]))
                    else:
                        connection.executemany(sql, [(tenant, *event) for event in events])
                except sqlite3.IntegrityError as exc:
                    if not _duplicate(exc):
                        raise
                    if len(events) > 1:  # undo the rows inserted before the failing one
                        connection.execute("ROLLBACK TO csdomain_write")
                    raise self._event_conflict(connection, table, events) from exc
        except _DRIVER as exc:
            raise self._error(f"appending {table.what} events", exc) from exc

    def _event_conflict(
        self, connection: sqlite3.Connection, table: _Table, events: Sequence[tuple[str, int, str]]
    ) -> ConflictError:
        seen: set[tuple[str, int]] = set()
        for key, sequence, _ in events:
            repeated = (key, sequence) in seen
            seen.add((key, sequence))
            stored = connection.execute(
                f"SELECT 1 FROM {table.events} WHERE tenant = ? AND key = ? AND sequence = ?",
                (self.tenant, key, sequence),
            ).fetchone()
            if repeated or stored is not None:
                return ConflictError(
                    table.what,
                    key,
                    None,
                    None,
                    f"its event {sequence} is stored already; stored events are never replaced",
                )
        return ConflictError(table.what, events[0][0], None, None, "an event is stored already")

    def read_events(
        self, collection: str, streams: Sequence[tuple[str, int]]
    ) -> dict[str, list[str]]:
        """For each ``(key, count)``, the texts of events ``0 .. count - 1`` in order."""
        table, events_table = self._events(collection)
        counts = dict(streams)  # a key asked twice: its last count, as in the memory adapter
        result: dict[str, list[str]] = {key: [] for key in counts}
        wanted = [key for key, count in counts.items() if count > 0]
        doing = f"reading {table.what} events"
        if len(wanted) == 1:
            (key,) = wanted
            found = self._fetch(
                doing,
                f"SELECT key, sequence, document FROM {events_table} "
                "WHERE tenant = ? AND key = ? AND sequence < ? ORDER BY sequence",
                (self.tenant, key, counts[key]),
            )
        else:
            found = []
            for part in chunks(wanted, _CHUNK):
                found.extend(
                    self._fetch(
                        doing,
                        f"SELECT key, sequence, document FROM {events_table} "
                        f"WHERE tenant = ? AND key IN ({_marks(len(part))}) "
                        "ORDER BY key, sequence",
                        (self.tenant, *part),
                    )
                )
        for key, sequence, text in found:  # in sequence order; gaps are left to the caller
            if 0 <= sequence < counts[key]:
                result[key].append(text)
        return result

    def rewrite_events(self, collection: str, key: str, texts: Mapping[int, str]) -> None:
        """Replace the text of stored events by sequence: erasure only."""
        table, events_table = self._events(collection)
        connection = self._writer(f"rewriting {table.what} {key!r} events")
        if not texts:
            return
        try:  # as any UPDATE, a sequence not stored changes nothing
            with self._atomic(connection, len(texts) > 1):
                connection.executemany(
                    f"UPDATE {events_table} SET document = ? "
                    "WHERE tenant = ? AND key = ? AND sequence = ?",
                    [(text, self.tenant, key, sequence) for sequence, text in texts.items()],
                )
        except _DRIVER as exc:
            raise self._error(f"rewriting {table.what} {key!r} events", exc) from exc
        self._holder().erased = True

    # -- outbox -----------------------------------------------------------------------

    @staticmethod
    def _outbox_rows(found: Sequence[Sequence[Any]]) -> list[OutboxRow]:
        return [OutboxRow(*row) for row in found]

    def outbox_append(self, messages: Sequence[tuple[str, str, int, str, str]]) -> None:
        """Append ``(stream, key, sequence, event type, event text)`` messages, in order."""
        connection = self._writer("writing to the outbox")
        try:
            connection.executemany(
                "INSERT INTO outbox (tenant, stream, key, sequence, event_type, document) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(self.tenant, *message) for message in messages],
            )
        except _DRIVER as exc:
            raise self._error("writing to the outbox", exc) from exc

    def outbox_pending(self, limit: int) -> list[OutboxRow]:
        """Unpublished, not failed messages, oldest first, leased or not."""
        return self._outbox_rows(
            self._fetch(
                "reading the outbox",
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox "
                "WHERE tenant = ? AND state = 'pending' ORDER BY id LIMIT ?",
                (self.tenant, max(limit, 0)),
            )
        )

    def outbox_claim(self, relay: str, limit: int, now: int, lease: int) -> list[OutboxRow]:
        """Lease up to ``limit`` pending messages not leased at ``now`` to ``relay``."""
        connection = self._writer("claiming outbox messages")
        choose = (
            "SELECT id FROM outbox WHERE tenant = ? AND state = 'pending' "
            "AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?"
        )
        lease_set = "lease_owner = ?, lease_until = ?, attempts = attempts + 1"
        until = now + lease
        try:
            if _RETURNING:  # the transaction holds the writer lock: nobody claims between
                found = connection.execute(
                    f"UPDATE outbox SET {lease_set} WHERE id IN ({choose}) "
                    f"RETURNING {_OUTBOX_COLUMNS}",
                    (relay, until, self.tenant, now, max(limit, 0)),
                ).fetchall()
            else:
                ids = [i for (i,) in connection.execute(choose, (self.tenant, now, max(limit, 0)))]
                found = []
                for part in chunks(ids, _CHUNK):
                    marks = _marks(len(part))
                    connection.execute(
                        f"UPDATE outbox SET {lease_set} WHERE id IN ({marks})",
                        (relay, until, *part),
                    )
                    found.extend(
                        connection.execute(
                            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id IN ({marks})", part
                        ).fetchall()
                    )
        except _DRIVER as exc:
            raise self._error("claiming outbox messages", exc) from exc
        return sorted(self._outbox_rows(found))

    def _settle(
        self, doing: str, sets: str, relay: str | None, ids: Sequence[int], *extra: Any
    ) -> int:
        """Update the pending messages among ``ids`` leased to ``relay`` (any when None)."""
        connection = self._writer(doing)
        owner = "" if relay is None else " AND lease_owner = ?"
        changed = 0
        try:
            for part in chunks(list(dict.fromkeys(ids)), _CHUNK):
                cursor = connection.execute(
                    f"UPDATE outbox SET {sets} WHERE tenant = ? AND state = 'pending'{owner} "
                    f"AND id IN ({_marks(len(part))})",
                    (*extra, self.tenant, *([] if relay is None else [relay]), *part),
                )
                changed += cursor.rowcount
        except _DRIVER as exc:
            raise self._error(doing, exc) from exc
        return changed

    def outbox_ack(self, relay: str | None, ids: Sequence[int]) -> int:
        """Mark messages published, only those leased to ``relay`` (any when None)."""
        return self._settle(
            "marking outbox messages published",
            "state = 'published', lease_until = NULL",
            relay,
            ids,
        )

    def outbox_fail(self, relay: str | None, ids: Sequence[int], reason: str) -> int:
        """Set messages aside as failed with ``reason`` (same rule as :meth:`outbox_ack`)."""
        return self._settle(
            "setting outbox messages aside",
            "state = 'failed', lease_until = NULL, failure = ?",
            relay,
            ids,
            reason,
        )

    def outbox_failed(self, after: int | None, limit: int) -> list[OutboxRow]:
        """Failed messages (the dead letters) with ids above ``after``, by id."""
        return self._outbox_rows(
            self._fetch(
                "reading the failed outbox messages",
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox "
                "WHERE tenant = ? AND state = 'failed' AND id > ? ORDER BY id LIMIT ?",
                (self.tenant, -1 if after is None else after, max(limit, 0)),
            )
        )

    def outbox_retry(self, ids: Sequence[int]) -> int:
        """Return failed messages to the pending ones; returns how many."""
        connection = self._writer("retrying failed outbox messages")
        changed = 0
        try:
            for part in chunks(list(dict.fromkeys(ids)), _CHUNK):
                cursor = connection.execute(
                    "UPDATE outbox SET state = 'pending', lease_owner = NULL, lease_until = NULL "
                    f"WHERE tenant = ? AND state = 'failed' AND id IN ({_marks(len(part))})",
                    (self.tenant, *part),
                )
                changed += cursor.rowcount
        except _DRIVER as exc:
            raise self._error("retrying failed outbox messages", exc) from exc
        return changed

    def outbox_redact(self, stream: str, key: str, texts: Mapping[int, str]) -> None:
        """Erasure: delete the published messages of record ``key``; replace the text of
        its unpublished ones by sequence with ``texts``, deleting those not in it."""
        connection = self._writer("redacting outbox messages")
        tenant = self.tenant
        try:
            with self._atomic(connection):
                connection.execute(
                    "DELETE FROM outbox WHERE tenant = ? AND state = 'published' "
                    "AND stream = ? AND key = ?",
                    (tenant, stream, key),
                )
                kept = connection.execute(
                    "SELECT id, sequence FROM outbox WHERE tenant = ? AND state <> 'published' "
                    "AND stream = ? AND key = ?",
                    (tenant, stream, key),
                ).fetchall()
                connection.executemany(
                    "UPDATE outbox SET document = ? WHERE id = ?",
                    [(texts[sequence], id) for id, sequence in kept if sequence in texts],
                )
                connection.executemany(
                    "DELETE FROM outbox WHERE id = ?",
                    [(id,) for id, sequence in kept if sequence not in texts],
                )
        except _DRIVER as exc:
            raise self._error("redacting outbox messages", exc) from exc
        self._holder().erased = True

    # -- version 1 data ---------------------------------------------------------------

    def _legacy_tables(self) -> set[str]:
        return {
            name
            for (name,) in self._fetch(
                "looking for version 1 rows",
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name IN ('legacy_records', 'legacy_tickets')",
                (),
            )
        }

    def legacy_rows(self, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` version 1 rows left to move: ``(collection, key, version,
        text)``, and for a ticket its indexed ``next_deadline`` (microseconds or None)."""
        present = self._legacy_tables()
        rows: list[tuple[Any, ...]] = []
        if "legacy_records" in present and limit > 0:
            rows.extend(
                (collection, key, int(version), text)
                for collection, key, version, text in self._fetch(
                    "reading version 1 rows",
                    "SELECT collection, key, version, document FROM legacy_records "
                    "WHERE tenant = ? ORDER BY collection, key LIMIT ?",
                    (self.tenant, limit),
                )
            )
        if "legacy_tickets" in present and len(rows) < limit:
            rows.extend(
                ("tickets", key, int(version), text, deadline)
                for key, version, text, deadline in self._fetch(
                    "reading version 1 rows",
                    "SELECT key, version, document, next_deadline FROM legacy_tickets "
                    "WHERE tenant = ? ORDER BY key LIMIT ?",
                    (self.tenant, limit - len(rows)),
                )
            )
        return rows

    def drop_legacy(self, rows: Sequence[tuple[str, str]]) -> None:
        """Forget these ``(collection, key)`` version 1 rows, moved by the store; the
        version 1 tables go once no tenant has rows left in them."""
        connection = self._writer("forgetting moved version 1 rows")
        present = self._legacy_tables()
        if not present:
            return
        tenant = self.tenant
        try:
            if "legacy_tickets" in present:
                connection.executemany(
                    "DELETE FROM legacy_tickets WHERE tenant = ? AND key = ?",
                    [(tenant, key) for collection, key in rows if collection == "tickets"],
                )
            if "legacy_records" in present:
                connection.executemany(
                    "DELETE FROM legacy_records WHERE tenant = ? AND collection = ? AND key = ?",
                    [(tenant, c, key) for c, key in rows if c != "tickets"],
                )
            self._drop_empty_legacy(connection)
        except _DRIVER as exc:
            raise self._error("forgetting moved version 1 rows", exc) from exc
