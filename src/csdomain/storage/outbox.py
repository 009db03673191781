"""The outbox: every new ticket event, written with its ticket, for relays to publish.

Delivery is at least once. A relay :meth:`~Outbox.claim`\\ s a batch under a
lease (its name and a duration); until the lease ends no other relay gets
those messages, so two healthy relays publish nothing twice (PostgreSQL serves
claims with ``FOR UPDATE SKIP LOCKED``, SQLite and memory with a lease column
under their single writer). The relay publishes, then :meth:`~Outbox.ack`\\ s;
a message not acknowledged within its lease (the relay crashed or hung) is
claimed again by any relay. Messages keep their order per ticket within a
relay's batch; with several relays, a consumer that needs order per ticket
orders by ``sequence``.

A message that cannot be decoded is set aside as failed at claim time; a relay
sets aside one its broker refuses with :meth:`~Outbox.fail`. Failed messages
never block the others; :meth:`~Outbox.failed` lists them (the dead letters)
and :meth:`~Outbox.retry` puts them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Final

import attrs

from csdomain._kernel.codec import loads
from csdomain._kernel.time import to_epoch_us
from csdomain.errors import ValidationError
from csdomain.serialization import SCHEMA_VERSION, from_dict
from csdomain.storage._context import Context
from csdomain.storage.backend import OutboxRow, check_key
from csdomain.storage.paging import Page, check_limit, decode_cursor, encode_cursor
from csdomain.storage.repository import UNREADABLE
from csdomain.tickets import TicketEvent

__all__ = ["DEFAULT_LEASE", "FailedMessage", "Outbox", "OutboxMessage"]

#: How long a claimed message stays with its relay by default.
DEFAULT_LEASE: Final = timedelta(seconds=30)

_MAX_LEASE: Final = timedelta(days=1)


@attrs.frozen
class OutboxMessage:
    """A ticket event waiting to be relayed: ``sequence`` is its index in the timeline;
    ``attempts`` counts the claims that delivered it (1 on its first claim)."""

    id: int
    ticket_id: str
    sequence: int
    event: TicketEvent
    attempts: int = 0


@attrs.frozen
class FailedMessage:
    """A message set aside: why, after how many claims; its event is not decoded."""

    id: int
    ticket_id: str
    sequence: int
    event_type: str
    attempts: int
    reason: str


def _ids(ids: Iterable[int]) -> list[int]:
    checked = list(ids)
    if not all(type(i) is int and 0 < i < 2**63 for i in checked):
        raise ValidationError.single(
            "outbox", "ids", f"expected message ids (positive integers), got {checked!r}"
        )
    return checked


def _relay(relay: object) -> str:
    return check_key("outbox", "relay", relay)


class Outbox:
    """Ticket events written with the tickets, waiting to be relayed (at least once)."""

    def __init__(self, context: Context) -> None:
        self._context = context

    def _decode(self, row: OutboxRow) -> OutboxMessage:
        # The outbox keeps each event as it appears in its ticket's document.
        document = loads(row.text, subject="outbox message")
        if not isinstance(document, dict):
            raise ValidationError.single("outbox message", "", "expected a JSON object")
        envelope = {"schema_version": SCHEMA_VERSION, "document": "ticket_event"}
        event = from_dict({**envelope, **document}, TicketEvent)
        return OutboxMessage(row.id, row.key, row.sequence, event, row.attempts)

    def _decoded(self, rows: list[OutboxRow], relay: str | None) -> list[OutboxMessage]:
        messages, poisoned = [], []
        for row in rows:
            try:
                messages.append(self._decode(row))
            except UNREADABLE as exc:
                reason = str(exc) if isinstance(exc, ValidationError) else type(exc).__name__
                poisoned.append((row.id, f"cannot be decoded: {reason[:300]}"))
        for id, reason in poisoned:
            with self._context.unit():
                self._context.backend.outbox_fail(relay, [id], reason)
        return messages

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """The oldest unpublished messages, in the order they were written (per ticket too).

        Leases are not taken: for a single relay, or to look. A message that
        cannot be decoded is set aside as failed instead of being returned.
        """
        limit = check_limit(limit)
        return self._decoded(self._context.backend.outbox_pending(limit), None)

    def mark_published(self, ids: Iterable[int]) -> None:
        """Mark messages as relayed, leased or not; they no longer appear in :meth:`pending`."""
        checked = _ids(ids)
        with self._context.unit():
            self._context.backend.outbox_ack(None, checked)

    def claim(
        self, *, relay: str, limit: int = 100, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` of the oldest unpublished messages to ``relay`` for ``lease``.

        No other relay gets them until the lease ends; acknowledge them with
        :meth:`ack` once published. Messages that cannot be decoded are set
        aside as failed (see :meth:`failed`) and not returned.
        """
        relay = _relay(relay)
        limit = check_limit(limit)
        if not isinstance(lease, timedelta) or not timedelta(0) < lease <= _MAX_LEASE:
            raise ValidationError.single(
                "outbox", "lease", f"expected a duration above 0 and up to 1 day, got {lease!r}"
            )
        now = to_epoch_us(self._context.clock.now())
        lease_us = lease // timedelta(microseconds=1)
        messages: list[OutboxMessage] = []
        while len(messages) < limit:  # poisoned messages set aside do not shrink the batch
            with self._context.unit():
                rows = self._context.backend.outbox_claim(
                    relay, limit - len(messages), now, lease_us
                )
            if not rows:
                break
            messages.extend(self._decoded(rows, relay))
        return messages

    def ack(self, ids: Iterable[int], *, relay: str) -> int:
        """Mark published the messages among ``ids`` still leased to ``relay``; returns
        how many (a message whose lease ran out and went to another relay is not
        counted: that relay publishes it again)."""
        relay, checked = _relay(relay), _ids(ids)
        with self._context.unit():
            return self._context.backend.outbox_ack(relay, checked)

    def fail(self, ids: Iterable[int], *, relay: str, reason: str) -> int:
        """Set aside the messages among ``ids`` leased to ``relay``, with ``reason``."""
        relay, checked = _relay(relay), _ids(ids)
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 1_000:
            raise ValidationError.single(
                "outbox", "reason", f"expected a reason of 1 to 1,000 characters, got {reason!r}"
            )
        with self._context.unit():
            return self._context.backend.outbox_fail(relay, checked, reason)

    def failed(self, *, limit: int = 100, cursor: str | None = None) -> Page[FailedMessage]:
        """A page of the messages set aside, by id."""
        limit = check_limit(limit)
        query = (self._context.tenant, "outbox", "failed")
        after = decode_cursor(query, cursor)[0] if cursor is not None else None
        if after is not None and type(after) is not int:
            decode_cursor((), cursor)  # raises the cursor error
        rows = self._context.backend.outbox_failed(after, limit + 1)
        items = tuple(
            FailedMessage(r.id, r.key, r.sequence, r.type, r.attempts, r.failure or "")
            for r in rows[:limit]
        )
        more = len(rows) > limit
        next_cursor = encode_cursor(query, items[-1].id, "") if more and items else None
        return Page(items, next_cursor)

    def retry(self, ids: Iterable[int]) -> int:
        """Return failed messages among ``ids`` to the pending ones; returns how many."""
        checked = _ids(ids)
        with self._context.unit():
            return self._context.backend.outbox_retry(checked)
