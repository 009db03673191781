"""Storage: a tenant-bound :class:`Store` of customers, tickets, people and configuration.

Open one with :func:`open_store`::

    store = open_store("sqlite:///desk.db", tenant="acme")   # the embedded default
    store = open_store("memory:", tenant="acme")             # tests and prototypes
    store = open_store("postgresql://localhost/desk", tenant="acme")  # csdomain[postgres]

Every record is the library's JSON document plus indexed columns, with a
version. ``add`` stores version 1; ``save(value, expected_version=n)`` stores
version ``n + 1`` only if the stored version is still ``n``, and raises
:class:`~csdomain.errors.ConflictError` otherwise, changing nothing. A ticket's
timeline is append-only in storage: a save may add events, never rewrite or
drop stored ones; every event a ticket gains is also written, in the same
transaction, to the :attr:`Store.outbox` for an app to relay to its broker.

Work happens in a unit of work: ``with store.transaction():`` commits every
change inside it together, or none when the block raises. Calls outside a
transaction run in one of their own. Transactions do not nest: opening one
inside another raises :class:`StorageError` (use one transaction per unit of
work).

A store sees only its tenant's records: any id of another tenant's record is
answered with :class:`~csdomain.errors.NotFoundError`, exactly as a missing one.
Listings are pages with an opaque ``next_cursor`` (keyset pagination), never
whole tables.

Errors are the same on every adapter: :class:`~csdomain.errors.ConflictError`
carries ``kind``, ``key``, ``expected_version`` (``None`` for an add of a key
that exists) and ``stored_version``; a stored document that cannot be read is a
:class:`~csdomain.errors.CorruptRecordError` naming its kind and key (a
:class:`~csdomain.errors.SchemaError` when it was written by a newer csdomain);
database failures are the :class:`StorageError` subclasses listed in
:mod:`csdomain.storage.backend`.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

import attrs

from csdomain._kernel.time import ensure_aware, to_epoch_us
from csdomain.customers import Customer
from csdomain.errors import (
    ConflictError,
    CorruptRecordError,
    NotFoundError,
    SchemaError,
    ValidationError,
)
from csdomain.people import Agent, Group
from csdomain.priorities import Priority
from csdomain.privacy import mask_url
from csdomain.serialization import DOCUMENT_TYPES, from_dict, from_json, to_json
from csdomain.serialization import SCHEMA_VERSION as DOCUMENT_SCHEMA_VERSION
from csdomain.serialization import ticket_json_and_events as _ticket_json
from csdomain.storage.backend import (
    SCHEMA_VERSION,
    Backend,
    Row,
    StorageError,
    _register_store_type,
    check_key,
    decode_cursor,
    encode_cursor,
)
from csdomain.tickets import Status, Ticket, TicketEvent, TicketKind

__all__ = [
    "SCHEMA_VERSION",
    "Backend",
    "ConfigurationRepository",
    "Outbox",
    "OutboxMessage",
    "Page",
    "Repository",
    "StorageError",
    "Store",
    "Stored",
    "TicketRepository",
    "open_store",
]

T = TypeVar("T")

_UNSOLVED = (Status.NEW.value, Status.OPEN.value, Status.PENDING.value, Status.ON_HOLD.value)
MAX_PAGE = 1_000

try:  # the ``fast`` extra
    import orjson as _orjson

    def _dumps(doc: dict[str, Any]) -> str:
        try:
            text: str = _orjson.dumps(doc).decode("utf-8")  # typed: orjson may be absent
            return text
        except TypeError:  # integers beyond 64 bits: orjson refuses, the stdlib copes
            return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    _loads: Any = _orjson.loads
except ImportError:  # pragma: no cover - exercised without the extra

    def _dumps(doc: dict[str, Any]) -> str:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    _loads = json.loads


@attrs.frozen
class Stored(Generic[T]):
    """A stored value and its version (pass ``version`` back as ``expected_version``)."""

    value: T
    version: int


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing; pass ``next_cursor`` to get the next (None: no more)."""

    items: tuple[T, ...]
    next_cursor: str | None


@attrs.frozen
class OutboxMessage:
    """A ticket event waiting to be relayed: ``sequence`` is its index in the timeline."""

    id: int
    ticket_id: str
    sequence: int
    event: TicketEvent


def _check_limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError.single(
            "page", "limit", f"expected an integer from 1 to {MAX_PAGE}, got {limit!r}"
        )
    return limit


def _check_version(what: str, version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError.single(
            what, "expected_version", f"expected the stored version (1 or more), got {version!r}"
        )
    return version


def _check_key(what: str, key: object) -> str:
    return check_key(what, "id", key)


#: What a loader may raise for a document it cannot read (ValidationError is a ValueError).
_UNREADABLE = (ValueError, TypeError, KeyError)


def _unreadable(kind: str, key: str, exc: BaseException) -> StorageError:
    """The error for a stored document of ``kind`` ``key`` that does not load."""
    problems = exc.problems if isinstance(exc, ValidationError) else ()
    newer = [p for p in problems if p.path == "schema_version" and "newer" in p.message]
    if newer:
        return SchemaError(
            f"stored {kind} {key!r} was written by a newer csdomain: {newer[0].message}"
        )
    reason = str(exc) if isinstance(exc, ValidationError) else type(exc).__name__
    return CorruptRecordError(
        f"stored {kind} {key!r} cannot be read ({reason}); restore it from a backup or delete it",
        kind=kind,
        key=key,
    )


def _page(rows: list[tuple[Any, Row]], limit: int, read: Any) -> Page[Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    items = tuple(read(row) for _, row in rows)
    cursor = encode_cursor(rows[-1][0], rows[-1][1].key) if more and rows else None
    return Page(items, cursor)


class _Base:
    """What every repository shares: the backend and its transaction handling."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @contextmanager
    def _tx(self) -> Iterator[None]:
        if self._backend.in_transaction():
            yield
        else:
            with self._backend.transaction():
                yield

    def _conflict_or_missing(
        self, collection: str, what: str, key: str, expected: int, stored: Row | None = None
    ) -> None:
        if stored is None:
            stored = self._backend.get(collection, key)
        if stored is None:
            raise NotFoundError(
                what, key, f"no {what} with this id in tenant {self._backend.tenant!r}"
            )
        raise ConflictError(
            what, key, expected, stored.version, "reload it and apply the change again"
        )

    def _insert_many(
        self, collection: str, what: str, rows: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> None:
        """``Backend.insert_many``, with a conflict named as this repository names records."""
        try:
            self._backend.insert_many(collection, rows)
        except ConflictError as exc:
            stored = exc.stored_version
            if stored is None:  # an adapter that does not say: ask
                row = self._backend.get(collection, exc.key)
                stored = None if row is None else row.version
            raise ConflictError(
                what, exc.key, None, stored, f"in tenant {self._backend.tenant!r}"
            ) from exc


class Repository(_Base, Generic[T]):
    """Documents of one type, keyed by their ``id``: customers, agents, groups."""

    def __init__(self, backend: Backend, collection: str, cls: type[T], what: str) -> None:
        super().__init__(backend)
        self._collection = collection
        self._cls = cls
        self._what = what

    def _read(self, row: Row) -> Stored[T]:
        try:
            return Stored(from_json(row.text, self._cls), row.version)
        except _UNREADABLE as exc:
            raise _unreadable(self._what, row.key, exc) from exc

    def _checked(self, value: object) -> T:
        if not isinstance(value, self._cls):
            raise ValidationError.single(
                f"{self._what} store",
                "value",
                f"expected a {self._cls.__name__}, got a {type(value).__name__}",
            )
        return value

    def get(self, id: str) -> Stored[T]:
        """The stored value with ``id``; ``NotFoundError`` if this tenant has none."""
        row = self._backend.get(self._collection, _check_key(self._what, id))
        if row is None:
            raise NotFoundError(
                self._what, id, f"no {self._what} with this id in tenant {self._backend.tenant!r}"
            )
        return self._read(row)

    def get_many(self, ids: Iterable[str]) -> dict[str, Stored[T]]:
        """The stored values among ``ids``, by id (missing ids are left out)."""
        keys = list(dict.fromkeys(_check_key(self._what, i) for i in ids))
        rows = self._backend.get_many(self._collection, keys) if keys else []
        return {row.key: self._read(row) for row in rows}

    def _columns(self, value: T) -> dict[str, Any]:
        return {}

    def _after_write(self, value: T) -> None:
        pass

    def add(self, value: T) -> Stored[T]:
        """Store a new value (version 1); ``ConflictError`` if its id is taken."""
        value = self._checked(value)
        key = cast(Any, value).id
        text = to_json(value)
        with self._tx():
            self._insert_many(self._collection, self._what, [(key, text, self._columns(value))])
            self._after_write(value)
        return Stored(value, 1)

    def save(self, value: T, *, expected_version: int) -> Stored[T]:
        """Replace the stored value if its version is still ``expected_version``.

        Raises ``ConflictError`` when someone saved a newer version first and
        ``NotFoundError`` when there is nothing to replace; either way nothing changes.
        """
        value = self._checked(value)
        expected = _check_version(self._what, expected_version)
        key = cast(Any, value).id
        text = to_json(value)
        with self._tx():
            if not self._backend.update(
                self._collection, key, expected, text, self._columns(value)
            ):
                self._conflict_or_missing(self._collection, self._what, key, expected)
            self._after_write(value)
        return Stored(value, expected + 1)

    def delete(self, id: str, *, expected_version: int) -> None:
        """Delete the value if its version is still ``expected_version``."""
        expected = _check_version(self._what, expected_version)
        key = _check_key(self._what, id)
        with self._tx():
            if not self._backend.delete(self._collection, key, expected):
                self._conflict_or_missing(self._collection, self._what, key, expected)
            self._after_delete(key)

    def _after_delete(self, key: str) -> None:
        pass

    def list(self, *, limit: int = 100, cursor: str | None = None) -> Page[Stored[T]]:
        """A page of stored values in id order."""
        limit = _check_limit(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        rows = self._backend.select(self._collection, {}, "key", after, limit + 1)
        return _page(rows, limit, self._read)

    def count(self) -> int:
        """How many values this tenant has stored."""
        return self._backend.count(self._collection, {})


class CustomerRepository(Repository[Customer]):
    """Customers, also found by contact address (phone number, email, WeChat id, ...)."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend, "customers", Customer, "customer")

    def _after_write(self, value: Customer) -> None:
        self._backend.set_contacts(
            value.id, [(cp.channel, cp.address) for cp in value.contact_points]
        )

    def _after_delete(self, key: str) -> None:
        self._backend.set_contacts(key, [])

    def find_by_contact(
        self, address: str, channel: str | None = None
    ) -> tuple[Stored[Customer], ...]:
        """Customers with a contact point at exactly ``address`` (on ``channel``), by id."""
        if not isinstance(address, str) or not address:
            raise ValidationError.single(
                "customer store", "address", f"expected an address, got {address!r}"
            )
        ids = self._backend.find_contacts(address, channel)
        found = self.get_many(ids)
        return tuple(found[i] for i in sorted(found))


class TicketRepository(_Base):
    """Tickets with their timelines, indexed for the queries a help desk runs."""

    _what = "ticket"

    def _read(self, row: Row) -> Stored[Ticket]:
        try:
            return Stored(from_json(row.text, Ticket), row.version)
        except _UNREADABLE as exc:
            raise _unreadable("ticket", row.key, exc) from exc

    def get(self, id: str) -> Stored[Ticket]:
        """The stored ticket with ``id``; ``NotFoundError`` if this tenant has none."""
        row = self._backend.get("tickets", _check_key("ticket", id))
        if row is None:
            raise NotFoundError(
                "ticket", id, f"no ticket with this id in tenant {self._backend.tenant!r}"
            )
        return self._read(row)

    def get_many(self, ids: Iterable[str]) -> dict[str, Stored[Ticket]]:
        """The stored tickets among ``ids``, by id (missing ids are left out)."""
        keys = list(dict.fromkeys(_check_key("ticket", i) for i in ids))
        rows = self._backend.get_many("tickets", keys) if keys else []
        return {row.key: self._read(row) for row in rows}

    @staticmethod
    def _checked(ticket: object, next_deadline: object) -> Ticket:
        if not isinstance(ticket, Ticket):
            raise ValidationError.single(
                "ticket store", "ticket", f"expected a Ticket, got a {type(ticket).__name__}"
            )
        if next_deadline is not None:
            ensure_aware(next_deadline, "ticket store", "next_deadline")
        return ticket

    @staticmethod
    def _columns(ticket: Ticket, next_deadline: datetime | None) -> dict[str, Any]:
        return {
            "status": ticket.status.value,
            "assignee_id": ticket.assignee_id,
            "group_id": ticket.group_id,
            "customer_id": ticket.customer_id,
            "kind": ticket.kind.value,
            "priority": ticket.priority.value,
            "updated_at": to_epoch_us(ticket.updated_at),
            "next_deadline": None if next_deadline is None else to_epoch_us(next_deadline),
            "event_count": len(ticket.timeline),
        }

    def _outbox(self, ticket: Ticket, events: Sequence[str], first: int) -> None:
        """Queue the event texts ``events``, the timeline's from index ``first`` on."""
        timeline = ticket.timeline
        self._backend.outbox_append(
            [
                (ticket.id, first + i, timeline[first + i].type_name, text)
                for i, text in enumerate(events)
            ]
        )

    def add(self, ticket: Ticket, *, next_deadline: datetime | None = None) -> Stored[Ticket]:
        """Store a new ticket (version 1) and put its events in the outbox.

        ``next_deadline`` is the instant its SLA next needs looking at (see
        :func:`csdomain.sla.next_deadline`), indexed for :meth:`due_before`.
        """
        ticket = self._checked(ticket, next_deadline)
        text, events = _ticket_json(ticket)
        with self._tx():
            self._insert_many(
                "tickets", "ticket", [(ticket.id, text, self._columns(ticket, next_deadline))]
            )
            self._outbox(ticket, events, 0)
        return Stored(ticket, 1)

    def add_many(
        self,
        tickets: Iterable[Ticket],
        *,
        next_deadlines: Mapping[str, datetime] | None = None,
    ) -> list[Stored[Ticket]]:
        """Store many new tickets at once (bulk loads, imports), all or none.

        ``next_deadlines`` maps ticket ids to their next SLA deadline. Raises
        ``ConflictError`` naming an id that is taken or repeated; then nothing
        is stored (inside a unit of work, the unit of work rolls back). Adapters
        may send the rows in batches, which is what makes this faster than
        :meth:`add` in a loop on a database server.
        """
        deadlines = dict(next_deadlines or {})
        checked = [self._checked(t, deadlines.get(getattr(t, "id", ""))) for t in tickets]
        documents = [_ticket_json(ticket) for ticket in checked]
        rows = [
            (ticket.id, text, self._columns(ticket, deadlines.get(ticket.id)))
            for ticket, (text, _) in zip(checked, documents, strict=True)
        ]
        with self._tx():
            self._insert_many("tickets", "ticket", rows)
            for ticket, (_, events) in zip(checked, documents, strict=True):
                self._outbox(ticket, events, 0)
        return [Stored(ticket, 1) for ticket in checked]

    def save(
        self, ticket: Ticket, *, expected_version: int, next_deadline: datetime | None = None
    ) -> Stored[Ticket]:
        """Replace the stored ticket if its version is still ``expected_version``.

        The stored timeline must be a prefix of the new one: events may be
        added (they go to the outbox), never changed or removed
        (``ValidationError``). ``ConflictError`` when someone saved a newer
        version first; nothing changes on any error.
        """
        ticket = self._checked(ticket, next_deadline)
        expected = _check_version("ticket", expected_version)
        text, new = _ticket_json(ticket)
        with self._tx():
            stored = self._backend.get("tickets", ticket.id)
            if stored is None or stored.version != expected:
                self._conflict_or_missing("tickets", "ticket", ticket.id, expected, stored)
            assert stored is not None
            # Stored events as text written the same way as the new ones.
            try:
                old = [_dumps(event) for event in _loads(stored.text)["timeline"]]
            except _UNREADABLE as exc:
                raise _unreadable("ticket", ticket.id, exc) from exc
            if len(new) < len(old) or new[: len(old)] != old:
                raise ValidationError.single(
                    "ticket store",
                    "timeline",
                    f"ticket {ticket.id}'s stored timeline has {len(old)} events that the "
                    "new one does not start with; timelines are append-only: add events, "
                    "never rewrite or drop them",
                )
            if not self._backend.update(
                "tickets", ticket.id, expected, text, self._columns(ticket, next_deadline)
            ):
                self._conflict_or_missing("tickets", "ticket", ticket.id, expected)
            self._outbox(ticket, new[len(old) :], len(old))
        return Stored(ticket, expected + 1)

    def list(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        assignee_id: str | None = None,
        group_id: str | None = None,
        customer_id: str | None = None,
        kind: TicketKind | None = None,
        priority: Priority | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Stored[Ticket]]:
        """A page of tickets in id order, filtered by the given fields (all must match)."""
        filters = self._filters(status, assignee_id, group_id, customer_id, kind, priority)
        limit = _check_limit(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        rows = self._backend.select("tickets", filters, "key", after, limit + 1)
        return _page(rows, limit, self._read)

    def count(
        self,
        *,
        status: Status | Iterable[Status] | None = None,
        assignee_id: str | None = None,
        group_id: str | None = None,
        customer_id: str | None = None,
        kind: TicketKind | None = None,
        priority: Priority | None = None,
    ) -> int:
        """How many of this tenant's tickets match the given fields."""
        filters = self._filters(status, assignee_id, group_id, customer_id, kind, priority)
        return self._backend.count("tickets", filters)

    def due_before(
        self, instant: datetime, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Stored[Ticket]]:
        """Unsolved tickets whose next SLA deadline is before ``instant``, soonest first."""
        bound = to_epoch_us(ensure_aware(instant, "ticket store", "instant"))
        limit = _check_limit(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        rows = self._backend.select(
            "tickets", {"status": _UNSOLVED}, "next_deadline", after, limit + 1, below=bound
        )
        return _page(rows, limit, self._read)

    @staticmethod
    def _filters(
        status: Status | Iterable[Status] | None,
        assignee_id: str | None,
        group_id: str | None,
        customer_id: str | None,
        kind: TicketKind | None,
        priority: Priority | None,
    ) -> dict[str, tuple[Any, ...]]:
        filters: dict[str, tuple[Any, ...]] = {}
        if status is not None:
            statuses = (status,) if isinstance(status, Status) else tuple(status)
            if not statuses or not all(isinstance(s, Status) for s in statuses):
                raise ValidationError.single(
                    "ticket query", "status", f"expected a Status or Statuses, got {status!r}"
                )
            filters["status"] = tuple(s.value for s in statuses)
        for name, value, enum in (("kind", kind, TicketKind), ("priority", priority, Priority)):
            if value is not None:
                if not isinstance(value, enum):
                    raise ValidationError.single(
                        "ticket query", name, f"expected a {enum.__name__}, got {value!r}"
                    )
                filters[name] = (value.value,)
        for name, key in (
            ("assignee_id", assignee_id),
            ("group_id", group_id),
            ("customer_id", customer_id),
        ):
            if key is not None:
                filters[name] = (_check_key("ticket query", key),)
        return filters


V = TypeVar("V")


class ConfigurationRepository(_Base):
    """Configuration documents (calendars, SLA policies, conditions, ladders, ...) by name."""

    def _collection(self, cls: type) -> str:
        for name, klass in DOCUMENT_TYPES.items():
            if klass is cls:
                return f"config:{name}"
        known = ", ".join(sorted(DOCUMENT_TYPES))
        raise ValidationError.single(
            "configuration", "cls", f"{cls!r} is not a document type; known: {known}"
        )

    def get(self, cls: type[T], name: str) -> Stored[T]:
        """The document of type ``cls`` stored under ``name``."""
        row = self._backend.get(self._collection(cls), _check_key("configuration", name))
        if row is None:
            raise NotFoundError(
                cls.__name__, name, f"no such configuration in tenant {self._backend.tenant!r}"
            )
        return self._read(cls, row)

    @staticmethod
    def _read(cls: type[T], row: Row) -> Stored[T]:
        try:
            return Stored(from_json(row.text, cls), row.version)
        except _UNREADABLE as exc:
            raise _unreadable(cls.__name__, row.key, exc) from exc

    def add(self, name: str, value: V) -> Stored[V]:
        """Store ``value`` under ``name`` (version 1); ``ConflictError`` if the name is taken."""
        collection = self._collection(type(value))
        text = to_json(value)
        key = _check_key("configuration", name)
        with self._tx():
            self._insert_many(collection, type(value).__name__, [(key, text, {})])
        return Stored(value, 1)

    def save(self, name: str, value: V, *, expected_version: int) -> Stored[V]:
        """Replace the document under ``name`` if its version is still ``expected_version``."""
        collection = self._collection(type(value))
        expected = _check_version("configuration", expected_version)
        text = to_json(value)
        with self._tx():
            if not self._backend.update(
                collection, _check_key("configuration", name), expected, text, {}
            ):
                self._conflict_or_missing(collection, type(value).__name__, name, expected)
        return Stored(value, expected + 1)

    def delete(self, cls: type, name: str, *, expected_version: int) -> None:
        """Delete the document under ``name`` if its version is still ``expected_version``."""
        collection = self._collection(cls)
        expected = _check_version("configuration", expected_version)
        with self._tx():
            if not self._backend.delete(collection, _check_key("configuration", name), expected):
                self._conflict_or_missing(collection, cls.__name__, name, expected)

    def list(
        self, cls: type[T], *, limit: int = 100, cursor: str | None = None
    ) -> Page[tuple[str, Stored[T]]]:
        """A page of ``(name, stored document)`` pairs of type ``cls``, by name."""
        limit = _check_limit(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        rows = self._backend.select(self._collection(cls), {}, "key", after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        items = tuple((row.key, self._read(cls, row)) for _, row in rows)
        next_cursor = encode_cursor(rows[-1][0], rows[-1][1].key) if more and rows else None
        return Page(items, next_cursor)


class Outbox(_Base):
    """Ticket events written with the tickets, waiting to be relayed (at least once)."""

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """The oldest unpublished messages, in the order they were written (per ticket too)."""
        limit = _check_limit(limit)
        messages = []
        for id, ticket_id, sequence, _type, text in self._backend.outbox_pending(limit):
            # The outbox keeps each event as it appears in its ticket's document.
            envelope = {"schema_version": DOCUMENT_SCHEMA_VERSION, "document": "ticket_event"}
            try:
                event = from_dict({**envelope, **_loads(text)}, TicketEvent)
            except _UNREADABLE as exc:
                raise _unreadable("outbox message", str(id), exc) from exc
            messages.append(OutboxMessage(id, ticket_id, sequence, event))
        return messages

    def mark_published(self, ids: Iterable[int]) -> None:
        """Mark messages as relayed; they no longer appear in :meth:`pending`."""
        checked = list(ids)
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in checked):
            raise ValidationError.single(
                "outbox", "ids", f"expected message ids (integers), got {checked!r}"
            )
        with self._tx():
            self._backend.outbox_mark(checked)


class Store:
    """One tenant's records in one database: repositories and the unit of work.

    Open with :func:`open_store`; close with :meth:`close` or a ``with`` block.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.customers = CustomerRepository(backend)
        self.agents: Repository[Agent] = Repository(backend, "agents", Agent, "agent")
        self.groups: Repository[Group] = Repository(backend, "groups", Group, "group")
        self.tickets = TicketRepository(backend)
        self.config = ConfigurationRepository(backend)
        self.outbox = Outbox(backend)

    @property
    def tenant(self) -> str:
        """The tenant whose records this store reads and writes."""
        return self._backend.tenant

    @property
    def backend(self) -> Backend:
        """The adapter's backend this store runs on (for adapter tests and tooling:
        it reads and writes raw rows, bypassing every domain check)."""
        return self._backend

    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work: every change inside commits together, or none on an exception."""
        return self._backend.transaction()

    def close(self) -> None:
        """Release the database connections."""
        self._backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store of tenant {self.tenant!r} on {self._backend!r}>"


_register_store_type(Store)


_ADAPTERS = {
    "memory": "csdomain.storage.memory",
    "sqlite": "csdomain.storage.sqlite",
    "postgresql": "csdomain.storage.postgres",
    "postgres": "csdomain.storage.postgres",
}


def open_store(url: str, *, tenant: str) -> Store:
    """Open the store of ``tenant`` at ``url``.

    ``memory:`` (a private in-process database) or ``memory:NAME`` (one shared
    by name within the process); ``sqlite:///path/to/file.db`` (the file is
    created if missing); ``postgresql://user@host/db`` (needs
    ``csdomain[postgres]``); or ``package.module:...``, a third-party adapter
    module that defines ``open_backend(url, tenant)`` returning a
    :class:`~csdomain.storage.Backend`.
    """
    if not isinstance(url, str) or ":" not in url:
        shown = repr(mask_url(url)) if isinstance(url, str) else f"a {type(url).__name__}"
        raise ValidationError.single(
            "open_store",
            "url",
            f"expected a URL such as 'sqlite:///desk.db' or 'memory:', got {shown}",
        )
    _check_key("open_store", tenant)
    scheme = url.split(":", 1)[0]
    module_name = _ADAPTERS.get(scheme.lower(), scheme if "." in scheme else None)
    if module_name is None:
        known = ", ".join(f"{s}:" for s in _ADAPTERS)
        raise ValidationError.single(
            "open_store",
            "url",
            f"unknown scheme {scheme!r}; expected {known} or an adapter module path",
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StorageError(
            f"cannot load the storage adapter {module_name!r} for {scheme}: {exc}"
        ) from exc
    return Store(module.open_backend(url, tenant))
