"""What a revisit rule may know of a customer's history, as condition fields.

A :class:`CustomerHistory` is the customer seen at an instant (``as_of``):
the purchases the customer holds, the last time the customer was contacted
(the caller knows this: the latest done revisit, the latest public agent
reply) and the birthday. A rule's ``who`` is evaluated on
``Facts(customer=customer, history=history)``, which reads these fields:

================================  ============================================================
path                              value (SCALAR; compare with ``Compare``)
================================  ============================================================
``history.purchase_count_90d``    purchases in the 90 days up to ``as_of`` (an int)
``history.purchase_amount_90d``   their amounts added up, as a float (currencies not converted)
``history.purchase_count_365d``   purchases in the 365 days up to ``as_of``
``history.purchase_amount_365d``  their amounts added up, as a float
``history.days_since_contact``    whole local days since the last contact (absent: never)
``history.days_to_birthday``      local days to the next birthday, 0 on it (absent: unknown)
================================  ============================================================

Days are counted on the customer's local calendar (``Customer.timezone``). A
purchase is in the last *n* days when ``as_of - n days < purchased_at <= as_of``.
A birthday on February 29 falls on February 28 in a year that is not a leap
year. Amounts are added as exact ``Decimal`` values (:meth:`CustomerHistory.
purchase_amount`) and given to conditions as floats, since a condition
compares JSON numbers; amounts in several currencies are added as they are.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final

import attrs

from csdomain._kernel.time import optional_utc, to_utc, zone
from csdomain._kernel.validation import Checked, checked, instance, instant, optional
from csdomain.conditions import FieldKind, declare_field
from csdomain.customers import Customer

__all__ = ["CustomerHistory", "birthday_in"]


def birthday_in(birthday: date, year: int) -> date:
    """The day ``birthday`` falls on in ``year`` (February 29 -> 28 outside leap years)."""
    try:
        return birthday.replace(year=year)
    except ValueError:  # February 29 in a year that is not a leap year
        return date(year, 2, 28)


@attrs.frozen
class CustomerHistory(Checked):
    """A customer's history as of an instant: purchases, last contact and birthday.

    >>> from datetime import datetime, timezone
    >>> from csdomain.customers import Customer
    >>> seen = CustomerHistory(
    ...     Customer("cus_1", "Li Lei", birthday=date(1990, 3, 2), timezone="Asia/Shanghai"),
    ...     as_of=datetime(2026, 2, 28, 12, tzinfo=timezone.utc),
    ... )
    >>> seen.days_to_birthday, seen.days_since_contact
    (2, None)
    """

    customer: Customer = attrs.field(metadata=checked(instance(Customer, "a Customer")))
    as_of: datetime = attrs.field(converter=to_utc, metadata=checked(instant))
    last_contact_at: datetime | None = attrs.field(
        default=None, converter=optional_utc, metadata=checked(optional(instant))
    )

    @property
    def local_today(self) -> date:
        """The customer's local date at ``as_of``."""
        return self.as_of.astimezone(zone(self.customer.timezone)).date()

    def purchase_count(self, days: int) -> int:
        """How many purchases fall in the ``days`` days up to ``as_of``."""
        since = self.as_of - timedelta(days=days)
        return sum(1 for p in self.customer.purchases if since < p.purchased_at <= self.as_of)

    def purchase_amount(self, days: int) -> Decimal:
        """The amounts of the purchases in the ``days`` days up to ``as_of``, added up."""
        since = self.as_of - timedelta(days=days)
        return sum(
            (p.amount for p in self.customer.purchases if since < p.purchased_at <= self.as_of),
            Decimal(0),
        )

    @property
    def days_since_contact(self) -> int | None:
        """Whole local days since the last contact; None when never contacted."""
        if self.last_contact_at is None:
            return None
        local = zone(self.customer.timezone)
        return (self.local_today - self.last_contact_at.astimezone(local).date()).days

    @property
    def days_to_birthday(self) -> int | None:
        """Local days until the next birthday (0 on the birthday); None without one."""
        birthday = self.customer.birthday
        if birthday is None:
            return None
        today = self.local_today
        next_one = birthday_in(birthday, today.year)
        if next_one < today:
            next_one = birthday_in(birthday, today.year + 1)
        return (next_one - today).days


_FIELDS: Final = (
    ("history.purchase_count_90d", lambda h: h.purchase_count(90)),
    ("history.purchase_amount_90d", lambda h: float(h.purchase_amount(90))),
    ("history.purchase_count_365d", lambda h: h.purchase_count(365)),
    ("history.purchase_amount_365d", lambda h: float(h.purchase_amount(365))),
    ("history.days_since_contact", lambda h: h.days_since_contact),
    ("history.days_to_birthday", lambda h: h.days_to_birthday),
)
for _path, _read in _FIELDS:
    declare_field(_path, FieldKind.SCALAR, fact="history", read=_read, what="customer history")
