"""Strategies: customers."""

from __future__ import annotations

import operator
import string
from datetime import date, datetime
from decimal import Decimal

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from csdomain.customers import Consent, ContactPoint, Customer, CustomerTier, Purchase
from csdomain.testing.strategies._channels import (
    _channel_keys,
)
from csdomain.testing.strategies._common import (
    _DEFAULT_BOUNDS,
    _DEFAULT_MIN,
    _KEY_TAIL,
    _aware_datetimes,
    _check_size,
    _check_strategy,
    _ids,
    _json_maps,
    _keys,
    _maybe,
    _memo,
    _texts,
    _zone_names,
    _zones,
    locales,
)
from csdomain.testing.strategies.registry import register

_COMMON_CURRENCIES: tuple[str, ...] = ("CNY", "USD", "EUR", "JPY", "HKD", "TWD", "GBP", "KRW")


def consents() -> SearchStrategy[Consent]:
    """Members of :class:`~csdomain.Consent`. Requires Hypothesis."""
    return st.sampled_from(Consent)


def customer_tiers() -> SearchStrategy[CustomerTier]:
    """Members of :class:`~csdomain.CustomerTier`. Requires Hypothesis."""
    return st.sampled_from(CustomerTier)


# -- customers ------------------------------------------------------------------------


@_memo
def _addresses() -> SearchStrategy[str]:
    local = st.text(
        alphabet=string.ascii_lowercase + string.digits + "._+", min_size=1, max_size=12
    )
    domain = st.sampled_from(("example.com", "example.cn", "例子.中国", "mail.example.org"))
    email = st.builds("{}@{}".format, local, domain)
    phone = st.builds(
        "+{} {}".format,
        st.sampled_from(("86", "852", "886", "1", "44", "61")),
        st.text(alphabet=string.digits, min_size=6, max_size=11),
    )
    openid = st.builds(
        operator.add, st.just("o"), st.text(alphabet=_KEY_TAIL, min_size=10, max_size=28)
    )
    return st.one_of(email, phone, openid, _texts(40))


def contact_points(*, channels: SearchStrategy[str] | None = None) -> SearchStrategy[ContactPoint]:
    """:class:`~csdomain.ContactPoint` values (emails, phone numbers, openids, free text).

    ``channels`` draws the channel key (default: :func:`channel_keys`). A
    consent other than ``unknown`` always comes with the instant it was recorded.

    Requires Hypothesis.
    """
    _check_strategy("channels", channels)
    return _contact_points(_channel_keys(True, True) if channels is None else channels)


register(ContactPoint, contact_points)


@_memo
def _contact_points(channel: SearchStrategy[str]) -> SearchStrategy[ContactPoint]:
    return st.builds(
        _contact_point,
        channel=channel,
        address=_addresses(),
        verified=st.booleans(),
        consent=consents(),
        changed_at=_maybe(_aware_datetimes(*_DEFAULT_BOUNDS, _zones())),
        do_not_contact=st.booleans(),
    )


def _contact_point(
    *,
    channel: str,
    address: str,
    verified: bool,
    consent: Consent,
    changed_at: datetime | None,
    do_not_contact: bool,
) -> ContactPoint:
    if consent is not Consent.UNKNOWN and changed_at is None:
        changed_at = _DEFAULT_MIN  # recorded consent needs its instant
    return ContactPoint(
        channel=channel,
        address=address,
        verified=verified,
        consent=consent,
        consent_changed_at=changed_at,
        do_not_contact=do_not_contact,
    )


def purchases(
    *,
    min_amount: Decimal = Decimal("0"),
    max_amount: Decimal = Decimal("100000"),
    currencies: SearchStrategy[str] | None = None,
) -> SearchStrategy[Purchase]:
    """:class:`~csdomain.Purchase` values with finite ``Decimal`` amounts (two places)
    in ``[min_amount, max_amount]`` and ISO 4217 currencies (CNY, USD, EUR, ...
    or any code Babel knows). Requires Hypothesis.
    """
    for name, value in (("min_amount", min_amount), ("max_amount", max_amount)):
        if not isinstance(value, Decimal) or not value.is_finite():
            raise InvalidArgument(f"{name}={value!r} must be a finite Decimal")
    if min_amount > max_amount:
        raise InvalidArgument(f"min_amount={min_amount} must not exceed max_amount={max_amount}")
    _check_strategy("currencies", currencies)
    return _purchases(min_amount, max_amount, _currencies() if currencies is None else currencies)


register(Purchase, purchases)


@_memo
def _currencies() -> SearchStrategy[str]:
    from babel.numbers import list_currencies

    rest = sorted(set(list_currencies()) - set(_COMMON_CURRENCIES))
    return st.sampled_from((*_COMMON_CURRENCIES, *rest))


@_memo
def _purchases(
    min_amount: Decimal, max_amount: Decimal, currencies: SearchStrategy[str]
) -> SearchStrategy[Purchase]:
    return st.builds(
        Purchase,
        order_id=_ids("ord"),
        amount=st.decimals(
            min_value=min_amount,
            max_value=max_amount,
            places=2,
            allow_nan=False,
            allow_infinity=False,
        ),
        currency=currencies,
        purchased_at=_aware_datetimes(*_DEFAULT_BOUNDS, _zones()),
        product=_texts(40),
    )


def _address_of(contact_point: ContactPoint) -> str:
    return contact_point.address


def _order_of(purchase: Purchase) -> str:
    return purchase.order_id


def customers(
    *,
    max_contact_points: int = 3,
    max_purchases: int = 3,
    max_segments: int = 3,
    max_attributes: int = 4,
) -> SearchStrategy[Customer]:
    """:class:`~csdomain.Customer` values.

    Contact points have distinct addresses and purchases distinct order ids;
    the zone is a valid IANA name (:func:`timezone_names`), the locale one
    Babel knows (``en``, ``zh_CN``, ``zh_TW``, ``zh_Hant_HK``, ...);
    attributes are JSON scalars (unicode and emoji text without NUL, finite
    floats). The bounds cap the size of each collection.

    Requires Hypothesis.
    """
    _check_size("max_contact_points", max_contact_points)
    _check_size("max_purchases", max_purchases)
    _check_size("max_segments", max_segments)
    _check_size("max_attributes", max_attributes)
    return _customers(max_contact_points, max_purchases, max_segments, max_attributes)


register(Customer, customers)


@_memo
def _customers(
    max_contact_points: int, max_purchases: int, max_segments: int, max_attributes: int
) -> SearchStrategy[Customer]:
    return st.builds(
        Customer,
        id=_ids("cus"),
        display_name=_texts(40),
        contact_points=st.lists(
            _contact_points(_channel_keys(True, True)),
            max_size=max_contact_points,
            unique_by=_address_of,
        ).map(tuple),
        tier=customer_tiers(),
        segments=st.frozensets(_keys(24), max_size=max_segments),
        timezone=_zone_names(),
        locale=locales(),
        birthday=_maybe(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31))),
        attributes=_json_maps(max_attributes),
        purchases=st.lists(
            _purchases(Decimal(0), Decimal(100000), _currencies()),
            max_size=max_purchases,
            unique_by=_order_of,
        ).map(tuple),
    )
