"""Customers in storage: found by contact address, and contact points unique if asked.

Every contact point is indexed by its normalized address
(:func:`csdomain.addresses.normalize_address`: phones in E.164 with the
tenant's default region, e-mail domains lower-cased, platform ids exact), so
``find_by_contact("13800138000")`` finds a customer stored with ``+86 138 0013
8000`` when the tenant's default region is ``CN``. The tenant's
:class:`~csdomain.addresses.ContactRules` live in its configuration; with
``unique=True`` a contact point (channel plus normalized address) belongs to at
most one customer, enforced by the database: of racing intakes for one WeChat
openid, one creates the customer and the others get ``ConflictError``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from csdomain._kernel.collections import Collection, Column, ColumnType, Query, declare_collection
from csdomain.addresses import ContactRules, contact_key, normalize_address
from csdomain.customers import Customer
from csdomain.errors import ConflictError, ValidationError
from csdomain.privacy import is_redacted
from csdomain.storage._context import Context
from csdomain.storage.repository import DocumentRepository, Stored

__all__ = ["CONTACT_RULES_NAME", "CUSTOMERS", "CustomerRepository"]

#: The customer collection: contact points indexed for lookups, and owned when unique.
CUSTOMERS: Final = declare_collection(
    Collection(
        "customers",
        "customer",
        Customer,
        key_of=lambda customer: customer.id,
        columns=[
            Column("contact", ColumnType.TEXT, multiple=True),
            Column("owned_contact", ColumnType.TEXT, multiple=True, unique=True),
        ],
        queries=[Query("by_contact", where=["contact"])],
    )
)

#: The configuration name under which a tenant's ContactRules are kept.
CONTACT_RULES_NAME: Final = "default"


@contextmanager
def _contact_conflicts() -> Iterator[None]:
    """A clash on the unique contact index, said in the caller's words."""
    try:
        yield
    except ConflictError as exc:
        if "owned_contact" not in (exc.detail or ""):
            raise
        holder = re.search(r"\(([^()\s]+)\)\s*$", exc.detail)
        by = f" by customer {holder.group(1)}" if holder else " by another customer"
        raise ConflictError(
            "customer",
            exc.key,
            exc.expected_version,
            exc.stored_version,
            f"one of its contact points (channel and normalized address) is held{by}; "
            "the tenant's contact rules make contact points unique",
        ) from None


class CustomerRepository(DocumentRepository[Customer]):
    """Customers, also found by contact address (phone number, e-mail, WeChat id, ...)."""

    def __init__(self, context: Context, rules: Any) -> None:
        super().__init__(context, CUSTOMERS)
        self._rules = rules  # a callable returning the tenant's ContactRules

    def _columns(self, value: Customer) -> dict[str, Any]:
        rules: ContactRules = self._rules()
        region = rules.default_region
        points = [cp for cp in value.contact_points if not is_redacted(cp.address)]
        contact = {
            normalize_address(cp.channel, cp.address, default_region=region) for cp in points
        }
        owned = (
            {contact_key(cp.channel, cp.address, default_region=region) for cp in points}
            if rules.unique
            else set()
        )
        return {"contact": tuple(sorted(contact)), "owned_contact": tuple(sorted(owned))}

    def add_many(self, values: Iterable[Customer]) -> list[Stored[Customer]]:
        """Store new customers, all or none; ``ConflictError`` for an id taken or,
        under unique contact rules, a contact point another customer holds."""
        with _contact_conflicts():
            return super().add_many(values)

    def save(self, value: Customer, *, expected_version: int) -> Stored[Customer]:
        """Replace a customer if its version is still ``expected_version`` (see
        :meth:`DocumentRepository.save`); contact points as in :meth:`add_many`."""
        with _contact_conflicts():
            return super().save(value, expected_version=expected_version)

    def find_by_contact(
        self, address: str, channel: str | None = None
    ) -> tuple[Stored[Customer], ...]:
        """Customers with a contact point at ``address`` (on ``channel``), by id.

        Addresses compare normalized: a phone number in any spelling of the
        tenant's default region, an e-mail address whatever the case of its domain.
        """
        if not isinstance(address, str) or not address or is_redacted(address):
            raise ValidationError.single(
                "customer store", "address", f"expected an address, got {address!r}"
            )
        region = self._rules().default_region
        channels = [channel] if channel is not None else ["phone_hotline", "email", ""]
        forms = {address}
        for kind in channels:
            forms.add(normalize_address(kind, address, default_region=region))
        found: dict[str, Stored[Customer]] = {}
        cursor = None
        while True:
            page = self.find("by_contact", where={"contact": tuple(sorted(forms))}, cursor=cursor)
            for stored in page.items:
                found[stored.value.id] = stored
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        if channel is not None:
            found = {
                key: stored
                for key, stored in found.items()
                if any(
                    cp.channel == channel
                    and normalize_address(cp.channel, cp.address, default_region=region) in forms
                    for cp in stored.value.contact_points
                )
            }
        return tuple(found[key] for key in sorted(found))

    def reindex(self, ids: Iterable[str] | None = None) -> int:
        """Recompute the contact columns of these customers (every one when None), in
        the caller's unit of work; returns how many. ConflictError if contact points
        must be unique and two customers share one."""
        backend = self._context.backend
        count = 0
        if ids is not None:
            stored = self.get_many(ids).values()
            for item in stored:
                backend.set_columns(CUSTOMERS.name, item.value.id, self._columns(item.value))
                count += 1
            return count
        cursor = None
        while True:
            page = self.list(limit=500, cursor=cursor)
            for item in page.items:
                try:
                    backend.set_columns(CUSTOMERS.name, item.value.id, self._columns(item.value))
                except ConflictError as exc:
                    raise ConflictError(
                        "customer",
                        item.value.id,
                        None,
                        None,
                        f"contact points cannot be made unique: {exc.detail or exc}",
                    ) from exc
                count += 1
            if page.next_cursor is None:
                return count
            cursor = page.next_cursor
