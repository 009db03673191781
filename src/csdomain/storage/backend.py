"""The backend interface adapters implement, and helpers they share.

Repositories (:mod:`csdomain.storage`) are written once, on top of a
:class:`Backend`: a tenant-bound store of JSON documents in *collections*,
each row with a key, a version and a few indexed columns. An adapter module
(``memory``, ``sqlite``, ``postgres`` or a third party's) implements this
small interface with its driver and exposes ``open_backend(url, tenant)``;
it never sees domain objects, and it translates every driver exception into
one :class:`~csdomain.errors.StorageError` subclass per mistake:

* :class:`~csdomain.errors.RetryableStorageError`: the database is locked or
  busy, a serialization failure, a deadlock, a lock wait timed out;
* :class:`~csdomain.errors.StorageConnectionError`: the database cannot be
  reached or opened, or the connection was lost;
* :class:`~csdomain.errors.SchemaError`: the stored schema is newer than this
  csdomain, unknown (another application's tables) or damaged;
* :class:`~csdomain.errors.CorruptRecordError`: a stored row cannot be read;
* :class:`~csdomain.errors.StorageError` itself for anything else (a closed
  store, a nested transaction, a driver error of no other kind).

An insert of a key that exists raises
``ConflictError(collection, key, None, stored_version)``. Adapters import
this module, :mod:`csdomain.errors` and :mod:`csdomain.privacy` only; they show
URLs through :func:`~csdomain.privacy.mask_url`, never with a password.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Final, NamedTuple, Protocol

import attrs

from csdomain._kernel.collections import Collection, Column, ColumnType, Query
from csdomain._kernel.validation import KEY_PATTERN
from csdomain.errors import StorageError, ValidationError

__all__ = [
    "LEGACY_COLLECTIONS",
    "SCHEMA_VERSION",
    "Backend",
    "Collection",
    "Column",
    "ColumnType",
    "ColumnValues",
    "NewRow",
    "OutboxRow",
    "ProjectingBackend",
    "Query",
    "Row",
    "Select",
    "StorageError",
    "check_filter",
    "check_key",
    "check_lease",
    "check_projection",
    "chunks",
]

#: The version of the storage schema this csdomain writes and reads. Version 1
#: (csdomain 0.1) kept documents in ``records`` and ``tickets`` tables; version 2
#: keeps declared collections, event rows and a leased outbox.
SCHEMA_VERSION: Final = 2

#: What version 1 stored in its generic ``records`` table (tickets had a table of
#: their own; configuration documents went to ``"config:<document name>"``).
LEGACY_COLLECTIONS: Final = ("customers", "agents", "groups")

#: A record's indexed values: column name -> value (a tuple of values for a
#: multiple column); see :class:`~csdomain.storage.ColumnType` for the Python types.
ColumnValues = Mapping[str, Any]

#: A record to insert: ``(key, document text, column values)``.
NewRow = tuple[str, str, ColumnValues]

# Version 1 names, kept until every adapter moves to version 2.
COLLECTIONS: Final = LEGACY_COLLECTIONS
TICKET_COLUMNS: Final = (
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


class Row(tuple[str, int, str]):
    """A stored document: ``(key, version, document JSON text)``."""

    __slots__ = ()

    @property
    def key(self) -> str:
        return self[0]

    @property
    def version(self) -> int:
        return self[1]

    @property
    def text(self) -> str:
        return self[2]


class OutboxRow(NamedTuple):
    """An outbox message as stored: ``stream`` is the collection, ``key`` the record,
    ``sequence`` the event's index in the record's stream."""

    id: int
    stream: str
    key: str
    sequence: int
    type: str
    text: str
    attempts: int = 0
    failure: str | None = None


@attrs.frozen
class Select:
    """One page of a declared query, as an adapter receives it.

    Rows whose ``where`` columns each hold one of the given values (``None``
    among them matches NULL; for a multiple column, a row holding any of the
    values matches), ordered by ``(order, key)`` ascending, strictly after the
    ``(order value, key)`` position ``after``, with ``low <= order value <
    high`` for the bounds given, at most ``limit`` rows. Rows whose order
    column is NULL are left out unless ``order`` is ``"key"``. Repositories
    only send queries their collection declared, with values already of the
    column's type.
    """

    where: Mapping[str, tuple[Any, ...]] = attrs.field(factory=dict)
    order: str = "key"
    after: tuple[Any, str] | None = None
    low: Any = None
    high: Any = None
    limit: int = 100


class Backend(Protocol):
    """What an adapter implements. Every method acts on the backend's tenant only.

    Collections are declared with :meth:`declare` before use (the store does it
    for every registered collection when it opens). Writes take place inside
    :meth:`transaction`; the repositories open one around each call when the
    caller has none open. A write may be checked when it is made or, batched,
    at the latest when the transaction commits or before the transaction next
    reads: either way its error (``ConflictError``, ``NotFoundError``) ends the
    transaction, which rolls back.

    Errors name records as the collection's :attr:`Collection.what` does:
    ``ConflictError(what, key, expected_version, stored_version)`` and
    ``NotFoundError(what, key)``.

    An adapter may also implement :meth:`ProjectingBackend.select_columns`
    (pages of stored column values, without documents); the repositories use it
    when it is there and do without it when it is not.
    """

    tenant: str

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all; nesting raises StorageError."""

    def in_transaction(self) -> bool:
        """True when the calling thread has a transaction open on this backend."""

    def declare(self, collection: Collection[Any]) -> bool:
        """Make the tables and indexes ``collection`` needs (idempotent, safe to race).

        Returns True, once per tenant, when this backend's tenant has rows stored
        before columns were added to the collection, so that they lack those
        columns' values: the store then recomputes them with :meth:`set_columns`.
        (Every tenant's store gets True once, whichever declared the columns.)
        """

    # -- documents -----------------------------------------------------------

    def get(self, collection: str, key: str) -> Row | None:
        """The row with ``key``, or None."""

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Row]:
        """The rows with these keys that exist, in any order."""

    def insert_many(self, collection: str, rows: Sequence[NewRow]) -> None:
        """Insert version 1 of every row; ``ConflictError(what, key, None, stored
        version)`` for a key that exists or repeats, ``ConflictError(what, key,
        None, None, detail)`` for a unique value another record holds, the detail naming
        the column and that record's key (never the value: it may be personal data)."""

    def update(
        self,
        collection: str,
        key: str,
        expected_version: int,
        text: str,
        columns: ColumnValues,
    ) -> None:
        """Replace the row if its version is ``expected_version`` (then +1);
        ``ConflictError`` if it is not (or a unique value is taken),
        ``NotFoundError`` if there is no such row."""

    def set_columns(self, collection: str, key: str, columns: ColumnValues) -> None:
        """Replace a row's column values, keeping its document and version
        (reindexing after :meth:`declare` added columns; erasure)."""

    def rewrite(self, collection: str, key: str, text: str) -> None:
        """Replace a row's document keeping its version: erasure only."""

    def delete(self, collection: str, key: str, expected_version: int) -> None:
        """Delete the row (and its events) if its version is ``expected_version``;
        ``ConflictError`` or ``NotFoundError`` otherwise."""

    def select(self, collection: str, query: Select) -> list[tuple[Any, Row]]:
        """The rows of one page (see :class:`Select`) as ``(order value, row)`` pairs."""

    def count(self, collection: str, where: Mapping[str, tuple[Any, ...]]) -> int:
        """How many rows match ``where`` (as in :class:`Select`)."""

    def lease(self, collection: str, query: Select, until: int) -> list[Row]:
        """Atomically take the lowest due rows of ``collection`` and push them to ``until``.

        Takes up to ``query.limit`` rows matching ``query.where`` (as in
        :meth:`select`, multiple columns included) whose ``query.order`` column
        is not NULL, is ``< query.high`` and, when ``query.low`` is given,
        ``>= query.low``: the lowest by ``(order value, key)``. Sets that column
        of each to ``until`` and adds 1 to its version, in one write; returns
        the rows in ``(old order value, key)`` order with their *new* versions
        and their documents unchanged. A later save of a row must therefore
        pass the returned version (an older one raises ``ConflictError``).

        ``query.order`` is a single-valued, non-unique ``INSTANT`` or
        ``INTEGER`` column (not ``"key"``), and ``query.after`` is None:
        ``StorageError`` otherwise. ``query.high`` is required; ``high``,
        ``low`` and ``until`` are 64-bit integers (microseconds for an instant):
        ``ValidationError`` otherwise. A limit of 0 or less takes nothing.

        Two leases never take the same row: PostgreSQL locks the rows it
        takes and skips rows another open transaction has locked (``FOR
        UPDATE SKIP LOCKED``, so concurrent leases get disjoint rows without
        waiting); SQLite (one writer, ``BEGIN IMMEDIATE``) and memory (one
        lock) run leases one after the other. Inside an open transaction the
        lease is part of it (it commits or rolls back with it); outside, it is
        a transaction of its own. Writes queued in the transaction are sent
        (and checked) first, as before any read.
        """

    # -- event streams (collections declared with ``events=True``) ------------

    def append_events(self, collection: str, events: Sequence[tuple[str, int, str]]) -> None:
        """Insert ``(key, sequence, event text)`` rows; a ``(key, sequence)`` that
        exists is a ``ConflictError``: stored events are never replaced."""

    def read_events(
        self, collection: str, streams: Sequence[tuple[str, int]]
    ) -> dict[str, list[str]]:
        """For each ``(key, count)``, the texts of events ``0 .. count - 1`` in order."""

    def rewrite_events(self, collection: str, key: str, texts: Mapping[int, str]) -> None:
        """Replace the text of stored events by sequence: erasure only."""

    # -- outbox --------------------------------------------------------------

    def outbox_append(self, messages: Sequence[tuple[str, str, int, str, str]]) -> None:
        """Append ``(stream, key, sequence, event type, event text)`` messages, in order."""

    def outbox_pending(self, limit: int) -> list[OutboxRow]:
        """Unpublished, not failed messages, oldest first, leased or not."""

    def outbox_claim(self, relay: str, limit: int, now: int, lease: int) -> list[OutboxRow]:
        """Lease up to ``limit`` messages to ``relay`` until ``now + lease``
        (microseconds since the epoch), oldest first: unpublished, not failed,
        and not leased to anyone at ``now``. Each claim adds 1 to ``attempts``.
        Two relays claiming at once get disjoint messages (SKIP LOCKED)."""

    def outbox_ack(self, relay: str | None, ids: Sequence[int]) -> int:
        """Mark messages published, only those leased to ``relay`` (any message
        when ``relay`` is None); returns how many were marked."""

    def outbox_fail(self, relay: str | None, ids: Sequence[int], reason: str) -> int:
        """Set messages aside as failed with ``reason`` (same rule as :meth:`outbox_ack`)."""

    def outbox_failed(self, after: int | None, limit: int) -> list[OutboxRow]:
        """Failed messages (the dead letters) with ids above ``after``, by id."""

    def outbox_retry(self, ids: Sequence[int]) -> int:
        """Return failed messages to the pending ones; returns how many."""

    def outbox_redact(self, stream: str, key: str, texts: Mapping[int, str]) -> None:
        """Erasure: delete the published messages of record ``key``, and replace the
        text of its unpublished ones by sequence with ``texts`` (or delete those
        not in ``texts``)."""

    # -- version 1 data ------------------------------------------------------

    def legacy_rows(self, limit: int) -> list[tuple[Any, ...]]:
        """Up to ``limit`` rows a version 1 schema left to move: ``(collection,
        key, version, document text)``, collection being ``"tickets"``, one of
        :data:`LEGACY_COLLECTIONS` or ``"config:<document name>"``; a ticket's
        row has a fifth value, its indexed ``next_deadline`` (microseconds or
        None). ``[]`` when none are left (or the store never had any)."""

    def drop_legacy(self, rows: Sequence[tuple[str, str]]) -> None:
        """Forget these ``(collection, key)`` version 1 rows, moved by the store."""

    def close(self) -> None:
        """Release connections."""


class ProjectingBackend(Backend, Protocol):
    """A :class:`Backend` that also reads pages as stored column values (optional).

    :meth:`DocumentRepository.select_columns
    <csdomain.storage.repository.DocumentRepository.select_columns>` calls
    :meth:`select_columns` when the backend has it; on a backend without it, the
    repository selects the documents, decodes them and computes their column
    values from the collection's ``columns_of``, which gives the same page as
    long as every stored column is what the document gives (a lease, which sets
    its order column without touching the document, is the exception).
    """

    def select_columns(
        self, collection: str, query: Select, columns: tuple[str, ...]
    ) -> list[tuple[Any, str, int, tuple[Any, ...]]]:
        """The rows of one page, as :meth:`~Backend.select` chooses and orders them, as
        ``(order value, key, version, values)``: ``values`` holds the stored value of
        each of ``columns`` in order, of the column's :class:`ColumnType` (microseconds
        for an instant, a bool for a boolean, None for NULL). ``columns`` are
        single-valued columns of the collection (``StorageError`` otherwise); the
        documents are not read."""


# -- keys and stores ------------------------------------------------------------


def check_key(subject: str, path: str, key: object) -> str:
    """``key`` if it is an id (1-64 letters, digits, ``_ . : -``); ``ValidationError`` else."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        shown = repr(key) if isinstance(key, str) else f"a {type(key).__name__}"
        raise ValidationError.single(
            subject, path, f"expected an id (1-64 letters, digits, _ . : -), got {shown}"
        )
    return key


# How _store_for wraps a backend: csdomain.storage registers Store when it is imported,
# so adapters build stores without importing the repositories (and the domain behind
# them); typed loosely for the same reason: callers cast to Store.
_STORE_TYPE: list[Callable[[Any], Any]] = []


def _register_store_type(factory: Callable[[Any], Any]) -> None:
    _STORE_TYPE[:] = [factory]


def _store_for(backend: Backend) -> Any:
    # Importing any adapter imports csdomain.storage first (its package), which registers.
    (factory,) = _STORE_TYPE
    return factory(backend)


# -- cursors ------------------------------------------------------------------


def encode_cursor(order_value: Any, key: str) -> str:
    """An opaque, URL-safe token for the position after ``(order_value, key)``."""
    raw = json.dumps([order_value, key], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    """The position a cursor token stands for; ``ValidationError`` for a foreign token."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
            position = value[0]
            # Order values are keys (text) or instants (64-bit microsecond counts).
            if isinstance(position, str) or (
                type(position) is int and -(2**63) <= position < 2**63
            ):
                return position, value[1]
    except (ValueError, TypeError, UnicodeError):
        pass
    raise ValidationError.single(
        "cursor", "", f"{cursor!r} is not a cursor this store returned; pass next_cursor as given"
    )


def check_lease(collection: str, query: Select, until: object, column: Column | None) -> bool:
    """Refuse a lease adapters do not serve (see :meth:`Backend.lease`); False when it
    takes nothing (a limit of 0 or less).

    ``column`` is the stored declaration of ``query.order`` (None: no such column).
    """
    order = query.order
    if column is None or column.multiple or column.unique or column.type not in _LEASABLE:
        raise StorageError(
            f"collection {collection!r} cannot be leased by {order!r}: a lease sets a "
            "single-valued, non-unique instant or integer column"
        )
    if query.after is not None:
        raise StorageError(
            f"a lease of {collection!r} takes the lowest due rows: it has no position "
            f"(after), got {query.after!r}"
        )
    subject = f"lease of {collection!r} by {order!r}"
    for name, value in (("high", query.high), ("low", query.low), ("until", until)):
        if value is None and name == "low":
            continue
        if type(value) is not int or not -(2**63) <= value < 2**63:
            raise ValidationError.single(
                subject,
                name,
                f"expected a 64-bit integer ({_LEASABLE[column.type]}), got {value!r}",
            )
    return query.limit > 0


def check_filter(
    collection: str, name: str, values: object, declared: Mapping[str, Any]
) -> tuple[Any, ...]:
    """The values a filter of :attr:`Select.where` gives column ``name``, as a tuple, if
    ``name`` is a column of ``declared`` (column name -> its declaration) and ``values``
    a collection of values; ``StorageError`` else. Every adapter checks filters by it."""
    if name not in declared:
        raise StorageError(
            f"collection {collection!r} has no column {name!r} to filter on; "
            f"columns: {list(declared)}"
        )
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise StorageError(
            f"the filter on {collection!r} column {name!r} takes a tuple of values, got {values!r}"
        )
    return tuple(values)


def check_projection(
    collection: str, columns: object, declared: Mapping[str, Any]
) -> tuple[str, ...]:
    """``columns`` if it is a tuple of single-valued column names of ``declared`` (column
    name -> its declaration, with a ``multiple`` attribute): what
    :meth:`ProjectingBackend.select_columns` reads; ``StorageError`` else."""
    if not isinstance(columns, tuple) or not all(
        type(name) is str and name in declared and not declared[name].multiple for name in columns
    ):
        single = [name for name, column in declared.items() if not column.multiple]
        raise StorageError(
            f"collection {collection!r} cannot select the columns {columns!r}: expected a "
            f"tuple of its single-valued columns: {single}"
        )
    return columns


_LEASABLE: Final = {
    ColumnType.INSTANT: "microseconds since the epoch",
    ColumnType.INTEGER: "the column's value",
}


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size`` (bounded SQL parameter lists)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
