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
from typing import Any, Final, Protocol

from csdomain._kernel.validation import KEY_PATTERN
from csdomain.errors import StorageError, ValidationError

__all__ = [
    "COLLECTIONS",
    "SCHEMA_VERSION",
    "TICKET_COLUMNS",
    "Backend",
    "Row",
    "StorageError",
    "check_key",
    "decode_cursor",
    "encode_cursor",
]

#: The version of the storage schema this csdomain writes and reads.
SCHEMA_VERSION: Final = 1

#: Document collections kept in the generic records table (tickets have their own);
#: configuration documents go to ``"config:<document name>"`` collections.
COLLECTIONS: Final = ("customers", "agents", "groups")

#: The indexed columns of a ticket row, besides its key, version and document.
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


class Backend(Protocol):
    """What an adapter implements. Every method acts on the backend's tenant only.

    ``collection`` is one of :data:`COLLECTIONS` or ``"tickets"``. Writes take
    place inside :meth:`transaction`; the repositories open one around each
    call when the caller has none open.
    """

    tenant: str

    def transaction(self) -> AbstractContextManager[None]:
        """All writes inside commit together or not at all; nesting raises StorageError."""

    def in_transaction(self) -> bool:
        """True when the calling thread has a transaction open on this backend."""

    def get(self, collection: str, key: str) -> Row | None:
        """The row with ``key``, or None."""

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Row]:
        """The rows with these keys that exist, in any order."""

    def insert(self, collection: str, key: str, text: str, columns: Mapping[str, Any]) -> None:
        """Insert version 1; raise ``ConflictError(collection, key, None, stored
        version)`` if ``key`` exists."""

    def insert_many(
        self, collection: str, rows: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> None:
        """Insert version 1 of every ``(key, text, columns)`` row (a bulk load may
        batch them); raise ``ConflictError(collection, key, None, stored version)``
        naming a key that exists or repeats, after which the caller's transaction
        rolls back."""

    def update(
        self,
        collection: str,
        key: str,
        expected_version: int,
        text: str,
        columns: Mapping[str, Any],
    ) -> bool:
        """Replace the row if its version is ``expected_version`` (then +1); False otherwise."""

    def delete(self, collection: str, key: str, expected_version: int) -> bool:
        """Delete the row if its version is ``expected_version``; False otherwise."""

    def select(
        self,
        collection: str,
        filters: Mapping[str, Sequence[Any]],
        order: str,
        after: tuple[Any, str] | None,
        limit: int,
        below: Any = None,
    ) -> list[tuple[Any, Row]]:
        """Rows whose ``filters`` columns hold one of the given values (ticket
        columns; ``{}`` for records), ordered by ``(order column, key)``, after
        the ``(value, key)`` pair ``after``, with the order column below
        ``below`` when given; ``order`` is ``"key"`` or a ticket column. Rows
        with a NULL order column are left out. Returns ``(order value, row)``
        pairs."""

    def count(self, collection: str, filters: Mapping[str, Sequence[Any]]) -> int:
        """How many rows match ``filters``."""

    def set_contacts(self, customer_id: str, contacts: Iterable[tuple[str, str]]) -> None:
        """Replace the ``(channel, address)`` pairs indexed for a customer."""

    def find_contacts(self, address: str, channel: str | None) -> list[str]:
        """Ids of the customers with a contact point at ``address`` (on ``channel``)."""

    def outbox_append(self, messages: Sequence[tuple[str, int, str, str]]) -> None:
        """Append ``(ticket_id, sequence, event type, event JSON)`` messages, in order."""

    def outbox_pending(self, limit: int) -> list[tuple[int, str, int, str, str]]:
        """Unpublished ``(id, ticket_id, sequence, type, JSON)``, oldest first."""

    def outbox_mark(self, ids: Sequence[int]) -> None:
        """Mark these outbox messages published."""

    def close(self) -> None:
        """Release connections."""


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


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size`` (bounded SQL parameter lists)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
