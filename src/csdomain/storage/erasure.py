"""Erasure of a customer's personal data (PIPL, GDPR): redaction that keeps the KPIs.

:meth:`Store.erase_customer <csdomain.storage.Store.erase_customer>` replaces
every personal field (:func:`csdomain.privacy.personal_fields`) with
:data:`csdomain.privacy.REDACTED`: the customer's own fields and contact
addresses, and the subjects, message bodies and personal custom fields in the
events of the customer's tickets. It rewrites the stored events in place (the
one rewrite the append-only rule allows), replaces the text of the outbox
messages not yet relayed and deletes the relayed ones, appends a
:class:`~csdomain.tickets.PersonalDataErased` event to each ticket (relays tell
downstream systems to purge their copies), and records an :class:`Erasure`
naming no personal data. Instants, statuses, channels, priorities and
assignments stay, so KPIs computed afterwards do not change.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Final

import attrs

from csdomain._kernel.collections import Collection, declare_collection
from csdomain._kernel.documents import declare_document
from csdomain._kernel.time import optional_utc, to_utc
from csdomain._kernel.validation import Checked, checked, instant, key, text
from csdomain.errors import NotFoundError
from csdomain.privacy import redacted
from csdomain.serialization import events_json, to_json
from csdomain.storage.customers import CUSTOMERS
from csdomain.storage.repository import DocumentRepository
from csdomain.tickets import Actor, PersonalDataErased, Ticket

if TYPE_CHECKING:
    from csdomain.storage import Store

__all__ = ["ERASURES", "Erasure", "erase_customer"]


@attrs.frozen
class Erasure(Checked):
    """The record of an erasure: whose, why, when, and how many tickets it redacted.

    ``reason`` is the operator's reference (a request number, "PIPL art. 47"); it
    must not contain personal data.
    """

    customer_id: str = attrs.field(metadata=checked(key("customer id")))
    reason: str = attrs.field(metadata=checked(text(max_length=200)))
    at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    tickets: int = attrs.field(default=0)


declare_document("erasure", Erasure)

#: Erasure records, one per customer erased.
ERASURES: Final = declare_collection(
    Collection("erasures", "erasure", Erasure, key_of=lambda erasure: erasure.customer_id)
)


def erase_customer(store: Store, customer_id: str, reason: str, at: datetime | None) -> Erasure:
    """See :meth:`csdomain.storage.Store.erase_customer`."""
    context = store._context
    records: DocumentRepository[Erasure] = store.collection(ERASURES)
    when = optional_utc(at) if at is not None else context.clock.now()
    assert when is not None
    erasure = Erasure(customer_id, reason, when)  # validates the arguments first
    with context.unit():
        done = records.get_many([customer_id])
        if done:
            return done[customer_id].value
        customer = store.customers.get_many([customer_id]).get(customer_id)
        if customer is not None:
            erased = redacted(customer.value)
            store.customers.save(erased, expected_version=customer.version)
            # The same text again through the erasure-only rewrite: it tells the adapter
            # that old text must not linger (SQLite then truncates its write-ahead log).
            context.backend.rewrite(CUSTOMERS.name, customer_id, to_json(erased))
        count = 0
        cursor = None
        while True:
            page = store.tickets.list(customer_id=customer_id, limit=200, cursor=cursor)
            for stored in page.items:
                _erase_ticket(store, stored.value, stored.version, reason, when)
                count += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        if customer is None and count == 0:
            raise NotFoundError(
                "customer",
                customer_id,
                f"no customer and no tickets with this id in tenant {context.tenant!r}",
            )
        erasure = attrs.evolve(erasure, tickets=count)
        records.add(erasure)
    return erasure


def _erase_ticket(store: Store, ticket: Ticket, version: int, reason: str, at: datetime) -> None:
    backend = store._context.backend
    timeline = tuple(redacted(event) for event in ticket.timeline)
    texts = events_json(timeline)
    before = events_json(ticket.timeline)
    changed = {
        i: text for i, (text, old) in enumerate(zip(texts, before, strict=True)) if text != old
    }
    if changed:
        backend.rewrite_events("tickets", ticket.id, changed)
    backend.outbox_redact("tickets", ticket.id, dict(enumerate(texts)))
    store.tickets.forget(ticket.id)
    at = max(at, ticket.timeline[-1].at)  # events are recorded in time order
    notice = PersonalDataErased(at=at, actor=Actor.system("erasure"), reason=reason)
    erased = Ticket(timeline=(*timeline, notice))
    store.tickets._save_erased(erased, version, len(timeline))
