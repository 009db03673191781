"""Strategies: common."""

from __future__ import annotations

import operator
import string
from collections.abc import Container, Iterable
from datetime import datetime, timedelta, timezone, tzinfo
from enum import Enum
from functools import lru_cache, partial
from typing import TypeVar

import hypothesis.strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from csdomain._kernel.time import INSTANT_END, INSTANT_MIN, zone
from csdomain._kernel.validation import INT64_MAX, INT64_MIN, KEY_PATTERN, JsonScalar
from csdomain.ids import PREFIXES

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

UTC = timezone.utc
_DEFAULT_MIN = datetime(2000, 1, 1, tzinfo=UTC)
_DEFAULT_MAX = datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
_DEFAULT_BOUNDS = (_DEFAULT_MIN.replace(tzinfo=None), _DEFAULT_MAX.replace(tzinfo=None))

#: IANA zones worth testing: UTC+8 without DST, US and European DST, half-hour
#: DST (Lord Howe), negative DST (Dublin), +13:45/+14 and -12 extremes.
_ZONE_NAMES: tuple[str, ...] = (
    "UTC",
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Europe/Berlin",
    "Europe/Dublin",
    "Pacific/Chatham",
    "Pacific/Kiritimati",
    "Africa/Casablanca",
    "Etc/GMT+12",
)

_FIXED_OFFSETS: tuple[tzinfo, ...] = (
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=5, minutes=45)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-12)),
)

_LOCALES: tuple[str, ...] = (
    "en",
    "zh_CN",
    "zh_TW",
    "zh_Hant_HK",
    "zh",
    "zh_Hans_SG",
    "en_US",
    "en_GB",
    "ja",
    "ko",
    "fr",
    "de_DE",
    "es_419",
    "pt_BR",
    "ar",
    "ru",
    "vi",
    "th",
)

#: Multi-character fragments mixed into generated text.
_FLAVOUR: tuple[str, ...] = (
    "您好",
    "工单",
    "投诉",
    "售后",
    "退款",
    "請問",
    "退貨",
    "謝謝",
    "こんにちは",
    "😀",
    "🎉",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "🇨🇳",
    '"',
    "'",
    "“”",
    "‘’",
    "「」",
    "<b>&amp;</b>",
    "\\",
    " ",
    "\n",
    "\t",
    "\u3000",
    "\u200b",
    "e\u0301",
)

# Keys follow the model's own rule (KEY_PATTERN), read from it rather than copied:
# the characters it accepts first and after, and the longest key it accepts.
_KEY_HEAD = "".join(c for c in string.printable if KEY_PATTERN.fullmatch(c))
_KEY_TAIL = "".join(c for c in string.printable if KEY_PATTERN.fullmatch("a" + c))
_MAX_KEY = max(n for n in range(1, 1_000) if KEY_PATTERN.fullmatch("a" * n))
_KEY_EXAMPLES: tuple[str, ...] = (
    "vip",
    "refund",
    "billing",
    "L2",
    "zh-CN",
    "sla:gold",
    "order.delayed",
    "after_sales",
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


#: Memoizes the private strategy builders (bounded: some take users' strategies as keys).
_memo = lru_cache(maxsize=256)


# -- argument checks ------------------------------------------------------------


def _check_size(name: str, value: object, minimum: int = 0, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise InvalidArgument(f"{name}={value!r} must be at least {minimum}{upper}")
    return value


def _check_range(lo_name: str, lo: int, hi_name: str, hi: int) -> None:
    if lo > hi:
        raise InvalidArgument(f"{lo_name}={lo!r} must not exceed {hi_name}={hi!r}")


def _check_aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(f"{name}={value!r} must be a timezone-aware datetime")
    return value


def _check_in_span(name: str, value: object) -> datetime:
    """``value`` in UTC, once known to be an aware datetime among the accepted instants."""
    aware = _check_aware(name, value)
    if not INSTANT_MIN <= aware < INSTANT_END:
        raise InvalidArgument(
            f"{name}={value!r} must be among the instants csdomain accepts, "
            f"{INSTANT_MIN.isoformat()} (included) to {INSTANT_END.isoformat()} (excluded)"
        )
    return aware.astimezone(UTC)


def _check_strategy(name: str, value: object) -> None:
    if value is not None and not isinstance(value, SearchStrategy):
        raise InvalidArgument(f"{name}={value!r} must be a SearchStrategy or None")


def _members(enum: type[E], name: str, given: Iterable[E] | None) -> tuple[E, ...]:
    if given is None:
        return tuple(enum)
    chosen = tuple(given)
    if not chosen or not all(isinstance(m, enum) for m in chosen):
        raise InvalidArgument(f"{name}={given!r} must be a non-empty collection of {enum.__name__}")
    return chosen


# -- primitives -----------------------------------------------------------------
#
# Strategies are immutable, and Hypothesis validates each strategy object the
# first time it draws from it; building them once (the cached ``_...``
# builders below) rather than on every draw keeps generation fast.


@_memo
def _zone_names() -> SearchStrategy[str]:
    return st.sampled_from(_ZONE_NAMES)


def timezone_names() -> SearchStrategy[str]:
    """IANA zone names that zoneinfo knows: a representative set including
    ``UTC``, ``Asia/Shanghai``, ``America/New_York``, ``Europe/London`` and
    ``Australia/Lord_Howe`` (half-hour DST).

    Requires Hypothesis.
    """
    return _zone_names()


@_memo
def _zones() -> SearchStrategy[tzinfo]:
    named: list[tzinfo] = [zone(name) for name in _ZONE_NAMES]
    return st.sampled_from((*named, *_FIXED_OFFSETS))


def aware_datetimes(
    *,
    min_value: datetime = _DEFAULT_MIN,
    max_value: datetime = _DEFAULT_MAX,
    timezones: SearchStrategy[tzinfo] | None = None,
) -> SearchStrategy[datetime]:
    """Timezone-aware datetimes whose instant lies in ``[min_value, max_value]``.

    The bounds are aware datetimes (compared as instants; default 2000-01-01
    to 2099-12-31 UTC) among the instants csdomain accepts
    (:data:`~csdomain.calendars.INSTANT_MIN` to
    :data:`~csdomain.calendars.INSTANT_END`, excluded). Each value is expressed in a zone drawn from
    ``timezones`` (default: IANA zones such as ``Asia/Shanghai``,
    ``America/New_York``, ``Europe/London``, ``Australia/Lord_Howe`` and
    ``UTC``, plus fixed offsets such as +05:45 and -09:30). Values are real
    instants, never in a DST gap.

    Requires Hypothesis.
    """
    lo = _check_in_span("min_value", min_value)
    hi = _check_in_span("max_value", max_value)
    if lo > hi:
        raise InvalidArgument(f"min_value={min_value!r} must not be after max_value={max_value!r}")
    _check_strategy("timezones", timezones)
    return _aware_datetimes(
        lo.replace(tzinfo=None),
        hi.replace(tzinfo=None),
        _zones() if timezones is None else timezones,
    )


@_memo
def _aware_datetimes(
    lo: datetime, hi: datetime, zones: SearchStrategy[tzinfo]
) -> SearchStrategy[datetime]:
    # One integer choice (microseconds after lo) instead of st.datetimes' seven:
    # Hypothesis pays per choice, and every ticket starts with an instant.
    offsets = st.integers(0, (hi - lo) // _ONE_MICROSECOND).map(partial(_after, lo))
    return st.builds(_in_zone, offsets, zones)


_ONE_MICROSECOND = timedelta(microseconds=1)


def _after(lo: datetime, microseconds: int) -> datetime:
    return lo + timedelta(microseconds=microseconds)


def _in_zone(naive_utc: datetime, tz: tzinfo) -> datetime:
    instant = naive_utc.replace(tzinfo=UTC)
    try:
        local = instant.astimezone(tz)
    except (OverflowError, ValueError):  # the local date would leave datetime's range
        return instant
    if local.utcoffset() is None:
        raise InvalidArgument(f"timezones produced {tz!r}, which gives no UTC offset")
    return local


@_memo
def _not_blank_char() -> SearchStrategy[str]:
    return st.one_of(
        st.sampled_from("工单好😀AZaz09?!"),
        st.characters(codec="utf-8", exclude_characters="\x00"),
    ).filter(lambda c: not c.isspace())


@_memo
def _flavours() -> SearchStrategy[str]:
    return st.sampled_from(("", *_FLAVOUR))


@_memo
def _text_pieces() -> SearchStrategy[str]:
    return st.one_of(
        st.characters(codec="utf-8", exclude_characters="\x00"),
        st.sampled_from(_FLAVOUR),
    )


def texts(*, max_size: int = 80) -> SearchStrategy[str]:
    """Non-blank text without NUL, at most ``max_size`` characters.

    Mixes ASCII, CJK, emoji (with ZWJ sequences), quotes, markup, combining
    marks and whitespace; at least one character is not whitespace. Suits
    every text field of the model (subjects, names, message bodies).

    Requires Hypothesis.
    """
    _check_size("max_size", max_size, 1)
    return _texts(max_size)


@_memo
def _texts(max_size: int) -> SearchStrategy[str]:
    # One string choice plus a flavour and a position, instead of a list of
    # pieces: Hypothesis pays per choice, and texts are drawn many times per ticket.
    return st.builds(
        _place,
        _not_blank_char(),
        st.text(_text_chars(), max_size=min(max_size, 20) - 1),
        st.sampled_from(("", *_FLAVOUR)),
        st.integers(0, 20),
        st.just(max_size),
    )


@_memo
def _text_chars() -> SearchStrategy[str]:
    return st.characters(codec="utf-8", exclude_characters="\x00")


def _place(head: str, rest: str, flavour: str, where: int, max_size: int) -> str:
    rest = (rest[:where] + flavour + rest[where:])[: max_size - 1]
    at = min(where, len(rest))
    return rest[:at] + head + rest[at:]


def keys(*, max_size: int = _MAX_KEY) -> SearchStrategy[str]:
    """Identifiers the model accepts as keys (tags, segments, skills, field names, ...).

    1 to ``max_size`` (at most 64) characters of ASCII letters, digits and
    ``_ . : -``, starting with a letter or digit.

    Requires Hypothesis.
    """
    _check_size("max_size", max_size, 1, _MAX_KEY)
    return _keys(max_size)


@_memo
def _keys(max_size: int) -> SearchStrategy[str]:
    generated = st.builds(
        operator.add,
        st.sampled_from(_KEY_HEAD),
        st.text(alphabet=_KEY_TAIL, max_size=max_size - 1),
    )
    examples = tuple(k for k in _KEY_EXAMPLES if len(k) <= max_size)
    return st.one_of(st.sampled_from(examples), generated) if examples else generated


def _avoiding(value: str, taken: Container[str], max_size: int = _MAX_KEY) -> str:
    """``value``, or a key derived from it that is not in ``taken``."""
    i = 0
    candidate = value
    while candidate in taken:
        i += 1
        suffix = f"-{i}"
        candidate = value[: max_size - len(suffix)] + suffix
    return candidate


def ids(*, prefix: str | None = None) -> SearchStrategy[str]:
    """Record ids such as ``tkt_01JD3Q4Z8X5V6W7Y8Z9A0B1C2D`` or ``tkt_000042``.

    ``prefix`` (2-12 lowercase letters or digits starting with a letter, as
    :class:`~csdomain.UlidIds` requires) defaults to any of csdomain's
    prefixes (``tkt``, ``cus``, ``agt``, ...). Ids are in ULID layout or in
    :class:`~csdomain.SequentialIds` layout; both are valid keys.

    Requires Hypothesis.
    """
    if prefix is not None and (not isinstance(prefix, str) or not _valid_prefix(prefix)):
        raise InvalidArgument(
            f"prefix={prefix!r} must be 2-12 lowercase letters or digits starting with a letter"
        )
    return _ids(prefix)


def _valid_prefix(prefix: str) -> bool:
    return (
        2 <= len(prefix) <= 12
        and prefix[0] in string.ascii_lowercase
        and all(c in string.ascii_lowercase + string.digits for c in prefix)
    )


@_memo
def _ids(prefix: str | None) -> SearchStrategy[str]:
    prefixes = (
        st.sampled_from(sorted(set(PREFIXES.values()))) if prefix is None else st.just(prefix)
    )
    ulid = st.builds(
        operator.add,
        st.sampled_from(_CROCKFORD[:8]),
        st.text(alphabet=_CROCKFORD, min_size=25, max_size=25),
    )
    sequential = st.integers(1, 999_999_999).map("{:06d}".format)
    return st.builds("{}_{}".format, prefixes, st.one_of(sequential, ulid))


def json_scalars() -> SearchStrategy[JsonScalar]:
    """JSON scalars as custom fields and customer attributes hold them.

    ``None``, booleans, integers (64-bit), finite floats and short NUL-free
    text (possibly empty; with CJK, emoji and quotes).

    Requires Hypothesis.
    """
    return _json_scalars()


@_memo
def _json_scalars() -> SearchStrategy[JsonScalar]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(INT64_MIN, INT64_MAX),
        st.floats(allow_nan=False, allow_infinity=False),
        st.builds(operator.add, st.text(_text_chars(), max_size=10), _flavours()),
    )


@_memo
def _json_maps(max_size: int) -> SearchStrategy[dict[str, JsonScalar]]:
    return st.dictionaries(_keys(24), _json_scalars(), max_size=max_size)


def locales() -> SearchStrategy[str]:
    """Locale identifiers Babel parses: ``en``, ``zh_CN``, ``zh_TW``, ``zh_Hant_HK``, ...

    Requires Hypothesis.
    """
    return st.sampled_from(_LOCALES)


@_memo
def _maybe(strategy: SearchStrategy[T]) -> SearchStrategy[T | None]:
    return st.none() | strategy


def check_keys(name: str, value: Iterable[str] | None) -> tuple[str, ...] | None:
    """A strategy argument ``name``: None, or a non-empty collection of keys (deduplicated,
    in order); ``InvalidArgument`` otherwise."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{name}={value!r} must be a collection of keys or None")
    chosen = tuple(dict.fromkeys(value))
    if not chosen or not all(type(k) is str and KEY_PATTERN.fullmatch(k) for k in chosen):
        raise InvalidArgument(
            f"{name}={value!r} must be None or a non-empty collection of keys "
            "(1-64 letters, digits, '_', '.', ':' or '-')"
        )
    return chosen
