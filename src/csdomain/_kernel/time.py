"""Small helpers for aware instants and IANA zones, shared by the domain modules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csdomain.errors import ValidationError

UTC = timezone.utc

# -- the accepted instants and durations ---------------------------------------------
#
# Every instant csdomain takes (event times, clocks, SLA "now", calendar queries) lies
# in [INSTANT_MIN, INSTANT_END), and every duration within its bound, so arithmetic on
# accepted values never leaves what datetime holds (no OverflowError) and a calendar
# never has more than 300 years to index.

#: The earliest instant accepted: 1900-01-01T00:00:00+00:00 (included).
INSTANT_MIN: Final = datetime(1900, 1, 1, tzinfo=UTC)
#: The end of the accepted instants: 2200-01-01T00:00:00+00:00 (excluded).
INSTANT_END: Final = datetime(2200, 1, 1, tzinfo=UTC)
#: The longest duration accepted (a handle time, a calendar ``add``): 100 years of
#: 365.25 days.
DURATION_MAX: Final = timedelta(days=36_525)
#: The longest SLA target accepted: 10 years (3,653 days).
TARGET_MAX: Final = timedelta(days=3_653)

#: The accepted instants as error messages state them.
SPAN: Final = "1900-01-01T00:00:00+00:00 (included) to 2200-01-01T00:00:00+00:00 (excluded)"


def in_span(value: datetime) -> bool:
    """True when the aware datetime ``value`` lies in ``[INSTANT_MIN, INSTANT_END)``."""
    return INSTANT_MIN <= value < INSTANT_END


def span_problem(value: datetime) -> str:
    """The message for the aware datetime ``value`` outside the accepted instants."""
    return f"{value.isoformat()} is outside the accepted instants, {SPAN}"


def duration_text(value: timedelta) -> str:
    """A bound such as :data:`DURATION_MAX` as messages state it
    (``36525 days (100 years)``)."""
    if value.seconds or value.microseconds or value.days < 366:
        return str(value)
    return f"{value.days} days ({round(value.days / 365.25)} years)"


def is_aware(value: datetime) -> bool:
    """True when ``value`` carries a usable UTC offset."""
    return value.tzinfo is not None and value.utcoffset() is not None


def ensure_aware(value: object, subject: str, path: str) -> datetime:
    """Return ``value`` if it is an aware datetime among the accepted instants
    (:data:`INSTANT_MIN` to :data:`INSTANT_END`), else raise ``ValidationError``."""
    if not isinstance(value, datetime):
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ValidationError.single(
            subject, path, f"expected an aware datetime, got {type(value).__name__} {shown}"
        )
    if not is_aware(value):
        raise ValidationError.single(
            subject,
            path,
            f"naive datetime {value.isoformat()} rejected; pass a timezone-aware datetime "
            "(e.g. with tzinfo=ZoneInfo('Asia/Shanghai') or timezone.utc)",
        )
    if not in_span(value):
        raise ValidationError.single(subject, path, span_problem(value))
    return value


def to_utc(value: datetime) -> datetime:
    """attrs converter: aware datetimes become UTC; anything else is left for the check."""
    if type(value) is datetime and value.tzinfo is UTC:  # the common case: already UTC
        return value
    if isinstance(value, datetime) and is_aware(value):
        try:
            return value.astimezone(UTC)
        except OverflowError:  # near year 1 or 9999: outside the span, for the check
            return value
    return value


def optional_utc(value: datetime | None) -> datetime | None:
    """attrs converter for optional instants: ``None`` stays, the rest as :func:`to_utc`."""
    return None if value is None else to_utc(value)


def utc_tuple(value: Iterable[datetime]) -> tuple[datetime, ...]:
    """attrs converter for a tuple of instants: each as :func:`to_utc`, lists to tuples;
    anything else is left for the check."""
    if type(value) is tuple and all(type(v) is datetime and v.tzinfo is UTC for v in value):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(to_utc(v) for v in value)
    return value  # type: ignore[return-value]  # the check explains it


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name; raises ``LookupError`` subclasses if unknown."""
    return ZoneInfo(name)


def zone_problem(name: object) -> str | None:
    """Why ``name`` is not a usable IANA zone name, or None when it is."""
    if not isinstance(name, str) or not name:
        return f"expected an IANA time zone name such as 'Asia/Shanghai', got {name!r}"
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown IANA time zone {name!r}; expected a name such as 'Asia/Shanghai'"
    return None


#: The Unix epoch as an aware UTC datetime: instants are offsets from it in hot code.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Microseconds in one second.
US = 1_000_000


def to_epoch_us(value: datetime) -> int:
    """Integer microseconds from the epoch to the aware datetime ``value``."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


#: Up to 2**32 s after the epoch (1970-2106), ``us / 1e6`` is within a quarter of a
#: microsecond of the exact seconds, so ``datetime.fromtimestamp`` rounds to the exact
#: microsecond, in about 60% of the time of ``EPOCH + timedelta``.
_EXACT_FLOAT_US = 2**32 * US


def from_epoch_us(us: int) -> datetime:
    """The UTC datetime ``us`` microseconds after the epoch (inverse of :func:`to_epoch_us`)."""
    if 0 <= us < _EXACT_FLOAT_US:
        return datetime.fromtimestamp(us / 1e6, UTC)
    return EPOCH + timedelta(0, 0, us)


def delta_us(delta: timedelta) -> int:
    """A timedelta (or subclass such as pandas ``Timedelta``) as integer microseconds."""
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds
