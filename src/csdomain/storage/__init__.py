"""Storage: a tenant-bound :class:`Store` of customers, tickets, people and configuration.

Open one with :func:`open_store`::

    store = open_store("sqlite:///desk.db", tenant="acme", create=True)  # the embedded default
    store = open_store("memory:", tenant="acme")             # tests and prototypes
    store = open_store("postgresql://localhost/desk", tenant="acme")  # csdomain[postgres]

Every record is the library's JSON document plus indexed columns, with a
version. ``add`` stores version 1; ``save(value, expected_version=n)`` stores
version ``n + 1`` only if the stored version is still ``n``, and raises
:class:`~csdomain.errors.ConflictError` otherwise, changing nothing. Aggregates
are stored in *collections declared as data* (:class:`Collection`: indexed
columns, uniqueness, the queries served), so a new aggregate needs no adapter
change: :meth:`Store.collection` gives its repository.

A ticket is stored as appended event rows plus a state row
(:mod:`csdomain.storage.tickets`): a save writes only the new events, which also
go, in the same transaction, to the :attr:`Store.outbox` for relays to publish
(:mod:`csdomain.storage.outbox`: leases, so that two relays publish nothing
twice, and dead letters). :meth:`Store.erase_customer` redacts a customer's
personal data everywhere (:mod:`csdomain.storage.erasure`).

Work happens in a unit of work: ``with store.transaction():`` commits every
change inside it together, or none when the block raises. Calls outside a
transaction run in one of their own. Transactions do not nest: opening one
inside another raises :class:`StorageError` (use one transaction per unit of
work).

A store sees only its tenant's records: any id of another tenant's record is
answered with :class:`~csdomain.errors.NotFoundError`, exactly as a missing one.
Listings are pages with an opaque ``next_cursor`` (keyset pagination) bound to
their query, never whole tables.

Errors are the same on every adapter: :class:`~csdomain.errors.ConflictError`
carries ``kind``, ``key``, ``expected_version`` (``None`` for an add of a key
that exists) and ``stored_version``; a stored document that cannot be read is a
:class:`~csdomain.errors.CorruptRecordError` naming its kind and key (a
:class:`~csdomain.errors.SchemaError` when it was written by a newer csdomain);
database failures are the :class:`StorageError` subclasses listed in
:mod:`csdomain.storage.backend`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, TypeVar

from csdomain._kernel.collections import Collection, Column, ColumnType, Query, declare_collection
from csdomain.addresses import ContactRules
from csdomain.clock import Clock, SystemClock
from csdomain.errors import StorageError, ValidationError
from csdomain.people import Agent, Group
from csdomain.privacy import mask_url
from csdomain.storage._context import DEFAULT_MAX_DOCUMENT_BYTES, Context
from csdomain.storage.adapters import adapter_for, register_adapter
from csdomain.storage.backend import SCHEMA_VERSION, Backend, _register_store_type, check_key
from csdomain.storage.config import ConfigurationRepository
from csdomain.storage.customers import CONTACT_RULES_NAME, CustomerRepository
from csdomain.storage.erasure import Erasure, erase_customer
from csdomain.storage.legacy import move_legacy
from csdomain.storage.outbox import FailedMessage, Outbox, OutboxMessage
from csdomain.storage.paging import MAX_PAGE, Page
from csdomain.storage.repository import ColumnRow, DocumentRepository, Stored
from csdomain.storage.tickets import TicketRepository

__all__ = [
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "MAX_PAGE",
    "SCHEMA_VERSION",
    "Backend",
    "Collection",
    "Column",
    "ColumnRow",
    "ColumnType",
    "ConfigurationRepository",
    "CustomerRepository",
    "DocumentRepository",
    "Erasure",
    "FailedMessage",
    "Outbox",
    "OutboxMessage",
    "Page",
    "Query",
    "Repository",
    "StorageError",
    "Store",
    "Stored",
    "TicketRepository",
    "declare_collection",
    "open_store",
    "register_adapter",
]

T = TypeVar("T")

#: The repository of customers, agents, groups and any declared collection.
Repository = DocumentRepository

_AGENTS = declare_collection(Collection("agents", "agent", Agent, key_of=lambda agent: agent.id))
_GROUPS = declare_collection(Collection("groups", "group", Group, key_of=lambda group: group.id))


class Store:
    """One tenant's records in one database: repositories and the unit of work.

    Open with :func:`open_store`; close with :meth:`close` or a ``with`` block.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Clock | None = None,
        max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    ) -> None:
        if (
            isinstance(max_document_bytes, bool)
            or not isinstance(max_document_bytes, int)
            or (max_document_bytes < 1_024)
        ):
            raise ValidationError.single(
                "open_store",
                "max_document_bytes",
                f"expected a number of bytes, 1024 or more, got {max_document_bytes!r}",
            )
        self._context = context = Context(backend, clock or SystemClock(), max_document_bytes)
        self._repositories: dict[str, DocumentRepository[Any]] = {}
        self.customers = CustomerRepository(context, lambda: self.contact_rules)
        self.agents: DocumentRepository[Agent] = self.collection(_AGENTS)
        self.groups: DocumentRepository[Group] = self.collection(_GROUPS)
        self.tickets = TicketRepository(context)
        self.config = ConfigurationRepository(context)
        self.outbox = Outbox(context)
        move_legacy(self)

    @property
    def tenant(self) -> str:
        """The tenant whose records this store reads and writes."""
        return self._context.tenant

    @property
    def backend(self) -> Backend:
        """The adapter's backend this store runs on (for adapter tests and tooling:
        it reads and writes raw rows, bypassing every domain check)."""
        return self._context.backend

    @property
    def clock(self) -> Clock:
        """The clock this store reads "now" from (outbox leases, erasure records)."""
        return self._context.clock

    def collection(self, collection: Collection[T]) -> DocumentRepository[T]:
        """The repository of a declared collection (declared to the database on first use)."""
        if not isinstance(collection, Collection):
            raise ValidationError.single(
                "store", "collection", f"expected a Collection, got {collection!r}"
            )
        if collection.events:
            raise ValidationError.single(
                "store",
                "collection",
                f"{collection.name!r} stores event streams; use its own repository",
            )
        present = self._repositories.get(collection.name)
        if present is not None and present.collection is collection:
            return present
        repository = DocumentRepository(self._context, collection)
        self._repositories[collection.name] = repository
        return repository

    @property
    def contact_rules(self) -> ContactRules:
        """The tenant's contact rules (the defaults until :meth:`set_contact_rules`)."""
        found = self.config.get_many(ContactRules, [CONTACT_RULES_NAME])  # one read
        stored = found.get(CONTACT_RULES_NAME)
        return ContactRules() if stored is None else stored.value

    def set_contact_rules(self, rules: ContactRules) -> None:
        """Adopt ``rules`` for the tenant's contact points, re-indexing every customer.

        With ``unique=True``, ``ConflictError`` names a customer whose contact
        point another customer holds; then nothing changes.
        """
        if not isinstance(rules, ContactRules):
            raise ValidationError.single(
                "store", "rules", f"expected ContactRules, got a {type(rules).__name__}"
            )
        with self._context.unit():
            row = self.backend.get("config", f"contact_rules:{CONTACT_RULES_NAME}")
            if row is None:
                self.config.add(CONTACT_RULES_NAME, rules)
            else:
                self.config.save(CONTACT_RULES_NAME, rules, expected_version=row.version)
            self.customers.reindex()

    def erase_customer(
        self, customer_id: str, *, reason: str, at: datetime | None = None
    ) -> Erasure:
        """Replace the customer's personal data with redaction markers, everywhere.

        See :mod:`csdomain.storage.erasure`. Returns the :class:`Erasure` record
        (the first one, if the customer was erased before); ``NotFoundError``
        when the tenant has neither this customer nor tickets of theirs.
        """
        check_key("erasure", "customer_id", customer_id)
        return erase_customer(self, customer_id, reason, at)

    def transaction(self) -> AbstractContextManager[None]:
        """A unit of work: every change inside commits together, or none on an exception."""
        return self._context.transaction()

    def close(self) -> None:
        """Release the database connections."""
        self._context.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store of tenant {self.tenant!r} on {self._context.backend!r}>"


_register_store_type(Store)


def open_store(
    url: str,
    *,
    tenant: str,
    create: bool = False,
    clock: Clock | None = None,
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
) -> Store:
    """Open the store of ``tenant`` at ``url``.

    ``memory:`` (a private in-process database) or ``memory:NAME`` (one shared
    by name within the process); ``sqlite:///path/to/file.db``;
    ``postgresql://user@host/db`` (needs ``csdomain[postgres]``); or a scheme
    a third-party adapter registered (:mod:`csdomain.storage.adapters`).

    A URL naming no csdomain store (a missing or empty file, an empty
    database) raises :class:`~csdomain.errors.NoStoreError` unless ``create``
    is true. ``clock`` is where leases and erasure records read "now";
    documents larger than ``max_document_bytes`` are refused.
    """
    if not isinstance(url, str) or ":" not in url:
        shown = repr(mask_url(url)) if isinstance(url, str) else f"a {type(url).__name__}"
        raise ValidationError.single(
            "open_store",
            "url",
            f"expected a URL such as 'sqlite:///desk.db' or 'memory:', got {shown}",
        )
    check_key("open_store", "tenant", tenant)
    if not isinstance(create, bool):
        raise ValidationError.single("open_store", "create", f"expected a bool, got {create!r}")
    opener = adapter_for(url.split(":", 1)[0])
    backend = opener(url, tenant, create=create)
    try:
        return Store(backend, clock=clock, max_document_bytes=max_document_bytes)
    except BaseException:
        backend.close()
        raise
