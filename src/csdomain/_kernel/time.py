"""Small helpers for aware instants and IANA zones, shared by the domain modules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from csdomain.errors import ValidationError

UTC = timezone.utc


def is_aware(value: datetime) -> bool:
    """True when ``value`` carries a usable UTC offset."""
    return value.tzinfo is not None and value.utcoffset() is not None


def ensure_aware(value: object, subject: str, path: str) -> datetime:
    """Return ``value`` if it is an aware datetime, else raise ``ValidationError``."""
    if not isinstance(value, datetime):
        raise ValidationError.single(
            subject, path, f"expected an aware datetime, got {type(value).__name__} {value!r}"
        )
    if not is_aware(value):
        raise ValidationError.single(
            subject,
            path,
            f"naive datetime {value.isoformat()} rejected; pass a timezone-aware datetime "
            "(e.g. with tzinfo=ZoneInfo('Asia/Shanghai') or timezone.utc)",
        )
    return value


def to_utc(value: datetime) -> datetime:
    """attrs converter: aware datetimes become UTC; anything else is left for the check."""
    if type(value) is datetime and value.tzinfo is UTC:  # the common case: already UTC
        return value
    if isinstance(value, datetime) and is_aware(value):
        return value.astimezone(UTC)
    return value


def optional_utc(value: datetime | None) -> datetime | None:
    """attrs converter for optional instants: ``None`` stays, the rest as :func:`to_utc`."""
    return None if value is None else to_utc(value)


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


def from_epoch_us(us: int) -> datetime:
    """The UTC datetime ``us`` microseconds after the epoch (inverse of :func:`to_epoch_us`)."""
    return EPOCH + timedelta(0, 0, us)


def delta_us(delta: timedelta) -> int:
    """A timedelta (or subclass such as pandas ``Timedelta``) as integer microseconds."""
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds
