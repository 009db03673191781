"""The in-memory adapter: the same semantics as the databases, in Python dicts.

For tests and prototypes. ``open_store("memory:", tenant=...)`` gets a private
database; ``open_store("memory:NAME", tenant=...)`` shares the database named
``NAME`` with every store of the process opened with that name (one per
tenant, as with a real database). Declared collections, unique columns,
queries, event rows, the leased outbox and all-or-nothing transactions behave
as in SQLite and PostgreSQL, and so do the errors: the same mistake raises the
same error type here as there (a key taken: ``ConflictError`` with the stored
version; a closed store, a nested transaction, an undeclared collection:
``StorageError``). A database never fails to be reached, locked or migrated,
so the other ``StorageError`` subclasses do not occur, and it never holds
version 1 rows to move.

Threading: a database has one lock; a transaction holds it from start to end,
so transactions run one at a time (serializable), and a single read outside a
transaction is a transaction of its own. Writes need a transaction. A
rollback replays the transaction's undo log, so it restores exactly what that
transaction changed (another tenant's transaction opened meanwhile in the
same thread keeps its commits), and outbox ids, once handed out, are never
handed out again. A transaction of a tenant whose transaction is already open
on the same database in the same thread (through another store) is refused: a
real database would wait for itself. Declarations take effect at once, even
inside a transaction.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from csdomain.errors import ConflictError, NotFoundError, ValidationError
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
)

__all__ = ["MemoryBackend", "MemoryDatabase", "open_backend"]

_INT64 = range(-(2**63), 2**63)
_EMPTY: frozenset[Any] = frozenset()
_ARTICLE = {
    ColumnType.TEXT: "a text",
    ColumnType.INTEGER: "a 64-bit integer",
    ColumnType.INSTANT: "an instant (microseconds since the epoch)",
    ColumnType.BOOLEAN: "a boolean",
}


class _Record(NamedTuple):
    """A stored row; never changed in place (undo entries keep the old one)."""

    version: int
    text: str
    columns: dict[str, Any]  # single value, or a frozenset for a multiple column


class _Part:
    """One tenant's rows of one collection, with its unique values and event rows."""

    __slots__ = ("events", "rows", "unique")

    def __init__(self) -> None:
        self.rows: dict[str, _Record] = {}
        self.unique: dict[str, dict[Any, str]] = {}  # column -> value -> key holding it
        self.events: dict[str, dict[int, str]] = {}  # key -> sequence -> text


class _Table:
    """A declared collection: its columns (every one ever declared) and its rows."""

    __slots__ = ("collection", "columns", "events", "parts", "stale", "unique")

    def __init__(self, collection: Collection[Any]) -> None:
        self.collection = collection
        self.columns: dict[str, Column] = {}
        self.unique: tuple[Column, ...] = ()
        self.events = False
        self.parts: dict[str, _Part] = {}
        #: Tenants whose rows were stored before columns were added, until they declare.
        self.stale: set[str] = set()
        self.add(collection)

    def add(self, collection: Collection[Any]) -> bool:
        # A column keeps its first definition, as a stored table keeps its layout.
        added = [c for c in collection.columns if c.name not in self.columns]
        self.collection = collection
        self.columns.update((c.name, c) for c in added)
        self.unique = tuple(c for c in self.columns.values() if c.unique)
        self.events = self.events or collection.events
        return bool(added)

    def part(self, tenant: str) -> _Part:
        part = self.parts.get(tenant)
        if part is None:
            part = self.parts[tenant] = _Part()
        return part


class _Message(NamedTuple):
    """An outbox message as stored; never changed in place."""

    id: int
    stream: str
    key: str
    sequence: int
    type: str
    text: str
    state: str = "pending"  # "pending" | "published" | "failed"
    lease_owner: str | None = None
    lease_until: int | None = None
    attempts: int = 0
    failure: str | None = None

    def row(self) -> OutboxRow:
        return OutboxRow(
            self.id,
            self.stream,
            self.key,
            self.sequence,
            self.type,
            self.text,
            self.attempts,
            self.failure,
        )


class _Outbox:
    """One tenant's outbox messages, with the ids of the pending and failed ones."""

    __slots__ = ("failed", "messages", "pending")

    def __init__(self) -> None:
        self.messages: dict[int, _Message] = {}
        self.pending: set[int] = set()
        self.failed: set[int] = set()


# An undo entry: a function and its arguments, called in reverse order on rollback.
_Undo = tuple[Callable[..., None], tuple[Any, ...]]


class MemoryDatabase:
    """The shared state of in-memory stores: every tenant's collections and outbox."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tables: dict[str, _Table] = {}
        self.outboxes: dict[str, _Outbox] = {}
        self.next_outbox_id = 1
        #: The tenants with a transaction open (all in the thread holding the lock).
        self.open_tenants: list[str] = []


_NAMED: dict[str, MemoryDatabase] = {}
_NAMED_LOCK = threading.Lock()


def open_backend(url: str, tenant: str, *, create: bool = False) -> MemoryBackend:
    """The backend for ``memory:`` (private) or ``memory:NAME`` (shared by name).

    An in-memory database always exists, so ``create`` changes nothing.
    """
    name = url.split(":", 1)[1] if ":" in url else ""
    if not name:
        return MemoryBackend(MemoryDatabase(), tenant)
    with _NAMED_LOCK:
        database = _NAMED.setdefault(name, MemoryDatabase())
    return MemoryBackend(database, tenant, name)


# -- rows and their unique values ------------------------------------------------


def _unique_values(table: _Table, record: _Record) -> Iterator[tuple[str, Any]]:
    for column in table.unique:
        value = record.columns.get(column.name)
        if column.multiple:
            for item in value or ():
                yield column.name, item
        elif value is not None:  # NULLs never collide
            yield column.name, value


def _apply(table: _Table, part: _Part, key: str, old: _Record | None, new: _Record | None) -> None:
    """Replace row ``key`` (``old``, as stored) by ``new`` (None: absent), index included."""
    if old is not None:
        for name, value in _unique_values(table, old):
            held = part.unique[name]
            if held.get(value) == key:
                del held[value]
    if new is None:
        del part.rows[key]
    else:
        part.rows[key] = new
        for name, value in _unique_values(table, new):
            part.unique.setdefault(name, {})[value] = key


def _put_events(part: _Part, key: str, stream: dict[int, str] | None) -> None:
    if stream is None:
        part.events.pop(key, None)
    else:
        part.events[key] = stream


def _drop_event(part: _Part, key: str, sequence: int) -> None:
    stream = part.events[key]
    del stream[sequence]
    if not stream:
        del part.events[key]


def _set_event(part: _Part, key: str, sequence: int, text: str) -> None:
    part.events.setdefault(key, {})[sequence] = text


def _put_message(box: _Outbox, old: _Message | None, new: _Message | None) -> None:
    """Replace message ``old`` by ``new`` (either None: absent), state sets included."""
    if old is not None:
        box.pending.discard(old.id)
        box.failed.discard(old.id)
        if new is None:
            del box.messages[old.id]
    if new is not None:
        box.messages[new.id] = new
        if new.state == "pending":
            box.pending.add(new.id)
        elif new.state == "failed":
            box.failed.add(new.id)


def _leased_at(message: _Message, now: int) -> bool:
    return message.lease_until is not None and message.lease_until > now


# -- query values ----------------------------------------------------------------


def _fits(column: Column | None, value: Any) -> bool:
    """Whether ``value`` is a non-NULL value of the order column (None: the key)."""
    kind = ColumnType.TEXT if column is None else column.type
    if kind is ColumnType.TEXT:
        return isinstance(value, str)
    if kind is ColumnType.BOOLEAN:
        return isinstance(value, bool) or (type(value) is int and value in (0, 1))
    return type(value) is int and value in _INT64


class MemoryBackend:
    """A tenant's view of a :class:`MemoryDatabase` (see the module documentation)."""

    def __init__(self, database: MemoryDatabase, tenant: str, name: str = "") -> None:
        self.tenant = tenant
        self._db = database
        self._local = threading.local()
        self._closed = False
        self._name = name

    def __repr__(self) -> str:
        where = f"memory:{self._name}" if self._name else "memory:"
        return f"<MemoryBackend {where} tenant={self.tenant!r}>"

    # -- transactions -----------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("this store of the in-memory database is closed")

    def in_transaction(self) -> bool:
        """True when the calling thread has a transaction open on this backend."""
        return getattr(self._local, "undo", None) is not None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the database's lock; on an exception, undo this transaction's writes."""
        self._check_open()
        if self.in_transaction():
            raise StorageError(
                "a transaction is already open on this store in this thread; "
                "transactions do not nest"
            )
        db = self._db
        with db.lock:
            if self.tenant in db.open_tenants:
                raise StorageError(
                    f"a transaction of tenant {self.tenant!r} is already open on this "
                    "in-memory database in this thread (through another store); "
                    "transactions do not nest"
                )
            undo: list[_Undo] = []
            self._local.undo = undo
            db.open_tenants.append(self.tenant)
            try:
                yield
            except BaseException:
                for restore, args in reversed(undo):
                    restore(*args)
                raise
            finally:
                self._local.undo = None
                db.open_tenants.remove(self.tenant)

    def _writing(self, doing: str) -> list[_Undo]:
        """The open transaction's undo log; StorageError outside a transaction."""
        self._check_open()
        undo: list[_Undo] | None = getattr(self._local, "undo", None)
        if undo is None:
            raise StorageError(f"{doing}: writes need a transaction (use store.transaction())")
        return undo

    # -- declarations -------------------------------------------------------------

    def declare(self, collection: Collection[Any]) -> bool:
        """Make ``collection``'s table, or add the columns it declares anew; True, once
        per tenant, when this tenant has rows stored before the columns were added."""
        self._check_open()
        with self._db.lock:
            table = self._db.tables.get(collection.name)
            if table is None:
                self._db.tables[collection.name] = _Table(collection)
                return False
            if table.add(collection):
                table.stale = {tenant for tenant, part in table.parts.items() if part.rows}
            if self.tenant in table.stale:  # each tenant's store recomputes its own rows
                table.stale.discard(self.tenant)
                return True
            return False

    def _table(self, collection: str) -> _Table:
        table = self._db.tables.get(collection)
        if table is None:
            raise StorageError(
                f"collection {collection!r} is not declared in this in-memory database; "
                f"declared: {sorted(self._db.tables)}"
            )
        return table

    def _events(self, collection: str) -> _Table:
        table = self._table(collection)
        if not table.events:
            raise StorageError(
                f"collection {collection!r} keeps no event rows (declared without events=True)"
            )
        return table

    def _record(self, table: _Table, version: int, text: str, columns: ColumnValues) -> _Record:
        values: dict[str, Any] = {}
        for name, column in table.columns.items():
            value = columns.get(name)
            if column.multiple:
                if isinstance(value, (str, bytes)) or (
                    value is not None and not isinstance(value, Iterable)
                ):
                    raise StorageError(
                        f"{table.collection.what} column {name!r} holds several values: "
                        f"expected a tuple or set of values, got {value!r}"
                    )
                value = _EMPTY if value is None else frozenset(value)
                if None in value:
                    raise StorageError(
                        f"{table.collection.what} column {name!r}: a multiple column's "
                        f"values cannot be None, got {sorted(value, key=repr)!r}"
                    )
            values[name] = value
        unknown = [name for name in columns if name not in table.columns]
        if unknown:
            raise StorageError(
                f"collection {table.collection.name!r} has no column {unknown[0]!r}; "
                f"columns: {list(table.columns)}"
            )
        return _Record(version, text, values)

    def _clash(
        self,
        table: _Table,
        part: _Part,
        key: str,
        record: _Record,
        claimed: dict[tuple[str, Any], str] | None = None,
    ) -> None:
        """ConflictError when a unique value of ``record`` is held by another key."""
        for name, value in _unique_values(table, record):
            holder = part.unique.get(name, {}).get(value)
            if holder is None and claimed is not None:
                holder = claimed.get((name, value))
            if holder is not None and holder != key:
                what = table.collection.what
                raise ConflictError(
                    what,
                    key,
                    None,
                    None,
                    f"its {name} value is held by another {what} ({holder})",
                )
            if claimed is not None:
                claimed[(name, value)] = key

    def _missing(self, table: _Table, key: str) -> NotFoundError:
        what = table.collection.what
        return NotFoundError(what, key, f"no {what} with this id in tenant {self.tenant!r}")

    # -- documents --------------------------------------------------------------

    def get(self, collection: str, key: str) -> Row | None:
        """The row with ``key``, or None."""
        self._check_open()
        with self._db.lock:
            part = self._table(collection).parts.get(self.tenant)
            found = None if part is None else part.rows.get(key)
        return None if found is None else Row((key, found.version, found.text))

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Row]:
        """The rows with these keys that exist (each once), in the order asked."""
        self._check_open()
        rows = []
        with self._db.lock:
            part = self._table(collection).parts.get(self.tenant)
            if part is None:
                return []
            for key in dict.fromkeys(keys):
                found = part.rows.get(key)
                if found is not None:
                    rows.append(Row((key, found.version, found.text)))
        return rows

    def insert_many(self, collection: str, rows: Sequence[NewRow]) -> None:
        """Insert version 1 of every row, or none of them (checked before any is written)."""
        undo = self._writing(f"inserting into {collection!r}")
        table = self._table(collection)
        part = table.part(self.tenant)
        what = table.collection.what
        claimed: dict[tuple[str, Any], str] = {}
        ready: dict[str, _Record] = {}
        for key, text, columns in rows:
            found = part.rows.get(key)
            if found is not None or key in ready:
                stored = 1 if found is None else found.version
                raise ConflictError(what, key, None, stored, f"in tenant {self.tenant!r}")
            record = self._record(table, 1, text, columns)
            self._clash(table, part, key, record, claimed)
            ready[key] = record
        for key, record in ready.items():
            _apply(table, part, key, None, record)
            undo.append((_apply, (table, part, key, record, None)))

    def _stored(self, table: _Table, key: str) -> tuple[_Part, _Record]:
        part = table.parts.get(self.tenant)
        found = None if part is None else part.rows.get(key)
        if part is None or found is None:
            raise self._missing(table, key)
        return part, found

    def _replace(
        self, undo: list[_Undo], table: _Table, part: _Part, key: str, old: _Record, new: _Record
    ) -> None:
        self._clash(table, part, key, new)
        _apply(table, part, key, old, new)
        undo.append((_apply, (table, part, key, new, old)))

    def update(
        self,
        collection: str,
        key: str,
        expected_version: int,
        text: str,
        columns: ColumnValues,
    ) -> None:
        """Replace the row if its version is ``expected_version`` (then +1)."""
        undo = self._writing(f"updating {collection!r}")
        table = self._table(collection)
        part, found = self._stored(table, key)
        if found.version != expected_version:
            raise ConflictError(
                table.collection.what,
                key,
                expected_version,
                found.version,
                "reload it and apply the change again",
            )
        record = self._record(table, expected_version + 1, text, columns)
        self._replace(undo, table, part, key, found, record)

    def set_columns(self, collection: str, key: str, columns: ColumnValues) -> None:
        """Replace a row's column values, keeping its document and version."""
        undo = self._writing(f"setting columns of {collection!r}")
        table = self._table(collection)
        part, found = self._stored(table, key)
        record = self._record(table, found.version, found.text, columns)
        self._replace(undo, table, part, key, found, record)

    def rewrite(self, collection: str, key: str, text: str) -> None:
        """Replace a row's document keeping its version and columns (erasure)."""
        undo = self._writing(f"rewriting {collection!r}")
        table = self._table(collection)
        part, found = self._stored(table, key)
        record = found._replace(text=text)
        _apply(table, part, key, found, record)
        undo.append((_apply, (table, part, key, record, found)))

    def delete(self, collection: str, key: str, expected_version: int) -> None:
        """Delete the row and its events if its version is ``expected_version``."""
        undo = self._writing(f"deleting from {collection!r}")
        table = self._table(collection)
        part, found = self._stored(table, key)
        if found.version != expected_version:
            raise ConflictError(
                table.collection.what,
                key,
                expected_version,
                found.version,
                "reload it and apply the change again",
            )
        _apply(table, part, key, found, None)
        undo.append((_apply, (table, part, key, None, found)))
        stream = part.events.pop(key, None)
        if stream is not None:  # moved, not copied: the undo entry puts it back
            undo.append((_put_events, (part, key, stream)))

    # -- queries ------------------------------------------------------------------

    def _matcher(
        self, table: _Table, where: Mapping[str, tuple[Any, ...]]
    ) -> Callable[[_Record], bool]:
        tests: list[tuple[str, bool, frozenset[Any]]] = []
        for name, values in where.items():
            given = check_filter(table.collection.name, name, values, table.columns)
            tests.append((name, table.columns[name].multiple, frozenset(given)))

        def matches(record: _Record) -> bool:
            columns = record.columns
            for name, multiple, allowed in tests:
                if multiple:
                    if allowed.isdisjoint(columns.get(name, _EMPTY)):
                        return False
                elif columns.get(name) not in allowed:
                    return False
            return True

        return matches

    def _order_column(self, table: _Table, order: str) -> Column | None:
        if order == "key":
            return None
        column = table.columns.get(order)
        if column is None or column.multiple:
            single = [c.name for c in table.columns.values() if not c.multiple]
            raise StorageError(
                f"collection {table.collection.name!r} cannot be ordered by {order!r}; "
                f"expected 'key' or a single-valued column: {single}"
            )
        return column

    def select(self, collection: str, query: Select) -> list[tuple[Any, Row]]:
        """The rows of one page (see :class:`~csdomain.storage.backend.Select`)."""
        page = self._page(collection, query, None)
        return [(value, Row((key, version, record.text))) for value, key, version, record in page]

    def select_columns(
        self, collection: str, query: Select, columns: tuple[str, ...]
    ) -> list[tuple[Any, str, int, tuple[Any, ...]]]:
        """The rows of one page as stored column values (see
        :meth:`~csdomain.storage.backend.ProjectingBackend.select_columns`)."""
        page = self._page(collection, query, columns)
        # A record stored before a column was declared holds no value for it (None).
        return [
            (value, key, version, tuple(map(record.columns.get, columns)))
            for value, key, version, record in page
        ]

    def _page(
        self, collection: str, query: Select, columns: tuple[str, ...] | None
    ) -> list[tuple[Any, str, int, _Record]]:
        """The page's ``(order value, key, version, record)``; ``columns``, when given,
        are checked as what the caller will read of each record."""
        self._check_open()
        with self._db.lock:
            table = self._table(collection)
            if columns is not None:
                check_projection(collection, columns, table.columns)
            matches = self._matcher(table, query.where)
            column = self._order_column(table, query.order)
            after = query.after
            if after is not None and not (
                isinstance(after, (tuple, list))
                and len(after) == 2
                and isinstance(after[1], str)
                and _fits(column, after[0])
                # Ordered by key, the order value is the key itself.
                and (column is not None or after[0] == after[1])
            ):
                raise ValidationError.single(
                    "cursor",
                    "",
                    f"position {after!r} is not a cursor this store returned for a query of "
                    f"{collection!r} ordered by {query.order!r}; pass next_cursor as given",
                )
            low, high = query.low, query.high
            for bound, value in (("low", low), ("high", high)):
                if value is not None and not _fits(column, value):
                    kind = "a text" if column is None else _ARTICLE[column.type]
                    raise ValidationError.single(
                        f"query of {collection!r} ordered by {query.order!r}",
                        bound,
                        f"expected {kind} value or None, got {value!r}",
                    )
            position = None if after is None else (after[0], after[1])
            part = table.parts.get(self.tenant)
            rows = {} if part is None else part.rows
            found: list[tuple[Any, str, int, _Record]] = []
            for key, record in rows.items():
                if not matches(record):
                    continue
                value = key if column is None else record.columns.get(column.name)
                if (
                    value is None
                    or (low is not None and value < low)
                    or (high is not None and not value < high)
                    or (position is not None and (value, key) <= position)
                ):
                    continue
                found.append((value, key, record.version, record))
        # (order value, key) pairs are unique, so the tuples never compare further.
        if query.limit < len(found):
            return heapq.nsmallest(max(query.limit, 0), found)
        return sorted(found)

    def lease(self, collection: str, query: Select, until: int) -> list[Row]:
        """Take the lowest due rows, set their order column to ``until`` and bump their
        versions (see :meth:`Backend.lease <csdomain.storage.backend.Backend.lease>`);
        the database's lock makes leases run one at a time."""
        self._check_open()
        if not self.in_transaction():
            with self.transaction():
                return self.lease(collection, query, until)
        undo = self._writing(f"leasing {collection!r}")
        table = self._table(collection)
        matches = self._matcher(table, query.where)
        if not check_lease(collection, query, until, table.columns.get(query.order)):
            return []
        part = table.parts.get(self.tenant)
        if part is None:
            return []
        name, low, high = query.order, query.low, query.high
        due: list[tuple[Any, str]] = []
        for key, record in part.rows.items():
            value = record.columns.get(name)
            if (
                value is not None
                and value < high
                and (low is None or value >= low)
                and matches(record)
            ):
                due.append((value, key))
        taken: list[Row] = []
        for _value, key in heapq.nsmallest(query.limit, due):
            old = part.rows[key]
            new = _Record(old.version + 1, old.text, {**old.columns, name: until})
            _apply(table, part, key, old, new)  # the column is not unique: nothing clashes
            undo.append((_apply, (table, part, key, new, old)))
            taken.append(Row((key, new.version, new.text)))
        return taken

    def count(self, collection: str, where: Mapping[str, tuple[Any, ...]]) -> int:
        """How many rows match ``where``."""
        self._check_open()
        with self._db.lock:
            table = self._table(collection)
            matches = self._matcher(table, where)
            part = table.parts.get(self.tenant)
            return 0 if part is None else sum(1 for r in part.rows.values() if matches(r))

    # -- event streams ------------------------------------------------------------

    def append_events(self, collection: str, events: Sequence[tuple[str, int, str]]) -> None:
        """Insert event rows, or none when a ``(key, sequence)`` exists or repeats."""
        undo = self._writing(f"appending events to {collection!r}")
        table = self._events(collection)
        part = table.part(self.tenant)
        seen: set[tuple[str, int]] = set()
        for key, sequence, _text in events:
            stream = part.events.get(key)
            if (stream is not None and sequence in stream) or (key, sequence) in seen:
                raise ConflictError(
                    table.collection.what,
                    key,
                    None,
                    None,
                    f"its event {sequence} is stored already; stored events are never replaced",
                )
            seen.add((key, sequence))
        for key, sequence, text in events:
            _set_event(part, key, sequence, text)
            undo.append((_drop_event, (part, key, sequence)))

    def read_events(
        self, collection: str, streams: Sequence[tuple[str, int]]
    ) -> dict[str, list[str]]:
        """For each ``(key, count)``, the texts of the stored events ``0 .. count - 1``."""
        self._check_open()
        found: dict[str, list[str]] = {}
        with self._db.lock:
            part = self._events(collection).parts.get(self.tenant)
            for key, count in streams:
                stream = None if part is None else part.events.get(key)
                if not stream:
                    found[key] = []
                elif count <= len(stream):
                    found[key] = [stream[s] for s in range(count) if s in stream]
                else:
                    found[key] = [stream[s] for s in sorted(stream) if 0 <= s < count]
        return found

    def rewrite_events(self, collection: str, key: str, texts: Mapping[int, str]) -> None:
        """Replace the text of the stored events of ``key`` by sequence (erasure)."""
        undo = self._writing(f"rewriting events of {collection!r}")
        part = self._events(collection).part(self.tenant)
        stream = part.events.get(key, {})
        for sequence, text in texts.items():
            old = stream.get(sequence)
            if old is not None:  # as an UPDATE, a sequence not stored changes nothing
                stream[sequence] = text
                undo.append((_set_event, (part, key, sequence, old)))

    # -- outbox -------------------------------------------------------------------

    def _outbox(self) -> _Outbox:
        box = self._db.outboxes.get(self.tenant)
        if box is None:
            box = self._db.outboxes[self.tenant] = _Outbox()
        return box

    def _change(self, undo: list[_Undo], box: _Outbox, old: _Message, new: _Message | None) -> None:
        _put_message(box, old, new)
        undo.append((_put_message, (box, new, old)))

    def outbox_append(self, messages: Sequence[tuple[str, str, int, str, str]]) -> None:
        """Append messages with new, increasing ids (never reused, even after a rollback)."""
        undo = self._writing("writing to the outbox")
        box = self._outbox()
        db = self._db
        for stream, key, sequence, type_name, text in messages:
            message = _Message(db.next_outbox_id, stream, key, sequence, type_name, text)
            db.next_outbox_id += 1
            _put_message(box, None, message)
            undo.append((_put_message, (box, message, None)))

    def outbox_pending(self, limit: int) -> list[OutboxRow]:
        """Unpublished, not failed messages, oldest first, leased or not."""
        self._check_open()
        with self._db.lock:
            box = self._db.outboxes.get(self.tenant)
            if box is None:
                return []
            ids = heapq.nsmallest(max(limit, 0), box.pending)
            return [box.messages[i].row() for i in ids]

    def outbox_claim(self, relay: str, limit: int, now: int, lease: int) -> list[OutboxRow]:
        """Lease the oldest pending messages not leased at ``now`` to ``relay``."""
        undo = self._writing("claiming outbox messages")
        box = self._outbox()
        messages = box.messages
        free = (i for i in box.pending if not _leased_at(messages[i], now))
        claimed = []
        for i in heapq.nsmallest(max(limit, 0), free):
            old = box.messages[i]
            new = old._replace(
                lease_owner=relay, lease_until=now + lease, attempts=old.attempts + 1
            )
            self._change(undo, box, old, new)
            claimed.append(new.row())
        return claimed

    def _leased(self, box: _Outbox, relay: str | None, ids: Sequence[int]) -> list[_Message]:
        held = []
        for i in dict.fromkeys(ids):
            if i in box.pending:
                message = box.messages[i]
                if relay is None or message.lease_owner == relay:
                    held.append(message)
        return held

    def outbox_ack(self, relay: str | None, ids: Sequence[int]) -> int:
        """Mark published the pending messages among ``ids`` leased to ``relay``."""
        undo = self._writing("marking outbox messages published")
        box = self._outbox()
        held = self._leased(box, relay, ids)
        for message in held:
            self._change(undo, box, message, message._replace(state="published"))
        return len(held)

    def outbox_fail(self, relay: str | None, ids: Sequence[int], reason: str) -> int:
        """Set aside as failed the pending messages among ``ids`` leased to ``relay``."""
        undo = self._writing("setting outbox messages aside")
        box = self._outbox()
        held = self._leased(box, relay, ids)
        for message in held:
            self._change(undo, box, message, message._replace(state="failed", failure=reason))
        return len(held)

    def outbox_failed(self, after: int | None, limit: int) -> list[OutboxRow]:
        """Failed messages with ids above ``after``, by id."""
        self._check_open()
        with self._db.lock:
            box = self._db.outboxes.get(self.tenant)
            if box is None:
                return []
            ids = (i for i in box.failed if after is None or i > after)
            return [box.messages[i].row() for i in heapq.nsmallest(max(limit, 0), ids)]

    def outbox_retry(self, ids: Sequence[int]) -> int:
        """Return failed messages among ``ids`` to the pending ones, lease cleared."""
        undo = self._writing("retrying outbox messages")
        box = self._outbox()
        retried = [box.messages[i] for i in dict.fromkeys(ids) if i in box.failed]
        for message in retried:
            new = message._replace(state="pending", lease_owner=None, lease_until=None)
            self._change(undo, box, message, new)
        return len(retried)

    def outbox_redact(self, stream: str, key: str, texts: Mapping[int, str]) -> None:
        """Delete the published messages of ``key``; rewrite or delete its unpublished ones."""
        undo = self._writing("redacting the outbox")
        box = self._outbox()
        mine = [m for m in box.messages.values() if m.stream == stream and m.key == key]
        for message in mine:
            text = texts.get(message.sequence)
            if message.state == "published" or text is None:
                self._change(undo, box, message, None)
            elif text != message.text:
                self._change(undo, box, message, message._replace(text=text))

    # -- version 1 data -----------------------------------------------------------

    def legacy_rows(self, limit: int) -> list[tuple[str, str, int, str]]:
        """Always ``[]``: an in-memory database never held version 1 rows."""
        self._check_open()
        return []

    def drop_legacy(self, rows: Sequence[tuple[str, str]]) -> None:
        """Nothing to forget (see :meth:`legacy_rows`)."""
        self._writing("dropping version 1 rows")

    def close(self) -> None:
        """Refuse further calls; the database itself lives while other stores use it."""
        self._closed = True
