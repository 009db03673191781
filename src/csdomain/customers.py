"""Customers: who they are, how to reach them, and what they have bought.

Fields holding personal data carry the ``csdomain.personal`` mark in their
attrs metadata; :func:`csdomain.personal_fields` lists them so that redaction
and erasure can find them without a hand-kept list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Set
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import TypeAlias

import attrs
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies

from csdomain._kernel.documents import declare_document
from csdomain._kernel.enums import OrderedEnum
from csdomain._kernel.labels import declare_labels
from csdomain._kernel.messages import _mark
from csdomain._kernel.time import optional_utc, to_utc
from csdomain._kernel.validation import (
    Check,
    Checked,
    JsonScalar,
    both,
    calendar_date,
    checked,
    decimal_amount,
    each,
    frozen_set_of_str,
    iana_zone,
    instance,
    instant,
    json_scalars,
    key,
    member_of,
    optional,
    tags_check,
    text,
    tuple_of,
    unique_by,
)
from csdomain.channels import ChannelKind, channel_key
from csdomain.privacy import masked

__all__ = [
    "Consent",
    "ContactPoint",
    "Customer",
    "CustomerTier",
    "Purchase",
]


class CustomerTier(OrderedEnum):
    """Customer class, ordered ``STANDARD < VIP < ENTERPRISE``."""

    STANDARD = "standard"
    VIP = "vip"
    ENTERPRISE = "enterprise"


declare_labels(
    CustomerTier,
    {
        CustomerTier.STANDARD: _mark("customer tier", "Standard"),
        CustomerTier.VIP: _mark("customer tier", "VIP"),
        CustomerTier.ENTERPRISE: _mark("customer tier", "Enterprise"),
    },
)


class Consent(Enum):
    """Whether the customer agreed to be contacted on a contact point."""

    UNKNOWN = "unknown"
    GIVEN = "given"
    WITHDRAWN = "withdrawn"


declare_labels(
    Consent,
    {
        Consent.UNKNOWN: _mark("consent", "Unknown"),
        Consent.GIVEN: _mark("consent", "Given"),
        Consent.WITHDRAWN: _mark("consent", "Withdrawn"),
    },
)


def _channel_key(value: ChannelKind | str) -> str:
    # A ChannelKind is stored as its plain key; anything else is left for the check.
    return channel_key(value) if isinstance(value, ChannelKind) else value


@attrs.frozen
class ContactPoint(Checked):
    """One address of a customer on one channel (a phone number, an email, a WeChat openid).

    ``consent`` with ``consent_changed_at`` records the customer's latest word
    on being contacted there; ``do_not_contact`` is a hard block that wins over
    consent. :attr:`contactable` is what outreach (revisits, surveys) checks.
    """

    channel: str = attrs.field(converter=_channel_key, metadata=checked(key("channel key")))
    address: str = attrs.field(repr=masked, metadata=checked(text(max_length=320), personal=True))
    verified: bool = attrs.field(default=False, metadata=checked(instance(bool, "true or false")))
    consent: Consent = attrs.field(default=Consent.UNKNOWN, metadata=checked(member_of(Consent)))
    consent_changed_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(optional(instant))
    )
    do_not_contact: bool = attrs.field(
        default=False, metadata=checked(instance(bool, "true or false"))
    )

    @property
    def contactable(self) -> bool:
        """True when consent is given and no do-not-contact block is set."""
        return self.consent is Consent.GIVEN and not self.do_not_contact

    def give_consent(self, at: datetime) -> ContactPoint:
        """This contact point with consent given at ``at``."""
        return attrs.evolve(self, consent=Consent.GIVEN, consent_changed_at=at)

    def withdraw_consent(self, at: datetime) -> ContactPoint:
        """This contact point with consent withdrawn at ``at``."""
        return attrs.evolve(self, consent=Consent.WITHDRAWN, consent_changed_at=at)

    def _check_whole(self) -> Iterator[tuple[str, str]]:
        if self.consent is not Consent.UNKNOWN and self.consent_changed_at is None:
            yield (
                "consent_changed_at",
                (f"consent is {self.consent.value!r}, so the instant it was recorded is required"),
            )


declare_document("contact_point", ContactPoint)


_CURRENCIES = frozenset(list_currencies())


def _currency_explain(value: object) -> Iterator[tuple[str, str]]:
    yield "", f"expected an ISO 4217 currency code such as 'CNY' or 'USD', got {value!r}"


_currency = Check(lambda v: type(v) is str and v in _CURRENCIES, _currency_explain)


@attrs.frozen
class Purchase(Checked):
    """An order the customer placed: amount in an ISO 4217 currency, when, and what."""

    order_id: str = attrs.field(metadata=checked(key("order id")))
    amount: Decimal = attrs.field(metadata=checked(decimal_amount))
    currency: str = attrs.field(metadata=checked(_currency))
    purchased_at: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    product: str = attrs.field(metadata=checked(text(max_length=500)))


declare_document("purchase", Purchase)


@lru_cache(maxsize=256)
def _known_locale(identifier: str) -> bool:
    # "zh-CN" is how browsers spell it; Babel's parser wants "zh_CN".
    try:
        Locale.parse(identifier.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True


def _locale_explain(value: object) -> Iterator[tuple[str, str]]:
    yield (
        "",
        f"expected a locale identifier such as 'en', 'zh_CN', 'zh-CN' or 'zh_TW', got {value!r}",
    )


_locale = Check(lambda v: type(v) is str and v != "" and _known_locale(v), _locale_explain)


def _attributes(value: Mapping[str, JsonScalar]) -> dict[str, JsonScalar]:
    # A copy, so the caller's dict cannot change the customer; a non-mapping is left
    # for the check to reject.
    return dict(value) if isinstance(value, Mapping) else value


def _contact_points(value: Iterable[ContactPoint]) -> tuple[ContactPoint, ...]:
    return tuple_of(value)


def _purchases(value: Iterable[Purchase]) -> tuple[Purchase, ...]:
    return tuple_of(value)


#: What ``segments`` accepts: a collection of strings, not a bare string.
_Strings: TypeAlias = Set[str] | list[str] | tuple[str, ...] | Iterator[str]


def _segments(value: _Strings) -> frozenset[str]:
    return frozen_set_of_str(value)


@attrs.frozen
class Customer(Checked):
    """A customer of the company.

    Immutable: methods such as :meth:`with_contact_point` return a new
    customer. ``attributes`` holds an app's own fields as JSON scalars; treat
    it as read-only and change it with :meth:`with_attributes`.
    """

    id: str = attrs.field(metadata=checked(key("customer id")))
    display_name: str = attrs.field(
        repr=masked, metadata=checked(text(max_length=200), personal=True)
    )
    contact_points: tuple[ContactPoint, ...] = attrs.field(
        factory=tuple,
        converter=_contact_points,
        repr=masked,
        metadata=checked(
            both(
                each(instance(ContactPoint, "a ContactPoint")),
                unique_by("channel", "address", what="channel and address"),
            ),
            personal=True,
        ),
    )
    tier: CustomerTier = attrs.field(
        default=CustomerTier.STANDARD, metadata=checked(member_of(CustomerTier))
    )
    segments: frozenset[str] = attrs.field(
        factory=frozenset, converter=_segments, metadata=checked(tags_check)
    )
    timezone: str = attrs.field(default="UTC", metadata=checked(iana_zone))
    locale: str = attrs.field(default="en", metadata=checked(_locale))
    birthday: date | None = attrs.field(
        default=None, repr=masked, metadata=checked(optional(calendar_date), personal=True)
    )
    attributes: dict[str, JsonScalar] = attrs.field(
        factory=dict,
        converter=_attributes,
        repr=masked,
        metadata=checked(json_scalars, personal=True),
    )
    purchases: tuple[Purchase, ...] = attrs.field(
        factory=tuple,
        converter=_purchases,
        metadata=checked(
            both(each(instance(Purchase, "a Purchase")), unique_by("order_id", what="order id"))
        ),
    )

    def contact_points_on(self, channel: ChannelKind | str) -> tuple[ContactPoint, ...]:
        """The customer's contact points on ``channel``."""
        k = channel_key(channel)
        return tuple(cp for cp in self.contact_points if cp.channel == k)

    def contactable_on(self, channel: ChannelKind | str) -> bool:
        """True when some contact point on ``channel`` may be used for outreach."""
        return any(cp.contactable for cp in self.contact_points_on(channel))

    def with_contact_point(self, contact_point: ContactPoint) -> Customer:
        """This customer with ``contact_point`` added, or replacing the one on the same
        channel with the same address (a phone number on ``sms`` and on
        ``phone_hotline`` are two contact points, each with its own consent)."""
        same = (contact_point.channel, contact_point.address)
        kept = tuple(cp for cp in self.contact_points if (cp.channel, cp.address) != same)
        return attrs.evolve(self, contact_points=(*kept, contact_point))

    def with_purchase(self, purchase: Purchase) -> Customer:
        """This customer with ``purchase`` recorded (order ids must stay unique)."""
        return attrs.evolve(self, purchases=(*self.purchases, purchase))

    def with_attributes(self, **values: JsonScalar) -> Customer:
        """This customer with ``values`` merged into ``attributes``."""
        return attrs.evolve(self, attributes={**self.attributes, **values})


declare_document("customer", Customer)
