"""Tickets in storage: appended event rows, a state row of indexed columns, the outbox.

A ticket is its timeline. Storage keeps each event as a row ``(ticket id,
sequence)`` that is written once and never replaced, and one state row per
ticket with the indexed columns (status, assignee, group, customer, kind,
priority, the last update and the next SLA deadline), its version and its event
count. Saving writes the state row and the new events only, so its cost does
not grow with the timeline; every new event also goes to the outbox in the
same unit of work. Loading reads the state row, then exactly the events it
counts, in order.

A save must continue the stored timeline: the stored events are a prefix of
the ticket's. The repository checks this against the timeline it last loaded
or saved at that version (an identity comparison of the shared events, at C
speed) or, for a ticket built elsewhere, against the stored event texts; a
ticket that does not continue it is refused with ``ValidationError``.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from csdomain._kernel.collections import Collection, Column, ColumnType, Query, declare_collection
from csdomain._kernel.time import ensure_aware, to_epoch_us
from csdomain.errors import ValidationError
from csdomain.priorities import Priority
from csdomain.serialization import events_json, ticket_from_events_json
from csdomain.storage._context import Context
from csdomain.storage.backend import Row, Select, check_key
from csdomain.storage.paging import Page, check_limit, decode_cursor, page_of
from csdomain.storage.repository import UNREADABLE, Stored, check_version, unreadable
from csdomain.tickets import Status, Ticket, TicketEvent, TicketKind

__all__ = ["TICKETS", "TicketRepository"]

_TEXT, _INSTANT = ColumnType.TEXT, ColumnType.INSTANT

#: The ticket collection: one state row per ticket, and its event rows.
TICKETS: Final = declare_collection(
    Collection(
        "tickets",
        "ticket",
        Ticket,
        key_of=lambda ticket: ticket.id,
        columns=[
            Column("status", _TEXT),
            Column("assignee_id", _TEXT),
            Column("group_id", _TEXT),
            Column("customer_id", _TEXT),
            Column("kind", _TEXT),
            Column("priority", _TEXT),
            Column("updated_at", _INSTANT),
            Column("next_deadline", _INSTANT),
        ],
        queries=[
            Query("by_status", where=["status"]),
            Query("by_assignee", where=["assignee_id"]),
            Query("by_group", where=["group_id"]),
            Query("by_customer", where=["customer_id"]),
            Query("by_kind", where=["kind"]),
            Query("by_priority", where=["priority"]),
            Query("due", where=["status"], order="next_deadline"),
        ],
        columns_of=lambda ticket: {
            "status": ticket.status,
            "assignee_id": ticket.assignee_id,
            "group_id": ticket.group_id,
            "customer_id": ticket.customer_id,
            "kind": ticket.kind,
            "priority": ticket.priority,
            "updated_at": ticket.updated_at,
        },
        events=True,
    )
)

_UNSOLVED = (Status.NEW.value, Status.OPEN.value, Status.PENDING.value, Status.ON_HOLD.value)

#: How many tickets' timelines a repository remembers to check saves cheaply.
_KNOWN_LIMIT: Final = 4_096


def _state_text(event_count: int, next_deadline: int | None) -> str:
    # The state row's document: how many events the version has, and the deadline
    # the caller gave (kept for rewrites that do not know it, such as erasure).
    deadline = "null" if next_deadline is None else str(next_deadline)
    return f'{{"events":{event_count},"next_deadline":{deadline}}}'


def _state(row: Row) -> tuple[int, int | None]:
    try:
        state = json.loads(row.text)
        count, deadline = state["events"], state.get("next_deadline")
    except UNREADABLE as exc:
        raise unreadable("ticket", row.key, exc) from exc
    if type(count) is not int or count < 1 or not (deadline is None or type(deadline) is int):
        raise unreadable("ticket", row.key, ValueError("damaged state row"))
    return count, deadline


def _event_count(row: Row) -> int:
    return _state(row)[0]


class TicketRepository:
    """Tickets with their timelines, indexed for the queries a help desk runs."""

    def __init__(self, context: Context) -> None:
        self._context = context
        # ticket id -> (version, timeline) as last loaded or committed by this store.
        self._known: OrderedDict[str, tuple[int, tuple[TicketEvent, ...]]] = OrderedDict()
        self._known_lock = threading.Lock()
        if context.declare(TICKETS):
            self.reindex()

    # -- what this store has seen ------------------------------------------------

    def _remember(self, key: str, version: int, timeline: tuple[TicketEvent, ...]) -> None:
        with self._known_lock:
            self._known[key] = (version, timeline)
            self._known.move_to_end(key)
            if len(self._known) > _KNOWN_LIMIT:
                self._known.popitem(last=False)

    def _recall(self, key: str, version: int) -> tuple[TicketEvent, ...] | None:
        with self._known_lock:
            known = self._known.get(key)
        return known[1] if known is not None and known[0] == version else None

    def forget(self, key: str) -> None:
        """Drop what this store remembers of ticket ``key`` (after erasure rewrote it)."""
        with self._known_lock:
            self._known.pop(key, None)

    # -- reading ------------------------------------------------------------------

    def _load(self, rows: Sequence[Row]) -> list[Stored[Ticket]]:
        counts = [(row.key, _event_count(row)) for row in rows]
        texts = self._context.backend.read_events(TICKETS.name, counts) if counts else {}
        loaded = []
        for row, (key, count) in zip(rows, counts, strict=True):
            events = texts.get(key, [])
            if len(events) != count:
                raise unreadable(
                    "ticket",
                    key,
                    ValueError(f"{count} events counted, {len(events)} stored"),
                )
            try:
                ticket = ticket_from_events_json(events, key=key)
            except UNREADABLE as exc:
                raise unreadable("ticket", key, exc) from exc
            self._remember(key, row.version, ticket.timeline)
            loaded.append(Stored(ticket, row.version))
        return loaded

    def get(self, id: str) -> Stored[Ticket]:
        """The stored ticket with ``id``; ``NotFoundError`` if this tenant has none."""
        row = self._context.backend.get(TICKETS.name, check_key("ticket", "id", id))
        if row is None:
            raise self._context.missing("ticket", id)
        return self._load([row])[0]

    def get_many(self, ids: Iterable[str]) -> dict[str, Stored[Ticket]]:
        """The stored tickets among ``ids``, by id (missing ids are left out)."""
        keys = list(dict.fromkeys(check_key("ticket", "id", i) for i in ids))
        rows = self._context.backend.get_many(TICKETS.name, keys) if keys else []
        return {stored.value.id: stored for stored in self._load(rows)}

    # -- writing ------------------------------------------------------------------

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
    def _state_and_columns(
        ticket: Ticket, next_deadline: datetime | int | None
    ) -> tuple[str, dict[str, Any]]:
        # A ticket's own values are valid by construction: no check per column (the
        # declaration's columns_of gives the same values; a test holds them equal).
        deadline = (
            to_epoch_us(next_deadline) if isinstance(next_deadline, datetime) else next_deadline
        )
        columns = {
            "status": ticket.status.value,
            "assignee_id": ticket.assignee_id,
            "group_id": ticket.group_id,
            "customer_id": ticket.customer_id,
            "kind": ticket.kind.value,
            "priority": ticket.priority.value,
            "updated_at": to_epoch_us(ticket.updated_at),
            "next_deadline": deadline,
        }
        return _state_text(len(ticket.timeline), deadline), columns

    def _events(self, ticket: Ticket, start: int) -> list[str]:
        texts = events_json(ticket.timeline[start:])
        limit = self._context.max_document_bytes
        size = sum(len(t) for t in texts)
        if size > limit // 4 and sum(len(t.encode("utf-8")) for t in texts) > limit:
            raise ValidationError.single(
                "ticket store",
                "timeline",
                f"ticket {ticket.id}'s new events take more than {limit:,} bytes, the most "
                "this store accepts (open_store(max_document_bytes=...))",
            )
        return texts

    def _append(self, ticket: Ticket, start: int, texts: list[str]) -> None:
        backend = self._context.backend
        backend.append_events(
            TICKETS.name, [(ticket.id, start + i, text) for i, text in enumerate(texts)]
        )
        backend.outbox_append(
            [
                (TICKETS.name, ticket.id, start + i, event.type_name, text)
                for i, (event, text) in enumerate(zip(ticket.timeline[start:], texts, strict=True))
            ]
        )

    def add(self, ticket: Ticket, *, next_deadline: datetime | None = None) -> Stored[Ticket]:
        """Store a new ticket (version 1) and put its events in the outbox.

        ``next_deadline`` is the ticket's next SLA deadline, indexed for
        :meth:`due_before`. ``ConflictError`` if the id is taken.
        """
        return self.add_many(
            [ticket],
            next_deadlines={}
            if next_deadline is None
            else {getattr(ticket, "id", ""): next_deadline},
        )[0]

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
        self._insert(checked, deadlines, outbox=True)
        return [Stored(ticket, 1) for ticket in checked]

    def _insert(
        self, tickets: list[Ticket], deadlines: Mapping[str, datetime | int], *, outbox: bool
    ) -> None:
        texts = [self._events(ticket, 0) for ticket in tickets]
        rows = [
            (ticket.id, *self._state_and_columns(ticket, deadlines.get(ticket.id)))
            for ticket in tickets
        ]
        context = self._context
        backend = context.backend
        with context.unit():
            backend.insert_many(TICKETS.name, rows)
            backend.append_events(
                TICKETS.name,
                [
                    (ticket.id, i, text)
                    for ticket, events in zip(tickets, texts, strict=True)
                    for i, text in enumerate(events)
                ],
            )
            if outbox:
                backend.outbox_append(
                    [
                        (TICKETS.name, ticket.id, i, event.type_name, text)
                        for ticket, events in zip(tickets, texts, strict=True)
                        for i, (event, text) in enumerate(zip(ticket.timeline, events, strict=True))
                    ]
                )
            for ticket in tickets:
                context.after_commit(self._remembering(ticket, 1))

    def _remembering(self, ticket: Ticket, version: int) -> Callable[[], None]:
        return lambda: self._remember(ticket.id, version, ticket.timeline)

    def _stored_prefix(self, ticket: Ticket, expected: int) -> int:
        """How many of ``ticket``'s events are stored at version ``expected``, checking
        that they are its first ones; NotFoundError or ConflictError on a mismatch."""
        known = self._recall(ticket.id, expected)
        if known is not None:
            count = len(known)
            if ticket.timeline[:count] != known:
                self._refuse(ticket, count)
            return count
        backend = self._context.backend
        row = backend.get(TICKETS.name, ticket.id)
        if row is None or row.version != expected:
            self._context.conflict_or_missing(TICKETS.name, "ticket", ticket.id, expected)
        assert row is not None
        stored = self._load([row])[0].value.timeline  # CorruptRecordError if it does not load
        if ticket.timeline[: len(stored)] != stored:
            self._refuse(ticket, len(stored))
        return len(stored)

    @staticmethod
    def _refuse(ticket: Ticket, count: int) -> None:
        raise ValidationError.single(
            "ticket store",
            "timeline",
            f"ticket {ticket.id}'s stored timeline has {count} events that the new one does "
            "not start with; timelines are append-only: add events, never rewrite or drop "
            "them (reload the ticket and apply the change again)",
        )

    def save(
        self, ticket: Ticket, *, expected_version: int, next_deadline: datetime | None = None
    ) -> Stored[Ticket]:
        """Store the ticket's new events and state if its version is still ``expected_version``.

        The stored timeline must be a prefix of the new one: events may be
        added (they go to the outbox), never changed or removed
        (``ValidationError``). ``ConflictError`` when someone saved a newer
        version first; nothing changes on any error.
        """
        ticket = self._checked(ticket, next_deadline)
        expected = check_version("ticket", expected_version)
        state, columns = self._state_and_columns(ticket, next_deadline)
        context = self._context
        with context.unit():
            start = self._stored_prefix(ticket, expected)
            texts = self._events(ticket, start) if start < len(ticket.timeline) else []
            context.backend.update(TICKETS.name, ticket.id, expected, state, columns)
            if texts:
                self._append(ticket, start, texts)
            context.after_commit(self._remembering(ticket, expected + 1))
        return Stored(ticket, expected + 1)

    def reindex(self) -> int:
        """Recompute every stored ticket's column values (after the declaration gained
        columns), keeping each one's deadline; returns how many were reindexed."""
        count = 0
        backend = self._context.backend
        with self._context.unit():
            after: tuple[Any, str] | None = None
            while True:
                rows = backend.select(TICKETS.name, Select({}, "key", after, None, None, 200))
                for (_, row), stored in zip(rows, self._load([r for _, r in rows]), strict=True):
                    _, columns = self._state_and_columns(stored.value, _state(row)[1])
                    backend.set_columns(TICKETS.name, row.key, columns)
                    count += 1
                if len(rows) < 200:
                    return count
                after = (rows[-1][1].key, rows[-1][1].key)

    def _save_erased(self, ticket: Ticket, expected: int, start: int) -> None:
        """Erasure: store the redacted ``ticket``'s new events, keeping its deadline."""
        row = self._context.backend.get(TICKETS.name, ticket.id)
        if row is None or row.version != expected:
            self._context.conflict_or_missing(TICKETS.name, "ticket", ticket.id, expected)
        assert row is not None
        state, columns = self._state_and_columns(ticket, _state(row)[1])
        self._context.backend.update(TICKETS.name, ticket.id, expected, state, columns)
        self._append(ticket, start, self._events(ticket, start))

    # -- queries ---------------------------------------------------------------------

    def _page(
        self,
        filters: dict[str, tuple[Any, ...]],
        order: str,
        high: int | None,
        limit: int,
        cursor: str | None,
    ) -> Page[Stored[Ticket]]:
        limit = check_limit(limit)
        query = TICKETS.query_for(filters, order)
        fingerprint = (
            self._context.tenant,
            TICKETS.name,
            query.name,
            sorted(filters.items()),
            order,
            high,
        )
        after = decode_cursor(fingerprint, cursor) if cursor is not None else None
        rows = self._context.backend.select(
            TICKETS.name, Select(filters, order, after, None, high, limit + 1)
        )
        loaded = self._load([row for _, row in rows[:limit]])  # one read of all their events
        by_key = {stored.value.id: stored for stored in loaded}
        return page_of(fingerprint, rows, limit, lambda row: by_key[row.key])

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
        return self._page(filters, "key", None, limit, cursor)

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
        return self._context.backend.count(TICKETS.name, filters)

    def due_before(
        self, instant: datetime, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Stored[Ticket]]:
        """Unsolved tickets whose next SLA deadline is before ``instant``, soonest first."""
        bound = to_epoch_us(ensure_aware(instant, "ticket store", "instant"))
        return self._page({"status": _UNSOLVED}, "next_deadline", bound, limit, cursor)

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
                filters[name] = (check_key("ticket query", name, key),)
        return filters
