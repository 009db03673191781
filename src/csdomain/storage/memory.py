"""The in-memory adapter: the same semantics as the databases, in a Python dict.

For tests and prototypes. ``open_store("memory:", tenant=...)`` gets a private
database; ``open_store("memory:NAME", tenant=...)`` shares the database named
``NAME`` with every store of the process opened with that name (one per
tenant, as with a real database). Conflicts, tenant isolation, the outbox and
all-or-nothing transactions behave as in SQLite and PostgreSQL, and so do the
errors: the same mistake raises the same error type here as there (a key taken:
``ConflictError`` with the stored version; a closed store or a nested
transaction: ``StorageError``). A database never fails to be reached, locked or
migrated, so the other ``StorageError`` subclasses do not occur.

Threading: a database has one lock; a transaction holds it from start to end,
so transactions run one at a time (serializable), and a single call outside a
transaction is a transaction of its own.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from csdomain.errors import ConflictError
from csdomain.storage.backend import Row, StorageError

__all__ = ["MemoryDatabase", "open_backend"]

_Key = tuple[str, str, str]  # tenant, collection, key


class MemoryDatabase:
    """The shared state of in-memory stores: rows of every tenant, contacts, outbox."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rows: dict[_Key, tuple[int, str, dict[str, Any]]] = {}
        self.contacts: dict[tuple[str, str], set[tuple[str, str]]] = {}  # (tenant, customer)
        self.outbox: list[tuple[int, str, str, int, str, str]] = []  # id, tenant, ticket, seq, ...
        self.published: set[int] = set()
        self.next_outbox_id = 1


_NAMED: dict[str, MemoryDatabase] = {}
_NAMED_LOCK = threading.Lock()


def open_backend(url: str, tenant: str) -> MemoryBackend:
    """The backend for ``memory:`` (private) or ``memory:NAME`` (shared by name)."""
    name = url.split(":", 1)[1]
    if not name:
        return MemoryBackend(MemoryDatabase(), tenant)
    with _NAMED_LOCK:
        database = _NAMED.setdefault(name, MemoryDatabase())
    return MemoryBackend(database, tenant, name)


class MemoryBackend:
    """A tenant's view of a :class:`MemoryDatabase`."""

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
        return getattr(self._local, "undo", None) is not None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._check_open()
        if self.in_transaction():
            raise StorageError(
                "a transaction is already open on this store in this thread; "
                "transactions do not nest"
            )
        with self._db.lock:
            undo: list[Any] = []
            self._local.undo = undo
            try:
                yield
            except BaseException:
                for restore in reversed(undo):
                    restore()
                raise
            finally:
                self._local.undo = None

    def _undo(self, restore: Any) -> None:
        undo = getattr(self._local, "undo", None)
        if undo is None:  # the repositories always write inside a transaction
            raise StorageError("writes need a transaction")
        undo.append(restore)

    def _set(self, key: _Key, value: tuple[int, str, dict[str, Any]] | None) -> None:
        rows = self._db.rows
        old = rows.get(key)
        self._undo(lambda: rows.__setitem__(key, old) if old else rows.pop(key, None))
        if value is None:
            rows.pop(key, None)
        else:
            rows[key] = value

    # -- rows -------------------------------------------------------------------

    def get(self, collection: str, key: str) -> Row | None:
        self._check_open()
        with self._db.lock:
            found = self._db.rows.get((self.tenant, collection, key))
        return None if found is None else Row((key, found[0], found[1]))

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Row]:
        self._check_open()
        rows = []
        with self._db.lock:
            for key in keys:
                found = self._db.rows.get((self.tenant, collection, key))
                if found is not None:
                    rows.append(Row((key, found[0], found[1])))
        return rows

    def insert(self, collection: str, key: str, text: str, columns: Mapping[str, Any]) -> None:
        full = (self.tenant, collection, key)
        found = self._db.rows.get(full)
        if found is not None:
            raise ConflictError(collection, key, None, found[0], f"in tenant {self.tenant!r}")
        self._set(full, (1, text, dict(columns)))

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
        full = (self.tenant, collection, key)
        found = self._db.rows.get(full)
        if found is None or found[0] != expected_version:
            return False
        self._set(full, (expected_version + 1, text, dict(columns)))
        return True

    def delete(self, collection: str, key: str, expected_version: int) -> bool:
        full = (self.tenant, collection, key)
        found = self._db.rows.get(full)
        if found is None or found[0] != expected_version:
            return False
        self._set(full, None)
        return True

    def _matching(
        self, collection: str, filters: Mapping[str, Sequence[Any]]
    ) -> Iterator[tuple[str, int, str, dict[str, Any]]]:
        for (tenant, coll, key), (version, text, columns) in self._db.rows.items():
            if (
                tenant == self.tenant
                and coll == collection
                and all(columns.get(name) in values for name, values in filters.items())
            ):
                yield key, version, text, columns

    def select(
        self,
        collection: str,
        filters: Mapping[str, Sequence[Any]],
        order: str,
        after: tuple[Any, str] | None,
        limit: int,
        below: Any = None,
    ) -> list[tuple[Any, Row]]:
        self._check_open()
        with self._db.lock:
            found = []
            for key, version, text, columns in self._matching(collection, filters):
                value = key if order == "key" else columns.get(order)
                if value is None or (below is not None and not value < below):
                    continue
                found.append(((value, key), Row((key, version, text))))
        found.sort(key=lambda item: item[0])
        start = 0 if after is None else bisect_right([k for k, _ in found], tuple(after))
        return [(k[0], row) for k, row in found[start : start + limit]]

    def count(self, collection: str, filters: Mapping[str, Sequence[Any]]) -> int:
        self._check_open()
        with self._db.lock:
            return sum(1 for _ in self._matching(collection, filters))

    # -- contacts ---------------------------------------------------------------

    def set_contacts(self, customer_id: str, contacts: Iterable[tuple[str, str]]) -> None:
        key = (self.tenant, customer_id)
        old = self._db.contacts.get(key)
        table = self._db.contacts
        self._undo(lambda: table.__setitem__(key, old) if old is not None else table.pop(key, None))
        table[key] = set(contacts)

    def find_contacts(self, address: str, channel: str | None) -> list[str]:
        self._check_open()
        with self._db.lock:
            return sorted(
                customer
                for (tenant, customer), pairs in self._db.contacts.items()
                if tenant == self.tenant
                and any(a == address and (channel is None or c == channel) for c, a in pairs)
            )

    # -- outbox -----------------------------------------------------------------

    def outbox_append(self, messages: Sequence[tuple[str, int, str, str]]) -> None:
        db = self._db
        size, next_id = len(db.outbox), db.next_outbox_id

        def restore() -> None:
            del db.outbox[size:]
            db.next_outbox_id = next_id

        self._undo(restore)
        for ticket_id, sequence, type_name, text in messages:
            db.outbox.append((db.next_outbox_id, self.tenant, ticket_id, sequence, type_name, text))
            db.next_outbox_id += 1

    def outbox_pending(self, limit: int) -> list[tuple[int, str, int, str, str]]:
        self._check_open()
        with self._db.lock:
            pending = [
                (i, ticket, seq, kind, text)
                for i, tenant, ticket, seq, kind, text in self._db.outbox
                if tenant == self.tenant and i not in self._db.published
            ]
        return pending[:limit]

    def outbox_mark(self, ids: Sequence[int]) -> None:
        db = self._db
        own = {m[0] for m in db.outbox if m[1] == self.tenant}
        marked = [i for i in ids if i in own and i not in db.published]
        self._undo(lambda: db.published.difference_update(marked))
        db.published.update(marked)

    def close(self) -> None:
        self._closed = True
