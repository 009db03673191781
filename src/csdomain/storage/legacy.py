"""Moving a version 1 store (csdomain 0.1) forward, in place, when it is opened.

Version 1 kept whole documents in two tables. The adapter's migration renames
them; the store then moves their rows into the declared collections (it knows
the domain: a ticket's timeline becomes event rows, a customer's contact points
become index entries), in units of work of a few hundred rows, so an
interrupted move resumes where it stopped. Versions restart at 1. The outbox
is kept as it was, published or not, so moved tickets add nothing to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from csdomain.customers import Customer
from csdomain.errors import CorruptRecordError
from csdomain.people import Agent, Group
from csdomain.serialization import DOCUMENT_TYPES, from_json
from csdomain.storage.repository import UNREADABLE, unreadable
from csdomain.tickets import Ticket

if TYPE_CHECKING:
    from csdomain.storage import Store

__all__ = ["move_legacy"]

_BATCH: Final = 200


def move_legacy(store: Store) -> int:
    """Move every version 1 row into its collection; returns how many were moved."""
    backend = store.backend
    moved = 0
    while True:
        rows = backend.legacy_rows(_BATCH)
        if not rows:
            return moved
        with store.transaction():
            for row in rows:
                _move(store, row)
            backend.drop_legacy([(row[0], row[1]) for row in rows])
        moved += len(rows)


def _move(store: Store, row: tuple[Any, ...]) -> None:
    collection, key, _version, text = row[:4]
    deadline = row[4] if len(row) > 4 else None
    try:
        if collection == "tickets":
            ticket = from_json(text, Ticket)
            store.tickets._insert(
                [ticket], {} if deadline is None else {ticket.id: deadline}, outbox=False
            )
        elif collection == "customers":
            store.customers.add(from_json(text, Customer))
        elif collection == "agents":
            store.agents.add(from_json(text, Agent))
        elif collection == "groups":
            store.groups.add(from_json(text, Group))
        elif collection.startswith("config:") and collection[7:] in DOCUMENT_TYPES:
            store.config.add(key, from_json(text, DOCUMENT_TYPES[collection[7:]]))
        else:
            raise CorruptRecordError(
                f"the version 1 store holds a row of an unknown collection {collection!r} "
                f"(key {key!r}); remove it or restore the store from a backup",
                kind=collection,
                key=key,
            )
    except UNREADABLE as exc:
        raise unreadable(collection, key, exc) from exc
